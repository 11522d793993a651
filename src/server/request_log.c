/* Request-log middleware: one line per finished request with method, path,
 * status and duration; at debug level also the headers and the body
 * (truncated). Header VALUES are shown only for an allow-list of harmless
 * headers; every other value (tokens, API keys, cookies, anything custom)
 * is logged as "***".                                                   */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "server/internal.h"
#include "strands/clock.h"
#include "strands/log.h"

#define BODY_LOG_MAX 1024

static const char *const loggable_headers[] = {
    "host", "user-agent", "accept", "accept-encoding", "content-type",
    "content-length", "transfer-encoding", "connection", "expect",
    "traceparent", "tracestate", "x-amzn-trace-id",
    "x-amzn-bedrock-agentcore-runtime-session-id",
    "x-amzn-bedrock-agentcore-runtime-request-id", NULL};

int request_log_header_loggable(const char *name)
{
    for (const char *const *h = loggable_headers; name && *h; h++)
        if (!strcasecmp(*h, name)) return 1;
    return 0;
}

static enum MHD_Result add_header(void *cls, enum MHD_ValueKind kind,
                                  const char *key, const char *value)
{
    (void)kind;
    if (!key) return MHD_YES;
    json_t *v = request_log_header_loggable(key)
                    ? json_string(value ? value : "")
                    : json_string("***");
    /* A value that is not UTF-8 cannot be a JSON string: mask it too. */
    json_object_set_new(cls, key, v ? v : json_string("***"));
    return MHD_YES;
}

void request_log(struct MHD_Connection *c, const char *method,
                 const char *path, const request_ctx *ctx)
{
    int is_ping = path && !strcmp(path, "/ping");
    strands_log_level level = is_ping ? STRANDS_LOG_DEBUG : STRANDS_LOG_INFO;
    int debug = strands_log_get_level() <= STRANDS_LOG_DEBUG;
    if (level < strands_log_get_level()) return;
    int64_t ms = strands_clock_mono_ms() - ctx->start_ms;
    json_t *fields = json_pack("{s:s, s:s, s:i, s:I}", "method",
                               method ? method : "", "path", path ? path : "",
                               "status", ctx->status, "duration_ms",
                               (json_int_t)ms);
    if (fields && debug && c) {
        json_t *headers = json_object();
        MHD_get_connection_values(c, MHD_HEADER_KIND, add_header, headers);
        json_object_set_new(fields, "headers", headers);
        if (ctx->body.len) {
            size_t n = ctx->body.len < BODY_LOG_MAX ? ctx->body.len
                                                    : BODY_LOG_MAX;
            json_t *b = NULL;
            /* Back off to a UTF-8 boundary; binary bodies are not shown. */
            for (size_t k = 0; !b && k < 4 && k < n; k++)
                b = json_stringn(ctx->body.data, n - k);
            json_object_set_new(fields, "body",
                                b ? b : json_string("<non-UTF-8 body>"));
            if (n < ctx->body.len)
                json_object_set_new(fields, "body_truncated", json_true());
        }
    }
    strands_log(level, "strands.server.request",
                ctx->request_id[0] ? ctx->request_id : NULL,
                ctx->session_id[0] ? ctx->session_id : NULL, fields,
                "%s %s %d %lldms", method ? method : "", path ? path : "",
                ctx->status, (long long)ms);
    json_decref(fields);
}
