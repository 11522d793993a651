/* The structured-output step of an invocation (strands_invocation.
 * output_schema): after the agent's last cycle, the model is made to
 * answer through a forced tool whose input schema is the caller's schema;
 * see structured_output.c.                                              */
#ifndef STRANDS_AGENT_STRUCTURED_OUTPUT_H
#define STRANDS_AGENT_STRUCTURED_OUTPUT_H

#include "agent/internal.h"

/* Name of the forced tool (a registry or client tool of that name makes
 * the step use "structured_output_<n>" instead).                        */
#define AGENT_SO_TOOL_NAME "structured_output"
/* Forced calls at most: the first, and one correction.                  */
#define AGENT_SO_ATTEMPTS 2

/** True when an invocation whose cycles ended with `stop` gets the
 * structured-output step: the model ended its turn (EndTurn, StopSequence,
 * MaxTokens). Not after ToolUse (client tools: the client answers them
 * first), MaxIterations (the agent gave up), GuardrailIntervened or
 * ContentFiltered (the model is not pushed past a safety stop): the
 * result then has no structured_output and its stop_reason says why.   */
int agent_so_applies(strands_stop_reason stop);

/* The turn's working history as the step sees it: read it, and reduce it
 * when a forced call overflows the model's context window (the loop's
 * own reduction: tool results cut, else the conversation manager's
 * reduce_context; the reduced history is what the session keeps, as
 * after an overflow in a cycle).                                        */
typedef struct agent_so_history {
    /** The history now (borrowed; only read by the step). */
    const json_t *(*messages)(void *user);
    /** Reduces it once; STRANDS_OK, or the error that ends the step
     * (ContextWindowOverflow when nothing more can be reduced).        */
    strands_status (*reduce)(void *user, strands_error *err);
    void *user;
} agent_so_history;

/** Runs the step on the working history h (nothing is added to it or to
 * the session: the forced exchange is kept out of the stored
 * conversation): one forced call of the tool with
 * run->inv->output_schema, validated with the schema validator; if the
 * answer is invalid (or is no call of the tool), one more forced call
 * with the reply and an error toolResult naming the violation. Each call
 * is a cycle (CYCLE_START, MODEL_START/END, CYCLE_END events), counts in
 * out->iterations and out->usage. On success out->structured_output is
 * the validated input (owned). Invalid twice: E_INVALID with err->code
 * STRANDS_ERROR_STRUCTURED_OUTPUT and a message naming the violations.
 * A call that overflows the context window reduces the history (h) and
 * is made again on it, with the correction round if it was one, at most
 * CM_MAX_REDUCTIONS times in the step. Any other failed model call
 * returns its error; E_CANCELLED when the invocation is cancelled;
 * E_NOMEM.                                                              */
strands_status agent_structured_output(agent_run *run,
                                       const agent_so_history *h,
                                       strands_agent_result *out,
                                       strands_error *err);

#endif
