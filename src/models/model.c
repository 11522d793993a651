/* Model-interface helpers shared by every provider: freeing, response
 * cleanup and the names of the provider-neutral stop reasons.          */
#include <string.h>

#include "strands/model.h"

void strands_model_free(strands_model *m)
{
    if (m) m->vtab->destroy(m);
}

void strands_model_response_cleanup(strands_model_response *r)
{
    json_decref(r->message);
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
