/* paths.c: XDG locations of the configuration and of each provider's state. */
#include "oktacred/paths.h"

#include <stdlib.h>
#include <string.h>

#include "oktacred/util.h"

char *paths_join(const char *dir, const char *name)
{
	size_t n = strlen(dir);

	/* All trailing slashes go, even the root's: "/" + "x" is "/x", never "//x"
	 * (a leading "//" is implementation-defined in POSIX). */
	size_t m = strlen(name);
	char *out;

	while (n > 0 && dir[n - 1] == '/')
		n--;
	/* By hand, not xasprintf: every cached command joins a dozen paths. */
	out = xmalloc(n + m + 2);
	memcpy(out, dir, n);
	out[n] = '/';
	memcpy(out + n + 1, name, m + 1);
	return out;
}

static int home_dir(const char **out, okc_err *err)
{
	const char *home = getenv("HOME");

	if (!home || home[0] != '/')
		return okc_fail(err, OKC_EXIT_FAIL, "HOME is %s: cannot find the configuration",
		                home ? "not an absolute path" : "not set");
	*out = home;
	return 0;
}

/* HOME's length without its trailing slashes ("/" counts as empty), so that joining
 * "/rest" to it never doubles a slash. */
static int home_len(const char *home)
{
	size_t n = strlen(home);

	while (n > 0 && home[n - 1] == '/')
		n--;
	return (int)n;
}

int paths_root(char **out, okc_err *err)
{
	const char *xdg = getenv("XDG_CONFIG_HOME");
	const char *home = NULL;

	/* The XDG spec: a relative XDG_CONFIG_HOME is invalid and must be ignored. */
	if (xdg && xdg[0] == '/') {
		*out = paths_join(xdg, "oktacred");
		return 0;
	}
	if (home_dir(&home, err) < 0)
		return -1;
	*out = xasprintf("%.*s/.config/oktacred", home_len(home), home);
	return 0;
}

int paths_config_file(char **out, okc_err *err)
{
	const char *env = getenv("OKTACRED_CONFIG");
	char *root;

	if (env && *env)
		return paths_expand_home(env, out, err);
	if (paths_root(&root, err) < 0)
		return -1;
	*out = paths_join(root, "config");
	free(root);
	return 0;
}

int paths_provider_root(const char *base_path, char **out, okc_err *err)
{
	if (base_path && *base_path)
		return paths_expand_home(base_path, out, err);
	return paths_root(out, err);
}

int paths_provider_dir(const char *base_path, const char *name, char **out, okc_err *err)
{
	char *root, *okta;

	if (paths_provider_root(base_path, &root, err) < 0)
		return -1;
	okta = paths_join(root, "okta");
	*out = paths_join(okta, name);
	free(okta);
	free(root);
	return 0;
}

int paths_expand_home(const char *path, char **out, okc_err *err)
{
	const char *home = NULL;

	if (path[0] == '~' && (path[1] == '\0' || path[1] == '/')) {
		if (home_dir(&home, err) < 0)
			return -1;
		if (path[1] == '\0' && home_len(home) == 0)
			*out = xstrdup("/");
		else
			*out = xasprintf("%.*s%s", home_len(home), home, path + 1);
		return 0;
	}
	*out = xstrdup(path);
	return 0;
}
