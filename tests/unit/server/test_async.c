/* Async invocations (src/server/async.c) over a real runner set and agent
 * with a scripted slow model and an injected clock: 202 at once and the
 * result later, /ping HealthyBusy only while one runs (its timestamp
 * moving only on a change), cancel (nothing of the turn stored), the run
 * limit (AsyncTimeout), TTL expiry, the cap (429, then eviction of a
 * finished one), a busy session and a taken id (409), another session's
 * id (404), and freeing the table with invocations still running.      */
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "server/async.h"
#include "server/internal.h"
#include "server/runner.h"
#include "strands/clock.h"
#include "strands/strands.h"
#include "slow_model.h"
#include "test.h"

/* ---- an injectable clock: the real one plus a test-controlled skew ---- */

static atomic_llong skew_ms;

static int64_t test_clock(void)
{
    return strands_clock_mono_ms() + atomic_load(&skew_ms);
}

typedef struct env {
    slow_model model;
    strands_session_store *store;
    strands_agent *agent;
    runner_set *set;
    ping_state ping;
    async_table *t;
} env;

static void env_init(env *e, int steps, int delay_ms, int max_s, int ttl_s,
                     int max)
{
    memset(e, 0, sizeof *e);
    atomic_store(&skew_ms, 0);
    slow_model_init(&e->model, steps, delay_ms, 0);
    e->agent = slow_agent_new(&e->model, &e->store);
    runner_set_config rc = {.agent = e->agent};
    e->set = runner_set_new(&rc);
    ping_state_init(&e->ping);
    async_config ac = {.runners = e->set,
                       .ping = &e->ping,
                       .max_s = max_s,
                       .ttl_s = ttl_s,
                       .max = max,
                       .now_ms = test_clock,
                       .cancel_wait_ms = 3000};
    e->t = async_new(&ac);
}

static void env_free(env *e)
{
    async_free(e->t);
    runner_set_free(e->set);
    ping_state_cleanup(&e->ping);
    strands_agent_free(e->agent);
    strands_session_store_free(e->store);
    slow_model_cleanup(&e->model);
}

static int submit(env *e, const char *id, const char *session,
                  const char *text, json_t **out)
{
    json_t *prompt = json_pack("[{s:s}]", "text", text);
    runner_request rq = {.session_id = session,
                         .request_id = id,
                         .prompt = prompt,
                         .stream = 1 /* ignored: never queued */};
    int st = async_submit(e->t, &rq, out);
    json_decref(prompt);
    return st;
}

static const char *str(const json_t *doc, const char *key)
{
    const char *v = json_string_value(json_object_get(doc, key));
    return v ? v : "(none)";
}

/* `call` (which sets doc) answers HTTP `code`; EXPECT_KEY also checks that
 * doc's `key` is `want`. The document is dropped after.                 */
#define EXPECT(code, call)                                               \
    do {                                                                 \
        CHECK_INT(call, code);                                           \
        json_decref(doc);                                                \
    } while (0)
#define EXPECT_KEY(code, call, key, want)                                \
    do {                                                                 \
        CHECK_INT(call, code);                                           \
        CHECK_STR(str(doc, key), want);                                  \
        json_decref(doc);                                                \
    } while (0)

static void ping_now(env *e, const char **status, int64_t *ts)
{
    pthread_mutex_lock(&e->ping.lock);
    *status = e->ping.status;
    *ts = e->ping.last_update;
    pthread_mutex_unlock(&e->ping.lock);
}

/* Polls get_invocation until it is no longer running (or 10 s). */
static json_t *wait_done(env *e, const char *id)
{
    for (int i = 0; i < 1000; i++) {
        json_t *doc = NULL;
        int st = async_get(e->t, id, NULL, &doc);
        if (st != 200 || strcmp(str(doc, "status"), "running")) return doc;
        json_decref(doc);
        sleep_ms(10);
    }
    FAIL_AT("%s still running after 10 s", id);
    return NULL;
}

static void test_submit_then_completed(void)
{
    env e;
    env_init(&e, 10, 30, 0, 0, 0); /* ~300 ms */
    const char *ps;
    int64_t ts0, ts;
    ping_now(&e, &ps, &ts0);
    CHECK_STR(ps, "Healthy");
    json_t *doc = NULL;
    int64_t t0 = strands_clock_mono_ms();
    CHECK_INT(submit(&e, "inv-1", "s1", "hello", &doc), 202);
    CHECK(strands_clock_mono_ms() - t0 < 250); /* did not wait for it */
    CHECK_STR(str(doc, "invocation_id"), "inv-1");
    CHECK_STR(str(doc, "session_id"), "s1");
    CHECK_STR(str(doc, "status"), "running");
    CHECK_INT(json_object_size(doc), 3);
    json_decref(doc);
    CHECK_INT(async_running(e.t), 1);
    ping_now(&e, &ps, &ts);
    CHECK_STR(ps, "HealthyBusy");
    CHECK_INT(runner_set_count(e.set), 1); /* in flight for shutdown */

    EXPECT_KEY(200, async_get(e.t, "inv-1", "s1", &doc), "status", "running");

    doc = wait_done(&e, "inv-1");
    CHECK_STR(str(doc, "status"), "completed");
    CHECK_STR(str(doc, "response"), "all done");
    CHECK_STR(str(doc, "stop_reason"), "EndTurn");
    CHECK_INT(json_integer_value(json_object_get(doc, "iterations")), 1);
    CHECK_INT(json_integer_value(
                  json_object_get(json_object_get(doc, "usage"),
                                  "total_tokens")),
              7);
    CHECK(json_object_get(doc, "error") == NULL);
    json_decref(doc);
    CHECK_INT(async_running(e.t), 0);
    ping_now(&e, &ps, &ts);
    CHECK_STR(ps, "Healthy");
    /* The finished runner is released (no longer in flight) soon. */
    for (int i = 0; i < 100 && runner_set_count(e.set); i++) sleep_ms(10);
    CHECK_INT(runner_set_count(e.set), 0);
    /* Still there for another read. */
    EXPECT_KEY(200, async_get(e.t, "inv-1", NULL, &doc), "status", "completed");
    env_free(&e);
}

/* Only a change of status moves the timestamp. */
static void test_ping_timestamp(void)
{
    ping_state p;
    ping_state_init(&p);
    p.last_update = 1000; /* as if set long ago */
    ping_state_set(&p, "Healthy");
    CHECK(p.last_update == 1000);
    ping_state_set(&p, "HealthyBusy");
    CHECK(p.last_update != 1000);
    p.last_update = 2000;
    ping_state_set(&p, "HealthyBusy");
    CHECK(p.last_update == 2000);
    ping_state_set(&p, "Healthy");
    CHECK(p.last_update != 2000);
    ping_state_cleanup(&p);
}

static void test_cancel_stores_nothing(void)
{
    env e;
    env_init(&e, 1000, 10, 0, 0, 0); /* 10 s unless cancelled */
    json_t *doc = NULL;
    EXPECT(202, submit(&e, "inv-c", "sc", "secret-cancelled", &doc));
    sleep_ms(50);
    int64_t t0 = strands_clock_mono_ms();
    CHECK_INT(async_cancel(e.t, "inv-c", "sc", &doc), 200);
    CHECK(strands_clock_mono_ms() - t0 < 2000);
    CHECK_STR(str(doc, "status"), "cancelled");
    CHECK_STR(str(doc, "error_type"), "Cancelled");
    json_decref(doc);
    CHECK_INT(async_running(e.t), 0);
    /* Cancelling again: it is no longer running. */
    CHECK_INT(async_cancel(e.t, "inv-c", NULL, &doc), 409);
    CHECK_STR(str(doc, "error_type"), "InvocationNotRunning");
    CHECK_STR(str(doc, "status"), "cancelled");
    json_decref(doc);
    /* The next turn of the session starts from an empty history. */
    atomic_store(&e.model.steps, 1);
    atomic_store(&e.model.delay_ms, 0);
    EXPECT(202, submit(&e, "inv-n", "sc", "next", &doc));
    doc = wait_done(&e, "inv-n");
    CHECK_STR(str(doc, "status"), "completed");
    json_decref(doc);
    pthread_mutex_lock(&e.model.lock);
    CHECK(strstr(e.model.last_messages, "next") != NULL);
    CHECK(strstr(e.model.last_messages, "secret-cancelled") == NULL);
    pthread_mutex_unlock(&e.model.lock);
    env_free(&e);
}

static void test_run_limit(void)
{
    env e;
    env_init(&e, 100000, 5, 60, 0, 0);
    json_t *doc = NULL;
    EXPECT(202, submit(&e, "inv-t", "st", "long", &doc));
    sleep_ms(100);
    EXPECT_KEY(200, async_get(e.t, "inv-t", NULL, &doc), "status", "running");
    atomic_store(&skew_ms, 61 * 1000); /* a minute later */
    doc = wait_done(&e, "inv-t");
    CHECK_STR(str(doc, "status"), "failed");
    CHECK_STR(str(doc, "error_type"), "AsyncTimeout");
    CHECK(strstr(str(doc, "error"), "ASYNC_MAX_SECONDS (60 s)") != NULL);
    json_decref(doc);
    env_free(&e);
}

static void test_ttl(void)
{
    env e;
    env_init(&e, 1, 0, 0, 30, 0);
    json_t *doc = NULL;
    EXPECT(202, submit(&e, "inv-x", "sx", "hi", &doc));
    doc = wait_done(&e, "inv-x");
    CHECK_STR(str(doc, "status"), "completed");
    json_decref(doc);
    atomic_store(&skew_ms, 29 * 1000);
    EXPECT(200, async_get(e.t, "inv-x", NULL, &doc));
    atomic_store(&skew_ms, 31 * 1000);
    EXPECT_KEY(404, async_get(e.t, "inv-x", NULL, &doc),
               "error_type", "InvocationNotFound");
    EXPECT(404, async_cancel(e.t, "inv-x", NULL, &doc));
    env_free(&e);
}

static void test_cap_and_eviction(void)
{
    env e;
    env_init(&e, 1000, 5, 0, 0, 2);
    json_t *doc = NULL;
    EXPECT(202, submit(&e, "a", "sa", "one", &doc));
    EXPECT(202, submit(&e, "b", "sb", "two", &doc));
    EXPECT_KEY(429, submit(&e, "c", "sc", "three", &doc),
               "error_type", "TooManyAsyncInvocations");
    /* "a" ends (cancelled): "c" now takes its place. */
    EXPECT(200, async_cancel(e.t, "a", NULL, &doc));
    atomic_store(&e.model.steps, 1);
    EXPECT(202, submit(&e, "c", "sc", "three", &doc));
    EXPECT(404, async_get(e.t, "a", NULL, &doc));
    EXPECT(200, async_get(e.t, "b", NULL, &doc));
    env_free(&e);
}

static void test_busy_session_and_taken_id(void)
{
    env e;
    env_init(&e, 1000, 5, 0, 0, 0);
    json_t *doc = NULL;
    EXPECT(202, submit(&e, "first", "shared", "one", &doc));
    /* The same session is claimed: answered at once like /invocations. */
    EXPECT_KEY(409, submit(&e, "second", "shared", "two", &doc),
               "error_type", "SessionBusy");
    EXPECT(404, async_get(e.t, "second", NULL, &doc));
    /* The same id again. */
    EXPECT_KEY(409, submit(&e, "first", "other", "three", &doc),
               "error_type", "InvocationExists");
    /* Another session's invocation is unknown to it. */
    EXPECT(404, async_get(e.t, "first", "other", &doc));
    EXPECT(404, async_cancel(e.t, "first", "other", &doc));
    CHECK_INT(async_running(e.t), 1);
    env_free(&e);
}

/* The server's shutdown: cancel_all (after the grace period) ends async
 * runners like any other; freeing the table with some still running
 * cancels and joins them.                                              */
static void test_shutdown(void)
{
    env e;
    env_init(&e, 100000, 5, 0, 0, 0);
    json_t *doc = NULL;
    EXPECT(202, submit(&e, "k1", "s1", "one", &doc));
    EXPECT(202, submit(&e, "k2", "s2", "two", &doc));
    CHECK_INT(runner_set_count(e.set), 2);
    CHECK_INT(runner_set_wait_idle(e.set, 200), 2);
    runner_set_cancel_all(e.set);
    CHECK_INT(runner_set_wait_idle(e.set, 3000), 0);
    EXPECT_KEY(200, async_get(e.t, "k1", NULL, &doc), "status", "cancelled");
    env_free(&e);

    env_init(&e, 100000, 5, 0, 0, 0);
    EXPECT(202, submit(&e, "k3", "s3", "three", &doc));
    int64_t t0 = strands_clock_mono_ms();
    async_free(e.t);
    e.t = NULL;
    CHECK(strands_clock_mono_ms() - t0 < 3000);
    CHECK_INT(runner_set_count(e.set), 0);
    env_free(&e);
}

int main(void)
{
    RUN(test_ping_timestamp);
    RUN(test_submit_then_completed);
    RUN(test_cancel_stores_nothing);
    RUN(test_run_limit);
    RUN(test_ttl);
    RUN(test_cap_and_eviction);
    RUN(test_busy_session_and_taken_id);
    RUN(test_shutdown);
    return test_report();
}
