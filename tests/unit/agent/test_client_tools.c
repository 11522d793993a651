/* Front-end (client) tools in the agent loop, with the scripted fake
 * model: offered with the registry's tools; a call to one ends the
 * invocation (TOOL_USE, result.client_tool_calls) with the assistant
 * message stored; the next prompt's toolResult answers it without the
 * "interrupted" repair; server and client calls in one turn; answers to
 * nothing pending are refused; bad declarations are refused.          */
#include "fake_model.h"
#include "test.h"

#include "agent/conversation.h"
#include "strands/strands.h"

#define KEY(id) (&(strands_session_key){.session_id = (id)})

typedef struct env {
    fake_model model;
    strands_tool_registry *tools;
    strands_session_store *store;
    strands_agent *agent;
    json_t *client;
} env;

static void env_init(env *e, const char **script, size_t n)
{
    fake_init(&e->model, script, n);
    e->tools = strands_tool_registry_new();
    strands_tool_registry_add_builtin(e->tools, "calculator", NULL);
    e->store = strands_memory_store_new(16, 0);
    strands_agent_config cfg = {.model = &e->model.base,
                                .tools = e->tools,
                                .sessions = e->store,
                                .max_tokens = 100,
                                .max_iterations = 10};
    e->agent = strands_agent_new(&cfg, NULL);
    e->client = json_loads(
        "[{\"name\":\"confirm\",\"description\":\"Ask the user\","
        "\"inputSchema\":{\"json\":{\"type\":\"object\",\"properties\":"
        "{\"question\":{\"type\":\"string\"}}}}},"
        "{\"name\":\"pick_color\",\"description\":\"\","
        "\"inputSchema\":{\"json\":{\"type\":\"object\"}}}]",
        0, NULL);
}

static void env_cleanup(env *e)
{
    json_decref(e->client);
    strands_agent_free(e->agent);
    strands_session_store_free(e->store);
    strands_tool_registry_free(e->tools);
    fake_destroy(&e->model.base);
}

/* Invokes with prompt blocks given as JSON text and the env's client
 * tools. */
static strands_status run(env *e, const char *prompt_json,
                          strands_agent_result *out, strands_error *err)
{
    json_t *prompt = json_loads(prompt_json, 0, NULL);
    strands_invocation inv = {.session_id = "s1",
                              .invocation_id = "inv",
                              .prompt = prompt,
                              .client_tools = e->client};
    strands_status st = strands_agent_invoke(e->agent, &inv, out, err);
    json_decref(prompt);
    return st;
}

static json_t *stored(env *e)
{
    strands_session_record rec;
    if (e->store->vtab->load(e->store, KEY("s1"), &rec, NULL) != STRANDS_OK)
        return NULL;
    json_decref(rec.agent);
    return rec.messages;
}

/* Counts blocks whose text (or toolResult's first text) contains s in a
 * model request's messages. */
static int count_text(const json_t *messages, const char *s)
{
    char *dump = json_dumps(messages, JSON_COMPACT);
    int n = 0;
    for (const char *p = dump; p && (p = strstr(p, s)); p++) n++;
    free(dump);
    return n;
}

/* Runs one prompt that must succeed, and drops its result. */
#define RUN_OK(e, prompt_json)                                           \
    do {                                                                 \
        strands_agent_result r_;                                         \
        strands_error e_;                                                \
        CHECK_INT(run((e), (prompt_json), &r_, &e_), STRANDS_OK);        \
        strands_agent_result_cleanup(&r_);                               \
    } while (0)

/* Checks that the session log holds n messages. */
#define CHECK_STORED(e, n)                                               \
    do {                                                                 \
        json_t *m_ = stored(e);                                          \
        CHECK_INT(json_array_size(m_), n);                               \
        json_decref(m_);                                                 \
    } while (0)

/* A toolResult block for `id` with one text, as JSON text. */
#define RESULT(id, text)                                                 \
    "{\"toolResult\":{\"toolUseId\":\"" id "\",\"content\":[{\"text\":\""  \
    text "\"}]}}"

static const char *call_confirm = FAKE_TOOL_USE(
    "{\"text\":\"Let me ask.\"},"
    FAKE_CALL("c1", "confirm", "{\"question\":\"ok?\"}"));

static void test_client_call_ends_the_invocation(void)
{
    const char *script[] = {call_confirm};
    env e;
    env_init(&e, script, 1);
    strands_agent_result r;
    strands_error err;
    CHECK_INT(run(&e, "[{\"text\":\"delete it\"}]", &r, &err), STRANDS_OK);
    CHECK_INT(r.stop_reason, STRANDS_STOP_TOOL_USE);
    CHECK_INT(r.iterations, 1);
    CHECK_INT(json_array_size(r.client_tool_calls), 1);
    json_t *call = json_array_get(r.client_tool_calls, 0);
    CHECK_STR(json_string_value(json_object_get(call, "toolUseId")), "c1");
    CHECK_STR(json_string_value(json_object_get(call, "name")), "confirm");
    CHECK_STR(json_string_value(json_object_get(
                  json_object_get(call, "input"), "question")),
              "ok?");
    CHECK_STR(r.text, "Let me ask.");
    /* Offered with the registry's tool: calculator + 2 client tools. */
    CHECK_INT(json_integer_value(json_object_get(
                  json_array_get(e.model.seen_calls, 0), "tools")),
              3);
    /* The assistant message with the toolUse is stored, unanswered. */
    json_t *msgs = stored(&e);
    CHECK_INT(json_array_size(msgs), 2);
    CHECK_STR(json_string_value(
                  json_object_get(json_array_get(msgs, 1), "role")),
              "assistant");
    json_decref(msgs);
    strands_agent_result_cleanup(&r);
    CHECK(r.client_tool_calls == NULL);
    env_cleanup(&e);
}

static void test_answer_resumes_without_repair(void)
{
    const char *script[] = {
        call_confirm,
        FAKE_TEXT("Deleted.")};
    env e;
    env_init(&e, script, 2);
    strands_agent_result r;
    strands_error err;
    RUN_OK(&e, "[{\"text\":\"delete it\"}]");
    CHECK_INT(run(&e,
                  "[{\"toolResult\":{\"toolUseId\":\"c1\",\"status\":"
                  "\"success\",\"content\":[{\"text\":\"yes\"}]}}]",
                  &r, &err),
              STRANDS_OK);
    CHECK_STR(r.text, "Deleted.");
    CHECK_INT(r.stop_reason, STRANDS_STOP_END_TURN);
    CHECK(r.client_tool_calls == NULL);
    /* The model saw the client's answer, and no made-up one. */
    json_t *second = json_array_get(e.model.seen, 1);
    CHECK_INT(json_array_size(second), 3);
    CHECK(conversation_validate(second, NULL) == STRANDS_OK);
    CHECK_INT(count_text(second, "interrupted"), 0);
    json_t *tr = json_object_get(
        json_array_get(json_object_get(json_array_get(second, 2), "content"),
                       0),
        "toolResult");
    CHECK_STR(json_string_value(json_object_get(tr, "toolUseId")), "c1");
    CHECK_STR(json_string_value(json_object_get(
                  json_array_get(json_object_get(tr, "content"), 0), "text")),
              "yes");
    json_t *msgs = stored(&e);
    CHECK_INT(json_array_size(msgs), 4);
    CHECK(conversation_validate(msgs, NULL) == STRANDS_OK);
    CHECK_INT(count_text(msgs, "interrupted"), 0);
    json_decref(msgs);
    strands_agent_result_cleanup(&r);
    env_cleanup(&e);
}

static void test_server_and_client_calls_in_one_turn(void)
{
    const char *script[] = {
        FAKE_TOOL_USE(
            FAKE_CALL("s1", "calculator", "{\"expression\":\"6*7\"}") ","
            FAKE_CALL("c2", "pick_color", "{}")),
        FAKE_TEXT("42 in red.")};
    env e;
    env_init(&e, script, 2);
    strands_agent_result r;
    strands_error err;
    CHECK_INT(run(&e, "[{\"text\":\"go\"}]", &r, &err), STRANDS_OK);
    /* The server tool ran; the client call is pending. */
    CHECK_INT(r.stop_reason, STRANDS_STOP_TOOL_USE);
    CHECK_INT(json_array_size(r.client_tool_calls), 1);
    CHECK_STR(json_string_value(json_object_get(
                  json_array_get(r.client_tool_calls, 0), "name")),
              "pick_color");
    CHECK_STORED(&e, 3); /* user, assistant, result s1 */
    strands_agent_result_cleanup(&r);
    CHECK_INT(run(&e, "[" RESULT("c2", "red") ",{\"text\":\"thanks\"}]",
                  &r, &err),
              STRANDS_OK);
    CHECK_STR(r.text, "42 in red.");
    json_t *second = json_array_get(e.model.seen, 1);
    CHECK(conversation_validate(second, NULL) == STRANDS_OK);
    CHECK_INT(json_array_size(second), 3);
    json_t *content = json_object_get(json_array_get(second, 2), "content");
    /* result s1 (the server's "42"), result c2, the text: once each. */
    CHECK_INT(json_array_size(content), 3);
    CHECK_INT(count_text(second, "interrupted"), 0);
    CHECK_INT(count_text(second, "\"c2\""), 2); /* the use and its answer */
    json_t *msgs = stored(&e);
    CHECK_INT(json_array_size(msgs), 5);
    strands_agent_result_cleanup(&r);
    /* Restored later, the log still reads as a valid history. */
    json_t *working = NULL, *repair = NULL;
    CHECK_INT(conversation_restore(msgs, 0, &working, &repair), STRANDS_OK);
    CHECK(repair == NULL);
    CHECK(conversation_validate(working, NULL) == STRANDS_OK);
    CHECK_INT(json_array_size(working), 4);
    json_decref(working);
    json_decref(msgs);
    env_cleanup(&e);
}

static void test_unexpected_answer_is_refused(void)
{
    const char *script[] = {
        call_confirm,
        FAKE_TEXT("never")};
    env e;
    env_init(&e, script, 2);
    strands_agent_result r;
    strands_error err;
    /* Nothing pending yet. */
    CHECK_INT(run(&e, "[" RESULT("zz", "x") "]", &r, &err), STRANDS_E_INVALID);
    CHECK_STR(err.code, "ToolResultUnexpected");
    CHECK(strstr(err.message, "'zz'") != NULL);
    CHECK_INT(json_array_size(e.model.seen), 0);
    RUN_OK(&e, "[{\"text\":\"delete it\"}]");
    /* A wrong id, then the right id twice: refused, nothing stored. */
    CHECK_INT(run(&e, "[" RESULT("c9", "x") "]", &r, &err), STRANDS_E_INVALID);
    CHECK_INT(run(&e, "[" RESULT("c1", "x") "," RESULT("c1", "y") "]",
                  &r, &err),
              STRANDS_E_INVALID);
    CHECK_STORED(&e, 2);
    CHECK_INT(json_array_size(e.model.seen), 1);
    env_cleanup(&e);
}

static void test_ignored_call_is_repaired(void)
{
    const char *script[] = {
        call_confirm,
        FAKE_TEXT("ok, not then")};
    env e;
    env_init(&e, script, 2);
    strands_agent_result r;
    strands_error err;
    RUN_OK(&e, "[{\"text\":\"delete it\"}]");
    /* The user typed something else instead: the call is interrupted. */
    CHECK_INT(run(&e, "[{\"text\":\"never mind\"}]", &r, &err), STRANDS_OK);
    json_t *second = json_array_get(e.model.seen, 1);
    CHECK(conversation_validate(second, NULL) == STRANDS_OK);
    CHECK_INT(count_text(second, "Tool was interrupted."), 1);
    strands_agent_result_cleanup(&r);
    env_cleanup(&e);
}

static void test_one_of_two_answered(void)
{
    const char *script[] = {
        FAKE_TOOL_USE(FAKE_CALL("c1", "confirm", "{}") ","
                      FAKE_CALL("c2", "pick_color", "{}")),
        FAKE_TEXT("fine")};
    env e;
    env_init(&e, script, 2);
    strands_agent_result r;
    strands_error err;
    CHECK_INT(run(&e, "[{\"text\":\"go\"}]", &r, &err), STRANDS_OK);
    CHECK_INT(json_array_size(r.client_tool_calls), 2);
    strands_agent_result_cleanup(&r);
    CHECK_INT(run(&e, "[" RESULT("c2", "blue") "]", &r, &err), STRANDS_OK);
    json_t *second = json_array_get(e.model.seen, 1);
    CHECK(conversation_validate(second, NULL) == STRANDS_OK);
    CHECK_INT(count_text(second, "Tool was interrupted."), 1);
    CHECK_INT(count_text(second, "blue"), 1);
    json_t *msgs = stored(&e);
    json_t *working = NULL, *repair = NULL;
    CHECK_INT(conversation_restore(msgs, 0, &working, &repair), STRANDS_OK);
    CHECK(conversation_validate(working, NULL) == STRANDS_OK);
    CHECK(repair == NULL);
    json_decref(working);
    json_decref(msgs);
    strands_agent_result_cleanup(&r);
    env_cleanup(&e);
}

static void test_bad_declarations(void)
{
    const char *script[] = {call_confirm};
    env e;
    env_init(&e, script, 1);
    strands_agent_result r;
    strands_error err;
    const char *bad[] = {
        "[{\"name\":\"a b\",\"description\":\"x\",\"inputSchema\":"
        "{\"json\":{}}}]",
        "[{\"name\":\"ok\",\"inputSchema\":{\"json\":{}}}]",
        "[{\"name\":\"ok\",\"description\":\"x\",\"inputSchema\":{}}]",
        "[{\"name\":\"ok\",\"description\":\"x\",\"inputSchema\":"
        "{\"json\":{}}},{\"name\":\"ok\",\"description\":\"y\","
        "\"inputSchema\":{\"json\":{}}}]",
        "{}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_decref(e.client);
        e.client = json_loads(bad[i], 0, NULL);
        CHECK_INT(run(&e, "[{\"text\":\"go\"}]", &r, &err),
                  STRANDS_E_INVALID);
    }
    /* The name of a server tool: refused when offered. */
    json_decref(e.client);
    e.client = json_loads("[{\"name\":\"calculator\",\"description\":\"x\","
                          "\"inputSchema\":{\"json\":{}}}]",
                          0, NULL);
    CHECK_INT(run(&e, "[{\"text\":\"go\"}]", &r, &err), STRANDS_E_INVALID);
    CHECK(strstr(err.message, "calculator") != NULL);
    CHECK_INT(json_array_size(e.model.seen), 0);
    env_cleanup(&e);
}

/* Model errors with client tools offered: the offer is freed on every
 * path (a plain error, and overflow retries until the manager gives up;
 * AddressSanitizer checks). */
static void test_model_errors_with_client_tools(void)
{
    const char *overflow =
        "{\"error\":\"ContextWindowOverflow\",\"message\":\"too long\"}";
    const char *script[] = {
        "{\"error\":\"ValidationException\",\"message\":\"bad\"}",
        overflow, overflow, overflow, overflow, overflow, overflow};
    env e;
    env_init(&e, script, 7);
    strands_agent_result r;
    strands_error err;
    CHECK_INT(run(&e, "[{\"text\":\"go\"}]", &r, &err), STRANDS_E_INVALID);
    CHECK_STR(err.code, "ValidationException");
    CHECK_INT(run(&e, "[{\"text\":\"go\"}]", &r, &err), STRANDS_E_INVALID);
    CHECK_STR(err.code, "ContextWindowOverflow");
    CHECK(r.client_tool_calls == NULL);
    env_cleanup(&e);
}

int main(void)
{
    RUN(test_client_call_ends_the_invocation);
    RUN(test_answer_resumes_without_repair);
    RUN(test_server_and_client_calls_in_one_turn);
    RUN(test_unexpected_answer_is_refused);
    RUN(test_ignored_call_is_repaired);
    RUN(test_one_of_two_answered);
    RUN(test_bad_declarations);
    RUN(test_model_errors_with_client_tools);
    return test_report();
}
