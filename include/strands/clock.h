/* Time sources used by the library, replaceable for deterministic tests:
 * wall-clock seconds (signing dates, expiry) and a monotonic millisecond
 * clock (durations, deadlines, TTLs).                                     */
#ifndef STRANDS_CLOCK_H
#define STRANDS_CLOCK_H

#include <stdint.h>
#include "strands/common.h"

/** Wall-clock time in Unix seconds. */
typedef int64_t strands_wall_fn(void *user);

/** Current wall-clock time (the override when one is set). */
STRANDS_EXTERN int64_t strands_clock_wall(void);
/** Monotonic milliseconds since an arbitrary point (never overridden). */
STRANDS_EXTERN int64_t strands_clock_mono_ms(void);
/** Installs a wall-clock override for tests; fn NULL restores the system
 * clock. Not thread-safe against concurrent readers: call before start.  */
STRANDS_EXTERN void strands_clock_set_wall(strands_wall_fn *fn, void *user);
/** Formats a Unix time as ISO-8601 UTC with milliseconds into out (>= 25
 * bytes): "2026-01-01T00:00:00.000Z". ms is 0..999.                      */
STRANDS_EXTERN void strands_clock_iso8601(int64_t unix_s, int ms, char *out,
                                          unsigned long outsz);

#endif
