/* Credential caching, refresh and the provider chain.
 * The cache wraps any provider: it keeps the last credentials, refreshes
 * them 5 minutes before they expire (or after max_age_s), lets exactly one
 * thread refresh while the others keep using the cached value, keeps valid
 * cached credentials when a refresh fails (retrying with backoff), and
 * never hands out a half-updated value (copies are made under a lock).   */
#ifndef STRANDS_AWS_CRED_CACHE_H
#define STRANDS_AWS_CRED_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "aws/credentials/cred_env.h"
#include "aws/retry.h"

#define AWS_CRED_REFRESH_MARGIN_S 300  /* refresh this long before expiry */
#define AWS_CRED_EXPIRY_GRACE_S 10     /* treat as expired this close */

/** Wraps inner (ownership passes to the cache, also on failure).
 * max_age_s > 0 also refreshes credentials that old (0 = only on expiry).
 * NULL on OOM.                                                          */
strands_credentials_provider *aws_cred_cache_new(
    strands_credentials_provider *inner, int64_t max_age_s);

/** A chain trying providers in order: the first that yields credentials
 * wins; E_NO_CREDENTIALS (not configured) moves on, with a debug log line
 * saying why; any other error stops the chain. Owns the providers and
 * `http` (may be NULL). When every provider is skipped the error message
 * lists each reason. NULL on OOM (the providers are then freed).       */
strands_credentials_provider *aws_cred_chain_new(
    strands_credentials_provider **providers, size_t n, http_client *http);

/** The Secrets Manager bootstrap provider: resolves `bootstrap` (owned),
 * signs GetSecretValue(secret_id) with those credentials, and returns the
 * keys in the secret's JSON ({"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
 * "AWS_SESSION_TOKEN"?}). Every resolve fetches: wrap it in a cache with
 * max_age_s = the refresh interval. Errors name the secret id and the
 * problem (missing, denied, not JSON, lacks a key), never a value.      */
strands_credentials_provider *aws_cred_secret_new(
    const aws_cred_env *env, strands_credentials_provider *bootstrap,
    const char *secret_id, aws_retry_policy *retry, strands_error *err);

#endif
