/* awsconfig.h: the profiles of the AWS config file (~/.aws/config) that reach identities
 * through `oktacred credential-process`: their text, and their merge into the file, which
 * changes only the profiles oktacred manages (`oktacred aws-config`). */
#ifndef OKTACRED_AWSCONFIG_H
#define OKTACRED_AWSCONFIG_H

#include <stddef.h>

#include "oktacred/buf.h"
#include "oktacred/err.h"

/* The comment on the line after a profile's header that makes it oktacred's. */
#define AWSCONFIG_MARKER "# managed by oktacred aws-config"

/* One [profile NAME]: credential_process = EXE [--config FILE] credential-process
 * IDENTITY [--role ROLE], and region when set. */
struct awsconfig_profile {
	char *name;
	char *identity;
	char *role;   /* or NULL */
	char *region; /* or NULL */
};

struct awsconfig {
	char *exe;    /* the oktacred to run: an absolute path */
	char *config; /* --config FILE for it, or NULL: its default */
	struct awsconfig_profile *profiles;
	size_t n;
};

/* Appends a profile (copies of the strings). */
void awsconfig_add(struct awsconfig *ac, const char *name, const char *identity, const char *role,
                   const char *region);
void awsconfig_free(struct awsconfig *ac);

/* The program this process runs, as the AWS tools should run it: argv0 made absolute (a
 * bare name looked up in PATH, as a shell would) when it is the same file as
 * /proc/self/exe, so that a symlink that stays put across upgrades (/usr/local/bin,
 * Homebrew's bin) is kept; else /proc/self/exe itself. Fails (exit 1) when no absolute
 * path can be found, or when it holds a control character, which an AWS config value
 * cannot carry. Allocated. */
int awsconfig_exe(const char *argv0, char **out, okc_err *err);

/* Sets ac->config (--config for credential_process) to path, made absolute. Fails (exit
 * 1) when it holds a control character. */
int awsconfig_set_config(struct awsconfig *ac, const char *path, okc_err *err);

/* A word for credential_process: as it is when it holds only [A-Za-z0-9_./:=@%+,-], else
 * single-quoted ('\'' for a quote), which both botocore (shlex.split) and the SDKs that
 * run `sh -c` read back as the same word. */
void awsconfig_quote(struct buf *out, const char *word);

/* The profile blocks, each ending in a newline, separated by blank lines: what
 * `aws-config` prints, and what --write puts into the file. */
void awsconfig_render(const struct awsconfig *ac, struct buf *out);

/* Merges ac's profiles into text (an AWS config file; len bytes; "" when there is none),
 * writing the result to out. A profile (`[profile NAME]`, or `[default]` for "default")
 * that oktacred manages (AWSCONFIG_MARKER on the line after its header) gets its header,
 * the marker, credential_process and region from ac, followed by the other lines it had
 * (settings of the user's, comments, blank lines) as they were; a profile the file lacks
 * is appended at the end. Every other byte is kept. A profile of the same name that
 * oktacred does not manage is refused (exit 1, naming FILE:LINE and --force) unless
 * force, which takes it over the same way; one defined twice is refused (exit 1). path
 * is for messages. */
int awsconfig_merge(const char *text, size_t len, const struct awsconfig *ac, int force,
                    const char *path, struct buf *out, okc_err *err);

/* Where the AWS tools read their config: $AWS_CONFIG_FILE (~ expanded) or ~/.aws/config.
 * Allocated. */
int awsconfig_path(char **out, okc_err *err);

/* awsconfig_merge into the file at path, written only when it changes: a copy of the old
 * file first as PATH.oktacred-bak (0600), then the new one through a temporary file and
 * rename(2), with the old file's mode (0600 when new; missing directories created 0700).
 * A symbolic link is followed and the file it points to replaced. A file of another user
 * or not a regular file is refused (exit 1). *changed says whether it was written;
 * *backup (or NULL) names the copy. */
int awsconfig_write(const char *path, const struct awsconfig *ac, int force, int *changed,
                    char **backup, okc_err *err);

#endif
