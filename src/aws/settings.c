/* The AWS settings rows: region, retries, and where the credentials that
 * sign model calls come from (read by the runtime into
 * strands_runtime_config and passed on in strands_aws_options).        */
#include <stddef.h>

#include "runtime/builtins.h"

#define OFF(f) offsetof(strands_runtime_config, f)

static const strands_setting rows[] = {
    {.name = "AWS_REGION", .alt = "AWS_DEFAULT_REGION",
     .type = STRANDS_SETTING_OPTIONAL, .offset = OFF(region),
     .help = "AWS region (then AWS_DEFAULT_REGION, the profile's region, "
             "us-east-1)"},
    {.name = "AWS_MAX_ATTEMPTS", .type = STRANDS_SETTING_INT, .def = "3",
     .min = 1, .max = 20, .offset = OFF(max_attempts),
     .help = "attempts per AWS call, retries with backoff included"},
    {.name = "AWS_RETRY_MODE", .type = STRANDS_SETTING_CHOICE,
     .def = "standard", .choices = "standard,legacy,adaptive",
     .offset = OFF(retry_mode),
     .help = "standard (retry quota), legacy (no quota) or adaptive "
             "(= standard)"},
    {.name = "BEDROCK_CREDENTIALS_SECRET", .type = STRANDS_SETTING_OPTIONAL,
     .offset = OFF(bedrock_secret),
     .help = "Secrets Manager secret (name or ARN) holding the keys for "
             "Bedrock; read with the credential chain's (bootstrap) "
             "credentials"},
    {.name = "BEDROCK_CREDENTIALS_REFRESH_SECONDS",
     .type = STRANDS_SETTING_INT64, .def = "900", .min = 0, .max = 86400,
     .offset = OFF(secret_refresh_s),
     .help = "re-read that secret this often (0 = only when Bedrock "
             "rejects the keys)"},
    {.name = "AWS_ENDPOINT_URL_SECRETS_MANAGER", .alt = "AWS_ENDPOINT_URL",
     .type = STRANDS_SETTING_URL, .offset = OFF(sm_endpoint),
     .help = "Secrets Manager endpoint override"},
    {.name = "AWS_ENDPOINT_URL_STS", .alt = "AWS_ENDPOINT_URL",
     .type = STRANDS_SETTING_URL, .offset = OFF(sts_endpoint),
     .help = "STS endpoint override"},
};

const strands_settings_group aws_settings = {
    .version = STRANDS_SETTINGS_GROUP_VERSION,
    .title = "AWS",
    .rows = rows,
    .n_rows = sizeof rows / sizeof rows[0],
    .struct_size = sizeof(strands_runtime_config),
};
