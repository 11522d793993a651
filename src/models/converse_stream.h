/* Bedrock ConverseStream assembler: turns the raw event-stream body of a
 * ConverseStream response (any split) into one Converse-shaped assistant
 * message plus stop reason, usage and latency, reporting typed stream
 * events (text, tool input, reasoning, block start/stop) and completed
 * toolUse blocks as they arrive. Pure: no I/O, no logging. See
 * docs/internals/converse-stream.md.                                      */
#ifndef STRANDS_MODELS_CONVERSE_STREAM_H
#define STRANDS_MODELS_CONVERSE_STREAM_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "strands/model.h"

/* Default bounds: bytes kept for the message (text, tool input text,
 * reasoning, signatures, decoded redacted content, ids, names) and the
 * number of content blocks. Over either: E_TOO_LARGE.                   */
#define CS_DEFAULT_MAX_BYTES (16u * 1024 * 1024)
#define CS_DEFAULT_MAX_BLOCKS 1024u

typedef struct cs_assembler cs_assembler;

/* Progress callbacks, both optional (NULL = not wanted). They run inside
 * cs_assembler_feed (or cs_assembler_finish, see below), on the caller's
 * thread, and must not call back into the same assembler. Every pointer is
 * borrowed for the duration of the call.                                 */
typedef struct cs_callbacks {
    /* Each non-empty text delta, in arrival order (UTF-8, not
     * NUL-terminated; may contain NUL bytes when the JSON had \u0000).   */
    void (*on_text)(void *user, const char *text, size_t len);
    /* A completed toolUse block {"toolUseId","name","input"} (input
     * already parsed), once, at its contentBlockStop (or at finish for a
     * block the stream never stopped).                                   */
    void (*on_tool_use)(void *user, const json_t *tool_use);
    void *user;
    /* Every typed stream event (strands/model.h) in arrival order: text,
     * tool-input and reasoning deltas (empty ones skipped), content-block
     * start (for each contentBlockStart) and stop (for each
     * contentBlockStop of a known block).                                */
    void (*on_event)(void *user, const strands_model_stream_event *ev);
} cs_callbacks;

/** A new assembler with the default limits, or NULL when out of memory.
 * cb may be NULL (no callbacks); it is copied. Free with
 * cs_assembler_free. One assembler per response body; not thread-safe. */
cs_assembler *cs_assembler_new(const cs_callbacks *cb);
/** Frees the assembler and everything it still holds. NULL is a no-op. */
void cs_assembler_free(cs_assembler *a);

/** Overrides the limits (0 keeps the current value). Call before the first
 * feed; meant for tests and for callers with tighter budgets.           */
void cs_assembler_set_limits(cs_assembler *a, size_t max_bytes,
                             size_t max_blocks);

/** Feeds n raw body bytes (split anywhere). Decodes event-stream messages
 * and applies each event; the input is not retained. Returns STRANDS_OK,
 * or fills err (may be NULL) with:
 *   E_UPSTREAM  an exception message (:message-type exception): err->code
 *               is :exception-type with its first letter capitalised
 *               ("ThrottlingException", "ModelStreamErrorException", ...),
 *               err->message the payload's "message"; or an error message
 *               (:message-type error): code from :error-code, message
 *               from :error-message. err->http_status stays 0 (the HTTP
 *               answer was a 200).
 *   E_PARSE     bad framing (from the decoder), a known event whose payload
 *               is not a JSON object or lacks a required member, a bad
 *               :message-type, inconsistent block events (delta of another
 *               kind, delta after stop, toolUse delta without start)
 *   E_TOO_LARGE over the byte or block limit (or a decoder limit)
 *   E_NOMEM     out of memory
 * Every error is final: later feed/finish calls return it again.        */
strands_status cs_assembler_feed(cs_assembler *a, const uint8_t *p, size_t n,
                                 strands_error *err);

/** Ends the stream. E_PARSE "stream ended before messageStop/metadata" when
 * messageStop or metadata was not seen, or a frame was cut off; the sticky
 * error of a failed feed; E_INVALID when called twice. On success fills
 * *out (zeroed first; caller frees with strands_model_response_cleanup):
 * message {"role":<messageStart role, default "assistant">,"content":[...]}
 * with the blocks ordered by contentBlockIndex, stop_reason (truncated to
 * fit) and its neutral stop, usage and latency_ms from metadata. Blocks never stopped are
 * finalised here (on_tool_use may run from this call).                  */
strands_status cs_assembler_finish(cs_assembler *a, strands_model_response *out,
                                   strands_error *err);

/** True once any text delta (on_text) or completed toolUse (on_tool_use)
 * was reported, i.e. the consumer may have forwarded output and a retry
 * of the call would duplicate it.                                        */
int cs_assembler_sent_anything(const cs_assembler *a);

#endif
