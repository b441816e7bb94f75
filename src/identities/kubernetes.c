/* kubernetes.c: the kubernetes/exec-credential identity: the session's ID (or access) token
 * as the bearer token of a kubectl exec credential plugin (client-go's ExecCredential),
 * and the kubeconfig entry that runs it. */
#include <stdlib.h>
#include <string.h>

#include "oktacred/identity.h"
#include "oktacred/json.h"
#include "oktacred/jwt.h"
#include "oktacred/provider.h"
#include "oktacred/util.h"

#define KUBE_V1      "client.authentication.k8s.io/v1"
#define KUBE_V1BETA1 "client.authentication.k8s.io/v1beta1"

struct kube_cfg {
	char *token; /* "id" or "access" */
};

static const struct kube_cfg *kube_cfg(const struct identity_cfg *id)
{
	return id->kind_cfg;
}

static int uses_access_token(const struct identity_cfg *id)
{
	return strcmp(kube_cfg(id)->token, "access") == 0;
}

int kube_exec_info(const char *info, const char **api_version, int *interactive, okc_err *err)
{
	const struct json *spec;
	const char *v = NULL;
	struct json *root;
	int rc = 0;

	*api_version = KUBE_V1;
	*interactive = -1;
	if (!info)
		return 0;
	root = json_parse_object(info, strlen(info));
	if (!root)
		return okc_fail(err, OKC_EXIT_USAGE,
		                "KUBERNETES_EXEC_INFO is not a JSON object (kubectl sets it to an "
		                "ExecCredential)");
	if (json_get_string(root, "apiVersion", &v) < 0) {
		rc = okc_fail(err, OKC_EXIT_USAGE,
		              "KUBERNETES_EXEC_INFO: apiVersion is not a string");
	} else if (!v || strcmp(v, KUBE_V1) == 0) {
		*api_version = KUBE_V1;
	} else if (strcmp(v, KUBE_V1BETA1) == 0) {
		*api_version = KUBE_V1BETA1;
	} else {
		char shown[80];

		rc = okc_fail(
		    err, OKC_EXIT_USAGE,
		    "KUBERNETES_EXEC_INFO: apiVersion \"%s\" is not one oktacred speaks (" KUBE_V1
		    " or " KUBE_V1BETA1 ")",
		    CONFIG_SHOW(v, shown));
		okc_hint(err, "set the exec block's apiVersion to " KUBE_V1
		              " (oktacred kubeconfig prints the whole entry)");
	}
	spec = json_member(root, "spec");
	if (rc == 0 && json_is(spec, JSON_OBJECT)) {
		int b;

		if (json_get_bool(spec, "interactive", &b) == 1)
			*interactive = b;
	}
	json_free(root);
	return rc;
}

int kube_exec_credential_json(const char *api_version, const char *token, time_t exp,
                              struct buf *out)
{
	struct json *root = json_new(JSON_OBJECT), *status;

	json_add_string(root, "apiVersion", api_version);
	json_add_string(root, "kind", "ExecCredential");
	status = json_add_object(root, "status");
	json_add_string(status, "token", token);
	if (exp > 0)
		json_add_time(status, "expirationTimestamp", exp);
	json_print_secret(root, out);
	json_free_secret(root);
	return 0;
}

/* The token and when it expires: the ID token's exp claim, or the access token's expiry. */
static int kube_token(const struct identity_request *req, struct tokens **t, const char **token,
                      time_t *exp, okc_err *err)
{
	return identity_oidc_token(req, uses_access_token(req->id), t, token, exp, err);
}

/* `credential`: the ExecCredential kubectl reads, in the apiVersion it asked for. */
static int kube_credential(const struct identity_request *req, struct buf *out, okc_err *err)
{
	struct tokens *t = NULL;
	const char *api, *token;
	time_t exp;
	int interactive, rc;

	if (kube_exec_info(getenv("KUBERNETES_EXEC_INFO"), &api, &interactive, err) < 0)
		return -1;
	rc = kube_token(req, &t, &token, &exp, err);
	if (rc == 0 && kube_exec_credential_json(api, token, exp, out) < 0)
		rc = okc_fail(err, OKC_EXIT_FAIL, "out of memory");
	tokens_free(t);
	return rc;
}

/* kubectl says whether the person is there (spec.interactive: its stdin is a terminal and
 * interactiveMode allows it); run by hand, the identity's interactive key says. */
static int kube_may_log_in(const struct identity_request *req)
{
	const char *api;
	int interactive;
	okc_err err;

	if (kube_exec_info(getenv("KUBERNETES_EXEC_INFO"), &api, &interactive, &err) < 0)
		return 0;
	return interactive < 0 ? req->id->interactive : interactive;
}

/* env and exec: kubectl fetches its own token through the plugin, so nothing is handed over
 * (KUBECONFIG is not touched); the session is checked first, so that a login that is
 * needed is said before the command runs. */
static int kube_environment(const struct identity_request *req, struct envset *env, okc_err *err)
{
	if (!req->names_only) {
		struct tokens *t = NULL;
		const char *token;
		time_t exp;
		int rc = kube_token(req, &t, &token, &exp, err);

		tokens_free(t);
		if (rc < 0)
			return -1;
	}
	envset_put(env, "OKTACRED_IDENTITY", req->name, 0);
	return 0;
}

/* A YAML double-quoted scalar: any string, safely. */
static void yaml_quoted(struct buf *out, const char *s)
{
	for (buf_putc(out, '"'); *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			buf_printf(out, "\\%c", ch);
		else if (ch < 0x20 || ch == 0x7f)
			buf_printf(out, "\\x%02x", ch);
		else
			buf_putc(out, (char)ch);
	}
	buf_putc(out, '"');
}

/* kubeconfig: the users: entry whose exec block runs `PROGRAM [--config FILE] credential
 * NAME`; with a cluster, the contexts: entry NAME@CLUSTER binding the two. */
static int kube_kubeconfig(const struct identity_request *req, const char *program,
                           const char *config_path, const char *cluster, struct buf *out,
                           okc_err *err)
{
	struct buf tmp = BUF_INIT;

	(void)err;
	buf_puts(out, "users:\n- name: ");
	yaml_quoted(out, req->name);
	buf_puts(out, "\n  user:\n    exec:\n      apiVersion: " KUBE_V1 "\n      command: ");
	yaml_quoted(out, program);
	buf_puts(out, "\n      args:\n");
	if (config_path) {
		buf_puts(out, "      - --config\n      - ");
		yaml_quoted(out, config_path);
		buf_putc(out, '\n');
	}
	buf_puts(out, "      - credential\n      - ");
	yaml_quoted(out, req->name);
	buf_puts(out, "\n      interactiveMode: IfAvailable\n"
	              "      provideClusterInfo: false\n"
	              "      installHint: ");
	buf_printf(&tmp,
	           "This user's credentials come from oktacred (Okta device-flow login), which "
	           "was not found at %s. Install oktacred, then run: oktacred kubeconfig %s",
	           program, req->name);
	yaml_quoted(out, tmp.data);
	buf_putc(out, '\n');
	if (cluster) {
		buf_puts(out, "contexts:\n- name: ");
		buf_reset(&tmp);
		buf_printf(&tmp, "%s@%s", req->name, cluster);
		yaml_quoted(out, tmp.data);
		buf_puts(out, "\n  context:\n    cluster: ");
		yaml_quoted(out, cluster);
		buf_puts(out, "\n    user: ");
		yaml_quoted(out, req->name);
		buf_putc(out, '\n');
	}
	buf_free(&tmp);
	return 0;
}

/* The token must be one a Kubernetes API server can verify against the issuer's keys. */
static int kube_check_provider(struct config_ctx *c, const struct identity_cfg *id,
                               const struct provider_cfg *p)
{
	return identity_check_oidc_provider(c, id, p, uses_access_token(id), "the API server",
	                                    "hands out its access token");
}

static const struct config_key keys[] = {
    {"token", identity_set_token_key, offsetof(struct kube_cfg, token), CK_STRING, "id", NULL, 0,
     0},
    {NULL, NULL, 0, 0, NULL, NULL, 0, 0},
};

const struct identity_kind identity_kubernetes_exec_credential = {
    .config = {.name = "kubernetes/exec-credential",
               .keys = keys,
               .size = sizeof(struct kube_cfg),
               .check_provider = kube_check_provider},
    .environment = kube_environment,
    .credential = kube_credential,
    .may_log_in = kube_may_log_in,
    .kubeconfig = kube_kubeconfig,
};
