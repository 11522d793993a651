/* Claims of the file session store, exclusive across every process that
 * shares the store directory: a claim on session <id> is an exclusive
 * flock() on <root>/.locks/session_<id>.lock, held on an open fd until
 * the claim is released (the file is then deleted) or the process dies
 * (the kernel drops the lock: a crashed runtime never blocks a session).
 * flock() locks belong to the open file description, so two threads of
 * one process exclude each other too; a table of held claims also
 * answers SessionBusy in-process without touching the file (and keeps
 * working where flock is emulated per process, as on NFS).
 *
 * Deleting a lock file while others may open it: a locker re-checks,
 * after it got the lock, that the path still names the file it locked
 * (same device and inode) and starts over when it does not.             */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "session/file.h"
#include "session/store.h"

/* Attempts to lock a file that keeps being replaced under us. */
#define LOCK_RETRIES 8

struct fstore_claim_entry {
    fstore_claim_entry *next;
    int fd;        /* the locked lock file; -1 while being taken */
    char token[STRANDS_SESSION_CLAIM_TOKEN_MAX];
    char id[];     /* session id */
};

int fstore_claims_init(fstore_claims *c, int rootfd)
{
    memset(c, 0, sizeof *c);
    c->locks_fd = fstore_dir_open(rootfd, ".locks", 1);
    if (c->locks_fd < 0) return c->locks_fd;
    if (pthread_mutex_init(&c->lock, NULL) != 0) {
        close(c->locks_fd);
        c->locks_fd = -1;
        return -ENOMEM;
    }
    return 0;
}

static void lock_name(char *out, size_t outsz, const char *id)
{
    snprintf(out, outsz, "session_%s.lock", id);
}

/* 1 when fd is the file at `name` under dirfd. */
static int still_at_path(int dirfd, const char *name, int fd)
{
    struct stat a, b;
    if (fstat(fd, &a) != 0) return 0;
    if (fstatat(dirfd, name, &b, AT_SYMLINK_NOFOLLOW) != 0) return 0;
    return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

static void drop_file(fstore_claims *c, const char *id, int fd)
{
    char name[FILE_ID_MAX + 32];
    lock_name(name, sizeof name, id);
    if (still_at_path(c->locks_fd, name, fd))
        unlinkat(c->locks_fd, name, 0);
    close(fd); /* drops the lock */
}

void fstore_claims_destroy(fstore_claims *c)
{
    if (c->locks_fd < 0) return;
    while (c->head) {
        fstore_claim_entry *e = c->head;
        c->head = e->next;
        if (e->fd >= 0) drop_file(c, e->id, e->fd);
        free(e);
    }
    close(c->locks_fd);
    c->locks_fd = -1;
    pthread_mutex_destroy(&c->lock);
}

static strands_status busy(strands_error *err, const char *id)
{
    return strands_error_set(err, STRANDS_E_BUSY, "SessionBusy",
                             "session %s is busy with another invocation",
                             id);
}

/* Opens and locks the lock file; the fd, or -EWOULDBLOCK / -errno. */
static int lock_file(fstore_claims *c, const char *name)
{
    for (int attempt = 0; attempt < LOCK_RETRIES; attempt++) {
        int fd = openat(c->locks_fd, name,
                        O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0) return errno == ELOOP ? -EPERM : -errno;
        if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
            int e = errno;
            /* A filesystem without flock: the claim holds in this process
             * only (the table), which is all one microVM needs.         */
            if (fstore_no_flock(e)) return fd;
            close(fd);
            return e == EWOULDBLOCK ? -EWOULDBLOCK : -e;
        }
        if (still_at_path(c->locks_fd, name, fd)) return fd;
        close(fd); /* deleted (released) between our open and lock */
    }
    return -EWOULDBLOCK;
}

strands_status fstore_claims_take(fstore_claims *c, const char *id,
                                  strands_session_claim *out,
                                  strands_error *err)
{
    size_t idlen = strlen(id);
    fstore_claim_entry *e = calloc(1, sizeof *e + idlen + 1);
    if (!e)
        return strands_error_set(err, STRANDS_E_NOMEM, NULL,
                                 "out of memory");
    memcpy(e->id, id, idlen + 1);
    e->fd = -1;
    session_claim_token(out);
    memcpy(e->token, out->token, sizeof e->token);
    out->expires_ms = 0;

    /* Reserve the id in this process first: a second claim from here is
     * busy without racing us on the file.                              */
    pthread_mutex_lock(&c->lock);
    for (fstore_claim_entry *p = c->head; p; p = p->next) {
        if (strcmp(p->id, id) == 0) {
            pthread_mutex_unlock(&c->lock);
            free(e);
            return busy(err, id);
        }
    }
    if (c->count >= FILE_MAX_CLAIMS) {
        pthread_mutex_unlock(&c->lock);
        free(e);
        return strands_error_set(err, STRANDS_E_UNAVAILABLE,
                                 "SessionStoreUnavailable",
                                 "session store: %d claims are held "
                                 "already", FILE_MAX_CLAIMS);
    }
    e->next = c->head;
    c->head = e;
    c->count++;
    pthread_mutex_unlock(&c->lock);

    char name[FILE_ID_MAX + 32];
    lock_name(name, sizeof name, id);
    int fd = lock_file(c, name);
    if (fd >= 0) {
        /* For people looking at the directory: who holds it. */
        char note[128];
        int n = snprintf(note, sizeof note, "pid %ld\n", (long)getpid());
        if (ftruncate(fd, 0) == 0 && pwrite(fd, note, (size_t)n, 0) < 0) {
            /* informational only */
        }
    }

    pthread_mutex_lock(&c->lock);
    if (fd >= 0) {
        e->fd = fd;
        pthread_mutex_unlock(&c->lock);
        return STRANDS_OK;
    }
    for (fstore_claim_entry **pp = &c->head; *pp; pp = &(*pp)->next) {
        if (*pp == e) {
            *pp = e->next;
            c->count--;
            break;
        }
    }
    pthread_mutex_unlock(&c->lock);
    free(e);
    memset(out, 0, sizeof *out);
    if (fd == -EWOULDBLOCK) return busy(err, id);
    return fstore_io_error(err, fd, "cannot lock", ".locks/<session>.lock");
}

/* The held entry of (id, token), or NULL; under c->lock. */
static fstore_claim_entry **find(fstore_claims *c, const char *id,
                               const char *token)
{
    for (fstore_claim_entry **pp = &c->head; *pp; pp = &(*pp)->next) {
        fstore_claim_entry *p = *pp;
        if (p->fd >= 0 && strcmp(p->id, id) == 0 &&
            strncmp(p->token, token, sizeof p->token) == 0)
            return pp;
    }
    return NULL;
}

strands_status fstore_claims_check(fstore_claims *c, const char *id,
                                   const strands_session_claim *claim,
                                   strands_error *err)
{
    char name[FILE_ID_MAX + 32];
    lock_name(name, sizeof name, id);
    pthread_mutex_lock(&c->lock);
    fstore_claim_entry **pp = find(c, id, claim->token);
    /* Held, and nobody removed the lock file behind our back. */
    int ok = pp && still_at_path(c->locks_fd, name, (*pp)->fd);
    pthread_mutex_unlock(&c->lock);
    return ok ? STRANDS_OK : session_claim_lost(err, id);
}

strands_status fstore_claims_release(fstore_claims *c, const char *id,
                                     const strands_session_claim *claim,
                                     strands_error *err)
{
    pthread_mutex_lock(&c->lock);
    fstore_claim_entry **pp = find(c, id, claim->token);
    fstore_claim_entry *e = pp ? *pp : NULL;
    if (e) {
        *pp = e->next;
        c->count--;
    }
    pthread_mutex_unlock(&c->lock);
    if (!e) return session_claim_lost(err, id);
    drop_file(c, e->id, e->fd);
    free(e);
    return STRANDS_OK;
}
