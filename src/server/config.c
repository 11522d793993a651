/* Environment configuration: one table of settings drives parsing,
 * validation and the --help text.                                       */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/env.h"
#include "strands/aws.h"
#include "strands/config.h"
#include "strands/log.h"
#include "strands/tool.h"

typedef enum {
    T_INT, T_SIZE, T_SECONDS, T_STR, T_OPT_STR, T_LEVEL, T_URL, T_RETRY
} kind;

typedef struct setting {
    const char *name;
    const char *alt;       /* fallback variable, or NULL */
    kind type;
    const char *def;       /* default as text (NULL: unset) */
    long long min, max;    /* integer range */
    size_t offset;
    const char *help;
} setting;

#define OFF(f) offsetof(strands_runtime_config, f)

static const setting settings[] = {
    {"PORT", NULL, T_INT, "8080", 1, 65535, OFF(port),
     "TCP port of the HTTP server"},
    {"BIND_ADDRESS", NULL, T_STR, "0.0.0.0", 0, 0, OFF(bind_address),
     "IPv4 address to listen on"},
    {"MODEL_ID", NULL, T_STR, "us.anthropic.claude-sonnet-4-20250514-v1:0", 0,
     0, OFF(model_id), "Bedrock model id, inference profile id or ARN"},
    {"AWS_REGION", "AWS_DEFAULT_REGION", T_OPT_STR, NULL, 0, 0, OFF(region),
     "AWS region (then AWS_DEFAULT_REGION, the profile's region, "
     "us-east-1)"},
    {"MAX_TOKENS", NULL, T_INT, "4096", 1, 1000000, OFF(max_tokens),
     "inferenceConfig.maxTokens of each model call"},
    {"MAX_ITERATIONS", NULL, T_INT, "10", 1, 1000, OFF(max_iterations),
     "model calls per invocation before stop_reason MaxIterations"},
    {"SYSTEM_PROMPT", NULL, T_OPT_STR, NULL, 0, 0, OFF(system_prompt),
     "system prompt (none when unset)"},
    {"TOOLS", NULL, T_STR, "calculator,current_time", 0, 0, OFF(tools),
     "comma list of built-in tools; empty = none"},
    {"AWS_ENDPOINT_URL_BEDROCK_RUNTIME", "AWS_ENDPOINT_URL", T_URL, NULL, 0,
     0, OFF(bedrock_endpoint),
     "Bedrock Runtime endpoint override (AWS_ENDPOINT_URL is read when "
     "unset); http only for loopback"},
    {"LOG_LEVEL", NULL, T_LEVEL, "info", 0, 0, OFF(log_level),
     "debug, info, warn or error"},
    {"SHUTDOWN_GRACE_SECONDS", NULL, T_INT, "10", 0, 3600,
     OFF(shutdown_grace_s),
     "on SIGTERM/SIGINT, time in-flight invocations get to finish"},
    {"SSE_KEEPALIVE_SECONDS", NULL, T_INT, "15", 1, 3600,
     OFF(sse_keepalive_s),
     "streaming: send a ': keep-alive' comment after this much silence"},
    {"MAX_BODY_BYTES", NULL, T_SIZE, "104857600", 1, 1LL << 32,
     OFF(max_body_bytes), "largest accepted request body (413 above)"},
    {"MAX_INFLIGHT_BODY_BYTES", NULL, T_SIZE, "268435456", 1, 1LL << 40,
     OFF(max_inflight_body_bytes),
     "request-body bytes held at once over all connections (503 "
     "ServerBusy above)"},
    {"AWS_MAX_ATTEMPTS", NULL, T_INT, "3", 1, 20, OFF(max_attempts),
     "attempts per AWS call, retries with backoff included"},
    {"AWS_RETRY_MODE", NULL, T_RETRY, "standard", 0, 0, OFF(retry_mode),
     "standard (retry quota), legacy (no quota) or adaptive (= standard)"},
    {"BEDROCK_CREDENTIALS_SECRET", NULL, T_OPT_STR, NULL, 0, 0,
     OFF(bedrock_secret),
     "Secrets Manager secret (name or ARN) holding the keys for Bedrock; "
     "read with the credential chain's (bootstrap) credentials"},
    {"BEDROCK_CREDENTIALS_REFRESH_SECONDS", NULL, T_SECONDS, "900", 0, 86400,
     OFF(secret_refresh_s),
     "re-read that secret this often (0 = only when Bedrock rejects the "
     "keys)"},
    {"AWS_ENDPOINT_URL_SECRETS_MANAGER", "AWS_ENDPOINT_URL", T_URL, NULL, 0,
     0, OFF(sm_endpoint), "Secrets Manager endpoint override"},
    {"AWS_ENDPOINT_URL_STS", "AWS_ENDPOINT_URL", T_URL, NULL, 0, 0,
     OFF(sts_endpoint), "STS endpoint override"},
    {"SESSION_MAX_COUNT", NULL, T_SIZE, "1000", 1, 10000000,
     OFF(max_sessions),
     "conversations kept in memory (least recently used evicted)"},
    {"SESSION_IDLE_TTL_SECONDS", NULL, T_SECONDS, "3600", 0, 31536000,
     OFF(session_ttl_s), "drop a conversation unused this long (0 = never)"},
};

#define N_SETTINGS (sizeof settings / sizeof settings[0])

static const char *env_lookup(strands_getenv_fn *fn, void *user,
                              const char *name)
{
    return core_getenv(fn, user, name);
}

static strands_status parse_int(const setting *s, const char *name,
                                const char *v, long long *out,
                                strands_error *err)
{
    errno = 0;
    char *end = NULL;
    long long n = strtoll(v, &end, 10);
    if (!*v || *end || errno || n < s->min || n > s->max)
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "%s: '%s' is not an integer in %lld..%lld",
                                 name, v, s->min, s->max);
    *out = n;
    return STRANDS_OK;
}

static strands_status dup_into(char **dst, const char *v, strands_error *err)
{
    *dst = v ? strdup(v) : NULL;
    if (v && !*dst)
        return strands_error_set(err, STRANDS_E_NOMEM, NULL, "OOM");
    return STRANDS_OK;
}

/* TOOLS must name built-ins only: checked by registering them once. */
static strands_status check_tools(const char *list, strands_error *err)
{
    strands_tool_registry *reg = strands_tool_registry_new();
    if (!reg) return strands_error_set(err, STRANDS_E_NOMEM, NULL, "OOM");
    strands_error e;
    strands_status st = strands_tool_registry_add_builtins(reg, list, &e);
    if (st != STRANDS_OK)
        strands_error_set(err, st, NULL, "TOOLS: %s", e.message);
    strands_tool_registry_free(reg);
    return st;
}

/* Parses value v of setting s, read from variable `name`. */
static strands_status load_one(strands_runtime_config *cfg, const setting *s,
                               const char *name, const char *v,
                               strands_error *err)
{
    char *field = (char *)cfg + s->offset;
    long long n = 0;
    strands_status st = STRANDS_OK;
    switch (s->type) {
    case T_INT:
        if ((st = parse_int(s, name, v, &n, err)) == STRANDS_OK)
            *(int *)field = (int)n;
        break;
    case T_SIZE:
        if ((st = parse_int(s, name, v, &n, err)) == STRANDS_OK)
            *(size_t *)field = (size_t)n;
        break;
    case T_SECONDS:
        if ((st = parse_int(s, name, v, &n, err)) == STRANDS_OK)
            *(int64_t *)field = n;
        break;
    case T_LEVEL:
        n = strands_log_level_parse(v);
        if (n < 0)
            return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                     "%s: '%s' is not one of debug, info, "
                                     "warn, error", name, v);
        *(int *)field = (int)n;
        break;
    case T_URL: {
        strands_error e;
        if (v && strands_endpoint_validate(v, &e) != STRANDS_OK)
            return strands_error_set(err, STRANDS_E_INVALID, NULL, "%s: %s",
                                     name, e.message);
        st = dup_into((char **)field, v, err);
        break;
    }
    case T_STR:
        if (!*v && strcmp(s->name, "TOOLS"))
            return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                     "%s: must not be empty", name);
        st = dup_into((char **)field, v, err);
        break;
    case T_OPT_STR:
        st = dup_into((char **)field, v && *v ? v : NULL, err);
        break;
    case T_RETRY:
        if (strcmp(v, "standard") && strcmp(v, "legacy") &&
            strcmp(v, "adaptive"))
            return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                     "%s: '%s' is not one of standard, "
                                     "legacy, adaptive", name, v);
        st = dup_into((char **)field, v, err);
        break;
    }
    return st;
}

strands_status strands_runtime_config_load(strands_runtime_config *cfg,
                                           strands_getenv_fn *getenv_fn,
                                           void *user, strands_error *err)
{
    memset(cfg, 0, sizeof *cfg);
    for (size_t i = 0; i < N_SETTINGS; i++) {
        const setting *s = &settings[i];
        const char *name = s->name;
        const char *v = env_lookup(getenv_fn, user, name);
        if (!v && s->alt) {
            name = s->alt; /* errors name the variable that held the value */
            v = env_lookup(getenv_fn, user, name);
        }
        if (!v) v = s->def;
        strands_status st = load_one(cfg, s, name, v, err);
        if (st != STRANDS_OK) {
            strands_runtime_config_cleanup(cfg);
            return st;
        }
    }
    strands_status st = check_tools(cfg->tools, err);
    if (st != STRANDS_OK) strands_runtime_config_cleanup(cfg);
    return st;
}

void strands_runtime_config_cleanup(strands_runtime_config *cfg)
{
    free(cfg->bind_address);
    free(cfg->model_id);
    free(cfg->region);
    free(cfg->system_prompt);
    free(cfg->tools);
    free(cfg->bedrock_endpoint);
    free(cfg->retry_mode);
    free(cfg->bedrock_secret);
    free(cfg->sm_endpoint);
    free(cfg->sts_endpoint);
    memset(cfg, 0, sizeof *cfg);
}

void strands_runtime_config_print_help(void *stream)
{
    FILE *f = stream;
    for (size_t i = 0; i < N_SETTINGS; i++) {
        const setting *s = &settings[i];
        fprintf(f, "  %-34s %s\n", s->name, s->help);
        fprintf(f, "  %-34s default: %s\n", "",
                s->def ? (*s->def ? s->def : "(empty)") : "(unset)");
    }
}
