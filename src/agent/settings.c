/* The agent loop's settings rows (read by the runtime into
 * strands_runtime_config and passed on in strands_agent_config).       */
#include <stddef.h>

#include "runtime/builtins.h"

#define OFF(f) offsetof(strands_runtime_config, f)

static const strands_setting rows[] = {
    {.name = "MAX_TOKENS", .type = STRANDS_SETTING_INT, .def = "4096",
     .min = 1, .max = 1000000, .offset = OFF(max_tokens),
     .help = "inferenceConfig.maxTokens of each model call"},
    {.name = "MAX_ITERATIONS", .type = STRANDS_SETTING_INT, .def = "10",
     .min = 1, .max = 1000, .offset = OFF(max_iterations),
     .help = "model calls per invocation before stop_reason MaxIterations"},
    {.name = "SYSTEM_PROMPT", .type = STRANDS_SETTING_OPTIONAL,
     .offset = OFF(system_prompt), .help = "system prompt (none when unset)"},
};

const strands_settings_group agent_settings = {
    .version = STRANDS_SETTINGS_GROUP_VERSION,
    .title = "Agent",
    .rows = rows,
    .n_rows = sizeof rows / sizeof rows[0],
    .struct_size = sizeof(strands_runtime_config),
};
