/* Private state of the HTTP server module: the server object, the
 * per-request state, the handler context and routing table, and the
 * helpers the handlers (encoders) share.                                */
#ifndef STRANDS_SERVER_INTERNAL_H
#define STRANDS_SERVER_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include <microhttpd.h>
#include <jansson.h>

#include "core/buf.h"
#include "strands/server.h"
#include "strands/session.h"

typedef struct runner runner;
typedef struct runner_set runner_set;

#define SERVER_SESSION_HEADER "X-Amzn-Bedrock-AgentCore-Runtime-Session-Id"
#define SERVER_REQUEST_HEADER "X-Amzn-Bedrock-AgentCore-Runtime-Request-Id"
/* The end user (actor) of an invocation, passed to the session store. */
#define SERVER_USER_HEADER "X-Amzn-Bedrock-AgentCore-Runtime-User-Id"
#define SERVER_ACTOR_ID_MAX 256
/* Request ids longer than this (or not printable ASCII) are replaced. */
#define SERVER_REQUEST_ID_MAX 128
#define SERVER_SESSION_ID_MAX STRANDS_SESSION_ID_MAX

/* /ping state: the status and when it last changed. */
typedef struct ping_state {
    pthread_mutex_t lock;
    const char *status;      /* "Healthy" or "HealthyBusy" */
    int64_t last_update;     /* Unix seconds of the last change */
} ping_state;

/* Limits the handlers need (copied from the server configuration). */
typedef struct server_limits {
    size_t max_body_bytes;         /* one body; 413 above */
    size_t max_inflight_body_bytes;/* all bodies held at once; 503 above */
    int sse_keepalive_s;           /* > 0 */
} server_limits;

/* Per-protocol state, each owned by its module (created by its part's
 * init in server.c's parts table; NULL when that part is not in use). */
struct ws_hub;
struct mcp_server_state;
struct a2a_state;
struct async_table;

struct strands_server {
    struct MHD_Daemon *daemon;
    strands_server_config cfg;
    server_limits limits;
    int port;
    atomic_int draining;     /* quiesced: new requests get 503 */
    atomic_size_t body_bytes;/* request-body bytes held right now */
    runner_set *runners;     /* every invocation in flight */
    ping_state ping;
    struct ws_hub *ws;             /* ws.c */
    struct mcp_server_state *mcp;  /* mcp_server.c */
    struct a2a_state *a2a;         /* a2a.c */
    struct async_table *async;     /* async.c */
};

/* A part of the server with state of its own (a protocol's tables, the
 * async invocations...): one row in server.c's parts table. init runs at
 * start (in table order; an error stops the start), drain when the
 * server quiesces (stop taking new work, cancel what must not outlive the
 * grace period) and cleanup at stop, after the daemon has stopped (every
 * handler done) and before the runner set is freed. Each may be NULL.  */
typedef struct server_part {
    const char *name;
    strands_status (*init)(strands_server *s, strands_error *err);
    void (*drain)(strands_server *s);
    void (*cleanup)(strands_server *s);
} server_part;

/* One HTTP request, from the first handler call to completion. */
typedef struct request_ctx {
    int64_t start_ms;
    int status;              /* HTTP status sent, 0 until then */
    int too_large;           /* body exceeded the cap; discarding */
    int over_budget;         /* all bodies exceed the budget; discarding */
    size_t reserved;         /* bytes counted in server.body_bytes */
    runner *runner;          /* JSON invocations: released on completion */
    dynbuf body;
    char method[16];
    char path[256];
    char request_id[SERVER_REQUEST_ID_MAX + 1];
    char session_id[SERVER_SESSION_ID_MAX + 1];
} request_ctx;

/* What a route handler gets: the request, and only the parts of the
 * server it may use. Borrowed for the duration of the handler call.     */
typedef struct handler_ctx {
    strands_server *srv;           /* config (srv->cfg) and protocol state */
    struct MHD_Connection *conn;   /* to answer and read headers */
    request_ctx *req;              /* ids, body, status */
    int fd;                        /* the client's socket, -1 if unknown */
    runner_set *runners;
    const server_limits *limits;
    ping_state *ping;
} handler_ctx;

typedef enum MHD_Result route_fn(handler_ctx *h);

/* Protocol masks of a routing-table row. */
#define ROUTE_HTTP (1u << STRANDS_PROTOCOL_HTTP)
#define ROUTE_MCP (1u << STRANDS_PROTOCOL_MCP)
#define ROUTE_A2A (1u << STRANDS_PROTOCOL_A2A)
#define ROUTE_AGUI (1u << STRANDS_PROTOCOL_AGUI)
#define ROUTE_ALL (ROUTE_HTTP | ROUTE_MCP | ROUTE_A2A | ROUTE_AGUI)

/* One row of the routing table (routes.c). */
typedef struct route {
    const char *method;      /* "GET", "POST"... */
    const char *path;        /* exact path */
    route_fn *fn;
    int invocation;          /* refused with 503 while draining; 413 when
                                the body was too large */
    unsigned protocols;      /* ROUTE_* mask: the modes serving it */
} route;

/** The routing table, terminated by a row with path NULL. */
extern const route server_routes[];

/** Answers the request through its routing-table row (404/405 when there
 * is none); invocation rows get 503 while draining or over the body
 * budget, and 413 for a body over the cap.                              */
enum MHD_Result server_dispatch(handler_ctx *h, const char *method,
                                const char *path, int draining);

/** The caller's request context for tools (strands_request_context): the
 * identity and custom headers of the request (request_context.c). Fills
 * hdrs (room for STRANDS_REQUEST_HEADERS_MAX) with values borrowed from
 * the connection; headers over STRANDS_REQUEST_HEADER_VALUE_MAX bytes or
 * past the cap are left out. Returns the count.                         */
size_t server_request_context(const handler_ctx *h,
                              strands_request_header *hdrs);

/** A request header's value (borrowed from the connection), or NULL. */
const char *server_header(const handler_ctx *h, const char *name);

/** doc as compact JSON text (malloc'd, NUL-terminated, length in *len),
 * or NULL (never a partial document) on OOM or a NULL doc.             */
char *server_json_text(const json_t *doc, size_t *len);

/** Parses len bytes of body (NULL: empty) as one JSON document with
 * jansson's decode flags. Returns it (the caller owns it), or NULL with
 * *nomem 1 when out of memory (jansson's out-of-memory code, or no
 * message at all: a failure before parsing began) or 0 when the text is
 * not JSON, jerr then holding jansson's message, line and column.      */
json_t *server_json_load(const char *body, size_t len, size_t flags,
                         json_error_t *jerr, int *nomem);

/** Sends a JSON document (stolen reference) with `status`; extra header
 * pairs (name, value, ..., NULL) are added. Records the status in ctx.
 * A NULL doc (OOM) becomes a fixed 500 body.                           */
enum MHD_Result server_send_json(struct MHD_Connection *c, request_ctx *ctx,
                                 int status, json_t *doc, ...);

/** The error_type of a failed invocation: the upstream code when there is
 * one (e.g. "ValidationException"), else a name for the status.         */
const char *server_error_type(const strands_error *err);
/** The HTTP status for a failed invocation (502 for upstream failures,
 * 422 for StructuredOutputInvalid). */
int server_error_status(const strands_error *err);
/** Sends the JSON error of a failed invocation with its status. */
enum MHD_Result server_send_agent_error(struct MHD_Connection *c,
                                        request_ctx *ctx,
                                        const strands_error *err);
/** {"input_tokens","output_tokens","total_tokens",
 * "cache_read_input_tokens","cache_write_input_tokens"} (new reference;
 * NULL on OOM).                                                          */
json_t *server_usage_json(const strands_usage *u);
/** The invocation response document (new reference; NULL on OOM), with
 * "structured_output" when the result has one. */
json_t *server_result_json(const char *invocation_id, const char *session_id,
                           const strands_agent_result *r);

/** Sends {"error": message, "error_type": type}. */
enum MHD_Result server_send_error(struct MHD_Connection *c, request_ctx *ctx,
                                  int status, const char *type,
                                  const char *message);

void ping_state_init(ping_state *p);
void ping_state_cleanup(ping_state *p);
/** Sets the status; the timestamp moves only when the value changes. */
void ping_state_set(ping_state *p, const char *status);
/** GET/HEAD /ping. */
enum MHD_Result ping_handle(handler_ctx *h);

/* ---- request parsing (request.c; pure, no HTTP) ----------------------- */

/* How a body was judged. */
typedef enum request_verdict {
    REQUEST_OK = 0,
    REQUEST_BAD_JSON,   /* 400 InvalidJSON */
    REQUEST_INVALID,    /* 400 ValidationError */
    REQUEST_NOMEM       /* 500 InternalError */
} request_verdict;

/** Answers a request body that request_parse (or another protocol's
 * parser with the same verdicts) refused: 400 InvalidJSON, 400
 * ValidationError with `why`, or 500 InternalError (out of memory).    */
enum MHD_Result server_send_verdict(handler_ctx *h, request_verdict v,
                                    const char *why);
/** Answers a runner that could not start (runner_start/runner_run
 * failed with err): 500 InternalError when out of memory, else 503 with
 * the error's type (ServerBusy, ServiceUnavailable).                   */
enum MHD_Result server_send_start_error(handler_ctx *h,
                                        const strands_error *err);


/* What an /invocations body asks for besides an invocation. */
typedef enum request_action {
    REQUEST_ACTION_NONE = 0,          /* an invocation ("prompt") */
    REQUEST_ACTION_GET_INVOCATION,    /* an async invocation's status */
    REQUEST_ACTION_CANCEL_INVOCATION  /* cancel an async invocation */
} request_action;

/* A parsed /invocations body; fields valid when the verdict is OK. */
typedef struct request_parsed {
    json_t *prompt;     /* content-block array (new reference); NULL for
                           an action */
    int stream;         /* 1, 0, or -1 when the body has no "stream" */
    int async;          /* "async": true (never with "stream": true) */
    request_action action;
    char invocation_id[SERVER_REQUEST_ID_MAX + 1]; /* actions: the target */
    char session_id[SERVER_SESSION_ID_MAX + 1];    /* actions: "" when
                           neither the body nor the header names one */
    json_t *output_schema; /* "output_schema" (new reference, checked with
                              strands_output_schema_check), or NULL */
} request_parsed;

/** Parses and validates an /invocations body: a JSON object that is
 * either an invocation ("prompt", "stream" and "async" booleans when
 * present, not both true; "output_schema" when present and not null: a
 * JSON Schema object, see strands_output_schema_check, a bad one is
 * REQUEST_INVALID naming output_schema; session id from the body, else
 * header_session, else a new UUID) or an action ("action":
 * "get_invocation" or "cancel_invocation" with "invocation_id", 1..128
 * printable ASCII; no prompt needed; the session id as above but never
 * made up). On REQUEST_OK fills *out (free with request_parsed_cleanup);
 * otherwise `why` always holds a NUL-terminated reason (whysz >= 1) and
 * *out holds nothing to free.                                           */
request_verdict request_parse(const char *body, size_t len,
                              const char *header_session,
                              request_parsed *out, char *why, size_t whysz);
/** Frees what request_parse put in *p (safe on a zeroed struct). */
void request_parsed_cleanup(request_parsed *p);

/** The body's "prompt" as a content-block array (new reference), or NULL
 * with the reason (for a 400, or "out of memory") in why, which is always
 * NUL-terminated (whysz >= 1).                                          */
json_t *request_prompt_blocks(const json_t *body, char *why, size_t whysz);
/** Checks a session id from the body or header: 1..256 bytes, no control
 * characters. Returns 1 and copies it into out (outsz > 256), or 0 with
 * the reason in why. Reads at most 257 bytes of v.                       */
int request_session_id(const char *v, char *out, size_t outsz, char *why,
                       size_t whysz);
/** Checks the user-id header value v: NULL (absent) is fine; otherwise it
 * must be 1..SERVER_ACTOR_ID_MAX printable ASCII bytes. Returns 1 when
 * usable, or 0 with the reason in why. Reads at most 257 bytes of v.    */
int request_actor_id(const char *v, char *why, size_t whysz);
/** Copies a client request id into out (outsz > 128) when it is 1..128
 * printable ASCII bytes, else writes a new UUID. Returns 1 when the
 * client's id was kept.                                                 */
int request_id_pick(const char *v, char *out, size_t outsz);
/** 1 when s is valid, padded base64 of at least one byte (checked by
 * net/base64 without decoding), else 0.                                  */
int request_base64_valid(const char *s, size_t len);

/* ---- streamed events (sse_event.c; pure) ------------------------------ */

struct runner_event;
struct runner_outcome;
/* The error object sent when an event cannot be built (out of memory). */
#define SSE_OOM_JSON                                                         \
    "{\"type\":\"error\",\"error\":\"out of memory\","                       \
    "\"error_type\":\"InternalError\"}"
/** The object of a queued event ({"type":"text"|"tool_use"|"tool_result",
 * ...}; new reference), or NULL on OOM or for a type that is not
 * streamed. Shared by every streaming encoder (SSE, WebSocket).         */
json_t *sse_event_json(const struct runner_event *ev);
/** The final `done` object (new reference), or NULL on OOM. */
json_t *sse_done_json(const char *invocation_id, const char *session_id,
                      const strands_agent_result *r);
/** An `error` object {"type":"error","error","error_type"} (new
 * reference), or NULL on OOM.                                           */
json_t *sse_error_json(const char *message, const char *type);
/** The object that ends a stream: `done` on success, `error` on failure
 * (new reference); NULL on OOM or when events were lost (send
 * SSE_OOM_JSON then).                                                   */
json_t *sse_final_json(const struct runner_outcome *o,
                       const char *invocation_id, const char *session_id);

/* SSE frames: "data: <object>\n\n" of the objects above. */
/** "data: <json>\n\n" for a queued event (malloc'd, length in *len), or
 * NULL on OOM or for an event type that is not streamed (*len = 0).     */
char *sse_format_event(const struct runner_event *ev, size_t *len);
/** The final `done` frame (with "structured_output" when the result has
 * one), or NULL on OOM. */
char *sse_format_done(const char *invocation_id, const char *session_id,
                      const strands_agent_result *r, size_t *len);
/** An `error` frame {"type":"error","error","error_type"}, or NULL on OOM. */
char *sse_format_error(const char *message, const char *type, size_t *len);
/** The static frame sent when a frame cannot be built (out of memory). */
extern const char sse_oom_frame[];
/** The frame that ends a stream that began: `done` on success, `error`
 * on failure, and sse_oom_frame when either cannot be built or events
 * were lost; never NULL. *owned = 1 when the caller must free() it.     */
const char *sse_final_frame(const struct runner_outcome *o,
                            const char *invocation_id,
                            const char *session_id, size_t *len, int *owned);

/* Per-invocation counters behind the metrics log line (metrics.c). */
typedef struct invocation_metrics {
    int model_calls, model_errors, tool_calls, tool_errors, stream;
} invocation_metrics;

/** An event sink that writes one JSON metrics log line at the end of the
 * invocation; m is caller storage living as long as the invocation.     */
strands_event_sink invocation_metrics_sink(invocation_metrics *m, int stream);

/* ---- the SSE body (sse_pump.c) ----------------------------------------- */

/* What a streaming encoder turns the runner's stream into. Each callback
 * appends frames (complete "data: ...\n\n" text) to `out` and returns 0
 * to go on, 1 when what it appended ends the stream (e.g. an error frame
 * after a failure), or -1 to abort the response (the runner is then
 * cancelled). Called on the connection's thread, one at a time.         */
typedef struct sse_pump_ops {
    /* One event popped from the runner (borrowed). */
    int (*event)(void *user, const struct runner_event *ev, dynbuf *out);
    /* The run has ended (runner_get_outcome(r) is set): the closing
     * frames. The stream ends after them (a 0 return counts as 1).     */
    int (*end)(void *user, runner *r, dynbuf *out);
    /* The response is gone: frees user (may look at r, e.g. to cancel
     * and wait for it); the pump releases r right after. May be NULL.  */
    void (*free)(void *user, runner *r);
} sse_pump_ops;

/** Answers 200 text/event-stream (no-cache, and the header hname: hvalue
 * when both are given) with a body fed by the started runner r through
 * ops, after the frames in preface (may be NULL; its contents are moved
 * in). Takes r, user and preface in every case (ops->free and
 * runner_release run when the response is gone, or at once on failure). Keep-alive comments
 * every SSE_KEEPALIVE_SECONDS of silence; a client that hangs up cancels
 * the runner.                                                           */
enum MHD_Result sse_pump_start(handler_ctx *h, runner *r,
                               const sse_pump_ops *ops, void *user,
                               const char *hname, const char *hvalue,
                               dynbuf *preface);
/** Waits until the agent of the started runner r began (or failed). 1:
 * it began, stream on. 0: answered already, *ret set and r released: the
 * client hung up (MHD_NO), or the run failed before it began (busy
 * session, no credentials...), which gets its own HTTP status.         */
int sse_pump_wait_started(handler_ctx *h, runner *r, enum MHD_Result *ret);
/** Appends "<prefix><compact JSON of doc>\n\n" to out (doc stolen; NULL
 * is out of memory). Returns 0, or -1 on OOM or past the buffer's cap. */
int sse_pump_frame(dynbuf *out, const char *prefix, json_t *doc);

/** Streams an invocation as Server-Sent Events over a started runner
 * (released here or by the response).                                  */
enum MHD_Result sse_handle(handler_ctx *h, runner *r);

/** POST /invocations: validate, start a runner, encode JSON or SSE. */
enum MHD_Result invocations_handle(handler_ctx *h);
/** POST /invocations in AGUI mode: a RunAgentInput in, the AG-UI event
 * stream out as SSE (agui.c).                                          */
enum MHD_Result agui_handle(handler_ctx *h);

/** POST / in A2A mode: one JSON-RPC request (a2a.c). */
enum MHD_Result a2a_handle_rpc(handler_ctx *h);
/** GET /.well-known/agent-card.json (and the 0.2 path agent.json). */
enum MHD_Result a2a_handle_card(handler_ctx *h);
/** The A2A part: the task table srv->a2a (A2A mode only) and the threads
 * of tasks that run without a client.                                   */
extern const server_part a2a_part;
/** POST /mcp (SERVER_PROTOCOL=MCP): one JSON-RPC message (mcp_server.c). */
enum MHD_Result mcp_server_handle(handler_ctx *h);
/** The MCP mode's state (srv->mcp), created when the protocol is MCP. */
extern const server_part mcp_server_part;
/** GET /ws: checks the WebSocket upgrade (426/400/503 JSON errors) and
 * answers 101; the connection is then served on its thread (ws.c).     */
enum MHD_Result ws_handle(handler_ctx *h);
/** The /ws part: the connection count (srv->ws), drained with 1001. */
extern const server_part ws_part;

/** Logs the finished request (method, path, status, duration; headers and
 * body at debug level, header values only for harmless headers).        */
void request_log(struct MHD_Connection *c, const char *method,
                 const char *path, const request_ctx *ctx);
/** True for header names whose values may be logged (an allow-list). */
int request_log_header_loggable(const char *name);

#endif
