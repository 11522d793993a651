/* The built-in tools as a registered tool source ("builtin", the first
 * source): the TOOLS row, checked at start-up, and the factory that adds
 * the tools it names.                                                   */
#include <stddef.h>

#include "runtime/builtins.h"
#include "tools/builtin/builtin.h"

/* What the row below fills. */
typedef struct builtin_settings {
    char *tools;  /* TOOLS */
} builtin_settings;

/* TOOLS must name built-ins only, each once. */
static strands_status check_tools(const char *list, strands_error *err)
{
    return builtin_list_parse(list, NULL, err);
}

static const strands_setting rows[] = {
    {.name = "TOOLS", .type = STRANDS_SETTING_STRING,
     .flags = STRANDS_SETTING_ALLOW_EMPTY, .def = "calculator,current_time",
     .offset = offsetof(builtin_settings, tools), .check = check_tools,
     .help = "comma list of built-in tools; empty = none"},
};

static const strands_settings_group group = {
    .version = STRANDS_SETTINGS_GROUP_VERSION,
    .title = "Built-in tools",
    .rows = rows,
    .n_rows = sizeof rows / sizeof rows[0],
    .struct_size = sizeof(builtin_settings),
};

static strands_status add_tools(const strands_tool_source_context *ctx,
                                strands_tool_registry *reg,
                                strands_error *err)
{
    const builtin_settings *bs = ctx->settings;
    strands_error e;
    strands_status st = strands_tool_registry_add_builtins(reg, bs->tools, &e);
    if (st != STRANDS_OK)
        return strands_error_set(err, st, NULL, "TOOLS: %s", e.message);
    return STRANDS_OK;
}

const strands_tool_source_provider tools_builtin_source = {
    .version = STRANDS_TOOL_SOURCE_PROVIDER_VERSION,
    .name = "builtin",
    .description = "the built-in tools named by TOOLS",
    .settings = &group,
    .add_tools = add_tools,
};
