/* The shared retry runner: attempts, what is retried, the standard-mode
 * retry quota (cost 5, 10 for timeouts, refunds), legacy mode without a
 * quota, "never repeat" attempts, and cancellation during backoff.      */
#include "test.h"
#include "aws/retry.h"

/* An attempt that fails `fail_times` times with (status, http, code). */
typedef struct script {
    int calls;
    int fail_times;
    strands_status status;
    long http;
    const char *code;
} script;

static strands_status attempt(void *user, long *http_status,
                              strands_error *err)
{
    script *s = user;
    s->calls++;
    if (s->calls > s->fail_times) return STRANDS_OK;
    *http_status = s->http;
    return strands_error_set(err, s->status, s->code, "attempt %d failed",
                             s->calls);
}

static void init(aws_retry_policy *p, const char *mode, const char *max)
{
    strands_error err;
    CHECK_INT(aws_retry_policy_init(p, mode, max, &err), STRANDS_OK);
}

static void test_policy_defaults_and_errors(void)
{
    aws_retry_policy p;
    init(&p, NULL, NULL);
    CHECK_INT(p.max_attempts, 3);
    CHECK_INT(p.mode, AWS_RETRY_STANDARD);
    CHECK_INT(atomic_load(&p.quota), AWS_RETRY_QUOTA_MAX);
    init(&p, "legacy", NULL);
    CHECK_INT(p.max_attempts, 5);
    init(&p, "adaptive", "7");
    CHECK_INT(p.max_attempts, 7);
    strands_error err;
    CHECK_INT(aws_retry_policy_init(&p, "eager", NULL, &err),
              STRANDS_E_INVALID);
    CHECK(strstr(err.message, "AWS_RETRY_MODE") == err.message);
    CHECK_INT(aws_retry_policy_init(&p, NULL, "0", &err), STRANDS_E_INVALID);
    CHECK(strstr(err.message, "AWS_MAX_ATTEMPTS") == err.message);
}

static void test_retries_until_success_and_refunds(void)
{
    aws_retry_policy p;
    init(&p, NULL, "3");
    script s = {0, 2, STRANDS_E_UPSTREAM, 503, "ServiceUnavailableException"};
    strands_error err;
    CHECK_INT(aws_retry_run(&p, attempt, &s, NULL, &err), STRANDS_OK);
    CHECK_INT(s.calls, 3);
    /* Two retries cost 10; success after retries refunds the last cost. */
    CHECK_INT(atomic_load(&p.quota), AWS_RETRY_QUOTA_MAX - 10 + 5);
}

static void test_gives_up_after_max_attempts(void)
{
    aws_retry_policy p;
    init(&p, NULL, "2");
    script s = {0, 99, STRANDS_E_UPSTREAM, 429, "ThrottlingException"};
    strands_error err;
    CHECK_INT(aws_retry_run(&p, attempt, &s, NULL, &err), STRANDS_E_UPSTREAM);
    CHECK_INT(s.calls, 2);
    CHECK_STR(err.code, "ThrottlingException");
    CHECK(strstr(err.message, "attempt 2") != NULL); /* the last error */
}

static void test_non_retryable_and_never_repeat(void)
{
    aws_retry_policy p;
    init(&p, NULL, "5");
    script v = {0, 99, STRANDS_E_UPSTREAM, 400, "ValidationException"};
    strands_error err;
    CHECK_INT(aws_retry_run(&p, attempt, &v, NULL, &err), STRANDS_E_UPSTREAM);
    CHECK_INT(v.calls, 1);
    script n = {0, 99, STRANDS_E_NO_CREDENTIALS, 0, NULL};
    CHECK_INT(aws_retry_run(&p, attempt, &n, NULL, &err),
              STRANDS_E_NO_CREDENTIALS);
    CHECK_INT(n.calls, 1);
    /* A throttle after output was streamed: http_status -1, no retry. */
    script t = {0, 99, STRANDS_E_UPSTREAM, -1, "ThrottlingException"};
    CHECK_INT(aws_retry_run(&p, attempt, &t, NULL, &err), STRANDS_E_UPSTREAM);
    CHECK_INT(t.calls, 1);
    CHECK_INT(atomic_load(&p.quota), AWS_RETRY_QUOTA_MAX);
}

static void test_quota_exhaustion_stops_retries(void)
{
    aws_retry_policy p;
    init(&p, NULL, "3");
    atomic_store(&p.quota, 9);        /* room for one retry of cost 5 */
    script s = {0, 99, STRANDS_E_NETWORK, 0, NULL};
    strands_error err;
    CHECK_INT(aws_retry_run(&p, attempt, &s, NULL, &err), STRANDS_E_NETWORK);
    CHECK_INT(s.calls, 2);
    CHECK_INT(atomic_load(&p.quota), 4);
    /* A timeout costs 10: with 4 left there is no retry at all. */
    script t = {0, 99, STRANDS_E_TIMEOUT, 0, NULL};
    CHECK_INT(aws_retry_run(&p, attempt, &t, NULL, &err), STRANDS_E_TIMEOUT);
    CHECK_INT(t.calls, 1);
    /* A first-try success refunds 1. */
    script ok = {0, 0, STRANDS_OK, 0, NULL};
    CHECK_INT(aws_retry_run(&p, attempt, &ok, NULL, &err), STRANDS_OK);
    CHECK_INT(atomic_load(&p.quota), 5);
}

static void test_legacy_has_no_quota(void)
{
    aws_retry_policy p;
    init(&p, "legacy", "3");
    atomic_store(&p.quota, 0);
    script s = {0, 2, STRANDS_E_NETWORK, 0, NULL};
    strands_error err;
    CHECK_INT(aws_retry_run(&p, attempt, &s, NULL, &err), STRANDS_OK);
    CHECK_INT(s.calls, 3);
}

static void test_cancel_during_backoff(void)
{
    aws_retry_policy p;
    init(&p, NULL, "5");
    atomic_int cancelled = 1;
    script s = {0, 99, STRANDS_E_NETWORK, 0, NULL};
    strands_error err;
    CHECK_INT(aws_retry_run(&p, attempt, &s, &cancelled, &err),
              STRANDS_E_CANCELLED);
    CHECK_INT(s.calls, 1);
}

int main(void)
{
    RUN(test_policy_defaults_and_errors);
    RUN(test_retries_until_success_and_refunds);
    RUN(test_gives_up_after_max_attempts);
    RUN(test_non_retryable_and_never_repeat);
    RUN(test_quota_exhaustion_stops_retries);
    RUN(test_legacy_has_no_quota);
    RUN(test_cancel_during_backoff);
    return test_report();
}
