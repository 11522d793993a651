/* The "web_identity" credentials provider (EKS IRSA and similar):
 * AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN (+ AWS_ROLE_SESSION_NAME) from
 * the environment at creation; the token file is read at every resolve
 * (tokens rotate) and exchanged with STS AssumeRoleWithWebIdentity. The
 * profile keys web_identity_token_file + role_arn live in cred_profile.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/credentials/cred_env.h"
#include "aws/sts.h"
#include "strands/clock.h"

typedef struct web_identity_provider {
    strands_credentials_provider base;
    aws_cred_env env;       /* copy; getenv/http pointers borrowed */
    char region[64];
    char *token_file;       /* NULL when unset */
    char *role_arn;
    char *session_name;     /* NULL: strands-c-<epoch> */
} web_identity_provider;

static strands_status wi_resolve(strands_credentials_provider *self,
                                 strands_credentials *out,
                                 strands_error *err)
{
    web_identity_provider *p = (web_identity_provider *)self;
    memset(out, 0, sizeof *out);
    if (!p->token_file && !p->role_arn)
        return strands_error_set(err, STRANDS_E_NO_CREDENTIALS,
                                 "NoCredentialsError",
                                 "web identity: AWS_WEB_IDENTITY_TOKEN_FILE "
                                 "and AWS_ROLE_ARN are not set");
    if (!p->token_file)
        return strands_error_set(err, STRANDS_E_NO_CREDENTIALS,
                                 "NoCredentialsError",
                                 "web identity: AWS_ROLE_ARN is set but "
                                 "AWS_WEB_IDENTITY_TOKEN_FILE is not");
    if (!p->role_arn)
        return strands_error_set(err, STRANDS_E_INVALID, "InvalidConfigError",
                                 "web identity: AWS_WEB_IDENTITY_TOKEN_FILE "
                                 "is set but AWS_ROLE_ARN is not");
    char *token = NULL;
    strands_status st = sts_read_token_file(p->token_file, &token, err);
    if (st != STRANDS_OK) return st;
    char session[64];
    snprintf(session, sizeof session, "strands-c-%lld",
             (long long)strands_clock_wall());
    sts_request rq = {
        .role_arn = p->role_arn,
        .session_name = p->session_name ? p->session_name : session,
        .web_identity_token = token,
    };
    st = sts_assume_role_with_web_identity(&p->env, &rq, out, err);
    explicit_bzero(token, strlen(token));
    free(token);
    if (st == STRANDS_OK)
        snprintf(out->source, sizeof out->source, "web_identity");
    return st;
}

static void wi_destroy(strands_credentials_provider *self)
{
    web_identity_provider *p = (web_identity_provider *)self;
    free(p->token_file);
    free(p->role_arn);
    free(p->session_name);
    free(p);
}

static const strands_credentials_provider_vtab wi_vtab = {
    STRANDS_CREDENTIALS_VTAB_VERSION, "web_identity", wi_resolve, wi_destroy,
    NULL};

/* strdup of an optional value; *failed set on OOM. */
static char *dup_opt(const char *v, int *failed)
{
    if (!v) return NULL;
    char *d = strdup(v);
    if (!d) *failed = 1;
    return d;
}

strands_credentials_provider *aws_cred_web_identity_new(
    const aws_cred_env *env, strands_error *err)
{
    web_identity_provider *p = calloc(1, sizeof *p);
    if (!p) {
        strands_error_set(err, STRANDS_E_NOMEM, NULL, "out of memory");
        return NULL;
    }
    p->base.vtab = &wi_vtab;
    if (env) p->env = *env;
    if (env && env->region) {
        snprintf(p->region, sizeof p->region, "%s", env->region);
        p->env.region = p->region;
    }
    int failed = 0;
    p->token_file =
        dup_opt(aws_env_get(env, "AWS_WEB_IDENTITY_TOKEN_FILE"), &failed);
    p->role_arn = dup_opt(aws_env_get(env, "AWS_ROLE_ARN"), &failed);
    p->session_name =
        dup_opt(aws_env_get(env, "AWS_ROLE_SESSION_NAME"), &failed);
    if (failed) {
        wi_destroy(&p->base);
        strands_error_set(err, STRANDS_E_NOMEM, NULL, "out of memory");
        return NULL;
    }
    return &p->base;
}
