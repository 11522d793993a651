/* The invocation runner (src/server/runner.c) with a real agent over a
 * scripted fake model: outcome, streamed events in order, backpressure
 * (a consumer that does not pop holds the producer at the queue's cap),
 * cancellation (also of a producer blocked on a full queue), release
 * joining the thread, hang-up detection on a watched socket, the set's
 * count, cancel_all, max_runners and waiting for an abandoned session. */
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "server/internal.h"
#include "server/runner.h"
#include "strands/clock.h"
#include "strands/strands.h"
#include "slow_model.h"
#include "test.h"

typedef struct env {
    slow_model model;
    strands_session_store *store;
    strands_agent *agent;
    runner_set *set;
} env;

static void env_init(env *e, int deltas, int delay_ms, size_t max_events,
                     int max_runners)
{
    memset(e, 0, sizeof *e);
    slow_model_init(&e->model, deltas, delay_ms, 1);
    e->agent = slow_agent_new(&e->model, &e->store);
    runner_set_config rc = {.agent = e->agent,
                            .queue_max_events = max_events,
                            .max_runners = max_runners};
    e->set = runner_set_new(&rc);
}

static void env_free(env *e)
{
    runner_set_free(e->set);
    strands_agent_free(e->agent);
    strands_session_store_free(e->store);
    slow_model_cleanup(&e->model);
}

static runner *start(env *e, const char *session, int stream)
{
    json_t *prompt = json_pack("[{s:s}]", "text", "go");
    runner_request rq = {.session_id = session,
                         .request_id = "req-1",
                         .prompt = prompt,
                         .stream = stream};
    strands_error err;
    runner *r = runner_start(e->set, &rq, &err);
    json_decref(prompt);
    if (!r) FAIL_AT("runner_start: %s", err.message);
    return r;
}

static void test_json_outcome(void)
{
    env e;
    env_init(&e, 3, 0, 0, 0);
    runner *r = start(&e, "s1", 0);
    CHECK_INT(runner_set_count(e.set), 1);
    CHECK_INT(runner_wait_end(r, 5000, -1), RUNNER_END);
    const runner_outcome *o = runner_get_outcome(r);
    CHECK(o != NULL);
    CHECK_INT(o->status, STRANDS_OK);
    CHECK_STR(o->result.text, "all done");
    CHECK_INT(o->result.iterations, 1);
    CHECK(o->started);
    runner_release(r);
    CHECK_INT(runner_set_count(e.set), 0);
    env_free(&e);
}

static void test_stream_events_in_order(void)
{
    env e;
    env_init(&e, 50, 0, 0, 0);
    runner *r = start(&e, "s1", 1);
    CHECK_INT(runner_wait_started(r, 5000, -1), RUNNER_STARTED);
    int got = 0;
    for (;;) {
        runner_event *ev = NULL;
        runner_wait w = runner_next(r, 5000, -1, &ev);
        if (w == RUNNER_END) break;
        CHECK_INT(w, RUNNER_EVENT);
        if (w != RUNNER_EVENT) break;
        char want[16];
        snprintf(want, sizeof want, "d%d ", got++);
        CHECK_INT(ev->type, STRANDS_EVENT_TEXT_DELTA);
        CHECK_STR(ev->text, want);
        runner_event_free(ev);
    }
    CHECK_INT(got, 50);
    CHECK_INT(runner_get_outcome(r)->status, STRANDS_OK);
    runner_release(r);
    env_free(&e);
}

/* A consumer that does not pop holds the producer at the cap. */
static void test_backpressure(void)
{
    env e;
    env_init(&e, 100, 0, 4, 0);
    runner *r = start(&e, "s1", 1);
    sleep_ms(300);
    int emitted = atomic_load(&e.model.emitted);
    /* 4 queued, one more waiting in the sink (emitted counts after it). */
    CHECK(emitted <= 5);
    CHECK(emitted >= 4);
    CHECK(runner_get_outcome(r) == NULL);
    int got = 0;
    runner_event *ev;
    while (runner_next(r, 5000, -1, &ev) == RUNNER_EVENT) {
        got++;
        runner_event_free(ev);
    }
    CHECK_INT(got, 100);
    runner_release(r);
    env_free(&e);
}

/* Cancelling a producer blocked on a full queue: it stops, the thread is
 * joined by release, the outcome is Cancelled. */
static void test_cancel_blocked_producer(void)
{
    env e;
    env_init(&e, 1000, 0, 2, 0);
    runner *r = start(&e, "s1", 1);
    sleep_ms(100);
    CHECK(atomic_load(&e.model.emitted) < 10);
    int64_t t0 = strands_clock_mono_ms();
    runner_cancel(r);
    CHECK_INT(runner_wait_end(r, 5000, -1), RUNNER_END);
    CHECK(strands_clock_mono_ms() - t0 < 2000);
    CHECK_INT(runner_get_outcome(r)->status, STRANDS_E_CANCELLED);
    runner_release(r);
    CHECK_INT(runner_set_count(e.set), 0);
    env_free(&e);
}

/* Release of a running invocation cancels it and joins its thread. */
static void test_release_joins(void)
{
    env e;
    env_init(&e, 1000, 5, 0, 0);
    runner *r = start(&e, "s1", 0);
    sleep_ms(50);
    runner_release(r); /* must return only once the thread has ended */
    int after = atomic_load(&e.model.emitted);
    sleep_ms(50);
    CHECK_INT(atomic_load(&e.model.emitted), after);
    CHECK(after < 1000);
    CHECK_INT(runner_set_count(e.set), 0);
    env_free(&e);
}

static void test_hangup_is_noticed(void)
{
    env e;
    env_init(&e, 1000, 5, 0, 0);
    int sv[2];
    CHECK_INT(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    runner *r = start(&e, "s1", 0);
    int64_t t0 = strands_clock_mono_ms();
    close(sv[1]);
    CHECK_INT(runner_wait_end(r, 5000, sv[0]), RUNNER_HANGUP);
    CHECK(strands_clock_mono_ms() - t0 < 500);
    CHECK(runner_peer_gone(sv[0]));
    runner_release(r);
    close(sv[0]);
    env_free(&e);
}

static void test_set_cancel_all_and_idle(void)
{
    env e;
    env_init(&e, 100000, 2, 0, 0);
    runner *a = start(&e, "a", 0);
    runner *b = start(&e, "b", 1);
    CHECK_INT(runner_set_count(e.set), 2);
    CHECK_INT(runner_set_wait_idle(e.set, 50), 2);
    runner_set_cancel_all(e.set);
    CHECK_INT(runner_wait_end(a, 5000, -1), RUNNER_END);
    CHECK_INT(runner_wait_end(b, 5000, -1), RUNNER_END);
    CHECK_INT(runner_get_outcome(a)->status, STRANDS_E_CANCELLED);
    /* Runners started after cancel_all start cancelled. */
    runner *c = start(&e, "c", 0);
    CHECK_INT(runner_wait_end(c, 5000, -1), RUNNER_END);
    CHECK(runner_get_outcome(c)->status != STRANDS_OK);
    runner_release(a);
    runner_release(b);
    runner_release(c);
    CHECK_INT(runner_set_wait_idle(e.set, 1000), 0);
    env_free(&e);
}

static void test_max_runners(void)
{
    env e;
    env_init(&e, 100000, 2, 0, 1);
    runner *a = start(&e, "a", 0);
    json_t *prompt = json_pack("[{s:s}]", "text", "go");
    runner_request rq = {.session_id = "b", .request_id = "r",
                         .prompt = prompt};
    strands_error err;
    CHECK(runner_start(e.set, &rq, &err) == NULL);
    CHECK_INT(err.status, STRANDS_E_UNAVAILABLE);
    CHECK_STR(err.code, "ServerBusy");
    json_decref(prompt);
    runner_release(a);
    env_free(&e);
}

/* A cancelled invocation that takes 300 ms to notice still holds its
 * session; a new request for it waits that out instead of a 409. */
static void test_wait_abandoned(void)
{
    env e;
    env_init(&e, 100000, 2, 0, 0);
    e.model.ignore_cancel_ms = 300;
    CHECK(runner_set_wait_abandoned(e.set, "s1", 10));
    runner *r = start(&e, "s1", 1);
    sleep_ms(20);
    CHECK(runner_set_wait_abandoned(e.set, "s1", 10)); /* not cancelled */
    runner_cancel(r);
    int64_t t0 = strands_clock_mono_ms();
    CHECK(!runner_set_wait_abandoned(e.set, "s1", 50));
    CHECK(runner_set_wait_abandoned(e.set, "s1", 5000));
    int64_t waited = strands_clock_mono_ms() - t0;
    CHECK(waited >= 200 && waited < 2000);
    /* The session is free now: a new invocation on it succeeds. */
    e.model.ignore_cancel_ms = 0;
    e.model.steps = 1;
    runner *again = start(&e, "s1", 0);
    CHECK_INT(runner_wait_end(again, 5000, -1), RUNNER_END);
    CHECK_INT(runner_get_outcome(again)->status, STRANDS_OK);
    runner_release(again);
    runner_release(r);
    env_free(&e);
}

/* runner_run: the invocation runs on the calling thread; the outcome is
 * ready when it returns; the set counts it until it is released.       */
static void test_run_inline(void)
{
    env e;
    env_init(&e, 3, 0, 0, 0);
    json_t *prompt = json_pack("[{s:s}]", "text", "go");
    runner_request rq = {.session_id = "s1", .request_id = "req-1",
                         .prompt = prompt};
    strands_error err;
    runner *r = runner_run(e.set, &rq, -1, &err);
    json_decref(prompt);
    CHECK(r != NULL);
    if (!r) {
        env_free(&e);
        return;
    }
    const runner_outcome *o = runner_get_outcome(r);
    CHECK(o != NULL);
    if (o) CHECK_STR(o->result.text, "all done");
    CHECK_INT(runner_set_count(e.set), 1);
    runner_release(r);
    CHECK_INT(runner_set_count(e.set), 0);
    env_free(&e);
}

static void *close_later(void *arg)
{
    sleep_ms(100);
    close(*(int *)arg);
    return NULL;
}

/* runner_run with a client socket: the set's watcher cancels the
 * invocation as soon as the peer hangs up (it would run for 5 s).      */
static void test_run_inline_hangup_watcher(void)
{
    env e;
    env_init(&e, 1000, 5, 0, 0);
    int sv[2];
    CHECK_INT(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    pthread_t t;
    pthread_create(&t, NULL, close_later, &sv[1]);
    json_t *prompt = json_pack("[{s:s}]", "text", "go");
    runner_request rq = {.session_id = "s1", .request_id = "req-1",
                         .prompt = prompt};
    strands_error err;
    int64_t t0 = strands_clock_mono_ms();
    runner *r = runner_run(e.set, &rq, sv[0], &err);
    int64_t took = strands_clock_mono_ms() - t0;
    json_decref(prompt);
    pthread_join(t, NULL);
    CHECK(r != NULL);
    CHECK(took < 2000);
    if (r) {
        const runner_outcome *o = runner_get_outcome(r);
        CHECK(o != NULL);
        if (o) CHECK_INT(o->status, STRANDS_E_CANCELLED);
        runner_release(r);
    }
    close(sv[0]);
    env_free(&e);
}

/* ---- the actor id reaches the session store ------------------------ */

/* A store that records the key's actor id and otherwise keeps nothing. */
typedef struct actor_store {
    strands_session_store base;
    char actor[300];
    int calls;
} actor_store;

static void note(strands_session_store *self, const strands_session_key *k)
{
    actor_store *a = (actor_store *)self;
    a->calls++;
    snprintf(a->actor, sizeof a->actor, "%s",
             k->actor_id ? k->actor_id : "(null)");
}

static strands_status as_load(strands_session_store *self,
                              const strands_session_key *key,
                              strands_session_record *out, strands_error *err)
{
    (void)err;
    note(self, key);
    memset(out, 0, sizeof *out);
    out->messages = json_array();
    out->agent = json_object();
    return STRANDS_OK;
}

static strands_status as_append(strands_session_store *self,
                                const strands_session_key *key,
                                const strands_session_claim *claim,
                                size_t base, const json_t *messages,
                                const json_t *agent, strands_error *err)
{
    (void)claim; (void)base; (void)messages; (void)agent; (void)err;
    note(self, key);
    return STRANDS_OK;
}

static strands_status as_claim(strands_session_store *self,
                               const strands_session_key *key,
                               strands_session_claim *c, strands_error *err)
{
    (void)err;
    note(self, key);
    memset(c, 0, sizeof *c);
    snprintf(c->token, sizeof c->token, "t");
    return STRANDS_OK;
}

static strands_status as_renew(strands_session_store *self,
                               const strands_session_key *key,
                               strands_session_claim *c, strands_error *err)
{
    (void)c; (void)err;
    note(self, key);
    return STRANDS_OK;
}

static strands_status as_release(strands_session_store *self,
                                 const strands_session_key *key,
                                 const strands_session_claim *c,
                                 strands_error *err)
{
    (void)c; (void)err;
    note(self, key);
    return STRANDS_OK;
}

static void as_destroy(strands_session_store *self)
{
    (void)self;
}

static const strands_session_store_vtab actor_vtab = {
    STRANDS_SESSION_VTAB_VERSION, "actor", as_load, as_append, as_claim,
    as_renew, as_release, as_destroy};

static void test_actor_id_reaches_store(void)
{
    slow_model model;
    slow_model_init(&model, 1, 0, 1);
    actor_store store = {{&actor_vtab}, "", 0};
    strands_agent_config cfg = {.model = &model.base,
                                .sessions = &store.base,
                                .max_tokens = 100,
                                .max_iterations = 3};
    strands_agent *agent = strands_agent_new(&cfg, NULL);
    runner_set_config rc = {.agent = agent};
    runner_set *set = runner_set_new(&rc);
    json_t *prompt = json_pack("[{s:s}]", "text", "go");
    const char *actors[] = {"user-7", NULL};
    const char *want[] = {"user-7", "(null)"};
    for (int i = 0; i < 2; i++) {
        store.calls = 0;
        runner_request rq = {.session_id = "s", .request_id = "r",
                             .prompt = prompt, .actor_id = actors[i]};
        strands_error err;
        runner *r = runner_run(set, &rq, -1, &err);
        CHECK(r != NULL);
        if (!r) break;
        CHECK_INT(runner_get_outcome(r)->status, STRANDS_OK);
        runner_release(r);
        CHECK_INT(store.calls, 4);          /* claim, load, append, release */
        CHECK_STR(store.actor, want[i]);
    }
    /* Over 256 bytes: refused by the runner. */
    char longid[300];
    memset(longid, 'a', 257);
    longid[257] = '\0';
    runner_request rq = {.session_id = "s", .request_id = "r",
                         .prompt = prompt, .actor_id = longid};
    strands_error err;
    CHECK(runner_run(set, &rq, -1, &err) == NULL);
    CHECK_INT(err.status, STRANDS_E_INVALID);
    json_decref(prompt);
    runner_set_free(set);
    strands_agent_free(agent);
    slow_model_cleanup(&model);
}

int main(void)
{
    RUN(test_json_outcome);
    RUN(test_actor_id_reaches_store);
    RUN(test_stream_events_in_order);
    RUN(test_backpressure);
    RUN(test_cancel_blocked_producer);
    RUN(test_release_joins);
    RUN(test_hangup_is_noticed);
    RUN(test_run_inline);
    RUN(test_run_inline_hangup_watcher);
    RUN(test_set_cancel_all_and_idle);
    RUN(test_max_runners);
    RUN(test_wait_abandoned);
    return test_report();
}
