/* Running a helper program with a deadline (credential_process today,
 * local tool servers later): the child gets a clean signal state (empty
 * mask, default dispositions), its own process group and /dev/null as
 * stdin; stdout (and optionally stderr) are read into caller buffers with
 * caps until EOF, all within one deadline. On the deadline or an output
 * cap the whole group gets SIGTERM, then SIGKILL after a grace period;
 * the child is ALWAYS reaped before returning (no zombies).
 *
 * Output goes into caller-owned buffers (nothing is allocated), so the
 * caller can wipe output that holds secrets.                            */
#ifndef STRANDS_NET_SPAWN_H
#define STRANDS_NET_SPAWN_H

#include <stdatomic.h>
#include <stddef.h>
#include <sys/types.h>

#include "strands/status.h"

typedef struct net_spawn_opts {
    const char *path;        /* executable; no PATH search */
    char *const *argv;       /* NULL-terminated; argv[0] by convention */
    char *const *envp;       /* NULL: the current environment */
    long timeout_ms;         /* deadline for output and exit; > 0 */
    long kill_grace_ms;      /* SIGTERM -> SIGKILL delay; 0: 500 ms */
    char *out;               /* stdout buffer (borrowed), out_cap bytes */
    size_t out_cap;          /* more output than this: E_TOO_LARGE */
    char *err;               /* stderr buffer, or NULL: stderr goes to
                                /dev/null (helpers may print secrets) */
    size_t err_cap;          /* stderr beyond this is dropped and
                                err_truncated set (not an error) */
    int out_truncate;        /* 1: stdout beyond out_cap is dropped and
                                out_truncated set, like stderr, instead
                                of E_TOO_LARGE */
    const char *cwd;         /* directory the child starts in; NULL: ours */
    const atomic_int *cancelled; /* borrowed, may be NULL; once non-zero
                                the group is killed and E_CANCELLED
                                returned (checked every 20 ms) */
} net_spawn_opts;

typedef struct net_spawn_result {
    pid_t pid;               /* the child's pid (and process group id) */
    size_t out_len;          /* bytes written to opts.out */
    size_t err_len;          /* bytes written to opts.err */
    int err_truncated;
    int out_truncated;       /* only with opts.out_truncate */
    int exited;              /* 1: exited normally, exit_code is valid */
    int exit_code;
    int term_signal;         /* signal that ended it, 0 when none */
    int killed;              /* 1: we killed it (deadline or cap) */
    int used_sigkill;        /* 1: SIGTERM was not enough */
} net_spawn_result;

/** Runs the program and reaps it. Returns OK when it ended on its own
 * within the deadline (check r->exited / r->exit_code / r->term_signal);
 * E_TIMEOUT when the deadline passed first (killed, partial output kept);
 * E_TOO_LARGE when stdout exceeded out_cap (killed, unless out_truncate);
 * E_CANCELLED when opts.cancelled was set first (killed); E_IO when it
 * could not be started, or cwd could not be entered (err names the
 * errno); E_INVALID for bad options.                                  */
strands_status net_spawn_run(const net_spawn_opts *o, net_spawn_result *r,
                             strands_error *err);

#endif
