/* POST /invocations in AGUI mode (SERVER_PROTOCOL=AGUI): a RunAgentInput
 * (agui_input.c) starts a streaming runner on the thread's session, and
 * the AG-UI events (agui_encoder.c) go out as Server-Sent Events, one
 * `data: <json>\n\n` frame each, with `: keep-alive` comments while
 * nothing else is said. Bad input is a 400 naming the field; a failure
 * before the agent began (busy session, no capacity) keeps its own HTTP
 * status; after that it is a RUN_ERROR event. A client that hangs up
 * cancels the run. The tools of the input are offered to the model as
 * front-end tools: a call to one ends the run with TOOL_CALL_START, ARGS,
 * END and RUN_FINISHED, and the client answers in its next run.       */
#include <stdlib.h>
#include <string.h>

#include "server/agui.h"

/* Appends the frames of the events an encoder call appended (rc its
 * result); out of memory ends the stream with a RUN_ERROR frame.       */
static int add_frames(dynbuf *out, json_t *events, int rc)
{
    size_t len = 0;
    int empty = events && rc == 0 && json_array_size(events) == 0;
    char *f = events && rc == 0 && !empty ? agui_sse_frames(events, &len)
                                          : NULL;
    json_decref(events);
    if (empty) return 0; /* nothing to say for this event */
    int ok = f && dynbuf_append(out, f, len) == STRANDS_OK;
    free(f);
    if (ok) return 0;
    return dynbuf_puts(out, agui_oom_frame) == STRANDS_OK ? 1 : -1;
}

static int on_event(void *user, const runner_event *ev, dynbuf *out)
{
    agui_encoder *enc = user;
    json_t *events = json_array();
    return add_frames(out, events,
                      events ? agui_encode_event(enc, ev, events) : -1);
}

static int on_end(void *user, runner *r, dynbuf *out)
{
    agui_encoder *enc = user;
    const runner_outcome *o = runner_get_outcome(r);
    json_t *events = json_array();
    int rc = !events ? -1
             : o->events_lost
                 ? agui_encode_error(enc, "events were lost (out of memory)",
                                     "InternalError", events)
                 : agui_encode_finish(enc, o, events);
    return add_frames(out, events, rc) < 0 ? -1 : 1;
}

static void on_free(void *user, runner *r)
{
    (void)r;
    free(user);
}

static const sse_pump_ops ops = {on_event, on_end, on_free};

/* Streams the started runner r (released here or by the response);
 * state is the input's (borrowed; NULL: none). */
static enum MHD_Result stream(handler_ctx *h, runner *r, const char *run_id,
                              const json_t *state)
{
    request_ctx *ctx = h->req;
    enum MHD_Result ret;
    if (!sse_pump_wait_started(h, r, &ret)) return ret;
    agui_encoder *enc = malloc(sizeof *enc);
    json_t *events = enc ? json_array() : NULL;
    if (!events) {
        free(enc);
        runner_release(r);
        return server_send_error(h->conn, ctx, 500, "InternalError",
                                 "out of memory");
    }
    agui_encoder_init(enc, ctx->session_id, run_id);
    dynbuf pre; /* RUN_STARTED (and the state) opens the stream */
    dynbuf_init(&pre, (size_t)1 << 20);
    if (add_frames(&pre, events, agui_encode_start(enc, state, events)) !=
        0) {
        dynbuf_cleanup(&pre);
        free(enc);
        runner_release(r);
        return server_send_error(h->conn, ctx, 500, "InternalError",
                                 "out of memory");
    }
    return sse_pump_start(h, r, &ops, enc, SERVER_SESSION_HEADER,
                          ctx->session_id, &pre);
}

enum MHD_Result agui_handle(handler_ctx *h)
{
    request_ctx *ctx = h->req;
    char why[256];
    agui_input in;
    request_verdict v = agui_input_parse(dynbuf_str(&ctx->body),
                                         ctx->body.len, &in, why, sizeof why);
    if (v != REQUEST_OK) return server_send_verdict(h, v, why);
    const char *actor = server_header(h, SERVER_USER_HEADER);
    if (!request_actor_id(actor, why, sizeof why)) {
        agui_input_cleanup(&in);
        return server_send_error(h->conn, ctx, 400, "ValidationError", why);
    }
    memcpy(ctx->session_id, in.thread_id, sizeof ctx->session_id);
    strands_request_header hdrs[STRANDS_REQUEST_HEADERS_MAX];
    strands_request_context rc = {hdrs, server_request_context(h, hdrs)};
    agui_origin from = {
        .request_id = ctx->request_id,
        .traceparent = server_header(h, "traceparent"),
        .xray = server_header(h, "X-Amzn-Trace-Id"),
        .actor_id = actor,
        .request = rc.n_headers ? &rc : NULL,
    };
    strands_error err;
    strands_error_clear(&err);
    runner *r = agui_run_start(h->srv, &in, &from, &err);
    char run_id[AGUI_RUN_ID_MAX + 1];
    memcpy(run_id, in.run_id, sizeof run_id);
    json_t *state = json_incref(in.state);
    agui_input_cleanup(&in);
    enum MHD_Result ret;
    if (!r && err.status == STRANDS_E_INVALID)
        ret = server_send_error(h->conn, ctx, 400, "ValidationError",
                                err.message);
    else if (!r)
        ret = server_send_start_error(h, &err);
    else
        ret = stream(h, r, run_id, state);
    json_decref(state);
    return ret;
}
