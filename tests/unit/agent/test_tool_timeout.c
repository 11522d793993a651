/* Tool deadlines: a tool that honours its cancel flag returns at the
 * deadline and the model gets a "timed out" result; one that ignores it is
 * abandoned (the invocation does not wait for it, and its thread frees its
 * job when it finally returns); invocation cancel reaches each call's own
 * flag; TOOL_CONCURRENCY still caps calls running at once.              */
#include <pthread.h>
#include <time.h>

#include "fake_model.h"
#include "test.h"
#include "agent/internal.h"
#include "strands/strands.h"

/* The scripted fake model: tests/helpers/fake_model.h. */

/* ---- fake tools ----------------------------------------------------- */

static atomic_int saw_cancel, stubborn_done, running_now, max_running;
static const atomic_int *seen_flag;

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Waits until its cancel flag is set (at most 5 s). */
static strands_status waiter_run(void *user, const json_t *input,
                                 const strands_tool_context *ctx,
                                 json_t **content_out, strands_error *err)
{
    (void)user; (void)input; (void)content_out;
    seen_flag = ctx->cancelled;
    for (int i = 0; i < 1000; i++) {
        if (ctx->cancelled && atomic_load(ctx->cancelled)) {
            atomic_store(&saw_cancel, 1);
            return strands_error_set(err, STRANDS_E_CANCELLED, NULL,
                                     "cancelled");
        }
        sleep_ms(5);
    }
    *content_out = json_pack("[{s:s}]", "text", "never cancelled");
    return STRANDS_OK;
}

/* Ignores cancellation: sleeps input.ms, then returns a result. */
static strands_status stubborn_run(void *user, const json_t *input,
                                   const strands_tool_context *ctx,
                                   json_t **content_out, strands_error *err)
{
    (void)user; (void)ctx; (void)err;
    sleep_ms((long)json_integer_value(json_object_get(input, "ms")));
    *content_out = json_pack("[{s:s}]", "text", "finally done");
    atomic_store(&stubborn_done, 1);
    return STRANDS_OK;
}

static strands_status counted_run(void *user, const json_t *input,
                                  const strands_tool_context *ctx,
                                  json_t **content_out, strands_error *err)
{
    (void)user; (void)ctx; (void)err;
    int now = atomic_fetch_add(&running_now, 1) + 1;
    int prev = atomic_load(&max_running);
    while (now > prev && !atomic_compare_exchange_weak(&max_running, &prev,
                                                       now)) {}
    sleep_ms(60);
    atomic_fetch_sub(&running_now, 1);
    *content_out = json_pack("[{s:O}]", "text", json_object_get(input, "tag"));
    return STRANDS_OK;
}

typedef struct env {
    fake_model model;
    strands_tool_registry *tools;
    strands_session_store *store;
    strands_agent *agent;
} env;

static void env_init(env *e, const char **script, size_t n, int64_t timeout,
                     int concurrency)
{
    fake_init(&e->model, script, n);
    e->tools = strands_tool_registry_new();
    strands_tool_def defs[] = {
        {"waiter", "waits for cancel", NULL, waiter_run, NULL, NULL},
        {"stubborn", "ignores cancel", NULL, stubborn_run, NULL, NULL},
        {"counted", "counts", NULL, counted_run, NULL, NULL}};
    for (size_t i = 0; i < 3; i++)
        strands_tool_registry_add(e->tools, &defs[i], NULL);
    e->store = strands_memory_store_new(16, 0);
    strands_agent_config cfg = {.model = &e->model.base,
                                .tools = e->tools,
                                .sessions = e->store,
                                .max_tokens = 100,
                                .max_iterations = 5,
                                .tool_concurrency = concurrency,
                                .tool_timeout_ms = timeout};
    e->agent = strands_agent_new(&cfg, NULL);
}

static void env_cleanup(env *e)
{
    strands_agent_free(e->agent);
    strands_session_store_free(e->store);
    strands_tool_registry_free(e->tools);
    fake_destroy(&e->model.base);
}

static strands_status invoke(env *e, const atomic_int *cancelled,
                             strands_agent_result *out, strands_error *err)
{
    json_t *prompt = json_pack("[{s:s}]", "text", "go");
    strands_invocation inv = {"s1", "inv-1", prompt, NULL, 0, cancelled, 0,
                              NULL, NULL, NULL, NULL};
    strands_status st = strands_agent_invoke(e->agent, &inv, out, err);
    json_decref(prompt);
    return st;
}

/* The i-th toolResult the model saw in its second request. */
static json_t *second_result(env *e, size_t i)
{
    json_t *msgs = json_array_get(e->model.seen, 1);
    json_t *last = json_array_get(msgs, json_array_size(msgs) - 1);
    return json_object_get(
        json_array_get(json_object_get(last, "content"), i), "toolResult");
}

static const char *text_of(json_t *tr)
{
    return json_string_value(json_object_get(
        json_array_get(json_object_get(tr, "content"), 0), "text"));
}


static const char *done_step = FAKE_TEXT("done");

/* Invokes without a cancel flag; *took: how long it took, in ms. */
static strands_status invoke_timed(env *e, strands_agent_result *out,
                                   strands_error *err, int64_t *took)
{
    int64_t t0 = strands_clock_mono_ms();
    strands_status st = invoke(e, NULL, out, err);
    *took = strands_clock_mono_ms() - t0;
    return st;
}

/* The i-th result of the second request is an error saying the call
 * timed out after `secs` ("0.300") and, when `abandoned`, that the tool
 * was abandoned (else not).                                            */
#define CHECK_TIMED_OUT(e, i, secs, abandoned)                           \
    do {                                                                 \
        json_t *tr_ = second_result(e, i);                               \
        CHECK_STR(json_string_value(json_object_get(tr_, "status")),     \
                  "error");                                              \
        CHECK(text_of(tr_) &&                                            \
              strstr(text_of(tr_), "timed out after " secs " s"));       \
        CHECK(text_of(tr_) &&                                            \
              (strstr(text_of(tr_), "abandoned") != NULL) == (abandoned)); \
    } while (0)

/* ---- tests ---------------------------------------------------------- */

static void test_honoured_cancel_times_out_promptly(void)
{
    const char *script[] = {
        FAKE_TOOL_USE(FAKE_CALL("w", "waiter", "{}")),
        done_step};
    env e;
    env_init(&e, script, 2, 300, 0);
    atomic_store(&saw_cancel, 0);
    strands_agent_result r;
    strands_error err;
    int64_t took;
    CHECK_INT(invoke_timed(&e, &r, &err, &took), STRANDS_OK);
    CHECK(took >= 300 && took < 1000);
    CHECK(atomic_load(&saw_cancel) == 1);
    CHECK_STR(r.text, "done");
    CHECK_TIMED_OUT(&e, 0, "0.300", 0);
    CHECK_INT(agent_tools_abandoned(), 0);
    strands_agent_result_cleanup(&r);
    env_cleanup(&e);
}

static void test_ignored_cancel_is_abandoned(void)
{
    const char *script[] = {
        FAKE_TOOL_USE(FAKE_CALL("s", "stubborn", "{\"ms\":1500}") ","
                  FAKE_CALL("c", "counted", "{\"tag\":\"ok\"}")),
        done_step};
    env e;
    env_init(&e, script, 2, 200, 0);
    atomic_store(&stubborn_done, 0);
    strands_agent_result r;
    strands_error err;
    int64_t took;
    CHECK_INT(invoke_timed(&e, &r, &err, &took), STRANDS_OK);
    /* deadline 200 + grace 200 + slack, far below the tool's 1500 ms */
    CHECK(took < 800);
    CHECK(atomic_load(&stubborn_done) == 0);
    CHECK_STR(r.text, "done");
    CHECK_TIMED_OUT(&e, 0, "0.200", 1);
    json_t *tr = second_result(&e, 0);
    CHECK_STR(json_string_value(json_object_get(tr, "toolUseId")), "s");
    tr = second_result(&e, 1);
    CHECK_STR(json_string_value(json_object_get(tr, "status")), "success");
    CHECK_STR(text_of(tr), "ok");
    CHECK_INT(agent_tools_abandoned(), 1);
    strands_agent_result_cleanup(&r);
    /* The agent and the registry go away while the tool still runs: its
     * thread keeps the tool alive and frees everything when it returns. */
    env_cleanup(&e);
    for (int i = 0; i < 400 && agent_tools_abandoned() > 0; i++) sleep_ms(10);
    CHECK(atomic_load(&stubborn_done) == 1);
    CHECK_INT(agent_tools_abandoned(), 0);
}

static atomic_int inv_flag;

static void *cancel_later(void *arg)
{
    (void)arg;
    sleep_ms(150);
    atomic_store(&inv_flag, 1);
    return NULL;
}

static void test_invocation_cancel_reaches_call(void)
{
    const char *script[] = {
        FAKE_TOOL_USE(FAKE_CALL("w", "waiter", "{}")),
        done_step};
    env e;
    env_init(&e, script, 2, 60000, 0);
    atomic_store(&saw_cancel, 0);
    atomic_store(&inv_flag, 0);
    seen_flag = NULL;
    pthread_t th;
    pthread_create(&th, NULL, cancel_later, NULL);
    strands_agent_result r;
    strands_error err;
    int64_t t0 = strands_clock_mono_ms();
    strands_status st = invoke(&e, &inv_flag, &r, &err);
    int64_t took = strands_clock_mono_ms() - t0;
    pthread_join(th, NULL);
    CHECK_INT(st, STRANDS_E_CANCELLED);
    CHECK(atomic_load(&saw_cancel) == 1);
    CHECK(took < 1000);
    /* the tool's flag is its own, not the invocation's */
    CHECK(seen_flag != NULL && seen_flag != &inv_flag);
    if (st == STRANDS_OK) strands_agent_result_cleanup(&r);
    env_cleanup(&e);
}

static void test_concurrency_cap_holds(void)
{
    const char *script[] = {
        FAKE_TOOL_USE(FAKE_CALL("a", "counted", "{\"tag\":\"A\"}") ","
                  FAKE_CALL("b", "counted", "{\"tag\":\"B\"}") ","
                  FAKE_CALL("c", "counted", "{\"tag\":\"C\"}") ","
                  FAKE_CALL("d", "counted", "{\"tag\":\"D\"}") ","
                  FAKE_CALL("e", "counted", "{\"tag\":\"E\"}")),
        done_step};
    env e;
    env_init(&e, script, 2, 10000, 2);
    atomic_store(&max_running, 0);
    strands_agent_result r;
    strands_error err;
    CHECK_INT(invoke(&e, NULL, &r, &err), STRANDS_OK);
    CHECK_INT(atomic_load(&max_running), 2);
    const char *tags[] = {"A", "B", "C", "D", "E"};
    for (size_t i = 0; i < 5; i++) CHECK_STR(text_of(second_result(&e, i)),
                                             tags[i]);
    strands_agent_result_cleanup(&r);
    env_cleanup(&e);
}

/* A source may give a tool its own deadline ("timeoutMs" in its list):
 * that one, not the agent's, bounds the call and names the timeout.    */
static strands_status src_list(void *user, json_t **tools_out,
                               strands_error *err)
{
    (void)user; (void)err;
    *tools_out = json_pack("[{s:s, s:i}]", "name", "quick_waiter",
                           "timeoutMs", 150);
    return STRANDS_OK;
}

static strands_status src_call(void *user, const char *tool_name,
                               const json_t *input,
                               const strands_tool_context *ctx,
                               json_t **content_out, strands_error *err)
{
    (void)tool_name;
    return waiter_run(user, input, ctx, content_out, err);
}

static const strands_tool_source_vtab timed_vtab = {
    .version = STRANDS_TOOL_SOURCE_VTAB_VERSION,
    .kind = "test",
    .list = src_list,
    .call = src_call,
};

static void test_source_tool_timeout_wins(void)
{
    const char *script[] = {
        FAKE_TOOL_USE(FAKE_CALL("q", "quick_waiter", "{}")),
        done_step};
    env e;
    env_init(&e, script, 2, 5000, 0);
    CHECK_INT(strands_tool_registry_add_source(e.tools, &timed_vtab, "timed",
                                               NULL, NULL), STRANDS_OK);
    atomic_store(&saw_cancel, 0);
    strands_agent_result r;
    strands_error err;
    int64_t took;
    CHECK_INT(invoke_timed(&e, &r, &err, &took), STRANDS_OK);
    CHECK(took >= 150 && took < 2000);
    CHECK(atomic_load(&saw_cancel) == 1);
    CHECK_TIMED_OUT(&e, 0, "0.150", 0);
    strands_agent_result_cleanup(&r);
    env_cleanup(&e);
}

int main(void)
{
    RUN(test_honoured_cancel_times_out_promptly);
    RUN(test_ignored_cancel_is_abandoned);
    RUN(test_invocation_cancel_reaches_call);
    RUN(test_concurrency_cap_holds);
    RUN(test_source_tool_timeout_wins);
    return test_report();
}
