/* OpenAI-compatible Chat Completions as a registered model provider
 * ("openai"): its settings rows and the factory that turns them, MODEL_ID,
 * MODEL_PARAMS and the model timeouts into openai_model_new.
 *
 * OPENAI_BASE_URL may be plain http to ANY host (Ollama, vLLM or a
 * llama.cpp server on the LAN are common), but an API key is never sent
 * that way: a key with http to a non-loopback host stops start-up.     */
#include <stddef.h>
#include <string.h>

#include "models/openai.h"
#include "runtime/builtins.h"

typedef struct openai_settings {
    char *base_url;      /* OPENAI_BASE_URL */
    char *api_key;       /* OPENAI_API_KEY */
    char *stream;        /* OPENAI_STREAM: "true" or "false" */
    int max_attempts;    /* OPENAI_MAX_ATTEMPTS */
} openai_settings;

#define OFF(f) offsetof(openai_settings, f)

static const strands_setting rows[] = {
    {.name = "OPENAI_BASE_URL", .type = STRANDS_SETTING_STRING,
     .def = "https://api.openai.com/v1", .offset = OFF(base_url),
     .check = openai_base_url_check,
     .help = "OpenAI-compatible server; POST {base}/chat/completions. "
             "http is allowed to any host, but never with OPENAI_API_KEY "
             "to a non-loopback host"},
    {.name = "OPENAI_API_KEY", .type = STRANDS_SETTING_OPTIONAL,
     .flags = STRANDS_SETTING_SECRET, .offset = OFF(api_key),
     .help = "sent as 'Authorization: Bearer' (never logged); optional "
             "for local servers"},
    {.name = "OPENAI_STREAM", .type = STRANDS_SETTING_CHOICE, .def = "true",
     .choices = "true,false", .offset = OFF(stream),
     .help = "true: every call streams (stream_options.include_usage); "
             "false for servers that cannot stream"},
    {.name = "OPENAI_MAX_ATTEMPTS", .type = STRANDS_SETTING_INT, .def = "3",
     .min = 1, .max = 10, .offset = OFF(max_attempts),
     .help = "attempts per model call; 429, 5xx and connection errors are "
             "retried (retry-after-ms / retry-after honoured, capped at 30 s)"},
};

static const strands_settings_group group = {
    .version = STRANDS_SETTINGS_GROUP_VERSION,
    .title = "OpenAI-compatible",
    .rows = rows,
    .n_rows = sizeof rows / sizeof rows[0],
    .struct_size = sizeof(openai_settings),
};

static strands_model *create(strands_model_provider_context *ctx,
                             strands_error *err)
{
    const openai_settings *os = ctx->settings;
    const strands_runtime_config *cfg = ctx->config;
    openai_config oc = {
        .model_id = cfg->model_id,
        .base_url = os->base_url,
        .api_key = os->api_key,
        .stream = os->stream && !strcmp(os->stream, "true"),
        .params_json = cfg->model_params,
        .max_attempts = os->max_attempts,
        .connect_timeout_ms = cfg->model_connect_timeout_s * 1000L,
        .read_timeout_ms = cfg->model_read_timeout_s * 1000L,
    };
    ctx->uses_credentials = 0;
    return openai_model_new(&oc, err);
}

const strands_model_provider models_openai_provider = {
    .version = STRANDS_MODEL_PROVIDER_VERSION,
    .name = "openai",
    .description = "OpenAI-compatible Chat Completions (OpenAI, Ollama, vLLM, "
                   "llama.cpp, LM Studio, LiteLLM)",
    .settings = &group,
    .create = create,
};
