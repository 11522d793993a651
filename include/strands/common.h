/* Export macro and basic shared declarations for the public strands API. */
#ifndef STRANDS_COMMON_H
#define STRANDS_COMMON_H

#define STRANDS_EXTERN __attribute__((visibility("default")))

#endif
