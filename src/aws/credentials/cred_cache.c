/* The credential cache (see cred_cache.h): single-flight refresh,
 * advisory refresh before expiry, backoff after failures.              */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "aws/credentials/cred_cache.h"
#include "strands/clock.h"
#include "strands/log.h"

typedef struct cache {
    strands_credentials_provider base;
    strands_credentials_provider *inner;
    int64_t max_age_s;
    pthread_mutex_t lock;
    pthread_cond_t done;
    strands_credentials creds;
    int have;
    int refreshing;
    int64_t fetched_at;
    int64_t next_attempt;   /* no refresh before this after a failure */
    int failures;
    strands_error last_err;
} cache;

static int64_t refresh_at(const cache *c)
{
    int64_t at = INT64_MAX;
    if (c->creds.expiration)
        at = c->creds.expiration - AWS_CRED_REFRESH_MARGIN_S;
    if (c->max_age_s > 0 && c->fetched_at + c->max_age_s < at)
        at = c->fetched_at + c->max_age_s;
    return at;
}

static int usable(const cache *c, int64_t now)
{
    return c->have && (!c->creds.expiration ||
                       now < c->creds.expiration - AWS_CRED_EXPIRY_GRACE_S);
}

/* Fetches from the inner provider without the lock held, then stores the
 * outcome. Called with the lock held and `refreshing` set by the caller. */
static strands_status refresh_locked(cache *c, strands_error *err)
{
    pthread_mutex_unlock(&c->lock);
    strands_credentials fresh;
    memset(&fresh, 0, sizeof fresh);
    strands_error e;
    strands_error_clear(&e);
    strands_status st = strands_credentials_resolve(c->inner, &fresh, &e);
    pthread_mutex_lock(&c->lock);
    int64_t now = strands_clock_wall();
    if (st == STRANDS_OK) {
        strands_credentials_wipe(&c->creds);
        c->creds = fresh;
        c->have = 1;
        c->fetched_at = now;
        c->failures = 0;
        c->next_attempt = 0;
    } else {
        int64_t backoff = (int64_t)1 << (c->failures < 6 ? c->failures : 6);
        c->failures++;
        c->next_attempt = now + backoff;
        c->last_err = e;
        if (err) *err = e;
    }
    strands_credentials_wipe(&fresh);
    c->refreshing = 0;
    pthread_cond_broadcast(&c->done);
    return st;
}

static strands_status cache_resolve(strands_credentials_provider *self,
                                    strands_credentials *out,
                                    strands_error *err)
{
    cache *c = (cache *)self;
    strands_status st = STRANDS_OK;
    int tried = 0; /* at most one fetch per call, whatever the expiry */
    pthread_mutex_lock(&c->lock);
    for (;;) {
        int64_t now = strands_clock_wall();
        if (usable(c, now)) {
            int due = now >= refresh_at(c) && now >= c->next_attempt;
            if (due && !c->refreshing && !tried) {
                tried = 1;
                /* Advisory refresh: this thread fetches; a failure keeps
                 * the cached credentials. */
                c->refreshing = 1;
                strands_error ignored;
                if (refresh_locked(c, &ignored) != STRANDS_OK &&
                    usable(c, strands_clock_wall()))
                    strands_log(STRANDS_LOG_WARN, "strands.aws.credentials",
                                NULL, NULL, NULL,
                                "credential refresh failed, keeping cached "
                                "credentials: %s", ignored.message);
                continue;
            }
            *out = c->creds;
            break;
        }
        if (c->refreshing) {            /* someone else is fetching */
            pthread_cond_wait(&c->done, &c->lock);
            continue;
        }
        if (tried) {
            st = strands_error_set(err, STRANDS_E_NO_CREDENTIALS,
                                   "ExpiredCredentials",
                                   "credentials from %s are already expired",
                                   c->creds.source[0] ? c->creds.source
                                                      : "the provider");
            break;
        }
        if (c->failures && now < c->next_attempt) {
            /* Backing off after a failed fetch: don't hammer the source. */
            if (err) *err = c->last_err;
            st = c->last_err.status ? c->last_err.status
                                    : STRANDS_E_NO_CREDENTIALS;
            break;
        }
        c->refreshing = 1;
        tried = 1;
        st = refresh_locked(c, err);
        if (st != STRANDS_OK) break;
    }
    pthread_mutex_unlock(&c->lock);
    return st;
}

static void cache_invalidate(strands_credentials_provider *self)
{
    cache *c = (cache *)self;
    pthread_mutex_lock(&c->lock);
    strands_credentials_wipe(&c->creds);
    c->have = 0;
    c->failures = 0;
    c->next_attempt = 0;
    pthread_mutex_unlock(&c->lock);
    strands_credentials_invalidate(c->inner);
}

static void cache_destroy(strands_credentials_provider *self)
{
    cache *c = (cache *)self;
    strands_credentials_provider_free(c->inner);
    strands_credentials_wipe(&c->creds);
    pthread_cond_destroy(&c->done);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

static const strands_credentials_provider_vtab cache_vtab = {
    STRANDS_CREDENTIALS_VTAB_VERSION, "cache", cache_resolve, cache_destroy,
    cache_invalidate};

strands_credentials_provider *aws_cred_cache_new(
    strands_credentials_provider *inner, int64_t max_age_s)
{
    cache *c = inner ? calloc(1, sizeof *c) : NULL;
    if (!c) {
        strands_credentials_provider_free(inner);
        return NULL;
    }
    c->base.vtab = &cache_vtab;
    c->inner = inner;
    c->max_age_s = max_age_s;
    pthread_mutex_init(&c->lock, NULL);
    pthread_cond_init(&c->done, NULL);
    return &c->base;
}
