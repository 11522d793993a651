/* Credentials providers: the common dispatch, the environment provider and
 * the static provider. The caching chain builds on the same vtable.       */
#include <stdlib.h>
#include <string.h>

#include "aws/credentials/cred_env.h"
#include "strands/aws.h"

typedef struct static_provider {
    strands_credentials_provider base;
    strands_credentials creds;
    int have;             /* 0: resolve reports E_NO_CREDENTIALS */
    const char *missing;  /* what to tell the user when !have */
} static_provider;

static int copy_field(char *dst, size_t dstsz, const char *src)
{
    size_t n = src ? strlen(src) : 0;
    if (n >= dstsz) return -1;
    memcpy(dst, src ? src : "", n);
    dst[n] = '\0';
    return 0;
}

int strands_credentials_set(strands_credentials *c, const char *akid,
                            const char *secret, const char *token)
{
    if (copy_field(c->access_key_id, sizeof c->access_key_id, akid) ||
        copy_field(c->secret_access_key, sizeof c->secret_access_key,
                   secret) ||
        copy_field(c->session_token, sizeof c->session_token, token)) {
        strands_credentials_wipe(c);
        return -1;
    }
    return 0;
}

static strands_status static_resolve(strands_credentials_provider *self,
                                     strands_credentials *out,
                                     strands_error *err)
{
    static_provider *p = (static_provider *)self;
    if (!p->have)
        return strands_error_set(err, STRANDS_E_NO_CREDENTIALS,
                                 "NoCredentialsError", "%s", p->missing);
    *out = p->creds;
    return STRANDS_OK;
}

static void static_destroy(strands_credentials_provider *self)
{
    static_provider *p = (static_provider *)self;
    strands_credentials_wipe(&p->creds);
    free(p);
}

static const strands_credentials_provider_vtab static_vtab = {
    STRANDS_CREDENTIALS_VTAB_VERSION, "static", static_resolve, static_destroy,
    NULL};
static const strands_credentials_provider_vtab env_vtab = {
    STRANDS_CREDENTIALS_VTAB_VERSION, "environment", static_resolve,
    static_destroy, NULL};

static static_provider *fill(const char *akid, const char *secret,
                             const char *token)
{
    static_provider *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    if (strands_credentials_set(&p->creds, akid, secret, token)) {
        static_destroy(&p->base);
        return NULL;
    }
    return p;
}

strands_credentials_provider *strands_credentials_env_new(void)
{
    return aws_cred_environment_new(NULL);
}

strands_credentials_provider *aws_cred_environment_new(const aws_cred_env *env)
{
    const char *akid = aws_env_get(env, "AWS_ACCESS_KEY_ID");
    const char *secret = aws_env_get(env, "AWS_SECRET_ACCESS_KEY");
    const char *token = aws_env_get(env, "AWS_SESSION_TOKEN");
    static_provider *p = fill(akid, secret, token);
    if (!p) {
        /* Over-long values: keep a provider that explains the problem. */
        p = calloc(1, sizeof *p);
        if (!p) return NULL;
        p->missing = "AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY or "
                     "AWS_SESSION_TOKEN is longer than AWS allows";
    } else if (!akid || !*akid || !secret || !*secret) {
        p->missing = "no AWS credentials: set AWS_ACCESS_KEY_ID and "
                     "AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for "
                     "temporary credentials) in the runtime's environment";
    } else {
        p->have = 1;
    }
    p->base.vtab = &env_vtab;
    return &p->base;
}

strands_credentials_provider *strands_credentials_static_new(
    const char *access_key_id, const char *secret_access_key,
    const char *session_token, strands_error *err)
{
    if (!access_key_id || !*access_key_id || !secret_access_key ||
        !*secret_access_key) {
        strands_error_set(err, STRANDS_E_INVALID, NULL,
                          "static credentials need an access key id and "
                          "a secret access key");
        return NULL;
    }
    static_provider *p = fill(access_key_id, secret_access_key,
                              session_token);
    if (!p) {
        strands_error_set(err, STRANDS_E_INVALID, NULL,
                          "static credentials: a value is too long");
        return NULL;
    }
    p->have = 1;
    p->base.vtab = &static_vtab;
    return &p->base;
}

strands_status strands_credentials_resolve(strands_credentials_provider *p,
                                           strands_credentials *out,
                                           strands_error *err)
{
    if (!p)
        return strands_error_set(
            err, STRANDS_E_NO_CREDENTIALS, "NoCredentialsError",
            "no AWS credentials provider is configured");
    return p->vtab->resolve(p, out, err);
}

void strands_credentials_invalidate(strands_credentials_provider *p)
{
    if (p && p->vtab->invalidate) p->vtab->invalidate(p);
}

void strands_credentials_provider_free(strands_credentials_provider *p)
{
    if (p) p->vtab->destroy(p);
}

void strands_credentials_wipe(strands_credentials *c)
{
    explicit_bzero(c->secret_access_key, sizeof c->secret_access_key);
    explicit_bzero(c->session_token, sizeof c->session_token);
}
