/* Bedrock Converse JSON: building the request body from a model request,
 * parsing a Converse response into a model response, and mapping Bedrock's
 * stop reasons onto the provider-neutral enum. Pure: no I/O.            */
#ifndef STRANDS_MODELS_CONVERSE_H
#define STRANDS_MODELS_CONVERSE_H

#include <stddef.h>
#include <jansson.h>

#include "strands/model.h"

/** True when any message holds a toolUse or toolResult block. */
int converse_history_has_tools(const json_t *messages);

/* What the provider's configuration adds to every body: text fragments
 * rendered once at start (bedrock_params.c), so concurrent calls share
 * them without touching shared JSON trees. All borrowed; NULL = none.  */
typedef struct converse_options {
    int cache_points;           /* PROMPT_CACHE=auto: a cachePoint block
                                   after the system prompt, after the tool
                                   list and after the last user message */
    int max_tokens;             /* > 0: replaces req->max_tokens */
    const char *inference_json; /* more inferenceConfig members, e.g.
                                   "\"temperature\":0.2" (no braces) */
    const char *extra_json;     /* more top-level members (no braces),
                                   e.g. additionalModelRequestFields */
    const char *extra_forced_json; /* the same for a call that forces a
                                   tool (req->tool_choice): without the
                                   additionalModelRequestFields thinking,
                                   which Claude refuses with a forced
                                   tool; NULL: extra_json */
    const char *guardrail_json; /* the guardrailConfig object */
} converse_options;

/** converse_build_body with the provider's options (o may be NULL). */
char *converse_build_body_ex(const strands_model_request *req,
                             const converse_options *o, size_t *len);

/** Builds the Converse request body as compact JSON text: messages,
 * inferenceConfig.maxTokens, system (when set) and toolConfig whenever
 * tools are given or the history holds toolUse/toolResult (a placeholder
 * "noop" tool is declared when no tool is registered, since Bedrock
 * refuses such a history without toolConfig), with toolConfig.toolChoice
 * {"tool":{"name"}} when req->tool_choice is set (and tools are given).
 * req->system and req->tools
 * are only read, never referenced (other invocations share them). Returns
 * a heap string (free() it) and its length in *len (may be NULL); NULL on
 * OOM.                                                                  */
char *converse_build_body(const strands_model_request *req, size_t *len);

/** The same body as a JSON tree (new reference; NULL on OOM), for tests
 * and tools that inspect it.                                            */
json_t *converse_build_request(const strands_model_request *req);

/** Maps a Bedrock stopReason ("end_turn", "tool_use", "max_tokens",
 * "stop_sequence", "guardrail_intervened", "content_filtered") to the
 * provider-neutral enum; unknown values and NULL map to END_TURN.       */
strands_stop_reason converse_stop_reason(const char *reason);

/** Parses a Converse response body into *out (caller cleans it up with
 * strands_model_response_cleanup). E_PARSE with a message when the body
 * is not the documented shape.                                          */
strands_status converse_parse_response(const char *body, size_t len,
                                       strands_model_response *out,
                                       strands_error *err);

/** Reads usage {inputTokens, outputTokens, totalTokens,
 * cacheReadInputTokens, cacheWriteInputTokens} (missing = 0; each clamped
 * to 0..INT32_MAX; total = input + output when missing).               */
void converse_parse_usage(const json_t *usage, strands_usage *out);

#endif
