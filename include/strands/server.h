/* The AgentCore server: GET /ping and the endpoints of one protocol
 * (HTTP /invocations and /ws, MCP, A2A or AG-UI) on top of an agent, with
 * JSON errors, a request log and graceful shutdown.                     */
#ifndef STRANDS_SERVER_H
#define STRANDS_SERVER_H

#include <stddef.h>

#include "strands/agent.h"
#include "strands/status.h"
#include "strands/telemetry.h"
#include "strands/tool.h"

/* The protocol a server speaks (AgentCore's serverProtocol); /ping is
 * served in every one.                                                  */
typedef enum strands_server_protocol {
    STRANDS_PROTOCOL_HTTP = 0, /* POST /invocations (JSON, SSE), /ws */
    STRANDS_PROTOCOL_MCP = 1,  /* POST /mcp: an MCP server */
    STRANDS_PROTOCOL_A2A = 2,  /* POST / (JSON-RPC), the agent card */
    STRANDS_PROTOCOL_AGUI = 3  /* POST /invocations and /ws: AG-UI */
} strands_server_protocol;

/** Parses "HTTP", "MCP", "A2A" or "AGUI" (as SERVER_PROTOCOL spells them)
 * into *out; returns 0, or -1 for anything else.                        */
STRANDS_EXTERN int strands_server_protocol_parse(const char *name,
                                                 strands_server_protocol *out);
/** The protocol's AgentCore port: 8080 (HTTP, AGUI), 8000 (MCP), 9000
 * (A2A).                                                                */
STRANDS_EXTERN int strands_server_protocol_port(strands_server_protocol p);

typedef struct strands_server_config {
    strands_server_protocol protocol; /* what is served besides /ping */
    const char *bind_address;  /* IPv4 address, e.g. "0.0.0.0" */
    int port;                  /* 0: an ephemeral port */
    size_t max_body_bytes;     /* larger bodies get 413 */
    size_t max_inflight_body_bytes; /* all request bodies held at once;
                                  over it 503 ServerBusy; 0: 256 MiB */
    int sse_keepalive_s;       /* SSE keep-alive comment interval; 0: 15 */
    strands_agent *agent;      /* borrowed; must outlive the server */
    strands_tracer *tracer;    /* borrowed; NULL = no tracing */
    const char *model_id;      /* for spans (gen_ai.request.model) */
    strands_tool_registry *tools; /* the agent's tools (borrowed), for MCP
                                  tools/list and A2A skills; may be NULL */
    size_t ws_max_message_bytes; /* /ws: larger messages close the
                                  connection with 1009; 0: 1 MiB */
    int mcp_serve_tools;       /* MCP: offer the registry's tools too */
    int tool_timeout_s;        /* MCP: a served tool's deadline when it has
                                  none of its own (TOOL_TIMEOUT_SECONDS);
                                  0: 300 */
    const char *agent_name;    /* A2A card, MCP serverInfo; NULL: a default */
    const char *agent_description; /* A2A card; may be NULL */
    const char *runtime_url;   /* A2A card URL; NULL: from the request */
    int a2a_max_tasks;         /* A2A tasks kept; 0: 1000 */
    int a2a_task_ttl_s;        /* finished A2A tasks kept; 0: 3600 */
    int async_max_s;           /* async invocation run limit; 0: 28800 */
    int async_result_ttl_s;    /* finished async results kept; 0: 3600 */
    int async_max;             /* async invocations kept; 0: 1000 */
} strands_server_config;

typedef struct strands_server strands_server;

/** Starts listening and serving on background threads. E_IO with the
 * reason when the address cannot be bound.                               */
STRANDS_EXTERN strands_server *strands_server_start(
    const strands_server_config *cfg, strands_error *err);
/** The port actually bound. */
STRANDS_EXTERN int strands_server_port(const strands_server *s);
/** Stops accepting connections; requests still arriving on open
 * connections get 503. In-flight invocations continue.                  */
STRANDS_EXTERN void strands_server_quiesce(strands_server *s);
/** Waits until no invocation is in flight (its answer fully sent) or
 * timeout_ms elapses; returns the number still in flight.               */
STRANDS_EXTERN int strands_server_wait_idle(strands_server *s, long timeout_ms);
/** Asks in-flight invocations to stop now (model calls and tools are
 * abandoned; their clients get 503).                                    */
STRANDS_EXTERN void strands_server_cancel_all(strands_server *s);
/** Stops the server and frees it (NULL is a no-op). Blocks until every
 * invocation thread has ended (joined), so the agent and what it uses may
 * be freed right after; call strands_server_cancel_all first to make
 * in-flight invocations stop early.                                     */
STRANDS_EXTERN void strands_server_stop(strands_server *s);

/** Installs the JSON-lines log sink on stdout (timestamp, level, message,
 * logger, requestId, sessionId). Logging never blocks the caller: lines
 * go through a bounded queue to one writer thread; when stdout stalls and
 * the queue is full, lines are dropped and counted, and a later line says
 * how many. Call once before threads start.                             */
STRANDS_EXTERN void strands_log_use_json_stdout(void);
/** Writes out every queued log line (waiting at most timeout_ms), stops
 * the writer thread and goes back to the default sink. Call at exit.    */
STRANDS_EXTERN void strands_log_json_stdout_flush(long timeout_ms);

#endif
