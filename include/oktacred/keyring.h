/* keyring.h: secrets in the Secret Service (libsecret; keyring.c is the only file
 * that includes it, and loads it with the first call: dl.h). Schema org.oktacred.Token,
 * attributes provider and kind. */
#ifndef OKTACRED_KEYRING_H
#define OKTACRED_KEYRING_H

#include "oktacred/err.h"

/* kind: "access_token", "refresh_token", "id_token" or "api_token". When no Secret
 * Service can be reached, every call fails with exit 1 and a message that says so and
 * names `token_store = file`; nothing falls back to disk. No call ever shows a prompt: a
 * locked keyring (or one without a default collection) is the same kind of error. The
 * session bus is only DBUS_SESSION_BUS_ADDRESS or $XDG_RUNTIME_DIR/bus (no autolaunch).
 * Only items with xdg:schema = org.oktacred.Token are read or deleted. */
int keyring_store(const char *provider, const char *kind, const char *secret, okc_err *err);
/* *out is wiped and freed by the caller (free_secret). OKC_NOENT when there is none. */
int keyring_lookup(const char *provider, const char *kind, char **out, okc_err *err);
/* Absent is fine (returns OKC_NOENT). An item left behind because it is locked is an
 * error. */
int keyring_delete(const char *provider, const char *kind, okc_err *err);
/* Every item of the provider; the same rules. */
int keyring_delete_all(const char *provider, okc_err *err);
/* 0 when keyring_store would work without a prompt: the service answers and its default
 * collection exists and is unlocked. For failing before a login rather than after it. */
int keyring_check(const char *provider, okc_err *err);

#endif
