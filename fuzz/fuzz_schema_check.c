/* libFuzzer target for the schema shape check (src/tools/schema_check.c)
 * and the structured-output rule on top of it: the input is a JSON
 * schema. The check runs with a roomy and a tiny message buffer (same
 * status, messages NUL-terminated and within bounds); a schema it accepts
 * is then used by the validator on itself, which must not crash, leak or
 * loop either.                                                          */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "strands/agent.h"
#include "tools/schema.h"
#include "tools/schema_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 65536) return 0;
    json_t *schema = json_loadb((const char *)data, size, JSON_DECODE_ANY,
                                NULL);
    if (!schema) return 0;
    char why[512], tiny[5];
    strands_status a = schema_check(schema, "output_schema", why, sizeof why);
    strands_status b = schema_check(schema, "output_schema", tiny,
                                    sizeof tiny);
    if (a != b || (a != STRANDS_OK && a != STRANDS_E_INVALID &&
                   a != STRANDS_E_NOMEM))
        abort();
    if (strlen(why) >= sizeof why || strlen(tiny) >= sizeof tiny) abort();
    if ((a == STRANDS_OK) != (why[0] == '\0')) abort();
    if (schema_check(schema, NULL, NULL, 0) != a) abort();
    strands_error err;
    strands_status c = strands_output_schema_check(schema, &err);
    if (c == STRANDS_OK && a != STRANDS_OK) abort();
    if (a == STRANDS_OK) {
        char v[256];
        strands_status s = schema_validate(schema, schema, v, sizeof v);
        if (s != STRANDS_OK && s != STRANDS_E_INVALID) abort();
    }
    json_decref(schema);
    return 0;
}
