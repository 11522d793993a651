/* Anthropic Messages API, the pure parts: mapping our Converse-shaped
 * requests to a Messages request body (anthropic_request.c), Messages
 * content, usage, stop reasons and error bodies back to ours
 * (anthropic_response.c), the MODEL_PARAMS members (anthropic_params.c),
 * and the streaming assembler that turns an SSE body into one assistant
 * message (anthropic_stream.c). No I/O, no logging; the call itself with
 * retries is anthropic.c. See docs/internals/models.md.                  */
#ifndef STRANDS_MODELS_ANTHROPIC_H
#define STRANDS_MODELS_ANTHROPIC_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "strands/model.h"

/* The anthropic-version header every request carries. */
#define ANTHROPIC_VERSION "2023-06-01"
/* err->code for an answer that is not the documented shape. */
#define ANTHROPIC_BAD_RESPONSE "InvalidResponse"

/* ---- request (anthropic_request.c) -------------------------------------- */

/** Builds the POST /v1/messages body as compact JSON text: model,
 * max_tokens, stream (true), messages (mapped from the Converse history:
 * text, image, document, toolUse -> tool_use, toolResult -> tool_result,
 * reasoningContent -> thinking / redacted_thinking kept byte-exact,
 * cachePoint -> cache_control on the block before it), system (text
 * blocks), tools (toolSpec -> {name, description, input_schema}; a
 * placeholder "noop" tool when the history holds tool blocks but no tool
 * is given), tool_choice ({"type":"tool","name"} when req->tool_choice is
 * set), then `params` spliced in as it is: the members text of
 * anthropic_params_text ("" or NULL: none). req->system and req->tools
 * are only read, never referenced (other invocations share them).
 * Returns a heap string (free() it) and its length in *len (may be NULL);
 * NULL with err filled: E_INVALID naming a block the API cannot take
 * (e.g. a docx document, an image from S3), E_NOMEM.                    */
char *anthropic_build_body(const strands_model_request *req,
                           const char *model_id, const char *params,
                           size_t *len, strands_error *err);

/** The same body as a JSON tree (new reference; NULL with err), for tests. */
json_t *anthropic_build_request(const strands_model_request *req,
                                const char *model_id, const char *params,
                                strands_error *err);

/* ---- MODEL_PARAMS (anthropic_params.c) ---------------------------------- */

/** Checks MODEL_PARAMS (a JSON object text; NULL or "" = none) and turns
 * it into the members text spliced into every body ("\"k\":v,..." without
 * braces, "" when none). Members of a Bedrock-style
 * "additionalModelRequestFields" object are lifted to the top level.
 * Checked: temperature and top_p numbers, top_k an integer >= 0,
 * stop_sequences an array of strings, thinking an object whose
 * budget_tokens (type "enabled") is an integer >= 1024 and, when
 * max_tokens > 0, below it; model, messages, system, tools, tool_choice,
 * stream and max_tokens are refused (the runtime sets them). With
 * drop_thinking the (checked) thinking member is left out: the text for
 * calls that force a tool, which the API refuses with thinking on.
 * Returns OK and a heap string in *out (free() it), or E_INVALID with a
 * message that starts with "MODEL_PARAMS: ", or E_NOMEM.              */
strands_status anthropic_params_text(const char *params, int max_tokens,
                                     int drop_thinking, char **out,
                                     strands_error *err);

/* ---- response (anthropic_response.c) ------------------------------------ */

/** Maps a Messages stop_reason onto the provider-neutral enum: end_turn
 * EndTurn, tool_use ToolUse, max_tokens and model_context_window_exceeded
 * MaxTokens, stop_sequence StopSequence, refusal ContentFiltered,
 * pause_turn (a server-tool turn paused) and unknown values or NULL
 * EndTurn.                                                              */
strands_stop_reason anthropic_stop_reason(const char *reason);

/** Reads the members of a Messages usage object that are present
 * (input_tokens, output_tokens, cache_read_input_tokens,
 * cache_creation_input_tokens -> cache_write_input_tokens; each clamped
 * to 0..INT32_MAX) into *out, leaving absent ones as they are, and sets
 * total_tokens to the sum of all four (Bedrock's totalTokens counts the
 * cached tokens too). NULL or a non-object changes nothing.           */
void anthropic_parse_usage(const json_t *usage, strands_usage *out);

/** Converts one Messages content block to a Converse content block:
 * text -> {"text"}, tool_use -> {"toolUse":{toolUseId,name,input}},
 * thinking -> {"reasoningContent":{"reasoningText":{text,signature}}},
 * redacted_thinking -> {"reasoningContent":{"redactedContent":<base64 of
 * the data string>}}. Returns OK with a new reference in *out, or *out
 * NULL for a block that is dropped (empty text, and block types we do
 * not use: server tools, citations); E_PARSE (code InvalidResponse) for a
 * known block missing what it needs; E_NOMEM.                         */
strands_status anthropic_block_to_converse(const json_t *block, json_t **out,
                                           strands_error *err);

/** Parses a non-streamed Messages answer (a "message" object) into *out
 * (zeroed first; the caller frees it with strands_model_response_cleanup).
 * E_PARSE (code InvalidResponse) when it is not the documented shape.  */
strands_status anthropic_parse_message(const char *body, size_t len,
                                       strands_model_response *out,
                                       strands_error *err);

/** Fills err from an HTTP error answer: E_UPSTREAM, err->code the body's
 * error.type (else the type Anthropic documents for the status, e.g.
 * 529 overloaded_error, else "HttpError<status>"), err->http_status the
 * status, a message quoting error.message. A 400 (or 413) whose message
 * says the prompt is too long is E_INVALID with code
 * STRANDS_ERROR_CONTEXT_OVERFLOW. Returns err's status.               */
strands_status anthropic_error_from_response(long status, const char *body,
                                             size_t len, strands_error *err);

/** Fills err from an in-stream error object {"type":"error","error":{
 * "type","message"}} (E_UPSTREAM, http_status 0, overflow as above).  */
strands_status anthropic_error_from_event(const json_t *ev,
                                          strands_error *err);

/* ---- stream assembler (anthropic_stream.c) ------------------------------ */

/* Default bounds: bytes kept for the message (text, tool input text,
 * thinking, signatures, redacted data, ids, names), the number of content
 * blocks, and one SSE line / event. Over any: E_TOO_LARGE.             */
#define ANTHROPIC_STREAM_MAX_BYTES (16u * 1024 * 1024)
#define ANTHROPIC_STREAM_MAX_BLOCKS 1024u
#define ANTHROPIC_STREAM_MAX_EVENT (4u * 1024 * 1024)

typedef struct anthropic_stream anthropic_stream;

/** A new assembler, or NULL when out of memory. on_event (may be NULL)
 * gets every typed stream event (strands/model.h) in arrival order, on
 * the feeding thread, borrowed for the call; a block's BLOCK_START is
 * reported just before its first delta (or its stop, or with the data of
 * a redacted block), so nothing is reported for a block the stream never
 * fills. One assembler per response body; not thread-safe. Free with
 * anthropic_stream_free.                                               */
anthropic_stream *anthropic_stream_new(
    void (*on_event)(void *user, const strands_model_stream_event *ev),
    void *user);
/** Frees the assembler (NULL is a no-op). */
void anthropic_stream_free(anthropic_stream *s);
/** Overrides the byte and block limits (0 keeps the default); before the
 * first feed. For tests.                                               */
void anthropic_stream_set_limits(anthropic_stream *s, size_t max_bytes,
                                 size_t max_blocks);

/** Feeds n body bytes of a text/event-stream answer, split anywhere.
 * Returns OK, or (sticky: later calls return it again) E_UPSTREAM for an
 * `error` event (err->code its error.type, e.g. "overloaded_error";
 * E_INVALID ContextWindowOverflow for a too-long prompt), E_PARSE (code
 * InvalidResponse) for an event that is not JSON or breaks the protocol
 * (a delta of another kind than its block, a delta or start for a block
 * already stopped, a block index that is not an integer >= 0),
 * E_TOO_LARGE over a limit, E_NOMEM.                                    */
strands_status anthropic_stream_feed(anthropic_stream *s, const char *p,
                                     size_t n, strands_error *err);

/** Ends the stream. E_PARSE "stream ended before message_stop" when
 * message_start or message_stop was not seen; the sticky error of a
 * failed feed; E_INVALID when called twice. On success fills *out (zeroed
 * first; free with strands_model_response_cleanup): the assistant message
 * with the blocks in index order (blocks never stopped are finished
 * here), stop reason, usage.                                           */
strands_status anthropic_stream_finish(anthropic_stream *s,
                                       strands_model_response *out,
                                       strands_error *err);

/** True once any stream event was reported to on_event: a retry of the
 * call would show the consumer the same output twice.               */
int anthropic_stream_sent_anything(const anthropic_stream *s);

#endif
