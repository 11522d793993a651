/* The credential provider chain: first provider with credentials wins. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/credentials/cred_cache.h"
#include "core/buf.h"
#include "strands/log.h"

typedef struct chain {
    strands_credentials_provider base;
    strands_credentials_provider **providers;
    size_t n;
    http_client *http;
} chain;

static strands_status chain_resolve(strands_credentials_provider *self,
                                    strands_credentials *out,
                                    strands_error *err)
{
    chain *c = (chain *)self;
    dynbuf why;
    dynbuf_init(&why, 4096);
    for (size_t i = 0; i < c->n; i++) {
        strands_credentials_provider *p = c->providers[i];
        strands_error e;
        strands_error_clear(&e);
        memset(out, 0, sizeof *out);
        strands_status st = strands_credentials_resolve(p, out, &e);
        if (st == STRANDS_OK) {
            if (!out->source[0])
                snprintf(out->source, sizeof out->source, "%s",
                         p->vtab->name);
            strands_log(STRANDS_LOG_DEBUG, "strands.aws.credentials", NULL,
                        NULL, NULL, "credentials from the %s provider",
                        out->source);
            dynbuf_cleanup(&why);
            return STRANDS_OK;
        }
        if (st != STRANDS_E_NO_CREDENTIALS) {
            dynbuf_cleanup(&why);
            if (err) *err = e;
            return st;
        }
        strands_log(STRANDS_LOG_DEBUG, "strands.aws.credentials", NULL, NULL,
                    NULL, "skipping the %s provider: %s", p->vtab->name,
                    e.message);
        if (dynbuf_printf(&why, "%s%s: %s", why.len ? "; " : "",
                               p->vtab->name, e.message) != STRANDS_OK)
            dynbuf_init(&why, 4096);
    }
    strands_error_set(err, STRANDS_E_NO_CREDENTIALS, "NoCredentialsError",
                      "no AWS credentials found (%s)", dynbuf_str(&why));
    dynbuf_cleanup(&why);
    return STRANDS_E_NO_CREDENTIALS;
}

static void chain_invalidate(strands_credentials_provider *self)
{
    chain *c = (chain *)self;
    for (size_t i = 0; i < c->n; i++)
        strands_credentials_invalidate(c->providers[i]);
}

static void chain_destroy(strands_credentials_provider *self)
{
    chain *c = (chain *)self;
    for (size_t i = 0; i < c->n; i++)
        strands_credentials_provider_free(c->providers[i]);
    free(c->providers);
    http_client_free(c->http);
    free(c);
}

static const strands_credentials_provider_vtab chain_vtab = {
    STRANDS_CREDENTIALS_VTAB_VERSION, "chain", chain_resolve, chain_destroy,
    chain_invalidate};

strands_credentials_provider *aws_cred_chain_new(
    strands_credentials_provider **providers, size_t n, http_client *http)
{
    chain *c = calloc(1, sizeof *c);
    if (c) c->providers = calloc(n ? n : 1, sizeof *c->providers);
    if (!c || !c->providers) {
        for (size_t i = 0; i < n; i++)
            strands_credentials_provider_free(providers[i]);
        http_client_free(http);
        free(c);
        return NULL;
    }
    c->base.vtab = &chain_vtab;
    memcpy(c->providers, providers, n * sizeof *providers);
    c->n = n;
    c->http = http;
    return &c->base;
}
