/* The routing table: {method, path, handler} rows, and the dispatch that
 * answers 404 for an unknown path and 405 (with Allow) for a known path
 * with another method. A new endpoint or protocol encoder is one row.   */
#include <stdio.h>
#include <string.h>

#include "server/internal.h"

const route server_routes[] = {
    {"GET", "/ping", ping_handle, 0},
    {"HEAD", "/ping", ping_handle, 0},
    {"POST", "/invocations", invocations_handle, 1},
    {NULL, NULL, NULL, 0},
};

const char *server_header(const handler_ctx *h, const char *name)
{
    return MHD_lookup_connection_value(h->conn, MHD_HEADER_KIND, name);
}

/* The row for (method, path), or NULL; *path_known tells a 405 apart. */
static const route *find(const char *method, const char *path,
                         int *path_known)
{
    *path_known = 0;
    for (const route *r = server_routes; r->path; r++) {
        if (strcmp(r->path, path)) continue;
        *path_known = 1;
        if (!strcmp(r->method, method)) return r;
    }
    return NULL;
}

/* 405 naming the methods the path accepts. */
static enum MHD_Result not_allowed(handler_ctx *h, const char *path)
{
    char allow[64] = "", msg[96];
    const char *first = NULL;
    for (const route *r = server_routes; r->path; r++) {
        if (strcmp(r->path, path)) continue;
        if (!first) first = r->method;
        size_t n = strlen(allow);
        snprintf(allow + n, sizeof allow - n, "%s%s", n ? ", " : "",
                 r->method);
    }
    snprintf(msg, sizeof msg, "method not allowed; use %s", first);
    return server_send_json(h->conn, h->req, 405,
                            json_pack("{s:s, s:s}", "error", msg,
                                      "error_type", "MethodNotAllowed"),
                            "Allow", allow, NULL);
}

/* Runs the handler of the request's row, after the checks every
 * invocation row shares (draining, body size and budget).               */
enum MHD_Result server_dispatch(handler_ctx *h, const char *method,
                                const char *path, int draining)
{
    int known;
    const route *r = find(method, path, &known);
    if (!r && !known)
        return server_send_error(h->conn, h->req, 404, "NotFound",
                                 "no such path; use GET /ping or POST "
                                 "/invocations");
    if (!r) return not_allowed(h, path);
    if (r->invocation) {
        if (draining)
            return server_send_error(h->conn, h->req, 503,
                                     "ServiceUnavailable",
                                     "the runtime is shutting down");
        if (h->req->over_budget) {
            char msg[160];
            snprintf(msg, sizeof msg,
                     "request bodies in flight exceed %zu bytes "
                     "(MAX_INFLIGHT_BODY_BYTES); retry later",
                     h->limits->max_inflight_body_bytes);
            return server_send_json(
                h->conn, h->req, 503,
                json_pack("{s:s, s:s}", "error", msg, "error_type",
                          "ServerBusy"),
                "Retry-After", "1", NULL);
        }
        if (h->req->too_large) {
            char msg[128];
            snprintf(msg, sizeof msg, "request body exceeds the limit of %zu "
                                      "bytes (MAX_BODY_BYTES)",
                     h->limits->max_body_bytes);
            return server_send_error(h->conn, h->req, 413, "PayloadTooLarge",
                                     msg);
        }
    }
    return r->fn(h);
}
