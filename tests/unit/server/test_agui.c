/* AG-UI without HTTP: the RunAgentInput parser (new input after the last
 * assistant message, tool messages as toolResults, tools as client tool
 * specs, context, 400 reasons naming the field, caps) and the encoder's
 * state machine (text opened and closed around tool calls, results,
 * pending client calls, RUN_FINISHED / RUN_ERROR, nothing after the end,
 * SSE framing).                                                        */
#include "test.h"

#include "server/agui.h"

static request_verdict parse(const char *body, agui_input *in, char *why)
{
    return agui_input_parse(body, strlen(body), in, why, 256);
}

static void test_minimal_user_message(void)
{
    agui_input in;
    char why[256];
    CHECK_INT(parse("{\"threadId\":\"t-1\",\"runId\":\"r-1\",\"messages\":"
                    "[{\"id\":\"1\",\"role\":\"user\",\"content\":\"hi\"}]}",
                    &in, why),
              REQUEST_OK);
    CHECK_STR(in.thread_id, "t-1");
    CHECK_STR(in.run_id, "r-1");
    CHECK(in.client_tools == NULL);
    char *s = json_dumps(in.prompt, JSON_COMPACT);
    CHECK_STR(s, "[{\"text\":\"hi\"}]");
    free(s);
    agui_input_cleanup(&in);
    agui_input_cleanup(&in); /* twice is harmless */
}

static void test_new_input_after_last_assistant(void)
{
    agui_input in;
    char why[256];
    const char *body =
        "{\"threadId\":\"t\",\"runId\":\"r\",\"state\":null,"
        "\"forwardedProps\":{\"x\":1},\"messages\":["
        "{\"id\":\"0\",\"role\":\"system\",\"content\":\"be nice\"},"
        "{\"id\":\"1\",\"role\":\"user\",\"content\":\"old\"},"
        "{\"id\":\"2\",\"role\":\"assistant\",\"toolCalls\":[{\"id\":\"c1\","
        "\"type\":\"function\",\"function\":{\"name\":\"confirm\","
        "\"arguments\":\"{}\"}}]},"
        "{\"id\":\"3\",\"role\":\"tool\",\"toolCallId\":\"c1\","
        "\"content\":\"yes\"},"
        "{\"id\":\"4\",\"role\":\"user\",\"content\":[{\"type\":\"text\","
        "\"text\":\"and\"},{\"type\":\"image\",\"source\":{\"type\":"
        "\"data\",\"value\":\"iVBORw==\",\"mimeType\":\"image/png\"}}]},"
        "{\"id\":\"5\",\"role\":\"tool\",\"toolCallId\":\"c2\","
        "\"content\":\"\",\"error\":\"denied\"}],"
        "\"context\":[{\"description\":\"page\",\"value\":\"home\"}],"
        "\"tools\":[{\"name\":\"confirm\",\"description\":\"\"}]}";
    CHECK_INT(parse(body, &in, why), REQUEST_OK);
    char *s = json_dumps(in.prompt, JSON_COMPACT);
    CHECK_STR(s, "[{\"toolResult\":{\"toolUseId\":\"c1\",\"status\":"
                 "\"success\",\"content\":[{\"text\":\"yes\"}]}},"
                 "{\"toolResult\":{\"toolUseId\":\"c2\",\"status\":\"error\","
                 "\"content\":[{\"text\":\"denied\"}]}},"
                 "{\"text\":\"and\"},{\"image\":{\"format\":\"png\","
                 "\"source\":{\"bytes\":\"iVBORw==\"}}},"
                 "{\"text\":\"[context] page: home\"}]");
    free(s);
    s = json_dumps(in.client_tools, JSON_COMPACT | JSON_SORT_KEYS);
    /* No description: the name stands in; no parameters: an object. */
    CHECK_STR(s, "[{\"description\":\"confirm\",\"inputSchema\":{\"json\":"
                 "{\"properties\":{},\"type\":\"object\"}},\"name\":"
                 "\"confirm\"}]");
    free(s);
    agui_input_cleanup(&in);
}

#define ASSISTANT_CALLS_CALCULATOR                                         \
    "{\"id\":\"2\",\"role\":\"assistant\",\"toolCalls\":["                    \
    "{\"id\":\"b1\",\"type\":\"function\",\"function\":{\"name\":"          \
    "\"calculator\",\"arguments\":\"{}\"}}"
#define CALCULATOR_RESULT                                                  \
    "{\"id\":\"3\",\"role\":\"tool\",\"toolCallId\":\"b1\",\"content\":\"4\"}"

static void test_backend_tool_answers_are_skipped(void)
{
    /* The client's copy holds the result of a back-end tool call (its
     * TOOL_CALL_RESULT) after the last assistant message: not new. */
    const char *both =
        "{\"threadId\":\"t\",\"runId\":\"r\",\"messages\":["
        "{\"id\":\"1\",\"role\":\"user\",\"content\":\"hi\"},"
        ASSISTANT_CALLS_CALCULATOR ","
        "{\"id\":\"f1\",\"type\":\"function\",\"function\":{\"name\":"
        "\"confirm\",\"arguments\":\"{}\"}}]}," CALCULATOR_RESULT ","
        "{\"id\":\"4\",\"role\":\"tool\",\"toolCallId\":\"f1\","
        "\"content\":\"ok\"}],"
        "\"tools\":[{\"name\":\"confirm\",\"description\":\"c\"}]}";
    agui_input in;
    char why[256];
    CHECK_INT(parse(both, &in, why), REQUEST_OK);
    char *s = json_dumps(in.prompt, JSON_COMPACT);
    CHECK_STR(s, "[{\"toolResult\":{\"toolUseId\":\"f1\",\"status\":"
                 "\"success\",\"content\":[{\"text\":\"ok\"}]}}]");
    free(s);
    agui_input_cleanup(&in);
    /* Only a back-end result after the last assistant message: nothing
     * to run, unless the user says something. */
    const char *only = "{\"threadId\":\"t\",\"runId\":\"r\",\"messages\":["
                       ASSISTANT_CALLS_CALCULATOR "]}," CALCULATOR_RESULT
                       "]}";
    CHECK_INT(parse(only, &in, why), REQUEST_INVALID);
    CHECK(strstr(why, "nothing to run") != NULL);
    const char *more = "{\"threadId\":\"t\",\"runId\":\"r\",\"messages\":["
                       ASSISTANT_CALLS_CALCULATOR "]}," CALCULATOR_RESULT
                       ",{\"id\":\"5\",\"role\":\"user\",\"content\":"
                       "\"go on\"}]}";
    CHECK_INT(parse(more, &in, why), REQUEST_OK);
    s = json_dumps(in.prompt, JSON_COMPACT);
    CHECK_STR(s, "[{\"text\":\"go on\"}]");
    free(s);
    agui_input_cleanup(&in);
}

static void expect_bad(const char *body, request_verdict want,
                       const char *field)
{
    agui_input in;
    char why[256];
    memset(why, 0xAA, sizeof why);
    request_verdict v = parse(body, &in, why);
    CHECK_INT(v, want);
    CHECK(memchr(why, '\0', sizeof why) != NULL);
    if (!strstr(why, field))
        FAIL_AT("reason for %s: \"%s\" does not name \"%s\"", body, why,
                field);
    CHECK(in.prompt == NULL && in.client_tools == NULL);
}

static void test_bad_input_names_the_field(void)
{
    expect_bad("{", REQUEST_BAD_JSON, "invalid JSON");
    expect_bad("[]", REQUEST_INVALID, "RunAgentInput");
    expect_bad("{\"runId\":\"r\",\"messages\":[]}", REQUEST_INVALID,
               "threadId");
    expect_bad("{\"threadId\":\"a\\u0001b\",\"runId\":\"r\",\"messages\":[]}",
               REQUEST_INVALID, "threadId");
    expect_bad("{\"threadId\":\"t\",\"runId\":\"\",\"messages\":[]}",
               REQUEST_INVALID, "runId");
    expect_bad("{\"threadId\":\"t\",\"runId\":\"r\",\"messages\":{}}",
               REQUEST_INVALID, "messages must be an array");
    expect_bad("{\"threadId\":\"t\",\"runId\":\"r\",\"messages\":[]}",
               REQUEST_INVALID, "nothing to run");
    expect_bad("{\"threadId\":\"t\",\"runId\":\"r\",\"messages\":[{\"id\":"
               "\"1\",\"role\":\"user\",\"content\":\"  \"}]}",
               REQUEST_INVALID, "nothing to run");
    expect_bad("{\"threadId\":\"t\",\"runId\":\"r\",\"messages\":[{\"id\":"
               "\"1\",\"role\":\"user\",\"content\":5}]}",
               REQUEST_INVALID, "messages[0].content");
    expect_bad("{\"threadId\":\"t\",\"runId\":\"r\",\"messages\":[{\"id\":"
               "\"1\",\"role\":\"assistant\",\"toolCalls\":[{\"id\":\"x\"}]}"
               "]}",
               REQUEST_INVALID, "messages[0].toolCalls[0]");
    expect_bad("{\"threadId\":\"t\",\"runId\":\"r\",\"messages\":[{\"id\":"
               "\"1\",\"role\":\"tool\",\"toolCallId\":\"c\",\"content\":"
               "\"x\",\"error\":7}]}",
               REQUEST_INVALID, "messages[0].error");
    expect_bad("{\"threadId\":\"t\",\"runId\":\"r\",\"messages\":[{\"id\":"
               "\"1\",\"role\":\"user\",\"content\":[{\"type\":\"image\","
               "\"source\":{\"type\":\"data\",\"value\":\"!!\",\"mimeType\":"
               "\"image/png\"}}]}]}",
               REQUEST_INVALID, "messages[0].content[0].source.value");
    expect_bad("{\"threadId\":\"t\",\"runId\":\"r\",\"messages\":[{\"id\":"
               "\"1\",\"role\":\"user\",\"content\":[{\"type\":\"image\","
               "\"source\":{\"type\":\"url\",\"value\":\"http://x\"}}]}]}",
               REQUEST_INVALID, "messages[0].content[0].source");
    const char *user = "\"messages\":[{\"id\":\"1\",\"role\":\"user\","
                       "\"content\":\"hi\"}]";
    char body[512];
    snprintf(body, sizeof body,
             "{\"threadId\":\"t\",\"runId\":\"r\",%s,\"tools\":{}}", user);
    expect_bad(body, REQUEST_INVALID, "tools must be an array");
    snprintf(body, sizeof body,
             "{\"threadId\":\"t\",\"runId\":\"r\",%s,\"tools\":[{\"name\":"
             "\"a\",\"description\":\"x\"},{\"name\":\"a\",\"description\":"
             "\"y\"}]}",
             user);
    expect_bad(body, REQUEST_INVALID, "tools[1].name 'a' is declared twice");
    snprintf(body, sizeof body,
             "{\"threadId\":\"t\",\"runId\":\"r\",%s,\"tools\":[{\"name\":"
             "\"a\"}]}",
             user);
    expect_bad(body, REQUEST_INVALID, "tools[0].description");
    snprintf(body, sizeof body,
             "{\"threadId\":\"t\",\"runId\":\"r\",%s,\"context\":[1]}", user);
    expect_bad(body, REQUEST_INVALID, "context[0]");
    snprintf(body, sizeof body,
             "{\"threadId\":\"t\",\"runId\":\"r\",%s,\"parentRunId\":1}",
             user);
    expect_bad(body, REQUEST_INVALID, "parentRunId");
    snprintf(body, sizeof body,
             "{\"threadId\":\"t\",\"runId\":\"r\",%s,\"resume\":{}}", user);
    expect_bad(body, REQUEST_INVALID, "resume");
}

static void test_caps(void)
{
    /* AGUI_MAX_TOOLS + 1 tools. */
    json_t *tools = json_array();
    for (int i = 0; i <= AGUI_MAX_TOOLS; i++) {
        char name[16];
        snprintf(name, sizeof name, "t%d", i);
        json_array_append_new(tools, json_pack("{s:s, s:s}", "name", name,
                                               "description", "d"));
    }
    json_t *doc = json_pack("{s:s, s:s, s:[{s:s, s:s, s:s}], s:o}",
                            "threadId", "t", "runId", "r", "messages", "id",
                            "1", "role", "user", "content", "hi", "tools",
                            tools);
    char *body = json_dumps(doc, JSON_COMPACT);
    agui_input in;
    char why[256];
    CHECK_INT(parse(body, &in, why), REQUEST_INVALID);
    CHECK(strstr(why, "at most 128 tools") != NULL);
    free(body);
    json_decref(doc);
    /* A tiny reason buffer is cut, never overrun. */
    char small[4];
    CHECK_INT(agui_input_parse("{", 1, &in, small, sizeof small),
              REQUEST_BAD_JSON);
    CHECK_INT(strlen(small), 3);
}

/* ---- the encoder ----------------------------------------------------- */

static runner_event text_ev(const char *s)
{
    runner_event ev = {.type = STRANDS_EVENT_TEXT_DELTA};
    ev.text = (char *)s;
    ev.text_len = strlen(s);
    return ev;
}

static const char *type_at(const json_t *out, size_t i)
{
    return json_string_value(json_object_get(json_array_get(out, i), "type"));
}

static const char *field(const json_t *out, size_t i, const char *k)
{
    return json_string_value(json_object_get(json_array_get(out, i), k));
}

static void test_encoder_text_and_tools(void)
{
    agui_encoder e;
    agui_encoder_init(&e, "thread", "run");
    json_t *out = json_array();
    CHECK_INT(agui_encode_start(&e, NULL, out), 0);
    runner_event a = text_ev("Let me "), b = text_ev("compute."),
                 empty = text_ev("");
    CHECK_INT(agui_encode_event(&e, &a, out), 0);
    CHECK_INT(agui_encode_event(&e, &empty, out), 0);
    CHECK_INT(agui_encode_event(&e, &b, out), 0);
    json_t *use = json_pack("{s:s, s:s, s:{s:s}}", "toolUseId", "t1", "name",
                            "calculator", "input", "expression", "1+1");
    runner_event ts = {.type = STRANDS_EVENT_TOOL_START, .data = use};
    CHECK_INT(agui_encode_event(&e, &ts, out), 0);
    json_t *res = json_pack("{s:s, s:s, s:[{s:s}, {s:{s:i}}]}", "toolUseId",
                            "t1", "status", "success", "content", "text",
                            "2", "json", "n", 2);
    runner_event te = {.type = STRANDS_EVENT_TOOL_END, .data = res};
    CHECK_INT(agui_encode_event(&e, &te, out), 0);
    runner_event c = text_ev("It is 2.");
    CHECK_INT(agui_encode_event(&e, &c, out), 0);
    runner_event other = {.type = STRANDS_EVENT_MODEL_START};
    CHECK_INT(agui_encode_event(&e, &other, out), 0);
    const char *want[] = {"RUN_STARTED",          "TEXT_MESSAGE_START",
                          "TEXT_MESSAGE_CONTENT", "TEXT_MESSAGE_CONTENT",
                          "TEXT_MESSAGE_END",     "TOOL_CALL_START",
                          "TOOL_CALL_ARGS",       "TOOL_CALL_END",
                          "TOOL_CALL_RESULT",     "TEXT_MESSAGE_START",
                          "TEXT_MESSAGE_CONTENT"};
    CHECK_INT(json_array_size(out), 11);
    for (size_t i = 0; i < 11; i++) CHECK_STR(type_at(out, i), want[i]);
    CHECK_STR(field(out, 0, "threadId"), "thread");
    CHECK_STR(field(out, 0, "runId"), "run");
    CHECK_STR(field(out, 1, "role"), "assistant");
    const char *m1 = field(out, 1, "messageId");
    CHECK_STR(field(out, 2, "delta"), "Let me ");
    CHECK_STR(field(out, 4, "messageId"), m1);
    CHECK_STR(field(out, 5, "toolCallId"), "t1");
    CHECK_STR(field(out, 5, "toolCallName"), "calculator");
    CHECK_STR(field(out, 5, "parentMessageId"), m1);
    CHECK_STR(field(out, 6, "delta"), "{\"expression\":\"1+1\"}");
    CHECK_STR(field(out, 8, "content"), "2\n{\"n\":2}");
    CHECK_STR(field(out, 8, "role"), "tool");
    /* Text after a tool result is a new message. */
    CHECK(strcmp(field(out, 9, "messageId"), m1) != 0);

    /* The end: the open text closes, pending client calls, RUN_FINISHED. */
    json_t *calls = json_pack("[{s:s, s:s, s:{}}]", "toolUseId", "fe1",
                              "name", "confirm", "input");
    runner_outcome o = {.status = STRANDS_OK};
    o.result.text = "It is 2.";
    o.result.stop_reason = STRANDS_STOP_TOOL_USE;
    o.result.iterations = 2;
    o.result.usage.total_tokens = 30;
    o.result.usage.cache_read_input_tokens = 4;
    o.result.client_tool_calls = calls;
    json_t *end = json_array();
    CHECK_INT(agui_encode_finish(&e, &o, end), 0);
    const char *want_end[] = {"TEXT_MESSAGE_END", "TOOL_CALL_START",
                              "TOOL_CALL_ARGS", "TOOL_CALL_END",
                              "RUN_FINISHED"};
    CHECK_INT(json_array_size(end), 5);
    for (size_t i = 0; i < 5; i++) CHECK_STR(type_at(end, i), want_end[i]);
    CHECK_STR(field(end, 1, "toolCallId"), "fe1");
    CHECK_STR(field(end, 1, "parentMessageId"), field(out, 9, "messageId"));
    CHECK_STR(field(end, 2, "delta"), "{}");
    json_t *fin = json_array_get(end, 4);
    char *s = json_dumps(fin, JSON_COMPACT | JSON_SORT_KEYS);
    CHECK_STR(s, "{\"outcome\":{\"pendingToolCallIds\":[\"fe1\"],\"type\":"
                 "\"success\"},\"result\":{\"iterations\":2,\"stopReason\":"
                 "\"ToolUse\"},\"runId\":\"run\",\"threadId\":\"thread\","
                 "\"type\":\"RUN_FINISHED\",\"usage\":[{\"cachedInputTokens\":"
                 "4,\"inputTokens\":0,\"outputTokens\":0,\"totalTokens\":30}"
                 "]}");
    free(s);
    /* Nothing follows the end. */
    json_t *after = json_array();
    CHECK_INT(agui_encode_event(&e, &c, after), 0);
    CHECK_INT(agui_encode_finish(&e, &o, after), 0);
    CHECK_INT(agui_encode_error(&e, "x", "y", after), 0);
    CHECK_INT(json_array_size(after), 0);
    json_decref(after);
    json_decref(calls);
    json_decref(end);
    json_decref(use);
    json_decref(res);
    json_decref(out);
}

static void test_encoder_unstreamed_text_and_errors(void)
{
    /* A model that did not stream: its answer is one message at the end. */
    agui_encoder e;
    agui_encoder_init(&e, "t", "r");
    json_t *out = json_array();
    runner_outcome o = {.status = STRANDS_OK};
    o.result.text = "whole answer";
    CHECK_INT(agui_encode_finish(&e, &o, out), 0);
    CHECK_INT(json_array_size(out), 4);
    CHECK_STR(type_at(out, 0), "TEXT_MESSAGE_START");
    CHECK_STR(field(out, 1, "delta"), "whole answer");
    CHECK_STR(type_at(out, 2), "TEXT_MESSAGE_END");
    CHECK_STR(type_at(out, 3), "RUN_FINISHED");
    json_decref(out);

    /* A failure: an open text message closes, then RUN_ERROR. */
    agui_encoder_init(&e, "t", "r");
    out = json_array();
    runner_event a = text_ev("partial");
    CHECK_INT(agui_encode_event(&e, &a, out), 0);
    runner_outcome f = {.status = STRANDS_E_UPSTREAM};
    strands_error_set(&f.error, STRANDS_E_UPSTREAM, "ThrottlingException",
                      "slow down");
    CHECK_INT(agui_encode_finish(&e, &f, out), 0);
    CHECK_INT(json_array_size(out), 4);
    CHECK_STR(type_at(out, 2), "TEXT_MESSAGE_END");
    CHECK_STR(type_at(out, 3), "RUN_ERROR");
    CHECK_STR(field(out, 3, "message"), "slow down");
    CHECK_STR(field(out, 3, "code"), "ThrottlingException");

    /* SSE framing: one data line per event. */
    size_t len;
    char *frames = agui_sse_frames(out, &len);
    CHECK(frames != NULL);
    CHECK_INT(len, strlen(frames));
    CHECK(!strncmp(frames, "data: {\"type\":\"TEXT_MESSAGE_START\"", 34));
    int n = 0;
    for (const char *p = frames; (p = strstr(p, "\n\ndata: ")); p++) n++;
    CHECK_INT(n, 3);
    CHECK(len > 2 && !strcmp(frames + len - 2, "\n\n"));
    free(frames);
    json_t *none = json_array();
    CHECK(agui_sse_frames(none, &len) == NULL && len == 0);
    json_decref(none);
    json_decref(out);
    CHECK(!strncmp(agui_oom_frame, "data: {\"type\":\"RUN_ERROR\"", 25));
}

/* RunAgentInput.state is echoed after RUN_STARTED (without "messages");
 * absent or null: no snapshot. */
static void test_state_snapshot(void)
{
    agui_input in;
    char why[256];
    const char *body =
        "{\"threadId\":\"t1\",\"runId\":\"r1\",\"messages\":[{\"id\":\"u\","
        "\"role\":\"user\",\"content\":\"hi\"}],\"state\":{\"recipe\":"
        "{\"title\":\"soup\"},\"messages\":[1,2]}}";
    CHECK_INT(agui_input_parse(body, strlen(body), &in, why, sizeof why),
              REQUEST_OK);
    CHECK(json_is_object(in.state));
    agui_encoder e;
    agui_encoder_init(&e, in.thread_id, in.run_id);
    json_t *out = json_array();
    CHECK_INT(agui_encode_start(&e, in.state, out), 0);
    CHECK_INT(json_array_size(out), 2);
    CHECK_STR(type_at(out, 0), "RUN_STARTED");
    CHECK_STR(type_at(out, 1), "STATE_SNAPSHOT");
    json_t *snap = json_object_get(json_array_get(out, 1), "snapshot");
    CHECK_STR(json_string_value(json_object_get(
                  json_object_get(snap, "recipe"), "title")),
              "soup");
    CHECK(json_object_get(snap, "messages") == NULL);
    /* the input's own state is not changed */
    CHECK(json_object_get(in.state, "messages") != NULL);
    json_decref(out);
    agui_input_cleanup(&in);
    CHECK(in.state == NULL);

    /* a state that is not an object is echoed as it is */
    const char *num = "{\"threadId\":\"t1\",\"runId\":\"r1\",\"messages\":"
                      "[{\"id\":\"u\",\"role\":\"user\",\"content\":\"hi\"}],"
                      "\"state\":[\"a\"]}";
    CHECK_INT(agui_input_parse(num, strlen(num), &in, why, sizeof why),
              REQUEST_OK);
    out = json_array();
    CHECK_INT(agui_encode_start(&e, in.state, out), 0);
    CHECK_STR(json_string_value(json_array_get(json_object_get(
                  json_array_get(out, 1), "snapshot"), 0)),
              "a");
    json_decref(out);
    agui_input_cleanup(&in);

    /* {} or only "messages": nothing to tell, RUN_STARTED alone */
    json_t *st = json_pack("{s:[]}", "messages");
    out = json_array();
    CHECK_INT(agui_encode_start(&e, st, out), 0);
    CHECK_INT(json_array_size(out), 1);
    json_decref(out);
    json_decref(st);

    /* null or absent: RUN_STARTED alone */
    const char *none = "{\"threadId\":\"t1\",\"runId\":\"r1\",\"messages\":"
                       "[{\"id\":\"u\",\"role\":\"user\",\"content\":\"hi\"}],"
                       "\"state\":null}";
    CHECK_INT(agui_input_parse(none, strlen(none), &in, why, sizeof why),
              REQUEST_OK);
    CHECK(in.state == NULL);
    out = json_array();
    CHECK_INT(agui_encode_start(&e, in.state, out), 0);
    CHECK_INT(json_array_size(out), 1);
    json_decref(out);
    agui_input_cleanup(&in);
}

int main(void)
{
    RUN(test_minimal_user_message);
    RUN(test_new_input_after_last_assistant);
    RUN(test_backend_tool_answers_are_skipped);
    RUN(test_bad_input_names_the_field);
    RUN(test_caps);
    RUN(test_encoder_text_and_tools);
    RUN(test_state_snapshot);
    RUN(test_encoder_unstreamed_text_and_errors);
    return test_report();
}
