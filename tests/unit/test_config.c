/* test_config.c: the configuration loader (src/config.c): the DESIGN.md example, defaults,
 * every error class with its exact line, ${VAR}, comments, long lines, resolution and the
 * file checks (missing, permissions, owner, symlinks). */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "oktacred/config.h"
#include "oktacred/identity.h"
#include "oktacred/provider.h"
#include "oktacred/util.h"

static char tmpdir[64];

static void rm_tree(const char *path)
{
	struct stat st;
	DIR *d;
	struct dirent *e;

	if (lstat(path, &st) < 0)
		return;
	if (S_ISDIR(st.st_mode) && (d = opendir(path))) {
		while ((e = readdir(d))) {
			char *sub;

			if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
				continue;
			sub = xasprintf("%s/%s", path, e->d_name);
			rm_tree(sub);
			free(sub);
		}
		closedir(d);
		rmdir(path);
	} else {
		unlink(path);
	}
}

static void setup(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/okc-config-XXXXXX");
	cr_assert_not_null(mkdtemp(tmpdir));
	setenv("HOME", tmpdir, 1);
	unsetenv("XDG_CONFIG_HOME");
	unsetenv("OKTACRED_CONFIG");
	unsetenv("OKC_TEST_UNSET_VARIABLE");
}

static void teardown(void)
{
	rm_tree(tmpdir);
}

TestSuite(config, .init = setup, .fini = teardown);

/* Writes tmpdir/NAME with the given bytes and mode; returns the path (caller frees). */
static char *write_file_n(const char *name, const char *text, size_t len, mode_t mode)
{
	char *path = xasprintf("%s/%s", tmpdir, name);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	cr_assert(fd >= 0, "open %s", path);
	cr_assert_eq(write(fd, text, len), (ssize_t)len);
	cr_assert_eq(fchmod(fd, mode), 0);
	close(fd);
	return path;
}

static char *write_file(const char *name, const char *text, mode_t mode)
{
	return write_file_n(name, text, strlen(text), mode);
}

static struct config *load_ok(const char *text)
{
	okc_err err = {0};
	struct config *cfg = NULL;
	char *path = write_file("config", text, 0600);

	cr_assert_eq(config_load(path, &cfg, &err), 0, "config_load failed: %s (hint: %s)", err.msg,
	             err.hint);
	cr_assert_not_null(cfg);
	cr_assert_str_eq(cfg->path, path);
	free(path);
	return cfg;
}

/* Loads text and checks the error: exit 2, "PATH:LINE: " then a message containing needle. */
static void expect_error_at(const char *name, const char *text, size_t len, int line,
                            const char *needle)
{
	okc_err err = {0};
	struct config *cfg = (struct config *)1;
	char *path = write_file_n("config", text, len, 0600);
	char *prefix = xasprintf("%s:%d: ", path, line);
	int rc = config_load(path, &cfg, &err);

	cr_assert_eq(rc, -1, "%s: loaded without error", name);
	cr_assert_null(cfg, "%s: *out not NULL on error", name);
	cr_assert_eq(err.code, 2, "%s: exit code %d (%s)", name, err.code, err.msg);
	cr_assert(strncmp(err.msg, prefix, strlen(prefix)) == 0, "%s: want line %d, got: %s", name,
	          line, err.msg);
	cr_assert_not_null(strstr(err.msg, needle), "%s: \"%s\" not in: %s", name, needle, err.msg);
	free(prefix);
	free(path);
}

static void expect_error(const char *name, const char *text, int line, const char *needle)
{
	expect_error_at(name, text, strlen(text), line, needle);
}

/* The example of DESIGN.md section 3, verbatim. */
static const char design_example[] =
    "[defaults]\n"
    "identity = aws-dev\n"
    "\n"
    "[provider okta-oidc]\n"
    "kind = okta/device-code\n"
    "org_url = https://company.okta.com\n"
    "client_id = 0oa1234567890abcdefg\n"
    "authorization_server = default   ; an id, \"default\", or \"org\" for the org server\n"
    "scopes = openid profile email groups offline_access\n"
    "token_store = file               ; file | keyring\n"
    "refresh_before = 5m              ; refresh when less than this is left\n"
    "files.base_path =                ; empty: the XDG default below\n"
    "\n"
    "[provider robot]\n"
    "kind = okta/service-account\n"
    "org_url = https://company.okta.com\n"
    "client_id = 0oaSERVICE\n"
    "private_key = ~/.config/oktacred/robot.pem   ; a path, or the PEM itself when the value\n"
    "                                             ; starts with -----BEGIN: "
    "${OKTA_PRIVATE_KEY}\n"
    "private_key_id = kid-1\n"
    "scopes = okta.users.read okta.groups.read\n"
    "authorization_server = org\n"
    "\n"
    "[identity okta-admin]\n"
    "kind = okta/api-access\n"
    "provider = okta-oidc\n"
    "\n"
    "[identity aws-dev]\n"
    "kind = aws/assume-role\n"
    "provider = okta-oidc\n"
    "role_arn = arn:aws:iam::123456789012:role/OktaFederated\n"
    "; or choose by Okta group (case-insensitive), --role picks among several:\n"
    "; role_map = AWS-Admins=arn:aws:iam::111111111111:role/Admin, "
    "AWS-Dev=arn:aws:iam::111111111111:role/Dev\n"
    "region = us-east-1\n"
    "duration = 1h                    ; 15m .. 12h, default 1h\n"
    "session_name = {email}           ; the default; {sub} when the ID token has no email;\n"
    "                                 ; sanitised to [A-Za-z0-9+=,.@_-]{2,64}\n"
    "sts_endpoint =                   ; empty: https://sts.REGION.amazonaws.com\n";

Test(config, design_example_every_field)
{
	struct config *cfg = load_ok(design_example);
	const struct provider_cfg *p, *r;
	const struct identity_cfg *a, *w;
	char *key = xasprintf("%s/.config/oktacred/robot.pem", tmpdir);

	cr_assert_str_eq(cfg->default_identity, "aws-dev");
	cr_assert_eq(cfg->nproviders, 2);
	cr_assert_eq(cfg->nidentities, 2);

	p = &cfg->providers[0];
	cr_assert_str_eq(p->name, "okta-oidc");
	cr_assert_eq((const void *)p->kind, (const void *)&provider_device_code.config);
	cr_assert_str_eq(p->org_url, "https://company.okta.com");
	cr_assert_str_eq(p->client_id, "0oa1234567890abcdefg");
	cr_assert_str_eq(p->authorization_server, "default");
	cr_assert_str_eq(p->scopes, "openid profile email groups offline_access");
	cr_assert_eq(p->token_store, TOKEN_STORE_FILE);
	cr_assert_eq(p->refresh_before, 300);
	cr_assert_null(p->base_path);
	cr_assert_null(p->ca_bundle);
	cr_assert_null(config_provider_string(p, "private_key"));
	cr_assert_null(config_provider_string(p, "private_key_id"));
	cr_assert_null(config_provider_string(p, "client_secret"));
	cr_assert_null(config_provider_string(p, "token_env"));
	cr_assert_eq(p->file, cfg->path, "file points into cfg->path");
	cr_assert_eq(p->line, 4);

	r = &cfg->providers[1];
	cr_assert_str_eq(r->name, "robot");
	cr_assert_eq((const void *)r->kind, (const void *)&provider_service_account.config);
	cr_assert_str_eq(r->org_url, "https://company.okta.com");
	cr_assert_str_eq(r->client_id, "0oaSERVICE");
	cr_assert_str_eq(config_provider_string(r, "private_key"), key);
	cr_assert_str_eq(config_provider_string(r, "private_key_id"), "kid-1");
	cr_assert_str_eq(r->scopes, "okta.users.read okta.groups.read");
	cr_assert_str_eq(r->authorization_server, "org");
	cr_assert_null(config_provider_string(r, "client_secret"));
	cr_assert_eq(r->refresh_before, 300);
	cr_assert_eq(r->line, 14);

	a = &cfg->identities[0];
	cr_assert_str_eq(a->name, "okta-admin");
	cr_assert_eq((const void *)a->kind, (const void *)&identity_api_access.config);
	cr_assert_str_eq(a->provider_name, "okta-oidc");
	cr_assert_eq(a->provider, p);
	cr_assert_eq(a->line, 24);
	cr_assert_eq(a->file, cfg->path);

	w = &cfg->identities[1];
	cr_assert_str_eq(w->name, "aws-dev");
	cr_assert_eq((const void *)w->kind, (const void *)&identity_aws_assume_role.config);
	cr_assert_eq(w->provider, p);
	cr_assert_str_eq(aws_role_cfg(w)->role_arn, "arn:aws:iam::123456789012:role/OktaFederated");
	cr_assert_null(aws_role_cfg(w)->role_map);
	cr_assert_eq(aws_role_cfg(w)->nroles, 0);
	cr_assert_str_eq(aws_role_cfg(w)->region, "us-east-1");
	cr_assert_eq(aws_role_cfg(w)->duration, 3600);
	cr_assert_str_eq(aws_role_cfg(w)->session_name, "{email}");
	cr_assert_null(aws_role_cfg(w)->sts_endpoint);
	cr_assert_eq(w->interactive, 0);
	cr_assert_eq(w->line, 28);

	cr_assert_str_eq(r->kind->name, "okta/service-account");
	cr_assert_str_eq(w->kind->name, "aws/assume-role");
	free(key);
	config_free(cfg);
}

Test(config, defaults_applied)
{
	struct config *cfg = load_ok("[provider p]\n"
	                             "kind = okta/device-code\n"
	                             "org_url = https://x.okta.com/\n"
	                             "client_id = abc\n"
	                             "[provider s]\n"
	                             "kind = okta/service-account\n"
	                             "org_url = https://x.okta.com\n"
	                             "client_id = svc\n"
	                             "scopes = okta.users.read\n"
	                             "private_key = /etc/k.pem\n"
	                             "[identity a]\n"
	                             "kind = aws/assume-role\n"
	                             "provider = p\n"
	                             "role_arn = arn:aws:iam::123456789012:role/R\n"
	                             "[identity o]\n"
	                             "kind = okta/api-access\n"
	                             "provider = s\n");
	const struct provider_cfg *p = config_find_provider(cfg, "p");
	const struct provider_cfg *s = config_find_provider(cfg, "s");
	const struct identity_cfg *a = config_find_identity(cfg, "a");
	const struct identity_cfg *o = config_find_identity(cfg, "o");

	cr_assert_null(cfg->default_identity);
	cr_assert_str_eq(p->org_url, "https://x.okta.com");
	cr_assert_str_eq(p->authorization_server, "default");
	cr_assert_str_eq(p->scopes, "openid profile email offline_access");
	cr_assert_eq(p->token_store, TOKEN_STORE_FILE);
	cr_assert_eq(p->refresh_before, 300);
	cr_assert_null(p->base_path);
	cr_assert_null(p->ca_bundle);
	cr_assert_str_eq(s->authorization_server, "org");
	cr_assert_str_eq(config_provider_string(s, "private_key"), "/etc/k.pem");
	cr_assert_null(config_provider_string(s, "private_key_id"));
	cr_assert_eq(aws_role_cfg(a)->duration, 3600);
	cr_assert_str_eq(aws_role_cfg(a)->session_name, "{email}");
	cr_assert_eq(a->interactive, 0);
	cr_assert_null(aws_role_cfg(a)->region);
	cr_assert_null(aws_role_cfg(a)->sts_endpoint);
	cr_assert_eq(a->provider, p);
	cr_assert_eq(o->provider, s);
	cr_assert_null(config_find_provider(cfg, "nope"));
	cr_assert_null(config_find_identity(cfg, "p"));
	config_free(cfg);
}

Test(config, every_key_set)
{
	struct config *cfg;
	const struct provider_cfg *p, *t;
	const struct identity_cfg *a;
	char *base = xasprintf("%s/state", tmpdir);

	cfg = load_ok("[provider p]\n"
	              "kind = okta/device-code\n"
	              "org_url = https://x.okta.com\n"
	              "client_id = abc\n"
	              "authorization_server = aus1a2b3c4\n"
	              "scopes =  openid \t profile   offline_access \n"
	              "token_store = keyring\n"
	              "refresh_before = 2m30s\n"
	              "files.base_path = ~/state\n"
	              "ca_bundle = /etc/ssl/private-ca.pem\n"
	              "[provider t]\n"
	              "kind = okta/api-token\n"
	              "org_url = https://x.okta.com\n"
	              "token_env = OKTA_API_TOKEN\n"
	              "[identity a]\n"
	              "kind = aws/assume-role\n"
	              "provider = p\n"
	              "role_map = AWS-Admins=arn:aws:iam::111111111111:role/Admin , "
	              "AWS-Dev = arn:aws:iam::111111111111:role/path/Dev\n"
	              "region = eu-west-3\n"
	              "duration = 12h\n"
	              "session_name = okc-{sub}\n"
	              "sts_endpoint = http://127.0.0.1:4566/sts\n"
	              "interactive = yes\n"
	              "[identity o]\n"
	              "kind = okta/api-access\n"
	              "provider = t\n"
	              "interactive = off\n");
	p = &cfg->providers[0];
	t = &cfg->providers[1];
	a = &cfg->identities[0];
	cr_assert_str_eq(p->authorization_server, "aus1a2b3c4");
	cr_assert_str_eq(p->scopes, "openid profile offline_access");
	cr_assert_eq(p->token_store, TOKEN_STORE_KEYRING);
	cr_assert_eq(p->refresh_before, 150);
	cr_assert_str_eq(p->base_path, base);
	cr_assert_str_eq(p->ca_bundle, "/etc/ssl/private-ca.pem");
	cr_assert_eq((const void *)t->kind, (const void *)&provider_api_token.config);
	cr_assert_str_eq(config_provider_string(t, "token_env"), "OKTA_API_TOKEN");
	cr_assert_null(t->client_id);
	cr_assert_null(t->scopes);
	cr_assert_null(aws_role_cfg(a)->role_arn);
	cr_assert_str_eq(aws_role_cfg(a)->role_map,
	                 "AWS-Admins=arn:aws:iam::111111111111:role/Admin , "
	                 "AWS-Dev = arn:aws:iam::111111111111:role/path/Dev");
	cr_assert_eq(aws_role_cfg(a)->nroles, 2);
	cr_assert_str_eq(aws_role_cfg(a)->roles[0].group, "AWS-Admins");
	cr_assert_str_eq(aws_role_cfg(a)->roles[0].role_arn,
	                 "arn:aws:iam::111111111111:role/Admin");
	cr_assert_str_eq(aws_role_cfg(a)->roles[1].group, "AWS-Dev");
	cr_assert_str_eq(aws_role_cfg(a)->roles[1].role_arn,
	                 "arn:aws:iam::111111111111:role/path/Dev");
	cr_assert_str_eq(aws_role_cfg(a)->region, "eu-west-3");
	cr_assert_eq(aws_role_cfg(a)->duration, 43200);
	cr_assert_str_eq(aws_role_cfg(a)->session_name, "okc-{sub}");
	cr_assert_str_eq(aws_role_cfg(a)->sts_endpoint, "http://127.0.0.1:4566/sts");
	cr_assert_eq(a->interactive, 1);
	cr_assert_eq(cfg->identities[1].interactive, 0);
	cr_assert_eq(cfg->identities[1].provider, t);
	free(base);
	config_free(cfg);
}

Test(config, org_url_forms)
{
	static const struct {
		const char *in, *want;
	} ok[] = {
	    {"https://company.okta.com", "https://company.okta.com"},
	    {"https://company.okta.com///", "https://company.okta.com"},
	    {"HTTPS://Company.Okta.COM/", "https://company.okta.com"},
	    {"https://company.okta.com:8443", "https://company.okta.com:8443"},
	    {"http://localhost:8080/", "http://localhost:8080"},
	    {"http://127.0.0.1:3000", "http://127.0.0.1:3000"},
	    {"http://127.10.20.30", "http://127.10.20.30"},
	    {"http://[::1]:9000", "http://[::1]:9000"},
	    {"https://[2001:db8::1]", "https://[2001:db8::1]"},
	};

	for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
		char *text = xasprintf("[provider p]\nkind = okta/api-token\norg_url = %s\n"
		                       "token_env = T\n",
		                       ok[i].in);
		struct config *cfg = load_ok(text);

		cr_assert_str_eq(cfg->providers[0].org_url, ok[i].want, "%s", ok[i].in);
		config_free(cfg);
		free(text);
	}
}

Test(config, var_expansion)
{
	struct config *cfg;
	const struct provider_cfg *p;

	setenv("OKC_T_ORG", "https://expanded.okta.com", 1);
	setenv("OKC_T_ID", "${HOME}", 1);
	setenv("OKC_T_EMPTY", "", 1);
	cfg = load_ok("[provider p]\n"
	              "kind = okta/device-code\n"
	              "org_url = ${OKC_T_ORG}\n"
	              "client_id = ${OKC_T_ID}\n"
	              "scopes = openid a$b $ c$ pre$$post $${HOME} x${OKC_T_EMPTY}y\n");
	p = &cfg->providers[0];
	cr_assert_str_eq(p->org_url, "https://expanded.okta.com");
	/* An expanded value is not expanded again. */
	cr_assert_str_eq(p->client_id, "${HOME}");
	cr_assert_str_eq(p->scopes, "openid a$b $ c$ pre$post ${HOME} xy");
	config_free(cfg);
}

Test(config, var_expansion_in_token_env_and_defaults)
{
	struct config *cfg;

	setenv("OKC_T_NAME", "okta-admin", 1);
	setenv("OKC_T_TOKEN_ENV", "MY_SSWS", 1);
	cfg = load_ok("[defaults]\n"
	              "identity = ${OKC_T_NAME}\n"
	              "[provider q]\n"
	              "kind = okta/api-token\n"
	              "org_url = https://q.okta.com\n"
	              "token_env = ${OKC_T_TOKEN_ENV}\n"
	              "[identity okta-admin]\n"
	              "kind = okta/api-access\n"
	              "provider = q\n");
	cr_assert_str_eq(cfg->default_identity, "okta-admin");
	cr_assert_str_eq(config_provider_string(&cfg->providers[0], "token_env"), "MY_SSWS");
	config_free(cfg);
}

Test(config, comments_inline_and_full_line)
{
	struct config *cfg = load_ok("; a comment\n"
	                             "# another\n"
	                             "   ; indented comment\n"
	                             "[provider p]   ; the provider\n"
	                             "kind = okta/device-code\n"
	                             "org_url = https://x.okta.com ; trailing comment\n"
	                             "client_id = abc;def\t; tab before the comment\n"
	                             "\t# indented hash comment\n");

	cr_assert_eq(cfg->nproviders, 1);
	cr_assert_str_eq(cfg->providers[0].org_url, "https://x.okta.com");
	cr_assert_str_eq(cfg->providers[0].client_id, "abc;def");
	config_free(cfg);
}

Test(config, comment_makes_kind_unknown)
{
	/* ';' without a blank before it is part of the value. */
	expect_error("semicolon in value",
	             "[provider p]\nkind = okta/device-code;x\norg_url = https://x.okta.com\n", 2,
	             "unknown provider kind \"okta/device-code;x\"");
}

Test(config, indented_keys_are_not_continuations)
{
	struct config *cfg = load_ok("[provider p]\n"
	                             "    kind = okta/device-code\n"
	                             "\torg_url = https://x.okta.com\n"
	                             "    client_id = abc\n"
	                             "  [identity i]\n"
	                             "  kind = okta/api-access\n"
	                             "  provider = p\n");

	cr_assert_str_eq(cfg->providers[0].org_url, "https://x.okta.com");
	cr_assert_str_eq(cfg->providers[0].client_id, "abc");
	cr_assert_eq(cfg->identities[0].provider, &cfg->providers[0]);
	config_free(cfg);
}

Test(config, crlf_and_bom)
{
	struct config *cfg = load_ok("\xEF\xBB\xBF[provider p]\r\n"
	                             "kind = okta/device-code\r\n"
	                             "org_url = https://x.okta.com\r\n"
	                             "client_id = abc\r\n"
	                             "[identity i]\r\n"
	                             "kind = okta/api-access\r\n"
	                             "provider = p"); /* no final newline */

	cr_assert_str_eq(cfg->providers[0].name, "p");
	cr_assert_str_eq(cfg->providers[0].client_id, "abc");
	cr_assert_str_eq(cfg->identities[0].provider_name, "p");
	cr_assert_eq(cfg->identities[0].line, 5);
	config_free(cfg);
}

Test(config, identity_before_its_provider)
{
	struct config *cfg = load_ok("[defaults]\n"
	                             "identity = later\n"
	                             "[identity a]\n"
	                             "kind = aws/assume-role\n"
	                             "provider = later\n"
	                             "role_arn = arn:aws:iam::123456789012:role/R\n"
	                             "[provider later]\n"
	                             "kind = okta/device-code\n"
	                             "org_url = https://x.okta.com\n"
	                             "client_id = abc\n");

	cr_assert_eq(cfg->identities[0].provider, &cfg->providers[0]);
	cr_assert_str_eq(cfg->default_identity, "later");
	config_free(cfg);
}

#define ARN(n) "arn:aws:iam::111111111111:role/SomeRatherLongRoleName" #n
#define LONG_ROLE_MAP                                                                              \
	"Group-Number-1=" ARN(1) ", Group-Number-2=" ARN(2) ", Group-Number-3=" ARN(               \
	    3) ", Group-Number-4=" ARN(4) ", Group-Number-5=" ARN(5)

/* Long lines (libinih, used earlier, had a 200-byte line buffer) are whole, and later line
 * numbers right. */
Test(config, long_lines_kept_whole)
{
	char *ca = xasprintf("/%0300d/ca.pem", 0);
	char *text = xasprintf("[provider p]\n"
	                       "kind = okta/device-code\n"
	                       "org_url = https://x.okta.com\n"
	                       "client_id = abc\n"
	                       "ca_bundle = %s   ; a comment after it\n"
	                       "[identity a]\n"
	                       "kind = aws/assume-role\n"
	                       "provider = p\n"
	                       "role_map = %s\n"
	                       "region = us-east-1\n",
	                       ca, LONG_ROLE_MAP);
	struct config *cfg;

	cr_assert_gt(strlen(LONG_ROLE_MAP), 250);
	cfg = load_ok(text);
	cr_assert_str_eq(cfg->providers[0].ca_bundle, ca);
	cr_assert_str_eq(aws_role_cfg(&cfg->identities[0])->role_map, LONG_ROLE_MAP);
	cr_assert_eq(aws_role_cfg(&cfg->identities[0])->nroles, 5);
	cr_assert_str_eq(aws_role_cfg(&cfg->identities[0])->roles[4].group, "Group-Number-5");
	cr_assert_str_eq(aws_role_cfg(&cfg->identities[0])->roles[4].role_arn, ARN(5));
	cr_assert_str_eq(aws_role_cfg(&cfg->identities[0])->region, "us-east-1");
	config_free(cfg);
	free(text);

	text = xasprintf("[provider p]\n"
	                 "kind = okta/device-code\n"
	                 "org_url = https://x.okta.com\n"
	                 "client_id = abc\n"
	                 "ca_bundle = %s\n"
	                 "[identity a]\n"
	                 "kind = aws/assume-role\n"
	                 "provider = p\n"
	                 "role_map = %s\n"
	                 "region = us-east-1\n"
	                 "duration = 1m\n",
	                 ca, LONG_ROLE_MAP);
	expect_error("line after long lines", text, 11, "between 15m and 12h");
	free(text);
	text = xasprintf("[provider p]\nkind = okta/device-code\norg_url = https://x.okta.com\n"
	                 "client_id = abc\n[identity a]\nkind = aws/assume-role\nprovider = p\n"
	                 "role_map = %s, Last=arn:aws:iam::1:role/X\n",
	                 LONG_ROLE_MAP);
	expect_error("bad entry at the end of a long line", text, 8, "entry 6");
	free(text);
	free(ca);
}

/* Lines have no length limit: a long key is an unknown key like any other. */
Test(config, long_key_is_unknown)
{
	char *text = xasprintf("[provider p]\nkind = okta/device-code\n%0300d = x\n", 7);

	expect_error("long key", text, 3, "unknown key \"0000");
	free(text);
}

Test(config, nul_byte)
{
	static const char text[] = "[provider p]\nkind = okta/device-code\norg_url = https://x\0\n";

	expect_error_at("nul", text, sizeof(text) - 1, 3, "NUL byte");
}

struct err_case {
	const char *name;
	const char *text;
	int line;
	const char *needle;
};

#define P_DC                                                                                       \
	"[provider p]\n"                                                                           \
	"kind = okta/device-code\n"                                                                \
	"org_url = https://x.okta.com\n"                                                           \
	"client_id = abc\n" /* lines 1-4 */
#define P_SA(n)                                                                                    \
	"[provider " n "]\n"                                                                       \
	"kind = okta/service-account\n"                                                            \
	"org_url = https://x.okta.com\n"                                                           \
	"client_id = svc\n"                                                                        \
	"scopes = okta.users.read\n" /* 5 lines */
/* The same with a scope a client secret may get (not an okta.* one). */
#define P_SAS(n)                                                                                   \
	"[provider " n "]\n"                                                                       \
	"kind = okta/service-account\n"                                                            \
	"org_url = https://x.okta.com\n"                                                           \
	"client_id = svc\n"                                                                        \
	"scopes = api.read\n" /* 5 lines */
#define ID_AWS(p)                                                                                  \
	"[identity a]\n"                                                                           \
	"kind = aws/assume-role\n"                                                                 \
	"provider = " p "\n" /* 3 lines */
#define ROLE "arn:aws:iam::123456789012:role/R"

/* Criterion's workers are separate processes of a PIE binary: a parameter must not hold a
 * pointer, so each test gets an index into this table. */
static const struct err_case error_cases[] = {
    /* structure */
    {"key before any section", "kind = okta/device-code\n[provider p]\n", 1,
     "key \"kind\" outside any section"},
    {"unknown section", P_DC "\n[profile dev]\n", 6, "unknown section [profile dev]"},
    {"duplicate provider", P_DC "[provider p]\n", 5,
     "duplicate section [provider p] (first on line 1)"},
    {"duplicate identity",
     P_DC "[identity i]\nkind = okta/api-access\nprovider = p\n[identity i]\n", 8,
     "duplicate section [identity i] (first on line 5)"},
    {"duplicate defaults", "[defaults]\n\n[defaults]\n", 3,
     "duplicate section [defaults] (first on line 1)"},
    {"duplicate key", P_DC "client_id = def\n", 5, "duplicate key client_id (first set on line 4)"},
    {"duplicate key empty first", "[provider p]\norg_url =\norg_url = https://x\n", 3,
     "duplicate key org_url (first set on line 2)"},
    {"missing ]", P_DC "[identity i\n", 5, "missing ']'"},
    {"text after ]", "[provider p] x\n", 1, "unexpected text after ']'"},
    {"no =", P_DC "just words\n", 5, "expected \"key = value\""},
    {"continuation line", P_DC "scopes = openid\n   profile\n", 6, "expected \"key = value\""},
    {"missing key", P_DC "= value\n", 5, "missing key"},
    /* section names */
    {"name ..", "[provider ..]\n", 1, "invalid provider name \"..\""},
    {"name with /", P_DC "[identity a/b]\n", 5, "invalid identity name \"a/b\""},
    {"name with space", "[identity a b]\n", 1, "invalid identity name \"a b\""},
    {"name starts with -", "[provider -x]\n", 1, "invalid provider name"},
    {"name starts with .", "[provider .x]\n", 1, "invalid provider name"},
    {"name too long",
     "[provider "
     "a1234567890123456789012345678901234567890123456789012345678901234]\n",
     1, "invalid provider name"},
    {"no name", "[provider]\n", 1, "[provider] needs a name"},
    {"defaults with name", "[defaults x]\n", 1, "[defaults] takes no name"},
    /* keys */
    {"unknown provider key", P_DC "colour = blue\n", 5, "unknown key \"colour\" in [provider p]"},
    {"unknown identity key", P_DC "[identity i]\nkind = okta/api-access\nprovider = p\nfoo = 1\n",
     8, "unknown key \"foo\" in [identity i]"},
    {"unknown defaults key", "[defaults]\nprofile = x\n", 2,
     "unknown key \"profile\" in [defaults]"},
    {"identity key in provider", P_DC "role_arn = " ROLE "\n", 5,
     "role_arn is a key of identities, not of [provider p]"},
    {"provider key in identity",
     P_DC "[identity i]\nkind = okta/api-access\norg_url = https://x.okta.com\n", 7,
     "org_url is a key of providers, not of [identity i]"},
    {"defaults key in identity", P_DC "[identity i]\nidentity = x\n", 6,
     "identity is a key of [defaults], not of [identity i]"},
    {"aws key in api-access",
     P_DC "[identity i]\nkind = okta/api-access\nprovider = p\nrole_arn = " ROLE "\n", 8,
     "key \"role_arn\" belongs to aws/assume-role, not okta/api-access"},
    {"aws key before kind",
     P_DC "[identity i]\nprovider = p\nregion = us-east-1\nsts_endpoint = "
          "https://sts.example.com\nkind = okta/api-access\n",
     7, "key \"region\" belongs to aws/assume-role, not okta/api-access"},
    {"token_env in device-code", P_DC "token_env = T\n", 5,
     "key \"token_env\" belongs to okta/api-token, not okta/device-code"},
    {"client_secret before kind",
     "[provider p]\norg_url = https://x.okta.com\nclient_secret = s\nclient_id = "
     "a\nkind = okta/device-code\n",
     3, "key \"client_secret\" belongs to okta/service-account, not okta/device-code"},
    {"client_id in api-token",
     "[provider t]\nkind = okta/api-token\norg_url = https://x.okta.com\nclient_id = a\n", 4,
     "key \"client_id\" belongs to okta/device-code or okta/service-account, not "
     "okta/api-token"},
    /* kinds */
    {"provider without kind", "[provider p]\norg_url = https://x.okta.com\n\n[identity i]\n", 1,
     "provider p has no kind"},
    {"provider kind empty", "[provider p]\nkind =\n", 2, "kind is empty"},
    {"unknown provider kind", "[provider p]\nkind = okta/password\n", 2,
     "unknown provider kind \"okta/password\""},
    {"identity kind in provider", "[provider p]\nkind = aws/assume-role\n", 2,
     "aws/assume-role is an identity kind"},
    {"unknown identity kind", P_DC "[identity i]\nkind = gcp/workload\n", 6,
     "unknown identity kind \"gcp/workload\""},
    {"provider kind in identity", P_DC "[identity i]\nkind = okta/device-code\n", 6,
     "okta/device-code is a provider kind"},
    {"identity without kind", P_DC "[identity i]\nprovider = p\n", 5, "identity i has no kind"},
    /* provider values */
    {"no org_url", "[provider p]\nkind = okta/device-code\nclient_id = a\n", 1,
     "provider p (okta/device-code) has no org_url"},
    {"org_url empty", "[provider p]\nkind = okta/device-code\norg_url =\nclient_id = a\n", 3,
     "org_url is empty"},
    {"org_url http", "[provider p]\nkind = okta/device-code\norg_url = http://x.okta.com\n", 3,
     "must use https://"},
    {"org_url fake loopback",
     "[provider p]\nkind = okta/device-code\norg_url = http://127.0.0.1.evil.com\n", 3,
     "must use https://"},
    {"org_url octal loopback",
     "[provider p]\nkind = okta/device-code\norg_url = http://0177.0.0.1\n", 3,
     "must use https://"},
    {"org_url localhost suffix",
     "[provider p]\nkind = okta/device-code\norg_url = http://localhost.evil.com\n", 3,
     "must use https://"},
    {"org_url path",
     "[provider p]\nkind = okta/device-code\norg_url = https://x.okta.com/oauth2/default\n", 3,
     "without a path"},
    {"org_url query", "[provider p]\nkind = okta/device-code\norg_url = https://x.okta.com?a=1\n",
     3, "query"},
    {"org_url fragment", "[provider p]\nkind = okta/device-code\norg_url = https://x.okta.com/#x\n",
     3, "fragment"},
    {"org_url user", "[provider p]\nkind = okta/device-code\norg_url = https://u@x.okta.com\n", 3,
     "user name"},
    {"org_url scheme", "[provider p]\nkind = okta/device-code\norg_url = ftp://x.okta.com\n", 3,
     "must start with https://"},
    {"org_url no scheme", "[provider p]\nkind = okta/device-code\norg_url = x.okta.com\n", 3,
     "must start with https://"},
    {"org_url port", "[provider p]\nkind = okta/device-code\norg_url = https://x.okta.com:99999\n",
     3, "invalid port"},
    {"org_url no host", "[provider p]\nkind = okta/device-code\norg_url = https://\n", 3,
     "no valid host"},
    {"no client_id device", "[provider p]\nkind = okta/device-code\norg_url = https://x.okta.com\n",
     1, "provider p (okta/device-code) has no client_id"},
    {"client_id empty",
     "[provider p]\nkind = okta/device-code\norg_url = https://x.okta.com\nclient_id =\n", 4,
     "client_id is empty"},
    {"no client_id service",
     "[provider r]\nkind = okta/service-account\norg_url = https://x.okta.com\nscopes = "
     "a\nclient_secret = s\n",
     1, "provider r (okta/service-account) has no client_id"},
    {"service without scopes",
     "[provider r]\nkind = okta/service-account\norg_url = https://x.okta.com\nclient_id = "
     "c\nclient_secret = s\n",
     1, "has no scopes"},
    {"service without credential", P_SA("r") "[identity i]\n", 1,
     "provider r (okta/service-account) needs private_key, client_secret or "
     "client_secret_env"},
    {"service with both", P_SA("r") "private_key = /k.pem\nclient_secret = s\n", 7,
     "set private_key, client_secret or client_secret_env, not both"},
    {"service key empty", P_SA("r") "private_key = \n", 6, "private_key is empty"},
    {"service secret and secret_env", P_SAS("r") "client_secret = s\nclient_secret_env = V\n", 7,
     "set private_key, client_secret or client_secret_env, not both"},
    {"client_secret_env not a name", P_SAS("r") "client_secret_env = hunter 2\n", 6,
     "client_secret_env is not an environment variable name"},
    /* scopes Okta can never grant */
    {"okta scope on a custom server", P_DC "scopes = openid okta.users.read\n", 5,
     "okta.users.read is a scope of Okta's API, which only the org authorization server"},
    {"okta scope on the default server",
     "[provider p]\nkind = okta/device-code\norg_url = https://x.okta.com\nclient_id = "
     "abc\nauthorization_server = default\nscopes = okta.apps.read\n",
     6, "(authorization_server = default is a custom one)"},
    {"service okta scope on a custom server",
     P_SA("r") "private_key = /k.pem\nauthorization_server = aus1234\n", 5,
     "okta.users.read is a scope of Okta's API, which only the org authorization server"},
    {"okta scope with client_secret", P_SA("r") "client_secret = s\n", 6,
     "Okta grants a service app only with private_key_jwt, not with a client secret "
     "(client_secret)"},
    {"okta scope with client_secret_env", P_SA("r") "client_secret_env = OKTA_SECRET\n", 6,
     "not with a client secret (client_secret_env)"},
    /* session_duration */
    {"session_duration bad", P_DC "session_duration = a day\n", 5,
     "session_duration \"a day\" is not a duration"},
    {"session_duration too short", P_DC "session_duration = 30s\n", 5,
     "session_duration 30s must be between 1m and 365d"},
    {"session_duration of a service account",
     P_SAS("r") "client_secret = s\nsession_duration = 8h\n", 7,
     "key \"session_duration\" belongs to okta/device-code, not "
     "okta/service-account"},
    {"key id without key", P_SAS("r") "private_key_id = kid\nclient_secret = s\n", 6,
     "private_key_id is set but private_key is not"},
    {"private_key relative", P_SA("r") "private_key = keys/robot.pem\n", 6,
     "private_key is neither PEM text"},
    {"api-token without token_env",
     "[provider t]\nkind = okta/api-token\norg_url = https://x.okta.com\n", 1,
     "provider t (okta/api-token) has no token_env"},
    {"token_env invalid",
     "[provider t]\nkind = okta/api-token\norg_url = https://x.okta.com\ntoken_env = "
     "1BAD\n",
     4, "token_env is not an environment variable name"},
    {"authorization_server invalid", P_DC "authorization_server = my-server\n", 5,
     "authorization_server \"my-server\""},
    {"token_store invalid", P_DC "token_store = vault\n", 5,
     "token_store \"vault\": use file or keyring"},
    {"refresh_before invalid", P_DC "refresh_before = soon\n", 5,
     "refresh_before \"soon\" is not a duration"},
    {"base_path relative", P_DC "files.base_path = state\n", 5,
     "files.base_path \"state\" must be an absolute path"},
    {"client_id with space", "[provider p]\nkind = okta/device-code\nclient_id = a b\n", 3,
     "client_id must not contain spaces"},
    /* identities */
    {"identity without provider", P_DC "[identity i]\nkind = okta/api-access\n", 5,
     "identity i (okta/api-access) has no provider"},
    {"identity unknown provider", P_DC "[identity i]\nkind = okta/api-access\nprovider = nope\n", 7,
     "identity i: no provider named nope"},
    {"aws with service account on the org server",
     P_SAS("r") "client_secret = s\n" ID_AWS("r") "role_arn = " ROLE "\n", 1,
     "provider r: identity a (aws/assume-role) takes its access token as the web identity "
     "token, which needs a custom authorization server"},
    {"aws with service account, org server named",
     P_SAS("r") "client_secret = s\nauthorization_server = org\n" ID_AWS("r") "role_arn = " ROLE
                                                                              "\n",
     7, "the org server's access tokens are for Okta's API only"},
    {"aws with api token",
     "[provider t]\nkind = okta/api-token\norg_url = https://x.okta.com\ntoken_env = "
     "T\n" ID_AWS("t") "role_arn = " ROLE "\n",
     7, "t is okta/api-token"},
    {"aws without openid",
     "[provider p]\nkind = okta/device-code\norg_url = https://x.okta.com\nclient_id = "
     "a\nscopes = profile offline_access\n" ID_AWS("p") "role_arn = " ROLE "\n",
     5, "scopes lack openid"},
    {"aws without role", P_DC ID_AWS("p"), 5,
     "identity a (aws/assume-role) needs role_arn or role_map"},
    {"aws with both roles", P_DC ID_AWS("p") "role_arn = " ROLE "\nrole_map = G=" ROLE "\n", 9,
     "set role_arn or role_map, not both"},
    {"role_arn short account", P_DC ID_AWS("p") "role_arn = arn:aws:iam::123:role/R\n", 8,
     "is not an IAM role ARN"},
    {"role_arn user", P_DC ID_AWS("p") "role_arn = arn:aws:iam::123456789012:user/bob\n", 8,
     "is not an IAM role ARN"},
    {"role_arn not aws", P_DC ID_AWS("p") "role_arn = arn:gcp:iam::123456789012:role/R\n", 8,
     "is not an IAM role ARN"},
    {"role_map no =", P_DC ID_AWS("p") "role_map = Admins " ROLE "\n", 8,
     "entry 1 \"Admins " ROLE "\" is not GROUP=ROLE_ARN"},
    {"role_map empty group", P_DC ID_AWS("p") "role_map = G=" ROLE ",  =" ROLE "\n", 8,
     "entry 2 has no group"},
    {"role_map bad arn", P_DC ID_AWS("p") "role_map = G=arn:aws:s3:::bucket\n", 8,
     "entry 1: \"arn:aws:s3:::bucket\" is not an IAM role ARN"},
    {"role_map empty entry", P_DC ID_AWS("p") "role_map = G=" ROLE ", , H=" ROLE "\n", 8,
     "entry 2 is empty"},
    {"role_map trailing comma", P_DC ID_AWS("p") "role_map = G=" ROLE ",\n", 8, "entry 2 is empty"},
    {"role_map duplicate group", P_DC ID_AWS("p") "role_map = Dev=" ROLE ", dev=" ROLE "\n", 8,
     "group \"dev\" appears twice"},
    {"duration too short", P_DC ID_AWS("p") "role_arn = " ROLE "\nduration = 10m\n", 9,
     "between 15m and 12h"},
    {"duration too long", P_DC ID_AWS("p") "role_arn = " ROLE "\nduration = 12h1s\n", 9,
     "between 15m and 12h"},
    {"duration bad", P_DC ID_AWS("p") "role_arn = " ROLE "\nduration = an hour\n", 9,
     "is not a duration"},
    {"region bad", P_DC ID_AWS("p") "role_arn = " ROLE "\nregion = US East\n", 9,
     "is not an AWS region"},
    {"sts_endpoint http", P_DC ID_AWS("p") "sts_endpoint = http://sts.amazonaws.com\n", 8,
     "must use https://"},
    {"interactive bad", P_DC ID_AWS("p") "interactive = maybe\n", 8, "interactive \"maybe\""},
    {"session_name placeholder", P_DC ID_AWS("p") "session_name = {name}\n", 8,
     "only {email}, {sub} and {preferred_username}"},
    {"session_name char", P_DC ID_AWS("p") "session_name = a b\n", 8, "session_name \"a b\""},
    {"provider name invalid", P_DC ID_AWS("../p"), 7, "not a valid provider name"},
    /* [defaults] */
    {"defaults names nothing", "[defaults]\nidentity = nope\n" P_DC, 2,
     "[defaults] identity nope names no identity or provider"},
    {"defaults invalid name", "[defaults]\nidentity = a b\n", 2, "not a valid"},
    {"defaults duplicate identity", "[defaults]\nidentity = a\nidentity = b\n", 3,
     "duplicate key identity (first set on line 2)"},
    /* ${VAR} */
    {"unset variable", P_DC "scopes = openid ${OKC_TEST_UNSET_VARIABLE}\n", 5,
     "${OKC_TEST_UNSET_VARIABLE} is not set"},
    {"unterminated variable", P_DC "scopes = ${HOME\n", 5, "unterminated ${"},
    {"invalid variable name", P_DC "scopes = ${1X}\n", 5, "${1X} is not a valid variable name"},
    {"empty variable name", P_DC "scopes = ${}\n", 5, "${} is not a valid variable name"},
    /* the first error is reported */
    {"first of two post errors",
     "[defaults]\nidentity = nothing\n[identity a]\nkind = okta/api-access\nprovider = "
     "nope\n",
     2, "[defaults] identity nothing"},
    {"first of two value errors", P_DC "token_store = x\nrefresh_before = y\n", 5, "token_store"},
};

ParameterizedTestParameters(config, errors)
{
	static size_t idx[ARRAY_SIZE(error_cases)];

	for (size_t i = 0; i < ARRAY_SIZE(idx); i++)
		idx[i] = i;
	return cr_make_param_array(size_t, idx, ARRAY_SIZE(idx), NULL);
}

ParameterizedTest(size_t *i, config, errors)
{
	const struct err_case *c = &error_cases[*i];

	expect_error(c->name, c->text, c->line, c->needle);
}

Test(config, unset_variable_hint)
{
	okc_err err = {0};
	struct config *cfg;
	char *path = write_file("config", P_DC "scopes = ${OKC_TEST_UNSET_VARIABLE}\n", 0600);

	cr_assert_eq(config_load(path, &cfg, &err), -1);
	cr_assert_not_null(strstr(err.hint, "$$"), "%s", err.hint);
	free(path);
}

/* ---- resolution ---- */

static const char resolve_text[] = "[defaults]\n"
                                   "identity = dev\n" P_DC "[provider shared]\n"
                                   "kind = okta/api-token\n"
                                   "org_url = https://x.okta.com\n"
                                   "token_env = T\n"
                                   "[identity dev]\n"
                                   "kind = okta/api-access\n"
                                   "provider = p\n"
                                   "[identity shared]\n"
                                   "kind = okta/api-access\n"
                                   "provider = p\n";

Test(config, resolve_names)
{
	struct config *cfg = load_ok(resolve_text);
	const struct identity_cfg *id;
	const struct provider_cfg *p;
	okc_err err = {0};

	cr_assert_eq(config_resolve(cfg, "dev", &id, &p, &err), 0);
	cr_assert_eq(id, config_find_identity(cfg, "dev"));
	cr_assert_eq(p, config_find_provider(cfg, "p"));

	cr_assert_eq(config_resolve(cfg, "p", &id, &p, &err), 0);
	cr_assert_null(id);
	cr_assert_eq(p, config_find_provider(cfg, "p"));

	/* An identity wins over a provider of the same name. */
	cr_assert_eq(config_resolve(cfg, "shared", &id, &p, &err), 0);
	cr_assert_eq(id, config_find_identity(cfg, "shared"));
	cr_assert_str_eq(p->name, "p");

	/* NULL: [defaults] identity. */
	cr_assert_eq(config_resolve(cfg, NULL, &id, &p, &err), 0);
	cr_assert_str_eq(id->name, "dev");

	cr_assert_eq(config_resolve(cfg, "ghost", &id, &p, &err), -1);
	cr_assert_eq(err.code, 2);
	cr_assert_not_null(strstr(err.msg, "ghost"), "%s", err.msg);
	cr_assert_not_null(strstr(err.hint, "dev, shared, p"), "%s", err.hint);
	cr_assert_null(id);
	cr_assert_null(p);
	config_free(cfg);
}

Test(config, resolve_without_default)
{
	struct config *cfg = load_ok(P_DC "[identity i]\nkind = okta/api-access\nprovider = p\n");
	const struct identity_cfg *id;
	const struct provider_cfg *p;
	okc_err err = {0};

	cr_assert_eq(config_resolve(cfg, NULL, &id, &p, &err), -1);
	cr_assert_eq(err.code, 2);
	cr_assert_not_null(strstr(err.msg, "[defaults]"), "%s", err.msg);
	cr_assert_str_eq(err.hint, "name one of: i, p");
	config_free(cfg);
}

Test(config, defaults_may_name_a_provider)
{
	struct config *cfg = load_ok("[defaults]\nidentity = p\n" P_DC);
	const struct identity_cfg *id;
	const struct provider_cfg *p;
	okc_err err = {0};

	cr_assert_eq(config_resolve(cfg, NULL, &id, &p, &err), 0);
	cr_assert_null(id);
	cr_assert_str_eq(p->name, "p");
	config_free(cfg);
}

/* The registry: every kind once, by name, in the order the messages list them. */
/* aws/assume-role over a service account on a custom authorization server: its access
 * token is the web identity token. */
Test(config, aws_over_a_service_account_on_a_custom_server)
{
	struct config *cfg = load_ok("[provider r]\n"
	                             "kind = okta/service-account\n"
	                             "org_url = https://x.okta.com\n"
	                             "client_id = svc\n"
	                             "client_secret = s\n"
	                             "authorization_server = default\n"
	                             "scopes = aws.assume\n"
	                             "[identity a]\n"
	                             "kind = aws/assume-role\n"
	                             "provider = r\n"
	                             "role_arn = " ROLE "\n");

	cr_assert_eq(cfg->nidentities, 1);
	config_free(cfg);
}

Test(config, registry)
{
	static const char *const providers[] = {"okta/device-code", "okta/service-account",
	                                        "okta/api-token", NULL};
	static const char *const identities[] = {
	    "okta/api-access",       "aws/assume-role", "kubernetes/exec-credential",
	    "gcp/workload-identity", "azure/federated", NULL};
	size_t i;

	for (i = 0; providers[i]; i++)
		cr_assert_str_eq(config_provider_kinds[i]->name, providers[i]);
	cr_assert_null(config_provider_kinds[i]);
	for (i = 0; identities[i]; i++)
		cr_assert_str_eq(config_identity_kinds[i]->name, identities[i]);
	cr_assert_null(config_identity_kinds[i]);
	cr_assert_eq((const void *)config_provider_kinds[0], (const void *)&provider_device_code);
	config_free(NULL);
}

/* ---- gcp/workload-identity ---- */

#define GCP_PROVIDER                                                                               \
	"[provider p]\nkind = okta/device-code\norg_url = https://x.okta.com\nclient_id = c\n"
#define GCP_WORKLOAD                                                                               \
	"//iam.googleapis.com/projects/123/locations/global/workloadIdentityPools/pool/"           \
	"providers/okta"
#define GCP_WORKFORCE "//iam.googleapis.com/locations/global/workforcePools/people/providers/okta"

Test(config, gcp_audience_or_its_parts)
{
	struct config *cfg = load_ok(GCP_PROVIDER "[identity a]\nkind = gcp/workload-identity\n"
	                                          "provider = p\naudience = " GCP_WORKLOAD "\n"
	                                          "[identity b]\nkind = gcp/workload-identity\n"
	                                          "provider = p\nproject_number = 123\n"
	                                          "pool_id = pool\nprovider_id = okta\n"
	                                          "[identity w]\nkind = gcp/workload-identity\n"
	                                          "provider = p\naudience = " GCP_WORKFORCE "\n"
	                                          "workforce_pool_user_project = 456\n");

	cr_assert_eq(cfg->nidentities, 3);
	cr_assert_str_eq(config_identity_string(&cfg->identities[1], "token_url"),
	                 "https://sts.googleapis.com/v1/token");
	config_free(cfg);
}

Test(config, gcp_errors)
{
	expect_error("workforce without user project",
	             GCP_PROVIDER "[identity w]\nkind = gcp/workload-identity\nprovider = p\n"
	                          "audience = " GCP_WORKFORCE "\n",
	             8, "a workforce pool audience needs workforce_pool_user_project");
	expect_error("user project for a workload pool",
	             GCP_PROVIDER "[identity w]\nkind = gcp/workload-identity\nprovider = p\n"
	                          "audience = " GCP_WORKLOAD "\nworkforce_pool_user_project = 4\n",
	             9, "workforce_pool_user_project is for a workforce pool audience");
	expect_error("both",
	             GCP_PROVIDER "[identity w]\nkind = gcp/workload-identity\nprovider = p\n"
	                          "audience = " GCP_WORKLOAD "\nproject_number = 4\n",
	             9, "set audience or project_number, not both");
	expect_error("neither",
	             GCP_PROVIDER "[identity w]\nkind = gcp/workload-identity\nprovider = p\n", 5,
	             "audience");
	expect_error("parts missing",
	             GCP_PROVIDER "[identity w]\nkind = gcp/workload-identity\nprovider = p\n"
	                          "project_number = 4\npool_id = pool\n",
	             8, "project_number needs pool_id and provider_id");
	expect_error("pool without project",
	             GCP_PROVIDER "[identity w]\nkind = gcp/workload-identity\nprovider = p\n"
	                          "audience = " GCP_WORKLOAD "\npool_id = pool\n",
	             9, "pool_id goes with project_number");
	expect_error("not an audience",
	             GCP_PROVIDER "[identity w]\nkind = gcp/workload-identity\nprovider = p\n"
	                          "audience = https://iam.googleapis.com/projects/1\n",
	             8, "is not a workload identity pool provider");
	expect_error("http token_url",
	             GCP_PROVIDER "[identity w]\nkind = gcp/workload-identity\nprovider = p\n"
	                          "audience = " GCP_WORKLOAD "\ntoken_url = http://sts.example/t\n",
	             9, "token_url");
	expect_error("bad pool id",
	             GCP_PROVIDER "[identity w]\nkind = gcp/workload-identity\nprovider = p\n"
	                          "project_number = 4\npool_id = P!\nprovider_id = okta\n",
	             9, "pool_id");
}

/* ---- the file itself ---- */

static void expect_file_error(const char *path, int code, const char *msg, const char *hint)
{
	okc_err err = {0};
	struct config *cfg = (struct config *)1;

	cr_assert_eq(config_load(path, &cfg, &err), -1, "%s loaded", path);
	cr_assert_null(cfg);
	cr_assert_eq(err.code, code, "code %d: %s", err.code, err.msg);
	cr_assert_str_eq(err.msg, msg);
	if (hint)
		cr_assert_str_eq(err.hint, hint);
}

Test(config, missing_file)
{
	char *path = xasprintf("%s/nothing/config", tmpdir);
	char *msg = xasprintf("%s: no configuration file", path);

	expect_file_error(path, 2, msg, "run: oktacred init");
	free(msg);
	free(path);
}

Test(config, directory_refused)
{
	char *msg = xasprintf("%s: is a directory, not a configuration file", tmpdir);

	expect_file_error(tmpdir, 2, msg, NULL);
	free(msg);
}

Test(config, size_cap)
{
	size_t n = 1024 * 1024 + 1;
	char *text = xmalloc(n);
	char *path, *msg;

	memset(text, '\n', n);
	path = write_file_n("config", text, n, 0600);
	msg = xasprintf("%s: larger than 1 MiB", path);
	expect_file_error(path, 2, msg, NULL);
	free(msg);
	free(path);
	free(text);
}

Test(config, group_writable_refused)
{
	static const mode_t modes[] = {0664, 0620, 0602, 0666};

	for (size_t i = 0; i < ARRAY_SIZE(modes); i++) {
		char *path = write_file("config", P_DC, modes[i]);
		char *msg = xasprintf("%s: is writable by group or others", path);
		char *hint = xasprintf("run: chmod 600 %s", path);

		expect_file_error(path, 1, msg, hint);
		free(hint);
		free(msg);
		free(path);
	}
}

#define P_SECRET P_SAS("r") "client_secret = hunter2\n"

Test(config, readable_secret_refused)
{
	static const mode_t modes[] = {0644, 0640, 0604};

	for (size_t i = 0; i < ARRAY_SIZE(modes); i++) {
		char *path = write_file("config", P_SECRET, modes[i]);
		char *msg =
		    xasprintf("%s: holds a client_secret and is readable by group or others", path);
		char *hint = xasprintf("run: chmod 600 %s", path);

		expect_file_error(path, 1, msg, hint);
		free(hint);
		free(msg);
		free(path);
	}
}

Test(config, readable_without_secret_in_file_is_fine)
{
	okc_err err = {0};
	struct config *cfg;
	char *path;

	/* No secret at all. */
	path = write_file("config", P_DC, 0644);
	cr_assert_eq(config_load(path, &cfg, &err), 0, "%s", err.msg);
	config_free(cfg);
	free(path);

	/* The secret comes from the environment, not from the file. */
	setenv("OKC_T_SECRET", "hunter2", 1);
	path = write_file("config", P_SAS("r") "client_secret = ${OKC_T_SECRET}\n", 0644);
	cr_assert_eq(config_load(path, &cfg, &err), 0, "%s", err.msg);
	cr_assert_str_eq(config_provider_string(&cfg->providers[0], "client_secret"), "hunter2");
	config_free(cfg);
	free(path);

	/* 0600 with the secret in it. */
	path = write_file("config", P_SECRET, 0600);
	cr_assert_eq(config_load(path, &cfg, &err), 0, "%s", err.msg);
	cr_assert_str_eq(config_provider_string(&cfg->providers[0], "client_secret"), "hunter2");
	config_free(cfg);
	free(path);
}

Test(config, pem_from_environment)
{
	static const char pem[] = "-----BEGIN PRIVATE KEY-----\nMIIBVQIBADANBgkqhkiG9w0BAQEFAASC\n"
	                          "-----END PRIVATE KEY-----\n";
	okc_err err = {0};
	struct config *cfg;
	char *path;

	setenv("OKTA_PRIVATE_KEY", pem, 1);
	path = write_file("config",
	                  P_SA("r") "private_key = ${OKTA_PRIVATE_KEY}\nprivate_key_id = kid-9\n",
	                  0644);
	cr_assert_eq(config_load(path, &cfg, &err), 0, "%s", err.msg);
	cr_assert_str_eq(config_provider_string(&cfg->providers[0], "private_key"), pem);
	cr_assert_str_eq(config_provider_string(&cfg->providers[0], "private_key_id"), "kid-9");
	config_free(cfg);
	free(path);
}

Test(config, pem_in_file_must_not_be_readable)
{
	char *path =
	    write_file("config", P_SA("r") "private_key = -----BEGIN PRIVATE KEY-----\n", 0640);
	char *msg = xasprintf("%s: holds a private key and is readable by group or others", path);

	expect_file_error(path, 1, msg, NULL);
	free(msg);
	free(path);
}

Test(config, foreign_owner_refused)
{
	char *path, *msg;

	if (geteuid() != 0)
		cr_skip_test("needs root to give a file away");
	path = write_file("config", P_DC, 0600);
	cr_assert_eq(chown(path, 65534, 65534), 0);
	msg = xasprintf("%s: is owned by another user (uid 65534)", path);
	expect_file_error(path, 1, msg, NULL);
	free(msg);
	free(path);
}

Test(config, symlink_to_config_follows_target)
{
	okc_err err = {0};
	struct config *cfg;
	char *target = write_file("real-config", P_DC, 0600);
	char *link = xasprintf("%s/config-link", tmpdir);
	char *msg;

	cr_assert_eq(symlink(target, link), 0);
	cr_assert_eq(config_load(link, &cfg, &err), 0, "%s", err.msg);
	cr_assert_str_eq(cfg->path, link);
	config_free(cfg);

	/* The target's mode is what counts, not the link's. */
	cr_assert_eq(chmod(target, 0666), 0);
	msg = xasprintf("%s: is writable by group or others", link);
	expect_file_error(link, 1, msg, NULL);
	free(msg);
	free(link);
	free(target);
}

Test(config, default_path_from_environment)
{
	okc_err err = {0};
	struct config *cfg;
	char *path = write_file("custom", P_DC, 0600);
	char *dir, *xdg;

	setenv("OKTACRED_CONFIG", path, 1);
	cr_assert_eq(config_load(NULL, &cfg, &err), 0, "%s", err.msg);
	cr_assert_str_eq(cfg->path, path);
	config_free(cfg);
	unsetenv("OKTACRED_CONFIG");

	xdg = xasprintf("%s/xdg", tmpdir);
	dir = xasprintf("%s/oktacred", xdg);
	cr_assert_eq(mkdir(xdg, 0700), 0);
	cr_assert_eq(mkdir(dir, 0700), 0);
	free(path);
	path = write_file("xdg/oktacred/config", P_DC, 0600);
	setenv("XDG_CONFIG_HOME", xdg, 1);
	cr_assert_eq(config_load(NULL, &cfg, &err), 0, "%s", err.msg);
	cr_assert_str_eq(cfg->path, path);
	config_free(cfg);

	/* ~ in an explicit path. */
	cr_assert_eq(config_load("~/xdg/oktacred/config", &cfg, &err), 0, "%s", err.msg);
	cr_assert_str_eq(cfg->path, path);
	config_free(cfg);
	free(dir);
	free(xdg);
	free(path);
}

Test(config, hint_quotes_the_path)
{
	char *path = write_file("my config", P_DC, 0664);
	char *hint = xasprintf("run: chmod 600 '%s'", path);
	char *msg = xasprintf("%s: is writable by group or others", path);

	expect_file_error(path, 1, msg, hint);
	free(msg);
	free(hint);
	free(path);
}

/* Section names up to 64 bytes stay distinct (libinih, used earlier, kept 49). */
Test(config, long_section_names_kept_whole)
{
#define NAME49 "n123456789012345678901234567890123456789012345678"
	struct config *cfg = load_ok("[provider " NAME49 "-first-provider]\n"
	                             "kind = okta/api-token\n"
	                             "org_url = https://x.okta.com\n"
	                             "token_env = A\n"
	                             "[provider " NAME49 "-other-provider]\n"
	                             "kind = okta/api-token\n"
	                             "org_url = https://y.okta.com\n"
	                             "token_env = B\n"
	                             "[identity " NAME49 "-identity-name1]\n"
	                             "kind = okta/api-access\n"
	                             "provider = " NAME49 "-other-provider\n");

	cr_assert_eq(strlen(NAME49 "-first-provider"), 64);
	cr_assert_eq(cfg->nproviders, 2);
	cr_assert_str_eq(cfg->providers[1].name, NAME49 "-other-provider");
	cr_assert_str_eq(cfg->identities[0].provider->org_url, "https://y.okta.com");
	config_free(cfg);
#undef NAME49
}

/* ---- config_open: each section checked when it is first used ---- */

TestSuite(config_open, .init = setup, .fini = teardown);

#define GOOD_AND_BROKEN                                                                            \
	"[defaults]\nidentity = good\n"                                                            \
	"[provider ok]\nkind = okta/device-code\norg_url = https://x.okta.com\nclient_id = a\n"    \
	"[provider broken]\nkind = okta/device-code\norg_url = ${OKC_T_UNSET_VAR}\n"               \
	"client_id = b\n"                                                                          \
	"[identity good]\nkind = okta/api-access\nprovider = ok\n"                                 \
	"[identity bad]\nkind = okta/api-access\nprovider = broken\n"                              \
	"[identity orphan]\nkind = okta/api-access\nprovider = nowhere\n"

Test(config_open, a_broken_section_breaks_only_what_uses_it)
{
	char *path = write_file("config", GOOD_AND_BROKEN, 0600);
	const struct identity_cfg *id;
	const struct provider_cfg *p;
	struct config *cfg = NULL;
	okc_err err = {0};

	unsetenv("OKC_T_UNSET_VAR");
	cr_assert_eq(config_open(path, &cfg, &err), 0, "%s", err.msg);
	/* The default and what it names are fine. */
	cr_assert_eq(config_resolve(cfg, NULL, &id, &p, &err), 0, "%s", err.msg);
	cr_assert_str_eq(id->name, "good");
	cr_assert_str_eq(p->org_url, "https://x.okta.com");
	/* The broken provider, directly and through its identity: its own error, each time. */
	for (int i = 0; i < 2; i++) {
		cr_assert_eq(config_resolve(cfg, "broken", &id, &p, &err), -1);
		cr_assert(strstr(err.msg, ":9: ${OKC_T_UNSET_VAR} is not set"), "%s", err.msg);
		cr_assert_eq(config_resolve(cfg, "bad", &id, &p, &err), -1);
		cr_assert(strstr(err.msg, ":9: ${OKC_T_UNSET_VAR} is not set"), "%s", err.msg);
	}
	cr_assert_eq(config_resolve(cfg, "orphan", &id, &p, &err), -1);
	cr_assert(strstr(err.msg, ":19: identity orphan: no provider named nowhere"), "%s",
	          err.msg);
	cr_assert_eq(err.code, OKC_EXIT_USAGE);
	/* Checking everything finds the first error of the file. */
	cr_assert_eq(config_check(cfg, &err), -1);
	cr_assert(strstr(err.msg, ":9: ${OKC_T_UNSET_VAR} is not set"), "%s", err.msg);
	config_free(cfg);
	cfg = NULL;
	cr_assert_eq(config_load(path, &cfg, &err), -1);
	cr_assert_null(cfg);
	free(path);
}

Test(config_open, syntax_and_duplicates_are_found_at_once)
{
	const char *texts[] = {
	    "[provider ok]\nkind = okta/api-token\norg_url = https://x.okta.com\ntoken_env = T\n"
	    "oops\n",
	    "[provider ok]\nkind = okta/api-token\norg_url = https://x.okta.com\ntoken_env = T\n"
	    "[provider ok]\n",
	    "[defaults]\nidentity = nothing\n[provider ok]\nkind = okta/api-token\n"
	    "org_url = https://x.okta.com\ntoken_env = T\n",
	};
	const int lines[] = {5, 5, 2};

	for (size_t i = 0; i < ARRAY_SIZE(texts); i++) {
		char *path = write_file("config", texts[i], 0600);
		struct config *cfg = NULL;
		const struct identity_cfg *id;
		const struct provider_cfg *p;
		okc_err err = {0};
		char want[32];
		int rc = config_open(path, &cfg, &err);

		/* [defaults] naming nothing: when the default is used. */
		if (rc == 0) {
			rc = config_resolve(cfg, NULL, &id, &p, &err);
			cr_assert(strstr(err.msg, "names no identity or provider"), "%s", err.msg);
			config_free(cfg);
		}
		cr_assert_eq(rc, -1, "%zu", i);
		snprintf(want, sizeof(want), "config:%d: ", lines[i]);
		cr_assert(strstr(err.msg, want), "%zu: %s", i, err.msg);
		free(path);
	}
}

/* A file others may read is checked whole at once: a secret written in it is refused. */
Test(config_open, readable_file_is_checked_whole)
{
	char *path = write_file("config",
	                        "[provider r]\nkind = okta/service-account\n"
	                        "org_url = https://x.okta.com\nclient_id = a\nscopes = api.read\n"
	                        "client_secret = hunter2\n",
	                        0644);
	struct config *cfg = NULL;
	okc_err err = {0};

	cr_assert_eq(config_open(path, &cfg, &err), -1);
	cr_assert(strstr(err.msg, "holds a client_secret and is readable"), "%s", err.msg);
	free(path);
}

/* The design's client_secret_env and session_duration. */
Test(config, client_secret_env_and_session_duration)
{
	struct config *cfg = load_ok(P_SAS("r") "client_secret_env = ROBOT_SECRET\n"
	                                        "[provider p]\nkind = okta/device-code\n"
	                                        "org_url = https://x.okta.com\nclient_id = c\n"
	                                        "session_duration = 8h\n"
	                                        "[provider q]\nkind = okta/device-code\n"
	                                        "org_url = https://x.okta.com\nclient_id = c\n");

	cr_assert_str_eq(config_provider_string(&cfg->providers[0], "client_secret_env"),
	                 "ROBOT_SECRET");
	cr_assert_null(config_provider_string(&cfg->providers[0], "client_secret"));
	cr_assert_eq(cfg->providers[0].session_duration, 0);
	cr_assert_eq(cfg->providers[1].session_duration, 8 * 3600);
	cr_assert_eq(cfg->providers[2].session_duration, 0, "unset: no limit");
	config_free(cfg);
}

/* okta.* scopes are fine on the org server, with a key. */
Test(config, okta_scopes_on_the_org_server)
{
	struct config *cfg =
	    load_ok("[provider p]\nkind = okta/device-code\n"
	            "org_url = https://x.okta.com\nclient_id = c\n"
	            "authorization_server = org\n"
	            "scopes = openid okta.users.read\n" P_SA("r") "private_key = /k.pem\n");

	cr_assert_str_eq(cfg->providers[1].scopes, "okta.users.read");
	config_free(cfg);
}

/* An okta/api-access identity over a custom server: a warning, at the identity's provider
 * line; none over the org server or an API token. */
Test(config, api_access_over_a_custom_server_warns)
{
	const struct config_warning *w;
	struct config *cfg =
	    load_ok(P_DC "[provider o]\nkind = okta/device-code\norg_url = https://x.okta.com\n"
	                 "client_id = c\nauthorization_server = org\n"
	                 "[provider t]\nkind = okta/api-token\norg_url = https://x.okta.com\n"
	                 "token_env = T\n"
	                 "[identity a]\nkind = okta/api-access\nprovider = p\n"
	                 "[identity b]\nkind = okta/api-access\nprovider = o\n"
	                 "[identity c]\nkind = okta/api-access\nprovider = t\n");
	char *prefix = xasprintf("%s:16: ", cfg->path);

	cr_assert_eq(config_warnings(cfg, &w), 1);
	cr_assert(strncmp(w[0].text, prefix, strlen(prefix)) == 0, "%s", w[0].text);
	cr_assert(strstr(w[0].text, "identity a: provider p uses a custom authorization server "
	                            "(authorization_server = default)"),
	          "%s", w[0].text);
	cr_assert_eq(w[0].section, &cfg->identities[0]);
	free(prefix);
	config_free(cfg);
}

/* Warnings come with the sections checked: config_open alone has none yet. */
Test(config_open, warnings_of_a_resolved_identity)
{
	const struct config_warning *w;
	const struct identity_cfg *id;
	const struct provider_cfg *p;
	struct config *cfg = NULL;
	okc_err err = {0};
	char *path =
	    write_file("config", P_DC "[identity a]\nkind = okta/api-access\nprovider = p\n", 0600);

	cr_assert_eq(config_open(path, &cfg, &err), 0, "%s", err.msg);
	cr_assert_eq(config_warnings(cfg, &w), 0);
	cr_assert_eq(config_resolve(cfg, "a", &id, &p, &err), 0, "%s", err.msg);
	cr_assert_eq(config_warnings(cfg, &w), 1);
	cr_assert_eq(w[0].section, id);
	cr_assert_eq(config_check(cfg, &err), 0, "%s", err.msg);
	cr_assert_eq(config_warnings(cfg, &w), 1, "not twice");
	config_free(cfg);
	free(path);
}

/* config_load_all (config validate): every error, in file order, each once. */
Test(config, load_all_collects_every_error)
{
	char *path =
	    write_file("config",
	               "[provder x]\na = 1\n"
	               "[provider p]\nkind = okta/device-cod\n"
	               "[provider q]\nkind = okta/device-code\norg_url = https://x.okta.com\n"
	               "clientid = c\n"
	               "[identity i]\nkind = okta/api-access\nprovider = q\n",
	               0600);
	const struct config_error *e;
	struct config *cfg = NULL;
	okc_err err = {0};
	size_t n;

	cr_assert_eq(config_load_all(path, &cfg, &err), -1);
	cr_assert_not_null(cfg);
	n = config_errors(cfg, &e);
	cr_assert_eq(n, 4, "%zu errors", n);
	cr_assert_eq(e[0].line, 1);
	cr_assert(strstr(e[0].text, "unknown section [provder x] (did you mean provider?)"));
	cr_assert_eq(e[1].line, 4);
	cr_assert(strstr(e[1].text, "(did you mean okta/device-code?)"), "%s", e[1].text);
	cr_assert_eq(e[2].line, 5);
	cr_assert(strstr(e[2].text, "provider q (okta/device-code) has no client_id"), "%s",
	          e[2].text);
	cr_assert_eq(e[3].line, 8);
	cr_assert(strstr(e[3].text, "unknown key \"clientid\" in [provider q] (did you mean "
	                            "client_id?)"));
	cr_assert(strstr(err.msg, ":1: unknown section"));
	config_free(cfg);
	/* Other readers keep the first error only. */
	cr_assert_eq(config_load(path, &cfg, &err), -1);
	cr_assert(strstr(err.msg, ":1: unknown section"));
	free(path);
}

Test(config, load_all_checks_files)
{
	char *key = write_file("key.pem", "-----BEGIN PRIVATE KEY-----\n", 0644);
	char *text = xasprintf("[provider r]\nkind = okta/service-account\n"
	                       "org_url = https://x.okta.com\nclient_id = c\nscopes = a\n"
	                       "private_key = %s\nca_bundle = %s/none.pem\n",
	                       key, tmpdir);
	char *path = write_file("config", text, 0600);
	const struct config_error *e;
	struct config *cfg = NULL;
	okc_err err = {0};

	cr_assert_eq(config_load_all(path, &cfg, &err), -1);
	cr_assert_eq(config_errors(cfg, &e), 2);
	cr_assert_eq(e[0].line, 6);
	cr_assert(strstr(e[0].text, "is readable by group or others"), "%s", e[0].text);
	cr_assert_eq(e[1].line, 7);
	cr_assert(strstr(e[1].text, "No such file"), "%s", e[1].text);
	config_free(cfg);
	/* Only config validate looks at them. */
	cr_assert_eq(config_load(path, &cfg, &err), 0, "%s", err.msg);
	config_free(cfg);
	chmod(key, 0600);
	free(text);
	text = xasprintf("[provider r]\nkind = okta/service-account\n"
	                 "org_url = https://x.okta.com\nclient_id = c\nscopes = a\n"
	                 "private_key = %s\n",
	                 key);
	free(path);
	path = write_file("config", text, 0600);
	cr_assert_eq(config_load_all(path, &cfg, &err), 0, "%s", err.msg);
	config_free(cfg);
	free(text);
	free(path);
	free(key);
}

Test(config, load_all_refuses_an_empty_file)
{
	char *path = write_file("config", "; nothing yet\n", 0600);
	struct config *cfg = NULL;
	okc_err err = {0};

	cr_assert_eq(config_load_all(path, &cfg, &err), -1);
	cr_assert(strstr(err.msg, "no providers or identities"));
	cr_assert_str_eq(err.hint, "run: oktacred init");
	config_free(cfg);
	free(path);
}

/* ---- config_file_set: default_role remembered ---- */

static char *file_set(const char *text, const char *name, const char *value, okc_err *err)
{
	char *path = write_file("edit", text, 0640), *out;
	struct stat st;
	FILE *f;

	if (config_file_set(path, "identity", name, "default_role", value, err) < 0) {
		free(path);
		return NULL;
	}
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_mode & 07777, 0640, "the file's mode is kept");
	out = xcalloc(1, 4096);
	f = fopen(path, "rb");
	cr_assert_not_null(f);
	cr_assert(fread(out, 1, 4095, f) < 4095);
	fclose(f);
	free(path);
	return out;
}

Test(config, file_set_adds_after_the_last_setting)
{
	okc_err err;
	char *s = file_set("[identity a]\nkind = x ; note\n\n[identity  b ]\nkind = y\n"
	                   "role_map = G=arn\n; a comment of b's\n\n[provider p]\nk = v\n",
	                   "b", "arn:x", &err);

	cr_assert_not_null(s, "%s", err.msg);
	cr_assert_str_eq(s, "[identity a]\nkind = x ; note\n\n[identity  b ]\nkind = y\n"
	                    "role_map = G=arn\ndefault_role = arn:x\n; a comment of b's\n\n"
	                    "[provider p]\nk = v\n");
	free(s);
}

Test(config, file_set_replaces_the_key_and_ends_a_last_line)
{
	okc_err err;
	char *s = file_set("[identity b]\ndefault_role: old\nkind = y", "b", "new", &err);

	cr_assert_str_eq(s, "[identity b]\ndefault_role = new\nkind = y");
	free(s);
	s = file_set("[identity b]\nkind = y", "b", "new", &err);
	cr_assert_str_eq(s, "[identity b]\nkind = y\ndefault_role = new\n");
	free(s);
}

Test(config, file_set_without_the_section)
{
	okc_err err;

	cr_assert_null(file_set("[identity bb]\nkind = y\n[provider b]\n", "b", "v", &err));
	cr_assert_eq(err.code, OKC_EXIT_FAIL);
	cr_assert(strstr(err.msg, "has no [identity b] section"), "%s", err.msg);
}

/* config_check_each (status, config list, logout --all, refresh --all): a broken section
 * does not stop the others; an identity over a broken provider carries its error. */
Test(config, check_each_skips_a_broken_section)
{
	char *path = write_file("config",
	                        P_DC "[provider b]\nkind = okta/device-code\n"
	                             "org_url = ${OKC_TEST_UNSET_VARIABLE}\nclient_id = c\n"
	                             "[identity i]\nkind = okta/api-access\nprovider = b\n"
	                             "[identity j]\nkind = okta/api-access\nprovider = p\n",
	                        0644);
	const struct identity_cfg *id;
	const struct provider_cfg *p;
	struct config *cfg = NULL;
	const okc_err *e;
	okc_err err = {0};

	/* Group-readable: checked whole for secrets, yet a broken section does not fail it. */
	cr_assert_eq(config_open(path, &cfg, &err), 0, "%s", err.msg);
	cr_assert_eq(config_check_each(cfg), 2);
	cr_assert_null(config_section_error(cfg, config_find_provider(cfg, "p")));
	cr_assert_null(config_section_error(cfg, config_find_identity(cfg, "j")));
	e = config_section_error(cfg, config_find_provider(cfg, "b"));
	cr_assert_not_null(e);
	cr_assert(strstr(e->msg, ":7: ${OKC_TEST_UNSET_VARIABLE} is not set"), "%s", e->msg);
	cr_assert_str_eq(config_section_error(cfg, config_find_identity(cfg, "i"))->msg, e->msg);
	cr_assert_eq(config_resolve(cfg, "j", &id, &p, &err), 0, "%s", err.msg);
	cr_assert_str_eq(p->name, "p");
	cr_assert_eq(config_resolve(cfg, "i", &id, &p, &err), -1);
	cr_assert_str_eq(err.msg, e->msg);
	config_free(cfg);
	free(path);
}

/* A file without a section: every NAME points at oktacred init. */
Test(config, empty_file_points_at_init)
{
	char *path = write_file("config", "; nothing yet\n", 0600);
	const struct identity_cfg *id;
	const struct provider_cfg *p;
	struct config *cfg = NULL;
	okc_err err = {0};

	cr_assert_eq(config_open(path, &cfg, &err), 0, "%s", err.msg);
	cr_assert_eq(config_resolve(cfg, "x", &id, &p, &err), -1);
	cr_assert(strstr(err.msg, ": no providers or identities"), "%s", err.msg);
	cr_assert_str_eq(err.hint, "run: oktacred init");
	cr_assert_eq(config_resolve(cfg, NULL, &id, &p, &err), -1);
	cr_assert_str_eq(err.hint, "run: oktacred init");
	config_free(cfg);
	free(path);
}
