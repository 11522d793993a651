/* Path confinement for the workspace tools (the rules are in
 * workspace.h): parsing a model-given path, walking it from the workspace
 * descriptor without following symlinks, and preparing WORKSPACE_DIR at
 * start-up.                                                             */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tools/builtin/workspace.h"

#define SHOWN_MAX 200 /* bytes of a path quoted in a message */

strands_status ws_path_parse(const char *path, size_t len, ws_path *out,
                             strands_error *err)
{
    out->n = 0;
    out->buf[0] = '\0';
    out->shown = path ? path : "";
    if (!path) len = 0;
    if (memchr(path ? path : "", '\0', len))
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "path '%.*s': contains a NUL byte",
                                 SHOWN_MAX, path);
    if (len > WS_PATH_MAX)
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "path '%.*s...': longer than %d bytes",
                                 SHOWN_MAX, path, WS_PATH_MAX);
    if (len && path[0] == '/')
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "path '%.*s': absolute paths are not "
                                 "allowed; give a path relative to the "
                                 "workspace", SHOWN_MAX, path);
    size_t o = 0, i = 0;
    while (i < len) {
        size_t j = i;
        while (j < len && path[j] != '/') j++;
        size_t n = j - i;
        if (n == 2 && path[i] == '.' && path[i + 1] == '.')
            return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                     "path '%.*s': '..' components are "
                                     "not allowed", SHOWN_MAX, path);
        if (n > WS_NAME_MAX)
            return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                     "path '%.*s...': a component is "
                                     "longer than %d bytes", SHOWN_MAX,
                                     path, WS_NAME_MAX);
        if (n && !(n == 1 && path[i] == '.')) {
            memcpy(out->buf + o, path + i, n); /* o + n + 1 <= len + 1 */
            o += n;
            out->buf[o++] = '\0';
            out->n++;
        }
        i = j + 1;
    }
    return STRANDS_OK;
}

const char *ws_path_component(const ws_path *p, size_t i)
{
    const char *c = p->buf;
    while (i--) c += strlen(c) + 1;
    return c;
}

int ws_open_root(const char *dir, strands_error *err)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        char eb[128];
        strands_error_set(err, STRANDS_E_IO, NULL,
                          "cannot open the workspace (WORKSPACE_DIR "
                          "'%.*s'): %s", SHOWN_MAX, dir,
                          strerror_r(errno, eb, sizeof eb));
    }
    return fd;
}

/* The error for component i of p that could not be opened as a
 * directory (errno e): says whether it is missing, a symlink, not a
 * directory, or what else went wrong.                                 */
static strands_status walk_error(int dirfd, const ws_path *p, size_t i,
                                 int e, strands_error *err)
{
    /* The prefix up to and including component i, for the message. */
    char prefix[WS_PATH_MAX + 1];
    size_t o = 0;
    for (size_t k = 0; k <= i; k++) {
        const char *c = ws_path_component(p, k);
        size_t n = strlen(c);
        if (k) prefix[o++] = '/';
        memcpy(prefix + o, c, n);
        o += n;
    }
    prefix[o] = '\0';
    struct stat st;
    const char *name = ws_path_component(p, i);
    if (e == ENOENT)
        return strands_error_set(err, STRANDS_E_NOT_FOUND, NULL,
                                 "path '%.*s': '%.*s' does not exist",
                                 SHOWN_MAX, p->shown, SHOWN_MAX, prefix);
    if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
        if (S_ISLNK(st.st_mode))
            return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                     "path '%.*s': '%.*s' is a symbolic "
                                     "link; links are not followed in the "
                                     "workspace", SHOWN_MAX, p->shown,
                                     SHOWN_MAX, prefix);
        if (!S_ISDIR(st.st_mode))
            return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                     "path '%.*s': '%.*s' is not a "
                                     "directory (it is a %s)", SHOWN_MAX,
                                     p->shown, SHOWN_MAX, prefix,
                                     ws_type_name(st.st_mode));
    }
    char eb[128];
    return strands_error_set(err, STRANDS_E_IO, NULL,
                             "path '%.*s': cannot open '%.*s': %s",
                             SHOWN_MAX, p->shown, SHOWN_MAX, prefix,
                             strerror_r(e, eb, sizeof eb));
}

strands_status ws_open_dir(int root, const ws_path *p, size_t ncomp,
                           int create, int *fd_out, strands_error *err)
{
    *fd_out = -1;
    int cur = fcntl(root, F_DUPFD_CLOEXEC, 0);
    if (cur < 0) {
        char eb[128];
        return strands_error_set(err, STRANDS_E_IO, NULL,
                                 "path '%.*s': %s", SHOWN_MAX, p->shown,
                                 strerror_r(errno, eb, sizeof eb));
    }
    const int flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
    const char *c = p->buf;
    for (size_t i = 0; i < ncomp && i < p->n; i++, c += strlen(c) + 1) {
        int next = openat(cur, c, flags);
        if (next < 0 && errno == ENOENT && create) {
            if (mkdirat(cur, c, 0755) == 0 || errno == EEXIST)
                next = openat(cur, c, flags);
        }
        if (next < 0) {
            strands_status st = walk_error(cur, p, i, errno, err);
            close(cur);
            return st;
        }
        close(cur);
        cur = next;
    }
    *fd_out = cur;
    return STRANDS_OK;
}

const char *ws_type_name(mode_t mode)
{
    if (S_ISREG(mode)) return "file";
    if (S_ISDIR(mode)) return "directory";
    if (S_ISLNK(mode)) return "symlink";
    if (S_ISFIFO(mode)) return "fifo";
    if (S_ISSOCK(mode)) return "socket";
    if (S_ISCHR(mode)) return "char_device";
    if (S_ISBLK(mode)) return "block_device";
    return "other";
}

strands_status ws_require_regular(const struct stat *st, const char *shown,
                                  strands_error *err)
{
    if (S_ISREG(st->st_mode)) return STRANDS_OK;
    if (S_ISLNK(st->st_mode))
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "path '%.*s': is a symbolic link; links "
                                 "are not followed in the workspace",
                                 SHOWN_MAX, shown);
    return strands_error_set(err, STRANDS_E_INVALID, NULL,
                             "path '%.*s': is a %s, not a regular file",
                             SHOWN_MAX, shown, ws_type_name(st->st_mode));
}

/* mkdir -p of dir (absolute or relative), new directories mode 0700. */
static int make_dirs(const char *dir)
{
    char buf[PATH_MAX];
    size_t n = strlen(dir);
    if (n == 0 || n >= sizeof buf) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(buf, dir, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] != '/' && buf[i] != '\0') continue;
        char saved = buf[i];
        buf[i] = '\0';
        if (mkdir(buf, 0700) != 0 && errno != EEXIST) return -1;
        buf[i] = saved;
    }
    return 0;
}

strands_status ws_prepare(const char *dir, char **abs_out,
                          strands_error *err)
{
    *abs_out = NULL;
    char eb[128];
    if (!dir || !dir[0])
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "WORKSPACE_DIR: must not be empty");
    struct stat st;
    if (stat(dir, &st) != 0) {
        if (errno != ENOENT || make_dirs(dir) != 0 || stat(dir, &st) != 0)
            return strands_error_set(err, STRANDS_E_IO, NULL,
                                     "WORKSPACE_DIR: cannot create "
                                     "'%.*s': %s", SHOWN_MAX, dir,
                                     strerror_r(errno, eb, sizeof eb));
    }
    if (!S_ISDIR(st.st_mode))
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "WORKSPACE_DIR: '%.*s' is not a directory "
                                 "(it is a %s)", SHOWN_MAX, dir,
                                 ws_type_name(st.st_mode));
    char *abs = realpath(dir, NULL);
    if (!abs)
        return strands_error_set(err, errno == ENOMEM ? STRANDS_E_NOMEM
                                                      : STRANDS_E_IO,
                                 NULL, "WORKSPACE_DIR: '%.*s': %s",
                                 SHOWN_MAX, dir,
                                 strerror_r(errno, eb, sizeof eb));
    *abs_out = abs;
    return STRANDS_OK;
}
