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
#include "strands/clock.h"

typedef struct agui_stream {
    runner *r;
    int fd;                     /* the connection's socket, -1 if unknown */
    long keepalive_ms;
    int64_t last_output_ms;
    agui_encoder enc;
    char *frame;                /* frames being handed out, or NULL */
    size_t frame_len, frame_off;
    int frame_static;           /* frame is agui_oom_frame: do not free */
    int ended;                  /* the last frame has been formatted */
} agui_stream;

/* Turns the events an encoder call appended (rc its result) into the
 * next frames; out of memory ends the stream with a RUN_ERROR.         */
static void set_frames(agui_stream *st, json_t *events, int rc)
{
    size_t len = 0;
    int empty = events && rc == 0 && json_array_size(events) == 0;
    char *f = events && rc == 0 && !empty ? agui_sse_frames(events, &len)
                                          : NULL;
    json_decref(events);
    st->frame_off = 0;
    st->frame = NULL;
    if (f) {
        st->frame = f;
        st->frame_len = len;
        st->frame_static = 0;
        return;
    }
    if (empty) return; /* nothing to say for this event */
    st->frame = (char *)agui_oom_frame;
    st->frame_len = strlen(agui_oom_frame);
    st->frame_static = 1;
    st->ended = 1;
    runner_cancel(st->r);
}

static ssize_t reader(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    agui_stream *st = cls;
    for (;;) {
        if (st->frame) {
            size_t n = st->frame_len - st->frame_off;
            if (n > max) n = max;
            memcpy(buf, st->frame + st->frame_off, n);
            st->frame_off += n;
            if (st->frame_off == st->frame_len) {
                if (!st->frame_static) free(st->frame);
                st->frame = NULL;
            }
            st->last_output_ms = strands_clock_mono_ms();
            return (ssize_t)n;
        }
        if (st->ended) return MHD_CONTENT_READER_END_OF_STREAM;
        int64_t left = st->keepalive_ms -
                       (strands_clock_mono_ms() - st->last_output_ms);
        if (left <= 0) {
            static const char ka[] = ": keep-alive\n\n";
            size_t n = sizeof ka - 1 < max ? sizeof ka - 1 : max;
            memcpy(buf, ka, n);
            st->last_output_ms = strands_clock_mono_ms();
            return (ssize_t)n;
        }
        runner_event *ev = NULL;
        json_t *events;
        switch (runner_next(st->r, (long)left, st->fd, &ev)) {
        case RUNNER_EVENT:
            events = json_array();
            set_frames(st, events,
                       events ? agui_encode_event(&st->enc, ev, events) : -1);
            runner_event_free(ev);
            break;
        case RUNNER_END: {
            const runner_outcome *o = runner_get_outcome(st->r);
            events = json_array();
            int rc = !events ? -1
                     : o->events_lost
                         ? agui_encode_error(&st->enc,
                                             "events were lost (out of "
                                             "memory)",
                                             "InternalError", events)
                         : agui_encode_finish(&st->enc, o, events);
            st->ended = 1;
            set_frames(st, events, rc);
            break;
        }
        case RUNNER_HANGUP:
            runner_cancel(st->r);
            return MHD_CONTENT_READER_END_WITH_ERROR;
        default:
            break; /* timeout: a keep-alive is due */
        }
    }
}

static void reader_free(void *cls)
{
    agui_stream *st = cls;
    runner_release(st->r);
    if (st->frame && !st->frame_static) free(st->frame);
    free(st);
}

/* Streams the started runner r (released here or by the response). */
static enum MHD_Result stream(handler_ctx *h, runner *r, const char *run_id)
{
    request_ctx *ctx = h->req;
    runner_wait w = runner_wait_started(r, -1, h->fd);
    if (w == RUNNER_HANGUP) {
        runner_release(r);
        return MHD_NO;
    }
    const runner_outcome *o = runner_get_outcome(r);
    if (w == RUNNER_END && o && o->status != STRANDS_OK && !o->started) {
        enum MHD_Result ret = server_send_agent_error(h->conn, ctx,
                                                      &o->error);
        runner_release(r);
        return ret;
    }
    agui_stream *st = calloc(1, sizeof *st);
    json_t *events = st ? json_array() : NULL;
    if (!events) {
        free(st);
        runner_release(r);
        return server_send_error(h->conn, ctx, 500, "InternalError",
                                 "out of memory");
    }
    st->r = r;
    st->fd = h->fd;
    st->keepalive_ms = h->limits->sse_keepalive_s * 1000L;
    st->last_output_ms = strands_clock_mono_ms();
    agui_encoder_init(&st->enc, ctx->session_id, run_id);
    set_frames(st, events, agui_encode_start(&st->enc, events));
    struct MHD_Response *resp = MHD_create_response_from_callback(
        MHD_SIZE_UNKNOWN, 16 * 1024, reader, st, reader_free);
    if (!resp) {
        reader_free(st);
        return MHD_NO;
    }
    MHD_add_response_header(resp, "Content-Type", "text/event-stream");
    MHD_add_response_header(resp, "Cache-Control", "no-cache");
    MHD_add_response_header(resp, "X-Accel-Buffering", "no");
    MHD_add_response_header(resp, SERVER_SESSION_HEADER, ctx->session_id);
    enum MHD_Result ret = MHD_queue_response(h->conn, MHD_HTTP_OK, resp);
    MHD_destroy_response(resp);
    ctx->status = 200;
    return ret;
}

enum MHD_Result agui_handle(handler_ctx *h)
{
    request_ctx *ctx = h->req;
    char why[256];
    agui_input in;
    request_verdict v = agui_input_parse(dynbuf_str(&ctx->body),
                                         ctx->body.len, &in, why, sizeof why);
    switch (v) {
    case REQUEST_OK:
        break;
    case REQUEST_BAD_JSON:
        return server_send_error(h->conn, ctx, 400, "InvalidJSON", why);
    case REQUEST_NOMEM:
        return server_send_error(h->conn, ctx, 500, "InternalError",
                                 "out of memory");
    default:
        return server_send_error(h->conn, ctx, 400, "ValidationError", why);
    }
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
    agui_input_cleanup(&in);
    if (!r && err.status == STRANDS_E_INVALID)
        return server_send_error(h->conn, ctx, 400, "ValidationError",
                                 err.message);
    if (!r)
        return server_send_error(h->conn, ctx,
                                 err.status == STRANDS_E_NOMEM ? 500 : 503,
                                 err.status == STRANDS_E_NOMEM
                                     ? "InternalError"
                                     : server_error_type(&err),
                                 err.message);
    return stream(h, r, run_id);
}
