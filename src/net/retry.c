/* The generic retry loop, its default HTTP classifier, backoff and a
 * cancel-aware sleep; plus a retried plain HTTP request.               */
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "net/retry.h"

#define DEFAULT_BASE_MS 1000
#define DEFAULT_MAX_MS 20000

int net_retry_http_classify(void *user, strands_status st,
                            const net_attempt *a, const strands_error *err)
{
    (void)user;
    (void)err;
    if (st == STRANDS_E_CANCELLED || a->http_status < 0) return 0;
    if (st == STRANDS_E_NETWORK || st == STRANDS_E_TIMEOUT) return 1;
    switch (a->http_status) {
    case 429: case 500: case 502: case 503: case 504:
        return 1;
    default:
        return 0;
    }
}

int64_t net_retry_backoff_ms(int64_t base_ms, int64_t max_ms, int retry,
                             double unit)
{
    if (retry < 1) retry = 1;
    if (base_ms <= 0) base_ms = DEFAULT_BASE_MS;
    if (max_ms <= 0) max_ms = DEFAULT_MAX_MS;
    int64_t d = base_ms;
    for (int i = 1; i < retry && d < max_ms; i++) d *= 2;
    if (d > max_ms) d = max_ms;
    if (unit < 0) unit = 0;
    if (unit >= 1) unit = 0.999999;
    return (int64_t)(unit * (double)d);
}

double net_retry_random_unit(void)
{
    uint32_t r = 0;
    if (getrandom(&r, sizeof r, 0) != (ssize_t)sizeof r)
        r = (uint32_t)clock();
    return (double)r / 4294967296.0;
}

int net_retry_sleep(int64_t ms, const atomic_int *cancelled)
{
    while (ms > 0) {
        if (cancelled && atomic_load(cancelled)) return -1;
        int64_t step = ms < 50 ? ms : 50;
        struct timespec ts = {step / 1000, (long)(step % 1000) * 1000000L};
        nanosleep(&ts, NULL);
        ms -= step;
    }
    return cancelled && atomic_load(cancelled) ? -1 : 0;
}

/* The delay before retry n: the server's Retry-After when it gave one
 * (capped), else full-jitter backoff. */
static int64_t delay_for(const net_retry_policy *p, const net_attempt *a)
{
    int64_t max = p->max_delay_ms > 0 ? p->max_delay_ms : DEFAULT_MAX_MS;
    if (a->retry_after_ms >= 0 && p->max_retry_after_ms >= 0) {
        int64_t cap = p->max_retry_after_ms ? p->max_retry_after_ms : max;
        return a->retry_after_ms < cap ? a->retry_after_ms : cap;
    }
    double u = p->random_unit ? p->random_unit() : net_retry_random_unit();
    return net_retry_backoff_ms(p->base_delay_ms, max, a->number, u);
}

strands_status net_retry_run(const net_retry_policy *p, net_attempt_fn *fn,
                             void *user, const atomic_int *cancelled,
                             strands_error *err)
{
    int max = p && p->max_attempts > 0 ? p->max_attempts : 1;
    net_retry_classify_fn *classify =
        p && p->classify ? p->classify : net_retry_http_classify;
    for (int n = 1;; n++) {
        net_attempt a = {.number = n, .http_status = 0,
                         .retry_after_ms = -1};
        strands_error_clear(err);
        strands_status st = fn(user, &a, err);
        if (st == STRANDS_OK) {
            if (p && p->on_success) p->on_success(p->budget_user, n);
            return st;
        }
        if (n >= max || a.http_status < 0 || !p) return st;
        if (!classify(p->classify_user, st, &a, err)) return st;
        if (p->before_retry && !p->before_retry(p->budget_user, st, &a))
            return st; /* out of budget: keep the last error */
        if (net_retry_sleep(delay_for(p, &a), cancelled) != 0)
            return strands_error_set(err, STRANDS_E_CANCELLED, "Cancelled",
                                     "call cancelled");
    }
}

/* ---- a retried plain HTTP request ------------------------------------ */

typedef struct http_try {
    http_client *c;
    const http_request *req;
    http_response *resp;
    int have_resp;
} http_try;

static strands_status http_attempt(void *user, net_attempt *a,
                                   strands_error *err)
{
    http_try *t = user;
    if (t->have_resp) http_response_cleanup(t->resp);
    t->have_resp = 0;
    strands_status st = http_client_send(t->c, t->req, t->resp, err);
    if (st != STRANDS_OK) return st;
    t->have_resp = 1;
    if (t->resp->status < 400) return STRANDS_OK;
    a->http_status = t->resp->status;
    if (t->resp->retry_after_ms >= 0)
        a->retry_after_ms = t->resp->retry_after_ms;
    return strands_error_set(err, STRANDS_E_UPSTREAM, NULL,
                             "HTTP %ld from %s", t->resp->status,
                             t->req->method);
}

strands_status net_retry_http_send(http_client *c, const http_request *req,
                                   const net_retry_policy *p,
                                   const atomic_int *cancelled,
                                   http_response *resp, strands_error *err)
{
    memset(resp, 0, sizeof *resp);
    resp->retry_after_s = -1;
    resp->retry_after_ms = -1;
    if (req->on_data)
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "a streaming request cannot be retried "
                                 "blindly");
    http_try t = {c, req, resp, 0};
    strands_status st = net_retry_run(p, http_attempt, &t, cancelled, err);
    if (t.have_resp && st == STRANDS_E_CANCELLED) {
        http_response_cleanup(resp);
        return st;
    }
    if (t.have_resp) {
        /* The last answer, even an HTTP error, is the caller's to read. */
        strands_error_clear(err);
        return STRANDS_OK;
    }
    return st;
}
