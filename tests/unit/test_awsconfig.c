/* test_awsconfig.c: src/aws/awsconfig.c: the profiles' text, the quoting of
 * credential_process words, and the merge into an AWS config file that changes only
 * oktacred's profiles. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "oktacred/awsconfig.h"
#include "oktacred/util.h"

#include "helpers.h"

#define MARK AWSCONFIG_MARKER "\n"
#define DEV_BLOCK                                                                                  \
	"[profile dev]\n" MARK "credential_process = /usr/bin/oktacred credential-process dev\n"   \
	"region = us-east-1\n"

static struct awsconfig one(void)
{
	struct awsconfig ac;

	memset(&ac, 0, sizeof(ac));
	ac.exe = xstrdup("/usr/bin/oktacred");
	awsconfig_add(&ac, "dev", "dev", NULL, "us-east-1");
	return ac;
}

static char *merge(const char *text, const struct awsconfig *ac, int force, okc_err *err)
{
	struct buf out = BUF_INIT;

	if (awsconfig_merge(text, strlen(text), ac, force, "config", &out, err) < 0) {
		buf_free(&out);
		return NULL;
	}
	return buf_detach(&out);
}

static char *quoted(const char *word)
{
	struct buf b = BUF_INIT;

	awsconfig_quote(&b, word);
	return buf_detach(&b);
}

Test(awsconfig, quote)
{
	char *s;

	cr_assert_str_eq((s = quoted("/usr/bin/oktacred")), "/usr/bin/oktacred");
	free(s);
	cr_assert_str_eq((s = quoted("arn:aws:iam::1:role/a+b=c,d.e@f_g-h")),
	                 "arn:aws:iam::1:role/a+b=c,d.e@f_g-h");
	free(s);
	cr_assert_str_eq((s = quoted("/opt/my tools/oktacred")), "'/opt/my tools/oktacred'");
	free(s);
	cr_assert_str_eq((s = quoted("/opt/it's/$HOME")), "'/opt/it'\\''s/$HOME'");
	free(s);
	cr_assert_str_eq((s = quoted("")), "''");
	free(s);
}

Test(awsconfig, render_with_role_and_config)
{
	struct awsconfig ac = one();
	struct buf b = BUF_INIT;

	ac.config = xstrdup("/home/a b/oktacred.ini");
	awsconfig_add(&ac, "m-Admin", "m", "Admin", NULL);
	awsconfig_render(&ac, &b);
	cr_assert_str_eq(b.data,
	                 "[profile dev]\n" MARK "credential_process = /usr/bin/oktacred --config "
	                 "'/home/a b/oktacred.ini' credential-process dev\nregion = us-east-1\n\n"
	                 "[profile m-Admin]\n" MARK "credential_process = /usr/bin/oktacred "
	                 "--config '/home/a b/oktacred.ini' credential-process m --role Admin\n");
	buf_free(&b);
	awsconfig_free(&ac);
}

Test(awsconfig, merge_into_nothing_and_again)
{
	struct awsconfig ac = one();
	okc_err err;
	char *a = merge("", &ac, 0, &err), *b;

	cr_assert_str_eq(a, DEV_BLOCK);
	b = merge(a, &ac, 0, &err);
	cr_assert_str_eq(b, a, "a second merge changes nothing");
	free(a);
	free(b);
	awsconfig_free(&ac);
}

Test(awsconfig, foreign_bytes_are_kept)
{
	static const char before[] = "# my settings\r\n[default]\nregion = eu-west-1\n\n"
	                             "[profile work]\nsso_session = corp\n; note\n"
	                             "[sso-session corp]\nsso_start_url = https://x\n"
	                             "[services s]\ns3 =\n  region = x\n"
	                             "[profile dev-old]\ncredential_process = other"; /* no \n */
	struct awsconfig ac = one();
	okc_err err;
	char *a = merge(before, &ac, 0, &err), *b;

	cr_assert_not_null(a, "%s", err.msg);
	cr_assert_eq(strncmp(a, before, strlen(before)), 0, "%s", a);
	cr_assert_str_eq(a + strlen(before), "\n\n" DEV_BLOCK);
	b = merge(a, &ac, 0, &err);
	cr_assert_str_eq(b, a);
	free(a);
	free(b);
	awsconfig_free(&ac);
}

Test(awsconfig, managed_profile_keeps_the_users_settings)
{
	static const char before[] = "[profile a]\nx = 1\n\n"
	                             "[profile dev]\n" AWSCONFIG_MARKER "\n"
	                             "output = json\n"
	                             "Credential_Process = old\n"
	                             "  continued = 1\n"
	                             "region: eu-west-1\n"
	                             "cli_pager =\n"
	                             "# a comment of the user's\n\n"
	                             "[profile b]\ny = 2\n";
	struct awsconfig ac = one();
	okc_err err;
	char *a = merge(before, &ac, 0, &err);

	cr_assert_not_null(a, "%s", err.msg);
	cr_assert_str_eq(a, "[profile a]\nx = 1\n\n" DEV_BLOCK "output = json\ncli_pager =\n"
	                    "# a comment of the user's\n\n[profile b]\ny = 2\n");
	free(a);
	awsconfig_free(&ac);
}

Test(awsconfig, a_profile_of_the_users_is_refused_unless_forced)
{
	static const char before[] = "[default]\n\n[profile  \"dev\"]\ncredential_process = mine\n"
	                             "output = text\n";
	struct awsconfig ac = one();
	okc_err err;
	char *a = merge(before, &ac, 0, &err);

	cr_assert_null(a);
	cr_assert_eq(err.code, OKC_EXIT_FAIL);
	cr_assert(strstr(err.msg, "config:3: profile dev is not managed by oktacred"), "%s",
	          err.msg);
	cr_assert(strstr(err.hint, "--force"), "%s", err.hint);
	a = merge(before, &ac, 1, &err);
	cr_assert_str_eq(a, "[default]\n\n" DEV_BLOCK "output = text\n");
	free(a);
	awsconfig_free(&ac);
}

Test(awsconfig, an_indented_header_in_a_value_is_the_value)
{
	static const char before[] = "[profile a]\nnote =\n  [profile dev]\n";
	struct awsconfig ac = one();
	okc_err err;
	char *a = merge(before, &ac, 0, &err);

	cr_assert_not_null(a, "%s", err.msg);
	cr_assert_str_eq(a, "[profile a]\nnote =\n  [profile dev]\n\n" DEV_BLOCK);
	free(a);
	awsconfig_free(&ac);
}

Test(awsconfig, default_is_the_default_section)
{
	struct awsconfig ac;
	okc_err err;
	char *a;

	memset(&ac, 0, sizeof(ac));
	ac.exe = xstrdup("/o");
	awsconfig_add(&ac, "default", "default", NULL, NULL);
	cr_assert_null(merge("[default]\nregion = x\n", &ac, 0, &err));
	a = merge("", &ac, 0, &err);
	cr_assert_str_eq(a,
	                 "[default]\n" MARK "credential_process = /o credential-process default\n");
	free(a);
	awsconfig_free(&ac);
}

Test(awsconfig, a_profile_defined_twice_is_refused)
{
	static const char before[] =
	    "[profile dev]\n" AWSCONFIG_MARKER "\n\n[profile dev]\nx = 1\n";
	struct awsconfig ac = one();
	okc_err err;

	cr_assert_null(merge(before, &ac, 1, &err));
	cr_assert(strstr(err.msg, "config:4: profile dev is defined a second time"), "%s", err.msg);
	awsconfig_free(&ac);
}

/* ---- the file ---- */

static char dir[64];

static void make_dir(void)
{
	snprintf(dir, sizeof(dir), "/tmp/okc-awsconfig-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
}

static void remove_dir(void)
{
	test_rmtree(dir);
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *s = xcalloc(1, 65536);

	cr_assert_not_null(f, "%s", path);
	cr_assert(fread(s, 1, 65535, f) < 65535);
	fclose(f);
	return s;
}

Test(awsconfig_file, new_file_and_directory, .init = make_dir, .fini = remove_dir)
{
	struct awsconfig ac = one();
	char *path = xasprintf("%s/.aws/config", dir), *bak = NULL, *s;
	struct stat st;
	int changed;
	okc_err err;

	cr_assert_eq(awsconfig_write(path, &ac, 0, &changed, &bak, &err), 0, "%s", err.msg);
	cr_assert(changed);
	cr_assert_null(bak, "nothing to back up");
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_mode & 07777, 0600);
	s = xasprintf("%s/.aws", dir);
	cr_assert_eq(stat(s, &st), 0);
	cr_assert_eq(st.st_mode & 07777, 0700);
	free(s);
	cr_assert_str_eq((s = slurp(path)), DEV_BLOCK);
	free(s);
	cr_assert_eq(awsconfig_write(path, &ac, 0, &changed, &bak, &err), 0);
	cr_assert_not(changed, "the same profiles again: not written");
	free(path);
	awsconfig_free(&ac);
}

Test(awsconfig_file, backup_mode_and_link, .init = make_dir, .fini = remove_dir)
{
	static const char before[] = "[profile work]\nregion = x\n";
	struct awsconfig ac = one();
	char *real = xasprintf("%s/dotfiles-config", dir), *link = xasprintf("%s/config", dir);
	char *bak = NULL, *s;
	struct stat st;
	int changed;
	okc_err err;

	test_write_file(real, before, strlen(before), 0644);
	cr_assert_eq(symlink(real, link), 0);
	cr_assert_eq(awsconfig_write(link, &ac, 0, &changed, &bak, &err), 0, "%s", err.msg);
	cr_assert(changed);
	cr_assert_eq(lstat(link, &st), 0);
	cr_assert(S_ISLNK(st.st_mode), "the link is kept");
	cr_assert_eq(stat(real, &st), 0);
	cr_assert_eq(st.st_mode & 07777, 0644, "the file's mode is kept");
	cr_assert_str_eq((s = slurp(real)), "[profile work]\nregion = x\n\n" DEV_BLOCK);
	free(s);
	s = xasprintf("%s.oktacred-bak", real);
	cr_assert_str_eq(bak, s);
	free(s);
	cr_assert_str_eq((s = slurp(bak)), before);
	free(s);
	cr_assert_eq(stat(bak, &st), 0);
	cr_assert_eq(st.st_mode & 07777, 0600);
	free(bak);
	free(real);
	free(link);
	awsconfig_free(&ac);
}

Test(awsconfig_exe, an_absolute_path_of_this_program)
{
	char *exe = NULL;
	okc_err err;
	struct stat a, b;

	cr_assert_eq(awsconfig_exe("no-such-name-in-path", &exe, &err), 0, "%s", err.msg);
	cr_assert_eq(exe[0], '/');
	cr_assert_eq(stat(exe, &a), 0);
	cr_assert_eq(stat("/proc/self/exe", &b), 0);
	cr_assert(a.st_ino == b.st_ino && a.st_dev == b.st_dev);
	free(exe);
}
