/* Built-in tool `current_time`: the current time (strands_clock_wall) as
 * ISO-8601 text, in UTC ("...Z") by default, at a fixed UTC offset
 * ("+05:30") or in an IANA zone read from the tz database under $TZDIR or
 * /usr/share/zoneinfo (tzfile.c; no TZ/localtime state, so thread-safe). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "strands/clock.h"
#include "core/env.h"
#include "tools/builtin/builtin.h"

#define ZONEINFO_DIR "/usr/share/zoneinfo"
#define MAX_FIXED_OFFSET (18 * 3600)
/* Years 0000..9999, the range ISO-8601 text covers without extension. */
#define MIN_TIME (-62167219200LL)
#define MAX_TIME (253402300799LL)

static const char *zoneinfo_dir(void)
{
    const char *dir = core_getenv(NULL, NULL, "TZDIR");   /* read-only: no setenv anywhere */
    return dir && dir[0] ? dir : ZONEINFO_DIR;
}

static int is_utc_alias(const char *z)
{
    return strcasecmp(z, "UTC") == 0 || strcasecmp(z, "Z") == 0 ||
           strcasecmp(z, "GMT") == 0;
}

static int digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return 0;
    }
    return 1;
}

/* Parses [UTC|GMT](+|-)H[H][[:]MM] into seconds east of UTC. Returns 1 on
 * success, 0 when z is not offset syntax at all, -1 when it looks like an
 * offset but is malformed or beyond +-18:00.                           */
static int parse_fixed_offset(const char *z, int32_t *out)
{
    if (strncasecmp(z, "UTC", 3) == 0 || strncasecmp(z, "GMT", 3) == 0)
        z += 3;
    if (*z != '+' && *z != '-') return 0;
    int sign = *z++ == '-' ? -1 : 1;
    size_t n = strlen(z);
    int h, m = 0;
    if ((n == 1 || n == 2) && digits(z, n)) {
        h = n == 1 ? z[0] - '0' : (z[0] - '0') * 10 + (z[1] - '0');
    } else if (n == 4 && digits(z, 4)) {
        h = (z[0] - '0') * 10 + (z[1] - '0');
        m = (z[2] - '0') * 10 + (z[3] - '0');
    } else if ((n == 4 || n == 5) && z[n - 3] == ':' && digits(z, n - 3) &&
               digits(z + n - 2, 2)) {
        h = n == 4 ? z[0] - '0' : (z[0] - '0') * 10 + (z[1] - '0');
        m = (z[n - 2] - '0') * 10 + (z[n - 1] - '0');
    } else {
        return -1;
    }
    if (m > 59 || h * 3600 + m * 60 > MAX_FIXED_OFFSET) return -1;
    *out = sign * (h * 3600 + m * 60);
    return 1;
}

/* "YYYY-MM-DDTHH:MM:SS" plus "Z" (utc_z) or the offset "+HH:MM". */
static void format_time(int64_t t, int32_t off, int utc_z, char *out,
                        size_t outsz)
{
    time_t local = (time_t)(t + off);
    struct tm tm;
    gmtime_r(&local, &tm);
    int n = snprintf(out, outsz, "%04d-%02d-%02dT%02d:%02d:%02d",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                     tm.tm_min, tm.tm_sec);
    if (n < 0 || (size_t)n >= outsz) return;
    out += n;
    outsz -= (size_t)n;
    if (utc_z) {
        snprintf(out, outsz, "Z");
        return;
    }
    char sign = off < 0 ? '-' : '+';
    int32_t a = off < 0 ? -off : off;
    if (a % 60)
        snprintf(out, outsz, "%c%02d:%02d:%02d", sign, (int)(a / 3600),
                 (int)(a / 60 % 60), (int)(a % 60));
    else
        snprintf(out, outsz, "%c%02d:%02d", sign, (int)(a / 3600),
                 (int)(a / 60 % 60));
}

/* Copies the timezone argument without surrounding blanks; "" = UTC. */
static strands_status read_zone_arg(const json_t *input, char *zone,
                                    size_t zsz, strands_error *err)
{
    zone[0] = '\0';
    if (!input || json_is_null(input)) return STRANDS_OK;
    if (!json_is_object(input))
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "input must be a JSON object");
    const json_t *tz = json_object_get(input, "timezone");
    if (!tz || json_is_null(tz)) return STRANDS_OK;
    if (!json_is_string(tz))
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "\"timezone\" must be a string");
    const char *s = json_string_value(tz);
    size_t n = json_string_length(tz);
    if (strlen(s) != n)
        return strands_error_set(err, STRANDS_E_NOT_FOUND, NULL,
                                 "unknown timezone (contains a NUL byte)");
    while (n && (*s == ' ' || *s == '\t')) s++, n--;
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t')) n--;
    if (n >= zsz)
        return strands_error_set(err, STRANDS_E_NOT_FOUND, NULL,
                                 "unknown timezone '%.64s...' (name too long)",
                                 s);
    memcpy(zone, s, n);
    zone[n] = '\0';
    return STRANDS_OK;
}

static strands_status zone_offset(const char *zone, int64_t now,
                                  int32_t *off, int *utc_z,
                                  strands_error *err)
{
    *off = 0;
    *utc_z = zone[0] == '\0' || is_utc_alias(zone);
    if (*utc_z) return STRANDS_OK;
    int fixed = parse_fixed_offset(zone, off);
    if (fixed == 1) return STRANDS_OK;
    if (fixed < 0)
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "invalid UTC offset '%.64s' (expected "
                                 "+HH:MM or -HH:MM, at most 18:00)", zone);
    strands_status st = builtin_tz_offset(zoneinfo_dir(), zone, now, off, err);
    if (st == STRANDS_E_NOT_FOUND)
        strands_error_set(err, st, NULL,
                          "unknown timezone '%.64s' (use an IANA name such "
                          "as \"America/New_York\", \"UTC\", or an offset "
                          "such as \"+05:30\")", zone);
    return st;
}

static strands_status current_time_run(void *user, const json_t *input,
                                       const strands_tool_context *ctx,
                                       json_t **content_out,
                                       strands_error *err)
{
    (void)user;
    (void)ctx;
    char zone[BUILTIN_TZ_NAME_MAX + 1];
    strands_status st = read_zone_arg(input, zone, sizeof zone, err);
    if (st != STRANDS_OK) return st;
    int64_t now = strands_clock_wall();
    if (now < MIN_TIME || now > MAX_TIME)
        return strands_error_set(err, STRANDS_E_INTERNAL, NULL,
                                 "system clock out of range (%lld)",
                                 (long long)now);
    int32_t off;
    int utc_z;
    st = zone_offset(zone, now, &off, &utc_z, err);
    if (st != STRANDS_OK) return st;
    char text[48];
    format_time(now, off, utc_z, text, sizeof text);
    *content_out = json_pack("[{s:s}]", "text", text);
    if (!*content_out)
        return strands_error_set(err, STRANDS_E_NOMEM, NULL,
                                 "out of memory");
    return STRANDS_OK;
}

const strands_tool_def builtin_current_time = {
    .name = "current_time",
    .description =
        "Returns the current date and time as ISO-8601 text, e.g. "
        "\"2026-11-24T15:59:11Z\" in UTC (the default) or "
        "\"2026-11-24T10:59:11-05:00\" for \"America/New_York\".",
    .input_schema_json =
        "{\"type\":\"object\",\"properties\":{\"timezone\":{"
        "\"type\":\"string\",\"description\":\"Optional. An IANA time zone "
        "name such as \\\"America/New_York\\\", \\\"UTC\\\", or a fixed "
        "offset such as \\\"+05:30\\\". Defaults to UTC.\"}}}",
    .run = current_time_run,
};
