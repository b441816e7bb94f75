/* json.h: JSON (RFC 8259) as oktacred reads and writes it: a strict parser, a tree, a
 * printer into a wiped buffer, and trees wiped before they are freed (tokens.json, the AWS
 * credential cache and every token answer hold secrets). Our own, not a library's: it is
 * small, it refuses what a library would quietly accept (a NUL, invalid UTF-8, a lone
 * surrogate, trailing data), and it links into a static binary. */
#ifndef OKTACRED_JSON_H
#define OKTACRED_JSON_H

#include <stddef.h>
#include <time.h>
#include "oktacred/buf.h"

enum json_type {
	JSON_NULL,
	JSON_FALSE,
	JSON_TRUE,
	JSON_NUMBER,
	JSON_STRING,
	JSON_ARRAY,
	JSON_OBJECT
};

struct json {
	struct json *next;  /* the next element of the parent array or object */
	struct json *child; /* an array's or object's first element */
	struct json *last;  /* ... and its last, to append in constant time */
	char *key;          /* a member's name, in an object; else NULL */
	char *str;          /* a string's value, NUL-terminated (a NUL inside is refused) */
	size_t len;         /* its length */
	double num;         /* a number's value */
	enum json_type type;
};

/* Nesting deeper than this is refused (the parser and the printer recurse). */
#define JSON_MAX_DEPTH 64

/* Parses exactly len bytes as one JSON value (whitespace around it allowed). NULL for
 * anything else: a syntax error, trailing data, a NUL byte or \u0000 escape (which would
 * cut a C string short), invalid UTF-8 or a lone surrogate, nesting deeper than
 * JSON_MAX_DEPTH. Duplicate member names are kept; json_member finds the first. */
struct json *json_parse(const char *text, size_t len);
/* json_parse, and the value must be an object. */
struct json *json_parse_object(const char *text, size_t len);
/* 1 when the text holds a NUL byte or a \u0000 escape (whose backslash is not itself
 * escaped), which would silently cut a C string short. */
int json_has_nul(const char *text, size_t len);

static inline int json_is(const struct json *v, enum json_type t)
{
	return v && v->type == t;
}
static inline int json_is_bool(const struct json *v)
{
	return v && (v->type == JSON_TRUE || v->type == JSON_FALSE);
}
/* The first member named key of obj; NULL when obj is NULL, not an object, or has none. */
struct json *json_member(const struct json *obj, const char *key);
/* The number of elements (members) of an array (object); 0 for anything else. */
size_t json_count(const struct json *v);
/* The i-th element of an array (member of an object), NULL past the end. */
struct json *json_index(const struct json *v, size_t i);
/* Every element (member) of parent, which may be NULL or a scalar (then none). */
#define json_each(it, parent)                                                                      \
	for ((it) = ((parent) ? (parent)->child : NULL); (it); (it) = (it)->next)

/* The member key of obj, its type checked (obj NULL or not an object: no members).
 * Each returns 1 with *out set when the member is there and of the type asked for (a
 * number also in [min, max]); 0 when it is absent, *out untouched; -1 when it is
 * something else. json_get_string: a JSON null counts as absent, *out (pointing into the
 * tree) is NULL unless it returns 1. json_get_time: an RFC 3339 UTC time string. */
int json_get_string(const struct json *obj, const char *key, const char **out);
int json_get_number(const struct json *obj, const char *key, double min, double max, double *out);
int json_get_bool(const struct json *obj, const char *key, int *out);
int json_get_time(const struct json *obj, const char *key, time_t *out);

/* Building. Like the x*() allocators, these abort when memory runs out. */
struct json *json_new(enum json_type type);
struct json *json_new_string(const char *s);
struct json *json_new_number(double d);
struct json *json_new_bool(int b);
/* Appends item to an array. */
void json_append(struct json *arr, struct json *item);
/* Appends item to an object as member key (no check for an existing one); returns item. */
struct json *json_set(struct json *obj, const char *key, struct json *item);
/* Shorthands for json_set, returning the new member; json_add_string adds nothing for a
 * NULL value and returns NULL. */
struct json *json_add_string(struct json *obj, const char *key, const char *value);
struct json *json_add_number(struct json *obj, const char *key, double d);
struct json *json_add_bool(struct json *obj, const char *key, int b);
struct json *json_add_null(struct json *obj, const char *key);
struct json *json_add_time(struct json *obj, const char *key, time_t t); /* RFC 3339 UTC */
struct json *json_add_object(struct json *obj, const char *key);
struct json *json_add_array(struct json *obj, const char *key);
/* Takes the first member named key out of obj and returns it (its key freed), or NULL. */
struct json *json_detach(struct json *obj, const char *key);
/* A deep copy. */
struct json *json_copy(const struct json *v);

/* Appends v's text to out: compact, or indented by two spaces per level with a space
 * after each colon. Strings are escaped as RFC 8259 requires (", \ and control
 * characters; other bytes as they are); a number that is not finite prints as null. No
 * newline at the end. out may hold secrets: struct buf wipes what it lets go of. */
void json_print(const struct json *v, int pretty, struct buf *out);
/* json_print compactly, then a newline: the form of the files that hold secrets. */
void json_print_secret(const struct json *v, struct buf *out);

void json_free(struct json *v);
/* Wipes every string of the tree (values and keys), then frees it; NULL is fine. */
void json_free_secret(struct json *v);

#endif
