/* libFuzzer target for the Anthropic Messages stream assembler and answer
 * parsers (src/models/anthropic_stream.c, anthropic_response.c): the input
 * is an SSE body, fed whole and split in two at a position taken from the
 * input; both runs must agree on the status and the message. A message
 * that assembles is sent back through the request mapping as history
 * (anthropic_build_body: OK or a clean error). The input is also parsed as
 * a non-streamed answer and as an HTTP error body. Never crash, leak, hang
 * or read out of bounds.                                                */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "models/anthropic.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void on_event(void *user, const strands_model_stream_event *ev)
{
    size_t *n = user;
    if (ev->len && !ev->data) abort();
    *n += ev->len + 1;
}

/* Assembles data in two chunks split at `at`; the message as JSON text
 * (or NULL) in *text.                                                  */
static strands_status run(const uint8_t *data, size_t size, size_t at,
                          char **text, json_t **message)
{
    size_t seen = 0;
    anthropic_stream *s = anthropic_stream_new(on_event, &seen);
    if (!s) abort();
    anthropic_stream_set_limits(s, 1u << 20, 64);
    strands_error err;
    strands_status st = anthropic_stream_feed(s, (const char *)data, at,
                                              &err);
    if (st == STRANDS_OK)
        st = anthropic_stream_feed(s, (const char *)data + at, size - at,
                                   &err);
    strands_model_response out;
    memset(&out, 0, sizeof out);
    if (st == STRANDS_OK) st = anthropic_stream_finish(s, &out, &err);
    if (st != STRANDS_OK && (out.message || !err.message[0])) abort();
    *text = out.message ? json_dumps(out.message, JSON_COMPACT) : NULL;
    if (message) *message = json_incref(out.message);
    strands_model_response_cleanup(&out);
    anthropic_stream_free(s);
    return st;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *a = NULL, *b = NULL;
    json_t *msg = NULL;
    strands_status sa = run(data, size, size, &a, &msg);
    size_t at = size ? (size_t)data[0] * 7919u % (size + 1) : 0;
    strands_status sb = run(data, size, at, &b, NULL);
    if (sa != sb || (!a) != (!b) || (a && strcmp(a, b))) abort();
    free(a);
    free(b);
    if (msg) {
        /* the assembled answer as history, after a user turn */
        json_t *history = json_pack("[{s:s, s:[{s:s}]}, O]", "role", "user",
                                    "content", "text", "q", msg);
        strands_model_request req = {.messages = history, .max_tokens = 64};
        strands_error err;
        size_t len = 0;
        char *body = history ? anthropic_build_body(&req, "m", NULL, &len,
                                                    &err)
                             : NULL;
        if (history && !body && err.status != STRANDS_E_INVALID &&
            err.status != STRANDS_E_NOMEM)
            abort();
        free(body);
        json_decref(history);
        json_decref(msg);
    }
    strands_model_response out;
    strands_error err;
    if (anthropic_parse_message((const char *)data, size, &out, &err) ==
        STRANDS_OK) {
        if (!out.message) abort();
    } else if (out.message) {
        abort();
    }
    strands_model_response_cleanup(&out);
    anthropic_error_from_response(529, (const char *)data, size, &err);
    if (!err.code[0]) abort();
    return 0;
}
