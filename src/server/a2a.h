/* The A2A server (SERVER_PROTOCOL=A2A): JSON-RPC 2.0 on POST /, the agent
 * card at GET /.well-known/agent-card.json, in the two wire versions
 * clients speak: A2A 1.0 (PascalCase methods, ProtoJSON enums such as
 * "ROLE_USER" and "TASK_STATE_COMPLETED", oneof parts and wrapped stream
 * responses) and 0.3 (slash methods, "kind" discriminators, lower-case
 * states, "final" on status updates).
 *
 * Three layers, each in its own file:
 *   a2a_rpc.c   pure: the JSON-RPC envelope, the version, each method's
 *               params (unit-tested, fuzzed);
 *   a2a_json.c  pure: tasks, messages, stream events, errors and the card
 *               as JSON for either version;
 *   a2a_tasks.c the bounded, thread-safe task table (struct a2a_state);
 *   a2a.c       the HTTP glue: handlers, the runner pump, SSE, the part. */
#ifndef STRANDS_SERVER_A2A_H
#define STRANDS_SERVER_A2A_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "server/internal.h"

/* ---- versions, methods, states, errors -------------------------------- */

typedef enum a2a_version { A2A_V03 = 0, A2A_V10 = 1 } a2a_version;

typedef enum a2a_method {
    A2A_SEND,      /* SendMessage, message/send */
    A2A_STREAM,    /* SendStreamingMessage, message/stream */
    A2A_GET,       /* GetTask, tasks/get */
    A2A_CANCEL,    /* CancelTask, tasks/cancel */
    A2A_LIST       /* ListTasks (1.0 only) */
} a2a_method;

typedef enum a2a_task_state {
    A2A_SUBMITTED = 0,
    A2A_WORKING,
    A2A_COMPLETED,
    A2A_FAILED,
    A2A_CANCELED
} a2a_task_state;

/* JSON-RPC error codes (JSON-RPC 2.0 and A2A spec section 5.4). */
#define A2A_ERR_PARSE -32700
#define A2A_ERR_INVALID_REQUEST -32600
#define A2A_ERR_METHOD_NOT_FOUND -32601
#define A2A_ERR_INVALID_PARAMS -32602
#define A2A_ERR_INTERNAL -32603
#define A2A_ERR_TASK_NOT_FOUND -32001
#define A2A_ERR_TASK_NOT_CANCELABLE -32002
#define A2A_ERR_PUSH_NOT_SUPPORTED -32003
#define A2A_ERR_UNSUPPORTED -32004
#define A2A_ERR_CONTENT_TYPE -32005
#define A2A_ERR_VERSION -32009

/* Longest messageId kept from a client message. */
#define A2A_MESSAGE_ID_MAX 128
/* Longest task id accepted in params (ours are UUIDs). */
#define A2A_TASK_ID_MAX 64
/* ListTasks page sizes (spec: 1..100, default 50). */
#define A2A_PAGE_DEFAULT 50
#define A2A_PAGE_MAX 100

/** True for a terminal state (completed, failed, canceled). */
int a2a_state_terminal(a2a_task_state s);
/** The state's wire name: "TASK_STATE_COMPLETED" (1.0), "completed"
 * (0.3). Static.                                                        */
const char *a2a_state_name(a2a_task_state s, a2a_version v);

/* ---- the JSON-RPC envelope (a2a_rpc.c; pure) -------------------------- */

/* A parsed request. On success id and params are new references; on an
 * error id is still the request's id when one could be read (else JSON
 * null) and version is what the request asked for (0.3 when unknown).  */
typedef struct a2a_rpc {
    json_t *id;            /* string, number or null (new reference) */
    a2a_method method;
    a2a_version version;
    json_t *params;        /* object (new reference; {} when absent) */
} a2a_rpc;

/** Parses a JSON-RPC request body. version_header is the A2A-Version
 * value (NULL/empty: none, i.e. 0.3 unless the method is a 1.0 name).
 * Returns 0, or an A2A_ERR_* code with a NUL-terminated reason in why
 * (whysz >= 1). *out always needs a2a_rpc_cleanup.                     */
int a2a_rpc_parse(const char *body, size_t len, const char *version_header,
                  a2a_rpc *out, char *why, size_t whysz);
/** Drops the references in *r (safe on a zeroed or cleaned struct). */
void a2a_rpc_cleanup(a2a_rpc *r);

/* SendMessage / message/send params. */
typedef struct a2a_send {
    char *text;            /* the prompt: text parts (and data parts as JSON
                              text) joined by "\n"; malloc'd */
    char context_id[SERVER_SESSION_ID_MAX + 1]; /* "" when absent */
    char task_id[A2A_TASK_ID_MAX + 1];          /* "" when absent */
    char message_id[A2A_MESSAGE_ID_MAX + 1];
    int return_immediately;/* 1.0 returnImmediately, 0.3 blocking=false */
    int history_length;    /* -1: unset */
} a2a_send;

/** Reads the params of a send (either version). Returns 0 (free *out with
 * a2a_send_cleanup), or A2A_ERR_INVALID_PARAMS / A2A_ERR_CONTENT_TYPE /
 * A2A_ERR_INTERNAL (OOM) with why filled and nothing to free.          */
int a2a_send_parse(const json_t *params, a2a_version v, a2a_send *out,
                   char *why, size_t whysz);
/** Frees what a2a_send_parse put in *s (safe on a zeroed struct). */
void a2a_send_cleanup(a2a_send *s);

/** GetTask / CancelTask params: "id" (1..A2A_TASK_ID_MAX bytes) into
 * id (idsz > A2A_TASK_ID_MAX) and "historyLength" (>= 0; -1 when absent)
 * into *history_length (may be NULL). 0 or A2A_ERR_INVALID_PARAMS.     */
int a2a_task_params_parse(const json_t *params, char *id, size_t idsz,
                          int *history_length, char *why, size_t whysz);

/* ListTasks params (1.0). */
typedef struct a2a_list_query {
    char context_id[SERVER_SESSION_ID_MAX + 1]; /* "" = every context */
    int state;             /* a2a_task_state, or -1 = any */
    int page_size;         /* 1..A2A_PAGE_MAX */
    size_t offset;         /* from pageToken (ours: an opaque offset) */
    int history_length;    /* -1: unset */
    int include_artifacts;
} a2a_list_query;

/** Reads ListTasks params. 0 or A2A_ERR_INVALID_PARAMS with why.      */
int a2a_list_parse(const json_t *params, a2a_list_query *out, char *why,
                   size_t whysz);

/* ---- JSON encoding (a2a_json.c; pure) ----------------------------------- */

/* A task as the encoder sees it; every pointer borrowed. */
typedef struct a2a_task_view {
    const char *id, *context_id;
    a2a_task_state state;
    int64_t updated_ms;           /* wall-clock ms of the last state change */
    const char *user_text;        /* the user's message */
    const char *user_message_id;
    const char *answer;           /* artifact text so far, or NULL */
    size_t answer_len;
    const char *artifact_id;
    const char *reply_id;         /* messageId of the agent's reply */
    const char *error;            /* failure message, or NULL */
} a2a_task_view;

/** The Task object (new reference, NULL on OOM). history_length -1: the
 * whole history (the user message, then the agent's reply once there is
 * one), 0: none, n: the last n. include_artifacts 0 leaves "artifacts"
 * out (ListTasks).                                                      */
json_t *a2a_task_json(const a2a_task_view *t, a2a_version v,
                      int history_length, int include_artifacts);
/** A text message {role, parts:[text], messageId, contextId, taskId}
 * (0.3: with "kind":"message"); agent 1 = ROLE_AGENT. New reference.   */
json_t *a2a_message_json(const char *text, size_t len, int agent,
                         const char *message_id, const char *context_id,
                         const char *task_id, a2a_version v);
/** A status-update event (0.3: kind "status-update" with "final" = the
 * state is terminal; 1.0: wrapped as {"statusUpdate": ...}). message may
 * be NULL. New reference.                                               */
json_t *a2a_status_event(const char *task_id, const char *context_id,
                         a2a_task_state state, int64_t updated_ms,
                         const char *message, a2a_version v);
/** An artifact-update event carrying one text chunk (0.3: kind
 * "artifact-update"; 1.0: {"artifactUpdate": ...}). New reference.     */
json_t *a2a_artifact_event(const char *task_id, const char *context_id,
                           const char *artifact_id, const char *text,
                           size_t len, int append, int last_chunk,
                           a2a_version v);
/** A SendMessage / first stream result: 1.0 {"task": task}, 0.3 the task
 * itself. Steals task; NULL on OOM.                                     */
json_t *a2a_send_result(json_t *task, a2a_version v);
/** {"jsonrpc":"2.0","id":id,"result":result}; steals result, borrows id.
 * NULL on OOM (result freed).                                           */
json_t *a2a_response(const json_t *id, json_t *result);
/** {"jsonrpc":"2.0","id":id,"error":{"code","message","data"?}}; 1.0
 * A2A-specific errors carry a google.rpc.ErrorInfo in data. NULL on OOM. */
json_t *a2a_error_response(const json_t *id, int code, const char *message,
                           a2a_version v);

/* What the card says; every pointer borrowed. */
typedef struct a2a_card_info {
    const char *name, *description, *url, *version;
    const json_t *tool_specs;     /* [{"toolSpec":{"name","description"}}]
                                     or NULL: one skill per tool */
} a2a_card_info;

/** The agent card, valid for 1.0 clients (supportedInterfaces) and 0.3
 * clients (url, protocolVersion, preferredTransport). New reference.    */
json_t *a2a_card_json(const a2a_card_info *c);

/* ---- the task table (a2a_tasks.c; struct a2a_state) -------------------- */

struct a2a_state;
typedef struct a2a_state a2a_state;

/** A new, empty table: at most max_tasks tasks (running ones are never
 * evicted), finished ones forgotten ttl_ms after they finished. NULL on
 * OOM.                                                                  */
a2a_state *a2a_tasks_new(size_t max_tasks, int64_t ttl_ms);
/** Frees the table and every task (none may be running: cancel and finish
 * them first). NULL is a no-op.                                         */
void a2a_tasks_free(a2a_state *st);

/** Adds a task in state submitted for the user's message and writes its new
 * id into id_out and its answer artifact's id into artifact_out (may be
 * NULL). Expired tasks go first; when the table is full the
 * oldest finished task is evicted. Returns 0, or A2A_ERR_INTERNAL with why
 * when every task is still running (or on OOM).                         */
int a2a_tasks_create(a2a_state *st, const char *context_id,
                     const char *user_text, const char *message_id,
                     char id_out[37], char *artifact_out, char *why,
                     size_t whysz);
/** Attaches the task's runner (borrowed until a2a_tasks_finish takes it
 * back) and sets it working. Returns 1 when the task was cancelled
 * meanwhile (the caller then cancels the runner), 0 otherwise.         */
int a2a_tasks_attach(a2a_state *st, const char *id, runner *r);
/** Appends streamed answer text (ignored for an unknown or finished task;
 * the answer is capped at the table's byte cap).                         */
void a2a_tasks_append(a2a_state *st, const char *id, const char *text,
                      size_t len);
/** Ends a task in state end: A2A_COMPLETED with text as the answer,
 * A2A_FAILED with error as its message, or A2A_CANCELED (also whenever a
 * cancel was asked). A finished task stays as it is. The
 * runner is detached. *state_out (may be NULL) gets the final state; when
 * task_out is non-NULL it gets the Task JSON (v, history_length) or NULL
 * on OOM. Returns 0, or A2A_ERR_TASK_NOT_FOUND.                        */
int a2a_tasks_finish(a2a_state *st, const char *id, a2a_task_state end,
                     const char *text,
                     const char *error, a2a_version v, int history_length,
                     a2a_task_state *state_out, json_t **task_out);
/** The Task JSON of a task (*out new reference; NULL on OOM). 0 or
 * A2A_ERR_TASK_NOT_FOUND.                                              */
int a2a_tasks_get(a2a_state *st, const char *id, a2a_version v,
                  int history_length, json_t **out);
/** Information about a task for a follow-up message: 0 when it is
 * unknown, else 1 with *state set.                                      */
int a2a_tasks_state(a2a_state *st, const char *id, a2a_task_state *state);
/** The wall-clock ms of the task's last state change (its status
 * timestamp), or 0 for an unknown task.                                 */
int64_t a2a_tasks_updated_ms(a2a_state *st, const char *id);
/** Cancels a task: marks it canceled (its runner is cancelled; the one
 * running it finishes it) and answers its Task JSON in *out. 0,
 * A2A_ERR_TASK_NOT_FOUND, or A2A_ERR_TASK_NOT_CANCELABLE for a finished
 * task.                                                                 */
int a2a_tasks_cancel(a2a_state *st, const char *id, a2a_version v,
                     json_t **out);
/** Cancels the runner of every running task (shutdown). */
void a2a_tasks_cancel_all(a2a_state *st);
/** ListTasks: the page of matching tasks, newest status first, as the
 * ListTasksResponse object in *out (new reference). 0, or
 * A2A_ERR_INTERNAL on OOM.                                              */
int a2a_tasks_list(a2a_state *st, const a2a_list_query *q, json_t **out);
/** Runs fn(arg) on a new joinable thread the table keeps (a task that runs
 * without a client); finished ones are joined at the next spawn and the
 * rest by a2a_tasks_join_all. 0, or -1 when no thread could be started
 * (then fn was not called).                                              */
int a2a_tasks_spawn(a2a_state *st, void (*fn)(void *), void *arg);
/** Joins every spawned thread (cancel their work first). */
void a2a_tasks_join_all(a2a_state *st);
/** Tasks in the table (after dropping expired ones). */
size_t a2a_tasks_count(a2a_state *st);

/* The handlers and the part (a2a.c) are declared in server/internal.h. */

#endif
