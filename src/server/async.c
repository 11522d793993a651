/* Async invocations (see async.h): the locked table, the runners it
 * owns, the monitor thread (ends, run limit, expiry, /ping status), and
 * the server part that creates and frees it. The HTTP answers are in
 * async_http.c, the bookkeeping in async_table.c.                      */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/abstime.h"
#include "server/async.h"
#include "server/async_table.h"
#include "strands/clock.h"
#include "strands/log.h"

/* Runners released per monitor pass (the rest wait for the next one). */
#define MONITOR_BATCH 64
/* Longest sleep of an idle monitor with finished results to expire. */
#define MONITOR_IDLE_MAX_MS 60000

struct async_table {
    async_config cfg;
    pthread_mutex_t lock;
    pthread_cond_t cond;     /* news for the monitor; an invocation ended */
    async_tab tab;           /* under lock */
    int busy;                /* started runners not yet seen to end */
    pthread_t monitor;
    int monitor_started;     /* under lock */
    int stopping;            /* under lock */
};

static int64_t now_ms(const async_table *t)
{
    return t->cfg.now_ms ? t->cfg.now_ms() : strands_clock_mono_ms();
}

/* /ping follows the count of running async invocations (under lock). */
static void update_ping(async_table *t)
{
    if (t->cfg.ping)
        ping_state_set(t->cfg.ping, t->busy ? "HealthyBusy" : "Healthy");
}

static json_t *error_doc(const char *type, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static json_t *error_doc(const char *type, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return json_pack("{s:s, s:s}", "error", msg, "error_type", type);
}

/* When e's runner has ended: stores its outcome, counts it off and
 * returns the runner for the caller to release AFTER unlocking (the
 * outcome was read from it). NULL while it still runs. Under lock.     */
static runner *harvest(async_table *t, async_entry *e, int64_t now)
{
    runner *r = e->runner;
    const runner_outcome *o = r ? runner_get_outcome(r) : NULL;
    if (!o) return NULL;
    async_tab_finish(&t->tab, e, o, now);
    t->busy--;
    update_ping(t);
    pthread_cond_broadcast(&t->cond);
    return r;
}

/* How long the monitor may sleep (under lock). */
static long monitor_wait_ms(const async_table *t, int64_t now)
{
    if (t->busy) return ASYNC_POLL_MS;
    if (!t->tab.fin_head) return -1; /* nothing to watch: until woken */
    int64_t left = t->tab.fin_head->finished_ms + t->tab.ttl_ms - now;
    if (left < ASYNC_POLL_MS) left = ASYNC_POLL_MS;
    return left > MONITOR_IDLE_MAX_MS ? MONITOR_IDLE_MAX_MS : (long)left;
}

static void *monitor_main(void *arg)
{
    async_table *t = arg;
    pthread_mutex_lock(&t->lock);
    while (!t->stopping) {
        runner *done[MONITOR_BATCH];
        size_t n = 0;
        int64_t now = now_ms(t);
        for (async_entry *e = t->tab.running, *next; e && n < MONITOR_BATCH;
             e = next) {
            next = e->next; /* harvest moves e to the finished list */
            if (!e->runner) continue; /* still starting */
            runner *r = harvest(t, e, now);
            if (r) {
                done[n++] = r;
            } else if (!e->timed_out && now >= e->deadline_ms) {
                e->timed_out = 1;
                runner_cancel(e->runner);
                strands_log(STRANDS_LOG_WARN, "strands.server.async", e->id,
                            e->session_id, NULL,
                            "async invocation ran past ASYNC_MAX_SECONDS "
                            "(%d s): cancelling it",
                            t->cfg.max_s);
            }
        }
        async_tab_expire(&t->tab, now);
        if (n) {
            pthread_mutex_unlock(&t->lock);
            for (size_t i = 0; i < n; i++) runner_release(done[i]);
            pthread_mutex_lock(&t->lock);
            if (n == MONITOR_BATCH) continue; /* more may be done */
        }
        if (t->stopping) break;
        long wait = monitor_wait_ms(t, now);
        if (wait < 0) {
            pthread_cond_wait(&t->cond, &t->lock);
        } else {
            struct timespec ts;
            core_abstime_after_ms(CLOCK_REALTIME, wait, &ts);
            pthread_cond_timedwait(&t->cond, &t->lock, &ts);
        }
    }
    pthread_mutex_unlock(&t->lock);
    return NULL;
}

/* Starts the monitor on first use (under lock); 0, or -1 when it cannot. */
static int monitor_start(async_table *t)
{
    if (t->monitor_started) return 0;
    if (pthread_create(&t->monitor, NULL, monitor_main, t) != 0) return -1;
    t->monitor_started = 1;
    return 0;
}

async_table *async_new(const async_config *cfg)
{
    async_table *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    t->cfg = *cfg;
    if (t->cfg.max_s <= 0) t->cfg.max_s = 28800;
    if (t->cfg.ttl_s <= 0) t->cfg.ttl_s = 3600;
    if (t->cfg.max <= 0) t->cfg.max = 1000;
    if (t->cfg.start_wait_ms <= 0) t->cfg.start_wait_ms = ASYNC_START_WAIT_MS;
    if (t->cfg.cancel_wait_ms <= 0)
        t->cfg.cancel_wait_ms = ASYNC_CANCEL_WAIT_MS;
    if (async_tab_init(&t->tab, (size_t)t->cfg.max, t->cfg.ttl_s * 1000LL,
                       t->cfg.max_s * 1000LL) != STRANDS_OK) {
        free(t);
        return NULL;
    }
    pthread_mutex_init(&t->lock, NULL);
    pthread_cond_init(&t->cond, NULL);
    return t;
}

void async_free(async_table *t)
{
    if (!t) return;
    pthread_mutex_lock(&t->lock);
    t->stopping = 1;
    int started = t->monitor_started;
    pthread_cond_broadcast(&t->cond);
    pthread_mutex_unlock(&t->lock);
    if (started) pthread_join(t->monitor, NULL);
    /* Alone now: whatever still runs is cancelled and waited for. */
    for (async_entry *e = t->tab.running; e; e = e->next) {
        runner_release(e->runner);
        e->runner = NULL;
    }
    if (t->busy && t->cfg.ping) ping_state_set(t->cfg.ping, "Healthy");
    async_tab_cleanup(&t->tab);
    pthread_cond_destroy(&t->cond);
    pthread_mutex_destroy(&t->lock);
    free(t);
}

int async_running(async_table *t)
{
    pthread_mutex_lock(&t->lock);
    int n = t->busy;
    pthread_mutex_unlock(&t->lock);
    return n;
}

/* Takes back the entry of a submit that did not start (under lock). */
static void drop_entry(async_table *t, const char *id, uint64_t serial)
{
    async_entry *e = async_tab_find_serial(&t->tab, id, serial, now_ms(t));
    if (e) async_tab_remove(&t->tab, e);
    pthread_cond_broadcast(&t->cond);
}

int async_submit(async_table *t, const runner_request *rq, json_t **out)
{
    *out = NULL;
    pthread_mutex_lock(&t->lock);
    if (t->stopping) {
        pthread_mutex_unlock(&t->lock);
        *out = error_doc("ServiceUnavailable", "the runtime is shutting down");
        return 503;
    }
    if (monitor_start(t) != 0) {
        pthread_mutex_unlock(&t->lock);
        *out = error_doc("ServiceUnavailable",
                         "cannot start the async monitor thread");
        return 503;
    }
    async_entry *e = NULL;
    switch (async_tab_add(&t->tab, rq->request_id, rq->session_id, now_ms(t),
                          &e)) {
    case ASYNC_ADD_OK:
        break;
    case ASYNC_ADD_EXISTS:
        pthread_mutex_unlock(&t->lock);
        *out = error_doc("InvocationExists",
                         "an async invocation with id '%s' is already kept; "
                         "send another %s",
                         rq->request_id, SERVER_REQUEST_HEADER);
        return 409;
    case ASYNC_ADD_FULL:
        pthread_mutex_unlock(&t->lock);
        *out = error_doc("TooManyAsyncInvocations",
                         "%d async invocations are running "
                         "(ASYNC_MAX_INVOCATIONS); retry later",
                         t->cfg.max);
        return 429;
    default:
        pthread_mutex_unlock(&t->lock);
        *out = error_doc("InternalError", "out of memory");
        return 500;
    }
    uint64_t serial = e->serial;
    pthread_mutex_unlock(&t->lock);

    /* No events are kept: the answer is the outcome. */
    runner_request q = *rq;
    q.stream = 0;
    strands_error err;
    strands_error_clear(&err);
    runner *r = runner_start(t->cfg.runners, &q, &err);
    if (!r) {
        pthread_mutex_lock(&t->lock);
        drop_entry(t, rq->request_id, serial);
        pthread_mutex_unlock(&t->lock);
        int nomem = err.status == STRANDS_E_NOMEM;
        *out = error_doc(nomem ? "InternalError" : server_error_type(&err),
                         "%s", err.message);
        return nomem ? 500 : 503;
    }
    /* A failure before the agent begins (a busy session, no credentials)
     * is answered now, with the status a synchronous call would get. */
    runner_wait w = runner_wait_started(r, t->cfg.start_wait_ms, -1);
    const runner_outcome *o = w == RUNNER_END ? runner_get_outcome(r) : NULL;
    if (o && o->status != STRANDS_OK && !o->started) {
        int status = server_error_status(&o->error);
        *out = error_doc(server_error_type(&o->error), "%s",
                         o->error.message);
        pthread_mutex_lock(&t->lock);
        drop_entry(t, rq->request_id, serial);
        pthread_mutex_unlock(&t->lock);
        runner_release(r);
        return status;
    }
    pthread_mutex_lock(&t->lock);
    /* Still there: a running entry is never expired or evicted, and only
     * this call removes it before it has a runner. */
    e = async_tab_find_serial(&t->tab, rq->request_id, serial, now_ms(t));
    if (!e) { /* cannot happen (see above); never leak the runner */
        pthread_mutex_unlock(&t->lock);
        runner_release(r);
        *out = error_doc("InternalError", "async invocation lost");
        return 500;
    }
    e->runner = r;
    if (e->cancel_requested) runner_cancel(r);
    t->busy++;
    update_ping(t);
    pthread_cond_broadcast(&t->cond);
    *out = json_pack("{s:s, s:s, s:s}", "invocation_id", e->id, "session_id",
                     e->session_id, "status", "running");
    pthread_mutex_unlock(&t->lock);
    strands_log(STRANDS_LOG_INFO, "strands.server.async", rq->request_id,
                rq->session_id, NULL, "async invocation started");
    return 202;
}

/* The entry for a get or cancel (under lock), or NULL with the 404 body. */
static async_entry *find_for(async_table *t, const char *id,
                             const char *session_id, json_t **out)
{
    async_entry *e = async_tab_find(&t->tab, id, now_ms(t));
    /* Another session's invocation is as good as unknown. */
    if (e && session_id && strcmp(e->session_id, session_id)) e = NULL;
    if (!e)
        *out = error_doc("InvocationNotFound",
                         "no async invocation '%s' (unknown, of another "
                         "session, or its result expired after "
                         "ASYNC_RESULT_TTL_SECONDS)",
                         id);
    return e;
}

int async_get(async_table *t, const char *id, const char *session_id,
              json_t **out)
{
    *out = NULL;
    pthread_mutex_lock(&t->lock);
    async_entry *e = find_for(t, id, session_id, out);
    if (!e) {
        pthread_mutex_unlock(&t->lock);
        return 404;
    }
    runner *done = harvest(t, e, now_ms(t)); /* ended since the last pass */
    *out = async_entry_json(e);
    pthread_mutex_unlock(&t->lock);
    runner_release(done);
    return 200;
}

int async_cancel(async_table *t, const char *id, const char *session_id,
                 json_t **out)
{
    *out = NULL;
    pthread_mutex_lock(&t->lock);
    async_entry *e = find_for(t, id, session_id, out);
    if (!e) {
        pthread_mutex_unlock(&t->lock);
        return 404;
    }
    if (e->state != ASYNC_RUNNING) {
        *out = json_pack("{s:s, s:s, s:s, s:s}", "error",
                         "the invocation has already finished",
                         "error_type", "InvocationNotRunning",
                         "invocation_id", e->id, "status",
                         async_state_name(e->state));
        pthread_mutex_unlock(&t->lock);
        return 409;
    }
    e->cancel_requested = 1;
    if (e->runner) runner_cancel(e->runner);
    strands_log(STRANDS_LOG_INFO, "strands.server.async", e->id,
                e->session_id, NULL,
                "async invocation cancelled by cancel_invocation");
    uint64_t serial = e->serial;
    int64_t deadline = strands_clock_mono_ms() + t->cfg.cancel_wait_ms;
    runner *done = NULL;
    for (;;) {
        done = harvest(t, e, now_ms(t));
        if (done || e->state != ASYNC_RUNNING) break;
        int64_t left = deadline - strands_clock_mono_ms();
        if (left <= 0) break;
        struct timespec ts;
        core_abstime_after_ms(CLOCK_REALTIME,
                              left < ASYNC_POLL_MS ? left : ASYNC_POLL_MS,
                              &ts);
        pthread_cond_timedwait(&t->cond, &t->lock, &ts);
        /* Finished entries may be evicted meanwhile: look it up again. */
        e = async_tab_find_serial(&t->tab, id, serial, now_ms(t));
        if (!e) {
            pthread_mutex_unlock(&t->lock);
            *out = error_doc("InvocationNotFound",
                             "async invocation '%s' is no longer kept", id);
            return 404;
        }
    }
    *out = async_entry_json(e);
    pthread_mutex_unlock(&t->lock);
    runner_release(done);
    return 200;
}

/* ---- the server part -------------------------------------------------- */

static strands_status part_init(strands_server *s, strands_error *err)
{
    if (s->cfg.protocol != STRANDS_PROTOCOL_HTTP) return STRANDS_OK;
    async_config c = {.runners = s->runners,
                      .ping = &s->ping,
                      .max_s = s->cfg.async_max_s,
                      .ttl_s = s->cfg.async_result_ttl_s,
                      .max = s->cfg.async_max};
    s->async = async_new(&c);
    if (!s->async)
        return strands_error_set(err, STRANDS_E_NOMEM, NULL,
                                 "out of memory (async invocation table)");
    return STRANDS_OK;
}

static void part_drain(strands_server *s)
{
    int n = s->async ? async_running(s->async) : 0;
    if (n)
        strands_log(STRANDS_LOG_INFO, "strands.server.async", NULL, NULL,
                    NULL,
                    "%d async invocation(s) still running: they get the "
                    "shutdown grace period, then are cancelled",
                    n);
}

static void part_cleanup(strands_server *s)
{
    async_free(s->async);
    s->async = NULL;
}

const server_part async_part = {"async", part_init, part_drain,
                                part_cleanup};
