/* The S3 session store as a registered store ("s3", SESSION_STORE=
 * s3://bucket[/prefix]): its settings rows and its factory, which hands
 * it the runtime's region, credential chain and retry settings.        */
#include <stddef.h>

#include "runtime/builtins.h"
#include "strands/session_s3.h"

/* What the rows below fill. */
typedef struct s3_settings {
    char *endpoint;      /* AWS_ENDPOINT_URL_S3 (then AWS_ENDPOINT_URL) */
    int64_t lease_ms;    /* S3_SESSION_LEASE_MS */
} s3_settings;

#define OFF(f) offsetof(s3_settings, f)

static const strands_setting rows[] = {
    {.name = "AWS_ENDPOINT_URL_S3", .alt = "AWS_ENDPOINT_URL",
     .type = STRANDS_SETTING_URL, .offset = OFF(endpoint),
     .help = "s3 store: S3 endpoint override, addressed path-style "
             "(AWS_ENDPOINT_URL is read when unset); http only for "
             "loopback"},
    {.name = "S3_SESSION_LEASE_MS", .type = STRANDS_SETTING_INT64,
     .def = "30000", .min = 1000, .max = 3600000, .offset = OFF(lease_ms),
     .help = "s3 store: lease of a session's claim object, renewed while "
             "the invocation runs (instances' clocks must agree well "
             "within it)"},
};

static const strands_settings_group group = {
    .version = STRANDS_SETTINGS_GROUP_VERSION,
    .title = "S3 sessions",
    .rows = rows,
    .n_rows = sizeof rows / sizeof rows[0],
    .struct_size = sizeof(s3_settings),
};

static strands_session_store *create(const strands_session_store_context *ctx,
                                     strands_error *err)
{
    const s3_settings *ss = ctx->settings;
    const strands_runtime_config *cfg = ctx->config;
    char bucket[64], prefix[1025];
    if (strands_s3_store_parse_url(ctx->arg, bucket, sizeof bucket, prefix,
                                   sizeof prefix, err) != STRANDS_OK)
        return NULL;
    strands_s3_store_config sc = {
        .bucket = bucket,
        .prefix = prefix,
        .region = ctx->region,
        .endpoint = ss->endpoint,
        .credentials = ctx->credentials,
        .max_history_bytes = cfg->max_history_bytes,
        .lease_ms = ss->lease_ms,
        .max_attempts = cfg->max_attempts,
        .retry_mode = cfg->retry_mode,
    };
    return strands_s3_store_new(&sc, err);
}

const strands_session_store_provider session_s3_provider = {
    .version = STRANDS_SESSION_STORE_PROVIDER_VERSION,
    .name = "s3",
    .description = "sessions in S3 (s3://bucket[/prefix]) in Strands' "
                   "S3SessionManager layout; conditional writes, lease "
                   "claims",
    .settings = &group,
    .create = create,
};
