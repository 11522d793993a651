/* Agent loop tests with a scripted fake model and fake tools: the tool
 * round trip, concurrency and order of tool results, unknown tools, tool
 * failures, MaxIterations, MaxTokens, session continuity, errors.       */
#include <pthread.h>
#include <time.h>

#include "fake_model.h"
#include "test.h"

#include "agent/conversation.h"
#include "strands/strands.h"

/* A session key for id (a compound literal: valid in the enclosing
 * block). */
#define KEY(id) (&(strands_session_key){.session_id = (id)})

/* ---- scripted fake model: tests/helpers/fake_model.h ------------- */

/* ---- fake tools ----------------------------------------------------- */

static atomic_int sleeping_now, max_parallel;

/* Sleeps input.ms milliseconds and echoes input.tag. */
static strands_status sleepy_run(void *user, const json_t *input,
                                 const strands_tool_context *ctx,
                                 json_t **content_out, strands_error *err)
{
    (void)user; (void)ctx; (void)err;
    int now = atomic_fetch_add(&sleeping_now, 1) + 1;
    int prev = atomic_load(&max_parallel);
    while (now > prev && !atomic_compare_exchange_weak(&max_parallel, &prev,
                                                       now)) {}
    long ms = (long)json_integer_value(json_object_get(input, "ms"));
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
    atomic_fetch_sub(&sleeping_now, 1);
    *content_out = json_pack("[{s:O}]", "text",
                             json_object_get(input, "tag"));
    return STRANDS_OK;
}

static strands_status failing_run(void *user, const json_t *input,
                                  const strands_tool_context *ctx,
                                  json_t **content_out, strands_error *err)
{
    (void)user; (void)input; (void)ctx; (void)content_out;
    return strands_error_set(err, STRANDS_E_TOOL, NULL, "disk on fire");
}

static strands_tool_registry *make_tools(void)
{
    strands_tool_registry *reg = strands_tool_registry_new();
    strands_tool_def sleepy = {"sleepy", "sleeps", NULL, sleepy_run, NULL,
                               NULL};
    strands_tool_def failing = {"failing", "fails", NULL, failing_run, NULL,
                                NULL};
    strands_tool_registry_add(reg, &sleepy, NULL);
    strands_tool_registry_add(reg, &failing, NULL);
    strands_tool_registry_add_builtin(reg, "calculator", NULL);
    return reg;
}

/* ---- helpers -------------------------------------------------------- */

typedef struct env {
    fake_model model;
    strands_tool_registry *tools;
    strands_session_store *store;
    strands_agent *agent;
} env;

static void env_init(env *e, const char **script, size_t n, int max_iter)
{
    fake_init(&e->model, script, n);
    e->tools = make_tools();
    e->store = strands_memory_store_new(16, 0);
    strands_agent_config cfg = {.model = &e->model.base,
                                .tools = e->tools,
                                .sessions = e->store,
                                .system_prompt = "be brief",
                                .max_tokens = 100,
                                .max_iterations = max_iter};
    e->agent = strands_agent_new(&cfg, NULL);
}

static void env_cleanup(env *e)
{
    strands_agent_free(e->agent);
    strands_session_store_free(e->store);
    strands_tool_registry_free(e->tools);
    fake_destroy(&e->model.base);
}

static strands_status invoke(env *e, const char *session, const char *text,
                             strands_agent_result *out, strands_error *err)
{
    json_t *prompt = json_pack("[{s:s}]", "text", text);
    strands_invocation inv = {session, "inv-1", prompt, NULL, 0, NULL, 0, NULL,
                              NULL, NULL, NULL};
    strands_status st = strands_agent_invoke(e->agent, &inv, out, err);
    json_decref(prompt);
    return st;
}

static json_t *stored(env *e, const char *session)
{
    strands_session_record rec;
    if (e->store->vtab->load(e->store, KEY(session), &rec, NULL) !=
        STRANDS_OK)
        return NULL;
    json_t *msgs = rec.messages;
    json_decref(rec.agent);
    return msgs;
}

/* ---- tests ---------------------------------------------------------- */

static void test_plain_answer(void)
{
    const char *script[] = {
        "{\"stop\":\"end_turn\",\"content\":[{\"text\":\"Hello!\"}]}"};
    env e;
    env_init(&e, script, 1, 10);
    strands_agent_result r;
    strands_error err;
    CHECK_INT(invoke(&e, "s1", "hi", &r, &err), STRANDS_OK);
    CHECK_STR(r.text, "Hello!");
    CHECK_INT(r.stop_reason, STRANDS_STOP_END_TURN);
    CHECK_INT(r.iterations, 1);
    CHECK_INT(r.usage.total_tokens, 15);
    json_t *msgs = stored(&e, "s1");
    CHECK_INT(json_array_size(msgs), 2);
    CHECK(conversation_validate(msgs, NULL) == STRANDS_OK);
    json_decref(msgs);
    strands_agent_result_cleanup(&r);
    env_cleanup(&e);
}

static void test_calculator_round_trip(void)
{
    const char *script[] = {
        "{\"stop\":\"tool_use\",\"content\":[{\"text\":\"Let me compute.\"},"
        "{\"toolUse\":{\"toolUseId\":\"t1\",\"name\":\"calculator\","
        "\"input\":{\"expression\":\"2+3*4\"}}}]}",
        "{\"stop\":\"end_turn\",\"content\":[{\"text\":\"It is 14.\"}]}"};
    env e;
    env_init(&e, script, 2, 10);
    strands_agent_result r;
    strands_error err;
    CHECK_INT(invoke(&e, "s1", "what is 2+3*4?", &r, &err), STRANDS_OK);
    CHECK_STR(r.text, "It is 14.");
    CHECK_INT(r.iterations, 2);
    CHECK_INT(r.usage.total_tokens, 30);
    /* The second request carries the tool result right after the toolUse. */
    json_t *second = json_array_get(e.model.seen, 1);
    CHECK_INT(json_array_size(second), 3);
    json_t *tr = json_object_get(
        json_array_get(json_object_get(json_array_get(second, 2), "content"),
                       0),
        "toolResult");
    CHECK_STR(json_string_value(json_object_get(tr, "toolUseId")), "t1");
    CHECK_STR(json_string_value(json_object_get(tr, "status")), "success");
    CHECK_STR(json_string_value(json_object_get(
                  json_array_get(json_object_get(tr, "content"), 0), "text")),
              "14");
    json_t *msgs = stored(&e, "s1");
    CHECK_INT(json_array_size(msgs), 4);
    CHECK(conversation_validate(msgs, NULL) == STRANDS_OK);
    json_decref(msgs);
    strands_agent_result_cleanup(&r);
    env_cleanup(&e);
}

static void test_tools_run_concurrently_in_order(void)
{
    const char *script[] = {
        "{\"stop\":\"tool_use\",\"content\":["
        "{\"toolUse\":{\"toolUseId\":\"a\",\"name\":\"sleepy\","
        "\"input\":{\"ms\":300,\"tag\":\"A\"}}},"
        "{\"toolUse\":{\"toolUseId\":\"b\",\"name\":\"sleepy\","
        "\"input\":{\"ms\":10,\"tag\":\"B\"}}},"
        "{\"toolUse\":{\"toolUseId\":\"c\",\"name\":\"sleepy\","
        "\"input\":{\"ms\":150,\"tag\":\"C\"}}}]}",
        "{\"stop\":\"end_turn\",\"content\":[{\"text\":\"done\"}]}"};
    env e;
    env_init(&e, script, 2, 10);
    atomic_store(&max_parallel, 0);
    strands_agent_result r;
    strands_error err;
    int64_t t0 = strands_clock_mono_ms();
    CHECK_INT(invoke(&e, "s1", "go", &r, &err), STRANDS_OK);
    int64_t took = strands_clock_mono_ms() - t0;
    CHECK(atomic_load(&max_parallel) == 3);
    CHECK(took < 440); /* sequential would be >= 460 ms */
    json_t *msgs = stored(&e, "s1");
    json_t *results = json_object_get(json_array_get(msgs, 2), "content");
    CHECK_INT(json_array_size(results), 3);
    const char *ids[] = {"a", "b", "c"};
    for (size_t i = 0; i < 3; i++)
        CHECK_STR(json_string_value(json_object_get(
                      json_object_get(json_array_get(results, i),
                                      "toolResult"),
                      "toolUseId")),
                  ids[i]);
    json_decref(msgs);
    strands_agent_result_cleanup(&r);
    env_cleanup(&e);
}

static const char *result_text(json_t *msgs, size_t msg, size_t i,
                               const char **status)
{
    json_t *tr = json_object_get(
        json_array_get(json_object_get(json_array_get(msgs, msg), "content"),
                       i),
        "toolResult");
    *status = json_string_value(json_object_get(tr, "status"));
    return json_string_value(json_object_get(
        json_array_get(json_object_get(tr, "content"), 0), "text"));
}

static void test_unknown_and_failing_tools(void)
{
    const char *script[] = {
        "{\"stop\":\"tool_use\",\"content\":["
        "{\"toolUse\":{\"toolUseId\":\"u\",\"name\":\"nope\",\"input\":{}}},"
        "{\"toolUse\":{\"toolUseId\":\"f\",\"name\":\"failing\","
        "\"input\":{}}},"
        "{\"toolUse\":{\"toolUseId\":\"z\",\"name\":\"calculator\","
        "\"input\":{\"expression\":\"1/0\"}}}]}",
        "{\"stop\":\"end_turn\",\"content\":[{\"text\":\"sorry\"}]}"};
    env e;
    env_init(&e, script, 2, 10);
    strands_agent_result r;
    strands_error err;
    CHECK_INT(invoke(&e, "s1", "go", &r, &err), STRANDS_OK);
    json_t *msgs = stored(&e, "s1");
    const char *status;
    CHECK_STR(result_text(msgs, 2, 0, &status), "Unknown tool: nope");
    CHECK_STR(status, "error");
    CHECK_STR(result_text(msgs, 2, 1, &status), "Error: disk on fire");
    CHECK_STR(status, "error");
    const char *t = result_text(msgs, 2, 2, &status);
    CHECK(t && strstr(t, "division by zero"));
    CHECK_STR(status, "error");
    CHECK(conversation_validate(msgs, NULL) == STRANDS_OK);
    json_decref(msgs);
    strands_agent_result_cleanup(&r);
    env_cleanup(&e);
}

static void test_max_iterations(void)
{
    const char *loop =
        "{\"stop\":\"tool_use\",\"content\":[{\"text\":\"again\"},"
        "{\"toolUse\":{\"toolUseId\":\"x\",\"name\":\"calculator\","
        "\"input\":{\"expression\":\"1+1\"}}}]}";
    const char *script[] = {loop, loop, loop,
                            "{\"stop\":\"end_turn\",\"content\":"
                            "[{\"text\":\"next turn\"}]}"};
    env e;
    env_init(&e, script, 4, 3);
    strands_agent_result r;
    strands_error err;
    CHECK_INT(invoke(&e, "s1", "loop", &r, &err), STRANDS_OK);
    CHECK_INT(r.stop_reason, STRANDS_STOP_MAX_ITERATIONS);
    CHECK_INT(r.iterations, 3);
    CHECK_STR(strands_stop_reason_name(r.stop_reason), "MaxIterations");
    json_t *msgs = stored(&e, "s1");
    CHECK_INT(json_array_size(msgs), 7); /* user + 3 x (assistant, results) */
    /* No toolUse is left unanswered. */
    CHECK_INT(conversation_validate(msgs, NULL), STRANDS_OK);
    json_decref(msgs);
    strands_agent_result_cleanup(&r);
    /* The next turn joins the trailing tool-result message: roles still
     * alternate in what the model sees. */
    CHECK_INT(invoke(&e, "s1", "continue", &r, &err), STRANDS_OK);
    json_t *sent = json_array_get(e.model.seen, 3);
    CHECK_INT(json_array_size(sent), 7);
    CHECK(conversation_validate(sent, NULL) == STRANDS_OK);
    json_t *last = json_object_get(json_array_get(sent, 6), "content");
    CHECK_STR(json_string_value(json_object_get(
                  json_array_get(last, json_array_size(last) - 1), "text")),
              "continue");
    strands_agent_result_cleanup(&r);
    env_cleanup(&e);
}

static void test_max_tokens_drops_partial_tool_use(void)
{
    const char *script[] = {
        "{\"stop\":\"max_tokens\",\"content\":[{\"text\":\"Partial\"},"
        "{\"toolUse\":{\"toolUseId\":\"t\",\"name\":\"calculator\","
        "\"input\":{}}}]}",
        "{\"stop\":\"end_turn\",\"content\":[{\"text\":\"ok\"}]}"};
    env e;
    env_init(&e, script, 2, 10);
    strands_agent_result r;
    strands_error err;
    CHECK_INT(invoke(&e, "s1", "long", &r, &err), STRANDS_OK);
    CHECK_INT(r.stop_reason, STRANDS_STOP_MAX_TOKENS);
    CHECK_INT(r.iterations, 1);
    CHECK(r.text && !strncmp(r.text, "Partial", 7));
    json_t *msgs = stored(&e, "s1");
    CHECK_INT(json_array_size(msgs), 2);
    CHECK(conversation_validate(msgs, NULL) == STRANDS_OK);
    json_t *notice = json_array_get(
        json_object_get(json_array_get(msgs, 1), "content"), 1);
    CHECK(strstr(json_string_value(json_object_get(notice, "text")),
                 "maximum token limits") != NULL);
    json_decref(msgs);
    strands_agent_result_cleanup(&r);
    /* The next turn sends a valid history. */
    CHECK_INT(invoke(&e, "s1", "more", &r, &err), STRANDS_OK);
    CHECK(conversation_validate(json_array_get(e.model.seen, 1), NULL) ==
          STRANDS_OK);
    strands_agent_result_cleanup(&r);
    env_cleanup(&e);
}

/* The agent acts on the neutral stop reason, not on a provider's label: a
 * provider that says "length" for a cut-off answer gets the same repair. */
static void test_neutral_stop_reason(void)
{
    const char *script[] = {
        "{\"stop\":\"length\",\"content\":[{\"text\":\"Cut\"},"
        "{\"toolUse\":{\"toolUseId\":\"t\",\"name\":\"calculator\","
        "\"input\":{}}}]}"};
    env e;
    env_init(&e, script, 1, 10);
    strands_agent_result r;
    strands_error err;
    CHECK_INT(invoke(&e, "s1", "long", &r, &err), STRANDS_OK);
    CHECK_INT(r.stop_reason, STRANDS_STOP_MAX_TOKENS);
    CHECK_INT(r.iterations, 1);
    json_t *msgs = stored(&e, "s1");
    CHECK(conversation_validate(msgs, NULL) == STRANDS_OK);
    json_decref(msgs);
    strands_agent_result_cleanup(&r);
    env_cleanup(&e);
}

static void test_sessions_continuity_and_isolation(void)
{
    const char *script[] = {
        "{\"stop\":\"end_turn\",\"content\":[{\"text\":\"one\"}]}",
        "{\"stop\":\"end_turn\",\"content\":[{\"text\":\"two\"}]}",
        "{\"stop\":\"end_turn\",\"content\":[{\"text\":\"three\"}]}"};
    env e;
    env_init(&e, script, 3, 10);
    strands_agent_result r;
    strands_error err;
    CHECK_INT(invoke(&e, "a", "first", &r, &err), STRANDS_OK);
    strands_agent_result_cleanup(&r);
    CHECK_INT(invoke(&e, "b", "other", &r, &err), STRANDS_OK);
    strands_agent_result_cleanup(&r);
    CHECK_INT(invoke(&e, "a", "second", &r, &err), STRANDS_OK);
    strands_agent_result_cleanup(&r);
    CHECK_INT(json_array_size(json_array_get(e.model.seen, 1)), 1);
    CHECK_INT(json_array_size(json_array_get(e.model.seen, 2)), 3);
    env_cleanup(&e);
}

static void test_model_error_saves_nothing(void)
{
    env e;
    env_init(&e, NULL, 0, 10);
    e.model.fail_with = STRANDS_E_UPSTREAM;
    strands_agent_result r;
    strands_error err;
    CHECK_INT(invoke(&e, "s1", "hi", &r, &err), STRANDS_E_UPSTREAM);
    CHECK_STR(err.code, "ValidationException");
    json_t *msgs = stored(&e, "s1");
    CHECK_INT(json_array_size(msgs), 0);
    json_decref(msgs);
    /* The claim was released. */
    strands_session_claim c;
    CHECK_INT(e.store->vtab->claim(e.store, KEY("s1"), &c, NULL), STRANDS_OK);
    CHECK_INT(e.store->vtab->release(e.store, KEY("s1"), &c, NULL), STRANDS_OK);
    env_cleanup(&e);
}

static void test_busy_session(void)
{
    env e;
    env_init(&e, NULL, 0, 10);
    strands_session_claim c;
    CHECK_INT(e.store->vtab->claim(e.store, KEY("s1"), &c, NULL), STRANDS_OK);
    strands_agent_result r;
    strands_error err;
    CHECK_INT(invoke(&e, "s1", "hi", &r, &err), STRANDS_E_BUSY);
    CHECK_INT(json_array_size(e.model.seen), 0);
    CHECK_INT(e.store->vtab->release(e.store, KEY("s1"), &c, NULL), STRANDS_OK);
    env_cleanup(&e);
}

typedef struct ev_log {
    int types[64];
    int n;
} ev_log;

static void record(void *user, const strands_event *ev)
{
    ev_log *l = user;
    if (l->n < 64) l->types[l->n++] = ev->type;
}

static void test_events_in_order(void)
{
    const char *script[] = {
        "{\"stop\":\"tool_use\",\"content\":["
        "{\"toolUse\":{\"toolUseId\":\"t1\",\"name\":\"calculator\","
        "\"input\":{\"expression\":\"1\"}}}]}",
        "{\"stop\":\"end_turn\",\"content\":[{\"text\":\"1\"}]}"};
    env e;
    env_init(&e, script, 2, 10);
    ev_log log = {{0}, 0};
    strands_event_sink sink = {record, &log};
    json_t *prompt = json_pack("[{s:s}]", "text", "x");
    strands_invocation inv = {"s", "i", prompt, &sink, 1, NULL, 0, NULL,
                              NULL, NULL, NULL};
    strands_agent_result r;
    CHECK_INT(strands_agent_invoke(e.agent, &inv, &r, NULL), STRANDS_OK);
    int want[] = {STRANDS_EVENT_INVOCATION_START, STRANDS_EVENT_MESSAGE_ADDED,
                  STRANDS_EVENT_CYCLE_START, STRANDS_EVENT_MODEL_START,
                  STRANDS_EVENT_MODEL_END, STRANDS_EVENT_MESSAGE_ADDED,
                  STRANDS_EVENT_TOOL_START, STRANDS_EVENT_TOOL_END,
                  STRANDS_EVENT_MESSAGE_ADDED, STRANDS_EVENT_CYCLE_END,
                  STRANDS_EVENT_CYCLE_START, STRANDS_EVENT_MODEL_START,
                  STRANDS_EVENT_MODEL_END, STRANDS_EVENT_MESSAGE_ADDED,
                  STRANDS_EVENT_CYCLE_END, STRANDS_EVENT_INVOCATION_END};
    CHECK_INT(log.n, (int)(sizeof want / sizeof want[0]));
    for (int i = 0; i < log.n && i < 16; i++) CHECK_INT(log.types[i], want[i]);
    json_decref(prompt);
    strands_agent_result_cleanup(&r);
    env_cleanup(&e);
}

/* ---- tool input validation ------------------------------------------ */

static atomic_int strict_calls;

static strands_status strict_run(void *user, const json_t *input,
                                 const strands_tool_context *ctx,
                                 json_t **content_out, strands_error *err)
{
    (void)user; (void)input; (void)ctx; (void)err;
    atomic_fetch_add(&strict_calls, 1);
    *content_out = json_pack("[{s:s}]", "text", "ran");
    return STRANDS_OK;
}

typedef struct end_log {
    strands_status status;
    char message[STRANDS_ERROR_MESSAGE_MAX];
    int ends;
} end_log;

static void record_end(void *user, const strands_event *ev)
{
    end_log *l = user;
    if (ev->type != STRANDS_EVENT_TOOL_END) return;
    l->ends++;
    l->status = ev->error ? ev->error->status : STRANDS_OK;
    snprintf(l->message, sizeof l->message, "%s",
             ev->error ? ev->error->message : "");
}

/* An input that breaks the tool's schema becomes an error toolResult
 * naming the field and the rule; the run function is never called; a
 * valid input in the same turn still runs.                            */
static void test_invalid_tool_input_is_refused(void)
{
    const char *script[] = {
        "{\"stop\":\"tool_use\",\"content\":["
        "{\"toolUse\":{\"toolUseId\":\"bad\",\"name\":\"strict\","
        "\"input\":{\"items\":[{\"name\":\"a\"},{}]}}}]}",
        "{\"stop\":\"tool_use\",\"content\":["
        "{\"toolUse\":{\"toolUseId\":\"ok\",\"name\":\"strict\","
        "\"input\":{\"items\":[{\"name\":\"a\"}]}}}]}",
        "{\"stop\":\"end_turn\",\"content\":[{\"text\":\"fixed\"}]}"};
    env e;
    env_init(&e, script, 3, 10);
    strands_tool_def strict = {
        "strict", "needs items",
        "{\"type\":\"object\",\"required\":[\"items\"],\"properties\":"
        "{\"items\":{\"type\":\"array\",\"items\":{\"type\":\"object\","
        "\"required\":[\"name\"],\"properties\":{\"name\":"
        "{\"type\":\"string\"}}}}}}",
        strict_run, NULL, NULL};
    CHECK_INT(strands_tool_registry_add(e.tools, &strict, NULL), STRANDS_OK);
    atomic_store(&strict_calls, 0);
    end_log log = {STRANDS_OK, "", 0};
    strands_event_sink sink = {record_end, &log};
    json_t *prompt = json_pack("[{s:s}]", "text", "x");
    strands_invocation inv = {"s", "i", prompt, &sink, 1, NULL, 0, NULL,
                              NULL, NULL, NULL};
    strands_agent_result r;
    CHECK_INT(strands_agent_invoke(e.agent, &inv, &r, NULL), STRANDS_OK);
    CHECK_STR(r.text, "fixed");
    /* Only the second (valid) call ran. */
    CHECK_INT(atomic_load(&strict_calls), 1);
    json_t *second = json_array_get(e.model.seen, 1);
    const char *status = NULL;
    const char *text = result_text(second, 2, 0, &status);
    CHECK_STR(status, "error");
    CHECK_STR(text, "Error: invalid input for tool 'strict': "
                    "input.items[1].name is required");
    json_t *third = json_array_get(e.model.seen, 2);
    CHECK_STR(result_text(third, 4, 0, &status), "ran");
    CHECK_STR(status, "success");
    CHECK_INT(log.ends, 2);
    CHECK_INT(log.status, STRANDS_OK); /* the last TOOL_END: the valid call */
    json_decref(prompt);
    strands_agent_result_cleanup(&r);
    env_cleanup(&e);
}

static void test_invalid_tool_input_event_carries_error(void)
{
    const char *script[] = {
        "{\"stop\":\"tool_use\",\"content\":["
        "{\"toolUse\":{\"toolUseId\":\"t1\",\"name\":\"calculator\","
        "\"input\":{\"expr\":\"1+1\"}}}]}",
        "{\"stop\":\"end_turn\",\"content\":[{\"text\":\"ok\"}]}"};
    env e;
    env_init(&e, script, 2, 10);
    end_log log = {STRANDS_OK, "", 0};
    strands_event_sink sink = {record_end, &log};
    json_t *prompt = json_pack("[{s:s}]", "text", "x");
    strands_invocation inv = {"s", "i", prompt, &sink, 1, NULL, 0, NULL,
                              NULL, NULL, NULL};
    strands_agent_result r;
    CHECK_INT(strands_agent_invoke(e.agent, &inv, &r, NULL), STRANDS_OK);
    CHECK_INT(log.ends, 1);
    CHECK_INT(log.status, STRANDS_E_INVALID);
    CHECK_STR(log.message, "invalid input for tool 'calculator': "
                           "input.expression is required");
    const char *status = NULL;
    CHECK_STR(result_text(json_array_get(e.model.seen, 1), 2, 0, &status),
              "Error: invalid input for tool 'calculator': "
              "input.expression is required");
    CHECK_STR(status, "error");
    json_decref(prompt);
    strands_agent_result_cleanup(&r);
    env_cleanup(&e);
}

static void test_interrupted_tool_use_is_repaired(void)
{
    json_t *msgs = json_loads(
        "[{\"role\":\"user\",\"content\":[{\"text\":\"a\"}]},"
        "{\"role\":\"assistant\",\"content\":[{\"toolUse\":{\"toolUseId\":"
        "\"t9\",\"name\":\"calculator\",\"input\":{}}}]}]",
        0, NULL);
    json_t *prompt = json_pack("[{s:s}]", "text", "b");
    CHECK_INT(conversation_add_prompt(msgs, prompt), STRANDS_OK);
    CHECK_INT(json_array_size(msgs), 3);
    CHECK(conversation_validate(msgs, NULL) == STRANDS_OK);
    const char *status;
    CHECK_STR(result_text(msgs, 2, 0, &status), "Tool was interrupted.");
    CHECK_STR(status, "error");
    json_decref(prompt);
    json_decref(msgs);
}

static void test_validate_reports_violations(void)
{
    strands_error err;
    json_t *bad = json_loads(
        "[{\"role\":\"user\",\"content\":[{\"text\":\"a\"}]},"
        "{\"role\":\"user\",\"content\":[{\"text\":\"b\"}]}]", 0, NULL);
    CHECK_INT(conversation_validate(bad, &err), STRANDS_E_INVALID);
    CHECK(strstr(err.message, "expected 'assistant'") != NULL);
    json_decref(bad);
    bad = json_loads(
        "[{\"role\":\"user\",\"content\":[{\"text\":\"a\"}]},"
        "{\"role\":\"assistant\",\"content\":[{\"toolUse\":{\"toolUseId\":"
        "\"t\",\"name\":\"x\",\"input\":{}}}]}]", 0, NULL);
    CHECK_INT(conversation_validate(bad, &err), STRANDS_E_INVALID);
    json_decref(bad);
}

static void test_stop_reason_names(void)
{
    CHECK_STR(strands_stop_reason_name(STRANDS_STOP_GUARDRAIL_INTERVENED),
              "GuardrailIntervened");
    CHECK_STR(strands_stop_reason_name(STRANDS_STOP_MAX_ITERATIONS),
              "MaxIterations");
    CHECK_STR(strands_stop_reason_label(STRANDS_STOP_MAX_TOKENS),
              "max_tokens");
    CHECK_STR(strands_stop_reason_label((strands_stop_reason)99), "end_turn");
}

int main(void)
{
    RUN(test_plain_answer);
    RUN(test_calculator_round_trip);
    RUN(test_tools_run_concurrently_in_order);
    RUN(test_unknown_and_failing_tools);
    RUN(test_max_iterations);
    RUN(test_max_tokens_drops_partial_tool_use);
    RUN(test_neutral_stop_reason);
    RUN(test_sessions_continuity_and_isolation);
    RUN(test_model_error_saves_nothing);
    RUN(test_busy_session);
    RUN(test_events_in_order);
    RUN(test_interrupted_tool_use_is_repaired);
    RUN(test_validate_reports_violations);
    RUN(test_stop_reason_names);
    RUN(test_invalid_tool_input_is_refused);
    RUN(test_invalid_tool_input_event_carries_error);
    return test_report();
}
