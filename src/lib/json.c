/* json.c: strict parsing, wiped printing and wiped freeing of cJSON trees that hold
 * secrets. */
#include "oktacred/json.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "oktacred/util.h"

static void json_wipe(cJSON *item)
{
	for (; item; item = item->next) {
		if (item->valuestring)
			wipe(item->valuestring, strlen(item->valuestring));
		if (item->string)
			wipe(item->string, strlen(item->string));
		json_wipe(item->child);
	}
}

void json_free_secret(cJSON *root)
{
	json_wipe(root);
	cJSON_Delete(root);
}

int json_has_nul(const char *json, size_t len)
{
	size_t i;

	if (memchr(json, '\0', len))
		return 1;
	for (i = 0; i + 6 <= len; i++) {
		size_t bs = 0;

		if (memcmp(json + i, "\\u0000", 6) != 0)
			continue;
		while (bs < i && json[i - 1 - bs] == '\\')
			bs++;
		if (bs % 2 == 0)
			return 1;
	}
	return 0;
}

cJSON *json_parse_object(const char *json, size_t len)
{
	cJSON *root;
	char *copy;

	if (!json || len == 0 || len > (size_t)INT_MAX || json_has_nul(json, len))
		return NULL;
	/* The copy keeps cJSON inside a NUL-terminated buffer whatever the caller passed. */
	copy = xstrndup(json, len);
	root = cJSON_ParseWithLengthOpts(copy, len + 1, NULL, 1);
	wipe(copy, len);
	free(copy);
	if (root && !cJSON_IsObject(root)) {
		json_free_secret(root);
		return NULL;
	}
	return root;
}

/* The member, NULL for a tree that is not an object (cJSON would look into an array). */
static const cJSON *member(const cJSON *obj, const char *key)
{
	return cJSON_IsObject(obj) ? cJSON_GetObjectItemCaseSensitive(obj, key) : NULL;
}

int json_get_string(const cJSON *obj, const char *key, const char **out)
{
	const cJSON *it = member(obj, key);

	*out = NULL;
	if (!it || cJSON_IsNull(it))
		return 0;
	if (!cJSON_IsString(it) || !it->valuestring)
		return -1;
	*out = it->valuestring;
	return 1;
}

int json_get_number(const cJSON *obj, const char *key, double min, double max, double *out)
{
	const cJSON *it = member(obj, key);

	if (!it)
		return 0;
	if (!cJSON_IsNumber(it) || !(it->valuedouble >= min && it->valuedouble <= max))
		return -1;
	*out = it->valuedouble;
	return 1;
}

int json_get_bool(const cJSON *obj, const char *key, int *out)
{
	const cJSON *it = member(obj, key);

	if (!it)
		return 0;
	if (!cJSON_IsBool(it))
		return -1;
	*out = cJSON_IsTrue(it) ? 1 : 0;
	return 1;
}

int json_get_time(const cJSON *obj, const char *key, time_t *out)
{
	const cJSON *it = member(obj, key);

	if (!it)
		return 0;
	if (!cJSON_IsString(it) || !it->valuestring || time_parse_utc(it->valuestring, out) < 0)
		return -1;
	return 1;
}

int json_add_string(cJSON *obj, const char *key, const char *value)
{
	if (!value)
		return 0;
	return cJSON_AddStringToObject(obj, key, value) ? 0 : -1;
}

int json_add_time(cJSON *obj, const char *key, time_t t)
{
	char s[21];

	time_format_utc(t, s);
	return cJSON_AddStringToObject(obj, key, s) ? 0 : -1;
}

size_t json_len0(const char *s)
{
	return s ? strlen(s) : 0;
}

int json_print_secret(const cJSON *root, size_t payload, struct buf *out)
{
	/* Every byte escapes to at most six (\u00XX); 512 covers keys, numbers, punctuation. */
	size_t size;
	char *text;
	int rc = -1;

	if (payload > ((size_t)INT_MAX - 512) / 6)
		return -1;
	size = 512 + 6 * payload;
	text = xmalloc(size);
	if (cJSON_PrintPreallocated((cJSON *)root, text, (int)size, 0)) {
		buf_puts(out, text);
		buf_putc(out, '\n');
		rc = 0;
	}
	wipe(text, size);
	free(text);
	return rc;
}
