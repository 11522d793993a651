/* AWS "standard" retry policy: which failures are retryable, and the
 * backoff delay rand * min(2^(n-1), 20) seconds before retry n.          */
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

#endif
