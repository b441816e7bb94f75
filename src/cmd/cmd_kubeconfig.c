/* cmd_kubeconfig.c: `oktacred kubeconfig [NAME] [--cluster C]`: the kubeconfig users: entry
 * (and with --cluster a contexts: entry) whose exec block runs `oktacred credential NAME`,
 * to paste into a kubeconfig or merge with KUBECONFIG=a:b kubectl config view --flatten. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "oktacred/cli.h"
#include "oktacred/front.h"
#include "oktacred/identity.h"
#include "oktacred/paths.h"
#include "oktacred/util.h"

/* The program kubectl should run: the first "oktacred" on PATH when it is this program (its
 * path as PATH has it: a link such as /usr/local/bin/oktacred stays valid across upgrades
 * where the file it points to may not); else this program's own file; else "oktacred". */
static char *self_program(void)
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
				break; /* kubectl would find this other one first */
			}
			free(candidate);
		}
		path += len + (path[len] == ':');
	}
	return xstrdup(self);
}

/* --config FILE as an absolute path: kubectl runs the plugin in its own directory. */
static char *absolute(const char *file)
{
	char cwd[PATH_MAX];

	if (file[0] == '/' || !getcwd(cwd, sizeof(cwd)))
		return xstrdup(file);
	return paths_join(cwd, file);
}

int cmd_kubeconfig(struct cli_ctx *ctx)
{
	const struct identity_kind *kind;
	struct identity_request req;
	const char *cluster = cli_value(ctx, "--cluster");
	struct buf out = BUF_INIT;
	char *program, *config = NULL;
	int rc;

	if (ctx->npos > 1)
		return cli_usage_error(ctx, "too many arguments");
	if (cluster && !cluster[0])
		return cli_usage_error(ctx, "--cluster needs a cluster name");
	if (cli_identity_request(ctx, ctx->npos ? ctx->pos[0] : NULL, &req) < 0)
		return -1;
	kind = identity_kind_of(req.id);
	if (!req.id || !kind->kubeconfig)
		return okc_fail(&ctx->err, OKC_EXIT_USAGE,
		                "%s (%s) is not an identity kubectl can use: kubeconfig is for "
		                "kubernetes/exec-credential identities",
		                req.name, kind->config.name);
	program = self_program();
	if (ctx->config_path)
		config = absolute(ctx->config_path);
	rc = kind->kubeconfig(&req, program, config, cluster, &out, &ctx->err);
	if (rc == 0 && (fwrite(out.data, 1, out.len, stdout) != out.len || fflush(stdout) != 0))
		rc = okc_fail(&ctx->err, OKC_EXIT_FAIL, "cannot write to stdout");
	buf_free(&out);
	free(program);
	free(config);
	return rc;
}
