/* Confinement of the file tools (file_read, file_write, file_list) to
 * WORKSPACE_DIR, shared by them and by shell (which only starts there).
 *
 * A path from the model is parsed first (ws_path_parse): it must be
 * relative (an absolute path is refused, never re-rooted), may not contain
 * a ".." component, a NUL byte, a component longer than WS_NAME_MAX or be
 * longer than WS_PATH_MAX; "." and empty components ("a//b", "./a") are
 * dropped. It is then resolved one component at a time from a directory
 * descriptor of the workspace with openat(..., O_NOFOLLOW | O_DIRECTORY):
 * no symbolic link is ever followed, whether it points outside or inside
 * the workspace, so no path can leave it even while other processes
 * change the tree. The last component is checked with fstatat
 * (AT_SYMLINK_NOFOLLOW) before it is opened, and again with fstat after
 * (opened O_NOFOLLOW | O_NONBLOCK, so a FIFO cannot block the open):
 * only regular files are read or written. Every error names the path and
 * the reason.                                                            */
#ifndef TOOLS_BUILTIN_WORKSPACE_H
#define TOOLS_BUILTIN_WORKSPACE_H

#include <stddef.h>
#include <sys/stat.h>

#include "strands/status.h"

#define WS_PATH_MAX 4096 /* longest path the model may give, in bytes */
#define WS_NAME_MAX 255  /* longest component */

/* A parsed path: its components stored one after another, each followed
 * by a NUL, in buf; n components (0 = the workspace itself).           */
typedef struct ws_path {
    char buf[WS_PATH_MAX + 1];
    size_t n;
    const char *shown; /* the path as given (borrowed), for messages */
} ws_path;

/** Parses path[0..len) (see above) into *out; out->shown = path.
 * E_INVALID naming the path and the rule it breaks. An empty path (or
 * one of "." only) gives n = 0: callers that need a file refuse it.   */
strands_status ws_path_parse(const char *path, size_t len, ws_path *out,
                             strands_error *err);

/** The i-th component (0-based, i < p->n) of a parsed path (borrowed). */
const char *ws_path_component(const ws_path *p, size_t i);

/** Opens the workspace directory `dir` (O_DIRECTORY | O_CLOEXEC; `dir`
 * itself may contain symlinks: it is the operator's choice). Returns the
 * descriptor (close it) or -1 with E_IO in err naming WORKSPACE_DIR.   */
int ws_open_root(const char *dir, strands_error *err);

/** Opens, as a directory, the first `ncomp` components of p walked from
 * `root` (ncomp 0: a duplicate of root). With `create`, missing
 * directories are made (mode 0755 before umask) on the way. Never
 * follows a symlink. Returns OK and the descriptor in *fd_out (close
 * it); E_NOT_FOUND for a missing component, E_INVALID when one is a
 * symlink or not a directory, E_IO otherwise; the message names the
 * path and the component.                                             */
strands_status ws_open_dir(int root, const ws_path *p, size_t ncomp,
                           int create, int *fd_out, strands_error *err);

/** Refuses (E_INVALID, naming `shown`) anything but a regular file:
 * directories, symlinks, FIFOs, sockets and devices.                  */
strands_status ws_require_regular(const struct stat *st, const char *shown,
                                  strands_error *err);

/** "file", "directory", "symlink", "fifo", "socket", "char_device",
 * "block_device" or "other" (static strings).                         */
const char *ws_type_name(mode_t mode);

/** Creates the workspace directory `dir` if missing (with its missing
 * parents, mode 0700), checks that it is a directory, and returns its
 * absolute, symlink-free path in *abs_out (free it). E_INVALID or E_IO
 * with a message that starts "WORKSPACE_DIR".                          */
strands_status ws_prepare(const char *dir, char **abs_out,
                          strands_error *err);

/* ---- text (utf8.c) ------------------------------------------------------ */

/** Length of the longest prefix of s[0..n) that is well-formed UTF-8
 * (RFC 3629: no overlongs, surrogates or code points past U+10FFFF)
 * without NUL bytes.                                                   */
size_t ws_utf8_valid_prefix(const unsigned char *s, size_t n);

/** k (1..3) when s[0..n) is valid UTF-8 but for its last k bytes, which
 * are the start of a sequence that more bytes could complete (a read
 * cut in the middle of a character); 0 otherwise.                      */
size_t ws_utf8_incomplete_tail(const unsigned char *s, size_t n);

/** A copy of s[0..n) as valid UTF-8: every byte that is not part of a
 * well-formed sequence (and every NUL) becomes U+FFFD. Heap string
 * (free it), its length in *out_len; NULL on OOM.                      */
char *ws_utf8_lossy(const char *s, size_t n, size_t *out_len);

#endif
