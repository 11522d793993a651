/* Built-in tool `file_list`: the entries of a directory under
 * WORKSPACE_DIR (confined as workspace.h says), optionally recursive,
 * sorted by name, each with its path relative to the workspace, its type
 * and (for files) its size. Symbolic links are listed, never followed.
 * At most max_entries entries (default BUILTIN_LIST_MAX_ENTRIES, at most
 * BUILTIN_LIST_MAX_ENTRIES_CAP) and LIST_DEPTH_MAX levels; "truncated"
 * says when either cut the listing. Names that are not UTF-8 cannot be
 * shown in JSON: they are counted in "skipped_non_utf8".              */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tools/builtin/builtin.h"
#include "tools/builtin/workspace.h"

#define LIST_DEPTH_MAX 32
/* Names read (and sorted) per directory, so the first entries in name
 * order come back even when max_entries cuts; a directory with more
 * lists an arbitrary LIST_DIR_READ_MAX of them (flagged truncated).   */
#define LIST_DIR_READ_MAX 100000

typedef struct lister {
    json_t *entries;
    size_t max;
    int truncated;
    size_t non_utf8;
    char path[WS_PATH_MAX + WS_NAME_MAX + 2]; /* current dir, relative */
} lister;

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Reads at most `cap` names of the directory fd (consumed: fdopendir
 * takes it) into a sorted array; *more when names were left out. NULL
 * with *n = 0 for an empty directory; -1 in *n on failure.            */
static char **read_names(int fd, size_t cap, size_t *n, int *more)
{
    *n = 0;
    *more = 0;
    DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        *n = (size_t)-1;
        return NULL;
    }
    char **names = NULL;
    size_t len = 0, alloc = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
        if (len == cap) {
            *more = 1;
            break;
        }
        if (len == alloc) {
            size_t na = alloc ? alloc * 2 : 32;
            char **nn = realloc(names, na * sizeof *nn);
            if (!nn) goto oom;
            names = nn;
            alloc = na;
        }
        if (!(names[len] = strdup(de->d_name))) goto oom;
        len++;
    }
    closedir(d);
    if (len) qsort(names, len, sizeof *names, cmp_names);
    *n = len;
    return names;
oom:
    for (size_t i = 0; i < len; i++) free(names[i]);
    free(names);
    closedir(d);
    *n = (size_t)-1;
    return NULL;
}

/* Lists dirfd (its path relative to the workspace in L->path, "" for the
 * root), recursing when asked. Returns 0, or -1 on OOM/failure.       */
static int list_dir(lister *L, int dirfd, int recursive, int depth)
{
    int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return -1;
    size_t n;
    int more;
    char **names = read_names(fd, LIST_DIR_READ_MAX, &n, &more);
    if (n == (size_t)-1) return -1;
    if (more) L->truncated = 1;
    size_t base = strlen(L->path);
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        const char *name = names[i];
        size_t nl = strlen(name);
        if (ws_utf8_valid_prefix((const unsigned char *)name, nl) != nl) {
            L->non_utf8++;
            continue;
        }
        if (json_array_size(L->entries) >= L->max) {
            L->truncated = 1;
            break;
        }
        if (base + 1 + nl >= sizeof L->path) {
            L->truncated = 1; /* too deep to name */
            continue;
        }
        if (base) L->path[base] = '/';
        memcpy(L->path + base + (base ? 1 : 0), name, nl + 1);
        struct stat st;
        int ok = fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
        const char *type = ok ? ws_type_name(st.st_mode) : "unknown";
        json_t *e = json_pack("{s:s, s:s}", "path", L->path, "type", type);
        if (e && ok && S_ISREG(st.st_mode) &&
            json_object_set_new(e, "size", json_integer(st.st_size))) {
            json_decref(e);
            e = NULL;
        }
        if (!e || json_array_append_new(L->entries, e)) rc = -1;
        if (rc == 0 && recursive && ok && S_ISDIR(st.st_mode)) {
            if (depth + 1 >= LIST_DEPTH_MAX) {
                L->truncated = 1;
            } else {
                int sub = openat(dirfd, name, O_RDONLY | O_DIRECTORY |
                                                  O_NOFOLLOW | O_CLOEXEC);
                /* A directory that vanished or is unreadable is listed
                 * without its contents. */
                if (sub >= 0) {
                    rc = list_dir(L, sub, recursive, depth + 1);
                    close(sub);
                }
            }
        }
        L->path[base] = '\0';
    }
    for (size_t i = 0; i < n; i++) free(names[i]);
    free(names);
    return rc;
}

static strands_status file_list_run(void *user, const json_t *input,
                                    const strands_tool_context *ctx,
                                    json_t **content_out, strands_error *err)
{
    (void)ctx;
    const builtin_options *opt = user;
    if (!opt || !opt->workspace_dir)
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "file_list: no workspace configured");
    if (input && !json_is_null(input) && !json_is_object(input))
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "input must be a JSON object");
    const json_t *jp = json_object_get(input, "path");
    const json_t *jr = json_object_get(input, "recursive");
    const json_t *jm = json_object_get(input, "max_entries");
    if (jp && !json_is_null(jp) && !json_is_string(jp))
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "\"path\" must be a string");
    if (jr && !json_is_null(jr) && !json_is_boolean(jr))
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "\"recursive\" must be true or false");
    size_t max = BUILTIN_LIST_MAX_ENTRIES;
    if (jm && !json_is_null(jm)) {
        if (!json_is_integer(jm) || json_integer_value(jm) < 1 ||
            json_integer_value(jm) > BUILTIN_LIST_MAX_ENTRIES_CAP)
            return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                     "\"max_entries\" must be an integer in "
                                     "1..%d", BUILTIN_LIST_MAX_ENTRIES_CAP);
        max = (size_t)json_integer_value(jm);
    }
    const char *shown = json_is_string(jp) ? json_string_value(jp) : ".";
    size_t shown_len = json_is_string(jp) ? json_string_length(jp) : 1;

    lister *L = calloc(1, sizeof *L);
    ws_path *p = malloc(sizeof *p);
    if (!L || !p || !(L->entries = json_array())) {
        free(p);
        free(L);
        return strands_error_set(err, STRANDS_E_NOMEM, NULL, "OOM");
    }
    L->max = max;
    strands_status st = ws_path_parse(shown, shown_len, p, err);
    int root = -1, dirfd = -1;
    if (st == STRANDS_OK) {
        root = ws_open_root(opt->workspace_dir, err);
        if (root < 0) st = STRANDS_E_IO;
    }
    if (st == STRANDS_OK) st = ws_open_dir(root, p, p->n, 0, &dirfd, err);
    if (st == STRANDS_OK) {
        /* Entries are named from the workspace root: the normalised path
         * of the listed directory comes first. */
        size_t o = 0;
        for (size_t i = 0; i < p->n; i++) {
            const char *c = ws_path_component(p, i);
            size_t cl = strlen(c);
            if (o) L->path[o++] = '/';
            memcpy(L->path + o, c, cl);
            o += cl;
        }
        L->path[o] = '\0';
        if (list_dir(L, dirfd, json_is_true(jr), 0) != 0) {
            char eb[128];
            st = errno == ENOMEM
                     ? strands_error_set(err, STRANDS_E_NOMEM, NULL, "OOM")
                     : strands_error_set(err, STRANDS_E_IO, NULL,
                                         "path '%.200s': cannot list: %s",
                                         shown,
                                         strerror_r(errno, eb, sizeof eb));
        }
    }
    if (st == STRANDS_OK) {
        json_t *o = json_pack("{s:s, s:O, s:I, s:b}", "path", shown,
                              "entries", L->entries, "count",
                              (json_int_t)json_array_size(L->entries),
                              "truncated", L->truncated);
        if (o && L->non_utf8 &&
            json_object_set_new(o, "skipped_non_utf8",
                                json_integer((json_int_t)L->non_utf8))) {
            json_decref(o);
            o = NULL;
        }
        *content_out = o ? json_pack("[{s:o}]", "json", o) : NULL;
        if (!*content_out)
            st = strands_error_set(err, STRANDS_E_NOMEM, NULL,
                                   "out of memory");
    }
    if (dirfd >= 0) close(dirfd);
    if (root >= 0) close(root);
    json_decref(L->entries);
    free(L);
    free(p);
    return st;
}

const strands_tool_def builtin_file_list = {
    .name = "file_list",
    .description =
        "Lists a directory in the workspace (default: the workspace "
        "itself). `path` is relative to the workspace (no absolute paths, "
        "no '..', symbolic links are listed but not followed). Returns "
        "{path, entries: [{path, type, size}], count, truncated}; entry "
        "paths are relative to the workspace, types are file, directory, "
        "symlink, fifo, socket, char_device, block_device. `recursive` "
        "lists subdirectories too; at most `max_entries` (default 1000).",
    .input_schema_json =
        "{\"type\":\"object\",\"properties\":{"
        "\"path\":{\"type\":\"string\",\"description\":\"Directory "
        "relative to the workspace (default \\\".\\\")\"},"
        "\"recursive\":{\"type\":\"boolean\",\"description\":\"List "
        "subdirectories too (default false)\"},"
        "\"max_entries\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":"
        "10000,\"description\":\"Most entries to return (default "
        "1000)\"}}}",
    .run = file_list_run,
};
