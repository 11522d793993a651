/* Tests for the Anthropic Messages mapping (src/models/anthropic_request.c,
 * anthropic_params.c, anthropic_response.c): Converse history -> Messages
 * body (text, images, documents, tool use and results, thinking kept
 * byte-exact, redacted thinking, cache points, tool choice, the noop tool),
 * MODEL_PARAMS checks, and Messages answers, usage, stop reasons and error
 * bodies -> ours. Also the provider's constructor checks.               */
#include <jansson.h>

#include "models/anthropic.h"
#include "strands/anthropic.h"
#include "json_check.h"
#include "test.h"

/* The body for messages/system/tools given as JSON text (NULL: none). */
static json_t *build(const char *messages, const char *system,
                     const char *tools, const char *tool_choice,
                     const char *params, strands_error *err)
{
    json_t *m = J(messages);
    json_t *s = system ? J(system) : NULL;
    json_t *t = tools ? J(tools) : NULL;
    strands_model_request req = {.messages = m, .system = s, .tools = t,
                                 .max_tokens = 512,
                                 .tool_choice = tool_choice};
    strands_error_clear(err);
    json_t *body = anthropic_build_request(&req, "claude-test", params, err);
    json_decref(m);
    json_decref(s);
    json_decref(t);
    return body;
}

static void test_plain_text_and_system(void)
{
    strands_error err;
    json_t *b = build("[{\"role\":\"user\",\"content\":[{\"text\":\"hi\"}]}]",
                      "[{\"text\":\"be brief\"},{\"cachePoint\":{\"type\":"
                      "\"default\"}},{\"text\":\"and kind\"}]",
                      NULL, NULL, NULL, &err);
    CHECK_JSON(b, "{\"model\":\"claude-test\",\"max_tokens\":512,"
                  "\"stream\":true,\"messages\":[{\"role\":\"user\","
                  "\"content\":[{\"type\":\"text\",\"text\":\"hi\"}]}],"
                  "\"system\":[{\"type\":\"text\",\"text\":\"be brief\","
                  "\"cache_control\":{\"type\":\"ephemeral\"}},"
                  "{\"type\":\"text\",\"text\":\"and kind\"}]}");
    json_decref(b);
}

/* The exact follow-up of a tool round trip with thinking: the signed
 * thinking block first, verbatim, then the tool_use, then the user's
 * tool_result with the same id.                                        */
static void test_tool_round_trip_with_thinking(void)
{
    strands_error err;
    json_t *b = build(
        "[{\"role\":\"user\",\"content\":[{\"text\":\"weather?\"}]},"
        "{\"role\":\"assistant\",\"content\":["
        "{\"reasoningContent\":{\"reasoningText\":{\"text\":\"Let me "
        "check.\",\"signature\":\"EqQB+/x==\\u00e9\"}}},"
        "{\"text\":\"Checking.\"},"
        "{\"toolUse\":{\"toolUseId\":\"toolu_1\",\"name\":\"get_weather\","
        "\"input\":{\"city\":\"Paris\",\"n\":[1,2.5]}}},"
        "{\"toolUse\":{\"toolUseId\":\"toolu_2\",\"name\":\"get_weather\","
        "\"input\":{\"city\":\"Oslo\"}}}]},"
        "{\"role\":\"user\",\"content\":["
        "{\"toolResult\":{\"toolUseId\":\"toolu_1\",\"content\":["
        "{\"text\":\"sunny\"},{\"json\":{\"t\":21}}],\"status\":\"success\"}},"
        "{\"toolResult\":{\"toolUseId\":\"toolu_2\",\"content\":["
        "{\"text\":\"boom\"}],\"status\":\"error\"}}]}]",
        NULL,
        "[{\"toolSpec\":{\"name\":\"get_weather\",\"description\":\"Weather\","
        "\"inputSchema\":{\"json\":{\"type\":\"object\",\"properties\":"
        "{\"city\":{\"type\":\"string\"}}}}}},"
        "{\"toolSpec\":{\"name\":\"answer\",\"inputSchema\":{\"json\":"
        "{\"type\":\"object\"}}}},{\"cachePoint\":{\"type\":\"default\"}}]",
        "answer", "\"temperature\":0.25", &err);
    CHECK_JSON(b,
        "{\"model\":\"claude-test\",\"max_tokens\":512,\"stream\":true,"
        "\"temperature\":0.25,"
        "\"tool_choice\":{\"type\":\"tool\",\"name\":\"answer\"},"
        "\"tools\":[{\"name\":\"get_weather\",\"description\":\"Weather\","
        "\"input_schema\":{\"type\":\"object\",\"properties\":{\"city\":"
        "{\"type\":\"string\"}}}},{\"name\":\"answer\",\"input_schema\":"
        "{\"type\":\"object\"},\"cache_control\":{\"type\":\"ephemeral\"}}],"
        "\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\","
        "\"text\":\"weather?\"}]},"
        "{\"role\":\"assistant\",\"content\":["
        "{\"type\":\"thinking\",\"thinking\":\"Let me check.\","
        "\"signature\":\"EqQB+/x==\\u00e9\"},"
        "{\"type\":\"text\",\"text\":\"Checking.\"},"
        "{\"type\":\"tool_use\",\"id\":\"toolu_1\",\"name\":\"get_weather\","
        "\"input\":{\"city\":\"Paris\",\"n\":[1,2.5]}},"
        "{\"type\":\"tool_use\",\"id\":\"toolu_2\",\"name\":\"get_weather\","
        "\"input\":{\"city\":\"Oslo\"}}]},"
        "{\"role\":\"user\",\"content\":["
        "{\"type\":\"tool_result\",\"tool_use_id\":\"toolu_1\",\"content\":["
        "{\"type\":\"text\",\"text\":\"sunny\"},{\"type\":\"text\","
        "\"text\":\"{\\\"t\\\":21}\"}]},"
        "{\"type\":\"tool_result\",\"tool_use_id\":\"toolu_2\",\"content\":["
        "{\"type\":\"text\",\"text\":\"boom\"}],\"is_error\":true}]}]}");
    json_decref(b);
}

static void test_redacted_and_unsigned_reasoning(void)
{
    strands_error err;
    /* base64("opaque-data") */
    json_t *b = build(
        "[{\"role\":\"user\",\"content\":[{\"text\":\"q\"}]},"
        "{\"role\":\"assistant\",\"content\":["
        "{\"reasoningContent\":{\"redactedContent\":\"b3BhcXVlLWRhdGE=\"}},"
        "{\"reasoningContent\":{\"reasoningText\":{\"text\":\"unsigned\"}}},"
        "{\"text\":\"a\"}]},"
        "{\"role\":\"user\",\"content\":[{\"text\":\"\"},"
        "{\"guardContent\":{\"text\":{\"text\":\"g\"}}}]},"
        "{\"role\":\"user\",\"content\":[{\"text\":\"next\"}]}]",
        NULL, NULL, NULL, "", &err);
    CHECK_JSON(json_object_get(b, "messages"),
        "[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"q\"}]},"
        "{\"role\":\"assistant\",\"content\":[{\"type\":\"redacted_thinking\","
        "\"data\":\"opaque-data\"},{\"type\":\"text\",\"text\":\"a\"}]},"
        "{\"role\":\"user\",\"content\":[{\"type\":\"text\","
        "\"text\":\"next\"}]}]");
    json_decref(b);
    b = build("[{\"role\":\"assistant\",\"content\":[{\"reasoningContent\":"
              "{\"redactedContent\":\"not base64!\"}}]}]",
              NULL, NULL, NULL, NULL, &err);
    CHECK(b == NULL);
    CHECK_INT(err.status, STRANDS_E_INVALID);
}

static void test_images_and_documents(void)
{
    strands_error err;
    /* base64("hello, doc") */
    json_t *b = build(
        "[{\"role\":\"user\",\"content\":["
        "{\"image\":{\"format\":\"png\",\"source\":{\"bytes\":\"iVBORw==\"}}},"
        "{\"image\":{\"format\":\"jpg\",\"source\":{\"bytes\":\"/9j/\"}}},"
        "{\"document\":{\"format\":\"pdf\",\"name\":\"r\",\"source\":"
        "{\"bytes\":\"JVBERg==\"}}},"
        "{\"document\":{\"format\":\"txt\",\"name\":\"notes\",\"source\":"
        "{\"bytes\":\"aGVsbG8sIGRvYw==\"}}},"
        "{\"text\":\"read them\"}]}]",
        NULL, NULL, NULL, NULL, &err);
    CHECK_JSON(json_object_get(b, "messages"),
        "[{\"role\":\"user\",\"content\":["
        "{\"type\":\"image\",\"source\":{\"type\":\"base64\",\"media_type\":"
        "\"image/png\",\"data\":\"iVBORw==\"}},"
        "{\"type\":\"image\",\"source\":{\"type\":\"base64\",\"media_type\":"
        "\"image/jpeg\",\"data\":\"/9j/\"}},"
        "{\"type\":\"document\",\"title\":\"r\",\"source\":{\"type\":"
        "\"base64\",\"media_type\":\"application/pdf\",\"data\":"
        "\"JVBERg==\"}},"
        "{\"type\":\"document\",\"title\":\"notes\",\"source\":{\"type\":"
        "\"text\",\"media_type\":\"text/plain\",\"data\":\"hello, doc\"}},"
        "{\"type\":\"text\",\"text\":\"read them\"}]}]");
    json_decref(b);
    b = build("[{\"role\":\"user\",\"content\":[{\"document\":{\"format\":"
              "\"docx\",\"name\":\"w\",\"source\":{\"bytes\":\"AA==\"}}}]}]",
              NULL, NULL, NULL, NULL, &err);
    CHECK(b == NULL);
    CHECK_INT(err.status, STRANDS_E_INVALID);
    CHECK(strstr(err.message, "'docx'") != NULL);
    /* not UTF-8 (ff fe), an overlong (c0 af), a lone surrogate (ed a0 80) */
    const char *bad_text[] = {"//4=", "wK8=", "7aCA"};
    for (size_t i = 0; i < 3; i++) {
        char m[256];
        snprintf(m, sizeof m, "[{\"role\":\"user\",\"content\":[{\"document\":"
                 "{\"format\":\"txt\",\"name\":\"t\",\"source\":{\"bytes\":"
                 "\"%s\"}}}]}]", bad_text[i]);
        b = build(m, NULL, NULL, NULL, NULL, &err);
        CHECK(b == NULL);
        CHECK_INT(err.status, STRANDS_E_INVALID);
        CHECK(strstr(err.message, "UTF-8") != NULL);
    }
    b = build("[{\"role\":\"user\",\"content\":[{\"image\":{\"format\":"
              "\"bmp\",\"source\":{\"bytes\":\"AA==\"}}}]}]",
              NULL, NULL, NULL, NULL, &err);
    CHECK(b == NULL && err.status == STRANDS_E_INVALID);
    b = build("[{\"role\":\"user\",\"content\":[{\"video\":{}}]}]", NULL, NULL,
              NULL, NULL, &err);
    CHECK(b == NULL && err.status == STRANDS_E_INVALID);
    CHECK(strstr(err.message, "'video'") != NULL);
    b = build("[{\"role\":\"system\",\"content\":[{\"text\":\"x\"}]}]", NULL,
              NULL, NULL, NULL, &err);
    CHECK(b == NULL && err.status == STRANDS_E_INVALID);
}

/* A history with tool blocks but no tool list (the summary call) gets the
 * placeholder tool, as the API refuses such a history without tools.   */
static void test_noop_tool(void)
{
    strands_error err;
    json_t *b = build(
        "[{\"role\":\"assistant\",\"content\":[{\"toolUse\":{\"toolUseId\":"
        "\"t1\",\"name\":\"x\",\"input\":{}}}]},{\"role\":\"user\","
        "\"content\":[{\"toolResult\":{\"toolUseId\":\"t1\",\"content\":[]}}]}]",
        NULL, NULL, NULL, NULL, &err);
    CHECK_JSON(json_object_get(b, "tools"),
               "[{\"name\":\"noop\",\"description\":\"This is a placeholder "
               "tool that must be completely ignored.\",\"input_schema\":"
               "{\"type\":\"object\",\"properties\":{}}}]");
    CHECK_JSON(json_array_get(json_object_get(json_array_get(
                   json_object_get(b, "messages"), 1), "content"), 0),
               "{\"type\":\"tool_result\",\"tool_use_id\":\"t1\"}");
    json_decref(b);
}

/* ---- MODEL_PARAMS ------------------------------------------------------- */

static void expect_params(const char *params, int max_tokens,
                          const char *want)
{
    char *out = NULL;
    strands_error err;
    strands_error_clear(&err);
    CHECK_INT(anthropic_params_text(params, max_tokens, 0, &out, &err),
              STRANDS_OK);
    CHECK_STR(out, want);
    free(out);
}

static void expect_bad_params(const char *params, int max_tokens,
                              const char *fragment)
{
    char *out = NULL;
    strands_error err;
    CHECK_INT(anthropic_params_text(params, max_tokens, 0, &out, &err),
              STRANDS_E_INVALID);
    CHECK(out == NULL);
    CHECK(!strncmp(err.message, "MODEL_PARAMS: ", 14));
    if (!strstr(err.message, fragment))
        FAIL_AT("'%s' not in '%s'", fragment, err.message);
}

static void test_params(void)
{
    expect_params(NULL, 0, "");
    expect_params("{}", 0, "");
    expect_params("{\"temperature\":0.5,\"top_p\":0.75,\"top_k\":40,"
                  "\"stop_sequences\":[\"END\"],\"metadata\":{\"user_id\":"
                  "\"u\"}}", 0,
                  "\"temperature\":0.5,\"top_p\":0.75,\"top_k\":40,"
                  "\"stop_sequences\":[\"END\"],\"metadata\":{\"user_id\":"
                  "\"u\"}");
    expect_params("{\"temperature\":1,\"additionalModelRequestFields\":"
                  "{\"thinking\":{\"type\":\"enabled\",\"budget_tokens\":"
                  "2048}}}", 4096,
                  "\"temperature\":1,\"thinking\":{\"type\":\"enabled\","
                  "\"budget_tokens\":2048}");
    /* a call that forces a tool leaves thinking out (still checked) */
    char *out = NULL;
    strands_error err;
    CHECK_INT(anthropic_params_text("{\"thinking\":{\"type\":\"enabled\","
                                    "\"budget_tokens\":2048},\"top_k\":1}",
                                    4096, 1, &out, &err), STRANDS_OK);
    CHECK_STR(out, "\"top_k\":1");
    free(out);
    out = NULL;
    CHECK_INT(anthropic_params_text("{\"thinking\":{\"type\":\"enabled\","
                                    "\"budget_tokens\":10}}", 4096, 1, &out,
                                    &err), STRANDS_E_INVALID);
    CHECK(out == NULL);
    expect_bad_params("[1]", 0, "not a JSON object");
    expect_bad_params("{", 0, "not a JSON object");
    expect_bad_params("{\"model\":\"x\"}", 0, "'model' is set by the runtime");
    expect_bad_params("{\"max_tokens\":5}", 0, "'max_tokens'");
    expect_bad_params("{\"stream\":false}", 0, "'stream'");
    expect_bad_params("{\"temperature\":\"hot\"}", 0, "temperature must be");
    expect_bad_params("{\"top_k\":-1}", 0, "top_k");
    expect_bad_params("{\"stop_sequences\":[1]}", 0, "stop_sequences");
    expect_bad_params("{\"thinking\":true}", 0, "thinking must be");
    expect_bad_params("{\"thinking\":{\"type\":\"enabled\",\"budget_tokens\":"
                      "100}}", 0, ">= 1024");
    expect_bad_params("{\"thinking\":{\"type\":\"enabled\",\"budget_tokens\":"
                      "4096}}", 4096, "below MAX_TOKENS (4096)");
    expect_bad_params("{\"top_p\":1,\"additionalModelRequestFields\":"
                      "{\"top_p\":0.5}}", 0, "both");
    expect_bad_params("{\"additionalModelRequestFields\":3}", 0,
                      "must be an object");
}

/* ---- answers ------------------------------------------------------------ */

static void test_stop_reasons_and_usage(void)
{
    CHECK_INT(anthropic_stop_reason("end_turn"), STRANDS_STOP_END_TURN);
    CHECK_INT(anthropic_stop_reason("tool_use"), STRANDS_STOP_TOOL_USE);
    CHECK_INT(anthropic_stop_reason("max_tokens"), STRANDS_STOP_MAX_TOKENS);
    CHECK_INT(anthropic_stop_reason("model_context_window_exceeded"),
              STRANDS_STOP_MAX_TOKENS);
    CHECK_INT(anthropic_stop_reason("stop_sequence"),
              STRANDS_STOP_STOP_SEQUENCE);
    CHECK_INT(anthropic_stop_reason("refusal"),
              STRANDS_STOP_CONTENT_FILTERED);
    CHECK_INT(anthropic_stop_reason("pause_turn"), STRANDS_STOP_END_TURN);
    CHECK_INT(anthropic_stop_reason("new_thing"), STRANDS_STOP_END_TURN);
    CHECK_INT(anthropic_stop_reason(NULL), STRANDS_STOP_END_TURN);
    strands_usage u = {0};
    json_t *v = J("{\"input_tokens\":10,\"output_tokens\":1,"
                  "\"cache_read_input_tokens\":100,"
                  "\"cache_creation_input_tokens\":null}");
    anthropic_parse_usage(v, &u);
    json_decref(v);
    v = J("{\"output_tokens\":20,\"cache_creation_input_tokens\":7}");
    anthropic_parse_usage(v, &u);   /* message_delta: only what it has */
    json_decref(v);
    CHECK_INT(u.input_tokens, 10);
    CHECK_INT(u.output_tokens, 20);
    CHECK_INT(u.cache_read_input_tokens, 100);
    CHECK_INT(u.cache_write_input_tokens, 7);
    CHECK_INT(u.total_tokens, 137);
    v = J("{\"input_tokens\":-5,\"output_tokens\":99999999999}");
    anthropic_parse_usage(v, &u);
    json_decref(v);
    CHECK_INT(u.input_tokens, 0);
    CHECK_INT(u.output_tokens, INT32_MAX);
}

static void test_parse_message(void)
{
    const char *body =
        "{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\","
        "\"content\":[{\"type\":\"thinking\",\"thinking\":\"hm\","
        "\"signature\":\"S1g==\"},{\"type\":\"redacted_thinking\",\"data\":"
        "\"opaque-data\"},{\"type\":\"server_tool_use\",\"id\":\"s\"},"
        "{\"type\":\"text\",\"text\":\"\"},{\"type\":\"text\",\"text\":"
        "\"Done\"},{\"type\":\"tool_use\",\"id\":\"toolu_9\",\"name\":\"calc\","
        "\"input\":{\"x\":1}}],\"stop_reason\":\"tool_use\","
        "\"stop_sequence\":null,\"usage\":{\"input_tokens\":3,"
        "\"output_tokens\":4}}";
    strands_model_response r;
    strands_error err;
    CHECK_INT(anthropic_parse_message(body, strlen(body), &r, &err),
              STRANDS_OK);
    CHECK_JSON(r.message,
        "{\"role\":\"assistant\",\"content\":["
        "{\"reasoningContent\":{\"reasoningText\":{\"text\":\"hm\","
        "\"signature\":\"S1g==\"}}},"
        "{\"reasoningContent\":{\"redactedContent\":\"b3BhcXVlLWRhdGE=\"}},"
        "{\"text\":\"Done\"},"
        "{\"toolUse\":{\"toolUseId\":\"toolu_9\",\"name\":\"calc\","
        "\"input\":{\"x\":1}}}]}");
    CHECK_INT(r.stop, STRANDS_STOP_TOOL_USE);
    CHECK_STR(r.stop_reason, "tool_use");
    CHECK_INT(r.usage.total_tokens, 7);
    strands_model_response_cleanup(&r);
    const char *bad[] = {"nope", "[]", "{\"content\":{}}",
                         "{\"content\":[],\"stop_reason\":5}",
                         "{\"content\":[{\"type\":\"tool_use\"}],"
                         "\"stop_reason\":\"end_turn\"}",
                         "{\"content\":[{\"text\":\"no type\"}],"
                         "\"stop_reason\":\"end_turn\"}"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        CHECK_INT(anthropic_parse_message(bad[i], strlen(bad[i]), &r, &err),
                  STRANDS_E_PARSE);
        CHECK_STR(err.code, "InvalidResponse");
        CHECK(r.message == NULL);
    }
}

static void test_errors(void)
{
    strands_error err;
    const char *b529 = "{\"type\":\"error\",\"error\":{\"type\":"
                       "\"overloaded_error\",\"message\":\"Overloaded\"}}";
    CHECK_INT(anthropic_error_from_response(529, b529, strlen(b529), &err),
              STRANDS_E_UPSTREAM);
    CHECK_STR(err.code, "overloaded_error");
    CHECK_INT(err.http_status, 529);
    CHECK_STR(err.message, "Anthropic error 529 overloaded_error: Overloaded");
    const char *b400 = "{\"type\":\"error\",\"error\":{\"type\":"
                       "\"invalid_request_error\",\"message\":\"prompt is too "
                       "long: 210000 tokens > 200000 maximum\"}}";
    CHECK_INT(anthropic_error_from_response(400, b400, strlen(b400), &err),
              STRANDS_E_INVALID);
    CHECK_STR(err.code, STRANDS_ERROR_CONTEXT_OVERFLOW);
    const char *b400b = "{\"type\":\"error\",\"error\":{\"type\":"
                        "\"invalid_request_error\",\"message\":\"bad\"}}";
    CHECK_INT(anthropic_error_from_response(400, b400b, strlen(b400b), &err),
              STRANDS_E_UPSTREAM);
    CHECK_STR(err.code, "invalid_request_error");
    CHECK_INT(anthropic_error_from_response(401, "", 0, &err),
              STRANDS_E_UPSTREAM);
    CHECK_STR(err.code, "authentication_error");
    CHECK_INT(anthropic_error_from_response(418, "<html>", 6, &err),
              STRANDS_E_UPSTREAM);
    CHECK_STR(err.code, "HttpError418");
    /* a hostile type is cut down to a code */
    const char *odd = "{\"error\":{\"type\":\"a b\\n\\\"c\",\"message\":1}}";
    anthropic_error_from_response(500, odd, strlen(odd), &err);
    CHECK_STR(err.code, "abc");
    json_t *ev = J("{\"type\":\"error\",\"error\":{\"type\":\"api_error\","
                   "\"message\":\"Internal\"}}");
    CHECK_INT(anthropic_error_from_event(ev, &err), STRANDS_E_UPSTREAM);
    CHECK_STR(err.code, "api_error");
    CHECK_INT(err.http_status, 0);
    json_decref(ev);
}

/* ---- the constructor ---------------------------------------------------- */

static void test_model_new_checks(void)
{
    strands_error err;
    strands_anthropic_config c = {.model_id = "claude-x",
                                  .base_url = "http://127.0.0.1:9/base/",
                                  .api_key = "k"};
    strands_model *m = strands_anthropic_model_new(&c, &err);
    CHECK(m != NULL);
    if (m) CHECK_STR(m->vtab->name, "anthropic");
    strands_model_free(m);
    struct {
        strands_anthropic_config c;
        const char *fragment;
    } bad[] = {
        {{.model_id = ""}, "MODEL_ID"},
        {{.model_id = "us.anthropic.claude-sonnet-4-20250514-v1:0"},
         "Bedrock model id"},
        {{.model_id = "claude x"}, "MODEL_ID"},
        {{.model_id = "c", .base_url = "http://example.com"},
         "ANTHROPIC_BASE_URL"},
        {{.model_id = "c", .base_url = "https://h/?q=1"},
         "ANTHROPIC_BASE_URL"},
        {{.model_id = "c", .base_url = "ftp://h"}, "ANTHROPIC_BASE_URL"},
        {{.model_id = "c", .api_key = "a\r\nX-Evil: 1"}, "line breaks"},
        {{.model_id = "c", .params = "{\"messages\":[]}"}, "MODEL_PARAMS"},
        {{.model_id = "c", .max_attempts = 99}, "max_attempts"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        strands_error_clear(&err);
        m = strands_anthropic_model_new(&bad[i].c, &err);
        CHECK(m == NULL);
        strands_model_free(m);
        CHECK_INT(err.status, STRANDS_E_INVALID);
        if (!strstr(err.message, bad[i].fragment))
            FAIL_AT("case %zu: '%s' not in '%s'", i, bad[i].fragment,
                    err.message);
    }
}

int main(void)
{
    RUN(test_plain_text_and_system);
    RUN(test_tool_round_trip_with_thinking);
    RUN(test_redacted_and_unsigned_reasoning);
    RUN(test_images_and_documents);
    RUN(test_noop_tool);
    RUN(test_params);
    RUN(test_stop_reasons_and_usage);
    RUN(test_parse_message);
    RUN(test_errors);
    RUN(test_model_new_checks);
    return test_report();
}
