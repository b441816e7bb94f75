/* cache.h: a provider's tokens (okta/<provider>/tokens.json) with the provider's lock.
 * With token_store = keyring the secrets live in the Secret Service and tokens.json
 * holds only metadata (expiry, scope, the cache key). */
#ifndef OKTACRED_CACHE_H
#define OKTACRED_CACHE_H

#include "oktacred/err.h"
#include "oktacred/lock.h"
#include "oktacred/tokens.h"

struct provider_cfg;

/* Loads the provider's tokens. Returns 0; OKC_NOENT when there is no usable session:
 * no file, a file for another org/client/server/scopes, or a corrupt file (which is
 * renamed tokens.json.corrupt, with a warning on stderr); -1 for an unsafe file or
 * directory (symlink, foreign owner, group/other permission: exit 1, how to fix it). In
 * keyring mode, -1 with the keyring's error when it cannot be reached, even when there is
 * no tokens.json, so a login fails before the person approves it rather than after. */
int cache_load(const struct provider_cfg *p, struct tokens **out, okc_err *err);
/* Writes the tokens atomically (creating the directories 0700). The caller holds the
 * provider's lock. Tokens without a session id are a new session: t gets a new id, and its start
 * (session_started_at) is when they were obtained. The file records
 * p's cache key (org_url, client_id, authorization_server, scopes) whatever t holds, so it always
 * matches p when read back. In keyring mode the secrets go to the keyring first and never into the
 * file. */
int cache_save(const struct provider_cfg *p, struct tokens *t, okc_err *err);
/* tokens.json alone: read without the lock and without the keyring, so that nothing
 * heavy is loaded (`status --short`, `config validate`'s lifetimes). With token_store =
 * keyring the secrets are absent. 0, OKC_NOENT or -1 as cache_load (a corrupt file is
 * set aside the same way). */
int cache_peek(const struct provider_cfg *p, struct tokens **out, okc_err *err);
/* The id of the provider's current session (tokens.json's "session"), read without the
 * lock and without the keyring: 0 and *session (the caller frees it); OKC_NOENT when there
 * is no session, or it is past p's session_duration; -1 for an unsafe file or directory. */
int cache_session(const struct provider_cfg *p, char **session, okc_err *err);
/* Deletes the tokens (absent is fine: OKC_NOENT). The caller holds the lock. In keyring
 * mode both the items and the file; the file is removed even when the keyring cannot be
 * reached, and then the keyring's error is returned. */
int cache_delete(const struct provider_cfg *p, okc_err *err);
/* logout --all, for the state root root: every okta/<NAME> directory whose NAME no
 * provider of cfg has (a provider taken out of the configuration) loses its session under
 * its lock: tokens.json and jwks.json, and the keyring's items of NAME (required when
 * tokens.json held only metadata, as keyring mode writes it: an unreachable Secret Service
 * is then an error, after the file is removed; else looked for when a Secret Service can
 * be reached; keyring items of a name without a directory are not looked for); then the
 * directory, when nothing else is in it. A configured provider's
 * directory that holds only its lock goes too. Says which were logged out on stderr. Returns 0, or
 * -1 for an unsafe file or directory or a keyring that fails. */
struct config;
int cache_sweep(const char *root, const struct config *cfg, okc_err *err);
/* Creates the provider's directory when needed and takes its lock. */
int cache_lock(const struct provider_cfg *p, struct lock *l, okc_err *err);
/* The same, giving up after timeout_ms (0: the default two minutes). */
int cache_lock_within(const struct provider_cfg *p, struct lock *l, long timeout_ms, okc_err *err);
/* Before a login asks anyone to approve anything: the provider's directory exists, is safe
 * and writable (its lock can be taken; it is released again) and has room for a session
 * (CACHE_ROOM bytes). */
#define CACHE_ROOM (64 * 1024)
int cache_check_writable(const struct provider_cfg *p, okc_err *err);

#endif
