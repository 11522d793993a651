/* Allocation-failure sweeps over the OpenAI mapping and answer assembler:
 * every failing allocation gives NULL / a clean error (never a body with
 * a hole, a crash or a leak), and the run that sees no failure gives the
 * exact expected body / message.                                       */
#include <string.h>
#include <jansson.h>

#include "failalloc.h"
#include "models/openai_map.h"
#include "models/openai_stream.h"
#include "test.h"

static const char HISTORY[] =
    "[{\"role\":\"user\",\"content\":[{\"text\":\"calc\"},{\"image\":{"
    "\"format\":\"png\",\"source\":{\"bytes\":\"iVBO\"}}}]},"
    " {\"role\":\"assistant\",\"content\":[{\"text\":\"sure\"},"
    "  {\"toolUse\":{\"toolUseId\":\"c1\",\"name\":\"calc\",\"input\":"
    "  {\"x\":[1,2]}}}]},"
    " {\"role\":\"user\",\"content\":[{\"toolResult\":{\"toolUseId\":\"c1\","
    "  \"content\":[{\"text\":\"a\"},{\"json\":{\"b\":2}},{\"image\":{"
    "  \"format\":\"jpeg\",\"source\":{\"bytes\":\"QUJD\"}}}]}},"
    "  {\"document\":{\"format\":\"pdf\",\"name\":\"d\",\"source\":{"
    "  \"bytes\":\"JVBE\"}}}]}]";

static void test_build_body_sweep(void)
{
    json_t *msgs = json_loads(HISTORY, 0, NULL);
    json_t *sys = json_loads("[{\"text\":\"sys\"}]", 0, NULL);
    json_t *tools = json_loads(
        "[{\"toolSpec\":{\"name\":\"calc\",\"description\":\"d\","
        "\"inputSchema\":{\"json\":{\"type\":\"object\",\"properties\":{"
        "\"x\":{\"type\":\"array\"}}}}}}]", 0, NULL);
    json_t *params = json_loads("{\"temperature\":0.5,\"stop_sequences\":"
                                "[\"Z\"],\"extra\":{\"k\":[1]}}", 0, NULL);
    if (!msgs || !sys || !tools || !params) abort();
    strands_model_request req = {.messages = msgs, .system = sys,
                                 .tools = tools, .max_tokens = 64,
                                 .tool_choice = "calc"};
    openai_body_opts o = {"gpt", params, 1};
    char *want = openai_build_body(&req, &o, NULL);
    CHECK(want != NULL);
    long n, clean = 0;
    FAILALLOC_SWEEP(n, 2000) {
        size_t len = 0;
        char *body = openai_build_body(&req, &o, &len);
        if (body) {
            CHECK_STR(body, want);
            CHECK_INT(len, strlen(want));
            clean++;
        }
        free(body);
    }
    CHECK(n == 2000 + 2);
    CHECK(clean >= 1);
    free(want);
    json_decref(msgs);
    json_decref(sys);
    json_decref(tools);
    json_decref(params);
}

static const char STREAM[] =
    "data: {\"choices\":[{\"delta\":{\"role\":\"assistant\",\"reasoning_"
    "content\":\"r\"}}]}\n\n"
    "data: {\"choices\":[{\"delta\":{\"content\":\"Hi\"}}]}\n\n"
    "data: {\"choices\":[{\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":"
    "\"c1\",\"function\":{\"name\":\"calc\",\"arguments\":\"{\\\"x\\\"\"}}]"
    "}}]}\n\n"
    "data: {\"choices\":[{\"delta\":{\"tool_calls\":[{\"index\":0,"
    "\"function\":{\"arguments\":\":1}\"}},{\"index\":1,\"function\":{"
    "\"name\":\"b\",\"arguments\":{}}}]}}]}\n\n"
    "data: {\"choices\":[{\"delta\":{},\"finish_reason\":\"tool_calls\"}],"
    "\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":2}}\n\n"
    "data: [DONE]\n\n";

/* jansson's lexer ignores a failed buffer growth while it reads a string
 * (a key or value can lose a byte under OOM, e.g. "reasoning_contnt"),
 * so an OK run under an injected failure is only checked for shape; the
 * final run, which sees no failure, must give the exact message.       */
static void test_stream_sweep(void)
{
    json_t *hist = json_loads(HISTORY, 0, NULL);
    long n, clean = 0;
    json_t *last = NULL;
    strands_usage last_usage = {0};
    FAILALLOC_SWEEP(n, 3000) {
        strands_error err;
        strands_model_response r;
        memset(&r, 0, sizeof r);
        oa_stream *s = oa_stream_new(NULL, NULL, hist);
        strands_status st = s ? STRANDS_OK : STRANDS_E_NOMEM;
        /* in two pieces, split inside a chunk */
        if (st == STRANDS_OK) st = oa_stream_feed(s, STREAM, 100, &err);
        if (st == STRANDS_OK)
            st = oa_stream_feed(s, STREAM + 100, strlen(STREAM) - 100, &err);
        if (st == STRANDS_OK) st = oa_stream_finish(s, &r, &err);
        if (st == STRANDS_OK) {
            CHECK(json_is_array(json_object_get(r.message, "content")));
            clean++;
            json_decref(last);
            last = r.message;
            r.message = NULL;
            last_usage = r.usage;
        } else {
            CHECK(st == STRANDS_E_NOMEM || st == STRANDS_E_PARSE ||
                  st == STRANDS_E_CANCELLED || st == STRANDS_E_INTERNAL);
        }
        strands_model_response_cleanup(&r);
        oa_stream_free(s);
    }
    CHECK(n == 3000 + 2);
    CHECK(clean >= 1);
    json_t *c = json_object_get(last, "content");
    CHECK_INT(json_array_size(c), 4);
    CHECK_STR(json_string_value(json_object_get(json_object_get(
                  json_object_get(json_array_get(c, 0), "reasoningContent"),
                  "reasoningText"), "text")), "r");
    json_t *u1 = json_object_get(json_array_get(c, 2), "toolUse");
    /* c1 is taken by the history: a fresh id */
    const char *id = json_string_value(json_object_get(u1, "toolUseId"));
    CHECK(id && strncmp(id, "call_0_", 7) == 0);
    CHECK_INT(json_integer_value(json_object_get(json_object_get(u1, "input"),
                                                 "x")), 1);
    CHECK_INT(last_usage.total_tokens, 3);
    json_decref(last);
    json_decref(hist);
}

int main(void)
{
    failalloc_init();
    RUN(test_build_body_sweep);
    RUN(test_stream_sweep);
    return test_report();
}
