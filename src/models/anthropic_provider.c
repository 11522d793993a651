/* The Anthropic Messages API as a registered model provider
 * (MODEL_PROVIDER=anthropic): its settings rows and the factory that turns
 * them, MODEL_ID, MODEL_PARAMS, MAX_TOKENS and the model timeouts into
 * strands_anthropic_model_new.                                          */
#include <stddef.h>
#include <string.h>

#include "runtime/builtins.h"
#include "strands/anthropic.h"

#define DEFAULT_BASE_URL "https://api.anthropic.com"

/* What the rows below fill. */
typedef struct anthropic_settings {
    char *base_url;  /* ANTHROPIC_BASE_URL */
    char *api_key;   /* ANTHROPIC_API_KEY */
} anthropic_settings;

#define OFF(f) offsetof(anthropic_settings, f)

static const strands_setting rows[] = {
    {.name = "ANTHROPIC_BASE_URL", .type = STRANDS_SETTING_URL,
     .def = DEFAULT_BASE_URL, .offset = OFF(base_url),
     .help = "Anthropic API base URL (requests go to {base}/v1/messages); "
             "http only for loopback"},
    {.name = "ANTHROPIC_API_KEY", .type = STRANDS_SETTING_OPTIONAL,
     .flags = STRANDS_SETTING_SECRET, .offset = OFF(api_key),
     .help = "Anthropic API key, sent as x-api-key (never logged); "
             "required with the default ANTHROPIC_BASE_URL"},
};

static const strands_settings_group group = {
    .version = STRANDS_SETTINGS_GROUP_VERSION,
    .title = "Anthropic",
    .rows = rows,
    .n_rows = sizeof rows / sizeof rows[0],
    .struct_size = sizeof(anthropic_settings),
};

static strands_model *create(strands_model_provider_context *ctx,
                             strands_error *err)
{
    const anthropic_settings *as = ctx->settings;
    const strands_runtime_config *cfg = ctx->config;
    if (!as->api_key && !strcmp(as->base_url, DEFAULT_BASE_URL)) {
        strands_error_set(err, STRANDS_E_INVALID, NULL,
                          "ANTHROPIC_API_KEY: required for %s (set it, or "
                          "point ANTHROPIC_BASE_URL at a server that needs "
                          "none)", DEFAULT_BASE_URL);
        return NULL;
    }
    strands_anthropic_config ac = {
        .model_id = cfg->model_id,
        .base_url = as->base_url,
        .api_key = as->api_key,
        .params = cfg->model_params,
        .max_tokens_hint = cfg->max_tokens,
        .max_attempts = cfg->max_attempts,
        .connect_timeout_ms = cfg->model_connect_timeout_s * 1000L,
        .read_timeout_ms = cfg->model_read_timeout_s * 1000L,
    };
    ctx->uses_credentials = 0;
    return strands_anthropic_model_new(&ac, err);
}

const strands_model_provider models_anthropic_provider = {
    .version = STRANDS_MODEL_PROVIDER_VERSION,
    .name = "anthropic",
    .description = "Anthropic Messages API (api.anthropic.com or a "
                   "compatible server), streamed, with an API key",
    .settings = &group,
    .create = create,
};
