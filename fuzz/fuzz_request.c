/* libFuzzer target for the /invocations prompt validation
 * (request_prompt_blocks in src/server/request.c): the bytes are parsed
 * with json_loadb as the server does, then validated. Checks the contract:
 * NULL comes with a non-empty reason; otherwise a non-empty array of
 * objects with exactly one key each. Never crash, leak or read out of
 * bounds.                                                                */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "server/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const json_t *body, size_t whysz)
{
    char why[256];
    memset(why, 0, sizeof why);
    json_t *blocks = request_prompt_blocks(body, why, whysz);
    if (!blocks) {
        if (whysz > 1 && !why[0]) abort();
        if (memchr(why, '\0', whysz) == NULL) abort();
        return;
    }
    if (!json_is_array(blocks) || json_array_size(blocks) == 0) abort();
    size_t i;
    json_t *b;
    json_array_foreach(blocks, i, b) {
        if (!json_is_object(b) || json_object_size(b) != 1) abort();
    }
    json_decref(blocks);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_error_t jerr;
    json_t *body = json_loadb((const char *)data, size, 0, &jerr);
    check(body, 256);
    /* A tiny reason buffer must be cut, never overrun. */
    check(body, 1 + (size ? data[0] % 16 : 0));
    json_decref(body);
    return 0;
}
