/* config.h: the INI configuration (DESIGN.md section 3) as structs. config.c reads the
 * file and knows its sections ([defaults], [provider NAME], [identity NAME]), but no kind:
 * each provider and identity kind describes its keys, their rules and its checks in a
 * struct config_kind (its own file under src/providers/ or src/identities/), and the
 * registry tables below (provider.c, identity.c) list the kinds. Every error is
 * "FILE:LINE: message", exit 2 unless said. */
#ifndef OKTACRED_CONFIG_H
#define OKTACRED_CONFIG_H

#include <stddef.h>
#include "oktacred/err.h"

enum token_store { TOKEN_STORE_FILE, TOKEN_STORE_KEYRING };

struct config_kind;

/* The fields every provider has; a kind's own keys live in kind_cfg. The OAuth client
 * fields are here because the shared OAuth code (oauth.c, refresh.c, cache.c) reads them;
 * a kind declares which of their keys it takes. */
struct provider_cfg {
	char *name;
	const struct config_kind *kind; /* never NULL once loaded */
	void *kind_cfg;                 /* the kind's own struct (kind->size bytes), or NULL */
	char *org_url;                  /* no trailing slash */
	char *client_id;
	char *authorization_server; /* "default", "org" or an id */
	char *scopes;               /* space-separated */
	enum token_store token_store;
	long refresh_before;   /* seconds */
	char *base_path;       /* files.base_path; NULL: the XDG default */
	char *ca_bundle;       /* NULL: system CAs */
	long timeout;          /* seconds for one HTTP request; 0: http.h's defaults */
	long session_duration; /* seconds a session lasts after its login; 0: no limit */
	int dpop;              /* dpop = true: tokens bound to a key of ours (RFC 9449) */
	const char *file;      /* where it was defined, for messages */
	int line;
};

struct identity_cfg {
	char *name;
	const struct config_kind *kind;
	void *kind_cfg;
	char *provider_name;
	const struct provider_cfg *provider; /* resolved after parsing */
	int interactive;                     /* true/false/yes/no/on/off/1/0; default 0 */
	const char *file;
	int line;
};

struct config {
	char *path;             /* the file that was read */
	char *default_identity; /* [defaults] identity, or NULL */
	struct provider_cfg *providers;
	size_t nproviders;
	struct identity_cfg *identities;
	size_t nidentities;
	struct config_private *priv; /* config.c's: the text, names, what is checked */
};

/* ---- what kinds describe ---- */

struct config_ctx; /* the reader, handed to setters and checks */
struct config_key;

/* Stores value (not empty, ${VAR} expanded) in obj: the section's struct for CK_COMMON
 * keys, else the kind's own. Returns 0, or config_fail()'s -1. */
typedef int (*config_setter)(struct config_ctx *c, const struct config_key *k, void *obj,
                             const char *value);

#define CK_COMMON   0x01u /* the field is in provider_cfg / identity_cfg */
#define CK_REQUIRED 0x02u /* the section needs it */
#define CK_STRING   0x04u /* a char * at off, freed with the configuration */
#define CK_SECRET   0x0cu /* a CK_STRING wiped before it is freed */
/* A CK_STRING naming a file when it is an absolute path: config_load_all checks that it
 * exists, is a regular file of the user's and not writable by others (CK_PRIVATE: nor
 * readable). */
#define CK_FILE    0x10u
#define CK_PRIVATE 0x20u

struct config_key {
	const char *name;
	config_setter set;
	size_t off;        /* where set() stores the value */
	unsigned flags;    /* CK_* */
	const char *def;   /* set through set() when the key is absent or empty; or NULL */
	const char *group; /* keys of one group: exactly one of them must be set; or NULL */
	long min, max;     /* config_set_duration's bounds (0, 0: none) */
};

struct config_kind {
	const char *name;              /* "okta/device-code" */
	const char *alias;             /* another name `kind =` takes ("okta/oidc"), or NULL */
	const struct config_key *keys; /* ended by {NULL} */
	size_t size;                   /* of the kind's own struct; 0: none */
	/* After the section's keys are set: rules beyond required and one-of. Or NULL. */
	int (*check)(struct config_ctx *c, void *section);
	/* Identities: whether the provider (resolved) serves this identity. Or NULL. */
	int (*check_provider)(struct config_ctx *c, const struct identity_cfg *id,
	                      const struct provider_cfg *p);
	/* Frees what the setters allocated beyond CK_STRING fields. Or NULL. */
	void (*free)(void *kind_cfg);
};

/* The registry (provider.c, identity.c): the keys every provider (identity) has besides
 * kind (and an identity's provider), and the kinds, each list ended by NULL. */
extern const struct config_key config_provider_keys[];
extern const struct config_kind *const config_provider_kinds[];
extern const struct config_key config_identity_keys[];
extern const struct config_kind *const config_identity_kinds[];

/* For setters and checks: an error at the current key's line (or at line; of several
 * errors the one on the lowest line is kept), a hint after it, the line a key was set on
 * in a section (a provider_cfg or identity_cfg; 0: absent), the current key's value as
 * written (before ${VAR} expansion), a note that a secret is written in the file itself
 * (what: "a client_secret"), and a string from the file made safe for a message. */
int config_fail(struct config_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int config_fail_at(struct config_ctx *c, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A warning, not an error: the section works, but not as its author may think (an
 * okta/api-access identity whose tokens Okta's API refuses). Kept with FILE:LINE, the
 * current key's line (or line); see config_warnings(). */
void config_warn(struct config_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void config_warn_at(struct config_ctx *c, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void config_hint(struct config_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int config_key_line(const struct config_ctx *c, const void *section, const char *key);
const char *config_raw(const struct config_ctx *c);
int config_raw_has_text(const struct config_ctx *c); /* besides ${VAR} references */
void config_secret_in_file(struct config_ctx *c, const char *what);
const char *config_shown(const char *s, size_t n, char out[80]);
#define CONFIG_SHOW(s, tmp) config_shown((s), strlen(s), (tmp))

/* Setters for common value types, storing at k->off: a word without spaces or controls;
 * an http(s) URL (https, or http for loopback; no query or fragment); the same reduced to
 * its origin (scheme://host[:port]); an absolute path or ~/...; a duration within
 * [k->min, k->max] (stored as long); a boolean (stored as int); an environment variable
 * name. */
int config_set_word(struct config_ctx *c, const struct config_key *k, void *obj, const char *v);
int config_set_url(struct config_ctx *c, const struct config_key *k, void *obj, const char *v);
int config_set_origin(struct config_ctx *c, const struct config_key *k, void *obj, const char *v);
int config_set_path(struct config_ctx *c, const struct config_key *k, void *obj, const char *v);
int config_set_duration(struct config_ctx *c, const struct config_key *k, void *obj, const char *v);
int config_set_bool(struct config_ctx *c, const struct config_key *k, void *obj, const char *v);
/* Stores a copy of v at k->off when ok, else fails with "KEY \"V\" is not WHAT". */
int config_set_checked(struct config_ctx *c, const struct config_key *k, void *obj, const char *v,
                       int ok, const char *what);
/* 1 when s is a valid environment variable name. */
int config_is_env_name(const char *s);
/* 1 when scopes (space-separated) holds want. */
int config_has_scope(const char *scopes, const char *want);

/* ---- reading ---- */

/* Reads the configuration: path NULL: $OKTACRED_CONFIG, else
 * ${XDG_CONFIG_HOME:-$HOME/.config}/oktacred/config. config_open reads the file, its
 * sections and their names (syntax, duplicate sections and [defaults] are checked) and
 * leaves each section to be checked when config_resolve first names it, so that one
 * broken section does not break commands that use others, and the cost is that of
 * lexing the file; config_check checks every section (as config_load does). Errors
 * (exit 2 unless said):
 * - a missing file: "FILE: no configuration file" with a hint to create it;
 * - the file group/other-writable or owned by another user (exit 1), or
 *   group/other-readable while it holds a secret written in it (exit 1; config_open then
 *   checks every section, to know, as config_check_each: a broken one is left to be
 *   reported when used): says `chmod 600 FILE`;
 * - unknown section or key, a bad value, a duplicate section or key, a section missing a
 *   required key, an identity naming an unknown provider, an unknown kind, a key that does
 *   not belong to the section's kind (`key "role_arn" belongs to aws/assume-role, not
 *   okta/api-access`), [defaults] identity naming nothing, "${VAR}" naming an unset
 *   variable, what a kind's checks refuse: all "FILE:LINE: message", the first in the
 *   file when there are several.
 * Values may use ${VAR}. Cost: linear in the size of the file. */
int config_open(const char *path, struct config **out, okc_err *err);
int config_check(struct config *cfg, okc_err *err);
/* config_open and config_check. */
int config_load(const char *path, struct config **out, okc_err *err);
/* `config validate`: config_load, but reading on after an error, so that every error is
 * found (see config_errors; within a section too, though a kind's check runs only on a
 * section whose keys are all good), and also checking the files keys name (CK_FILE) and that the
 * file has a section. On an error *err is the first in the file and *out is the
 * configuration holding the errors (NULL when the file could not be read); free it. */
int config_load_all(const char *path, struct config **out, okc_err *err);
/* The errors config_load_all found, in the order of the file, each said once. */
struct config_error {
	int line;
	char *text; /* "FILE:LINE: message" */
	char *hint; /* or NULL */
};
size_t config_errors(const struct config *cfg, const struct config_error **out);
void config_free(struct config *cfg);

/* Sets key = value in the section [TYPE NAME] of the configuration file path: the key's
 * line replaced, or a new line after the section's last setting; every other byte kept.
 * Written atomically with the file's mode; a symbolic link is followed and the file it
 * names replaced. value must be one line. Exit 1 when the file cannot be read or written
 * or lacks the section. (An interactive role choice remembered as default_role.) */
int config_file_set(const char *path, const char *type, const char *name, const char *key,
                    const char *value, okc_err *err);

/* The warnings of the sections checked so far (every one after config_check), in the
 * order they were found: each "FILE:LINE: message", with the section (a provider_cfg or
 * identity_cfg) it is about. `config validate` prints them all; other commands print
 * those of the sections they use with --verbose only (their stderr is often a tool's log:
 * credential-process under the AWS CLI, env in a shell profile). */
struct config_warning {
	const void *section;
	int line;
	char *text; /* "FILE:LINE: message" */
};
size_t config_warnings(const struct config *cfg, const struct config_warning **out);

/* The value of a string key (CK_STRING) of a section, whichever struct holds it; NULL when
 * unset or not such a key of the section's kind. */
const char *config_provider_string(const struct provider_cfg *p, const char *key);
const char *config_identity_string(const struct identity_cfg *id, const char *key);

/* For the commands that go through every section (status and config list without NAME,
 * logout --all, refresh --all): checks each section alone, as config_resolve would, so
 * that a broken one does not stop the others. Returns how many are broken; each one's
 * error ("FILE:LINE: message") is config_section_error's. An identity whose provider is
 * broken is broken with the provider's error. */
size_t config_check_each(struct config *cfg);
/* The error of a section (a provider_cfg or identity_cfg) found broken, or NULL: one not
 * checked yet, or checked and fine. */
const okc_err *config_section_error(const struct config *cfg, const void *section);
/* The line a section's key was set on (0: absent), once the section is checked. */
int config_section_key_line(const struct config *cfg, const void *section, const char *key);
/* The error for a file without a section: "FILE: no providers or identities", with
 * "run: oktacred init" (exit 2). Returns -1. */
int config_empty(const struct config *cfg, okc_err *err);

/* The section of that name, checked or not (config_open): for its name and kind. */
const struct provider_cfg *config_find_provider(const struct config *cfg, const char *name);
const struct identity_cfg *config_find_identity(const struct config *cfg, const char *name);

/* NAME (an identity or a provider; NULL: [defaults] identity) to what it means, checked
 * (with the identity's provider) if it was not yet. An identity sets *identity and
 * *provider; a provider sets *identity = NULL. An identity wins when both share the name.
 * Errors: a file without a section (config_empty), no NAME and no default (exit 2, hint
 * lists the names), unknown NAME (exit 2), what checking the section found. */
int config_resolve(const struct config *cfg, const char *name, const struct identity_cfg **identity,
                   const struct provider_cfg **provider, okc_err *err);

#endif
