/* The MCP client protocol over one transport: JSON-RPC 2.0 requests with
 * ids matched to replies, era and version negotiation, tools/list with
 * pagination, tools/call with deadlines and cancellation, and the
 * server's notifications. Revisions spoken: 2026-07-28 (modern,
 * stateless: no initialize, `server/discover`, `_meta` on every request)
 * and the legacy 2025-11-25 and 2025-06-18 (initialize handshake).
 *
 * Negotiation (mcp_client_connect), as the 2026-07-28 versioning page
 * says a dual-era client does it: a modern `server/discover` first; a
 * DiscoverResult or a recognised modern error (-32020/-32021/-32022)
 * means a modern server (a -32022 lists the versions to use); anything
 * else (another error, an HTTP 4xx without a modern error, no answer
 * within a few seconds on stdio) means a legacy server: `initialize`,
 * asking for 2025-11-25 and accepting 2025-06-18.
 *
 * Thread-safe: requests may be made from many threads at once; replies
 * are matched by id. At most MCP_CLIENT_MAX_PENDING requests in flight. */
#ifndef STRANDS_MCP_CLIENT_H
#define STRANDS_MCP_CLIENT_H

#include <jansson.h>
#include <stdatomic.h>
#include <stdint.h>

#include "mcp/transport.h"
#include "strands/status.h"

#define MCP_CLIENT_MAX_PENDING 256
#define MCP_CLIENT_MAX_TOOLS 1000
#define MCP_CLIENT_MAX_PAGES 100

#define MCP_VERSION_MODERN "2026-07-28"
#define MCP_VERSION_LEGACY "2025-11-25"
#define MCP_VERSION_LEGACY_OLD "2025-06-18"

typedef struct mcp_client mcp_client;

/* A notification from the server (method, params may be NULL; both
 * borrowed). Called on the transport's thread: do not block in it.     */
typedef void mcp_client_notify_fn(void *user, const char *method,
                                  const json_t *params);
/* The transport lost its connection (see mcp_on_closed_fn). */
typedef void mcp_client_closed_fn(void *user, const char *why);

typedef struct mcp_client_opts {
    const char *server_name;         /* for messages */
    mcp_client_notify_fn *on_notify; /* may be NULL */
    mcp_client_closed_fn *on_closed; /* may be NULL */
    void *user;
    long probe_timeout_ms;           /* stdio server/discover probe; 0: 3 s */
} mcp_client_opts;

/** A client over t (ownership of t passes to the client, even on
 * failure). NULL + err on E_NOMEM.                                      */
mcp_client *mcp_client_new(mcp_transport *t, const mcp_client_opts *o,
                           strands_error *err);
/** Closes the transport and frees everything; pending requests fail
 * first. NULL is a no-op.                                               */
void mcp_client_free(mcp_client *c);

/** Opens the transport and negotiates (see above) by deadline_ms.
 * E_UPSTREAM for a server that speaks none of our versions (the message
 * lists both sides), the transport's errors otherwise. May be called
 * again after mcp_client_close to reconnect.                           */
strands_status mcp_client_connect(mcp_client *c, int64_t deadline_ms,
                                  strands_error *err);
/** Closes the transport (stdio: the child is terminated and reaped);
 * requests in flight fail with E_UNAVAILABLE.                          */
void mcp_client_close(mcp_client *c);

/** The negotiated protocol version ("" before connect). Borrowed. */
const char *mcp_client_version(const mcp_client *c);
/** 1 when the server announced tools.listChanged. */
int mcp_client_lists_change(const mcp_client *c);

/** All tools (every page, at most MCP_CLIENT_MAX_TOOLS):
 * *tools_out = a new array of the server's Tool objects.               */
strands_status mcp_client_list_tools(mcp_client *c, int64_t deadline_ms,
                                     json_t **tools_out, strands_error *err);

/** Calls a tool. `arguments` borrowed (an object); `schema` (borrowed,
 * may be NULL) gives the x-mcp-header annotations for modern HTTP.
 * `more_headers` (n_more "Name: value" lines, borrowed, may be NULL) go
 * with the HTTP request (forward_headers); ignored on stdio. On OK
 * *result_out is the new CallToolResult. At the deadline or when
 * *cancelled is set: the server gets notifications/cancelled (or, modern
 * HTTP, its stream is closed) and E_TIMEOUT / E_CANCELLED is returned.
 * A JSON-RPC error reply: E_UPSTREAM, "MCP error <code>: <message>".  */
strands_status mcp_client_call_tool(mcp_client *c, const char *name,
                                    const json_t *arguments,
                                    const json_t *schema,
                                    const char *const *more_headers,
                                    size_t n_more,
                                    const atomic_int *cancelled,
                                    int64_t deadline_ms, json_t **result_out,
                                    strands_error *err);

/** A liveness check: `ping` (legacy) or `server/discover` (modern). */
strands_status mcp_client_ping(mcp_client *c, int64_t deadline_ms,
                               strands_error *err);

#endif
