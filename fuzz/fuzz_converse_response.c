/* libFuzzer target for the Converse response parser (src/models/converse.c):
 * arbitrary bytes go to converse_parse_response; a parsed message is then
 * fed back into converse_build_request (the body text, parsed) as history. Checks the contract:
 * on success an assistant message with a content array and a terminated
 * stop reason; on failure E_PARSE, no message. Never crash, leak or read
 * out of bounds.                                                        */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "models/converse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Rebuilds a request whose history holds the parsed message. */
static void check_roundtrip(const json_t *message)
{
    json_t *messages = json_pack("[{s:s, s:[{s:s}]}, O]", "role", "user",
                                 "content", "text", "hi", message);
    if (!messages) abort();
    strands_model_request req = {0};
    req.messages = messages;
    req.max_tokens = 16;
    json_t *body = converse_build_request(&req);
    if (!body) abort();
    int has_tools = converse_history_has_tools(messages);
    json_t *tools = json_object_get(json_object_get(body, "toolConfig"),
                                    "tools");
    if (has_tools != (tools != NULL)) abort();
    if (!json_equal(json_object_get(body, "messages"), messages)) abort();
    json_decref(body);
    json_decref(messages);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    strands_model_response r;
    strands_error err;
    strands_error_clear(&err);
    strands_status st = converse_parse_response((const char *)data, size, &r,
                                                &err);
    if (st != STRANDS_OK) {
        if (st != STRANDS_E_PARSE && st != STRANDS_E_NOMEM) abort();
        if (err.status != st || r.message) abort();
        return 0;
    }
    if (memchr(r.stop_reason, '\0', sizeof r.stop_reason) == NULL) abort();
    const char *role =
        json_string_value(json_object_get(r.message, "role"));
    if (!role || strcmp(role, "assistant")) abort();
    if (!json_is_array(json_object_get(r.message, "content"))) abort();
    const strands_usage *u = &r.usage;
    if (u->input_tokens < 0 || u->input_tokens > INT32_MAX ||
        u->output_tokens < 0 || u->output_tokens > INT32_MAX ||
        u->total_tokens < 0 || u->total_tokens > 2 * (int64_t)INT32_MAX)
        abort();
    if (u->total_tokens == 0 && (u->input_tokens || u->output_tokens))
        abort();
    check_roundtrip(r.message);
    strands_model_response_cleanup(&r);
    if (r.message) abort();
    return 0;
}
