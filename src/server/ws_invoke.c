/* The HTTP-mode message handler of /ws (a ws_app): each client text
 * message is an invocation body (as POST /invocations takes it) or
 * {"action":"cancel"} (ws_message.c); each prompt runs on a streaming
 * runner and its events go out as one text message each, the same
 * objects as the SSE stream (sse_event.c), ending with `done` or
 * `error`. Prompts run one after another: one sent while another runs
 * gets an `error` event SessionBusy; cancel stops the running one (its
 * `error` event says Cancelled; the agent stores nothing of it). A pump
 * thread per prompt moves the runner's events to the connection, so the
 * connection's thread keeps reading (cancel, pings) meanwhile.          */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/runner.h"
#include "server/ws.h"
#include "strands/log.h"
#include "strands/util.h"

/* How long a prompt waits for an abandoned invocation of its session
 * (whose client went away) to give the session back (as /invocations). */
#define ABANDONED_WAIT_MS 5000
/* Longest wait for the next event before the pump re-checks its state. */
#define PUMP_WAIT_MS 1000

typedef struct ws_invoke {
    ws_conn *c;
    const ws_open_info *info;      /* the connection's; outlives us */
    pthread_mutex_t lock;
    pthread_t pump;
    int pump_joinable;             /* connection thread only */
    /* under lock */
    int running;                   /* a prompt is in flight */
    int cancelled;                 /* cancel asked for the running prompt */
    int closing;                   /* the connection is ending */
    runner *r;                     /* the running prompt's runner, or NULL */
    /* the running prompt (written before the pump starts) */
    json_t *prompt;
    char session_id[SERVER_SESSION_ID_MAX + 1];
    char invocation_id[37];
} ws_invoke;

/* Sends doc (stolen) as one text message; the fixed out-of-memory error
 * when it cannot be built.                                              */
static void send_doc(ws_conn *c, json_t *doc)
{
    size_t len = 0;
    char *text = server_json_text(doc, &len);
    json_decref(doc);
    if (text)
        ws_conn_send_text(c, text, len);
    else
        ws_conn_send_text(c, SSE_OOM_JSON, strlen(SSE_OOM_JSON));
    free(text);
}

static void send_error(ws_conn *c, const char *message, const char *type)
{
    send_doc(c, sse_error_json(message, type));
}

/* Ends the prompt: the last event is queued and the prompt stops being
 * busy in one step (under the lock busy and start_prompt take), so a
 * prompt sent after the client read the last event is never refused as
 * busy, and a draining connection closes only after the last event.    */
static void finish(ws_invoke *st, runner *r, json_t *last)
{
    pthread_mutex_lock(&st->lock);
    st->r = NULL;
    pthread_mutex_unlock(&st->lock);
    if (r) runner_release(r);
    pthread_mutex_lock(&st->lock);
    send_doc(st->c, last);
    st->running = 0;
    st->cancelled = 0;
    pthread_mutex_unlock(&st->lock);
    ws_conn_wake(st->c);
}

static void *pump_main(void *arg)
{
    ws_invoke *st = arg;
    const ws_open_info *in = st->info;
    runner_set_wait_abandoned(in->srv->runners, st->session_id,
                              ABANDONED_WAIT_MS);
    runner_request rq = {.session_id = st->session_id,
                         .request_id = st->invocation_id,
                         .prompt = st->prompt,
                         .stream = 1,
                         .traceparent = in->traceparent,
                         .xray = in->xray,
                         .actor_id = in->actor_id,
                         .request = in->request};
    strands_error err;
    strands_error_clear(&err);
    pthread_mutex_lock(&st->lock);
    int gone = st->closing;
    pthread_mutex_unlock(&st->lock);
    if (gone)
        strands_error_set(&err, STRANDS_E_CANCELLED, NULL,
                          "the connection closed");
    runner *r = gone ? NULL : runner_start(in->srv->runners, &rq, &err);
    if (!r) {
        finish(st, NULL,
               sse_error_json(err.message, err.status == STRANDS_E_NOMEM
                                               ? "InternalError"
                                               : server_error_type(&err)));
        return NULL;
    }
    pthread_mutex_lock(&st->lock);
    st->r = r;
    if (st->cancelled || st->closing) runner_cancel(r);
    pthread_mutex_unlock(&st->lock);
    for (;;) {
        runner_event *ev = NULL;
        runner_wait w = runner_next(r, PUMP_WAIT_MS, -1, &ev);
        if (w == RUNNER_END) break;
        if (w != RUNNER_EVENT) continue;
        json_t *doc = sse_event_json(ev);
        runner_event_free(ev);
        size_t len = 0;
        char *text = server_json_text(doc, &len);
        json_decref(doc);
        /* A hole in the stream would be garbage: stop instead. */
        if (!text || ws_conn_send_text(st->c, text, len) != 0)
            runner_cancel(r);
        free(text);
    }
    json_t *last = sse_final_json(runner_get_outcome(r), st->invocation_id,
                                  st->session_id);
    if (!last) last = json_loads(SSE_OOM_JSON, 0, NULL);
    finish(st, r, last);
    return NULL;
}

static void *wi_open(ws_conn *c, const ws_open_info *info, strands_error *err)
{
    ws_invoke *st = calloc(1, sizeof *st);
    if (!st) {
        strands_error_set(err, STRANDS_E_NOMEM, NULL, "out of memory");
        return NULL;
    }
    st->c = c;
    st->info = info;
    pthread_mutex_init(&st->lock, NULL);
    return st;
}

/* Joins the last prompt's pump (it has finished or is finishing). */
static void join_pump(ws_invoke *st)
{
    if (!st->pump_joinable) return;
    pthread_join(st->pump, NULL);
    st->pump_joinable = 0;
    json_decref(st->prompt);
    st->prompt = NULL;
}

static void start_prompt(ws_invoke *st, request_parsed *p)
{
    pthread_mutex_lock(&st->lock);
    int busy = st->running;
    if (!busy) st->running = 1;
    pthread_mutex_unlock(&st->lock);
    if (busy) {
        send_error(st->c, "an invocation is already running on this "
                          "connection; wait for its done event or send "
                          "{\"action\":\"cancel\"}",
                   "SessionBusy");
        return;
    }
    if (atomic_load(&st->info->srv->draining)) {
        pthread_mutex_lock(&st->lock);
        st->running = 0;
        pthread_mutex_unlock(&st->lock);
        send_error(st->c, "the runtime is shutting down",
                   "ServiceUnavailable");
        return;
    }
    join_pump(st);
    st->prompt = p->prompt;
    p->prompt = NULL;
    memcpy(st->session_id, p->session_id, sizeof st->session_id);
    strands_uuid4(st->invocation_id);
    if (pthread_create(&st->pump, NULL, pump_main, st) != 0) {
        json_decref(st->prompt);
        st->prompt = NULL;
        pthread_mutex_lock(&st->lock);
        st->running = 0;
        pthread_mutex_unlock(&st->lock);
        send_error(st->c, "cannot start an invocation thread",
                   "ServiceUnavailable");
        return;
    }
    st->pump_joinable = 1;
}

static void wi_message(void *app, const char *text, size_t len)
{
    ws_invoke *st = app;
    char why[256];
    request_parsed p;
    switch (ws_message_parse(text, len, st->info->session_id, &p, why,
                             sizeof why)) {
    case WS_MSG_PROMPT:
        start_prompt(st, &p);
        request_parsed_cleanup(&p);
        break;
    case WS_MSG_CANCEL: {
        pthread_mutex_lock(&st->lock);
        int running = st->running;
        if (running) {
            st->cancelled = 1;
            if (st->r) runner_cancel(st->r);
        }
        pthread_mutex_unlock(&st->lock);
        /* The running prompt answers with its Cancelled error event. */
        if (!running)
            send_error(st->c, "no invocation is running", "NotRunning");
        break;
    }
    case WS_MSG_NOT_JSON:
        ws_conn_close(st->c, WS_CLOSE_UNSUPPORTED, "message is not JSON");
        break;
    case WS_MSG_NOMEM:
        send_error(st->c, "out of memory", "InternalError");
        break;
    default:
        send_error(st->c, why, "ValidationError");
        break;
    }
}

static int wi_busy(void *app)
{
    ws_invoke *st = app;
    pthread_mutex_lock(&st->lock);
    int busy = st->running;
    pthread_mutex_unlock(&st->lock);
    return busy;
}

static void wi_close(void *app)
{
    ws_invoke *st = app;
    pthread_mutex_lock(&st->lock);
    st->closing = 1;
    if (st->r) runner_cancel(st->r); /* the client is gone: stop */
    pthread_mutex_unlock(&st->lock);
    join_pump(st);
    pthread_mutex_destroy(&st->lock);
    free(st);
}

const ws_app ws_invoke_app = {
    .version = WS_APP_VERSION,
    .name = "invocations",
    .open = wi_open,
    .message = wi_message,
    .busy = wi_busy,
    .close = wi_close,
};
