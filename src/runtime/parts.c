/* Assembly of what the runtime serves with: credentials, the model of the
 * MODEL_PROVIDER entry, the tools of every tool source, the store of the
 * SESSION_STORE entry and the agent over them; and their teardown in
 * reverse order (the server, which borrows the agent, is stopped first
 * by the caller).                                                      */
#include <stdlib.h>
#include <string.h>

#include "runtime/internal.h"

/* Creates the model through the MODEL_PROVIDER entry; 0 or exit status. */
static int build_model(runtime_parts *p, strands_error *err)
{
    const strands_runtime_config *cfg = strands_settings_config(p->settings);
    const strands_model_provider *mp =
        strands_model_provider_find(cfg->model_provider);
    if (!mp) { /* checked at load already */
        strands_error_set(err, STRANDS_E_INVALID, NULL,
                          "MODEL_PROVIDER: unknown model provider '%s'",
                          cfg->model_provider);
        return 2;
    }
    strands_model_provider_context ctx = {
        .settings = strands_settings_values(p->settings, mp->settings),
        .config = cfg,
        .region = p->region,
        .credentials = p->credentials,
        .user = mp->user,
    };
    strands_error_clear(err);
    p->model = mp->create(&ctx, err);
    if (!p->model) {
        if (!err->message[0])
            strands_error_set(err, STRANDS_E_INTERNAL, NULL,
                              "model provider '%s' failed", mp->name);
        return err->status == STRANDS_E_INVALID ? 2 : 1; /* bad settings */
    }
    p->uses_credentials = ctx.uses_credentials;
    return 0;
}

/* Adds the tools of every registered source, in registration order. */
static int build_tools(runtime_parts *p, strands_error *err)
{
    const strands_runtime_config *cfg = strands_settings_config(p->settings);
    p->tools = strands_tool_registry_new();
    if (!p->tools) {
        strands_error_set(err, STRANDS_E_NOMEM, NULL, "out of memory");
        return 1;
    }
    runtime_entry sources[STRANDS_REGISTRY_MAX];
    size_t n = runtime_registry_list(STRANDS_REGISTRY_TOOL_SOURCE, sources);
    for (size_t i = 0; i < n; i++) {
        const strands_tool_source_provider *src = sources[i].entry;
        strands_tool_source_context ctx = {
            .settings = strands_settings_values(p->settings, src->settings),
            .config = cfg,
            .user = src->user,
            .region = p->region,
            .credentials = p->credentials,
        };
        strands_error e;
        strands_error_clear(&e);
        strands_status st = src->add_tools(&ctx, p->tools, &e);
        if (st != STRANDS_OK) {
            strands_error_set(err, st, NULL, "tool source '%s': %s",
                              src->name, e.message);
            return 2;
        }
    }
    return 0;
}

/* Creates the store through the SESSION_STORE entry. */
static int build_store(runtime_parts *p, strands_error *err)
{
    const strands_runtime_config *cfg = strands_settings_config(p->settings);
    const char *arg = NULL;
    const strands_session_store_provider *sp =
        runtime_session_store_for(cfg->session_store, &arg);
    if (!sp) { /* checked at load already */
        strands_error_set(err, STRANDS_E_INVALID, NULL,
                          "SESSION_STORE: unknown session store '%s'",
                          cfg->session_store);
        return 2;
    }
    strands_session_store_context ctx = {
        .spec = cfg->session_store,
        .arg = arg,
        .settings = strands_settings_values(p->settings, sp->settings),
        .config = cfg,
        .region = p->region,
        .credentials = p->credentials,
        .user = sp->user,
    };
    strands_error_clear(err);
    p->store = sp->create(&ctx, err);
    if (!p->store) {
        if (!err->message[0])
            strands_error_set(err, STRANDS_E_INTERNAL, NULL,
                              "session store '%s' failed", sp->name);
        return err->status == STRANDS_E_INVALID ? 2 : 1;
    }
    return 0;
}

/* CONVERSATION_MANAGER (already checked against its choices). */
static strands_conversation_manager_kind cm_kind(const char *name)
{
    if (name && !strcmp(name, "summarizing")) return STRANDS_CM_SUMMARIZING;
    if (name && !strcmp(name, "none")) return STRANDS_CM_NONE;
    return STRANDS_CM_SLIDING_WINDOW;
}

int runtime_parts_build(runtime_parts *p, const strands_settings *s,
                        strands_error *err)
{
    memset(p, 0, sizeof *p);
    p->settings = s;
    const strands_runtime_config *cfg = strands_settings_config(s);
    int rc = runtime_credentials_build(p, err);
    if (!rc) rc = build_model(p, err);
    if (!rc) rc = build_store(p, err);
    if (!rc) rc = build_tools(p, err);
    if (rc) return rc;
    strands_agent_config ac = {.model = p->model,
                               .tools = p->tools,
                               .sessions = p->store,
                               .system_prompt = cfg->system_prompt,
                               .max_tokens = cfg->max_tokens,
                               .max_iterations = cfg->max_iterations,
                               .tool_concurrency = cfg->tool_concurrency,
                               .tool_result_max_bytes =
                                   cfg->tool_result_max_bytes,
                               .tool_timeout_ms =
                                   (int64_t)cfg->tool_timeout_seconds * 1000,
                               .conversation_manager = cm_kind(
                                   cfg->conversation_manager),
                               .window_size = cfg->window_size,
                               .summary_ratio =
                                   cfg->summary_ratio
                                       ? strtod(cfg->summary_ratio, NULL)
                                       : 0,
                               .summary_preserve_recent =
                                   cfg->summary_preserve_recent};
    p->agent = strands_agent_new(&ac, err);
    return p->agent ? 0 : 1;
}

void runtime_parts_free(runtime_parts *p)
{
    if (p->checker_started) pthread_join(p->checker, NULL);
    p->checker_started = 0;
    strands_agent_free(p->agent);
    strands_session_store_free(p->store);
    strands_tool_registry_free(p->tools);
    strands_model_free(p->model);
    strands_credentials_provider_free(p->credentials);
    p->agent = NULL;
    p->store = NULL;
    p->tools = NULL;
    p->model = NULL;
    p->credentials = NULL;
}
