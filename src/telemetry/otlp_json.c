/* OTLP/JSON encoding of ExportTraceServiceRequest: the protobuf JSON
 * mapping with OTLP's exceptions: trace and span ids as lowercase hex
 * (not base64), enums as integers, lowerCamelCase keys; 64-bit integers
 * (times, intValue) are decimal strings.                                 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "telemetry/internal.h"

static json_t *u64_string(uint64_t v)
{
    char b[24];
    snprintf(b, sizeof b, "%" PRIu64, v);
    return json_string(b);
}

static json_t *hex_string(const uint8_t *b, size_t n)
{
    char hex[33];
    tel_hex(b, n, hex);
    return json_string(hex);
}

static json_t *any_value(const tel_attr *a)
{
    switch (a->type) {
    case TEL_V_STRING:
        return json_pack("{s:s}", "stringValue", a->v.s);
    case TEL_V_BOOL:
        return json_pack("{s:b}", "boolValue", a->v.b);
    case TEL_V_INT: {
        char b[24];
        snprintf(b, sizeof b, "%" PRId64, a->v.i);
        return json_pack("{s:s}", "intValue", b);
    }
    case TEL_V_DOUBLE:
        /* JSON has no NaN or infinities; the protobuf JSON mapping spells
         * them as strings. */
        if (isnan(a->v.d)) return json_pack("{s:s}", "doubleValue", "NaN");
        if (isinf(a->v.d))
            return json_pack("{s:s}", "doubleValue",
                             a->v.d > 0 ? "Infinity" : "-Infinity");
        return json_pack("{s:f}", "doubleValue", a->v.d);
    case TEL_V_STRING_ARRAY: {
        json_t *values = json_array();
        for (size_t i = 0; values && i < a->v.arr.n; i++)
            if (json_array_append_new(values,
                                      json_pack("{s:s}", "stringValue",
                                                a->v.arr.items[i]))) {
                json_decref(values);
                values = NULL;
            }
        return values ? json_pack("{s:{s:o}}", "arrayValue", "values", values)
                      : NULL;
    }
    }
    return NULL;
}

/* Appends {"key":..., "value":...}; returns -1 on OOM. */
static int add_attr(json_t *list, const tel_attr *a)
{
    json_t *v = any_value(a);
    return v ? json_array_append_new(list, json_pack("{s:s, s:o}", "key",
                                                     a->key, "value", v))
             : -1;
}

static json_t *span_json(const tel_span *s)
{
    json_t *o = json_object();
    json_t *attrs = json_array();
    if (!o || !attrs) goto fail;
    if (json_object_set_new(o, "traceId", hex_string(s->trace_id, 16)) ||
        json_object_set_new(o, "spanId", hex_string(s->span_id, 8)))
        goto fail;
    if (s->has_parent &&
        json_object_set_new(o, "parentSpanId",
                            hex_string(s->parent_span_id, 8)))
        goto fail;
    if (s->flags && json_object_set_new(o, "flags", json_integer(s->flags)))
        goto fail;
    if (json_object_set_new(o, "name", json_string(s->name)) ||
        json_object_set_new(o, "kind", json_integer(s->kind)) ||
        json_object_set_new(o, "startTimeUnixNano", u64_string(s->start_ns)) ||
        json_object_set_new(o, "endTimeUnixNano", u64_string(s->end_ns)))
        goto fail;
    for (size_t i = 0; i < s->n_attrs; i++)
        if (add_attr(attrs, &s->attrs[i])) goto fail;
    if (json_object_set(o, "attributes", attrs)) goto fail;
    if (s->dropped_attrs &&
        json_object_set_new(o, "droppedAttributesCount",
                            json_integer(s->dropped_attrs)))
        goto fail;
    json_t *status = json_object();
    if (!status || json_object_set_new(o, "status", status)) goto fail;
    if (s->status_message && *s->status_message &&
        json_object_set_new(status, "message",
                            json_string(s->status_message)))
        goto fail;
    if (s->status_code &&
        json_object_set_new(status, "code", json_integer(s->status_code)))
        goto fail;
    json_decref(attrs);
    return o;
fail:
    json_decref(attrs);
    json_decref(o);
    return NULL;
}

static json_t *request_json(const tel_export_meta *meta,
                            tel_span *const *spans, size_t n)
{
    json_t *rattrs = json_array(), *list = json_array();
    json_t *scope = json_object();
    int fail = !rattrs || !list || !scope;
    for (size_t i = 0; !fail && i < meta->n_resource; i++) {
        tel_attr a = {.key = meta->resource[i].key, .type = TEL_V_STRING,
                      .v.s = meta->resource[i].value};
        fail = add_attr(rattrs, &a) != 0;
    }
    if (!fail && meta->scope_name && *meta->scope_name)
        fail = json_object_set_new(scope, "name",
                                   json_string(meta->scope_name)) != 0;
    if (!fail && meta->scope_version && *meta->scope_version)
        fail = json_object_set_new(scope, "version",
                                   json_string(meta->scope_version)) != 0;
    for (size_t i = 0; !fail && i < n; i++)
        fail = json_array_append_new(list, span_json(spans[i])) != 0;
    if (fail) {
        json_decref(rattrs);
        json_decref(list);
        json_decref(scope);
        return NULL;
    }
    return json_pack("{s:[{s:{s:o}, s:[{s:o, s:o}]}]}", "resourceSpans",
                     "resource", "attributes", rattrs, "scopeSpans", "scope",
                     scope, "spans", list);
}

strands_status tel_encode_json(const tel_export_meta *meta,
                               tel_span *const *spans, size_t n,
                               dynbuf *out)
{
    json_t *req = request_json(meta, spans, n);
    char *text = req ? json_dumps(req, JSON_COMPACT) : NULL;
    json_decref(req);
    if (!text) return STRANDS_E_NOMEM;
    strands_status st = dynbuf_puts(out, text);
    free(text);
    return st;
}
