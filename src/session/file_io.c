/* File-system primitives of the file session store: id checks for names
 * built from ids, directories opened and files read relative to directory
 * fds without following symlinks (so nothing inside the store can point
 * a read or write outside it), atomic writes (temp file in the same
 * directory, fsync, rename; the caller fsyncs the directory) and the
 * mapping of errno values to the store's errors.                        */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "session/file.h"
#include "session/store.h"

strands_status fstore_id_check(const char *id, const char *what,
                               strands_error *err)
{
    size_t len = 0;
    strands_error e;
    if (strands_session_id_check(id, &len, &e) != STRANDS_OK)
        return strands_error_set(err, STRANDS_E_INVALID, NULL, "%s: %s",
                                 what, e.message);
    if (len > FILE_ID_MAX)
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "%s is longer than %d bytes (the file "
                                 "store's limit)", what, FILE_ID_MAX);
    if (memchr(id, '/', len))
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "%s contains '/' (not allowed by the file "
                                 "store)", what);
    if (strcmp(id, ".") == 0 || strcmp(id, "..") == 0)
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "%s is '.' or '..'", what);
    return STRANDS_OK;
}

int fstore_dir_open(int dirfd, const char *name, int create)
{
    if (create && mkdirat(dirfd, name, 0700) != 0 && errno != EEXIST)
        return -errno;
    int fd = openat(dirfd, name,
                    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return errno == ELOOP ? -ENOTDIR : -errno;
    return fd;
}

int fstore_read_at(int dirfd, const char *name, size_t cap, char **out,
                   size_t *len)
{
    *out = NULL;
    *len = 0;
    int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return errno == ELOOP ? -EPERM : -errno;
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return -e;
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return -EPERM;
    }
    if ((unsigned long long)st.st_size > cap) {
        close(fd);
        return -EFBIG;
    }
    size_t want = (size_t)st.st_size, got = 0;
    char *buf = malloc(want + 1);
    if (!buf) {
        close(fd);
        return -ENOMEM;
    }
    /* Read to EOF (bounded by cap): the file may have grown since fstat. */
    for (;;) {
        if (got == want) {
            char probe;
            ssize_t r = read(fd, &probe, 1);
            if (r == 0) break;
            if (r < 0 && errno == EINTR) continue;
            free(buf);
            close(fd);
            return r < 0 ? -errno : -EAGAIN; /* changed under us */
        }
        ssize_t r = read(fd, buf + got, want - got);
        if (r < 0) {
            if (errno == EINTR) continue;
            int e = errno;
            free(buf);
            close(fd);
            return -e;
        }
        if (r == 0) break; /* shrank: what we have is all there is */
        got += (size_t)r;
    }
    close(fd);
    buf[got] = '\0';
    *out = buf;
    *len = got;
    return 0;
}

int fstore_no_flock(int e)
{
    return e == ENOLCK || e == EOPNOTSUPP || e == ENOSYS || e == EINVAL;
}

int fstore_dir_sync(int dirfd)
{
    if (fsync(dirfd) != 0 && errno != EINVAL && errno != EROFS)
        return -errno;
    return 0;
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return -errno;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

int fstore_write_at(int dirfd, const char *name, const char *data, size_t len,
                    fstore_fault_fn *fault, void *fault_user)
{
    uint8_t rnd[16];
    session_hash_key(rnd); /* random bytes for an unguessable name */
    char tmp[64];
    snprintf(tmp, sizeof tmp,
             ".strands-c-%02x%02x%02x%02x%02x%02x%02x%02x.tmp", rnd[0],
             rnd[1], rnd[2], rnd[3], rnd[4], rnd[5], rnd[6], rnd[7]);
    int fd = openat(dirfd, tmp,
                    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                    0600);
    if (fd < 0) return -errno;
    int rc = write_all(fd, data, len);
    if (rc == 0 && fsync(fd) != 0) rc = -errno;
    if (close(fd) != 0 && rc == 0) rc = -errno;
    if (rc == 0 && fault && fault(fault_user, "tmp_written", name)) rc = -EIO;
    if (rc == 0 && renameat(dirfd, tmp, dirfd, name) != 0) rc = -errno;
    if (rc != 0) {
        unlinkat(dirfd, tmp, 0);
        return rc;
    }
    if (fault && fault(fault_user, "renamed", name)) return -EIO;
    return 0;
}

strands_status fstore_io_error(strands_error *err, int neg_errno,
                               const char *doing, const char *path)
{
    int e = -neg_errno;
    if (e == ENOMEM)
        return strands_error_set(err, STRANDS_E_NOMEM, NULL,
                                 "out of memory");
    if (e == EFBIG)
        return strands_error_set(err, STRANDS_E_TOO_LARGE,
                                 "SessionHistoryTooLarge",
                                 "session file %s is larger than the "
                                 "store accepts (SESSION_MAX_HISTORY_BYTES)",
                                 path);
    if (e == EPERM || e == ENOTDIR)
        return strands_error_set(err, STRANDS_E_PARSE, NULL,
                                 "session store: %s is not a regular file "
                                 "or directory (a symlink?): refused", path);
    return strands_error_set(err, STRANDS_E_UNAVAILABLE,
                             "SessionStoreUnavailable",
                             "session store: %s %s: %s", doing, path,
                             strerror(e));
}
