/* cli.h: the command table and the argument parser. Every command and option is
 * declared once here (cli.c); --help is generated from that table, and the man page
 * and completions are checked against it. */
#ifndef OKTACRED_CLI_H
#define OKTACRED_CLI_H

#include "oktacred/err.h"

struct config;

struct cli_option {
	const char *name; /* "--force" */
	char short_name;  /* 'f', or 0 */
	const char *arg;  /* NULL for a flag, else the value's name ("FORMAT") */
	const char *help;
};

#define CLI_MAX_OPTIONS 16
/* exec: the command is what follows "--", or the first word that is not an option and
 * does not name an identity or a provider (the first word that names one is NAME), with
 * every word after it. */
#define CLI_TAKES_REST 1

struct cli_ctx;

struct cli_command {
	const char *name;
	const char *alias; /* or NULL */
	int (*run)(struct cli_ctx *ctx);
	const char *args;                 /* "[NAME...]" */
	const char *summary;              /* one line */
	const struct cli_option *options; /* terminated by {NULL} */
	int flags;
};

struct cli_ctx {
	const struct cli_command *cmd;
	char **pos; /* positional arguments */
	int npos;
	char **rest; /* the command (CLI_TAKES_REST), or NULL */
	int nrest;
	int has_rest;
	const char *values[CLI_MAX_OPTIONS]; /* by index into cmd->options; flags "1" */
	/* global options */
	const char *argv0; /* how oktacred was run (aws-config writes it into profiles) */
	const char *config_path;
	int verbose;
	int debug;
	int no_color;
	struct config *cfg; /* loaded on demand by cli_config */
	okc_err err;
};

/* The command table, ended by {NULL}. */
extern const struct cli_command cli_commands[];
/* The global options, ended by {NULL}. */
extern const struct cli_option cli_global_options[];

/* Parses argv and runs the command; returns the process exit status. */
int cli_main(int argc, char **argv);

int cli_flag(const struct cli_ctx *ctx, const char *name);
const char *cli_value(const struct cli_ctx *ctx, const char *name);
/* Loads the configuration once (--config, $OKTACRED_CONFIG, XDG): config_open, each
 * section checked when config_resolve names it. Returns 0 or -1 with ctx->err set. */
int cli_config(struct cli_ctx *ctx);
/* For the commands that go through every section (status, config list, logout --all,
 * refresh --all): cli_config, then each section checked alone (config_check_each). Each
 * broken section's error is said on stderr, one line "FILE:LINE: message" in the order of
 * the file (an identity broken by its provider's error adds nothing), and the command goes
 * on with the others, skipping what config_section_error() names. Returns how many errors
 * were said (the command then exits 2 unless it has a worse failure), or -1 with ctx->err
 * set when the file itself cannot be used. */
int cli_config_each(struct cli_ctx *ctx);
/* Prints the configuration's warnings (config_warnings) about the sections a and b (both
 * NULL: every one) on stderr: as warnings when loud, else only with --verbose. */
void cli_config_warnings(struct cli_ctx *ctx, const void *a, const void *b, int loud);
/* Sets a usage error on ctx->err ("COMMAND: why" + "usage: ..." hint); returns -1. */
/* Writes out, the whole of a command's answer, to stdout and flushes it: 0, or -1 with
 * "cannot write to stdout" (exit 1). */
struct buf;
int cli_print(struct cli_ctx *ctx, const struct buf *out);
int cli_usage_error(struct cli_ctx *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Resolves NAME (NULL: the default) into the request an identity is asked: the identity,
 * its provider, the name, --role (refused for kinds that take none). */
struct identity_request;
int cli_identity_request(struct cli_ctx *ctx, const char *name, struct identity_request *req);
/* Fills env with the environment of req, resolved by cli_identity_request (env and exec;
 * req->names_only: no credential is fetched, --unset), with what the kind needs to name
 * this program (gcp/workload-identity's credential file). */
struct envset;
int cli_identity_environment(struct cli_ctx *ctx, struct identity_request *req, struct envset *env);
/* Logs p in (login, an interactive credential-process): refused for a provider without a
 * person's session; the identities are told when the session changed. */
struct login_opts;
struct provider_cfg;
int cli_login(struct cli_ctx *ctx, const struct provider_cfg *p, struct login_opts *o);

/* The program a client that runs oktacred should name (kubeconfig, gcp-config): the first
 * "oktacred" on PATH when it is this program (the path as PATH has it, links kept), else
 * /proc/self/exe, else "oktacred". Allocated. */
char *cli_self_program(void);
/* --config as an absolute path (allocated), or NULL when it was not given. */
char *cli_config_arg(const struct cli_ctx *ctx);

/* Runs the kind's credential() for req and prints it, the whole of stdout; a login it
 * needs runs on the terminal when identity_may_log_in(req) and one is at hand
 * (credential, credential-process). Returns 0 or -1 with ctx->err set. */
int cli_credential_print(struct cli_ctx *ctx, const struct identity_request *req);

/* Command entry points (cmd_*.c). */
int cmd_init(struct cli_ctx *ctx);
int cmd_login(struct cli_ctx *ctx);
int cmd_logout(struct cli_ctx *ctx);
int cmd_status(struct cli_ctx *ctx);
int cmd_refresh(struct cli_ctx *ctx);
int cmd_token(struct cli_ctx *ctx);
int cmd_dpop_proof(struct cli_ctx *ctx);
int cmd_env(struct cli_ctx *ctx);
int cmd_exec(struct cli_ctx *ctx);
int cmd_credential_process(struct cli_ctx *ctx);
int cmd_aws_config(struct cli_ctx *ctx);
int cmd_credential(struct cli_ctx *ctx);
int cmd_kubeconfig(struct cli_ctx *ctx);
int cmd_gcp_config(struct cli_ctx *ctx);
int cmd_config(struct cli_ctx *ctx);
int cmd_version(struct cli_ctx *ctx);
int cmd_help(struct cli_ctx *ctx);

#endif
