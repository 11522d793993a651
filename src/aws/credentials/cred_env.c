/* Environment lookup and endpoint resolution for AWS clients. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/credentials/cred_env.h"
#include "core/env.h"

const char *aws_env_get(const aws_cred_env *env, const char *name)
{
    const char *v = env ? core_getenv(env->getenv, env->getenv_user, name)
                        : core_getenv(NULL, NULL, name);
    return v && *v ? v : NULL;
}

strands_status aws_env_endpoint(const aws_cred_env *env, const char *service,
                                const char *host_prefix, char *out,
                                size_t outsz, strands_error *err)
{
    char name[96];
    snprintf(name, sizeof name, "AWS_ENDPOINT_URL_%s", service);
    const char *var = name;
    const char *url = aws_env_get(env, name);
    if (!url) {
        var = "AWS_ENDPOINT_URL";
        url = aws_env_get(env, var);
    }
    if (url) {
        strands_error e;
        if (strands_endpoint_validate(url, &e) != STRANDS_OK)
            return strands_error_set(err, STRANDS_E_INVALID, NULL, "%s: %s",
                                     var, e.message);
        snprintf(out, outsz, "%s", url);
        return STRANDS_OK;
    }
    snprintf(out, outsz, "https://%s.%s.amazonaws.com", host_prefix,
             env && env->region ? env->region : "us-east-1");
    return STRANDS_OK;
}
