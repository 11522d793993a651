/* OTLP/protobuf encoding of ExportTraceServiceRequest, written by hand
 * from opentelemetry-proto (collector/trace/v1, trace/v1, common/v1,
 * resource/v1). Proto3 rules: scalar fields equal to their default are
 * left out, except the AnyValue oneof, which is always written. Nested
 * messages get a 5-byte length slot that is shrunk when they close.      */
#include <stdlib.h>
#include <string.h>

#include "telemetry/internal.h"

enum { WT_VARINT = 0, WT_I64 = 1, WT_LEN = 2, WT_I32 = 5 };

typedef struct pb {
    uint8_t *d;
    size_t len, cap;
    int oom;
    size_t open[8];   /* start of each open message's length slot */
    int depth;
} pb;

static void put(pb *w, const void *p, size_t n)
{
    if (w->oom) return;
    if (w->len + n > w->cap) {
        size_t cap = w->cap ? w->cap : 1024;
        while (cap < w->len + n) cap *= 2;
        uint8_t *nd = realloc(w->d, cap);
        if (!nd) {
            w->oom = 1;
            return;
        }
        w->d = nd;
        w->cap = cap;
    }
    memcpy(w->d + w->len, p, n);
    w->len += n;
}

static size_t varint_bytes(uint64_t v, uint8_t out[10])
{
    size_t n = 0;
    do {
        out[n] = (uint8_t)(v & 0x7f);
        v >>= 7;
        if (v) out[n] |= 0x80;
        n++;
    } while (v);
    return n;
}

static void varint(pb *w, uint64_t v)
{
    uint8_t b[10];
    put(w, b, varint_bytes(v, b));
}

static void tag(pb *w, unsigned field, unsigned wt)
{
    varint(w, (uint64_t)field << 3 | wt);
}

static void field_bytes(pb *w, unsigned field, const void *p, size_t n)
{
    tag(w, field, WT_LEN);
    varint(w, n);
    put(w, p, n);
}

static void field_string(pb *w, unsigned field, const char *s)
{
    field_bytes(w, field, s, strlen(s));
}

/* Omitted when empty (proto3 default). */
static void field_string_opt(pb *w, unsigned field, const char *s)
{
    if (s && *s) field_string(w, field, s);
}

static void field_varint(pb *w, unsigned field, uint64_t v)
{
    tag(w, field, WT_VARINT);
    varint(w, v);
}

static void field_fixed64(pb *w, unsigned field, uint64_t v)
{
    uint8_t b[8];
    for (int i = 0; i < 8; i++) b[i] = (uint8_t)(v >> (8 * i));
    tag(w, field, WT_I64);
    put(w, b, 8);
}

static void field_fixed32(pb *w, unsigned field, uint32_t v)
{
    uint8_t b[4];
    for (int i = 0; i < 4; i++) b[i] = (uint8_t)(v >> (8 * i));
    tag(w, field, WT_I32);
    put(w, b, 4);
}

static void field_double(pb *w, unsigned field, double d)
{
    uint64_t v;
    memcpy(&v, &d, sizeof v);
    field_fixed64(w, field, v);
}

static void begin(pb *w, unsigned field)
{
    tag(w, field, WT_LEN);
    if (w->depth == (int)(sizeof w->open / sizeof w->open[0])) {
        w->oom = 1; /* deeper than any OTLP message we write */
        return;
    }
    w->open[w->depth++] = w->len;
    static const uint8_t slot[5] = {0};
    put(w, slot, sizeof slot);
}

static void end(pb *w)
{
    if (w->oom || w->depth == 0) return;
    size_t start = w->open[--w->depth];
    size_t body = w->len - start - 5;
    uint8_t b[10];
    size_t n = varint_bytes(body, b);
    memmove(w->d + start + n, w->d + start + 5, body);
    memcpy(w->d + start, b, n);
    w->len = start + n + body;
}

/* ---- OTLP messages --------------------------------------------------------- */

/* AnyValue: string_value 1, bool_value 2, int_value 3, double_value 4,
 * array_value 5 (ArrayValue.values 1). */
static void any_value(pb *w, unsigned field, const tel_attr *a)
{
    begin(w, field);
    switch (a->type) {
    case TEL_V_STRING:
        field_string(w, 1, a->v.s);
        break;
    case TEL_V_BOOL:
        field_varint(w, 2, (uint64_t)a->v.b);
        break;
    case TEL_V_INT:
        field_varint(w, 3, (uint64_t)a->v.i);
        break;
    case TEL_V_DOUBLE:
        field_double(w, 4, a->v.d);
        break;
    case TEL_V_STRING_ARRAY:
        begin(w, 5);
        for (size_t i = 0; i < a->v.arr.n; i++) {
            begin(w, 1);
            field_string(w, 1, a->v.arr.items[i]);
            end(w);
        }
        end(w);
        break;
    }
    end(w);
}

/* KeyValue: key 1, value 2. */
static void key_value(pb *w, unsigned field, const tel_attr *a)
{
    begin(w, field);
    field_string(w, 1, a->key);
    any_value(w, 2, a);
    end(w);
}

static void string_kv(pb *w, unsigned field, const tel_kv *kv)
{
    tel_attr a = {.key = kv->key, .type = TEL_V_STRING, .v.s = kv->value};
    key_value(w, field, &a);
}

/* Span: trace_id 1, span_id 2, parent_span_id 4, name 5, kind 6,
 * start 7, end 8 (fixed64), attributes 9, dropped_attributes_count 10,
 * status 15 (message 2, code 3), flags 16 (fixed32). */
static void span(pb *w, unsigned field, const tel_span *s)
{
    begin(w, field);
    field_bytes(w, 1, s->trace_id, 16);
    field_bytes(w, 2, s->span_id, 8);
    if (s->has_parent) field_bytes(w, 4, s->parent_span_id, 8);
    field_string_opt(w, 5, s->name);
    if (s->kind) field_varint(w, 6, (uint64_t)s->kind);
    if (s->start_ns) field_fixed64(w, 7, s->start_ns);
    if (s->end_ns) field_fixed64(w, 8, s->end_ns);
    for (size_t i = 0; i < s->n_attrs; i++) key_value(w, 9, &s->attrs[i]);
    if (s->dropped_attrs) field_varint(w, 10, s->dropped_attrs);
    if (s->status_code || (s->status_message && *s->status_message)) {
        begin(w, 15);
        field_string_opt(w, 2, s->status_message);
        if (s->status_code) field_varint(w, 3, (uint64_t)s->status_code);
        end(w);
    }
    if (s->flags) field_fixed32(w, 16, s->flags);
    end(w);
}

strands_status tel_encode_protobuf(const tel_export_meta *meta,
                                   tel_span *const *spans, size_t n,
                                   dynbuf *out)
{
    pb w = {0};
    begin(&w, 1);                 /* ExportTraceServiceRequest.resource_spans */
    begin(&w, 1);                 /* ResourceSpans.resource */
    for (size_t i = 0; i < meta->n_resource; i++)
        string_kv(&w, 1, &meta->resource[i]); /* Resource.attributes */
    end(&w);
    begin(&w, 2);                 /* ResourceSpans.scope_spans */
    begin(&w, 1);                 /* ScopeSpans.scope */
    field_string_opt(&w, 1, meta->scope_name);
    field_string_opt(&w, 2, meta->scope_version);
    end(&w);
    for (size_t i = 0; i < n; i++) span(&w, 2, spans[i]); /* .spans */
    end(&w);
    end(&w);
    strands_status st = w.oom ? STRANDS_E_NOMEM
                              : dynbuf_append(out, w.d, w.len);
    free(w.d);
    return st;
}
