/* libFuzzer target for the OpenAI answer assembler
 * (src/models/openai_stream.c). Byte 0 picks a split point; byte 1 holds
 * flags: bit 0 set = the rest is a non-streamed chat.completion body
 * (oa_stream_apply_completion), clear = an SSE stream; bit 1 = tiny limits
 * (bytes, tool calls, argument size). A stream is fed whole, in two
 * chunks and (when small) one byte at a time: every run must reach the
 * same status and, on success, the same message (generated tool ids
 * aside). Must never crash, hang or leak.                               */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "models/openai_stream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void count_event(void *user, const strands_model_stream_event *ev)
{
    size_t *n = user;
    (*n)++;
    if (ev->len && !ev->data) abort();
    if (ev->type == STRANDS_MODEL_STREAM_TOOL_INPUT &&
        (!ev->tool_use_id || !ev->tool_name))
        abort();
}

/* Runs one body; mode 0 whole, 1 two chunks at `at`, 2 byte by byte. */
static strands_status run(const char *p, size_t n, int completion,
                          int tiny, int mode, size_t at, json_t **msg)
{
    size_t events = 0;
    oa_stream *s = oa_stream_new(count_event, &events, NULL);
    if (!s) return STRANDS_E_NOMEM;
    if (tiny) oa_stream_set_limits(s, 64, 2, 16);
    strands_error err;
    strands_status st = STRANDS_OK;
    if (completion) {
        st = oa_stream_apply_completion(s, p, n, &err);
    } else if (mode == 0) {
        st = oa_stream_feed(s, p, n, &err);
    } else if (mode == 1) {
        st = oa_stream_feed(s, p, at, &err);
        if (st == STRANDS_OK) st = oa_stream_feed(s, p + at, n - at, &err);
    } else {
        for (size_t i = 0; i < n && st == STRANDS_OK; i++)
            st = oa_stream_feed(s, p + i, 1, &err);
    }
    strands_model_response r;
    if (st == STRANDS_OK) st = oa_stream_finish(s, &r, &err);
    if (st == STRANDS_OK) {
        /* Generated ids differ between runs: drop every id. */
        size_t i;
        json_t *b;
        json_array_foreach(json_object_get(r.message, "content"), i, b) {
            json_t *u = json_object_get(b, "toolUse");
            if (u) {
                const char *id =
                    json_string_value(json_object_get(u, "toolUseId"));
                if (!id || !*id) abort();
                json_object_del(u, "toolUseId");
            }
        }
        *msg = r.message;
        r.message = NULL;
        strands_model_response_cleanup(&r);
    }
    oa_stream_free(s);
    return st;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2) return 0;
    size_t at = data[0];
    int completion = data[1] & 1, tiny = (data[1] >> 1) & 1;
    const char *p = (const char *)data + 2;
    size_t n = size - 2;
    if (at > n) at = n;
    json_t *m0 = NULL, *m1 = NULL, *m2 = NULL;
    strands_status s0 = run(p, n, completion, tiny, 0, 0, &m0);
    if (!completion) {
        strands_status s1 = run(p, n, 0, tiny, 1, at, &m1);
        if (s1 != s0 || (s0 == STRANDS_OK && !json_equal(m0, m1))) abort();
        if (n <= 4096) {
            strands_status s2 = run(p, n, 0, tiny, 2, 0, &m2);
            if (s2 != s0 || (s0 == STRANDS_OK && !json_equal(m0, m2)))
                abort();
        }
    }
    json_decref(m0);
    json_decref(m1);
    json_decref(m2);
    return 0;
}
