/* Tests for src/models/openai_map.c: the Chat Completions body built from a
 * Converse-shaped request (system, text, images, documents, tool calls,
 * tool results with text/json/images, tools, tool_choice, MODEL_PARAMS,
 * streaming flags), the finish_reason map and error documents.          */
#include <string.h>
#include <jansson.h>

#include "models/openai_map.h"
#include "json_check.h"
#include "test.h"

static void test_plain_text_and_system(void)
{
    json_t *msgs = J("[{\"role\":\"user\",\"content\":[{\"text\":\"hi\"}]}]");
    json_t *sys = J("[{\"text\":\"be brief\"},{\"cachePoint\":{\"type\":"
                    "\"default\"}},{\"text\":\"and kind\"}]");
    strands_model_request req = {.messages = msgs, .system = sys,
                                 .max_tokens = 100};
    openai_body_opts o = {"gpt-4o", NULL, 1};
    json_t *body = openai_build_request(&req, &o);
    CHECK_JSON(body,
               "{\"model\":\"gpt-4o\",\"max_tokens\":100,\"stream\":true,"
               "\"stream_options\":{\"include_usage\":true},\"messages\":["
               "{\"role\":\"system\",\"content\":\"be brief\"},"
               "{\"role\":\"system\",\"content\":\"and kind\"},"
               "{\"role\":\"user\",\"content\":\"hi\"}]}");
    json_decref(body);
    o.stream = 0;
    size_t len = 0;
    char *text = openai_build_body(&req, &o, &len);
    CHECK(text != NULL);
    CHECK_INT(len, strlen(text));
    CHECK(strstr(text, "\"stream\"") == NULL);
    free(text);
    json_decref(msgs);
    json_decref(sys);
}

static void test_tool_round_trip_history(void)
{
    json_t *msgs = J(
        "[{\"role\":\"user\",\"content\":[{\"text\":\"calc\"}]},"
        " {\"role\":\"assistant\",\"content\":[{\"text\":\"sure\"},"
        "  {\"reasoningContent\":{\"reasoningText\":{\"text\":\"hm\"}}},"
        "  {\"toolUse\":{\"toolUseId\":\"c1\",\"name\":\"calc\","
        "   \"input\":{\"x\":1}}},"
        "  {\"toolUse\":{\"toolUseId\":\"c2\",\"name\":\"img\",\"input\":{}}}]},"
        " {\"role\":\"user\",\"content\":["
        "  {\"toolResult\":{\"toolUseId\":\"c1\",\"status\":\"success\","
        "   \"content\":[{\"text\":\"a\"},{\"json\":{\"b\":2}}]}},"
        "  {\"toolResult\":{\"toolUseId\":\"c2\",\"status\":\"success\","
        "   \"content\":[{\"text\":\"pic\"},{\"image\":{\"format\":\"jpg\","
        "    \"source\":{\"bytes\":\"QUJD\"}}}]}},"
        "  {\"text\":\"go on\"}]}]");
    json_t *tools = J(
        "[{\"toolSpec\":{\"name\":\"calc\",\"description\":\"adds\","
        "  \"inputSchema\":{\"json\":{\"type\":\"object\",\"properties\":"
        "  {\"x\":{\"type\":\"number\"}}}}}},"
        " {\"toolSpec\":{\"name\":\"img\",\"inputSchema\":{\"json\":"
        "  {\"type\":\"object\"}}}}]");
    strands_model_request req = {.messages = msgs, .tools = tools,
                                 .max_tokens = 5, .tool_choice = "calc"};
    openai_body_opts o = {"m", NULL, 0};
    json_t *body = openai_build_request(&req, &o);
    CHECK_JSON(json_object_get(body, "messages"),
               "[{\"role\":\"user\",\"content\":\"calc\"},"
               " {\"role\":\"assistant\",\"content\":\"sure\",\"tool_calls\":["
               "  {\"id\":\"c1\",\"type\":\"function\",\"function\":"
               "   {\"name\":\"calc\",\"arguments\":\"{\\\"x\\\":1}\"}},"
               "  {\"id\":\"c2\",\"type\":\"function\",\"function\":"
               "   {\"name\":\"img\",\"arguments\":\"{}\"}}]},"
               " {\"role\":\"tool\",\"tool_call_id\":\"c1\","
               "  \"content\":\"a\\n{\\\"b\\\":2}\"},"
               " {\"role\":\"tool\",\"tool_call_id\":\"c2\",\"content\":\"pic\"},"
               " {\"role\":\"user\",\"content\":["
               "  {\"type\":\"image_url\",\"image_url\":{\"url\":"
               "   \"data:image/jpeg;base64,QUJD\"}},"
               "  {\"type\":\"text\",\"text\":\"go on\"}]}]");
    CHECK_JSON(json_object_get(body, "tools"),
               "[{\"type\":\"function\",\"function\":{\"name\":\"calc\","
               "  \"description\":\"adds\",\"parameters\":{\"type\":"
               "  \"object\",\"properties\":{\"x\":{\"type\":\"number\"}}}}},"
               " {\"type\":\"function\",\"function\":{\"name\":\"img\","
               "  \"parameters\":{\"type\":\"object\"}}}]");
    CHECK_JSON(json_object_get(body, "tool_choice"),
               "{\"type\":\"function\",\"function\":{\"name\":\"calc\"}}");
    json_decref(body);
    json_decref(msgs);
    json_decref(tools);
}

static void test_tool_only_assistant_and_images(void)
{
    json_t *msgs = J(
        "[{\"role\":\"user\",\"content\":[{\"text\":\"look\"},"
        "  {\"image\":{\"format\":\"png\",\"source\":{\"bytes\":\"iVBO\"}}},"
        "  {\"document\":{\"format\":\"pdf\",\"name\":\"r\","
        "   \"source\":{\"bytes\":\"JVBE\"}}}]},"
        " {\"role\":\"assistant\",\"content\":[{\"toolUse\":{\"toolUseId\":"
        "  \"t\",\"name\":\"n\",\"input\":{}}}]},"
        " {\"role\":\"user\",\"content\":[{\"toolResult\":{\"toolUseId\":"
        "  \"t\",\"content\":[]}}]}]");
    strands_model_request req = {.messages = msgs, .max_tokens = 5};
    openai_body_opts o = {"m", NULL, 0};
    json_t *body = openai_build_request(&req, &o);
    CHECK_JSON(json_object_get(body, "messages"),
               "[{\"role\":\"user\",\"content\":["
               "  {\"type\":\"text\",\"text\":\"look\"},"
               "  {\"type\":\"image_url\",\"image_url\":{\"url\":"
               "   \"data:image/png;base64,iVBO\"}},"
               "  {\"type\":\"file\",\"file\":{\"file_data\":"
               "   \"data:application/pdf;base64,JVBE\",\"filename\":\"r\"}}]},"
               " {\"role\":\"assistant\",\"content\":null,\"tool_calls\":["
               "  {\"id\":\"t\",\"type\":\"function\",\"function\":"
               "   {\"name\":\"n\",\"arguments\":\"{}\"}}]},"
               " {\"role\":\"tool\",\"tool_call_id\":\"t\",\"content\":\"\"}]");
    json_decref(body);
    json_decref(msgs);
}

static void test_params(void)
{
    json_t *msgs = J("[{\"role\":\"user\",\"content\":[{\"text\":\"x\"}]}]");
    json_t *p = J("{\"temperature\":0.5,\"top_p\":0.1,\"stop_sequences\":"
                  "[\"A\"],\"max_tokens\":9,\"logit_bias\":{\"1\":2}}");
    strands_error err;
    CHECK_INT(openai_params_check(p, &err), STRANDS_OK);
    strands_model_request req = {.messages = msgs, .max_tokens = 500};
    openai_body_opts o = {"m", p, 1};
    json_t *body = openai_build_request(&req, &o);
    CHECK_JSON(body,
               "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":"
               "\"x\"}],\"temperature\":0.5,\"top_p\":0.1,\"stop\":[\"A\"],"
               "\"max_tokens\":9,\"logit_bias\":{\"1\":2},\"stream\":true,"
               "\"stream_options\":{\"include_usage\":true}}");
    json_decref(body);
    json_decref(p);
    p = J("{\"max_completion_tokens\":7}");
    o.params = p;
    body = openai_build_request(&req, &o);
    CHECK(json_object_get(body, "max_tokens") == NULL);
    CHECK_INT(json_integer_value(json_object_get(body,
                                                 "max_completion_tokens")), 7);
    json_decref(body);
    json_decref(p);
    static const char *const bad[] = {
        "{\"messages\":[]}", "{\"model\":\"x\"}", "{\"stream\":false}",
        "{\"tools\":[]}", "{\"tool_choice\":\"auto\"}",
        "{\"stop_sequences\":\"A\"}", "{\"stop_sequences\":[1]}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        p = J(bad[i]);
        CHECK_INT(openai_params_check(p, &err), STRANDS_E_INVALID);
        CHECK(strstr(err.message, "MODEL_PARAMS") != NULL);
        json_decref(p);
    }
    json_decref(msgs);
}

static void test_finish_reasons(void)
{
    CHECK_INT(openai_finish_reason("stop"), STRANDS_STOP_END_TURN);
    CHECK_INT(openai_finish_reason("length"), STRANDS_STOP_MAX_TOKENS);
    CHECK_INT(openai_finish_reason("tool_calls"), STRANDS_STOP_TOOL_USE);
    CHECK_INT(openai_finish_reason("function_call"), STRANDS_STOP_TOOL_USE);
    CHECK_INT(openai_finish_reason("content_filter"),
              STRANDS_STOP_CONTENT_FILTERED);
    CHECK_INT(openai_finish_reason("new"), STRANDS_STOP_END_TURN);
    CHECK_INT(openai_finish_reason(NULL), STRANDS_STOP_END_TURN);
}

static void test_errors(void)
{
    strands_error err;
    const char *ov = "{\"error\":{\"message\":\"This model's maximum context "
                     "length is 8192 tokens\",\"type\":\"invalid_request_"
                     "error\",\"param\":\"messages\",\"code\":\"context_"
                     "length_exceeded\"}}";
    CHECK_INT(openai_error_from_body(400, ov, strlen(ov), &err),
              STRANDS_E_INVALID);
    CHECK_STR(err.code, STRANDS_ERROR_CONTEXT_OVERFLOW);
    CHECK_INT(err.http_status, 400);
    const char *auth = "{\"error\":{\"message\":\"Incorrect API key\","
                       "\"type\":\"invalid_request_error\",\"code\":"
                       "\"invalid_api_key\"}}";
    CHECK_INT(openai_error_from_body(401, auth, strlen(auth), &err),
              STRANDS_E_UPSTREAM);
    CHECK_STR(err.code, "invalid_api_key");
    CHECK(strstr(err.message, "Incorrect API key") != NULL);
    const char *typed = "{\"error\":{\"message\":\"m\",\"type\":\"server_"
                        "error\",\"code\":null}}";
    openai_error_from_body(500, typed, strlen(typed), &err);
    CHECK_STR(err.code, "server_error");
    const char *vllm = "{\"object\":\"error\",\"message\":\"This model's "
                       "maximum context length is 4096 tokens.\",\"type\":"
                       "\"BadRequestError\",\"code\":400}";
    CHECK_INT(openai_error_from_body(400, vllm, strlen(vllm), &err),
              STRANDS_E_INVALID);
    const char *ollama = "{\"error\":\"model 'x' not found\"}";
    openai_error_from_body(404, ollama, strlen(ollama), &err);
    CHECK_STR(err.code, "HTTP404");
    CHECK(strstr(err.message, "model 'x' not found") != NULL);
    const char *html = "<html>\x01 bad gateway</html>";
    CHECK_INT(openai_error_from_body(502, html, strlen(html), &err),
              STRANDS_E_UPSTREAM);
    CHECK_STR(err.code, "HTTP502");
    CHECK(strchr(err.message, '\x01') == NULL);
    CHECK(openai_overflow(NULL, "prompt is too long: 300000 tokens"));
    CHECK(!openai_overflow("rate_limit_exceeded", "slow down"));
    CHECK(!openai_overflow(NULL, NULL));
}

int main(void)
{
    RUN(test_plain_text_and_system);
    RUN(test_tool_round_trip_history);
    RUN(test_tool_only_assistant_and_images);
    RUN(test_params);
    RUN(test_finish_reasons);
    RUN(test_errors);
    return test_report();
}
