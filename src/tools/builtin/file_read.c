/* Built-in tool `file_read`: reads a regular file under WORKSPACE_DIR
 * (confined as workspace.h says). At most FILE_MAX_BYTES (and at most
 * `limit`) bytes from `offset` come back per call; a longer file gives a
 * flagged partial read ("truncated": true, "next_offset") to continue
 * from. UTF-8 text comes back as text, anything else (NUL bytes, invalid
 * UTF-8) as base64 with "encoding": "base64". The read is shortened
 * further when its result would not fit TOOL_RESULT_MAX_BYTES (base64
 * and JSON escapes grow it), so the agent never cuts it.              */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "net/base64.h"
#include "tools/builtin/builtin.h"
#include "tools/builtin/workspace.h"

#define FIT_ROUNDS 8 /* tries to make a result fit TOOL_RESULT_MAX_BYTES */

/* Reads an optional non-negative integer field; E_INVALID otherwise. */
static strands_status opt_uint(const json_t *input, const char *key,
                               json_int_t def, json_int_t *out,
                               strands_error *err)
{
    const json_t *v = json_object_get(input, key);
    *out = def;
    if (!v || json_is_null(v)) return STRANDS_OK;
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "\"%s\" must be a non-negative integer",
                                 key);
    *out = json_integer_value(v);
    return STRANDS_OK;
}

/* Opens the regular file `leaf` in dirfd for reading, refusing (before
 * opening) anything else; O_NONBLOCK so a FIFO swapped in cannot block. */
static strands_status open_regular(int dirfd, const char *leaf,
                                   const char *shown, int *fd_out,
                                   struct stat *st, strands_error *err)
{
    char eb[128];
    if (fstatat(dirfd, leaf, st, AT_SYMLINK_NOFOLLOW) != 0)
        return strands_error_set(err, errno == ENOENT ? STRANDS_E_NOT_FOUND
                                                      : STRANDS_E_IO,
                                 NULL, "path '%.200s': %s", shown,
                                 errno == ENOENT
                                     ? "does not exist"
                                     : strerror_r(errno, eb, sizeof eb));
    strands_status s = ws_require_regular(st, shown, err);
    if (s != STRANDS_OK) return s;
    int fd = openat(dirfd, leaf, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
                                     O_NOCTTY | O_CLOEXEC);
    if (fd < 0)
        return strands_error_set(err, STRANDS_E_IO, NULL,
                                 "path '%.200s': cannot open: %s", shown,
                                 strerror_r(errno, eb, sizeof eb));
    if (fstat(fd, st) != 0 || (s = ws_require_regular(st, shown, err))) {
        close(fd);
        return s ? s : strands_error_set(err, STRANDS_E_IO, NULL,
                                         "path '%.200s': cannot stat",
                                         shown);
    }
    *fd_out = fd;
    return STRANDS_OK;
}

/* pread until want bytes or EOF; -1 on error (errno set). */
static ssize_t read_at(int fd, unsigned char *buf, size_t want, off_t off)
{
    size_t got = 0;
    while (got < want) {
        ssize_t n = pread(fd, buf + got, want - got, off + (off_t)got);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return -1;
        if (n == 0) break;
        got += (size_t)n;
    }
    return (ssize_t)got;
}

/* The result object for bytes buf[0..n) read at offset from a file of
 * `size` bytes; NULL on OOM.                                           */
static json_t *result(const char *shown, const unsigned char *buf,
                      size_t n, json_int_t offset, json_int_t size)
{
    size_t valid = ws_utf8_valid_prefix(buf, n);
    int text = valid == n;
    /* A read cut inside a character: end at the character instead. */
    if (!text && offset + (json_int_t)n < size) {
        size_t k = ws_utf8_incomplete_tail(buf, n);
        if (k && k < n) {
            n -= k;
            text = 1;
        }
    }
    json_int_t end = offset + (json_int_t)n;
    json_t *content;
    if (text) {
        content = json_stringn((const char *)buf, n);
    } else {
        size_t blen;
        char *b64 = net_base64_encode(buf, n, &blen);
        content = b64 ? json_stringn(b64, blen) : NULL;
        free(b64);
    }
    if (!content) return NULL;
    /* content last: should the agent ever cut the result, what comes
     * before it (truncated, next_offset) survives. */
    json_t *o = json_pack("{s:s, s:I, s:I, s:I, s:s, s:b}", "path", shown,
                          "size", size, "offset", offset, "length",
                          (json_int_t)n, "encoding", text ? "text" : "base64",
                          "truncated", end < size);
    if (o && end < size &&
        json_object_set_new(o, "next_offset", json_integer(end)))
        json_object_clear(o);
    if (!o || json_object_size(o) == 0) {
        json_decref(content);
        json_decref(o);
        return NULL;
    }
    if (json_object_set_new(o, "content", content)) { /* takes content */
        json_decref(o);
        return NULL;
    }
    return o;
}

/* The content array for buf[0..n), shortened (a flagged partial read)
 * until it fits opt->result_max_bytes as compact JSON, so the agent
 * never has to cut it (base64 and JSON escapes make it larger than n).
 * NULL on OOM.                                                        */
static json_t *fitted(const builtin_options *opt, const char *shown,
                      const unsigned char *buf, size_t n, json_int_t offset,
                      json_int_t size)
{
    size_t budget = opt->result_max_bytes;
    for (int round = 0;; round++) {
        json_t *o = result(shown, buf, n, offset, size);
        json_t *arr = o ? json_pack("[{s:o}]", "json", o) : NULL;
        if (!arr || !budget || n <= 1 || round == FIT_ROUNDS) return arr;
        size_t used = json_dumpb(arr, NULL, 0, JSON_COMPACT);
        if (used <= budget) return arr;
        json_decref(arr);
        /* Scale down by the overshoot, with a margin; always shrink. */
        double scale = (double)budget / (double)used * 0.95;
        size_t next = (size_t)((double)n * scale);
        n = next < n ? next : n - 1;
        if (n == 0) n = 1;
    }
}

static strands_status file_read_run(void *user, const json_t *input,
                                    const strands_tool_context *ctx,
                                    json_t **content_out, strands_error *err)
{
    (void)ctx;
    const builtin_options *opt = user;
    if (!opt || !opt->workspace_dir)
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "file_read: no workspace configured");
    if (!json_is_object(input))
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "input must be a JSON object with a "
                                 "\"path\" string");
    const json_t *jp = json_object_get(input, "path");
    if (!json_is_string(jp))
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "\"path\" must be a string");
    size_t cap = opt->file_max_bytes ? opt->file_max_bytes
                                     : BUILTIN_FILE_MAX_BYTES_DEFAULT;
    json_int_t offset, limit;
    strands_status st = opt_uint(input, "offset", 0, &offset, err);
    if (st == STRANDS_OK)
        st = opt_uint(input, "limit", (json_int_t)cap, &limit, err);
    if (st != STRANDS_OK) return st;
    if (limit == 0)
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "\"limit\" must be at least 1");
    if ((json_int_t)cap < limit) limit = (json_int_t)cap;

    ws_path *p = malloc(sizeof *p);
    if (!p) return strands_error_set(err, STRANDS_E_NOMEM, NULL, "OOM");
    const char *shown = json_string_value(jp);
    st = ws_path_parse(shown, json_string_length(jp), p, err);
    if (st == STRANDS_OK && p->n == 0)
        st = strands_error_set(err, STRANDS_E_INVALID, NULL,
                               "path '%.200s': names the workspace "
                               "directory, not a file", shown);
    int root = -1, dirfd = -1, fd = -1;
    unsigned char *buf = NULL;
    struct stat sb;
    if (st == STRANDS_OK) {
        root = ws_open_root(opt->workspace_dir, err);
        if (root < 0) st = STRANDS_E_IO;
    }
    if (st == STRANDS_OK) st = ws_open_dir(root, p, p->n - 1, 0, &dirfd, err);
    if (st == STRANDS_OK)
        st = open_regular(dirfd, ws_path_component(p, p->n - 1), shown, &fd,
                          &sb, err);
    json_int_t size = st == STRANDS_OK ? (json_int_t)sb.st_size : 0;
    size_t want = 0;
    if (st == STRANDS_OK && offset < size)
        want = (size_t)(size - offset < limit ? size - offset : limit);
    if (st == STRANDS_OK && !(buf = malloc(want ? want : 1)))
        st = strands_error_set(err, STRANDS_E_NOMEM, NULL, "OOM");
    ssize_t got = 0;
    if (st == STRANDS_OK && want &&
        (got = read_at(fd, buf, want, (off_t)offset)) < 0) {
        char eb[128];
        st = strands_error_set(err, STRANDS_E_IO, NULL,
                               "path '%.200s': read failed: %s", shown,
                               strerror_r(errno, eb, sizeof eb));
    }
    if (st == STRANDS_OK) {
        *content_out = fitted(opt, shown, buf, (size_t)got, offset, size);
        if (!*content_out)
            st = strands_error_set(err, STRANDS_E_NOMEM, NULL,
                                   "out of memory");
    }
    free(buf);
    if (fd >= 0) close(fd);
    if (dirfd >= 0) close(dirfd);
    if (root >= 0) close(root);
    free(p);
    return st;
}

const strands_tool_def builtin_file_read = {
    .name = "file_read",
    .description =
        "Reads a file in the workspace directory. `path` is relative to "
        "the workspace (no absolute paths, no '..', symbolic links are not "
        "followed). Returns {path, size, offset, length, encoding, "
        "content, truncated, next_offset}: UTF-8 text as \"text\", other "
        "bytes as \"base64\". At most the configured byte limit comes back "
        "per call; when \"truncated\" is true, call again with offset = "
        "next_offset for the rest.",
    .input_schema_json =
        "{\"type\":\"object\",\"properties\":{"
        "\"path\":{\"type\":\"string\",\"description\":\"File path "
        "relative to the workspace, e.g. \\\"notes/todo.txt\\\"\"},"
        "\"offset\":{\"type\":\"integer\",\"minimum\":0,\"description\":"
        "\"Byte offset to start at (default 0)\"},"
        "\"limit\":{\"type\":\"integer\",\"minimum\":1,\"description\":"
        "\"Most bytes to return (default and maximum: the configured "
        "limit)\"}},\"required\":[\"path\"]}",
    .run = file_read_run,
};
