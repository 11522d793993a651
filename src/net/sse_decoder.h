/* An incremental client-side Server-Sent Events decoder (the WHATWG HTML
 * "event stream" interpretation rules): bytes are fed in chunks of any
 * size, split anywhere; each complete event reaches a callback.
 *
 * Rules implemented: one leading UTF-8 BOM is dropped; lines end with
 * CRLF, LF or CR (a CRLF split across chunks counts once); a line
 * starting with ':' is a comment; "field:value" drops one space after the
 * colon, a line without a colon is a field with an empty value; fields
 * `event`, `data` (lines joined with "\n"), `id` (ignored when it holds
 * NUL; persists across events) and `retry` (ASCII digits only) are used,
 * others ignored; a blank line dispatches the event unless its data is
 * empty; an event cut off by the end of the stream is discarded. One
 * deliberate deviation: an `event` value holding NUL is ignored like such
 * an `id` (both are handed out as C strings).
 * Caps: the length of one line and the size of one event (data + type);
 * exceeding either is E_TOO_LARGE naming the cap, and the decoder then
 * refuses further input (sticky error).                                 */
#ifndef STRANDS_NET_SSE_DECODER_H
#define STRANDS_NET_SSE_DECODER_H

#include <stddef.h>

#include "strands/status.h"

/* One event, valid only during the callback. */
typedef struct net_sse_event {
    const char *type;      /* the `event` field, "message" when absent */
    const char *data;      /* data lines joined by "\n", NUL-terminated */
    size_t data_len;       /* bytes of data (data may hold NUL bytes) */
    const char *id;        /* the last event id seen so far, "" if none */
    long retry_ms;         /* the last valid `retry` value, -1 if none */
} net_sse_event;

/* Called per dispatched event; return non-zero to stop decoding (the feed
 * then returns E_CANCELLED and the decoder refuses further input).      */
typedef int net_sse_event_fn(void *user, const net_sse_event *ev);

typedef struct net_sse_decoder net_sse_decoder;

#define NET_SSE_DEFAULT_MAX_LINE (64u * 1024u)
#define NET_SSE_DEFAULT_MAX_EVENT (1024u * 1024u)

/** Creates a decoder. max_line: longest line in bytes, without its end
 * (0: 64 KiB); max_event: largest event, data plus type (0: 1 MiB).
 * fn is borrowed for the decoder's life. NULL on OOM. Free with
 * net_sse_decoder_free.                                                 */
net_sse_decoder *net_sse_decoder_new(size_t max_line, size_t max_event,
                                     net_sse_event_fn *fn, void *user);
/** Frees the decoder (NULL is a no-op). */
void net_sse_decoder_free(net_sse_decoder *d);
/** Feeds n bytes. OK; E_TOO_LARGE for a line or event over its cap;
 * E_CANCELLED when the callback stopped; E_NOMEM. After an error every
 * later feed returns the same status.                                   */
strands_status net_sse_feed(net_sse_decoder *d, const void *p, size_t n,
                            strands_error *err);
/** Ends the stream: a partial line or undispatched event is discarded (as
 * the standard says). Returns the sticky error, if any, else OK. The
 * decoder can then be freed; feeding again starts a new stream, keeping
 * the last event id and retry (as a reconnect would).                  */
strands_status net_sse_finish(net_sse_decoder *d, strands_error *err);
/** The last event id ("" when none); valid until the next feed.        */
const char *net_sse_last_event_id(const net_sse_decoder *d);
/** The last valid retry value in ms, -1 when none was seen.           */
long net_sse_retry_ms(const net_sse_decoder *d);

#endif
