/* AWS retry policy ("standard" with a retry quota, "legacy" without):
 * which failures are retryable (throttle and transient codes, 5xx,
 * transport errors) and the backoff rand * min(2^(n-1), 20) seconds
 * before retry n. The loop itself is net/retry's; this is its AWS
 * classifier and budget.                                               */
#ifndef STRANDS_AWS_RETRY_H
#define STRANDS_AWS_RETRY_H

#include <stdatomic.h>
#include <stdint.h>

#include "strands/status.h"

/** True for throttling error codes (ThrottlingException, ...). */
int aws_retry_is_throttle(const char *code);
/** True when a failed attempt may be retried: a transport failure
 * (E_NETWORK, E_TIMEOUT), HTTP 500/502/503/504, a throttling or transient
 * error code, or a code the service models as retryable.                 */
int aws_retry_is_retryable(strands_status transport, long http_status,
                           const char *code);
/** Delay in ms before retry number `retry` (1 = first retry), with full
 * jitter; `unit` in [0,1) is the random factor (tests pass fixed values). */
int64_t aws_retry_delay_ms(int retry, double unit);
/** A random factor in [0,1). Thread-safe. */
double aws_retry_random_unit(void);
/** Sleeps ms milliseconds, waking early when *cancelled becomes non-zero.
 * Returns 0 after the full sleep, -1 when cancelled.                     */
int aws_retry_sleep(int64_t ms, const atomic_int *cancelled);

/* ---- retry policy shared by every AWS client ------------------------- */

typedef enum aws_retry_mode {
    AWS_RETRY_STANDARD = 0,  /* default: 3 attempts, retry quota */
    AWS_RETRY_LEGACY = 1,    /* 5 attempts, no quota */
    AWS_RETRY_ADAPTIVE = 2   /* standard; client-side rate limiting is not
                                implemented (documented) */
} aws_retry_mode;

#define AWS_RETRY_QUOTA_MAX 500
#define AWS_RETRY_COST 5
#define AWS_RETRY_TIMEOUT_COST 10

/* Attempts, mode and the process-wide retry quota (token bucket). One
 * policy is shared by all clients; thread-safe.                          */
typedef struct aws_retry_policy {
    int max_attempts;
    aws_retry_mode mode;
    atomic_int quota;
} aws_retry_policy;

/** Initializes a policy from AWS_RETRY_MODE and AWS_MAX_ATTEMPTS values
 * (NULL = unset). E_INVALID naming the variable for a bad value.        */
strands_status aws_retry_policy_init(aws_retry_policy *p, const char *mode,
                                     const char *max_attempts,
                                     strands_error *err);

/* One attempt of a call: returns its status and, for AWS error answers,
 * the HTTP status (err->code holds the AWS error code). An attempt that
 * must not be repeated (e.g. a stream that already delivered output) sets
 * *http_status to -1.                                                   */
typedef strands_status aws_attempt_fn(void *user, long *http_status,
                                      strands_error *err);

/** Runs fn until it succeeds, fails with a non-retryable error, runs out
 * of attempts or quota, or *cancelled is set (E_CANCELLED). Sleeps with
 * full jitter between attempts. policy NULL: one attempt.               */
strands_status aws_retry_run(aws_retry_policy *policy, aws_attempt_fn *fn,
                             void *user, const atomic_int *cancelled,
                             strands_error *err);

#endif
