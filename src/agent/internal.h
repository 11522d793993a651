/* Private pieces of the agent module: the per-invocation run state, event
 * emission and concurrent tool execution.                                */
#ifndef STRANDS_AGENT_INTERNAL_H
#define STRANDS_AGENT_INTERNAL_H

#include <pthread.h>

#include "agent/conversation_manager.h"
#include "strands/agent.h"

#define AGENT_MAX_TOOL_CONCURRENCY 1024
/* How long a tool call that ignores its cancel flag is waited for after
 * its deadline before it is abandoned.                                 */
#define AGENT_TOOL_GRACE_MS 200
/* How often a turn with running tools looks at the invocation's cancel
 * flag (to pass it on to each call's own flag).                        */
#define AGENT_TOOL_POLL_MS 50
/* Abandoned tool calls still running, process-wide, beyond which no new
 * tool call is started (each gets a ToolBusy error result instead).    */
#define AGENT_MAX_ABANDONED_TOOLS 64
/* Front-end (client) tools one invocation may declare. */
#define AGENT_MAX_CLIENT_TOOLS 128

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
    cm_config cm;            /* the conversation manager's settings */
};

/* State of one running invocation. */
typedef struct agent_run {
    strands_agent *agent;
    const strands_invocation *inv;
    pthread_mutex_t event_lock; /* events are delivered one at a time */
    int cycle;
    strands_tool_snapshot *tools; /* this cycle's tools, or NULL */
    strands_tool_state *state;    /* the session's agent state (a
                                     reference), given to every tool call */
} agent_run;

/** A new agent-state handle holding a deep copy of `initial` (an object;
 * anything else starts empty), one reference; NULL on OOM.              */
strands_tool_state *agent_state_new(const json_t *initial);
/** Takes a reference (NULL passes through). */
strands_tool_state *agent_state_ref(strands_tool_state *s);
/** Drops a reference; the last one frees the handle (NULL is a no-op). */
void agent_state_unref(strands_tool_state *s);
/** Ends the handle's turn: later sets and deletes fail. *changed gets a
 * deep copy of the state object (the caller owns it) when a set or delete
 * changed it, else NULL (unchanged, or s NULL). E_NOMEM when the copy
 * fails (*changed NULL).                                                */
strands_status agent_state_close(strands_tool_state *s, json_t **changed);

/** Delivers ev (session/invocation/cycle filled in here) to every sink. */
void agent_emit(agent_run *run, strands_event *ev);

/** Runs the toolUse blocks `uses` ([{"toolUseId","name","input"}]) found
 * in run->tools, each on a worker thread, at most agent->tool_concurrency
 * at a time, each under agent->tool_timeout_ms (then its cancel flag is
 * set and the result is a ToolTimeout error; a call still running
 * AGENT_TOOL_GRACE_MS later is abandoned, its thread detached), and
 * returns a new user message
 * {"role":"user","content":[{"toolResult":...}...]} with one result per
 * toolUse, in toolUse order. Tool failures and unknown tools become error
 * results; results over tool_result_max_bytes are truncated with a marker.
 * NULL only on OOM.                                                     */
json_t *agent_run_tools(agent_run *run, const json_t *uses);

/** Number of abandoned tool calls whose threads are still running in the
 * process (each frees its own job when its tool returns).              */
int agent_tools_abandoned(void);

/** Cuts a tool result's content (borrowed) to at most max bytes of text:
 * a new [{"text": kept + marker}] naming the original size and the limit
 * (TOOL_RESULT_MAX_BYTES); a new reference to content itself when it fits.
 * NULL on OOM.                                                          */
json_t *agent_truncate_result(json_t *content, size_t max);

/* ---- front-end (client) tools (client_tools.c) ----------------------- */

/** Checks strands_invocation.client_tools: NULL, or an array of at most
 * AGENT_MAX_CLIENT_TOOLS {"name","description","inputSchema":{"json":{}}}
 * with valid (Bedrock toolSpec) and unique names. E_INVALID naming the
 * first bad one.                                                        */
strands_status client_tools_check(const json_t *tools, strands_error *err);
/** True when the client tools array declares `name`. */
int client_tools_has(const json_t *tools, const char *name);

/* The tool list of one model call when client tools are offered: the
 * snapshot's specs plus {"toolSpec": client tool} each (owned). */
typedef struct client_tools_offer {
    json_t *specs;
    char *json;       /* specs as compact JSON text */
    size_t len;
} client_tools_offer;

/** When the invocation has client tools, sets req->tools / tools_json to
 * the registry specs already there plus the client tools, kept in *o
 * (free with client_tools_offer_clear after the call); else leaves req
 * as it is. E_INVALID when a client tool has the name of a tool of
 * run->tools; E_NOMEM.                                                  */
strands_status client_tools_offer_build(const agent_run *run,
                                        strands_model_request *req,
                                        client_tools_offer *o,
                                        strands_error *err);
/** Frees what client_tools_offer_build kept (a zeroed *o is fine). */
void client_tools_offer_clear(client_tools_offer *o);

/** Moves the toolUse objects of `uses` (a turn's tool uses, changed in
 * place) that call client tools into out->client_tool_calls (a new
 * array, owned by out), leaving the server tools' uses in order. No
 * client call: nothing changes. E_NOMEM leaves both unchanged.         */
strands_status client_tools_take(const agent_run *run, json_t *uses,
                                 strands_agent_result *out,
                                 strands_error *err);

/** Before a prompt is added to a restored working history (from
 * conversation_restore of `log`, the stored messages): when the prompt
 * (content blocks) carries toolResult blocks, they answer the pending
 * calls of the last assistant message, so the "interrupted" answers the
 * restore made up for those calls are removed from the trailing user
 * message of `working` (and from *repair, the log's repair message,
 * which is dropped when left empty). E_INVALID "ToolResultUnexpected"
 * when a toolResult answers no pending call (unknown id, or one already
 * answered); E_NOMEM. On error nothing changed.                          */
strands_status client_tools_resume(json_t *working, json_t **repair,
                                   const json_t *log, const json_t *prompt,
                                   strands_error *err);

#endif
