/* OpenAI Chat Completions mapping, Converse-shaped <-> OpenAI (pure: no
 * I/O, no logging): the request body built from a strands_model_request
 * (system prompt, text, images as data URLs, assistant tool_calls, role
 * "tool" results, tools, tool_choice, MODEL_PARAMS), the finish_reason ->
 * stop-reason map and the reading of an error answer. The answer itself
 * (streamed or not) is assembled by openai_stream.h.                    */
#ifndef STRANDS_MODELS_OPENAI_MAP_H
#define STRANDS_MODELS_OPENAI_MAP_H

#include <stddef.h>
#include <jansson.h>

#include "strands/model.h"

/* What the body needs besides the request; everything borrowed. */
typedef struct openai_body_opts {
    const char *model;     /* MODEL_ID */
    const json_t *params;  /* MODEL_PARAMS object (openai_params_check'ed),
                              or NULL; only read (deep-copied into the
                              body: it is shared by concurrent calls) */
    int stream;            /* 1: "stream":true + stream_options.include_usage */
} openai_body_opts;

/** Checks a MODEL_PARAMS object for this provider: the keys the runtime
 * sets itself ("model", "messages", "stream", "stream_options", "tools",
 * "tool_choice") are refused, and "stop_sequences" must be an array of
 * strings. OK, or E_INVALID with a message naming the key.              */
strands_status openai_params_check(const json_t *params, strands_error *err);

/** Builds the Chat Completions body as a JSON tree (new reference; NULL
 * on OOM). Messages: the system blocks first (one "system" message per
 * text block), then each Converse message: user text and images
 * (image_url with a data: URL) and documents (a "file" part with a data:
 * URL); a user message's toolResult blocks become "tool" messages (text
 * joined with "\n", json serialised compactly, images moved into a user
 * message that follows them) placed before the rest of its content;
 * assistant text becomes "content" and toolUse blocks "tool_calls" with
 * the input as a JSON string; reasoning blocks are not sent. Tools:
 * {"type":"function","function":{name,description,parameters}}; a
 * tool_choice names the function. max_tokens is req->max_tokens unless
 * MODEL_PARAMS has max_tokens or max_completion_tokens; MODEL_PARAMS
 * "stop_sequences" is sent as "stop"; every other key is copied as is.
 * req->system and req->tools are only read, never referenced.          */
json_t *openai_build_request(const strands_model_request *req,
                             const openai_body_opts *opts);

/** The same body as compact JSON text (free() it), its length in *len
 * (may be NULL); NULL on OOM. Never a body with a member missing.      */
char *openai_build_body(const strands_model_request *req,
                        const openai_body_opts *opts, size_t *len);

/** Maps a finish_reason ("stop", "length", "tool_calls", "function_call",
 * "content_filter") to the neutral enum; NULL or unknown: END_TURN.    */
strands_stop_reason openai_finish_reason(const char *reason);

/** True when an error code or message says the prompt does not fit the
 * model's context window: code "context_length_exceeded", or a message
 * with "maximum context length", "context length", "context_length_
 * exceeded", "context window" or one of Bedrock's wordings
 * (strands_model_overflow_message). NULLs are false.                   */
int openai_overflow(const char *code, const char *message);

/** Fills err from an OpenAI-style error document: {"error":{"message",
 * "type","code"}}, {"error":"text"} or {"message","type","code"} (vLLM),
 * for HTTP status `status` (0 for an in-stream error chunk). Overflow
 * (openai_overflow) -> E_INVALID with code STRANDS_ERROR_CONTEXT_OVERFLOW;
 * anything else -> E_UPSTREAM with err->code = the error's "code" when it
 * is a non-empty string, else its "type", else "HTTP<status>" (in-stream:
 * "StreamError"). err->http_status = status. body may be anything (not
 * JSON: its first bytes become the message). Returns err's status.     */
strands_status openai_error_from_body(long status, const char *body,
                                      size_t len, strands_error *err);

/** The same from an already parsed error value (the "error" member of a
 * chunk, or the whole document).                                       */
strands_status openai_error_from_json(long status, const json_t *doc,
                                      strands_error *err);

#endif
