/* Time-zone offsets from the system tz database without touching TZ or
 * any libc time-zone state (so it is safe on any thread): a reader for
 * TZif files (RFC 8536, versions 1-4) and an evaluator for the POSIX TZ
 * rule string in their footer. Used by the current_time built-in.       */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tools/builtin/builtin.h"

#define TZIF_MAX_FILE (256 * 1024)
#define TZIF_HEADER 44

/* ---- calendar arithmetic (proleptic Gregorian, days since 1970-01-01) --- */

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = floor_div(y, 400);
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int64_t year_of_days(int64_t days)
{
    int64_t z = days + 719468;
    int64_t era = floor_div(z, 146097);
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    return yoe + era * 400 + (mp >= 10);
}

static int is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int month_days(int64_t y, int m)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return days[m - 1] + (m == 2 && is_leap(y));
}

/* ---- POSIX TZ rule strings --------------------------------------------- */

typedef struct tz_date {
    char kind;       /* 'J' (1..365, no Feb 29), 'D' (0..365), 'M' */
    int n, m, w, d;  /* day number; or month, week 1-5, weekday 0-6 */
    int32_t time;    /* seconds after local midnight, may be negative */
} tz_date;

typedef struct tz_rule {
    int32_t std_off;  /* seconds east of UTC */
    int32_t dst_off;
    int has_dst;
    tz_date start, end;
} tz_rule;

static int parse_int(const char **s, int lo, int hi, int *out)
{
    const char *p = *s;
    int v = 0, digits = 0;
    while (*p >= '0' && *p <= '9' && digits < 4) {
        v = v * 10 + (*p++ - '0');
        digits++;
    }
    if (digits == 0 || v < lo || v > hi) return -1;
    *s = p;
    *out = v;
    return 0;
}

/* [+-]hh[:mm[:ss]] as signed seconds. */
static int parse_hms(const char **s, int max_hours, int32_t *out)
{
    int sign = 1, h, m = 0, sec = 0;
    if (**s == '+' || **s == '-') sign = *(*s)++ == '-' ? -1 : 1;
    if (parse_int(s, 0, max_hours, &h) != 0) return -1;
    if (**s == ':') {
        (*s)++;
        if (parse_int(s, 0, 59, &m) != 0) return -1;
        if (**s == ':') {
            (*s)++;
            if (parse_int(s, 0, 59, &sec) != 0) return -1;
        }
    }
    *out = sign * (h * 3600 + m * 60 + sec);
    return 0;
}

static int parse_zone_name(const char **s)
{
    const char *p = *s;
    size_t n = 0;
    if (*p == '<') {
        p++;
        while ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
               (*p >= '0' && *p <= '9') || *p == '+' || *p == '-')
            p++, n++;
        if (*p++ != '>') return -1;
    } else {
        while ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z'))
            p++, n++;
    }
    if (n < 3) return -1;
    *s = p;
    return 0;
}

static int parse_date(const char **s, tz_date *d)
{
    d->time = 7200;                       /* default 02:00:00 */
    if (**s == 'J') {
        (*s)++;
        d->kind = 'J';
        if (parse_int(s, 1, 365, &d->n) != 0) return -1;
    } else if (**s == 'M') {
        (*s)++;
        d->kind = 'M';
        if (parse_int(s, 1, 12, &d->m) != 0 || *(*s)++ != '.' ||
            parse_int(s, 1, 5, &d->w) != 0 || *(*s)++ != '.' ||
            parse_int(s, 0, 6, &d->d) != 0)
            return -1;
    } else {
        d->kind = 'D';
        if (parse_int(s, 0, 365, &d->n) != 0) return -1;
    }
    if (**s == '/') {
        (*s)++;
        if (parse_hms(s, 167, &d->time) != 0) return -1;  /* RFC 8536 */
    }
    return 0;
}

static int parse_rule(const char *spec, tz_rule *r)
{
    const char *s = spec;
    int32_t off;
    memset(r, 0, sizeof *r);
    if (parse_zone_name(&s) != 0 || parse_hms(&s, 24, &off) != 0) return -1;
    r->std_off = -off;                    /* POSIX offsets count westward */
    if (*s == '\0') return 0;
    if (parse_zone_name(&s) != 0) return -1;
    r->has_dst = 1;
    r->dst_off = r->std_off + 3600;
    if (*s != ',' && *s != '\0') {
        if (parse_hms(&s, 24, &off) != 0) return -1;
        r->dst_off = -off;
    }
    if (*s == '\0') s = ",M3.2.0,M11.1.0"; /* the POSIX default rule */
    if (*s++ != ',' || parse_date(&s, &r->start) != 0 || *s++ != ',' ||
        parse_date(&s, &r->end) != 0)
        return -1;
    return *s == '\0' ? 0 : -1;
}

/* Days since the epoch of the local date a rule designates in year y. */
static int64_t rule_day(const tz_date *d, int64_t y)
{
    int64_t jan1 = days_from_civil(y, 1, 1);
    if (d->kind == 'J') return jan1 + d->n - 1 + (is_leap(y) && d->n >= 60);
    if (d->kind == 'D') return jan1 + d->n;
    int64_t first = days_from_civil(y, d->m, 1);
    int64_t wday = (first % 7 + 7 + 4) % 7;          /* 1970-01-01: Thu */
    int64_t day = first + (d->d - wday + 7) % 7 + 7 * (d->w - 1);
    while (day >= first + month_days(y, d->m)) day -= 7;
    return day;
}

static int32_t rule_offset(const tz_rule *r, int64_t t)
{
    if (!r->has_dst) return r->std_off;
    int64_t y = year_of_days(floor_div(t + r->std_off, 86400));
    int64_t best = INT64_MIN;
    int32_t off = r->std_off;
    for (int64_t yy = y - 1; yy <= y + 1; yy++) {
        /* DST starts at local standard time and ends at local DST time. */
        int64_t start = rule_day(&r->start, yy) * 86400 + r->start.time -
                        r->std_off;
        int64_t end = rule_day(&r->end, yy) * 86400 + r->end.time -
                      r->dst_off;
        if (start <= t && start >= best) best = start, off = r->dst_off;
        if (end <= t && end > best) best = end, off = r->std_off;
    }
    return off;
}

int builtin_tz_posix_offset(const char *spec, int64_t t, int32_t *utoff_out)
{
    tz_rule r;
    if (!spec || parse_rule(spec, &r) != 0) return -1;
    *utoff_out = rule_offset(&r, t);
    return 0;
}

/* ---- TZif files ----------------------------------------------------------- */

typedef struct tzif_counts {
    uint32_t isut, isstd, leap, time, type, chars;
} tzif_counts;

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
           (uint32_t)p[2] << 8 | p[3];
}

static int64_t be_time(const unsigned char *p, size_t size)
{
    if (size == 4) return (int32_t)be32(p);
    uint64_t v = (uint64_t)be32(p) << 32 | be32(p + 4);
    return (int64_t)v;
}

static int read_header(const unsigned char *d, size_t len, tzif_counts *c)
{
    if (len < TZIF_HEADER || memcmp(d, "TZif", 4) != 0) return -1;
    c->isut = be32(d + 20);
    c->isstd = be32(d + 24);
    c->leap = be32(d + 28);
    c->time = be32(d + 32);
    c->type = be32(d + 36);
    c->chars = be32(d + 40);
    if (c->type == 0 || c->chars == 0) return -1;
    if ((c->isut != 0 && c->isut != c->type) ||
        (c->isstd != 0 && c->isstd != c->type))
        return -1;
    return 0;
}

static uint64_t block_size(const tzif_counts *c, size_t tsize)
{
    return (uint64_t)c->time * (tsize + 1) + (uint64_t)c->type * 6 +
           c->chars + (uint64_t)c->leap * (tsize + 4) + c->isstd + c->isut;
}

static strands_status corrupt(strands_error *err, const char *why)
{
    return strands_error_set(err, STRANDS_E_PARSE, NULL,
                             "unsupported or corrupt tz database file (%s)",
                             why);
}

/* Offset of local time type i (ttinfo records start at types). */
static int32_t type_offset(const unsigned char *types, uint32_t i)
{
    return (int32_t)be32(types + 6 * (size_t)i);
}

strands_status builtin_tzif_offset(const unsigned char *data, size_t len,
                                   int64_t t, int32_t *utoff_out,
                                   strands_error *err)
{
    tzif_counts c;
    if (read_header(data, len, &c) != 0) return corrupt(err, "bad header");
    size_t tsize = 4;
    const unsigned char *d = data + TZIF_HEADER;
    size_t left = len - TZIF_HEADER;
    if (data[4] >= '2') {                 /* skip the 32-bit block */
        uint64_t skip = block_size(&c, 4);
        if (skip > left) return corrupt(err, "truncated");
        d += skip;
        left -= skip;
        if (read_header(d, left, &c) != 0) return corrupt(err, "bad header");
        d += TZIF_HEADER;
        left -= TZIF_HEADER;
        tsize = 8;
    }
    if (block_size(&c, tsize) > left) return corrupt(err, "truncated");
    if (c.leap != 0) return corrupt(err, "leap-second zones unsupported");

    const unsigned char *times = d;
    const unsigned char *idx = times + (size_t)c.time * tsize;
    const unsigned char *types = idx + c.time;
    for (uint32_t i = 0; i < c.type; i++) {
        if (type_offset(types, i) == INT32_MIN)
            return corrupt(err, "bad offset");
    }
    for (uint32_t i = 0; i < c.time; i++) {
        if (idx[i] >= c.type) return corrupt(err, "bad type index");
        if (i > 0 && be_time(times + i * tsize, tsize) <=
                         be_time(times + (i - 1) * tsize, tsize))
            return corrupt(err, "unsorted transitions");
    }

    /* The footer (v2+) holds the rule for instants after the last
     * transition, or for all instants when there are none.            */
    char footer[256] = "";
    if (tsize == 8) {
        const unsigned char *f = d + block_size(&c, 8);
        size_t flen = (size_t)(data + len - f);
        const unsigned char *nl = flen > 1 ? memchr(f + 1, '\n', flen - 1)
                                           : NULL;
        if (flen < 2 || f[0] != '\n' || !nl) return corrupt(err, "footer");
        size_t n = (size_t)(nl - f - 1);
        if (n >= sizeof footer) return corrupt(err, "footer too long");
        memcpy(footer, f + 1, n);
        footer[n] = '\0';
    }

    int after_last = c.time == 0 ||
                     t >= be_time(times + (size_t)(c.time - 1) * tsize, tsize);
    if (after_last && footer[0]) {
        if (builtin_tz_posix_offset(footer, t, utoff_out) != 0)
            return corrupt(err, "unsupported TZ rule");
        return STRANDS_OK;
    }
    if (c.time == 0 || t < be_time(times, tsize)) {
        *utoff_out = type_offset(types, 0);
        return STRANDS_OK;
    }
    size_t lo = 0, hi = c.time;           /* last transition <= t */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (be_time(times + mid * tsize, tsize) <= t) lo = mid;
        else hi = mid;
    }
    *utoff_out = type_offset(types, idx[lo]);
    return STRANDS_OK;
}

/* ---- the database directory ------------------------------------------------ */

int builtin_tz_name_ok(const char *name)
{
    if (!name || !name[0]) return 0;
    size_t n = strlen(name);
    if (n > BUILTIN_TZ_NAME_MAX) return 0;
    int at_start = 1;
    for (size_t i = 0; i < n; i++) {
        char ch = name[i];
        if (ch == '/') {
            if (at_start) return 0;       /* leading '/' or "//" */
            at_start = 1;
            continue;
        }
        if (at_start && ch == '.') return 0;   /* ".", "..", hidden */
        at_start = 0;
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
              (ch >= '0' && ch <= '9') || ch == '_' || ch == '-' ||
              ch == '+' || ch == '.'))
            return 0;
    }
    return !at_start;                     /* no trailing '/' */
}

static strands_status not_found(strands_error *err, const char *name)
{
    return strands_error_set(err, STRANDS_E_NOT_FOUND, NULL,
                             "unknown timezone '%.64s'", name);
}

/* Reads a whole regular file of at most TZIF_MAX_FILE bytes. */
static strands_status read_zone_file(const char *path, const char *name,
                                     unsigned char **out, size_t *len_out,
                                     strands_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return not_found(err, name);
    struct stat stbuf;
    if (fstat(fd, &stbuf) != 0 || !S_ISREG(stbuf.st_mode)) {
        close(fd);
        return not_found(err, name);
    }
    if (stbuf.st_size > TZIF_MAX_FILE) {
        close(fd);
        return strands_error_set(err, STRANDS_E_TOO_LARGE, NULL,
                                 "tz database file for '%.64s' is too large",
                                 name);
    }
    size_t cap = (size_t)stbuf.st_size, len = 0;
    unsigned char *buf = malloc(cap ? cap : 1);
    if (!buf) {
        close(fd);
        return strands_error_set(err, STRANDS_E_NOMEM, NULL, "out of memory");
    }
    while (len < cap) {
        ssize_t n = read(fd, buf + len, cap - len);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        len += (size_t)n;
    }
    close(fd);
    *out = buf;
    *len_out = len;
    return STRANDS_OK;
}

strands_status builtin_tz_offset(const char *dir, const char *name,
                                 int64_t t, int32_t *utoff_out,
                                 strands_error *err)
{
    if (!dir || !builtin_tz_name_ok(name))
        return not_found(err, name ? name : "(null)");
    char path[4096];
    int n = snprintf(path, sizeof path, "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= sizeof path) return not_found(err, name);
    unsigned char *data = NULL;
    size_t len = 0;
    strands_status st = read_zone_file(path, name, &data, &len, err);
    if (st != STRANDS_OK) return st;
    if (len < 4 || memcmp(data, "TZif", 4) != 0)
        st = not_found(err, name);        /* e.g. zone.tab, tzdata.zi */
    else
        st = builtin_tzif_offset(data, len, t, utoff_out, err);
    free(data);
    if (st == STRANDS_E_PARSE && err) {
        char why[STRANDS_ERROR_MESSAGE_MAX];
        snprintf(why, sizeof why, "%s", err->message);
        strands_error_set(err, st, NULL, "timezone '%.64s': %s", name, why);
    }
    return st;
}
