/* envset.h: the environment handed to a child or a shell: variables to set and to
 * clear, applied to this process (exec) or printed for eval in every shell's own
 * quoting (env). Every value round-trips exactly, whatever bytes it holds. */
#ifndef OKTACRED_ENVSET_H
#define OKTACRED_ENVSET_H

#include <stddef.h>
#include "oktacred/buf.h"

struct envvar {
	char *name;
	char *value; /* NULL: clear the variable */
	int secret;  /* wiped on free */
};

struct envset {
	struct envvar *vars; /* in the order they were added; a name appears once */
	size_t n;
};

enum env_format { ENV_SH, ENV_FISH, ENV_POWERSHELL, ENV_JSON, ENV_DOTENV };

void envset_init(struct envset *e);
/* Set (value non-NULL) or clear (NULL) name; a later call for the same name replaces the
 * earlier one. secret: the value is wiped when freed. Aborts on out-of-memory. */
void envset_put(struct envset *e, const char *name, const char *value, int secret);
void envset_free(struct envset *e);

/* "sh" (also "bash", "zsh"), "fish", "powershell" (also "pwsh"), "json", "dotenv".
 * Returns 0 or -1. */
int envset_parse_format(const char *s, enum env_format *out);

/* Appends the script. unset_all: instead of setting, clear every variable of the set
 * (the `--unset` output, to undo an earlier eval). Formats (DESIGN.md 5.4):
 *   sh:         export K='v'  ('  written as '\''), unset K
 *   fish:       set -gx K 'v' (\ and ' escaped with \), set -e K; read it with `| source`
 *               (`eval (...)` would split a value at its newlines)
 *   powershell: $Env:K = 'v'  (' and its look-alikes U+2018..U+201B doubled),
 *               Remove-Item Env:K -ErrorAction SilentlyContinue. PowerShell strings are
 *               UTF-16: bytes that are not UTF-8 are written as they are but cannot
 *               survive there.
 *   json:       {"set": {"K": "v"}, "unset": ["K2"]} and a newline; control characters
 *               as \u00XX. A value that is not valid UTF-8 cannot be a JSON string
 *               without changing its bytes, so json render fails (-1) on one.
 *   dotenv:     K="v" with \\ \" \$ and CR (\r) escaped, newline and tab written as they
 *               are (why, and which parsers read it back exactly: envset_quote_dotenv in
 *               envset.c); cleared variables are left out (dotenv cannot express removal).
 * Every line ends in a newline; a value's own newlines stay inside its quotes.
 * Returns 0, or -1 when a name is not [A-Za-z_][A-Za-z0-9_]* (never printed) or on bad
 * UTF-8 in json; on -1 out is left as it was. */
int envset_render(const struct envset *e, enum env_format f, int unset_all, struct buf *out);

/* The quoting alone, quotes included, appended to out. Return 0, or -1 for a NULL
 * value. */
int envset_quote_sh(struct buf *out, const char *value);
int envset_quote_fish(struct buf *out, const char *value);
int envset_quote_powershell(struct buf *out, const char *value);
int envset_quote_dotenv(struct buf *out, const char *value);

/* setenv/unsetenv each variable in this process (before execvp). Returns 0, or -1 when a
 * name is invalid (nothing is changed then) or setenv fails. */
int envset_apply(const struct envset *e);

#endif
