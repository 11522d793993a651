/* The one reader of the process environment. Library code never calls
 * getenv() itself: it takes a lookup function (strands_getenv_fn, so tests
 * and embedders can supply their own table) and falls back to this.      */
#ifndef STRANDS_CORE_ENV_H
#define STRANDS_CORE_ENV_H

#include "strands/config.h"

/** Looks `name` up through fn(user, name), or in the process environment
 * when fn is NULL. Returns the value (borrowed; valid until the
 * environment changes) or NULL when unset.                               */
const char *core_getenv(strands_getenv_fn *fn, void *user, const char *name);

#endif
