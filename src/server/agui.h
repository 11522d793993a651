/* AG-UI (SERVER_PROTOCOL=AGUI), transport-free parts:
 *   - agui_input: a RunAgentInput body parsed and checked (threadId as the
 *     session id, the new input as prompt content blocks, tools as client
 *     tool specs), with a 400 reason naming the field (agui_input.c);
 *   - agui_encoder: runner events and outcome -> AG-UI event objects
 *     (RUN_STARTED, TEXT_MESSAGE_*, TOOL_CALL_*, RUN_FINISHED, RUN_ERROR),
 *     a small state machine that opens and closes assistant text messages
 *     around tool calls (agui_encoder.c).
 * A transport sends each event object as it likes: POST /invocations as
 * SSE `data: <json>\n\n` (agui.c, agui_sse_frames); a WebSocket sends each
 * as one text frame.                                                    */
#ifndef STRANDS_SERVER_AGUI_H
#define STRANDS_SERVER_AGUI_H

#include <stddef.h>
#include <jansson.h>

#include "server/internal.h"
#include "server/runner.h"

/* Caps of one RunAgentInput (the body itself is capped by MAX_BODY_BYTES). */
#define AGUI_RUN_ID_MAX 128
#define AGUI_MAX_MESSAGES 10000
#define AGUI_MAX_TOOLS 128
#define AGUI_MAX_CONTEXT 64

/* A parsed RunAgentInput; fields valid when the verdict is REQUEST_OK. */
typedef struct agui_input {
    char thread_id[SERVER_SESSION_ID_MAX + 1]; /* the session id */
    char run_id[AGUI_RUN_ID_MAX + 1];
    json_t *prompt;        /* content blocks: the toolResult blocks of the
                              trailing tool messages, then the trailing
                              user messages' blocks, then one text block
                              per context entry (new reference) */
    json_t *client_tools;  /* [{"name","description","inputSchema":
                              {"json"}}] or NULL when no tools (new ref) */
    json_t *state;         /* RunAgentInput.state, or NULL when absent or
                              null (new reference)                      */
} agui_input;

/** Parses and checks a RunAgentInput body. Only the messages after the
 * last assistant message are the new input (the session store holds the
 * history; earlier messages are checked for shape, not replayed). On
 * REQUEST_OK fills *out (free with agui_input_cleanup); otherwise `why`
 * (whysz >= 1, always NUL-terminated) names the field and *out holds
 * nothing to free.                                                      */
request_verdict agui_input_parse(const char *body, size_t len,
                                 agui_input *out, char *why, size_t whysz);
/** Frees what agui_input_parse put in *in (safe on a zeroed struct). */
void agui_input_cleanup(agui_input *in);

/* The encoder of one run. Plain data: no allocation of its own. */
typedef struct agui_encoder {
    char thread_id[SERVER_SESSION_ID_MAX + 1];
    char run_id[AGUI_RUN_ID_MAX + 1];
    char message_id[40];  /* the assistant message text and tool calls
                             belong to; "" before the first */
    int text_open;        /* TEXT_MESSAGE_START sent, END not yet */
    int after_result;     /* a tool result since message_id was made: the
                             next text or tool call is a new message */
    int any_text;         /* some text was streamed in this run */
    int ended;            /* RUN_FINISHED or RUN_ERROR made */
} agui_encoder;

/** Starts an encoder for a run (ids copied, cut to their caps). */
void agui_encoder_init(agui_encoder *e, const char *thread_id,
                       const char *run_id);
/** Appends the start of the run to out (a JSON array): RUN_STARTED, then,
 * when the input carried a state (NULL: none), STATE_SNAPSHOT {snapshot}
 * echoing it, an object without its "messages" member (the client keeps
 * messages itself), as the AG-UI Strands integration does; an object
 * left empty gets no snapshot (it would tell the client nothing). state
 * is borrowed. 0, or -1 on OOM.                                        */
int agui_encode_start(agui_encoder *e, const json_t *state, json_t *out);
/** Appends the events for one runner event: TEXT_DELTA -> (START)
 * CONTENT; TOOL_START -> (text END) TOOL_CALL_START, ARGS (the input as
 * JSON text), END; TOOL_END -> TOOL_CALL_RESULT. Other types add nothing.
 * 0, or -1 on OOM (out may then hold some of the events).              */
int agui_encode_event(agui_encoder *e, const runner_event *ev, json_t *out);
/** Appends the end of the run for its outcome: on success, the final
 * text when none was streamed, the pending client tool calls
 * (TOOL_CALL_START/ARGS/END each) and RUN_FINISHED {threadId, runId,
 * result, outcome{type:"success", pendingToolCallIds?}, usage}; on
 * failure RUN_ERROR {message, code}. An open text message is closed
 * first. 0, or -1 on OOM.                                              */
int agui_encode_finish(agui_encoder *e, const runner_outcome *o,
                       json_t *out);
/** Appends RUN_ERROR {message, code} (closing an open text message).
 * 0, or -1 on OOM.                                                     */
int agui_encode_error(agui_encoder *e, const char *message, const char *code,
                      json_t *out);

/** The events of `events` (a JSON array of objects) as SSE frames,
 * "data: <compact json>\n\n" each (malloc'd, length in *len); NULL on OOM
 * or for an empty array (*len = 0).                                    */
char *agui_sse_frames(const json_t *events, size_t *len);
/* The RUN_ERROR event sent when nothing else can be built (out of
 * memory), as JSON text; agui_oom_frame is it as an SSE frame.       */
#define AGUI_OOM_JSON                                                  \
    "{\"type\":\"RUN_ERROR\",\"message\":\"out of memory\","           \
    "\"code\":\"InternalError\"}"
/** The fixed frame sent when nothing else can be built (out of memory). */
extern const char agui_oom_frame[];

/* Where a run comes from (borrowed for the agui_run_start call). */
typedef struct agui_origin {
    const char *request_id;   /* the run's invocation id; required */
    const char *traceparent;  /* incoming trace headers, or NULL */
    const char *xray;
    const char *actor_id;     /* the end user, already validated, or NULL */
    const strands_request_context *request; /* headers for tools, or NULL */
} agui_origin;

/** Starts the streaming run of a parsed input on srv's runners (the one
 * place both transports start a run; agui_run.c): the session is
 * in->thread_id, the prompt and front-end tools are in's (references
 * taken; in may be cleaned up after the call). Returns the runner
 * (release with runner_release), or NULL with err filled: E_INVALID
 * (message names the field) when a front-end tool takes the name of one
 * of the agent's tools, else as runner_start.                          */
runner *agui_run_start(strands_server *srv, const agui_input *in,
                       const agui_origin *from, strands_error *err);

#endif
