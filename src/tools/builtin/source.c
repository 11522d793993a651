/* The built-in tools as a registered tool source ("builtin", the first
 * source): the TOOLS row and the rows of the built-ins' options, checked
 * at start-up, and the factory that adds the tools TOOLS names with those
 * options (plus TOOL_RESULT_MAX_BYTES).                                 */
#include <stddef.h>
#include <string.h>

#include "runtime/builtins.h"
#include "tools/builtin/addr_policy.h"
#include "tools/builtin/builtin.h"

#define STR_(x) #x
#define STR(x) STR_(x)

/* What the rows below fill. */
typedef struct builtin_settings {
    char *tools;               /* TOOLS */
    builtin_options opts;      /* the other rows, but: */
    int shell_timeout_seconds; /* SHELL_TIMEOUT_SECONDS (opts has ms) */
} builtin_settings;

/* TOOLS must name built-ins only, each once. */
static strands_status check_tools(const char *list, strands_error *err)
{
    return builtin_list_parse(list, NULL, err);
}

/* HTTP_REQUEST_ALLOW must parse (the error names the bad entry). */
static strands_status check_http_allow(const char *list, strands_error *err)
{
    addr_policy *p = NULL;
    strands_status st = addr_policy_parse(list, &p, err);
    addr_policy_free(p);
    return st;
}

static const strands_setting rows[] = {
    {.name = "TOOLS", .type = STRANDS_SETTING_STRING,
     .flags = STRANDS_SETTING_ALLOW_EMPTY, .def = "calculator,current_time",
     .offset = offsetof(builtin_settings, tools), .check = check_tools,
     .help = "comma list of built-in tools; empty = none"},
    {.name = "HTTP_REQUEST_ALLOW", .type = STRANDS_SETTING_OPTIONAL,
     .offset = offsetof(builtin_settings, opts.http_allow),
     .check = check_http_allow,
     .help = "http_request: comma list of IPs, CIDRs or host names it may "
             "reach although private, loopback, link-local, ..."},
    {.name = "HTTP_REQUEST_MAX_BYTES", .type = STRANDS_SETTING_SIZE,
     .def = STR(BUILTIN_HTTP_MAX_BYTES_DEFAULT), .min = 1,
     .max = 64 * 1024 * 1024,
     .offset = offsetof(builtin_settings, opts.http_max_bytes),
     .help = "http_request: largest response body, bytes (larger: an "
             "error result)"},
    {.name = "HTTP_REQUEST_TIMEOUT_SECONDS", .type = STRANDS_SETTING_INT,
     .def = STR(BUILTIN_HTTP_TIMEOUT_DEFAULT), .min = 1, .max = 3600,
     .offset = offsetof(builtin_settings, opts.http_timeout_seconds),
     .help = "http_request: time limit of one call, redirects included "
             "(never past the tool call's deadline)"},
    {.name = "WORKSPACE_DIR", .type = STRANDS_SETTING_STRING,
     .def = BUILTIN_WORKSPACE_DIR_DEFAULT,
     .offset = offsetof(builtin_settings, opts.workspace_dir),
     .help = "file tools' directory and shell's working directory; "
             "made (0700) at start when one of them is enabled"},
    {.name = "FILE_MAX_BYTES", .type = STRANDS_SETTING_SIZE,
     .def = "1048576", .min = 1, .max = 64LL << 20,
     .offset = offsetof(builtin_settings, opts.file_max_bytes),
     .help = "most bytes one file_read returns or one file_write writes"},
    {.name = "SHELL_TIMEOUT_SECONDS", .type = STRANDS_SETTING_INT,
     .def = "60", .min = 1, .max = 86400,
     .offset = offsetof(builtin_settings, shell_timeout_seconds),
     .help = "default and longest run time of a shell command"},
    {.name = "SHELL_OUTPUT_MAX_BYTES", .type = STRANDS_SETTING_SIZE,
     .def = "65536", .min = 1, .max = 16LL << 20,
     .offset = offsetof(builtin_settings, opts.shell_output_max_bytes),
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
    builtin_options o = bs->opts; /* strings borrowed: the source copies */
    o.shell_timeout_ms = (long)bs->shell_timeout_seconds * 1000L;
    o.result_max_bytes = ctx->config->tool_result_max_bytes;
    strands_status st = builtin_add_tools(reg, bs->tools, &o, &e);
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
