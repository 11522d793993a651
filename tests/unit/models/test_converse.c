/* Tests for src/models/converse.c: the Converse request body (exact JSON,
 * toolConfig rules incl. the "noop" placeholder tool), parsing of the
 * documented Converse response and of malformed ones, usage totals, and
 * converse_history_has_tools.                                           */
#include <jansson.h>

#include "models/converse.h"
#include "json_check.h"
#include "test.h"

#define USER_HI "{\"role\":\"user\",\"content\":[{\"text\":\"hi\"}]}"
#define TOOL_USE_MSG                                                     \
    "{\"role\":\"assistant\",\"content\":[{\"text\":\"Let me check.\"}," \
    "{\"toolUse\":{\"toolUseId\":\"t1\",\"name\":\"get_weather\","       \
    "\"input\":{\"city\":\"Paris\"}}}]}"
#define TOOL_RESULT_MSG                                                  \
    "{\"role\":\"user\",\"content\":[{\"toolResult\":{\"toolUseId\":"    \
    "\"t1\",\"content\":[{\"json\":{\"tempC\":18}}],\"status\":"         \
    "\"success\"}}]}"
#define WEATHER_TOOLS                                                    \
    "[{\"toolSpec\":{\"name\":\"get_weather\",\"inputSchema\":"          \
    "{\"json\":{\"type\":\"object\"}}}}]"
#define NOOP_TOOLS                                                       \
    "[{\"toolSpec\":{\"name\":\"noop\",\"description\":\"This is a "     \
    "placeholder tool that must be completely ignored.\","               \
    "\"inputSchema\":{\"json\":{\"type\":\"object\",\"properties\":{}}}}}]"

/* Builds a request over the given JSON texts (NULL = absent). */
static json_t *build(const char *messages, const char *system,
                     const char *tools, int max_tokens)
{
    json_t *m = J(messages);
    json_t *s = system ? J(system) : NULL;
    json_t *t = tools ? J(tools) : NULL;
    strands_model_request req = {0};
    req.messages = m;
    req.system = s;
    req.tools = t;
    req.max_tokens = max_tokens;
    json_t *body = converse_build_request(&req);
    /* The body holds its own references; inputs stay unchanged. */
    json_t *m2 = J(messages);
    if (!json_equal(m, m2)) FAIL_AT("converse_build_request changed messages");
    json_decref(m2);
    json_decref(m);
    json_decref(s);
    json_decref(t);
    return body;
}

/* ---- request building ------------------------------------------------- */

static void test_request_minimal(void)
{
    json_t *body = build("[" USER_HI "]", NULL, NULL, 4096);
    CHECK_JSON(body, "{\"messages\":[" USER_HI "],"
                     "\"inferenceConfig\":{\"maxTokens\":4096}}");
    json_decref(body);
}

static void test_request_with_system(void)
{
    json_t *body = build("[" USER_HI "]", "[{\"text\":\"Be brief.\"}]", NULL,
                         512);
    CHECK_JSON(body, "{\"messages\":[" USER_HI "],"
                     "\"system\":[{\"text\":\"Be brief.\"}],"
                     "\"inferenceConfig\":{\"maxTokens\":512}}");
    json_decref(body);
    /* An empty system array is left out. */
    body = build("[" USER_HI "]", "[]", NULL, 1);
    CHECK_JSON(body, "{\"messages\":[" USER_HI "],"
                     "\"inferenceConfig\":{\"maxTokens\":1}}");
    json_decref(body);
}

static void test_request_with_tools(void)
{
    json_t *body = build("[" USER_HI "]", NULL, WEATHER_TOOLS, 100);
    CHECK_JSON(body, "{\"messages\":[" USER_HI "],"
                     "\"inferenceConfig\":{\"maxTokens\":100},"
                     "\"toolConfig\":{\"tools\":" WEATHER_TOOLS "}}");
    json_decref(body);
    /* The registered tools win over the placeholder on a tool history. */
    body = build("[" USER_HI "," TOOL_USE_MSG "," TOOL_RESULT_MSG "]", NULL,
                 WEATHER_TOOLS, 100);
    CHECK_JSON(json_object_get(body, "toolConfig"),
               "{\"tools\":" WEATHER_TOOLS "}");
    json_decref(body);
}

static void test_request_noop_tool(void)
{
    /* toolUse in history, no tools registered: the placeholder. */
    json_t *body = build("[" USER_HI "," TOOL_USE_MSG "]", NULL, NULL, 10);
    CHECK_JSON(body, "{\"messages\":[" USER_HI "," TOOL_USE_MSG "],"
                     "\"inferenceConfig\":{\"maxTokens\":10},"
                     "\"toolConfig\":{\"tools\":" NOOP_TOOLS "}}");
    json_decref(body);
    /* toolResult alone triggers it too, as does an empty tools array. */
    body = build("[" TOOL_RESULT_MSG "]", NULL, "[]", 10);
    CHECK_JSON(json_object_get(body, "toolConfig"),
               "{\"tools\":" NOOP_TOOLS "}");
    json_decref(body);
}

static void test_request_no_tool_config(void)
{
    /* No tools and a plain history: no toolConfig at all. */
    json_t *body = build("[" USER_HI ",{\"role\":\"assistant\",\"content\":"
                         "[{\"text\":\"hello\"}]}]",
                         NULL, "[]", 10);
    CHECK(body != NULL);
    CHECK(json_object_get(body, "toolConfig") == NULL);
    CHECK_INT(json_object_size(body), 2);
    json_decref(body);
}

/* ---- converse_history_has_tools -------------------------------------- */

static void test_history_has_tools(void)
{
    json_t *v;
    CHECK_INT(converse_history_has_tools(NULL), 0);
    v = J("[]");
    CHECK_INT(converse_history_has_tools(v), 0);
    json_decref(v);
    v = J("[" USER_HI "]");
    CHECK_INT(converse_history_has_tools(v), 0);
    json_decref(v);
    v = J("[" USER_HI "," TOOL_USE_MSG "]");
    CHECK_INT(converse_history_has_tools(v), 1);
    json_decref(v);
    v = J("[" TOOL_RESULT_MSG "]");
    CHECK_INT(converse_history_has_tools(v), 1);
    json_decref(v);
    /* Odd shapes are tolerated: no content, non-array content, non-object
     * messages, and a key merely containing "toolUse" text. */
    v = J("[{\"role\":\"user\"},{\"content\":\"toolUse\"},7,"
          "{\"content\":[{\"text\":\"toolUse toolResult\"},3]}]");
    CHECK_INT(converse_history_has_tools(v), 0);
    json_decref(v);
    v = J("{\"content\":[{\"toolUse\":{}}]}");
    CHECK_INT(converse_history_has_tools(v), 0);
    json_decref(v);
}

/* ---- response parsing ------------------------------------------------- */

/* The response documented in aws-wire-formats.md section 1.5. */
static const char documented_response[] =
    "{\"output\":{\"message\":{\"role\":\"assistant\",\"content\":"
    "[{\"text\":\"Hi!\"}]}},\n"
    " \"stopReason\":\"end_turn\",\n"
    " \"usage\":{\"inputTokens\":12,\"outputTokens\":3,\"totalTokens\":15,"
    "\"cacheReadInputTokens\":0,\"cacheWriteInputTokens\":0,\n"
    "          \"cacheDetails\":[{\"ttl\":\"1h\",\"inputTokens\":0}]},\n"
    " \"metrics\":{\"latencyMs\":412},\n"
    " \"additionalModelResponseFields\":{}, \"trace\":{\"guardrail\":{},"
    "\"promptRouter\":{\"invokedModelId\":\"...\"}},\n"
    " \"performanceConfig\":{\"latency\":\"standard\"}, "
    "\"serviceTier\":{\"type\":\"default\"}}";

static strands_status parse(const char *body, strands_model_response *out,
                            strands_error *err)
{
    strands_error_clear(err);
    return converse_parse_response(body, strlen(body), out, err);
}

static void test_parse_documented(void)
{
    strands_model_response r;
    strands_error err;
    CHECK_INT(parse(documented_response, &r, &err), STRANDS_OK);
    CHECK_JSON(r.message, "{\"role\":\"assistant\",\"content\":"
                          "[{\"text\":\"Hi!\"}]}");
    CHECK_STR(r.stop_reason, "end_turn");
    CHECK_INT(r.usage.input_tokens, 12);
    CHECK_INT(r.usage.output_tokens, 3);
    CHECK_INT(r.usage.total_tokens, 15);
    CHECK_INT(r.latency_ms, 412);
    strands_model_response_cleanup(&r);
    CHECK(r.message == NULL);
}

static void test_parse_tool_use(void)
{
    const char *body =
        "{\"output\":{\"message\":{\"role\":\"assistant\",\"content\":["
        "{\"text\":\"Let me check.\"},"
        "{\"toolUse\":{\"toolUseId\":\"tooluse_kZJMlvQmRJ6eAyJE5GIl7Q\","
        "\"name\":\"get_weather\",\"input\":{\"city\":\"Paris\","
        "\"days\":[1,2],\"opts\":{\"units\":\"C\"}}}}]}},"
        "\"stopReason\":\"tool_use\","
        "\"usage\":{\"inputTokens\":20,\"outputTokens\":9,\"totalTokens\":29},"
        "\"metrics\":{\"latencyMs\":77}}";
    strands_model_response r;
    strands_error err;
    CHECK_INT(parse(body, &r, &err), STRANDS_OK);
    CHECK_STR(r.stop_reason, "tool_use");
    json_t *tu = json_object_get(
        json_array_get(json_object_get(r.message, "content"), 1), "toolUse");
    CHECK_STR(json_string_value(json_object_get(tu, "toolUseId")),
              "tooluse_kZJMlvQmRJ6eAyJE5GIl7Q");
    CHECK(json_is_object(json_object_get(tu, "input")));
    CHECK_JSON(json_object_get(tu, "input"),
               "{\"city\":\"Paris\",\"days\":[1,2],\"opts\":{\"units\":\"C\"}}");
    CHECK_INT(r.usage.total_tokens, 29);
    CHECK_INT(r.latency_ms, 77);
    strands_model_response_cleanup(&r);
}

static void test_parse_ignores_unknown(void)
{
    /* Unknown top-level keys, padding, an unknown stop reason and an
     * unknown content member are all accepted; the message role is
     * always "assistant" and keys beside content are dropped. */
    const char *body =
        "{\"p\":\"abcdefghijklmnop\",\"newTopLevel\":{\"a\":[1,2,3]},"
        "\"output\":{\"message\":{\"role\":\"assistant\",\"extra\":1,"
        "\"content\":[{\"futureBlock\":{\"x\":true}},{\"text\":\"ok\"}]},"
        "\"otherMember\":{}},"
        "\"stopReason\":\"some_future_reason\","
        "\"usage\":{\"inputTokens\":1,\"outputTokens\":2,\"totalTokens\":3,"
        "\"newCounter\":99},\"metrics\":{\"latencyMs\":5,\"other\":1}}";
    strands_model_response r;
    strands_error err;
    CHECK_INT(parse(body, &r, &err), STRANDS_OK);
    CHECK_STR(r.stop_reason, "some_future_reason");
    CHECK_JSON(r.message, "{\"role\":\"assistant\",\"content\":["
                          "{\"futureBlock\":{\"x\":true}},{\"text\":\"ok\"}]}");
    CHECK_INT(r.usage.total_tokens, 3);
    strands_model_response_cleanup(&r);
}

static void test_parse_usage_totals(void)
{
    strands_model_response r;
    strands_error err;
    /* totalTokens missing: the sum of input and output. */
    CHECK_INT(parse("{\"output\":{\"message\":{\"content\":[]}},"
                    "\"stopReason\":\"end_turn\",\"usage\":"
                    "{\"inputTokens\":40,\"outputTokens\":2}}",
                    &r, &err),
              STRANDS_OK);
    CHECK_INT(r.usage.input_tokens, 40);
    CHECK_INT(r.usage.output_tokens, 2);
    CHECK_INT(r.usage.total_tokens, 42);
    CHECK_INT(r.latency_ms, 0);
    strands_model_response_cleanup(&r);
    /* No usage or metrics at all: zeros. Non-integer counts count as 0. */
    CHECK_INT(parse("{\"output\":{\"message\":{\"content\":[]}},"
                    "\"stopReason\":\"end_turn\",\"usage\":"
                    "{\"inputTokens\":\"5\",\"outputTokens\":1.5}}",
                    &r, &err),
              STRANDS_OK);
    CHECK_INT(r.usage.input_tokens, 0);
    CHECK_INT(r.usage.output_tokens, 0);
    CHECK_INT(r.usage.total_tokens, 0);
    strands_model_response_cleanup(&r);

    /* Hostile counts are clamped to 0..INT32_MAX, so no sum overflows
     * (fuzz/corpus/converse_response/usage_overflow). */
    CHECK_INT(parse("{\"output\":{\"message\":{\"content\":[]}},"
                    "\"stopReason\":\"end_turn\",\"usage\":"
                    "{\"inputTokens\":9223372036854775807,"
                    "\"outputTokens\":9223372036854775807}}",
                    &r, &err),
              STRANDS_OK);
    CHECK_INT(r.usage.input_tokens, INT32_MAX);
    CHECK_INT(r.usage.output_tokens, INT32_MAX);
    CHECK_INT(r.usage.total_tokens, (int64_t)INT32_MAX * 2);
    strands_model_response_cleanup(&r);
    CHECK_INT(parse("{\"output\":{\"message\":{\"content\":[]}},"
                    "\"stopReason\":\"end_turn\",\"usage\":"
                    "{\"inputTokens\":-5,\"outputTokens\":3,"
                    "\"totalTokens\":-9223372036854775807}}",
                    &r, &err),
              STRANDS_OK);
    CHECK_INT(r.usage.input_tokens, 0);
    CHECK_INT(r.usage.output_tokens, 3);
    CHECK_INT(r.usage.total_tokens, 3);
    strands_model_response_cleanup(&r);

    strands_usage u;
    json_t *v = J("{\"inputTokens\":7,\"outputTokens\":8,\"totalTokens\":20}");
    converse_parse_usage(v, &u);
    CHECK_INT(u.input_tokens, 7);
    CHECK_INT(u.output_tokens, 8);
    CHECK_INT(u.total_tokens, 20);
    json_decref(v);
    converse_parse_usage(NULL, &u);
    CHECK_INT(u.input_tokens + u.output_tokens + u.total_tokens, 0);
}

static void expect_parse_error(const char *body, size_t len)
{
    strands_model_response r;
    strands_error err;
    strands_error_clear(&err);
    memset(&r, 0x5a, sizeof r);
    strands_status st = converse_parse_response(body, len, &r, &err);
    CHECK_INT(st, STRANDS_E_PARSE);
    CHECK_INT(err.status, STRANDS_E_PARSE);
    CHECK_STR(err.code, "InvalidResponse");
    CHECK(err.message[0] != '\0');
    CHECK(r.message == NULL);
    if (st != STRANDS_OK) return;
    strands_model_response_cleanup(&r);
}

static void test_parse_errors(void)
{
    static const char *bodies[] = {
        "",
        "not json",
        "{\"output\":",
        "[]",
        "\"string\"",
        "null",
        "{}",
        /* missing output */
        "{\"stopReason\":\"end_turn\",\"usage\":{}}",
        /* missing stopReason */
        "{\"output\":{\"message\":{\"role\":\"assistant\",\"content\":[]}}}",
        /* stopReason not a string */
        "{\"output\":{\"message\":{\"content\":[]}},\"stopReason\":1}",
        /* content not an array */
        ("{\"output\":{\"message\":{\"content\":\"hi\"}},"
         "\"stopReason\":\"end_turn\"}"),
        /* output without message */
        "{\"output\":{\"content\":[]},\"stopReason\":\"end_turn\"}",
        "{\"output\":[],\"stopReason\":\"end_turn\"}",
    };
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++)
        expect_parse_error(bodies[i], strlen(bodies[i]));
    /* len is honoured: a valid document cut short is a parse error. */
    expect_parse_error(documented_response, 40);
}

static void test_parse_len_and_truncation(void)
{
    /* Bytes after len are never read (here: garbage after the object). */
    char buf[256];
    const char *doc = "{\"output\":{\"message\":{\"content\":[]}},"
                      "\"stopReason\":\"end_turn\"}";
    snprintf(buf, sizeof buf, "%sGARBAGE", doc);
    strands_model_response r;
    strands_error err;
    CHECK_INT(converse_parse_response(buf, strlen(doc), &r, &err),
              STRANDS_OK);
    CHECK_STR(r.stop_reason, "end_turn");
    strands_model_response_cleanup(&r);
    /* A stop reason longer than the field is cut, NUL-terminated. */
    char longstop[200];
    memset(longstop, 's', 100);
    longstop[100] = '\0';
    snprintf(buf, sizeof buf,
             "{\"output\":{\"message\":{\"content\":[]}},\"stopReason\":\"%s\"}",
             longstop);
    CHECK_INT(parse(buf, &r, &err), STRANDS_OK);
    CHECK_INT(strlen(r.stop_reason), sizeof r.stop_reason - 1);
    strands_model_response_cleanup(&r);
}

/* Bedrock's stop reasons map onto the provider-neutral enum here, in
 * src/models/, so the agent never compares Bedrock strings.           */
static void test_stop_reason_mapping(void)
{
    static const struct {
        const char *bedrock;
        strands_stop_reason want;
    } cases[] = {
        {"end_turn", STRANDS_STOP_END_TURN},
        {"tool_use", STRANDS_STOP_TOOL_USE},
        {"max_tokens", STRANDS_STOP_MAX_TOKENS},
        {"stop_sequence", STRANDS_STOP_STOP_SEQUENCE},
        {"guardrail_intervened", STRANDS_STOP_GUARDRAIL_INTERVENED},
        {"content_filtered", STRANDS_STOP_CONTENT_FILTERED},
        {"some_future_reason", STRANDS_STOP_END_TURN},
        {"", STRANDS_STOP_END_TURN},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        CHECK_INT(converse_stop_reason(cases[i].bedrock), cases[i].want);
    CHECK_INT(converse_stop_reason(NULL), STRANDS_STOP_END_TURN);
    /* The parsed response carries both the label and the enum. */
    const char *body =
        "{\"output\":{\"message\":{\"role\":\"assistant\",\"content\":"
        "[{\"text\":\"x\"}]}},\"stopReason\":\"max_tokens\"}";
    strands_model_response r;
    strands_error err;
    CHECK_INT(converse_parse_response(body, strlen(body), &r, &err),
              STRANDS_OK);
    CHECK_STR(r.stop_reason, "max_tokens");
    CHECK_INT(r.stop, STRANDS_STOP_MAX_TOKENS);
    strands_model_response_cleanup(&r);
}

int main(void)
{
    RUN(test_request_minimal);
    RUN(test_request_with_system);
    RUN(test_request_with_tools);
    RUN(test_request_noop_tool);
    RUN(test_request_no_tool_config);
    RUN(test_history_has_tools);
    RUN(test_parse_documented);
    RUN(test_parse_tool_use);
    RUN(test_parse_ignores_unknown);
    RUN(test_stop_reason_mapping);
    RUN(test_parse_usage_totals);
    RUN(test_parse_errors);
    RUN(test_parse_len_and_truncation);
    return test_report();
}
