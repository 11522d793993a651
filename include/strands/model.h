/* The model-provider interface (a vtable, SQLite-VFS style). The agent loop
 * talks only to this; Bedrock Converse is one implementation and users can
 * add others in C. Requests and responses are Converse-shaped JSON.       */
#ifndef STRANDS_MODEL_H
#define STRANDS_MODEL_H

#include <stdatomic.h>
#include <jansson.h>

#include "strands/event.h"
#include "strands/status.h"

#define STRANDS_MODEL_VTAB_VERSION 1

/* One model call. Every pointer is borrowed for the duration of the call. */
typedef struct strands_model_request {
    const json_t *messages;  /* Converse messages array */
    const json_t *system;    /* SystemContentBlock array, or NULL */
    const json_t *tools;     /* toolConfig.tools array, or NULL */
    int max_tokens;          /* inferenceConfig.maxTokens (> 0) */
    const char *request_id;  /* for logs and traces, may be NULL */
    const atomic_int *cancelled; /* non-zero: abandon the call, may be NULL */
    int stream;              /* prefer the provider's streaming API, so
                                on_delta sees text as it is produced */
    const char *traceparent; /* W3C trace context for the call, or NULL */
    /* Streaming providers report text deltas here while the call runs
     * (type STRANDS_EVENT_TEXT_DELTA); NULL: no deltas wanted.            */
    void (*on_delta)(void *user, const char *text, size_t len);
    void *delta_user;
} strands_model_request;

/* What a successful call returns; owned by the caller, freed with
 * strands_model_response_cleanup.                                       */
typedef struct strands_model_response {
    json_t *message;          /* {"role":"assistant","content":[...]} */
    char stop_reason[48];     /* the model's stop reason, e.g. "end_turn" */
    strands_usage usage;
    int64_t latency_ms;
} strands_model_response;

typedef struct strands_model strands_model;

typedef struct strands_model_vtab {
    int version;              /* STRANDS_MODEL_VTAB_VERSION */
    const char *name;         /* provider name, e.g. "bedrock" */
    /* Performs one call. On failure returns an error status and fills err
     * (err->code: the provider's error type, e.g. "ValidationException";
     * err->http_status: the upstream status). Thread-safe.               */
    strands_status (*converse)(strands_model *self,
                               const strands_model_request *req,
                               strands_model_response *out,
                               strands_error *err);
    /* Frees the provider. */
    void (*destroy)(strands_model *self);
} strands_model_vtab;

/* Implementations embed this as their first member. */
struct strands_model {
    const strands_model_vtab *vtab;
};

static inline strands_status strands_model_converse(
    strands_model *m, const strands_model_request *req,
    strands_model_response *out, strands_error *err)
{
    return m->vtab->converse(m, req, out, err);
}

/** Frees a model (NULL is a no-op). */
STRANDS_EXTERN void strands_model_free(strands_model *m);
/** Releases the response's message and zeroes it. */
STRANDS_EXTERN void strands_model_response_cleanup(strands_model_response *r);

#endif
