/* Bedrock Converse as a registered model provider ("bedrock", the default
 * MODEL_PROVIDER): its settings rows and the factory that turns them, the
 * model id and the runtime's credentials into strands_bedrock_model_new. */
#include <stddef.h>

#include "runtime/builtins.h"

/* What the rows below fill. */
typedef struct bedrock_settings {
    char *endpoint;      /* AWS_ENDPOINT_URL_BEDROCK_RUNTIME */
    char *bearer_token;  /* AWS_BEARER_TOKEN_BEDROCK */
} bedrock_settings;

#define OFF(f) offsetof(bedrock_settings, f)

static const strands_setting rows[] = {
    {.name = "AWS_ENDPOINT_URL_BEDROCK_RUNTIME", .alt = "AWS_ENDPOINT_URL",
     .type = STRANDS_SETTING_URL, .offset = OFF(endpoint),
     .help = "Bedrock Runtime endpoint override (AWS_ENDPOINT_URL is read "
             "when unset); http only for loopback"},
    {.name = "AWS_BEARER_TOKEN_BEDROCK", .type = STRANDS_SETTING_OPTIONAL,
     .flags = STRANDS_SETTING_SECRET, .offset = OFF(bearer_token),
     .help = "Bedrock API key: sent as 'Authorization: Bearer' instead of "
             "SigV4 (never logged)"},
};

static const strands_settings_group group = {
    .version = STRANDS_SETTINGS_GROUP_VERSION,
    .title = "Bedrock",
    .rows = rows,
    .n_rows = sizeof rows / sizeof rows[0],
    .struct_size = sizeof(bedrock_settings),
};

static strands_model *create(strands_model_provider_context *ctx,
                             strands_error *err)
{
    const bedrock_settings *bs = ctx->settings;
    const strands_runtime_config *cfg = ctx->config;
    strands_bedrock_config bc = {.model_id = cfg->model_id,
                                 .region = ctx->region,
                                 .endpoint = bs->endpoint,
                                 .credentials = ctx->credentials,
                                 .bearer_token = bs->bearer_token,
                                 .max_attempts = cfg->max_attempts,
                                 .retry_mode = cfg->retry_mode,
                                 .connect_timeout_ms =
                                     cfg->model_connect_timeout_s * 1000L,
                                 .read_timeout_ms =
                                     cfg->model_read_timeout_s * 1000L};
    ctx->uses_credentials = bs->bearer_token == NULL;
    return strands_bedrock_model_new(&bc, err);
}

const strands_model_provider models_bedrock_provider = {
    .version = STRANDS_MODEL_PROVIDER_VERSION,
    .name = "bedrock",
    .description = "Amazon Bedrock Converse / ConverseStream, signed with "
                   "SigV4 (or an API key)",
    .settings = &group,
    .create = create,
};
