/* aws_assume_role.c: the aws/assume-role identity: the Okta ID token traded for AWS
 * credentials with STS AssumeRoleWithWebIdentity, the role chosen, the credentials cached
 * per identity, and the environment of DESIGN.md section 5.2. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "oktacred/awscreds.h"
#include "oktacred/cache.h"
#include "oktacred/config.h"
#include "oktacred/identity.h"
#include "oktacred/jwt.h"
#include "oktacred/log.h"
#include "oktacred/provider.h"
#include "oktacred/refresh.h"
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
	size_t i, o = 0;

	out[0] = '\0';
	for (i = 0; i < (m ? n : id->nroles) && o + 1 < len; i++) {
		const struct role_mapping *r = m ? m[i] : &id->roles[i];
		int k =
		    snprintf(out + o, len - o, "%s%s (%s)", i ? ", " : "", r->group, r->role_arn);

		if (k < 0)
			break;
		o += (size_t)k;
	}
}

int aws_role_resolve(const struct identity_cfg *id, const char *want, const char **arn,
                     okc_err *err)
{
	const char *found = NULL;
	char list[400];
	size_t i;

	*arn = NULL;
	if (id->role_arn) {
		if (want && !names_role(id->role_arn, NULL, want))
			return okc_fail(err, OKC_EXIT_USAGE,
			                "%s: --role %s does not name the identity's role %s",
			                id->name, want, id->role_arn);
		*arn = id->role_arn;
		return 0;
	}
	if (!want)
		return 0;
	for (i = 0; i < id->nroles; i++) {
		if (!names_role(id->roles[i].role_arn, id->roles[i].group, want))
			continue;
		if (found && strcmp(found, id->roles[i].role_arn) != 0) {
			okc_fail(err, OKC_EXIT_USAGE, "%s: --role %s names more than one role",
			         id->name, want);
			okc_hint(err, "give the role's ARN");
			return -1;
		}
		found = id->roles[i].role_arn;
	}
	if (!found) {
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

int aws_role_choose(const struct identity_cfg *id, char *const *groups, size_t ngroups,
                    const char *want, int prompt, const char **arn, int *only, okc_err *err)
{
	const struct role_mapping **m;
	const char *wanted = NULL;
	char list[400];
	size_t i, k, n = 0;
	int rc = 0;

	*arn = NULL;
	*only = 0;
	if (aws_role_resolve(id, want, &wanted, err) < 0)
		return -1;
	if (id->role_arn) {
		*arn = id->role_arn;
		return 0;
	}
	/* The user's roles, in the file's order, each ARN once. */
	m = xcalloc(id->nroles + 1, sizeof(*m));
	for (i = 0; i < id->nroles; i++) {
		if (!in_groups(id->roles[i].group, groups, ngroups))
			continue;
		for (k = 0; k < n && strcmp(m[k]->role_arn, id->roles[i].role_arn) != 0; k++)
			;
		if (k == n)
			m[n++] = &id->roles[i];
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

static char *sts_url(const struct identity_cfg *id)
{
	if (id->sts_endpoint)
		return xstrdup(id->sts_endpoint);
	if (!id->region)
		return xstrdup("https://sts.amazonaws.com/");
	if (str_starts(id->region, "cn-"))
		return xasprintf("https://sts.%s.amazonaws.com.cn/", id->region);
	return xasprintf("https://sts.%s.amazonaws.com/", id->region);
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

	if (strcmp(e->code, "InvalidIdentityToken") == 0) {
		okc_fail(err, OKC_EXIT_FAIL,
		         "%s: STS rejected the Okta ID token (InvalidIdentityToken)%s%s", id->name,
		         sep, e->message);
		okc_hint(err,
		         "AWS needs an IAM OIDC identity provider for %s with the audience %s "
		         "(the client id)",
		         iss ? iss : "the token's issuer", req->p->client_id);
	} else if (strcmp(e->code, "AccessDenied") == 0 ||
	           strcmp(e->code, "AccessDeniedException") == 0) {
		okc_fail(err, OKC_EXIT_FAIL, "%s: not allowed to assume %s (AccessDenied)%s%s",
		         id->name, arn, sep, e->message);
		okc_hint(err,
		         "the role's trust policy must allow sts:AssumeRoleWithWebIdentity to the "
		         "federated principal of %s with %s:aud = %s",
		         iam_provider(iss), iam_provider(iss), req->p->client_id);
	} else if (strcmp(e->code, "IDPRejectedClaim") == 0) {
		okc_fail(err, OKC_EXIT_FAIL,
		         "%s: the claims of the Okta ID token were rejected for %s "
		         "(IDPRejectedClaim)%s%s",
		         id->name, arn, sep, e->message);
		okc_hint(err,
		         "check the trust policy's conditions on the token's claims, or log in "
		         "again: oktacred login %s",
		         req->p->name);
	} else if (strcmp(e->code, "RegionDisabledException") == 0) {
		okc_fail(err, OKC_EXIT_FAIL,
		         "%s: STS is not activated in region %s (RegionDisabledException)%s%s",
		         id->name, id->region ? id->region : "(default)", sep, e->message);
		okc_hint(err, "activate the region in IAM > Account settings, or choose another "
		              "region (or sts_endpoint)");
	} else if (strcmp(e->code, "ExpiredTokenException") == 0) {
		okc_fail(err, OKC_EXIT_FAIL,
		         "%s: STS says the ID token has expired, even after a refresh "
		         "(ExpiredTokenException)%s%s",
		         id->name, sep, e->message);
		okc_hint(err, "check this machine's clock");
	} else {
		okc_fail(err, OKC_EXIT_FAIL, "%s: STS refused to assume %s: %s%s%s", id->name, arn,
		         e->code, sep, e->message);
		if (strstr(e->message, "DurationSeconds"))
			okc_hint(err,
			         "lower duration (now %ld s) or raise the role's maximum session "
			         "duration",
			         id->duration);
	}
	free(iss);
	return -1;
}

/* A fresh ID token after STS called ours expired: taken from the cache when another
 * process refreshed meanwhile, else refreshed now, under the provider's lock. */
static int renew_id_token(const struct provider_cfg *p, struct tokens **t, okc_err *err)
{
	struct tokens *cur = NULL;
	struct lock lk = LOCK_INIT;
	int rc;

	if (cache_lock(p, &lk, err) < 0)
		return -1;
	rc = cache_load(p, &cur, err);
	if (rc == OKC_NOENT) {
		okc_fail(err, OKC_EXIT_LOGIN, "%s: not logged in", p->name);
		okc_hint(err, "run: oktacred login %s", p->name);
		rc = -1;
	} else if (rc == 0) {
		if (str_eq(cur->id_token, (*t)->id_token))
			rc = refresh_grant(p, &cur, err);
		else
			log_verbose("%s: another process refreshed the ID token", p->name);
	}
	lock_release(&lk);
	if (rc < 0) {
		tokens_free(cur);
		return -1;
	}
	tokens_free(*t);
	*t = cur;
	return 0;
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
	r.duration = req->id->duration;
	/* The provider's timeout is the user's one knob for a slow or hanging network. */
	r.timeout_ms = req->p->timeout * 1000L;
	for (;;) {
		r.web_identity_token = (*t)->id_token;
		rc = sts_assume_role(&r, sc, &e, err);
		if (rc != STS_ERROR)
			return rc;
		if (strcmp(e.code, "ExpiredTokenException") != 0 || retried)
			return sts_refused(req, arn, c, &e, err);
		log_verbose("%s: STS says the ID token has expired; refreshing it", req->id->name);
		if (renew_id_token(req->p, t, err) < 0)
			return -1;
		retried = 1;
	}
}

/* ---- credentials ---- */

static int fits(const struct identity_cfg *id, const struct awscreds *c, const char *arn,
                const char *endpoint)
{
	size_t i;

	if (awscreds_left(c, now_utc()) <= awscreds_renew_before(id) ||
	    !str_eq(c->sts_endpoint, endpoint))
		return 0;
	if (arn)
		return str_eq(c->role_arn, arn);
	/* role_map without --role: only a role that was the user's only match, and is
	 * still in the map. */
	if (c->choice != AWSCREDS_ROLE_ONLY)
		return 0;
	for (i = 0; i < id->nroles; i++)
		if (str_eq(id->roles[i].role_arn, c->role_arn))
			return 1;
	return 0;
}

/* renew's answer when the provider's session changed during the STS call. */
#define RENEW_STALE 2

/* 1 when session (the id the credentials or tokens carry) is the provider's current one. */
static int session_current(const struct provider_cfg *p, const char *session)
{
	char *cur = NULL;
	okc_err ignored;
	int ok = session && cache_session(p, &cur, &ignored) == 0 && str_eq(cur, session);

	free(cur);
	return ok;
}

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
	c->choice = req->id->role_arn ? AWSCREDS_ROLE_FIXED
	            : only            ? AWSCREDS_ROLE_ONLY
	                              : AWSCREDS_ROLE_CHOSEN;
	c->sts_endpoint = xstrdup(endpoint);
	c->session = xstrdup((*t)->session);
	c->issuer = claims->iss ? xstrdup(claims->iss) : NULL;
	c->subject = claims->sub ? xstrdup(claims->sub) : NULL;
	/* While STS answered, the session may have ended (logout) or been replaced (a login,
	 * maybe as someone else): such credentials are never saved nor handed out. */
	if (!session_current(req->p, c->session)) {
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
	endpoint = sts_url(id);
	/* The cache-hit path: the credentials' file and the session's, nothing else. */
	rc = aws_role_resolve(id, req->role, &arn, err);
	if (rc == 0)
		rc = awscreds_load(id, &c, err);
	if (rc < 0)
		goto out;
	if (rc == 0 && fits(id, c, arn, endpoint) && session_current(req->p, c->session)) {
		log_verbose("%s: cached AWS credentials", id->name);
		*out = c;
		c = NULL;
		goto out;
	}
	awscreds_free(c);
	c = NULL;

	rc = provider_tokens(req->p, NEED_ID_TOKEN, &t, err);
	if (rc < 0)
		goto out;
	if (!t->id_token) {
		rc = okc_fail(err, OKC_EXIT_LOGIN, "%s: the session has no ID token", req->p->name);
		okc_hint(err, "run: oktacred login %s", req->p->name);
		goto out;
	}
	rc = jwt_claims_parse(t->id_token, &claims, err);
	if (rc < 0)
		goto out;
	have_claims = 1;
	rc = aws_role_choose(id, claims.groups, claims.ngroups, req->role,
	                     isatty(STDIN_FILENO) && isatty(STDERR_FILENO), &arn, &only, err);
	if (rc < 0)
		goto out;
	session_name =
	    sts_session_name(id->session_name, claims.email, claims.sub, claims.preferred_username);

	rc = awscreds_lock(id, &lk, err);
	if (rc < 0)
		goto out;
	/* Read again under the lock: another process may have renewed meanwhile. */
	rc = awscreds_load(id, &c, err);
	if (rc == 0 && fits(id, c, arn, endpoint) && awscreds_of_session(c, t->session) &&
	    session_current(req->p, c->session)) {
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
	if (!req->id || req->id->kind != IDENTITY_AWS_ASSUME_ROLE)
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
	if (req->id->region) {
		envset_put(env, "AWS_REGION", req->id->region, 0);
		envset_put(env, "AWS_DEFAULT_REGION", req->id->region, 0);
	}
	for (i = 0; i < ARRAY_SIZE(cleared); i++)
		envset_put(env, cleared[i], NULL, 0);
	envset_put(env, "OKTACRED_IDENTITY", req->name, 0);
	awscreds_free(c);
	return 0;
}

const struct identity_ops identity_aws_assume_role = {aws_environment};
