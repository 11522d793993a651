/* libFuzzer target for the restore of a stored log into the history a
 * model sees (conversation_restore, src/agent/conversation.c): whatever
 * JSON a session store hands back, restore gives a history that passes
 * conversation_validate (roles alternate from a user message, every
 * toolUse answered exactly once in the next message, no stray results),
 * the prompt can be added to it keeping it valid, and the log is only
 * read. Never crash, leak or hang.                                     */
#include <stdint.h>
#include <stdlib.h>

#include <jansson.h>

#include "agent/conversation.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const json_t *log, size_t from)
{
    json_t *before = json_deep_copy(log);
    json_t *w = NULL, *repair = NULL;
    if (conversation_restore(log, from, &w, &repair) != STRANDS_OK) abort();
    if (conversation_validate(w, NULL) != STRANDS_OK) abort();
    if (repair && !json_equal(repair, json_array_get(w, json_array_size(w) -
                                                            1)))
        abort();
    json_t *prompt = json_pack("[{s:s}]", "text", "next");
    if (conversation_add_prompt(w, prompt) != STRANDS_OK) abort();
    if (conversation_validate(w, NULL) != STRANDS_OK) abort();
    if (!json_equal(log, before)) abort();
    json_decref(prompt);
    json_decref(w);
    json_decref(repair);
    json_decref(before);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *log = json_loadb((const char *)data, size, 0, NULL);
    if (!log) return 0;
    check(log, 0);
    check(log, size % 4);
    json_decref(log);
    return 0;
}
