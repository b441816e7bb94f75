/* json.h: the cJSON habits shared by the files that hold secrets (tokens.json, the AWS
 * credential cache): strict parsing, printing into a buffer that is wiped, and trees
 * wiped before they are freed. */
#ifndef OKTACRED_JSON_H
#define OKTACRED_JSON_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <time.h>
#include "oktacred/buf.h"

/* Parses exactly len bytes as one JSON object. A NUL byte (raw or as a \u0000 escape,
 * which would silently cut a C string short) or trailing data is refused: NULL. */
cJSON *json_parse_object(const char *json, size_t len);
/* 1 when the text holds a NUL byte or a \u0000 escape (whose backslash is not itself
 * escaped), which would silently cut a C string short. */
int json_has_nul(const char *json, size_t len);
/* The member key of obj, its type checked (obj NULL or not an object: no members).
 * Each returns 1 with *out set when the member is there and of the type asked for (a
 * number also in [min, max]); 0 when it is absent, *out untouched; -1 when it is
 * something else. json_get_string: a JSON null counts as absent, *out (pointing into the
 * tree) is NULL unless it returns 1. json_get_time: an RFC 3339 UTC time string. */
int json_get_string(const cJSON *obj, const char *key, const char **out);
int json_get_number(const cJSON *obj, const char *key, double min, double max, double *out);
int json_get_bool(const cJSON *obj, const char *key, int *out);
int json_get_time(const cJSON *obj, const char *key, time_t *out);
/* Wipes every string of the tree (values and keys), then frees it; NULL is fine. */
void json_free_secret(cJSON *root);
/* Adds a string member; a NULL value adds nothing. 0 or -1. */
int json_add_string(cJSON *obj, const char *key, const char *value);
/* Adds an RFC 3339 UTC time member. 0 or -1. */
int json_add_time(cJSON *obj, const char *key, time_t t);
/* Prints root compactly plus a newline onto out, through a buffer of our own that is
 * wiped (cJSON's own printer reallocs and leaves copies of the secrets behind). payload:
 * the total length of the strings in the tree, to size the buffer. 0 or -1. */
int json_print_secret(const cJSON *root, size_t payload, struct buf *out);
/* strlen, 0 for NULL: for adding up payloads. */
size_t json_len0(const char *s);

#endif
