/* text.h - a growable NUL-terminated string for messages, files and pages
 * built piece by piece (not installed). On an allocation failure `failed`
 * is set, the text so far stays, and later appends do nothing; whoever
 * finishes checks `failed` (or uses nc_text_take). */
#ifndef NC_UTIL_TEXT_H
#define NC_UTIL_TEXT_H

#include <stddef.h>

typedef struct nc_text {
    char *data;          /* NUL-terminated once anything was added */
    size_t len, cap;
    int failed;
} nc_text;

void nc_text_add(nc_text *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void nc_text_put(nc_text *b, const void *bytes, size_t n);
/* Room for n more bytes and a NUL at data + len, for the caller to fill
 * and then advance len; NULL (failed set) when out of memory. */
char *nc_text_space(nc_text *b, size_t n);
/* The text (malloc'd, the caller frees), or NULL when an append failed. */
char *nc_text_take(nc_text *b);

#endif
