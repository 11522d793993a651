/* The AgentCore Memory session store as a registered store
 * ("agentcore-memory://<memoryId>"): its settings rows and its factory.  */
#include <stddef.h>
#include <string.h>

#include "runtime/builtins.h"
#include "session/agentcore_memory.h"

/* What the rows below fill. */
typedef struct acm_settings {
    char *actor_id;   /* MEMORY_ACTOR_ID */
    char *endpoint;   /* AWS_ENDPOINT_URL_BEDROCK_AGENTCORE */
} acm_settings;

#define OFF(f) offsetof(acm_settings, f)

static const strands_setting rows[] = {
    {.name = "MEMORY_ACTOR_ID", .type = STRANDS_SETTING_STRING,
     .def = "default", .offset = OFF(actor_id),
     .help = "AgentCore Memory actor id when a request carries no "
             "X-Amzn-Bedrock-AgentCore-Runtime-User-Id"},
    {.name = "AWS_ENDPOINT_URL_BEDROCK_AGENTCORE", .alt = "AWS_ENDPOINT_URL",
     .type = STRANDS_SETTING_URL, .offset = OFF(endpoint),
     .help = "AgentCore data-plane endpoint override (AWS_ENDPOINT_URL is "
             "read when unset); http only for loopback"},
};

static const strands_settings_group group = {
    .version = STRANDS_SETTINGS_GROUP_VERSION,
    .title = "AgentCore Memory sessions",
    .rows = rows,
    .n_rows = sizeof rows / sizeof rows[0],
    .struct_size = sizeof(acm_settings),
};

static strands_session_store *create(const strands_session_store_context *ctx,
                                     strands_error *err)
{
    const acm_settings *as = ctx->settings;
    const char *id = ctx->arg ? ctx->arg : "";
    if (strncmp(id, "//", 2) != 0) {
        strands_error_set(err, STRANDS_E_INVALID, NULL,
                          "SESSION_STORE: use agentcore-memory://<memoryId> "
                          "(got '%.120s')", ctx->spec);
        return NULL;
    }
    id += 2;
    if (!ctx->credentials) {
        strands_error_set(err, STRANDS_E_INVALID, NULL,
                          "SESSION_STORE agentcore-memory needs AWS "
                          "credentials");
        return NULL;
    }
    /* With BEDROCK_CREDENTIALS_SECRET the runtime's provider holds the
     * keys for Bedrock only; AgentCore Memory is called with the default
     * chain (the execution role on AgentCore).                          */
    strands_credentials_provider *own = NULL;
    if (ctx->config->bedrock_secret) {
        strands_aws_options ao = {.region = ctx->region,
                                  .retry_mode = ctx->config->retry_mode,
                                  .max_attempts = ctx->config->max_attempts};
        own = strands_credentials_default_chain_new(&ao, err);
        if (!own) return NULL;
    }
    session_acm_config cfg = {
        .memory_id = id,
        .region = ctx->region,
        .endpoint = as->endpoint,
        .credentials = own ? own : ctx->credentials,
        .own_credentials = own != NULL,
        .default_actor_id = as->actor_id,
        .max_attempts = ctx->config->max_attempts,
        .retry_mode = ctx->config->retry_mode,
        .max_history_bytes = ctx->config->max_history_bytes,
    };
    return session_acm_store_new(&cfg, err);
}

const strands_session_store_provider session_agentcore_memory_provider = {
    .version = STRANDS_SESSION_STORE_PROVIDER_VERSION,
    .name = "agentcore-memory",
    .description = "AgentCore Memory short-term memory: one CreateEvent per "
                   "message, restored with ListEvents (as Strands' "
                   "AgentCoreMemorySessionManager)",
    .settings = &group,
    .create = create,
};
