/* AWS pieces users configure: credentials providers and the Bedrock
 * Converse model provider. Secret values are never logged or copied into
 * error messages by anything in this library.                            */
#ifndef STRANDS_AWS_H
#define STRANDS_AWS_H

#include <stdint.h>

#include "strands/model.h"
#include "strands/status.h"

/* One set of AWS credentials. Caller storage; wipe with
 * strands_credentials_wipe when done.                                   */
typedef struct strands_credentials {
    char access_key_id[129];
    char secret_access_key[129];
    char session_token[4097];  /* "" when none */
    int64_t expiration;        /* Unix seconds; 0 = never expires */
    char source[32];           /* provider that produced them, e.g.
                                  "environment", "web_identity", "imds" */
} strands_credentials;

#define STRANDS_CREDENTIALS_VTAB_VERSION 1

typedef struct strands_credentials_provider strands_credentials_provider;

typedef struct strands_credentials_provider_vtab {
    int version;        /* STRANDS_CREDENTIALS_VTAB_VERSION */
    const char *name;   /* "environment", "static", ... */
    /* Fills *out. E_NO_CREDENTIALS (with a message saying how to provide
     * them) when this provider has none. Thread-safe.                    */
    strands_status (*resolve)(strands_credentials_provider *self,
                              strands_credentials *out, strands_error *err);
    void (*destroy)(strands_credentials_provider *self);
    /* Optional (may be NULL): forget cached credentials, so the next
     * resolve fetches fresh ones (used when AWS rejects them).          */
    void (*invalidate)(strands_credentials_provider *self);
} strands_credentials_provider_vtab;

/* Implementations embed this as their first member. */
struct strands_credentials_provider {
    const strands_credentials_provider_vtab *vtab;
};

/** Provider reading AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and
 * AWS_SESSION_TOKEN once, at creation. NULL on OOM.                      */
STRANDS_EXTERN strands_credentials_provider *strands_credentials_env_new(void);
/** Provider returning fixed keys (token may be NULL). E_INVALID for empty
 * or over-long values. NULL on failure.                                  */
STRANDS_EXTERN strands_credentials_provider *strands_credentials_static_new(
    const char *access_key_id, const char *secret_access_key,
    const char *session_token, strands_error *err);
/** Resolves credentials through any provider. */
STRANDS_EXTERN strands_status strands_credentials_resolve(
    strands_credentials_provider *p, strands_credentials *out,
    strands_error *err);
/** Asks a provider to drop cached credentials (no-op when it has no
 * invalidate method).                                                   */
STRANDS_EXTERN void strands_credentials_invalidate(
    strands_credentials_provider *p);
/** Frees any provider (NULL is a no-op). */
STRANDS_EXTERN void strands_credentials_provider_free(
    strands_credentials_provider *p);
/** Frees this thread's crypto state. A detached thread that made AWS calls
 * calls it last, so nothing of it outlives the thread (a joined thread
 * does not need to).                                                    */
STRANDS_EXTERN void strands_aws_thread_done(void);

/** Copies the key id, secret and token (NULL = none) into c, leaving its
 * other fields alone. 0, or -1 when a value is longer than its field (the
 * secrets in c are then wiped).                                         */
STRANDS_EXTERN int strands_credentials_set(strands_credentials *c,
                                           const char *akid,
                                           const char *secret,
                                           const char *token);

/** Overwrites the secret fields with zeros. */
STRANDS_EXTERN void strands_credentials_wipe(strands_credentials *c);

/* How the runtime finds the credentials that sign Bedrock calls. */
typedef struct strands_aws_options {
    /* Looks up environment variables; NULL = the process environment. */
    const char *(*getenv)(void *user, const char *name);
    void *getenv_user;
    const char *region;            /* resolved region (strands_aws_region) */
    const char *bedrock_secret_id; /* BEDROCK_CREDENTIALS_SECRET, or NULL */
    int64_t secret_refresh_s;      /* re-read the secret this often (0 =
                                      only when Bedrock rejects the keys) */
    const char *retry_mode;        /* AWS_RETRY_MODE, NULL = standard */
    int max_attempts;              /* AWS_MAX_ATTEMPTS (>= 1) */
} strands_aws_options;

/** The credentials for Bedrock calls: the default chain (environment, web
 * identity, shared files, container, instance metadata), cached and
 * refreshed 5 minutes before expiry; or, with bedrock_secret_id, the keys
 * stored in that Secrets Manager secret, read with the chain's credentials
 * and re-read every secret_refresh_s or when invalidated. NULL + err on a
 * bad configuration.                                                    */
STRANDS_EXTERN strands_credentials_provider *strands_credentials_for_bedrock_new(
    const strands_aws_options *opts, strands_error *err);

/** The default chain alone (cached), e.g. for other AWS clients. */
STRANDS_EXTERN strands_credentials_provider *strands_credentials_default_chain_new(
    const strands_aws_options *opts, strands_error *err);

/** Resolves the region as AWS SDKs do: AWS_REGION, AWS_DEFAULT_REGION, the
 * active profile's `region`, then "us-east-1". getenv NULL = process env. */
STRANDS_EXTERN void strands_aws_region(const char *(*getenv)(void *, const char *),
                                       void *user, char *out,
                                       unsigned long outsz);

/* Bedrock Converse model provider settings. Strings are copied. */
typedef struct strands_bedrock_config {
    const char *model_id;     /* required */
    const char *region;       /* required, e.g. "us-east-1" */
    const char *endpoint;     /* NULL: https://bedrock-runtime.<region>.amazonaws.com;
                                 else scheme://host[:port][/prefix] */
    strands_credentials_provider *credentials; /* borrowed; NULL = none */
    const char *bearer_token; /* AWS_BEARER_TOKEN_BEDROCK: sent as
                                 "Authorization: Bearer" instead of SigV4 */
    int max_attempts;         /* total attempts incl. the first (>= 1) */
    const char *retry_mode;   /* "standard" (NULL), "legacy", "adaptive" */
    long connect_timeout_ms;  /* 0: 10 s */
    long read_timeout_ms;     /* longest silence between received bytes
                                 of an answer (botocore's read timeout);
                                 a stream that keeps sending runs as
                                 long as it needs. 0: 120 s. When hit on
                                 the last attempt: E_TIMEOUT, code
                                 "ModelTimeout" */
    const char *params_json;  /* MODEL_PARAMS: a JSON object; temperature,
                                 top_p, stop_sequences, max_tokens go to
                                 inferenceConfig, every other key to the
                                 body as it is (e.g.
                                 additionalModelRequestFields); NULL none */
    int prompt_cache;         /* PROMPT_CACHE=auto: cachePoint blocks after
                                 the system prompt, the tool list and the
                                 last user message */
    const char *guardrail_id; /* GUARDRAIL_ID; NULL: no guardrail */
    const char *guardrail_version; /* GUARDRAIL_VERSION (required with an
                                 id) */
    const char *guardrail_trace;   /* "enabled", "disabled",
                                 "enabled_full"; NULL: "enabled" */
    const char *guardrail_stream_mode; /* "sync" or "async" (ConverseStream
                                 streamProcessingMode); NULL: "sync" */
    const char *guardrail_redact_input; /* on an intervention, the text
                                 that replaces the turn's user input in
                                 the stored history; NULL: no redaction */
} strands_bedrock_config;

/** Creates the Bedrock provider. E_INVALID (message names the field) for a
 * bad config. Free with strands_model_free.                              */
STRANDS_EXTERN strands_model *strands_bedrock_model_new(
    const strands_bedrock_config *cfg, strands_error *err);

/** Checks an endpoint URL: https to any host, or http to a loopback host
 * only (127.0.0.0/8, localhost, [::1]). E_INVALID with the reason.      */
STRANDS_EXTERN strands_status strands_endpoint_validate(const char *url,
                                                        strands_error *err);

#endif
