/* keyring.c: secrets in the Secret Service (org.freedesktop.secrets) over D-Bus, through
 * libsecret: the only file that includes it. Never falls back to disk, never prompts. */
#include "oktacred/keyring.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <libsecret/secret.h>

#include "oktacred/util.h"

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
	GString *s = g_string_new(NULL);
	const char *p, *end;
	char *out;

	g_dbus_error_strip_remote_error(gerr);
	p = gerr->message ? gerr->message : "unknown error";
	end = p + strlen(p);
	while (p < end && s->len < REASON_MAX) {
		gunichar c = g_utf8_get_char_validated(p, end - p);

		if (c == (gunichar)-1 || c == (gunichar)-2) {
			g_string_append_c(s, '?');
			p++;
			continue;
		}
		if (g_unichar_isspace(c) || !g_unichar_isprint(c)) {
			if (s->len && s->str[s->len - 1] != ' ')
				g_string_append_c(s, ' ');
		} else {
			g_string_append_unichar(s, c);
		}
		p = g_utf8_next_char(p);
	}
	while (s->len && s->str[s->len - 1] == ' ')
		g_string_truncate(s, s->len - 1);
	out = xstrdup(s->len ? s->str : "unknown error");
	g_string_free(s, TRUE);
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
