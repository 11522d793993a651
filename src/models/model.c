/* Model-interface helpers shared by every provider. */
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
