/* WebSocket /ws, the connection layer (see ws.h): the upgrade request
 * (RFC 6455 section 4.2: checks, 400/426/503 JSON errors, the 101 answer
 * with Sec-WebSocket-Accept), the connection count (the hub, a server
 * part: drained with 1001 on shutdown), and each connection's loop on its
 * libmicrohttpd connection thread: wslay does the framing (ping/pong,
 * fragments, UTF-8 of text, the close handshake, the 1009 size cap); this
 * file moves bytes between wslay and the socket, hands complete text
 * messages to the app of the server's protocol, closes binary ones with
 * 1003, and takes text to send from any thread through a bounded queue. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

#include <openssl/evp.h>
#include <wslay/wslay.h>

#include "net/base64.h"
#include "server/ws.h"
#include "strands/clock.h"
#include "strands/log.h"
#include "strands/util.h"
#include "tools/registry.h"

#define WS_LOGGER "strands.server.ws"
#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#define WS_DEFAULT_MAX_MESSAGE ((size_t)1 << 20)
/* Longest single wait of the loop; it re-checks its state this often. */
#define WS_POLL_CAP_MS 1000

/* The app of each protocol (NULL: /ws is routed but has no app yet; the
 * connection is then closed with 1011). AG-UI plugs its app in here.   */
static const ws_app *const apps[] = {
    [STRANDS_PROTOCOL_HTTP] = &ws_invoke_app,
    [STRANDS_PROTOCOL_MCP] = NULL,
    [STRANDS_PROTOCOL_A2A] = NULL,
    [STRANDS_PROTOCOL_AGUI] = &ws_agui_app,
};

/* ---- the hub: live connections, capped, woken by a drain ------------- */

struct ws_hub {
    pthread_mutex_t lock;
    int max, count, draining;
    ws_conn **conns;           /* max slots, NULL when free */
};

struct ws_hub *ws_hub_new(int max_conns)
{
    if (max_conns < 1) return NULL;
    struct ws_hub *h = calloc(1, sizeof *h);
    if (!h) return NULL;
    h->conns = calloc((size_t)max_conns, sizeof *h->conns);
    if (!h->conns) {
        free(h);
        return NULL;
    }
    h->max = max_conns;
    pthread_mutex_init(&h->lock, NULL);
    return h;
}

void ws_hub_free(struct ws_hub *h)
{
    if (!h) return;
    pthread_mutex_destroy(&h->lock);
    free(h->conns);
    free(h);
}

int ws_hub_count(struct ws_hub *h)
{
    pthread_mutex_lock(&h->lock);
    int n = h->count;
    pthread_mutex_unlock(&h->lock);
    return n;
}

int ws_hub_full(struct ws_hub *h)
{
    pthread_mutex_lock(&h->lock);
    int full = h->count >= h->max;
    pthread_mutex_unlock(&h->lock);
    return full;
}

int ws_hub_enter(struct ws_hub *h, ws_conn *c)
{
    int rc = -1;
    pthread_mutex_lock(&h->lock);
    if (!h->draining && h->count < h->max)
        for (int i = 0; i < h->max; i++)
            if (!h->conns[i]) {
                h->conns[i] = c;
                h->count++;
                rc = 0;
                break;
            }
    pthread_mutex_unlock(&h->lock);
    return rc;
}

void ws_hub_leave(struct ws_hub *h, ws_conn *c)
{
    pthread_mutex_lock(&h->lock);
    for (int i = 0; i < h->max; i++)
        if (h->conns[i] == c) {
            h->conns[i] = NULL;
            h->count--;
            break;
        }
    pthread_mutex_unlock(&h->lock);
}

void ws_hub_drain(struct ws_hub *h)
{
    pthread_mutex_lock(&h->lock);
    h->draining = 1;
    /* A connection leaves the hub before its wake descriptor closes. */
    for (int i = 0; i < h->max; i++)
        if (h->conns[i]) ws_conn_wake(h->conns[i]);
    pthread_mutex_unlock(&h->lock);
}

int ws_hub_draining(struct ws_hub *h)
{
    pthread_mutex_lock(&h->lock);
    int d = h->draining;
    pthread_mutex_unlock(&h->lock);
    return d;
}

static strands_status ws_part_init(strands_server *s, strands_error *err)
{
    if (s->cfg.protocol != STRANDS_PROTOCOL_HTTP &&
        s->cfg.protocol != STRANDS_PROTOCOL_AGUI)
        return STRANDS_OK; /* /ws is not served */
    s->ws = ws_hub_new(WS_MAX_CONNECTIONS);
    if (!s->ws) {
        strands_error_set(err, STRANDS_E_NOMEM, NULL, "OOM");
        return STRANDS_E_NOMEM;
    }
    return STRANDS_OK;
}

static void ws_part_drain(strands_server *s)
{
    if (s->ws) ws_hub_drain(s->ws);
}

/* After the daemon stopped: every connection thread has ended. */
static void ws_part_cleanup(strands_server *s)
{
    ws_hub_free(s->ws);
    s->ws = NULL;
}

const server_part ws_part = {"ws", ws_part_init, ws_part_drain,
                             ws_part_cleanup};

/* ---- one connection -------------------------------------------------- */

/* A text message waiting for the connection's thread. */
typedef struct ws_out {
    struct ws_out *next;
    size_t len;
    char text[];
} ws_out;

struct ws_conn {
    strands_server *srv;
    int fd;
    int wake_fd;                   /* eventfd: sends, closes, drain */
    const char *extra;             /* bytes libmicrohttpd read past the
                                      request head: read before the socket */
    size_t extra_len, extra_off;
    wslay_event_context_ptr wctx;
    const ws_app *app;
    void *app_state;               /* NULL: no app (messages ignored) */
    int in_hub;
    /* the connection thread's own state */
    int close_queued;              /* our close frame is queued */
    int64_t close_asked_ms;        /* when a close was first seen, or 0 */
    int64_t close_deadline_ms;
    int64_t last_recv_ms;
    /* shared, under lock */
    pthread_mutex_t lock;
    ws_out *out_head, *out_tail;
    size_t out_bytes;              /* in out_head..out_tail */
    size_t wslay_bytes;            /* queued inside wslay, last seen */
    int closed;                    /* the loop ended: nothing is taken */
    int close_code;                /* a close was asked for (0: none) */
    char close_reason[124];
    /* what the app is told (ws_open_info), owned here */
    ws_open_info info;
    char request_id[SERVER_REQUEST_ID_MAX + 1];
    char session_id[SERVER_SESSION_ID_MAX + 1];
    char *actor_id, *traceparent, *xray;
    strands_request_context *request;
};

void ws_conn_wake(ws_conn *c)
{
    uint64_t one = 1;
    ssize_t n = write(c->wake_fd, &one, sizeof one);
    (void)n; /* EAGAIN: already readable, which is all that matters */
}

void ws_conn_close(ws_conn *c, int code, const char *reason)
{
    pthread_mutex_lock(&c->lock);
    if (!c->close_code && !c->closed) {
        c->close_code = code;
        snprintf(c->close_reason, sizeof c->close_reason, "%s",
                 reason ? reason : "");
    }
    pthread_mutex_unlock(&c->lock);
    ws_conn_wake(c);
}

int ws_conn_send_text(ws_conn *c, const char *text, size_t len)
{
    pthread_mutex_lock(&c->lock);
    if (c->closed || c->close_code) {
        pthread_mutex_unlock(&c->lock);
        return -1;
    }
    size_t queued = c->out_bytes + c->wslay_bytes;
    if (queued > 0 && (len > WS_MAX_QUEUED_BYTES ||
                       queued > WS_MAX_QUEUED_BYTES - len)) {
        c->close_code = WS_CLOSE_POLICY;
        snprintf(c->close_reason, sizeof c->close_reason,
                 "client does not read its messages");
        pthread_mutex_unlock(&c->lock);
        strands_log(STRANDS_LOG_WARN, WS_LOGGER, c->request_id,
                    c->session_id, NULL,
                    "WebSocket client is not reading: %zu bytes queued "
                    "(cap %zu); closing with 1008",
                    queued, (size_t)WS_MAX_QUEUED_BYTES);
        ws_conn_wake(c);
        return -1;
    }
    ws_out *o = malloc(sizeof *o + len + 1);
    if (!o) {
        c->close_code = WS_CLOSE_INTERNAL;
        snprintf(c->close_reason, sizeof c->close_reason, "out of memory");
        pthread_mutex_unlock(&c->lock);
        ws_conn_wake(c);
        return -1;
    }
    o->next = NULL;
    o->len = len;
    if (len) memcpy(o->text, text, len);
    o->text[len] = '\0';
    if (c->out_tail)
        c->out_tail->next = o;
    else
        c->out_head = o;
    c->out_tail = o;
    c->out_bytes += len;
    pthread_mutex_unlock(&c->lock);
    ws_conn_wake(c);
    return 0;
}

/* ---- wslay callbacks (the connection's thread) ------------------------ */

static ssize_t on_recv(wslay_event_context_ptr ctx, uint8_t *buf, size_t len,
                       int flags, void *user)
{
    (void)flags;
    ws_conn *c = user;
    if (c->extra_off < c->extra_len) {
        size_t n = c->extra_len - c->extra_off;
        if (n > len) n = len;
        memcpy(buf, c->extra + c->extra_off, n);
        c->extra_off += n;
        return (ssize_t)n;
    }
    ssize_t n = recv(c->fd, buf, len, 0);
    if (n > 0) {
        c->last_recv_ms = strands_clock_mono_ms();
        return n;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
    else
        wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE); /* EOF */
    return -1;
}

static ssize_t on_send(wslay_event_context_ptr ctx, const uint8_t *data,
                       size_t len, int flags, void *user)
{
    ws_conn *c = user;
    ssize_t n = send(c->fd, data, len,
                     MSG_NOSIGNAL | (flags & WSLAY_MSG_MORE ? MSG_MORE : 0));
    if (n >= 0) return n;
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
    else
        wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
    return -1;
}

static int closing(ws_conn *c)
{
    pthread_mutex_lock(&c->lock);
    int closing = c->close_code != 0;
    pthread_mutex_unlock(&c->lock);
    return closing || c->close_queued;
}

static void on_message(wslay_event_context_ptr ctx,
                       const struct wslay_event_on_msg_recv_arg *arg,
                       void *user)
{
    (void)ctx;
    ws_conn *c = user;
    if (wslay_is_ctrl_frame(arg->opcode) || closing(c))
        return; /* pings are answered by wslay; nothing after our close */
    if (arg->opcode == WSLAY_BINARY_FRAME) {
        ws_conn_close(c, WS_CLOSE_UNSUPPORTED,
                      "binary messages are not supported; send JSON text");
        return;
    }
    if (c->app_state)
        c->app->message(c->app_state, (const char *)arg->msg,
                        arg->msg_length);
}

/* ---- the loop ---------------------------------------------------------- */

/* Moves queued text into wslay and applies an asked-for close. */
static void flush(ws_conn *c)
{
    pthread_mutex_lock(&c->lock);
    ws_out *list = c->out_head;
    c->out_head = c->out_tail = NULL;
    c->out_bytes = 0;
    int code = c->close_code;
    char reason[sizeof c->close_reason];
    memcpy(reason, c->close_reason, sizeof reason);
    pthread_mutex_unlock(&c->lock);
    while (list) {
        ws_out *next = list->next;
        struct wslay_event_msg m = {WSLAY_TEXT_FRAME,
                                    (const uint8_t *)list->text, list->len};
        int rc = c->close_queued ? 0 : wslay_event_queue_msg(c->wctx, &m);
        free(list);
        list = next;
        if (rc == WSLAY_ERR_NOMEM)
            ws_conn_close(c, WS_CLOSE_INTERNAL, "out of memory");
    }
    /* wslay sends control frames ahead of queued messages: the close
     * waits until what was queued before it is out (the last event of a
     * prompt precedes a 1001), at most WS_CLOSE_WAIT_MS; a client that
     * does not read (1008) gets it at once.                              */
    int64_t now = strands_clock_mono_ms();
    if (code && !c->close_queued && !c->close_asked_ms)
        c->close_asked_ms = now;
    if (code && !c->close_queued &&
        (code == WS_CLOSE_POLICY ||
         wslay_event_get_queued_msg_count(c->wctx) == 0 ||
         now - c->close_asked_ms >= WS_CLOSE_WAIT_MS)) {
        wslay_event_queue_close(c->wctx, (uint16_t)code,
                                (const uint8_t *)reason, strlen(reason));
        c->close_queued = 1;
        c->close_deadline_ms = now + WS_CLOSE_WAIT_MS;
    }
    size_t q = wslay_event_get_queued_msg_length(c->wctx);
    pthread_mutex_lock(&c->lock);
    c->wslay_bytes = q;
    pthread_mutex_unlock(&c->lock);
}

static int app_busy(ws_conn *c)
{
    return c->app_state && c->app->busy(c->app_state);
}

/* Serves the connection until it closes. */
static void run(ws_conn *c)
{
    for (;;) {
        int64_t now = strands_clock_mono_ms();
        if (!c->close_queued && !closing(c)) {
            if (c->srv->ws && ws_hub_draining(c->srv->ws) && !app_busy(c))
                ws_conn_close(c, WS_CLOSE_GOING_AWAY,
                              "the runtime is shutting down");
            else if (now - c->last_recv_ms > WS_IDLE_TIMEOUT_MS &&
                     !app_busy(c))
                ws_conn_close(c, WS_CLOSE_NORMAL, "idle timeout");
        }
        flush(c);
        if (wslay_event_want_write(c->wctx) &&
            wslay_event_send(c->wctx) != 0)
            break; /* the peer is gone */
        if (!wslay_event_want_read(c->wctx) &&
            !wslay_event_want_write(c->wctx))
            break; /* closed both ways */
        long wait = WS_POLL_CAP_MS;
        if (c->close_queued) {
            int64_t left = c->close_deadline_ms - now;
            if (left <= 0) break; /* no close from the client in time */
            if (left < wait) wait = (long)left;
        }
        if (c->close_asked_ms && !c->close_queued)
            /* the close is due once the queue is out: look again soon */
            wait = wslay_event_get_queued_msg_count(c->wctx) ? 50 : 0;
        if (c->extra_off < c->extra_len) wait = 0;
        struct pollfd p[2] = {
            {.fd = c->fd,
             .events = (short)((wslay_event_want_read(c->wctx) ? POLLIN : 0) |
                               (wslay_event_want_write(c->wctx) ? POLLOUT
                                                                : 0))},
            {.fd = c->wake_fd, .events = POLLIN}};
        int n = poll(p, 2, (int)wait);
        if (n < 0 && errno != EINTR) break;
        if (p[1].revents & POLLIN) {
            uint64_t v;
            ssize_t r = read(c->wake_fd, &v, sizeof v);
            (void)r;
        }
        if (((p[0].revents & (POLLIN | POLLHUP | POLLERR)) ||
             c->extra_off < c->extra_len) &&
            wslay_event_recv(c->wctx) != 0)
            break; /* the peer is gone or broke the protocol */
        if (p[0].revents & (POLLHUP | POLLERR | POLLNVAL))
            break; /* whatever it sent has been read */
        if ((p[0].revents & POLLOUT) && wslay_event_send(c->wctx) != 0)
            break;
    }
    /* Sends from other threads fail from now on. */
    pthread_mutex_lock(&c->lock);
    c->closed = 1;
    pthread_mutex_unlock(&c->lock);
}

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

/* Frees c (never NULL), its queue and its copies. */
static void conn_free(ws_conn *c)
{
    while (c->out_head) {
        ws_out *next = c->out_head->next;
        free(c->out_head);
        c->out_head = next;
    }
    if (c->wctx) wslay_event_context_free(c->wctx);
    if (c->wake_fd >= 0) close(c->wake_fd);
    free(c->actor_id);
    free(c->traceparent);
    free(c->xray);
    tools_request_context_free(c->request);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

/* A connection for the upgraded socket, with copies of what the app is
 * told (the request's headers do not outlive the handler); NULL on OOM. */
static ws_conn *conn_new(strands_server *srv, struct MHD_Connection *mc,
                         const request_ctx *ctx, int fd)
{
    ws_conn *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    pthread_mutex_init(&c->lock, NULL);
    c->srv = srv;
    c->fd = fd;
    c->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    c->last_recv_ms = strands_clock_mono_ms();
    memcpy(c->request_id, ctx->request_id, sizeof c->request_id);
    memcpy(c->session_id, ctx->session_id, sizeof c->session_id);
    handler_ctx h = {.srv = srv, .conn = mc, .fd = fd};
    const char *actor = server_header(&h, SERVER_USER_HEADER);
    const char *tp = server_header(&h, "traceparent");
    const char *xr = server_header(&h, "X-Amzn-Trace-Id");
    c->actor_id = dup_or_null(actor);
    c->traceparent = dup_or_null(tp);
    c->xray = dup_or_null(xr);
    strands_request_header hdrs[STRANDS_REQUEST_HEADERS_MAX];
    strands_request_context rc = {hdrs, server_request_context(&h, hdrs)};
    if (rc.n_headers) c->request = tools_request_context_dup(&rc);
    static const struct wslay_event_callbacks cbs = {
        .recv_callback = on_recv,
        .send_callback = on_send,
        .on_msg_recv_callback = on_message};
    if (c->wake_fd < 0 || (actor && !c->actor_id) || (tp && !c->traceparent) ||
        (xr && !c->xray) || (rc.n_headers && !c->request) ||
        wslay_event_context_server_init(&c->wctx, &cbs, c) != 0) {
        conn_free(c);
        return NULL;
    }
    size_t max = srv->cfg.ws_max_message_bytes ? srv->cfg.ws_max_message_bytes
                                               : WS_DEFAULT_MAX_MESSAGE;
    wslay_event_config_set_max_recv_msg_length(c->wctx, max);
    const char *given = server_header(&h, SERVER_SESSION_HEADER);
    if (!given)
        given = MHD_lookup_connection_value(mc, MHD_GET_ARGUMENT_KIND,
                                            SERVER_SESSION_HEADER);
    c->info = (ws_open_info){.srv = srv,
                             .request_id = c->request_id,
                             .session_id = c->session_id,
                             .session_given = given && *given,
                             .actor_id = c->actor_id,
                             .request = c->request,
                             .traceparent = c->traceparent,
                             .xray = c->xray};
    return c;
}

/* libmicrohttpd hands the socket over after the 101 went out; this runs
 * on the connection's own thread (thread-per-connection), so serving the
 * WebSocket here blocks only this connection.                           */
static void on_upgrade(void *cls, struct MHD_Connection *mc, void *con_cls,
                       const char *extra_in, size_t extra_in_size,
                       MHD_socket sock, struct MHD_UpgradeResponseHandle *urh)
{
    strands_server *srv = cls;
    const request_ctx *ctx = con_cls;
    int fl = fcntl(sock, F_GETFL);
    if (fl >= 0) fcntl(sock, F_SETFL, fl | O_NONBLOCK);
    ws_conn *c = ctx ? conn_new(srv, mc, ctx, sock) : NULL;
    if (!c) {
        strands_log(STRANDS_LOG_ERROR, WS_LOGGER, NULL, NULL, NULL,
                    "WebSocket connection dropped: out of memory");
        shutdown(sock, SHUT_RDWR);
        MHD_upgrade_action(urh, MHD_UPGRADE_ACTION_CLOSE);
        return;
    }
    c->extra = extra_in;
    c->extra_len = extra_in_size;
    c->app = (size_t)srv->cfg.protocol < sizeof apps / sizeof apps[0]
                 ? apps[srv->cfg.protocol]
                 : NULL;
    if (srv->ws && ws_hub_enter(srv->ws, c) == 0) {
        c->in_hub = 1;
    } else if (srv->ws && ws_hub_draining(srv->ws)) {
        ws_conn_close(c, WS_CLOSE_GOING_AWAY, "the runtime is shutting down");
    } else {
        strands_log(STRANDS_LOG_WARN, WS_LOGGER, c->request_id,
                    c->session_id, NULL,
                    "WebSocket refused: %d connections open (the cap)",
                    WS_MAX_CONNECTIONS);
        ws_conn_close(c, WS_CLOSE_TRY_AGAIN, "too many WebSocket connections");
    }
    if (c->in_hub && !c->app) {
        ws_conn_close(c, WS_CLOSE_INTERNAL,
                      "/ws has no message handler in this SERVER_PROTOCOL");
    } else if (c->in_hub) {
        strands_error err;
        strands_error_clear(&err);
        c->app_state = c->app->open(c, &c->info, &err);
        if (!c->app_state) {
            strands_log(STRANDS_LOG_ERROR, WS_LOGGER, c->request_id,
                        c->session_id, NULL, "WebSocket %s handler: %s",
                        c->app->name, err.message);
            ws_conn_close(c, WS_CLOSE_INTERNAL, "cannot start the handler");
        }
    }
    strands_log(STRANDS_LOG_INFO, WS_LOGGER, c->request_id, c->session_id,
                NULL, "WebSocket open");
    run(c);
    if (c->app_state) c->app->close(c->app_state);
    if (c->in_hub) ws_hub_leave(srv->ws, c);
    strands_log(STRANDS_LOG_INFO, WS_LOGGER, c->request_id, c->session_id,
                NULL, "WebSocket closed (sent %d, received %d)",
                wslay_event_get_close_sent(c->wctx)
                    ? (int)wslay_event_get_status_code_sent(c->wctx)
                    : 0,
                wslay_event_get_close_received(c->wctx)
                    ? (int)wslay_event_get_status_code_received(c->wctx)
                    : 0);
    conn_free(c);
    shutdown(sock, SHUT_RDWR);
    MHD_upgrade_action(urh, MHD_UPGRADE_ACTION_CLOSE);
}

/* ---- the upgrade request ----------------------------------------------- */

/* 1 when the comma-separated header value v lists token (any case). */
static int has_token(const char *v, const char *token)
{
    size_t tl = strlen(token);
    while (v && *v) {
        while (*v == ' ' || *v == '\t' || *v == ',') v++;
        size_t n = strcspn(v, ",");
        size_t m = n;
        while (m && (v[m - 1] == ' ' || v[m - 1] == '\t')) m--;
        if (m == tl && !strncasecmp(v, token, tl)) return 1;
        v += n;
    }
    return 0;
}

/* Sec-WebSocket-Accept for key (RFC 6455 section 4.2.2): base64 of the
 * SHA-1 of key + GUID. 0, or -1 on OOM.                                 */
static int accept_value(const char *key, char *out, size_t outsz)
{
    char buf[128];
    int n = snprintf(buf, sizeof buf, "%s%s", key, WS_GUID);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    if (n < 0 || (size_t)n >= sizeof buf ||
        !EVP_Digest(buf, (size_t)n, md, &mdlen, EVP_sha1(), NULL))
        return -1;
    size_t len = 0;
    char *b64 = net_base64_encode(md, mdlen, &len);
    if (!b64 || len >= outsz) {
        free(b64);
        return -1;
    }
    memcpy(out, b64, len + 1);
    free(b64);
    return 0;
}

enum MHD_Result ws_handle(handler_ctx *h)
{
    request_ctx *ctx = h->req;
    strands_server *srv = h->srv;
    if (!has_token(server_header(h, "Upgrade"), "websocket") ||
        !has_token(server_header(h, "Connection"), "upgrade"))
        return server_send_error(
            h->conn, ctx, 426, "UpgradeRequired",
            "GET /ws is a WebSocket endpoint: send 'Upgrade: websocket' and "
            "'Connection: Upgrade' (RFC 6455)");
    const char *version = server_header(h, "Sec-WebSocket-Version");
    if (!version || strcmp(version, "13"))
        return server_send_json(
            h->conn, ctx, 426,
            json_pack("{s:s, s:s}", "error",
                      "unsupported Sec-WebSocket-Version; use 13",
                      "error_type", "UpgradeRequired"),
            "Sec-WebSocket-Version", "13", NULL);
    const char *key = server_header(h, "Sec-WebSocket-Key");
    size_t decoded = 0;
    if (!key || !net_base64_check(key, strlen(key), &decoded) ||
        decoded != 16)
        return server_send_error(h->conn, ctx, 400, "BadRequest",
                                 "Sec-WebSocket-Key must be the base64 of "
                                 "16 bytes");
    char why[192];
    const char *sid = server_header(h, SERVER_SESSION_HEADER);
    if (!sid)
        sid = MHD_lookup_connection_value(h->conn, MHD_GET_ARGUMENT_KIND,
                                          SERVER_SESSION_HEADER);
    if (sid && *sid) {
        if (!request_session_id(sid, ctx->session_id,
                                sizeof ctx->session_id, why, sizeof why))
            return server_send_error(h->conn, ctx, 400, "ValidationError",
                                     why);
    } else {
        strands_uuid4(ctx->session_id);
    }
    if (!request_actor_id(server_header(h, SERVER_USER_HEADER), why,
                          sizeof why))
        return server_send_error(h->conn, ctx, 400, "ValidationError", why);
    if (!srv->ws || ws_hub_full(srv->ws)) {
        char msg[128];
        snprintf(msg, sizeof msg, "too many WebSocket connections (%d); "
                                  "retry later", WS_MAX_CONNECTIONS);
        strands_log(STRANDS_LOG_WARN, WS_LOGGER, ctx->request_id, NULL, NULL,
                    "WebSocket upgrade refused: %d connections open (the "
                    "cap)", WS_MAX_CONNECTIONS);
        return server_send_json(h->conn, ctx, 503,
                                json_pack("{s:s, s:s}", "error", msg,
                                          "error_type", "ServerBusy"),
                                "Retry-After", "1", NULL);
    }
    char accept[64];
    if (accept_value(key, accept, sizeof accept) != 0)
        return server_send_error(h->conn, ctx, 500, "InternalError",
                                 "out of memory");
    struct MHD_Response *resp = MHD_create_response_for_upgrade(on_upgrade,
                                                                srv);
    if (!resp) return MHD_NO;
    /* libmicrohttpd adds "Connection: Upgrade" to an upgrade response. */
    if (MHD_add_response_header(resp, "Upgrade", "websocket") != MHD_YES ||
        MHD_add_response_header(resp, "Sec-WebSocket-Accept", accept) !=
            MHD_YES ||
        MHD_add_response_header(resp, SERVER_SESSION_HEADER,
                                ctx->session_id) != MHD_YES) {
        MHD_destroy_response(resp);
        return MHD_NO;
    }
    enum MHD_Result ret = MHD_queue_response(h->conn,
                                             MHD_HTTP_SWITCHING_PROTOCOLS,
                                             resp);
    MHD_destroy_response(resp);
    ctx->status = 101;
    return ret;
}
