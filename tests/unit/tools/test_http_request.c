/* The http_request built-in run directly (src/tools/builtin/http_request.c),
 * against a loopback listener that accepts connections and never answers:
 * input errors (no connection made), the address refusal without an
 * allow list, the cancel flag and the call's deadline stopping a stalled
 * request promptly, and the options passed as `user`.                  */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <time.h>

#include "strands/clock.h"
#include "test.h"
#include "tools/builtin/builtin.h"

/* A loopback listener that never accepts: connects succeed (backlog),
 * requests are never answered. */
static int listener(int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sin = {.sin_family = AF_INET};
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof sin;
    if (fd < 0 || bind(fd, (struct sockaddr *)&sin, sizeof sin) ||
        listen(fd, 8) || getsockname(fd, (struct sockaddr *)&sin, &len))
        return -1;
    *port = ntohs(sin.sin_port);
    return fd;
}

static strands_status run(const builtin_options *o, const char *input_json,
                          const strands_tool_context *ctx, json_t **out,
                          strands_error *err)
{
    json_t *input = json_loads(input_json, JSON_ALLOW_NUL, NULL);
    CHECK(input != NULL);
    *out = NULL;
    strands_error_clear(err);
    strands_status st = builtin_http_request.run((void *)o, input, ctx, out,
                                                 err);
    json_decref(input);
    return st;
}

static void test_input_errors(void)
{
    static const struct {
        const char *input;
        const char *want; /* the message, or its start */
    } cases[] = {
        {"[]", "input must be a JSON object with a \"url\" string"},
        {"{}", "\"url\" is required and must be a string"},
        {"{\"url\":\"http://127.0.0.1/\",\"method\":\"TRACE\"}",
         "\"method\" must be one of GET, HEAD, POST, PUT, PATCH, DELETE, "
         "OPTIONS"},
        {"{\"url\":\"http://127.0.0.1/\",\"method\":\"get\"}",
         "\"method\" must be one of GET, HEAD, POST, PUT, PATCH, DELETE, "
         "OPTIONS"},
        {"{\"url\":\"http://127.0.0.1/\",\"body\":5}",
         "\"body\" must be a string"},
        {"{\"url\":\"http://127.0.0.1/\",\"method\":\"HEAD\",\"body\":\"x\"}",
         "a HEAD request has no body"},
        {"{\"url\":\"http://127.0.0.1/\",\"headers\":[]}",
         "\"headers\" must be an object of strings"},
        {"{\"url\":\"http://127.0.0.1/\",\"headers\":{\"X\":1}}",
         "header 'X' must be a string"},
        {"{\"url\":\"http://127.0.0.1/\",\"headers\":{\"X\":\"a\\nb\"}}",
         "header 'X' contains CR, LF or NUL"},
        {"{\"url\":\"http://127.0.0.1/\",\"headers\":{\"X\":\"a\\rb\"}}",
         "header 'X' contains CR, LF or NUL"},
        {"{\"url\":\"http://127.0.0.1/\",\"headers\":{\"X\":\"a\\u0000b\"}}",
         "header 'X' contains CR, LF or NUL"},
        {"{\"url\":\"http://127.0.0.1/\",\"headers\":{\"X Y\":\"a\"}}",
         "header name 'X Y' has a character not allowed in a header name"},
        {"{\"url\":\"http://127.0.0.1/\",\"headers\":{\"\":\"a\"}}",
         "header names must have 1..256 characters"},
        {"{\"url\":\"http://127.0.0.1/\",\"headers\":{\"content-length\":"
         "\"5\"}}",
         "header 'content-length' is set from the body; leave it out"},
        {"{\"url\":\"ftp://127.0.0.1/\"}",
         "\"url\" must be an http:// or https:// URL"},
        {"{\"url\":\"127.0.0.1/x\"}",
         "\"url\" is not a valid absolute URL ("}, /* + curl's reason */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_t *out;
        strands_error err;
        CHECK_INT(run(NULL, cases[i].input, NULL, &out, &err),
                  STRANDS_E_INVALID);
        CHECK(out == NULL);
        if (strncmp(err.message, cases[i].want, strlen(cases[i].want)))
            FAIL_AT("%s: got \"%s\", want \"%s\"", cases[i].input,
                    err.message, cases[i].want);
    }
    /* caps */
    char big[200 * 12 + 64];
    size_t len = (size_t)snprintf(big, sizeof big,
                                  "{\"url\":\"http://127.0.0.1/\","
                                  "\"headers\":{");
    for (int i = 0; i < 65; i++)
        len += (size_t)snprintf(big + len, sizeof big - len,
                                "%s\"H%d\":\"v\"", i ? "," : "", i);
    snprintf(big + len, sizeof big - len, "}}");
    json_t *out;
    strands_error err;
    CHECK_INT(run(NULL, big, NULL, &out, &err), STRANDS_E_INVALID);
    CHECK_STR(err.message, "too many headers (65, maximum 64)");
}

static void test_refused_without_allow_list(void)
{
    int port, fd = listener(&port);
    if (fd < 0) SKIP("no loopback listener");
    char input[128];
    snprintf(input, sizeof input, "{\"url\":\"http://127.0.0.1:%d/\"}", port);
    json_t *out;
    strands_error err;
    CHECK_INT(run(NULL, input, NULL, &out, &err), STRANDS_E_INVALID);
    CHECK_STR(err.message, "refused: 127.0.0.1 is loopback; add it to "
                           "HTTP_REQUEST_ALLOW to allow it");
    /* a listed address is let through: the stalled server then times
     * out, after HTTP_REQUEST_TIMEOUT_SECONDS */
    builtin_options o;
    builtin_options_default(&o);
    o.http_allow = "127.0.0.0/8";
    o.http_timeout_seconds = 1;
    int64_t t0 = strands_clock_mono_ms();
    CHECK_INT(run(&o, input, NULL, &out, &err), STRANDS_E_TIMEOUT);
    CHECK_STR(err.message, "request timed out after 1 s "
                           "(HTTP_REQUEST_TIMEOUT_SECONDS)");
    int64_t took = strands_clock_mono_ms() - t0;
    CHECK(took >= 900 && took < 3000);
    close(fd);
}

typedef struct canceller {
    atomic_int *flag;
    int ms;
} canceller;

static void *cancel_later(void *arg)
{
    canceller *c = arg;
    struct timespec ts = {0, (long)c->ms * 1000000L};
    nanosleep(&ts, NULL);
    atomic_store(c->flag, 1);
    return NULL;
}

static void test_cancel_flag_and_deadline(void)
{
    int port, fd = listener(&port);
    if (fd < 0) SKIP("no loopback listener");
    char input[128];
    snprintf(input, sizeof input, "{\"url\":\"http://127.0.0.1:%d/\"}", port);
    builtin_options o;
    builtin_options_default(&o);
    o.http_allow = "127.0.0.1";
    json_t *out;
    strands_error err;

    atomic_int flag = 0;
    strands_tool_context ctx = {.cancelled = &flag};
    canceller c = {&flag, 200};
    pthread_t t;
    pthread_create(&t, NULL, cancel_later, &c);
    int64_t t0 = strands_clock_mono_ms();
    CHECK_INT(run(&o, input, &ctx, &out, &err), STRANDS_E_CANCELLED);
    int64_t took = strands_clock_mono_ms() - t0;
    pthread_join(t, NULL);
    CHECK_STR(err.message, "request cancelled");
    CHECK(took >= 150 && took < 2500); /* 30 s limit otherwise */

    /* the call's deadline caps HTTP_REQUEST_TIMEOUT_SECONDS (30) */
    strands_tool_context dl = {.deadline_ms = strands_clock_mono_ms() + 300};
    t0 = strands_clock_mono_ms();
    CHECK_INT(run(&o, input, &dl, &out, &err), STRANDS_E_TIMEOUT);
    took = strands_clock_mono_ms() - t0;
    CHECK_STR(err.message, "request stopped at the tool call's deadline");
    CHECK(took >= 250 && took < 2000);
    /* a deadline already past: no request at all */
    dl.deadline_ms = strands_clock_mono_ms() - 1;
    CHECK_INT(run(&o, input, &dl, &out, &err), STRANDS_E_TIMEOUT);
    close(fd);
}

int main(void)
{
    RUN(test_input_errors);
    RUN(test_refused_without_allow_list);
    RUN(test_cancel_flag_and_deadline);
    return test_report();
}
