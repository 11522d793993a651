/* Bedrock Converse as a registered model provider ("bedrock", the default
 * MODEL_PROVIDER): its settings rows and the factory that turns them, the
 * model id and the runtime's credentials into strands_bedrock_model_new. */
#include <stddef.h>
#include <string.h>

#include "runtime/builtins.h"

/* What the rows below fill. */
typedef struct bedrock_settings {
    char *endpoint;      /* AWS_ENDPOINT_URL_BEDROCK_RUNTIME */
    char *bearer_token;  /* AWS_BEARER_TOKEN_BEDROCK */
    char *prompt_cache;  /* PROMPT_CACHE: off or auto */
    char *guardrail_id;  /* GUARDRAIL_ID, NULL when unset */
    char *guardrail_version;     /* GUARDRAIL_VERSION */
    char *guardrail_trace;       /* GUARDRAIL_TRACE */
    char *guardrail_stream_mode; /* GUARDRAIL_STREAM_MODE */
    char *guardrail_redact;      /* GUARDRAIL_REDACT_INPUT: true/false */
    char *guardrail_redact_msg;  /* GUARDRAIL_REDACT_INPUT_MESSAGE */
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
    {.name = "PROMPT_CACHE", .type = STRANDS_SETTING_CHOICE, .def = "off",
     .choices = "off,auto", .offset = OFF(prompt_cache),
     .help = "prompt caching: auto puts cachePoint blocks after the system "
             "prompt, the tool list and the last user message (cache "
             "tokens are reported in usage)"},
    {.name = "GUARDRAIL_ID", .type = STRANDS_SETTING_OPTIONAL,
     .offset = OFF(guardrail_id),
     .help = "Bedrock guardrail identifier or ARN applied to every model "
             "call"},
    {.name = "GUARDRAIL_VERSION", .type = STRANDS_SETTING_OPTIONAL,
     .offset = OFF(guardrail_version),
     .help = "the guardrail's version (a number or DRAFT); required with "
             "GUARDRAIL_ID"},
    {.name = "GUARDRAIL_TRACE", .type = STRANDS_SETTING_CHOICE,
     .def = "enabled", .choices = "enabled,disabled,enabled_full",
     .offset = OFF(guardrail_trace), .help = "the guardrail's trace"},
    {.name = "GUARDRAIL_STREAM_MODE", .type = STRANDS_SETTING_CHOICE,
     .def = "sync", .choices = "sync,async",
     .offset = OFF(guardrail_stream_mode),
     .help = "streaming: the guardrail checks output before (sync) or "
             "while (async) it is sent"},
    {.name = "GUARDRAIL_REDACT_INPUT", .type = STRANDS_SETTING_CHOICE,
     .def = "true", .choices = "true,false", .offset = OFF(guardrail_redact),
     .help = "when the guardrail intervenes, store "
             "GUARDRAIL_REDACT_INPUT_MESSAGE in the session instead of the "
             "user's input"},
    {.name = "GUARDRAIL_REDACT_INPUT_MESSAGE", .type = STRANDS_SETTING_STRING,
     .def = "[User input redacted.]", .offset = OFF(guardrail_redact_msg),
     .help = "what replaces a blocked user input in the session"},
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
                                     cfg->model_read_timeout_s * 1000L,
                                 .params_json = cfg->model_params,
                                 .prompt_cache =
                                     !strcmp(bs->prompt_cache, "auto"),
                                 .guardrail_id = bs->guardrail_id,
                                 .guardrail_version = bs->guardrail_version,
                                 .guardrail_trace = bs->guardrail_trace,
                                 .guardrail_stream_mode =
                                     bs->guardrail_stream_mode,
                                 .guardrail_redact_input =
                                     !strcmp(bs->guardrail_redact, "true")
                                         ? bs->guardrail_redact_msg
                                         : NULL};
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
