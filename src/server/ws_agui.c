/* The AGUI-mode message handler of /ws (a ws_app): each client text
 * message is one RunAgentInput (agui_input.c), started as POST
 * /invocations starts it (agui_run_start), and each AG-UI event of the
 * run (agui_encoder.c: RUN_STARTED ... RUN_FINISHED or RUN_ERROR) goes
 * out as one text message, the same objects as the SSE stream. Input
 * that is not a valid RunAgentInput closes the connection with 1003 and
 * the reason (as the AgentCore SDK's AGUIApp does). Runs go one after
 * another: one sent while another runs gets a RUN_ERROR SessionBusy; a
 * client that goes away cancels the running run; a draining server
 * closes with 1001 once the running run has ended. A pump thread per run
 * moves the runner's events to the connection, so the connection's
 * thread keeps reading meanwhile.                                      */
#include <stdlib.h>
#include <string.h>

#include "server/agui.h"
#include "server/ws.h"
#include "strands/util.h"

/* Longest wait for the next event before the pump re-checks. */
#define PUMP_WAIT_MS 1000

typedef struct ws_agui {
    ws_conn *c;
    const ws_open_info *info;      /* the connection's; outlives us */
    pthread_mutex_t lock;
    pthread_t pump;
    int pump_joinable;             /* connection thread only */
    /* under lock */
    int running;                   /* a run is in flight */
    int closing;                   /* the connection is ending */
    runner *r;                     /* the running run's runner, or NULL */
    /* the running run (written before the pump starts) */
    agui_input in;
    char request_id[37];
} ws_agui;

size_t ws_close_reason_cut(const char *reason, char *out, size_t outsz)
{
    if (!outsz) return 0;
    size_t n = strlen(reason);
    size_t max = outsz - 1 < WS_CLOSE_REASON_MAX ? outsz - 1
                                                 : WS_CLOSE_REASON_MAX;
    if (n > max) {
        n = max;
        /* back off continuation bytes, then the lead byte they follow */
        while (n > 0 && ((unsigned char)reason[n] & 0xC0) == 0x80) n--;
    }
    memcpy(out, reason, n);
    out[n] = '\0';
    return n;
}

/* Sends each event of `events` (a JSON array; rc the encoder's result)
 * as one text message. On out of memory (rc != 0, or an event that
 * cannot be written) the fixed RUN_ERROR goes out instead of the rest
 * and -1 is returned; -1 too when the connection no longer takes
 * messages. Takes events.                                              */
static int send_events(ws_conn *c, json_t *events, int rc)
{
    int ret = events && rc == 0 ? 0 : -1;
    size_t i;
    json_t *ev;
    json_array_foreach(events, i, ev) {
        if (ret) break;
        size_t len = 0;
        char *text = server_json_text(ev, &len);
        if (!text) {
            ret = -1;
            break;
        }
        if (ws_conn_send_text(c, text, len) != 0) {
            free(text);
            json_decref(events);
            return -1;
        }
        free(text);
    }
    json_decref(events);
    if (ret)
        ws_conn_send_text(c, AGUI_OOM_JSON, strlen(AGUI_OOM_JSON));
    return ret;
}

/* One RUN_ERROR for the run of `in` (not started). */
static void send_run_error(ws_conn *c, const agui_input *in,
                           const char *message, const char *code)
{
    agui_encoder enc;
    agui_encoder_init(&enc, in->thread_id, in->run_id);
    json_t *events = json_array();
    send_events(c, events,
                events ? agui_encode_error(&enc, message, code, events) : -1);
}

/* Ends the run: its last events are queued and the run stops being busy
 * in one step (under the lock busy and start_run take), so a run sent
 * after the client read RUN_FINISHED is never refused as busy, and a
 * draining connection closes only after the last event. events may be
 * NULL (nothing more to say).                                          */
static void finish(ws_agui *st, runner *r, json_t *events, int rc)
{
    pthread_mutex_lock(&st->lock);
    st->r = NULL;
    pthread_mutex_unlock(&st->lock);
    if (r) runner_release(r);
    pthread_mutex_lock(&st->lock);
    if (events || rc) send_events(st->c, events, rc);
    st->running = 0;
    pthread_mutex_unlock(&st->lock);
    ws_conn_wake(st->c);
}

/* The error code of a run that could not start. */
static const char *start_error_code(const strands_error *err)
{
    return err->status == STRANDS_E_NOMEM ? "InternalError"
                                          : server_error_type(err);
}

static void *pump_main(void *arg)
{
    ws_agui *st = arg;
    const ws_open_info *info = st->info;
    agui_encoder enc;
    agui_encoder_init(&enc, st->in.thread_id, st->in.run_id);
    strands_error err;
    strands_error_clear(&err);
    pthread_mutex_lock(&st->lock);
    int gone = st->closing;
    pthread_mutex_unlock(&st->lock);
    agui_origin from = {.request_id = st->request_id,
                        .traceparent = info->traceparent,
                        .xray = info->xray,
                        .actor_id = info->actor_id,
                        .request = info->request};
    if (gone)
        strands_error_set(&err, STRANDS_E_CANCELLED, NULL,
                          "the connection closed");
    runner *r = gone ? NULL : agui_run_start(info->srv, &st->in, &from, &err);
    if (!r && err.status == STRANDS_E_INVALID) {
        char reason[WS_CLOSE_REASON_MAX + 1];
        ws_close_reason_cut(err.message, reason, sizeof reason);
        ws_conn_close(st->c, WS_CLOSE_UNSUPPORTED, reason);
        finish(st, NULL, NULL, 0);
        return NULL;
    }
    json_t *events = json_array();
    if (!r) {
        finish(st, NULL, events,
               events ? agui_encode_error(&enc, err.message,
                                          start_error_code(&err), events)
                      : -1);
        return NULL;
    }
    pthread_mutex_lock(&st->lock);
    st->r = r;
    if (st->closing) runner_cancel(r);
    pthread_mutex_unlock(&st->lock);
    /* A run refused before the agent began (a busy session) is one
     * RUN_ERROR, with no RUN_STARTED before it. */
    runner_wait w = runner_wait_started(r, -1, -1);
    const runner_outcome *o = runner_get_outcome(r);
    if (w == RUNNER_END && o && o->status != STRANDS_OK && !o->started) {
        finish(st, r, events,
               events ? agui_encode_finish(&enc, o, events) : -1);
        return NULL;
    }
    int failed = send_events(st->c, events,
                             events ? agui_encode_start(&enc, events) : -1);
    for (;;) {
        if (failed) runner_cancel(r); /* a hole would be garbage */
        runner_event *ev = NULL;
        w = runner_next(r, PUMP_WAIT_MS, -1, &ev);
        if (w == RUNNER_END) break;
        if (w != RUNNER_EVENT) continue;
        if (!failed) {
            events = json_array();
            failed = send_events(st->c, events,
                                 events ? agui_encode_event(&enc, ev, events)
                                        : -1);
        }
        runner_event_free(ev);
    }
    if (failed) {
        finish(st, r, NULL, 0);
        return NULL;
    }
    o = runner_get_outcome(r);
    events = json_array();
    int rc = !events ? -1
             : o->events_lost
                 ? agui_encode_error(&enc, "events were lost (out of memory)",
                                     "InternalError", events)
                 : agui_encode_finish(&enc, o, events);
    finish(st, r, events, rc);
    return NULL;
}

static void *wa_open(ws_conn *c, const ws_open_info *info, strands_error *err)
{
    ws_agui *st = calloc(1, sizeof *st);
    if (!st) {
        strands_error_set(err, STRANDS_E_NOMEM, NULL, "out of memory");
        return NULL;
    }
    st->c = c;
    st->info = info;
    pthread_mutex_init(&st->lock, NULL);
    return st;
}

/* Joins the last run's pump (it has finished or is finishing). */
static void join_pump(ws_agui *st)
{
    if (!st->pump_joinable) return;
    pthread_join(st->pump, NULL);
    st->pump_joinable = 0;
    agui_input_cleanup(&st->in);
}

/* Starts the run of in (taken, on success or not). */
static void start_run(ws_agui *st, agui_input *in)
{
    pthread_mutex_lock(&st->lock);
    int busy = st->running;
    if (!busy) st->running = 1;
    pthread_mutex_unlock(&st->lock);
    if (busy) {
        send_run_error(st->c, in, "a run is already running on this "
                                  "connection; wait for its RUN_FINISHED "
                                  "or RUN_ERROR",
                       "SessionBusy");
        agui_input_cleanup(in);
        return;
    }
    if (atomic_load(&st->info->srv->draining)) {
        pthread_mutex_lock(&st->lock);
        st->running = 0;
        pthread_mutex_unlock(&st->lock);
        send_run_error(st->c, in, "the runtime is shutting down",
                       "ServiceUnavailable");
        agui_input_cleanup(in);
        return;
    }
    join_pump(st);
    st->in = *in;
    memset(in, 0, sizeof *in);
    strands_uuid4(st->request_id);
    if (pthread_create(&st->pump, NULL, pump_main, st) != 0) {
        pthread_mutex_lock(&st->lock);
        st->running = 0;
        pthread_mutex_unlock(&st->lock);
        send_run_error(st->c, &st->in, "cannot start a run thread",
                       "ServiceUnavailable");
        agui_input_cleanup(&st->in);
        return;
    }
    st->pump_joinable = 1;
}

static void wa_message(void *app, const char *text, size_t len)
{
    ws_agui *st = app;
    char why[256];
    agui_input in;
    switch (agui_input_parse(text, len, &in, why, sizeof why)) {
    case REQUEST_OK:
        start_run(st, &in);
        break;
    case REQUEST_NOMEM:
        ws_conn_send_text(st->c, AGUI_OOM_JSON, strlen(AGUI_OOM_JSON));
        break;
    default: {
        char reason[WS_CLOSE_REASON_MAX + 1];
        ws_close_reason_cut(why, reason, sizeof reason);
        ws_conn_close(st->c, WS_CLOSE_UNSUPPORTED, reason);
        break;
    }
    }
}

static int wa_busy(void *app)
{
    ws_agui *st = app;
    pthread_mutex_lock(&st->lock);
    int busy = st->running;
    pthread_mutex_unlock(&st->lock);
    return busy;
}

static void wa_close(void *app)
{
    ws_agui *st = app;
    pthread_mutex_lock(&st->lock);
    st->closing = 1;
    if (st->r) runner_cancel(st->r); /* the client is gone: stop */
    pthread_mutex_unlock(&st->lock);
    join_pump(st);
    pthread_mutex_destroy(&st->lock);
    free(st);
}

const ws_app ws_agui_app = {
    .version = WS_APP_VERSION,
    .name = "agui",
    .open = wa_open,
    .message = wa_message,
    .busy = wa_busy,
    .close = wa_close,
};
