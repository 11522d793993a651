/* The HTTP server (the only libmicrohttpd user): a thread per connection,
 * so a long invocation blocks only its own connection and /ping stays
 * fast. Owns the request life cycle: ids, refusing ambiguous framing
 * (Content-Length with Transfer-Encoding), body collection under a
 * per-request cap and a server-wide budget, handing the request to the
 * routing table (routes.c), the request log, draining and shutdown (which
 * joins every invocation through the runner set).                      */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "server/async.h"
#include "server/internal.h"
#include "server/runner.h"
#include "strands/clock.h"
#include "strands/log.h"
#include "strands/util.h"

/* Default budget for request bodies held at once (all connections). */
#define DEFAULT_INFLIGHT_BODY_BYTES ((size_t)256 << 20)

/* The parts with state of their own (see server_part): a new protocol
 * or feature with state is one row here.                                */
static const server_part *const parts[] = {
    NULL, /* keeps the table non-empty; rows follow */
    &a2a_part,
    &mcp_server_part,
    &async_part,
    &ws_part,
};
#define N_PARTS (sizeof parts / sizeof parts[0])

int strands_server_protocol_parse(const char *name, strands_server_protocol *out)
{
    static const char *const names[] = {"HTTP", "MCP", "A2A", "AGUI"};
    for (int i = 0; name && i < 4; i++)
        if (!strcmp(name, names[i])) {
            *out = (strands_server_protocol)i;
            return 0;
        }
    return -1;
}

int strands_server_protocol_port(strands_server_protocol p)
{
    switch (p) {
    case STRANDS_PROTOCOL_MCP: return 8000;
    case STRANDS_PROTOCOL_A2A: return 9000;
    default: return 8080;
    }
}

static request_ctx *new_ctx(strands_server *s, struct MHD_Connection *c,
                            const char *url, const char *method)
{
    request_ctx *ctx = calloc(1, sizeof *ctx);
    if (!ctx) return NULL;
    snprintf(ctx->method, sizeof ctx->method, "%s", method);
    snprintf(ctx->path, sizeof ctx->path, "%s", url);
    ctx->start_ms = strands_clock_mono_ms();
    dynbuf_init(&ctx->body, s->limits.max_body_bytes);
    request_id_pick(MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                                SERVER_REQUEST_HEADER),
                    ctx->request_id, sizeof ctx->request_id);
    return ctx;
}

/* Counts n more body bytes against the server-wide budget; 0 when that
 * would exceed it. */
static int reserve_body(strands_server *s, request_ctx *ctx, size_t n)
{
    size_t cur = atomic_load(&s->body_bytes);
    do {
        if (n > s->limits.max_inflight_body_bytes ||
            cur > s->limits.max_inflight_body_bytes - n)
            return 0;
    } while (!atomic_compare_exchange_weak(&s->body_bytes, &cur, cur + n));
    ctx->reserved += n;
    return 1;
}

/* Frees the body and gives its bytes back to the budget. */
static void drop_body(strands_server *s, request_ctx *ctx)
{
    dynbuf_cleanup(&ctx->body);
    atomic_fetch_sub(&s->body_bytes, ctx->reserved);
    ctx->reserved = 0;
}

/* Collects one chunk of the body; past the cap or the budget the rest is
 * discarded (and answered 413 or 503 at the end). */
static void collect(strands_server *s, request_ctx *ctx, const char *data,
                    size_t len)
{
    if (ctx->too_large || ctx->over_budget) return;
    if (ctx->body.len + len > s->limits.max_body_bytes) {
        ctx->too_large = 1;
        drop_body(s, ctx);
        return;
    }
    if (!reserve_body(s, ctx, len)) {
        ctx->over_budget = 1;
        drop_body(s, ctx);
        return;
    }
    if (dynbuf_append(&ctx->body, data, len) != STRANDS_OK) {
        ctx->too_large = 1; /* OOM: the buffer freed itself */
        drop_body(s, ctx);
    }
}

/* RFC 9112 section 6.1: Content-Length with Transfer-Encoding is how
 * requests are smuggled past proxies. Refused before any body is read,
 * and the connection closed, so no byte after it is read as a request. */
static enum MHD_Result refuse_ambiguous_framing(struct MHD_Connection *c,
                                                request_ctx *ctx)
{
    return server_send_json(
        c, ctx, 400,
        json_pack("{s:s, s:s}", "error",
                  "a request must not carry both Content-Length and "
                  "Transfer-Encoding",
                  "error_type", "BadRequest"),
        "Connection", "close", NULL);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c,
                                  const char *url, const char *method,
                                  const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
    (void)version;
    strands_server *s = cls;
    request_ctx *ctx = *con_cls;
    if (!ctx) {
        ctx = new_ctx(s, c, url, method);
        if (!ctx) return MHD_NO;
        *con_cls = ctx;
        if (MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                        MHD_HTTP_HEADER_CONTENT_LENGTH) &&
            MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                        MHD_HTTP_HEADER_TRANSFER_ENCODING))
            return refuse_ambiguous_framing(c, ctx);
        /* Answer on a later call, once any body has been read: a response
         * queued earlier would cost the connection its keep-alive. */
        return MHD_YES;
    }
    if (ctx->status) {
        *upload_size = 0; /* already answered (refused): discard */
        return MHD_YES;
    }
    if (*upload_size) {
        collect(s, ctx, upload, *upload_size);
        *upload_size = 0;
        return MHD_YES;
    }
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    handler_ctx h = {.srv = s,
                     .conn = c,
                     .req = ctx,
                     .fd = ci ? ci->connect_fd : -1,
                     .runners = s->runners,
                     .limits = &s->limits,
                     .ping = &s->ping};
    return server_dispatch(&h, method, url, atomic_load(&s->draining));
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    strands_server *s = cls;
    request_ctx *ctx = *con_cls;
    if (!ctx) return;
    if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK && !ctx->status)
        ctx->status = 499; /* client went away before a response */
    request_log(c, ctx->method, ctx->path, ctx);
    runner_release(ctx->runner);
    *con_cls = NULL;
    drop_body(s, ctx);
    free(ctx);
}

static void mhd_logger(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[512];
    /* The format comes from libmicrohttpd itself. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    vsnprintf(msg, sizeof msg, fmt, ap);
#pragma GCC diagnostic pop
    size_t n = strlen(msg);
    while (n && msg[n - 1] == '\n') msg[--n] = '\0';
    strands_log(STRANDS_LOG_DEBUG, "strands.server.http", NULL, NULL, NULL,
                "%s", msg);
}

strands_server *strands_server_start(const strands_server_config *cfg,
                                     strands_error *err)
{
    if (!cfg->agent) {
        strands_error_set(err, STRANDS_E_INVALID, NULL, "server needs an agent");
        return NULL;
    }
    struct sockaddr_in addr = {.sin_family = AF_INET,
                               .sin_port = htons((uint16_t)cfg->port)};
    if (inet_pton(AF_INET, cfg->bind_address ? cfg->bind_address : "0.0.0.0",
                  &addr.sin_addr) != 1) {
        strands_error_set(err, STRANDS_E_INVALID, NULL,
                          "BIND_ADDRESS: '%s' is not an IPv4 address",
                          cfg->bind_address);
        return NULL;
    }
    strands_server *s = calloc(1, sizeof *s);
    if (!s) {
        strands_error_set(err, STRANDS_E_NOMEM, NULL, "OOM");
        return NULL;
    }
    s->cfg = *cfg;
    s->limits.max_body_bytes = cfg->max_body_bytes;
    s->limits.max_inflight_body_bytes = cfg->max_inflight_body_bytes
                                            ? cfg->max_inflight_body_bytes
                                            : DEFAULT_INFLIGHT_BODY_BYTES;
    s->limits.sse_keepalive_s = cfg->sse_keepalive_s > 0
                                    ? cfg->sse_keepalive_s
                                    : 15;
    ping_state_init(&s->ping);
    runner_set_config rc = {.agent = cfg->agent,
                            .tracer = cfg->tracer,
                            .model_id = cfg->model_id};
    s->runners = runner_set_new(&rc);
    if (!s->runners) {
        ping_state_cleanup(&s->ping);
        free(s);
        strands_error_set(err, STRANDS_E_NOMEM, NULL, "OOM");
        return NULL;
    }
    for (size_t i = 0; i < N_PARTS; i++)
        if (parts[i] && parts[i]->init && parts[i]->init(s, err) != STRANDS_OK) {
            strands_server_stop(s);
            return NULL;
        }
    s->daemon = MHD_start_daemon(
        MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
            MHD_USE_POLL | MHD_USE_ITC | MHD_USE_ERROR_LOG |
            MHD_ALLOW_UPGRADE,
        (uint16_t)cfg->port, NULL, NULL, on_request, s,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
        MHD_OPTION_EXTERNAL_LOGGER, mhd_logger, NULL,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)960,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned int)4096,
        MHD_OPTION_THREAD_STACK_SIZE, (size_t)(512 * 1024),
        MHD_OPTION_LISTENING_ADDRESS_REUSE, (unsigned int)1,
        MHD_OPTION_END);
    if (!s->daemon) {
        strands_error_set(err, STRANDS_E_IO, NULL,
                          "cannot listen on %s:%d (address in use or not "
                          "permitted)",
                          cfg->bind_address, cfg->port);
        strands_server_stop(s);
        return NULL;
    }
    const union MHD_DaemonInfo *info =
        MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
    s->port = info ? info->port : cfg->port;
    return s;
}

int strands_server_port(const strands_server *s)
{
    return s->port;
}

void strands_server_quiesce(strands_server *s)
{
    if (atomic_exchange(&s->draining, 1)) return;
    MHD_socket fd = MHD_quiesce_daemon(s->daemon);
    if (fd != MHD_INVALID_SOCKET) close(fd);
    for (size_t i = 0; i < N_PARTS; i++)
        if (parts[i] && parts[i]->drain) parts[i]->drain(s);
}

int strands_server_wait_idle(strands_server *s, long timeout_ms)
{
    return runner_set_wait_idle(s->runners, timeout_ms);
}

void strands_server_cancel_all(strands_server *s)
{
    runner_set_cancel_all(s->runners);
}

/* Stopping the daemon completes every connection, which releases (and
 * joins) every runner; then the set is empty and can go.               */
void strands_server_stop(strands_server *s)
{
    if (!s) return;
    /* Drain first (if the caller did not): parts wind down what holds a
     * connection thread, e.g. /ws connections close once idle.          */
    if (s->daemon) strands_server_quiesce(s);
    if (s->daemon) MHD_stop_daemon(s->daemon);
    for (size_t i = N_PARTS; i-- > 0;)
        if (parts[i] && parts[i]->cleanup) parts[i]->cleanup(s);
    runner_set_free(s->runners);
    ping_state_cleanup(&s->ping);
    free(s);
}
