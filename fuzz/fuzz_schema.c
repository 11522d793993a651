/* libFuzzer target for the tool input validator (src/tools/schema.c): the
 * input is "<schema JSON>\0<instance JSON>" (without a NUL byte the same
 * document is both). Any parsed pair is validated with a roomy and a tiny
 * message buffer; the status must agree and the messages must be
 * NUL-terminated and within bounds. Never crash, leak or loop.          */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tools/schema.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 65536) return 0;
    const uint8_t *nul = memchr(data, '\0', size);
    size_t slen = nul ? (size_t)(nul - data) : size;
    json_t *schema = json_loadb((const char *)data, slen, JSON_DECODE_ANY,
                                NULL);
    json_t *inst = nul ? json_loadb((const char *)nul + 1,
                                    size - slen - 1, JSON_DECODE_ANY, NULL)
                       : json_incref(schema);
    if (schema && inst) {
        char why[512], tiny[7];
        strands_status a = schema_validate(schema, inst, why, sizeof why);
        strands_status b = schema_validate(schema, inst, tiny, sizeof tiny);
        if (a != b || (a != STRANDS_OK && a != STRANDS_E_INVALID)) abort();
        if (strlen(why) >= sizeof why || strlen(tiny) >= sizeof tiny)
            abort();
        if ((a == STRANDS_OK) != (why[0] == '\0')) abort();
        if (schema_validate(schema, inst, NULL, 0) != a) abort();
    }
    json_decref(schema);
    json_decref(inst);
    return 0;
}
