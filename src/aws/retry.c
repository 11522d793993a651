/* Retry classification and backoff for AWS calls (standard mode). */
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "aws/retry.h"

static const char *const throttle_codes[] = {
    "Throttling", "ThrottlingException", "ThrottledException",
    "RequestThrottledException", "TooManyRequestsException",
    "ProvisionedThroughputExceededException", "TransactionInProgressException",
    "RequestLimitExceeded", "BandwidthLimitExceeded", "LimitExceededException",
    "RequestThrottled", "SlowDown", "EC2ThrottledException",
    "throttlingException", NULL};

static const char *const transient_codes[] = {
    "RequestTimeout", "RequestTimeoutException", "PriorRequestNotComplete",
    "ModelNotReadyException", "InternalServerException",
    "ServiceUnavailableException", "internalServerException",
    "serviceUnavailableException", NULL};

static int in_list(const char *const *list, const char *code)
{
    if (!code || !*code) return 0;
    for (; *list; list++)
        if (!strcmp(*list, code)) return 1;
    return 0;
}

int aws_retry_is_throttle(const char *code)
{
    return in_list(throttle_codes, code);
}

int aws_retry_is_retryable(strands_status transport, long http_status,
                           const char *code)
{
    if (transport == STRANDS_E_NETWORK || transport == STRANDS_E_TIMEOUT)
        return 1;
    if (transport != STRANDS_OK) return 0;
    if (http_status == 500 || http_status == 502 || http_status == 503 ||
        http_status == 504)
        return 1;
    return in_list(throttle_codes, code) || in_list(transient_codes, code);
}

int64_t aws_retry_delay_ms(int retry, double unit)
{
    if (retry < 1) retry = 1;
    int64_t cap_ms = 20000;
    int64_t base_ms = retry > 15 ? cap_ms : (int64_t)1000 << (retry - 1);
    if (base_ms > cap_ms) base_ms = cap_ms;
    if (unit < 0) unit = 0;
    if (unit >= 1) unit = 0.999999;
    return (int64_t)(unit * (double)base_ms);
}

double aws_retry_random_unit(void)
{
    uint32_t r = 0;
    if (getrandom(&r, sizeof r, 0) != (ssize_t)sizeof r)
        r = (uint32_t)clock();
    return (double)r / 4294967296.0;
}

int aws_retry_sleep(int64_t ms, const atomic_int *cancelled)
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

strands_status aws_retry_policy_init(aws_retry_policy *p, const char *mode,
                                     const char *max_attempts,
                                     strands_error *err)
{
    p->mode = AWS_RETRY_STANDARD;
    if (mode && *mode) {
        if (!strcmp(mode, "standard"))
            p->mode = AWS_RETRY_STANDARD;
        else if (!strcmp(mode, "legacy"))
            p->mode = AWS_RETRY_LEGACY;
        else if (!strcmp(mode, "adaptive"))
            p->mode = AWS_RETRY_ADAPTIVE;
        else
            return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                     "AWS_RETRY_MODE: '%s' is not one of "
                                     "standard, legacy, adaptive", mode);
    }
    p->max_attempts = p->mode == AWS_RETRY_LEGACY ? 5 : 3;
    if (max_attempts && *max_attempts) {
        char *end = NULL;
        long n = strtol(max_attempts, &end, 10);
        if (*end || n < 1 || n > 20)
            return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                     "AWS_MAX_ATTEMPTS: '%s' is not an "
                                     "integer in 1..20", max_attempts);
        p->max_attempts = (int)n;
    }
    atomic_store(&p->quota, AWS_RETRY_QUOTA_MAX);
    return STRANDS_OK;
}

/* Takes the cost of one retry from the quota; 0 when it is exhausted. */
static int quota_take(aws_retry_policy *p, int cost)
{
    if (p->mode == AWS_RETRY_LEGACY) return 1;
    int q = atomic_load(&p->quota);
    while (q >= cost)
        if (atomic_compare_exchange_weak(&p->quota, &q, q - cost)) return 1;
    return 0;
}

static void quota_refund(aws_retry_policy *p, int amount)
{
    if (p->mode == AWS_RETRY_LEGACY) return;
    int q = atomic_load(&p->quota);
    int nq;
    do {
        nq = q + amount > AWS_RETRY_QUOTA_MAX ? AWS_RETRY_QUOTA_MAX
                                              : q + amount;
    } while (!atomic_compare_exchange_weak(&p->quota, &q, nq));
}

strands_status aws_retry_run(aws_retry_policy *policy, aws_attempt_fn *fn,
                             void *user, const atomic_int *cancelled,
                             strands_error *err)
{
    int max = policy ? policy->max_attempts : 1;
    int last_cost = 0;
    for (int n = 1;; n++) {
        long http_status = 0;
        strands_error_clear(err);
        strands_status st = fn(user, &http_status, err);
        if (st == STRANDS_OK) {
            if (policy) quota_refund(policy, last_cost ? last_cost : 1);
            return st;
        }
        if (n >= max || http_status < 0) return st;
        int transport = st == STRANDS_E_NETWORK || st == STRANDS_E_TIMEOUT;
        if (!transport && st != STRANDS_E_UPSTREAM) return st;
        if (!aws_retry_is_retryable(transport ? st : STRANDS_OK, http_status,
                                    err ? err->code : NULL))
            return st;
        int cost = st == STRANDS_E_TIMEOUT ? AWS_RETRY_TIMEOUT_COST
                                           : AWS_RETRY_COST;
        if (!quota_take(policy, cost)) return st; /* keep the last error */
        last_cost = cost;
        if (aws_retry_sleep(aws_retry_delay_ms(n, aws_retry_random_unit()),
                            cancelled) != 0)
            return strands_error_set(err, STRANDS_E_CANCELLED, "Cancelled",
                                     "call cancelled");
    }
}
