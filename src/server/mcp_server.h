/* The MCP server mode (SERVER_PROTOCOL=MCP): stateless Streamable HTTP on
 * POST /mcp, dual-era (the modern 2026-07-28 revision with per-request
 * _meta and mirrored headers, and the legacy 2025-11-25 and 2025-06-18
 * revisions with the initialize handshake), in four files:
 *   mcp_server_rpc.c      JSON-RPC parsing and validation, the era and
 *                         header checks, Accept, version negotiation
 *                         (pure: unit tests and the fuzzer call it);
 *   mcp_server_methods.c  the results of initialize, server/discover,
 *                         tools/list, and tool results as MCP content
 *                         (pure);
 *   mcp_server_call.c     a registry tool's call on a worker thread with
 *                         a deadline and a cancel flag;
 *   mcp_server.c          the HTTP glue: the route handler, JSON and SSE
 *                         replies, invoke_agent through the runner, and
 *                         the server part.                               */
#ifndef STRANDS_SERVER_MCP_SERVER_H
#define STRANDS_SERVER_MCP_SERVER_H

#include <stdatomic.h>
#include <stddef.h>
#include <jansson.h>

#include "strands/agent.h"
#include "strands/tool.h"

#define MCP_SERVER_VERSION_MODERN "2026-07-28"
#define MCP_SERVER_VERSION_LEGACY "2025-11-25"
#define MCP_SERVER_VERSION_LEGACY_OLD "2025-06-18"

/* The JSON-RPC and MCP error codes we answer with. */
#define MCP_RPC_PARSE_ERROR (-32700)
#define MCP_RPC_INVALID_REQUEST (-32600)
#define MCP_RPC_METHOD_NOT_FOUND (-32601)
#define MCP_RPC_INVALID_PARAMS (-32602)
#define MCP_RPC_INTERNAL_ERROR (-32603)
#define MCP_RPC_HEADER_MISMATCH (-32020)
#define MCP_RPC_UNSUPPORTED_VERSION (-32022)

/* Tools one tools/list page holds at most (more: nextCursor). */
#define MCP_SERVER_TOOLS_PAGE 500
/* The name of the tool that runs the agent. */
#define MCP_SERVER_INVOKE_TOOL "invoke_agent"

/* ---- JSON-RPC messages (mcp_server_rpc.c) ----------------------------- */

typedef enum mcp_msg_kind {
    MCP_MSG_REQUEST = 0,   /* method and id: answered */
    MCP_MSG_NOTIFICATION,  /* method, no id: 202 */
    MCP_MSG_RESPONSE       /* result or error with an id: 202 */
} mcp_msg_kind;

/* A JSON-RPC error to answer with, and the HTTP status to send it with. */
typedef struct mcp_rpc_error {
    int code;            /* MCP_RPC_* */
    int http_status;     /* 200, 400, 404, 500 */
    char message[320];   /* NUL-terminated */
    json_t *data;        /* error.data (owned), or NULL */
} mcp_rpc_error;

/** Frees what an error holds (its data); safe on a zeroed struct. */
void mcp_rpc_error_cleanup(mcp_rpc_error *e);

/* One parsed message. Every pointer is borrowed from doc. */
typedef struct mcp_rpc_msg {
    mcp_msg_kind kind;
    json_t *doc;         /* the whole message (owned) */
    const json_t *id;    /* requests: a string or an integer */
    const char *method;  /* requests and notifications */
    const json_t *params;/* an object, or NULL when absent */
} mcp_rpc_msg;

/** Parses one POSTed body. Returns 0 with *out filled (free with
 * mcp_rpc_msg_cleanup), or -1 with *err filled (-32700 bad JSON, -32600
 * not a JSON-RPC 2.0 message or a batch, -32602 params not an object,
 * -32603 out of memory) and *err_id set to a new reference to the
 * message's id when one could be read (else NULL); *out then holds
 * nothing. Never reads past len.                                        */
int mcp_rpc_parse(const char *body, size_t len, mcp_rpc_msg *out,
                  json_t **err_id, mcp_rpc_error *err);
/** Frees what mcp_rpc_parse put in *m (safe on a zeroed struct). */
void mcp_rpc_msg_cleanup(mcp_rpc_msg *m);

/* The request headers the checks read (borrowed; NULL when absent). */
typedef struct mcp_rpc_headers {
    const char *protocol_version; /* MCP-Protocol-Version */
    const char *method;           /* Mcp-Method */
    const char *name;             /* Mcp-Name */
} mcp_rpc_headers;

/* How a request is served: the revision it speaks. */
typedef struct mcp_era {
    int modern;          /* 1: 2026-07-28 (stateless, _meta, headers) */
    char version[16];    /* the request's version; "" when a legacy
                            request named none */
} mcp_era;

/** Decides the era of a request and checks its version and headers as
 * its revision says: `initialize` is legacy; a request whose _meta names
 * a protocol version is modern and must carry MCP-Protocol-Version equal
 * to it, Mcp-Method equal to its method and, for tools/call,
 * resources/read and prompts/get, Mcp-Name equal to params.name/uri
 * (Base64 sentinel decoded) — else 400 -32020 HeaderMismatch — and
 * io.modelcontextprotocol/clientCapabilities (else 400 -32602); a version
 * we do not speak gets 400 -32022 with data {supported, requested}. A
 * request without _meta is legacy: its MCP-Protocol-Version, when
 * present, must be a legacy version we speak (else 400 -32022), and
 * 2026-07-28 without _meta is 400 -32602. Returns 0 with *era, or -1
 * with *err.                                                             */
int mcp_rpc_check(const mcp_rpc_msg *m, const mcp_rpc_headers *h,
                  mcp_era *era, mcp_rpc_error *err);

/** The version initialize answers for a client asking for `requested`
 * (may be NULL): it when we speak it as a legacy version, else
 * MCP_SERVER_VERSION_LEGACY. Static string.                             */
const char *mcp_rpc_negotiate(const char *requested);
/** A new array of every version we speak, newest first; NULL on OOM. */
json_t *mcp_rpc_supported_versions(void);

/** Reads an Accept header (NULL: anything goes): *json_ok when
 * application/json is acceptable, *sse_ok when text/event-stream is
 * (wildcards count; a range with q=0 does not).                        */
void mcp_rpc_accept(const char *accept, int *json_ok, int *sse_ok);

/** Decodes a header value in the 2026-07-28 Base64 sentinel form
 * ("=?base64?...?=") or returns a copy of a plain one; the bytes in
 * *len. NULL for a malformed sentinel value or on OOM. free() it.       */
char *mcp_rpc_header_decode(const char *v, size_t *len);

/* Looks a request header up by name (case-insensitive); NULL if absent. */
typedef const char *mcp_header_fn(void *user, const char *name);

/** 2026-07-28 x-mcp-header: for a tools/call of a tool whose input
 * schema (borrowed) designates parameters to mirror, checks that every
 * Mcp-Param-<Name> header the arguments call for is there (get) and,
 * Base64 sentinel decoded, equals the argument (integers compared as
 * numbers). Returns 0, or -1 with *err (400 -32020; 500 -32603 on OOM).
 * Arguments the schema's annotations cannot render (a wrong type) are
 * left to the input validation (0).                                    */
int mcp_rpc_check_param_headers(const json_t *schema, const json_t *args,
                                mcp_header_fn *get, void *user,
                                mcp_rpc_error *err);

/** {"jsonrpc":"2.0","id":id,"result":result} (result stolen; id
 * borrowed, NULL becomes null); NULL on OOM.                            */
json_t *mcp_rpc_result_doc(const json_t *id, json_t *result);
/** {"jsonrpc":"2.0","id":id,"error":{code,message,data?}}; the error's
 * data is moved into the document (e->data becomes NULL). NULL on OOM.  */
json_t *mcp_rpc_error_doc(const json_t *id, mcp_rpc_error *e);
/** Fills *e (code, HTTP status, printf message); data stays NULL. */
void mcp_rpc_error_set(mcp_rpc_error *e, int code, int http_status,
                       const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* ---- method results (mcp_server_methods.c) ---------------------------- */

/* Who the server says it is. Borrowed strings. */
typedef struct mcp_server_info {
    const char *name;          /* AGENT_NAME */
    const char *description;   /* instructions; may be NULL */
} mcp_server_info;

/** The InitializeResult for a client asking for `requested`; NULL on
 * OOM. New reference.                                                   */
json_t *mcp_initialize_result(const char *requested,
                              const mcp_server_info *info);
/** The DiscoverResult (supported versions, capabilities, serverInfo);
 * NULL on OOM. New reference.                                           */
json_t *mcp_discover_result(const mcp_server_info *info);
/** Adds what a modern result carries (resultType "complete" and
 * _meta io.modelcontextprotocol/serverInfo) when era is modern; returns
 * result, or NULL (result freed) on OOM. result is stolen.              */
json_t *mcp_finish_result(json_t *result, const mcp_era *era,
                          const mcp_server_info *info);

/** The tools/list result: invoke_agent, then (when snap is non-NULL) the
 * snapshot's tools under their own names, MCP_SERVER_TOOLS_PAGE per page
 * from `cursor` (NULL: the first page; else the decimal offset a
 * previous page gave as nextCursor). NULL with *err (-32602 for a bad
 * cursor, -32603 on OOM). New reference.                                */
json_t *mcp_tools_list_result(const strands_tool_snapshot *snap,
                              const char *cursor, mcp_rpc_error *err);

/** Reads invoke_agent's arguments: "prompt" (a non-blank string) and
 * "session_id" (optional string), the session being that, else
 * agentcore_session, else mcp_session, else a new UUID (each checked as
 * a session id). On success returns 1 with *prompt (a new content-block
 * array) and session (>= 257 bytes); else 0 with the reason in why.    */
int mcp_invoke_args(const json_t *args, const char *agentcore_session,
                    const char *mcp_session, json_t **prompt,
                    char *session, size_t session_sz, char *why,
                    size_t whysz);

/** The CallToolResult of an invocation: text content = the response and
 * structuredContent = server_result_json's document, or isError with
 * "<error_type>: <message>" for a failed one. NULL on OOM.              */
json_t *mcp_invoke_result(const char *invocation_id, const char *session_id,
                          strands_status status, const strands_error *error,
                          const strands_agent_result *r);
/** The CallToolResult of a registry tool: Converse ToolResultContent
 * blocks (borrowed) as MCP content (text, json as text plus
 * structuredContent when it is the one json object, image, document as
 * an embedded resource, anything else as a short text note). NULL on
 * OOM.                                                                  */
json_t *mcp_tool_result(const json_t *content);
/** A CallToolResult with isError and one text item; NULL on OOM. */
json_t *mcp_tool_error_result(const char *message);

/* ---- registry tool calls (mcp_server_call.c) -------------------------- */

/* Calls of registry tools in flight at once (more: an isError result). */
#define MCP_SERVER_MAX_TOOL_CALLS 256
/* Abandoned calls (past their deadline and ignoring cancellation) kept
 * running at once, process-wide; more: new calls are refused.          */
#define MCP_SERVER_MAX_ABANDONED 16
/* A call's deadline when its tool has none of its own and no
 * TOOL_TIMEOUT_SECONDS reached the server.                              */
#define MCP_SERVER_TOOL_TIMEOUT_MS 300000

/* The mode's state (srv->mcp). */
struct mcp_server_state {
    atomic_int calls;          /* registry tool calls in flight */
};

/* One registry tool call. Borrowed for the duration of the call. */
typedef struct mcp_tool_call {
    const strands_tool *tool;     /* from a snapshot the caller holds */
    const json_t *input;          /* the arguments (an object) */
    const char *session_id;       /* for the tool context */
    const strands_request_context *request; /* copied; may be NULL */
    int64_t timeout_ms;           /* > 0 */
    int watch_fd;                 /* client socket (hang-up cancels), or -1 */
} mcp_tool_call;

/** Validates the input against the tool's schema and runs the tool on a
 * worker thread, waiting until it is done, its deadline passes (its
 * cancel flag is set; a call still running a grace period later is
 * abandoned) or the client hangs up (cancelled). OK with *content (new
 * reference, Converse ToolResultContent blocks); else the error (the
 * tool's own, E_INVALID for bad input, E_TIMEOUT, E_CANCELLED, E_BUSY
 * over the caps, E_NOMEM).                                              */
strands_status mcp_server_call_tool(struct mcp_server_state *st,
                                    const mcp_tool_call *call,
                                    json_t **content, strands_error *err);

#endif
