/* Assembles the credential providers the runtime uses: the default chain
 * behind a cache, optionally the Secrets Manager bootstrap provider on top,
 * and region resolution.                                               */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/credentials/cred_cache.h"
#include "strands/aws.h"

/* Everything the chain's providers borrow lives here, owned by the outer
 * cache through a small holder provider. */
typedef struct holder {
    strands_credentials_provider base;
    strands_credentials_provider *inner;
    http_client *http;
    aws_retry_policy retry;
    char region[64];
    aws_cred_env env;
} holder;

static strands_status holder_resolve(strands_credentials_provider *self,
                                     strands_credentials *out,
                                     strands_error *err)
{
    return strands_credentials_resolve(((holder *)self)->inner, out, err);
}

static void holder_invalidate(strands_credentials_provider *self)
{
    strands_credentials_invalidate(((holder *)self)->inner);
}

static void holder_destroy(strands_credentials_provider *self)
{
    holder *h = (holder *)self;
    strands_credentials_provider_free(h->inner);
    http_client_free(h->http);
    free(h);
}

static const strands_credentials_provider_vtab holder_vtab = {
    STRANDS_CREDENTIALS_VTAB_VERSION, "credentials", holder_resolve,
    holder_destroy, holder_invalidate};

/* The uncached default chain over h's environment. */
static strands_credentials_provider *make_chain(holder *h, strands_error *err)
{
    strands_credentials_provider *ps[5];
    size_t n = 0;
    ps[n++] = aws_cred_environment_new(&h->env);
    ps[n++] = aws_cred_web_identity_new(&h->env, err);
    ps[n++] = aws_cred_profile_new(&h->env, err);
    ps[n++] = aws_cred_container_new(&h->env, err);
    ps[n++] = aws_cred_imds_new(&h->env, err);
    for (size_t i = 0; i < n; i++) {
        if (ps[i]) continue;
        for (size_t j = 0; j < n; j++) strands_credentials_provider_free(ps[j]);
        return NULL;
    }
    return aws_cred_chain_new(ps, n, NULL);
}

static holder *holder_new(const strands_aws_options *o, strands_error *err)
{
    holder *h = calloc(1, sizeof *h);
    if (!h || !(h->http = http_client_new(8))) {
        free(h);
        strands_error_set(err, STRANDS_E_NOMEM, NULL, "OOM");
        return NULL;
    }
    h->base.vtab = &holder_vtab;
    snprintf(h->region, sizeof h->region, "%s",
             o->region && *o->region ? o->region : "us-east-1");
    h->env = (aws_cred_env){o->getenv, o->getenv_user, h->http, h->region};
    char attempts[16];
    snprintf(attempts, sizeof attempts, "%d",
             o->max_attempts > 0 ? o->max_attempts : 3);
    if (aws_retry_policy_init(&h->retry, o->retry_mode, attempts, err) !=
        STRANDS_OK) {
        holder_destroy(&h->base);
        return NULL;
    }
    return h;
}

strands_credentials_provider *strands_credentials_default_chain_new(
    const strands_aws_options *o, strands_error *err)
{
    holder *h = holder_new(o, err);
    if (!h) return NULL;
    strands_credentials_provider *chain = make_chain(h, err);
    h->inner = chain ? aws_cred_cache_new(chain, 0) : NULL;
    if (!h->inner) {
        holder_destroy(&h->base);
        return NULL;
    }
    return &h->base;
}

strands_credentials_provider *strands_credentials_for_bedrock_new(
    const strands_aws_options *o, strands_error *err)
{
    if (!o->bedrock_secret_id || !*o->bedrock_secret_id)
        return strands_credentials_default_chain_new(o, err);
    holder *h = holder_new(o, err);
    if (!h) return NULL;
    strands_credentials_provider *chain = make_chain(h, err);
    strands_credentials_provider *boot =
        chain ? aws_cred_cache_new(chain, 0) : NULL;
    strands_credentials_provider *secret =
        boot ? aws_cred_secret_new(&h->env, boot, o->bedrock_secret_id,
                                   &h->retry, err)
             : NULL;
    h->inner = secret ? aws_cred_cache_new(secret, o->secret_refresh_s) : NULL;
    if (!h->inner) {
        if (!err || err->status == STRANDS_OK)
            strands_error_set(err, STRANDS_E_NOMEM, NULL, "OOM");
        holder_destroy(&h->base);
        return NULL;
    }
    return &h->base;
}

void strands_aws_region(const char *(*getenv_fn)(void *, const char *),
                        void *user, char *out, unsigned long outsz)
{
    aws_cred_env env = {getenv_fn, user, NULL, NULL};
    const char *r = aws_env_get(&env, "AWS_REGION");
    if (!r) r = aws_env_get(&env, "AWS_DEFAULT_REGION");
    if (r) {
        snprintf(out, outsz, "%s", r);
        return;
    }
    if (aws_profile_region(&env, out, outsz) == 0 && *out) return;
    snprintf(out, outsz, "us-east-1");
}
