/* The Server-Sent Events encoder for POST /invocations: a thin consumer
 * of a streaming runner. libmicrohttpd's content-reader callback (on the
 * connection's thread) pops the runner's events, formats them
 * (sse_event.c) into a chunked response, sends `: keep-alive` comments
 * while nothing else is said, and notices at once a client that hangs up
 * (the socket is watched while waiting), which cancels the invocation.  */
#include <stdlib.h>
#include <string.h>

#include "server/internal.h"
#include "server/runner.h"
#include "strands/clock.h"

typedef struct sse_stream {
    runner *r;
    int fd;                     /* the connection's socket, -1 if unknown */
    long keepalive_ms;
    int64_t last_output_ms;
    char *frame;                /* frame being handed out, or NULL */
    size_t frame_len, frame_off;
    int frame_static;           /* frame is sse_oom_frame: do not free */
    int ended;                  /* the last frame has been formatted */
    char session_id[SERVER_SESSION_ID_MAX + 1];
    char request_id[SERVER_REQUEST_ID_MAX + 1];
} sse_stream;

static void set_frame(sse_stream *st, char *f, size_t len)
{
    if (f) {
        st->frame = f;
        st->frame_len = len;
        st->frame_static = 0;
    } else {
        /* Out of memory: a well-formed error ends the stream. */
        st->frame = (char *)sse_oom_frame;
        st->frame_len = strlen(sse_oom_frame);
        st->frame_static = 1;
        st->ended = 1;
        runner_cancel(st->r);
    }
    st->frame_off = 0;
}

/* The frame that closes the stream: done, or error once output began. */
static void final_frame(sse_stream *st)
{
    size_t len = 0;
    int owned = 0;
    const char *f = sse_final_frame(runner_get_outcome(st->r),
                                    st->request_id, st->session_id, &len,
                                    &owned);
    st->frame = (char *)f;
    st->frame_len = len;
    st->frame_off = 0;
    st->frame_static = !owned;
    st->ended = 1;
}

/* libmicrohttpd asks for the next bytes of the body. */
static ssize_t reader(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    sse_stream *st = cls;
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
        size_t len = 0;
        switch (runner_next(st->r, (long)left, st->fd, &ev)) {
        case RUNNER_EVENT: {
            char *f = sse_format_event(ev, &len);
            runner_event_free(ev);
            set_frame(st, f, len);
            break;
        }
        case RUNNER_END:
            final_frame(st);
            break;
        case RUNNER_HANGUP:
            runner_cancel(st->r);
            return MHD_CONTENT_READER_END_WITH_ERROR;
        default:
            break; /* timeout: a keep-alive is due */
        }
    }
}

/* The response is gone (sent, or the connection closed): the invocation
 * is cancelled if still running, and joined.                            */
static void reader_free(void *cls)
{
    sse_stream *st = cls;
    runner_release(st->r);
    if (st->frame && !st->frame_static) free(st->frame);
    free(st);
}

enum MHD_Result sse_handle(handler_ctx *h, runner *r)
{
    request_ctx *ctx = h->req;
    /* Wait for the first event, so a failure before it (busy session,
     * no credentials) still gets its own HTTP status. */
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
    sse_stream *st = calloc(1, sizeof *st);
    if (!st) {
        runner_release(r);
        return server_send_error(h->conn, ctx, 500, "InternalError",
                                 "out of memory");
    }
    st->r = r;
    st->fd = h->fd;
    st->keepalive_ms = h->limits->sse_keepalive_s * 1000L;
    st->last_output_ms = strands_clock_mono_ms();
    memcpy(st->session_id, ctx->session_id, sizeof st->session_id);
    memcpy(st->request_id, ctx->request_id, sizeof st->request_id);
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
