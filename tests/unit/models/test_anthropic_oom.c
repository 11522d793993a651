/* Allocation-failure sweeps over the Anthropic mapping and stream
 * assembler (src/models/anthropic_*.c): every failing allocation gives a
 * clean error (never a crash, a leak or a half-built value), and the run
 * that reaches no failure gives the full result. jansson's parser is
 * exempt: its lexer ignores a failed append to its token buffer and can
 * return a document with a hole (see test_mcp_config_oom.c), so an
 * allocation made inside json_loads/json_loadb is never the failing one;
 * the failure moves on to the next allocation outside it.             */
#include <dlfcn.h>
#include <execinfo.h>
#include <jansson.h>

#include "core/buf.h"
#include "failalloc.h"
#include "models/anthropic.h"
#include "test.h"

/* True when called from inside jansson's parser. */
static int in_json_parser(void)
{
    void *frames[64];
    int k = backtrace(frames, 64);
    for (int i = 0; i < k; i++) {
        Dl_info d;
        if (dladdr(frames[i], &d) && d.dli_sname &&
            (!strcmp(d.dli_sname, "json_loadb") ||
             !strcmp(d.dli_sname, "json_loads")))
            return 1;
    }
    return 0;
}

static void *sweep_json_malloc(size_t n)
{
    if (atomic_load(&failalloc_countdown) == 1 && in_json_parser())
        return __real_malloc(n);
    return __wrap_malloc(n);
}

static void sweep_json_free(void *p)
{
    free(p);
}

static const char HISTORY[] =
    "[{\"role\":\"user\",\"content\":[{\"text\":\"weather?\"},"
    "{\"image\":{\"format\":\"png\",\"source\":{\"bytes\":\"iVBORw==\"}}},"
    "{\"document\":{\"format\":\"txt\",\"name\":\"n\",\"source\":{\"bytes\":"
    "\"aGk=\"}}},{\"cachePoint\":{\"type\":\"default\"}}]},"
    "{\"role\":\"assistant\",\"content\":["
    "{\"reasoningContent\":{\"reasoningText\":{\"text\":\"hm\","
    "\"signature\":\"SIG==\"}}},"
    "{\"reasoningContent\":{\"redactedContent\":\"b3BhcXVl\"}},"
    "{\"toolUse\":{\"toolUseId\":\"t1\",\"name\":\"w\",\"input\":{\"c\":1}}}]},"
    "{\"role\":\"user\",\"content\":[{\"toolResult\":{\"toolUseId\":\"t1\","
    "\"content\":[{\"text\":\"ok\"},{\"json\":{\"a\":[1]}}],"
    "\"status\":\"error\"}}]}]";
static const char SYSTEM[] = "[{\"text\":\"sys\"},{\"cachePoint\":{}}]";
static const char TOOLS[] =
    "[{\"toolSpec\":{\"name\":\"w\",\"description\":\"d\",\"inputSchema\":"
    "{\"json\":{\"type\":\"object\"}}}},{\"cachePoint\":{}}]";

static void test_build_body_sweep(void)
{
    json_t *m = json_loads(HISTORY, 0, NULL);
    json_t *s = json_loads(SYSTEM, 0, NULL);
    json_t *t = json_loads(TOOLS, 0, NULL);
    strands_model_request req = {.messages = m, .system = s, .tools = t,
                                 .max_tokens = 100, .tool_choice = "w"};
    size_t want_len = 0;
    char *want = anthropic_build_body(&req, "claude", "\"top_k\":3",
                                      &want_len, NULL);
    CHECK(want != NULL);
    long n, clean = 0;
    FAILALLOC_SWEEP(n, 2000) {
        strands_error err;
        strands_error_clear(&err);
        size_t len = 0;
        char *body = anthropic_build_body(&req, "claude", "\"top_k\":3", &len,
                                          &err);
        if (body) {
            CHECK_MEM(body, len, want, want_len);
            clean++;
        } else {
            CHECK_INT(err.status, STRANDS_E_NOMEM);
        }
        free(body);
    }
    CHECK(n == 2000 + 2);
    CHECK(clean >= 1);
    free(want);
    json_decref(m);
    json_decref(s);
    json_decref(t);
}

static void test_params_sweep(void)
{
    const char *p = "{\"temperature\":0.5,\"additionalModelRequestFields\":"
                    "{\"thinking\":{\"type\":\"enabled\",\"budget_tokens\":"
                    "2048}},\"stop_sequences\":[\"x\"]}";
    long n;
    FAILALLOC_SWEEP(n, 1000) {
        char *out = NULL;
        strands_error err;
        strands_status st = anthropic_params_text(p, 4096, 0, &out, &err);
        if (st == STRANDS_OK)
            CHECK_STR(out, "\"temperature\":0.5,\"stop_sequences\":[\"x\"],"
                           "\"thinking\":{\"type\":\"enabled\","
                           "\"budget_tokens\":2048}");
        else
            CHECK(out == NULL && st == STRANDS_E_NOMEM);
        free(out);
    }
    CHECK(n == 1000 + 2);
}

static const char SSE[] =
    "event: message_start\ndata: {\"type\":\"message_start\",\"message\":"
    "{\"usage\":{\"input_tokens\":5}}}\n\n"
    "event: content_block_start\ndata: {\"type\":\"content_block_start\","
    "\"index\":0,\"content_block\":{\"type\":\"thinking\",\"thinking\":\"\"}}"
    "\n\nevent: content_block_delta\ndata: {\"type\":\"content_block_delta\","
    "\"index\":0,\"delta\":{\"type\":\"thinking_delta\",\"thinking\":\"h\"}}"
    "\n\nevent: content_block_delta\ndata: {\"type\":\"content_block_delta\","
    "\"index\":0,\"delta\":{\"type\":\"signature_delta\",\"signature\":\"S\"}}"
    "\n\nevent: content_block_stop\ndata: {\"type\":\"content_block_stop\","
    "\"index\":0}\n\n"
    "event: content_block_start\ndata: {\"type\":\"content_block_start\","
    "\"index\":1,\"content_block\":{\"type\":\"redacted_thinking\",\"data\":"
    "\"xyz\"}}\n\n"
    "event: content_block_start\ndata: {\"type\":\"content_block_start\","
    "\"index\":2,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n"
    "event: content_block_delta\ndata: {\"type\":\"content_block_delta\","
    "\"index\":2,\"delta\":{\"type\":\"text_delta\",\"text\":\"hi\"}}\n\n"
    "event: content_block_start\ndata: {\"type\":\"content_block_start\","
    "\"index\":3,\"content_block\":{\"type\":\"tool_use\",\"id\":\"t\","
    "\"name\":\"w\",\"input\":{}}}\n\n"
    "event: content_block_delta\ndata: {\"type\":\"content_block_delta\","
    "\"index\":3,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":"
    "\"{\\\"a\\\":1}\"}}\n\n"
    "event: content_block_stop\ndata: {\"type\":\"content_block_stop\","
    "\"index\":3}\n\n"
    "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":"
    "{\"stop_reason\":\"tool_use\"},\"usage\":{\"output_tokens\":9}}\n\n"
    "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";

static void count_events(void *user, const strands_model_stream_event *ev)
{
    (void)ev;
    ++*(int *)user;
}

static void test_stream_sweep(void)
{
    json_t *want = json_loads(
        "{\"role\":\"assistant\",\"content\":["
        "{\"reasoningContent\":{\"reasoningText\":{\"text\":\"h\","
        "\"signature\":\"S\"}}},"
        "{\"reasoningContent\":{\"redactedContent\":\"eHl6\"}},"
        "{\"text\":\"hi\"},"
        "{\"toolUse\":{\"toolUseId\":\"t\",\"name\":\"w\",\"input\":"
        "{\"a\":1}}}]}", 0, NULL);
    long n, clean = 0;
    FAILALLOC_SWEEP(n, 3000) {
        int events = 0;
        anthropic_stream *s = anthropic_stream_new(count_events, &events);
        if (!s) continue;
        strands_error err;
        strands_model_response out;
        memset(&out, 0, sizeof out);
        strands_status st = anthropic_stream_feed(s, SSE, sizeof SSE - 1,
                                                  &err);
        if (st == STRANDS_OK) st = anthropic_stream_finish(s, &out, &err);
        if (st == STRANDS_OK) {
            CHECK(json_equal(out.message, want));
            CHECK_INT(out.usage.total_tokens, 14);
            clean++;
        } else {
            CHECK_INT(st, STRANDS_E_NOMEM);
            CHECK(out.message == NULL);
        }
        strands_model_response_cleanup(&out);
        anthropic_stream_free(s);
    }
    CHECK(n == 3000 + 2);
    CHECK(clean >= 1);
    json_decref(want);
}

static void test_parse_message_sweep(void)
{
    const char *body =
        "{\"content\":[{\"type\":\"text\",\"text\":\"a\"},{\"type\":"
        "\"tool_use\",\"id\":\"i\",\"name\":\"n\",\"input\":{\"x\":[1]}},"
        "{\"type\":\"redacted_thinking\",\"data\":\"d\"}],"
        "\"stop_reason\":\"tool_use\",\"usage\":{\"input_tokens\":1}}";
    long n;
    FAILALLOC_SWEEP(n, 1000) {
        strands_model_response out;
        strands_error err;
        strands_status st = anthropic_parse_message(body, strlen(body), &out,
                                                    &err);
        if (st == STRANDS_OK)
            CHECK_INT(json_array_size(json_object_get(out.message,
                                                      "content")), 3);
        else
            CHECK(out.message == NULL && st == STRANDS_E_NOMEM);
        strands_model_response_cleanup(&out);
    }
    CHECK(n == 1000 + 2);
}

int main(void)
{
    failalloc_init();
    json_set_alloc_funcs(sweep_json_malloc, sweep_json_free);
    void *warm[4];
    backtrace(warm, 4);   /* loads the unwinder before any sweep */
    RUN(test_build_body_sweep);
    RUN(test_params_sweep);
    RUN(test_stream_sweep);
    RUN(test_parse_message_sweep);
    return test_report();
}
