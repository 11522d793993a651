/* The Anthropic Messages API model provider (POST {base}/v1/messages,
 * streamed as Server-Sent Events), for use without the runtime's registry
 * (MODEL_PROVIDER=anthropic builds one from the environment).            */
#ifndef STRANDS_ANTHROPIC_H
#define STRANDS_ANTHROPIC_H

#include "strands/model.h"
#include "strands/status.h"

/* Settings of the provider. Strings are copied; nothing is borrowed past
 * strands_anthropic_model_new.                                          */
typedef struct strands_anthropic_config {
    const char *model_id;     /* required, e.g. "claude-sonnet-4-20250514" */
    const char *base_url;     /* NULL: https://api.anthropic.com; http:// only
                                 to a loopback host; a path prefix is kept
                                 ({base}/v1/messages) */
    const char *api_key;      /* sent as x-api-key (never logged); NULL: no
                                 key (only for proxies that need none) */
    const char *params;       /* MODEL_PARAMS: a JSON object whose members
                                 go into every request body (temperature,
                                 top_p, top_k, stop_sequences, thinking,
                                 metadata, ...), or NULL */
    int max_tokens_hint;      /* when > 0, a thinking.budget_tokens not
                                 below it is refused (the agent's
                                 MAX_TOKENS); 0: not checked          */
    int max_attempts;         /* total attempts incl. the first; 0: 3 */
    long connect_timeout_ms;  /* 0: 10 s */
    long read_timeout_ms;     /* longest silence between received bytes;
                                 0: 120 s. When hit on the last attempt:
                                 E_TIMEOUT, code "ModelTimeout"        */
    long retry_base_delay_ms; /* first backoff (full jitter); 0: 1 s   */
} strands_anthropic_config;

/** Creates the provider. E_INVALID with a message naming the setting for a
 * bad config (model id, base URL, MODEL_PARAMS that is not an object or
 * sets a member the provider owns: model, messages, system, tools,
 * tool_choice, stream, max_tokens). Free with strands_model_free.       */
STRANDS_EXTERN strands_model *strands_anthropic_model_new(
    const strands_anthropic_config *cfg, strands_error *err);

#endif
