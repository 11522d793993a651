/* Status codes for the whole library, generated from one X-macro table, and
 * strands_error: a code plus a fixed-size message the caller owns.         */
#ifndef STRANDS_STATUS_H
#define STRANDS_STATUS_H

#include <stdarg.h>
#include "strands/common.h"

/* X(name, number, http status, description). Numbers are never reused. */
#define STRANDS_STATUS_MAP(X)                                          \
    X(OK, 0, 200, "success")                                           \
    X(E_NOMEM, 1, 500, "out of memory")                                \
    X(E_INVALID, 2, 400, "invalid argument")                           \
    X(E_TOO_LARGE, 3, 413, "too large")                                \
    X(E_NOT_FOUND, 4, 404, "not found")                                \
    X(E_BUSY, 5, 409, "busy")                                          \
    X(E_IO, 6, 500, "I/O error")                                       \
    X(E_PARSE, 7, 400, "parse error")                                  \
    X(E_NO_CREDENTIALS, 8, 503, "no AWS credentials")                  \
    X(E_UPSTREAM, 9, 502, "upstream service error")                    \
    X(E_NETWORK, 10, 502, "network error")                             \
    X(E_TIMEOUT, 11, 504, "timed out")                                 \
    X(E_CANCELLED, 12, 503, "cancelled")                               \
    X(E_TOOL, 13, 500, "tool failed")                                  \
    X(E_CRYPTO, 14, 500, "cryptography failure")                       \
    X(E_INTERNAL, 15, 500, "internal error")                           \
    X(E_UNAVAILABLE, 16, 503, "service unavailable")

typedef enum strands_status {
#define STRANDS_X_ENUM(name, num, http, desc) STRANDS_##name = num,
    STRANDS_STATUS_MAP(STRANDS_X_ENUM)
#undef STRANDS_X_ENUM
} strands_status;

#define STRANDS_ERROR_CODE_MAX 64
#define STRANDS_ERROR_MESSAGE_MAX 1024

/* Detail for a failed call. Caller-allocated; functions that can fail in
 * interesting ways fill it. `code` holds a machine-readable error type (an
 * AWS error code such as "ValidationException", or a strands status name);
 * `http_status` is the upstream HTTP status when there was one, else 0.   */
typedef struct strands_error {
    strands_status status;
    int http_status;
    char code[STRANDS_ERROR_CODE_MAX];
    char message[STRANDS_ERROR_MESSAGE_MAX];
} strands_error;

/** Static name of a status, e.g. "E_INVALID". Never NULL. */
STRANDS_EXTERN const char *strands_status_name(strands_status s);
/** Static human description of a status. Never NULL. */
STRANDS_EXTERN const char *strands_strerror(strands_status s);
/** HTTP status a server should answer for this status. */
STRANDS_EXTERN int strands_status_http(strands_status s);

/** Resets err (NULL allowed) to STRANDS_OK with empty strings. */
STRANDS_EXTERN void strands_error_clear(strands_error *err);
/** Fills err (NULL allowed) with status, code (NULL: the status name) and a
 * printf-formatted message; returns status so callers can `return` it.   */
STRANDS_EXTERN strands_status strands_error_set(strands_error *err,
                                                strands_status status,
                                                const char *code,
                                                const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
