/* Tests for the OTLP encoders (src/telemetry/otlp_proto.c, otlp_json.c)
 * and span attributes (src/telemetry/span.c): one small span checked byte
 * for byte against an encoding derived by hand from the .proto files, the
 * same span in OTLP/JSON, a large request walked with a minimal protobuf
 * reader (nested lengths, batch counts), and UTF-8 repair.              */
#include <jansson.h>

#include "telemetry/internal.h"
#include "test.h"

/* The span of the byte-exact tests. */
static tel_span *small_span(void)
{
    tel_span *s = tel_span_new("chat");
    for (int i = 0; i < 16; i++) s->trace_id[i] = (uint8_t)(0x01 + i);
    for (int i = 0; i < 8; i++) s->span_id[i] = (uint8_t)(0x11 + i);
    for (int i = 0; i < 8; i++) s->parent_span_id[i] = (uint8_t)(0x21 + i);
    s->has_parent = 1;
    s->flags = 0x101;
    s->start_ns = 1000000000u;
    s->end_ns = 2000000000u;
    tel_span_set_str(s, "a", "b");
    tel_span_set_int(s, "n", 150);
    tel_span_set_bool(s, "t", 1);
    tel_span_set_double(s, "d", 1.5);
    const char *items[] = {"x"};
    tel_span_set_str_array(s, "r", items, 1);
    tel_span_set_status(s, TEL_STATUS_ERROR, "bad");
    return s;
}

static const tel_kv SMALL_RESOURCE[] = {{"service.name", "svc"}};
static const tel_export_meta SMALL_META = {SMALL_RESOURCE, 1, "s", "1"};

/* Derivation (tag = field << 3 | wire type; 0 varint, 1 fixed64,
 * 2 length-delimited, 5 fixed32; lengths are varints):
 *
 * Span attributes (Span.attributes = 9 -> tag 0x4a), each a KeyValue
 * {key = 1 (0x0a), value = 2 (0x12)} holding an AnyValue:
 *   "a"="b":  AnyValue{string_value=1: 0a 01 62}            3 bytes
 *             KeyValue 0a 01 61 | 12 03 <3>                 8 -> 4a 08 ..
 *   "n"=150:  AnyValue{int_value=3 varint: 18 96 01}        3 bytes
 *             (150 = 0x96 = 1|0010110 -> 96 01)
 *             KeyValue 0a 01 6e | 12 03 <3>                 8 -> 4a 08 ..
 *   "t"=true: AnyValue{bool_value=2: 10 01}                 2 bytes
 *             KeyValue 0a 01 74 | 12 02 <2>                 7 -> 4a 07 ..
 *   "d"=1.5:  AnyValue{double_value=4 fixed64: 21 + LE bytes of
 *             0x3ff8000000000000 = 00 00 00 00 00 00 f8 3f}  9 bytes
 *             KeyValue 0a 01 64 | 12 09 <9>                14 -> 4a 0e ..
 *   "r"=["x"]: AnyValue "x" = 0a 01 78; ArrayValue{values=1} = 0a 03 ..
 *             (5); AnyValue{array_value=5: 2a 05 ..}         7 bytes
 *             KeyValue 0a 01 72 | 12 07 <7>                12 -> 4a 0c ..
 *   attributes total: 10 + 10 + 9 + 16 + 14 = 59
 * Span.status = 15 (tag 0x7a): Status{message=2: 12 03 "bad";
 *   code=3: 18 02} = 7 bytes -> 7a 07 ..                    9
 * Span.flags = 16, fixed32 (tag 16<<3|5 = 133 -> 85 01), 0x101 LE
 *   01 01 00 00                                             6
 * trace_id = 1 (0a 10 + 16 bytes)                          18
 * span_id = 2 (12 08 + 8)                                  10
 * parent_span_id = 4 (22 08 + 8)                           10
 * name = 5 (2a 04 "chat")                                   6
 * kind = 6 (30 01, SPAN_KIND_INTERNAL)                      2
 * start_time_unix_nano = 7 fixed64 (tag 0x39): 1e9 = 0x3b9aca00 LE
 *   00 ca 9a 3b 00 00 00 00                                 9
 * end_time_unix_nano = 8 (tag 0x41): 2e9 = 0x77359400 LE    9
 *   Span = 18+10+10+6+2+9+9+59+9+6 = 138 = 0x8a -> length 8a 01
 * ScopeSpans: scope = 1: InstrumentationScope{name=1 "s", version=2
 *   "1"} = 0a 01 73 12 01 31 (6) -> 0a 06 ..                8
 *   spans = 2: 12 8a 01 + 138                             141
 *   ScopeSpans = 149 = 0x95 -> 95 01
 * ResourceSpans: resource = 1: Resource{attributes=1: KeyValue{
 *   "service.name" (12 bytes), AnyValue{"svc"} = 0a 03 73 76 63 (5)}
 *   = 0a 0c .. 12 05 .. = 21 (0x15)} = 0a 15 .. = 23 -> 0a 17 ..  25
 *   scope_spans = 2: 12 95 01 + 149                       152
 *   ResourceSpans = 177 = 0xb1 -> b1 01
 * ExportTraceServiceRequest{resource_spans = 1}: 0a b1 01 + 177 = 180. */
static const uint8_t SMALL_PB[] = {
    0x0a, 0xb1, 0x01,                         /* resource_spans, 177 */
    0x0a, 0x17,                               /* .resource, 23 */
    0x0a, 0x15,                               /* ..attributes, 21 */
    0x0a, 0x0c, 's', 'e', 'r', 'v', 'i', 'c', 'e', '.', 'n', 'a', 'm', 'e',
    0x12, 0x05, 0x0a, 0x03, 's', 'v', 'c',
    0x12, 0x95, 0x01,                         /* .scope_spans, 149 */
    0x0a, 0x06, 0x0a, 0x01, 's', 0x12, 0x01, '1', /* ..scope */
    0x12, 0x8a, 0x01,                         /* ..spans, 138 */
    0x0a, 0x10, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a,
    0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10,       /* trace_id */
    0x12, 0x08, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, /* span_id */
    0x22, 0x08, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28, /* parent */
    0x2a, 0x04, 'c', 'h', 'a', 't',           /* name */
    0x30, 0x01,                               /* kind */
    0x39, 0x00, 0xca, 0x9a, 0x3b, 0x00, 0x00, 0x00, 0x00, /* start */
    0x41, 0x00, 0x94, 0x35, 0x77, 0x00, 0x00, 0x00, 0x00, /* end */
    0x4a, 0x08, 0x0a, 0x01, 'a', 0x12, 0x03, 0x0a, 0x01, 'b',
    0x4a, 0x08, 0x0a, 0x01, 'n', 0x12, 0x03, 0x18, 0x96, 0x01,
    0x4a, 0x07, 0x0a, 0x01, 't', 0x12, 0x02, 0x10, 0x01,
    0x4a, 0x0e, 0x0a, 0x01, 'd', 0x12, 0x09, 0x21, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0xf8, 0x3f,
    0x4a, 0x0c, 0x0a, 0x01, 'r', 0x12, 0x07, 0x2a, 0x05, 0x0a, 0x03, 0x0a,
    0x01, 'x',
    0x7a, 0x07, 0x12, 0x03, 'b', 'a', 'd', 0x18, 0x02, /* status */
    0x85, 0x01, 0x01, 0x01, 0x00, 0x00,       /* flags */
};

static void test_protobuf_small_span(void)
{
    CHECK_INT(sizeof SMALL_PB, 180);
    tel_span *s = small_span();
    dynbuf out;
    dynbuf_init(&out, 1 << 20);
    CHECK_INT(tel_encode_protobuf(&SMALL_META, &s, 1, &out), STRANDS_OK);
    CHECK_MEM(out.data, out.len, SMALL_PB, sizeof SMALL_PB);
    if (out.len == sizeof SMALL_PB)
        for (size_t i = 0; i < out.len; i++)
            if ((uint8_t)out.data[i] != SMALL_PB[i]) {
                FAIL_AT("first difference at byte %zu: %02x != %02x", i,
                        (uint8_t)out.data[i], SMALL_PB[i]);
                break;
            }
    dynbuf_cleanup(&out);
    tel_span_free(s);
}

/* Proto3 defaults are left out: a bare span is ids + name + kind only;
 * an empty string attribute is still written (a oneof member). */
static void test_protobuf_defaults(void)
{
    tel_span *s = tel_span_new("x");
    memset(s->trace_id, 0xaa, 16);
    memset(s->span_id, 0xbb, 8);
    tel_span_set_str(s, "e", "");
    tel_span_set_int(s, "z", 0);
    tel_export_meta meta = {NULL, 0, NULL, NULL};
    dynbuf out;
    dynbuf_init(&out, 1 << 20);
    CHECK_INT(tel_encode_protobuf(&meta, &s, 1, &out), STRANDS_OK);
    static const uint8_t want[] = {
        0x0a, 0x3b,              /* resource_spans, 59 */
        0x0a, 0x00,              /* empty resource */
        0x12, 0x37,              /* scope_spans, 55 */
        0x0a, 0x00,              /* empty scope */
        0x12, 0x33,              /* span, 51 = 18+10+3+2+9+9 */
        0x0a, 0x10, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa,
        0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa,
        0x12, 0x08, 0xbb, 0xbb, 0xbb, 0xbb, 0xbb, 0xbb, 0xbb, 0xbb,
        0x2a, 0x01, 'x',
        0x30, 0x01,
        0x4a, 0x07, 0x0a, 0x01, 'e', 0x12, 0x02, 0x0a, 0x00, /* "" */
        0x4a, 0x07, 0x0a, 0x01, 'z', 0x12, 0x02, 0x18, 0x00, /* 0 */
    };
    CHECK_MEM(out.data, out.len, want, sizeof want);
    dynbuf_cleanup(&out);
    tel_span_free(s);
}

static void test_json_small_span(void)
{
    tel_span *s = small_span();
    dynbuf out;
    dynbuf_init(&out, 1 << 20);
    CHECK_INT(tel_encode_json(&SMALL_META, &s, 1, &out), STRANDS_OK);
    CHECK_STR(dynbuf_str(&out),
              "{\"resourceSpans\":[{\"resource\":{\"attributes\":[{\"key\":"
              "\"service.name\",\"value\":{\"stringValue\":\"svc\"}}]},"
              "\"scopeSpans\":[{\"scope\":{\"name\":\"s\",\"version\":\"1\"},"
              "\"spans\":[{\"traceId\":\"0102030405060708090a0b0c0d0e0f10\","
              "\"spanId\":\"1112131415161718\",\"parentSpanId\":"
              "\"2122232425262728\",\"flags\":257,\"name\":\"chat\","
              "\"kind\":1,\"startTimeUnixNano\":\"1000000000\","
              "\"endTimeUnixNano\":\"2000000000\",\"attributes\":["
              "{\"key\":\"a\",\"value\":{\"stringValue\":\"b\"}},"
              "{\"key\":\"n\",\"value\":{\"intValue\":\"150\"}},"
              "{\"key\":\"t\",\"value\":{\"boolValue\":true}},"
              "{\"key\":\"d\",\"value\":{\"doubleValue\":1.5}},"
              "{\"key\":\"r\",\"value\":{\"arrayValue\":{\"values\":["
              "{\"stringValue\":\"x\"}]}}}],"
              "\"status\":{\"message\":\"bad\",\"code\":2}}]}]}]}");
    dynbuf_cleanup(&out);
    tel_span_free(s);
}

/* 64-bit values survive as decimal strings; large nanosecond times and
 * negative integers included. */
static void test_json_int64(void)
{
    tel_span *s = tel_span_new("big");
    s->start_ns = UINT64_C(1795539885585444634);
    s->end_ns = UINT64_MAX;
    tel_span_set_int(s, "neg", INT64_MIN);
    tel_export_meta meta = {NULL, 0, NULL, NULL};
    dynbuf out;
    dynbuf_init(&out, 1 << 20);
    CHECK_INT(tel_encode_json(&meta, &s, 1, &out), STRANDS_OK);
    json_t *j = json_loads(dynbuf_str(&out), 0, NULL);
    json_t *sp = json_array_get(json_object_get(json_array_get(
        json_object_get(json_array_get(json_object_get(j, "resourceSpans"),
                                       0),
                        "scopeSpans"), 0), "spans"), 0);
    CHECK_STR(json_string_value(json_object_get(sp, "startTimeUnixNano")),
              "1795539885585444634");
    CHECK_STR(json_string_value(json_object_get(sp, "endTimeUnixNano")),
              "18446744073709551615");
    json_t *v = json_object_get(
        json_array_get(json_object_get(sp, "attributes"), 0), "value");
    CHECK_STR(json_string_value(json_object_get(v, "intValue")),
              "-9223372036854775808");
    CHECK(json_object_get(sp, "parentSpanId") == NULL); /* a root span */
    json_decref(j);
    dynbuf_cleanup(&out);
    tel_span_free(s);
}

/* ---- a minimal protobuf reader for structure checks ----------------------- */

typedef struct rd {
    const uint8_t *p, *end;
    int bad;
} rd;

static uint64_t rd_varint(rd *r)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (r->p >= r->end) break;
        uint8_t b = *r->p++;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) return v;
    }
    r->bad = 1;
    return 0;
}

/* Next field: returns 0 at the end; fills *field, *wt and, for wire type
 * 2, a sub-reader over the payload (else skips the value). */
static int rd_next(rd *r, unsigned *field, unsigned *wt, rd *sub)
{
    if (r->bad || r->p >= r->end) return 0;
    uint64_t tag = rd_varint(r);
    *field = (unsigned)(tag >> 3);
    *wt = (unsigned)(tag & 7);
    size_t n = 0;
    if (*wt == 0) {
        rd_varint(r);
    } else if (*wt == 1) {
        n = 8;
    } else if (*wt == 5) {
        n = 4;
    } else if (*wt == 2) {
        n = (size_t)rd_varint(r);
        sub->p = r->p;
        sub->end = r->p + n;
        sub->bad = 0;
    } else {
        r->bad = 1;
        return 0;
    }
    if ((size_t)(r->end - r->p) < n) {
        r->bad = 1;
        return 0;
    }
    r->p += n;
    return !r->bad;
}

/* Counts the spans of a request; -1 when its structure is broken. */
static long count_spans(const uint8_t *p, size_t len, long *attrs)
{
    rd req = {p, p + len, 0}, rs, ss, sp, x;
    unsigned f, wt;
    long spans = 0;
    *attrs = 0;
    while (rd_next(&req, &f, &wt, &rs)) {
        if (f != 1 || wt != 2) return -1;
        while (rd_next(&rs, &f, &wt, &ss)) {
            if (f != 2) continue;
            while (rd_next(&ss, &f, &wt, &sp)) {
                if (f != 2) continue;
                spans++;
                while (rd_next(&sp, &f, &wt, &x))
                    if (f == 9) (*attrs)++;
                if (sp.bad) return -1;
            }
            if (ss.bad) return -1;
        }
        if (rs.bad) return -1;
    }
    return req.bad ? -1 : spans;
}

static void test_protobuf_large_request(void)
{
    enum { N = 300 };
    tel_span *spans[N];
    char name[400];
    memset(name, 'n', sizeof name - 1);
    name[sizeof name - 1] = '\0';
    for (int i = 0; i < N; i++) {
        spans[i] = tel_span_new(name); /* long: multi-byte lengths */
        tel_random_id(spans[i]->trace_id, 16);
        tel_random_id(spans[i]->span_id, 8);
        spans[i]->start_ns = 1;
        spans[i]->end_ns = 2;
        for (int a = 0; a < 20; a++) {
            char key[16];
            snprintf(key, sizeof key, "k%d", a);
            tel_span_set_int(spans[i], key, (int64_t)a * 1000003 - 7);
        }
    }
    dynbuf out;
    dynbuf_init(&out, 64u << 20);
    CHECK_INT(tel_encode_protobuf(&SMALL_META, spans, N, &out), STRANDS_OK);
    long attrs;
    CHECK_INT(count_spans((const uint8_t *)out.data, out.len, &attrs), N);
    CHECK_INT(attrs, N * 20);
    /* A truncated request is detected by the reader (sanity of the
     * reader itself). */
    CHECK_INT(count_spans((const uint8_t *)out.data, out.len - 3, &attrs),
              -1);
    dynbuf_cleanup(&out);
    /* The size cap of the output buffer is respected. */
    dynbuf_init(&out, 1000);
    CHECK_INT(tel_encode_protobuf(&SMALL_META, spans, N, &out),
              STRANDS_E_TOO_LARGE);
    dynbuf_cleanup(&out);
    for (int i = 0; i < N; i++) tel_span_free(spans[i]);
}

/* ---- attributes ------------------------------------------------------------------ */

static void test_attributes_replace(void)
{
    tel_span *s = tel_span_new("x");
    tel_span_set_str(s, "k", "one");
    tel_span_set_int(s, "k", 7);
    tel_span_set_str(s, "other", "v");
    CHECK_INT(s->n_attrs, 2);
    const tel_attr *a = tel_span_attr(s, "k");
    CHECK(a && a->type == TEL_V_INT && a->v.i == 7);
    const char *items[] = {"p", "q"};
    tel_span_set_str_array(s, "k", items, 2);
    a = tel_span_attr(s, "k");
    CHECK(a && a->type == TEL_V_STRING_ARRAY && a->v.arr.n == 2);
    if (a && a->type == TEL_V_STRING_ARRAY) CHECK_STR(a->v.arr.items[1], "q");
    CHECK(tel_span_attr(s, "missing") == NULL);
    CHECK_INT(s->dropped_attrs, 0);
    tel_span_free(s);
}

static void test_utf8_repair(void)
{
    static const struct {
        const char *in;
        size_t len;
        const char *out;
    } cases[] = {
        {"plain", 5, "plain"},
        {"caf\xc3\xa9 \xf0\x9f\x98\x80", 10, "caf\xc3\xa9 \xf0\x9f\x98\x80"},
        {"a\xff" "b", 3, "a\xef\xbf\xbd" "b"},
        {"\xc0\xaf", 2, "\xef\xbf\xbd\xef\xbf\xbd"},           /* overlong */
        {"\xed\xa0\x80", 3,
         "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"},              /* surrogate */
        {"\xf4\x90\x80\x80", 4,
         "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"},  /* > 10FFFF */
        {"end\xe2\x82", 5, "end\xef\xbf\xbd\xef\xbf\xbd"},      /* truncated */
        {"n\0ul", 4, "n\xef\xbf\xbdul"},                        /* NUL */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *got = tel_utf8_dup(cases[i].in, cases[i].len);
        CHECK_STR(got, cases[i].out);
        free(got);
    }
    /* Span names, values and status messages are all repaired, so the
     * JSON encoder (which needs valid UTF-8) never fails on them. */
    tel_span *s = tel_span_new("tool \xff");
    tel_span_set_str(s, "k", "\xfe");
    tel_span_set_status(s, TEL_STATUS_ERROR, "bad \xc3");
    CHECK_STR(s->name, "tool \xef\xbf\xbd");
    dynbuf out;
    dynbuf_init(&out, 1 << 20);
    tel_export_meta meta = {NULL, 0, NULL, NULL};
    CHECK_INT(tel_encode_json(&meta, &s, 1, &out), STRANDS_OK);
    CHECK(strstr(dynbuf_str(&out), "\"bad \xef\xbf\xbd\"") != NULL);
    dynbuf_cleanup(&out);
    tel_span_free(s);
}

int main(void)
{
    RUN(test_protobuf_small_span);
    RUN(test_protobuf_defaults);
    RUN(test_json_small_span);
    RUN(test_json_int64);
    RUN(test_protobuf_large_request);
    RUN(test_attributes_replace);
    RUN(test_utf8_repair);
    return test_report();
}
