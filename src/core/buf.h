/* dynbuf: a growable byte buffer with a hard size cap (curl dynbuf
 * style). The data is always NUL-terminated. On overflow or OOM the buffer
 * frees itself and the append returns an error, so nothing holding untrusted
 * input grows without a limit.                                             */
#ifndef STRANDS_CORE_BUF_H
#define STRANDS_CORE_BUF_H

#include <stddef.h>
#include "strands/status.h"

typedef struct dynbuf {
    char *data;     /* NULL until the first append */
    size_t len;
    size_t cap;
    size_t max;     /* largest allowed len */
} dynbuf;

/** Initializes caller storage; max is the size cap in bytes. */
void dynbuf_init(dynbuf *b, size_t max);
/** Frees the data and resets to empty (keeps max). */
void dynbuf_cleanup(dynbuf *b);
/** Appends len bytes. E_TOO_LARGE or E_NOMEM free the buffer. */
__attribute__((warn_unused_result))
strands_status dynbuf_append(dynbuf *b, const void *p, size_t len);
/** Appends a NUL-terminated string. */
__attribute__((warn_unused_result))
strands_status dynbuf_puts(dynbuf *b, const char *s);
/** Appends printf-formatted text. */
__attribute__((warn_unused_result, format(printf, 2, 3)))
strands_status dynbuf_printf(dynbuf *b, const char *fmt, ...);
/** Hands the data to the caller (free() it); the buffer resets to empty.
 * Returns an empty malloc'd string when nothing was appended, NULL on OOM. */
char *dynbuf_take(dynbuf *b, size_t *len_out);
/** Returns the data (never NULL: "" when empty); valid until next append. */
const char *dynbuf_str(const dynbuf *b);

#endif
