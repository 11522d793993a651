/* MODEL_PARAMS, PROMPT_CACHE and the guardrail settings as Bedrock
 * request members: where each lands in the Converse body, what is
 * refused at start and with which message.                              */
#include <string.h>

#include "models/bedrock_params.h"
#include "test.h"

static json_t *body(const strands_bedrock_config *cfg, int stream,
                    const json_t *messages, const json_t *system,
                    const json_t *tools)
{
    bedrock_params p;
    strands_error err;
    CHECK_INT(bedrock_params_init(cfg, &p, &err), STRANDS_OK);
    strands_model_request rq = {.messages = messages, .system = system,
                                .tools = tools, .max_tokens = 77};
    size_t len = 0;
    char *text = converse_build_body_ex(&rq, stream ? &p.stream : &p.converse,
                                        &len);
    json_t *j = text ? json_loadb(text, len, 0, NULL) : NULL;
    CHECK(j != NULL);
    free(text);
    bedrock_params_cleanup(&p);
    return j;
}

static json_t *history(void)
{
    return json_pack(
        "[{s:s, s:[{s:s}]}, {s:s, s:[{s:s}]}, {s:s, s:[{s:s}, {s:s}]},"
        " {s:s, s:[{s:s}]}]",
        "role", "user", "content", "text", "first", "role", "assistant",
        "content", "text", "answer", "role", "user", "content", "text",
        "second", "text", "more", "role", "assistant", "content", "text",
        "prefill");
}

static int is_cache_point(const json_t *v)
{
    const char *type = json_string_value(
        json_object_get(json_object_get(v, "cachePoint"), "type"));
    return json_object_size(v) == 1 && type && !strcmp(type, "default");
}

static void test_cache_points_auto(void)
{
    json_t *msgs = history();
    json_t *sys = json_pack("[{s:s}]", "text", "be brief");
    json_t *tools = json_pack("[{s:{s:s}}]", "toolSpec", "name", "t");
    strands_bedrock_config cfg = {.prompt_cache = 1};
    json_t *b = body(&cfg, 0, msgs, sys, tools);
    json_t *s = json_object_get(b, "system");
    CHECK_INT(json_array_size(s), 2);
    CHECK(is_cache_point(json_array_get(s, 1)));
    json_t *t = json_object_get(json_object_get(b, "toolConfig"), "tools");
    CHECK_INT(json_array_size(t), 2);
    CHECK(is_cache_point(json_array_get(t, 1)));
    /* After the LAST user message (index 2), not after the assistant's. */
    json_t *m = json_object_get(b, "messages");
    json_t *c2 = json_object_get(json_array_get(m, 2), "content");
    CHECK_INT(json_array_size(c2), 3);
    CHECK(is_cache_point(json_array_get(c2, 2)));
    CHECK_INT(json_array_size(json_object_get(json_array_get(m, 0),
                                              "content")), 1);
    CHECK_INT(json_array_size(json_object_get(json_array_get(m, 3),
                                              "content")), 1);
    /* The caller's history is untouched. */
    CHECK_INT(json_array_size(json_object_get(json_array_get(msgs, 2),
                                              "content")), 2);
    json_decref(b);
    /* Off: no cachePoint anywhere. */
    cfg.prompt_cache = 0;
    b = body(&cfg, 0, msgs, sys, tools);
    char *text = json_dumps(b, 0);
    CHECK(text && !strstr(text, "cachePoint"));
    free(text);
    json_decref(b);
    json_decref(msgs);
    json_decref(sys);
    json_decref(tools);
}

static void test_params_split(void)
{
    json_t *msgs = history();
    strands_bedrock_config cfg = {
        .params_json = "{\"temperature\":0.2,\"top_p\":0.9,"
                       "\"stop_sequences\":[\"END\"],\"max_tokens\":512,"
                       "\"additionalModelRequestFields\":{\"thinking\":"
                       "{\"type\":\"enabled\",\"budget_tokens\":2048}}}"};
    json_t *b = body(&cfg, 0, msgs, NULL, NULL);
    json_t *inf = json_object_get(b, "inferenceConfig");
    CHECK_INT(json_integer_value(json_object_get(inf, "maxTokens")), 512);
    CHECK(json_real_value(json_object_get(inf, "temperature")) == 0.2);
    CHECK(json_real_value(json_object_get(inf, "topP")) == 0.9);
    CHECK_STR(json_string_value(json_array_get(
                  json_object_get(inf, "stopSequences"), 0)),
              "END");
    CHECK_INT(json_integer_value(json_object_get(
                  json_object_get(json_object_get(
                                      b, "additionalModelRequestFields"),
                                  "thinking"),
                  "budget_tokens")),
              2048);
    json_decref(b);
    /* No params: maxTokens from the request only. */
    strands_bedrock_config none = {0};
    b = body(&none, 0, msgs, NULL, NULL);
    inf = json_object_get(b, "inferenceConfig");
    CHECK_INT(json_object_size(inf), 1);
    CHECK_INT(json_integer_value(json_object_get(inf, "maxTokens")), 77);
    json_decref(b);
    json_decref(msgs);
}

static void test_params_refused(void)
{
    static const struct {
        const char *json, *msg;
    } cases[] = {
        {"[1]", "MODEL_PARAMS: not a JSON object"},
        {"{\"temperature\":\"hot\"}", "MODEL_PARAMS.temperature: must be a "
                                      "number"},
        {"{\"stop_sequences\":[1]}", "MODEL_PARAMS.stop_sequences: must be "
                                     "an array of at most 64 strings"},
        {"{\"max_tokens\":0}", "MODEL_PARAMS.max_tokens: must be an integer "
                               "in 1..1000000"},
        {"{\"messages\":[]}", "MODEL_PARAMS.messages: is built by the "
                              "provider and cannot be set here"},
        {"{\"toolConfig\":{}}", "MODEL_PARAMS.toolConfig: is built by the "
                                "provider and cannot be set here"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        strands_bedrock_config cfg = {.params_json = cases[i].json};
        bedrock_params p;
        strands_error err;
        CHECK_INT(bedrock_params_init(&cfg, &p, &err), STRANDS_E_INVALID);
        CHECK_STR(err.message, cases[i].msg);
    }
    strands_bedrock_config g = {.guardrail_id = "gr-1"};
    bedrock_params p;
    strands_error err;
    CHECK_INT(bedrock_params_init(&g, &p, &err), STRANDS_E_INVALID);
    CHECK(strncmp(err.message, "GUARDRAIL_VERSION:", 18) == 0);
}

static void test_guardrail(void)
{
    json_t *msgs = history();
    strands_bedrock_config cfg = {.guardrail_id = "gr-1",
                                  .guardrail_version = "3",
                                  .guardrail_stream_mode = "async",
                                  .guardrail_redact_input = "[gone]"};
    json_t *b = body(&cfg, 0, msgs, NULL, NULL);
    json_t *g = json_object_get(b, "guardrailConfig");
    json_t *want = json_pack("{s:s, s:s, s:s}", "guardrailIdentifier", "gr-1",
                             "guardrailVersion", "3", "trace", "enabled");
    CHECK(json_equal(g, want));
    json_decref(b);
    b = body(&cfg, 1, msgs, NULL, NULL);
    json_object_set_new(want, "streamProcessingMode", json_string("async"));
    CHECK(json_equal(json_object_get(b, "guardrailConfig"), want));
    json_decref(b);
    json_decref(want);
    bedrock_params p;
    strands_error err;
    CHECK_INT(bedrock_params_init(&cfg, &p, &err), STRANDS_OK);
    CHECK_STR(p.redact_input, "[gone]");
    bedrock_params_cleanup(&p);
    json_decref(msgs);
}

static void test_cache_usage_parsed(void)
{
    json_t *u = json_pack("{s:i, s:i, s:i, s:i, s:i}", "inputTokens", 10,
                          "outputTokens", 5, "totalTokens", 15,
                          "cacheReadInputTokens", 1200,
                          "cacheWriteInputTokens", 300);
    strands_usage out;
    memset(&out, 0, sizeof out);
    converse_parse_usage(u, &out);
    CHECK_INT(out.cache_read_input_tokens, 1200);
    CHECK_INT(out.cache_write_input_tokens, 300);
    CHECK_INT(out.total_tokens, 15);
    json_decref(u);
}

/* A forced tool (structured output) goes without the thinking of
 * additionalModelRequestFields, which Claude refuses with a forced tool;
 * its other members stay, and an unforced call keeps everything. */
static json_t *forced_body(const char *params, const char *choice)
{
    strands_bedrock_config cfg = {.params_json = params};
    bedrock_params p;
    strands_error err;
    CHECK_INT(bedrock_params_init(&cfg, &p, &err), STRANDS_OK);
    json_t *msgs = history();
    json_t *tools = json_pack(
        "[{s:{s:s, s:{s:{s:s}}}}]", "toolSpec", "name", "structured_output",
        "inputSchema", "json", "type", "object");
    strands_model_request rq = {.messages = msgs, .tools = tools,
                                .max_tokens = 77, .tool_choice = choice};
    size_t len = 0;
    char *text = converse_build_body_ex(&rq, &p.stream, &len);
    json_t *j = text ? json_loadb(text, len, 0, NULL) : NULL;
    CHECK(j != NULL);
    free(text);
    json_decref(msgs);
    json_decref(tools);
    bedrock_params_cleanup(&p);
    return j;
}

static void test_forced_tool_drops_thinking(void)
{
    const char *both = "{\"additionalModelRequestFields\":{\"thinking\":"
                       "{\"type\":\"enabled\",\"budget_tokens\":2048},"
                       "\"top_k\":5},\"requestMetadata\":{\"a\":\"b\"}}";
    json_t *b = forced_body(both, "structured_output");
    json_t *amrf = json_object_get(b, "additionalModelRequestFields");
    CHECK(json_object_get(amrf, "thinking") == NULL);
    CHECK_INT(json_integer_value(json_object_get(amrf, "top_k")), 5);
    CHECK(json_object_get(b, "requestMetadata") != NULL);
    CHECK_STR(json_string_value(json_object_get(
                  json_object_get(json_object_get(
                                      json_object_get(b, "toolConfig"),
                                      "toolChoice"),
                                  "tool"),
                  "name")),
              "structured_output");
    json_decref(b);
    b = forced_body(both, NULL);
    amrf = json_object_get(b, "additionalModelRequestFields");
    CHECK(json_object_get(amrf, "thinking") != NULL);
    json_decref(b);
    /* Thinking alone: the whole member goes. */
    b = forced_body("{\"additionalModelRequestFields\":{\"thinking\":"
                    "{\"type\":\"enabled\",\"budget_tokens\":2048}}}",
                    "structured_output");
    CHECK(json_object_get(b, "additionalModelRequestFields") == NULL);
    json_decref(b);
}

int main(void)
{
    RUN(test_cache_points_auto);
    RUN(test_params_split);
    RUN(test_params_refused);
    RUN(test_guardrail);
    RUN(test_cache_usage_parsed);
    RUN(test_forced_tool_drops_thinking);
    return test_report();
}
