/* test_paths.c: XDG locations from src/paths.c: XDG_CONFIG_HOME, HOME, OKTACRED_CONFIG,
 * files.base_path, ~ expansion and joining without doubled slashes. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "oktacred/config.h"
#include "oktacred/paths.h"

static void clean_env(void)
{
	setenv("HOME", "/home/u", 1);
	unsetenv("XDG_CONFIG_HOME");
	unsetenv("OKTACRED_CONFIG");
}

TestSuite(paths, .init = clean_env);

/* Calls f and checks that it succeeded with want. */
static void expect_path(int (*f)(char **, okc_err *), const char *want)
{
	okc_err err = {0};
	char *out = NULL;

	cr_assert_eq(f(&out, &err), 0, "failed: %s", err.msg);
	cr_assert_str_eq(out, want);
	free(out);
}

static void expect_fail(int (*f)(char **, okc_err *), const char *needle)
{
	okc_err err = {0};
	char *out = NULL;

	cr_assert_eq(f(&out, &err), -1, "succeeded: %s", out ? out : "(null)");
	cr_assert_eq(err.code, 1);
	cr_assert_not_null(strstr(err.msg, needle), "%s", err.msg);
}

Test(paths, root_from_home)
{
	expect_path(paths_root, "/home/u/.config/oktacred");
	setenv("HOME", "/home/u/", 1);
	expect_path(paths_root, "/home/u/.config/oktacred");
	setenv("HOME", "/home/u//", 1);
	expect_path(paths_root, "/home/u/.config/oktacred");
	setenv("HOME", "/", 1);
	expect_path(paths_root, "/.config/oktacred");
}

Test(paths, root_from_xdg)
{
	setenv("XDG_CONFIG_HOME", "/xdg/conf", 1);
	expect_path(paths_root, "/xdg/conf/oktacred");
	setenv("XDG_CONFIG_HOME", "/xdg/conf/", 1);
	expect_path(paths_root, "/xdg/conf/oktacred");
	setenv("XDG_CONFIG_HOME", "/", 1);
	expect_path(paths_root, "/oktacred");
}

Test(paths, relative_or_empty_xdg_ignored)
{
	setenv("XDG_CONFIG_HOME", "conf", 1);
	expect_path(paths_root, "/home/u/.config/oktacred");
	setenv("XDG_CONFIG_HOME", "./conf", 1);
	expect_path(paths_root, "/home/u/.config/oktacred");
	setenv("XDG_CONFIG_HOME", "", 1);
	expect_path(paths_root, "/home/u/.config/oktacred");
}

Test(paths, home_unset_or_relative)
{
	unsetenv("HOME");
	expect_fail(paths_root, "HOME is not set");
	expect_fail(paths_config_file, "HOME is not set");
	setenv("HOME", "home/u", 1);
	expect_fail(paths_root, "HOME is not an absolute path");
	setenv("HOME", "", 1);
	expect_fail(paths_root, "HOME is not an absolute path");
	/* An absolute XDG_CONFIG_HOME does not need HOME. */
	setenv("XDG_CONFIG_HOME", "/xdg", 1);
	expect_path(paths_root, "/xdg/oktacred");
}

Test(paths, config_file)
{
	expect_path(paths_config_file, "/home/u/.config/oktacred/config");
	setenv("XDG_CONFIG_HOME", "/xdg", 1);
	expect_path(paths_config_file, "/xdg/oktacred/config");
	setenv("OKTACRED_CONFIG", "/etc/oktacred.ini", 1);
	expect_path(paths_config_file, "/etc/oktacred.ini");
	setenv("OKTACRED_CONFIG", "~/my/oktacred.ini", 1);
	expect_path(paths_config_file, "/home/u/my/oktacred.ini");
	setenv("OKTACRED_CONFIG", "relative.ini", 1);
	expect_path(paths_config_file, "relative.ini");
	/* Empty means unset. */
	setenv("OKTACRED_CONFIG", "", 1);
	expect_path(paths_config_file, "/xdg/oktacred/config");
}

Test(paths, provider_dirs)
{
	struct provider_cfg p = {0};
	okc_err err = {0};
	char *out;

	p.name = "okta-oidc";
	cr_assert_eq(paths_provider_root(p.base_path, &out, &err), 0);
	cr_assert_str_eq(out, "/home/u/.config/oktacred");
	free(out);
	cr_assert_eq(paths_provider_dir(p.base_path, p.name, &out, &err), 0);
	cr_assert_str_eq(out, "/home/u/.config/oktacred/okta/okta-oidc");
	free(out);

	setenv("XDG_CONFIG_HOME", "/xdg", 1);
	cr_assert_eq(paths_provider_dir(p.base_path, p.name, &out, &err), 0);
	cr_assert_str_eq(out, "/xdg/oktacred/okta/okta-oidc");
	free(out);

	/* files.base_path overrides the XDG root. */
	p.base_path = "/srv/state";
	cr_assert_eq(paths_provider_root(p.base_path, &out, &err), 0);
	cr_assert_str_eq(out, "/srv/state");
	free(out);
	cr_assert_eq(paths_provider_dir(p.base_path, p.name, &out, &err), 0);
	cr_assert_str_eq(out, "/srv/state/okta/okta-oidc");
	free(out);
	p.base_path = "/srv/state/";
	cr_assert_eq(paths_provider_dir(p.base_path, p.name, &out, &err), 0);
	cr_assert_str_eq(out, "/srv/state/okta/okta-oidc");
	free(out);
	p.base_path = "~/state";
	cr_assert_eq(paths_provider_dir(p.base_path, p.name, &out, &err), 0);
	cr_assert_str_eq(out, "/home/u/state/okta/okta-oidc");
	free(out);
	/* Empty is the XDG default. */
	p.base_path = "";
	cr_assert_eq(paths_provider_dir(p.base_path, p.name, &out, &err), 0);
	cr_assert_str_eq(out, "/xdg/oktacred/okta/okta-oidc");
	free(out);
}

Test(paths, expand_home)
{
	static const struct {
		const char *home, *in, *want;
	} cases[] = {
	    {"/home/u", "~", "/home/u"},
	    {"/home/u", "~/", "/home/u/"},
	    {"/home/u", "~/a/b", "/home/u/a/b"},
	    {"/home/u/", "~/a", "/home/u/a"},
	    {"/home/u/", "~", "/home/u"},
	    {"/", "~/a", "/a"},
	    {"/", "~", "/"},
	    {"/home/u", "~other/a", "~other/a"},
	    {"/home/u", "/abs/~/x", "/abs/~/x"},
	    {"/home/u", "rel/x", "rel/x"},
	    {"/home/u", "", ""},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		okc_err err = {0};
		char *out = NULL;

		setenv("HOME", cases[i].home, 1);
		cr_assert_eq(paths_expand_home(cases[i].in, &out, &err), 0, "%s", cases[i].in);
		cr_assert_str_eq(out, cases[i].want, "HOME=%s %s", cases[i].home, cases[i].in);
		free(out);
	}
}

Test(paths, expand_home_needs_home_only_for_tilde)
{
	okc_err err = {0};
	char *out = NULL;

	unsetenv("HOME");
	cr_assert_eq(paths_expand_home("~/x", &out, &err), -1);
	cr_assert_eq(err.code, 1);
	cr_assert_eq(paths_expand_home("/x", &out, &err), 0);
	cr_assert_str_eq(out, "/x");
	free(out);
}

Test(paths, join)
{
	static const struct {
		const char *dir, *name, *want;
	} cases[] = {
	    {"a", "b", "a/b"}, {"a/", "b", "a/b"},      {"a//", "b", "a/b"},
	    {"/", "b", "/b"},  {"/x/y", "z", "/x/y/z"}, {"/x/y/", "z/w", "/x/y/z/w"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *out = paths_join(cases[i].dir, cases[i].name);

		cr_assert_str_eq(out, cases[i].want, "%s + %s", cases[i].dir, cases[i].name);
		free(out);
	}
}
