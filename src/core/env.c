/* The environment reader (see core/env.h). */
#include <stdlib.h>

#include "core/env.h"

const char *core_getenv(strands_getenv_fn *fn, void *user, const char *name)
{
    return fn ? fn(user, name) : getenv(name);
}
