/* The Secrets Manager bootstrap provider: bootstrap credentials sign
 * GetSecretValue; the secret's JSON holds the keys used for Bedrock.   */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "aws/credentials/cred_cache.h"
#include "aws/secretsmanager.h"

typedef struct secret_provider {
    strands_credentials_provider base;
    strands_credentials_provider *bootstrap;
    http_client *http;
    aws_retry_policy *retry;
    aws_endpoint endpoint;
    char region[64];
    char *secret_id;
} secret_provider;

/* Copies a required (or optional) string key of the secret into dst. */
static strands_status take_key(const secret_provider *p, json_t *doc,
                               const char *key, int required, char *dst,
                               size_t dstsz, strands_error *err)
{
    json_t *v = json_object_get(doc, key);
    if (!v && !required) {
        dst[0] = '\0';
        return STRANDS_OK;
    }
    const char *s = json_string_value(v);
    if (!s || (required && !*s))
        return strands_error_set(err, STRANDS_E_INVALID, "InvalidSecret",
                                 "secret '%s' lacks a string %s", p->secret_id,
                                 key);
    if (strlen(s) >= dstsz)
        return strands_error_set(err, STRANDS_E_INVALID, "InvalidSecret",
                                 "secret '%s': %s is too long", p->secret_id,
                                 key);
    memcpy(dst, s, strlen(s) + 1);
    return STRANDS_OK;
}

static strands_status secret_resolve(strands_credentials_provider *self,
                                     strands_credentials *out,
                                     strands_error *err)
{
    secret_provider *p = (secret_provider *)self;
    strands_credentials boot;
    strands_status st = strands_credentials_resolve(p->bootstrap, &boot, err);
    if (st != STRANDS_OK) {
        char detail[STRANDS_ERROR_MESSAGE_MAX];
        memcpy(detail, err->message, sizeof detail);
        strands_error_set(err, st, err->code,
                          "no bootstrap credentials to read secret '%s': %s",
                          p->secret_id, detail);
        return st;
    }
    char *text = NULL;
    st = aws_sm_get_secret_string(p->http, &p->endpoint, p->region, &boot,
                                  p->retry, p->secret_id, &text, err);
    strands_credentials_wipe(&boot);
    if (st != STRANDS_OK) return st;
    json_t *doc = json_loads(text, 0, NULL);
    explicit_bzero(text, strlen(text));
    free(text);
    memset(out, 0, sizeof *out);
    if (!json_is_object(doc)) {
        st = strands_error_set(err, STRANDS_E_INVALID, "InvalidSecret",
                               "secret '%s' is not a JSON object with "
                               "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
                               p->secret_id);
    } else if ((st = take_key(p, doc, "AWS_ACCESS_KEY_ID", 1,
                              out->access_key_id, sizeof out->access_key_id,
                              err)) == STRANDS_OK &&
               (st = take_key(p, doc, "AWS_SECRET_ACCESS_KEY", 1,
                              out->secret_access_key,
                              sizeof out->secret_access_key, err)) ==
                   STRANDS_OK) {
        st = take_key(p, doc, "AWS_SESSION_TOKEN", 0, out->session_token,
                      sizeof out->session_token, err);
    }
    /* Wipe the parsed secret before releasing it. */
    const char *key;
    json_t *v;
    json_object_foreach(doc, key, v) {
        if (json_is_string(v))
            explicit_bzero((char *)json_string_value(v),
                           json_string_length(v));
    }
    json_decref(doc);
    if (st != STRANDS_OK) {
        strands_credentials_wipe(out);
        return st;
    }
    snprintf(out->source, sizeof out->source, "secrets_manager");
    return STRANDS_OK;
}

static void secret_invalidate(strands_credentials_provider *self)
{
    (void)self; /* every resolve fetches; the cache above holds the value */
}

static void secret_destroy(strands_credentials_provider *self)
{
    secret_provider *p = (secret_provider *)self;
    strands_credentials_provider_free(p->bootstrap);
    free(p->secret_id);
    free(p);
}

static const strands_credentials_provider_vtab secret_vtab = {
    STRANDS_CREDENTIALS_VTAB_VERSION, "secrets_manager", secret_resolve,
    secret_destroy, secret_invalidate};

strands_credentials_provider *aws_cred_secret_new(
    const aws_cred_env *env, strands_credentials_provider *bootstrap,
    const char *secret_id, aws_retry_policy *retry, strands_error *err)
{
    secret_provider *p = calloc(1, sizeof *p);
    if (!p || !(p->secret_id = strdup(secret_id))) {
        free(p);
        strands_credentials_provider_free(bootstrap);
        strands_error_set(err, STRANDS_E_NOMEM, NULL, "OOM");
        return NULL;
    }
    p->base.vtab = &secret_vtab;
    p->bootstrap = bootstrap;
    p->http = env->http;
    p->retry = retry;
    snprintf(p->region, sizeof p->region, "%s", env->region);
    char url[512];
    if (aws_env_endpoint(env, "SECRETS_MANAGER", "secretsmanager", url,
                         sizeof url, err) != STRANDS_OK ||
        aws_endpoint_parse(url, &p->endpoint, err) != STRANDS_OK) {
        secret_destroy(&p->base);
        return NULL;
    }
    return &p->base;
}
