/* net/http_client against a loopback server: the read timeout bounds
 * SILENCE (a stalled answer fails with E_TIMEOUT "ReadTimeout" soon after
 * the timeout; a slow answer that keeps sending runs longer than the
 * timeout and succeeds), Retry-After and retry-after-ms parsing, and an
 * allocation-failure sweep over libcurl's allocator (curl_global_init_mem): every run ends
 * in success or a clean E_NOMEM / E_NETWORK, and no request ever reaches
 * the server without its headers (a failed curl_slist_append used to drop
 * the whole list silently).                                             */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "test.h"
#include "net/http_client.h"
#include "strands/clock.h"

/* ---- failing allocator for libcurl ------------------------------------ */

static atomic_long alloc_count, fail_at; /* fail_at 0: never */

static int should_fail(void)
{
    long n = atomic_fetch_add(&alloc_count, 1) + 1;
    long f = atomic_load(&fail_at);
    return f && n == f;
}
static void *t_malloc(size_t n) { return should_fail() ? NULL : malloc(n); }
static void t_free(void *p) { free(p); }
static void *t_realloc(void *p, size_t n)
{
    return should_fail() ? NULL : realloc(p, n);
}
static char *t_strdup(const char *s) { return should_fail() ? NULL : strdup(s); }
static void *t_calloc(size_t a, size_t b)
{
    return should_fail() ? NULL : calloc(a, b);
}

/* ---- loopback server ------------------------------------------------- */

enum mode { M_OK, M_STALL, M_DRIP, M_RETRY_AFTER, M_RETRY_AFTER_MS, M_RETRY_MS_BAD };

typedef struct server {
    int fd, port;
    enum mode mode;
    atomic_int stop;
    atomic_int requests, missing_header;
} server;

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void say(int c, const char *s)
{
    if (write(c, s, strlen(s)) < 0) {
    }
}

static void handle(server *s, int c)
{
    char buf[8192];
    size_t got = 0;
    buf[0] = '\0';
    while (got < sizeof buf - 1 && !strstr(buf, "\r\n\r\n")) {
        struct pollfd q = {c, POLLIN, 0};
        if (poll(&q, 1, 2000) <= 0) return;
        ssize_t n = read(c, buf + got, sizeof buf - 1 - got);
        if (n <= 0) return;
        got += (size_t)n;
        buf[got] = '\0';
    }
    atomic_fetch_add(&s->requests, 1);
    if (!strstr(buf, "\r\nX-Test: yes\r\n") ||
        !strstr(buf, "\r\nX-Other: 2\r\n") || strstr(buf, "\r\nExpect:") ||
        strstr(buf, "\r\nAccept:"))
        atomic_fetch_add(&s->missing_header, 1);
    switch (s->mode) {
    case M_OK:
        say(c, "HTTP/1.1 200 OK\r\nConnection: close\r\n"
               "Content-Length: 2\r\n\r\nok");
        break;
    case M_RETRY_AFTER:
        say(c, "HTTP/1.1 503 Busy\r\nConnection: close\r\nRetry-After:  7 \r\n"
               "Content-Length: 0\r\n\r\n");
        break;
    case M_RETRY_AFTER_MS: /* both: the ms one wins, whatever the order */
        say(c, "HTTP/1.1 429 Slow\r\nConnection: close\r\n"
               "retry-after-ms: 1500.75\r\nRetry-After: 9\r\n"
               "Content-Length: 0\r\n\r\n");
        break;
    case M_RETRY_MS_BAD: /* not a number: Retry-After stands */
        say(c, "HTTP/1.1 429 Slow\r\nConnection: close\r\n"
               "Retry-After: 2\r\nretry-after-ms: soon\r\n"
               "Content-Length: 0\r\n\r\n");
        break;
    case M_STALL: /* headers and half the body, then silence */
        say(c, "HTTP/1.1 200 OK\r\nConnection: close\r\n"
               "Content-Length: 10\r\n\r\nhalf.");
        for (int i = 0; i < 40 && !atomic_load(&s->stop); i++) {
            struct pollfd q = {c, POLLIN, 0};
            if (poll(&q, 1, 100) > 0) break; /* client closed */
        }
        break;
    case M_DRIP: /* 10 chunks 250 ms apart: 2.25 s of answer */
        say(c, "HTTP/1.1 200 OK\r\nConnection: close\r\n"
               "Transfer-Encoding: chunked\r\n\r\n");
        for (int i = 0; i < 10; i++) {
            if (i) sleep_ms(250);
            say(c, "1\r\nx\r\n");
        }
        say(c, "0\r\n\r\n");
        break;
    }
}

static void *serve(void *arg)
{
    server *s = arg;
    while (!atomic_load(&s->stop)) {
        struct pollfd p = {s->fd, POLLIN, 0};
        if (poll(&p, 1, 50) <= 0) continue;
        int c = accept(s->fd, NULL, NULL);
        if (c < 0) continue;
        handle(s, c);
        close(c);
    }
    return NULL;
}

static pthread_t start(server *s, enum mode m)
{
    memset(s, 0, sizeof *s);
    s->mode = m;
    s->fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (bind(s->fd, (struct sockaddr *)&a, sizeof a) || listen(s->fd, 16) ||
        getsockname(s->fd, (struct sockaddr *)&a, &len))
        abort();
    s->port = ntohs(a.sin_port);
    pthread_t t;
    if (pthread_create(&t, NULL, serve, s)) abort();
    return t;
}

static void stop(server *s, pthread_t t)
{
    atomic_store(&s->stop, 1);
    pthread_join(t, NULL);
    close(s->fd);
}

static const char *const hdrs[] = {"X-Test: yes", "X-Other: 2"};

static strands_status get(http_client *c, const server *s, long read_ms,
                          http_response *resp, strands_error *err)
{
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/t", s->port);
    http_request req = {.method = "GET", .url = url, .headers = hdrs,
                        .n_headers = 2, .read_timeout_ms = read_ms,
                        .no_proxy = 1};
    strands_error_clear(err);
    return http_client_send(c, &req, resp, err);
}

static void test_read_timeout_bounds_silence(void)
{
    server s;
    pthread_t t = start(&s, M_STALL);
    http_client *c = http_client_new(2);
    http_response resp;
    strands_error err;
    int64_t t0 = strands_clock_mono_ms();
    CHECK_INT(get(c, &s, 700, &resp, &err), STRANDS_E_TIMEOUT);
    int64_t took = strands_clock_mono_ms() - t0;
    CHECK_STR(err.code, "ReadTimeout");
    /* Fires after 700 ms of silence, within libcurl's ~1 s idle tick. */
    CHECK(took >= 700 && took < 2500);
    http_response_cleanup(&resp);
    stop(&s, t);
    http_client_free(c);
}

static void test_steady_answer_outlives_read_timeout(void)
{
    server s;
    pthread_t t = start(&s, M_DRIP);
    http_client *c = http_client_new(2);
    http_response resp;
    strands_error err;
    int64_t t0 = strands_clock_mono_ms();
    CHECK_INT(get(c, &s, 1000, &resp, &err), STRANDS_OK);
    CHECK(strands_clock_mono_ms() - t0 >= 2000); /* > 2x the timeout */
    CHECK_INT(resp.status, 200);
    CHECK_STR(dynbuf_str(&resp.body), "xxxxxxxxxx");
    http_response_cleanup(&resp);
    stop(&s, t);
    http_client_free(c);
}

static void test_retry_after_header(void)
{
    server s;
    pthread_t t = start(&s, M_RETRY_AFTER);
    http_client *c = http_client_new(2);
    http_response resp;
    strands_error err;
    CHECK_INT(get(c, &s, 2000, &resp, &err), STRANDS_OK);
    CHECK_INT(resp.status, 503);
    CHECK_INT(resp.retry_after_s, 7);
    CHECK_INT(resp.retry_after_ms, 7000);
    http_response_cleanup(&resp);
    s.mode = M_RETRY_AFTER_MS;
    CHECK_INT(get(c, &s, 2000, &resp, &err), STRANDS_OK);
    CHECK_INT(resp.status, 429);
    CHECK_INT(resp.retry_after_s, 9);
    CHECK_INT(resp.retry_after_ms, 1500);
    http_response_cleanup(&resp);
    s.mode = M_RETRY_MS_BAD;
    CHECK_INT(get(c, &s, 2000, &resp, &err), STRANDS_OK);
    CHECK_INT(resp.retry_after_ms, 2000);
    http_response_cleanup(&resp);
    s.mode = M_OK;
    CHECK_INT(get(c, &s, 2000, &resp, &err), STRANDS_OK);
    CHECK_INT(resp.retry_after_s, -1);
    CHECK_INT(resp.retry_after_ms, -1);
    http_response_cleanup(&resp);
    stop(&s, t);
    CHECK_INT(atomic_load(&s.missing_header), 0);
    http_client_free(c);
}

static void test_allocation_failures_are_clean(void)
{
    server s;
    pthread_t t = start(&s, M_OK);
    long n, clean = 0, failed = 0;
    for (n = 1; n <= 3000; n++) {
        http_client *c = http_client_new(1);
        if (!c) abort();
        http_response resp;
        strands_error err;
        atomic_store(&alloc_count, 0);
        atomic_store(&fail_at, n);
        strands_status st = get(c, &s, 2000, &resp, &err);
        int hit = atomic_load(&alloc_count) >= n;
        atomic_store(&fail_at, 0);
        if (st == STRANDS_OK) {
            if (resp.status != 200 ||
                strcmp(dynbuf_str(&resp.body), "ok"))
                FAIL_AT("n=%ld: status %ld body '%s'", n, resp.status,
                        dynbuf_str(&resp.body));
        } else {
            failed++;
            if (st != STRANDS_E_NOMEM && st != STRANDS_E_NETWORK)
                FAIL_AT("n=%ld: %s (%s)", n, strands_status_name(st),
                        err.message);
            if (!err.message[0]) FAIL_AT("n=%ld: no message", n);
        }
        http_response_cleanup(&resp);
        http_client_free(c);
        if (!hit) {  /* the whole request ran without an injected failure */
            clean = 1;
            break;
        }
    }
    stop(&s, t);
    CHECK(clean);
    CHECK(failed > 0);
    /* No request ever went out with its header list dropped. */
    CHECK_INT(atomic_load(&s.missing_header), 0);
    fprintf(stderr, "  swept %ld allocation points, %ld failed cleanly, "
            "%d requests reached the server\n", n, failed,
            atomic_load(&s.requests));
}

int main(void)
{
    /* Before any other curl use: libcurl allocates through these. */
    if (curl_global_init_mem(CURL_GLOBAL_DEFAULT, t_malloc, t_free, t_realloc,
                             t_strdup, t_calloc) != CURLE_OK)
        return 1;
    RUN(test_read_timeout_bounds_silence);
    RUN(test_steady_answer_outlives_read_timeout);
    RUN(test_retry_after_header);
    RUN(test_allocation_failures_are_clean);
    curl_global_cleanup();
    return test_report();
}
