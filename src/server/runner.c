/* The invocation runner and the runner set (see runner.h): a pool of
 * joinable worker threads that run one invocation at a time, each
 * invocation's standard sinks (metrics line, tracing), the bounded event
 * queue with backpressure, cancellation, and the one count of invocations
 * in flight. Workers outlive single invocations (no thread creation, stack
 * teardown or crypto-state setup per invocation); idle ones beyond a few
 * exit after a while, and the set joins every worker before it is freed. */
#include <errno.h>
#include <malloc.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>

#include "core/abstime.h"
#include "server/internal.h"
#include "server/runner.h"
#include "tools/registry.h"
#include "strands/aws.h"
#include "strands/clock.h"
#include "strands/log.h"

#define RUNNER_SESSION_MAX 256
#define RUNNER_REQUEST_ID_MAX 128
/* Longest single wait; loops re-check their state at least this often. */
#define RUNNER_POLL_CAP_MS 1000
/* Idle workers kept without a time limit; more idle ones exit after
 * RUNNER_IDLE_EXIT_MS, so a burst's threads (and their stacks) go away. */
#define RUNNER_IDLE_KEEP 4
#define RUNNER_IDLE_EXIT_MS 2000

/* A pool thread. Exited workers wait on the set's dead list until someone
 * joins them (the next runner_start, or runner_set_free).               */
typedef struct worker {
    pthread_t thread;
    struct runner_set *set;
    struct worker *next;          /* in set->workers or set->dead */
} worker;

struct runner {
    runner_set *set;
    runner *prev, *next;          /* in set->head, under set->lock */
    runner *qnext;                /* in set->queue: waiting for a worker */
    int worker_done;              /* under set->lock: no worker touches it
                                     any more */
    uint64_t id;                  /* unique in the set, never 0 */
    pthread_mutex_t lock;
    pthread_cond_t cond;          /* the producer waits here when full */
    int wake_fd;                  /* eventfd: readable on news */
    runner_event *head, *tail;    /* the queue, under lock */
    size_t n_events, n_bytes;
    int queue_events;             /* streaming: events are queued */
    int started, finished;        /* under lock */
    atomic_int cancel;
    runner_outcome outcome;       /* written before finished = 1 */
    json_t *prompt;
    json_t *output_schema;        /* or NULL */
    json_t *client_tools;         /* or NULL */
    strands_request_context *request; /* a copy, or NULL */
    strands_invocation_trace *trace;
    invocation_metrics metrics;
    char session_id[RUNNER_SESSION_MAX + 1];
    char request_id[RUNNER_REQUEST_ID_MAX + 1];
    char actor_id[RUNNER_ACTOR_ID_MAX + 1]; /* "" = unknown */
};

struct runner_set {
    runner_set_config cfg;
    pthread_mutex_t lock;
    pthread_cond_t cond;          /* a runner ended or was released */
    runner *head;
    int count;                    /* runners not yet released */
    int cancel_all;
    int64_t last_trim_ms;
    /* the worker pool, under lock */
    pthread_cond_t work;          /* work queued, or stopping */
    runner *queue, *queue_tail;   /* runners waiting for a worker */
    worker *workers;              /* running workers */
    worker *dead;                 /* exited, not yet joined */
    int n_workers, n_idle;
    int stopping;
    /* the hang-up watcher of runner_run, started on first use */
    uint64_t next_id;
    int watch_started, watch_stop;
    int watch_epfd, watch_wake;
    pthread_t watch_thread;
};

/* ---- waking the consumer --------------------------------------------- */

static void wake(runner *r)
{
    if (r->wake_fd < 0) return; /* runner_run: the caller is the producer */
    uint64_t one = 1;
    ssize_t n = write(r->wake_fd, &one, sizeof one);
    (void)n; /* EAGAIN: already readable, which is all that matters */
}

static void drain_wake(runner *r)
{
    if (r->wake_fd < 0) return;
    uint64_t v;
    ssize_t n = read(r->wake_fd, &v, sizeof v);
    (void)n;
}

int runner_peer_gone(int fd)
{
    if (fd < 0) return 0;
    struct pollfd p = {.fd = fd, .events = POLLRDHUP};
    return poll(&p, 1, 0) > 0 &&
           (p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL));
}

/* ---- the producer side (the agent's thread, in its event sink) ------- */

void runner_event_free(runner_event *ev)
{
    if (!ev) return;
    free(ev->text);
    json_decref(ev->data);
    free(ev);
}

/* A queued copy of a streamed event, or NULL on OOM. */
static runner_event *copy_event(const strands_event *ev)
{
    runner_event *q = calloc(1, sizeof *q);
    if (!q) return NULL;
    q->type = ev->type;
    q->bytes = sizeof *q;
    if (ev->type == STRANDS_EVENT_TEXT_DELTA ||
        ev->type == STRANDS_EVENT_REASONING_DELTA) {
        q->text = malloc(ev->text_len + 1);
        if (!q->text) goto oom;
        if (ev->text_len) memcpy(q->text, ev->text, ev->text_len);
        q->text[ev->text_len] = '\0';
        q->text_len = ev->text_len;
        q->bytes += ev->text_len;
    } else {
        q->data = ev->data ? json_deep_copy(ev->data) : json_object();
        if (!q->data) goto oom;
        q->bytes += json_dumpb(q->data, NULL, 0, JSON_COMPACT);
    }
    return q;
oom:
    runner_event_free(q);
    return NULL;
}

/* True while the queue cannot take `bytes` more. One event is always let
 * in when the queue is empty, so an event larger than the cap still
 * makes progress.                                                       */
static int queue_full(const runner *r, size_t bytes)
{
    const runner_set_config *c = &r->set->cfg;
    return r->n_events > 0 && (r->n_events >= c->queue_max_events ||
                               r->n_bytes + bytes > c->queue_max_bytes);
}

/* Appends ev, waiting while the queue is full (backpressure: only this
 * invocation waits). Dropped when the invocation is cancelled.          */
static void push(runner *r, runner_event *ev)
{
    pthread_mutex_lock(&r->lock);
    while (queue_full(r, ev->bytes) && !atomic_load(&r->cancel)) {
        struct timespec ts;
        core_abstime_after_ms(CLOCK_REALTIME, RUNNER_POLL_CAP_MS, &ts);
        pthread_cond_timedwait(&r->cond, &r->lock, &ts);
    }
    if (atomic_load(&r->cancel)) {
        pthread_mutex_unlock(&r->lock);
        runner_event_free(ev);
        return;
    }
    if (r->tail)
        r->tail->next = ev;
    else
        r->head = ev;
    r->tail = ev;
    r->n_events++;
    r->n_bytes += ev->bytes;
    pthread_mutex_unlock(&r->lock);
    wake(r);
}

static void on_event(void *user, const strands_event *ev)
{
    runner *r = user;
    switch (ev->type) {
    case STRANDS_EVENT_INVOCATION_START:
        pthread_mutex_lock(&r->lock);
        r->started = 1;
        pthread_mutex_unlock(&r->lock);
        wake(r);
        break;
    case STRANDS_EVENT_TEXT_DELTA:
    case STRANDS_EVENT_REASONING_DELTA:
    case STRANDS_EVENT_TOOL_START:
    case STRANDS_EVENT_TOOL_END: {
        if (!r->queue_events || atomic_load(&r->cancel)) break;
        runner_event *q = copy_event(ev);
        if (q) {
            push(r, q);
            break;
        }
        /* A stream with a hole in it would be garbage: stop instead. */
        pthread_mutex_lock(&r->lock);
        r->outcome.events_lost = 1;
        pthread_mutex_unlock(&r->lock);
        atomic_store(&r->cancel, 1);
        break;
    }
    default:
        break;
    }
}

static void log_outcome(const runner *r)
{
    const runner_outcome *o = &r->outcome;
    const char *mode = r->queue_events ? " (stream)" : "";
    if (o->status == STRANDS_OK) {
        strands_log(STRANDS_LOG_INFO, "strands.agent", r->request_id,
                    r->session_id, NULL,
                    "Invocation completed successfully%s: stop_reason=%s "
                    "iterations=%d tokens=%lld",
                    mode, strands_stop_reason_name(o->result.stop_reason),
                    o->result.iterations,
                    (long long)o->result.usage.total_tokens);
        return;
    }
    strands_log(o->status == STRANDS_E_BUSY ? STRANDS_LOG_WARN
                                            : STRANDS_LOG_ERROR,
                "strands.agent", r->request_id, r->session_id, NULL,
                "Invocation failed%s: %s: %s", mode,
                server_error_type(&o->error), o->error.message);
}

/* Runs one invocation on the calling worker. */
static void run(runner *r)
{
    strands_event_sink sinks[] = {
        {on_event, r},
        invocation_metrics_sink(&r->metrics, r->queue_events),
        strands_trace_sink(r->trace)};
    strands_invocation inv = {
        .session_id = r->session_id,
        .invocation_id = r->request_id,
        .prompt = r->prompt,
        .sinks = sinks,
        .n_sinks = sizeof sinks / sizeof sinks[0],
        .cancelled = &r->cancel,
        .stream = r->queue_events,
        .actor_id = r->actor_id[0] ? r->actor_id : NULL,
        .request = r->request,
        .output_schema = r->output_schema,
        .client_tools = r->client_tools,
    };
    strands_agent_result result;
    strands_error err;
    strands_error_clear(&err);
    strands_status st = strands_agent_invoke(r->set->cfg.agent, &inv,
                                             &result, &err);
    strands_trace_end(r->trace);
    r->trace = NULL;
    pthread_mutex_lock(&r->lock);
    r->outcome.status = st;
    r->outcome.started = r->started;
    if (st == STRANDS_OK)
        r->outcome.result = result;
    else
        r->outcome.error = err;
    pthread_mutex_unlock(&r->lock);
    log_outcome(r);
    pthread_mutex_lock(&r->lock);
    r->finished = 1;
    pthread_cond_broadcast(&r->cond);
    pthread_mutex_unlock(&r->lock);
    wake(r);
    /* The last touch of r: after this, runner_release may free it. Waiters
     * for an abandoned session also learn here that its claim is gone. */
    runner_set *s = r->set;
    pthread_mutex_lock(&s->lock);
    r->worker_done = 1;
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->lock);
}

/* A pool thread: takes queued runners one at a time; an idle worker
 * beyond RUNNER_IDLE_KEEP leaves after RUNNER_IDLE_EXIT_MS.              */
static void *worker_main(void *arg)
{
    worker *w = arg;
    runner_set *s = w->set;
    pthread_mutex_lock(&s->lock);
    for (;;) {
        if (s->queue) {
            runner *r = s->queue;
            s->queue = r->qnext;
            if (!s->queue) s->queue_tail = NULL;
            r->qnext = NULL;
            pthread_mutex_unlock(&s->lock);
            run(r);
            pthread_mutex_lock(&s->lock);
            continue;
        }
        if (s->stopping) break;
        s->n_idle++;
        int timed_out = 0;
        if (s->n_idle > RUNNER_IDLE_KEEP) {
            struct timespec ts;
            core_abstime_after_ms(CLOCK_REALTIME, RUNNER_IDLE_EXIT_MS, &ts);
            timed_out = pthread_cond_timedwait(&s->work, &s->lock, &ts) ==
                        ETIMEDOUT;
        } else {
            pthread_cond_wait(&s->work, &s->lock);
        }
        s->n_idle--;
        if (timed_out && !s->queue && s->n_idle >= RUNNER_IDLE_KEEP) break;
    }
    /* Leave the running list for the dead list: someone joins us. */
    for (worker **p = &s->workers; *p; p = &(*p)->next) {
        if (*p != w) continue;
        *p = w->next;
        break;
    }
    w->next = s->dead;
    s->dead = w;
    s->n_workers--;
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->lock);
    strands_aws_thread_done(); /* free this thread's crypto state */
    return NULL;
}

/* Takes the dead list (under s->lock); join_dead joins it after unlock. */
static worker *take_dead(runner_set *s)
{
    worker *d = s->dead;
    s->dead = NULL;
    return d;
}

static void join_dead(worker *d)
{
    while (d) {
        worker *next = d->next;
        pthread_join(d->thread, NULL);
        free(d);
        d = next;
    }
}

/* Starts one more worker (under s->lock). 0, or -1 when no thread could
 * be created.                                                           */
static int start_worker(runner_set *s)
{
    worker *w = calloc(1, sizeof *w);
    if (!w) return -1;
    w->set = s;
    if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
        free(w);
        return -1;
    }
    w->next = s->workers; /* worker_main reads it only under s->lock */
    s->workers = w;
    s->n_workers++;
    return 0;
}

/* ---- the hang-up watcher ----------------------------------------------- */

/* Runners that run on their caller's thread (runner_run) cannot watch
 * their client themselves: one watcher thread per set does, with epoll.
 * An entry carries the runner's id, never its pointer, so a hang-up that
 * races with the end of the invocation finds nothing instead of freed
 * memory.                                                               */

#define WATCH_WAKE_ID 0 /* the set's own eventfd: time to stop */

/* Cancels the runner with this id, if it is still in the set. */
static void cancel_by_id(runner_set *s, uint64_t id)
{
    pthread_mutex_lock(&s->lock);
    for (runner *r = s->head; r; r = r->next)
        if (r->id == id) {
            runner_cancel(r);
            break;
        }
    pthread_mutex_unlock(&s->lock);
}

static void *watch_main(void *arg)
{
    runner_set *s = arg;
    for (;;) {
        struct epoll_event evs[16];
        int n = epoll_wait(s->watch_epfd, evs, 16, -1);
        if (n < 0 && errno != EINTR) break;
        for (int i = 0; i < n; i++) {
            if (evs[i].data.u64 == WATCH_WAKE_ID) {
                pthread_mutex_lock(&s->lock);
                int stop = s->watch_stop;
                pthread_mutex_unlock(&s->lock);
                if (stop) return NULL;
                continue;
            }
            cancel_by_id(s, evs[i].data.u64);
        }
    }
    return NULL;
}

/* Starts the watcher on first use (under s->lock). 0, or -1 when it
 * cannot: the caller then runs without hang-up detection.              */
static int watch_start(runner_set *s)
{
    if (s->watch_started) return 0;
    s->watch_epfd = epoll_create1(EPOLL_CLOEXEC);
    s->watch_wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN,
                             .data.u64 = WATCH_WAKE_ID};
    if (s->watch_epfd < 0 || s->watch_wake < 0 ||
        epoll_ctl(s->watch_epfd, EPOLL_CTL_ADD, s->watch_wake, &ev) != 0 ||
        pthread_create(&s->watch_thread, NULL, watch_main, s) != 0) {
        if (s->watch_epfd >= 0) close(s->watch_epfd);
        if (s->watch_wake >= 0) close(s->watch_wake);
        s->watch_epfd = s->watch_wake = -1;
        return -1;
    }
    s->watch_started = 1;
    return 0;
}

static void watch_stop(runner_set *s)
{
    pthread_mutex_lock(&s->lock);
    int started = s->watch_started;
    s->watch_stop = 1;
    pthread_mutex_unlock(&s->lock);
    if (!started) return;
    uint64_t one = 1;
    ssize_t w = write(s->watch_wake, &one, sizeof one);
    (void)w;
    pthread_join(s->watch_thread, NULL);
    close(s->watch_epfd);
    close(s->watch_wake);
}

/* ---- the runner ------------------------------------------------------ */

/* A new runner, registered in the set (counted, cancelled with the rest);
 * NULL with err. `pooled`: it gets an eventfd for its consumer.         */
static runner *runner_new(runner_set *s, const runner_request *rq,
                          int pooled, strands_error *err)
{
    if (!rq->session_id || !rq->request_id || !json_is_array(rq->prompt) ||
        strlen(rq->session_id) > RUNNER_SESSION_MAX ||
        strlen(rq->request_id) > RUNNER_REQUEST_ID_MAX ||
        (rq->actor_id &&
         strnlen(rq->actor_id, RUNNER_ACTOR_ID_MAX + 1) > RUNNER_ACTOR_ID_MAX)) {
        strands_error_set(err, STRANDS_E_INVALID, NULL,
                          "runner: bad session id, request id, actor id or "
                          "prompt");
        return NULL;
    }
    runner *r = calloc(1, sizeof *r);
    if (!r) {
        strands_error_set(err, STRANDS_E_NOMEM, NULL, "out of memory");
        return NULL;
    }
    r->wake_fd = pooled ? eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC) : -1;
    if (pooled && r->wake_fd < 0) {
        free(r);
        strands_error_set(err, STRANDS_E_UNAVAILABLE, NULL,
                          "cannot create an event descriptor: %s",
                          strerror(errno));
        return NULL;
    }
    pthread_mutex_init(&r->lock, NULL);
    pthread_cond_init(&r->cond, NULL);
    r->set = s;
    r->queue_events = rq->stream;
    /* Copies, not references: the caller drops its own on its thread
     * while ours are dropped on another, and a jansson reference count is
     * not safe to share between threads (json_decref reads it without an
     * atomic load; ThreadSanitizer reports the pair).                  */
    r->prompt = json_deep_copy(rq->prompt);
    r->output_schema = json_deep_copy(rq->output_schema);
    r->client_tools = json_deep_copy(rq->client_tools);
    if (!r->prompt || (rq->output_schema && !r->output_schema) ||
        (rq->client_tools && !r->client_tools) ||
        (rq->request && !(r->request = tools_request_context_dup(rq->request)))) {
        strands_error_set(err, STRANDS_E_NOMEM, NULL, "out of memory");
        goto fail;
    }
    snprintf(r->session_id, sizeof r->session_id, "%s", rq->session_id);
    snprintf(r->request_id, sizeof r->request_id, "%s", rq->request_id);
    if (rq->actor_id)
        snprintf(r->actor_id, sizeof r->actor_id, "%s", rq->actor_id);

    pthread_mutex_lock(&s->lock);
    if (s->count >= s->cfg.max_runners) {
        pthread_mutex_unlock(&s->lock);
        strands_error_set(err, STRANDS_E_UNAVAILABLE, "ServerBusy",
                          "too many invocations in flight (%d)",
                          s->cfg.max_runners);
        goto fail;
    }
    /* A worker for a pooled runner: an idle one, else a new one. Workers
     * already busy would only get to it after their own invocations.    */
    if (pooled && s->n_idle == 0 && start_worker(s) != 0 &&
        s->n_workers == 0) {
        pthread_mutex_unlock(&s->lock);
        strands_error_set(err, STRANDS_E_UNAVAILABLE, "ServiceUnavailable",
                          "cannot start an invocation thread");
        goto fail;
    }
    if (s->cancel_all) atomic_store(&r->cancel, 1);
    r->id = ++s->next_id;
    r->trace = s->cfg.tracer
                   ? strands_trace_begin(s->cfg.tracer, rq->traceparent,
                                         rq->xray, r->session_id, NULL,
                                         s->cfg.model_id)
                   : NULL;
    r->next = s->head;
    if (s->head) s->head->prev = r;
    s->head = r;
    s->count++;
    if (pooled) {
        if (s->queue_tail)
            s->queue_tail->qnext = r;
        else
            s->queue = r;
        s->queue_tail = r;
        pthread_cond_signal(&s->work);
    }
    worker *dead = take_dead(s);
    pthread_mutex_unlock(&s->lock);
    join_dead(dead);
    return r;
fail:
    json_decref(r->prompt);
    json_decref(r->output_schema);
    json_decref(r->client_tools);
    tools_request_context_free(r->request);
    if (r->wake_fd >= 0) close(r->wake_fd);
    pthread_cond_destroy(&r->cond);
    pthread_mutex_destroy(&r->lock);
    free(r);
    return NULL;
}

runner *runner_start(runner_set *s, const runner_request *rq,
                     strands_error *err)
{
    return runner_new(s, rq, 1, err);
}

runner *runner_run(runner_set *s, const runner_request *rq, int watch_fd,
                   strands_error *err)
{
    runner *r = runner_new(s, rq, 0, err);
    if (!r) return NULL;
    int watched = 0;
    if (watch_fd >= 0) {
        pthread_mutex_lock(&s->lock);
        int ok = watch_start(s) == 0;
        pthread_mutex_unlock(&s->lock);
        struct epoll_event ev = {.events = EPOLLRDHUP | EPOLLONESHOT,
                                 .data.u64 = r->id};
        watched = ok && epoll_ctl(s->watch_epfd, EPOLL_CTL_ADD, watch_fd,
                                  &ev) == 0;
    }
    run(r);
    if (watched) epoll_ctl(s->watch_epfd, EPOLL_CTL_DEL, watch_fd, NULL);
    return r;
}

/* What a consumer waits for. */
typedef enum { WANT_EVENT, WANT_STARTED, WANT_END } want;

/* Checks the state under the lock; RUNNER_TIMEOUT means "keep waiting". */
static runner_wait check(runner *r, want w, runner_event **out)
{
    runner_wait res = RUNNER_TIMEOUT;
    pthread_mutex_lock(&r->lock);
    if (w == WANT_END) {
        while (r->head) {
            runner_event *ev = r->head;
            r->head = ev->next;
            runner_event_free(ev);
        }
        r->tail = NULL;
        r->n_events = r->n_bytes = 0;
        pthread_cond_broadcast(&r->cond);
    }
    if (w == WANT_EVENT && r->head) {
        runner_event *ev = r->head;
        r->head = ev->next;
        if (!r->head) r->tail = NULL;
        ev->next = NULL;
        r->n_events--;
        r->n_bytes -= ev->bytes;
        *out = ev;
        pthread_cond_broadcast(&r->cond);
        res = RUNNER_EVENT;
    } else if (w == WANT_STARTED && r->started) {
        res = RUNNER_STARTED;
    } else if (r->finished && !r->head) {
        res = RUNNER_END;
    }
    pthread_mutex_unlock(&r->lock);
    return res;
}

static runner_wait wait_for(runner *r, want w, long timeout_ms, int watch_fd,
                            runner_event **out)
{
    int64_t deadline = strands_clock_mono_ms() + (timeout_ms > 0 ? timeout_ms
                                                                 : 0);
    for (;;) {
        drain_wake(r);
        runner_wait res = check(r, w, out);
        if (res != RUNNER_TIMEOUT) return res;
        long left = RUNNER_POLL_CAP_MS;
        if (timeout_ms >= 0) {
            int64_t l = deadline - strands_clock_mono_ms();
            if (l <= 0) return RUNNER_TIMEOUT;
            if (l < left) left = (long)l;
        }
        struct pollfd p[2] = {{.fd = r->wake_fd, .events = POLLIN},
                              {.fd = watch_fd, .events = POLLRDHUP}};
        int n = poll(p, watch_fd >= 0 ? 2 : 1, (int)left);
        if (n > 0 && watch_fd >= 0 &&
            (p[1].revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)))
            return RUNNER_HANGUP;
    }
}

runner_wait runner_next(runner *r, long timeout_ms, int watch_fd,
                        runner_event **out)
{
    *out = NULL;
    return wait_for(r, WANT_EVENT, timeout_ms, watch_fd, out);
}

runner_wait runner_wait_started(runner *r, long timeout_ms, int watch_fd)
{
    return wait_for(r, WANT_STARTED, timeout_ms, watch_fd, NULL);
}

runner_wait runner_wait_end(runner *r, long timeout_ms, int watch_fd)
{
    return wait_for(r, WANT_END, timeout_ms, watch_fd, NULL);
}

const runner_outcome *runner_get_outcome(runner *r)
{
    pthread_mutex_lock(&r->lock);
    int done = r->finished;
    pthread_mutex_unlock(&r->lock);
    return done ? &r->outcome : NULL;
}

void runner_cancel(runner *r)
{
    atomic_store(&r->cancel, 1);
    pthread_mutex_lock(&r->lock);
    pthread_cond_broadcast(&r->cond);
    pthread_mutex_unlock(&r->lock);
    /* Waiters for this session stop waiting only once it has ended. */
}

void runner_release(runner *r)
{
    if (!r) return;
    pthread_mutex_lock(&r->lock);
    int done = r->finished;
    pthread_mutex_unlock(&r->lock);
    if (!done) runner_cancel(r);
    runner_set *s = r->set;
    pthread_mutex_lock(&s->lock);
    /* Its worker is done with it once worker_done is set (the thread
     * itself goes on serving; runner_set_free joins it).               */
    while (!r->worker_done) pthread_cond_wait(&s->cond, &s->lock);
    if (r->prev)
        r->prev->next = r->next;
    else
        s->head = r->next;
    if (r->next) r->next->prev = r->prev;
    int idle = --s->count == 0;
    int64_t now = strands_clock_mono_ms();
    /* When the last invocation ends, hand freed heap back to the OS (at
     * most once a second), so RSS falls back after a burst of load.     */
    int trim = idle && now - s->last_trim_ms >= 1000;
    if (trim) s->last_trim_ms = now;
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->lock);

    while (r->head) {
        runner_event *ev = r->head;
        r->head = ev->next;
        runner_event_free(ev);
    }
    if (r->outcome.status == STRANDS_OK)
        strands_agent_result_cleanup(&r->outcome.result);
    json_decref(r->prompt);
    json_decref(r->output_schema);
    json_decref(r->client_tools);
    tools_request_context_free(r->request);
    if (r->wake_fd >= 0) close(r->wake_fd);
    pthread_cond_destroy(&r->cond);
    pthread_mutex_destroy(&r->lock);
    free(r);
    if (trim) malloc_trim(0);
}

/* ---- the set ----------------------------------------------------------- */

runner_set *runner_set_new(const runner_set_config *cfg)
{
    runner_set *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->cfg = *cfg;
    if (!s->cfg.queue_max_events) s->cfg.queue_max_events = RUNNER_QUEUE_EVENTS;
    if (!s->cfg.queue_max_bytes) s->cfg.queue_max_bytes = RUNNER_QUEUE_BYTES;
    if (s->cfg.max_runners <= 0) s->cfg.max_runners = RUNNER_MAX;
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->cond, NULL);
    pthread_cond_init(&s->work, NULL);
    s->watch_epfd = s->watch_wake = -1;
    return s;
}

void runner_set_free(runner_set *s)
{
    if (!s) return;
    runner_set_cancel_all(s);
    pthread_mutex_lock(&s->lock);
    while (s->count > 0) pthread_cond_wait(&s->cond, &s->lock);
    /* Every worker leaves; each is joined, so none outlives the set. */
    s->stopping = 1;
    pthread_cond_broadcast(&s->work);
    while (s->n_workers > 0) pthread_cond_wait(&s->cond, &s->lock);
    worker *dead = take_dead(s);
    pthread_mutex_unlock(&s->lock);
    join_dead(dead);
    watch_stop(s);
    pthread_cond_destroy(&s->work);
    pthread_cond_destroy(&s->cond);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

int runner_set_count(runner_set *s)
{
    pthread_mutex_lock(&s->lock);
    int n = s->count;
    pthread_mutex_unlock(&s->lock);
    return n;
}

int runner_set_wait_idle(runner_set *s, long timeout_ms)
{
    int64_t deadline = strands_clock_mono_ms() + timeout_ms;
    pthread_mutex_lock(&s->lock);
    while (s->count > 0) {
        int64_t left = deadline - strands_clock_mono_ms();
        if (left <= 0) break;
        struct timespec ts;
        core_abstime_after_ms(CLOCK_REALTIME, left < 100 ? left : 100, &ts);
        pthread_cond_timedwait(&s->cond, &s->lock, &ts);
    }
    int n = s->count;
    pthread_mutex_unlock(&s->lock);
    return n;
}

void runner_set_cancel_all(runner_set *s)
{
    pthread_mutex_lock(&s->lock);
    s->cancel_all = 1;
    for (runner *r = s->head; r; r = r->next) runner_cancel(r);
    pthread_mutex_unlock(&s->lock);
}

/* True when a cancelled, still running runner holds session_id. */
static int abandoned_running(runner_set *s, const char *session_id)
{
    for (runner *r = s->head; r; r = r->next) {
        if (!atomic_load(&r->cancel) || strcmp(r->session_id, session_id))
            continue;
        pthread_mutex_lock(&r->lock);
        int running = !r->finished;
        pthread_mutex_unlock(&r->lock);
        if (running) return 1;
    }
    return 0;
}

int runner_set_wait_abandoned(runner_set *s, const char *session_id,
                              long timeout_ms)
{
    int64_t deadline = strands_clock_mono_ms() + timeout_ms;
    pthread_mutex_lock(&s->lock);
    int busy;
    while ((busy = abandoned_running(s, session_id))) {
        int64_t left = deadline - strands_clock_mono_ms();
        if (left <= 0) break;
        struct timespec ts;
        core_abstime_after_ms(CLOCK_REALTIME, left < 100 ? left : 100, &ts);
        pthread_cond_timedwait(&s->cond, &s->lock, &ts);
    }
    pthread_mutex_unlock(&s->lock);
    return !busy;
}
