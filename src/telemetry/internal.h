/* Private pieces of the telemetry module: configuration, recorded spans
 * and their attributes, the OTLP encoders, the sampler, and the export
 * queue with its thread. Nothing here is thread-safe unless it says so.  */
#ifndef STRANDS_TELEMETRY_INTERNAL_H
#define STRANDS_TELEMETRY_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "strands/telemetry.h"

/* ---- Configuration (config.c) -------------------------------------------- */

typedef enum { TEL_PROTO_PROTOBUF = 0, TEL_PROTO_JSON = 1 } tel_protocol;

typedef enum {
    TEL_SAMPLE_ALWAYS_ON = 0,
    TEL_SAMPLE_ALWAYS_OFF = 1,
    TEL_SAMPLE_RATIO = 2
} tel_root_sampler;

typedef struct tel_sampler {
    int parent_based;       /* parentbased_*: follow a remote parent */
    tel_root_sampler root;  /* decides for traces without a parent */
    double ratio;           /* TEL_SAMPLE_RATIO: 0..1 */
} tel_sampler;

/* A string pair; both owned by the array that holds it. */
typedef struct tel_kv {
    char *key;
    char *value;
} tel_kv;

typedef struct tel_config {
    char *endpoint;               /* full URL spans are POSTed to */
    tel_protocol protocol;
    tel_kv *headers;              /* extra HTTP headers, values decoded */
    size_t n_headers;
    tel_kv *resource;             /* resource attributes (strings) */
    size_t n_resource;
    tel_sampler sampler;
    long timeout_ms;              /* one export request, whole */
    long connect_timeout_ms;
    long schedule_delay_ms;       /* flush at least this often */
    size_t max_queue;             /* finished spans waiting for export */
    size_t max_batch;             /* spans per request */
    int no_thread;                /* tests only: queue without a thread */
} tel_config;

/** Reads the OTEL_* variables. *enabled = 0 (and OK) when tracing is off;
 * then cfg holds nothing. Else cfg is filled; free with
 * tel_config_cleanup. Bad values: E_INVALID naming the variable.         */
strands_status tel_config_load(tel_config *cfg, int *enabled,
                               strands_getenv_fn *getenv_fn, void *user,
                               strands_error *err);
/** Frees what cfg owns and zeroes it. */
void tel_config_cleanup(tel_config *cfg);
/** Parses "k=v,k2=v2" (spaces around items trimmed, values
 * percent-decoded) into a new array (*out, *n; free with tel_kv_free).
 * `var` names the variable in error messages. Empty items are skipped;
 * a later duplicate key replaces the earlier value.                      */
strands_status tel_parse_kv_list(const char *var, const char *text,
                                 tel_kv **out, size_t *n, strands_error *err);
/** Frees n pairs and the array. */
void tel_kv_free(tel_kv *kv, size_t n);

/* ---- Context and ids (context.c) ----------------------------------------- */

/** Fills b with n random bytes from getrandom, never all zero. */
void tel_random_id(uint8_t *b, size_t n);
/** Writes n bytes as 2n lowercase hex chars plus NUL. */
void tel_hex(const uint8_t *b, size_t n, char *out);

/* ---- Sampler (sampler.c) ------------------------------------------------- */

/** Whether a new trace (parent == NULL) or the local root span of a remote
 * parent's trace is sampled. trace_id is the trace's id.                 */
int tel_sampler_should_sample(const tel_sampler *s,
                              const strands_trace_ctx *parent,
                              const uint8_t trace_id[16]);

/* ---- Spans (span.c) ------------------------------------------------------ */

typedef enum {
    TEL_V_STRING = 1,
    TEL_V_BOOL = 2,
    TEL_V_INT = 3,
    TEL_V_DOUBLE = 4,
    TEL_V_STRING_ARRAY = 5
} tel_value_type;

typedef struct tel_attr {
    char *key;
    tel_value_type type;
    union {
        char *s;             /* TEL_V_STRING */
        int b;               /* TEL_V_BOOL */
        int64_t i;           /* TEL_V_INT */
        double d;            /* TEL_V_DOUBLE */
        struct {             /* TEL_V_STRING_ARRAY */
            char **items;
            size_t n;
        } arr;
    } v;
} tel_attr;

/* OTLP Span.kind and Status.code values. */
enum { TEL_KIND_INTERNAL = 1, TEL_KIND_SERVER = 2 };
enum { TEL_STATUS_UNSET = 0, TEL_STATUS_OK = 1, TEL_STATUS_ERROR = 2 };
/* OTLP Span.flags bits above the W3C trace flags. */
#define TEL_SPAN_FLAG_HAS_IS_REMOTE 0x100u
#define TEL_SPAN_FLAG_IS_REMOTE 0x200u

/* One recorded span; owns its strings and attributes. */
typedef struct tel_span {
    uint8_t trace_id[16];
    uint8_t span_id[8];
    uint8_t parent_span_id[8];
    int has_parent;
    uint32_t flags;              /* trace flags | TEL_SPAN_FLAG_* */
    char *name;
    int kind;
    uint64_t start_ns, end_ns;   /* Unix nanoseconds */
    tel_attr *attrs;
    size_t n_attrs, cap_attrs;
    uint32_t dropped_attrs;      /* setters that failed (OOM) */
    int status_code;
    char *status_message;        /* NULL when none */
    struct tel_span *next;       /* export queue link */
} tel_span;

/** Copies s[0..len) as valid UTF-8 (each byte of an ill-formed sequence,
 * and NUL, becomes U+FFFD), NUL-terminated; NULL on OOM. OTLP strings
 * must be UTF-8, and collectors reject a request that has one that is not. */
char *tel_utf8_dup(const char *s, size_t len);
/** Current wall-clock time in Unix nanoseconds. */
uint64_t tel_now_ns(void);
/** A new span named `name` (copied), kind INTERNAL, no attributes.
 * NULL on OOM.                                                          */
tel_span *tel_span_new(const char *name);
/** Frees a span (NULL: no-op); not its `next`.                          */
void tel_span_free(tel_span *s);
/* Attribute setters: copy key and value; setting a key again replaces it.
 * On OOM the attribute is lost and counted in dropped_attrs.            */
void tel_span_set_str(tel_span *s, const char *key, const char *value);
void tel_span_set_strn(tel_span *s, const char *key, const char *value,
                       size_t len);
void tel_span_set_int(tel_span *s, const char *key, int64_t value);
void tel_span_set_double(tel_span *s, const char *key, double value);
void tel_span_set_bool(tel_span *s, const char *key, int value);
void tel_span_set_str_array(tel_span *s, const char *key,
                            const char *const *items, size_t n);
/** Sets the status (message copied, NULL for none). */
void tel_span_set_status(tel_span *s, int code, const char *message);
/** The attribute named key, or NULL. */
const tel_attr *tel_span_attr(const tel_span *s, const char *key);

/* ---- OTLP encoding (otlp_proto.c, otlp_json.c) --------------------------- */

/* What every request carries besides the spans; all borrowed. */
typedef struct tel_export_meta {
    const tel_kv *resource;
    size_t n_resource;
    const char *scope_name;
    const char *scope_version;
} tel_export_meta;

#define TEL_SCOPE_NAME "strands.telemetry.tracer"

/** Appends an ExportTraceServiceRequest (one ResourceSpans, one
 * ScopeSpans, the n spans) in protobuf wire format to out.             */
strands_status tel_encode_protobuf(const tel_export_meta *meta,
                                   tel_span *const *spans, size_t n,
                                   dynbuf *out);
/** The same request in OTLP/JSON (hex ids, integer enums, 64-bit
 * integers as decimal strings).                                        */
strands_status tel_encode_json(const tel_export_meta *meta,
                               tel_span *const *spans, size_t n,
                               dynbuf *out);

/* ---- Export queue and thread (exporter.c) -------------------------------- */

typedef struct tel_exporter tel_exporter;

/** Takes over *cfg (zeroed on success) and starts the export thread
 * (unless cfg->no_thread). NULL on failure with err set (cfg untouched). */
tel_exporter *tel_exporter_new(tel_config *cfg, strands_error *err);
/** Queues a finished span; takes ownership. Never blocks on I/O: when
 * the queue is full, or after shutdown, the span is dropped and counted.
 * Thread-safe.                                                          */
void tel_exporter_submit(tel_exporter *e, tel_span *s);
/** See strands_tracer_shutdown. */
void tel_exporter_shutdown(tel_exporter *e, long timeout_ms);
/** Drops the owner's reference (shutting down without waiting first if
 * needed). The export thread, if it outlived a shutdown's deadline,
 * frees the rest when it finishes.                                      */
void tel_exporter_free(tel_exporter *e);
/** Counters (thread-safe). */
void tel_exporter_stats(const tel_exporter *e, strands_tracer_stats *out);
/** The configuration the exporter owns (read-only). */
const tel_config *tel_exporter_config(const tel_exporter *e);
/** Spans waiting in the queue (thread-safe; for tests). */
size_t tel_exporter_queued(tel_exporter *e);

/* ---- Tracer (tracer.c) --------------------------------------------------- */

/** Called with each span when it ends, instead of exporting it (tests). */
typedef void tel_span_hook(void *user, const tel_span *s);

/** A tracer over an already loaded configuration (taken over as in
 * tel_exporter_new).                                                   */
strands_tracer *tel_tracer_new(tel_config *cfg, strands_error *err);
/** Installs a span hook; call before any invocation starts.            */
void tel_tracer_set_span_hook(strands_tracer *t, tel_span_hook *fn,
                              void *user);

#endif
