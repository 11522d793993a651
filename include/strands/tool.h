/* The tool interface: a tool is a name, a description, a JSON input schema
 * and a run function with user data. A registry holds the tools an agent
 * may call; built-ins and (later) MCP servers add their tools to it the same
 * way user code does.                                                     */
#ifndef STRANDS_TOOL_H
#define STRANDS_TOOL_H

#include <stdatomic.h>
#include <stddef.h>
#include <jansson.h>

#include "strands/status.h"

/* What a running tool may know about its call. All pointers are borrowed
 * and valid for the duration of the run call.                            */
typedef struct strands_tool_context {
    const char *tool_use_id;     /* the model's toolUseId */
    const char *session_id;      /* conversation the call belongs to */
    const atomic_int *cancelled; /* non-zero: give up promptly (may be NULL) */
} strands_tool_context;

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

/** New empty registry; NULL on OOM. Free with strands_tool_registry_free. */
STRANDS_EXTERN strands_tool_registry *strands_tool_registry_new(void);
/** Frees the registry and calls each tool's free_user. NULL is a no-op. */
STRANDS_EXTERN void strands_tool_registry_free(strands_tool_registry *reg);
/** Adds a tool; strings and schema are copied. E_INVALID for a bad name,
 * duplicate name, missing run function or unparsable schema (the message
 * says which). Ownership of def->user passes to the registry even when the
 * call fails (free_user is then called at once). Not thread-safe: fill the
 * registry before sharing it; lookups are then safe from any thread.      */
STRANDS_EXTERN strands_status strands_tool_registry_add(
    strands_tool_registry *reg, const strands_tool_def *def,
    strands_error *err);
/** Adds the built-in named `name` ("calculator", "current_time").
 * E_NOT_FOUND for an unknown name.                                       */
STRANDS_EXTERN strands_status strands_tool_registry_add_builtin(
    strands_tool_registry *reg, const char *name, strands_error *err);
/** Adds every built-in named in a comma-separated list ("calculator,
 * current_time"; spaces around names and empty items are ignored).
 * E_INVALID naming the first unknown or duplicate name.                  */
STRANDS_EXTERN strands_status strands_tool_registry_add_builtins(
    strands_tool_registry *reg, const char *list, strands_error *err);
/** Comma-separated list of the built-in tool names (static string). */
STRANDS_EXTERN const char *strands_builtin_tool_names(void);
/** Looks a tool up by name; NULL when absent. Borrowed pointer. */
STRANDS_EXTERN const strands_tool *strands_tool_registry_find(
    const strands_tool_registry *reg, const char *name);
/** Number of tools. */
STRANDS_EXTERN size_t strands_tool_registry_count(
    const strands_tool_registry *reg);
/** The Converse toolConfig.tools array for every tool, in the order they
 * were added: [{"toolSpec":{"name","description","inputSchema":{"json"}}}].
 * Borrowed: valid until the registry is changed or freed.                 */
STRANDS_EXTERN const json_t *strands_tool_registry_specs(
    const strands_tool_registry *reg);
/** The tool's name (borrowed). */
STRANDS_EXTERN const char *strands_tool_name(const strands_tool *tool);
/** Runs a tool (see strands_tool_run_fn). A run function that returns OK
 * without content, or content that is not an array, yields E_TOOL.        */
STRANDS_EXTERN strands_status strands_tool_call(const strands_tool *tool,
                                                const json_t *input,
                                                const strands_tool_context *ctx,
                                                json_t **content_out,
                                                strands_error *err);

#endif
