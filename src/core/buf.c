/* Capped growable buffer (see buf.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"

void dynbuf_init(dynbuf *b, size_t max)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max;
}

void dynbuf_cleanup(dynbuf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

static strands_status reserve(dynbuf *b, size_t extra)
{
    if (extra > b->max || b->len > b->max - extra) {
        dynbuf_cleanup(b);
        return STRANDS_E_TOO_LARGE;
    }
    size_t need = b->len + extra + 1;
    if (need <= b->cap) return STRANDS_OK;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need) cap *= 2;
    char *p = realloc(b->data, cap);
    if (!p) {
        dynbuf_cleanup(b);
        return STRANDS_E_NOMEM;
    }
    b->data = p;
    b->cap = cap;
    return STRANDS_OK;
}

strands_status dynbuf_append(dynbuf *b, const void *p, size_t len)
{
    strands_status st = reserve(b, len);
    if (st != STRANDS_OK) return st;
    if (len) memcpy(b->data + b->len, p, len);
    b->len += len;
    b->data[b->len] = '\0';
    return STRANDS_OK;
}

strands_status dynbuf_puts(dynbuf *b, const char *s)
{
    return dynbuf_append(b, s, strlen(s));
}

strands_status dynbuf_printf(dynbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) return STRANDS_E_INVALID;
    strands_status st = reserve(b, (size_t)n);
    if (st != STRANDS_OK) return st;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return STRANDS_OK;
}

char *dynbuf_take(dynbuf *b, size_t *len_out)
{
    char *p = b->data;
    size_t len = b->len;
    if (!p) p = calloc(1, 1);
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    if (len_out) *len_out = len;
    return p;
}

const char *dynbuf_str(const dynbuf *b)
{
    return b->data ? b->data : "";
}
