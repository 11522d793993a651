/* The agent: model call -> tool calls -> model call ... until the model
 * ends its turn or the iteration limit is reached, with the conversation
 * loaded from and saved to a session store. No HTTP here.                 */
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

/* Why an invocation ended (the AgentCore response's stop_reason). */
#define STRANDS_STOP_REASON_MAP(X)                                     \
    X(END_TURN, "EndTurn", "end_turn")                                 \
    X(TOOL_USE, "ToolUse", "tool_use")                                 \
    X(MAX_TOKENS, "MaxTokens", "max_tokens")                           \
    X(STOP_SEQUENCE, "StopSequence", "stop_sequence")                  \
    X(MAX_ITERATIONS, "MaxIterations", "")                             \
    X(GUARDRAIL_INTERVENED, "GuardrailIntervened", "guardrail_intervened") \
    X(CONTENT_FILTERED, "ContentFiltered", "content_filtered")

typedef enum strands_stop_reason {
#define STRANDS_X_STOP(name, api, bedrock) STRANDS_STOP_##name,
    STRANDS_STOP_REASON_MAP(STRANDS_X_STOP)
#undef STRANDS_X_STOP
} strands_stop_reason;

/** "EndTurn", "MaxIterations", ... (static). */
STRANDS_EXTERN const char *strands_stop_reason_name(strands_stop_reason r);
/** Maps a Bedrock stopReason ("end_turn", ...) to the enum; unknown values
 * map to END_TURN.                                                         */
STRANDS_EXTERN strands_stop_reason strands_stop_reason_from_model(
    const char *model_reason);

typedef struct strands_agent_config {
    strands_model *model;            /* borrowed; required */
    strands_tool_registry *tools;    /* borrowed; NULL = no tools */
    strands_session_store *sessions; /* borrowed; NULL = no memory */
    const char *system_prompt;       /* copied; NULL = none */
    int max_tokens;                  /* > 0 */
    int max_iterations;              /* model calls per invocation, > 0 */
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
} strands_invocation;

/* The outcome; owned by the caller, freed with strands_agent_result_cleanup. */
typedef struct strands_agent_result {
    char *text;                      /* text of the last assistant message */
    strands_stop_reason stop_reason;
    strands_usage usage;             /* summed over every model call */
    int iterations;                  /* model calls made */
} strands_agent_result;

/** Runs one invocation. The session is claimed for its duration (E_BUSY if
 * another invocation holds it). On success fills *out. On failure returns
 * the error (e.g. E_UPSTREAM with err->code = the AWS error type) and saves
 * no partial turn: the stored history stays valid.                        */
STRANDS_EXTERN strands_status strands_agent_invoke(
    strands_agent *agent, const strands_invocation *inv,
    strands_agent_result *out, strands_error *err);
/** Frees the result's text and zeroes it. */
STRANDS_EXTERN void strands_agent_result_cleanup(strands_agent_result *r);

#endif
