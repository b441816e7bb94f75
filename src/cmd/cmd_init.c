/* cmd_init.c: `oktacred init`: writes a first configuration (an okta/device-code
 * provider, optionally an okta/api-access and an aws/assume-role identity) after asking
 * the org's discovery document whether it offers the device authorization grant. Asks
 * on the terminal what the options do not say; nothing secret is asked or written. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "oktacred/authcode.h"
#include "oktacred/buf.h"
#include "oktacred/cli.h"
#include "oktacred/config.h"
#include "oktacred/discovery.h"
#include "oktacred/log.h"
#include "oktacred/paths.h"
#include "oktacred/provider.h"
#include "oktacred/store.h"
#include "oktacred/util.h"

#define DEVICE_GRANT "urn:ietf:params:oauth:grant-type:device_code"

struct init_answers {
	char *org_url;
	char *client_id;
	char *server;
	char *name;
	int api_access;
	int aws;
	char *role_arn;
	char *region;
	int browser; /* the server has no device grant: flow = browser */
};

static void answers_free(struct init_answers *a)
{
	free(a->org_url);
	free(a->client_id);
	free(a->server);
	free(a->name);
	free(a->role_arn);
	free(a->region);
}

/* One line from stdin without its newline and surrounding blanks; NULL at end of input. */
static char *read_line(void)
{
	char *line = NULL, *s, *e;
	size_t cap = 0;
	ssize_t n = getline(&line, &cap, stdin);

	if (n < 0) {
		free(line);
		return NULL;
	}
	for (s = line; *s == ' ' || *s == '\t'; s++)
		;
	e = s + strlen(s);
	while (e > s && (e[-1] == '\n' || e[-1] == '\r' || e[-1] == ' ' || e[-1] == '\t'))
		e--;
	s = xstrndup(s, (size_t)(e - s));
	free(line);
	return s;
}

/* Asks on stderr; an empty answer takes def (NULL: asks again). Returns the answer, or
 * NULL with err at the end of input. */
static char *ask(const char *question, const char *def, okc_err *err)
{
	for (;;) {
		char *a;

		fprintf(stderr, "%s%s%s%s: ", question, def ? " [" : "", def ? def : "",
		        def ? "]" : "");
		fflush(stderr);
		a = read_line();
		if (!a) {
			fputc('\n', stderr);
			okc_fail(err, OKC_EXIT_USAGE, "init: no answer (end of input)");
			return NULL;
		}
		if (*a)
			return a;
		free(a);
		if (def)
			return xstrdup(def);
	}
}

static int ask_yes_no(const char *question, int def, int *out, okc_err *err)
{
	for (;;) {
		char *a = ask(question, def ? "Y/n" : "y/N", err);

		if (!a)
			return -1;
		if (!strcmp(a, "Y/n") || !strcmp(a, "y/N")) {
			*out = def;
		} else if (!strcasecmp(a, "y") || !strcasecmp(a, "yes")) {
			*out = 1;
		} else if (!strcasecmp(a, "n") || !strcasecmp(a, "no")) {
			*out = 0;
		} else {
			free(a);
			fputs("please answer y or n\n", stderr);
			continue;
		}
		free(a);
		return 0;
	}
}

/* What the options left open, asked on the terminal. */
static int ask_missing(struct init_answers *a, okc_err *err)
{
	fputs("Setting up oktacred. You need an Okta OIDC Native application with the Device "
	      "Authorization\nand Refresh Token grant types (its client id; no secret).\n",
	      stderr);
	if (!a->org_url &&
	    !(a->org_url = ask("Okta org URL (https://company.okta.com)", NULL, err)))
		return -1;
	if (!a->client_id && !(a->client_id = ask("Client id", NULL, err)))
		return -1;
	if (!a->server &&
	    !(a->server = ask("Authorization server (org, default or a custom server's id)",
	                      "default", err)))
		return -1;
	if (!a->name && !(a->name = ask("Name of this provider", "okta", err)))
		return -1;
	if (ask_yes_no("Add an okta/api-access identity (Okta API tokens)?", 1, &a->api_access,
	               err) < 0 ||
	    ask_yes_no("Add an aws/assume-role identity (AWS credentials)?", 0, &a->aws, err) < 0)
		return -1;
	if (a->aws && (!(a->role_arn = ask("AWS role ARN", NULL, err)) ||
	               !(a->region = ask("AWS region", "us-east-1", err))))
		return -1;
	return 0;
}

/* Values go into the file as they are: refuse what would change its lines. */
static int check_value(const char *what, const char *v, okc_err *err)
{
	for (const char *s = v; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f || *s == '#' || *s == ';')
			return okc_fail(err, OKC_EXIT_USAGE,
			                "init: %s: no control characters, '#' or ';'", what);
	if (!*v)
		return okc_fail(err, OKC_EXIT_USAGE, "init: %s is empty", what);
	return 0;
}

static int listed(char *const *list, size_t n, const char *want)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(list[i], want))
			return 1;
	return 0;
}

/* The org's discovery document, judged as `config validate --online` judges an
 * okta/device-code provider; without the device grant but with the authorization code
 * grant, as one with flow = browser (a->browser set); with neither, a plain word. */
static int check_discovery(struct init_answers *a, okc_err *err)
{
	struct provider_cfg p;
	struct oauth_discovery d;
	char problem[512];
	int rc = 0;

	memset(&p, 0, sizeof(p));
	p.name = a->name;
	p.kind = &provider_device_code.config;
	p.org_url = a->org_url;
	p.client_id = a->client_id;
	p.authorization_server = a->server;
	log_info("checking %s's authorization server '%s'...", a->org_url, a->server);
	if (oauth_discover(&p, &d, err) < 0) {
		oauth_discovery_free(&d);
		return -1;
	}
	if (!d.device_authorization_endpoint ||
	    (d.grant_types && !listed(d.grant_types, d.ngrant_types, DEVICE_GRANT))) {
		if (d.grant_types && listed(d.grant_types, d.ngrant_types, "authorization_code")) {
			/* Sign-in in a browser on this machine instead (issue 17's flow). */
			a->browser = 1;
			log_info(
			    "init: authorization server '%s' does not offer the device "
			    "authorization grant: the provider signs in with a browser on this "
			    "machine (flow = browser); %s must be a sign-in redirect URI of the "
			    "application",
			    a->server, AUTHCODE_DEFAULT_REDIRECT);
			if (oauth_discovery_check(&p, &d, &device_code_online_browser, problem,
			                          sizeof(problem)) < 0)
				rc = okc_fail(err, OKC_EXIT_USAGE, "init: %s (%s)", problem, d.url);
		} else {
			rc = okc_fail(err, OKC_EXIT_USAGE,
			              "init: authorization server '%s' offers neither the device "
			              "authorization grant nor the authorization code grant (%s)",
			              a->server, d.url);
			okc_hint(err,
			         "enable the Device Authorization grant on the application and "
			         "in the authorization server's access policy, or pick another "
			         "server (--authorization-server)");
		}
	} else if (oauth_discovery_check(&p, &d, provider_device_code.online, problem,
	                                 sizeof(problem)) < 0) {
		rc = okc_fail(err, OKC_EXIT_USAGE, "init: %s (%s)", problem, d.url);
	}
	oauth_discovery_free(&d);
	return rc;
}

static void render(const struct init_answers *a, struct buf *out)
{
	char *api = a->api_access ? xasprintf("%s-api", a->name) : NULL;

	buf_puts(out,
	         "# oktacred configuration (oktacred-config(5)), written by oktacred init.\n\n");
	if (api || a->aws)
		buf_printf(out, "[defaults]\nidentity = %s\n\n", api ? api : "aws");
	buf_printf(out,
	           "[provider %s]\nkind = okta/device-code\norg_url = %s\nclient_id = %s\n"
	           "authorization_server = %s\nscopes = openid profile email groups "
	           "offline_access\n",
	           a->name, a->org_url, a->client_id, a->server);
	if (a->browser)
		buf_puts(out, "# The server offers no device authorization grant: sign-in in a "
		              "browser here.\nflow = browser\n");
	if (api)
		buf_printf(out, "\n[identity %s]\nkind = okta/api-access\nprovider = %s\n", api,
		           a->name);
	if (a->aws)
		buf_printf(
		    out,
		    "\n[identity aws]\nkind = aws/assume-role\nprovider = %s\nrole_arn = %s\n"
		    "region = %s\n",
		    a->name, a->role_arn, a->region);
	free(api);
}

/* Writes text as dir/base: a temporary file first, loaded as a configuration, then
 * renamed over the final name, so that a file that would not load is never left. */
static int write_checked(const char *dir, const char *base, const struct buf *text, okc_err *err)
{
	char *tmpname = xasprintf(".%s.init", base);
	char *tmp = paths_join(dir, tmpname), *final = paths_join(dir, base);
	struct config *cfg = NULL;
	int rc = -1;

	if (store_write_atomic(dir, tmpname, text->data, text->len, err) < 0)
		goto out;
	if (config_load(tmp, &cfg, err) < 0) {
		okc_wrap(err, "init: the configuration written does not load");
		unlink(tmp);
		goto out;
	}
	{
		const struct config_warning *w;
		size_t n = config_warnings(cfg, &w);

		for (size_t i = 0; i < n; i++)
			log_warn("%s", w[i].text);
	}
	if (rename(tmp, final) < 0) {
		okc_fail(err, OKC_EXIT_FAIL, "init: cannot write %s: %s", final, strerror(errno));
		unlink(tmp);
		goto out;
	}
	rc = 0;
out:
	config_free(cfg);
	free(tmpname);
	free(tmp);
	free(final);
	return rc;
}

int cmd_init(struct cli_ctx *ctx)
{
	struct init_answers a;
	const char *v;
	char *path = NULL, *dir = NULL, *slash;
	struct buf text = {0};
	struct stat st;
	int rc = -1;

	memset(&a, 0, sizeof(a));
	if (ctx->npos)
		return cli_usage_error(ctx, "takes no arguments");
	if ((v = cli_value(ctx, "--org-url")))
		a.org_url = xstrdup(v);
	if ((v = cli_value(ctx, "--client-id")))
		a.client_id = xstrdup(v);
	if ((v = cli_value(ctx, "--authorization-server")))
		a.server = xstrdup(v);
	if ((v = cli_value(ctx, "--name")))
		a.name = xstrdup(v);

	if ((ctx->config_path ? paths_expand_home(ctx->config_path, &path, &ctx->err)
	                      : paths_config_file(&path, &ctx->err)) < 0)
		goto out;
	if (lstat(path, &st) == 0 && !cli_flag(ctx, "--force")) {
		okc_fail(&ctx->err, OKC_EXIT_USAGE, "init: %s already exists", path);
		okc_hint(&ctx->err,
		         "check it: oktacred config validate; or replace it: oktacred init "
		         "--force");
		goto out;
	}

	if (!a.org_url || !a.client_id) {
		if (!isatty(STDIN_FILENO)) {
			cli_usage_error(ctx,
			                "--org-url and --client-id are needed when stdin is not "
			                "a terminal");
			goto out;
		}
		if (ask_missing(&a, &ctx->err) < 0)
			goto out;
	}
	if (!a.server)
		a.server = xstrdup("default");
	if (!a.name)
		a.name = xstrdup("okta");
	{
		size_t n = strlen(a.org_url);

		while (n > 0 && a.org_url[n - 1] == '/')
			a.org_url[--n] = '\0';
	}
	if (check_value("org URL", a.org_url, &ctx->err) < 0 ||
	    check_value("client id", a.client_id, &ctx->err) < 0 ||
	    check_value("authorization server", a.server, &ctx->err) < 0 ||
	    check_value("name", a.name, &ctx->err) < 0 ||
	    (a.aws && (check_value("role ARN", a.role_arn, &ctx->err) < 0 ||
	               check_value("region", a.region, &ctx->err) < 0)))
		goto out;

	if (check_discovery(&a, &ctx->err) < 0)
		goto out;

	dir = xstrdup(path);
	slash = strrchr(dir, '/');
	if (!slash || slash == dir) {
		okc_fail(&ctx->err, OKC_EXIT_USAGE, "init: %s: not a path in a directory", path);
		goto out;
	}
	*slash = '\0';
	if (stat(dir, &st) < 0) {
		if (errno != ENOENT) {
			okc_fail(&ctx->err, OKC_EXIT_FAIL, "init: %s: %s", dir, strerror(errno));
			goto out;
		}
		if (store_ensure_dir(dir, dir, &ctx->err) < 0)
			goto out;
	}
	render(&a, &text);
	if (write_checked(dir, slash + 1, &text, &ctx->err) < 0)
		goto out;
	log_info("wrote %s", path);
	log_info("next: oktacred login %s", a.name);
	rc = 0;
out:
	buf_free(&text);
	answers_free(&a);
	free(path);
	free(dir);
	return rc;
}
