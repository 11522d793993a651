/* Tests for src/models/converse_stream.c: the ConverseStream fixtures from
 * ../shared (fed whole, byte by byte, at every two-way split and at random
 * splits) against a message rebuilt here from the events the JS SDK decoded;
 * the exception fixtures; and hand-built streams (es_encode) for redacted
 * reasoning, interleaved tool blocks, bad tool JSON, unknown events, error
 * frames, protocol errors, truncation and the size limits.              */
#include <jansson.h>

#include "aws/eventstream.h"
#include "core/buf.h"
#include "models/converse_stream.h"
#include "json_check.h"
#include "test.h"

#define FIXTURES STRANDS_SHARED_DIR "/testdata/eventstream/converse-stream/"

/* ---- building streams with es_encode ---------------------------------- */

typedef struct stream {
    uint8_t *data;
    size_t len;
} stream;

static void add_frame(stream *s, const es_header *h, size_t n,
                      const char *payload, size_t payload_len)
{
    uint8_t *enc = NULL;
    size_t len = 0;
    if (es_encode(h, n, (const uint8_t *)payload, payload_len, &enc, &len) !=
        STRANDS_OK)
        abort();
    uint8_t *nd = realloc(s->data, s->len + len);
    if (!nd) abort();
    memcpy(nd + s->len, enc, len);
    s->data = nd;
    s->len += len;
    free(enc);
}

static es_header str_header(const char *name, const char *value)
{
    es_header h = {name, strlen(name), ES_STRING, 0,
                   (const uint8_t *)value, strlen(value)};
    return h;
}

/* An event frame as Bedrock sends it. */
static void add_event(stream *s, const char *type, const char *payload)
{
    es_header h[3] = {str_header(":event-type", type),
                      str_header(":content-type", "application/json"),
                      str_header(":message-type", "event")};
    add_frame(s, h, 3, payload, strlen(payload));
}

static void add_exception(stream *s, const char *type, const char *payload)
{
    es_header h[3] = {str_header(":exception-type", type),
                      str_header(":content-type", "application/json"),
                      str_header(":message-type", "exception")};
    add_frame(s, h, 3, payload, strlen(payload));
}

/* A complete text-only message; the last two events are optional. */
static void add_text_message(stream *s, int with_stop, int with_metadata)
{
    add_event(s, "messageStart", "{\"role\":\"assistant\"}");
    add_event(s, "contentBlockDelta",
              "{\"contentBlockIndex\":0,\"delta\":{\"text\":\"Hi\"}}");
    add_event(s, "contentBlockStop", "{\"contentBlockIndex\":0}");
    if (with_stop) add_event(s, "messageStop", "{\"stopReason\":\"end_turn\"}");
    if (with_metadata)
        add_event(s, "metadata",
                  "{\"usage\":{\"inputTokens\":5,\"outputTokens\":2,"
                  "\"totalTokens\":7},\"metrics\":{\"latencyMs\":33}}");
}

/* ---- running the assembler ---------------------------------------------- */

typedef struct result {
    strands_status feed_status, finish_status;
    strands_error feed_err, finish_err;
    strands_model_response resp;
    dynbuf text;        /* every on_text delta, concatenated */
    size_t text_calls;
    json_t *tools;           /* copies of every on_tool_use argument */
    json_t *events;          /* every typed on_event, as JSON */
    int sent;
} result;

static void on_text(void *user, const char *text, size_t len)
{
    result *r = user;
    r->text_calls++;
    if (dynbuf_append(&r->text, text, len) != STRANDS_OK) abort();
}

static void on_tool_use(void *user, const json_t *tool_use)
{
    result *r = user;
    json_array_append_new(r->tools, json_deep_copy(tool_use));
}

static void on_event(void *user, const strands_model_stream_event *ev)
{
    result *r = user;
    json_t *e = json_pack("{s:i, s:I}", "type", (int)ev->type, "index",
                          (json_int_t)ev->index);
    if (ev->data)
        json_object_set_new(e, "data", json_stringn(ev->data, ev->len));
    if (ev->tool_use_id)
        json_object_set_new(e, "id", json_string(ev->tool_use_id));
    if (ev->tool_name)
        json_object_set_new(e, "name", json_string(ev->tool_name));
    json_array_append_new(r->events, e);
}

/* Feeds in[0..len) in the chunk sizes `chunk` produces, then finishes. */
typedef size_t chunker(void *state, size_t left);

static void run_chunks(const uint8_t *in, size_t len, chunker *next,
                       void *state, cs_assembler *a, result *r)
{
    size_t off = 0;
    r->feed_status = STRANDS_OK;
    strands_error_clear(&r->feed_err);
    while (off < len && r->feed_status == STRANDS_OK) {
        size_t n = next(state, len - off);
        if (n > len - off) n = len - off;
        /* An exact-size copy lets ASan catch reads past the chunk. */
        uint8_t *chunk = malloc(n ? n : 1);
        if (!chunk) abort();
        memcpy(chunk, in + off, n);
        r->feed_status = cs_assembler_feed(a, chunk, n, &r->feed_err);
        free(chunk);
        off += n;
    }
    r->finish_status = cs_assembler_finish(a, &r->resp, &r->finish_err);
    r->sent = cs_assembler_sent_anything(a);
}

static void result_init(result *r)
{
    memset(r, 0, sizeof *r);
    dynbuf_init(&r->text, 64u * 1024 * 1024);
    r->tools = json_array();
    r->events = json_array();
}

static void result_cleanup(result *r)
{
    strands_model_response_cleanup(&r->resp);
    dynbuf_cleanup(&r->text);
    json_decref(r->tools);
    json_decref(r->events);
}

static size_t chunk_whole(void *state, size_t left)
{
    (void)state;
    return left;
}

static size_t chunk_byte(void *state, size_t left)
{
    (void)state;
    (void)left;
    return 1;
}

/* First chunk *state bytes, then the rest. */
static size_t chunk_split(void *state, size_t left)
{
    size_t *first = state;
    size_t n = *first ? *first : left;
    *first = 0;
    return n;
}

/* Random chunk sizes 1..64 from a seeded LCG. */
static size_t chunk_random(void *state, size_t left)
{
    uint32_t *seed = state;
    (void)left;
    *seed = *seed * 1103515245u + 12345u;
    return 1 + (*seed >> 16) % 64;
}

static void run(const uint8_t *in, size_t len, chunker *next, void *state,
                result *r)
{
    result_init(r);
    cs_callbacks cb = {on_text, on_tool_use, r, on_event};
    cs_assembler *a = cs_assembler_new(&cb);
    if (!a) abort();
    run_chunks(in, len, next, state, a, r);
    cs_assembler_free(a);
}

static void run_whole(const stream *s, result *r)
{
    run(s->data, s->len, chunk_whole, NULL, r);
}

/* ---- expectations rebuilt from the SDK's events ------------------------ */

typedef struct expected {
    json_t *message;        /* NULL when the stream ends with an error */
    const char *stop;
    strands_usage usage;
    int64_t latency;
    dynbuf text;       /* all text deltas in order */
    json_t *tools;          /* toolUse objects in content order */
    const char *err_name, *err_message;
    int any_output;         /* a text delta or toolUse came before the end */
} expected;

/* Per-index state: {"text":s} / {"id","name","input":s} /
 * {"rtext":s,"sig":s}, kept in a JSON object keyed by the index.       */
static json_t *slot(json_t *blocks, json_int_t index)
{
    char key[32];
    snprintf(key, sizeof key, "%lld", (long long)index);
    json_t *b = json_object_get(blocks, key);
    if (!b) {
        b = json_object();
        json_object_set_new(blocks, key, b);
    }
    return b;
}

static void concat(json_t *obj, const char *key, const json_t *add)
{
    const char *old = json_string_value(json_object_get(obj, key));
    dynbuf b;
    dynbuf_init(&b, 1u << 20);
    if (dynbuf_puts(&b, old ? old : "") ||
        dynbuf_puts(&b, json_string_value(add)))
        abort();
    json_object_set_new(obj, key, json_string(dynbuf_str(&b)));
    dynbuf_cleanup(&b);
}

static int cmp_index(const void *x, const void *y)
{
    long long i = atoll(*(const char *const *)x);
    long long j = atoll(*(const char *const *)y);
    return (i > j) - (i < j);
}

static json_t *expected_block(json_t *b)
{
    const char *s;
    if ((s = json_string_value(json_object_get(b, "text"))))
        return json_pack("{s:s}", "text", s);
    if (json_object_get(b, "id")) {
        const char *in = json_string_value(json_object_get(b, "input"));
        json_t *input = json_loads(in ? in : "", 0, NULL);
        if (!input) input = json_object();
        return json_pack("{s:{s:O, s:O, s:o}}", "toolUse", "toolUseId",
                         json_object_get(b, "id"), "name",
                         json_object_get(b, "name"), "input", input);
    }
    const char *rtext = json_string_value(json_object_get(b, "rtext"));
    json_t *rt = json_pack("{s:s}", "text", rtext ? rtext : "");
    if (json_object_get(b, "sig"))
        json_object_set(rt, "signature", json_object_get(b, "sig"));
    return json_pack("{s:{s:o}}", "reasoningContent", "reasoningText", rt);
}

static void expect_from_sdk(const json_t *sdk_events, expected *x)
{
    memset(x, 0, sizeof *x);
    dynbuf_init(&x->text, 1u << 20);
    x->tools = json_array();
    json_t *blocks = json_object();
    const char *role = "assistant";
    size_t i;
    json_t *ev, *v;
    json_array_foreach(sdk_events, i, ev) {
        if ((v = json_object_get(ev, "messageStart"))) {
            role = json_string_value(json_object_get(v, "role"));
        } else if ((v = json_object_get(ev, "contentBlockStart"))) {
            json_t *b = slot(blocks, json_integer_value(
                                         json_object_get(v, "contentBlockIndex")));
            json_t *tu = json_object_get(json_object_get(v, "start"), "toolUse");
            json_object_set(b, "id", json_object_get(tu, "toolUseId"));
            json_object_set(b, "name", json_object_get(tu, "name"));
        } else if ((v = json_object_get(ev, "contentBlockDelta"))) {
            json_t *b = slot(blocks, json_integer_value(
                                         json_object_get(v, "contentBlockIndex")));
            json_t *d = json_object_get(v, "delta"), *t;
            if ((t = json_object_get(d, "text"))) {
                concat(b, "text", t);
                if (dynbuf_puts(&x->text, json_string_value(t))) abort();
                if (json_string_length(t)) x->any_output = 1;
            } else if ((t = json_object_get(d, "toolUse"))) {
                concat(b, "input", json_object_get(t, "input"));
            } else if ((t = json_object_get(d, "reasoningContent"))) {
                if (json_object_get(t, "text"))
                    concat(b, "rtext", json_object_get(t, "text"));
                if (json_object_get(t, "signature"))
                    concat(b, "sig", json_object_get(t, "signature"));
            }
        } else if ((v = json_object_get(ev, "messageStop"))) {
            x->stop = json_string_value(json_object_get(v, "stopReason"));
        } else if ((v = json_object_get(ev, "metadata"))) {
            json_t *u = json_object_get(v, "usage");
            x->usage.input_tokens =
                json_integer_value(json_object_get(u, "inputTokens"));
            x->usage.output_tokens =
                json_integer_value(json_object_get(u, "outputTokens"));
            x->usage.total_tokens =
                json_integer_value(json_object_get(u, "totalTokens"));
            x->latency = json_integer_value(json_object_get(
                json_object_get(v, "metrics"), "latencyMs"));
        } else if ((v = json_object_get(ev, "error"))) {
            x->err_name = json_string_value(json_object_get(v, "name"));
            x->err_message = json_string_value(json_object_get(v, "message"));
        }
    }
    if (!x->err_name) {
        size_t n = json_object_size(blocks), k = 0;
        const char **keys = calloc(n ? n : 1, sizeof *keys);
        const char *key;
        json_object_foreach(blocks, key, v) keys[k++] = key;
        qsort(keys, n, sizeof *keys, cmp_index);
        json_t *content = json_array();
        for (k = 0; k < n; k++) {
            json_t *blk = expected_block(json_object_get(blocks, keys[k]));
            if (json_object_get(blk, "toolUse")) {
                json_array_append(x->tools, json_object_get(blk, "toolUse"));
                x->any_output = 1;
            }
            json_array_append_new(content, blk);
        }
        free(keys);
        x->message = json_pack("{s:s, s:o}", "role", role, "content", content);
    }
    json_decref(blocks);
}

static void expected_cleanup(expected *x)
{
    json_decref(x->message);
    json_decref(x->tools);
    dynbuf_cleanup(&x->text);
}

/* Checks one run against the expectation. */
static void check_run(const result *r, const expected *x, const char *how)
{
    int before = test_failures_in_case;
    CHECK_MEM(r->text.data ? r->text.data : "", r->text.len,
              dynbuf_str(&x->text), x->text.len);
    CHECK_INT(r->sent, x->any_output);
    if (x->err_name) {
        CHECK_INT(r->feed_status, STRANDS_E_UPSTREAM);
        CHECK_STR(r->feed_err.code, x->err_name);
        CHECK_STR(r->feed_err.message, x->err_message);
        CHECK_INT(r->finish_status, STRANDS_E_UPSTREAM);
        CHECK_STR(r->finish_err.code, x->err_name);
        CHECK(r->resp.message == NULL);
    } else {
        CHECK_INT(r->feed_status, STRANDS_OK);
        CHECK_INT(r->finish_status, STRANDS_OK);
        CHECK_JSON_EQ(r->resp.message, x->message);
        CHECK_STR(r->resp.stop_reason, x->stop);
        CHECK_INT(r->resp.usage.input_tokens, x->usage.input_tokens);
        CHECK_INT(r->resp.usage.output_tokens, x->usage.output_tokens);
        CHECK_INT(r->resp.usage.total_tokens, x->usage.total_tokens);
        CHECK_INT(r->resp.latency_ms, x->latency);
        CHECK_JSON_EQ(r->tools, x->tools);
    }
    if (test_failures_in_case != before) fprintf(stderr, "  (run: %s)\n", how);
}

/* Runs a fixture every way and checks each run; returns the run count. */
static size_t check_fixture(const char *name)
{
    char path[512];
    snprintf(path, sizeof path, FIXTURES "%s.json", name);
    json_error_t jerr;
    json_t *fx = json_load_file(path, 0, &jerr);
    snprintf(path, sizeof path, FIXTURES "%s.bin", name);
    size_t len = 0;
    uint8_t *bin = (uint8_t *)test_read_file(path, &len);
    if (!fx || !bin) {
        FAIL_AT("cannot read fixture %s", name);
        json_decref(fx);
        free(bin);
        return 0;
    }
    expected x;
    expect_from_sdk(json_object_get(fx, "sdk_events"), &x);
    size_t runs = 0;
    result r;
    char how[64];
    int before = test_failures_in_case;
    run(bin, len, chunk_whole, NULL, &r);
    check_run(&r, &x, "whole");
    result_cleanup(&r);
    run(bin, len, chunk_byte, NULL, &r);
    check_run(&r, &x, "byte by byte");
    result_cleanup(&r);
    runs += 2;
    for (size_t k = 1; k < len && test_failures_in_case == before; k++) {
        size_t first = k;
        run(bin, len, chunk_split, &first, &r);
        snprintf(how, sizeof how, "split at %zu", k);
        check_run(&r, &x, how);
        result_cleanup(&r);
        runs++;
    }
    for (uint32_t seed = 1; seed <= 50; seed++) {
        uint32_t state = seed;
        run(bin, len, chunk_random, &state, &r);
        snprintf(how, sizeof how, "random splits, seed %u", seed);
        check_run(&r, &x, how);
        result_cleanup(&r);
        runs++;
    }
    expected_cleanup(&x);
    json_decref(fx);
    free(bin);
    return runs;
}

/* ---- fixture tests ------------------------------------------------------- */

static void test_fixture_text(void)
{
    if (!test_have_shared()) SKIP("../shared not found (no test vectors)");
    CHECK(check_fixture("text") > 900);
}

static void test_fixture_tool_use(void)
{
    if (!test_have_shared()) SKIP("../shared not found (no test vectors)");
    CHECK(check_fixture("tool-use") > 1600);
}

static void test_fixture_reasoning(void)
{
    if (!test_have_shared()) SKIP("../shared not found (no test vectors)");
    CHECK(check_fixture("reasoning") > 1200);
}

static void test_fixture_exception_throttling(void)
{
    if (!test_have_shared()) SKIP("../shared not found (no test vectors)");
    check_fixture("exception-throttling");
}

static void test_fixture_exception_model_stream_error(void)
{
    if (!test_have_shared()) SKIP("../shared not found (no test vectors)");
    check_fixture("exception-model-stream-error");
}

/* The rebuilt expectations are what they should be (guards the rebuilder
 * itself, which the fixture tests trust).                               */
static void test_fixture_expectations(void)
{
    if (!test_have_shared()) SKIP("../shared not found (no test vectors)");
    json_t *fx = json_load_file(FIXTURES "tool-use.json", 0, NULL);
    CHECK(fx != NULL);
    expected x;
    expect_from_sdk(json_object_get(fx, "sdk_events"), &x);
    CHECK_JSON(x.message,
               "{\"role\":\"assistant\",\"content\":[{\"text\":\"Let me "
               "check.\"},{\"toolUse\":{\"toolUseId\":\"tooluse_kZJMlvQmRJ6"
               "eAyJE5GIl7Q\",\"name\":\"get_weather\",\"input\":{\"city\":"
               "\"Paris\"}}}]}");
    CHECK_INT(x.usage.total_tokens, 1486);
    expected_cleanup(&x);
    json_decref(fx);
    fx = json_load_file(FIXTURES "reasoning.json", 0, NULL);
    expect_from_sdk(json_object_get(fx, "sdk_events"), &x);
    CHECK_JSON(x.message,
               "{\"role\":\"assistant\",\"content\":[{\"reasoningContent\":"
               "{\"reasoningText\":{\"text\":\"The user greets me.\","
               "\"signature\":\"EqoBCkgIBxABGAIiQExampleSignature==\"}}},"
               "{\"text\":\"Hi!\"}]}");
    expected_cleanup(&x);
    json_decref(fx);
}

/* A fixture cut inside its last frame, and at a frame boundary. */
static void test_fixture_truncated(void)
{
    if (!test_have_shared()) SKIP("../shared not found (no test vectors)");
    size_t len = 0;
    uint8_t *bin = (uint8_t *)test_read_file(FIXTURES "text.bin", &len);
    CHECK(bin != NULL && len == 940);
    if (!bin) return;
    result r;
    size_t cuts[] = {len - 1, len - 100, 743 /* before metadata */,
                     611 /* before messageStop */, 0};
    for (size_t k = 0; k < sizeof cuts / sizeof cuts[0]; k++) {
        run(bin, cuts[k], chunk_whole, NULL, &r);
        CHECK_INT(r.feed_status, STRANDS_OK);
        CHECK_INT(r.finish_status, STRANDS_E_PARSE);
        CHECK_STR(r.finish_err.message,
                  "stream ended before messageStop/metadata");
        CHECK(r.resp.message == NULL);
        result_cleanup(&r);
    }
    free(bin);
}

/* ---- hand-built streams -------------------------------------------------- */

static void test_text_and_padding(void)
{
    stream s = {0};
    add_event(&s, "messageStart", "{\"p\":\"abcdef\",\"role\":\"assistant\"}");
    add_event(&s, "contentBlockDelta",
              "{\"contentBlockIndex\":0,\"delta\":{\"text\":\"a\\u0000b\"},"
              "\"p\":\"xyz\",\"extra\":{\"k\":[1,2]}}");
    add_event(&s, "contentBlockDelta",
              "{\"contentBlockIndex\":0,\"delta\":{\"text\":\"\"}}");
    add_event(&s, "contentBlockDelta",
              "{\"contentBlockIndex\":0,\"delta\":{\"text\":\"c\"}}");
    add_event(&s, "contentBlockStop", "{\"contentBlockIndex\":0,\"p\":\"q\"}");
    add_event(&s, "messageStop",
              "{\"stopReason\":\"end_turn\",\"additionalModelResponseFields\""
              ":{\"x\":1}}");
    add_event(&s, "metadata",
              "{\"usage\":{\"inputTokens\":3,\"outputTokens\":4},"
              "\"metrics\":{\"latencyMs\":9},\"trace\":{}}");
    result r;
    run_whole(&s, &r);
    CHECK_INT(r.finish_status, STRANDS_OK);
    CHECK_JSON(r.resp.message, "{\"role\":\"assistant\",\"content\":"
                               "[{\"text\":\"a\\u0000bc\"}]}");
    CHECK_MEM(r.text.data, r.text.len, "a\0bc", 4);
    CHECK_INT(r.text_calls, 2);   /* the empty delta is not reported */
    CHECK_INT(r.resp.usage.total_tokens, 7);  /* input + output */
    CHECK_INT(r.resp.latency_ms, 9);
    CHECK_STR(r.resp.stop_reason, "end_turn");
    CHECK_INT(r.sent, 1);
    result_cleanup(&r);
    free(s.data);
}

static void test_redacted_content(void)
{
    stream s = {0};
    add_event(&s, "messageStart", "{\"role\":\"assistant\"}");
    /* One delta: kept exactly. */
    add_event(&s, "contentBlockDelta",
              "{\"contentBlockIndex\":0,\"delta\":{\"reasoningContent\":"
              "{\"redactedContent\":\"SGVsbG8gcmVkYWN0ZWQ=\"}}}");
    add_event(&s, "contentBlockStop", "{\"contentBlockIndex\":0}");
    /* Two deltas: the bytes are concatenated, then re-encoded. */
    add_event(&s, "contentBlockDelta",
              "{\"contentBlockIndex\":1,\"delta\":{\"reasoningContent\":"
              "{\"redactedContent\":\"AAE=\"}}}");
    add_event(&s, "contentBlockDelta",
              "{\"contentBlockIndex\":1,\"delta\":{\"reasoningContent\":"
              "{\"redactedContent\":\"Av8\"}}}");
    add_event(&s, "contentBlockStop", "{\"contentBlockIndex\":1}");
    /* Signature only: kept, with an empty text. */
    add_event(&s, "contentBlockDelta",
              "{\"contentBlockIndex\":2,\"delta\":{\"reasoningContent\":"
              "{\"signature\":\"sig\"}}}");
    add_event(&s, "contentBlockStop", "{\"contentBlockIndex\":2}");
    /* Text, empty signature: no signature member. */
    add_event(&s, "contentBlockDelta",
              "{\"contentBlockIndex\":3,\"delta\":{\"reasoningContent\":"
              "{\"text\":\"think\",\"signature\":\"\"}}}");
    add_event(&s, "contentBlockStop", "{\"contentBlockIndex\":3}");
    add_event(&s, "messageStop", "{\"stopReason\":\"end_turn\"}");
    add_event(&s, "metadata", "{\"usage\":{},\"metrics\":{}}");
    result r;
    run_whole(&s, &r);
    CHECK_INT(r.finish_status, STRANDS_OK);
    CHECK_JSON(r.resp.message,
               "{\"role\":\"assistant\",\"content\":["
               "{\"reasoningContent\":{\"redactedContent\":"
               "\"SGVsbG8gcmVkYWN0ZWQ=\"}},"
               "{\"reasoningContent\":{\"redactedContent\":\"AAEC/w==\"}},"
               "{\"reasoningContent\":{\"reasoningText\":{\"text\":\"\","
               "\"signature\":\"sig\"}}},"
               "{\"reasoningContent\":{\"reasoningText\":{\"text\":"
               "\"think\"}}}]}");
    CHECK_INT(r.sent, 0);          /* reasoning is not reported output */
    CHECK_INT(r.text.len, 0);
    result_cleanup(&r);
    free(s.data);

    stream bad = {0};
    add_event(&bad, "contentBlockDelta",
              "{\"contentBlockIndex\":0,\"delta\":{\"reasoningContent\":"
              "{\"redactedContent\":\"A*==\"}}}");
    run_whole(&bad, &r);
    CHECK_INT(r.feed_status, STRANDS_E_PARSE);
    CHECK_STR(r.feed_err.message, "redactedContent is not valid base64");
    result_cleanup(&r);
    free(bad.data);
}

static void test_interleaved_tool_blocks(void)
{
    stream s = {0};
    add_event(&s, "messageStart", "{\"role\":\"assistant\"}");
    add_event(&s, "contentBlockStart",
              "{\"contentBlockIndex\":2,\"start\":{\"toolUse\":{\"toolUseId\""
              ":\"t2\",\"name\":\"second\"}}}");
    add_event(&s, "contentBlockStart",
              "{\"contentBlockIndex\":1,\"start\":{\"toolUse\":{\"toolUseId\""
              ":\"t1\",\"name\":\"first\",\"type\":\"x\"}}}");
    add_event(&s, "contentBlockDelta",
              "{\"contentBlockIndex\":2,\"delta\":{\"toolUse\":{\"input\":"
              "\"{\\\"b\\\":\"}}}");
    add_event(&s, "contentBlockDelta",
              "{\"contentBlockIndex\":1,\"delta\":{\"toolUse\":{\"input\":"
              "\"{\\\"a\\\"\"}}}");
    add_event(&s, "contentBlockDelta",
              "{\"contentBlockIndex\":2,\"delta\":{\"toolUse\":{\"input\":"
              "\"[true]}\"}}}");
    add_event(&s, "contentBlockDelta",
              "{\"contentBlockIndex\":0,\"delta\":{\"text\":\"Two tools.\"}}");
    add_event(&s, "contentBlockDelta",
              "{\"contentBlockIndex\":1,\"delta\":{\"toolUse\":{\"input\":"
              "\": 1}\"}}}");
    add_event(&s, "contentBlockStop", "{\"contentBlockIndex\":2}");
    add_event(&s, "contentBlockStop", "{\"contentBlockIndex\":1}");
    add_event(&s, "contentBlockStop", "{\"contentBlockIndex\":0}");
    add_event(&s, "messageStop", "{\"stopReason\":\"tool_use\"}");
    add_event(&s, "metadata",
              "{\"usage\":{\"inputTokens\":1,\"outputTokens\":2,"
              "\"totalTokens\":3},\"metrics\":{\"latencyMs\":4}}");
    result r;
    run_whole(&s, &r);
    CHECK_INT(r.finish_status, STRANDS_OK);
    CHECK_JSON(r.resp.message,
               "{\"role\":\"assistant\",\"content\":[{\"text\":\"Two tools."
               "\"},{\"toolUse\":{\"toolUseId\":\"t1\",\"name\":\"first\","
               "\"input\":{\"a\":1}}},{\"toolUse\":{\"toolUseId\":\"t2\","
               "\"name\":\"second\",\"input\":{\"b\":[true]}}}]}");
    /* Reported in contentBlockStop order. */
    CHECK_JSON(r.tools,
               "[{\"toolUseId\":\"t2\",\"name\":\"second\",\"input\":{\"b\":"
               "[true]}},{\"toolUseId\":\"t1\",\"name\":\"first\",\"input\":"
               "{\"a\":1}}]");
    CHECK_STR(r.resp.stop_reason, "tool_use");
    result_cleanup(&r);
    free(s.data);
}

/* A stream with one tool block whose input deltas are `input` (NULL: none). */
static void tool_stream(stream *s, const char *input_json_string,
                        const char *stop)
{
    char buf[256];
    add_event(s, "messageStart", "{\"role\":\"assistant\"}");
    add_event(s, "contentBlockStart",
              "{\"contentBlockIndex\":0,\"start\":{\"toolUse\":{\"toolUseId\""
              ":\"t\",\"name\":\"n\"}}}");
    if (input_json_string) {
        snprintf(buf, sizeof buf,
                 "{\"contentBlockIndex\":0,\"delta\":{\"toolUse\":{\"input\":"
                 "%s}}}", input_json_string);
        add_event(s, "contentBlockDelta", buf);
    }
    add_event(s, "contentBlockStop", "{\"contentBlockIndex\":0}");
    snprintf(buf, sizeof buf, "{\"stopReason\":\"%s\"}", stop);
    add_event(s, "messageStop", buf);
    add_event(s, "metadata", "{\"usage\":{},\"metrics\":{}}");
}

/* Every kind of typed stream event, in arrival order, with block index,
 * tool id and name, at any split; and the neutral stop reason.          */
static void test_typed_events(void)
{
    stream s = {NULL, 0};
    add_event(&s, "messageStart", "{\"role\":\"assistant\"}");
    add_event(&s, "contentBlockDelta",
              "{\"contentBlockIndex\":0,\"delta\":{\"reasoningContent\":"
              "{\"text\":\"think\"}}}");
    add_event(&s, "contentBlockDelta",
              "{\"contentBlockIndex\":0,\"delta\":{\"reasoningContent\":"
              "{\"signature\":\"sig\"}}}");
    add_event(&s, "contentBlockStop", "{\"contentBlockIndex\":0}");
    add_event(&s, "contentBlockDelta",
              "{\"contentBlockIndex\":1,\"delta\":{\"text\":\"Hi\"}}");
    add_event(&s, "contentBlockStop", "{\"contentBlockIndex\":1}");
    add_event(&s, "contentBlockStart",
              "{\"contentBlockIndex\":2,\"start\":{\"toolUse\":"
              "{\"toolUseId\":\"t1\",\"name\":\"calc\"}}}");
    add_event(&s, "contentBlockDelta",
              "{\"contentBlockIndex\":2,\"delta\":{\"toolUse\":"
              "{\"input\":\"{\\\"a\\\"\"}}}");
    add_event(&s, "contentBlockDelta",
              "{\"contentBlockIndex\":2,\"delta\":{\"toolUse\":"
              "{\"input\":\":1}\"}}}");
    add_event(&s, "contentBlockStop", "{\"contentBlockIndex\":2}");
    add_event(&s, "contentBlockDelta",
              "{\"contentBlockIndex\":3,\"delta\":{\"reasoningContent\":"
              "{\"redactedContent\":\"AAEC/w==\"}}}");
    add_event(&s, "contentBlockStop", "{\"contentBlockIndex\":3}");
    add_event(&s, "messageStop", "{\"stopReason\":\"tool_use\"}");
    add_event(&s, "metadata", "{\"usage\":{}}");
    char want[1024];
    snprintf(want, sizeof want,
             "[{\"type\":%d,\"index\":0,\"data\":\"think\"},"
             "{\"type\":%d,\"index\":0,\"data\":\"sig\"},"
             "{\"type\":%d,\"index\":0},"
             "{\"type\":%d,\"index\":1,\"data\":\"Hi\"},"
             "{\"type\":%d,\"index\":1},"
             "{\"type\":%d,\"index\":2,\"id\":\"t1\",\"name\":\"calc\"},"
             "{\"type\":%d,\"index\":2,\"data\":\"{\\\"a\\\"\","
             "\"id\":\"t1\",\"name\":\"calc\"},"
             "{\"type\":%d,\"index\":2,\"data\":\":1}\",\"id\":\"t1\","
             "\"name\":\"calc\"},"
             "{\"type\":%d,\"index\":2,\"id\":\"t1\",\"name\":\"calc\"},"
             "{\"type\":%d,\"index\":3,\"data\":\"AAEC/w==\"},"
             "{\"type\":%d,\"index\":3}]",
             STRANDS_MODEL_STREAM_REASONING_TEXT,
             STRANDS_MODEL_STREAM_REASONING_SIGNATURE,
             STRANDS_MODEL_STREAM_BLOCK_STOP, STRANDS_MODEL_STREAM_TEXT,
             STRANDS_MODEL_STREAM_BLOCK_STOP, STRANDS_MODEL_STREAM_BLOCK_START,
             STRANDS_MODEL_STREAM_TOOL_INPUT, STRANDS_MODEL_STREAM_TOOL_INPUT,
             STRANDS_MODEL_STREAM_BLOCK_STOP,
             STRANDS_MODEL_STREAM_REASONING_REDACTED,
             STRANDS_MODEL_STREAM_BLOCK_STOP);
    for (size_t split = 0; split < s.len; split += 7) {
        result r;
        size_t first = split;
        run(s.data, s.len, chunk_split, &first, &r);
        CHECK_INT(r.finish_status, STRANDS_OK);
        CHECK_JSON(r.events, want);
        CHECK_INT(r.resp.stop, STRANDS_STOP_TOOL_USE);
        CHECK_STR(r.resp.stop_reason, "tool_use");
        result_cleanup(&r);
    }
    free(s.data);
}

static void test_invalid_tool_json(void)
{
    static const struct {
        const char *input;   /* the delta's input, as a JSON string */
        const char *stop;
        const char *want;    /* the parsed input */
    } cases[] = {
        {"\"{\\\"city\\\": \\\"Par\"", "max_tokens", "{}"},  /* cut off */
        {"\"{\\\"city\\\": \\\"Par\"", "tool_use", "{}"},
        {"\"not json\"", "tool_use", "{}"},
        {"\"[1,2]\"", "tool_use", "{}"},                     /* not an object */
        {"\"7\"", "tool_use", "{}"},
        {"\"\"", "tool_use", "{}"},
        {NULL, "tool_use", "{}"},                            /* no delta */
        {"\"{} {}\"", "tool_use", "{}"},                     /* trailing data */
        {"\" {\\\"k\\\" : null } \"", "tool_use", "{\"k\":null}"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        stream s = {0};
        tool_stream(&s, cases[k].input, cases[k].stop);
        result r;
        run_whole(&s, &r);
        CHECK_INT(r.finish_status, STRANDS_OK);
        json_t *input = json_object_get(
            json_object_get(json_array_get(json_object_get(r.resp.message,
                                                           "content"),
                                           0),
                            "toolUse"),
            "input");
        CHECK_JSON(input, cases[k].want);
        CHECK_INT(json_array_size(r.tools), 1);
        CHECK_STR(r.resp.stop_reason, cases[k].stop);
        CHECK_INT(r.sent, 1);
        if (test_failures_in_case) fprintf(stderr, "  (case %zu)\n", k);
        result_cleanup(&r);
        free(s.data);
    }
}

static void test_unknown_events_ignored(void)
{
    stream s = {0};
    add_event(&s, "messageStart", "{\"role\":\"assistant\"}");
    add_event(&s, "someFutureEvent", "this is not JSON at all");
    add_event(&s, "contentBlockStart",
              "{\"contentBlockIndex\":0,\"start\":{\"image\":{\"format\":"
              "\"png\"}}}");
    add_event(&s, "contentBlockDelta",
              "{\"contentBlockIndex\":0,\"delta\":{\"image\":{}}}");
    add_event(&s, "contentBlockStop", "{\"contentBlockIndex\":0}");
    add_event(&s, "contentBlockDelta",
              "{\"contentBlockIndex\":1,\"delta\":{\"text\":\"cited\"}}");
    add_event(&s, "contentBlockDelta",
              "{\"contentBlockIndex\":1,\"delta\":{\"citation\":{\"title\":"
              "\"t\",\"sourceContent\":[{\"text\":\"s\"}]}}}");
    add_event(&s, "contentBlockStop", "{\"contentBlockIndex\":1}");
    add_event(&s, "contentBlockStop", "{\"contentBlockIndex\":1}");
    add_event(&s, "contentBlockStop", "{\"contentBlockIndex\":9}");
    add_event(&s, "messageStop", "{\"stopReason\":\"some_new_reason\"}");
    add_event(&s, "metadata", "{\"usage\":{\"inputTokens\":1},\"metrics\":"
                              "{\"latencyMs\":2}}");
    add_event(&s, "anotherOne", "{}");
    result r;
    run_whole(&s, &r);
    CHECK_INT(r.feed_status, STRANDS_OK);
    CHECK_INT(r.finish_status, STRANDS_OK);
    CHECK_JSON(r.resp.message,
               "{\"role\":\"assistant\",\"content\":[{\"text\":\"cited\"}]}");
    CHECK_STR(r.resp.stop_reason, "some_new_reason");
    result_cleanup(&r);
    free(s.data);
}

static void test_exception_frames(void)
{
    static const struct {
        const char *type, *payload, *code, *message;
    } cases[] = {
        {"throttlingException", "{\"message\":\"slow down\"}",
         "ThrottlingException", "slow down"},
        {"validationException", "{\"Message\":\"bad input\"}",
         "ValidationException", "bad input"},
        {"serviceUnavailableException", "{\"message\":\"try later\",\"p\":1}",
         "ServiceUnavailableException", "try later"},
        {"internalServerException", "", "InternalServerException",
         "InternalServerException"},
        {"modelStreamErrorException", "not json", "ModelStreamErrorException",
         "not json"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        stream s = {0};
        add_event(&s, "messageStart", "{\"role\":\"assistant\"}");
        add_exception(&s, cases[k].type, cases[k].payload);
        add_text_message(&s, 1, 1);   /* ignored: the error is final */
        result r;
        run_whole(&s, &r);
        CHECK_INT(r.feed_status, STRANDS_E_UPSTREAM);
        CHECK_STR(r.feed_err.code, cases[k].code);
        CHECK_STR(r.feed_err.message, cases[k].message);
        CHECK_INT(r.feed_err.http_status, 0);
        CHECK_INT(r.finish_status, STRANDS_E_UPSTREAM);
        CHECK_STR(r.finish_err.code, cases[k].code);
        CHECK_INT(r.text.len, 0);
        CHECK_INT(r.sent, 0);
        result_cleanup(&r);
        free(s.data);
    }
}

static void test_error_frame(void)
{
    stream s = {0};
    add_event(&s, "messageStart", "{\"role\":\"assistant\"}");
    add_event(&s, "contentBlockDelta",
              "{\"contentBlockIndex\":0,\"delta\":{\"text\":\"Hel\"}}");
    es_header h[2] = {str_header(":message-type", "error"),
                      str_header(":error-code", "InternalFailure")};
    es_header h2[3] = {str_header(":message-type", "error"),
                       str_header(":error-code", "serviceUnavailable"),
                       str_header(":error-message", "Please retry")};
    stream s2 = {0};
    add_frame(&s2, h2, 3, NULL, 0);
    add_frame(&s, h, 2, "{}", 2);
    result r;
    run_whole(&s, &r);
    CHECK_INT(r.feed_status, STRANDS_E_UPSTREAM);
    CHECK_STR(r.feed_err.code, "InternalFailure");
    CHECK_STR(r.feed_err.message, "InternalFailure");
    CHECK_INT(r.sent, 1);
    CHECK_MEM(r.text.data, r.text.len, "Hel", 3);
    result_cleanup(&r);
    run_whole(&s2, &r);
    CHECK_INT(r.feed_status, STRANDS_E_UPSTREAM);
    CHECK_STR(r.feed_err.code, "ServiceUnavailable");
    CHECK_STR(r.feed_err.message, "Please retry");
    CHECK_INT(r.sent, 0);
    result_cleanup(&r);
    free(s.data);
    free(s2.data);
}

static void test_protocol_errors(void)
{
    static const struct {
        const char *type, *payload, *message;
    } cases[] = {
        {"contentBlockDelta", "{\"delta\":{\"text\":\"x\"}}",
         "contentBlockDelta without a valid contentBlockIndex"},
        {"contentBlockDelta", "{\"contentBlockIndex\":-1,\"delta\":{}}",
         "contentBlockDelta without a valid contentBlockIndex"},
        {"contentBlockDelta", "{\"contentBlockIndex\":\"0\",\"delta\":{}}",
         "contentBlockDelta without a valid contentBlockIndex"},
        {"contentBlockDelta", "{\"contentBlockIndex\":0}",
         "contentBlockDelta 0 without delta"},
        {"contentBlockDelta", "{\"contentBlockIndex\":0,\"delta\":{\"text\""
                              ":5}}",
         "contentBlockDelta: text is not a string"},
        {"contentBlockDelta", "{\"contentBlockIndex\":0,\"delta\":{\"toolUse"
                              "\":{\"input\":\"{}\"}}}",
         "toolUse delta for block 0 without contentBlockStart"},
        {"contentBlockDelta", "{\"contentBlockIndex\":3,\"delta\":{\"text\":"
                              "\"x\"}}",
         "contentBlockDelta for block 3 after its contentBlockStop"},
        {"contentBlockDelta", "{\"contentBlockIndex\":4,\"delta\":{\"reason"
                              "ingContent\":{\"text\":\"x\"}}}",
         "reasoningContent delta for text block 4"},
        {"contentBlockStart", "{\"contentBlockIndex\":4,\"start\":{\"toolUse"
                              "\":{\"toolUseId\":\"a\",\"name\":\"b\"}}}",
         "contentBlockStart for block 4, which already exists"},
        {"contentBlockStart", "{\"contentBlockIndex\":5,\"start\":{\"toolUse"
                              "\":{\"name\":\"b\"}}}",
         "contentBlockStart 5: toolUse lacks toolUseId or name"},
        {"contentBlockStart", "{\"contentBlockIndex\":5}",
         "contentBlockStart 5 without start"},
        {"messageStop", "{\"stopReason\":null}",
         "messageStop without stopReason"},
        {"metadata", "[1]", "metadata payload is not a JSON object"},
        {"contentBlockStop", "", "contentBlockStop payload is not valid "
                                 "JSON: "},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        stream s = {0};
        add_event(&s, "contentBlockDelta",
                  "{\"contentBlockIndex\":3,\"delta\":{\"text\":\"x\"}}");
        add_event(&s, "contentBlockStop", "{\"contentBlockIndex\":3}");
        add_event(&s, "contentBlockDelta",
                  "{\"contentBlockIndex\":4,\"delta\":{\"text\":\"y\"}}");
        add_event(&s, cases[k].type, cases[k].payload);
        result r;
        run_whole(&s, &r);
        CHECK_INT(r.feed_status, STRANDS_E_PARSE);
        CHECK_STR(r.feed_err.code, "InvalidResponse");
        CHECK(strncmp(r.feed_err.message, cases[k].message,
                      strlen(cases[k].message)) == 0);
        CHECK_INT(r.finish_status, STRANDS_E_PARSE);
        CHECK_STR(r.finish_err.message, r.feed_err.message);
        if (test_failures_in_case)
            fprintf(stderr, "  (case %zu: %s)\n", k, r.feed_err.message);
        result_cleanup(&r);
        free(s.data);
    }
}

static void test_bad_headers_and_framing(void)
{
    result r;
    stream s = {0};
    es_header h1[1] = {str_header(":event-type", "messageStart")};
    add_frame(&s, h1, 1, "{}", 2);
    run_whole(&s, &r);
    CHECK_INT(r.feed_status, STRANDS_E_PARSE);
    CHECK_STR(r.feed_err.message,
              "message without a :message-type string header");
    result_cleanup(&r);
    free(s.data);

    stream s2 = {0};
    es_header h2[1] = {str_header(":message-type", "ping")};
    add_frame(&s2, h2, 1, NULL, 0);
    run_whole(&s2, &r);
    CHECK_INT(r.feed_status, STRANDS_E_PARSE);
    CHECK_STR(r.feed_err.message, "unknown :message-type ping");
    result_cleanup(&r);
    free(s2.data);

    stream s3 = {0};
    es_header h3[1] = {str_header(":message-type", "event")};
    add_frame(&s3, h3, 1, "{}", 2);
    run_whole(&s3, &r);
    CHECK_INT(r.feed_status, STRANDS_E_PARSE);
    CHECK_STR(r.feed_err.message,
              "event message without a :event-type string header");
    result_cleanup(&r);
    free(s3.data);

    /* Framing errors come from the decoder, and stick. */
    stream s4 = {0};
    add_text_message(&s4, 1, 1);
    s4.data[s4.len - 1] ^= 1;
    run_whole(&s4, &r);
    CHECK_INT(r.feed_status, STRANDS_E_PARSE);
    CHECK(strncmp(r.feed_err.message, "Message checksum mismatch", 25) == 0);
    CHECK_INT(r.finish_status, STRANDS_E_PARSE);
    CHECK_STR(r.finish_err.message, r.feed_err.message);
    result_cleanup(&r);
    free(s4.data);
}

static void test_truncated_streams(void)
{
    static const struct {
        int stop, metadata;
        size_t cut;       /* bytes removed from the end */
        const char *message;
    } cases[] = {
        {1, 0, 0, "stream ended before messageStop/metadata"},
        {0, 1, 0, "stream ended before messageStop/metadata"},
        {0, 0, 0, "stream ended before messageStop/metadata"},
        {1, 1, 1, "stream ended before messageStop/metadata"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        stream s = {0};
        add_text_message(&s, cases[k].stop, cases[k].metadata);
        result r;
        run(s.data, s.len - cases[k].cut, chunk_byte, NULL, &r);
        CHECK_INT(r.feed_status, STRANDS_OK);
        CHECK_INT(r.finish_status, STRANDS_E_PARSE);
        CHECK_STR(r.finish_err.message, cases[k].message);
        CHECK_INT(r.sent, 1);
        result_cleanup(&r);
        free(s.data);
    }
    /* Complete, then a partial extra frame. */
    stream s = {0};
    add_text_message(&s, 1, 1);
    size_t full = s.len;
    add_event(&s, "anything", "{}");
    result r;
    run(s.data, full + 10, chunk_whole, NULL, &r);
    CHECK_INT(r.finish_status, STRANDS_E_PARSE);
    CHECK_STR(r.finish_err.message,
              "stream ended inside an event-stream message");
    result_cleanup(&r);
    free(s.data);
}

/* A message without content blocks is complete and empty. */
static void test_empty_message(void)
{
    stream s = {0};
    add_event(&s, "messageStart", "{\"role\":\"assistant\"}");
    add_event(&s, "contentBlockStop", "{\"contentBlockIndex\":0}");
    add_event(&s, "messageStop", "{\"stopReason\":\"content_filtered\"}");
    add_event(&s, "metadata", "{\"usage\":{\"inputTokens\":4,"
                              "\"totalTokens\":9}}");
    result r;
    run(s.data, s.len, chunk_byte, NULL, &r);
    CHECK_INT(r.finish_status, STRANDS_OK);
    CHECK_JSON(r.resp.message, "{\"role\":\"assistant\",\"content\":[]}");
    CHECK_STR(r.resp.stop_reason, "content_filtered");
    CHECK_INT(r.resp.usage.input_tokens, 4);
    CHECK_INT(r.resp.usage.output_tokens, 0);
    CHECK_INT(r.resp.usage.total_tokens, 9);
    CHECK_INT(r.resp.latency_ms, 0);
    CHECK_INT(r.sent, 0);
    result_cleanup(&r);
    free(s.data);
}

/* Blocks never stopped are finalised at finish, in index order. */
static void test_unstopped_blocks(void)
{
    stream s = {0};
    add_event(&s, "contentBlockStart",
              "{\"contentBlockIndex\":1,\"start\":{\"toolUse\":{\"toolUseId\""
              ":\"t\",\"name\":\"n\"}}}");
    add_event(&s, "contentBlockDelta",
              "{\"contentBlockIndex\":1,\"delta\":{\"toolUse\":{\"input\":"
              "\"{\\\"x\\\":\"}}}");
    add_event(&s, "contentBlockDelta",
              "{\"contentBlockIndex\":0,\"delta\":{\"text\":\"t\"}}");
    add_event(&s, "messageStop", "{\"stopReason\":\"max_tokens\"}");
    add_event(&s, "metadata", "{\"usage\":{},\"metrics\":{}}");
    result r;
    run_whole(&s, &r);
    CHECK_INT(r.finish_status, STRANDS_OK);
    CHECK_JSON(r.resp.message,
               "{\"role\":\"assistant\",\"content\":[{\"text\":\"t\"},"
               "{\"toolUse\":{\"toolUseId\":\"t\",\"name\":\"n\","
               "\"input\":{}}}]}");
    CHECK_INT(json_array_size(r.tools), 1);
    result_cleanup(&r);
    free(s.data);
}

static void test_block_limit(void)
{
    stream s = {0};
    char buf[128];
    for (int k = 0; k < 5; k++) {
        snprintf(buf, sizeof buf,
                 "{\"contentBlockIndex\":%d,\"delta\":{\"text\":\"x\"}}", k);
        add_event(&s, "contentBlockDelta", buf);
    }
    result r;
    result_init(&r);
    cs_assembler *a = cs_assembler_new(NULL);   /* no callbacks */
    cs_assembler_set_limits(a, 0, 4);
    run_chunks(s.data, s.len, chunk_whole, NULL, a, &r);
    cs_assembler_free(a);
    CHECK_INT(r.feed_status, STRANDS_E_TOO_LARGE);
    CHECK_STR(r.feed_err.message,
              "ConverseStream message has more than 4 content blocks");
    CHECK_INT(r.sent, 1);
    result_cleanup(&r);
    free(s.data);
}

static void test_byte_limit_small(void)
{
    stream s = {0};
    add_event(&s, "contentBlockDelta",
              "{\"contentBlockIndex\":0,\"delta\":{\"text\":\"0123456789\"}}");
    add_event(&s, "contentBlockDelta",
              "{\"contentBlockIndex\":0,\"delta\":{\"text\":\"0123456789\"}}");
    result r;
    result_init(&r);
    cs_callbacks cb = {on_text, on_tool_use, &r, on_event};
    cs_assembler *a = cs_assembler_new(&cb);
    cs_assembler_set_limits(a, 15, 0);
    run_chunks(s.data, s.len, chunk_whole, NULL, a, &r);
    cs_assembler_free(a);
    CHECK_INT(r.feed_status, STRANDS_E_TOO_LARGE);
    CHECK_STR(r.feed_err.message,
              "ConverseStream message exceeds the 15-byte limit");
    CHECK_INT(r.text_calls, 1);   /* the oversize delta is not reported */
    result_cleanup(&r);
    free(s.data);
}

/* The default 16 MiB budget, with 1 MiB text deltas. */
static void test_byte_limit_default(void)
{
    size_t piece = 1u << 20;
    char *payload = malloc(piece + 64);
    if (!payload) abort();
    int n = snprintf(payload, 64, "{\"contentBlockIndex\":0,\"delta\":"
                                  "{\"text\":\"");
    memset(payload + n, 'a', piece);
    memcpy(payload + n + piece, "\"}}", 4);
    stream s = {0};
    for (int k = 0; k < 17; k++) add_event(&s, "contentBlockDelta", payload);
    free(payload);
    result r;
    run(s.data, s.len, chunk_whole, NULL, &r);
    CHECK_INT(r.feed_status, STRANDS_E_TOO_LARGE);
    CHECK_STR(r.feed_err.message,
              "ConverseStream message exceeds the 16777216-byte limit");
    CHECK_INT(r.text_calls, 16);
    CHECK_INT(r.text.len, 16 * piece);
    result_cleanup(&r);
    free(s.data);
}

static void test_api_misuse(void)
{
    stream s = {0};
    add_text_message(&s, 1, 1);
    cs_assembler *a = cs_assembler_new(NULL);
    strands_error err;
    strands_model_response resp;
    CHECK_INT(cs_assembler_feed(a, s.data, s.len, &err), STRANDS_OK);
    CHECK_INT(cs_assembler_feed(a, NULL, 0, NULL), STRANDS_OK);
    CHECK_INT(cs_assembler_sent_anything(a), 1);
    CHECK_INT(cs_assembler_finish(a, &resp, &err), STRANDS_OK);
    CHECK_JSON(resp.message,
               "{\"role\":\"assistant\",\"content\":[{\"text\":\"Hi\"}]}");
    CHECK_INT(resp.usage.total_tokens, 7);
    CHECK_INT(resp.latency_ms, 33);
    strands_model_response_cleanup(&resp);
    CHECK_INT(cs_assembler_finish(a, &resp, &err), STRANDS_E_INVALID);
    CHECK(resp.message == NULL);
    CHECK_INT(cs_assembler_feed(a, s.data, s.len, &err), STRANDS_E_INVALID);
    cs_assembler_free(a);
    cs_assembler_free(NULL);
    free(s.data);

    /* An empty body: nothing reported, incomplete. */
    a = cs_assembler_new(NULL);
    CHECK_INT(cs_assembler_sent_anything(a), 0);
    CHECK_INT(cs_assembler_finish(a, &resp, NULL), STRANDS_E_PARSE);
    cs_assembler_free(a);
}

int main(void)
{
    RUN(test_fixture_expectations);
    RUN(test_fixture_text);
    RUN(test_fixture_tool_use);
    RUN(test_fixture_reasoning);
    RUN(test_fixture_exception_throttling);
    RUN(test_fixture_exception_model_stream_error);
    RUN(test_fixture_truncated);
    RUN(test_text_and_padding);
    RUN(test_redacted_content);
    RUN(test_interleaved_tool_blocks);
    RUN(test_typed_events);
    RUN(test_invalid_tool_json);
    RUN(test_unknown_events_ignored);
    RUN(test_exception_frames);
    RUN(test_error_frame);
    RUN(test_protocol_errors);
    RUN(test_bad_headers_and_framing);
    RUN(test_truncated_streams);
    RUN(test_empty_message);
    RUN(test_unstopped_blocks);
    RUN(test_block_limit);
    RUN(test_byte_limit_small);
    RUN(test_byte_limit_default);
    RUN(test_api_misuse);
    return test_report();
}
