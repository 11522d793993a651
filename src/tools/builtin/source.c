/* The built-in tools as a registered tool source ("builtin", the first
 * source): the TOOLS row and the rows of the workspace tools and shell,
 * checked at start-up, and the factory that adds the tools TOOLS names
 * with those settings (plus TOOL_RESULT_MAX_BYTES) as builtin_options.  */
#include <stddef.h>
#include <string.h>

#include "runtime/builtins.h"
#include "tools/builtin/builtin.h"

/* What the rows below fill. */
typedef struct builtin_settings {
    char *tools;                   /* TOOLS */
    char *workspace_dir;           /* WORKSPACE_DIR */
    size_t file_max_bytes;         /* FILE_MAX_BYTES */
    int shell_timeout_seconds;     /* SHELL_TIMEOUT_SECONDS */
    size_t shell_output_max_bytes; /* SHELL_OUTPUT_MAX_BYTES */
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
    {.name = "WORKSPACE_DIR", .type = STRANDS_SETTING_STRING,
     .def = BUILTIN_WORKSPACE_DIR_DEFAULT,
     .offset = offsetof(builtin_settings, workspace_dir),
     .help = "file tools' directory and shell's working directory; "
             "made (0700) at start when one of them is enabled"},
    {.name = "FILE_MAX_BYTES", .type = STRANDS_SETTING_SIZE,
     .def = "1048576", .min = 1, .max = 64LL << 20,
     .offset = offsetof(builtin_settings, file_max_bytes),
     .help = "most bytes one file_read returns or one file_write writes"},
    {.name = "SHELL_TIMEOUT_SECONDS", .type = STRANDS_SETTING_INT,
     .def = "60", .min = 1, .max = 86400,
     .offset = offsetof(builtin_settings, shell_timeout_seconds),
     .help = "default and longest run time of a shell command"},
    {.name = "SHELL_OUTPUT_MAX_BYTES", .type = STRANDS_SETTING_SIZE,
     .def = "65536", .min = 1, .max = 16LL << 20,
     .offset = offsetof(builtin_settings, shell_output_max_bytes),
     .help = "bytes of stdout and of stderr kept per shell command"},
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
    builtin_options options;
    builtin_options_default(&options);
    options.workspace_dir = bs->workspace_dir;
    options.file_max_bytes = bs->file_max_bytes;
    options.shell_timeout_ms = (long)bs->shell_timeout_seconds * 1000L;
    options.shell_output_max_bytes = bs->shell_output_max_bytes;
    options.result_max_bytes = ctx->config->tool_result_max_bytes;
    strands_status st = builtin_add_with_options(reg, bs->tools, &options,
                                                 &e);
    if (st != STRANDS_OK)
        return strands_error_set(err, st, NULL, "%s%s",
                                 strncmp(e.message, "WORKSPACE_DIR", 13)
                                     ? "TOOLS: " : "", e.message);
    return STRANDS_OK;
}

const strands_tool_source_provider tools_builtin_source = {
    .version = STRANDS_TOOL_SOURCE_PROVIDER_VERSION,
    .name = "builtin",
    .description = "the built-in tools named by TOOLS",
    .settings = &group,
    .add_tools = add_tools,
};
