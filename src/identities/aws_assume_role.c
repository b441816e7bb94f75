/* aws_assume_role.c: the aws/assume-role identity: the Okta ID token traded for AWS
 * credentials with STS AssumeRoleWithWebIdentity, the role chosen, the credentials cached
 * per identity, and the environment of DESIGN.md section 5.2. */
#include "oktacred/json.h"
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "oktacred/awsconfig.h"
#include "oktacred/awscreds.h"
#include "oktacred/config.h"
#include "oktacred/credserver.h"
#include "oktacred/front.h"
#include "oktacred/identity.h"
#include "oktacred/jwt.h"
#include "oktacred/log.h"
#include "oktacred/provider.h"
#include "oktacred/sig.h"
#include "oktacred/sts.h"
#include "oktacred/term.h"
#include "oktacred/util.h"

/* They would win over the credentials we set, or point the SDKs elsewhere. */
static const char *const cleared[] = {
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_SECURITY_TOKEN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN",
    "AWS_ROLE_SESSION_NAME",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN",
};

const struct aws_role_cfg *aws_role_cfg(const struct identity_cfg *id)
{
	return id->kind_cfg;
}

/* ---- choosing the role ---- */

static const char *role_name(const char *arn)
{
	const char *slash = strrchr(arn, '/');

	return slash ? slash + 1 : arn;
}

static int names_role(const char *arn, const char *group, const char *want)
{
	return strcmp(arn, want) == 0 || strcasecmp(role_name(arn), want) == 0 ||
	       (group && strcasecmp(group, want) == 0);
}

/* "GROUP (ARN), ..." into out, for messages. */
static void list_roles(const struct identity_cfg *id, const struct role_mapping *const *m, size_t n,
                       char *out, size_t len)
{
	const struct aws_role_cfg *a = aws_role_cfg(id);
	size_t i, o = 0;

	out[0] = '\0';

	for (i = 0; i < (m ? n : a->nroles) && o + 1 < len; i++) {
		const struct role_mapping *r = m ? m[i] : &a->roles[i];
		int k =
		    snprintf(out + o, len - o, "%s%s (%s)", i ? ", " : "", r->group, r->role_arn);

		if (k < 0)
			break;
		o += (size_t)k;
	}
}

/* The role of role_map that want names (see aws_role_resolve): ROLE_FOUND with *arn,
 * ROLE_NONE, or ROLE_SEVERAL. */
enum { ROLE_FOUND, ROLE_NONE, ROLE_SEVERAL };

static int match_role(const struct aws_role_cfg *a, const char *want, const char **arn)
{
	const char *found = NULL;

	for (size_t i = 0; i < a->nroles; i++) {
		if (!names_role(a->roles[i].role_arn, a->roles[i].group, want))
			continue;
		if (found && strcmp(found, a->roles[i].role_arn) != 0)
			return ROLE_SEVERAL;
		found = a->roles[i].role_arn;
	}
	*arn = found;
	return found ? ROLE_FOUND : ROLE_NONE;
}

int aws_role_resolve(const struct identity_cfg *id, const char *want, const char **arn,
                     okc_err *err)
{
	const struct aws_role_cfg *a = aws_role_cfg(id);
	const char *found = NULL;
	char list[400];
	int m;

	*arn = NULL;
	if (a->role_arn) {
		if (want && !names_role(a->role_arn, NULL, want))
			return okc_fail(err, OKC_EXIT_USAGE,
			                "%s: --role %s does not name the identity's role %s",
			                id->name, want, a->role_arn);
		*arn = a->role_arn;
		return 0;
	}
	if (!want)
		return 0;
	m = match_role(a, want, &found);
	if (m == ROLE_SEVERAL) {
		okc_fail(err, OKC_EXIT_USAGE, "%s: --role %s names more than one role", id->name,
		         want);
		okc_hint(err, "give the role's ARN");
		return -1;
	}
	if (m == ROLE_NONE) {
		okc_fail(err, OKC_EXIT_USAGE, "%s: --role %s names no role of role_map", id->name,
		         want);
		list_roles(id, NULL, 0, list, sizeof(list));
		okc_hint(err, "role_map: %s", list);
		return -1;
	}
	*arn = found;
	return 0;
}

static int in_groups(const char *group, char *const *groups, size_t ngroups)
{
	size_t i;

	for (i = 0; groups && i < ngroups; i++)
		if (groups[i] && strcasecmp(groups[i], group) == 0)
			return 1;
	return 0;
}

/* "GROUP, ..." into out, escaped: the groups come from the ID token. */
static void list_groups(char *const *groups, size_t ngroups, char *out, size_t len)
{
	size_t i, o = 0;

	out[0] = '\0';
	for (i = 0; groups && i < ngroups && o + 3 < len; i++) {
		if (i) {
			memcpy(out + o, ", ", 2);
			o += 2;
		}
		text_escape(out + o, len - o < 128 ? len - o : 128, groups[i]);
		o += strlen(out + o);
	}
}

/* Offers to write the role chosen as the identity's default_role, so that the question
 * is not asked again. Whatever happens, the role chosen is used. */
static void remember_role(const struct identity_cfg *id, const char *arn, FILE *out)
{
	char line[16];
	okc_err err;

	if (!id->file)
		return;
	fprintf(out, "Use it from now on when several roles match (default_role in %s)? [y/N] ",
	        id->file);
	fflush(out);
	if (!fgets(line, sizeof(line), stdin))
		return;
	if (!strchr(line, '\n')) {
		int c;

		while ((c = getchar()) != EOF && c != '\n')
			;
	}
	if (line[0] != 'y' && line[0] != 'Y')
		return;
	if (config_file_set(id->file, "identity", id->name, "default_role", arn, &err) < 0)
		log_warn("%s: default_role not written: %s", id->name, err.msg);
	else
		fprintf(out, "default_role = %s written to [identity %s] in %s\n", arn, id->name,
		        id->file);
}

/* A numbered choice on the terminal; the answer from stdin. */
static int prompt_role(const struct identity_cfg *id, const struct role_mapping *const *m, size_t n,
                       const char **arn, okc_err *err)
{
	FILE *out = term_user_stream();
	char line[64];
	size_t i;
	int tries;

	fprintf(out, "Several AWS roles of %s match your Okta groups:\n", id->name);
	for (i = 0; i < n; i++)
		fprintf(out, "  %zu) %s (group %s)\n", i + 1, m[i]->role_arn, m[i]->group);
	for (tries = 0; tries < 3; tries++) {
		char *end;
		long k;

		fprintf(out, "Choose a role [1-%zu]: ", n);
		fflush(out);
		if (!fgets(line, sizeof(line), stdin)) {
			if (sig_interrupted())
				return okc_fail(err, OKC_EXIT_INTERRUPTED, "interrupted");
			break;
		}
		k = strtol(line, &end, 10);
		while (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n')
			end++;
		if (end != line && *end == '\0' && k >= 1 && (size_t)k <= n) {
			*arn = m[k - 1]->role_arn;
			remember_role(id, *arn, out);
			return 0;
		}
		if (!strchr(line, '\n')) {
			int c;

			while ((c = getchar()) != EOF && c != '\n')
				;
		}
	}
	okc_fail(err, OKC_EXIT_USAGE, "%s: no role chosen", id->name);
	okc_hint(err, "choose one with --role NAME|ARN");
	return -1;
}

/* default_role's ARN (checked with the configuration), or NULL. */
static const char *default_arn(const struct aws_role_cfg *a)
{
	const char *arn = NULL;

	return a->default_role && match_role(a, a->default_role, &arn) == ROLE_FOUND ? arn : NULL;
}

static int has_role(const struct role_mapping *const *m, size_t n, const char *arn)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(m[i]->role_arn, arn) == 0)
			return 1;
	return 0;
}

int aws_role_choose(const struct identity_cfg *id, char *const *groups, size_t ngroups,
                    const char *want, int prompt, const char **arn, int *only, okc_err *err)
{
	const struct aws_role_cfg *a = aws_role_cfg(id);
	const struct role_mapping **m;
	const char *wanted = NULL, *def;
	char list[400];
	size_t i, k, n = 0;
	int rc = 0;

	*arn = NULL;
	*only = 0;
	if (aws_role_resolve(id, want, &wanted, err) < 0)
		return -1;
	if (a->role_arn) {
		*arn = a->role_arn;
		return 0;
	}
	/* The user's roles, in the file's order, each ARN once. */
	m = xcalloc(a->nroles + 1, sizeof(*m));
	for (i = 0; i < a->nroles; i++) {
		if (!in_groups(a->roles[i].group, groups, ngroups))
			continue;
		for (k = 0; k < n && strcmp(m[k]->role_arn, a->roles[i].role_arn) != 0; k++)
			;
		if (k == n)
			m[n++] = &a->roles[i];
	}
	if (wanted) {
		for (k = 0; k < n && strcmp(m[k]->role_arn, wanted) != 0; k++)
			;
		if (k == n) {
			list_groups(groups, ngroups, list, sizeof(list));
			rc =
			    okc_fail(err, OKC_EXIT_FAIL,
			             "%s: none of your Okta groups maps to the role %s in role_map",
			             id->name, wanted);
			okc_hint(err, "your groups: %s", groups ? list : "(the ID token has none)");
			goto out;
		}
		*arn = wanted;
		*only = n == 1;
	} else if (n == 1) {
		*arn = m[0]->role_arn;
		*only = 1;
	} else if (n > 1 && (def = default_arn(a)) && has_role(m, n, def)) {
		*arn = def;
	} else if (n == 0) {
		if (!groups) {
			rc = okc_fail(err, OKC_EXIT_FAIL,
			              "%s: the ID token has no groups claim to choose a role of "
			              "role_map with",
			              id->name);
			okc_hint(err,
			         "add groups to the provider's scopes and a groups claim to the "
			         "Okta authorization server, then log in again");
			goto out;
		}
		list_groups(groups, ngroups, list, sizeof(list));
		rc =
		    okc_fail(err, OKC_EXIT_FAIL, "%s: none of your Okta groups (%s) is in role_map",
		             id->name, ngroups ? list : "none");
		list_roles(id, NULL, 0, list, sizeof(list));
		okc_hint(err, "role_map: %s", list);
	} else if (prompt) {
		rc = prompt_role(id, m, n, arn, err);
	} else {
		list_roles(id, m, n, list, sizeof(list));
		rc = okc_fail(err, OKC_EXIT_USAGE,
		              "%s: several roles match your Okta groups: choose one with --role",
		              id->name);
		okc_hint(err, "roles: %s", list);
	}
out:
	free(m);
	return rc;
}

/* ---- STS ---- */

/* The partitions whose DNS suffix is not amazonaws.com, by their regions' prefix (botocore's
 * partitions.json: regionRegex and dnsSuffix). */
static const struct {
	const char *prefix, *suffix;
} partitions[] = {
    {"cn-", "amazonaws.com.cn"},    /* aws-cn */
    {"us-iso-", "c2s.ic.gov"},      /* aws-iso */
    {"us-isob-", "sc2s.sgov.gov"},  /* aws-iso-b */
    {"eu-isoe-", "cloud.adc-e.uk"}, /* aws-iso-e */
    {"us-isof-", "csp.hci.ic.gov"}, /* aws-iso-f */
    {"eusc-", "amazonaws.eu"},      /* aws-eusc */
};

char *aws_sts_url(const struct aws_role_cfg *a)
{
	const char *suffix = "amazonaws.com";

	if (a->sts_endpoint)
		return xstrdup(a->sts_endpoint);
	if (!a->region)
		return xstrdup("https://sts.amazonaws.com/");
	for (size_t i = 0; i < ARRAY_SIZE(partitions); i++)
		if (str_starts(a->region, partitions[i].prefix))
			suffix = partitions[i].suffix;
	return xasprintf("https://sts.%s.%s/", a->region, suffix);
}

/* The web identity token: the ID token of a person's session, or (a provider without one:
 * an okta/service-account on a custom authorization server) the access token, a JWT that
 * server signs, with its audience as aud (okta-aws-cli's m2m mode does the same). */
static int uses_access_token(const struct provider_cfg *p)
{
	return !provider_can(p, PROVIDER_ID_TOKEN);
}

static const char *web_identity_token(const struct provider_cfg *p, const struct tokens *t)
{
	return uses_access_token(p) ? t->access_token : t->id_token;
}

static const char *token_kind(const struct provider_cfg *p)
{
	return uses_access_token(p) ? "access token" : "ID token";
}

/* The issuer as IAM names the OIDC provider: without https://. */
static const char *iam_provider(const char *iss)
{
	if (!iss)
		return "(the ID token's issuer)";
	return str_starts(iss, "https://") ? iss + 8 : iss;
}

static int sts_refused(const struct identity_request *req, const char *arn,
                       const struct jwt_claims *c, const struct sts_error *e, okc_err *err)
{
	const struct identity_cfg *id = req->id;
	const char *sep = e->message[0] ? ": " : "";
	char *iss = text_escape_dup(c->iss);

	const char *kind = token_kind(req->p);
	/* The audience AWS must list: the client id for an ID token, the authorization
	 * server's audience (the token's aud) for an access token. */
	const char *aud = uses_access_token(req->p) && c->aud ? c->aud : req->p->client_id;
	char *aud_shown = text_escape_dup(aud);

	if (strcmp(e->code, "InvalidIdentityToken") == 0) {
		okc_fail(err, OKC_EXIT_FAIL,
		         "%s: STS rejected the Okta %s (InvalidIdentityToken)%s%s", id->name, kind,
		         sep, e->message);
		okc_hint(err,
		         "AWS needs an IAM OIDC identity provider for %s with the audience %s (%s)",
		         iss ? iss : "the token's issuer", aud_shown,
		         uses_access_token(req->p) ? "the authorization server's audience"
		                                   : "the client id");
	} else if (strcmp(e->code, "AccessDenied") == 0 ||
	           strcmp(e->code, "AccessDeniedException") == 0) {
		okc_fail(err, OKC_EXIT_FAIL, "%s: not allowed to assume %s (AccessDenied)%s%s",
		         id->name, arn, sep, e->message);
		okc_hint(err,
		         "the role's trust policy must allow sts:AssumeRoleWithWebIdentity to the "
		         "federated principal of %s with %s:aud = %s",
		         iam_provider(iss), iam_provider(iss), aud_shown);
	} else if (strcmp(e->code, "IDPRejectedClaim") == 0) {
		okc_fail(err, OKC_EXIT_FAIL,
		         "%s: the claims of the Okta %s were rejected for %s "
		         "(IDPRejectedClaim)%s%s",
		         id->name, kind, arn, sep, e->message);
		okc_hint(err,
		         "check the trust policy's conditions on the token's claims, or log in "
		         "again: oktacred login %s",
		         req->p->name);
	} else if (strcmp(e->code, "RegionDisabledException") == 0) {
		okc_fail(err, OKC_EXIT_FAIL,
		         "%s: STS is not activated in region %s (RegionDisabledException)%s%s",
		         id->name,
		         aws_role_cfg(id)->region ? aws_role_cfg(id)->region : "(default)", sep,
		         e->message);
		okc_hint(err, "activate the region in IAM > Account settings, or choose another "
		              "region (or sts_endpoint)");
	} else if (strcmp(e->code, "ExpiredTokenException") == 0) {
		okc_fail(err, OKC_EXIT_FAIL,
		         "%s: STS says the %s has expired%s (ExpiredTokenException)%s%s", id->name,
		         kind, uses_access_token(req->p) ? "" : ", even after a refresh", sep,
		         e->message);
		okc_hint(err, "check this machine's clock");
	} else {
		okc_fail(err, OKC_EXIT_FAIL, "%s: STS refused to assume %s: %s%s%s", id->name, arn,
		         e->code, sep, e->message);
		if (strstr(e->message, "DurationSeconds"))
			okc_hint(err,
			         "lower duration (now %ld s) or raise the role's maximum session "
			         "duration",
			         aws_role_cfg(id)->duration);
	}
	free(aud_shown);
	free(iss);
	return -1;
}

static int assume(const struct identity_request *req, const char *endpoint, const char *arn,
                  const char *session_name, struct tokens **t, struct jwt_claims *c,
                  struct sts_credentials *sc, okc_err *err)
{
	struct sts_request r = {0};
	struct sts_error e;
	int retried = 0, rc;

	r.endpoint = endpoint;
	r.role_arn = arn;
	r.session_name = session_name;
	r.duration = aws_role_cfg(req->id)->duration;
	/* The provider's timeout is the user's one knob for a slow or hanging network. */
	r.timeout_ms = req->p->timeout * 1000L;
	for (;;) {
		r.web_identity_token = web_identity_token(req->p, *t);
		rc = sts_assume_role(&r, sc, &e, err);
		if (rc != STS_ERROR)
			return rc;
		/* An access token was just made sure to be fresh, and a service account has no
		 * session to refresh: STS's clock or ours is wrong. */
		if (strcmp(e.code, "ExpiredTokenException") != 0 || retried ||
		    uses_access_token(req->p))
			return sts_refused(req, arn, c, &e, err);
		log_verbose("%s: STS says the ID token has expired; refreshing it", req->id->name);
		if (provider_renew_rejected(req->p, t, err) < 0)
			return -1;
		retried = 1;
	}
}

/* ---- credentials ---- */

static int fits(const struct identity_cfg *id, const struct awscreds *c, const char *arn,
                const char *endpoint)
{
	const struct aws_role_cfg *a = aws_role_cfg(id);
	size_t i;

	if (awscreds_left(c, now_utc()) <= awscreds_renew_before(a->duration) ||
	    !str_eq(c->sts_endpoint, endpoint))
		return 0;
	if (arn)
		return str_eq(c->role_arn, arn);
	/* role_map without --role: default_role (the role used when several match), or
	 * only a role that was the user's only match, and is still in the map. */
	if (default_arn(a) && str_eq(c->role_arn, default_arn(a)))
		return 1;
	if (c->choice != AWSCREDS_ROLE_ONLY)
		return 0;
	for (i = 0; i < a->nroles; i++)
		if (str_eq(a->roles[i].role_arn, c->role_arn))
			return 1;
	return 0;
}

/* renew's answer when the provider's session changed during the STS call. */
#define RENEW_STALE 2

/* Called under the identity's lock. */
static int renew(const struct identity_request *req, const char *endpoint, const char *arn,
                 int only, const char *session_name, struct tokens **t, struct jwt_claims *claims,
                 struct awscreds **out, okc_err *err)
{
	struct sts_credentials sc;
	struct awscreds *c;
	int rc;

	if (assume(req, endpoint, arn, session_name, t, claims, &sc, err) < 0)
		return -1;
	c = xcalloc(1, sizeof(*c));
	c->access_key_id = sc.access_key_id;
	c->secret_access_key = sc.secret_access_key;
	c->session_token = sc.session_token;
	c->assumed_role_arn = sc.assumed_role_arn;
	c->expiration = sc.expiration;
	memset(&sc, 0, sizeof(sc)); /* moved */
	c->obtained_at = now_utc();
	c->role_arn = xstrdup(arn);
	c->session_name = xstrdup(session_name);
	c->choice = aws_role_cfg(req->id)->role_arn ? AWSCREDS_ROLE_FIXED
	            : only                          ? AWSCREDS_ROLE_ONLY
	                                            : AWSCREDS_ROLE_CHOSEN;
	c->sts_endpoint = xstrdup(endpoint);
	c->session = xstrdup((*t)->session);
	c->issuer = claims->iss ? xstrdup(claims->iss) : NULL;
	c->subject = claims->sub ? xstrdup(claims->sub) : NULL;
	/* While STS answered, the session may have ended (logout) or been replaced (a login,
	 * maybe as someone else): such credentials are never saved nor handed out. */
	if (!provider_session_current(req->p, c->session)) {
		awscreds_free(c);
		log_verbose("%s: the session changed while STS answered; discarding its "
		            "credentials",
		            req->id->name);
		return RENEW_STALE;
	}
	if (awscreds_left(c, now_utc()) <= 0) {
		awscreds_free(c);
		return okc_fail(err, OKC_EXIT_NETWORK,
		                "%s: STS answered credentials that have already expired (check "
		                "this machine's clock)",
		                req->id->name);
	}
	rc = awscreds_save(req->id, c, err);
	if (rc < 0) {
		awscreds_free(c);
		return -1;
	}
	if (log_get_level() >= LOG_VERBOSE) {
		char *shown = text_escape_dup(c->assumed_role_arn ? c->assumed_role_arn : arn);

		log_verbose("%s: assumed %s as %s", req->id->name, shown, session_name);
		free(shown);
	}
	*out = c;
	return 0;
}

static int aws_credentials_once(const struct identity_request *req, struct awscreds **out,
                                okc_err *err)
{
	const struct identity_cfg *id = req->id;
	const char *arn = NULL;
	struct awscreds *c = NULL;
	struct tokens *t = NULL;
	struct jwt_claims claims;
	struct lock lk = LOCK_INIT;
	char *endpoint = NULL, *session_name = NULL;
	int rc, only = 0, have_claims = 0;

	*out = NULL;
	endpoint = aws_sts_url(aws_role_cfg(id));
	/* The cache-hit path: the credentials' file and the session's, nothing else. */
	rc = aws_role_resolve(id, req->role, &arn, err);
	if (rc == 0)
		rc = awscreds_load(id, &c, err);
	if (rc < 0)
		goto out;
	if (rc == 0 && fits(id, c, arn, endpoint) && provider_session_current(req->p, c->session)) {
		if (log_get_level() >= LOG_VERBOSE) {
			char left[32];

			time_format_left(awscreds_left(c, now_utc()), left, sizeof(left));
			log_verbose("%s: cached, %s left", id->name, left);
		}
		*out = c;
		c = NULL;
		goto out;
	}
	awscreds_free(c);
	c = NULL;
	/* STS (libcurl, libxml2), a lock, perhaps a prompt: the full binary's (front.h). */
	front_handoff("AWS credentials from STS");

	rc = provider_tokens(req->p, uses_access_token(req->p) ? NEED_ACCESS_TOKEN : NEED_ID_TOKEN,
	                     &t, err);
	if (rc < 0)
		goto out;
	if (!web_identity_token(req->p, t)) {
		rc = okc_fail(err, OKC_EXIT_LOGIN, "%s: the session has no ID token", req->p->name);
		okc_hint(err, "run: oktacred login %s", req->p->name);
		goto out;
	}
	rc = jwt_claims_parse(web_identity_token(req->p, t), &claims, err);
	if (rc < 0)
		goto out;
	have_claims = 1;
	rc = aws_role_choose(id, claims.groups, claims.ngroups, req->role,
	                     isatty(STDIN_FILENO) && isatty(STDERR_FILENO), &arn, &only, err);
	if (rc < 0)
		goto out;
	session_name = sts_session_name(aws_role_cfg(id)->session_name, claims.email, claims.sub,
	                                claims.preferred_username);

	rc = awscreds_lock(id, &lk, err);
	if (rc < 0)
		goto out;
	/* Read again under the lock: another process may have renewed meanwhile. */
	rc = awscreds_load(id, &c, err);
	if (rc == 0 && fits(id, c, arn, endpoint) && awscreds_of_session(c, t->session) &&
	    provider_session_current(req->p, c->session)) {
		log_verbose("%s: another process renewed the AWS credentials", id->name);
	} else if (rc >= 0) {
		awscreds_free(c);
		c = NULL;
		rc = renew(req, endpoint, arn, only, session_name, &t, &claims, &c, err);
	}
	lock_release(&lk);
	if (rc == 0) {
		*out = c;
		c = NULL;
	}
out:
	awscreds_free(c);
	tokens_free(t);
	if (have_claims)
		jwt_claims_free(&claims);
	free(session_name);
	free(endpoint);
	return rc < 0 ? -1 : rc;
}

int identity_aws_credentials(const struct identity_request *req, struct awscreds **out,
                             okc_err *err)
{
	int rc;

	*out = NULL;
	if (!req->id || req->id->kind != &identity_aws_assume_role.config)
		return okc_fail(err, OKC_EXIT_USAGE, "%s is not an aws/assume-role identity",
		                req->name);
	/* A login that replaced the session during the STS call: once more with the new one. */
	rc = aws_credentials_once(req, out, err);
	if (rc == RENEW_STALE)
		rc = aws_credentials_once(req, out, err);
	if (rc == RENEW_STALE) {
		okc_fail(err, OKC_EXIT_LOGIN,
		         "%s: the session of %s ended while STS was answering; its credentials "
		         "were discarded",
		         req->id->name, req->p->name);
		okc_hint(err, "run: oktacred login %s", req->p->name);
		return -1;
	}
	return rc < 0 ? -1 : 0;
}

static int aws_environment(const struct identity_request *req, struct envset *env, okc_err *err)
{
	struct awscreds *c = NULL;
	char when[21] = "";
	size_t i;

	if (!req->names_only && identity_aws_credentials(req, &c, err) < 0)
		return -1;
	if (c)
		time_format_utc(c->expiration, when);
	envset_put(env, "AWS_ACCESS_KEY_ID", c ? c->access_key_id : "", 0);
	envset_put(env, "AWS_SECRET_ACCESS_KEY", c ? c->secret_access_key : "", 1);
	envset_put(env, "AWS_SESSION_TOKEN", c ? c->session_token : "", 1);
	envset_put(env, "AWS_CREDENTIAL_EXPIRATION", when, 0);
	if (aws_role_cfg(req->id)->region) {
		envset_put(env, "AWS_REGION", aws_role_cfg(req->id)->region, 0);
		envset_put(env, "AWS_DEFAULT_REGION", aws_role_cfg(req->id)->region, 0);
	}
	for (i = 0; i < ARRAY_SIZE(cleared); i++)
		envset_put(env, cleared[i], NULL, 0);
	envset_put(env, "OKTACRED_IDENTITY", req->name, 0);
	awscreds_free(c);
	return 0;
}

/* credential-process: the JSON the AWS CLI and SDKs read. */
static int aws_credential(const struct identity_request *req, struct buf *out, okc_err *err)
{
	struct awscreds *c = NULL;
	int rc;

	if (identity_aws_credentials(req, &c, err) < 0)
		return -1;
	rc = awscreds_process_json(c, out);
	awscreds_free(c);
	return rc < 0 ? okc_fail(err, OKC_EXIT_FAIL, "out of memory") : 0;
}

/* ---- exec --server ---- */

/* The variables that --server hands over as an endpoint instead (the SDKs would prefer
 * them to it). */
static const char *const key_vars[] = {
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_CREDENTIAL_EXPIRATION",
};

static int serve_fetch(void *arg, struct awscreds **out, okc_err *err)
{
	return identity_aws_credentials(arg, out, err);
}

static int aws_serve(const struct identity_request *r, char **argv, okc_err *err)
{
	struct identity_request req = *r;
	struct credserver_opts o = {0};
	struct awscreds *c = NULL;
	struct envset env;
	char *role;
	size_t i;
	int status;

	/* The first credentials now: a login that is needed or a role that must be chosen is
	 * said before the command starts, and later requests keep the role chosen here. */
	if (identity_aws_credentials(&req, &c, err) < 0)
		return -1;
	role = xstrdup(c->role_arn);
	awscreds_free(c);
	req.role = role;
	req.names_only = 1;
	envset_init(&env);
	if (aws_environment(&req, &env, err) < 0) {
		envset_free(&env);
		free(role);
		return -1;
	}
	req.names_only = 0;
	for (i = 0; i < ARRAY_SIZE(key_vars); i++)
		envset_put(&env, key_vars[i], NULL, 0);
	o.argv = argv;
	o.env = &env;
	o.fetch = serve_fetch;
	o.arg = &req;
	okc_err_clear(err);
	status = credserver_run(&o, err);
	envset_free(&env);
	free(role);
	return status;
}

/* ---- status, sessions ---- */

static void aws_status(const struct identity_cfg *id, const char *session,
                       struct identity_status *st)
{
	struct awscreds *c = NULL;
	char when[21], left[32], *arn;
	okc_err err;
	int rc = awscreds_load(id, &c, &err);

	/* Those of an ended session are never listed. */
	if (rc == 0 && !awscreds_of_session(c, session)) {
		awscreds_free(c);
		c = NULL;
		rc = OKC_NOENT;
	}
	json_add_bool(st->obj, "cached", rc == 0);
	if (rc < 0) {
		snprintf(st->line, sizeof(st->line), "%s", err.msg);
		json_add_string(st->obj, "problem", err.msg);
		return;
	}
	if (rc == OKC_NOENT) {
		snprintf(st->line, sizeof(st->line), "no cached credentials");
		return;
	}
	time_format_utc(c->expiration, when);
	time_format_left(awscreds_left(c, now_utc()), left, sizeof(left));
	arn = text_escape_dup(c->assumed_role_arn ? c->assumed_role_arn : c->role_arn);
	snprintf(st->line, sizeof(st->line), "%s until %s (%s%s)", arn, when, left,
	         strcmp(left, "expired") ? " left" : "");
	free(arn);
	json_add_string(st->obj, "role_arn", c->role_arn);
	if (c->assumed_role_arn) {
		/* JSON passes C1 controls through: escaped first. */
		char *v = text_escape_dup(c->assumed_role_arn);

		json_add_string(st->obj, "assumed_role_arn", v);
		free(v);
	}
	json_add_string(st->obj, "expires_at", when);
	json_add_number(st->obj, "expires_in", (double)awscreds_left(c, now_utc()));
	awscreds_free(c);
}

static int aws_session_changed(const struct provider_cfg *p, const char *keep, okc_err *err)
{
	return awscreds_delete_for_provider(p, keep, err);
}

/* ---- configuration ---- */

/* arn:aws[-PARTITION]:iam::ACCOUNT(12 digits):role/[PATH/]NAME */
static int valid_role_arn(const char *s, size_t n)
{
	size_t i;

	if (n < 7 || memcmp(s, "arn:aws", 7) != 0)
		return 0;
	i = 7;
	while (i < n && (islower((unsigned char)s[i]) || s[i] == '-'))
		i++;
	if (n - i < 6 || memcmp(s + i, ":iam::", 6) != 0)
		return 0;
	i += 6;
	if (n - i < 12)
		return 0;
	for (size_t k = 0; k < 12; k++)
		if (!isdigit((unsigned char)s[i + k]))
			return 0;
	i += 12;
	if (n - i < 7 || memcmp(s + i, ":role/", 6) != 0)
		return 0;
	i += 6;
	if (s[n - 1] == '/')
		return 0;
	for (; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("+=,.@_/-", s[i]))
			return 0;
	return 1;
}

static int set_role_arn(struct config_ctx *c, const struct config_key *k, void *obj, const char *v)
{
	return config_set_checked(c, k, obj, v, valid_role_arn(v, strlen(v)),
	                          "an IAM role ARN (arn:aws:iam::123456789012:role/NAME)");
}

static void trim_span(const char **s, const char **e)
{
	while (*s < *e && isspace((unsigned char)**s))
		(*s)++;
	while (*e > *s && isspace((unsigned char)(*e)[-1]))
		(*e)--;
}

/* "Group=arn, Group2=arn": groups compared case-insensitively, as Okta's are. */
static int set_role_map(struct config_ctx *c, const struct config_key *k, void *obj, const char *v)
{
	struct aws_role_cfg *a = obj;
	const char *s = v;
	char tmp[80];
	int n = 0;

	(void)k;
	for (;;) {
		const char *end = s + strcspn(s, ","), *gs = s, *ge, *as, *ae = end;
		const char *eq = memchr(s, '=', (size_t)(end - s));
		struct role_mapping *r;

		n++;
		if (!eq) {
			trim_span(&gs, &ae);
			if (gs == ae)
				return config_fail(c, "role_map: entry %d is empty", n);
			return config_fail(c, "role_map: entry %d \"%s\" is not GROUP=ROLE_ARN", n,
			                   config_shown(gs, (size_t)(ae - gs), tmp));
		}
		ge = eq;
		as = eq + 1;
		trim_span(&gs, &ge);
		trim_span(&as, &ae);
		if (gs == ge)
			return config_fail(c, "role_map: entry %d has no group before '='", n);
		if (!valid_role_arn(as, (size_t)(ae - as)))
			return config_fail(c,
			                   "role_map: entry %d: \"%s\" is not an IAM role ARN "
			                   "(arn:aws:iam::123456789012:role/NAME)",
			                   n, config_shown(as, (size_t)(ae - as), tmp));
		for (size_t i = 0; i < a->nroles; i++)
			if (strlen(a->roles[i].group) == (size_t)(ge - gs) &&
			    strncasecmp(a->roles[i].group, gs, (size_t)(ge - gs)) == 0)
				return config_fail(c, "role_map: group \"%s\" appears twice",
				                   config_shown(gs, (size_t)(ge - gs), tmp));
		a->roles = xrealloc(a->roles, (a->nroles + 1) * sizeof(*a->roles));
		r = &a->roles[a->nroles++];
		r->group = xstrndup(gs, (size_t)(ge - gs));
		r->role_arn = xstrndup(as, (size_t)(ae - as));
		if (!*end)
			break;
		s = end + 1;
	}
	a->role_map = xstrdup(v);
	return 0;
}

static int set_region(struct config_ctx *c, const struct config_key *k, void *obj, const char *v)
{
	size_t n = strlen(v);

	return config_set_checked(c, k, obj, v,
	                          n <= 32 && islower((unsigned char)v[0]) &&
	                              strspn(v, "abcdefghijklmnopqrstuvwxyz0123456789-") == n,
	                          "an AWS region (like us-east-1)");
}

/* Any text: aws_check holds it against role_map, which may be set after it. */
static int set_default_role(struct config_ctx *c, const struct config_key *k, void *obj,
                            const char *v)
{
	return config_set_checked(c, k, obj, v, 1, "a role");
}

/* Literal characters STS accepts in a session name, and {email} / {sub} /
 * {preferred_username} from the ID token. */
static int set_session_name(struct config_ctx *c, const struct config_key *k, void *obj,
                            const char *v)
{
	static const char *const subst[] = {"{email}", "{sub}", "{preferred_username}"};
	struct aws_role_cfg *a = obj;
	const char *p = v;
	char tmp[80];

	(void)k;
	while (*p) {
		size_t i;

		if (*p == '{') {
			for (i = 0; i < ARRAY_SIZE(subst) && !str_starts(p, subst[i]); i++)
				;
			if (i == ARRAY_SIZE(subst))
				return config_fail(c,
				                   "session_name \"%s\": only {email}, {sub} and "
				                   "{preferred_username} can be substituted",
				                   CONFIG_SHOW(v, tmp));
			p += strlen(subst[i]);
			continue;
		}
		if (!isalnum((unsigned char)*p) && !strchr("+=,.@_-", *p))
			return config_fail(c,
			                   "session_name \"%s\": use letters, digits and +=,.@_- "
			                   "besides {email}, {sub} and {preferred_username}",
			                   CONFIG_SHOW(v, tmp));
		p++;
	}
	a->session_name = xstrdup(v);
	return 0;
}

/* Its provider must give an ID token, with openid among its scopes; or, without one, an
 * OAuth access token of a custom authorization server (the org server's are opaque to
 * anyone but Okta's API). */
static int aws_check_provider(struct config_ctx *c, const struct identity_cfg *id,
                              const struct provider_cfg *p)
{
	return identity_check_oidc_provider(c, id, p, uses_access_token(p), "AWS STS",
	                                    "takes its access token as the web identity token");
}

/* default_role names one role of role_map, as --role would. */
static int aws_check(struct config_ctx *c, void *section)
{
	const struct identity_cfg *id = section;
	const struct aws_role_cfg *a = aws_role_cfg(id);
	const char *arn;
	char tmp[80];
	int line;

	if (!a->default_role)
		return 0;
	line = config_key_line(c, id, "default_role");
	if (!a->role_map)
		return config_fail_at(c, line,
		                      "default_role is for role_map; identity %s has one role "
		                      "(role_arn)",
		                      id->name);
	switch (match_role(a, a->default_role, &arn)) {
	case ROLE_NONE:
		return config_fail_at(c, line, "default_role \"%s\" names no role of role_map",
		                      CONFIG_SHOW(a->default_role, tmp));
	case ROLE_SEVERAL:
		config_fail_at(c, line, "default_role \"%s\" names more than one role of role_map",
		               CONFIG_SHOW(a->default_role, tmp));
		config_hint(c, "give the role's ARN");
		return -1;
	default: return 0;
	}
}

/* ---- aws-config ---- */

/* The account of arn:aws:iam::ACCOUNT:role/NAME (checked by valid_role_arn). */
static const char *arn_account(const char *arn, char out[13])
{
	const char *p = strstr(arn, ":iam::");

	snprintf(out, 13, "%.12s", p ? p + 6 : "");
	return out;
}

/* NAME for the identity (default_role, or the user's only role); with role_map also
 * NAME-ROLE for each role (NAME-ACCOUNT-ROLE when two accounts have a role of that name),
 * with --role ROLE (the ARN where the name would be ambiguous). */
static void aws_profiles(const struct identity_cfg *id, struct awsconfig *ac)
{
	const struct aws_role_cfg *a = aws_role_cfg(id);

	awsconfig_add(ac, id->name, id->name, NULL, a->region);
	for (size_t i = 0; i < a->nroles; i++) {
		const char *arn = a->roles[i].role_arn, *name = role_name(arn), *found = NULL;
		int twin = 0;
		char acct[13], *profile;
		size_t k;

		for (k = 0; k < i && strcmp(a->roles[k].role_arn, arn) != 0; k++)
			;
		if (k < i)
			continue; /* an ARN of an earlier entry */
		for (k = 0; k < a->nroles; k++)
			if (strcmp(a->roles[k].role_arn, arn) != 0 &&
			    strcasecmp(role_name(a->roles[k].role_arn), name) == 0)
				twin = 1;
		profile = twin ? xasprintf("%s-%s-%s", id->name, arn_account(arn, acct), name)
		               : xasprintf("%s-%s", id->name, name);
		awsconfig_add(ac, profile, id->name,
		              match_role(a, name, &found) == ROLE_FOUND && str_eq(found, arn) ? name
		                                                                              : arn,
		              a->region);
		free(profile);
	}
}

static void aws_free(void *kind_cfg)
{
	struct aws_role_cfg *a = kind_cfg;

	for (size_t r = 0; r < a->nroles; r++) {
		free(a->roles[r].group);
		free(a->roles[r].role_arn);
	}
	free(a->roles);
}

#define AWS_KEY(name, set, field, flags, def, group, min, max)                                     \
	{                                                                                          \
		(name), (set), offsetof(struct aws_role_cfg, field), (flags), (def), (group),      \
		    (min), (max)                                                                   \
	}

static const struct config_key keys[] = {
    AWS_KEY("role_arn", set_role_arn, role_arn, CK_STRING, NULL, "role", 0, 0),
    AWS_KEY("role_map", set_role_map, role_map, CK_STRING, NULL, "role", 0, 0),
    AWS_KEY("region", set_region, region, CK_STRING, NULL, NULL, 0, 0),
    AWS_KEY("duration", config_set_duration, duration, 0, "1h", NULL, 900, 43200),
    AWS_KEY("session_name", set_session_name, session_name, CK_STRING, "{email}", NULL, 0, 0),
    AWS_KEY("sts_endpoint", config_set_url, sts_endpoint, CK_STRING, NULL, NULL, 0, 0),
    AWS_KEY("default_role", set_default_role, default_role, CK_STRING, NULL, NULL, 0, 0),
    {NULL, NULL, 0, 0, NULL, NULL, 0, 0},
};

const struct identity_kind identity_aws_assume_role = {
    .config = {.name = "aws/assume-role",
               .keys = keys,
               .size = sizeof(struct aws_role_cfg),
               .check = aws_check,
               .check_provider = aws_check_provider,
               .free = aws_free},
    .takes_role = 1,
    .environment = aws_environment,
    .credential = aws_credential,
    .credential_process = 1,
    .serve = aws_serve,
    .status_label = "aws",
    .status = aws_status,
    .session_changed = aws_session_changed,
    .aws_profiles = aws_profiles,
};
