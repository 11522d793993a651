/* Small utilities of the public API: random identifiers. */
#ifndef STRANDS_UTIL_H
#define STRANDS_UTIL_H

#include "strands/common.h"

/** Writes a random (version 4) UUID, 36 chars + NUL, into out. */
STRANDS_EXTERN void strands_uuid4(char out[37]);

#endif
