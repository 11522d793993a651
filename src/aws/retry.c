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
