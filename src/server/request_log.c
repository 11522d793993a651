/* Request-log middleware: one line per finished request with method, path,
 * status and duration; at debug level also the headers (secret values
 * masked) and the body (truncated).                                      */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "server/internal.h"
#include "strands/clock.h"
#include "strands/log.h"

#define BODY_LOG_MAX 1024

static const char *const secret_headers[] = {
    "authorization", "x-amz-security-token", "cookie", "set-cookie",
    "workloadaccesstoken", "x-amz-bedrock-agentcore-identity-wat",
    "proxy-authorization", NULL};

int request_log_is_secret_header(const char *name)
{
    for (const char *const *h = secret_headers; *h; h++)
        if (!strcasecmp(*h, name)) return 1;
    return 0;
}

static enum MHD_Result add_header(void *cls, enum MHD_ValueKind kind,
                                  const char *key, const char *value)
{
    (void)kind;
    json_object_set_new(cls, key,
                        json_string(request_log_is_secret_header(key)
                                        ? "***"
                                        : (value ? value : "")));
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
