/* Model-interface helpers shared by every provider: freeing, response
 * cleanup, the names of the provider-neutral stop reasons and the
 * recognition of context-window overflow messages.                     */
#include <stdlib.h>
#include <string.h>

#include "strands/model.h"

void strands_model_free(strands_model *m)
{
    if (m) m->vtab->destroy(m);
}

void strands_model_response_cleanup(strands_model_response *r)
{
    json_decref(r->message);
    free(r->redact_input);
    memset(r, 0, sizeof *r);
}

const char *strands_stop_reason_name(strands_stop_reason r)
{
    switch (r) {
#define X(name, api, label) case STRANDS_STOP_##name: return api;
        STRANDS_STOP_REASON_MAP(X)
#undef X
    }
    return "EndTurn";
}

const char *strands_stop_reason_label(strands_stop_reason r)
{
    switch (r) {
#define X(name, api, label) case STRANDS_STOP_##name: return label;
        STRANDS_STOP_REASON_MAP(X)
#undef X
    }
    return "end_turn";
}

int strands_model_overflow_message(const char *msg)
{
    /* Bedrock's wordings (the Strands SDKs recognise the same four). */
    static const char *const known[] = {
        "Input is too long for requested model",
        "input length and `max_tokens` exceed context limit",
        "too many total text bytes",
        "prompt is too long",
    };
    if (!msg) return 0;
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (strstr(msg, known[i])) return 1;
    return 0;
}
