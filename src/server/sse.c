/* Server-Sent Events for POST /invocations: the agent runs on its own
 * thread and reports events to a sink that formats them as `data: <json>`
 * lines into a bounded queue; libmicrohttpd's content-reader callback (on
 * the connection's thread) drains the queue into a chunked response, sends
 * `: keep-alive` comments while nothing else is said, and notices a client
 * that went away, which cancels the invocation.                         */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "server/internal.h"
#include "strands/aws.h"
#include "strands/clock.h"
#include "strands/log.h"

#define SSE_QUEUE_SOFT_MAX (1u << 20)  /* producer waits above this */
#define SSE_QUEUE_HARD_MAX (64u << 20) /* never buffered beyond this */
#define SSE_POLL_MS 100

typedef struct sse_stream {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    strands_buf queue;          /* formatted bytes not yet sent */
    size_t sent;                /* bytes of queue already handed to MHD */
    int started;                /* the agent emitted its first event */
    int finished;               /* the agent thread queued its last event */
    int refs;                   /* agent thread + HTTP response */
    atomic_int cancel;          /* client gone or server shutting down */
    int64_t last_output_ms;
    strands_server *server;
    struct MHD_Connection *conn;
    int fd;                     /* the connection's socket, for hang-ups */
    json_t *prompt;
    char session_id[264];
    char request_id[72];
    strands_invocation_trace *trace; /* NULL when tracing is off */
    strands_error early_err;    /* failure before any event */
    int failed_early;
} sse_stream;

static void stream_release(sse_stream *st)
{
    pthread_mutex_lock(&st->lock);
    int last = --st->refs == 0;
    pthread_mutex_unlock(&st->lock);
    if (!last) return;
    strands_buf_cleanup(&st->queue);
    json_decref(st->prompt);
    pthread_cond_destroy(&st->cond);
    pthread_mutex_destroy(&st->lock);
    free(st);
}

/* Appends one `data: <json>\n\n` event (doc is stolen). Waits while the
 * client is slow, unless the invocation is being cancelled. */
static void push_event(sse_stream *st, json_t *doc)
{
    char *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    if (!text) return;
    pthread_mutex_lock(&st->lock);
    while (st->queue.len - st->sent > SSE_QUEUE_SOFT_MAX &&
           !atomic_load(&st->cancel))
        pthread_cond_wait(&st->cond, &st->lock);
    if (strands_buf_puts(&st->queue, "data: ") != STRANDS_OK ||
        strands_buf_puts(&st->queue, text) != STRANDS_OK ||
        strands_buf_puts(&st->queue, "\n\n") != STRANDS_OK) {
        /* Over the hard cap: the client cannot keep up; give up on it. */
        atomic_store(&st->cancel, 1);
        strands_buf_init(&st->queue, SSE_QUEUE_HARD_MAX);
        st->sent = 0;
    }
    pthread_cond_broadcast(&st->cond);
    pthread_mutex_unlock(&st->lock);
    free(text);
}

/* {"type": type, "tool_use_id", k1, k2} from a toolUse or toolResult. */
static json_t *tool_event(const char *type, const json_t *data,
                          const char *k1, const char *k2)
{
    return json_pack("{s:s, s:O?, s:O?, s:O?}", "type", type, "tool_use_id",
                     json_object_get(data, "toolUseId"), k1,
                     json_object_get(data, k1), k2, json_object_get(data, k2));
}

/* The agent's events as SSE: text deltas, finished tool calls, results. */
static void on_event(void *user, const strands_event *ev)
{
    sse_stream *st = user;
    switch (ev->type) {
    case STRANDS_EVENT_INVOCATION_START:
        pthread_mutex_lock(&st->lock);
        st->started = 1;
        pthread_cond_broadcast(&st->cond);
        pthread_mutex_unlock(&st->lock);
        break;
    case STRANDS_EVENT_TEXT_DELTA: {
        json_t *t = json_stringn(ev->text, ev->text_len);
        if (t)
            push_event(st, json_pack("{s:s, s:o}", "type", "text", "text", t));
        break;
    }
    case STRANDS_EVENT_TOOL_START:
        push_event(st, tool_event("tool_use", ev->data, "name", "input"));
        break;
    case STRANDS_EVENT_TOOL_END:
        push_event(st, tool_event("tool_result", ev->data, "status",
                                  "content"));
        break;
    default:
        break;
    }
}

static void *agent_thread(void *arg)
{
    sse_stream *st = arg;
    invocation_metrics metrics;
    strands_event_sink sinks[] = {{on_event, st},
                                  invocation_metrics_sink(&metrics, 1),
                                  strands_trace_sink(st->trace)};
    strands_invocation inv = {
        .session_id = st->session_id,
        .invocation_id = st->request_id,
        .prompt = st->prompt,
        .sinks = sinks,
        .n_sinks = sizeof sinks / sizeof sinks[0],
        .cancelled = &st->cancel,
        .stream = 1,
    };
    strands_agent_result result;
    strands_error err;
    strands_status s = strands_agent_invoke(st->server->cfg.agent, &inv,
                                            &result, &err);
    strands_trace_end(st->trace);
    st->trace = NULL;
    pthread_mutex_lock(&st->lock);
    int started = st->started;
    pthread_mutex_unlock(&st->lock);
    if (s == STRANDS_OK) {
        json_t *done = json_pack("{s:s}", "type", "done");
        json_t *fields = server_result_json(st->request_id, st->session_id,
                                            &result);
        json_object_update(done, fields);
        json_decref(fields);
        push_event(st, done);
        strands_log(STRANDS_LOG_INFO, "strands.agent", st->request_id,
                    st->session_id, NULL,
                    "Invocation completed successfully (stream): "
                    "stop_reason=%s iterations=%d tokens=%lld",
                    strands_stop_reason_name(result.stop_reason),
                    result.iterations, (long long)result.usage.total_tokens);
        strands_agent_result_cleanup(&result);
    } else if (started) {
        push_event(st, json_pack("{s:s, s:s, s:s}", "type", "error", "error",
                                 err.message, "error_type",
                                 server_error_type(&err)));
        strands_log(STRANDS_LOG_ERROR, "strands.agent", st->request_id,
                    st->session_id, NULL, "Invocation failed (stream): %s: %s",
                    server_error_type(&err), err.message);
    }
    pthread_mutex_lock(&st->lock);
    if (!started) {
        st->failed_early = 1;
        st->early_err = err;
    }
    st->finished = 1;
    pthread_cond_broadcast(&st->cond);
    pthread_mutex_unlock(&st->lock);
    strands_aws_thread_done();   /* detached: free its crypto state now */
    server_end_invocation(st->server);
    stream_release(st);
    return NULL;
}

/* True when the peer closed its end (checked without blocking). */
static int peer_gone(int fd)
{
    if (fd < 0) return 0;
    struct pollfd p = {.fd = fd, .events = POLLRDHUP};
    return poll(&p, 1, 0) > 0 &&
           (p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL));
}

static void deadline_in(struct timespec *ts, long ms)
{
    clock_gettime(CLOCK_REALTIME, ts);
    long long ns = ts->tv_nsec + ms * 1000000LL;
    ts->tv_sec += ns / 1000000000LL;
    ts->tv_nsec = ns % 1000000000LL;
}

/* libmicrohttpd asks for the next bytes of the body. */
static ssize_t reader(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    sse_stream *st = cls;
    ssize_t n = 0;
    pthread_mutex_lock(&st->lock);
    for (;;) {
        size_t pending = st->queue.len - st->sent;
        if (pending) {
            n = (ssize_t)(pending < max ? pending : max);
            memcpy(buf, st->queue.data + st->sent, (size_t)n);
            st->sent += (size_t)n;
            if (st->sent == st->queue.len) {
                st->queue.len = 0;
                st->sent = 0;
            }
            st->last_output_ms = strands_clock_mono_ms();
            pthread_cond_broadcast(&st->cond);
            break;
        }
        if (st->finished) {
            n = MHD_CONTENT_READER_END_OF_STREAM;
            break;
        }
        if (atomic_load(&st->server->cancel)) atomic_store(&st->cancel, 1);
        if (peer_gone(st->fd)) {
            atomic_store(&st->cancel, 1);
            pthread_cond_broadcast(&st->cond);
            n = MHD_CONTENT_READER_END_WITH_ERROR;
            break;
        }
        int64_t keepalive_ms = (st->server->cfg.sse_keepalive_s > 0
                                    ? st->server->cfg.sse_keepalive_s
                                    : 15) * 1000LL;
        if (strands_clock_mono_ms() - st->last_output_ms >= keepalive_ms) {
            static const char ka[] = ": keep-alive\n\n";
            n = (ssize_t)(sizeof ka - 1 < max ? sizeof ka - 1 : max);
            memcpy(buf, ka, (size_t)n);
            st->last_output_ms = strands_clock_mono_ms();
            break;
        }
        struct timespec ts;
        deadline_in(&ts, SSE_POLL_MS);
        pthread_cond_timedwait(&st->cond, &st->lock, &ts);
    }
    pthread_mutex_unlock(&st->lock);
    return n;
}

/* The response is gone (sent, or the connection closed). */
static void reader_free(void *cls)
{
    sse_stream *st = cls;
    pthread_mutex_lock(&st->lock);
    if (!st->finished) atomic_store(&st->cancel, 1);
    pthread_cond_broadcast(&st->cond);
    pthread_mutex_unlock(&st->lock);
    stream_release(st);
}

enum MHD_Result sse_handle(strands_server *s, struct MHD_Connection *c,
                           request_ctx *ctx, json_t *prompt)
{
    sse_stream *st = calloc(1, sizeof *st);
    if (!st) {
        json_decref(prompt);
        return server_send_error(c, ctx, 500, "InternalError",
                                 "out of memory");
    }
    pthread_mutex_init(&st->lock, NULL);
    pthread_cond_init(&st->cond, NULL);
    strands_buf_init(&st->queue, SSE_QUEUE_HARD_MAX);
    st->refs = 2;
    st->server = s;
    st->conn = c;
    st->prompt = prompt;
    st->last_output_ms = strands_clock_mono_ms();
    memcpy(st->session_id, ctx->session_id, sizeof st->session_id);
    memcpy(st->request_id, ctx->request_id, sizeof st->request_id);
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    st->fd = ci ? ci->connect_fd : -1;

    st->trace = server_trace_begin(s, c, ctx);
    server_begin_invocation(s);
    pthread_t t;
    if (pthread_create(&t, NULL, agent_thread, st) != 0) {
        strands_trace_end(st->trace);
        server_end_invocation(s);
        st->refs = 1;
        stream_release(st);
        return server_send_error(c, ctx, 503, "ServiceUnavailable",
                                 "cannot start the invocation thread");
    }
    pthread_detach(t);

    /* Wait for the first event, so a failure before it (busy session,
     * bad session id) still gets its own HTTP status. */
    pthread_mutex_lock(&st->lock);
    while (!st->started && !st->finished)
        pthread_cond_wait(&st->cond, &st->lock);
    int failed = st->failed_early;
    strands_error early = st->early_err;
    pthread_mutex_unlock(&st->lock);
    if (failed) {
        stream_release(st);
        return server_send_agent_error(c, ctx, &early);
    }

    struct MHD_Response *r = MHD_create_response_from_callback(
        MHD_SIZE_UNKNOWN, 16 * 1024, reader, st, reader_free);
    if (!r) {
        atomic_store(&st->cancel, 1);
        stream_release(st);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", "text/event-stream");
    MHD_add_response_header(r, "Cache-Control", "no-cache");
    MHD_add_response_header(r, "X-Accel-Buffering", "no");
    MHD_add_response_header(r, SERVER_SESSION_HEADER, ctx->session_id);
    enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    ctx->status = 200;
    return ret;
}
