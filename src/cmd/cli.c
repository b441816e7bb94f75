/* cli.c: the table of commands and options, the parser, --help, and the error
 * printing every command shares. */
#include "oktacred/cli.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "oktacred/config.h"
#include "oktacred/front.h"
#include "oktacred/identity.h"
#include "oktacred/log.h"
#include "oktacred/login.h"
#include "oktacred/paths.h"
#include "oktacred/provider.h"
#include "oktacred/sig.h"
#include "oktacred/util.h"

const struct cli_option cli_global_options[] = {
    {"--config", 0, "FILE", "read this configuration file"},
    {"--verbose", 'v', NULL, "say what is happening"},
    {"--debug", 0, NULL, "trace HTTP requests (secrets redacted)"},
    {"--no-color", 0, NULL, "no colours"},
    {"--help", 'h', NULL, "show help"},
    {"--version", 0, NULL, "show the version"},
    {NULL, 0, NULL, NULL},
};

static const struct cli_option login_opts[] = {
    {"--force", 0, NULL, "log in again even when the session is valid"},
    {"--no-browser", 0, NULL, "do not open a browser"},
    {"--no-qr", 0, NULL, "do not draw the QR code"},
    {"--flow", 0, "FLOW", "device, browser or paste (default: the provider's flow key)"},
    {NULL, 0, NULL, NULL},
};
static const struct cli_option logout_opts[] = {
    {"--all", 0, NULL, "log out of every provider"},
    {"--revoke", 0, NULL, "also revoke the refresh token at the provider"},
    {NULL, 0, NULL, NULL},
};
static const struct cli_option status_opts[] = {
    {"--json", 0, NULL, "machine-readable output"},
    {"--short", 0, NULL, "one line for a shell prompt: NAME and time left (files only)"},
    {NULL, 0, NULL, NULL},
};
static const struct cli_option refresh_opts[] = {
    {"--all", 0, NULL, "every provider that has a session"},
    {NULL, 0, NULL, NULL},
};
static const struct cli_option token_opts[] = {
    {"--id-token", 0, NULL, "the ID token instead of the access token"},
    {"--json", 0, NULL, "the token with its type and expiry as JSON"},
    {NULL, 0, NULL, NULL},
};
static const struct cli_option dpop_proof_opts[] = {
    {"--method", 0, "METHOD", "the request's HTTP method (GET, POST, ...)"},
    {"--url", 0, "URL", "the request's URL (query and fragment are left out of the proof)"},
    {NULL, 0, NULL, NULL},
};
static const struct cli_option env_opts[] = {
    {"--format", 0, "FORMAT", "sh (default), fish, powershell, json or dotenv"},
    {"--unset", 0, NULL, "print what undoes an earlier eval"},
    {"--role", 0, "ROLE", "AWS: the role to assume (role_map group, role name or ARN)"},
    {NULL, 0, NULL, NULL},
};
static const struct cli_option exec_opts[] = {
    {"--server", 0, NULL, "stay as the parent: AWS credentials or an Okta API proxy on loopback"},
    {"--role", 0, "ROLE", "AWS: the role to assume (role_map group, role name or ARN)"},
    {NULL, 0, NULL, NULL},
};
static const struct cli_option credential_process_opts[] = {
    {"--role", 0, "ROLE", "the role to assume (role_map group, role name or ARN)"},
    {NULL, 0, NULL, NULL},
};
static const struct cli_option aws_config_opts[] = {
    {"--write", 0, NULL, "merge the profiles into the AWS config file (a backup first)"},
    {"--force", 0, NULL, "--write: also replace profiles of those names not made by oktacred"},
    {NULL, 0, NULL, NULL},
};
static const struct cli_option credential_opts[] = {
    {"--role", 0, "ROLE", "AWS: the role to assume (role_map group, role name or ARN)"},
    {NULL, 0, NULL, NULL},
};
static const struct cli_option kubeconfig_opts[] = {
    {"--cluster", 0, "CLUSTER", "also a context binding the user to this kubeconfig cluster"},
    {NULL, 0, NULL, NULL},
};
static const struct cli_option config_opts[] = {
    {"--names", 0, NULL, "list: only the names, one per line"},
    {"--json", 0, NULL, "list: machine-readable output"},
    {"--online", 0, NULL, "validate: also check each provider against its server"},
    {NULL, 0, NULL, NULL},
};
static const struct cli_option init_opts[] = {
    {"--org-url", 0, "URL", "the Okta org (https://company.okta.com)"},
    {"--client-id", 0, "ID", "the client id of the OIDC Native application"},
    {"--authorization-server", 0, "S", "org, default (the default) or a custom server id"},
    {"--name", 0, "NAME", "what to call the provider (default: okta)"},
    {"--force", 0, NULL, "replace an existing configuration"},
    {NULL, 0, NULL, NULL},
};
static const struct cli_option no_opts[] = {{NULL, 0, NULL, NULL}};

const struct cli_command cli_commands[] = {
    {"init", NULL, cmd_init, "", "write a first configuration (asks what options do not say)",
     init_opts, 0},
    {"login", NULL, cmd_login, "[NAME]",
     "log in (device code, browser or paste) and cache the tokens", login_opts, 0},
    {"logout", NULL, cmd_logout, "[NAME...]", "delete cached tokens", logout_opts, 0},
    {"status", "whoami", cmd_status, "[NAME...]", "who is logged in where", status_opts, 0},
    {"refresh", NULL, cmd_refresh, "[NAME...]", "refresh sessions now", refresh_opts, 0},
    {"token", NULL, cmd_token, "[NAME]", "print a fresh access (or ID) token", token_opts, 0},
    {"dpop-proof", NULL, cmd_dpop_proof, "[NAME]",
     "a DPoP proof for one request with the access token (dpop = true)", dpop_proof_opts, 0},
    {"env", NULL, cmd_env, "[NAME]", "print the environment for eval", env_opts, 0},
    {"exec", NULL, cmd_exec, "[NAME] [--] CMD [ARGS...]", "run CMD with the environment", exec_opts,
     CLI_TAKES_REST},
    {"credential-process", NULL, cmd_credential_process, "[NAME]",
     "AWS credentials as credential_process JSON", credential_process_opts, 0},
    {"aws-config", NULL, cmd_aws_config, "[NAME...]",
     "the ~/.aws/config profiles of the AWS identities", aws_config_opts, 0},
    {"credential", NULL, cmd_credential, "[NAME]",
     "the credential in the format its client reads (kubectl: ExecCredential)", credential_opts, 0},
    {"kubeconfig", NULL, cmd_kubeconfig, "[NAME]",
     "the kubeconfig user entry that runs oktacred for kubectl", kubeconfig_opts, 0},
    {"gcp-config", NULL, cmd_gcp_config, "[NAME]",
     "the Google Cloud credential file that runs oktacred", no_opts, 0},
    {"config", NULL, cmd_config, "validate|list", "check or list the configuration", config_opts,
     0},
    {"version", NULL, cmd_version, "", "show the version", no_opts, 0},
    {"help", NULL, cmd_help, "[COMMAND]", "show help", no_opts, 0},
    {NULL, NULL, NULL, NULL, NULL, NULL, 0},
};

static const struct cli_command *find_command(const char *name)
{
	const struct cli_command *c;

	for (c = cli_commands; c->name; c++)
		if (strcmp(c->name, name) == 0 || (c->alias && strcmp(c->alias, name) == 0))
			return c;
	return NULL;
}

/* "unknown command" with the nearest command or alias when one is close enough to be a
 * typo: at most 1 edit for a short word, 2 for a longer one. */
static int unknown_command(struct cli_ctx *ctx, const char *name)
{
	const struct cli_command *c;
	const char *best = NULL;
	size_t best_d = strlen(name) < 4 ? 1 : 2;

	for (c = cli_commands; c->name; c++) {
		const char *names[2] = {c->name, c->alias};

		for (int k = 0; k < 2; k++) {
			size_t d;

			if (!names[k])
				continue;
			d = str_distance(name, names[k]);
			if (d <= best_d && (!best || d < str_distance(name, best))) {
				best = names[k];
				best_d = d;
			}
		}
	}
	if (best)
		return cli_usage_error(ctx, "unknown command \"%s\" (did you mean %s?)", name,
		                       best);
	return cli_usage_error(ctx, "unknown command \"%s\"", name);
}

static void print_options(FILE *out, const struct cli_option *opts)
{
	const struct cli_option *o;

	for (o = opts; o && o->name; o++) {
		char left[64];

		if (o->short_name)
			snprintf(left, sizeof(left), "-%c, %s%s%s", o->short_name, o->name,
			         o->arg ? " " : "", o->arg ? o->arg : "");
		else
			snprintf(left, sizeof(left), "    %s%s%s", o->name, o->arg ? " " : "",
			         o->arg ? o->arg : "");
		fprintf(out, "  %-24s %s\n", left, o->help);
	}
}

static void print_help(FILE *out, const struct cli_command *cmd)
{
	const struct cli_command *c;

	if (cmd) {
		fprintf(out, "usage: oktacred %s%s%s\n\n%s%s%s.\n", cmd->name,
		        cmd->args[0] ? " " : "", cmd->args, cmd->summary,
		        cmd->alias ? "; alias: " : "", cmd->alias ? cmd->alias : "");
		if (cmd->options[0].name) {
			fputs("\noptions:\n", out);
			print_options(out, cmd->options);
		}
		fputs("\nglobal options:\n", out);
		print_options(out, cli_global_options);
		return;
	}
	fputs("usage: oktacred [--config FILE] [-v|--verbose] [--debug] [--no-color] COMMAND "
	      "[ARGS]\n\n"
	      "Okta credentials for shells, tools and child processes.\n\ncommands:\n",
	      out);
	for (c = cli_commands; c->name; c++) {
		char left[64];

		snprintf(left, sizeof(left), "%s %s", c->name, c->args);
		fprintf(out, "  %-28s %s\n", left, c->summary);
	}
	fputs("\nglobal options:\n", out);
	print_options(out, cli_global_options);
	fputs("\nNAME is an identity or a provider from the configuration; without one, "
	      "[defaults] identity is used.\n"
	      "Exit codes: 0 ok, 1 failure, 2 usage or configuration, 3 login required,\n"
	      "4 identity provider unreachable, 5 login not completed, 130 interrupted\n"
	      "(143 SIGTERM, 129 SIGHUP).\n"
	      "See oktacred(1) and oktacred-config(5).\n",
	      out);
}

int cli_flag(const struct cli_ctx *ctx, const char *name)
{
	return cli_value(ctx, name) != NULL;
}

const char *cli_value(const struct cli_ctx *ctx, const char *name)
{
	int i;

	for (i = 0; ctx->cmd && ctx->cmd->options[i].name; i++)
		if (strcmp(ctx->cmd->options[i].name, name) == 0)
			return ctx->values[i];
	return NULL;
}

int cli_usage_error(struct cli_ctx *ctx, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	okc_fail(&ctx->err, OKC_EXIT_USAGE, "%s%s%s", ctx->cmd ? ctx->cmd->name : "",
	         ctx->cmd ? ": " : "", msg);
	if (ctx->cmd)
		okc_hint(&ctx->err, "usage: oktacred %s %s (see: oktacred %s --help)",
		         ctx->cmd->name, ctx->cmd->args, ctx->cmd->name);
	else
		okc_hint(&ctx->err, "see: oktacred --help");
	return -1;
}

int cli_config(struct cli_ctx *ctx)
{
	if (ctx->cfg)
		return 0;
	return config_open(ctx->config_path, &ctx->cfg, &ctx->err);
}

int cli_config_each(struct cli_ctx *ctx)
{
	const struct config *cfg;
	const okc_err **said;
	size_t nsaid = 0, i = 0, j = 0;

	if (cli_config(ctx) < 0)
		return -1;
	cfg = ctx->cfg;
	if (!config_check_each(ctx->cfg))
		return 0;
	said = xcalloc(cfg->nproviders + cfg->nidentities, sizeof(*said));
	/* In the order of the file; an identity broken by its provider repeats its error. */
	while (i < cfg->nproviders || j < cfg->nidentities) {
		int prov =
		    j >= cfg->nidentities ||
		    (i < cfg->nproviders && cfg->providers[i].line < cfg->identities[j].line);
		const okc_err *e = prov ? config_section_error(cfg, &cfg->providers[i++])
		                        : config_section_error(cfg, &cfg->identities[j++]);
		size_t k;

		if (!e)
			continue;
		for (k = 0; k < nsaid && strcmp(said[k]->msg, e->msg) != 0; k++)
			;
		if (k < nsaid)
			continue;
		said[nsaid++] = e;
		log_error("%s", e->msg);
	}
	free(said);
	return (int)nsaid;
}

void cli_config_warnings(struct cli_ctx *ctx, const void *a, const void *b, int loud)
{
	const struct config_warning *w;
	size_t n = config_warnings(ctx->cfg, &w);

	for (size_t i = 0; i < n; i++) {
		if ((a || b) && w[i].section != a && w[i].section != b)
			continue;
		if (loud)
			log_warn("%s", w[i].text);
		else
			log_verbose("configuration warning: %s", w[i].text);
	}
}

int cli_identity_request(struct cli_ctx *ctx, const char *name, struct identity_request *req)
{
	memset(req, 0, sizeof(*req));
	if (cli_config(ctx) < 0 || config_resolve(ctx->cfg, name, &req->id, &req->p, &ctx->err) < 0)
		return -1;
	cli_config_warnings(ctx, req->id, req->p, 0);
	req->name = req->id ? req->id->name : req->p->name;
	req->role = cli_value(ctx, "--role");
	if (req->role && !identity_kind_of(req->id)->takes_role)
		return cli_usage_error(ctx,
		                       "--role is for identities that choose among roles; %s (%s) "
		                       "is not one",
		                       req->name, identity_kind_of(req->id)->config.name);
	return 0;
}

/* The program a client should run (kubectl, Google's libraries): the first "oktacred" on PATH when
 * it is this program (its path as PATH has it: a link such as /usr/local/bin/oktacred stays valid
 * across upgrades where the file it points to may not); else this program's own file; else
 * "oktacred". */
char *cli_self_program(void)
{
	char self[PATH_MAX];
	const char *path = getenv("PATH");
	struct stat me, st;
	long n = front_self_exe(self, sizeof(self)); /* the front's file (front.h) */

	if (n <= 0)
		return xstrdup("oktacred");
	if (stat(self, &me) < 0)
		return xstrdup(self);
	while (path && *path) {
		size_t len = strcspn(path, ":");

		if (len > 0 && path[0] == '/') {
			char *dir = xasprintf("%.*s", (int)len, path);
			char *candidate = paths_join(dir, "oktacred");

			free(dir);
			if (stat(candidate, &st) == 0 && access(candidate, X_OK) == 0) {
				if (st.st_dev == me.st_dev && st.st_ino == me.st_ino)
					return candidate;
				free(candidate);
				break; /* a client would find this other one first */
			}
			free(candidate);
		}
		path += len + (path[len] == ':');
	}
	return xstrdup(self);
}

/* --config FILE as an absolute path: clients run oktacred in their own directory. */
char *cli_config_arg(const struct cli_ctx *ctx)
{
	char cwd[PATH_MAX];
	const char *file = ctx->config_path;

	if (!file)
		return NULL;
	if (file[0] == '/' || !getcwd(cwd, sizeof(cwd)))
		return xstrdup(file);
	return paths_join(cwd, file);
}

int cli_identity_environment(struct cli_ctx *ctx, struct identity_request *req, struct envset *env)
{
	char *program = NULL, *config = NULL;
	int rc;

	if (identity_kind_of(req->id)->gcp_config) {
		req->program = program = cli_self_program();
		req->config_path = config = cli_config_arg(ctx);
	}
	rc = identity_environment(req, env, &ctx->err);
	req->program = req->config_path = NULL;
	free(program);
	free(config);
	return rc;
}

int cli_print(struct cli_ctx *ctx, const struct buf *out)
{
	if (fwrite(out->data, 1, out->len, stdout) != out->len || fflush(stdout) != 0)
		return okc_fail(&ctx->err, OKC_EXIT_FAIL, "cannot write to stdout");
	return 0;
}

int cli_login(struct cli_ctx *ctx, const struct provider_cfg *p, struct login_opts *o)
{
	if (!provider_can(p, PROVIDER_LOGIN))
		return okc_fail(&ctx->err, OKC_EXIT_USAGE,
		                "%s: a %s provider needs no login: its tokens are fetched when "
		                "needed",
		                p->name, p->kind->name);
	o->session_changed = identity_session_changed;
	return login_interactive(p, o, &ctx->err);
}

/* Matches argv[*i] against opts (long "--name", "--name=value", short "-x"). Returns 1
 * when matched (advancing *i past a separate value), 0 when not an option of opts, -1
 * on a missing value. */
static int match_option(const struct cli_option *opts, int argc, char **argv, int *i, int *index,
                        const char **value)
{
	const char *a = argv[*i];
	int k;

	for (k = 0; opts[k].name; k++) {
		size_t n = strlen(opts[k].name);
		int is_long = strncmp(a, opts[k].name, n) == 0 && (a[n] == '\0' || a[n] == '=');
		int is_short =
		    opts[k].short_name && a[0] == '-' && a[1] == opts[k].short_name && a[2] == '\0';

		if (!is_long && !is_short)
			continue;
		*index = k;
		if (!opts[k].arg) {
			if (is_long && a[n] == '=')
				return -1;
			*value = "1";
		} else if (is_long && a[n] == '=') {
			*value = a + n + 1;
		} else if (*i + 1 < argc) {
			*value = argv[++*i];
		} else {
			return -1;
		}
		return 1;
	}
	return 0;
}

static int apply_global(struct cli_ctx *ctx, int index, const char *value)
{
	const char *name = cli_global_options[index].name;

	if (strcmp(name, "--config") == 0)
		ctx->config_path = value;
	else if (strcmp(name, "--verbose") == 0)
		ctx->verbose = 1;
	else if (strcmp(name, "--debug") == 0)
		ctx->debug = 1;
	else if (strcmp(name, "--no-color") == 0)
		ctx->no_color = 1;
	else if (strcmp(name, "--help") == 0)
		return 'h';
	else if (strcmp(name, "--version") == 0)
		return 'V';
	return 0;
}

/* Whether word names an identity or a provider of the configuration (read here, with the
 * --config given so far): 1 or 0, or -1 when the configuration cannot be read. A name
 * wins over a program of the same name. */
static int names_section(struct cli_ctx *ctx, const char *word)
{
	if (cli_config(ctx) < 0)
		return -1;
	return config_find_identity(ctx->cfg, word) || config_find_provider(ctx->cfg, word);
}

static int report(struct cli_ctx *ctx, int rc)
{
	if (rc == 0)
		return 0;
	if (!ctx->err.code)
		ctx->err.code = OKC_EXIT_FAIL;
	/* 130, 143 or 129: which signal ended the command. */
	if (ctx->err.code == OKC_EXIT_INTERRUPTED)
		ctx->err.code = sig_exit_code();
	if (ctx->err.msg[0])
		log_error("%s", ctx->err.msg);
	if (ctx->err.hint[0])
		fprintf(stderr, "%s\n", ctx->err.hint);
	return ctx->err.code;
}

int cli_main(int argc, char **argv)
{
	struct cli_ctx ctx;
	int i, special = 0, rc;

	memset(&ctx, 0, sizeof(ctx));
	ctx.argv0 = argc > 0 ? argv[0] : NULL;
	ctx.pos = xcalloc((size_t)argc + 1, sizeof(char *));
	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *value = NULL;
		int index, m;

		if (strcmp(a, "--") == 0) {
			if (ctx.cmd && (ctx.cmd->flags & CLI_TAKES_REST)) {
				ctx.has_rest = 1;
				ctx.rest = argv + i + 1;
				ctx.nrest = argc - i - 1;
				break;
			}
			/* Elsewhere "--" ends the options: the rest are positionals. */
			for (i++; i < argc; i++)
				ctx.pos[ctx.npos++] = argv[i];
			break;
		}
		m = match_option(cli_global_options, argc, argv, &i, &index, &value);
		if (m > 0 && ctx.cfg && strcmp(cli_global_options[index].name, "--config") == 0) {
			/* exec read the configuration at its NAME, which came first. */
			rc = cli_usage_error(&ctx, "--config goes before NAME");
			goto out;
		}
		if (m > 0) {
			int s = apply_global(&ctx, index, value);

			special = special ? special : s;
			continue;
		}
		if (m == 0 && ctx.cmd)
			m = match_option(ctx.cmd->options, argc, argv, &i, &index, &value);
		if (m > 0) {
			ctx.values[index] = value;
			continue;
		}
		if (m < 0) {
			rc = cli_usage_error(&ctx, "option %s needs %s", a,
			                     strchr(a, '=') ? "no value" : "a value");
			goto out;
		}
		if (a[0] == '-' && a[1] != '\0') {
			rc = cli_usage_error(&ctx, "unknown option %s%s", a,
			                     ctx.cmd && (ctx.cmd->flags & CLI_TAKES_REST)
			                         ? " (a command that starts with - goes after --)"
			                         : "");
			goto out;
		}
		if (!ctx.cmd) {
			ctx.cmd = find_command(a);
			if (!ctx.cmd) {
				rc = unknown_command(&ctx, a);
				goto out;
			}
			continue;
		}
		if (ctx.cmd->flags & CLI_TAKES_REST) {
			/* exec: a first word that names an identity or a provider is NAME; any
			 * other word starts the command, which takes every word after it as they
			 * are. */
			int is_name = ctx.npos == 0 && !special ? names_section(&ctx, a) : 0;

			if (is_name < 0) {
				rc = -1;
				goto out;
			}
			if (is_name) {
				ctx.pos[ctx.npos++] = argv[i];
				continue;
			}
			ctx.has_rest = 1;
			ctx.rest = argv + i;
			ctx.nrest = argc - i;
			break;
		}
		ctx.pos[ctx.npos++] = argv[i];
	}
	log_init(ctx.debug ? LOG_DEBUG : ctx.verbose ? LOG_VERBOSE : LOG_NORMAL, !ctx.no_color);
	/* `version --help` is help, like every other command's --help. */
	if (special == 'V' || (ctx.cmd && ctx.cmd->run == cmd_version && special != 'h')) {
		rc = cmd_version(&ctx);
	} else if (special == 'h' || !ctx.cmd) {
		print_help(ctx.cmd || special ? stdout : stderr, ctx.cmd);
		rc = special ? 0 : okc_fail(&ctx.err, OKC_EXIT_USAGE, "no command given");
	} else {
		rc = ctx.cmd->run(&ctx);
	}
out:
	rc = report(&ctx, rc);
	config_free(ctx.cfg);
	free(ctx.pos);
	return rc;
}

int cmd_version(struct cli_ctx *ctx)
{
	(void)ctx;
	printf("oktacred %s\n", OKTACRED_VERSION);
	return 0;
}

int cmd_help(struct cli_ctx *ctx)
{
	const struct cli_command *c = NULL;

	if (ctx->npos > 1)
		return cli_usage_error(ctx, "too many arguments");
	if (ctx->npos == 1 && !(c = find_command(ctx->pos[0])))
		return unknown_command(ctx, ctx->pos[0]);
	print_help(stdout, c);
	return 0;
}
