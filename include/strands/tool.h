/* The tool interface. A tool is a name, a description, a JSON input schema
 * and a way to run it. Tools come from SOURCES (a versioned vtable: start,
 * list, call, stop, destroy): the built-ins are one source, tools added in
 * C with strands_tool_registry_add form another, and an MCP client is a
 * third. A registry aggregates its sources under a read/write lock, so a
 * source may re-list its tools while invocations run; an invocation works
 * on a snapshot (a consistent tool list that keeps what it uses alive).  */
#ifndef STRANDS_TOOL_H
#define STRANDS_TOOL_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "strands/status.h"

/* The agent state of the invocation a tool call belongs to (opaque): a
 * JSON object per session, persisted with the session's turn. Read and
 * written with strands_tool_state_get/set/delete below.                  */
typedef struct strands_tool_state strands_tool_state;

/* What a running tool may know about its call. All pointers are borrowed
 * and valid for the duration of the run call.                            */
/* One header of the caller's request that tools may see. */
typedef struct strands_request_header {
    const char *name;   /* as the client sent it, e.g. "Authorization" */
    const char *value;
} strands_request_header;

/* What the runtime passes on from the caller's request to tools: the
 * AgentCore identity headers (X-Amzn-Bedrock-AgentCore-Runtime-User-Id,
 * WorkloadAccessToken, OAuth2CallbackUrl, Authorization) and every
 * X-Amzn-Bedrock-AgentCore-Runtime-Custom-* header. The values are
 * secrets: never log them. Borrowed for the duration of the call.       */
typedef struct strands_request_context {
    const strands_request_header *headers;
    size_t n_headers;
} strands_request_context;

/* Headers a request context keeps at most, and the longest value kept
 * (longer headers are left out). AgentCore forwards at most 20 custom
 * headers of at most 4 KiB each.                                        */
#define STRANDS_REQUEST_HEADERS_MAX 32
#define STRANDS_REQUEST_HEADER_VALUE_MAX 8192

/** The value of header `name` (case-insensitive) in the request context,
 * or NULL (no context, or no such header). Borrowed from rc.            */
STRANDS_EXTERN const char *strands_request_header_get(
    const strands_request_context *rc, const char *name);

typedef struct strands_tool_context {
    const char *tool_use_id;     /* the model's toolUseId */
    const char *session_id;      /* conversation the call belongs to */
    const atomic_int *cancelled; /* non-zero: give up promptly (may be NULL);
                                    the agent gives each call its own flag,
                                    set at the deadline or when the
                                    invocation is cancelled */
    int64_t deadline_ms;         /* strands_clock_mono_ms() by which the call
                                    should be over; 0 = no deadline */
    strands_tool_state *state;   /* the session's agent state, or NULL when
                                    the call runs outside an agent */
    const strands_request_context *request; /* the caller's headers (see
                                    strands_request_context), or NULL */
} strands_tool_context;

/* Largest agent state (compact JSON bytes) strands_tool_state_set keeps. */
#define STRANDS_TOOL_STATE_MAX_BYTES ((size_t)1024 * 1024)
/* Longest state key in bytes. */
#define STRANDS_TOOL_STATE_KEY_MAX 256

/** A new reference to a deep copy of the state's value under key, or NULL
 * (no state in ctx, a bad key, an unknown key, or OOM); the caller owns
 * it (json_decref). Thread-safe: tools of one turn run concurrently.    */
STRANDS_EXTERN json_t *strands_tool_state_get(const strands_tool_context *ctx,
                                              const char *key);
/** Sets key (1..STRANDS_TOOL_STATE_KEY_MAX bytes) to a deep copy of value
 * (borrowed; any JSON value). E_INVALID for no state in ctx, a bad key or
 * value, or once the invocation has ended (an abandoned call); E_TOO_LARGE
 * when the whole state would pass STRANDS_TOOL_STATE_MAX_BYTES (the state
 * is unchanged then); E_NOMEM. The state is stored with the turn, so a
 * failed invocation keeps none of its changes. Thread-safe.              */
STRANDS_EXTERN strands_status strands_tool_state_set(
    const strands_tool_context *ctx, const char *key, const json_t *value,
    strands_error *err);
/** Removes key (OK when it was absent); errors as strands_tool_state_set.
 * Thread-safe.                                                          */
STRANDS_EXTERN strands_status strands_tool_state_delete(
    const strands_tool_context *ctx, const char *key, strands_error *err);

/* Runs a tool. `input` is the toolUse input (borrowed, usually an object).
 * On success set *content_out to a new JSON array of ToolResultContent
 * blocks, e.g. [{"text":"42"}] or [{"json":{...}}], and return STRANDS_OK;
 * the caller owns it. On failure return an error status and describe it in
 * err->message: the agent turns it into a toolResult with status "error".
 * May run on any thread, concurrently with other calls of the same tool.  */
typedef strands_status strands_tool_run_fn(void *user, const json_t *input,
                                           const strands_tool_context *ctx,
                                           json_t **content_out,
                                           strands_error *err);

/* A tool definition, as passed to strands_tool_registry_add. */
typedef struct strands_tool_def {
    const char *name;              /* [a-zA-Z0-9_-]{1,64} */
    const char *description;       /* shown to the model */
    const char *input_schema_json; /* JSON Schema text; NULL = {"type":"object"} */
    strands_tool_run_fn *run;
    void *user;                    /* passed to run */
    void (*free_user)(void *user); /* called once when the registry is freed
                                      (or when add fails); may be NULL */
} strands_tool_def;

typedef struct strands_tool strands_tool;
typedef struct strands_tool_registry strands_tool_registry;

/* ---- tool sources ------------------------------------------------------ */

#define STRANDS_TOOL_SOURCE_VTAB_VERSION 1

/* A source of tools. Every function gets the `user` given to
 * strands_tool_registry_add_source. The registry keeps one shared owner per
 * source: every tool listed by it holds a reference, so a call in progress
 * (or a snapshot) keeps the source alive after it re-lists or is removed. */
typedef struct strands_tool_source_vtab {
    int version;      /* STRANDS_TOOL_SOURCE_VTAB_VERSION */
    const char *kind; /* "builtin", "mcp", ... (for messages) */
    /* Prepares the source (connect, spawn); NULL = nothing to do. Called
     * once, by strands_tool_registry_add_source, before the first list. */
    strands_status (*start)(void *user, strands_error *err);
    /* The tools offered now: *tools_out = a new JSON array (caller owns)
     * of {"name", "description" (optional), "inputSchema" (optional JSON
     * Schema object), "timeoutMs" (optional positive integer: this tool's
     * call deadline, instead of the agent's default)}. Called at add_source and by every
     * strands_tool_registry_refresh, possibly while calls run.          */
    strands_status (*list)(void *user, json_t **tools_out,
                           strands_error *err);
    /* Runs the tool `tool_name` (a name this source listed), with the
     * contract of strands_tool_run_fn. Any thread, concurrently.         */
    strands_status (*call)(void *user, const char *tool_name,
                           const json_t *input,
                           const strands_tool_context *ctx,
                           json_t **content_out, strands_error *err);
    /* The source leaves its registry (removed, or the registry freed): no
     * new call will be made, calls in flight may still be running. NULL
     * allowed.                                                          */
    void (*stop)(void *user);
    /* Frees user, once, when the last reference is gone (after stop, and
     * after every call and snapshot that used the source). NULL allowed. */
    void (*destroy)(void *user);
} strands_tool_source_vtab;

/** New empty registry; NULL on OOM. Free with strands_tool_registry_free. */
STRANDS_EXTERN strands_tool_registry *strands_tool_registry_new(void);
/** Frees the registry: stops every source and drops its references (each
 * tool's free_user / source's destroy runs once nothing uses it any more,
 * i.e. at once unless a snapshot is still held). NULL is a no-op.         */
STRANDS_EXTERN void strands_tool_registry_free(strands_tool_registry *reg);
/** Adds a source named `name` ([a-zA-Z0-9_.:-]{1,64}, unique in the
 * registry): calls start, then list, and publishes its tools. E_INVALID for
 * a bad or duplicate source name, a vtab of another version, a bad tool
 * name, or a tool name already used by another source; the error of start
 * or list otherwise. Ownership of `user` passes to the registry even when
 * the call fails (stop, if started, and destroy are then called).
 * Thread-safe.                                                          */
STRANDS_EXTERN strands_status strands_tool_registry_add_source(
    strands_tool_registry *reg, const strands_tool_source_vtab *vtab,
    const char *name, void *user, strands_error *err);
/** Re-lists the source `name` and swaps in its new tools (e.g. an MCP
 * server reconnected or sent list_changed). Snapshots taken before keep
 * the old tools. On any error (E_NOT_FOUND for an unknown source, the
 * list's error, E_INVALID for a bad or duplicate tool name) the old list
 * stays. Thread-safe, also while invocations run.                       */
STRANDS_EXTERN strands_status strands_tool_registry_refresh(
    strands_tool_registry *reg, const char *name, strands_error *err);
/** Removes the source `name` (stop is called; destroy once unused).
 * E_NOT_FOUND when absent. Thread-safe.                                 */
STRANDS_EXTERN strands_status strands_tool_registry_remove_source(
    strands_tool_registry *reg, const char *name, strands_error *err);

/* ---- sources that start in the background ---------------------------- */

/** A source announces that it is making its first connection (an MCP
 * server being spawned) and will list its tools by until_ms
 * (strands_clock_mono_ms); it calls strands_tool_registry_started once
 * when that attempt is over, whatever its outcome. Start-up does not wait
 * for it; an invocation does (strands_tool_registry_wait_started), so the
 * model sees the tools of a source that is just starting. Thread-safe.  */
STRANDS_EXTERN void strands_tool_registry_starting(strands_tool_registry *reg,
                                                   int64_t until_ms);
/** The matching end of strands_tool_registry_starting. */
STRANDS_EXTERN void strands_tool_registry_started(strands_tool_registry *reg);
/** Waits until no source is starting, the latest announced deadline has
 * passed, or *cancelled (may be NULL) is set. Returns 1 when none is
 * starting. Returns at once (no lock) in the usual case.               */
STRANDS_EXTERN int strands_tool_registry_wait_started(
    strands_tool_registry *reg, const atomic_int *cancelled);

/* ---- snapshots ------------------------------------------------------- */

typedef struct strands_tool_snapshot strands_tool_snapshot;

/** The registry's current tool list, as a reference-counted immutable
 * snapshot (never NULL for a non-NULL registry; no allocation). Release
 * with strands_tool_snapshot_release. Tools found in it stay valid until
 * then, whatever the registry does meanwhile. Thread-safe.              */
STRANDS_EXTERN strands_tool_snapshot *strands_tool_registry_snapshot(
    strands_tool_registry *reg);
/** Drops a snapshot reference (NULL is a no-op). */
STRANDS_EXTERN void strands_tool_snapshot_release(strands_tool_snapshot *s);
/** Number of tools in the snapshot. */
STRANDS_EXTERN size_t strands_tool_snapshot_count(
    const strands_tool_snapshot *s);
/** The Converse toolConfig.tools array of the snapshot (borrowed, valid
 * while the snapshot is held; never changed).                           */
STRANDS_EXTERN const json_t *strands_tool_snapshot_specs(
    const strands_tool_snapshot *s);
/** The same specs as compact JSON text, serialised once when the snapshot
 * was made (borrowed, NUL-terminated, valid while the snapshot is held;
 * its length in *len, which may be NULL). NULL for a NULL snapshot.     */
STRANDS_EXTERN const char *strands_tool_snapshot_specs_json(
    const strands_tool_snapshot *s, size_t *len);
/** Looks a tool up by name in the snapshot; NULL when absent. Borrowed,
 * valid while the snapshot is held.                                     */
STRANDS_EXTERN const strands_tool *strands_tool_snapshot_find(
    const strands_tool_snapshot *s, const char *name);

/* ---- C tools (the registry's "local" source) ------------------------- */

/** Adds a tool written in C; strings and schema are copied. E_INVALID for a
 * bad name, duplicate name (in any source), missing run function or
 * unparsable schema (the message says which). Ownership of def->user passes
 * to the registry even when the call fails (free_user is then called at
 * once). Thread-safe.                                                   */
STRANDS_EXTERN strands_status strands_tool_registry_add(
    strands_tool_registry *reg, const strands_tool_def *def,
    strands_error *err);
/** Enables the built-in named `name` (one of strands_builtin_tool_names())
 * in the registry's "builtin" source (added on first use, with the
 * default settings: the workspace tools file_read, file_write, file_list
 * and shell work in /tmp/workspace, created when one of them is first
 * enabled). E_NOT_FOUND for an unknown name, E_INVALID for a duplicate or
 * a workspace that is not a directory, E_IO when it cannot be created.   */
STRANDS_EXTERN strands_status strands_tool_registry_add_builtin(
    strands_tool_registry *reg, const char *name, strands_error *err);
/** Adds every built-in named in a comma-separated list ("calculator,
 * current_time"; spaces around names and empty items are ignored), with
 * the default settings as above. E_INVALID naming the first unknown or
 * duplicate name, or saying why the workspace is unusable.              */
STRANDS_EXTERN strands_status strands_tool_registry_add_builtins(
    strands_tool_registry *reg, const char *list, strands_error *err);
/** Comma-separated list of the built-in tool names (static string). */
STRANDS_EXTERN const char *strands_builtin_tool_names(void);
/** Looks a tool up by name in the current list; NULL when absent.
 * Borrowed: valid until the registry changes (a source re-lists or is
 * removed) or is freed. Code that runs while the registry may change uses
 * a snapshot instead.                                                    */
STRANDS_EXTERN const strands_tool *strands_tool_registry_find(
    const strands_tool_registry *reg, const char *name);
/** Number of tools in the current list. */
STRANDS_EXTERN size_t strands_tool_registry_count(
    const strands_tool_registry *reg);
/** The Converse toolConfig.tools array for every tool (sources in the
 * order they were added, each source's tools in its order):
 * [{"toolSpec":{"name","description","inputSchema":{"json"}}}].
 * Borrowed: valid until the registry changes or is freed.                */
STRANDS_EXTERN const json_t *strands_tool_registry_specs(
    const strands_tool_registry *reg);
/** The tool's name (borrowed). */
STRANDS_EXTERN const char *strands_tool_name(const strands_tool *tool);
/** Runs a tool (see strands_tool_run_fn): its C function, or its source's
 * call. A run that returns OK without content, or content that is not an
 * array of objects, yields E_TOOL.                                       */
STRANDS_EXTERN strands_status strands_tool_call(const strands_tool *tool,
                                                const json_t *input,
                                                const strands_tool_context *ctx,
                                                json_t **content_out,
                                                strands_error *err);

#endif
