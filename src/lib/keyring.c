/* keyring.c: secrets in the Secret Service (org.freedesktop.secrets) over D-Bus, through
 * libsecret: the only file that includes it. Never falls back to disk, never prompts.
 * libsecret (with GLib) is dlopen()ed by the first keyring_* call. */
#include "oktacred/keyring.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <libsecret/secret.h>

#include "oktacred/buf.h"
#include "oktacred/dl.h"
#include "oktacred/util.h"

/* Every GLib and libsecret function used here, those that the headers' macros call included
 * (G_TASK(), G_DBUS_PROXY(): g_type_check_instance_cast and the *_get_type functions;
 * G_DBUS_ERROR, G_IO_ERROR: the quarks). The linker enforces the list: this file is built
 * against the headers but the program is not linked with the libraries, so a call missed
 * here is an undefined reference. libsecret-1.so.0 brings libgio, libgobject and libglib
 * with it, and dlsym on its handle finds their symbols too. */
#define SECRET_SYMBOLS(X)                                                                          \
	X(g_bus_get_sync)                                                                          \
	X(g_dbus_connection_set_exit_on_close)                                                     \
	X(g_dbus_error_quark)                                                                      \
	X(g_dbus_error_strip_remote_error)                                                         \
	X(g_dbus_proxy_call)                                                                       \
	X(g_dbus_proxy_get_type)                                                                   \
	X(g_error_free)                                                                            \
	X(g_error_matches)                                                                         \
	X(g_error_new_literal)                                                                     \
	X(g_hash_table_insert)                                                                     \
	X(g_hash_table_new)                                                                        \
	X(g_hash_table_unref)                                                                      \
	X(g_intern_static_string)                                                                  \
	X(g_io_error_quark)                                                                        \
	X(g_list_free_full)                                                                        \
	X(g_object_unref)                                                                          \
	X(g_quark_from_static_string)                                                              \
	X(g_set_error_literal)                                                                     \
	X(g_str_equal)                                                                             \
	X(g_str_hash)                                                                              \
	X(g_task_get_type)                                                                         \
	X(g_task_new)                                                                              \
	X(g_task_propagate_pointer)                                                                \
	X(g_task_return_new_error)                                                                 \
	X(g_type_check_instance_cast)                                                              \
	X(g_type_register_static_simple)                                                           \
	X(g_unichar_isprint)                                                                       \
	X(g_unichar_isspace)                                                                       \
	X(g_unichar_to_utf8)                                                                       \
	X(g_utf8_get_char_validated)                                                               \
	X(secret_collection_for_alias_sync)                                                        \
	X(secret_collection_get_locked)                                                            \
	X(secret_password_free)                                                                    \
	X(secret_service_clear_sync)                                                               \
	X(secret_service_get_type)                                                                 \
	X(secret_service_lookup_sync)                                                              \
	X(secret_service_open_sync)                                                                \
	X(secret_service_search_sync)                                                              \
	X(secret_service_store_sync)                                                               \
	X(secret_value_new)                                                                        \
	X(secret_value_unref)                                                                      \
	X(secret_value_unref_to_password)

DL_LIBRARY(libsecret, SECRET_SYMBOLS, "libsecret",
           "libsecret-1-0 (Debian/Ubuntu), libsecret (Fedora), libsecret (Homebrew)",
           "libsecret-1.so.0");

#undef g_str_equal /* GLib's macro for direct calls; we pass the function */
#define g_bus_get_sync                      (*sym_g_bus_get_sync)
#define g_dbus_connection_set_exit_on_close (*sym_g_dbus_connection_set_exit_on_close)
#define g_dbus_error_quark                  (*sym_g_dbus_error_quark)
#define g_dbus_error_strip_remote_error     (*sym_g_dbus_error_strip_remote_error)
#define g_dbus_proxy_call                   (*sym_g_dbus_proxy_call)
#define g_dbus_proxy_get_type               (*sym_g_dbus_proxy_get_type)
#define g_error_free                        (*sym_g_error_free)
#define g_error_matches                     (*sym_g_error_matches)
#define g_error_new_literal                 (*sym_g_error_new_literal)
#define g_hash_table_insert                 (*sym_g_hash_table_insert)
#define g_hash_table_new                    (*sym_g_hash_table_new)
#define g_hash_table_unref                  (*sym_g_hash_table_unref)
#define g_intern_static_string              (*sym_g_intern_static_string)
#define g_io_error_quark                    (*sym_g_io_error_quark)
#define g_list_free_full                    (*sym_g_list_free_full)
#define g_object_unref                      (*sym_g_object_unref)
#define g_quark_from_static_string          (*sym_g_quark_from_static_string)
#define g_set_error_literal                 (*sym_g_set_error_literal)
#define g_str_equal                         (*sym_g_str_equal)
#define g_str_hash                          (*sym_g_str_hash)
#define g_task_get_type                     (*sym_g_task_get_type)
#define g_task_new                          (*sym_g_task_new)
#define g_task_propagate_pointer            (*sym_g_task_propagate_pointer)
#define g_task_return_new_error             (*sym_g_task_return_new_error)
#define g_type_check_instance_cast          (*sym_g_type_check_instance_cast)
#define g_type_register_static_simple       (*sym_g_type_register_static_simple)
#define g_unichar_isprint                   (*sym_g_unichar_isprint)
#define g_unichar_isspace                   (*sym_g_unichar_isspace)
#define g_unichar_to_utf8                   (*sym_g_unichar_to_utf8)
#define g_utf8_get_char_validated           (*sym_g_utf8_get_char_validated)
#define secret_collection_for_alias_sync    (*sym_secret_collection_for_alias_sync)
#define secret_collection_get_locked        (*sym_secret_collection_get_locked)
#define secret_password_free                (*sym_secret_password_free)
#define secret_service_clear_sync           (*sym_secret_service_clear_sync)
#define secret_service_get_type             (*sym_secret_service_get_type)
#define secret_service_lookup_sync          (*sym_secret_service_lookup_sync)
#define secret_service_open_sync            (*sym_secret_service_open_sync)
#define secret_service_search_sync          (*sym_secret_service_search_sync)
#define secret_service_store_sync           (*sym_secret_service_store_sync)
#define secret_value_new                    (*sym_secret_value_new)
#define secret_value_unref                  (*sym_secret_value_unref)
#define secret_value_unref_to_password      (*sym_secret_value_unref_to_password)

#define SECRET_BUS     "org.freedesktop.secrets"
#define UNREACHABLE    "cannot reach the Secret Service (" SECRET_BUS ")"
#define REASON_MAX     300 /* bytes of a GError message kept in our one-line message */
#define PROMPT_REFUSED 1

/* Items carry xdg:schema = org.oktacred.Token as well (libsecret adds it), and lookups and
 * deletions match it: nothing oktacred did not store is ever read or removed. */
static const SecretSchema token_schema = {
    .name = "org.oktacred.Token",
    .flags = SECRET_SCHEMA_NONE,
    .attributes =
        {
            {.name = "provider", .type = SECRET_SCHEMA_ATTRIBUTE_STRING},
            {.name = "kind", .type = SECRET_SCHEMA_ATTRIBUTE_STRING},
            {.name = NULL, .type = SECRET_SCHEMA_ATTRIBUTE_STRING},
        },
};

static GQuark prompt_error_quark(void)
{
	return g_quark_from_static_string("oktacred-keyring-prompt");
}

/* Tells the service we will not show its prompt, so it does not wait for us. */
static void dismiss(SecretPrompt *prompt)
{
	g_dbus_proxy_call(G_DBUS_PROXY(prompt), "Dismiss", NULL, G_DBUS_CALL_FLAGS_NONE, -1, NULL,
	                  NULL, NULL);
}

static GVariant *refuse_prompt_sync(SecretService *self, SecretPrompt *prompt,
                                    GCancellable *cancellable, const GVariantType *return_type,
                                    GError **error)
{
	(void)self;
	(void)cancellable;
	(void)return_type;
	dismiss(prompt);
	g_set_error_literal(error, prompt_error_quark(), PROMPT_REFUSED, "prompt refused");
	return NULL;
}

static void refuse_prompt_async(SecretService *self, SecretPrompt *prompt,
                                const GVariantType *return_type, GCancellable *cancellable,
                                GAsyncReadyCallback callback, gpointer user_data)
{
	GTask *task = g_task_new(self, cancellable, callback, user_data);

	(void)return_type;
	dismiss(prompt);
	g_task_return_new_error(task, prompt_error_quark(), PROMPT_REFUSED, "%s", "prompt refused");
	g_object_unref(task);
}

static GVariant *refuse_prompt_finish(SecretService *self, GAsyncResult *result, GError **error)
{
	(void)self;
	return g_task_propagate_pointer(G_TASK(result), error);
}

static void refusing_class_init(gpointer klass, gpointer data)
{
	SecretServiceClass *service_class = klass;

	(void)data;
	service_class->prompt_sync = refuse_prompt_sync;
	service_class->prompt_async = refuse_prompt_async;
	service_class->prompt_finish = refuse_prompt_finish;
}

/* A SecretService that answers every prompt (unlock a collection, create the default one)
 * with an error. oktacred runs in shells, timers and credential_process, where nobody may
 * be there to answer a dialog, and libsecret waits for a prompt without a time limit.
 * Registered by hand rather than with G_DEFINE_TYPE, which cppcheck cannot parse; only
 * service_open calls this, once. */
static GType refusing_service_type(void)
{
	static GType type;

	if (!type)
		type = g_type_register_static_simple(
		    SECRET_TYPE_SERVICE, g_intern_static_string("OktacredSecretService"),
		    sizeof(SecretServiceClass), refusing_class_init, sizeof(SecretService), NULL,
		    0);
	return type;
}

/* Opened on first use and kept for the life of the process: opening negotiates an
 * encrypted session with the service, which is not worth repeating per item. */
static SecretService *service;

static void set_hint(okc_err *err, const char *provider)
{
	okc_hint(err,
	         "run a keyring (gnome-keyring, KeePassXC) in this session, or set token_store = "
	         "file in [provider %s]",
	         provider);
}

/* A GError message as one printable line of at most REASON_MAX bytes: D-Bus errors come
 * from another process and may hold anything. Their "GDBus.Error:NAME: " prefix goes. */
static char *one_line(GError *gerr)
{
	struct buf s = BUF_INIT;
	const char *p, *end;
	char *out;

	g_dbus_error_strip_remote_error(gerr);
	p = gerr->message ? gerr->message : "unknown error";
	end = p + strlen(p);
	while (p < end && s.len < REASON_MAX) {
		gunichar c = g_utf8_get_char_validated(p, end - p);
		char u[6];
		int n;

		if (c == (gunichar)-1 || c == (gunichar)-2) {
			buf_putc(&s, '?');
			p++;
			continue;
		}
		/* Valid UTF-8 is the shortest form: c takes as many bytes as it re-encodes to. */
		n = g_unichar_to_utf8(c, u);
		if (g_unichar_isspace(c) || !g_unichar_isprint(c)) {
			if (s.len && s.data[s.len - 1] != ' ')
				buf_putc(&s, ' ');
		} else {
			buf_append(&s, u, (size_t)n);
		}
		p += n;
	}
	while (s.len && s.data[s.len - 1] == ' ')
		s.data[--s.len] = '\0';
	out = xstrdup(s.len ? s.data : "unknown error");
	buf_free(&s);
	return out;
}

static int unreachable(okc_err *err, const char *provider, const char *why)
{
	okc_fail(err, OKC_EXIT_FAIL, UNREACHABLE ": %s", why);
	set_hint(err, provider);
	return -1;
}

/* Errors that mean the service or the bus went away, not that the operation was refused. */
static int is_connection_error(const GError *gerr)
{
	return g_error_matches(gerr, G_DBUS_ERROR, G_DBUS_ERROR_SERVICE_UNKNOWN) ||
	       g_error_matches(gerr, G_DBUS_ERROR, G_DBUS_ERROR_NAME_HAS_NO_OWNER) ||
	       g_error_matches(gerr, G_DBUS_ERROR, G_DBUS_ERROR_NO_REPLY) ||
	       g_error_matches(gerr, G_DBUS_ERROR, G_DBUS_ERROR_DISCONNECTED) ||
	       g_error_matches(gerr, G_DBUS_ERROR, G_DBUS_ERROR_TIMEOUT) ||
	       g_error_matches(gerr, G_DBUS_ERROR, G_DBUS_ERROR_TIMED_OUT) ||
	       g_error_matches(gerr, G_DBUS_ERROR, G_DBUS_ERROR_NO_SERVER) ||
	       g_error_matches(gerr, G_IO_ERROR, G_IO_ERROR_CLOSED);
}

/* Fills err from a failed operation (what: "store the access_token in") and frees gerr.
 * Returns -1. The caller adds which provider it was for. */
static int op_failed(okc_err *err, const char *provider, const char *what, GError *gerr)
{
	char *why;

	if (g_error_matches(gerr, prompt_error_quark(), PROMPT_REFUSED)) {
		okc_fail(err, OKC_EXIT_FAIL,
		         "cannot %s the Secret Service: the keyring is locked (or has no "
		         "default collection) and oktacred does not show unlock prompts",
		         what);
		okc_hint(err,
		         "unlock the keyring in this session (seahorse, or log in to the "
		         "desktop), or set token_store = file in [provider %s]",
		         provider);
		g_error_free(gerr);
		return -1;
	}
	why = one_line(gerr);
	if (is_connection_error(gerr)) {
		unreachable(err, provider, why);
	} else {
		okc_fail(err, OKC_EXIT_FAIL, "cannot %s the Secret Service (" SECRET_BUS "): %s",
		         what, why);
		set_hint(err, provider);
	}
	free(why);
	g_error_free(gerr);
	return -1;
}

/* GIO finds the session bus in DBUS_SESSION_BUS_ADDRESS, else $XDG_RUNTIME_DIR/bus, else
 * it runs `dbus-launch --autolaunch`, which starts a stray bus daemon and can hang on an
 * unreachable X display. We go to GIO only when one of the first two is there. */
static int session_bus_known(void)
{
	const char *addr = getenv("DBUS_SESSION_BUS_ADDRESS");
	const char *run = getenv("XDG_RUNTIME_DIR");
	struct stat st;
	char *bus;
	int ok;

	if (addr && *addr)
		return 1;
	if (!run || *run != '/')
		return 0;
	bus = xasprintf("%s/bus", run);
	ok = stat(bus, &st) == 0 && S_ISSOCK(st.st_mode);
	free(bus);
	return ok;
}

static int service_open(const char *provider, okc_err *err)
{
	GDBusConnection *bus;
	GError *gerr = NULL;
	char *why;

	if (service)
		return 0;
	if (dl_open(&libsecret, err) < 0)
		return -1;
	if (!session_bus_known())
		return unreachable(err, provider,
		                   "no D-Bus session bus (no DBUS_SESSION_BUS_ADDRESS, no "
		                   "$XDG_RUNTIME_DIR/bus)");
	bus = g_bus_get_sync(G_BUS_TYPE_SESSION, NULL, &gerr);
	if (!bus)
		goto fail;
	/* GIO's shared session connection raises SIGTERM in our process when the bus closes
	 * it; a vanished keyring is an error to report, not a reason to die. */
	g_dbus_connection_set_exit_on_close(bus, FALSE);
	g_object_unref(bus);
	/* Not the simple secret_password_* API: it goes through libsecret's backend choice,
	 * which SECRET_BACKEND=file (or a Flatpak sandbox) turns into a file on disk. */
	service = secret_service_open_sync(refusing_service_type(), SECRET_BUS,
	                                   SECRET_SERVICE_OPEN_SESSION, NULL, &gerr);
	if (service)
		return 0;
fail:
	why = one_line(gerr);
	unreachable(err, provider, why);
	free(why);
	g_error_free(gerr);
	return -1;
}

static int check_args(const char *provider, const char *kind, int need_kind, okc_err *err)
{
	if (!provider || !*provider || (need_kind && (!kind || !*kind)))
		return okc_fail(err, OKC_EXIT_FAIL, "keyring: no provider or kind given");
	return 0;
}

/* The match for one item (kind set) or every item of the provider (kind NULL). The table
 * borrows the strings. */
static GHashTable *attributes(const char *provider, const char *kind)
{
	GHashTable *a = g_hash_table_new(g_str_hash, g_str_equal);

	g_hash_table_insert(a, (gpointer) "provider", (gpointer)provider);
	if (kind)
		g_hash_table_insert(a, (gpointer) "kind", (gpointer)kind);
	return a;
}

int keyring_check(const char *provider, okc_err *err)
{
	SecretCollection *c;
	GError *gerr = NULL;
	int locked;

	if (check_args(provider, NULL, 0, err) < 0 || service_open(provider, err) < 0)
		return -1;
	c = secret_collection_for_alias_sync(service, SECRET_COLLECTION_DEFAULT,
	                                     SECRET_COLLECTION_NONE, NULL, &gerr);
	if (!c && gerr)
		return op_failed(err, provider, "find the default collection of", gerr);
	locked = c ? secret_collection_get_locked(c) : 1;
	if (c)
		g_object_unref(c);
	if (locked)
		return op_failed(
		    err, provider, "store secrets in",
		    g_error_new_literal(prompt_error_quark(), PROMPT_REFUSED, "prompt refused"));
	return 0;
}

int keyring_store(const char *provider, const char *kind, const char *secret, okc_err *err)
{
	GHashTable *attrs;
	SecretValue *value;
	GError *gerr = NULL;
	char *label, *what;
	gboolean ok;

	if (check_args(provider, kind, 1, err) < 0)
		return -1;
	if (!secret || !*secret)
		return okc_fail(err, OKC_EXIT_FAIL, "keyring: an empty %s cannot be stored", kind);
	if (service_open(provider, err) < 0)
		return -1;
	attrs = attributes(provider, kind);
	/* Copied into libsecret's non-pageable memory, which it wipes when freeing. */
	value = secret_value_new(secret, -1, "text/plain");
	label = xasprintf("oktacred: %s %s", provider, kind);
	ok = secret_service_store_sync(service, &token_schema, attrs, SECRET_COLLECTION_DEFAULT,
	                               label, value, NULL, &gerr);
	secret_value_unref(value);
	g_hash_table_unref(attrs);
	free(label);
	if (ok)
		return 0;
	what = xasprintf("store the %s in", kind);
	op_failed(err, provider, what, gerr);
	free(what);
	return -1;
}

int keyring_lookup(const char *provider, const char *kind, char **out, okc_err *err)
{
	GHashTable *attrs;
	SecretValue *value;
	GError *gerr = NULL;
	gchar *pw;
	gsize len = 0;
	char *what;

	*out = NULL;
	if (check_args(provider, kind, 1, err) < 0 || service_open(provider, err) < 0)
		return -1;
	attrs = attributes(provider, kind);
	value = secret_service_lookup_sync(service, &token_schema, attrs, NULL, &gerr);
	g_hash_table_unref(attrs);
	if (!value && !gerr)
		return OKC_NOENT;
	if (!value) {
		what = xasprintf("read the %s from", kind);
		op_failed(err, provider, what, gerr);
		free(what);
		return -1;
	}
	/* NULL when the item is not text/plain: not something oktacred stored. */
	pw = secret_value_unref_to_password(value, &len);
	if (!pw || len == 0 || memchr(pw, '\0', len)) {
		secret_password_free(pw);
		return okc_fail(err, OKC_EXIT_FAIL, "the Secret Service's %s is not a text secret",
		                kind);
	}
	*out = xstrndup(pw, len);
	secret_password_free(pw); /* wipes libsecret's copy */
	return 0;
}

/* secret_service_clear removes only the unlocked items that match, and says nothing of
 * locked ones: search again so that a locked item is an error, not a silent leftover. */
static int clear(const char *provider, const char *kind, okc_err *err)
{
	GHashTable *attrs;
	GError *gerr = NULL;
	GList *left;
	gboolean removed;
	int rc = -1;
	char *what =
	    kind ? xasprintf("delete the %s from", kind) : xstrdup("delete the secrets from");

	attrs = attributes(provider, kind);
	removed = secret_service_clear_sync(service, &token_schema, attrs, NULL, &gerr);
	if (gerr) {
		op_failed(err, provider, what, gerr);
		goto out;
	}
	left = secret_service_search_sync(service, &token_schema, attrs, SECRET_SEARCH_ALL, NULL,
	                                  &gerr);
	if (gerr) {
		op_failed(err, provider, what, gerr);
		goto out;
	}
	if (left) {
		g_list_free_full(left, g_object_unref);
		op_failed(
		    err, provider, what,
		    g_error_new_literal(prompt_error_quark(), PROMPT_REFUSED, "prompt refused"));
		goto out;
	}
	rc = removed ? 0 : OKC_NOENT;
out:
	g_hash_table_unref(attrs);
	free(what);
	return rc;
}

int keyring_delete(const char *provider, const char *kind, okc_err *err)
{
	if (check_args(provider, kind, 1, err) < 0 || service_open(provider, err) < 0)
		return -1;
	return clear(provider, kind, err);
}

int keyring_delete_all(const char *provider, okc_err *err)
{
	if (check_args(provider, NULL, 0, err) < 0 || service_open(provider, err) < 0)
		return -1;
	return clear(provider, NULL, err);
}
