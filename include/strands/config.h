/* Runtime configuration from environment variables, validated once at
 * start-up. The one settings table is made of groups of rows
 * (strands/settings.h): those of the built-in modules, which fill
 * strands_runtime_config, and those of every registered model provider,
 * session store and tool source (strands/registry.h), which fill their own
 * structs. The same table produces the --help text, so help and behaviour
 * cannot drift apart.                                                    */
#ifndef STRANDS_CONFIG_H
#define STRANDS_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "strands/settings.h"
#include "strands/status.h"

/* The settings of the built-in modules (server, agent, AWS, runtime).
 * Settings of a provider, store or tool source are in its own struct.   */
typedef struct strands_runtime_config {
    /* runtime (src/runtime/settings.c) */
    char *model_provider;    /* MODEL_PROVIDER: a registered model provider */
    char *model_id;          /* MODEL_ID: the provider's model id */
    char *model_params;      /* MODEL_PARAMS: a JSON object of inference
                                parameters (checked at start), or NULL */
    char *session_store;     /* SESSION_STORE: a registered store's name,
                                optionally followed by ":<argument>" */
    int log_level;           /* LOG_LEVEL as strands_log_level */
    int shutdown_grace_s;    /* SHUTDOWN_GRACE_SECONDS */
    /* HTTP server (src/server/settings.c) */
    char *server_protocol;   /* SERVER_PROTOCOL: HTTP, MCP, A2A or AGUI */
    int port;                /* PORT; 0: the protocol's own port
                                (strands_server_protocol_port) */
    char *bind_address;      /* BIND_ADDRESS */
    size_t max_body_bytes;   /* MAX_BODY_BYTES */
    size_t max_inflight_body_bytes; /* MAX_INFLIGHT_BODY_BYTES */
    int sse_keepalive_s;     /* SSE_KEEPALIVE_SECONDS */
    size_t ws_max_message_bytes; /* WS_MAX_MESSAGE_BYTES */
    char *mcp_serve_tools;   /* MCP_SERVE_TOOLS: "true" or "false" */
    char *agent_name;        /* AGENT_NAME */
    char *agent_description; /* AGENT_DESCRIPTION */
    char *runtime_url;       /* AGENTCORE_RUNTIME_URL, NULL when unset */
    int a2a_max_tasks;       /* A2A_MAX_TASKS */
    int a2a_task_ttl_s;      /* A2A_TASK_TTL_SECONDS */
    int async_max_s;         /* ASYNC_MAX_SECONDS */
    int async_result_ttl_s;  /* ASYNC_RESULT_TTL_SECONDS */
    int async_max;           /* ASYNC_MAX_INVOCATIONS */
    /* agent (src/agent/settings.c) */
    int max_tokens;          /* MAX_TOKENS */
    int max_iterations;      /* MAX_ITERATIONS */
    char *system_prompt;     /* SYSTEM_PROMPT, NULL when unset */
    /* AWS (src/aws/settings.c) */
    char *region;            /* AWS_REGION, then AWS_DEFAULT_REGION; NULL:
                                the caller resolves it (profile region,
                                then us-east-1: strands_aws_region) */
    int max_attempts;        /* AWS_MAX_ATTEMPTS */
    char *retry_mode;        /* AWS_RETRY_MODE */
    int model_connect_timeout_s; /* MODEL_CONNECT_TIMEOUT_SECONDS */
    int model_read_timeout_s;    /* MODEL_READ_TIMEOUT_SECONDS */
    char *bedrock_secret;    /* BEDROCK_CREDENTIALS_SECRET, NULL = unset */
    int64_t secret_refresh_s; /* BEDROCK_CREDENTIALS_REFRESH_SECONDS */
    char *sm_endpoint;       /* AWS_ENDPOINT_URL_SECRETS_MANAGER */
    char *sts_endpoint;      /* AWS_ENDPOINT_URL_STS */
    size_t max_history_bytes; /* SESSION_MAX_HISTORY_BYTES */
    int tool_concurrency;    /* TOOL_CONCURRENCY */
    size_t tool_result_max_bytes; /* TOOL_RESULT_MAX_BYTES */
    int tool_timeout_seconds; /* TOOL_TIMEOUT_SECONDS */
    char *conversation_manager; /* CONVERSATION_MANAGER: sliding_window,
                                   summarizing or none */
    int window_size;          /* WINDOW_SIZE */
    char *summary_ratio;      /* SUMMARY_RATIO, a decimal number (text) */
    int summary_preserve_recent; /* SUMMARY_PRESERVE_RECENT */
} strands_runtime_config;

/* The loaded table: strands_runtime_config plus one struct per group of
 * each registered provider, store and tool source. Immutable once
 * loaded, so any thread may read it.                                     */
typedef struct strands_settings strands_settings;

/** Loads and validates the whole table: the built-in modules' groups,
 * then the group of every registered model provider, session store and
 * tool source (each loaded and checked whether selected or not), and
 * checks MODEL_PROVIDER and SESSION_STORE against the registries.
 * getenv_fn NULL reads the process environment. On a bad value returns
 * NULL with E_INVALID and a message that starts with the variable's name,
 * e.g. "PORT: 'abc' is not an integer in 1..65535"; E_NOMEM on OOM.
 * Free with strands_settings_free.                                       */
STRANDS_EXTERN strands_settings *strands_settings_load(
    strands_getenv_fn *getenv_fn, void *user, strands_error *err);
/** Frees the table and every string in it (NULL is a no-op). */
STRANDS_EXTERN void strands_settings_free(strands_settings *s);
/** The built-in modules' settings (borrowed; valid until freed). */
STRANDS_EXTERN const strands_runtime_config *strands_settings_config(
    const strands_settings *s);
/** The struct that group g filled (g->struct_size bytes, borrowed; valid
 * until freed), or NULL when g is not part of the table.                */
STRANDS_EXTERN const void *strands_settings_values(const strands_settings *s,
                                                   const strands_settings_group *g);
/** Writes the loaded value of the variable `name` as text into out
 * (numbers in decimal, LOG_LEVEL by name). Returns 1 when it has a value,
 * 0 when it is unset (out gets ""), -1 when no row reads `name`.         */
STRANDS_EXTERN int strands_settings_text(const strands_settings *s,
                                         const char *name, char *out,
                                         size_t outsz);
/** Writes every row of the table for --help to stream (a FILE *), one
 * section per group (built-in modules first, then each registered model
 * provider, session store and tool source, with its name).             */
STRANDS_EXTERN void strands_settings_print_help(void *stream);

#endif
