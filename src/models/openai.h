/* The OpenAI-compatible Chat Completions model (MODEL_PROVIDER=openai):
 * POST {base}/chat/completions, streamed (SSE) or not, with retries of
 * 429/5xx and transport errors honouring retry-after-ms / retry-after.
 * Internal: the provider entry (openai_provider.c) creates it from its
 * settings; other code reaches it through the strands_model vtable.    */
#ifndef STRANDS_MODELS_OPENAI_H
#define STRANDS_MODELS_OPENAI_H

#include "strands/model.h"

/* Everything borrowed for the call of openai_model_new (copied). */
typedef struct openai_config {
    const char *model_id;     /* required: the server's model name */
    const char *base_url;     /* required, e.g. https://api.openai.com/v1 */
    const char *api_key;      /* "Authorization: Bearer"; NULL/"": none */
    int stream;               /* 1: stream every call (SSE) */
    const char *params_json;  /* MODEL_PARAMS text (a JSON object), or
                                 NULL (see openai_params_check) */
    int max_attempts;         /* >= 1, the first attempt included */
    long connect_timeout_ms;  /* 0: 10 s */
    long read_timeout_ms;     /* longest silence between bytes; 0: 120 s */
    long max_retry_after_ms;  /* cap on a server's retry-after; 0: 30 s */
    long base_delay_ms;       /* backoff before the first retry; 0: 1 s */
} openai_config;

/** Creates the model. E_INVALID (message naming the setting) for an
 * empty model id, a bad base URL (https, or http to any host; no query,
 * no user info), an API key with plain http to a non-loopback host (it
 * would travel in clear text), bad MODEL_PARAMS; E_NOMEM. Free with
 * strands_model_free.                                                  */
strands_model *openai_model_new(const openai_config *cfg, strands_error *err);

/** Checks an OPENAI_BASE_URL value (the rules above, without the key
 * rule). OK or E_INVALID with a message not naming the variable.      */
strands_status openai_base_url_check(const char *url, strands_error *err);

#endif
