/* The runtime's AWS credentials: built once from the AWS settings (the
 * default chain, or the keys in BEDROCK_CREDENTIALS_SECRET) and handed
 * to the model provider and session store; the secret is read once at
 * start-up so a bad one stops the runtime, and otherwise a background
 * look warns early when there are no credentials at all.               */
#include <stdio.h>

#include "runtime/internal.h"
#include "strands/log.h"

/* Reads the Bedrock credentials secret once at start-up, so a missing,
 * denied or malformed secret stops the runtime with a clear message. */
static int check_secret(strands_credentials_provider *creds, const char *id,
                        strands_error *err)
{
    strands_credentials c;
    strands_error e;
    strands_status st = strands_credentials_resolve(creds, &c, &e);
    strands_credentials_wipe(&c);
    if (st == STRANDS_OK) return 0;
    strands_error_set(err, st, NULL, "BEDROCK_CREDENTIALS_SECRET '%s': %s",
                      id, e.message);
    return -1;
}

/* Looks for credentials once, off the start-up path (instance metadata
 * may take a second to answer), and warns when there are none. */
static void *check_credentials(void *arg)
{
    strands_credentials c;
    strands_error err;
    if (strands_credentials_resolve(arg, &c, &err) != STRANDS_OK)
        strands_log(STRANDS_LOG_WARN, "strands.runtime", NULL, NULL, NULL,
                    "%s; /invocations will answer 503 until credentials are "
                    "available", err.message);
    else
        strands_log(STRANDS_LOG_INFO, "strands.runtime", NULL, NULL, NULL,
                    "AWS credentials found (%s provider)", c.source);
    strands_credentials_wipe(&c);
    return NULL;
}

int runtime_credentials_build(runtime_parts *p, strands_error *err)
{
    const strands_runtime_config *cfg = strands_settings_config(p->settings);
    strands_error e;
    if (cfg->region)
        snprintf(p->region, sizeof p->region, "%s", cfg->region);
    else
        strands_aws_region(NULL, NULL, p->region, sizeof p->region);
    strands_aws_options ao = {.region = p->region,
                              .bedrock_secret_id = cfg->bedrock_secret,
                              .secret_refresh_s = cfg->secret_refresh_s,
                              .retry_mode = cfg->retry_mode,
                              .max_attempts = cfg->max_attempts};
    p->credentials = strands_credentials_for_bedrock_new(&ao, &e);
    if (!p->credentials) {
        strands_error_set(err, e.status, NULL, "credentials: %s", e.message);
        return 2;
    }
    if (cfg->bedrock_secret &&
        check_secret(p->credentials, cfg->bedrock_secret, err))
        return 1;
    return 0;
}

void runtime_parts_check_credentials(runtime_parts *p)
{
    const strands_runtime_config *cfg = strands_settings_config(p->settings);
    /* A secret was read at start-up already. */
    if (!p->uses_credentials || cfg->bedrock_secret || p->checker_started)
        return;
    p->checker_started = pthread_create(&p->checker, NULL, check_credentials,
                                        p->credentials) == 0;
}
