/* The Redis store's connection pool: at most pool_size connections,
 * each a hiredis context (redis://) or a TLS connection (rediss://,
 * session/redis_tls.h) behind the same send/close calls below; idle
 * ones on a stack under one mutex; a caller that finds none idle and the
 * cap reached waits (bounded by the command timeout). Connecting,
 * AUTH and SELECT happen outside the lock. A context that fails is freed
 * and the pool's generation bumped so older idle contexts are dropped
 * too; a command that failed on a reused context because the server
 * closed it (a Redis restart) is sent once more on a fresh one, when the
 * caller marked it safe to repeat.                                      */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <openssl/evp.h>

#include "core/abstime.h"
#include "session/redis_conn.h"
#include "session/redis_tls.h"
#include "strands/clock.h"

#define UNAVAILABLE "SessionStoreUnavailable"
#define MAX_ARGS 100000 /* arguments of one command (a turn's messages) */

/* One connection: exactly one of c (plain) and t (TLS) is set. */
typedef struct pooled {
    redisContext *c;
    redis_tls_conn *t;
    unsigned gen;      /* the pool generation it was opened in */
} pooled;

/* Why a command got no reply. */
typedef struct link_fail {
    int closed;        /* the server had closed the connection */
    int timeout;       /* no answer in time */
    int too_big;       /* the reply passed the cap (TLS) */
    int nomem;
    char detail[192];
} link_fail;

struct redis_pool {
    char *host;
    char *user;
    char *password;    /* wiped before it is freed */
    int port;
    int db;
    int connect_timeout_ms;
    int command_timeout_ms;
    size_t cap;
    SSL_CTX *tls;      /* rediss://: the TLS context, else NULL */
    size_t max_reply;  /* TLS: bytes of one reply at most */

    pthread_mutex_t lock;  /* guards what follows */
    pthread_cond_t freed;  /* an idle context or an open slot appeared */
    pooled *idle;          /* stack of cap entries */
    size_t n_idle;
    size_t n_open;         /* idle + in use + being connected */
    unsigned gen;
};

void redis_script_init(redis_script *s)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    static const char hex[] = "0123456789abcdef";
    s->sha[0] = '\0';
    if (!EVP_Digest(s->text, strlen(s->text), md, &n, EVP_sha1(), NULL) ||
        n != 20)
        return; /* an empty sha: EVALSHA fails with NOSCRIPT, EVAL runs */
    for (unsigned i = 0; i < 20; i++) {
        s->sha[2 * i] = hex[md[i] >> 4];
        s->sha[2 * i + 1] = hex[md[i] & 15];
    }
    s->sha[40] = '\0';
}

static strands_status unavailable(strands_error *err, const redis_pool *p,
                                  const char *what, const char *detail)
{
    return strands_error_set(err, STRANDS_E_UNAVAILABLE, UNAVAILABLE,
                             "session store: Redis at %s:%d %s: %.200s",
                             p->host, p->port, what, detail);
}

static struct timeval tv_ms(int ms)
{
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    return tv;
}

/* ---- SIGPIPE: a write to a closed socket must not kill the process -- */

typedef struct sigpipe_guard {
    int active;
    int was_pending;
    sigset_t old;
} sigpipe_guard;

static void sigpipe_block(sigpipe_guard *g)
{
    sigset_t set, pending;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    g->active = 0;
    if (pthread_sigmask(SIG_BLOCK, &set, &g->old) != 0) return;
    if (sigismember(&g->old, SIGPIPE)) return; /* already blocked: leave */
    g->active = 1;
    sigpending(&pending);
    g->was_pending = sigismember(&pending, SIGPIPE);
}

static void sigpipe_unblock(sigpipe_guard *g)
{
    if (!g->active) return;
    sigset_t set, pending;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    sigpending(&pending);
    if (!g->was_pending && sigismember(&pending, SIGPIPE)) {
        struct timespec zero = {0, 0};
        while (sigtimedwait(&set, NULL, &zero) < 0 && errno == EINTR) {}
    }
    pthread_sigmask(SIG_SETMASK, &g->old, NULL);
}

/* ---- one connection ---------------------------------------------------- */

/* 1 when a failure on a plain context means the server had closed it
 * before our command (EOF, reset, broken pipe): not a timeout.         */
static int closed_by_server(const redisContext *c, int e)
{
    if (c->err == REDIS_ERR_EOF) return 1;
    return c->err == REDIS_ERR_IO &&
           (e == ECONNRESET || e == EPIPE || e == ENOTCONN);
}

/* Sends a command on l and waits for its reply; NULL with *f set on a
 * failure (the connection is then unusable).                         */
static redisReply *send_argv(pooled *l, int argc, const char **argv,
                             const size_t *lens, link_fail *f)
{
    memset(f, 0, sizeof *f);
    sigpipe_guard g;
    sigpipe_block(&g);
    redisReply *r = NULL;
    if (l->t) {
        redis_tls_fail tf = redis_tls_command(l->t, argc, argv, lens, &r,
                                              f->detail, sizeof f->detail);
        f->closed = tf == REDIS_TLS_CLOSED;
        f->timeout = tf == REDIS_TLS_TIMEOUT;
        f->too_big = tf == REDIS_TLS_TOO_BIG;
        f->nomem = tf == REDIS_TLS_NOMEM;
    } else {
        errno = 0;
        r = redisCommandArgv(l->c, argc, argv, lens);
        int e = errno;
        if (!r) {
            f->closed = closed_by_server(l->c, e);
            f->timeout = l->c->err == REDIS_ERR_IO &&
                         (e == EAGAIN || e == EWOULDBLOCK || e == ETIMEDOUT);
            snprintf(f->detail, sizeof f->detail, "%s", l->c->errstr);
        }
    }
    sigpipe_unblock(&g);
    return r;
}

static void link_close(pooled *l)
{
    if (l->c) redisFree(l->c);
    redis_tls_free(l->t);
    l->c = NULL;
    l->t = NULL;
}

static int link_broken(const pooled *l)
{
    return l->t ? redis_tls_broken(l->t) : l->c->err != 0;
}

/* Runs a setup command (AUTH, SELECT) on a fresh context. */
static strands_status setup_command(redis_pool *p, pooled *c,
                                    const char *what, int argc,
                                    const char **argv, strands_error *err)
{
    size_t lens[3];
    for (int i = 0; i < argc; i++) lens[i] = strlen(argv[i]);
    link_fail f;
    redisReply *r = send_argv(c, argc, argv, lens, &f);
    if (!r) return unavailable(err, p, "failed during connection set-up",
                               f.detail);
    strands_status st = STRANDS_OK;
    if (r->type == REDIS_REPLY_ERROR) {
        /* Redis's own message (e.g. "WRONGPASS invalid username-password
         * pair"), which never repeats the password. */
        char detail[160];
        snprintf(detail, sizeof detail, "%s: %.120s", what, r->str);
        st = unavailable(err, p, "refused the connection set-up", detail);
    }
    freeReplyObject(r);
    return st;
}

/* A TLS connection (rediss://) into *l. */
static strands_status tls_open(redis_pool *p, pooled *l, strands_error *err)
{
    char detail[256];
    strands_status st = redis_tls_connect(p->tls, p->host, p->port,
                                          p->connect_timeout_ms,
                                          p->command_timeout_ms,
                                          p->max_reply, &l->t, detail,
                                          sizeof detail);
    if (st == STRANDS_E_NOMEM)
        return strands_error_set(err, STRANDS_E_NOMEM, NULL,
                                 "out of memory connecting to Redis");
    if (st != STRANDS_OK)
        return unavailable(err, p, strstr(detail, "verification")
                                       ? "failed TLS verification"
                                       : "is unreachable (TLS)", detail);
    return STRANDS_OK;
}

/* A plain hiredis context (redis://) into *l. */
static strands_status plain_open(redis_pool *p, pooled *l,
                                 strands_error *err)
{
    redisContext *c = redisConnectWithTimeout(p->host, p->port,
                                              tv_ms(p->connect_timeout_ms));
    if (!c)
        return strands_error_set(err, STRANDS_E_NOMEM, NULL,
                                 "out of memory connecting to Redis");
    if (c->err) {
        strands_status st = unavailable(err, p, "is unreachable", c->errstr);
        redisFree(c);
        return st;
    }
    l->c = c;
    if (redisSetTimeout(c, tv_ms(p->command_timeout_ms)) != REDIS_OK) {
        link_close(l);
        return unavailable(err, p, "is unreachable", "cannot set a timeout");
    }
    redisEnableKeepAlive(c);
    return STRANDS_OK;
}

static strands_status conn_open(redis_pool *p, pooled *c,
                                strands_error *err)
{
    c->c = NULL;
    c->t = NULL;
    strands_status st = p->tls ? tls_open(p, c, err)
                               : plain_open(p, c, err);
    if (st != STRANDS_OK) return st;
    if (st == STRANDS_OK && p->password) {
        const char *argv[3] = {"AUTH", p->user ? p->user : p->password,
                               p->password};
        st = setup_command(p, c, "AUTH", p->user ? 3 : 2, argv, err);
    }
    if (st == STRANDS_OK && p->db) {
        char db[16];
        snprintf(db, sizeof db, "%d", p->db);
        const char *argv[2] = {"SELECT", db};
        st = setup_command(p, c, "SELECT", 2, argv, err);
    }
    if (st != STRANDS_OK) link_close(c);
    return st;
}

/* ---- the pool ------------------------------------------------------------ */

redis_pool *redis_pool_new(const session_redis_config *cfg,
                           strands_error *err)
{
    SSL_CTX *tls = NULL;
    if (cfg->tls) {
        tls = redis_tls_ctx_new(cfg->tls_ca_file, cfg->tls_insecure, err);
        if (!tls) return NULL;
    }
    redis_pool *p = calloc(1, sizeof *p);
    if (!p) {
        SSL_CTX_free(tls);
        strands_error_set(err, STRANDS_E_NOMEM, NULL, "out of memory");
        return NULL;
    }
    p->tls = tls;
    p->max_reply = (cfg->max_history_bytes
                        ? cfg->max_history_bytes
                        : STRANDS_SESSION_DEFAULT_MAX_HISTORY_BYTES) +
                   REDIS_TLS_REPLY_SLACK;
    p->cap = cfg->pool_size ? cfg->pool_size : 1;
    p->port = cfg->port;
    p->db = cfg->db;
    p->connect_timeout_ms = cfg->connect_timeout_ms > 0
                                ? cfg->connect_timeout_ms : 2000;
    p->command_timeout_ms = cfg->command_timeout_ms > 0
                                ? cfg->command_timeout_ms : 5000;
    p->host = strdup(cfg->host ? cfg->host : "127.0.0.1");
    p->user = cfg->user ? strdup(cfg->user) : NULL;
    p->password = cfg->password ? strdup(cfg->password) : NULL;
    p->idle = calloc(p->cap, sizeof *p->idle);
    int ok = p->host && p->idle && (!cfg->user || p->user) &&
             (!cfg->password || p->password);
    pthread_condattr_t ca;
    if (ok && pthread_condattr_init(&ca) == 0) {
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        ok = pthread_cond_init(&p->freed, &ca) == 0;
        pthread_condattr_destroy(&ca);
        if (ok && pthread_mutex_init(&p->lock, NULL) != 0) {
            pthread_cond_destroy(&p->freed);
            ok = 0;
        }
    } else {
        ok = 0;
    }
    if (!ok) {
        free(p->host);
        free(p->user);
        if (p->password) explicit_bzero(p->password, strlen(p->password));
        free(p->password);
        free(p->idle);
        SSL_CTX_free(p->tls);
        free(p);
        strands_error_set(err, STRANDS_E_NOMEM, NULL, "out of memory");
        return NULL;
    }
    return p;
}

void redis_pool_free(redis_pool *p)
{
    if (!p) return;
    for (size_t i = 0; i < p->n_idle; i++) link_close(&p->idle[i]);
    pthread_cond_destroy(&p->freed);
    pthread_mutex_destroy(&p->lock);
    free(p->host);
    free(p->user);
    if (p->password) explicit_bzero(p->password, strlen(p->password));
    free(p->password);
    free(p->idle);
    SSL_CTX_free(p->tls);
    free(p);
}

/* Takes a context: an idle one of the current generation (*reused = 1),
 * else a new connection when under the cap, else waits for one.         */
static strands_status pool_get(redis_pool *p, pooled *out, int *reused,
                               strands_error *err)
{
    struct timespec deadline;
    core_abstime_after_ms(CLOCK_MONOTONIC, p->command_timeout_ms, &deadline);
    pthread_mutex_lock(&p->lock);
    for (;;) {
        while (p->n_idle) {
            pooled c = p->idle[--p->n_idle];
            if (c.gen == p->gen) {
                pthread_mutex_unlock(&p->lock);
                *out = c;
                *reused = 1;
                return STRANDS_OK;
            }
            p->n_open--; /* stale: opened before a failure */
            pthread_mutex_unlock(&p->lock);
            link_close(&c);
            pthread_mutex_lock(&p->lock);
        }
        if (p->n_open < p->cap) break;
        if (pthread_cond_timedwait(&p->freed, &p->lock, &deadline) ==
            ETIMEDOUT) {
            pthread_mutex_unlock(&p->lock);
            char detail[96];
            snprintf(detail, sizeof detail, "all %zu connections stayed "
                     "busy (REDIS_POOL_SIZE)", p->cap);
            return unavailable(err, p, "is not answering in time", detail);
        }
    }
    p->n_open++; /* the slot is ours while we connect */
    unsigned gen = p->gen;
    pthread_mutex_unlock(&p->lock);
    pooled c;
    strands_status st = conn_open(p, &c, err);
    if (st != STRANDS_OK) {
        pthread_mutex_lock(&p->lock);
        p->n_open--;
        pthread_cond_signal(&p->freed);
        pthread_mutex_unlock(&p->lock);
        return st;
    }
    *out = c;
    out->gen = gen;
    *reused = 0;
    return STRANDS_OK;
}

/* Returns a context to the pool, or drops it (broken: the idle ones of
 * its generation are dropped too, lazily).                              */
static void pool_put(redis_pool *p, pooled *c, int broken)
{
    pthread_mutex_lock(&p->lock);
    if (broken || link_broken(c) || c->gen != p->gen) {
        if (broken && c->gen == p->gen) p->gen++;
        p->n_open--;
        pthread_mutex_unlock(&p->lock);
        link_close(c);
        pthread_mutex_lock(&p->lock);
    } else {
        p->idle[p->n_idle++] = *c;
    }
    pthread_cond_signal(&p->freed);
    pthread_mutex_unlock(&p->lock);
}

static strands_status run(redis_pool *p, unsigned flags, int argc,
                          const char **argv, const size_t *lens,
                          redisReply **out, strands_error *err)
{
    *out = NULL;
    for (int attempt = 0;; attempt++) {
        pooled c;
        int reused = 0;
        strands_status st = pool_get(p, &c, &reused, err);
        if (st != STRANDS_OK) return st;
        link_fail f;
        redisReply *r = send_argv(&c, argc, argv, lens, &f);
        if (r) {
            pool_put(p, &c, 0);
            *out = r;
            return STRANDS_OK;
        }
        int again = reused && attempt == 0 &&
                    (flags & REDIS_CMD_IDEMPOTENT) && f.closed;
        pool_put(p, &c, 1);
        if (f.nomem)
            return strands_error_set(err, STRANDS_E_NOMEM, NULL,
                                     "out of memory talking to Redis: %s",
                                     f.detail);
        if (!again)
            return unavailable(err, p, f.timeout ? "did not answer in time"
                                       : f.too_big ? "answered too much"
                                                   : "failed", f.detail);
    }
}

/* An error reply as the store's error. */
static strands_status reply_error(redis_pool *p, redisReply *r,
                                  strands_error *err)
{
    strands_status st = unavailable(err, p, "answered with an error",
                                    r->str ? r->str : "(no text)");
    freeReplyObject(r);
    return st;
}

strands_status redis_pool_eval(redis_pool *p, const redis_script *s,
                               unsigned flags, int nkeys, int nargs,
                               const char **args, const size_t *lens,
                               redisReply **out, strands_error *err)
{
    *out = NULL;
    if (nargs < nkeys || nargs > MAX_ARGS)
        return strands_error_set(err, STRANDS_E_TOO_LARGE, NULL,
                                 "a Redis script takes at most %d "
                                 "arguments", MAX_ARGS);
    const char **argv = malloc((size_t)(nargs + 3) * sizeof *argv);
    size_t *alen = malloc((size_t)(nargs + 3) * sizeof *alen);
    if (!argv || !alen) {
        free(argv);
        free(alen);
        return strands_error_set(err, STRANDS_E_NOMEM, NULL,
                                 "out of memory building a Redis command");
    }
    char nk[16];
    snprintf(nk, sizeof nk, "%d", nkeys);
    argv[0] = "EVALSHA";
    argv[1] = s->sha;
    argv[2] = nk;
    for (int i = 0; i < nargs; i++) {
        argv[3 + i] = args[i];
        alen[3 + i] = lens[i];
    }
    alen[0] = 7;
    alen[1] = strlen(s->sha);
    alen[2] = strlen(nk);
    strands_status st = run(p, flags, nargs + 3, argv, alen, out, err);
    if (st == STRANDS_OK && (*out)->type == REDIS_REPLY_ERROR &&
        !strncmp((*out)->str, "NOSCRIPT", 8)) {
        /* First use on this server (or after SCRIPT FLUSH / a restart):
         * EVAL loads it into the script cache for the next EVALSHA. */
        freeReplyObject(*out);
        *out = NULL;
        argv[0] = "EVAL";
        argv[1] = s->text;
        alen[0] = 4;
        alen[1] = strlen(s->text);
        st = run(p, flags, nargs + 3, argv, alen, out, err);
    }
    if (st == STRANDS_OK && (*out)->type == REDIS_REPLY_ERROR) {
        st = reply_error(p, *out, err);
        *out = NULL;
    }
    free(argv);
    free(alen);
    return st;
}
