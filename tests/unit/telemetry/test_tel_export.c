/* Tests for span export (src/telemetry/exporter.c) against collectors on
 * loopback run by this test: batching (at most 512 spans a request),
 * configured headers and content types, the bounded queue's drop count,
 * failed exports (HTTP 503, connection refused), and the shutdown bound
 * with a stalled collector that accepts connections and never answers. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <time.h>

#include <jansson.h>

#include "strands/clock.h"
#include "telemetry/internal.h"
#include "test.h"

/* ---- a loopback collector ------------------------------------------------------ */

#define MAX_REQUESTS 32

typedef struct collector {
    int fd;
    int port;
    int status;            /* HTTP status to answer; 0: never answer */
    atomic_int stop;
    pthread_t thread;
    pthread_mutex_t lock;
    int n_requests;
    char *bodies[MAX_REQUESTS];
    size_t body_lens[MAX_REQUESTS];
    char content_type[64];
    char api_key[64];
    int held[64];          /* connections of a collector that never answers */
    int n_held;
} collector;

/* The value of header `name` in the request head, or "". */
static void header(const char *head, const char *name, char *out, size_t sz)
{
    out[0] = '\0';
    size_t n = strlen(name);
    for (const char *p = strstr(head, "\r\n"); p; p = strstr(p + 2, "\r\n")) {
        if (!strncasecmp(p + 2, name, n) && p[2 + n] == ':') {
            const char *v = p + 3 + n;
            while (*v == ' ') v++;
            const char *e = strstr(v, "\r\n");
            size_t len = e ? (size_t)(e - v) : strlen(v);
            if (len >= sz) len = sz - 1;
            memcpy(out, v, len);
            out[len] = '\0';
            return;
        }
    }
}

/* Reads one request (head + Content-Length body); answers c->status. */
static void serve(collector *c, int fd)
{
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap + 1);
    char *body = NULL;
    size_t want = 0;
    while (buf) {
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, 5000) <= 0) break;
        if (len == cap) {
            char *nb = realloc(buf, cap * 2 + 1);
            if (!nb) break;
            buf = nb;
            cap *= 2;
        }
        ssize_t r = recv(fd, buf + len, cap - len, 0);
        if (r <= 0) break;
        len += (size_t)r;
        buf[len] = '\0';
        char *end = strstr(buf, "\r\n\r\n");
        if (!end) continue;
        char cl[32];
        *end = '\0';
        header(buf, "Content-Length", cl, sizeof cl);
        *end = '\r';
        want = (size_t)atol(cl);
        body = end + 4;
        if ((size_t)(buf + len - body) >= want) break;
    }
    if (buf && body && (size_t)(buf + len - body) >= want) {
        pthread_mutex_lock(&c->lock);
        if (c->n_requests < MAX_REQUESTS) {
            char *copy = malloc(want + 1);
            if (copy) {
                memcpy(copy, body, want);
                copy[want] = '\0';
            }
            c->bodies[c->n_requests] = copy;
            c->body_lens[c->n_requests] = want;
            c->n_requests++;
            body[-4] = '\0';
            header(buf, "Content-Type", c->content_type,
                   sizeof c->content_type);
            header(buf, "api-key", c->api_key, sizeof c->api_key);
        }
        pthread_mutex_unlock(&c->lock);
        char resp[128];
        int n = snprintf(resp, sizeof resp,
                         "HTTP/1.1 %d X\r\nContent-Length: 0\r\n"
                         "Connection: close\r\n\r\n", c->status);
        if (send(fd, resp, (size_t)n, MSG_NOSIGNAL) < 0) { /* ignore */ }
    }
    free(buf);
}

static void *collector_main(void *arg)
{
    collector *c = arg;
    while (!atomic_load(&c->stop)) {
        struct pollfd p = {c->fd, POLLIN, 0};
        if (poll(&p, 1, 50) <= 0) continue;
        int fd = accept(c->fd, NULL, NULL);
        if (fd < 0) continue;
        if (c->status == 0 && c->n_held < 64) {
            c->held[c->n_held++] = fd; /* accept, never answer */
            continue;
        }
        serve(c, fd);
        close(fd);
    }
    return NULL;
}

static int listen_loopback(int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t alen = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) ||
        listen(fd, 16) || getsockname(fd, (struct sockaddr *)&a, &alen)) {
        if (fd >= 0) close(fd);
        return -1;
    }
    *port = ntohs(a.sin_port);
    return fd;
}

static int collector_start(collector *c, int status)
{
    memset(c, 0, sizeof *c);
    c->status = status;
    pthread_mutex_init(&c->lock, NULL);
    c->fd = listen_loopback(&c->port);
    if (c->fd < 0) return -1;
    return pthread_create(&c->thread, NULL, collector_main, c);
}

static void collector_stop(collector *c)
{
    atomic_store(&c->stop, 1);
    pthread_join(c->thread, NULL);
    close(c->fd);
    for (int i = 0; i < c->n_held; i++) close(c->held[i]);
    for (int i = 0; i < c->n_requests; i++) free(c->bodies[i]);
    pthread_mutex_destroy(&c->lock);
}

/* ---- helpers ------------------------------------------------------------------- */

typedef struct fake_env {
    const char *vars[10];
} fake_env;

static const char *fake_getenv(void *user, const char *name)
{
    fake_env *e = user;
    size_t n = strlen(name);
    for (const char *const *v = e->vars; *v; v++)
        if (!strncmp(*v, name, n) && (*v)[n] == '=') return *v + n + 1;
    return NULL;
}

/* An exporter for http://127.0.0.1:<port>, plus extra variables. */
static tel_exporter *exporter(int port, const char *v1, const char *v2,
                              const char *v3, int no_thread)
{
    char ep[96];
    snprintf(ep, sizeof ep, "OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:%d",
             port);
    fake_env env = {{ep, v1, v2, v3, NULL}};
    if (!v1) env.vars[1] = NULL;
    else if (!v2) env.vars[2] = NULL;
    else if (!v3) env.vars[3] = NULL;
    tel_config cfg;
    int on = 0;
    strands_error err;
    if (tel_config_load(&cfg, &on, fake_getenv, &env, &err) != STRANDS_OK ||
        !on) {
        fprintf(stderr, "config: %s\n", err.message);
        return NULL;
    }
    cfg.no_thread = no_thread;
    tel_exporter *e = tel_exporter_new(&cfg, &err);
    if (!e) tel_config_cleanup(&cfg);
    return e;
}

static tel_span *span(int i)
{
    char name[32];
    snprintf(name, sizeof name, "span-%d", i);
    tel_span *s = tel_span_new(name);
    tel_random_id(s->trace_id, 16);
    tel_random_id(s->span_id, 8);
    s->start_ns = tel_now_ns();
    s->end_ns = s->start_ns + 1000;
    tel_span_set_int(s, "i", i);
    return s;
}

/* Spans in a protobuf request: resource_spans(1) > scope_spans(2) >
 * spans(2), read with just enough of the wire format. */
static uint64_t varint(const uint8_t **p, const uint8_t *end)
{
    uint64_t v = 0;
    for (int shift = 0; *p < end && shift < 64; shift += 7) {
        uint8_t b = *(*p)++;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) break;
    }
    return v;
}

static long pb_count(const uint8_t *p, const uint8_t *end, int depth)
{
    long n = 0;
    while (p < end) {
        uint64_t tag = varint(&p, end);
        if ((tag & 7) != 2) return -1; /* only messages at these levels */
        uint64_t len = varint(&p, end);
        if (len > (uint64_t)(end - p)) return -1;
        unsigned field = (unsigned)(tag >> 3);
        if (depth == 2 && field == 2) n++;
        else if ((depth == 0 && field == 1) || (depth == 1 && field == 2)) {
            long k = pb_count(p, p + len, depth + 1);
            if (k < 0) return -1;
            n += k;
        }
        p += len;
    }
    return n;
}

static long json_count(const char *body)
{
    json_t *j = json_loads(body, 0, NULL);
    json_t *spans = json_object_get(json_array_get(json_object_get(
        json_array_get(json_object_get(j, "resourceSpans"), 0),
        "scopeSpans"), 0), "spans");
    long n = json_is_array(spans) ? (long)json_array_size(spans) : -1;
    json_decref(j);
    return n;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, ms % 1000 * 1000000L};
    nanosleep(&ts, NULL);
}

/* ---- tests ------------------------------------------------------------------------ */

static void test_batches_protobuf(void)
{
    collector c;
    CHECK_INT(collector_start(&c, 200), 0);
    tel_exporter *e = exporter(c.port, "OTEL_EXPORTER_OTLP_HEADERS="
                                       "api-key=k%20v", NULL, NULL, 0);
    CHECK(e != NULL);
    if (!e) {
        collector_stop(&c);
        return;
    }
    for (int i = 0; i < 1100; i++) tel_exporter_submit(e, span(i));
    tel_exporter_shutdown(e, 5000);
    strands_tracer_stats st;
    tel_exporter_stats(e, &st);
    CHECK_INT(st.exported, 1100);
    CHECK_INT(st.dropped, 0);
    CHECK_INT(st.failed, 0);
    CHECK(c.n_requests >= 3); /* 512 + 512 + 76 at least */
    long total = 0;
    for (int i = 0; i < c.n_requests; i++) {
        long n = pb_count((const uint8_t *)c.bodies[i],
                          (const uint8_t *)c.bodies[i] + c.body_lens[i], 0);
        CHECK(n > 0 && n <= 512);
        total += n;
    }
    CHECK_INT(total, 1100);
    CHECK_STR(c.content_type, "application/x-protobuf");
    CHECK_STR(c.api_key, "k v");
    /* After shutdown spans are dropped, not queued. */
    tel_exporter_submit(e, span(0));
    tel_exporter_stats(e, &st);
    CHECK_INT(st.dropped, 1);
    tel_exporter_free(e);
    collector_stop(&c);
}

/* Spans below a full batch go out after the schedule delay. */
static void test_schedule_delay_json(void)
{
    collector c;
    CHECK_INT(collector_start(&c, 200), 0);
    tel_exporter *e = exporter(c.port, "OTEL_EXPORTER_OTLP_PROTOCOL=http/json",
                               "OTEL_BSP_SCHEDULE_DELAY=50", NULL, 0);
    if (!e) {
        collector_stop(&c);
        return;
    }
    for (int i = 0; i < 3; i++) tel_exporter_submit(e, span(i));
    strands_tracer_stats st = {0, 0, 0};
    for (int i = 0; i < 200 && st.exported < 3; i++) {
        sleep_ms(10);
        tel_exporter_stats(e, &st);
    }
    CHECK_INT(st.exported, 3); /* without any shutdown */
    pthread_mutex_lock(&c.lock);
    CHECK_INT(c.n_requests, 1);
    CHECK_STR(c.content_type, "application/json");
    if (c.n_requests == 1) CHECK_INT(json_count(c.bodies[0]), 3);
    pthread_mutex_unlock(&c.lock);
    tel_exporter_shutdown(e, 1000);
    tel_exporter_free(e);
    collector_stop(&c);
}

static void test_bounded_queue_drops(void)
{
    /* No export thread: nothing leaves the queue. */
    tel_exporter *e = exporter(9, "OTEL_BSP_MAX_QUEUE_SIZE=4",
                               "OTEL_BSP_MAX_EXPORT_BATCH_SIZE=2", NULL, 1);
    if (!e) return;
    int64_t t0 = strands_clock_mono_ms();
    for (int i = 0; i < 10; i++) tel_exporter_submit(e, span(i));
    CHECK(strands_clock_mono_ms() - t0 < 1000); /* never blocks */
    strands_tracer_stats st;
    tel_exporter_stats(e, &st);
    CHECK_INT(tel_exporter_queued(e), 4);
    CHECK_INT(st.dropped, 6);
    /* What is still queued at shutdown is dropped too. */
    tel_exporter_shutdown(e, 100);
    tel_exporter_stats(e, &st);
    CHECK_INT(st.dropped, 10);
    CHECK_INT(st.exported + st.failed, 0);
    CHECK_INT(tel_exporter_queued(e), 0);
    tel_exporter_free(e);
}

static void test_http_error_counts_failed(void)
{
    collector c;
    CHECK_INT(collector_start(&c, 503), 0);
    tel_exporter *e = exporter(c.port, NULL, NULL, NULL, 0);
    if (!e) {
        collector_stop(&c);
        return;
    }
    for (int i = 0; i < 5; i++) tel_exporter_submit(e, span(i));
    tel_exporter_shutdown(e, 3000);
    strands_tracer_stats st;
    tel_exporter_stats(e, &st);
    CHECK_INT(st.failed, 5);
    CHECK_INT(st.exported, 0);
    CHECK_INT(c.n_requests, 1); /* no retries */
    tel_exporter_free(e);
    collector_stop(&c);
}

static void test_connection_refused(void)
{
    int port;
    int fd = listen_loopback(&port);
    close(fd); /* nothing listens there now */
    tel_exporter *e = exporter(port, NULL, NULL, NULL, 0);
    if (!e) return;
    for (int i = 0; i < 5; i++) tel_exporter_submit(e, span(i));
    int64_t t0 = strands_clock_mono_ms();
    tel_exporter_shutdown(e, 2000);
    CHECK(strands_clock_mono_ms() - t0 < 2000);
    strands_tracer_stats st;
    tel_exporter_stats(e, &st);
    CHECK_INT(st.failed, 5);
    tel_exporter_free(e);
}

/* Shutdown while spans are still queued: the flush gets only the time
 * left, so a stalled collector cannot hold it past the bound. */
static void test_shutdown_bound_queued(void)
{
    collector c;
    CHECK_INT(collector_start(&c, 0), 0);
    tel_exporter *e = exporter(c.port, "OTEL_BSP_SCHEDULE_DELAY=600000",
                               NULL, NULL, 0);
    if (!e) {
        collector_stop(&c);
        return;
    }
    for (int i = 0; i < 10; i++) tel_exporter_submit(e, span(i));
    int64_t t0 = strands_clock_mono_ms();
    tel_exporter_shutdown(e, 400);
    int64_t took = strands_clock_mono_ms() - t0;
    fprintf(stderr, "  shutdown with queued spans took %lld ms\n",
            (long long)took);
    CHECK(took < 400 + 150);
    strands_tracer_stats st;
    tel_exporter_stats(e, &st);
    CHECK_INT(st.exported, 0);
    tel_exporter_free(e);
    sleep_ms(1500); /* a detached thread, if any, finishes and frees */
    collector_stop(&c);
}

/* Shutdown while a request is in flight to a collector that never
 * answers (its own timeout is 3 s): shutdown still returns in time, and
 * the abandoned thread finishes and frees the exporter by itself. */
static void test_shutdown_bound_in_flight(void)
{
    collector c;
    CHECK_INT(collector_start(&c, 0), 0);
    tel_exporter *e = exporter(c.port, "OTEL_BSP_SCHEDULE_DELAY=10", NULL,
                               NULL, 0);
    if (!e) {
        collector_stop(&c);
        return;
    }
    for (int i = 0; i < 10; i++) tel_exporter_submit(e, span(i));
    for (int i = 0; i < 200 && tel_exporter_queued(e); i++) sleep_ms(5);
    sleep_ms(100); /* the request is waiting for an answer now */
    CHECK_INT(tel_exporter_queued(e), 0);
    CHECK(c.n_held >= 1);
    for (int i = 0; i < 5; i++) tel_exporter_submit(e, span(i));
    int64_t t0 = strands_clock_mono_ms();
    tel_exporter_shutdown(e, 300);
    int64_t took = strands_clock_mono_ms() - t0;
    fprintf(stderr, "  shutdown with a request in flight took %lld ms\n",
            (long long)took);
    CHECK(took < 300 + 150);
    strands_tracer_stats st;
    tel_exporter_stats(e, &st);
    CHECK_INT(st.exported, 0);
    tel_exporter_free(e);
    sleep_ms(2000); /* the cancelled request ends; the thread frees all */
    collector_stop(&c);
}

/* The public wrapper: from_env + shutdown bound with a stalled collector,
 * and free without an explicit shutdown. */
static void test_tracer_shutdown_public(void)
{
    collector c;
    CHECK_INT(collector_start(&c, 0), 0);
    char ep[96];
    snprintf(ep, sizeof ep,
             "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=http://127.0.0.1:%d/v1/"
             "traces", c.port);
    fake_env env = {{ep, NULL}};
    strands_error err;
    strands_tracer *t = strands_tracer_from_env(fake_getenv, &env, &err);
    CHECK(t != NULL);
    if (t) {
        strands_invocation_trace *it =
            strands_trace_begin(t, NULL, NULL, "s", NULL, NULL);
        strands_event_sink sink = strands_trace_sink(it);
        strands_event ev = {.type = STRANDS_EVENT_INVOCATION_START};
        sink.fn(sink.user, &ev);
        ev.type = STRANDS_EVENT_INVOCATION_END;
        sink.fn(sink.user, &ev);
        strands_trace_end(it);
        int64_t t0 = strands_clock_mono_ms();
        strands_tracer_shutdown(t, 250);
        CHECK(strands_clock_mono_ms() - t0 < 250 + 150);
        strands_tracer_shutdown(t, 250); /* idempotent */
        strands_tracer_free(t);
    }
    /* Freed without shutdown: returns at once. */
    t = strands_tracer_from_env(fake_getenv, &env, &err);
    if (t) {
        int64_t t0 = strands_clock_mono_ms();
        strands_tracer_free(t);
        CHECK(strands_clock_mono_ms() - t0 < 150);
    }
    sleep_ms(1500);
    collector_stop(&c);
}

int main(void)
{
    RUN(test_batches_protobuf);
    RUN(test_schedule_delay_json);
    RUN(test_bounded_queue_drops);
    RUN(test_http_error_counts_failed);
    RUN(test_connection_refused);
    RUN(test_shutdown_bound_queued);
    RUN(test_shutdown_bound_in_flight);
    RUN(test_tracer_shutdown_public);
    return test_report();
}
