/* What credential providers see of the world: a getenv function (tests
 * pass their own), the shared HTTP client and the resolved region. Every
 * provider constructor takes one; the pointers are borrowed and must
 * outlive the provider.                                                 */
#ifndef STRANDS_AWS_CRED_ENV_H
#define STRANDS_AWS_CRED_ENV_H

#include <stddef.h>

#include "net/http_client.h"
#include "strands/aws.h"
#include "strands/config.h"

typedef struct aws_cred_env {
    strands_getenv_fn *getenv;  /* NULL: the process environment */
    void *getenv_user;
    http_client *http;
    const char *region;         /* for STS endpoints and signing */
} aws_cred_env;

/** Looks a variable up through env (NULL env or getenv: process env). An
 * empty value counts as unset (NULL).                                    */
const char *aws_env_get(const aws_cred_env *env, const char *name);

/** Resolves a service endpoint the way AWS SDKs do: the service-specific
 * AWS_ENDPOINT_URL_<SERVICE> (e.g. "STS", "SECRETS_MANAGER",
 * "BEDROCK_RUNTIME"), then AWS_ENDPOINT_URL, then
 * https://<host_prefix>.<region>.amazonaws.com. Writes the URL into out.
 * E_INVALID (naming the variable) for a malformed override.             */
strands_status aws_env_endpoint(const aws_cred_env *env, const char *service,
                                const char *host_prefix, char *out,
                                size_t outsz, strands_error *err);

/* Provider constructors. Each reads its configuration from env at
 * creation; resolve() then returns E_NO_CREDENTIALS with a message saying
 * why the provider does not apply (not configured), or another error when
 * it is configured but fails (e.g. STS denied), or fills the credentials
 * (with expiration when temporary). NULL + err on OOM/bad configuration. */
strands_credentials_provider *aws_cred_environment_new(const aws_cred_env *env);
strands_credentials_provider *aws_cred_web_identity_new(
    const aws_cred_env *env, strands_error *err);
strands_credentials_provider *aws_cred_profile_new(const aws_cred_env *env,
                                                   strands_error *err);
strands_credentials_provider *aws_cred_container_new(const aws_cred_env *env,
                                                     strands_error *err);
strands_credentials_provider *aws_cred_imds_new(const aws_cred_env *env,
                                                strands_error *err);

/** The region named by the active profile (AWS_PROFILE, default
 * "default") in AWS_CONFIG_FILE (default ~/.aws/config) or the shared
 * credentials file; "" when none. 0 when found, -1 otherwise.           */
int aws_profile_region(const aws_cred_env *env, char *out, size_t outsz);

#endif
