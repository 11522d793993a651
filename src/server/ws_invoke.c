/* The HTTP-mode message handler of /ws (a ws_app): each client text
 * message is an invocation body (as POST /invocations takes it) or
 * {"action":"cancel"} (ws_message.c); each prompt runs on a streaming
 * runner and its events go out as one text message each, the same
 * objects as the SSE stream (sse_event.c), ending with `done` or
 * `error`. Prompts run one after another: one sent while another runs
 * gets an `error` event SessionBusy; cancel stops the running one (its
 * `error` event says Cancelled; the agent stores nothing of it). The
 * one-at-a-time slot and its pump thread are ws_slot.c's.              */
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
    ws_slot slot;                  /* one prompt at a time */
    /* the running prompt (written after a claim, before the pump starts) */
    json_t *prompt;
    char session_id[SERVER_SESSION_ID_MAX + 1];
    char invocation_id[37];
} ws_invoke;

static void send_error(ws_conn *c, const char *message, const char *type)
{
    int rc;
    json_t *docs = ws_one_doc(sse_error_json(message, type), &rc);
    ws_send_docs(c, docs, rc, SSE_OOM_JSON);
}

/* Ends the prompt with its last event (taken; NULL when out of memory). */
static void finish(ws_invoke *st, runner *r, json_t *last)
{
    int rc;
    json_t *docs = ws_one_doc(last, &rc);
    ws_slot_finish(&st->slot, r, docs, rc, SSE_OOM_JSON);
}

static void *pump_main(void *arg)
{
    ws_invoke *st = arg;
    const ws_open_info *in = st->slot.info;
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
    int gone = ws_slot_closing(&st->slot);
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
    ws_slot_attach(&st->slot, r);
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
        if (!text || ws_conn_send_text(st->slot.c, text, len) != 0)
            runner_cancel(r);
        free(text);
    }
    finish(st, r,
           sse_final_json(runner_get_outcome(r), st->invocation_id,
                          st->session_id));
    return NULL;
}

/* Frees the last prompt (its pump is joined). */
static void prompt_done(void *app)
{
    ws_invoke *st = app;
    json_decref(st->prompt);
    st->prompt = NULL;
}

static void *wi_open(ws_conn *c, const ws_open_info *info, strands_error *err)
{
    ws_invoke *st = calloc(1, sizeof *st);
    if (!st) {
        strands_error_set(err, STRANDS_E_NOMEM, NULL, "out of memory");
        return NULL;
    }
    ws_slot_init(&st->slot, c, info, prompt_done, st);
    return st;
}

static void start_prompt(ws_invoke *st, request_parsed *p)
{
    switch (ws_slot_claim(&st->slot)) {
    case WS_CLAIM_BUSY:
        send_error(st->slot.c, "an invocation is already running on this "
                               "connection; wait for its done event or "
                               "send {\"action\":\"cancel\"}",
                   "SessionBusy");
        return;
    case WS_CLAIM_DRAINING:
        send_error(st->slot.c, "the runtime is shutting down",
                   "ServiceUnavailable");
        return;
    case WS_CLAIM_OK:
        break;
    }
    st->prompt = p->prompt;
    p->prompt = NULL;
    memcpy(st->session_id, p->session_id, sizeof st->session_id);
    strands_uuid4(st->invocation_id);
    if (ws_slot_start(&st->slot, pump_main) != 0) {
        prompt_done(st);
        send_error(st->slot.c, "cannot start an invocation thread",
                   "ServiceUnavailable");
    }
}

static void wi_message(void *app, const char *text, size_t len)
{
    ws_invoke *st = app;
    char why[256];
    request_parsed p;
    switch (ws_message_parse(text, len, st->slot.info->session_id, &p, why,
                             sizeof why)) {
    case WS_MSG_PROMPT:
        start_prompt(st, &p);
        request_parsed_cleanup(&p);
        break;
    case WS_MSG_CANCEL:
        /* The running prompt answers with its Cancelled error event. */
        if (!ws_slot_cancel(&st->slot))
            send_error(st->slot.c, "no invocation is running",
                       "NotRunning");
        break;
    case WS_MSG_NOT_JSON:
        ws_conn_close(st->slot.c, WS_CLOSE_UNSUPPORTED,
                      "message is not JSON");
        break;
    case WS_MSG_NOMEM:
        send_error(st->slot.c, "out of memory", "InternalError");
        break;
    default:
        send_error(st->slot.c, why, "ValidationError");
        break;
    }
}

static int wi_busy(void *app)
{
    ws_invoke *st = app;
    return ws_slot_busy(&st->slot);
}

static void wi_close(void *app)
{
    ws_invoke *st = app;
    ws_slot_close(&st->slot);
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
