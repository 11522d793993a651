/* The agent loop's settings rows (read by the runtime into
 * strands_runtime_config and passed on in strands_agent_config).       */
#include <math.h>
#include <stddef.h>
#include <stdlib.h>

#include "runtime/builtins.h"

#define OFF(f) offsetof(strands_runtime_config, f)

/* SUMMARY_RATIO: a decimal number > 0 (the agent clamps it to 0.1..0.8,
 * as Strands does). */
static strands_status check_ratio(const char *value, strands_error *err)
{
    char *end = NULL;
    double r = strtod(value, &end);
    if (end == value || *end || !isfinite(r) || r <= 0 || r > 1)
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "'%s' is not a number in (0, 1]", value);
    return STRANDS_OK;
}

static const strands_setting rows[] = {
    {.name = "MAX_TOKENS", .type = STRANDS_SETTING_INT, .def = "4096",
     .min = 1, .max = 1000000, .offset = OFF(max_tokens),
     .help = "inferenceConfig.maxTokens of each model call"},
    {.name = "MAX_ITERATIONS", .type = STRANDS_SETTING_INT, .def = "10",
     .min = 1, .max = 1000, .offset = OFF(max_iterations),
     .help = "model calls per invocation before stop_reason MaxIterations"},
    {.name = "SYSTEM_PROMPT", .type = STRANDS_SETTING_OPTIONAL,
     .offset = OFF(system_prompt), .help = "system prompt (none when unset)"},
    {.name = "TOOL_CONCURRENCY", .type = STRANDS_SETTING_INT, .def = "8",
     .min = 1, .max = 1024, .offset = OFF(tool_concurrency),
     .help = "tool calls of one model turn run at once (the rest wait)"},
    {.name = "TOOL_RESULT_MAX_BYTES", .type = STRANDS_SETTING_SIZE,
     .def = "1048576", .min = 256, .max = 1LL << 30,
     .offset = OFF(tool_result_max_bytes),
     .help = "a larger tool result is truncated, with a marker the model "
             "can read"},
    {.name = "TOOL_TIMEOUT_SECONDS", .type = STRANDS_SETTING_INT,
     .def = "300", .min = 1, .max = 86400,
     .offset = OFF(tool_timeout_seconds),
     .help = "each tool call's deadline: then its cancel flag is set and "
             "the model gets a \"timed out after N s\" error; a tool that "
             "ignores it is abandoned 200 ms later"},
    {.name = "SESSION_MAX_HISTORY_BYTES", .type = STRANDS_SETTING_SIZE,
     .def = "16777216", .min = 1024, .max = 1LL << 32,
     .offset = OFF(max_history_bytes),
     .help = "largest stored conversation per session, as JSON, in every "
             "session store (a turn that would grow it past this fails "
             "with SessionHistoryTooLarge)"},
    {.name = "CONVERSATION_MANAGER", .type = STRANDS_SETTING_CHOICE,
     .def = "sliding_window", .choices = "sliding_window,summarizing,none",
     .offset = OFF(conversation_manager),
     .help = "how a long conversation is kept within WINDOW_SIZE and the "
             "model's context: drop the oldest messages, replace them by a "
             "model-written summary, or keep everything"},
    {.name = "WINDOW_SIZE", .type = STRANDS_SETTING_INT, .def = "40",
     .min = 1, .max = 1000000, .offset = OFF(window_size),
     .help = "messages the model sees at most (sliding_window), or past "
             "which the oldest are summarised (summarizing); the stored "
             "log keeps every message"},
    {.name = "SUMMARY_RATIO", .type = STRANDS_SETTING_STRING, .def = "0.3",
     .offset = OFF(summary_ratio), .check = check_ratio,
     .help = "summarizing: share of the oldest messages one summary "
             "replaces (clamped to 0.1..0.8)"},
    {.name = "SUMMARY_PRESERVE_RECENT", .type = STRANDS_SETTING_INT,
     .def = "10", .min = 0, .max = 1000000,
     .offset = OFF(summary_preserve_recent),
     .help = "summarizing: newest messages never summarised"},
};

const strands_settings_group agent_settings = {
    .version = STRANDS_SETTINGS_GROUP_VERSION,
    .title = "Agent",
    .rows = rows,
    .n_rows = sizeof rows / sizeof rows[0],
    .struct_size = sizeof(strands_runtime_config),
};
