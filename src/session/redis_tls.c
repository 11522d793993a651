/* Redis over TLS for the Redis store's pool: TCP connect and TLS
 * handshake on a non-blocking socket bounded by poll() and one deadline,
 * then request/reply: a hiredis-formatted command written with SSL_write,
 * bytes from SSL_read fed to a hiredis redisReader until it yields one
 * reply (bounded in bytes). Certificates are verified with OpenSSL's own
 * chain and host name checks.                                          */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "session/redis_tls.h"
#include "strands/clock.h"

struct redis_tls_conn {
    int fd;
    SSL *ssl;
    redisReader *reader;
    int command_timeout_ms;
    size_t max_reply;
    int broken;
};

SSL_CTX *redis_tls_ctx_new(const char *ca_file, int insecure,
                           strands_error *err)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx) {
        strands_error_set(err, STRANDS_E_NOMEM, NULL,
                          "out of memory creating a TLS context for Redis");
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
#ifdef SSL_OP_IGNORE_UNEXPECTED_EOF
    /* A server gone without close_notify reads as a plain close; RESP
     * framing detects a truncated reply on its own. */
    SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
#endif
    SSL_CTX_set_mode(ctx, SSL_MODE_AUTO_RETRY);
    if (insecure) {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
        return ctx;
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    int ok = ca_file ? SSL_CTX_load_verify_locations(ctx, ca_file, NULL)
                     : SSL_CTX_set_default_verify_paths(ctx);
    if (!ok) {
        char why[160];
        ERR_error_string_n(ERR_get_error(), why, sizeof why);
        ERR_clear_error();
        SSL_CTX_free(ctx);
        if (ca_file)
            strands_error_set(err, STRANDS_E_INVALID, NULL,
                              "REDIS_TLS_CA_FILE: cannot load the CA "
                              "certificates of %.200s (%s)", ca_file, why);
        else
            strands_error_set(err, STRANDS_E_INVALID, NULL,
                              "rediss://: cannot load the system's CA "
                              "certificates (%s); set REDIS_TLS_CA_FILE",
                              why);
        return NULL;
    }
    /* The CA certificates loaded now are shared by every handshake: their
     * extension caches are filled here, on one thread, rather than
     * lazily by concurrent handshakes. */
    STACK_OF(X509_OBJECT) *objs =
        X509_STORE_get0_objects(SSL_CTX_get_cert_store(ctx));
    for (int i = 0; i < sk_X509_OBJECT_num(objs); i++) {
        X509 *x = X509_OBJECT_get0_X509(sk_X509_OBJECT_value(objs, i));
        if (x) X509_check_purpose(x, -1, 0);
    }
    return ctx;
}

/* Milliseconds left before deadline (a monotonic time), at least 0. */
static int left_ms(int64_t deadline)
{
    int64_t d = deadline - strands_clock_mono_ms();
    return d <= 0 ? 0 : d > INT_MAX ? INT_MAX : (int)d;
}

/* Waits for fd to be ready for events: 1 ready, 0 deadline passed,
 * -1 error (errno).                                                   */
static int wait_fd(int fd, short events, int64_t deadline)
{
    for (;;) {
        int ms = left_ms(deadline);
        if (ms == 0) return 0;
        struct pollfd pf = {.fd = fd, .events = events};
        int r = poll(&pf, 1, ms);
        if (r > 0) return 1;
        if (r == 0) return 0;
        if (errno != EINTR) return -1;
    }
}

/* A non-blocking TCP connection to host:port, or -1 with detail set. */
static int tcp_connect(const char *host, int port, int64_t deadline,
                       char *detail, size_t n)
{
    char ps[16];
    snprintf(ps, sizeof ps, "%d", port);
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    int gai = getaddrinfo(host, ps, &hints, &res);
    if (gai != 0) {
        snprintf(detail, n, "cannot resolve the host: %s",
                 gai_strerror(gai));
        return -1;
    }
    int fd = -1;
    snprintf(detail, n, "no address to connect to");
    for (struct addrinfo *a = res; a && fd < 0; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK |
                                      SOCK_CLOEXEC, a->ai_protocol);
        if (fd < 0) {
            snprintf(detail, n, "socket: %s", strerror(errno));
            continue;
        }
        int e = 0;
        if (connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
            e = errno;
            if (e == EINPROGRESS) {
                int w = wait_fd(fd, POLLOUT, deadline);
                socklen_t len = sizeof e;
                if (w == 0)
                    e = ETIMEDOUT;
                else if (w < 0)
                    e = errno;
                else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &len) != 0)
                    e = errno;
            }
        }
        if (e != 0) {
            snprintf(detail, n, "connect: %s", e == ETIMEDOUT
                     ? "timed out" : strerror(e));
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    if (fd >= 0) {
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
    }
    return fd;
}

/* The text of OpenSSL's last error (the queue is cleared), or of errno,
 * or `fallback`.                                                       */
static void ssl_detail(const char *what, const char *fallback, int e,
                       char *detail, size_t n)
{
    unsigned long code = ERR_get_error();
    ERR_clear_error();
    if (code) {
        char why[160];
        ERR_error_string_n(code, why, sizeof why);
        snprintf(detail, n, "%s: %s", what, why);
    } else if (e) {
        snprintf(detail, n, "%s: %s", what, strerror(e));
    } else {
        snprintf(detail, n, "%s: %s", what, fallback);
    }
}

static void conn_free(redis_tls_conn *c)
{
    if (!c) return;
    SSL_free(c->ssl);
    if (c->fd >= 0) close(c->fd);
    if (c->reader) redisReaderFree(c->reader);
    free(c);
}

strands_status redis_tls_connect(SSL_CTX *ctx, const char *host, int port,
                                 int connect_timeout_ms,
                                 int command_timeout_ms, size_t max_reply,
                                 redis_tls_conn **out, char *detail,
                                 size_t n)
{
    *out = NULL;
    int64_t deadline = strands_clock_mono_ms() + connect_timeout_ms;
    redis_tls_conn *c = calloc(1, sizeof *c);
    if (!c) return STRANDS_E_NOMEM;
    c->fd = -1;
    c->command_timeout_ms = command_timeout_ms;
    c->max_reply = max_reply;
    c->reader = redisReaderCreate();
    c->ssl = SSL_new(ctx);
    if (!c->reader || !c->ssl) {
        ERR_clear_error();
        conn_free(c);
        return STRANDS_E_NOMEM;
    }
    c->fd = tcp_connect(host, port, deadline, detail, n);
    if (c->fd < 0) {
        conn_free(c);
        return STRANDS_E_UNAVAILABLE;
    }
    unsigned char ip[16];
    int is_ip = inet_pton(AF_INET, host, ip) == 1 ||
                inet_pton(AF_INET6, host, ip) == 1;
    int ok = SSL_set_fd(c->ssl, c->fd);
    if (ok && !is_ip) ok = SSL_set_tlsext_host_name(c->ssl, host);
    if (ok && SSL_CTX_get_verify_mode(ctx) != SSL_VERIFY_NONE) {
        if (is_ip)
            ok = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl), host);
        else
            ok = SSL_set1_host(c->ssl, host);
    }
    if (!ok) {
        ssl_detail("TLS set-up", "failed", 0, detail, n);
        conn_free(c);
        return STRANDS_E_UNAVAILABLE;
    }
    for (;;) {
        ERR_clear_error();
        errno = 0;
        int r = SSL_connect(c->ssl);
        if (r == 1) break;
        int e = errno;
        int se = SSL_get_error(c->ssl, r);
        int w = -2;
        if (se == SSL_ERROR_WANT_READ)
            w = wait_fd(c->fd, POLLIN, deadline);
        else if (se == SSL_ERROR_WANT_WRITE)
            w = wait_fd(c->fd, POLLOUT, deadline);
        if (w == 1) continue;
        long v = SSL_get_verify_result(c->ssl);
        if (w == 0) {
            snprintf(detail, n, "TLS handshake: timed out");
        } else if (v != X509_V_OK) {
            ERR_clear_error();
            snprintf(detail, n, "TLS certificate verification failed: %s "
                     "(trust its CA with REDIS_TLS_CA_FILE)",
                     X509_verify_cert_error_string(v));
        } else {
            ssl_detail("TLS handshake", "the server closed the connection "
                       "(is this a TLS port?)", w == -1 ? errno : e,
                       detail, n);
        }
        conn_free(c);
        return STRANDS_E_UNAVAILABLE;
    }
    *out = c;
    return STRANDS_OK;
}

/* Sets the failure of an SSL_read/SSL_write that returned r, or waits
 * for the socket: REDIS_TLS_OK means "try again".                     */
static redis_tls_fail io_wait(redis_tls_conn *c, int r, int e,
                              int64_t deadline, const char *what,
                              char *detail, size_t n)
{
    int se = SSL_get_error(c->ssl, r);
    int w;
    switch (se) {
    case SSL_ERROR_WANT_READ:
    case SSL_ERROR_WANT_WRITE:
        w = wait_fd(c->fd, se == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT,
                    deadline);
        if (w == 1) return REDIS_TLS_OK;
        if (w == 0) {
            snprintf(detail, n, "%s: timed out", what);
            return REDIS_TLS_TIMEOUT;
        }
        snprintf(detail, n, "%s: poll: %s", what, strerror(errno));
        return REDIS_TLS_IO;
    case SSL_ERROR_ZERO_RETURN:
        snprintf(detail, n, "%s: the server closed the connection", what);
        return REDIS_TLS_CLOSED;
    case SSL_ERROR_SYSCALL:
        if (ERR_peek_error() == 0 &&
            (e == 0 || e == ECONNRESET || e == EPIPE || e == ENOTCONN)) {
            snprintf(detail, n, "%s: %s", what, e ? strerror(e)
                     : "the server closed the connection");
            return REDIS_TLS_CLOSED;
        }
        ssl_detail(what, "I/O error", e, detail, n);
        return REDIS_TLS_IO;
    default:
        ssl_detail(what, "TLS error", e, detail, n);
        return REDIS_TLS_IO;
    }
}

static redis_tls_fail fail(redis_tls_conn *c, redis_tls_fail f)
{
    c->broken = 1;
    return f;
}

redis_tls_fail redis_tls_command(redis_tls_conn *c, int argc,
                                 const char **argv, const size_t *lens,
                                 redisReply **out, char *detail, size_t n)
{
    *out = NULL;
    if (c->broken) {
        snprintf(detail, n, "the connection failed earlier");
        return REDIS_TLS_IO;
    }
    char *cmd = NULL;
    int len = redisFormatCommandArgv(&cmd, argc, argv, lens);
    if (len < 0) {
        snprintf(detail, n, "out of memory formatting a command");
        return fail(c, REDIS_TLS_NOMEM);
    }
    int64_t deadline = strands_clock_mono_ms() + c->command_timeout_ms;
    redis_tls_fail f = REDIS_TLS_OK;
    for (int off = 0; off < len;) {
        ERR_clear_error();
        errno = 0;
        int w = SSL_write(c->ssl, cmd + off, len - off);
        if (w > 0) {
            off += w;
            continue;
        }
        f = io_wait(c, w, errno, deadline, "sending", detail, n);
        if (f != REDIS_TLS_OK) break;
    }
    redisFreeCommand(cmd);
    if (f != REDIS_TLS_OK) return fail(c, f);

    size_t got = 0;
    char buf[16384];
    for (;;) {
        void *reply = NULL;
        if (redisReaderGetReply(c->reader, &reply) != REDIS_OK) {
            snprintf(detail, n, "a malformed reply: %.100s",
                     c->reader->errstr);
            return fail(c, REDIS_TLS_IO);
        }
        if (reply) {
            *out = reply;
            return REDIS_TLS_OK;
        }
        ERR_clear_error();
        errno = 0;
        int r = SSL_read(c->ssl, buf, sizeof buf);
        if (r > 0) {
            got += (size_t)r;
            if (got > c->max_reply) {
                snprintf(detail, n, "a reply larger than %zu bytes (the "
                         "history cap plus %zu MiB) was refused",
                         c->max_reply, REDIS_TLS_REPLY_SLACK >> 20);
                return fail(c, REDIS_TLS_TOO_BIG);
            }
            if (redisReaderFeed(c->reader, buf, (size_t)r) != REDIS_OK) {
                snprintf(detail, n, "out of memory reading a reply");
                return fail(c, REDIS_TLS_NOMEM);
            }
            continue;
        }
        f = io_wait(c, r, errno, deadline, "waiting for the reply", detail,
                    n);
        if (f != REDIS_TLS_OK) return fail(c, f);
    }
}

int redis_tls_broken(const redis_tls_conn *c)
{
    return c->broken;
}

void redis_tls_free(redis_tls_conn *c)
{
    /* No close_notify: it could block or raise SIGPIPE on a dead peer,
     * and Redis needs none to end a connection. */
    conn_free(c);
}
