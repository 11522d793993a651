/* OpenTelemetry tracing of agent invocations: configuration from the
 * standard OTEL_* variables, W3C traceparent and AWS X-Ray context, the
 * Strands span conventions built from an invocation's events, and OTLP/HTTP
 * export (protobuf or JSON) from one background thread fed by a bounded
 * queue. See docs/internals/telemetry.md.                                */
#ifndef STRANDS_TELEMETRY_H
#define STRANDS_TELEMETRY_H

#include <stddef.h>
#include <stdint.h>

#include "strands/common.h"
#include "strands/config.h"
#include "strands/event.h"
#include "strands/status.h"

/* ---- W3C trace context and AWS X-Ray headers -------------------------- */

/* "00-" 32 hex "-" 16 hex "-" 2 hex: 55 characters, plus the NUL. */
#define STRANDS_TRACEPARENT_SIZE 56
#define STRANDS_TRACE_FLAG_SAMPLED 0x01

/* A span context: ids as bytes (big-endian, as printed in hex). */
typedef struct strands_trace_ctx {
    uint8_t trace_id[16];
    uint8_t span_id[8];
    uint8_t flags;         /* bit 0: sampled; other bits as received */
} strands_trace_ctx;

/** Parses a `traceparent` header value per W3C Trace Context level 1:
 * lowercase hex only, ids not all zero, version "ff" invalid, version 00
 * exactly 55 characters; a higher version is read by its version-00 prefix
 * and may go on only after a '-'. Leading/trailing spaces and tabs are
 * ignored. E_PARSE when invalid (the caller then starts a new trace).    */
STRANDS_EXTERN strands_status strands_traceparent_parse(
    const char *value, strands_trace_ctx *out);

/** Writes "00-<trace>-<span>-<flags>" (version 00, flags as given) into
 * out, NUL-terminated. Returns 55, or 0 (writing "" when outsz > 0) when
 * outsz < STRANDS_TRACEPARENT_SIZE.                                      */
STRANDS_EXTERN size_t strands_traceparent_format(const strands_trace_ctx *ctx,
                                                 char *out, size_t outsz);

/** Parses an AWS `X-Amzn-Trace-Id` value such as
 * "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;
 * Sampled=1": trace id = the 8 epoch digits followed by the 24 random
 * ones, span id = Parent, sampled = (Sampled=1). Root and Parent are
 * required (hex in either case); other fields are ignored. E_PARSE when
 * invalid.                                                               */
STRANDS_EXTERN strands_status strands_xray_parse(const char *value,
                                                 strands_trace_ctx *out);

/** The incoming parent context of a request: a valid traceparent wins; an
 * absent or invalid one falls back to a valid X-Ray header. Either header
 * may be NULL. Returns 1 and fills *out when one was found, else 0.      */
STRANDS_EXTERN int strands_trace_ctx_extract(const char *traceparent,
                                             const char *xray,
                                             strands_trace_ctx *out);

/* ---- The tracer ---------------------------------------------------------- */

typedef struct strands_tracer strands_tracer;

/* Export counters, in spans. */
typedef struct strands_tracer_stats {
    uint64_t exported;   /* accepted by the collector (2xx) */
    uint64_t dropped;    /* queue full, or still queued at shutdown */
    uint64_t failed;     /* in an export that failed (transport or non-2xx) */
} strands_tracer_stats;

/** Builds a tracer from the OTEL_* variables (getenv_fn NULL: the process
 * environment; an empty value counts as unset), and starts its export
 * thread. Returns NULL with err->status == STRANDS_OK when tracing is off
 * (OTEL_SDK_DISABLED=true, OTEL_TRACES_EXPORTER=none, or no endpoint);
 * NULL with E_INVALID and a message that starts with the variable's name
 * on a bad value (e.g. "OTEL_EXPORTER_OTLP_PROTOCOL: grpc is not
 * supported..."); E_NOMEM / E_INTERNAL on resource failure. The caller
 * owns the tracer: strands_tracer_shutdown, then strands_tracer_free.    */
STRANDS_EXTERN strands_tracer *strands_tracer_from_env(
    strands_getenv_fn *getenv_fn, void *user, strands_error *err);

/** Flushes queued spans and stops the export thread, returning within
 * timeout_ms (plus a few ms) even when the collector is dead or stalled:
 * what cannot be sent in time is dropped and counted. Later spans are
 * dropped. Idempotent; NULL is a no-op. Call it once no invocation is
 * running (after the server stopped).                                    */
STRANDS_EXTERN void strands_tracer_shutdown(strands_tracer *t,
                                            long timeout_ms);

/** Frees the tracer (shutting it down first, with no wait, if that was
 * not done). Every invocation trace must have been ended. NULL: no-op.  */
STRANDS_EXTERN void strands_tracer_free(strands_tracer *t);

/** Current counters (thread-safe). */
STRANDS_EXTERN void strands_tracer_get_stats(const strands_tracer *t,
                                             strands_tracer_stats *out);

/** The URL spans are POSTed to (borrowed from the tracer), e.g. for a
 * start-up log line; "" when t is NULL.                                  */
STRANDS_EXTERN const char *strands_tracer_endpoint(const strands_tracer *t);

/* ---- One invocation ------------------------------------------------------ */

typedef struct strands_invocation_trace strands_invocation_trace;

/** Starts tracing one invocation. traceparent_header / xray_header are the
 * request's `traceparent` and `X-Amzn-Trace-Id` values (NULL when absent);
 * the invocation's spans join that trace, else a new one starts. The
 * sampler decides here. Strings are copied; agent_name NULL means
 * "Strands Agents"; session_id and model_id may be NULL. Returns NULL when
 * t is NULL (tracing off) or on OOM: a NULL trace is valid everywhere
 * below, so callers need no special case. Thread-safe.                   */
STRANDS_EXTERN strands_invocation_trace *strands_trace_begin(
    strands_tracer *t, const char *traceparent_header,
    const char *xray_header, const char *session_id, const char *agent_name,
    const char *model_id);

/** The event sink to add to strands_invocation.sinks. It builds the spans
 * (invoke_agent, execute_event_loop_cycle, chat, execute_tool) from the
 * events and writes the chat span's traceparent into MODEL_START's
 * buffer (flags 00 when unsampled). For NULL `it` the sink's fn is NULL,
 * which the agent skips. Valid until strands_trace_end.                  */
STRANDS_EXTERN strands_event_sink strands_trace_sink(
    strands_invocation_trace *it);

/** The traceparent of the invocation's root span (the invoke_agent span)
 * into out (>= STRANDS_TRACEPARENT_SIZE), e.g. for logs or a response
 * header. Returns 55, or 0 with "" when it is NULL or out too small.     */
STRANDS_EXTERN size_t strands_trace_traceparent(
    const strands_invocation_trace *it, char *out, size_t outsz);

/** Ends the invocation's tracing and frees `it` (NULL: no-op). Spans that
 * were started but that no INVOCATION_END event closed are closed here
 * with an ERROR status; an invocation that emitted no event at all (e.g.
 * rejected with E_BUSY before it started) records no span. Call after
 * strands_agent_invoke returned.                                         */
STRANDS_EXTERN void strands_trace_end(strands_invocation_trace *it);

#endif
