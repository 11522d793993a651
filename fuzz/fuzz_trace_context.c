/* libFuzzer target for the tracing parsers (src/telemetry/context.c,
 * config.c, span.c): arbitrary text goes to the traceparent and X-Ray
 * parsers, the OTEL "k=v,..." list parser and the UTF-8 repair. Checks:
 * an accepted traceparent formats back to a header that parses to the
 * same context; accepted ids are never all zero; repaired UTF-8 is a
 * fixed point of the repair. Never crash, leak or read out of bounds.   */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "telemetry/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_ctx(const strands_trace_ctx *c)
{
    static const uint8_t zero[16];
    if (!memcmp(c->trace_id, zero, 16) || !memcmp(c->span_id, zero, 8))
        abort();
    char tp[STRANDS_TRACEPARENT_SIZE];
    if (strands_traceparent_format(c, tp, sizeof tp) != 55) abort();
    strands_trace_ctx back;
    if (strands_traceparent_parse(tp, &back) != STRANDS_OK ||
        memcmp(&back, c, sizeof back))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s) return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    strands_trace_ctx c;
    if (strands_traceparent_parse(s, &c) == STRANDS_OK) check_ctx(&c);
    if (strands_xray_parse(s, &c) == STRANDS_OK) check_ctx(&c);
    tel_kv *kv;
    size_t n;
    strands_error err;
    if (tel_parse_kv_list("V", s, &kv, &n, &err) == STRANDS_OK) {
        for (size_t i = 0; i < n; i++)
            if (!kv[i].key[0] || strpbrk(kv[i].value, "\r\n")) abort();
        tel_kv_free(kv, n);
    } else if (strncmp(err.message, "V: ", 3) && err.status != STRANDS_E_NOMEM) {
        abort();
    }
    char *u = tel_utf8_dup((const char *)data, size);
    if (u) {
        char *again = tel_utf8_dup(u, strlen(u));
        if (again && strcmp(again, u)) abort();
        free(again);
        free(u);
    }
    free(s);
    return 0;
}
