/* Trace context on the wire: W3C `traceparent` (parse per the
 * specification's validation and versioning rules, format version 00),
 * AWS `X-Amzn-Trace-Id`, and random trace/span ids.                      */
#include <errno.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "telemetry/internal.h"

static int lower_hex(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

static int any_hex(int c)
{
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return lower_hex(c);
}

/* Decodes 2n hex chars into n bytes with the given digit function. */
static int unhex(const char *s, size_t n, uint8_t *out, int (*digit)(int))
{
    for (size_t i = 0; i < n; i++) {
        int h = digit((unsigned char)s[2 * i]);
        int l = digit((unsigned char)s[2 * i + 1]);
        if (h < 0 || l < 0) return -1;
        out[i] = (uint8_t)(h << 4 | l);
    }
    return 0;
}

static int all_zero(const uint8_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (b[i]) return 0;
    return 1;
}

void tel_hex(const uint8_t *b, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[b[i] >> 4];
        out[2 * i + 1] = digits[b[i] & 15];
    }
    out[2 * n] = '\0';
}

void tel_random_id(uint8_t *b, size_t n)
{
    do {
        size_t got = 0;
        while (got < n) {
            ssize_t r = getrandom(b + got, n - got, 0);
            if (r > 0) {
                got += (size_t)r;
            } else if (r < 0 && errno != EINTR) {
                /* No kernel randomness (practically unreachable): mix the
                 * clock in so ids still differ. */
                struct timespec ts;
                clock_gettime(CLOCK_REALTIME, &ts);
                for (size_t i = got; i < n; i++)
                    b[i] = (uint8_t)((uint64_t)ts.tv_nsec >> (i % 4 * 8) ^
                                     (uint64_t)ts.tv_sec ^ i * 131);
                got = n;
            }
        }
    } while (all_zero(b, n));
}

strands_status strands_traceparent_parse(const char *value,
                                         strands_trace_ctx *out)
{
    if (!value) return STRANDS_E_PARSE;
    const char *b = value, *e = value + strlen(value);
    while (b < e && (*b == ' ' || *b == '\t')) b++;
    while (e > b && (e[-1] == ' ' || e[-1] == '\t')) e--;
    size_t len = (size_t)(e - b);
    uint8_t version;
    if (len < 55 || unhex(b, 1, &version, lower_hex) || version == 0xff ||
        b[2] != '-' || b[35] != '-' || b[52] != '-')
        return STRANDS_E_PARSE;
    /* Version 00 is exactly 55 characters; a later version may append
     * fields, but only after a '-'. */
    if (version == 0 ? len != 55 : len > 55 && b[55] != '-')
        return STRANDS_E_PARSE;
    strands_trace_ctx c;
    if (unhex(b + 3, 16, c.trace_id, lower_hex) ||
        unhex(b + 36, 8, c.span_id, lower_hex) ||
        unhex(b + 53, 1, &c.flags, lower_hex) || all_zero(c.trace_id, 16) ||
        all_zero(c.span_id, 8))
        return STRANDS_E_PARSE;
    *out = c;
    return STRANDS_OK;
}

size_t strands_traceparent_format(const strands_trace_ctx *ctx, char *out,
                                  size_t outsz)
{
    if (outsz < STRANDS_TRACEPARENT_SIZE) {
        if (outsz) out[0] = '\0';
        return 0;
    }
    memcpy(out, "00-", 3);
    tel_hex(ctx->trace_id, 16, out + 3);
    out[35] = '-';
    tel_hex(ctx->span_id, 8, out + 36);
    out[52] = '-';
    tel_hex(&ctx->flags, 1, out + 53);
    return 55;
}

/* X-Ray "Root=1-<8 hex digits>-<24 hex digits>": a 32-digit trace id. */
static int xray_root(const char *v, size_t len, uint8_t id[16])
{
    if (len != 35 || v[0] != '1' || v[1] != '-' || v[10] != '-') return -1;
    char hex[32];
    memcpy(hex, v + 2, 8);
    memcpy(hex + 8, v + 11, 24);
    return unhex(hex, 16, id, any_hex) || all_zero(id, 16) ? -1 : 0;
}

strands_status strands_xray_parse(const char *value, strands_trace_ctx *out)
{
    if (!value) return STRANDS_E_PARSE;
    strands_trace_ctx c;
    memset(&c, 0, sizeof c);
    int have_root = 0, have_parent = 0;
    const char *p = value;
    while (*p) {
        const char *end = strchr(p, ';');
        if (!end) end = p + strlen(p);
        const char *b = p, *e = end;
        while (b < e && (*b == ' ' || *b == '\t')) b++;
        while (e > b && (e[-1] == ' ' || e[-1] == '\t')) e--;
        const char *eq = memchr(b, '=', (size_t)(e - b));
        if (eq) {
            size_t klen = (size_t)(eq - b), vlen = (size_t)(e - eq - 1);
            const char *v = eq + 1;
            if (klen == 4 && !memcmp(b, "Root", 4)) {
                if (have_root || xray_root(v, vlen, c.trace_id))
                    return STRANDS_E_PARSE;
                have_root = 1;
            } else if (klen == 6 && !memcmp(b, "Parent", 6)) {
                if (have_parent || vlen != 16 ||
                    unhex(v, 8, c.span_id, any_hex) || all_zero(c.span_id, 8))
                    return STRANDS_E_PARSE;
                have_parent = 1;
            } else if (klen == 7 && !memcmp(b, "Sampled", 7)) {
                c.flags = vlen == 1 && v[0] == '1' ? STRANDS_TRACE_FLAG_SAMPLED
                                                   : 0;
            }
        }
        p = *end ? end + 1 : end;
    }
    if (!have_root || !have_parent) return STRANDS_E_PARSE;
    *out = c;
    return STRANDS_OK;
}

int strands_trace_ctx_extract(const char *traceparent, const char *xray,
                              strands_trace_ctx *out)
{
    if (traceparent && strands_traceparent_parse(traceparent, out) ==
                           STRANDS_OK)
        return 1;
    return xray && strands_xray_parse(xray, out) == STRANDS_OK;
}
