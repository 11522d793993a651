/* Credential cache and chain: refresh before expiry with an injected
 * clock, single-flight refresh under concurrency, keeping valid cached
 * credentials when a refresh fails, backoff, invalidate, max age, and the
 * chain's order, skip and stop rules.                                   */
#include <pthread.h>
#include <time.h>

#include "test.h"
#include "aws/credentials/cred_cache.h"
#include "strands/clock.h"

static int64_t fake_now = 1000000;
static int64_t clock_fn(void *user)
{
    (void)user;
    return fake_now;
}

/* A scripted inner provider. */
typedef struct fake_provider {
    strands_credentials_provider base;
    atomic_int calls;
    int fail;                /* non-zero: answer with this status */
    int64_t lifetime;        /* expiration = now + lifetime (0: none) */
    int delay_ms;            /* slow fetch, to exercise single flight */
    const char *name;
    int invalidated;
} fake_provider;

static strands_status fake_resolve(strands_credentials_provider *self,
                                   strands_credentials *out,
                                   strands_error *err)
{
    fake_provider *p = (fake_provider *)self;
    int n = atomic_fetch_add(&p->calls, 1) + 1;
    if (p->delay_ms) {
        struct timespec ts = {0, p->delay_ms * 1000000L};
        nanosleep(&ts, NULL);
    }
    if (p->fail)
        return strands_error_set(err, (strands_status)p->fail, NULL,
                                 "%s: scripted failure", p->name);
    memset(out, 0, sizeof *out);
    snprintf(out->access_key_id, sizeof out->access_key_id, "AKID%d", n);
    snprintf(out->secret_access_key, sizeof out->secret_access_key, "s%d", n);
    out->expiration = p->lifetime ? strands_clock_wall() + p->lifetime : 0;
    return STRANDS_OK;
}

static void fake_invalidate(strands_credentials_provider *self)
{
    ((fake_provider *)self)->invalidated++;
}

static void fake_destroy(strands_credentials_provider *self)
{
    (void)self; /* stack-allocated in the tests */
}

static const strands_credentials_provider_vtab fake_vtab = {
    STRANDS_CREDENTIALS_VTAB_VERSION, "fake", fake_resolve, fake_destroy,
    fake_invalidate};

static void fake_init(fake_provider *p, const char *name)
{
    memset(p, 0, sizeof *p);
    p->base.vtab = &fake_vtab;
    p->name = name;
}

static const char *resolve_akid(strands_credentials_provider *c,
                                strands_credentials *out)
{
    strands_error err;
    if (strands_credentials_resolve(c, out, &err) != STRANDS_OK) return NULL;
    return out->access_key_id;
}

static void test_static_credentials_fetched_once(void)
{
    strands_clock_set_wall(clock_fn, NULL);
    fake_provider f;
    fake_init(&f, "f");
    strands_credentials_provider *c = aws_cred_cache_new(&f.base, 0);
    strands_credentials cr;
    for (int i = 0; i < 5; i++) CHECK_STR(resolve_akid(c, &cr), "AKID1");
    fake_now += 86400 * 365;
    CHECK_STR(resolve_akid(c, &cr), "AKID1");
    CHECK_INT(atomic_load(&f.calls), 1);
    strands_credentials_provider_free(c);
}

static void test_refresh_five_minutes_before_expiry(void)
{
    fake_provider f;
    fake_init(&f, "f");
    f.lifetime = 3600;
    strands_credentials_provider *c = aws_cred_cache_new(&f.base, 0);
    strands_credentials cr;
    CHECK_STR(resolve_akid(c, &cr), "AKID1");
    fake_now += 3600 - 301;               /* 301 s left: still cached */
    CHECK_STR(resolve_akid(c, &cr), "AKID1");
    fake_now += 2;                        /* 299 s left: refreshed */
    CHECK_STR(resolve_akid(c, &cr), "AKID2");
    CHECK_INT(atomic_load(&f.calls), 2);
    strands_credentials_provider_free(c);
}

static void test_failed_refresh_keeps_valid_credentials(void)
{
    fake_provider f;
    fake_init(&f, "f");
    f.lifetime = 600;
    strands_credentials_provider *c = aws_cred_cache_new(&f.base, 0);
    strands_credentials cr;
    CHECK_STR(resolve_akid(c, &cr), "AKID1");
    f.fail = STRANDS_E_NETWORK;
    fake_now += 400;                      /* inside the margin */
    CHECK_STR(resolve_akid(c, &cr), "AKID1");   /* refresh failed, kept */
    CHECK_INT(atomic_load(&f.calls), 2);
    CHECK_STR(resolve_akid(c, &cr), "AKID1");   /* backing off: no call */
    CHECK_INT(atomic_load(&f.calls), 2);
    fake_now += 2;                        /* backoff over: tries again */
    CHECK_STR(resolve_akid(c, &cr), "AKID1");
    CHECK_INT(atomic_load(&f.calls), 3);
    fake_now += 300;                      /* expired: now an error */
    strands_error err;
    CHECK_INT(strands_credentials_resolve(c, &cr, &err), STRANDS_E_NETWORK);
    CHECK(strstr(err.message, "scripted failure") != NULL);
    f.fail = 0;
    fake_now += 120;
    CHECK(resolve_akid(c, &cr) != NULL);  /* recovers */
    strands_credentials_provider_free(c);
}

static void test_max_age_and_invalidate(void)
{
    fake_provider f;
    fake_init(&f, "f");
    strands_credentials_provider *c = aws_cred_cache_new(&f.base, 60);
    strands_credentials cr;
    CHECK_STR(resolve_akid(c, &cr), "AKID1");
    fake_now += 59;
    CHECK_STR(resolve_akid(c, &cr), "AKID1");
    fake_now += 1;
    CHECK_STR(resolve_akid(c, &cr), "AKID2");
    strands_credentials_invalidate(c);
    CHECK_INT(f.invalidated, 1);
    CHECK_STR(resolve_akid(c, &cr), "AKID3");
    strands_credentials_provider_free(c);
}

static void test_short_lived_credentials_do_not_loop(void)
{
    fake_provider f;
    fake_init(&f, "f");
    f.lifetime = 100;                     /* always inside the margin */
    strands_credentials_provider *c = aws_cred_cache_new(&f.base, 0);
    strands_credentials cr;
    CHECK(resolve_akid(c, &cr) != NULL);
    CHECK_INT(atomic_load(&f.calls), 1); /* one fetch per call at most */
    f.lifetime = 5;                       /* already within the grace */
    fake_now += 200;
    strands_error err;
    CHECK_INT(strands_credentials_resolve(c, &cr, &err),
              STRANDS_E_NO_CREDENTIALS);
    CHECK(strstr(err.message, "already expired") != NULL);
    strands_credentials_provider_free(c);
}

typedef struct racer {
    strands_credentials_provider *c;
    int ok;
} racer;

static void *race(void *arg)
{
    racer *r = arg;
    strands_credentials cr;
    strands_error err;
    r->ok = strands_credentials_resolve(r->c, &cr, &err) == STRANDS_OK &&
            !strcmp(cr.access_key_id, "AKID1");
    return NULL;
}

static void test_single_flight(void)
{
    fake_provider f;
    fake_init(&f, "f");
    f.delay_ms = 100;
    strands_credentials_provider *c = aws_cred_cache_new(&f.base, 0);
    pthread_t t[8];
    racer r[8];
    for (int i = 0; i < 8; i++) {
        r[i] = (racer){c, 0};
        pthread_create(&t[i], NULL, race, &r[i]);
    }
    for (int i = 0; i < 8; i++) {
        pthread_join(t[i], NULL);
        CHECK(r[i].ok);
    }
    CHECK_INT(atomic_load(&f.calls), 1);
    strands_credentials_provider_free(c);
}

static strands_credentials_provider *heap_fake(const char *name, int fail,
                                               fake_provider **out)
{
    fake_provider *p = calloc(1, sizeof *p);
    fake_init(p, name);
    p->fail = fail;
    *out = p;
    return &p->base;
}

static void test_chain_order_skip_and_stop(void)
{
    fake_provider *a, *b, *c3;
    strands_credentials_provider *ps[3] = {
        heap_fake("a", STRANDS_E_NO_CREDENTIALS, &a),
        heap_fake("b", 0, &b), heap_fake("c", 0, &c3)};
    strands_credentials_provider *chain = aws_cred_chain_new(ps, 3, NULL);
    strands_credentials cr;
    CHECK_STR(resolve_akid(chain, &cr), "AKID1");
    CHECK_STR(cr.source, "fake");
    CHECK_INT(atomic_load(&a->calls), 1);
    CHECK_INT(atomic_load(&b->calls), 1);
    CHECK_INT(atomic_load(&c3->calls), 0);
    /* A configured provider that fails stops the chain. */
    b->fail = STRANDS_E_UPSTREAM;
    strands_error err;
    CHECK_INT(strands_credentials_resolve(chain, &cr, &err),
              STRANDS_E_UPSTREAM);
    CHECK_INT(atomic_load(&c3->calls), 0);
    /* Nothing configured: the message lists every reason. */
    b->fail = STRANDS_E_NO_CREDENTIALS;
    c3->fail = STRANDS_E_NO_CREDENTIALS;
    CHECK_INT(strands_credentials_resolve(chain, &cr, &err),
              STRANDS_E_NO_CREDENTIALS);
    CHECK(strstr(err.message, "a: scripted failure") != NULL);
    CHECK(strstr(err.message, "c: scripted failure") != NULL);
    strands_credentials_provider_free(chain);
    free(a);
    free(b);
    free(c3);
}

int main(void)
{
    strands_clock_set_wall(clock_fn, NULL);
    RUN(test_static_credentials_fetched_once);
    RUN(test_refresh_five_minutes_before_expiry);
    RUN(test_failed_refresh_keeps_valid_credentials);
    RUN(test_max_age_and_invalidate);
    RUN(test_short_lived_credentials_do_not_loop);
    RUN(test_single_flight);
    RUN(test_chain_order_skip_and_stop);
    strands_clock_set_wall(NULL, NULL);
    return test_report();
}
