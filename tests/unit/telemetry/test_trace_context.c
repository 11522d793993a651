/* Tests for trace context parsing (src/telemetry/context.c) and the
 * sampler (src/telemetry/sampler.c): traceparent vectors taken from the
 * rules and examples of the W3C Trace Context text (valid, invalid,
 * future versions), AWS X-Ray headers, which header wins, random ids,
 * and every sampler's decision.                                          */
#include "telemetry/internal.h"
#include "test.h"

#define TID "4bf92f3577b34da6a3ce929d0e0e4736"
#define SID "00f067aa0ba902b7"

static const uint8_t TID_BYTES[16] = {0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3,
                                      0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d,
                                      0x0e, 0x0e, 0x47, 0x36};
static const uint8_t SID_BYTES[8] = {0x00, 0xf0, 0x67, 0xaa,
                                     0x0b, 0xa9, 0x02, 0xb7};

static void check_valid(const char *header, int flags)
{
    strands_trace_ctx c;
    memset(&c, 0xee, sizeof c);
    strands_status st = strands_traceparent_parse(header, &c);
    if (st != STRANDS_OK) {
        FAIL_AT("rejected valid traceparent \"%s\"", header);
        return;
    }
    CHECK_MEM(c.trace_id, 16, TID_BYTES, 16);
    CHECK_MEM(c.span_id, 8, SID_BYTES, 8);
    CHECK_INT(c.flags, flags);
}

static void check_invalid(const char *header)
{
    strands_trace_ctx c;
    memset(&c, 0xee, sizeof c);
    if (strands_traceparent_parse(header, &c) != STRANDS_E_PARSE)
        FAIL_AT("accepted invalid traceparent \"%s\"", header);
    /* out is untouched on failure */
    CHECK_INT(c.flags, 0xee);
}

static void test_traceparent_valid(void)
{
    check_valid("00-" TID "-" SID "-01", 1);   /* the spec's example */
    check_valid("00-" TID "-" SID "-00", 0);   /* not sampled */
    check_valid(" \t00-" TID "-" SID "-01\t ", 1); /* OWS around it */
    /* Unknown flags are kept (and ignored) by version 00 parsers. */
    check_valid("00-" TID "-" SID "-09", 9);
    /* A higher version is parsed by its version-00 prefix. */
    check_valid("cc-" TID "-" SID "-01", 1);
    check_valid("cc-" TID "-" SID "-01-what-the-future-will-be-like", 1);
    check_valid("01-" TID "-" SID "-00-", 0);
}

static void test_traceparent_invalid(void)
{
    check_invalid(NULL);
    check_invalid("");
    check_invalid("00");
    /* Version ff is forbidden; versions are two lowercase hex digits. */
    check_invalid("ff-" TID "-" SID "-01");
    check_invalid("0g-" TID "-" SID "-01");
    check_invalid("AA-" TID "-" SID "-01");
    /* Version 00 has exactly four fields: nothing may follow. */
    check_invalid("00-" TID "-" SID "-01-");
    check_invalid("00-" TID "-" SID "-01-what-the-future-will-be-like");
    check_invalid("00-" TID "-" SID "-010");
    /* A future version's extra data must start with '-'. */
    check_invalid("cc-" TID "-" SID "-01.what");
    check_invalid("cc-" TID "-" SID "-0");
    /* Uppercase hex is not allowed in any field. */
    check_invalid("00-4BF92F3577B34DA6A3CE929D0E0E4736-" SID "-01");
    check_invalid("00-" TID "-00F067AA0BA902B7-01");
    check_invalid("00-" TID "-" SID "-0A");
    /* All-zero ids are invalid. */
    check_invalid("00-00000000000000000000000000000000-" SID "-01");
    check_invalid("00-" TID "-0000000000000000-01");
    /* Wrong lengths, separators and characters. */
    check_invalid("00-4bf92f3577b34da6a3ce929d0e0e473-" SID "-01");
    check_invalid("00-" TID "-00f067aa0ba902b-01");
    check_invalid("00-" TID "-" SID);
    check_invalid("00_" TID "-" SID "-01");
    check_invalid("00-" TID "_" SID "-01");
    check_invalid("00-" TID "-" SID "_01");
    check_invalid("00-4bf92f3577b34da6a3ce929d0e0e473g-" SID "-01");
    check_invalid("00-" TID "-" SID "-0x");
    check_invalid("00 -" TID "-" SID "-01");
}

static void test_traceparent_format(void)
{
    strands_trace_ctx c;
    memcpy(c.trace_id, TID_BYTES, 16);
    memcpy(c.span_id, SID_BYTES, 8);
    c.flags = 1;
    char out[STRANDS_TRACEPARENT_SIZE];
    CHECK_INT(strands_traceparent_format(&c, out, sizeof out), 55);
    CHECK_STR(out, "00-" TID "-" SID "-01");
    /* Round trip. */
    strands_trace_ctx back;
    CHECK_INT(strands_traceparent_parse(out, &back), STRANDS_OK);
    CHECK_MEM(&back, sizeof back, &c, sizeof c);
    /* Too small: nothing but "". */
    char small[55];
    memset(small, 'x', sizeof small);
    CHECK_INT(strands_traceparent_format(&c, small, sizeof small), 0);
    CHECK_STR(small, "");
    CHECK_INT(strands_traceparent_format(&c, small, 0), 0);
    CHECK_INT(small[0], 0);
}

/* ---- AWS X-Ray ------------------------------------------------------------- */

static const uint8_t XRAY_TID[16] = {0x57, 0x59, 0xe9, 0x88, 0xbd, 0x86,
                                     0x2e, 0x3f, 0xe1, 0xbe, 0x46, 0xa9,
                                     0x94, 0x27, 0x27, 0x93};
static const uint8_t XRAY_SID[8] = {0x53, 0x99, 0x5c, 0x3f,
                                    0x42, 0xcd, 0x8a, 0xd8};

static void check_xray(const char *header, int flags)
{
    strands_trace_ctx c;
    if (strands_xray_parse(header, &c) != STRANDS_OK) {
        FAIL_AT("rejected X-Ray header \"%s\"", header);
        return;
    }
    CHECK_MEM(c.trace_id, 16, XRAY_TID, 16);
    CHECK_MEM(c.span_id, 8, XRAY_SID, 8);
    CHECK_INT(c.flags, flags);
}

static void test_xray(void)
{
    check_xray("Root=1-5759e988-bd862e3fe1be46a994272793;"
               "Parent=53995c3f42cd8ad8;Sampled=1", 1);
    check_xray("Root=1-5759e988-bd862e3fe1be46a994272793;"
               "Parent=53995c3f42cd8ad8;Sampled=0", 0);
    check_xray("Root=1-5759e988-bd862e3fe1be46a994272793;"
               "Parent=53995c3f42cd8ad8;Sampled=?", 0);
    check_xray("Root=1-5759e988-bd862e3fe1be46a994272793;"
               "Parent=53995c3f42cd8ad8", 0);
    /* Any order, spaces, other fields (Self, Lineage) ignored, hex in
     * either case. */
    check_xray(" Self=1-67891234-12456789abcdef012345678; "
               "Parent=53995C3F42CD8AD8 ; Sampled=1;"
               "Root=1-5759E988-BD862E3FE1BE46A994272793;"
               "Lineage=a87bd80c:1|68fd508a:5", 1);
    strands_trace_ctx c;
    static const char *const bad[] = {
        NULL, "",
        "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1", /* no parent */
        "Parent=53995c3f42cd8ad8;Sampled=1",                  /* no root */
        "Root=2-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8",
        "Root=1-5759e98-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8",
        "Root=1-5759e988-bd862e3fe1be46a99427279;Parent=53995c3f42cd8ad8",
        "Root=1-5759e988bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8",
        "Root=1-5759e988-bd862e3fe1be46a99427279z;Parent=53995c3f42cd8ad8",
        "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad",
        "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=0000000000000000",
        "Root=1-00000000-000000000000000000000000;Parent=53995c3f42cd8ad8",
        "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;"
        "Root=1-5759e988-bd862e3fe1be46a994272794",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (strands_xray_parse(bad[i], &c) != STRANDS_E_PARSE)
            FAIL_AT("accepted X-Ray header #%zu \"%s\"", i,
                    bad[i] ? bad[i] : "(null)");
}

static void test_extract_precedence(void)
{
    const char *tp = "00-" TID "-" SID "-00";
    const char *xr = "Root=1-5759e988-bd862e3fe1be46a994272793;"
                     "Parent=53995c3f42cd8ad8;Sampled=1";
    strands_trace_ctx c;
    CHECK_INT(strands_trace_ctx_extract(tp, xr, &c), 1);
    CHECK_MEM(c.trace_id, 16, TID_BYTES, 16); /* traceparent wins */
    CHECK_INT(c.flags, 0);
    CHECK_INT(strands_trace_ctx_extract(NULL, xr, &c), 1);
    CHECK_MEM(c.trace_id, 16, XRAY_TID, 16);
    CHECK_INT(c.flags, 1);
    /* An invalid traceparent does not hide a valid X-Ray header. */
    CHECK_INT(strands_trace_ctx_extract("00-zz", xr, &c), 1);
    CHECK_MEM(c.span_id, 8, XRAY_SID, 8);
    CHECK_INT(strands_trace_ctx_extract(tp, NULL, &c), 1);
    CHECK_INT(strands_trace_ctx_extract(NULL, NULL, &c), 0);
    CHECK_INT(strands_trace_ctx_extract("bad", "bad", &c), 0);
}

static void test_random_ids(void)
{
    uint8_t a[16], b[16], zero[16] = {0};
    tel_random_id(a, 16);
    tel_random_id(b, 16);
    CHECK(memcmp(a, b, 16) != 0);
    CHECK(memcmp(a, zero, 16) != 0);
    char hex[33];
    uint8_t k[3] = {0x00, 0xab, 0xf0};
    tel_hex(k, 3, hex);
    CHECK_STR(hex, "00abf0");
}

/* ---- sampler --------------------------------------------------------------------- */

static int decide(int parent_based, tel_root_sampler root, double ratio,
                  int parent_flags /* -1: no parent */, uint64_t low)
{
    tel_sampler s = {parent_based, root, ratio};
    uint8_t id[16] = {0x11, 0x22};
    for (int i = 0; i < 8; i++) id[15 - i] = (uint8_t)(low >> (8 * i));
    strands_trace_ctx parent = {.flags = (uint8_t)(parent_flags & 0xff)};
    return tel_sampler_should_sample(&s, parent_flags < 0 ? NULL : &parent,
                                     id);
}

static void test_sampler_plain(void)
{
    /* Non-parent-based samplers ignore the parent's flag. */
    CHECK_INT(decide(0, TEL_SAMPLE_ALWAYS_ON, 1, -1, 0), 1);
    CHECK_INT(decide(0, TEL_SAMPLE_ALWAYS_ON, 1, 0, 0), 1);
    CHECK_INT(decide(0, TEL_SAMPLE_ALWAYS_OFF, 1, -1, 0), 0);
    CHECK_INT(decide(0, TEL_SAMPLE_ALWAYS_OFF, 1, 1, 0), 0);
}

static void test_sampler_parent_based(void)
{
    CHECK_INT(decide(1, TEL_SAMPLE_ALWAYS_ON, 1, -1, 0), 1);
    CHECK_INT(decide(1, TEL_SAMPLE_ALWAYS_ON, 1, 1, 0), 1);
    CHECK_INT(decide(1, TEL_SAMPLE_ALWAYS_ON, 1, 0, 0), 0);
    CHECK_INT(decide(1, TEL_SAMPLE_ALWAYS_ON, 1, 0x08, 0), 0); /* bit 0 */
    CHECK_INT(decide(1, TEL_SAMPLE_ALWAYS_OFF, 1, -1, 0), 0);
    CHECK_INT(decide(1, TEL_SAMPLE_ALWAYS_OFF, 1, 1, 0), 1);
    CHECK_INT(decide(1, TEL_SAMPLE_RATIO, 0.0, 1, 0), 1);
    CHECK_INT(decide(1, TEL_SAMPLE_RATIO, 1.0, 0, 0), 0);
    CHECK_INT(decide(1, TEL_SAMPLE_RATIO, 0.0, -1, 0), 0);
}

static void test_sampler_ratio(void)
{
    /* The last 8 bytes of the trace id against ratio * 2^64. */
    CHECK_INT(decide(0, TEL_SAMPLE_RATIO, 0.5, -1, 0), 1);
    CHECK_INT(decide(0, TEL_SAMPLE_RATIO, 0.5, -1, 0x7fffffffffffffffull), 1);
    CHECK_INT(decide(0, TEL_SAMPLE_RATIO, 0.5, -1, 0x8000000000000000ull), 0);
    CHECK_INT(decide(0, TEL_SAMPLE_RATIO, 0.5, -1, UINT64_MAX), 0);
    CHECK_INT(decide(0, TEL_SAMPLE_RATIO, 1.0, -1, UINT64_MAX), 1);
    CHECK_INT(decide(0, TEL_SAMPLE_RATIO, 0.0, -1, 0), 0);
    CHECK_INT(decide(0, TEL_SAMPLE_RATIO, 0.25, -1, 0x3fffffffffffffffull),
              1);
    CHECK_INT(decide(0, TEL_SAMPLE_RATIO, 0.25, -1, 0x4000000000000000ull),
              0);
    /* Over random ids the rate is the ratio (a wide 6-sigma band). */
    tel_sampler s = {0, TEL_SAMPLE_RATIO, 0.25};
    int hits = 0;
    for (int i = 0; i < 10000; i++) {
        uint8_t id[16];
        tel_random_id(id, 16);
        hits += tel_sampler_should_sample(&s, NULL, id);
    }
    CHECK(hits > 2240 && hits < 2760);
}

int main(void)
{
    RUN(test_traceparent_valid);
    RUN(test_traceparent_invalid);
    RUN(test_traceparent_format);
    RUN(test_xray);
    RUN(test_extract_precedence);
    RUN(test_random_ids);
    RUN(test_sampler_plain);
    RUN(test_sampler_parent_based);
    RUN(test_sampler_ratio);
    return test_report();
}
