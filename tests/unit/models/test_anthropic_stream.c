/* Tests for src/models/anthropic_stream.c: a Messages SSE stream with text,
 * signed thinking, redacted thinking and parallel tool_use, fed whole, byte
 * by byte, split at every position and at every pair of positions (LF and
 * CRLF line ends); the typed stream events it reports; usage and stop
 * reasons; in-stream errors; protocol errors, truncation and the limits. */
#include <jansson.h>

#include "core/buf.h"
#include "models/anthropic.h"
#include "json_check.h"
#include "test.h"

/* ---- building streams --------------------------------------------------- */

static dynbuf sse;
static const char *eol = "\n";

static void ev(const char *type, const char *data)
{
    if (dynbuf_printf(&sse, "event: %s%sdata: %s%s%s", type, eol, data, eol,
                      eol) != STRANDS_OK)
        abort();
}

static void start_stream(void)
{
    dynbuf_cleanup(&sse);
    dynbuf_init(&sse, 1 << 24);
}

/* The full stream: thinking (signed), redacted thinking, text with UTF-8,
 * two parallel tool_use blocks, a ping and an unknown event.            */
static void full_stream(void)
{
    start_stream();
    ev("message_start", "{\"type\":\"message_start\",\"message\":{\"id\":"
       "\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",\"content\":[],"
       "\"model\":\"claude-x\",\"stop_reason\":null,\"usage\":{"
       "\"input_tokens\":25,\"output_tokens\":1,"
       "\"cache_read_input_tokens\":100,\"cache_creation_input_tokens\":3}}}");
    ev("ping", "{\"type\": \"ping\"}");
    ev("content_block_start", "{\"type\":\"content_block_start\",\"index\":0,"
       "\"content_block\":{\"type\":\"thinking\",\"thinking\":\"\","
       "\"signature\":\"\"}}");
    ev("content_block_delta", "{\"type\":\"content_block_delta\",\"index\":0,"
       "\"delta\":{\"type\":\"thinking_delta\",\"thinking\":\"Let me \"}}");
    ev("content_block_delta", "{\"type\":\"content_block_delta\",\"index\":0,"
       "\"delta\":{\"type\":\"thinking_delta\",\"thinking\":\"think.\"}}");
    ev("content_block_delta", "{\"type\":\"content_block_delta\",\"index\":0,"
       "\"delta\":{\"type\":\"signature_delta\",\"signature\":"
       "\"EqQBCgIYAhIM+/sig==\"}}");
    ev("content_block_stop", "{\"type\":\"content_block_stop\",\"index\":0}");
    ev("content_block_start", "{\"type\":\"content_block_start\",\"index\":1,"
       "\"content_block\":{\"type\":\"redacted_thinking\",\"data\":"
       "\"opaque-data\"}}");
    ev("content_block_stop", "{\"type\":\"content_block_stop\",\"index\":1}");
    ev("content_block_start", "{\"type\":\"content_block_start\",\"index\":2,"
       "\"content_block\":{\"type\":\"text\",\"text\":\"\"}}");
    ev("content_block_delta", "{\"type\":\"content_block_delta\",\"index\":2,"
       "\"delta\":{\"type\":\"text_delta\",\"text\":\"Z\\u00fcrich \"}}");
    ev("content_block_delta", "{\"type\":\"content_block_delta\",\"index\":2,"
       "\"delta\":{\"type\":\"text_delta\",\"text\":\"\\u2603 now\"}}");
    ev("content_block_stop", "{\"type\":\"content_block_stop\",\"index\":2}");
    ev("content_block_start", "{\"type\":\"content_block_start\",\"index\":3,"
       "\"content_block\":{\"type\":\"tool_use\",\"id\":\"toolu_a\","
       "\"name\":\"get_weather\",\"input\":{}}}");
    ev("content_block_delta", "{\"type\":\"content_block_delta\",\"index\":3,"
       "\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"\"}}");
    ev("content_block_delta", "{\"type\":\"content_block_delta\",\"index\":3,"
       "\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":"
       "\"{\\\"city\\\": \\\"Par\"}}");
    ev("content_block_delta", "{\"type\":\"content_block_delta\",\"index\":3,"
       "\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":"
       "\"is\\\"}\"}}");
    ev("content_block_stop", "{\"type\":\"content_block_stop\",\"index\":3}");
    ev("content_block_start", "{\"type\":\"content_block_start\",\"index\":4,"
       "\"content_block\":{\"type\":\"tool_use\",\"id\":\"toolu_b\","
       "\"name\":\"get_weather\",\"input\":{}}}");
    ev("content_block_delta", "{\"type\":\"content_block_delta\",\"index\":4,"
       "\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":"
       "\"{\\\"city\\\":\\\"Oslo\\\",\\\"n\\\":[1,2]}\"}}");
    ev("content_block_stop", "{\"type\":\"content_block_stop\",\"index\":4}");
    ev("future_event", "{\"type\":\"future_event\",\"x\":1}");
    ev("message_delta", "{\"type\":\"message_delta\",\"delta\":{"
       "\"stop_reason\":\"tool_use\",\"stop_sequence\":null},\"usage\":{"
       "\"output_tokens\":42}}");
    ev("message_stop", "{\"type\":\"message_stop\"}");
}

static const char FULL_MESSAGE[] =
    "{\"role\":\"assistant\",\"content\":["
    "{\"reasoningContent\":{\"reasoningText\":{\"text\":\"Let me think.\","
    "\"signature\":\"EqQBCgIYAhIM+/sig==\"}}},"
    "{\"reasoningContent\":{\"redactedContent\":\"b3BhcXVlLWRhdGE=\"}},"
    "{\"text\":\"Z\\u00fcrich \\u2603 now\"},"
    "{\"toolUse\":{\"toolUseId\":\"toolu_a\",\"name\":\"get_weather\","
    "\"input\":{\"city\":\"Paris\"}}},"
    "{\"toolUse\":{\"toolUseId\":\"toolu_b\",\"name\":\"get_weather\","
    "\"input\":{\"city\":\"Oslo\",\"n\":[1,2]}}}]}";

/* ---- recording events --------------------------------------------------- */

typedef struct rec {
    dynbuf log;    /* one line per event: type index [id] */
    dynbuf text, tool[8], think, sig, redacted;
} rec;

static void rec_init(rec *r)
{
    memset(r, 0, sizeof *r);
    dynbuf_init(&r->log, 1 << 20);
    dynbuf_init(&r->text, 1 << 20);
    dynbuf_init(&r->think, 1 << 20);
    dynbuf_init(&r->sig, 1 << 20);
    dynbuf_init(&r->redacted, 1 << 20);
    for (int i = 0; i < 8; i++) dynbuf_init(&r->tool[i], 1 << 20);
}

static void rec_free(rec *r)
{
    dynbuf_cleanup(&r->log);
    dynbuf_cleanup(&r->text);
    dynbuf_cleanup(&r->think);
    dynbuf_cleanup(&r->sig);
    dynbuf_cleanup(&r->redacted);
    for (int i = 0; i < 8; i++) dynbuf_cleanup(&r->tool[i]);
}

static void on_event(void *user, const strands_model_stream_event *e)
{
    rec *r = user;
    dynbuf *d = NULL;
    switch (e->type) {
    case STRANDS_MODEL_STREAM_TEXT: d = &r->text; break;
    case STRANDS_MODEL_STREAM_TOOL_INPUT:
        d = &r->tool[e->index & 7];
        break;
    case STRANDS_MODEL_STREAM_REASONING_TEXT: d = &r->think; break;
    case STRANDS_MODEL_STREAM_REASONING_SIGNATURE: d = &r->sig; break;
    case STRANDS_MODEL_STREAM_REASONING_REDACTED: d = &r->redacted; break;
    case STRANDS_MODEL_STREAM_BLOCK_START:
    case STRANDS_MODEL_STREAM_BLOCK_STOP: {
        char line[128];
        snprintf(line, sizeof line, "%s %lld %s\n",
                 e->type == STRANDS_MODEL_STREAM_BLOCK_START ? "start"
                                                             : "stop",
                 (long long)e->index, e->tool_use_id ? e->tool_use_id : "-");
        if (dynbuf_puts(&r->log, line) != STRANDS_OK) abort();
        return;
    }
    }
    if (!d || !e->len) {
        FAIL_AT("empty or unknown event %d", (int)e->type);
        return;
    }
    if (dynbuf_append(d, e->data, e->len) != STRANDS_OK) abort();
    /* a delta only ever follows its block's start */
    char want[32];
    snprintf(want, sizeof want, "start %lld ", (long long)e->index);
    if (!strstr(dynbuf_str(&r->log), want))
        FAIL_AT("delta of block %lld before its start", (long long)e->index);
}

static const char FULL_LOG[] =
    "start 0 -\nstop 0 -\nstart 1 -\nstop 1 -\nstart 2 -\nstop 2 -\n"
    "start 3 toolu_a\nstop 3 toolu_a\nstart 4 toolu_b\nstop 4 toolu_b\n";

/* Feeds sse in pieces cut at cuts[0..n) and finishes. */
static strands_status run(const size_t *cuts, size_t n, rec *r,
                          strands_model_response *out, strands_error *err)
{
    anthropic_stream *s = anthropic_stream_new(r ? on_event : NULL, r);
    if (!s) abort();
    size_t at = 0;
    strands_status st = STRANDS_OK;
    for (size_t i = 0; i <= n && st == STRANDS_OK; i++) {
        size_t end = i < n ? cuts[i] : sse.len;
        st = anthropic_stream_feed(s, sse.data + at, end - at, err);
        at = end;
    }
    if (st == STRANDS_OK) st = anthropic_stream_finish(s, out, err);
    else memset(out, 0, sizeof *out);
    anthropic_stream_free(s);
    return st;
}

static void check_full(const size_t *cuts, size_t n)
{
    rec r;
    rec_init(&r);
    strands_model_response out;
    strands_error err;
    strands_status st = run(cuts, n, &r, &out, &err);
    CHECK_INT(st, STRANDS_OK);
    if (st != STRANDS_OK) {
        fprintf(stderr, "  %s\n", err.message);
        rec_free(&r);
        return;
    }
    CHECK_JSON(out.message, FULL_MESSAGE);
    CHECK_INT(out.stop, STRANDS_STOP_TOOL_USE);
    CHECK_STR(out.stop_reason, "tool_use");
    CHECK_INT(out.usage.input_tokens, 25);
    CHECK_INT(out.usage.output_tokens, 42);
    CHECK_INT(out.usage.cache_read_input_tokens, 100);
    CHECK_INT(out.usage.cache_write_input_tokens, 3);
    CHECK_INT(out.usage.total_tokens, 170);
    CHECK_STR(dynbuf_str(&r.text), "Z\xc3\xbcrich \xe2\x98\x83 now");
    CHECK_STR(dynbuf_str(&r.think), "Let me think.");
    CHECK_STR(dynbuf_str(&r.sig), "EqQBCgIYAhIM+/sig==");
    CHECK_STR(dynbuf_str(&r.redacted), "b3BhcXVlLWRhdGE=");
    CHECK_STR(dynbuf_str(&r.tool[3]), "{\"city\": \"Paris\"}");
    CHECK_STR(dynbuf_str(&r.tool[4]), "{\"city\":\"Oslo\",\"n\":[1,2]}");
    CHECK_STR(dynbuf_str(&r.log), FULL_LOG);
    strands_model_response_cleanup(&out);
    rec_free(&r);
}

static void test_whole_and_byte_by_byte(void)
{
    for (int crlf = 0; crlf < 2; crlf++) {
        eol = crlf ? "\r\n" : "\n";
        full_stream();
        check_full(NULL, 0);
        size_t *cuts = malloc(sse.len * sizeof *cuts);
        for (size_t i = 0; i + 1 < sse.len; i++) cuts[i] = i + 1;
        check_full(cuts, sse.len - 1);
        free(cuts);
    }
    eol = "\n";
}

/* Every split into two pieces, and many into three. */
static void test_every_split(void)
{
    full_stream();
    int before = test_failures_in_case;
    for (size_t k = 0; k <= sse.len && test_failures_in_case == before; k++)
        check_full(&k, 1);
    for (size_t k = 1; k < sse.len && test_failures_in_case == before;
         k += 31)
        for (size_t j = k; j < sse.len && test_failures_in_case == before;
             j += 37) {
            size_t cuts[2] = {k, j};
            check_full(cuts, 2);
        }
}

/* Without a consumer nothing counts as sent (the call may be retried). */
static void test_sent_anything(void)
{
    full_stream();
    anthropic_stream *s = anthropic_stream_new(NULL, NULL);
    CHECK_INT(anthropic_stream_feed(s, sse.data, sse.len, NULL), STRANDS_OK);
    CHECK(!anthropic_stream_sent_anything(s));
    anthropic_stream_free(s);
    rec r;
    rec_init(&r);
    s = anthropic_stream_new(on_event, &r);
    CHECK_INT(anthropic_stream_feed(s, sse.data, sse.len, NULL), STRANDS_OK);
    CHECK(anthropic_stream_sent_anything(s));
    anthropic_stream_free(s);
    rec_free(&r);
}

/* An error event after message_start and an empty block start: nothing
 * was reported, so the caller may retry; the error carries its type.  */
static void test_in_stream_error(void)
{
    start_stream();
    ev("message_start", "{\"type\":\"message_start\",\"message\":{"
       "\"usage\":{\"input_tokens\":1}}}");
    ev("content_block_start", "{\"type\":\"content_block_start\",\"index\":0,"
       "\"content_block\":{\"type\":\"text\",\"text\":\"\"}}");
    ev("error", "{\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\","
       "\"message\":\"Overloaded\"}}");
    ev("message_stop", "{\"type\":\"message_stop\"}");
    rec r;
    rec_init(&r);
    anthropic_stream *s = anthropic_stream_new(on_event, &r);
    strands_error err;
    CHECK_INT(anthropic_stream_feed(s, sse.data, sse.len, &err),
              STRANDS_E_UPSTREAM);
    CHECK_STR(err.code, "overloaded_error");
    CHECK(strstr(err.message, "Overloaded") != NULL);
    CHECK(!anthropic_stream_sent_anything(s));
    CHECK_STR(dynbuf_str(&r.log), "");
    /* sticky */
    CHECK_INT(anthropic_stream_feed(s, "x", 1, &err), STRANDS_E_UPSTREAM);
    strands_model_response out;
    CHECK_INT(anthropic_stream_finish(s, &out, &err), STRANDS_E_UPSTREAM);
    CHECK(out.message == NULL);
    anthropic_stream_free(s);
    rec_free(&r);

    start_stream();
    ev("message_start", "{\"type\":\"message_start\",\"message\":{}}");
    ev("error", "{\"type\":\"error\",\"error\":{\"type\":"
       "\"invalid_request_error\",\"message\":\"prompt is too long: 300000 "
       "tokens > 200000 maximum\"}}");
    CHECK_INT(run(NULL, 0, NULL, &out, &err), STRANDS_E_INVALID);
    CHECK_STR(err.code, STRANDS_ERROR_CONTEXT_OVERFLOW);
}

static void expect_parse_error(const char *fragment)
{
    strands_model_response out;
    strands_error err;
    CHECK_INT(run(NULL, 0, NULL, &out, &err), STRANDS_E_PARSE);
    CHECK_STR(err.code, "InvalidResponse");
    if (!strstr(err.message, fragment))
        FAIL_AT("'%s' not in '%s'", fragment, err.message);
    CHECK(out.message == NULL);
}

static void test_protocol_errors(void)
{
    static const char MS[] = "{\"type\":\"message_start\",\"message\":{}}";
    start_stream();
    ev("message_start", MS);
    expect_parse_error("before message_stop");
    start_stream();
    ev("message_stop", "{\"type\":\"message_stop\"}");
    expect_parse_error("before message_start");
    start_stream();
    ev("message_start", MS);
    ev("content_block_delta", "{\"type\":\"content_block_delta\",\"index\":0,"
       "\"delta\":{\"type\":\"text_delta\",\"text\":\"x\"}}");
    expect_parse_error("without content_block_start");
    start_stream();
    ev("message_start", MS);
    ev("content_block_start", "{\"type\":\"content_block_start\",\"index\":0,"
       "\"content_block\":{\"type\":\"text\",\"text\":\"\"}}");
    ev("content_block_delta", "{\"type\":\"content_block_delta\",\"index\":0,"
       "\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"{\"}}");
    expect_parse_error("of another kind");
    start_stream();
    ev("message_start", MS);
    ev("content_block_start", "{\"type\":\"content_block_start\",\"index\":0,"
       "\"content_block\":{\"type\":\"text\",\"text\":\"\"}}");
    ev("content_block_stop", "{\"type\":\"content_block_stop\",\"index\":0}");
    ev("content_block_delta", "{\"type\":\"content_block_delta\",\"index\":0,"
       "\"delta\":{\"type\":\"text_delta\",\"text\":\"x\"}}");
    expect_parse_error("after its content_block_stop");
    start_stream();
    ev("message_start", MS);
    ev("content_block_start", "{\"type\":\"content_block_start\",\"index\":0,"
       "\"content_block\":{\"type\":\"text\",\"text\":\"\"}}");
    ev("content_block_start", "{\"type\":\"content_block_start\",\"index\":0,"
       "\"content_block\":{\"type\":\"text\",\"text\":\"\"}}");
    expect_parse_error("already exists");
    start_stream();
    ev("message_start", MS);
    ev("content_block_start", "{\"type\":\"content_block_start\",\"index\":-1,"
       "\"content_block\":{\"type\":\"text\"}}");
    expect_parse_error("valid index");
    start_stream();
    ev("message_start", MS);
    ev("content_block_start", "{\"type\":\"content_block_start\",\"index\":0,"
       "\"content_block\":{\"type\":\"tool_use\",\"id\":5}}");
    expect_parse_error("without id or name");
    start_stream();
    ev("message_start", "not json");
    expect_parse_error("not a JSON object");
    start_stream();
    ev("message_start", "{\"type\":\"message_start\"}");
    expect_parse_error("without a message");
    start_stream();
    ev("message_start", MS);
    ev("content_block_start", "{\"type\":\"content_block_start\",\"index\":0,"
       "\"content_block\":{\"type\":\"text\",\"text\":\"\"}}");
    ev("content_block_delta", "{\"type\":\"content_block_delta\",\"index\":0,"
       "\"delta\":{\"type\":\"text_delta\",\"text\":7}}");
    expect_parse_error("is not a string");
}

/* Blocks we do not use are skipped with their deltas; an empty text block
 * is dropped; a tool without input deltas takes the start's input (or
 * {}); unparseable input is {}; blocks never stopped are finished; events
 * after message_stop are ignored; message_stop without message_delta is
 * end_turn. The type comes from the JSON, not the SSE event name.      */
static void test_lenient_parts(void)
{
    start_stream();
    ev("message_start", "{\"type\":\"message_start\",\"message\":{}}");
    ev("content_block_start", "{\"type\":\"content_block_start\",\"index\":0,"
       "\"content_block\":{\"type\":\"server_tool_use\",\"id\":\"s\"}}");
    ev("content_block_delta", "{\"type\":\"content_block_delta\",\"index\":0,"
       "\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"{}\"}}");
    ev("content_block_stop", "{\"type\":\"content_block_stop\",\"index\":0}");
    ev("content_block_start", "{\"type\":\"content_block_start\",\"index\":1,"
       "\"content_block\":{\"type\":\"text\",\"text\":\"\"}}");
    ev("content_block_delta", "{\"type\":\"content_block_delta\",\"index\":1,"
       "\"delta\":{\"type\":\"citations_delta\",\"citation\":{}}}");
    ev("content_block_stop", "{\"type\":\"content_block_stop\",\"index\":1}");
    ev("content_block_start", "{\"type\":\"content_block_start\",\"index\":2,"
       "\"content_block\":{\"type\":\"tool_use\",\"id\":\"t2\",\"name\":\"a\","
       "\"input\":{\"given\":true}}}");
    ev("content_block_start", "{\"type\":\"content_block_start\",\"index\":3,"
       "\"content_block\":{\"type\":\"tool_use\",\"id\":\"t3\",\"name\":\"b\","
       "\"input\":{}}}");
    ev("content_block_delta", "{\"type\":\"content_block_delta\",\"index\":3,"
       "\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":"
       "\"{\\\"cut\\\": \"}}");
    ev("content_block_stop", "{\"type\":\"content_block_stop\",\"index\":99}");
    ev("message", "{\"type\":\"message_stop\"}");
    ev("content_block_start", "{\"type\":\"content_block_start\",\"index\":9,"
       "\"content_block\":{\"type\":\"text\",\"text\":\"late\"}}");
    strands_model_response out;
    strands_error err;
    CHECK_INT(run(NULL, 0, NULL, &out, &err), STRANDS_OK);
    CHECK_JSON(out.message,
               "{\"role\":\"assistant\",\"content\":["
               "{\"toolUse\":{\"toolUseId\":\"t2\",\"name\":\"a\","
               "\"input\":{\"given\":true}}},"
               "{\"toolUse\":{\"toolUseId\":\"t3\",\"name\":\"b\","
               "\"input\":{}}}]}");
    CHECK_INT(out.stop, STRANDS_STOP_END_TURN);
    CHECK_STR(out.stop_reason, "");
    strands_model_response_cleanup(&out);
}

static void test_stop_reasons(void)
{
    static const struct {
        const char *label;
        strands_stop_reason want;
    } cases[] = {{"end_turn", STRANDS_STOP_END_TURN},
                 {"max_tokens", STRANDS_STOP_MAX_TOKENS},
                 {"stop_sequence", STRANDS_STOP_STOP_SEQUENCE},
                 {"refusal", STRANDS_STOP_CONTENT_FILTERED},
                 {"pause_turn", STRANDS_STOP_END_TURN}};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        start_stream();
        ev("message_start", "{\"type\":\"message_start\",\"message\":{}}");
        char delta[160];
        snprintf(delta, sizeof delta, "{\"type\":\"message_delta\",\"delta\":"
                 "{\"stop_reason\":\"%s\"},\"usage\":{\"output_tokens\":2}}",
                 cases[i].label);
        ev("message_delta", delta);
        ev("message_stop", "{\"type\":\"message_stop\"}");
        strands_model_response out;
        CHECK_INT(run(NULL, 0, NULL, &out, NULL), STRANDS_OK);
        CHECK_INT(out.stop, cases[i].want);
        CHECK_STR(out.stop_reason, cases[i].label);
        CHECK_JSON(out.message, "{\"role\":\"assistant\",\"content\":[]}");
        strands_model_response_cleanup(&out);
    }
}

static void test_limits_and_misuse(void)
{
    full_stream();
    anthropic_stream *s = anthropic_stream_new(NULL, NULL);
    anthropic_stream_set_limits(s, 40, 0);
    strands_error err;
    CHECK_INT(anthropic_stream_feed(s, sse.data, sse.len, &err),
              STRANDS_E_TOO_LARGE);
    CHECK(strstr(err.message, "40-byte limit") != NULL);
    anthropic_stream_free(s);
    s = anthropic_stream_new(NULL, NULL);
    anthropic_stream_set_limits(s, 0, 3);
    CHECK_INT(anthropic_stream_feed(s, sse.data, sse.len, &err),
              STRANDS_E_TOO_LARGE);
    CHECK(strstr(err.message, "3 content blocks") != NULL);
    anthropic_stream_free(s);
    /* one SSE line over the decoder's cap */
    start_stream();
    size_t big = ANTHROPIC_STREAM_MAX_EVENT + 10;
    char *line = malloc(big + 1);
    memset(line, 'a', big);
    line[big] = '\0';
    ev("message_start", line);
    free(line);
    strands_model_response out;
    CHECK_INT(run(NULL, 0, NULL, &out, &err), STRANDS_E_TOO_LARGE);
    /* finish twice, feed after finish */
    full_stream();
    s = anthropic_stream_new(NULL, NULL);
    CHECK_INT(anthropic_stream_feed(s, sse.data, sse.len, &err), STRANDS_OK);
    CHECK_INT(anthropic_stream_finish(s, &out, &err), STRANDS_OK);
    strands_model_response_cleanup(&out);
    CHECK_INT(anthropic_stream_finish(s, &out, &err), STRANDS_E_INVALID);
    CHECK_INT(anthropic_stream_feed(s, "x", 1, &err), STRANDS_E_INVALID);
    anthropic_stream_free(s);
    anthropic_stream_free(NULL);
}

int main(void)
{
    RUN(test_whole_and_byte_by_byte);
    RUN(test_every_split);
    RUN(test_sent_anything);
    RUN(test_in_stream_error);
    RUN(test_protocol_errors);
    RUN(test_lenient_parts);
    RUN(test_stop_reasons);
    RUN(test_limits_and_misuse);
    dynbuf_cleanup(&sse);
    return test_report();
}
