/* Private interface between the tool registry and the built-in tools: how
 * the "builtin" source finds its own state in a registry. No allocation. */
#ifndef STRANDS_TOOLS_REGISTRY_H
#define STRANDS_TOOLS_REGISTRY_H

#include "strands/tool.h"

/** The user pointer of the source `name` when it was added with `vtab`,
 * else NULL. Borrowed: valid while that source stays in the registry.  */
void *tools_registry_source_user(strands_tool_registry *reg, const char *name,
                                 const strands_tool_source_vtab *vtab);

#endif
