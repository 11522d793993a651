/* The model-provider interface (a vtable, SQLite-VFS style). The agent loop
 * talks only to this; Bedrock Converse is one implementation and users can
 * add others in C. Requests and responses are Converse-shaped JSON.       */
#ifndef STRANDS_MODEL_H
#define STRANDS_MODEL_H

#include <stdatomic.h>
#include <stdint.h>
#include <jansson.h>

#include "strands/event.h"
#include "strands/status.h"

/* Version 2: provider-neutral stop reason (strands_stop_reason) and typed
 * stream events (on_stream) instead of a text-only callback.            */
#define STRANDS_MODEL_VTAB_VERSION 2

/* Why a model call (and, with MAX_ITERATIONS, an invocation) ended. Every
 * provider maps its own labels onto these; `label` is the neutral
 * snake_case name used in events and traces, `api` the AgentCore
 * response's stop_reason. Numbers are never reused.                     */
#define STRANDS_STOP_REASON_MAP(X)                                     \
    X(END_TURN, "EndTurn", "end_turn")                                 \
    X(TOOL_USE, "ToolUse", "tool_use")                                 \
    X(MAX_TOKENS, "MaxTokens", "max_tokens")                           \
    X(STOP_SEQUENCE, "StopSequence", "stop_sequence")                  \
    X(MAX_ITERATIONS, "MaxIterations", "max_iterations")               \
    X(GUARDRAIL_INTERVENED, "GuardrailIntervened", "guardrail_intervened") \
    X(CONTENT_FILTERED, "ContentFiltered", "content_filtered")

typedef enum strands_stop_reason {
#define STRANDS_X_STOP(name, api, label) STRANDS_STOP_##name,
    STRANDS_STOP_REASON_MAP(STRANDS_X_STOP)
#undef STRANDS_X_STOP
} strands_stop_reason;

/** "EndTurn", "MaxIterations", ... (static; unknown values: "EndTurn"). */
STRANDS_EXTERN const char *strands_stop_reason_name(strands_stop_reason r);
/** "end_turn", "max_iterations", ... (static; unknown values: "end_turn"). */
STRANDS_EXTERN const char *strands_stop_reason_label(strands_stop_reason r);

/* What a streaming provider reports while a call runs (typed, so text,
 * tool input and reasoning can each reach the client as they arrive). */
typedef enum strands_model_stream_type {
    STRANDS_MODEL_STREAM_TEXT = 1,           /* data/len: text delta */
    STRANDS_MODEL_STREAM_TOOL_INPUT = 2,     /* data/len: a fragment of the
                                                tool input JSON text;
                                                tool_use_id, tool_name set */
    STRANDS_MODEL_STREAM_REASONING_TEXT = 3, /* data/len: reasoning text */
    STRANDS_MODEL_STREAM_REASONING_SIGNATURE = 4, /* data/len: signature */
    STRANDS_MODEL_STREAM_REASONING_REDACTED = 5,  /* data/len: redacted
                                                reasoning, base64 text */
    STRANDS_MODEL_STREAM_BLOCK_START = 6,    /* a content block starts;
                                                tool_use_id/tool_name for a
                                                toolUse block, else NULL */
    STRANDS_MODEL_STREAM_BLOCK_STOP = 7      /* a content block is done */
} strands_model_stream_type;

/* One stream event; every pointer is borrowed for the callback only. */
typedef struct strands_model_stream_event {
    strands_model_stream_type type;
    int64_t index;           /* content block index (0-based) */
    const char *data;        /* delta bytes (not NUL-terminated), or NULL */
    size_t len;
    const char *tool_use_id; /* toolUse blocks only, else NULL */
    const char *tool_name;   /* toolUse blocks only, else NULL */
} strands_model_stream_event;

/* One model call. Every pointer is borrowed for the duration of the call. */
typedef struct strands_model_request {
    const json_t *messages;  /* Converse messages array */
    const json_t *system;    /* SystemContentBlock array, or NULL */
    const json_t *tools;     /* toolConfig.tools array, or NULL */
    int max_tokens;          /* inferenceConfig.maxTokens (> 0) */
    const char *request_id;  /* for logs and traces, may be NULL */
    const atomic_int *cancelled; /* non-zero: abandon the call, may be NULL */
    int stream;              /* prefer the provider's streaming API, so
                                on_stream sees output as it is produced */
    const char *traceparent; /* W3C trace context for the call, or NULL */
    /* Streaming providers report typed events here while the call runs,
     * on the calling thread, in arrival order; NULL: none wanted.        */
    void (*on_stream)(void *user, const strands_model_stream_event *ev);
    void *stream_user;
    /* Optional: `system` and `tools` as compact JSON text, serialised once
     * by their owners (the agent, the tool snapshot) and shared by every
     * call, so a provider that sends JSON need not serialise them again.
     * NULL when absent; when set, the text is exactly the JSON value.    */
    const char *system_json;
    size_t system_json_len;
    const char *tools_json;
    size_t tools_json_len;
    /* NULL: the model chooses whether to call a tool. Otherwise the name
     * of a tool in `tools` the model must call in this turn (Bedrock
     * toolChoice {"tool":{"name"}}, OpenAI tool_choice {"type":"function",
     * "function":{"name"}}, Anthropic tool_choice {"type":"tool","name"});
     * used for structured output.                                       */
    const char *tool_choice;
} strands_model_request;

/* What a successful call returns; owned by the caller, freed with
 * strands_model_response_cleanup.                                       */
typedef struct strands_model_response {
    json_t *message;          /* {"role":"assistant","content":[...]} */
    strands_stop_reason stop; /* provider-neutral: what the agent acts on */
    char stop_reason[48];     /* the provider's own label, for logs and
                                 traces only, e.g. "end_turn"; may be "" */
    strands_usage usage;
    int64_t latency_ms;
    char *redact_input;       /* the provider asks the agent to replace the
                                 turn's user input in the stored history by
                                 this text (a guardrail intervened);
                                 malloc'd, freed by
                                 strands_model_response_cleanup; NULL none */
} strands_model_response;

typedef struct strands_model strands_model;

/* err->code of a call whose input exceeds the model's context window. */
#define STRANDS_ERROR_CONTEXT_OVERFLOW "ContextWindowOverflow"

/** True when an upstream error message is one of the context-window
 * overflow messages Bedrock answers ("Input is too long for requested
 * model", "input length and `max_tokens` exceed context limit", "too many
 * total text bytes", "prompt is too long"); msg NULL is false.          */
STRANDS_EXTERN int strands_model_overflow_message(const char *msg);

typedef struct strands_model_vtab {
    int version;              /* STRANDS_MODEL_VTAB_VERSION */
    const char *name;         /* provider name, e.g. "bedrock" */
    /* Performs one call. On failure returns an error status and fills err
     * (err->code: the provider's error type, e.g. "ValidationException";
     * err->http_status: the upstream status). A request too large for the
     * model's context window is reported as E_INVALID with err->code
     * STRANDS_ERROR_CONTEXT_OVERFLOW (the agent then reduces the history
     * and retries). Thread-safe.                                         */
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
