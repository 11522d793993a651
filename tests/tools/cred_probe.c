/* Test driver for credential providers: builds one provider (or the whole
 * chain) from the process environment, resolves once (or N times), and
 * prints one JSON line per resolve with the access key id, SHA-256 of the
 * secret and token (never the values), expiration and provider name, or
 * {"error": ..., "status": ...}. Used by tests/integration/test_credentials.py.
 *   cred_probe PROVIDER [COUNT]
 * PROVIDER: environment | web_identity | profile | container | imds |
 *           chain (the cached default chain) | bedrock (what the runtime
 *           signs Bedrock calls with: the chain, or the keys of the
 *           BEDROCK_CREDENTIALS_SECRET secret)                         */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/credentials/cred_env.h"
#include "aws/sigv4.h"

typedef strands_credentials_provider *ctor_fn(const aws_cred_env *env,
                                              strands_error *err);

static strands_credentials_provider *env_ctor(const aws_cred_env *env,
                                              strands_error *err)
{
    (void)err;
    return aws_cred_environment_new(env);
}

static strands_aws_options probe_opts(const aws_cred_env *env)
{
    const char *refresh = getenv("BEDROCK_CREDENTIALS_REFRESH_SECONDS");
    strands_aws_options o = {.region = env->region,
                             .bedrock_secret_id =
                                 getenv("BEDROCK_CREDENTIALS_SECRET"),
                             .secret_refresh_s = refresh ? atoll(refresh) : 0,
                             .max_attempts = 3};
    return o;
}

static strands_credentials_provider *chain_ctor(const aws_cred_env *env,
                                                strands_error *err)
{
    strands_aws_options o = probe_opts(env);
    return strands_credentials_default_chain_new(&o, err);
}

static strands_credentials_provider *bedrock_ctor(const aws_cred_env *env,
                                                  strands_error *err)
{
    strands_aws_options o = probe_opts(env);
    return strands_credentials_for_bedrock_new(&o, err);
}

static const struct {
    const char *name;
    ctor_fn *fn;
} ctors[] = {{"environment", env_ctor},
             {"web_identity", aws_cred_web_identity_new},
             {"profile", aws_cred_profile_new},
             {"container", aws_cred_container_new},
             {"imds", aws_cred_imds_new},
             {"chain", chain_ctor},
             {"bedrock", bedrock_ctor}};

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: cred_probe PROVIDER [COUNT]\n");
        return 2;
    }
    int count = argc > 2 ? atoi(argv[2]) : 1;
    ctor_fn *fn = NULL;
    for (size_t i = 0; i < sizeof ctors / sizeof ctors[0]; i++)
        if (!strcmp(ctors[i].name, argv[1])) fn = ctors[i].fn;
    if (!fn) {
        fprintf(stderr, "unknown provider %s\n", argv[1]);
        return 2;
    }
    http_client *http = http_client_new(4);
    char region[64];
    strands_aws_region(NULL, NULL, region, sizeof region);
    aws_cred_env env = {NULL, NULL, http, region};
    strands_error err;
    strands_error_clear(&err);
    strands_credentials_provider *p = fn(&env, &err);
    if (!p) {
        printf("{\"error\":\"constructor: %s\",\"status\":\"%s\"}\n",
               err.message, strands_status_name(err.status));
        http_client_free(http);
        return 1;
    }
    int rc = 0;
    for (int i = 0; i < count; i++) {
        strands_credentials c;
        strands_status st = strands_credentials_resolve(p, &c, &err);
        if (st != STRANDS_OK) {
            json_t *o = json_pack("{s:s, s:s, s:s}", "error", err.message,
                                  "status", strands_status_name(st), "code",
                                  err.code);
            char *t = json_dumps(o, JSON_COMPACT);
            printf("%s\n", t);
            free(t);
            json_decref(o);
            rc = 1;
            continue;
        }
        char sh[65], th[65];
        sigv4_hex_sha256(c.secret_access_key, strlen(c.secret_access_key), sh);
        sigv4_hex_sha256(c.session_token, strlen(c.session_token), th);
        printf("{\"provider\":\"%s\",\"access_key_id\":\"%s\","
               "\"secret_sha256\":\"%s\",\"token_sha256\":\"%s\","
               "\"has_token\":%s,\"expiration\":%lld}\n",
               c.source[0] ? c.source : p->vtab->name, c.access_key_id, sh,
               th,
               c.session_token[0] ? "true" : "false",
               (long long)c.expiration);
        strands_credentials_wipe(&c);
    }
    strands_credentials_provider_free(p);
    http_client_free(http);
    return rc;
}
