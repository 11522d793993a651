/* The AGUI-mode message handler of /ws (a ws_app): each client text
 * message is one RunAgentInput (agui_input.c), started as POST
 * /invocations starts it (agui_run_start), and each AG-UI event of the
 * run (agui_encoder.c: RUN_STARTED ... RUN_FINISHED or RUN_ERROR) goes
 * out as one text message, the same objects as the SSE stream. Input
 * that is not a valid RunAgentInput closes the connection with 1003 and
 * the reason (as the AgentCore SDK's AGUIApp does). Runs go one after
 * another: one sent while another runs gets a RUN_ERROR SessionBusy; a
 * client that goes away cancels the running run; a draining server
 * closes with 1001 once the running run has ended. The one-at-a-time
 * slot and its pump thread are ws_slot.c's.                            */
#include <stdlib.h>
#include <string.h>

#include "server/agui.h"
#include "server/ws.h"
#include "strands/util.h"

/* Longest wait for the next event before the pump re-checks. */
#define PUMP_WAIT_MS 1000

typedef struct ws_agui {
    ws_slot slot;                  /* one run at a time */
    /* the running run (written after a claim, before the pump starts) */
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

/* One RUN_ERROR for the run of `in` (not started). */
static void send_run_error(ws_conn *c, const agui_input *in,
                           const char *message, const char *code)
{
    agui_encoder enc;
    agui_encoder_init(&enc, in->thread_id, in->run_id);
    json_t *events = json_array();
    ws_send_docs(c, events,
                 events ? agui_encode_error(&enc, message, code, events) : -1,
                 AGUI_OOM_JSON);
}

/* Ends the run with its last events (NULL and 0: nothing more). */
static void finish(ws_agui *st, runner *r, json_t *events, int rc)
{
    ws_slot_finish(&st->slot, r, events, rc, AGUI_OOM_JSON);
}

/* Sends a run's events (ws_send_docs); -1 when it could not. */
static int send_events(ws_agui *st, json_t *events, int rc)
{
    return ws_send_docs(st->slot.c, events, rc, AGUI_OOM_JSON);
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
    const ws_open_info *info = st->slot.info;
    agui_encoder enc;
    agui_encoder_init(&enc, st->in.thread_id, st->in.run_id);
    strands_error err;
    strands_error_clear(&err);
    int gone = ws_slot_closing(&st->slot);
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
        ws_conn_close(st->slot.c, WS_CLOSE_UNSUPPORTED, reason);
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
    ws_slot_attach(&st->slot, r);
    /* A run refused before the agent began (a busy session) is one
     * RUN_ERROR, with no RUN_STARTED before it. */
    runner_wait w = runner_wait_started(r, -1, -1);
    const runner_outcome *o = runner_get_outcome(r);
    if (w == RUNNER_END && o && o->status != STRANDS_OK && !o->started) {
        finish(st, r, events,
               events ? agui_encode_finish(&enc, o, events) : -1);
        return NULL;
    }
    int failed = send_events(
        st, events, events ? agui_encode_start(&enc, st->in.state, events) : -1);
    for (;;) {
        if (failed) runner_cancel(r); /* a hole would be garbage */
        runner_event *ev = NULL;
        w = runner_next(r, PUMP_WAIT_MS, -1, &ev);
        if (w == RUNNER_END) break;
        if (w != RUNNER_EVENT) continue;
        if (!failed) {
            events = json_array();
            failed = send_events(st, events,
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

/* Frees the last run's input (its pump is joined). */
static void run_done(void *app)
{
    ws_agui *st = app;
    agui_input_cleanup(&st->in);
}

static void *wa_open(ws_conn *c, const ws_open_info *info, strands_error *err)
{
    ws_agui *st = calloc(1, sizeof *st);
    if (!st) {
        strands_error_set(err, STRANDS_E_NOMEM, NULL, "out of memory");
        return NULL;
    }
    ws_slot_init(&st->slot, c, info, run_done, st);
    return st;
}

/* Starts the run of in (taken, on success or not). */
static void start_run(ws_agui *st, agui_input *in)
{
    switch (ws_slot_claim(&st->slot)) {
    case WS_CLAIM_BUSY:
        send_run_error(st->slot.c, in, "a run is already running on this "
                                       "connection; wait for its "
                                       "RUN_FINISHED or RUN_ERROR",
                       "SessionBusy");
        agui_input_cleanup(in);
        return;
    case WS_CLAIM_DRAINING:
        send_run_error(st->slot.c, in, "the runtime is shutting down",
                       "ServiceUnavailable");
        agui_input_cleanup(in);
        return;
    case WS_CLAIM_OK:
        break;
    }
    st->in = *in;
    memset(in, 0, sizeof *in);
    strands_uuid4(st->request_id);
    if (ws_slot_start(&st->slot, pump_main) != 0) {
        send_run_error(st->slot.c, &st->in, "cannot start a run thread",
                       "ServiceUnavailable");
        run_done(st);
    }
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
        ws_conn_send_text(st->slot.c, AGUI_OOM_JSON, strlen(AGUI_OOM_JSON));
        break;
    default: {
        char reason[WS_CLOSE_REASON_MAX + 1];
        ws_close_reason_cut(why, reason, sizeof reason);
        ws_conn_close(st->slot.c, WS_CLOSE_UNSUPPORTED, reason);
        break;
    }
    }
}

static int wa_busy(void *app)
{
    ws_agui *st = app;
    return ws_slot_busy(&st->slot);
}

static void wa_close(void *app)
{
    ws_agui *st = app;
    ws_slot_close(&st->slot);
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
