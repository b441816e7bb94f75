/* fuzz_config.c: config_load on arbitrary files (through a private temporary file, as it
 * reads a path): no crash, no leak, and what it accepts or refuses keeps config.h's promises. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "oktacred/config.h"
#include "oktacred/identity.h"
#include "oktacred/provider.h"
#include "fuzz.h"

static char path[4096];
static int fd = -1;

static void cleanup(void)
{
	if (path[0])
		unlink(path);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *tmp = getenv("TMPDIR");

	(void)argc;
	(void)argv;
	if (!tmp || !*tmp)
		tmp = "/tmp";
	snprintf(path, sizeof(path), "%s/oktacred-fuzz-config.XXXXXX", tmp);
	fd = mkstemp(path);
	if (fd < 0) {
		perror("mkstemp");
		abort();
	}
	atexit(cleanup);
	/* What ${VAR} references can find; HOME for ~ in paths. */
	setenv("HOME", "/home/fuzz", 1);
	setenv("OKC_FUZZ", "value", 1);
	setenv("OKC_FUZZ_URL", "https://example.okta.com", 1);
	setenv("OKC_FUZZ_EMPTY", "", 1);
	return 0;
}

static void write_file(const uint8_t *data, size_t size)
{
	size_t off = 0;

	if (ftruncate(fd, 0) < 0)
		abort();
	while (off < size) {
		ssize_t w = pwrite(fd, data + off, size - off, (off_t)off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			abort();
		off += (size_t)w;
	}
}

static void check_accepted(const struct config *cfg)
{
	const struct identity_cfg *id, *rid;
	const struct provider_cfg *p, *rp;
	okc_err err;

	for (size_t i = 0; i < cfg->nproviders; i++) {
		p = &cfg->providers[i];
		FUZZ_CHECK(p->name && p->org_url, "a provider has a name and an org_url");
		FUZZ_CHECK(config_find_provider(cfg, p->name) == p, "provider names are unique");
		FUZZ_CHECK(p->kind != NULL, "a provider has a kind");
		if (provider_can(p, PROVIDER_CACHED)) {
			FUZZ_CHECK(p->client_id != NULL, "client_id is required");
			FUZZ_CHECK(p->authorization_server && p->scopes,
			           "authorization_server and scopes have defaults");
		}
		if (p->kind == &provider_service_account.config)
			FUZZ_CHECK(!config_provider_string(p, "private_key") !=
			               !config_provider_string(p, "client_secret"),
			           "private_key or client_secret, not both");
		if (p->kind == &provider_api_token.config)
			FUZZ_CHECK(config_provider_string(p, "token_env") != NULL,
			           "token_env is required");
		FUZZ_CHECK(fuzz_printable(p->org_url), "org_url is printable");
		FUZZ_CHECK(!strchr(p->org_url, '?') && !strchr(p->org_url, '#'),
		           "org_url has no query or fragment");
		FUZZ_CHECK(strncmp(p->org_url, "https://", 8) == 0 ||
		               strncmp(p->org_url, "http://", 7) == 0,
		           "org_url is http(s)");
		if (p->base_path)
			FUZZ_CHECK(p->base_path[0] == '/', "files.base_path is absolute");
		config_resolve(cfg, p->name, &rid, &rp, &err);
	}
	for (size_t i = 0; i < cfg->nidentities; i++) {
		id = &cfg->identities[i];
		FUZZ_CHECK(id->name && id->provider_name && id->provider, "identities resolved");
		FUZZ_CHECK(config_find_identity(cfg, id->name) == id, "identity names are unique");
		if (id->kind == &identity_aws_assume_role.config) {
			const struct aws_role_cfg *a = aws_role_cfg(id);

			FUZZ_CHECK(!a->role_arn != !a->role_map, "role_arn or role_map, not both");
			FUZZ_CHECK(!a->role_map || a->nroles > 0, "role_map parsed");
			FUZZ_CHECK(a->duration >= 900 && a->duration <= 43200,
			           "duration in 15m..12h");
			FUZZ_CHECK(a->session_name != NULL, "session_name has a default");
			FUZZ_CHECK(provider_can(id->provider, PROVIDER_ID_TOKEN),
			           "aws/assume-role needs an ID token");
		}
		FUZZ_CHECK(config_resolve(cfg, id->name, &rid, &rp, &err) == 0 && rid == id &&
		               rp == id->provider,
		           "an identity resolves to itself and its provider");
	}
	if (config_resolve(cfg, NULL, &rid, &rp, &err) < 0)
		FUZZ_CHECK(!cfg->default_identity, "[defaults] identity resolves");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config *cfg = NULL;
	okc_err err;
	int rc;

	write_file(data, size);
	memset(&err, 0, sizeof(err));
	rc = config_load(path, &cfg, &err);
	if (rc == 0) {
		FUZZ_CHECK(cfg != NULL, "success gives a configuration");
		check_accepted(cfg);
		config_free(cfg);
		return 0;
	}
	FUZZ_CHECK(rc == -1 && cfg == NULL, "failure gives nothing");
	FUZZ_CHECK(err.code == OKC_EXIT_USAGE || err.code == OKC_EXIT_FAIL, "exit 2 or 1");
	/* "FILE:LINE: message", and nothing from the file that could drive a terminal. */
	FUZZ_CHECK(strncmp(err.msg, path, strlen(path)) == 0 && err.msg[strlen(path)] == ':',
	           "the message starts with FILE:");
	FUZZ_CHECK(fuzz_printable(err.msg) && fuzz_printable(err.hint),
	           "messages are printable ASCII");
	return 0;
}
