/* OpenAI Chat Completions answer assembler: turns a streamed answer (SSE
 * "chat.completion.chunk" events, bytes split anywhere, ended by
 * "data: [DONE]") or a whole "chat.completion" JSON body into one
 * Converse-shaped assistant message plus stop reason and usage, reporting
 * typed stream events (block start/stop, text, tool input, reasoning) as
 * they arrive. Text deltas and tool_calls deltas are assembled by index
 * (id and name from the first delta that has them, argument fragments
 * after). Tool-call ids the server omits, repeats within the answer or
 * reuses from the history are replaced by "call_<n>_<8 hex>". Pure: no
 * I/O, no logging. Memory is bounded by a byte budget, a tool-call count
 * and a per-call argument size.                                         */
#ifndef STRANDS_MODELS_OPENAI_STREAM_H
#define STRANDS_MODELS_OPENAI_STREAM_H

#include <stddef.h>
#include <jansson.h>

#include "strands/model.h"

#define OA_DEFAULT_MAX_BYTES (16u * 1024 * 1024) /* text+args+ids kept */
#define OA_DEFAULT_MAX_TOOL_CALLS 128u
#define OA_DEFAULT_MAX_ARGS (4u * 1024 * 1024)   /* one call's arguments */
#define OA_MAX_EVENT (8u * 1024 * 1024)          /* one SSE event / line */

typedef struct oa_stream oa_stream;

/* Typed stream events, on the feeding thread, in arrival order; the
 * event's pointers are borrowed for the call.                          */
typedef void oa_event_fn(void *user, const strands_model_stream_event *ev);

/** A new assembler (NULL on OOM). fn may be NULL. history (Converse
 * messages, may be NULL) is borrowed for the assembler's life and only
 * read: ids of its toolUse blocks are not reused. Free with
 * oa_stream_free. One per answer; not thread-safe.                     */
oa_stream *oa_stream_new(oa_event_fn *fn, void *user, const json_t *history);
/** Frees it (NULL is a no-op). */
void oa_stream_free(oa_stream *s);
/** Overrides the limits (0 keeps the current value); before any input. */
void oa_stream_set_limits(oa_stream *s, size_t max_bytes,
                          size_t max_tool_calls, size_t max_args);

/** Feeds n bytes of an SSE body. OK, or (sticky; later calls repeat it):
 *   E_UPSTREAM  an error chunk ({"error":{...}} or event "error"): code
 *               and message from it (openai_error_from_json; an overflow
 *               is E_INVALID ContextWindowOverflow instead)
 *   E_PARSE     a chunk that is not a JSON object, or a malformed delta
 *               (err->code "InvalidResponse")
 *   E_TOO_LARGE a cap (bytes, tool calls, argument size, SSE event size)
 *   E_NOMEM                                                           */
strands_status oa_stream_feed(oa_stream *s, const char *p, size_t n,
                              strands_error *err);

/** Applies a whole non-streamed "chat.completion" body instead (reports
 * the same events, each block at once). Errors as oa_stream_feed; an
 * {"error":...} body is E_UPSTREAM.                                    */
strands_status oa_stream_apply_completion(oa_stream *s, const char *body,
                                          size_t len, strands_error *err);

/** Ends the answer. E_UPSTREAM "IncompleteStream" when a stream ended
 * before "[DONE]"; E_PARSE when a tool call never got a name; the
 * sticky error of a failed feed; E_INVALID when called twice. On success
 * fills *out (zeroed first; strands_model_response_cleanup frees it):
 * {"role":"assistant","content":[reasoningContent?, text..., toolUse...]}
 * in arrival order, stop from finish_reason ("stop" with tool calls:
 * TOOL_USE, as some servers label tool turns "stop"), stop_reason the
 * label as sent, usage (prompt/completion/total tokens, cached_tokens as
 * cache_read_input_tokens).                                            */
strands_status oa_stream_finish(oa_stream *s, strands_model_response *out,
                                strands_error *err);

/** True once output (text, reasoning or a tool call) was reported: a
 * retry would repeat it to the consumer.                               */
int oa_stream_sent_anything(const oa_stream *s);

/** How many tool calls had arguments that were not a JSON object (they
 * were given the input {}); *first_name gets the first one's name
 * (borrowed until free; may be NULL).                                  */
size_t oa_stream_bad_arguments(const oa_stream *s, const char **first_name);

#endif
