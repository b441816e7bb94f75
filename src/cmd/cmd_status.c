/* cmd_status.c: `oktacred status [NAME...] [--json|--short]`: who is logged in where, and
 * what the identities of each provider hold (their kinds' status: the AWS credentials
 * cached for aws/assume-role identities). What the ID token and STS said is shown escaped
 * (text_escape), in the text and in the JSON. --short is one line for a shell prompt, read
 * from the files alone. */
#include "oktacred/json.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oktacred/cache.h"
#include "oktacred/cli.h"
#include "oktacred/config.h"
#include "oktacred/identity.h"
#include "oktacred/jwt.h"
#include "oktacred/log.h"
#include "oktacred/provider.h"
#include "oktacred/util.h"

struct session_info {
	const struct provider_cfg *p;
	const struct config *cfg;
	const struct identity_cfg *only; /* NAME was this identity (with a status): only it */
	struct tokens *t;                /* NULL: no session */
	struct jwt_claims claims;
	int usable;
	int failed; /* an error other than "no session" (exit 1), already reported */
	char problem[sizeof(((okc_err *)0)->msg)]; /* why there is no usable session */
};

static void session_read(const struct provider_cfg *p, struct session_info *s)
{
	okc_err err;
	int rc;

	memset(s, 0, sizeof(*s));
	s->p = p;
	if (!provider_can(p, PROVIDER_CACHED)) {
		const struct provider_kind *kind = provider_kind_of(p);

		s->usable = kind->status && kind->status(p, s->problem, sizeof(s->problem));
		return;
	}
	rc = cache_load(p, &s->t, &err);
	if (rc < 0) {
		/* Unsafe state on disk: say so on stderr with the fix, not as "logged out". */
		log_error("%s", err.msg);
		if (err.hint[0])
			fprintf(stderr, "%s\n", err.hint);
		s->failed = err.code ? err.code : OKC_EXIT_FAIL;
		snprintf(s->problem, sizeof(s->problem), "%s", err.msg);
		return;
	}
	if (rc == OKC_NOENT) {
		snprintf(s->problem, sizeof(s->problem), "not logged in");
		return;
	}
	if (s->t->id_token)
		jwt_claims_parse(s->t->id_token, &s->claims, &err);
	s->usable = tokens_access_left(s->t, now_utc()) > 0 || s->t->refresh_token;
	if (!s->usable)
		snprintf(s->problem, sizeof(s->problem), "session expired");
	if (tokens_session_over(s->t, p, now_utc())) {
		s->usable = 0;
		snprintf(s->problem, sizeof(s->problem), "session ended (session_duration)");
	}
}

static void session_free(struct session_info *s)
{
	tokens_free(s->t);
	jwt_claims_free(&s->claims);
}

/* Whether to show id, of kind, among the identities of s's provider. */
static int shows(const struct session_info *s, const struct identity_cfg *id,
                 const struct identity_kind *kind)
{
	if (identity_kind_of(id) != kind || !kind->status || id->provider != s->p ||
	    config_section_error(s->cfg, id))
		return 0;
	return !s->only || s->only == id;
}

/* The identities' lines, kind by kind: "  aws:      NAME: ...". */
static void print_identities(const struct session_info *s)
{
	for (const struct config_kind *const *k = config_identity_kinds; *k; k++) {
		const struct identity_kind *kind = (const struct identity_kind *)(const void *)*k;
		char label[16];
		int first = 1;

		snprintf(label, sizeof(label), "%s:", kind->status_label ? kind->status_label : "");
		for (size_t i = 0; i < s->cfg->nidentities; i++) {
			const struct identity_cfg *id = &s->cfg->identities[i];
			struct identity_status st;

			if (!shows(s, id, kind))
				continue;
			st.line[0] = '\0';
			st.obj = json_new(JSON_OBJECT);
			kind->status(id, s->t ? s->t->session : NULL, &st);
			json_free(st.obj);
			printf("  %-9s %s: %s\n", first ? label : "", id->name, st.line);
			first = 0;
		}
	}
}

/* A string member holding server text: JSON escapes C0 controls but passes C1 controls
 * (and terminal escapes made of them) through, so the value is escaped first, as the text
 * output is. */
static void add_escaped(struct json *o, const char *key, const char *value)
{
	char *v = text_escape_dup(value);

	json_add_string(o, key, v);
	free(v);
}

static void identities_json(const struct session_info *s, struct json *o)
{
	for (const struct config_kind *const *k = config_identity_kinds; *k; k++) {
		const struct identity_kind *kind = (const struct identity_kind *)(const void *)*k;
		struct json *arr = NULL;

		for (size_t i = 0; i < s->cfg->nidentities; i++) {
			const struct identity_cfg *id = &s->cfg->identities[i];
			struct identity_status st;

			if (!shows(s, id, kind))
				continue;
			if (!arr)
				arr = json_add_array(o, kind->status_label);
			st.obj = json_new(JSON_OBJECT);
			json_append(arr, st.obj);
			json_add_string(st.obj, "identity", id->name);
			kind->status(id, s->t ? s->t->session : NULL, &st);
		}
	}
}

static void print_text(const struct session_info *s, int first)
{
	const struct provider_cfg *p = s->p;
	char when[21], left[32];
	size_t i;

	printf("%s%s (%s, %s)\n", first ? "" : "\n", p->name, p->kind->name, p->org_url);
	if (!s->t) {
		printf("  %s\n", s->usable ? "API token from the environment" : s->problem);
		print_identities(s);
		return;
	}
	if (s->claims.email || s->claims.sub) {
		char *email = text_escape_dup(s->claims.email),
		     *sub = text_escape_dup(s->claims.sub);

		printf("  user:     %s%s%s%s\n", email ? email : "", email && sub ? " (" : "",
		       sub ? sub : "", email && sub ? ")" : "");
		free(email);
		free(sub);
	}
	if (s->claims.ngroups) {
		fputs("  groups:   ", stdout);
		for (i = 0; i < s->claims.ngroups; i++) {
			char *g = text_escape_dup(s->claims.groups[i]);

			printf("%s%s", i ? ", " : "", g);
			free(g);
		}
		fputc('\n', stdout);
	}
	time_format_utc(s->t->expires_at, when);
	time_format_left(tokens_access_left(s->t, now_utc()), left, sizeof(left));
	printf("  access:   %s (%s)\n", strcmp(left, "expired") ? "valid" : "expired", when);
	if (strcmp(left, "expired"))
		printf("            %s left\n", left);
	if (s->t->refresh_token) {
		if (s->t->refresh_expires_at) {
			time_format_utc(s->t->refresh_expires_at, when);
			printf("  refresh:  until %s\n", when);
		} else {
			printf("  refresh:  yes (its lifetime is set by the Okta policy)\n");
		}
	} else {
		printf("  refresh:  none (log in again when the access token expires)\n");
	}
	if (s->t->flow) {
		char *flow = text_escape_dup(s->t->flow);

		printf("  login:    %s flow\n", flow);
		free(flow);
	}
	if (p->session_duration > 0) {
		time_t start =
		    s->t->session_started_at ? s->t->session_started_at : s->t->obtained_at;

		time_format_utc(start + p->session_duration, when);
		printf("  session:  %s %s (session_duration)\n",
		       tokens_session_over(s->t, p, now_utc()) ? "ended" : "until", when);
	}
	print_identities(s);
}

static struct json *to_json(const struct session_info *s)
{
	struct json *o = json_new(JSON_OBJECT), *g;
	char when[21];
	size_t i;

	json_add_string(o, "provider", s->p->name);
	json_add_string(o, "kind", s->p->kind->name);
	json_add_string(o, "org_url", s->p->org_url);
	json_add_bool(o, "usable", s->usable);
	json_add_bool(o, "logged_in", s->t != NULL);
	if (!s->usable)
		json_add_string(o, "problem", s->problem);
	identities_json(s, o);
	if (!s->t)
		return o;
	if (s->claims.sub)
		add_escaped(o, "subject", s->claims.sub);
	if (s->claims.email)
		add_escaped(o, "email", s->claims.email);
	if (s->claims.groups) {
		g = json_add_array(o, "groups");
		for (i = 0; i < s->claims.ngroups; i++) {
			char *v = text_escape_dup(s->claims.groups[i]);

			json_append(g, json_new_string(v));
			free(v);
		}
	}
	time_format_utc(s->t->expires_at, when);
	json_add_string(o, "access_expires_at", when);
	json_add_number(o, "access_expires_in", (double)tokens_access_left(s->t, now_utc()));
	json_add_bool(o, "refresh_token", s->t->refresh_token != NULL);
	if (s->t->refresh_expires_at) {
		time_format_utc(s->t->refresh_expires_at, when);
		json_add_string(o, "refresh_expires_at", when);
	} else {
		json_add_null(o, "refresh_expires_at");
	}
	if (s->t->scope)
		add_escaped(o, "scope", s->t->scope);
	if (s->t->flow)
		add_escaped(o, "flow", s->t->flow);
	return o;
}

/* Whether names[i] is among names[0..i-1] (two NAMEs of one provider). */
static int seen_before(const char **names, size_t i)
{
	for (size_t j = 0; j < i; j++)
		if (strcmp(names[j], names[i]) == 0)
			return 1;
	return 0;
}

/* ---- --short ---- */

/* What status --short says of a NAME: its remaining time, "stale" or "ok" (usable), or
 * "expired"; nothing when there is no session. */
enum short_state { SHORT_NONE, SHORT_EXPIRED, SHORT_USABLE };

/* The seconds left of what an identity's kind caches for the session (its status'
 * "expires_in": AWS credentials); 0 when it has nothing cached. */
static long identity_left(const struct identity_cfg *id, const char *session)
{
	const struct identity_kind *kind = identity_kind_of(id);
	struct identity_status st;
	const struct json *cached, *in;
	long left = 0;

	if (!kind->status)
		return 0;
	st.line[0] = '\0';
	st.obj = json_new(JSON_OBJECT);
	kind->status(id, session, &st);
	cached = json_member(st.obj, "cached");
	in = json_member(st.obj, "expires_in");
	if (json_is(cached, JSON_TRUE) && json_is(in, JSON_NUMBER))
		left = (long)in->num;
	json_free(st.obj);
	return left > 0 ? left : 0;
}

/* NAME's state and, when usable, what to print after it. Reads tokens.json (and an
 * identity's cached credentials) only: no lock, no keyring, no network. */
static int short_state(struct cli_ctx *ctx, const struct identity_cfg *id,
                       const struct provider_cfg *p, char *text, size_t n)
{
	struct tokens *t = NULL;
	time_t now = now_utc();
	long left;
	int rc, renewable;

	if (!provider_can(p, PROVIDER_CACHED)) {
		const struct provider_kind *kind = provider_kind_of(p);
		char problem[256];

		snprintf(text, n, "ok");
		return kind->status && kind->status(p, problem, sizeof(problem)) ? SHORT_USABLE
		                                                                 : SHORT_NONE;
	}
	rc = cache_peek(p, &t, &ctx->err);
	if (rc < 0)
		return -1;
	if (rc == OKC_NOENT)
		return SHORT_NONE;
	if (tokens_session_over(t, p, now)) {
		tokens_free(t);
		return SHORT_EXPIRED;
	}
	left = tokens_access_left(t, now);
	/* Renewed at the next use without a login: with a refresh token (in the keyring, not
	 * in the file, when offline_access was granted), or by a kind that fetches its
	 * tokens when needed. */
	renewable =
	    !provider_can(p, PROVIDER_LOGIN) || t->refresh_token ||
	    (p->token_store == TOKEN_STORE_KEYRING && config_has_scope(t->scope, "offline_access"));
	if (t->refresh_expires_at && t->refresh_expires_at <= now)
		renewable = 0;
	if (id && identity_kind_of(id)->status) {
		/* What the identity hands out: its cached credentials, renewed from a session
		 * that is usable. */
		renewable = renewable || left > 0;
		left = identity_left(id, t->session);
	}
	if (left > 0 && p->session_duration > 0) {
		time_t start = t->session_started_at ? t->session_started_at : t->obtained_at;

		if (start + p->session_duration - now < left)
			left = (long)(start + p->session_duration - now);
	}
	tokens_free(t);
	if (left > 0) {
		time_format_left(left, text, n);
		return SHORT_USABLE;
	}
	snprintf(text, n, "stale");
	return renewable ? SHORT_USABLE : SHORT_EXPIRED;
}

/* `status --short [NAME...]`: "NAME LEFT" for each NAME (default: [defaults] identity)
 * that has a session, on one line; exit 3 when one has none or it has expired. The line is
 * made in memory and written once at the end: a later NAME may hand over to the full binary
 * (front.h), which must find nothing of the earlier ones written (stdio would flush a long
 * line as it grows). */
static int status_short(struct cli_ctx *ctx)
{
	const struct identity_cfg *id;
	const struct provider_cfg *p;
	struct buf line = BUF_INIT;
	int i, worst = 0, rc = 0;

	if (cli_flag(ctx, "--json"))
		return cli_usage_error(ctx, "--short and --json: choose one");
	if (cli_config(ctx) < 0)
		return -1;
	for (i = 0; i < (ctx->npos ? ctx->npos : 1); i++) {
		char text[32];
		int st;

		if (config_resolve(ctx->cfg, ctx->npos ? ctx->pos[i] : NULL, &id, &p, &ctx->err) <
		    0) {
			rc = -1;
			break;
		}
		st = short_state(ctx, id, p, text, sizeof(text));
		if (st < 0) {
			rc = -1;
			break;
		}
		if (st == SHORT_NONE) {
			worst = OKC_EXIT_LOGIN;
			continue;
		}
		if (st == SHORT_EXPIRED) {
			worst = OKC_EXIT_LOGIN;
			snprintf(text, sizeof(text), "expired");
		}
		buf_printf(&line, "%s%s %s", line.len ? " " : "", id ? id->name : p->name, text);
	}
	/* What an error cut short is printed as far as it got, without the newline. */
	if (rc == 0 && line.len)
		buf_putc(&line, '\n');
	if (line.len)
		fwrite(line.data, 1, line.len, stdout);
	buf_free(&line);
	if (rc == 0 && worst) {
		ctx->err.code = worst;
		rc = -1;
	}
	return rc;
}

int cmd_status(struct cli_ctx *ctx)
{
	const struct provider_cfg **list;
	const struct identity_cfg *id, **only;
	int json = cli_flag(ctx, "--json"), all_usable = 1, failed = 0, broken = 0;
	size_t n = 0, nhints = 0, i;
	struct json *arr = NULL;
	const char **hints;

	if (cli_flag(ctx, "--short"))
		return status_short(ctx);
	/* A broken section is said (without NAME) and skipped: the others are shown. */
	if (ctx->npos == 0) {
		broken = cli_config_each(ctx);
		if (broken < 0)
			return -1;
		if (!ctx->cfg->nproviders && !ctx->cfg->nidentities)
			return config_empty(ctx->cfg, &ctx->err);
	} else {
		if (cli_config(ctx) < 0)
			return -1;
		config_check_each(ctx->cfg); /* the identities to show with each provider */
	}
	list = xcalloc(ctx->cfg->nproviders + (size_t)ctx->npos + 1, sizeof(*list));
	only = xcalloc(ctx->cfg->nproviders + (size_t)ctx->npos + 1, sizeof(*only));
	hints = xcalloc(ctx->cfg->nproviders + (size_t)ctx->npos + 1, sizeof(*hints));
	if (ctx->npos == 0) {
		for (i = 0; i < ctx->cfg->nproviders; i++)
			if (!config_section_error(ctx->cfg, &ctx->cfg->providers[i]))
				list[n++] = &ctx->cfg->providers[i];
	}
	for (i = 0; i < (size_t)ctx->npos; i++) {
		if (config_resolve(ctx->cfg, ctx->pos[i], &id, &list[n], &ctx->err) < 0) {
			/* Said, and on with the other names. */
			log_error("%s", ctx->err.msg);
			if (ctx->err.hint[0])
				fprintf(stderr, "%s\n", ctx->err.hint);
			okc_err_clear(&ctx->err);
			list[n] = NULL;
			broken++;
			continue;
		}
		if (id && identity_kind_of(id)->status)
			only[n] = id;
		n++;
	}
	if (json)
		arr = json_new(JSON_ARRAY);
	for (i = 0; i < n; i++) {
		struct session_info s;

		session_read(list[i], &s);
		s.cfg = ctx->cfg;
		s.only = only[i];
		all_usable &= s.usable;
		if (s.failed)
			failed = s.failed;
		if (json)
			json_append(arr, to_json(&s));
		else
			print_text(&s, i == 0);
		/* The next step, for a person's session only: service accounts and API
		 * tokens need no login. */
		if (!s.usable && !s.failed && provider_can(list[i], PROVIDER_LOGIN))
			hints[nhints++] = list[i]->name;
		session_free(&s);
	}
	for (i = 0; i < nhints; i++)
		if (!seen_before(hints, i))
			fprintf(stderr, "run: oktacred login %s\n", hints[i]);
	free(hints);
	if (json) {
		struct buf text = BUF_INIT;

		json_print(arr, 1, &text);
		puts(text.data);
		buf_free(&text);
		json_free(arr);
	}
	free(list);
	free(only);
	if (failed) {
		ctx->err.code = failed;
		return -1;
	}
	if (broken) {
		ctx->err.code = OKC_EXIT_USAGE;
		return -1;
	}
	if (!all_usable) {
		ctx->err.code = OKC_EXIT_LOGIN;
		return -1;
	}
	return 0;
}
