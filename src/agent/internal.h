/* Private pieces of the agent module: the per-invocation run state, event
 * emission and concurrent tool execution.                                */
#ifndef STRANDS_AGENT_INTERNAL_H
#define STRANDS_AGENT_INTERNAL_H

#include <pthread.h>

#include "strands/agent.h"

#define AGENT_MAX_TOOL_CONCURRENCY 1024

struct strands_agent {
    strands_model *model;
    strands_tool_registry *tools;
    strands_session_store *sessions;
    json_t *system;          /* [{"text": prompt}] or NULL */
    char *system_json;       /* the same as compact text, or NULL */
    size_t system_json_len;
    int max_tokens;
    int max_iterations;
    int tool_concurrency;    /* >= 1 */
    size_t tool_result_max_bytes;
    int64_t tool_timeout_ms; /* 0: no deadline */
};

/* State of one running invocation. */
typedef struct agent_run {
    strands_agent *agent;
    const strands_invocation *inv;
    pthread_mutex_t event_lock; /* events are delivered one at a time */
    int cycle;
    strands_tool_snapshot *tools; /* this cycle's tools, or NULL */
} agent_run;

/** Delivers ev (session/invocation/cycle filled in here) to every sink. */
void agent_emit(agent_run *run, strands_event *ev);

/** Runs the toolUse blocks `uses` ([{"toolUseId","name","input"}]) found
 * in run->tools, at most agent->tool_concurrency at a time (the calling
 * thread is one of the workers), and returns a new user message
 * {"role":"user","content":[{"toolResult":...}...]} with one result per
 * toolUse, in toolUse order. Tool failures and unknown tools become error
 * results; results over tool_result_max_bytes are truncated with a marker.
 * NULL only on OOM.                                                     */
json_t *agent_run_tools(agent_run *run, const json_t *uses);

/** Cuts a tool result's content (borrowed) to at most max bytes of text:
 * a new [{"text": kept + marker}] naming the original size and the limit
 * (TOOL_RESULT_MAX_BYTES); a new reference to content itself when it fits.
 * NULL on OOM.                                                          */
json_t *agent_truncate_result(json_t *content, size_t max);

#endif
