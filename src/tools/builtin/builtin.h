/* Private interface of the built-in tools. Each built-in source file exports
 * one static strands_tool_def (user data NULL, nothing to free), listed in
 * builtin.c; the builtin source calls its run with a pointer to the
 * source's builtin_options as `user` (tools without settings ignore it).
 * The helpers below are exported for the unit tests. Everything here is
 * reentrant and safe to call from any thread.                            */
#ifndef TOOLS_BUILTIN_H
#define TOOLS_BUILTIN_H

#include <stddef.h>
#include <stdint.h>

#include "strands/tool.h"

extern const strands_tool_def builtin_calculator;
extern const strands_tool_def builtin_current_time;
extern const strands_tool_def builtin_http_request; /* http_request.c */
extern const strands_tool_def builtin_file_read;    /* file_read.c */
extern const strands_tool_def builtin_file_write;   /* file_write.c */
extern const strands_tool_def builtin_file_list;    /* file_list.c */
extern const strands_tool_def builtin_shell;        /* shell.c */

/* ---- options (options.c; filled by the settings rows of source.c) ------ */

#define BUILTIN_HTTP_MAX_BYTES_DEFAULT 1048576 /* HTTP_REQUEST_MAX_BYTES */
#define BUILTIN_HTTP_TIMEOUT_DEFAULT 30  /* HTTP_REQUEST_TIMEOUT_SECONDS */
#define BUILTIN_WORKSPACE_DIR_DEFAULT "/tmp/workspace"
#define BUILTIN_FILE_MAX_BYTES_DEFAULT ((size_t)1 << 20)
#define BUILTIN_SHELL_TIMEOUT_MS_DEFAULT 60000L
#define BUILTIN_SHELL_OUTPUT_MAX_DEFAULT ((size_t)64 << 10)
#define BUILTIN_LIST_MAX_ENTRIES 1000  /* file_list's default max_entries */
#define BUILTIN_LIST_MAX_ENTRIES_CAP 10000 /* ... and its ceiling */

/* The settings the built-ins read. The builtin source's rows (source.c)
 * fill one; the source keeps its own copy and hands every run a pointer
 * to it as `user` (borrowed, read-only, valid for the call). A NULL
 * `user` means the defaults (builtin_options_default).                  */
typedef struct builtin_options {
    /* http_request */
    char *http_allow;         /* HTTP_REQUEST_ALLOW (validated), or NULL */
    size_t http_max_bytes;    /* response body cap, bytes */
    int http_timeout_seconds; /* per call, also capped by the deadline */
    /* file tools and shell */
    char *workspace_dir;           /* WORKSPACE_DIR (absolute once the
                                      source prepared it) */
    size_t file_max_bytes;         /* FILE_MAX_BYTES: per read and write */
    long shell_timeout_ms;         /* SHELL_TIMEOUT_SECONDS, in ms */
    size_t shell_output_max_bytes; /* SHELL_OUTPUT_MAX_BYTES, per stream */
    size_t result_max_bytes;       /* TOOL_RESULT_MAX_BYTES (the agent cuts
                                      larger results): file_read returns
                                      less so its result fits; 0 = none */
} builtin_options;

/** Fills o with the defaults (strings static or NULL; nothing to free). */
void builtin_options_default(builtin_options *o);
/** Deep-copies src (NULL: the defaults) into dst, which the caller frees
 * with builtin_options_cleanup (also after a failure). E_NOMEM.        */
strands_status builtin_options_copy(builtin_options *dst,
                                    const builtin_options *src,
                                    strands_error *err);
/** Frees the strings of a copy made by builtin_options_copy. */
void builtin_options_cleanup(builtin_options *o);

/** strands_tool_registry_add_builtins with options: the registry's builtin
 * source, when this call creates it, keeps a copy of opts (NULL: the
 * defaults); a source that exists already keeps the options it has. When
 * a workspace tool (file_*, shell) is named, WORKSPACE_DIR is created if
 * missing and must be a directory (its absolute path is what is kept);
 * the error then says "WORKSPACE_DIR: ...".                             */
strands_status builtin_add_tools(strands_tool_registry *reg,
                                 const char *list,
                                 const builtin_options *opts,
                                 strands_error *err);

/* ---- calculator ---------------------------------------------------------- */

#define BUILTIN_CALC_MAX_LEN 1000  /* longest expression, in bytes */
#define BUILTIN_CALC_MAX_DEPTH 100 /* deepest nesting of (), unary, ^ */

/** Parses a comma list of built-in tool names (spaces around names and
 * empty items ignored) into a bit mask (bit i: the i-th built-in) without
 * touching any registry. E_INVALID naming the first unknown or duplicate
 * name.                                                                 */
strands_status builtin_list_parse(const char *list, unsigned *mask_out,
                                  strands_error *err);

/** Evaluates the arithmetic expression expr[0..len) (see calculator.c for
 * the grammar) into *out. E_INVALID with a precise message (syntax error
 * position, division by zero, domain error, ...) when it cannot.        */
strands_status builtin_calc_eval(const char *expr, size_t len, double *out,
                                 strands_error *err);
/** Formats a result: integers without decimals, else %.15g; -0 as "0".
 * out should hold at least 32 bytes.                                   */
void builtin_calc_format(double v, char *out, size_t outsz);

/* ---- time zones (tzfile.c) ---------------------------------------------- */

#define BUILTIN_TZ_NAME_MAX 255

/** UTC offset (seconds east of Greenwich) in effect at Unix time t in the
 * IANA zone `name`, read from the TZif file <dir>/<name>. E_NOT_FOUND for
 * a malformed name or a missing file, E_PARSE for a corrupt or unsupported
 * file, E_TOO_LARGE for an oversized file.                              */
strands_status builtin_tz_offset(const char *dir, const char *name,
                                 int64_t t, int32_t *utoff_out,
                                 strands_error *err);
/** Same, from a TZif image already in memory (RFC 8536, versions 1-4). */
strands_status builtin_tzif_offset(const unsigned char *data, size_t len,
                                   int64_t t, int32_t *utoff_out,
                                   strands_error *err);
/** Offset at t under a POSIX TZ rule string such as "EST5EDT,M3.2.0,
 * M11.1.0" (the TZif footer). Returns 0, or -1 when the string is
 * invalid.                                                             */
int builtin_tz_posix_offset(const char *spec, int64_t t, int32_t *utoff_out);
/** True when name is a safe relative zone path: components of
 * [A-Za-z0-9._+-] separated by '/', no "." or ".." components, no leading
 * '/', at most BUILTIN_TZ_NAME_MAX bytes.                              */
int builtin_tz_name_ok(const char *name);

#endif
