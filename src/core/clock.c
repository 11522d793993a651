/* Wall and monotonic clocks with a test override for the wall clock. */
#include <stdio.h>
#include <time.h>

#include "strands/clock.h"

static strands_wall_fn *wall_override;
static void *wall_user;

int64_t strands_clock_wall(void)
{
    if (wall_override) return wall_override(wall_user);
    return (int64_t)time(NULL);
}

int64_t strands_clock_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void strands_clock_set_wall(strands_wall_fn *fn, void *user)
{
    wall_override = fn;
    wall_user = user;
}

void strands_clock_iso8601(int64_t unix_s, int ms, char *out,
                           unsigned long outsz)
{
    time_t t = (time_t)unix_s;
    struct tm tm;
    gmtime_r(&t, &tm);
    snprintf(out, outsz, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
             tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
             tm.tm_min, tm.tm_sec, ms);
}
