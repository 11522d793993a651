/* Tests for the small AWS helpers: endpoint URL parsing and the
 * http-only-on-loopback rule (src/aws/endpoint.c), standard-mode retry
 * classification, backoff bounds and cancellable sleep (src/aws/retry.c),
 * and AWS error responses turned into strands_error (aws_error_from_response
 * in src/aws/aws_call.c).                                               */
#include <pthread.h>
#include <stdatomic.h>

#include "aws/aws_call.h"
#include "aws/endpoint.h"
#include "aws/retry.h"
#include "strands/clock.h"
#include "test.h"

/* ---- endpoint --------------------------------------------------------- */

typedef struct ep_ok_case {
    const char *url;
    int https;
    const char *base;
    const char *host;
    const char *prefix;
} ep_ok_case;

static void test_endpoint_accepts(void)
{
    static const ep_ok_case cases[] = {
        {"https://bedrock-runtime.us-east-1.amazonaws.com", 1,
         "https://bedrock-runtime.us-east-1.amazonaws.com",
         "bedrock-runtime.us-east-1.amazonaws.com", ""},
        {"https://example.com/", 1, "https://example.com", "example.com", ""},
        {"HTTPS://example.com", 1, "https://example.com", "example.com", ""},
        /* Default ports are dropped from the Host header only. */
        {"https://example.com:443", 1, "https://example.com:443",
         "example.com", ""},
        {"https://example.com:8443/proxy/bedrock/", 1,
         "https://example.com:8443", "example.com:8443", "/proxy/bedrock"},
        {"https://example.com:80", 1, "https://example.com:80",
         "example.com:80", ""},
        {"https://10.1.2.3/a", 1, "https://10.1.2.3", "10.1.2.3", "/a"},
        /* Plain http only to loopback hosts. */
        {"http://127.0.0.1", 0, "http://127.0.0.1", "127.0.0.1", ""},
        {"http://127.0.0.1:8080", 0, "http://127.0.0.1:8080",
         "127.0.0.1:8080", ""},
        {"http://127.8.9.10:9000/p", 0, "http://127.8.9.10:9000",
         "127.8.9.10:9000", "/p"},
        {"http://localhost:80", 0, "http://localhost:80", "localhost", ""},
        {"http://LocalHost:5000", 0, "http://LocalHost:5000",
         "LocalHost:5000", ""},
        {"http://[::1]", 0, "http://[::1]", "[::1]", ""},
        {"http://[::1]:8080/x//", 0, "http://[::1]:8080", "[::1]:8080", "/x"},
        {"http://[::1]:80", 0, "http://[::1]:80", "[::1]", ""},
        {"https://[2001:db8::1]:443", 1, "https://[2001:db8::1]:443",
         "[2001:db8::1]", ""},
        {"https://h:65535", 1, "https://h:65535", "h:65535", ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const ep_ok_case *c = &cases[i];
        aws_endpoint ep;
        strands_error err;
        strands_error_clear(&err);
        strands_status st = aws_endpoint_parse(c->url, &ep, &err);
        if (st != STRANDS_OK) {
            FAIL_AT("%s rejected: %s", c->url, err.message);
            continue;
        }
        CHECK_INT(ep.https, c->https);
        CHECK_STR(ep.base, c->base);
        CHECK_STR(ep.host, c->host);
        CHECK_STR(ep.prefix, c->prefix);
        CHECK_INT(strands_endpoint_validate(c->url, NULL), STRANDS_OK);
    }
}

/* Expects rejection with E_INVALID and a message containing `why`. */
static void expect_bad_endpoint(const char *url, const char *why, int line)
{
    aws_endpoint ep;
    strands_error err;
    strands_error_clear(&err);
    strands_status st = aws_endpoint_parse(url, &ep, &err);
    if (st != STRANDS_E_INVALID) {
        fprintf(stderr, "  line %d: ", line);
        FAIL_AT("'%s' gave %s (host '%s'), want E_INVALID", url ? url : "NULL",
                strands_status_name(st), ep.host);
        return;
    }
    CHECK_INT(err.status, STRANDS_E_INVALID);
    if (!strstr(err.message, why)) {
        fprintf(stderr, "  line %d: ", line);
        FAIL_AT("'%s': message '%s' lacks '%s'", url ? url : "NULL",
                err.message, why);
    }
    CHECK_INT(strands_endpoint_validate(url, NULL), STRANDS_E_INVALID);
}

#define BAD_EP(url, why) expect_bad_endpoint(url, why, __LINE__)

static void test_endpoint_rejects(void)
{
    BAD_EP(NULL, "empty");
    BAD_EP("", "empty");
    BAD_EP("example.com", "https://");
    BAD_EP("ftp://example.com", "https://");
    BAD_EP("https:/example.com", "https://");
    /* Plain http to anything but loopback. */
    BAD_EP("http://example.com", "loopback");
    BAD_EP("http://example.com:80", "loopback");
    BAD_EP("http://10.0.0.1", "loopback");
    BAD_EP("http://128.0.0.1", "loopback");
    BAD_EP("http://127.example.com", "loopback");
    BAD_EP("http://127.0.0.1.nip.io", "loopback");
    BAD_EP("http://localhost.example.com", "loopback");
    BAD_EP("http://127.0.0.1@example.com", "user information");
    BAD_EP("https://user:pw@example.com", "user information");
    BAD_EP("http://[::2]", "loopback");
    BAD_EP("http://[::1", "IPv6");
    BAD_EP("http://[::1]x", "IPv6");
    /* No host. */
    BAD_EP("https://", "host");
    BAD_EP("https:///path", "host");
    BAD_EP("https://:443", "host");
    /* Bad ports. */
    BAD_EP("https://example.com:", "port");
    BAD_EP("https://example.com:abc", "port");
    BAD_EP("https://example.com:-1", "port");
    BAD_EP("https://example.com:44 3", "space");
    BAD_EP("https://example.com:0", "port");
    BAD_EP("https://example.com:65536", "port");
    BAD_EP("https://example.com:99999999999999999999", "port");
    BAD_EP("http://127.0.0.1:8080:1", "port");
    BAD_EP("http://[::1]:", "port");
    /* Query strings and fragments, before or after a path. */
    BAD_EP("https://example.com?x=1", "query");
    BAD_EP("https://example.com#frag", "fragment");
    BAD_EP("https://example.com/p?x=1", "query");
    BAD_EP("https://example.com/p#f", "fragment");
    /* Numeric hosts other than dotted decimal (curl would rewrite them). */
    BAD_EP("http://2130706433", "dotted-decimal");
    BAD_EP("http://127.1", "dotted-decimal");
}

static void test_endpoint_lengths(void)
{
    char url[1200];
    /* Host of 299 characters fits; 300 does not. */
    memcpy(url, "https://", 8);
    memset(url + 8, 'h', 299);
    url[8 + 299] = '\0';
    aws_endpoint ep;
    CHECK_INT(aws_endpoint_parse(url, &ep, NULL), STRANDS_OK);
    CHECK_INT(strlen(ep.host), 299);
    memset(url + 8, 'h', 300);
    url[8 + 300] = '\0';
    BAD_EP(url, "host");
    /* Prefix of 255 characters fits; 256 does not. */
    snprintf(url, sizeof url, "https://h/");
    memset(url + 10, 'p', 254);
    url[10 + 254] = '\0';
    CHECK_INT(aws_endpoint_parse(url, &ep, NULL), STRANDS_OK);
    CHECK_INT(strlen(ep.prefix), 255);
    memset(url + 10, 'p', 255);
    url[10 + 255] = '\0';
    BAD_EP(url, "path too long");
}

/* ---- retry ------------------------------------------------------------ */

static void test_retry_classification(void)
{
    /* Transport failures. */
    CHECK(aws_retry_is_retryable(STRANDS_E_NETWORK, 0, NULL));
    CHECK(aws_retry_is_retryable(STRANDS_E_TIMEOUT, 0, NULL));
    CHECK(!aws_retry_is_retryable(STRANDS_E_CANCELLED, 0, NULL));
    CHECK(!aws_retry_is_retryable(STRANDS_E_TOO_LARGE, 0, NULL));
    CHECK(!aws_retry_is_retryable(STRANDS_E_NO_CREDENTIALS, 0, NULL));
    CHECK(!aws_retry_is_retryable(STRANDS_E_CANCELLED, 503,
                                  "ThrottlingException"));
    /* HTTP statuses 500, 502, 503, 504, whatever the code. */
    static const long transient_http[] = {500, 502, 503, 504};
    for (size_t i = 0; i < 4; i++) {
        CHECK(aws_retry_is_retryable(STRANDS_OK, transient_http[i], NULL));
        CHECK(aws_retry_is_retryable(STRANDS_OK, transient_http[i],
                                     "SomethingElse"));
    }
    static const long final_http[] = {400, 401, 403, 404, 408, 413, 424,
                                      429, 501, 505};
    for (size_t i = 0; i < sizeof final_http / sizeof final_http[0]; i++)
        CHECK(!aws_retry_is_retryable(STRANDS_OK, final_http[i], NULL));

    /* Throttling codes from section 5.6: retryable and throttling. */
    static const char *const throttles[] = {
        "Throttling", "ThrottlingException", "ThrottledException",
        "RequestThrottledException", "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "TransactionInProgressException", "RequestLimitExceeded",
        "BandwidthLimitExceeded", "LimitExceededException",
        "RequestThrottled", "SlowDown", "EC2ThrottledException"};
    for (size_t i = 0; i < sizeof throttles / sizeof throttles[0]; i++) {
        if (!aws_retry_is_throttle(throttles[i]))
            FAIL_AT("%s not a throttle", throttles[i]);
        if (!aws_retry_is_retryable(STRANDS_OK, 400, throttles[i]))
            FAIL_AT("%s not retryable", throttles[i]);
    }
    CHECK(aws_retry_is_retryable(STRANDS_OK, 429, "ThrottlingException"));
    /* Transient codes and modeled-retryable ones: not throttling. */
    static const char *const transient[] = {
        "RequestTimeout", "RequestTimeoutException", "PriorRequestNotComplete",
        "ModelNotReadyException"};
    for (size_t i = 0; i < sizeof transient / sizeof transient[0]; i++) {
        if (!aws_retry_is_retryable(STRANDS_OK, 400, transient[i]))
            FAIL_AT("%s not retryable", transient[i]);
        if (aws_retry_is_throttle(transient[i]))
            FAIL_AT("%s is a throttle", transient[i]);
    }
    CHECK(aws_retry_is_retryable(STRANDS_OK, 429, "ModelNotReadyException"));
    /* Bedrock's final client errors (table in section 1.6). */
    static const char *const final[] = {
        "ValidationException", "AccessDeniedException",
        "ResourceNotFoundException", "ModelTimeoutException",
        "ModelErrorException", "ServiceQuotaExceededException",
        "throttling", "THROTTLINGEXCEPTION", "Throttling ", "", NULL};
    static const long final_status[] = {400, 403, 404, 408, 424, 400,
                                        400, 400, 400, 400, 400};
    for (size_t i = 0; i < sizeof final / sizeof final[0]; i++) {
        const char *c = final[i];
        if (aws_retry_is_retryable(STRANDS_OK, final_status[i], c))
            FAIL_AT("%s retryable", c ? c : "NULL");
        if (aws_retry_is_throttle(c)) FAIL_AT("%s throttle", c ? c : "NULL");
    }
}

static void test_retry_delay_bounds(void)
{
    for (int n = 1; n <= 8; n++) {
        int64_t base = n <= 5 ? (int64_t)1000 << (n - 1) : 20000;
        if (base > 20000) base = 20000;
        CHECK_INT(aws_retry_delay_ms(n, 0.0), 0);
        int64_t hi = aws_retry_delay_ms(n, 0.999);
        int64_t want = (int64_t)(0.999 * (double)base);
        if (hi < want - 1 || hi > want || hi >= base)
            FAIL_AT("retry %d: delay %lld, want ~%lld (< %lld)", n,
                    (long long)hi, (long long)want, (long long)base);
        int64_t mid = aws_retry_delay_ms(n, 0.5);
        CHECK_INT(mid, base / 2);
        /* Random units stay in [0, base). */
        for (int k = 0; k < 200; k++) {
            int64_t d = aws_retry_delay_ms(n, aws_retry_random_unit());
            if (d < 0 || d >= base) {
                FAIL_AT("retry %d: random delay %lld out of [0,%lld)", n,
                        (long long)d, (long long)base);
                break;
            }
        }
    }
    CHECK_INT(aws_retry_delay_ms(1, 0.999), 999);
    CHECK_INT(aws_retry_delay_ms(6, 0.999), 19980);
    /* Out-of-range arguments are clamped. */
    CHECK_INT(aws_retry_delay_ms(0, 0.5), 500);
    CHECK_INT(aws_retry_delay_ms(-3, 0.5), 500);
    CHECK_INT(aws_retry_delay_ms(1000, 0.5), 10000);
    CHECK_INT(aws_retry_delay_ms(64, 0.5), 10000);
    CHECK_INT(aws_retry_delay_ms(3, -1.0), 0);
    CHECK(aws_retry_delay_ms(3, 1.0) < 4000);
    CHECK(aws_retry_delay_ms(3, 1.0) >= 3990);
    CHECK(aws_retry_delay_ms(30, 7.0) < 20000);
}

static void test_retry_random_unit(void)
{
    double lo = 1.0, hi = 0.0;
    for (int i = 0; i < 2000; i++) {
        double u = aws_retry_random_unit();
        if (u < 0.0 || u >= 1.0) {
            FAIL_AT("unit %f out of [0,1)", u);
            break;
        }
        if (u < lo) lo = u;
        if (u > hi) hi = u;
    }
    CHECK(lo < 0.05);
    CHECK(hi > 0.95);
}

typedef struct canceller {
    atomic_int *flag;
    int delay_ms;
} canceller;

static void *cancel_later(void *arg)
{
    canceller *c = arg;
    struct timespec ts = {0, (long)c->delay_ms * 1000000L};
    nanosleep(&ts, NULL);
    atomic_store(c->flag, 1);
    return NULL;
}

static void test_retry_sleep(void)
{
    atomic_int flag = 0;
    int64_t t0 = strands_clock_mono_ms();
    CHECK_INT(aws_retry_sleep(60, &flag), 0);
    int64_t el = strands_clock_mono_ms() - t0;
    CHECK(el >= 59);
    CHECK(el < 2000);
    CHECK_INT(aws_retry_sleep(0, NULL), 0);
    CHECK_INT(aws_retry_sleep(-5, NULL), 0);
    CHECK_INT(aws_retry_sleep(10, NULL), 0);

    /* Already cancelled: returns at once. */
    atomic_store(&flag, 1);
    t0 = strands_clock_mono_ms();
    CHECK_INT(aws_retry_sleep(10000, &flag), -1);
    CHECK(strands_clock_mono_ms() - t0 < 100);

    /* Cancelled by another thread 100 ms into a 10 s sleep. */
    atomic_store(&flag, 0);
    canceller c = {&flag, 100};
    pthread_t th;
    CHECK_INT(pthread_create(&th, NULL, cancel_later, &c), 0);
    t0 = strands_clock_mono_ms();
    int rc = aws_retry_sleep(10000, &flag);
    el = strands_clock_mono_ms() - t0;
    pthread_join(th, NULL);
    CHECK_INT(rc, -1);
    CHECK(el >= 90);
    CHECK(el < 1500);
}

/* ---- aws_error_from_response ----------------------------------------- */

/* Fills a response by hand; the body is a dynbuf. */
static void make_resp(http_response *r, long status, const char *error_type,
                      const char *body)
{
    memset(r, 0, sizeof *r);
    r->status = status;
    dynbuf_init(&r->body, 1 << 20);
    if (body && dynbuf_puts(&r->body, body) != STRANDS_OK) abort();
    snprintf(r->error_type, sizeof r->error_type, "%s",
             error_type ? error_type : "");
}

typedef struct err_case {
    long status;
    const char *header;    /* x-amzn-ErrorType, NULL when absent */
    const char *body;
    const char *code;      /* expected err.code */
    const char *message;   /* expected in err.message */
} err_case;

static void test_error_from_response(void)
{
    static const err_case cases[] = {
        /* Header with a ":http://internal..." suffix. */
        {400, "ValidationException:http://internal.amazon.com/coral/"
              "com.amazon.bedrock/",
         "{\"message\":\"Malformed input request\"}", "ValidationException",
         "Malformed input request"},
        /* Header with a "namespace#" prefix. */
        {429, "com.amazonaws.bedrockruntime#ThrottlingException",
         "{\"message\":\"Too many requests\"}", "ThrottlingException",
         "Too many requests"},
        /* Both, as in the smithy restJson1 protocol tests. */
        {400, "aws.protocoltests.restjson#FooError:http://internal.amazon"
              ".com/coral/com.amazon.coral.validate/",
         "{}", "FooError", "(no message)"},
        /* A '#' inside the suffix does not pick the wrong part. */
        {400, "aws.protocoltests.restjson#FooError:http://x.example/p#frag",
         "", "FooError", "(no message)"},
        /* Several values joined by commas: the first. */
        {400, "FooError,BarError", "", "FooError", "(no message)"},
        /* Header beats the body. */
        {404, "ResourceNotFoundException",
         "{\"__type\":\"Other\",\"code\":\"Other2\",\"message\":\"gone\"}",
         "ResourceNotFoundException", "gone"},
        /* Fallbacks to the body: __type, code (code first, as the SDK). */
        {400, NULL,
         "{\"__type\":\"aws.protocoltests.restjson#FooError\","
         "\"message\":\"m1\"}",
         "FooError", "m1"},
        {400, NULL, "{\"code\":\"FooError\",\"Message\":\"M2\"}",
         "FooError", "M2"},
        {400, NULL,
         "{\"code\":\"CodeWins\",\"__type\":\"ns#TypeLoses\","
         "\"message\":\"m\"}",
         "CodeWins", "m"},
        /* "message" preferred to "Message". */
        {403, "AccessDeniedException",
         "{\"Message\":\"upper\",\"message\":\"lower\"}",
         "AccessDeniedException", "lower"},
        /* No code anywhere: HttpError<status>. */
        {502, NULL, "<html>Bad Gateway</html>", "HttpError502",
         "(no message)"},
        {503, NULL, "", "HttpError503", "(no message)"},
        {500, NULL, "{\"message\":\"boom\"}", "HttpError500", "boom"},
        {400, NULL, "{\"code\":42,\"__type\":null}", "HttpError400",
         "(no message)"},
        {418, NULL, "[\"code\",\"x\"]", "HttpError418", "(no message)"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const err_case *c = &cases[i];
        http_response r;
        make_resp(&r, c->status, c->header, c->body);
        strands_error err;
        strands_error_clear(&err);
        CHECK_INT(aws_error_from_response(&r, "Bedrock", &err),
                  STRANDS_E_UPSTREAM);
        CHECK_INT(err.status, STRANDS_E_UPSTREAM);
        CHECK_INT(err.http_status, c->status);
        if (strcmp(err.code, c->code))
            FAIL_AT("case %zu: code '%s', want '%s'", i, err.code, c->code);
        if (!strstr(err.message, c->message) ||
            !strstr(err.message, "Bedrock") ||
            !strstr(err.message, c->code))
            FAIL_AT("case %zu: message '%s'", i, err.message);
        http_response_cleanup(&r);
    }
}

static void test_error_from_response_exact_message(void)
{
    http_response r;
    make_resp(&r, 400, "ValidationException:http://internal.amazon.com/x",
              "{\"message\":\"The provided model identifier is invalid.\"}");
    strands_error err;
    aws_error_from_response(&r, "Bedrock", &err);
    CHECK_STR(err.message, "Bedrock error 400 ValidationException: The "
                           "provided model identifier is invalid.");
    http_response_cleanup(&r);

    /* A code longer than the field is cut, NUL-terminated. */
    char longcode[200];
    memset(longcode, 'E', sizeof longcode - 1);
    longcode[sizeof longcode - 1] = '\0';
    make_resp(&r, 400, longcode, "");
    aws_error_from_response(&r, "Bedrock", &err);
    CHECK_INT(strlen(err.code), STRANDS_ERROR_CODE_MAX - 1);
    http_response_cleanup(&r);
}

int main(void)
{
    RUN(test_endpoint_accepts);
    RUN(test_endpoint_rejects);
    RUN(test_endpoint_lengths);
    RUN(test_retry_classification);
    RUN(test_retry_delay_bounds);
    RUN(test_retry_random_unit);
    RUN(test_retry_sleep);
    RUN(test_error_from_response);
    RUN(test_error_from_response_exact_message);
    return test_report();
}
