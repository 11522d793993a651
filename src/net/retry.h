/* The generic retry loop: attempts, full-jitter exponential backoff,
 * a cancel-aware sleep, and a PER-CALLER classifier that decides which
 * failures are worth another attempt. The default classifier is plain
 * HTTP: transport errors (E_NETWORK, E_TIMEOUT) and HTTP 429, 500, 502,
 * 503, 504 from any server, honouring the server's Retry-After. AWS
 * clients layer their policy (throttle codes, retry quota) on top
 * (aws/retry.h); other protocols (MCP, OpenAI-style providers) bring
 * their own classifier or use the default.                              */
#ifndef STRANDS_NET_RETRY_H
#define STRANDS_NET_RETRY_H

#include <stdatomic.h>
#include <stdint.h>

#include "net/http_client.h"
#include "strands/status.h"

/* What one attempt reports besides its status; zeroed (retry_after_ms
 * -1) by the loop before each attempt.                                 */
typedef struct net_attempt {
    int number;           /* 1 for the first attempt (set by the loop) */
    long http_status;     /* the HTTP status of an error answer, 0 for a
                             transport failure; -1: this attempt must not
                             be repeated (e.g. output already forwarded) */
    long retry_after_ms;  /* the server's Retry-After in ms, -1 if none */
} net_attempt;

/* One attempt: returns OK or an error (filling err and *a). */
typedef strands_status net_attempt_fn(void *user, net_attempt *a,
                                      strands_error *err);

/* Classifier: 1 when the failed attempt (status st, *a, err) may be
 * retried. Called only for failures with a->http_status >= 0.          */
typedef int net_retry_classify_fn(void *user, strands_status st,
                                  const net_attempt *a,
                                  const strands_error *err);

typedef struct net_retry_policy {
    int max_attempts;                  /* >= 1; the first attempt counts */
    int64_t base_delay_ms;             /* backoff before retry 1; 0: 1 s */
    int64_t max_delay_ms;              /* backoff cap; 0: 20 s */
    int64_t max_retry_after_ms;        /* Retry-After cap; 0: max_delay;
                                          -1: Retry-After is ignored */
    net_retry_classify_fn *classify;   /* NULL: net_retry_http_classify */
    void *classify_user;
    /* Optional retry budget (the AWS retry quota): before_retry returns
     * 0 to stop retrying (the last error stands); on_success is told how
     * many attempts the call took.                                       */
    int (*before_retry)(void *user, strands_status st, const net_attempt *a);
    void (*on_success)(void *user, int attempts);
    void *budget_user;
    double (*random_unit)(void);       /* NULL: net_retry_random_unit */
} net_retry_policy;

/** Runs fn until it succeeds, the classifier says stop, attempts or the
 * budget run out (the last attempt's error is returned), or *cancelled
 * becomes non-zero during a backoff (E_CANCELLED, code "Cancelled").  */
strands_status net_retry_run(const net_retry_policy *p, net_attempt_fn *fn,
                             void *user, const atomic_int *cancelled,
                             strands_error *err);

/** The default classifier (see above). E_CANCELLED never retries.     */
int net_retry_http_classify(void *user, strands_status st,
                            const net_attempt *a, const strands_error *err);

/** Full-jitter backoff before retry number `retry` (1 = first retry):
 * unit * min(base * 2^(retry-1), max), with unit in [0,1).            */
int64_t net_retry_backoff_ms(int64_t base_ms, int64_t max_ms, int retry,
                             double unit);
/** A random factor in [0,1) from getrandom(). Thread-safe.            */
double net_retry_random_unit(void);
/** Sleeps ms, waking within 50 ms when *cancelled becomes non-zero.
 * Returns 0 after the full sleep, -1 when cancelled.                  */
int net_retry_sleep(int64_t ms, const atomic_int *cancelled);

/** One plain HTTP request with retries under policy p (p->classify NULL:
 * the default classifier): a 429/5xx answer or a transport failure is
 * retried, honouring Retry-After. On OK, *resp holds the final answer
 * (any status; the caller checks it and cleans it up). Streaming
 * requests (req->on_data) are refused with E_INVALID: their bytes could
 * be delivered twice.                                                  */
strands_status net_retry_http_send(http_client *c, const http_request *req,
                                   const net_retry_policy *p,
                                   const atomic_int *cancelled,
                                   http_response *resp, strands_error *err);

#endif
