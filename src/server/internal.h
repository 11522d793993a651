/* Private state of the HTTP server module: the server object, the
 * per-request context, and the helpers the route handlers share.       */
#ifndef STRANDS_SERVER_INTERNAL_H
#define STRANDS_SERVER_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include <microhttpd.h>
#include <jansson.h>

#include "core/buf.h"
#include "strands/server.h"

/* /ping state: the status and when it last changed. */
typedef struct ping_state {
    pthread_mutex_t lock;
    const char *status;      /* "Healthy" or "HealthyBusy" */
    int64_t last_update;     /* Unix seconds of the last change */
} ping_state;

struct strands_server {
    struct MHD_Daemon *daemon;
    strands_server_config cfg;
    int port;
    atomic_int draining;     /* quiesced: new requests get 503 */
    atomic_int cancel;       /* in-flight invocations must stop */
    pthread_mutex_t idle_lock;
    pthread_cond_t idle_cond;
    int in_flight;
    int64_t last_trim_ms;    /* last malloc_trim, monotonic ms */
    ping_state ping;
};

/* One HTTP request, from the first handler call to completion. */
typedef struct request_ctx {
    int64_t start_ms;
    int status;              /* HTTP status sent, 0 until then */
    int too_large;           /* body exceeded the cap; discarding */
    int in_flight;           /* counted as an in-flight invocation */
    strands_buf body;
    char method[16];
    char path[256];
    char request_id[72];
    char session_id[264];
} request_ctx;

/** Sends a JSON document (stolen reference) with `status`; extra header
 * pairs (name, value, ..., NULL) are added. Records the status in ctx. */
enum MHD_Result server_send_json(struct MHD_Connection *c, request_ctx *ctx,
                                 int status, json_t *doc, ...);
#define SERVER_SESSION_HEADER "X-Amzn-Bedrock-AgentCore-Runtime-Session-Id"

/** The error_type of a failed invocation: the upstream code when there is
 * one (e.g. "ValidationException"), else a name for the status.         */
const char *server_error_type(const strands_error *err);
/** The HTTP status for a failed invocation (502 for upstream failures). */
int server_error_status(const strands_error *err);
/** Sends the JSON error of a failed invocation with its status. */
enum MHD_Result server_send_agent_error(struct MHD_Connection *c,
                                        request_ctx *ctx,
                                        const strands_error *err);
/** The invocation response document (new reference). */
json_t *server_result_json(const char *invocation_id, const char *session_id,
                           const strands_agent_result *r);

/** Starts tracing an invocation from the request's traceparent /
 * X-Amzn-Trace-Id headers; NULL (valid everywhere) when tracing is off. */
strands_invocation_trace *server_trace_begin(strands_server *s,
                                             struct MHD_Connection *c,
                                             const request_ctx *ctx);

/** Sends {"error": message, "error_type": type}. */
enum MHD_Result server_send_error(struct MHD_Connection *c, request_ctx *ctx,
                                  int status, const char *type,
                                  const char *message);

void ping_state_init(ping_state *p);
void ping_state_cleanup(ping_state *p);
/** Sets the status; the timestamp moves only when the value changes. */
void ping_state_set(ping_state *p, const char *status);
enum MHD_Result ping_handle(strands_server *s, struct MHD_Connection *c,
                            request_ctx *ctx);

/** The body's "prompt" as a content-block array (new reference), or NULL
 * with the reason (for a 400) in why.                                   */
json_t *request_prompt_blocks(const json_t *body, char *why, size_t whysz);

/* Per-invocation counters behind the metrics log line (metrics.c). */
typedef struct invocation_metrics {
    int model_calls, model_errors, tool_calls, tool_errors, stream;
} invocation_metrics;

/** An event sink that writes one JSON metrics log line at the end of the
 * invocation; m is caller storage living as long as the invocation.     */
strands_event_sink invocation_metrics_sink(invocation_metrics *m, int stream);

/** Counts an invocation (or an SSE agent thread) as in flight; shutdown
 * waits for the count to reach zero.                                    */
void server_begin_invocation(strands_server *s);
void server_end_invocation(strands_server *s);

/** Streams an invocation as Server-Sent Events (prompt is stolen). */
enum MHD_Result sse_handle(strands_server *s, struct MHD_Connection *c,
                           request_ctx *ctx, json_t *prompt);

/** Handles a complete POST /invocations body. */
enum MHD_Result invocations_handle(strands_server *s,
                                   struct MHD_Connection *c,
                                   request_ctx *ctx);

/** Logs the finished request (method, path, status, duration; headers and
 * body at debug level with secrets masked).                             */
void request_log(struct MHD_Connection *c, const char *method,
                 const char *path, const request_ctx *ctx);
/** True for header names whose values must never be logged. */
int request_log_is_secret_header(const char *name);

#endif
