/* Absolute deadlines for timed waits (see core/abstime.h). */
#include "core/abstime.h"

void core_abstime_after_ms(clockid_t clock, int64_t ms, struct timespec *ts)
{
    clock_gettime(clock, ts);
    if (ms < 0) ms = 0;
    ts->tv_sec += (time_t)(ms / 1000);
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}
