/* Allocation-failure sweeps over request parsing (request_parse) and SSE
 * frame building (sse_format_event, sse_final_frame): every failing
 * allocation gives a clean "out of memory" verdict or the exact result of
 * a run without failures (or, where jansson reports an allocation failure
 * inside its parser as a syntax error, a well-formed InvalidJSON reason),
 * never garbage: the 400 reason is always a
 * NUL-terminated, initialized string, and a stream's final frame is
 * always `done`/`error` or the fixed out-of-memory error frame.        */
#include <stdlib.h>
#include <string.h>

#include "failalloc.h"
#include "server/internal.h"
#include "server/runner.h"
#include "test.h"

#define SWEEP_MAX 400

typedef struct parse_case {
    const char *body;
    const char *header_session;
} parse_case;

static const parse_case parse_cases[] = {
    {"{\"prompt\":\"What is 2+2?\",\"session_id\":\"s-1\"}", NULL},
    {"{\"prompt\":\"hi\",\"stream\":true}", "hdr-session"},
    {"{\"prompt\":[{\"text\":\"look\"},{\"image\":{\"format\":\"png\","
     "\"source\":{\"bytes\":\"iVBORw0KGgo=\"}}},{\"document\":{\"name\":"
     "\"n\",\"format\":\"md\",\"source\":{\"bytes\":\"IyBoaQ==\"}}}],"
     "\"stream\":false}", NULL},
    {"{\"prompt\":\"  \"}", NULL},
    {"{\"prompt\":[{\"image\":{\"format\":\"png\",\"source\":{\"bytes\":"
     "\"!!\"}}}]}", NULL},
    {"{\"prompt\":\"x\",\"stream\":\"yes\"}", NULL},
    {"{\"prompt\":\"x\",\"session_id\":\"a\\nb\"}", NULL},
    {"{\"prompt\":\"x\"}", "bad\001header"},
    {"{\"prompt\":", NULL},
    {"[1,2,3]", NULL},
    {"{\"prompt\":\"x\",\"async\":true,\"session_id\":\"s-2\"}", NULL},
    /* No action bodies: their names are strings of 14+ bytes, and
     * jansson 2.14's lexer ignores a failed growth of its string buffer
     * and then asserts; action parsing allocates nothing past
     * json_loadb, whose failures the cases above cover. */
};

/* A reason buffer must hold a short, terminated, printable string. */
static int reason_ok(const char *why, size_t whysz)
{
    const char *end = memchr(why, '\0', whysz);
    if (!end || end == why) return 0;
    for (const char *p = why; p < end; p++)
        if ((unsigned char)*p < 0x20) return 0;
    return 1;
}

static void test_request_parse_sweep(void)
{
    for (size_t c = 0; c < sizeof parse_cases / sizeof parse_cases[0]; c++) {
        const parse_case *pc = &parse_cases[c];
        /* The reference run, without failures. */
        request_parsed want;
        char want_why[256];
        request_verdict want_v =
            request_parse(pc->body, strlen(pc->body), pc->header_session,
                          &want, want_why, sizeof want_why);
        char *want_prompt =
            want_v == REQUEST_OK ? json_dumps(want.prompt, JSON_COMPACT)
                                 : NULL;
        long n, oom_runs = 0;
        FAILALLOC_SWEEP(n, SWEEP_MAX) {
            request_parsed got;
            char why[256];
            memset(why, 0xAA, sizeof why); /* "uninitialized" bytes */
            request_verdict v = request_parse(pc->body, strlen(pc->body),
                                              pc->header_session, &got, why,
                                              sizeof why);
            if (v == REQUEST_NOMEM) {
                oom_runs++;
                CHECK_STR(why, "out of memory");
                continue;
            }
            if (v == REQUEST_BAD_JSON) {
                /* jansson reports an allocation failure inside the parser
                 * as a syntax error: a wrong but well-formed 400. */
                oom_runs++;
                if (!reason_ok(why, sizeof why) ||
                    strncmp(why, "Invalid JSON: ", 14))
                    FAIL_AT("case %zu, alloc %ld: garbage reason", c, n);
                continue;
            }
            if (v != want_v) {
                FAIL_AT("case %zu, failing alloc %ld: verdict %d, want %d "
                        "(%s)", c, n, (int)v, (int)want_v, why);
                request_parsed_cleanup(&got);
                continue;
            }
            if (v != REQUEST_OK) {
                if (!reason_ok(why, sizeof why))
                    FAIL_AT("case %zu, alloc %ld: garbage reason", c, n);
                else if (strcmp(why, want_why))
                    FAIL_AT("case %zu, alloc %ld: '%s' != '%s'", c, n, why,
                            want_why);
                continue;
            }
            failalloc_disarm();
            char *text = json_dumps(got.prompt, JSON_COMPACT);
            if (text && want_prompt) CHECK_STR(text, want_prompt);
            if (pc->header_session && !strstr(pc->body, "session_id"))
                CHECK_STR(got.session_id, pc->header_session);
            CHECK_INT(got.async, want.async);
            CHECK_INT(got.action, want.action);
            CHECK_STR(got.invocation_id, want.invocation_id);
            free(text);
            request_parsed_cleanup(&got);
        }
        if (n != SWEEP_MAX + 2) FAIL_AT("case %zu never ran clean", c);
        if (want_v == REQUEST_OK && !oom_runs)
            FAIL_AT("case %zu: no allocation failure was seen", c);
        free(want_prompt);
        request_parsed_cleanup(&want);
    }
}

/* The prompt helper alone: NULL always comes with a reason. */
static void test_prompt_blocks_sweep(void)
{
    json_t *body = json_loads("{\"prompt\":\"hello\"}", 0, NULL);
    long n;
    FAILALLOC_SWEEP(n, SWEEP_MAX) {
        char why[64];
        memset(why, 0xAA, sizeof why);
        json_t *b = request_prompt_blocks(body, why, sizeof why);
        if (!b) {
            CHECK_STR(why, "out of memory");
        } else {
            CHECK_INT(json_array_size(b), 1);
            json_decref(b);
        }
    }
    CHECK(n == SWEEP_MAX + 2);
    json_decref(body);
}

static void test_sse_event_sweep(void)
{
    runner_event text = {.type = STRANDS_EVENT_TEXT_DELTA,
                         .text = "caf\xc3\xa9 \"q\"", .text_len = 9};
    runner_event use = {.type = STRANDS_EVENT_TOOL_START};
    use.data = json_loads("{\"toolUseId\":\"tu_1\",\"name\":\"calculator\","
                          "\"input\":{\"expression\":\"2+3\"}}", 0, NULL);
    runner_event res = {.type = STRANDS_EVENT_TOOL_END};
    res.data = json_loads("{\"toolUseId\":\"tu_1\",\"status\":\"success\","
                          "\"content\":[{\"text\":\"5\"}]}", 0, NULL);
    static const char *const want[] = {
        "data: {\"type\":\"text\",\"text\":\"caf\xc3\xa9 \\\"q\\\"\"}\n\n",
        "data: {\"type\":\"tool_use\",\"tool_use_id\":\"tu_1\",\"name\":"
        "\"calculator\",\"input\":{\"expression\":\"2+3\"}}\n\n",
        "data: {\"type\":\"tool_result\",\"tool_use_id\":\"tu_1\","
        "\"status\":\"success\",\"content\":[{\"text\":\"5\"}]}\n\n"};
    const runner_event *evs[] = {&text, &use, &res};
    for (int i = 0; i < 3; i++) {
        long n, nulls = 0;
        FAILALLOC_SWEEP(n, SWEEP_MAX) {
            size_t len = 99;
            char *f = sse_format_event(evs[i], &len);
            if (!f) {
                nulls++;
                CHECK_INT(len, 0);
                continue;
            }
            CHECK_INT(len, strlen(want[i]));
            CHECK_STR(f, want[i]);
            free(f);
        }
        CHECK(n == SWEEP_MAX + 2);
        CHECK(nulls > 0);
    }
    json_decref(use.data);
    json_decref(res.data);
}

/* The `done` frame is never silently dropped: either it is complete or
 * the stream ends with the out-of-memory error frame. */
static void test_sse_final_frame_sweep(void)
{
    runner_outcome ok = {.status = STRANDS_OK};
    ok.result.text = "The answer is 5.";
    ok.result.iterations = 2;
    ok.result.usage = (strands_usage){10, 5, 15, 0, 0};
    const char *want_done =
        "data: {\"type\":\"done\",\"invocation_id\":\"inv-1\",\"session_id\":"
        "\"s-1\",\"response\":\"The answer is 5.\",\"stop_reason\":"
        "\"EndTurn\",\"usage\":{\"input_tokens\":10,\"output_tokens\":5,"
        "\"total_tokens\":15,\"cache_read_input_tokens\":0,"
        "\"cache_write_input_tokens\":0},\"iterations\":2}\n\n";
    runner_outcome bad = {.status = STRANDS_E_UPSTREAM, .started = 1};
    strands_error_set(&bad.error, STRANDS_E_UPSTREAM,
                      "ModelStreamErrorException", "stream failed");
    const char *want_err =
        "data: {\"type\":\"error\",\"error\":\"stream failed\","
        "\"error_type\":\"ModelStreamErrorException\"}\n\n";
    runner_outcome lost = ok;
    lost.events_lost = 1;
    const runner_outcome *os[] = {&ok, &bad, &lost};
    const char *wants[] = {want_done, want_err, sse_oom_frame};
    for (int i = 0; i < 3; i++) {
        long n, oom = 0;
        FAILALLOC_SWEEP(n, SWEEP_MAX) {
            size_t len = 0;
            int owned = -1;
            const char *f = sse_final_frame(os[i], "inv-1", "s-1", &len,
                                            &owned);
            CHECK(f != NULL);
            if (!f) continue;
            CHECK_INT(len, strlen(f));
            if (!owned) {
                CHECK_STR(f, sse_oom_frame);
                oom++;
            } else {
                CHECK_STR(f, wants[i]);
                free((char *)f);
            }
        }
        CHECK(n == SWEEP_MAX + 2);
        CHECK(oom > 0);
    }
}

/* JSON response bodies: complete or NULL. (jansson's json_dumps can drop
 * an object key when an allocation fails inside it; this must not.)   */
static void test_json_text_sweep(void)
{
    json_t *doc = json_loads(
        "{\"invocation_id\":\"i\",\"session_id\":\"s\",\"response\":"
        "\"a fairly long response text to make buffers grow\",\"usage\":"
        "{\"input_tokens\":1,\"output_tokens\":2},\"nested\":{\"source\":"
        "{\"bytes\":\"xx\"}},\"iterations\":1}", 0, NULL);
    size_t want_len;
    char *want = server_json_text(doc, &want_len);
    CHECK(want != NULL);
    long n;
    FAILALLOC_SWEEP(n, SWEEP_MAX) {
        size_t len = 7;
        char *t = server_json_text(doc, &len);
        if (!t) {
            CHECK_INT(len, 0);
            continue;
        }
        CHECK_INT(len, want_len);
        CHECK_STR(t, want);
        free(t);
    }
    CHECK(n == SWEEP_MAX + 2);
    free(want);
    json_decref(doc);
}

int main(void)
{
    failalloc_init();
    RUN(test_request_parse_sweep);
    RUN(test_prompt_blocks_sweep);
    RUN(test_sse_event_sweep);
    RUN(test_sse_final_frame_sweep);
    RUN(test_json_text_sweep);
    return test_report();
}
