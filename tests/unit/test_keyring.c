/* test_keyring.c: src/keyring.c and the token_store = keyring side of src/cache.c when no
 * Secret Service can be reached (the real one is in tests/integration/test_keyring.py). */
#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "oktacred/cache.h"
#include "oktacred/config.h"
#include "oktacred/provider.h"
#include "oktacred/keyring.h"
#include "oktacred/paths.h"
#include "oktacred/store.h"
#include "oktacred/util.h"

#include "helpers.h"

static char home[] = "/tmp/okc-keyring-XXXXXX";
static char *pdir; /* $XDG_CONFIG_HOME/oktacred/okta/okta-oidc */

/* Every test runs without a session bus, whatever the developer's session has: nothing
 * here may touch a real keyring. */
static void setup(void)
{
	cr_assert_not_null(mkdtemp(home));
	cr_assert_eq(setenv("XDG_CONFIG_HOME", home, 1), 0);
	cr_assert_eq(unsetenv("DBUS_SESSION_BUS_ADDRESS"), 0);
	cr_assert_eq(unsetenv("XDG_RUNTIME_DIR"), 0);
	cr_assert_eq(unsetenv("DISPLAY"), 0);
	pdir = xasprintf("%s/oktacred/okta/okta-oidc", home);
}

static void teardown(void)
{
	test_rmtree(home);
	free(pdir);
}

TestSuite(keyring, .init = setup, .fini = teardown);

static double seconds_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

static void assert_unreachable(const okc_err *err, const char *why)
{
	cr_assert_eq(err->code, OKC_EXIT_FAIL);
	cr_assert(strstr(err->msg, "cannot reach the Secret Service (org.freedesktop.secrets): "),
	          "%s", err->msg);
	cr_assert(strstr(err->msg, why), "%s", err->msg);
	cr_assert(!strchr(err->msg, '\n'), "one line: %s", err->msg);
	cr_assert(strstr(err->hint, "token_store = file in [provider okta-oidc]"), "%s", err->hint);
}

Test(keyring, no_bus_fails_every_call)
{
	char *out = (char *)"untouched";
	okc_err err;

	cr_assert_eq(keyring_store("okta-oidc", "access_token", "secret-1", &err), -1);
	assert_unreachable(&err, "no D-Bus session bus");
	cr_assert(!strstr(err.msg, "secret-1"));
	cr_assert_eq(keyring_lookup("okta-oidc", "access_token", &out, &err), -1);
	cr_assert_null(out);
	assert_unreachable(&err, "no D-Bus session bus");
	cr_assert_eq(keyring_delete("okta-oidc", "id_token", &err), -1);
	assert_unreachable(&err, "no D-Bus session bus");
	cr_assert_eq(keyring_delete_all("okta-oidc", &err), -1);
	assert_unreachable(&err, "no D-Bus session bus");
	cr_assert_eq(keyring_check("okta-oidc", &err), -1);
	assert_unreachable(&err, "no D-Bus session bus");
}

/* With DISPLAY set, GIO would run `dbus-launch --autolaunch`: it must not get the chance. */
Test(keyring, no_autolaunch_with_a_display)
{
	struct timespec t0;
	okc_err err;

	cr_assert_eq(setenv("DISPLAY", ":99", 1), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	cr_assert_eq(keyring_check("okta-oidc", &err), -1);
	assert_unreachable(&err, "no D-Bus session bus");
	cr_assert_lt(seconds_since(&t0), 2.0);
}

Test(keyring, runtime_dir_without_a_bus_socket)
{
	okc_err err;

	cr_assert_eq(setenv("XDG_RUNTIME_DIR", home, 1), 0);
	cr_assert_eq(keyring_check("okta-oidc", &err), -1);
	assert_unreachable(&err, "no D-Bus session bus");
}

Test(keyring, unreachable_bus_address)
{
	okc_err err;

	cr_assert_eq(setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/okc-bus", 1), 0);
	cr_assert_eq(keyring_store("okta-oidc", "access_token", "secret-1", &err), -1);
	assert_unreachable(&err, "Could not connect");
}

Test(keyring, bad_arguments)
{
	char *out = NULL;
	okc_err err;

	cr_assert_eq(keyring_store("okta-oidc", "", "x", &err), -1);
	cr_assert_eq(keyring_store("", "access_token", "x", &err), -1);
	cr_assert_eq(keyring_store("okta-oidc", "access_token", "", &err), -1);
	cr_assert_eq(keyring_lookup("okta-oidc", NULL, &out, &err), -1);
	cr_assert_eq(keyring_delete("okta-oidc", NULL, &err), -1);
	cr_assert_eq(keyring_delete_all(NULL, &err), -1);
}

static struct provider_cfg provider(enum token_store store)
{
	struct provider_cfg p;

	memset(&p, 0, sizeof(p));
	p.name = "okta-oidc";
	p.kind = &provider_device_code.config;
	p.org_url = "https://company.okta.com";
	p.client_id = "0oa1234567890abcdefg";
	p.authorization_server = "default";
	p.scopes = "openid profile email offline_access";
	p.token_store = store;
	p.refresh_before = 300;
	return p;
}

static struct tokens *some_tokens(void)
{
	struct tokens *t = xcalloc(1, sizeof(*t));

	t->access_token = xstrdup("access-1");
	t->token_type = xstrdup("Bearer");
	t->refresh_token = xstrdup("refresh-1");
	t->id_token = xstrdup("h.p.s");
	t->scope = xstrdup("openid offline_access");
	t->expires_in = 3600;
	t->obtained_at = 1768478400;
	t->expires_at = 1768478400 + 3600;
	return t;
}

/* tokens.json as keyring mode writes it: metadata only. */
static void write_metadata(const struct provider_cfg *p)
{
	struct tokens *t = some_tokens();
	struct buf json = BUF_INIT;
	char *root = xasprintf("%s/oktacred", home);
	okc_err err;

	tokens_set_provider(t, p);
	cr_assert_eq(tokens_to_json(t, 0, &json), 0);
	cr_assert_eq(store_ensure_dir(root, pdir, &err), 0, "%s", err.msg);
	cr_assert_eq(store_write_atomic(pdir, "tokens.json", json.data, json.len, &err), 0);
	buf_free(&json);
	tokens_free(t);
	free(root);
}

static int tokens_file_exists(void)
{
	char *path = paths_join(pdir, "tokens.json");
	int ok = access(path, F_OK) == 0;

	free(path);
	return ok;
}

Test(keyring, cache_save_writes_nothing_without_the_keyring)
{
	struct provider_cfg p = provider(TOKEN_STORE_KEYRING);
	struct tokens *t = some_tokens();
	okc_err err;

	cr_assert_eq(cache_save(&p, t, &err), -1);
	cr_assert_eq(err.code, OKC_EXIT_FAIL);
	cr_assert(str_starts(err.msg, "okta-oidc (token_store = keyring): cannot reach the "
	                              "Secret Service"),
	          "%s", err.msg);
	cr_assert(!tokens_file_exists(), "never a fallback to the file");
	tokens_free(t);
}

Test(keyring, cache_load_without_a_session_still_checks_the_keyring)
{
	struct provider_cfg p = provider(TOKEN_STORE_KEYRING);
	struct tokens *t = NULL;
	okc_err err;

	/* So that `login` fails before the device flow, not after the user approved it. */
	cr_assert_eq(cache_load(&p, &t, &err), -1);
	cr_assert_null(t);
	cr_assert(strstr(err.msg, "Secret Service"), "%s", err.msg);
	p.token_store = TOKEN_STORE_FILE;
	cr_assert_eq(cache_load(&p, &t, &err), OKC_NOENT);
}

Test(keyring, cache_load_needs_the_keyring_for_the_secrets)
{
	struct provider_cfg p = provider(TOKEN_STORE_KEYRING);
	struct tokens *t = NULL;
	okc_err err;

	write_metadata(&p);
	cr_assert_eq(cache_load(&p, &t, &err), -1);
	cr_assert_null(t);
	cr_assert(strstr(err.msg, "cannot reach the Secret Service"), "%s", err.msg);
	cr_assert(strstr(err.hint, "token_store = file"), "%s", err.hint);
}

Test(keyring, file_mode_ignores_a_file_without_secrets)
{
	struct provider_cfg p = provider(TOKEN_STORE_FILE);
	struct tokens *t = NULL;
	okc_err err;

	write_metadata(&p); /* left by token_store = keyring */
	cr_assert_eq(cache_load(&p, &t, &err), OKC_NOENT);
	cr_assert_null(t);
}

Test(keyring, cache_delete_removes_the_file_and_reports_the_keyring)
{
	struct provider_cfg p = provider(TOKEN_STORE_KEYRING);
	okc_err err;

	write_metadata(&p);
	cr_assert_eq(cache_delete(&p, &err), -1);
	cr_assert(strstr(err.msg, "cannot reach the Secret Service"), "%s", err.msg);
	cr_assert(!tokens_file_exists());
	cr_assert_eq(cache_delete(&p, &err), -1, "the keyring is still unreachable");
}
