/* Recorded spans: a name, ids, times, typed attributes and a status. A
 * span belongs to one invocation while open and to the export queue once
 * it ends.                                                               */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "telemetry/internal.h"

uint64_t tel_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Length of the well-formed UTF-8 sequence at p (RFC 3629: no overlong
 * forms, no surrogates, at most U+10FFFF), or 0. */
static size_t utf8_seq(const unsigned char *p, size_t left)
{
    unsigned c = p[0];
    if (c < 0x80) return 1;
    size_t n = c >= 0xc2 && c <= 0xdf ? 2
             : c >= 0xe0 && c <= 0xef ? 3
             : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
    if (!n || n > left) return 0;
    for (size_t i = 1; i < n; i++)
        if ((p[i] & 0xc0) != 0x80) return 0;
    if (c == 0xe0 && p[1] < 0xa0) return 0;  /* overlong */
    if (c == 0xed && p[1] > 0x9f) return 0;  /* surrogates */
    if (c == 0xf0 && p[1] < 0x90) return 0;  /* overlong */
    if (c == 0xf4 && p[1] > 0x8f) return 0;  /* above U+10FFFF */
    return n;
}

char *tel_utf8_dup(const char *s, size_t len)
{
    char *out = malloc(len * 3 + 1);
    if (!out) return NULL;
    const unsigned char *p = (const unsigned char *)s;
    size_t o = 0;
    for (size_t i = 0; i < len;) {
        size_t n = p[i] ? utf8_seq(p + i, len - i) : 0;
        if (n) {
            memcpy(out + o, p + i, n);
            o += n;
            i += n;
        } else {
            memcpy(out + o, "\xef\xbf\xbd", 3); /* U+FFFD */
            o += 3;
            i++;
        }
    }
    out[o] = '\0';
    return out;
}

tel_span *tel_span_new(const char *name)
{
    tel_span *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->name = tel_utf8_dup(name, strlen(name));
    if (!s->name) {
        free(s);
        return NULL;
    }
    s->kind = TEL_KIND_INTERNAL;
    return s;
}

static void attr_clear(tel_attr *a)
{
    if (a->type == TEL_V_STRING) free(a->v.s);
    if (a->type == TEL_V_STRING_ARRAY) {
        for (size_t i = 0; i < a->v.arr.n; i++) free(a->v.arr.items[i]);
        free(a->v.arr.items);
    }
}

void tel_span_free(tel_span *s)
{
    if (!s) return;
    for (size_t i = 0; i < s->n_attrs; i++) {
        attr_clear(&s->attrs[i]);
        free(s->attrs[i].key);
    }
    free(s->attrs);
    free(s->name);
    free(s->status_message);
    free(s);
}

const tel_attr *tel_span_attr(const tel_span *s, const char *key)
{
    for (size_t i = 0; i < s->n_attrs; i++)
        if (!strcmp(s->attrs[i].key, key)) return &s->attrs[i];
    return NULL;
}

/* The slot for key: the existing one (value cleared) or a new one with
 * the key copied. NULL on OOM (counted as a dropped attribute). */
static tel_attr *slot(tel_span *s, const char *key)
{
    for (size_t i = 0; i < s->n_attrs; i++) {
        if (!strcmp(s->attrs[i].key, key)) {
            attr_clear(&s->attrs[i]);
            s->attrs[i].type = TEL_V_INT;
            s->attrs[i].v.i = 0;
            return &s->attrs[i];
        }
    }
    if (s->n_attrs == s->cap_attrs) {
        size_t cap = s->cap_attrs ? s->cap_attrs * 2 : 8;
        tel_attr *na = realloc(s->attrs, cap * sizeof *na);
        if (!na) {
            s->dropped_attrs++;
            return NULL;
        }
        s->attrs = na;
        s->cap_attrs = cap;
    }
    char *k = strdup(key);
    if (!k) {
        s->dropped_attrs++;
        return NULL;
    }
    tel_attr *a = &s->attrs[s->n_attrs++];
    memset(a, 0, sizeof *a);
    a->key = k;
    a->type = TEL_V_INT;
    return a;
}

/* Removes the attribute a (after a failed value copy). */
static void drop(tel_span *s, tel_attr *a)
{
    free(a->key);
    size_t i = (size_t)(a - s->attrs);
    memmove(a, a + 1, (s->n_attrs - i - 1) * sizeof *a);
    s->n_attrs--;
    s->dropped_attrs++;
}

void tel_span_set_strn(tel_span *s, const char *key, const char *value,
                       size_t len)
{
    tel_attr *a = slot(s, key);
    if (!a) return;
    char *v = tel_utf8_dup(value ? value : "", value ? len : 0);
    if (!v) {
        drop(s, a);
        return;
    }
    a->type = TEL_V_STRING;
    a->v.s = v;
}

void tel_span_set_str(tel_span *s, const char *key, const char *value)
{
    tel_span_set_strn(s, key, value, value ? strlen(value) : 0);
}

void tel_span_set_int(tel_span *s, const char *key, int64_t value)
{
    tel_attr *a = slot(s, key);
    if (!a) return;
    a->type = TEL_V_INT;
    a->v.i = value;
}

void tel_span_set_double(tel_span *s, const char *key, double value)
{
    tel_attr *a = slot(s, key);
    if (!a) return;
    a->type = TEL_V_DOUBLE;
    a->v.d = value;
}

void tel_span_set_bool(tel_span *s, const char *key, int value)
{
    tel_attr *a = slot(s, key);
    if (!a) return;
    a->type = TEL_V_BOOL;
    a->v.b = value != 0;
}

void tel_span_set_str_array(tel_span *s, const char *key,
                            const char *const *items, size_t n)
{
    tel_attr *a = slot(s, key);
    if (!a) return;
    char **copy = calloc(n ? n : 1, sizeof *copy);
    size_t i = 0;
    while (copy && i < n &&
           (copy[i] = tel_utf8_dup(items[i], strlen(items[i]))))
        i++;
    if (!copy || i < n) {
        for (size_t j = 0; copy && j < i; j++) free(copy[j]);
        free(copy);
        drop(s, a);
        return;
    }
    a->type = TEL_V_STRING_ARRAY;
    a->v.arr.items = copy;
    a->v.arr.n = n;
}

void tel_span_set_status(tel_span *s, int code, const char *message)
{
    free(s->status_message);
    s->status_message = message ? tel_utf8_dup(message, strlen(message))
                                : NULL;
    s->status_code = code;
}
