/* The AWS retry policy (standard / legacy): which AWS failures are
 * retryable and the retry quota, as a classifier and budget on top of
 * the generic loop in net/retry.c.                                      */
#include <stdlib.h>
#include <string.h>

#include "aws/retry.h"
#include "net/retry.h"

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
    return net_retry_backoff_ms(1000, 20000, retry, unit);
}

double aws_retry_random_unit(void)
{
    return net_retry_random_unit();
}

int aws_retry_sleep(int64_t ms, const atomic_int *cancelled)
{
    return net_retry_sleep(ms, cancelled);
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

/* One aws_retry_run call: the caller's attempt and the quota spent. */
typedef struct aws_run {
    aws_retry_policy *policy;
    aws_attempt_fn *fn;
    void *user;
    int last_cost;
} aws_run;

static strands_status aws_attempt(void *user, net_attempt *a,
                                  strands_error *err)
{
    aws_run *r = user;
    return r->fn(r->user, &a->http_status, err);
}

/* The AWS classifier: transport failures, and AWS error answers
 * (E_UPSTREAM) that aws_retry_is_retryable accepts. */
static int aws_classify(void *user, strands_status st, const net_attempt *a,
                        const strands_error *err)
{
    (void)user;
    int transport = st == STRANDS_E_NETWORK || st == STRANDS_E_TIMEOUT;
    if (!transport && st != STRANDS_E_UPSTREAM) return 0;
    return aws_retry_is_retryable(transport ? st : STRANDS_OK,
                                  a->http_status, err ? err->code : NULL);
}

static int aws_before_retry(void *user, strands_status st,
                            const net_attempt *a)
{
    (void)a;
    aws_run *r = user;
    int cost = st == STRANDS_E_TIMEOUT ? AWS_RETRY_TIMEOUT_COST
                                       : AWS_RETRY_COST;
    if (!quota_take(r->policy, cost)) return 0;
    r->last_cost = cost;
    return 1;
}

static void aws_on_success(void *user, int attempts)
{
    (void)attempts;
    aws_run *r = user;
    quota_refund(r->policy, r->last_cost ? r->last_cost : 1);
}

strands_status aws_retry_run(aws_retry_policy *policy, aws_attempt_fn *fn,
                             void *user, const atomic_int *cancelled,
                             strands_error *err)
{
    aws_run r = {policy, fn, user, 0};
    if (!policy) return net_retry_run(NULL, aws_attempt, &r, cancelled, err);
    net_retry_policy p = {
        .max_attempts = policy->max_attempts,
        .base_delay_ms = 1000,
        .max_delay_ms = 20000,
        .max_retry_after_ms = -1, /* AWS SDKs do not use Retry-After */
        .classify = aws_classify,
        .before_retry = aws_before_retry,
        .on_success = aws_on_success,
        .budget_user = &r,
    };
    return net_retry_run(&p, aws_attempt, &r, cancelled, err);
}
