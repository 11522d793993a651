/* A private redis-server for unit tests: started on a free loopback port
 * with no persistence (--save '' --appendonly no), never the system's
 * service; stopped, frozen (SIGSTOP) and restarted on the same port by
 * the tests that need Redis to go away; it dies with the test process
 * (PR_SET_PDEATHSIG), however that ends. Tests skip when redis-server is
 * not installed (REDIS_SERVER names another binary). A TLS server: call
 * test_redis_tls_certs first (a throwaway CA and a server certificate for
 * localhost and 127.0.0.1, made with the openssl command), then start: it
 * listens for TLS on tls_port (bound to 127.0.0.1 and 127.0.0.2; only
 * 127.0.0.1 is in the certificate) and keeps a plain port on 127.0.0.1
 * for the test's own set-up commands (PING, FLUSHALL). Header-only.   */
#ifndef STRANDS_TEST_REDIS_SERVER_H
#define STRANDS_TEST_REDIS_SERVER_H

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

typedef struct test_redis {
    pid_t pid;             /* 0 when not running */
    int port;
    char binary[256];
    char password[64];     /* --requirepass when not empty */
    int tls_port;          /* TLS port when tls_dir is set (0: pick one) */
    char tls_dir[128];     /* ca.crt, server.crt/.key, other-ca.crt */
} test_redis;

/* The redis-server binary: $REDIS_SERVER, else the first in PATH or
 * /usr/bin and /usr/local/bin. 0 when there is none.                    */
static inline int test_redis_find(test_redis *r)
{
    const char *env = getenv("REDIS_SERVER");
    if (env && access(env, X_OK) == 0) {
        snprintf(r->binary, sizeof r->binary, "%s", env);
        return 1;
    }
    const char *dirs[] = {"/usr/bin", "/usr/local/bin", "/usr/sbin"};
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        snprintf(r->binary, sizeof r->binary, "%s/redis-server", dirs[i]);
        if (access(r->binary, X_OK) == 0) return 1;
    }
    r->binary[0] = '\0';
    return 0;
}

static inline int test_redis_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    int port = -1;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    close(fd);
    return port;
}

/* A connection to the test server (NULL when it does not answer). */
static inline redisContext *test_redis_connect(const test_redis *r)
{
    struct timeval tv = {1, 0};
    redisContext *c = redisConnectWithTimeout("127.0.0.1", r->port, tv);
    if (!c || c->err) {
        if (c) redisFree(c);
        return NULL;
    }
    redisSetTimeout(c, tv);
    if (r->password[0]) {
        redisReply *a = redisCommand(c, "AUTH %s", r->password);
        if (a) freeReplyObject(a);
    }
    return c;
}

/* Runs a command on a fresh connection; the reply (caller frees) or NULL. */
static inline redisReply *test_redis_cmd(const test_redis *r, const char *fmt,
                                         ...)
{
    redisContext *c = test_redis_connect(r);
    if (!c) return NULL;
    va_list ap;
    va_start(ap, fmt);
    redisReply *rep = redisvCommand(c, fmt, ap);
    va_end(ap);
    redisFree(c);
    return rep;
}

/* Runs a set-up command on a fresh connection and drops its reply. */
static inline void test_redis_do(const test_redis *r, const char *fmt, ...)
{
    redisContext *c = test_redis_connect(r);
    if (!c) return;
    va_list ap;
    va_start(ap, fmt);
    redisReply *rep = redisvCommand(c, fmt, ap);
    va_end(ap);
    if (rep) freeReplyObject(rep);
    redisFree(c);
}

/* Runs a command whose reply is an integer (LLEN, EXISTS, PTTL ...); the
 * integer, or -99 when the reply is missing or of another type.         */
static inline long long test_redis_int(const test_redis *r, const char *fmt,
                                       ...)
{
    redisContext *c = test_redis_connect(r);
    if (!c) return -99;
    va_list ap;
    va_start(ap, fmt);
    redisReply *rep = redisvCommand(c, fmt, ap);
    va_end(ap);
    long long v = rep && rep->type == REDIS_REPLY_INTEGER ? rep->integer : -99;
    if (rep) freeReplyObject(rep);
    redisFree(c);
    return v;
}

static inline void test_redis_sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Makes a throwaway CA (ca.crt), a server certificate it signed for
 * DNS:localhost and IP:127.0.0.1 (server.crt, server.key) and another,
 * unrelated CA (other-ca.crt) in a fresh directory, r->tls_dir. 0 on
 * success; -1 when the openssl command is missing or fails.            */
static inline int test_redis_tls_certs(test_redis *r)
{
    char dir[] = "/tmp/strands-redis-tls-XXXXXX";
    if (!mkdtemp(dir)) return -1;
    snprintf(r->tls_dir, sizeof r->tls_dir, "%s", dir);
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "(cd %s && "
             "printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n"
             "basicConstraints=CA:FALSE\n' > san.ext && "
             "openssl req -x509 -newkey ec -pkeyopt "
             "ec_paramgen_curve:prime256v1 -nodes -keyout ca.key -out ca.crt "
             "-days 2 -subj /CN=strands-test-ca && "
             "openssl req -x509 -newkey ec -pkeyopt "
             "ec_paramgen_curve:prime256v1 -nodes -keyout other-ca.key "
             "-out other-ca.crt -days 2 -subj /CN=strands-other-ca && "
             "openssl req -new -newkey ec -pkeyopt "
             "ec_paramgen_curve:prime256v1 -nodes -keyout server.key "
             "-out server.csr -subj /CN=localhost && "
             "openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key "
             "-CAcreateserial -days 2 -extfile san.ext -out server.crt"
             ") >/dev/null 2>&1", dir);
    if (system(cmd) != 0) {
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        if (system(cmd) != 0) {}
        r->tls_dir[0] = '\0';
        return -1;
    }
    return 0;
}

/* Removes r->tls_dir and what test_redis_tls_certs put there. */
static inline void test_redis_tls_cleanup(test_redis *r)
{
    if (!r->tls_dir[0]) return;
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", r->tls_dir);
    if (system(cmd) != 0) {}
    r->tls_dir[0] = '\0';
}

/* 1 unless the server on c says it is another process than `pid`
 * (INFO's process_id; a server that does not say is taken as ours).    */
static inline int test_redis_is_ours(redisContext *c, pid_t pid)
{
    redisReply *info = redisCommand(c, "INFO server");
    int ours = 1;
    if (info && info->type == REDIS_REPLY_STRING) {
        const char *p = strstr(info->str, "process_id:");
        ours = !p || atol(p + strlen("process_id:")) == (long)pid;
    }
    if (info) freeReplyObject(info);
    return ours;
}

/* Starts the server on r->port (a fresh free port when r->port is 0) and
 * waits up to 5 s for it to answer PING. 0 on success.                  */
static inline int test_redis_start(test_redis *r)
{
    if (!r->binary[0] && !test_redis_find(r)) return -1;
    if (!r->port) r->port = test_redis_free_port();
    if (r->port <= 0) return -1;
    if (r->tls_dir[0] && !r->tls_port) r->tls_port = test_redis_free_port();
    if (r->tls_dir[0] && r->tls_port <= 0) return -1;
    char port[16], tls_port[16], cert[200], key[200], ca[200];
    snprintf(port, sizeof port, "%d", r->port);
    snprintf(tls_port, sizeof tls_port, "%d", r->tls_port);
    snprintf(cert, sizeof cert, "%s/server.crt", r->tls_dir);
    snprintf(key, sizeof key, "%s/server.key", r->tls_dir);
    snprintf(ca, sizeof ca, "%s/ca.crt", r->tls_dir);
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        /* The server dies with the test, even one killed by a signal. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() == 1) _exit(127);
        int nul = open("/dev/null", O_RDWR);
        if (nul >= 0) {
            dup2(nul, 1);
            dup2(nul, 2);
        }
        const char *argv[32] = {r->binary, "--port", port, "--save", "",
                                "--appendonly", "no", "--dir", "/tmp",
                                "--daemonize", "no", "--bind", "127.0.0.1"};
        int n = 13;
        if (r->tls_dir[0]) {
            const char *more[] = {"127.0.0.2", "--tls-port", tls_port,
                                  "--tls-cert-file", cert, "--tls-key-file", key,
                                  "--tls-ca-cert-file", ca,
                                  "--tls-auth-clients", "no"};
            for (size_t i = 0; i < sizeof more / sizeof more[0]; i++)
                argv[n++] = more[i];
        }
        if (r->password[0]) {
            argv[n++] = "--requirepass";
            argv[n++] = r->password;
        }
        argv[n] = NULL;
        execv(r->binary, (char *const *)argv);
        _exit(127);
    }
    r->pid = pid;
    for (int i = 0; i < 250; i++) {
        redisContext *c = test_redis_connect(r);
        if (c) {
            redisReply *p = redisCommand(c, "PING");
            int ok = p && (p->type == REDIS_REPLY_STATUS ||
                           p->type == REDIS_REPLY_ERROR); /* NOAUTH: up */
            if (p) freeReplyObject(p);
            /* Not another test's server that took the port meanwhile
             * (a restart reuses it): then this one's child fails to
             * bind and exits, seen below.                              */
            ok = ok && test_redis_is_ours(c, pid);
            redisFree(c);
            if (ok) return 0;
        }
        int status;
        if (waitpid(pid, &status, WNOHANG) == pid) {
            r->pid = 0;
            return -1;
        }
        test_redis_sleep_ms(20);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    r->pid = 0;
    return -1;
}

/* Kills the server (SIGKILL: as abrupt as a crash) and reaps it. */
static inline void test_redis_kill(test_redis *r)
{
    if (!r->pid) return;
    kill(r->pid, SIGCONT);
    kill(r->pid, SIGKILL);
    waitpid(r->pid, NULL, 0);
    r->pid = 0;
}

/* Freezes (SIGSTOP) or thaws (SIGCONT) the server: it stops answering. */
static inline void test_redis_freeze(test_redis *r, int frozen)
{
    if (r->pid) kill(r->pid, frozen ? SIGSTOP : SIGCONT);
}

/* Restarts the server on the same port (after test_redis_kill). */
static inline int test_redis_restart(test_redis *r)
{
    test_redis_kill(r);
    for (int i = 0; i < 50; i++) { /* the port may linger briefly */
        if (test_redis_start(r) == 0) return 0;
        test_redis_sleep_ms(50);
    }
    return -1;
}

#endif
