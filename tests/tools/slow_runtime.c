/* Test driver: the stock strands-runtime plus one slow C tool, used by
 * tests/integration/test_runner_shutdown.py to prove that shutdown joins
 * every invocation thread before it frees what they use.
 *   slow_tool {"ms": N, "honor_cancel": true|false}
 * sleeps N milliseconds in 10 ms steps; with honor_cancel it returns as
 * soon as the invocation is cancelled. When it returns it logs
 * "slow_tool finished" (logger strands.test) and answers {"text":"slept"}. */
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>

#include "strands/log.h"
#include "strands/runtime.h"

static strands_status slow_run(void *user, const json_t *input,
                               const strands_tool_context *ctx,
                               json_t **content_out, strands_error *err)
{
    (void)user;
    json_int_t ms = json_integer_value(json_object_get(input, "ms"));
    int honor = json_is_true(json_object_get(input, "honor_cancel"));
    json_int_t slept = 0;
    struct timespec step = {0, 10 * 1000000L};
    while (slept < ms) {
        if (honor && ctx->cancelled && atomic_load(ctx->cancelled)) break;
        nanosleep(&step, NULL);
        slept += 10;
    }
    strands_log(STRANDS_LOG_INFO, "strands.test", NULL, ctx->session_id,
                NULL, "slow_tool finished after %lld ms", (long long)slept);
    *content_out = json_pack("[{s:s}]", "text", "slept");
    return *content_out ? STRANDS_OK
                        : strands_error_set(err, STRANDS_E_NOMEM, NULL, "OOM");
}

static strands_status add_slow_tool(const strands_tool_source_context *ctx,
                                    strands_tool_registry *reg,
                                    strands_error *err)
{
    (void)ctx;
    strands_tool_def def = {
        .name = "slow_tool",
        .description = "Sleeps for a while.",
        .run = slow_run,
    };
    return strands_tool_registry_add(reg, &def, err);
}

static const strands_tool_source_provider slow_tools = {
    .version = STRANDS_TOOL_SOURCE_PROVIDER_VERSION,
    .name = "slow",
    .description = "slow_tool, for shutdown tests",
    .add_tools = add_slow_tool,
};

int main(int argc, char **argv)
{
    strands_error err;
    if (strands_tool_source_provider_register(&slow_tools, &err) !=
        STRANDS_OK) {
        fprintf(stderr, "slow_runtime: %s\n", err.message);
        return 2;
    }
    return strands_runtime_main(argc, argv);
}
