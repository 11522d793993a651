/* Absolute deadlines for the timed waits of pthreads (cond_timedwait,
 * timedjoin): "now + ms" on a given clock, as a struct timespec.       */
#ifndef STRANDS_CORE_ABSTIME_H
#define STRANDS_CORE_ABSTIME_H

#include <stdint.h>
#include <time.h>

/** Writes clock's current time plus ms milliseconds (negative: 0) into
 * *ts, normalised (0 <= tv_nsec < 1e9).                                 */
void core_abstime_after_ms(clockid_t clock, int64_t ms, struct timespec *ts);

#endif
