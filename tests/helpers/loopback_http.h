/* A tiny scripted HTTP/1.1 server on 127.0.0.1 for unit tests: one thread
 * accepts connections, reads one request each (headers + Content-Length
 * body), records it, and calls the test's handler, which writes the
 * answer to the socket; the connection is then closed. Several requests
 * may be served at once (one thread per connection, capped). Every wait
 * is bounded.                                                          */
#ifndef STRANDS_TEST_LOOPBACK_HTTP_H
#define STRANDS_TEST_LOOPBACK_HTTP_H

#include <arpa/inet.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define LB_MAX_REQS 64
#define LB_MAX_HEAD 16384
#define LB_MAX_BODY (1u << 20)

typedef struct lb_req {
    char method[16];
    char path[512];
    char head[LB_MAX_HEAD];  /* the header block (after the request line) */
    char *body;              /* NUL-terminated */
    size_t body_len;
} lb_req;

typedef struct lb_server lb_server;
/* Writes the answer for r to fd (the server closes it afterwards). */
typedef void lb_handler(lb_server *s, const lb_req *r, int fd);

struct lb_server {
    int fd, port;
    atomic_int stop;
    lb_handler *handler;
    void *user;
    pthread_t thread;
    pthread_mutex_t lock;
    lb_req *reqs[LB_MAX_REQS]; /* recorded, in arrival order */
    int n_reqs;
    atomic_int active;         /* connections being served */
};

static inline void lb_sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static inline void lb_write(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w <= 0) return;
        p += w;
        n -= (size_t)w;
    }
}

static inline void lb_say(int fd, const char *s) { lb_write(fd, s, strlen(s)); }

/* Writes a complete response with a body and Content-Length. */
static inline void lb_respond(int fd, int status, const char *extra_headers,
                              const char *ctype, const char *body)
{
    char head[2048];
    size_t bl = body ? strlen(body) : 0;
    snprintf(head, sizeof head,
             "HTTP/1.1 %d X\r\nConnection: close\r\n%s%s%s%s"
             "Content-Length: %zu\r\n\r\n",
             status, extra_headers ? extra_headers : "",
             ctype ? "Content-Type: " : "", ctype ? ctype : "",
             ctype ? "\r\n" : "", bl);
    lb_say(fd, head);
    if (bl) lb_write(fd, body, bl);
}

/* Waits up to ms for the peer to close (or send); returns early then. */
static inline void lb_hold(lb_server *s, int fd, long ms)
{
    for (long t = 0; t < ms && !atomic_load(&s->stop); t += 50) {
        struct pollfd q = {fd, POLLIN, 0};
        if (poll(&q, 1, 50) > 0) {
            char b[256];
            if (recv(fd, b, sizeof b, MSG_DONTWAIT) <= 0) return;
        }
    }
}

/* The value of header `name` in r (case-insensitive), copied into out;
 * NULL when absent. */
static inline const char *lb_header(const lb_req *r, const char *name,
                                    char *out, size_t cap)
{
    size_t nl = strlen(name);
    const char *p = r->head;
    while (*p) {
        const char *eol = strstr(p, "\r\n");
        if (!eol) eol = p + strlen(p);
        if ((size_t)(eol - p) > nl && p[nl] == ':' &&
            !strncasecmp(p, name, nl)) {
            const char *v = p + nl + 1;
            while (*v == ' ') v++;
            size_t vl = (size_t)(eol - v);
            if (vl >= cap) vl = cap - 1;
            memcpy(out, v, vl);
            out[vl] = '\0';
            return out;
        }
        p = *eol ? eol + 2 : eol;
    }
    return NULL;
}

typedef struct lb_conn {
    lb_server *s;
    int fd;
} lb_conn;

static inline void lb_req_free(lb_req *r)
{
    if (!r) return;
    free(r->body);
    free(r);
}

static void *lb_serve_conn(void *arg)
{
    lb_conn *c = arg;
    lb_server *s = c->s;
    int fd = c->fd;
    free(c);
    char *buf = malloc(LB_MAX_HEAD + LB_MAX_BODY + 1);
    lb_req *r = calloc(1, sizeof *r);
    size_t got = 0;
    char *end = NULL;
    if (!buf || !r) goto out;
    buf[0] = '\0';
    while (got < LB_MAX_HEAD && !(end = strstr(buf, "\r\n\r\n"))) {
        struct pollfd q = {fd, POLLIN, 0};
        if (poll(&q, 1, 3000) <= 0) goto out;
        ssize_t n = recv(fd, buf + got, LB_MAX_HEAD - got, 0);
        if (n <= 0) goto out;
        got += (size_t)n;
        buf[got] = '\0';
    }
    if (!end) goto out;
    size_t head_len = (size_t)(end - buf) + 4;
    char *line_end = strstr(buf, "\r\n");
    sscanf(buf, "%15s %511s", r->method, r->path);
    size_t hl = head_len - (size_t)(line_end + 2 - buf);
    if (hl >= sizeof r->head) hl = sizeof r->head - 1;
    memcpy(r->head, line_end + 2, hl);
    r->head[hl] = '\0';
    char cl[32];
    size_t want = lb_header(r, "Content-Length", cl, sizeof cl)
                      ? strtoul(cl, NULL, 10)
                      : 0;
    if (want > LB_MAX_BODY) goto out;
    while (got - head_len < want) {
        struct pollfd q = {fd, POLLIN, 0};
        if (poll(&q, 1, 3000) <= 0) goto out;
        ssize_t n = recv(fd, buf + got, head_len + want - got, 0);
        if (n <= 0) goto out;
        got += (size_t)n;
    }
    r->body = malloc(want + 1);
    if (!r->body) goto out;
    memcpy(r->body, buf + head_len, want);
    r->body[want] = '\0';
    r->body_len = want;
    free(buf);
    buf = NULL;
    pthread_mutex_lock(&s->lock);
    lb_req *rec = NULL;
    if (s->n_reqs < LB_MAX_REQS) {
        rec = calloc(1, sizeof *rec);
        if (rec) {
            *rec = *r;
            rec->body = strdup(r->body);
            s->reqs[s->n_reqs++] = rec;
        }
    }
    pthread_mutex_unlock(&s->lock);
    s->handler(s, r, fd);
out:
    free(buf);
    lb_req_free(r);
    shutdown(fd, SHUT_WR);
    close(fd);
    atomic_fetch_sub(&s->active, 1);
    return NULL;
}

static void *lb_accept_loop(void *arg)
{
    lb_server *s = arg;
    while (!atomic_load(&s->stop)) {
        struct pollfd p = {s->fd, POLLIN, 0};
        if (poll(&p, 1, 50) <= 0) continue;
        int fd = accept(s->fd, NULL, NULL);
        if (fd < 0) continue;
        lb_conn *c = malloc(sizeof *c);
        pthread_t t;
        if (atomic_load(&s->active) >= 32 || !c) {
            free(c);
            close(fd);
            continue;
        }
        c->s = s;
        c->fd = fd;
        atomic_fetch_add(&s->active, 1);
        if (pthread_create(&t, NULL, lb_serve_conn, c)) {
            atomic_fetch_sub(&s->active, 1);
            free(c);
            close(fd);
            continue;
        }
        pthread_detach(t);
    }
    return NULL;
}

/* Starts a server on an ephemeral loopback port. */
static inline void lb_start(lb_server *s, lb_handler *h, void *user)
{
    memset(s, 0, sizeof *s);
    s->handler = h;
    s->user = user;
    pthread_mutex_init(&s->lock, NULL);
    s->fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (bind(s->fd, (struct sockaddr *)&a, sizeof a) || listen(s->fd, 64) ||
        getsockname(s->fd, (struct sockaddr *)&a, &len))
        abort();
    s->port = ntohs(a.sin_port);
    if (pthread_create(&s->thread, NULL, lb_accept_loop, s)) abort();
}

/* Stops accepting, waits (bounded) for open connections, frees records. */
static inline void lb_stop(lb_server *s)
{
    atomic_store(&s->stop, 1);
    pthread_join(s->thread, NULL);
    for (int i = 0; i < 200 && atomic_load(&s->active); i++) lb_sleep_ms(25);
    close(s->fd);
    for (int i = 0; i < s->n_reqs; i++) lb_req_free(s->reqs[i]);
    pthread_mutex_destroy(&s->lock);
}

/* The i-th recorded request (NULL when fewer arrived). */
static inline const lb_req *lb_nth(lb_server *s, int i)
{
    pthread_mutex_lock(&s->lock);
    const lb_req *r = i < s->n_reqs ? s->reqs[i] : NULL;
    pthread_mutex_unlock(&s->lock);
    return r;
}

static inline int lb_count(lb_server *s)
{
    pthread_mutex_lock(&s->lock);
    int n = s->n_reqs;
    pthread_mutex_unlock(&s->lock);
    return n;
}

#endif
