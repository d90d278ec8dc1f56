/* text.c - the growable string of util/text.h. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/text.h"

char *nc_text_space(nc_text *b, size_t n)
{
    if (b->failed)
        return NULL;
    if (n > SIZE_MAX / 2 - b->len - 1) {
        b->failed = 1;
        return NULL;
    }
    size_t want = b->len + n + 1;
    if (want > b->cap) {
        size_t cap = b->cap ? b->cap : 1024;
        while (cap < want)
            cap *= 2;
        char *grown = realloc(b->data, cap);
        if (!grown) {
            b->failed = 1;
            return NULL;
        }
        b->data = grown;
        b->cap = cap;
    }
    return b->data + b->len;
}

void nc_text_put(nc_text *b, const void *bytes, size_t n)
{
    char *at = nc_text_space(b, n);
    if (!at)
        return;
    memcpy(at, bytes, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void nc_text_add(nc_text *b, const char *fmt, ...)
{
    if (b->failed)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(b->data ? b->data + b->len : NULL, b->data ? b->cap - b->len : 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->failed = 1;
        return;
    }
    if (!b->data || (size_t)n >= b->cap - b->len) {
        /* it did not fit: make room and format again */
        if (!nc_text_space(b, (size_t)n))
            return;
        va_start(ap, fmt);
        vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
        va_end(ap);
    }
    b->len += (size_t)n;
}

char *nc_text_take(nc_text *b)
{
    char *t = b->failed ? NULL : b->data;
    if (b->failed)
        free(b->data);
    else if (!t)
        t = calloc(1, 1);   /* nothing added: the empty text */
    b->data = NULL;
    b->len = b->cap = 0;
    return t;
}
