/* Registers the implementations shipped in the library, once per process
 * and before any other entry, through the same public calls a user's
 * binary makes: one line per model provider, session store and tool
 * source. Adding one to the library = its files + one line here. The
 * core modules' settings groups get the same definition check.         */
#include <pthread.h>
#include <string.h>

#include "runtime/builtins.h"
#include "runtime/internal.h"

static pthread_once_t once = PTHREAD_ONCE_INIT;
/* Set while this thread registers the built-ins: the register calls
 * below must not wait for the once-routine that is making them.        */
static _Thread_local int registering;
static strands_error first_error; /* written once, inside the once-routine */

static void keep(strands_status st, const strands_error *err)
{
    if (st != STRANDS_OK && first_error.status == STRANDS_OK)
        first_error = *err;
}

static void register_all(void)
{
    strands_error err;
    size_t n;
    const strands_settings_group *const *core = runtime_core_groups(&n);
    for (size_t i = 0; i < n; i++) /* the core rows pass the same checks */
        keep(strands_settings_group_check(core[i], &err), &err);
    registering = 1;
    keep(strands_model_provider_register(&models_bedrock_provider, &err),
         &err);
    keep(strands_model_provider_register(&models_openai_provider, &err), &err);
    keep(strands_model_provider_register(&models_anthropic_provider, &err),
         &err);
    keep(strands_session_store_provider_register(&session_memory_provider,
                                                 &err), &err);
    keep(strands_session_store_provider_register(&session_file_provider,
                                                 &err), &err);
    keep(strands_session_store_provider_register(&session_redis_provider,
                                                 &err), &err);
    keep(strands_session_store_provider_register(&session_rediss_provider,
                                                 &err), &err);
    keep(strands_session_store_provider_register(&session_s3_provider, &err),
         &err);
    keep(strands_session_store_provider_register(
             &session_agentcore_memory_provider, &err), &err);
    keep(strands_tool_source_provider_register(&tools_builtin_source, &err),
         &err);
    keep(strands_tool_source_provider_register(&mcp_tool_source, &err), &err);
    registering = 0;
}

void runtime_builtins_ensure(void)
{
    if (!registering) pthread_once(&once, register_all);
}

strands_status runtime_builtins_status(strands_error *err)
{
    runtime_builtins_ensure();
    if (first_error.status == STRANDS_OK) return STRANDS_OK;
    return strands_error_set(err, first_error.status, NULL,
                             "registering a built-in: %s",
                             first_error.message);
}
