/* Events the agent loop reports while it works. One interface for every
 * consumer: the SSE writer, tracing, metrics, request logs. Events of one
 * invocation are delivered one at a time (never concurrently) and in order,
 * though tool events may arrive on a tool's thread.                       */
#ifndef STRANDS_EVENT_H
#define STRANDS_EVENT_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "strands/status.h"

/* Token usage of one model call, or summed over an invocation. */
typedef struct strands_usage {
    int64_t input_tokens;
    int64_t output_tokens;
    int64_t total_tokens;
    /* Prompt caching (Bedrock cachePoint, Anthropic cache_control, OpenAI
     * cached prompt tokens); 0 when the provider reports none.          */
    int64_t cache_read_input_tokens;
    int64_t cache_write_input_tokens;
} strands_usage;

typedef enum strands_event_type {
    STRANDS_EVENT_INVOCATION_START = 1, /* data: the prompt content */
    STRANDS_EVENT_CYCLE_START = 2,      /* cycle: 1-based cycle number */
    STRANDS_EVENT_MODEL_START = 3,      /* a model call begins */
    STRANDS_EVENT_TEXT_DELTA = 4,       /* text/text_len: streamed text */
    STRANDS_EVENT_MODEL_END = 5,        /* data: assistant message;
                                           usage, stop_reason; error on failure */
    STRANDS_EVENT_TOOL_START = 6,       /* data: {"toolUseId","name","input"} */
    STRANDS_EVENT_TOOL_END = 7,         /* data: the toolResult object;
                                           name: the tool name */
    STRANDS_EVENT_MESSAGE_ADDED = 8,    /* data: message appended to history */
    STRANDS_EVENT_CYCLE_END = 9,
    STRANDS_EVENT_INVOCATION_END = 10,  /* usage (summed), stop_reason,
                                           text: final text; error on failure */
    /* Streamed model output besides text (numbers never reused; every one
     * carries block_index):                                             */
    STRANDS_EVENT_TOOL_INPUT_DELTA = 11, /* text/text_len: a fragment of
                                            the tool input JSON; name,
                                            tool_use_id: the toolUse */
    STRANDS_EVENT_REASONING_DELTA = 12, /* text/text_len: reasoning text */
    STRANDS_EVENT_REASONING_SIGNATURE_DELTA = 13, /* text: signature part */
    STRANDS_EVENT_REASONING_REDACTED_DELTA = 14,  /* text: redacted
                                                     reasoning, base64 */
    STRANDS_EVENT_CONTENT_BLOCK_START = 15, /* name, tool_use_id set for a
                                               toolUse block, else NULL */
    STRANDS_EVENT_CONTENT_BLOCK_STOP = 16
} strands_event_type;

/* One event. Every pointer is borrowed for the duration of the callback. */
typedef struct strands_event {
    strands_event_type type;
    const char *session_id;
    const char *invocation_id;
    int cycle;                  /* current cycle (1-based), 0 outside one */
    const char *name;           /* tool name for tool events */
    const char *text;           /* text delta / final text, else NULL */
    size_t text_len;
    const json_t *data;         /* event-specific JSON, else NULL */
    const strands_usage *usage; /* MODEL_END, INVOCATION_END */
    const char *stop_reason;    /* MODEL_END: the neutral label ("end_turn",
                                   strands_stop_reason_label);
                                   INVOCATION_END: "EndTurn", ...        */
    const strands_error *error; /* non-NULL when the step failed */
    int64_t duration_ms;        /* MODEL_END, TOOL_END, INVOCATION_END */
    /* MODEL_START only: a sink that traces may write the W3C traceparent
     * of its model-call span here (NUL-terminated, at most
     * traceparent_size bytes); the model call then carries it.          */
    char *traceparent;
    size_t traceparent_size;
    /* Stream events (TEXT_DELTA and 11..16): the content block index. */
    int64_t block_index;
    const char *tool_use_id;    /* TOOL_INPUT_DELTA, CONTENT_BLOCK_* */
} strands_event;

/* Event callback: must not block for long; must not call back into the
 * agent for the same invocation.                                         */
typedef void strands_event_fn(void *user, const strands_event *ev);

typedef struct strands_event_sink {
    strands_event_fn *fn;
    void *user;
} strands_event_sink;

#endif
