/* Private interface of the tool registry: how the "builtin" source finds
 * its own state in a registry, and how the agent reads a tool's schema to
 * validate inputs, and the copy of the caller's request context a tool
 * call keeps.                                       */
#ifndef STRANDS_TOOLS_REGISTRY_H
#define STRANDS_TOOLS_REGISTRY_H

#include <stdint.h>

#include "strands/tool.h"

/** The user pointer of the source `name` when it was added with `vtab`,
 * else NULL. Borrowed: valid while that source stays in the registry.  */
void *tools_registry_source_user(strands_tool_registry *reg, const char *name,
                                 const strands_tool_source_vtab *vtab);

/** The tool's normalised input schema (an object). Borrowed: valid while
 * the tool is referenced (e.g. by the snapshot it was found in).        */
const json_t *tools_tool_schema(const strands_tool *tool);

/** The tool's own call deadline in ms (a source's "timeoutMs"), or 0:
 * the agent's TOOL_TIMEOUT_SECONDS applies.                            */
int64_t tools_tool_timeout_ms(const strands_tool *tool);

/** Takes a reference to the tool (it, its schema and its source stay
 * alive until the matching tools_tool_unref). Returns tool.            */
strands_tool *tools_tool_ref(const strands_tool *tool);

/** Drops a reference taken with tools_tool_ref; NULL is a no-op. */
void tools_tool_unref(strands_tool *tool);

/** A deep copy of rc in one allocation (NULL for NULL rc or on OOM);
 * free with tools_request_context_free.                                 */
strands_request_context *tools_request_context_dup(
    const strands_request_context *rc);
/** Wipes (the values are secrets) and frees a copy; NULL is a no-op. */
void tools_request_context_free(strands_request_context *rc);

#endif
