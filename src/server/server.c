/* The HTTP server (the only libmicrohttpd user): a thread per connection,
 * so a long invocation blocks only its own connection and /ping stays
 * fast; routing, body collection with a cap, draining and shutdown.     */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "server/internal.h"
#include "strands/clock.h"
#include "strands/log.h"
#include "strands/util.h"

#define REQUEST_HEADER "X-Amzn-Bedrock-AgentCore-Runtime-Request-Id"

void server_begin_invocation(strands_server *s)
{
    pthread_mutex_lock(&s->idle_lock);
    s->in_flight++;
    pthread_mutex_unlock(&s->idle_lock);
}

/* When the last invocation ends, hand freed heap memory back to the OS
 * (at most once a second), so RSS falls back after a burst of load. */
void server_end_invocation(strands_server *s)
{
    pthread_mutex_lock(&s->idle_lock);
    int idle = --s->in_flight == 0;
    int64_t now = strands_clock_mono_ms();
    int trim = idle && now - s->last_trim_ms >= 1000;
    if (trim) s->last_trim_ms = now;
    pthread_cond_broadcast(&s->idle_cond);
    pthread_mutex_unlock(&s->idle_lock);
    if (trim) malloc_trim(0);
}

static request_ctx *new_ctx(strands_server *s, struct MHD_Connection *c,
                           const char *url, const char *method)
{
    request_ctx *ctx = calloc(1, sizeof *ctx);
    if (!ctx) return NULL;
    snprintf(ctx->method, sizeof ctx->method, "%s", method);
    snprintf(ctx->path, sizeof ctx->path, "%s", url);
    ctx->start_ms = strands_clock_mono_ms();
    strands_buf_init(&ctx->body, s->cfg.max_body_bytes);
    const char *rid = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                                  REQUEST_HEADER);
    if (rid && *rid && strlen(rid) < sizeof ctx->request_id)
        memcpy(ctx->request_id, rid, strlen(rid) + 1);
    else
        strands_uuid4(ctx->request_id);
    return ctx;
}

/* Collects one chunk of the body; past the cap the rest is discarded. */
static void collect(request_ctx *ctx, const char *data, size_t len)
{
    if (ctx->too_large) return;
    if (strands_buf_append(&ctx->body, data, len) != STRANDS_OK)
        ctx->too_large = 1;
}

static enum MHD_Result route(strands_server *s, struct MHD_Connection *c,
                             const char *url, const char *method,
                             request_ctx *ctx)
{
    int is_ping = !strcmp(url, "/ping");
    int is_inv = !strcmp(url, "/invocations");
    if (!is_ping && !is_inv)
        return server_send_error(c, ctx, 404, "NotFound",
                                 "no such path; use GET /ping or POST "
                                 "/invocations");
    if (is_ping && strcmp(method, "GET") && strcmp(method, "HEAD"))
        return server_send_json(
            c, ctx, 405,
            json_pack("{s:s, s:s}", "error", "method not allowed; use GET",
                      "error_type", "MethodNotAllowed"),
            "Allow", "GET, HEAD", NULL);
    if (is_inv && strcmp(method, "POST"))
        return server_send_json(
            c, ctx, 405,
            json_pack("{s:s, s:s}", "error", "method not allowed; use POST",
                      "error_type", "MethodNotAllowed"),
            "Allow", "POST", NULL);
    if (is_ping) return ping_handle(s, c, ctx);
    if (atomic_load(&s->draining))
        return server_send_error(c, ctx, 503, "ServiceUnavailable",
                                 "the runtime is shutting down");
    if (ctx->too_large) {
        char msg[128];
        snprintf(msg, sizeof msg, "request body exceeds the limit of %zu "
                                  "bytes (MAX_BODY_BYTES)",
                 s->cfg.max_body_bytes);
        return server_send_error(c, ctx, 413, "PayloadTooLarge", msg);
    }
    /* Counted until the response has been sent (see on_completed), so a
     * graceful shutdown never cuts a finished answer off the wire. */
    server_begin_invocation(s);
    ctx->in_flight = 1;
    return invocations_handle(s, c, ctx);
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
        /* Answer on a later call, once any body has been read: a response
         * queued earlier would cost the connection its keep-alive. */
        return MHD_YES;
    }
    if (*upload_size) {
        collect(ctx, upload, *upload_size);
        *upload_size = 0;
        return MHD_YES;
    }
    return route(s, c, url, method, ctx);
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
    if (ctx->in_flight) server_end_invocation(s);
    *con_cls = NULL;
    strands_buf_cleanup(&ctx->body);
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
    pthread_mutex_init(&s->idle_lock, NULL);
    pthread_cond_init(&s->idle_cond, NULL);
    ping_state_init(&s->ping);
    s->daemon = MHD_start_daemon(
        MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
            MHD_USE_POLL | MHD_USE_ITC | MHD_USE_ERROR_LOG,
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
}

int strands_server_wait_idle(strands_server *s, long timeout_ms)
{
    int64_t deadline = strands_clock_mono_ms() + timeout_ms;
    pthread_mutex_lock(&s->idle_lock);
    while (s->in_flight > 0) {
        int64_t left = deadline - strands_clock_mono_ms();
        if (left <= 0) break;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        long long ns = ts.tv_nsec + (left < 100 ? left : 100) * 1000000LL;
        ts.tv_sec += ns / 1000000000LL;
        ts.tv_nsec = ns % 1000000000LL;
        pthread_cond_timedwait(&s->idle_cond, &s->idle_lock, &ts);
    }
    int n = s->in_flight;
    pthread_mutex_unlock(&s->idle_lock);
    return n;
}

void strands_server_cancel_all(strands_server *s)
{
    atomic_store(&s->cancel, 1);
}

void strands_server_stop(strands_server *s)
{
    if (!s) return;
    if (s->daemon) MHD_stop_daemon(s->daemon);
    ping_state_cleanup(&s->ping);
    pthread_cond_destroy(&s->idle_cond);
    pthread_mutex_destroy(&s->idle_lock);
    free(s);
}
