/* Built-in tool `file_write`: writes a regular file under WORKSPACE_DIR
 * (confined as workspace.h says; missing parent directories are made
 * inside the workspace). Modes: "overwrite" (default) writes a temporary
 * file in the same directory and renames it over the target, so a reader
 * sees the old or the new content, never half of it; "create" does the
 * same but fails when the target exists (renameat2 RENAME_NOREPLACE, or
 * link + unlink where that is not supported); "append" appends in place.
 * At most FILE_MAX_BYTES per call (after base64 decoding).            */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "net/base64.h"
#include "tools/builtin/builtin.h"
#include "tools/builtin/workspace.h"

#define TMP_ATTEMPTS 16

/* write() all of buf; -1 on error (errno set). */
static int write_all(int fd, const unsigned char *buf, size_t n)
{
    while (n) {
        ssize_t w = write(fd, buf, n);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) return -1;
        buf += w;
        n -= (size_t)w;
    }
    return 0;
}

static strands_status io_error(const char *shown, const char *what,
                               strands_error *err)
{
    char eb[128];
    return strands_error_set(err, errno == ENOSPC ? STRANDS_E_TOO_LARGE
                                                  : STRANDS_E_IO,
                             NULL, "path '%.200s': %s: %s", shown, what,
                             strerror_r(errno, eb, sizeof eb));
}

/* What is at leaf now: 0 = nothing, 1 = a regular file (its stat in *st);
 * anything else is refused with an error naming the path.              */
static strands_status check_target(int dirfd, const char *leaf,
                                   const char *shown, int *exists,
                                   struct stat *st, strands_error *err)
{
    *exists = 0;
    if (fstatat(dirfd, leaf, st, AT_SYMLINK_NOFOLLOW) != 0) {
        if (errno == ENOENT) return STRANDS_OK;
        return io_error(shown, "cannot stat", err);
    }
    *exists = 1;
    return ws_require_regular(st, shown, err);
}

/* A new temporary file in dirfd (name in tmp), open for writing. */
static int make_temp(int dirfd, char *tmp, size_t tmpsz)
{
    static _Atomic unsigned counter;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    for (int i = 0; i < TMP_ATTEMPTS; i++) {
        unsigned c = counter++;
        snprintf(tmp, tmpsz, ".strands-tmp-%ld-%lx-%x", (long)getpid(),
                 (unsigned long)ts.tv_nsec ^ (unsigned long)i, c);
        int fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
                                        O_CLOEXEC, 0644);
        if (fd >= 0 || errno != EEXIST) return fd;
    }
    errno = EEXIST;
    return -1;
}

/* Writes data to a temp file and moves it to leaf: over it (overwrite)
 * or only when leaf does not exist (create).                          */
static strands_status write_replace(int dirfd, const char *leaf,
                                    const char *shown, int no_replace,
                                    const struct stat *old, int exists,
                                    const unsigned char *data, size_t n,
                                    strands_error *err)
{
    char tmp[64];
    int fd = make_temp(dirfd, tmp, sizeof tmp);
    if (fd < 0) return io_error(shown, "cannot create a temporary file", err);
    strands_status st = STRANDS_OK;
    if (exists && !no_replace) (void)fchmod(fd, old->st_mode & 07777);
    if (write_all(fd, data, n) != 0) st = io_error(shown, "write failed", err);
    if (close(fd) != 0 && st == STRANDS_OK)
        st = io_error(shown, "write failed", err);
    int moved = 0;
    if (st == STRANDS_OK && !no_replace) {
        if (renameat(dirfd, tmp, dirfd, leaf) == 0)
            moved = 1;
        else
            st = io_error(shown, "cannot replace the file", err);
    } else if (st == STRANDS_OK &&
               renameat2(dirfd, tmp, dirfd, leaf, RENAME_NOREPLACE) == 0) {
        moved = 1;
    } else if (st == STRANDS_OK) {
        if (errno == EINVAL || errno == ENOSYS || errno == ENOTSUP) {
            /* No RENAME_NOREPLACE here: link(2) never replaces either. */
            if (linkat(dirfd, tmp, dirfd, leaf, 0) != 0)
                st = errno == EEXIST
                         ? strands_error_set(err, STRANDS_E_INVALID, NULL,
                                             "path '%.200s': already exists "
                                             "(mode \"create\")", shown)
                         : io_error(shown, "cannot create the file", err);
        } else if (errno == EEXIST) {
            st = strands_error_set(err, STRANDS_E_INVALID, NULL,
                                   "path '%.200s': already exists (mode "
                                   "\"create\")", shown);
        } else {
            st = io_error(shown, "cannot create the file", err);
        }
    }
    /* Not renamed: the temporary file (or its second link) goes. */
    if (!moved) unlinkat(dirfd, tmp, 0);
    return st;
}

static strands_status write_append(int dirfd, const char *leaf,
                                   const char *shown,
                                   const unsigned char *data, size_t n,
                                   strands_error *err)
{
    int fd = openat(dirfd, leaf, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW |
                                     O_NONBLOCK | O_NOCTTY | O_CLOEXEC,
                    0644);
    if (fd < 0) return io_error(shown, "cannot open", err);
    struct stat st;
    strands_status s = fstat(fd, &st) == 0
                           ? ws_require_regular(&st, shown, err)
                           : io_error(shown, "cannot stat", err);
    if (s == STRANDS_OK && write_all(fd, data, n) != 0)
        s = io_error(shown, "write failed", err);
    if (close(fd) != 0 && s == STRANDS_OK)
        s = io_error(shown, "write failed", err);
    return s;
}

/* The bytes to write: the text itself or the base64-decoded content.
 * *owned is set when *data was allocated.                             */
static strands_status content_bytes(const json_t *input, size_t cap,
                                    const unsigned char **data, size_t *n,
                                    unsigned char **owned,
                                    strands_error *err)
{
    *owned = NULL;
    const json_t *c = json_object_get(input, "content");
    if (!json_is_string(c))
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "\"content\" must be a string");
    const json_t *e = json_object_get(input, "encoding");
    const char *enc = json_is_string(e) ? json_string_value(e) : "text";
    if (e && !json_is_null(e) && !json_is_string(e))
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "\"encoding\" must be \"text\" or "
                                 "\"base64\"");
    const char *s = json_string_value(c);
    size_t len = json_string_length(c);
    if (!strcmp(enc, "text")) {
        if (len > cap)
            return strands_error_set(err, STRANDS_E_TOO_LARGE, NULL,
                                     "content is %zu bytes, more than the "
                                     "limit of %zu (FILE_MAX_BYTES)", len,
                                     cap);
        *data = (const unsigned char *)s;
        *n = len;
        return STRANDS_OK;
    }
    if (strcmp(enc, "base64"))
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "\"encoding\" must be \"text\" or "
                                 "\"base64\", not '%.32s'", enc);
    size_t dlen;
    if (!net_base64_check(s, len, &dlen))
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "\"content\" is not valid base64");
    if (dlen > cap)
        return strands_error_set(err, STRANDS_E_TOO_LARGE, NULL,
                                 "content is %zu bytes, more than the "
                                 "limit of %zu (FILE_MAX_BYTES)", dlen, cap);
    uint8_t *out;
    int rc = net_base64_decode(s, len, &out, &dlen);
    if (rc != 0)
        return strands_error_set(err, rc == -2 ? STRANDS_E_NOMEM
                                               : STRANDS_E_INVALID,
                                 NULL, rc == -2 ? "out of memory"
                                                : "\"content\" is not valid "
                                                  "base64");
    *owned = out;
    *data = out;
    *n = dlen;
    return STRANDS_OK;
}

static strands_status file_write_run(void *user, const json_t *input,
                                     const strands_tool_context *ctx,
                                     json_t **content_out,
                                     strands_error *err)
{
    (void)ctx;
    const builtin_options *opt = user;
    if (!opt || !opt->workspace_dir)
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "file_write: no workspace configured");
    if (!json_is_object(input))
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "input must be a JSON object with \"path\" "
                                 "and \"content\"");
    const json_t *jp = json_object_get(input, "path");
    if (!json_is_string(jp))
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "\"path\" must be a string");
    const json_t *jm = json_object_get(input, "mode");
    const char *mode = json_is_string(jm) ? json_string_value(jm)
                                          : "overwrite";
    if ((jm && !json_is_null(jm) && !json_is_string(jm)) ||
        (strcmp(mode, "overwrite") && strcmp(mode, "append") &&
         strcmp(mode, "create")))
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "\"mode\" must be \"overwrite\", "
                                 "\"append\" or \"create\"");
    size_t cap = opt->file_max_bytes ? opt->file_max_bytes
                                     : BUILTIN_FILE_MAX_BYTES_DEFAULT;
    const unsigned char *data = NULL;
    size_t n = 0;
    unsigned char *owned = NULL;
    strands_status st = content_bytes(input, cap, &data, &n, &owned, err);
    if (st != STRANDS_OK) return st;

    ws_path *p = malloc(sizeof *p);
    if (!p) {
        free(owned);
        return strands_error_set(err, STRANDS_E_NOMEM, NULL, "OOM");
    }
    const char *shown = json_string_value(jp);
    st = ws_path_parse(shown, json_string_length(jp), p, err);
    if (st == STRANDS_OK && p->n == 0)
        st = strands_error_set(err, STRANDS_E_INVALID, NULL,
                               "path '%.200s': names the workspace "
                               "directory, not a file", shown);
    int root = -1, dirfd = -1, exists = 0;
    struct stat old;
    if (st == STRANDS_OK) {
        root = ws_open_root(opt->workspace_dir, err);
        if (root < 0) st = STRANDS_E_IO;
    }
    if (st == STRANDS_OK) st = ws_open_dir(root, p, p->n - 1, 1, &dirfd, err);
    const char *leaf = st == STRANDS_OK ? ws_path_component(p, p->n - 1) : "";
    if (st == STRANDS_OK)
        st = check_target(dirfd, leaf, shown, &exists, &old, err);
    if (st == STRANDS_OK && exists && !strcmp(mode, "create"))
        st = strands_error_set(err, STRANDS_E_INVALID, NULL,
                               "path '%.200s': already exists (mode "
                               "\"create\")", shown);
    if (st == STRANDS_OK) {
        if (!strcmp(mode, "append"))
            st = write_append(dirfd, leaf, shown, data, n, err);
        else
            st = write_replace(dirfd, leaf, shown, !strcmp(mode, "create"),
                               &old, exists, data, n, err);
    }
    struct stat now;
    if (st == STRANDS_OK && fstatat(dirfd, leaf, &now, AT_SYMLINK_NOFOLLOW))
        now.st_size = (off_t)n;
    if (st == STRANDS_OK) {
        *content_out = json_pack("[{s:{s:s, s:s, s:I, s:I}}]", "json",
                                 "path", shown, "mode", mode,
                                 "bytes_written", (json_int_t)n, "size",
                                 (json_int_t)now.st_size);
        if (!*content_out)
            st = strands_error_set(err, STRANDS_E_NOMEM, NULL,
                                   "out of memory");
    }
    if (dirfd >= 0) close(dirfd);
    if (root >= 0) close(root);
    free(p);
    free(owned);
    return st;
}

const strands_tool_def builtin_file_write = {
    .name = "file_write",
    .description =
        "Writes a file in the workspace directory, making missing parent "
        "directories. `path` is relative to the workspace (no absolute "
        "paths, no '..', symbolic links are not followed). `mode`: "
        "\"overwrite\" (default; replaces the file atomically), \"append\", "
        "or \"create\" (fails if the file exists). `encoding`: \"text\" "
        "(default) or \"base64\" for binary content. Returns {path, mode, "
        "bytes_written, size}.",
    .input_schema_json =
        "{\"type\":\"object\",\"properties\":{"
        "\"path\":{\"type\":\"string\",\"description\":\"File path "
        "relative to the workspace\"},"
        "\"content\":{\"type\":\"string\",\"description\":\"What to "
        "write\"},"
        "\"encoding\":{\"enum\":[\"text\",\"base64\"],\"description\":"
        "\"How content is encoded (default text)\"},"
        "\"mode\":{\"enum\":[\"overwrite\",\"append\",\"create\"],"
        "\"description\":\"default overwrite\"}},"
        "\"required\":[\"path\",\"content\"]}",
    .run = file_write_run,
};
