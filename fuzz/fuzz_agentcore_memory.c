/* libFuzzer target for the AgentCore Memory codec
 * (src/session/agentcore_memory_codec.c): whatever an event payload holds
 * (the input as a payload item, as conversational text and as a blob),
 * decoding never crashes, leaks or hangs, and a decoded message with a
 * role Strands stores encodes and decodes back to itself; an agent blob
 * decodes to an object or nothing.                                     */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "session/agentcore_memory.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void roundtrip(const json_t *item)
{
    json_t *m = NULL;
    if (session_acm_payload_message(item, &m) != STRANDS_OK || !m) return;
    strands_error err;
    json_t *again = session_acm_message_payload(
        m, "2026-01-01T00:00:00+00:00", &err);
    if (again) {
        json_t *back = NULL;
        if (session_acm_payload_message(again, &back) != STRANDS_OK || !back ||
            !json_equal(back, m))
            abort();
        json_decref(back);
        json_decref(again);
    } else if (err.status != STRANDS_E_INVALID) {
        abort();   /* only a role Strands cannot store is refused */
    }
    json_decref(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text) return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    json_t *item = json_loadb((const char *)data, size, 0, NULL);
    if (item) roundtrip(item);
    json_decref(item);
    if (strlen(text) == size) {   /* as text inside a payload */
        json_t *conv = json_pack("{s:{s:{s:s%}, s:s}}", "conversational",
                                 "content", "text", text, size, "role",
                                 "USER");
        json_t *blob = json_pack("{s:s%}", "blob", text, size);
        if (conv) roundtrip(conv);
        if (blob) roundtrip(blob);
        json_t *agent = NULL;
        char *created = NULL;
        if (blob &&
            session_acm_agent_from_blob(json_object_get(blob, "blob"),
                                "state,conversation_manager_state", &agent,
                                &created) == STRANDS_OK &&
            agent && !json_is_object(agent))
            abort();
        free(created);
        json_decref(agent);
        json_decref(conv);
        json_decref(blob);
    }
    free(text);
    return 0;
}
