/* Runtime configuration from environment variables, validated once at
 * startup. Every setting is listed in one table that also produces the
 * --help text, so help and behaviour cannot drift apart.                 */
#ifndef STRANDS_CONFIG_H
#define STRANDS_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "strands/status.h"

typedef struct strands_runtime_config {
    char *bind_address;      /* BIND_ADDRESS */
    int port;                /* PORT */
    char *model_id;          /* MODEL_ID */
    char *region;            /* AWS_REGION, then AWS_DEFAULT_REGION; NULL:
                                the caller resolves it (profile region,
                                then us-east-1: strands_aws_region) */
    int max_tokens;          /* MAX_TOKENS */
    int max_iterations;      /* MAX_ITERATIONS */
    char *system_prompt;     /* SYSTEM_PROMPT, NULL when unset */
    char *tools;             /* TOOLS: comma list of built-ins ("" = none) */
    char *bedrock_endpoint;  /* AWS_ENDPOINT_URL_BEDROCK_RUNTIME, then
                                AWS_ENDPOINT_URL; NULL = AWS default */
    int log_level;           /* LOG_LEVEL as strands_log_level */
    int shutdown_grace_s;    /* SHUTDOWN_GRACE_SECONDS */
    size_t max_body_bytes;   /* MAX_BODY_BYTES */
    size_t max_inflight_body_bytes; /* MAX_INFLIGHT_BODY_BYTES */
    int max_attempts;        /* AWS_MAX_ATTEMPTS */
    char *retry_mode;        /* AWS_RETRY_MODE */
    char *bedrock_secret;    /* BEDROCK_CREDENTIALS_SECRET, NULL = unset */
    int64_t secret_refresh_s; /* BEDROCK_CREDENTIALS_REFRESH_SECONDS */
    char *sm_endpoint;       /* AWS_ENDPOINT_URL_SECRETS_MANAGER */
    char *sts_endpoint;      /* AWS_ENDPOINT_URL_STS */
    int sse_keepalive_s;     /* SSE_KEEPALIVE_SECONDS */
    size_t max_sessions;     /* SESSION_MAX_COUNT */
    int64_t session_ttl_s;   /* SESSION_IDLE_TTL_SECONDS */
} strands_runtime_config;

/* Looks a variable up; NULL when unset. */
typedef const char *strands_getenv_fn(void *user, const char *name);

/** Fills cfg from the environment (getenv_fn NULL: the process
 * environment). On a bad value returns E_INVALID with a message that
 * starts with the variable's name, e.g. "PORT: 'abc' is not an integer
 * in 1..65535". Free with strands_runtime_config_cleanup.                */
STRANDS_EXTERN strands_status strands_runtime_config_load(
    strands_runtime_config *cfg, strands_getenv_fn *getenv_fn, void *user,
    strands_error *err);
/** Frees the strings of cfg. */
STRANDS_EXTERN void strands_runtime_config_cleanup(strands_runtime_config *cfg);
/** Writes the settings table (name, default, meaning) for --help. */
STRANDS_EXTERN void strands_runtime_config_print_help(void *stream);

#endif
