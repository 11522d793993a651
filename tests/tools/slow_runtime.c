/* Test driver: the stock strands-runtime plus two C test tools. A slow
 * one, used by tests/integration/test_runner_shutdown.py to prove that
 * shutdown joins every invocation thread before it frees what they use,
 * and big_tool {"chars": N} (N <= 64 MiB), which answers a text of N
 * characters "B...E" (tests/integration/test_conversation_manager.py).
 *
 *   slow_tool {"ms": N, "honor_cancel": true|false}
 * sleeps N milliseconds in 10 ms steps; with honor_cancel it returns as
 * soon as the invocation is cancelled. When it returns it logs
 * "slow_tool finished" (logger strands.test) and answers {"text":"slept"}. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

static strands_status big_run(void *user, const json_t *input,
                              const strands_tool_context *ctx,
                              json_t **content_out, strands_error *err)
{
    (void)user; (void)ctx;
    json_int_t n = json_integer_value(json_object_get(input, "chars"));
    if (n < 2 || n > 64 * 1024 * 1024)
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "chars must be 2..64 MiB");
    char *s = malloc((size_t)n);
    if (!s) return strands_error_set(err, STRANDS_E_NOMEM, NULL, "OOM");
    memset(s, 'x', (size_t)n);
    s[0] = 'B';
    s[n - 1] = 'E';
    *content_out = json_pack("[{s:s%}]", "text", s, (size_t)n);
    free(s);
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
    strands_tool_def big = {
        .name = "big_tool",
        .description = "Answers a text of `chars` characters.",
        .run = big_run,
    };
    strands_status st = strands_tool_registry_add(reg, &def, err);
    return st == STRANDS_OK ? strands_tool_registry_add(reg, &big, err) : st;
}

static const strands_tool_source_provider slow_tools = {
    .version = STRANDS_TOOL_SOURCE_PROVIDER_VERSION,
    .name = "slow",
    .description = "slow_tool and big_tool, for tests",
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
