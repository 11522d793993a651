/* The agent: model call -> tool calls -> model call ... until the model
 * ends its turn or the iteration limit is reached, with the conversation
 * loaded from and saved to a session store under a claim, tool calls
 * bounded in number (TOOL_CONCURRENCY) and size (TOOL_RESULT_MAX_BYTES).
 * No HTTP here.                                                          */
#ifndef STRANDS_AGENT_H
#define STRANDS_AGENT_H

#include <stdatomic.h>
#include <stddef.h>
#include <jansson.h>

#include "strands/event.h"
#include "strands/model.h"
#include "strands/session.h"
#include "strands/status.h"
#include "strands/tool.h"

/* Why an invocation ended: strands_stop_reason (strands/model.h), the last
 * model call's reason or MAX_ITERATIONS.                                 */

/* Defaults of the tool limits below (TOOL_CONCURRENCY,
 * TOOL_RESULT_MAX_BYTES).                                                */
#define STRANDS_AGENT_DEFAULT_TOOL_CONCURRENCY 8
#define STRANDS_AGENT_DEFAULT_TOOL_RESULT_MAX_BYTES ((size_t)1024 * 1024)

/* How a session's history is kept inside a window and inside the model's
 * context (CONVERSATION_MANAGER), as Strands' conversation managers. */
typedef enum strands_conversation_manager_kind {
    STRANDS_CM_SLIDING_WINDOW = 0, /* keep the last window_size messages */
    STRANDS_CM_SUMMARIZING = 1,    /* replace the oldest by a summary */
    STRANDS_CM_NONE = 2            /* keep everything */
} strands_conversation_manager_kind;

#define STRANDS_AGENT_DEFAULT_WINDOW_SIZE 40
#define STRANDS_AGENT_DEFAULT_SUMMARY_RATIO 0.3

typedef struct strands_agent_config {
    strands_model *model;            /* borrowed; required */
    strands_tool_registry *tools;    /* borrowed; NULL = no tools */
    strands_session_store *sessions; /* borrowed; NULL = no memory */
    const char *system_prompt;       /* copied; NULL = none */
    int max_tokens;                  /* > 0 */
    int max_iterations;              /* model calls per invocation, > 0 */
    int tool_concurrency;            /* tool calls of one turn run at once
                                        (the rest wait for a free slot);
                                        0 = 8; at most 1024 */
    size_t tool_result_max_bytes;    /* a larger tool result is cut to this
                                        many bytes of text plus a marker
                                        the model can read; 0 = 1 MiB */
    int64_t tool_timeout_ms;         /* each tool call's deadline
                                        (strands_tool_context.deadline_ms):
                                        then its cancel flag is set and its
                                        result is a "timed out" error; a
                                        call that ignores the flag is
                                        abandoned 200 ms later; 0 = none */
    strands_conversation_manager_kind conversation_manager;
    int window_size;                 /* messages the sliding window keeps
                                        (and past which a summary is made);
                                        0 = 40; at most 1000000 */
    double summary_ratio;            /* share of the oldest messages a
                                        summary replaces; 0 = 0.3; clamped
                                        to 0.1..0.8 */
    int summary_preserve_recent;     /* newest messages a summary never
                                        covers (>= 0) */
} strands_agent_config;

typedef struct strands_agent strands_agent;

/** Creates an agent; E_INVALID (with message) for a bad config. The agent
 * borrows model, tools and sessions: they must outlive it. Thread-safe:
 * one agent serves concurrent invocations of different sessions.        */
STRANDS_EXTERN strands_agent *strands_agent_new(const strands_agent_config *cfg,
                                                strands_error *err);
/** Frees the agent (NULL is a no-op). */
STRANDS_EXTERN void strands_agent_free(strands_agent *agent);

/* One invocation. Borrowed for the duration of strands_agent_invoke. */
typedef struct strands_invocation {
    const char *session_id;      /* required */
    const char *invocation_id;   /* for events and logs; may be NULL */
    const json_t *prompt;        /* non-empty array of content blocks */
    const strands_event_sink *sinks; /* events go to each sink, in order */
    size_t n_sinks;
    const atomic_int *cancelled; /* non-zero: stop as soon as possible */
    int stream;                  /* stream model output (TEXT_DELTA events
                                    as the model produces text) */
    const char *actor_id;        /* the end user (AgentCore's
                                    X-Amzn-Bedrock-AgentCore-Runtime-User-Id)
                                    for stores that partition by user;
                                    NULL = unknown */
    const strands_request_context *request; /* the caller's headers, passed
                                    to every tool call; NULL = none */
    const json_t *output_schema; /* structured output: a JSON Schema (an
                                    object); the agent ends with a forced
                                    tool call whose input matches it and
                                    returns it as result.structured_output;
                                    NULL = none */
    const json_t *client_tools;  /* front-end (client) tools: an array of
                                    {"name","description","inputSchema":
                                    {"json":{...}}} offered to the model
                                    with the registry's tools; when the
                                    model calls one the invocation ends
                                    with stop reason TOOL_USE and the calls
                                    in result.client_tool_calls, for the
                                    client to answer (toolResult blocks in
                                    the next prompt); NULL = none */
} strands_invocation;

/* The outcome; owned by the caller, freed with strands_agent_result_cleanup. */
typedef struct strands_agent_result {
    char *text;                      /* text of the last assistant message */
    strands_stop_reason stop_reason;
    strands_usage usage;             /* summed over every model call */
    int iterations;                  /* model calls made */
    json_t *structured_output;       /* output_schema: the validated value
                                        (owned), else NULL */
    json_t *client_tool_calls;       /* client_tools: array of the toolUse
                                        objects {"toolUseId","name","input"}
                                        the client must answer (owned), else
                                        NULL */
} strands_agent_result;

/* err->code of an invocation whose structured output failed validation
 * twice (the server answers 422).                                       */
#define STRANDS_ERROR_STRUCTURED_OUTPUT "StructuredOutputInvalid"

/** Checks a structured-output schema (strands_invocation.output_schema,
 * borrowed): a JSON object whose "type" is "object", every keyword the
 * schema validator reads well formed (types known, patterns compile,
 * $refs resolve, ...). STRANDS_OK, or E_INVALID with a message naming
 * output_schema and the first problem (E_NOMEM on OOM).
 * strands_agent_invoke applies it before the turn starts.               */
STRANDS_EXTERN strands_status strands_output_schema_check(
    const json_t *schema, strands_error *err);

/** Runs one invocation. The session is claimed for its duration (E_BUSY
 * "SessionBusy" if another invocation holds it), the claim's lease renewed
 * at each cycle when it is past half its life, and released at the end.
 * The turn's messages (prompt, assistant and toolResult messages, and a
 * repair of a toolUse a crash left unanswered) and the agent object (with
 * the agent state tools changed) are appended to the session in one
 * step at the end. On success fills *out. On failure returns the error
 * (e.g. E_UPSTREAM with err->code = the AWS error type; E_BUSY
 * "SessionClaimLost" when the lease lapsed and another invocation took
 * the session, "SessionConflict" when another writer appended meanwhile;
 * E_TOO_LARGE "SessionHistoryTooLarge" when the store refuses the grown
 * history; E_UNAVAILABLE "SessionStoreUnavailable") and stores nothing of
 * the turn: the stored history stays valid.                             */
STRANDS_EXTERN strands_status strands_agent_invoke(
    strands_agent *agent, const strands_invocation *inv,
    strands_agent_result *out, strands_error *err);
/** Frees the result's text, structured output and client tool calls, and
 * zeroes it. */
STRANDS_EXTERN void strands_agent_result_cleanup(strands_agent_result *r);

#endif
