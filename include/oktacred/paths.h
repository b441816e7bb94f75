/* paths.h: where things live (DESIGN.md section 4), XDG rules. Pure string work:
 * nothing here touches the disk. All results are malloc'd; the caller frees. */
#ifndef OKTACRED_PATHS_H
#define OKTACRED_PATHS_H

#include "oktacred/err.h"

/* ${XDG_CONFIG_HOME:-$HOME/.config}/oktacred. XDG_CONFIG_HOME is used only when it is
 * an absolute path (the XDG rule); HOME unset or relative: error (exit 1). */
int paths_root(char **out, okc_err *err);
/* $OKTACRED_CONFIG, else paths_root()/config. */
int paths_config_file(char **out, okc_err *err);
/* The directory that holds oktacred's state for the provider named name: base_path (its
 * files.base_path; NULL or "": paths_root()), then "/okta/NAME". */
int paths_provider_dir(const char *base_path, const char *name, char **out, okc_err *err);
/* The state root a provider uses: base_path (~ expanded) or paths_root(). */
int paths_provider_root(const char *base_path, char **out, okc_err *err);
/* ~ and ~/... expanded with $HOME; other paths returned as they are. */
int paths_expand_home(const char *path, char **out, okc_err *err);
/* dir + "/" + name. */
char *paths_join(const char *dir, const char *name);

#endif
