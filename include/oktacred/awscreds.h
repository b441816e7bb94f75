/* awscreds.h: an aws/assume-role identity's STS credentials on disk
 * (aws/<identity>/credentials.json under its provider's state root) with their own lock,
 * and the JSON forms AWS tools read (credential_process, container credentials). */
#ifndef OKTACRED_AWSCREDS_H
#define OKTACRED_AWSCREDS_H

#include <time.h>
#include "oktacred/buf.h"
#include "oktacred/err.h"
#include "oktacred/lock.h"

struct identity_cfg;
struct provider_cfg;

/* How the role was picked, which decides whether cached credentials fit a later call
 * that gives no --role. */
enum awscreds_choice {
	AWSCREDS_ROLE_FIXED = 0, /* role_arn */
	AWSCREDS_ROLE_ONLY = 1,  /* role_map: the user's only matching role */
	AWSCREDS_ROLE_CHOSEN = 2 /* role_map: picked among several (--role or the prompt) */
};

struct awscreds {
	char *access_key_id;
	char *secret_access_key; /* secret */
	char *session_token;     /* secret */
	time_t expiration;
	time_t obtained_at;
	char *role_arn;         /* the role assumed */
	char *assumed_role_arn; /* STS's AssumedRoleUser/Arn, or NULL */
	char *session_name;
	enum awscreds_choice choice;
	/* What they were obtained with; awscreds_load ignores a file whose provider key does
	 * not match the identity's provider (switching orgs never hands out the old ones). */
	char *provider;
	char *org_url;
	char *client_id;
	char *authorization_server;
	char *sts_endpoint; /* the STS URL that issued them */
	/* The provider session whose ID token obtained them (tokens.json's "session"), with
	 * the token's issuer and subject: used only while that session is the current one. */
	char *session;
	char *issuer;
	char *subject;
};

/* Wipes the secrets, frees everything; NULL is fine. */
void awscreds_free(struct awscreds *c);
/* 1 when c was obtained in the provider session with this id (NULL: no session). */
int awscreds_of_session(const struct awscreds *c, const char *session);

/* Seconds until expiration (negative: expired). */
long awscreds_left(const struct awscreds *c, time_t now);
/* Below this many seconds left the credentials are renewed: 20 minutes (the SDKs ask
 * again 15 minutes before Expiration), or half the configured duration when that is
 * (duration, in seconds) shorter than 40 minutes, so that a 15-minute role is not renewed on every
 * call. */
long awscreds_renew_before(long duration);

/* The file's JSON: access_key_id, secret_access_key, session_token, expiration (RFC 3339
 * UTC), obtained_at, role_arn, assumed_role_arn, session_name, role_choice ("fixed",
 * "only", "chosen"), provider, org_url, client_id, authorization_server, sts_endpoint,
 * session, issuer, subject, version 1. */
int awscreds_to_json(const struct awscreds *c, struct buf *out);
/* Parses it; every field type-checked; credentials and expiration required. Not this:
 * -1 (exit 1, "corrupt"). */
int awscreds_from_json(const char *json, size_t len, struct awscreds **out, okc_err *err);

/* The 12 digits of an ARN's account field into out; -1 (out empty) when arn has none. */
int awscreds_account_id(const char *arn, char out[13]);
/* The credential_process answer: {"Version":1,"AccessKeyId","SecretAccessKey",
 * "SessionToken","Expiration","AccountId"} and a newline; AccountId from the assumed role's
 * ARN (or the role's), left out when neither names an account. */
int awscreds_process_json(const struct awscreds *c, struct buf *out);
/* The container-credentials answer: {"AccessKeyId","SecretAccessKey","Token",
 * "Expiration","AccountId"}. */
int awscreds_container_json(const struct awscreds *c, struct buf *out);

/* Loads the identity's credentials. 0; OKC_NOENT when there are none usable (no file,
 * another provider key, a corrupt file: kept as credentials.json.corrupt with a warning);
 * -1 for an unsafe file or directory (exit 1, how to fix it). Reads that one file and
 * nothing else. */
int awscreds_load(const struct identity_cfg *id, struct awscreds **out, okc_err *err);
/* Writes them atomically (0600; directories 0700), recording the identity's provider
 * key. The caller holds the identity's lock. */
int awscreds_save(const struct identity_cfg *id, const struct awscreds *c, okc_err *err);
/* Deletes them (absent: OKC_NOENT). The caller holds the lock. */
int awscreds_delete(const struct identity_cfg *id, okc_err *err);
/* Creates aws/<identity>/ when needed and takes its lock (aws/<identity>/.lock). Lock
 * order: an identity's lock may be held while its provider's is taken, never the
 * reverse. */
int awscreds_lock(const struct identity_cfg *id, struct lock *l, okc_err *err);

/* Deletes, each under its own lock, every aws/<identity>/credentials.json under p's state
 * root that was obtained through p (logout, a new login). Every identity directory whose
 * credentials are not known to be another provider's has its lock taken, with or without
 * a file: a process that is asking STS right now holds it, and has checked (or will check,
 * under it) that its session is still current before it saves. Credentials of the session
 * `keep` (a login's new one; NULL: none) stay. Returns how many were deleted, or -1. */
int awscreds_delete_for_provider(const struct provider_cfg *p, const char *keep, okc_err *err);
/* logout --all, for the state root root, after every provider's logout: each
 * aws/<identity> directory, under its lock, loses credentials obtained through a provider
 * cfg no longer has (said on stderr), and goes when nothing but its lock is left in it
 * (configured identities' too: it is made again when needed). Returns 0, or -1 for an
 * unsafe file or directory. */
struct config;
int awscreds_sweep(const char *root, const struct config *cfg, okc_err *err);

#endif
