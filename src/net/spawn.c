/* posix_spawn with a clean signal state and a process group, poll()-based
 * deadline-bounded reads of stdout/stderr, and group kill + reap.       */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "net/spawn.h"
#include "strands/clock.h"

extern char **environ;

#define DEFAULT_GRACE_MS 500
#define CANCEL_POLL_MS 20

static int is_cancelled(const net_spawn_opts *o)
{
    return o->cancelled && atomic_load(o->cancelled);
}

/* Starts the child; the pipe write ends are dup'ed onto 1 (and 2). */
static int start(const net_spawn_opts *o, int out_w, int err_w, pid_t *pid)
{
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    int rc = posix_spawn_file_actions_init(&fa);
    if (rc) return rc;
    rc = posix_spawnattr_init(&attr);
    if (rc) {
        posix_spawn_file_actions_destroy(&fa);
        return rc;
    }
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    sigdelset(&all, SIGKILL);
    sigdelset(&all, SIGSTOP);
    if (!rc) rc = posix_spawn_file_actions_addopen(&fa, 0, "/dev/null",
                                                   O_RDONLY, 0);
    if (!rc && o->cwd)
        rc = posix_spawn_file_actions_addchdir_np(&fa, o->cwd);
    if (!rc) rc = posix_spawn_file_actions_adddup2(&fa, out_w, 1);
    if (!rc && err_w >= 0)
        rc = posix_spawn_file_actions_adddup2(&fa, err_w, 2);
    else if (!rc)
        rc = posix_spawn_file_actions_addopen(&fa, 2, "/dev/null",
                                              O_WRONLY, 0);
    /* Mask and dispositions are inherited across exec: reset both, so a
     * parent that blocks or ignores SIGTERM/SIGPIPE does not pass it on. */
    if (!rc) rc = posix_spawnattr_setsigmask(&attr, &none);
    if (!rc) rc = posix_spawnattr_setsigdefault(&attr, &all);
    if (!rc) rc = posix_spawnattr_setpgroup(&attr, 0);
    if (!rc)
        rc = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP |
                                                 POSIX_SPAWN_SETSIGMASK |
                                                 POSIX_SPAWN_SETSIGDEF);
    if (!rc)
        rc = posix_spawn(pid, o->path, &fa, &attr, o->argv,
                         o->envp ? o->envp : environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    return rc;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static void record_status(net_spawn_result *r, int status)
{
    if (WIFEXITED(status)) {
        r->exited = 1;
        r->exit_code = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status)) {
        r->term_signal = WTERMSIG(status);
    }
}

/* Waits for the child until deadline (monotonic ms), or until o's
 * cancel flag is set (o may be NULL). 1 when reaped (or already reaped
 * elsewhere), 0 when still running at the deadline or cancel.          */
static int reap_until(net_spawn_result *r, int64_t deadline,
                      const net_spawn_opts *o)
{
    for (;;) {
        int status;
        pid_t w = waitpid(r->pid, &status, WNOHANG);
        if (w == r->pid) {
            record_status(r, status);
            return 1;
        }
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) return 1; /* ECHILD: nothing left to reap */
        if (o && is_cancelled(o)) return 0;
        int64_t left = deadline - strands_clock_mono_ms();
        if (left <= 0) return 0;
        sleep_ms(left < 5 ? (long)left : 5);
    }
}

/* SIGTERM to the group, SIGKILL after the grace period, then reap. */
static void kill_group(net_spawn_result *r, long grace_ms)
{
    r->killed = 1;
    kill(-r->pid, SIGTERM);
    if (reap_until(r, strands_clock_mono_ms() + grace_ms, NULL)) {
        /* The leader is gone; members that ignore SIGTERM may remain. */
        kill(-r->pid, SIGKILL);
        return;
    }
    r->used_sigkill = 1;
    kill(-r->pid, SIGKILL);
    int status;
    pid_t w;
    while ((w = waitpid(r->pid, &status, 0)) < 0 && errno == EINTR) {
    }
    if (w == r->pid) record_status(r, status);
}

/* Reads what is available on fd into buf; returns 0 at EOF, 1 otherwise.
 * Bytes past cap set *over (stdout) or are dropped (stderr). */
static int drain(int fd, char *buf, size_t cap, size_t *len, int *over)
{
    char sink[4096];
    int room = *len < cap;
    ssize_t n = room ? read(fd, buf + *len, cap - *len)
                     : read(fd, sink, sizeof sink);
    if (n < 0) return errno == EINTR || errno == EAGAIN;
    if (n == 0) return 0;
    if (room)
        *len += (size_t)n;
    else
        *over = 1;
    return 1;
}

strands_status net_spawn_run(const net_spawn_opts *o, net_spawn_result *r,
                             strands_error *err)
{
    memset(r, 0, sizeof *r);
    r->pid = -1;
    if (!o->path || !o->argv || !o->argv[0] || o->timeout_ms <= 0 ||
        !o->out || (o->err && !o->err_cap))
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "spawn: path, argv, a positive timeout "
                                 "and an output buffer are required");
    long grace = o->kill_grace_ms > 0 ? o->kill_grace_ms : DEFAULT_GRACE_MS;
    int64_t deadline = strands_clock_mono_ms() + o->timeout_ms;
    int outp[2] = {-1, -1}, errp[2] = {-1, -1};
    if (pipe2(outp, O_CLOEXEC) != 0 ||
        (o->err && pipe2(errp, O_CLOEXEC) != 0)) {
        int e = errno;
        for (int i = 0; i < 2; i++) {
            if (outp[i] >= 0) close(outp[i]);
            if (errp[i] >= 0) close(errp[i]);
        }
        char eb[128];
        return strands_error_set(err, STRANDS_E_IO, NULL,
                                 "spawn %s: cannot create a pipe: %s",
                                 o->path, strerror_r(e, eb, sizeof eb));
    }
    int rc = start(o, outp[1], errp[1], &r->pid);
    close(outp[1]);
    if (errp[1] >= 0) close(errp[1]);
    if (rc != 0) {
        close(outp[0]);
        if (errp[0] >= 0) close(errp[0]);
        r->pid = -1;
        char eb[128];
        return strands_error_set(err, STRANDS_E_IO, NULL,
                                 "spawn %s: cannot start it: %s", o->path,
                                 strerror_r(rc, eb, sizeof eb));
    }
    struct pollfd pfd[2] = {{outp[0], POLLIN, 0}, {errp[0], POLLIN, 0}};
    int open_fds = 1 + (errp[0] >= 0);
    int too_large = 0, timed_out = 0, cancelled = 0;
    int *out_over = o->out_truncate ? &r->out_truncated : &too_large;
    long slice = o->cancelled ? CANCEL_POLL_MS : 1000;
    while (open_fds > 0 && !too_large) {
        if (is_cancelled(o)) {
            cancelled = 1;
            break;
        }
        int64_t left = deadline - strands_clock_mono_ms();
        if (left <= 0) {
            timed_out = 1;
            break;
        }
        int pr = poll(pfd, 2, left > slice ? (int)slice : (int)left);
        if (pr < 0 && errno != EINTR) break;
        if (pr <= 0) continue;
        if (pfd[0].fd >= 0 && pfd[0].revents) {
            if (!drain(pfd[0].fd, o->out, o->out_cap, &r->out_len,
                       out_over)) {
                close(pfd[0].fd);
                pfd[0].fd = -1;
                open_fds--;
            }
        }
        if (pfd[1].fd >= 0 && pfd[1].revents) {
            if (!drain(pfd[1].fd, o->err, o->err_cap, &r->err_len,
                       &r->err_truncated)) {
                close(pfd[1].fd);
                pfd[1].fd = -1;
                open_fds--;
            }
        }
    }
    for (int i = 0; i < 2; i++)
        if (pfd[i].fd >= 0) close(pfd[i].fd);
    /* Output is complete (or abandoned): the exit, within the deadline. */
    if (!timed_out && !too_large && !cancelled && !reap_until(r, deadline, o)) {
        if (is_cancelled(o))
            cancelled = 1;
        else
            timed_out = 1;
    }
    if (timed_out || too_large || cancelled) kill_group(r, grace);
    if (cancelled)
        return strands_error_set(err, STRANDS_E_CANCELLED, NULL,
                                 "%s was cancelled (killed)", o->path);
    if (timed_out)
        return strands_error_set(err, STRANDS_E_TIMEOUT, "SpawnTimeout",
                                 "%s did not finish within %ld ms (killed)",
                                 o->path, o->timeout_ms);
    if (too_large)
        return strands_error_set(err, STRANDS_E_TOO_LARGE, NULL,
                                 "%s wrote more than %zu bytes to stdout "
                                 "(killed)", o->path, o->out_cap);
    return STRANDS_OK;
}
