/* net/retry: the generic loop (attempts, per-caller classifier, never-
 * repeat, budget hooks, cancel during backoff, Retry-After honoured and
 * capped), the default HTTP classifier (429/500/502/503/504 and transport
 * errors from ANY server), backoff bounds, and net_retry_http_send
 * against a plain (non-AWS) HTTP server on loopback answering 503, 429
 * with Retry-After, then 200.                                           */
#include <arpa/inet.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include "test.h"
#include "net/retry.h"
#include "strands/clock.h"

/* ---- the generic loop ------------------------------------------------ */

typedef struct script {
    int calls;
    int fail_times;
    strands_status status;
    long http;
    long retry_after_ms;
    const char *code;
} script;

static strands_status attempt(void *user, net_attempt *a, strands_error *err)
{
    script *s = user;
    s->calls++;
    if (a->number != s->calls) abort();
    if (s->calls > s->fail_times) return STRANDS_OK;
    a->http_status = s->http;
    a->retry_after_ms = s->retry_after_ms;
    return strands_error_set(err, s->status, s->code, "attempt %d failed",
                             s->calls);
}

static double zero(void) { return 0.0; }

static net_retry_policy quick(int attempts)
{
    net_retry_policy p = {.max_attempts = attempts, .base_delay_ms = 1,
                          .max_delay_ms = 4, .random_unit = zero};
    return p;
}

static void test_retries_until_success(void)
{
    net_retry_policy p = quick(3);
    script s = {0, 2, STRANDS_E_UPSTREAM, 503, -1, NULL};
    strands_error err;
    CHECK_INT(net_retry_run(&p, attempt, &s, NULL, &err), STRANDS_OK);
    CHECK_INT(s.calls, 3);
    script t = {0, 5, STRANDS_E_UPSTREAM, 429, -1, NULL};
    CHECK_INT(net_retry_run(&p, attempt, &t, NULL, &err), STRANDS_E_UPSTREAM);
    CHECK_INT(t.calls, 3);              /* max attempts */
    CHECK_STR(err.message, "attempt 3 failed");
    /* NULL policy: one attempt. */
    script u = {0, 1, STRANDS_E_NETWORK, 0, -1, NULL};
    CHECK_INT(net_retry_run(NULL, attempt, &u, NULL, &err), STRANDS_E_NETWORK);
    CHECK_INT(u.calls, 1);
}

static void test_default_classifier(void)
{
    static const long yes[] = {429, 500, 502, 503, 504};
    static const long no[] = {400, 401, 403, 404, 409, 413, 501, 505};
    net_attempt a = {1, 0, -1};
    for (size_t i = 0; i < 5; i++) {
        a.http_status = yes[i];
        CHECK(net_retry_http_classify(NULL, STRANDS_E_UPSTREAM, &a, NULL));
    }
    for (size_t i = 0; i < 8; i++) {
        a.http_status = no[i];
        CHECK(!net_retry_http_classify(NULL, STRANDS_E_UPSTREAM, &a, NULL));
    }
    a.http_status = 0;
    CHECK(net_retry_http_classify(NULL, STRANDS_E_NETWORK, &a, NULL));
    CHECK(net_retry_http_classify(NULL, STRANDS_E_TIMEOUT, &a, NULL));
    CHECK(!net_retry_http_classify(NULL, STRANDS_E_PARSE, &a, NULL));
    CHECK(!net_retry_http_classify(NULL, STRANDS_E_TOO_LARGE, &a, NULL));
    a.http_status = 503;
    CHECK(!net_retry_http_classify(NULL, STRANDS_E_CANCELLED, &a, NULL));
    /* Through the loop: 404 is not retried, 503 is. */
    net_retry_policy p = quick(3);
    strands_error err;
    script s = {0, 5, STRANDS_E_UPSTREAM, 404, -1, NULL};
    CHECK_INT(net_retry_run(&p, attempt, &s, NULL, &err), STRANDS_E_UPSTREAM);
    CHECK_INT(s.calls, 1);
}

/* A caller's own classifier: retry only code "Busy", whatever the HTTP
 * status; the default classifier is not consulted. */
static int busy_only(void *user, strands_status st, const net_attempt *a,
                     const strands_error *err)
{
    (void)st;
    (void)a;
    ++*(int *)user;
    return !strcmp(err->code, "Busy");
}

static void test_per_caller_classifier(void)
{
    int asked = 0;
    net_retry_policy p = quick(4);
    p.classify = busy_only;
    p.classify_user = &asked;
    strands_error err;
    script s = {0, 2, STRANDS_E_UPSTREAM, 400, -1, "Busy"};
    CHECK_INT(net_retry_run(&p, attempt, &s, NULL, &err), STRANDS_OK);
    CHECK_INT(s.calls, 3);
    CHECK_INT(asked, 2);
    script t = {0, 2, STRANDS_E_UPSTREAM, 503, -1, "Other"};
    CHECK_INT(net_retry_run(&p, attempt, &t, NULL, &err), STRANDS_E_UPSTREAM);
    CHECK_INT(t.calls, 1);
    /* "Never repeat" wins over any classifier. */
    script u = {0, 2, STRANDS_E_UPSTREAM, -1, -1, "Busy"};
    CHECK_INT(net_retry_run(&p, attempt, &u, NULL, &err), STRANDS_E_UPSTREAM);
    CHECK_INT(u.calls, 1);
}

typedef struct budget {
    int left;
    int retries;
    int success_attempts;
} budget;

static int take(void *user, strands_status st, const net_attempt *a)
{
    (void)st;
    (void)a;
    budget *b = user;
    if (b->left == 0) return 0;
    b->left--;
    b->retries++;
    return 1;
}

static void done(void *user, int attempts)
{
    ((budget *)user)->success_attempts = attempts;
}

static void test_budget_hooks(void)
{
    budget b = {1, 0, 0};
    net_retry_policy p = quick(5);
    p.before_retry = take;
    p.on_success = done;
    p.budget_user = &b;
    strands_error err;
    script s = {0, 5, STRANDS_E_NETWORK, 0, -1, NULL};
    CHECK_INT(net_retry_run(&p, attempt, &s, NULL, &err), STRANDS_E_NETWORK);
    CHECK_INT(s.calls, 2);          /* one retry, then the budget is out */
    CHECK_STR(err.message, "attempt 2 failed");
    b.left = 5;
    script t = {0, 1, STRANDS_E_NETWORK, 0, -1, NULL};
    CHECK_INT(net_retry_run(&p, attempt, &t, NULL, &err), STRANDS_OK);
    CHECK_INT(b.success_attempts, 2);
}

static void test_retry_after(void)
{
    strands_error err;
    net_retry_policy p = quick(2);
    p.max_delay_ms = 5000;
    /* The server's 300 ms wins over the (zero) jittered backoff. */
    script s = {0, 1, STRANDS_E_UPSTREAM, 503, 300, NULL};
    int64_t t0 = strands_clock_mono_ms();
    CHECK_INT(net_retry_run(&p, attempt, &s, NULL, &err), STRANDS_OK);
    int64_t took = strands_clock_mono_ms() - t0;
    CHECK(took >= 300 && took < 2000);
    /* Capped by max_retry_after_ms. */
    p.max_retry_after_ms = 50;
    script t = {0, 1, STRANDS_E_UPSTREAM, 429, 60000, NULL};
    t0 = strands_clock_mono_ms();
    CHECK_INT(net_retry_run(&p, attempt, &t, NULL, &err), STRANDS_OK);
    CHECK(strands_clock_mono_ms() - t0 < 1000);
    /* Ignored when the policy says so (-1). */
    p.max_retry_after_ms = -1;
    script u = {0, 1, STRANDS_E_UPSTREAM, 429, 60000, NULL};
    t0 = strands_clock_mono_ms();
    CHECK_INT(net_retry_run(&p, attempt, &u, NULL, &err), STRANDS_OK);
    CHECK(strands_clock_mono_ms() - t0 < 1000);
}

static void test_cancel_during_backoff(void)
{
    atomic_int cancelled = 1;
    net_retry_policy p = quick(3);
    strands_error err;
    script s = {0, 5, STRANDS_E_UPSTREAM, 503, 10000, NULL};
    CHECK_INT(net_retry_run(&p, attempt, &s, &cancelled, &err),
              STRANDS_E_CANCELLED);
    CHECK_STR(err.code, "Cancelled");
    CHECK_INT(s.calls, 1);
}

static void test_backoff_bounds(void)
{
    CHECK_INT(net_retry_backoff_ms(1000, 20000, 1, 0.999999), 999);
    CHECK_INT(net_retry_backoff_ms(1000, 20000, 2, 0.5), 1000);
    CHECK_INT(net_retry_backoff_ms(1000, 20000, 6, 0.5), 10000);
    CHECK_INT(net_retry_backoff_ms(1000, 20000, 60, 0.5), 10000);
    CHECK_INT(net_retry_backoff_ms(1000, 20000, 3, 0), 0);
    CHECK_INT(net_retry_backoff_ms(0, 0, 1, 0.5), 500);   /* defaults */
    for (int i = 0; i < 100; i++) {
        double u = net_retry_random_unit();
        CHECK(u >= 0 && u < 1);
    }
}

/* ---- a plain HTTP server on loopback --------------------------------- */

typedef struct server {
    int fd;
    int port;
    const char *const *answers;  /* one raw response per connection */
    int served;
} server;

static void *serve(void *arg)
{
    server *s = arg;
    for (int i = 0; s->answers[i]; i++) {
        struct pollfd p = {s->fd, POLLIN, 0};
        if (poll(&p, 1, 5000) <= 0) break;
        int c = accept(s->fd, NULL, NULL);
        if (c < 0) break;
        char buf[4096];
        size_t got = 0;
        while (got < sizeof buf - 1 && !strstr(buf, "\r\n\r\n")) {
            struct pollfd q = {c, POLLIN, 0};
            if (poll(&q, 1, 5000) <= 0) break;
            ssize_t n = read(c, buf + got, sizeof buf - 1 - got);
            if (n <= 0) break;
            got += (size_t)n;
            buf[got] = '\0';
        }
        if (write(c, s->answers[i], strlen(s->answers[i])) < 0) {
        }
        close(c);
        s->served++;
    }
    return NULL;
}

static int start_server(server *s, pthread_t *t)
{
    s->fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (bind(s->fd, (struct sockaddr *)&a, sizeof a) || listen(s->fd, 8) ||
        getsockname(s->fd, (struct sockaddr *)&a, &len))
        return -1;
    s->port = ntohs(a.sin_port);
    return pthread_create(t, NULL, serve, s);
}

static void test_http_send_retries_plain_server(void)
{
    static const char *const answers[] = {
        "HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\n"
        "Content-Length: 4\r\n\r\nbusy",
        "HTTP/1.1 429 Too Many Requests\r\nConnection: close\r\n"
        "Retry-After: 1\r\nContent-Length: 4\r\n\r\nslow",
        "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok",
        NULL};
    server s = {.answers = answers};
    pthread_t t;
    CHECK_INT(start_server(&s, &t), 0);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/x", s.port);
    http_client *c = http_client_new(1);
    http_request req = {.method = "GET", .url = url,
                        .read_timeout_ms = 5000, .no_proxy = 1};
    net_retry_policy p = quick(3);
    p.max_retry_after_ms = 2000;
    http_response resp;
    strands_error err;
    int64_t t0 = strands_clock_mono_ms();
    CHECK_INT(net_retry_http_send(c, &req, &p, NULL, &resp, &err),
              STRANDS_OK);
    int64_t took = strands_clock_mono_ms() - t0;
    CHECK_INT(resp.status, 200);
    CHECK_STR(dynbuf_str(&resp.body), "ok");
    CHECK(took >= 1000);              /* Retry-After: 1 was honoured */
    http_response_cleanup(&resp);
    pthread_join(t, NULL);
    CHECK_INT(s.served, 3);
    close(s.fd);

    /* Always 503: the last answer comes back after max attempts. */
    static const char *const busy[] = {
        "HTTP/1.1 503 Nope\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 503 Nope\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
        NULL};
    server b = {.answers = busy};
    CHECK_INT(start_server(&b, &t), 0);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/x", b.port);
    p = quick(2);
    CHECK_INT(net_retry_http_send(c, &req, &p, NULL, &resp, &err),
              STRANDS_OK);
    CHECK_INT(resp.status, 503);
    http_response_cleanup(&resp);
    pthread_join(t, NULL);
    CHECK_INT(b.served, 2);
    close(b.fd);

    /* 404 is final: one request. */
    static const char *const missing[] = {
        "HTTP/1.1 404 Not Found\r\nConnection: close\r\n"
        "Content-Length: 0\r\n\r\n",
        NULL};
    server m = {.answers = missing};
    CHECK_INT(start_server(&m, &t), 0);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/x", m.port);
    p = quick(3);
    CHECK_INT(net_retry_http_send(c, &req, &p, NULL, &resp, &err),
              STRANDS_OK);
    CHECK_INT(resp.status, 404);
    http_response_cleanup(&resp);
    pthread_join(t, NULL);
    CHECK_INT(m.served, 1);
    close(m.fd);

    /* Streaming requests are refused. */
    http_request sreq = req;
    sreq.on_data = (int (*)(void *, const char *, size_t))1;
    CHECK_INT(net_retry_http_send(c, &sreq, &p, NULL, &resp, &err),
              STRANDS_E_INVALID);
    http_client_free(c);
}

int main(void)
{
    RUN(test_retries_until_success);
    RUN(test_default_classifier);
    RUN(test_per_caller_classifier);
    RUN(test_budget_hooks);
    RUN(test_retry_after);
    RUN(test_cancel_during_backoff);
    RUN(test_backoff_bounds);
    RUN(test_http_send_retries_plain_server);
    return test_report();
}
