/* Private pieces of the agent module: the per-invocation run state, event
 * emission and concurrent tool execution.                                */
#ifndef STRANDS_AGENT_INTERNAL_H
#define STRANDS_AGENT_INTERNAL_H

#include <pthread.h>

#include "strands/agent.h"

struct strands_agent {
    strands_model *model;
    strands_tool_registry *tools;
    strands_session_store *sessions;
    json_t *system;          /* [{"text": prompt}] or NULL */
    int max_tokens;
    int max_iterations;
};

/* State of one running invocation. */
typedef struct agent_run {
    strands_agent *agent;
    const strands_invocation *inv;
    pthread_mutex_t event_lock; /* events are delivered one at a time */
    int cycle;
} agent_run;

/** Delivers ev (session/invocation/cycle filled in here) to every sink. */
void agent_emit(agent_run *run, strands_event *ev);

/** Runs the toolUse blocks `uses` ([{"toolUseId","name","input"}]),
 * concurrently when there are several, and returns a new user message
 * {"role":"user","content":[{"toolResult":...}...]} with one result per
 * toolUse, in toolUse order. Tool failures and unknown tools become
 * error results; NULL only on OOM.                                       */
json_t *agent_run_tools(agent_run *run, const json_t *uses);

#endif
