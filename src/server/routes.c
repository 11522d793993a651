/* The routing table: {method, path, handler, protocols} rows, and the
 * dispatch that answers 404 for an unknown path and 405 (with Allow) for
 * a known path with another method, among the rows of the server's
 * protocol (SERVER_PROTOCOL). A new endpoint or protocol encoder is one
 * row.                                                                 */
#include <stdio.h>
#include <string.h>

#include "server/internal.h"

const route server_routes[] = {
    {"GET", "/ping", ping_handle, 0, ROUTE_ALL},
    {"HEAD", "/ping", ping_handle, 0, ROUTE_ALL},
    {"POST", "/invocations", invocations_handle, 1, ROUTE_HTTP},
    {"POST", "/", a2a_handle_rpc, 1, ROUTE_A2A},
    {"GET", "/.well-known/agent-card.json", a2a_handle_card, 0, ROUTE_A2A},
    {"GET", "/.well-known/agent.json", a2a_handle_card, 0, ROUTE_A2A},
    {"POST", "/mcp", mcp_server_handle, 1, ROUTE_MCP},
    {"GET", "/ws", ws_handle, 1, ROUTE_HTTP | ROUTE_AGUI},
    {"POST", "/invocations", agui_handle, 1, ROUTE_AGUI},
    {NULL, NULL, NULL, 0, 0},
};

const char *server_header(const handler_ctx *h, const char *name)
{
    return MHD_lookup_connection_value(h->conn, MHD_HEADER_KIND, name);
}

/* The row for (method, path), or NULL; *path_known tells a 405 apart. */
static const route *find(unsigned mode, const char *method, const char *path,
                         int *path_known)
{
    *path_known = 0;
    for (const route *r = server_routes; r->path; r++) {
        if (!(r->protocols & mode) || strcmp(r->path, path)) continue;
        *path_known = 1;
        if (!strcmp(r->method, method)) return r;
    }
    return NULL;
}

/* 405 naming the methods the path accepts. */
static enum MHD_Result not_allowed(handler_ctx *h, unsigned mode,
                                   const char *path)
{
    char allow[64] = "", msg[96];
    const char *first = NULL;
    for (const route *r = server_routes; r->path; r++) {
        if (!(r->protocols & mode) || strcmp(r->path, path)) continue;
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
    unsigned mode = 1u << h->srv->cfg.protocol;
    const route *r = find(mode, method, path, &known);
    if (!r && !known) {
        /* Name what this mode serves. */
        char msg[256] = "no such path; use GET /ping";
        for (const route *o = server_routes; o->path; o++) {
            if (!(o->protocols & mode) || !strcmp(o->path, "/ping") ||
                !strcmp(o->method, "HEAD"))
                continue;
            size_t n = strlen(msg);
            snprintf(msg + n, sizeof msg - n, ", %s %s", o->method, o->path);
        }
        return server_send_error(h->conn, h->req, 404, "NotFound", msg);
    }
    if (!r) return not_allowed(h, mode, path);
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
