/* The stdio MCP transport: a child process (own process group, signals
 * reset, a minimal environment plus the configured one) that reads
 * newline-delimited JSON-RPC on stdin and writes it on stdout. A reader
 * thread splits stdout into lines and hands each JSON object to the
 * client; a second thread copies the child's stderr to our log at debug
 * level. close() terminates the group (SIGTERM, then SIGKILL), reaps the
 * child and joins both threads; nothing is left behind.
 *
 * stdin is one end of a socketpair, so a write to a child that died gives
 * EPIPE without raising SIGPIPE (send with MSG_NOSIGNAL).                 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/env.h"
#include "mcp/transport.h"
#include "strands/clock.h"
#include "strands/log.h"

extern char **environ;

#define STDIO_DEFAULT_MAX_MESSAGE ((size_t)16 << 20)
#define STDIO_TERM_GRACE_MS 2000
#define STDIO_STDERR_LINE_MAX 1024
#define STDIO_MAX_ENV 320

/* Variables of ours a child gets (before its configured env). */
static const char *const inherited[] = {"PATH", "HOME", "LANG", "LC_ALL",
                                        "TERM", "USER", "SHELL", "TMPDIR"};

typedef struct stdio_transport {
    mcp_transport base;
    char *server_name;
    char *command;
    char **args;             /* NULL-terminated copies */
    char **env;              /* "K=V" copies, NULL-terminated */
    size_t n_env;
    char *cwd;
    size_t max_message;

    pthread_mutex_t write_lock; /* one writer at a time on stdin */
    pid_t pid;               /* 0 when no child */
    int in_fd;               /* our end of the child's stdin */
    int out_fd;              /* child's stdout (read end) */
    int err_fd;              /* child's stderr (read end) */
    int wake_fd;             /* eventfd: close() wakes the threads */
    pthread_t reader, errlog;
    int threads_up;
    atomic_int closing;      /* close() in progress: no on_closed */
    atomic_int reaped;       /* the reader reaped the child */
    int exit_status;         /* waitpid status, when reaped */
} stdio_transport;

static void free_list(char **list)
{
    if (!list) return;
    for (char **p = list; *p; p++) free(*p);
    free(list);
}

/* ---- lines --------------------------------------------------------- */

/* Describes a waitpid status ("exited with status 1", "killed by signal 9"). */
static void describe_status(int status, char *out, size_t cap)
{
    if (WIFEXITED(status))
        snprintf(out, cap, "exited with status %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        snprintf(out, cap, "killed by signal %d", WTERMSIG(status));
    else
        snprintf(out, cap, "ended (status 0x%x)", (unsigned)status);
}

/* Waits up to ms for the child to exit; 1 when reaped (status set). */
static int reap_within(stdio_transport *t, long ms, int *status)
{
    int64_t until = strands_clock_mono_ms() + ms;
    for (;;) {
        pid_t r = waitpid(t->pid, status, WNOHANG);
        if (r == t->pid) return 1;
        if (r < 0 && errno != EINTR) { *status = 0; return 1; }
        if (strands_clock_mono_ms() >= until) return 0;
        struct timespec ts = {0, 10 * 1000000L};
        nanosleep(&ts, NULL);
    }
}

/* Handles one complete stdout line (not NUL-terminated in place). */
static void deliver_line(stdio_transport *t, const char *line, size_t len)
{
    while (len && (line[len - 1] == '\r' || line[len - 1] == ' '))
        len--;
    if (!len) return;
    json_error_t je;
    json_t *msg = json_loadb(line, len, JSON_REJECT_DUPLICATES, &je);
    if (!json_is_object(msg)) {
        /* Servers sometimes print banners to stdout: not fatal. */
        strands_log(STRANDS_LOG_DEBUG, "mcp", NULL, NULL, NULL,
                    "mcp server '%s': ignored a stdout line that is not a "
                    "JSON-RPC message (%zu bytes)", t->server_name, len);
        json_decref(msg);
        return;
    }
    if (t->base.on_message)
        t->base.on_message(t->base.cb_user, msg); /* takes msg over */
    else
        json_decref(msg);
}

static void *reader_main(void *arg)
{
    stdio_transport *t = arg;
    size_t cap = 64 * 1024, len = 0;
    char *buf = malloc(cap);
    int skipping = 0; /* discarding an over-long line up to its '\n' */
    char why[128] = "closed its stdout";
    while (buf) {
        struct pollfd p[2] = {{t->out_fd, POLLIN, 0}, {t->wake_fd, POLLIN, 0}};
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR) continue;
            break;
        }
        if (p[1].revents) goto out; /* close() */
        if (!p[0].revents) continue;
        if (len == cap) {
            size_t ncap = cap * 2;
            if (ncap > t->max_message + 1) ncap = t->max_message + 1;
            char *nb = ncap > cap ? realloc(buf, ncap) : NULL;
            if (!nb) { /* over the cap: drop this line */
                strands_log(STRANDS_LOG_WARN, "mcp", NULL, NULL, NULL,
                            "mcp server '%s': dropped a message over %zu "
                            "bytes", t->server_name, t->max_message);
                skipping = 1;
                len = 0;
            } else {
                buf = nb;
                cap = ncap;
            }
        }
        ssize_t n = read(t->out_fd, buf + len, cap - len);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break; /* EOF or error: the child is going */
        size_t start = 0, end = len + (size_t)n;
        for (size_t i = len; i < end; i++) {
            if (buf[i] != '\n') continue;
            if (!skipping) deliver_line(t, buf + start, i - start);
            skipping = 0;
            start = i + 1;
        }
        memmove(buf, buf + start, end - start);
        len = end - start;
    }
    /* EOF: find out how the child ended (it usually has by now). */
    if (!atomic_load(&t->closing)) {
        int status = 0;
        if (reap_within(t, 1000, &status)) {
            t->exit_status = status;
            atomic_store(&t->reaped, 1);
            describe_status(status, why, sizeof why);
        }
        if (t->base.on_closed && !atomic_load(&t->closing))
            t->base.on_closed(t->base.cb_user, why);
    }
out:
    free(buf);
    return NULL;
}

static void *errlog_main(void *arg)
{
    stdio_transport *t = arg;
    char line[STDIO_STDERR_LINE_MAX + 1];
    size_t len = 0;
    char chunk[4096];
    for (;;) {
        struct pollfd p[2] = {{t->err_fd, POLLIN, 0}, {t->wake_fd, POLLIN, 0}};
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR) continue;
            break;
        }
        if (p[1].revents) break;
        ssize_t n = read(t->err_fd, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        for (ssize_t i = 0; i < n; i++) {
            char c = chunk[i];
            if (c != '\n' && len < STDIO_STDERR_LINE_MAX) {
                line[len++] = (c == '\r' || c == '\t') ? ' ' : c;
                continue;
            }
            if (c != '\n') continue; /* long line: the rest is dropped */
            line[len] = 0;
            if (len)
                strands_log(STRANDS_LOG_DEBUG, "mcp", NULL, NULL, NULL,
                            "mcp server '%s' stderr: %s", t->server_name,
                            line);
            len = 0;
        }
    }
    if (len) {
        line[len] = 0;
        strands_log(STRANDS_LOG_DEBUG, "mcp", NULL, NULL, NULL,
                    "mcp server '%s' stderr: %s", t->server_name, line);
    }
    return NULL;
}

/* ---- open ------------------------------------------------------------ */

/* The child's environment: ours for `inherited`, then the configured
 * entries (which win). *out: NULL-terminated array of borrowed/new
 * strings; `owned` gets the new ones to free.                          */
static char **build_env(const stdio_transport *t, char ***owned)
{
    size_t n_inh = sizeof inherited / sizeof inherited[0];
    char **envp = calloc(n_inh + t->n_env + 1, sizeof *envp);
    char **mine = calloc(n_inh + 1, sizeof *mine);
    if (!envp || !mine) {
        free(envp);
        free(mine);
        return NULL;
    }
    size_t n = 0, m = 0;
    for (size_t i = 0; i < n_inh; i++) {
        int overridden = 0;
        size_t kl = strlen(inherited[i]);
        for (size_t j = 0; j < t->n_env; j++)
            if (!strncmp(t->env[j], inherited[i], kl) && t->env[j][kl] == '=')
                overridden = 1;
        const char *v = core_getenv(NULL, NULL, inherited[i]);
        if (overridden || !v) continue;
        char *kv = NULL;
        if (asprintf(&kv, "%s=%s", inherited[i], v) < 0) continue;
        mine[m++] = kv;
        envp[n++] = kv;
    }
    for (size_t j = 0; j < t->n_env; j++) envp[n++] = t->env[j];
    *owned = mine;
    return envp;
}

static void close_fd(int *fd)
{
    if (*fd >= 0) close(*fd);
    *fd = -1;
}

static strands_status stdio_open(mcp_transport *base, int64_t deadline_ms,
                                 strands_error *err)
{
    (void)deadline_ms; /* spawning does not block */
    stdio_transport *t = (stdio_transport *)base;
    pthread_mutex_lock(&t->write_lock);
    pid_t running = t->pid;
    pthread_mutex_unlock(&t->write_lock);
    if (running)
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "mcp server '%s' is already open",
                                 t->server_name);
    int in_sv[2] = {-1, -1}, out_p[2] = {-1, -1}, err_p[2] = {-1, -1};
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in_sv) != 0 ||
        pipe2(out_p, O_CLOEXEC) != 0 || pipe2(err_p, O_CLOEXEC) != 0) {
        int e = errno;
        close_fd(&in_sv[0]); close_fd(&in_sv[1]);
        close_fd(&out_p[0]); close_fd(&out_p[1]);
        close_fd(&err_p[0]); close_fd(&err_p[1]);
        return strands_error_set(err, STRANDS_E_IO, NULL,
                                 "mcp server '%s': cannot make pipes: %s",
                                 t->server_name, strerror(e));
    }
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    posix_spawn_file_actions_init(&fa);
    posix_spawnattr_init(&at);
    posix_spawn_file_actions_adddup2(&fa, in_sv[1], 0);
    posix_spawn_file_actions_adddup2(&fa, out_p[1], 1);
    posix_spawn_file_actions_adddup2(&fa, err_p[1], 2);
    if (t->cwd) posix_spawn_file_actions_addchdir_np(&fa, t->cwd);
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    sigdelset(&all, SIGKILL);
    sigdelset(&all, SIGSTOP);
    posix_spawnattr_setsigmask(&at, &none);
    posix_spawnattr_setsigdefault(&at, &all);
    posix_spawnattr_setpgroup(&at, 0);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK |
                                      POSIX_SPAWN_SETSIGDEF |
                                      POSIX_SPAWN_SETPGROUP);
    char **owned = NULL;
    char **envp = build_env(t, &owned);
    char *argv0[2] = {t->command, NULL};
    pid_t pid = 0;
    int rc = envp ? posix_spawnp(&pid, t->command, &fa, &at,
                                 t->args ? t->args : argv0, envp)
                  : ENOMEM;
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    free(envp);
    free_list(owned);
    close_fd(&in_sv[1]);
    close_fd(&out_p[1]);
    close_fd(&err_p[1]);
    if (rc != 0) {
        close_fd(&in_sv[0]);
        close_fd(&out_p[0]);
        close_fd(&err_p[0]);
        return strands_error_set(err, STRANDS_E_IO, NULL,
                                 "mcp server '%s': cannot start '%s': %s",
                                 t->server_name, t->command, strerror(rc));
    }
    pthread_mutex_lock(&t->write_lock);
    t->pid = pid;
    t->in_fd = in_sv[0];
    pthread_mutex_unlock(&t->write_lock);
    t->out_fd = out_p[0];
    t->err_fd = err_p[0];
    fcntl(t->in_fd, F_SETFL, fcntl(t->in_fd, F_GETFL) | O_NONBLOCK);
    atomic_store(&t->closing, 0);
    atomic_store(&t->reaped, 0);
    uint64_t drain;
    while (read(t->wake_fd, &drain, sizeof drain) > 0) {}
    if (pthread_create(&t->reader, NULL, reader_main, t) != 0) {
        base->vt->close(base);
        return strands_error_set(err, STRANDS_E_NOMEM, NULL,
                                 "mcp server '%s': no thread to read it",
                                 t->server_name);
    }
    if (pthread_create(&t->errlog, NULL, errlog_main, t) != 0) {
        t->threads_up = 1; /* the reader only */
        base->vt->close(base);
        return strands_error_set(err, STRANDS_E_NOMEM, NULL,
                                 "mcp server '%s': no thread for its stderr",
                                 t->server_name);
    }
    t->threads_up = 2;
    return STRANDS_OK;
}

/* ---- send ------------------------------------------------------------ */

static strands_status write_all(stdio_transport *t, const char *p, size_t n,
                                const mcp_send_info *info, strands_error *err)
{
    while (n) {
        ssize_t w = send(t->in_fd, p, n, MSG_NOSIGNAL);
        if (w > 0) {
            p += w;
            n -= (size_t)w;
            continue;
        }
        if (w < 0 && errno == EINTR) continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (info->cancelled && atomic_load(info->cancelled))
                return strands_error_set(err, STRANDS_E_CANCELLED, NULL,
                                         "cancelled writing to mcp server "
                                         "'%s'", t->server_name);
            int64_t now = strands_clock_mono_ms();
            if (info->deadline_ms && now >= info->deadline_ms)
                return strands_error_set(err, STRANDS_E_TIMEOUT, NULL,
                                         "mcp server '%s' does not read its "
                                         "input", t->server_name);
            struct pollfd pf = {t->in_fd, POLLOUT, 0};
            poll(&pf, 1, 50);
            continue;
        }
        return strands_error_set(err, STRANDS_E_IO, NULL,
                                 "mcp server '%s' is gone (writing: %s)",
                                 t->server_name,
                                 strerror(w < 0 ? errno : EPIPE));
    }
    return STRANDS_OK;
}

static strands_status stdio_send(mcp_transport *base, const mcp_send_info *info,
                                 strands_error *err)
{
    stdio_transport *t = (stdio_transport *)base;
    if (memchr(info->json, '\n', info->len))
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "an MCP message may not contain a newline");
    pthread_mutex_lock(&t->write_lock);
    strands_status st;
    if (!t->pid || t->in_fd < 0)
        st = strands_error_set(err, STRANDS_E_IO, NULL,
                               "mcp server '%s' is not running",
                               t->server_name);
    else
        st = write_all(t, info->json, info->len, info, err);
    if (st == STRANDS_OK) st = write_all(t, "\n", 1, info, err);
    pthread_mutex_unlock(&t->write_lock);
    return st;
}

/* ---- close ----------------------------------------------------------- */

static void stdio_close(mcp_transport *base)
{
    stdio_transport *t = (stdio_transport *)base;
    pthread_mutex_lock(&t->write_lock);
    pid_t pid = t->pid;
    if (pid) {
        atomic_store(&t->closing, 1);
        close_fd(&t->in_fd); /* EOF on stdin: a polite server exits */
    }
    pthread_mutex_unlock(&t->write_lock);
    if (!pid) return;
    int status = 0;
    if (!atomic_load(&t->reaped)) {
        kill(-pid, SIGTERM);
        if (!reap_within(t, STDIO_TERM_GRACE_MS, &status)) {
            kill(-pid, SIGKILL);
            while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
        }
    }
    kill(-pid, SIGKILL); /* grandchildren left in the group */
    uint64_t one = 1;
    ssize_t w = write(t->wake_fd, &one, sizeof one);
    (void)w;
    if (t->threads_up >= 1) pthread_join(t->reader, NULL);
    if (t->threads_up >= 2) pthread_join(t->errlog, NULL);
    t->threads_up = 0;
    close_fd(&t->out_fd);
    close_fd(&t->err_fd);
    pthread_mutex_lock(&t->write_lock);
    t->pid = 0;
    pthread_mutex_unlock(&t->write_lock);
}

static void stdio_destroy(mcp_transport *base)
{
    if (!base) return;
    stdio_transport *t = (stdio_transport *)base;
    stdio_close(base);
    pthread_mutex_destroy(&t->write_lock);
    close_fd(&t->wake_fd);
    free(t->server_name);
    free(t->command);
    free_list(t->args);
    free_list(t->env);
    free(t->cwd);
    free(t);
}

static const mcp_transport_vtab stdio_vtab = {
    .kind = "stdio",
    .open = stdio_open,
    .send = stdio_send,
    .close = stdio_close,
    .destroy = stdio_destroy,
};

mcp_transport *mcp_stdio_new(const mcp_stdio_opts *o, strands_error *err)
{
    if (!o || !o->command || !o->command[0])
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "an MCP stdio server needs a command"),
               NULL;
    if (o->n_env > STDIO_MAX_ENV)
        return strands_error_set(err, STRANDS_E_TOO_LARGE, NULL,
                                 "too many environment entries"), NULL;
    stdio_transport *t = calloc(1, sizeof *t);
    if (!t) goto oom;
    t->base.vt = &stdio_vtab;
    t->in_fd = t->out_fd = t->err_fd = -1;
    t->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    pthread_mutex_init(&t->write_lock, NULL);
    t->max_message = o->max_message_bytes ? o->max_message_bytes
                                          : STDIO_DEFAULT_MAX_MESSAGE;
    t->server_name = strdup(o->server_name ? o->server_name : "?");
    t->command = strdup(o->command);
    t->cwd = o->cwd ? strdup(o->cwd) : NULL;
    size_t na = 0;
    while (o->args && o->args[na]) na++;
    t->args = calloc(na + 2, sizeof *t->args);
    t->env = calloc(o->n_env + 1, sizeof *t->env);
    if (!t->server_name || !t->command || (o->cwd && !t->cwd) || !t->args ||
        !t->env || t->wake_fd < 0)
        goto oom;
    if (!(t->args[0] = strdup(o->command))) goto oom;
    for (size_t i = 0; i < na; i++)
        if (!(t->args[i + 1] = strdup(o->args[i]))) goto oom;
    for (size_t i = 0; i < o->n_env; i++) {
        if (!strchr(o->env[i], '=')) {
            stdio_destroy(&t->base);
            return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                     "environment entry without '='"), NULL;
        }
        if (!(t->env[i] = strdup(o->env[i]))) goto oom;
        t->n_env++;
    }
    return &t->base;
oom:
    if (t) stdio_destroy(&t->base);
    strands_error_set(err, STRANDS_E_NOMEM, NULL, "out of memory");
    return NULL;
}
