/* Tests for the current_time built-in and its tz database reader
 * (src/tools/builtin/current_time.c, tzfile.c): output format, UTC and
 * fixed offsets, POSIX TZ rules, synthetic TZif files (v1, v2, footers,
 * corrupt ones), zone-name safety, and the system tz database checked
 * against glibc's own localtime_r. The wall clock is frozen.            */
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>

#include "strands/clock.h"
#include "strands/tool.h"
#include "test.h"
#include "tools/builtin/builtin.h"

#define FROZEN 1795535951LL /* 2026-11-24T15:59:11Z */

static int64_t frozen_now = FROZEN;
static int64_t fake_wall(void *user)
{
    (void)user;
    return frozen_now;
}

/* Runs the tool with JSON input text (NULL: no input). Returns the text
 * result, or "error <STATUS>: <message>".                               */
static const char *now_in(const char *input)
{
    static char out[STRANDS_ERROR_MESSAGE_MAX + 32];
    strands_tool_registry *reg = strands_tool_registry_new();
    strands_error err;
    if (!reg ||
        strands_tool_registry_add_builtin(reg, "current_time", &err) != 0) {
        strands_tool_registry_free(reg);
        return "registry setup failed";
    }
    json_t *in = input ? json_loads(input, JSON_DECODE_ANY | JSON_ALLOW_NUL,
                                    NULL)
                       : NULL;
    json_t *content = NULL;
    strands_status st = strands_tool_call(
        strands_tool_registry_find(reg, "current_time"), in, NULL, &content,
        &err);
    if (st != STRANDS_OK) {
        snprintf(out, sizeof out, "error %s: %s", strands_status_name(st),
                 err.message);
    } else {
        const char *text = json_string_value(
            json_object_get(json_array_get(content, 0), "text"));
        snprintf(out, sizeof out, "%s",
                 json_array_size(content) == 1 && text ? text : "bad shape");
    }
    json_decref(content);
    json_decref(in);
    strands_tool_registry_free(reg);
    return out;
}

static int have_zone(const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "/usr/share/zoneinfo/%s", name);
    return access(path, R_OK) == 0;
}

/* ---- UTC and fixed offsets ------------------------------------------------- */

static void test_utc_default(void)
{
    frozen_now = FROZEN;
    CHECK_STR(now_in(NULL), "2026-11-24T15:59:11Z");
    CHECK_STR(now_in("{}"), "2026-11-24T15:59:11Z");
    CHECK_STR(now_in("{\"timezone\":null}"), "2026-11-24T15:59:11Z");
    CHECK_STR(now_in("{\"timezone\":\"\"}"), "2026-11-24T15:59:11Z");
    CHECK_STR(now_in("{\"timezone\":\"UTC\"}"), "2026-11-24T15:59:11Z");
    CHECK_STR(now_in("{\"timezone\":\"utc\"}"), "2026-11-24T15:59:11Z");
    CHECK_STR(now_in("{\"timezone\":\" Z \"}"), "2026-11-24T15:59:11Z");
    CHECK_STR(now_in("{\"timezone\":\"GMT\"}"), "2026-11-24T15:59:11Z");
    frozen_now = 0;
    CHECK_STR(now_in(NULL), "1970-01-01T00:00:00Z");
    frozen_now = 951782400;                          /* leap day */
    CHECK_STR(now_in(NULL), "2000-02-29T00:00:00Z");
    frozen_now = -1;
    CHECK_STR(now_in(NULL), "1969-12-31T23:59:59Z");
    frozen_now = FROZEN;
}

static void test_fixed_offsets(void)
{
    frozen_now = FROZEN;
    CHECK_STR(now_in("{\"timezone\":\"+05:30\"}"),
              "2026-11-24T21:29:11+05:30");
    CHECK_STR(now_in("{\"timezone\":\"-08:00\"}"),
              "2026-11-24T07:59:11-08:00");
    CHECK_STR(now_in("{\"timezone\":\"+0545\"}"),
              "2026-11-24T21:44:11+05:45");
    CHECK_STR(now_in("{\"timezone\":\"+9\"}"), "2026-11-25T00:59:11+09:00");
    CHECK_STR(now_in("{\"timezone\":\"-3:30\"}"),
              "2026-11-24T12:29:11-03:30");
    CHECK_STR(now_in("{\"timezone\":\"UTC+01:00\"}"),
              "2026-11-24T16:59:11+01:00");
    CHECK_STR(now_in("{\"timezone\":\"gmt-10\"}"),
              "2026-11-24T05:59:11-10:00");
    CHECK_STR(now_in("{\"timezone\":\"+00:00\"}"),
              "2026-11-24T15:59:11+00:00");
    CHECK_STR(now_in("{\"timezone\":\"+18:00\"}"),
              "2026-11-25T09:59:11+18:00");
    const char *bad[] = {"+18:01", "+25:00", "+05:60", "+5:3", "+",
                         "+123", "+05:30:00", "-1a", "UTC+"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char in[64], want[200];
        snprintf(in, sizeof in, "{\"timezone\":\"%s\"}", bad[i]);
        snprintf(want, sizeof want,
                 "error E_INVALID: invalid UTC offset '%s' (expected +HH:MM "
                 "or -HH:MM, at most 18:00)", bad[i]);
        CHECK_STR(now_in(in), want);
    }
}

static void test_input_errors(void)
{
    CHECK_STR(now_in("{\"timezone\":5}"),
              "error E_INVALID: \"timezone\" must be a string");
    CHECK_STR(now_in("[]"), "error E_INVALID: input must be a JSON object");
    CHECK_STR(now_in("\"UTC\""),
              "error E_INVALID: input must be a JSON object");
    CHECK_STR(now_in("{\"timezone\":\"Mars/Olympus_Mons\"}"),
              "error E_NOT_FOUND: unknown timezone 'Mars/Olympus_Mons' (use "
              "an IANA name such as \"America/New_York\", \"UTC\", or an "
              "offset such as \"+05:30\")");
    CHECK_STR(now_in("{\"timezone\":\"../../etc/passwd\"}"),
              "error E_NOT_FOUND: unknown timezone '../../etc/passwd' (use "
              "an IANA name such as \"America/New_York\", \"UTC\", or an "
              "offset such as \"+05:30\")");
    CHECK_STR(now_in("{\"timezone\":\"UTC\\u0000x\"}"),
              "error E_NOT_FOUND: unknown timezone (contains a NUL byte)");
    char big[400];
    snprintf(big, sizeof big, "{\"timezone\":\"%0300d\"}", 0);
    const char *r = now_in(big);
    CHECK(strncmp(r, "error E_NOT_FOUND: unknown timezone '000", 40) == 0);
    CHECK(strstr(r, "(name too long)") != NULL);

    frozen_now = INT64_MAX;
    const char *want = "error E_INTERNAL: system clock out of range";
    CHECK(strncmp(now_in(NULL), want, strlen(want)) == 0);
    frozen_now = -62167219201LL;                 /* before year 0 */
    CHECK(strncmp(now_in(NULL), want, strlen(want)) == 0);
    frozen_now = FROZEN;
}

/* ---- POSIX TZ rule strings ---------------------------------------------- */

static int32_t posix_off(const char *spec, int64_t t)
{
    int32_t off = -99999;
    if (builtin_tz_posix_offset(spec, t, &off) != 0) return -99998;
    return off;
}

static void test_posix_rules(void)
{
    const char *ny = "EST5EDT,M3.2.0,M11.1.0";
    CHECK_INT(posix_off(ny, 2530767599), -5 * 3600);   /* 2050-03-13 */
    CHECK_INT(posix_off(ny, 2530767600), -4 * 3600);
    CHECK_INT(posix_off(ny, 2551327199), -4 * 3600);   /* 2050-11-06 */
    CHECK_INT(posix_off(ny, 2551327200), -5 * 3600);
    CHECK_INT(posix_off("EST5EDT", 2540289600), -4 * 3600); /* default */

    const char *syd = "AEST-10AEDT,M10.1.0,M4.1.0/3";       /* southern */
    CHECK_INT(posix_off(syd, 2532527999), 11 * 3600);  /* 2050-04-03 */
    CHECK_INT(posix_off(syd, 2532528000), 10 * 3600);
    CHECK_INT(posix_off(syd, 2548252799), 10 * 3600);  /* 2050-10-02 */
    CHECK_INT(posix_off(syd, 2548252800), 11 * 3600);
    CHECK_INT(posix_off(syd, 2524608000), 11 * 3600);  /* 2050-01-01 */

    CHECK_INT(posix_off("IST-5:30", 0), 5 * 3600 + 1800);
    CHECK_INT(posix_off("<+0545>-5:45", FROZEN), 5 * 3600 + 45 * 60);
    CHECK_INT(posix_off("<-03>3", FROZEN), -3 * 3600);
    CHECK_INT(posix_off("UTC0", FROZEN), 0);
    CHECK_INT(posix_off("XXX-1:02:03", 0), 3723);
    /* Explicit DST offset and Julian day rules: DST from day 60 (Mar 1,
     * also in leap years with Jn) to day 300, at local 02:00.          */
    const char *jul = "AAA3BBB1,J60,J300";
    CHECK_INT(posix_off(jul, 951782400), -3 * 3600);    /* 2000-02-29 */
    CHECK_INT(posix_off(jul, 951886800 - 1), -3 * 3600);  /* 03-01 05:00Z */
    CHECK_INT(posix_off(jul, 951886800), -1 * 3600);
    /* Zero-based day numbers count Feb 29: day 59 is Feb 29 in 2000. */
    CHECK_INT(posix_off("AAA3BBB,59/0,300", 951782400 + 3 * 3600), -2 * 3600);
    CHECK_INT(posix_off("AAA3BBB,59/0,300", 951782400 + 3 * 3600 - 1),
              -3 * 3600);
    /* Whole-year DST (RFC 8536 extension: hours up to 167, negatives). */
    CHECK_INT(posix_off("EST5EDT,0/0,J365/25", FROZEN), -4 * 3600);
    CHECK_INT(posix_off("<-02>2<-01>,M3.5.0/-1,M10.5.0/0", 2540289600),
              -3600);

    const char *bad[] = {"", "E5", "EST", "EST5EDT,M3.2.0",
                         "EST5EDT,M13.1.0,M11.1.0", "EST5EDT,M3.6.0,M11.1.0",
                         "EST5EDT,M3.2.7,M11.1.0", "EST5EDT,J0,J100",
                         "EST5EDT,M3.2.0,M11.1.0x", "EST25", "<AB>1",
                         "EST5EDT,M3.2.0/168,M11.1.0"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (posix_off(bad[i], 0) != -99998)
            FAIL_AT("accepted bad TZ string \"%s\"", bad[i]);
    }
}

/* ---- synthetic TZif files ---------------------------------------------------- */

typedef struct tzbuf {
    unsigned char b[2048];
    size_t n;
} tzbuf;

static void put8(tzbuf *t, unsigned v) { t->b[t->n++] = (unsigned char)v; }
static void put32(tzbuf *t, uint32_t v)
{
    for (int s = 24; s >= 0; s -= 8) put8(t, (v >> s) & 0xff);
}
static void put64(tzbuf *t, int64_t v)
{
    put32(t, (uint32_t)((uint64_t)v >> 32));
    put32(t, (uint32_t)v);
}

typedef struct zone_spec {
    char version;              /* 0 or '2' */
    int ntimes;
    const int64_t *times;
    const unsigned char *idx;
    int ntypes;
    const int32_t *offs;
    int leaps;                 /* number of (zeroed) leap records */
    const char *footer;        /* v2 only; NULL = omit the newlines */
} zone_spec;

static void put_block(tzbuf *t, const zone_spec *z, int tsize)
{
    memcpy(t->b + t->n, "TZif", 4);
    t->n += 4;
    put8(t, (unsigned)z->version);
    for (int i = 0; i < 15; i++) put8(t, 0);
    put32(t, 0);                 /* isutcnt */
    put32(t, 0);                 /* isstdcnt */
    put32(t, (uint32_t)z->leaps);
    put32(t, (uint32_t)z->ntimes);
    put32(t, (uint32_t)z->ntypes);
    put32(t, 4);                 /* charcnt: "ZZZ\0" */
    for (int i = 0; i < z->ntimes; i++) {
        if (tsize == 4) put32(t, (uint32_t)z->times[i]);
        else put64(t, z->times[i]);
    }
    for (int i = 0; i < z->ntimes; i++) put8(t, z->idx[i]);
    for (int i = 0; i < z->ntypes; i++) {
        put32(t, (uint32_t)z->offs[i]);
        put8(t, 0);
        put8(t, 0);
    }
    memcpy(t->b + t->n, "ZZZ", 4);
    t->n += 4;
    for (int i = 0; i < z->leaps * (tsize + 4); i++) put8(t, 0);
}

static void make_zone(tzbuf *t, const zone_spec *z)
{
    t->n = 0;
    put_block(t, z, 4);
    if (z->version == 0) return;
    put_block(t, z, 8);
    if (!z->footer) return;
    put8(t, '\n');
    memcpy(t->b + t->n, z->footer, strlen(z->footer));
    t->n += strlen(z->footer);
    put8(t, '\n');
}

static const int64_t times3[] = {1000, 2000};
static const unsigned char idx3[] = {1, 2};
static const int32_t offs3[] = {3600, 7200, 10800};

static int32_t tzif_off(const tzbuf *t, int64_t at, strands_status *st)
{
    int32_t off = -99999;
    strands_error err;
    *st = builtin_tzif_offset(t->b, t->n, at, &off, &err);
    return off;
}

static void test_tzif_v1(void)
{
    zone_spec z = {0, 2, times3, idx3, 3, offs3, 0, NULL};
    tzbuf t;
    strands_status st;
    make_zone(&t, &z);
    CHECK_INT(tzif_off(&t, -5000000000LL, &st), 3600);  /* before: type 0 */
    CHECK_INT(tzif_off(&t, 999, &st), 3600);
    CHECK_INT(tzif_off(&t, 1000, &st), 7200);
    CHECK_INT(tzif_off(&t, 1999, &st), 7200);
    CHECK_INT(tzif_off(&t, 2000, &st), 10800);
    CHECK_INT(tzif_off(&t, FROZEN, &st), 10800);        /* after: last */
    CHECK_INT(st, STRANDS_OK);
}

static void test_tzif_v2_footer(void)
{
    zone_spec z = {'2', 2, times3, idx3, 3, offs3, 0, "<+04>-4"};
    tzbuf t;
    strands_status st;
    make_zone(&t, &z);
    CHECK_INT(tzif_off(&t, 1500, &st), 7200);
    CHECK_INT(tzif_off(&t, 1999, &st), 7200);
    CHECK_INT(tzif_off(&t, 2000, &st), 4 * 3600);       /* footer rule */
    CHECK_INT(tzif_off(&t, FROZEN, &st), 4 * 3600);
    CHECK_INT(st, STRANDS_OK);

    z.footer = "";                                      /* no rule */
    make_zone(&t, &z);
    CHECK_INT(tzif_off(&t, FROZEN, &st), 10800);
    CHECK_INT(st, STRANDS_OK);

    /* No transitions: the footer applies to every instant. */
    static const int32_t one[] = {-5 * 3600};
    zone_spec rule = {'2', 0, NULL, NULL, 1, one, 0,
                      "EST5EDT,M3.2.0,M11.1.0"};
    make_zone(&t, &rule);
    CHECK_INT(tzif_off(&t, 1782907200, &st), -4 * 3600);   /* July 2026 */
    CHECK_INT(tzif_off(&t, FROZEN, &st), -5 * 3600);       /* November */
    CHECK_INT(st, STRANDS_OK);
    /* Version '3' and '4' files are read the same way. */
    t.b[4] = '3';
    CHECK_INT(tzif_off(&t, 1782907200, &st), -4 * 3600);
    CHECK_INT(st, STRANDS_OK);
}

static void expect_corrupt(const tzbuf *t, const char *why)
{
    int32_t off;
    strands_error err;
    strands_error_clear(&err);
    strands_status st = builtin_tzif_offset(t->b, t->n, FROZEN, &off, &err);
    if (st != STRANDS_E_PARSE || !strstr(err.message, why))
        FAIL_AT("want E_PARSE with \"%s\", got %d \"%s\"", why, (int)st,
                err.message);
}

static void test_tzif_corrupt(void)
{
    zone_spec z = {'2', 2, times3, idx3, 3, offs3, 0, "<+04>-4"};
    tzbuf t;
    make_zone(&t, &z);
    size_t full = t.n;
    for (size_t cut = 0; cut < full; cut += 7) {   /* every truncation */
        t.n = cut;
        int32_t off;
        strands_error err;
        if (builtin_tzif_offset(t.b, t.n, FROZEN, &off, &err) == STRANDS_OK)
            FAIL_AT("truncated file (%zu of %zu bytes) accepted", cut, full);
    }
    t.n = full;
    t.b[0] = 'X';
    expect_corrupt(&t, "bad header");

    static const unsigned char bad_idx[] = {1, 3};
    zone_spec zi = z;
    zi.idx = bad_idx;
    make_zone(&t, &zi);
    expect_corrupt(&t, "bad type index");

    static const int64_t unsorted[] = {2000, 1000};
    zone_spec zu = z;
    zu.times = unsorted;
    make_zone(&t, &zu);
    expect_corrupt(&t, "unsorted transitions");

    zone_spec zl = z;
    zl.leaps = 1;
    make_zone(&t, &zl);
    expect_corrupt(&t, "leap-second zones unsupported");

    zone_spec zt = z;
    zt.ntypes = 0;
    zt.ntimes = 0;
    make_zone(&t, &zt);
    expect_corrupt(&t, "bad header");

    zone_spec zf = z;
    zf.footer = NULL;                               /* v2 without footer */
    make_zone(&t, &zf);
    expect_corrupt(&t, "footer");

    zf.footer = "not a rule";
    make_zone(&t, &zf);
    expect_corrupt(&t, "unsupported TZ rule");
    int32_t off;
    strands_error err;
    CHECK_INT(builtin_tzif_offset(t.b, t.n, 1500, &off, &err), STRANDS_OK);
    CHECK_INT(off, 7200);            /* the rule is only needed after 2000 */

    static const int32_t min_off[] = {INT32_MIN};
    zone_spec zm = {0, 0, NULL, NULL, 1, min_off, 0, NULL};
    make_zone(&t, &zm);
    expect_corrupt(&t, "bad offset");
}

/* ---- zone names and the database directory ----------------------------------- */

static void test_zone_names(void)
{
    const char *good[] = {"UTC", "America/New_York", "Etc/GMT+5",
                          "America/Argentina/Buenos_Aires", "EST5EDT",
                          "America/Port-au-Prince", "a.b"};
    const char *bad[] = {"", "/etc/passwd", "../x", "America/../../x",
                         "./UTC", "America//New_York", "America/",
                         ".hidden", "A/.x", "New York", "Europe/Zürich",
                         "a\\b", "x:y"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        if (!builtin_tz_name_ok(good[i])) FAIL_AT("rejected \"%s\"", good[i]);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (builtin_tz_name_ok(bad[i])) FAIL_AT("accepted \"%s\"", bad[i]);
    }
    CHECK(!builtin_tz_name_ok(NULL));
    char longname[300];
    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    CHECK(!builtin_tz_name_ok(longname));
    longname[BUILTIN_TZ_NAME_MAX] = '\0';
    CHECK(builtin_tz_name_ok(longname));
}

static int write_file(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    size_t w = fwrite(data, 1, n, f);
    return fclose(f) == 0 && w == n ? 0 : -1;
}

static void test_zone_dir(void)
{
    char dir[] = "/tmp/strands-tz-XXXXXX";
    if (!mkdtemp(dir)) SKIP("mkdtemp failed");
    char path[256];
    snprintf(path, sizeof path, "%s/Test", dir);
    CHECK_INT(mkdir(path, 0700), 0);
    zone_spec z = {'2', 2, times3, idx3, 3, offs3, 0, "<+0330>-3:30"};
    tzbuf t;
    make_zone(&t, &z);
    snprintf(path, sizeof path, "%s/Test/Zone", dir);
    CHECK_INT(write_file(path, t.b, t.n), 0);
    snprintf(path, sizeof path, "%s/zone.tab", dir);
    CHECK_INT(write_file(path, "# not a zone\n", 13), 0);
    make_zone(&t, &(zone_spec){'2', 1, times3, (const unsigned char[]){7},
                               3, offs3, 0, ""});
    snprintf(path, sizeof path, "%s/Bad", dir);
    CHECK_INT(write_file(path, t.b, t.n), 0);

    int32_t off = 0;
    strands_error err;
    CHECK_INT(builtin_tz_offset(dir, "Test/Zone", FROZEN, &off, &err),
              STRANDS_OK);
    CHECK_INT(off, 3 * 3600 + 1800);
    CHECK_INT(builtin_tz_offset(dir, "Test/Nope", FROZEN, &off, &err),
              STRANDS_E_NOT_FOUND);
    CHECK_STR(err.message, "unknown timezone 'Test/Nope'");
    CHECK_INT(builtin_tz_offset(dir, "Test", FROZEN, &off, &err),
              STRANDS_E_NOT_FOUND);          /* a directory */
    CHECK_INT(builtin_tz_offset(dir, "zone.tab", FROZEN, &off, &err),
              STRANDS_E_NOT_FOUND);          /* not TZif */
    CHECK_INT(builtin_tz_offset(dir, "Bad", FROZEN, &off, &err),
              STRANDS_E_PARSE);
    CHECK_STR(err.message, "timezone 'Bad': unsupported or corrupt tz "
                           "database file (bad type index)");
    CHECK_INT(builtin_tz_offset(dir, "../x", FROZEN, &off, &err),
              STRANDS_E_NOT_FOUND);

    /* The tool reads $TZDIR when it is set. */
    frozen_now = FROZEN;
    setenv("TZDIR", dir, 1);
    CHECK_STR(now_in("{\"timezone\":\"Test/Zone\"}"),
              "2026-11-24T19:29:11+03:30");
    CHECK_STR(now_in("{\"timezone\":\"Bad\"}"),
              "error E_PARSE: timezone 'Bad': unsupported or corrupt tz "
              "database file (bad type index)");
    unsetenv("TZDIR");

    snprintf(path, sizeof path, "%s/Test/Zone", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/Test", dir);
    rmdir(path);
    snprintf(path, sizeof path, "%s/zone.tab", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/Bad", dir);
    unlink(path);
    rmdir(dir);
}

/* ---- the system tz database ---------------------------------------------------- */

static void test_system_zones(void)
{
    if (!have_zone("America/New_York") || !have_zone("Asia/Kathmandu") ||
        !have_zone("Australia/Sydney"))
        SKIP("system tz database (/usr/share/zoneinfo) not installed");
    frozen_now = FROZEN;
    CHECK_STR(now_in("{\"timezone\":\"America/New_York\"}"),
              "2026-11-24T10:59:11-05:00");
    CHECK_STR(now_in("{\"timezone\":\"Asia/Kathmandu\"}"),
              "2026-11-24T21:44:11+05:45");
    CHECK_STR(now_in("{\"timezone\":\"Australia/Sydney\"}"),
              "2026-11-25T02:59:11+11:00");
    frozen_now = 1782907200;                        /* 2026-07-01 12:00Z */
    CHECK_STR(now_in("{\"timezone\":\"America/New_York\"}"),
              "2026-07-01T08:00:00-04:00");
    CHECK_STR(now_in("{\"timezone\":\"Australia/Sydney\"}"),
              "2026-07-01T22:00:00+10:00");
    /* Around the 2026 spring-forward transition. */
    frozen_now = 1772953199;
    CHECK_STR(now_in("{\"timezone\":\"America/New_York\"}"),
              "2026-03-08T01:59:59-05:00");
    frozen_now = 1772953200;
    CHECK_STR(now_in("{\"timezone\":\"America/New_York\"}"),
              "2026-03-08T03:00:00-04:00");
    /* 2050 lies past the file's transitions: the footer rule decides. */
    frozen_now = 2551327199;
    CHECK_STR(now_in("{\"timezone\":\"America/New_York\"}"),
              "2050-11-06T01:59:59-04:00");
    frozen_now = 2551327200;
    CHECK_STR(now_in("{\"timezone\":\"America/New_York\"}"),
              "2050-11-06T01:00:00-05:00");
    frozen_now = FROZEN;
}

/* Compares builtin_tzif_offset with glibc's localtime_r (TZ set in this
 * single-threaded test) for many zones and instants, 1900 to 2100.     */
static void test_matches_glibc(void)
{
    static const char *zones[] = {
        "America/New_York", "Europe/London", "Europe/Dublin",
        "Australia/Sydney", "Australia/Lord_Howe", "Asia/Kolkata",
        "America/Sao_Paulo", "Pacific/Chatham", "Africa/Casablanca",
        "America/St_Johns", "Asia/Tehran", "Pacific/Apia",
        "Antarctica/Troll", "America/Santiago", "Europe/Moscow",
        "Pacific/Kiritimati", "America/Godthab", "UTC"};
    int compared = 0;
    for (size_t z = 0; z < sizeof zones / sizeof zones[0]; z++) {
        if (!have_zone(zones[z])) continue;
        char tzvar[128], path[256];
        snprintf(tzvar, sizeof tzvar, ":%s", zones[z]);
        snprintf(path, sizeof path, "/usr/share/zoneinfo/%s", zones[z]);
        size_t len = 0;
        unsigned char *data = (unsigned char *)test_read_file(path, &len);
        if (!data) continue;
        setenv("TZ", tzvar, 1);
        tzset();
        int bad = 0;
        /* Step 7.3 days (odd, so hours and weekdays vary) plus edges. */
        for (int64_t t = -2208988800LL; t < 4102444800LL && bad < 3;
             t += 630719) {
            for (int64_t d = -1; d <= 1; d++) {
                time_t tt = (time_t)(t + d * 3599);
                struct tm tm;
                localtime_r(&tt, &tm);
                int32_t off = 0;
                strands_error err;
                strands_status st =
                    builtin_tzif_offset(data, len, (int64_t)tt, &off, &err);
                compared++;
                if (st != STRANDS_OK || off != tm.tm_gmtoff) {
                    FAIL_AT("%s at %lld: got %d (%s), glibc %ld", zones[z],
                            (long long)tt, (int)off, err.message,
                            tm.tm_gmtoff);
                    bad++;
                }
            }
        }
        free(data);
    }
    unsetenv("TZ");
    tzset();
    if (compared == 0) SKIP("system tz database not installed");
}

int main(void)
{
    strands_clock_set_wall(fake_wall, NULL);
    RUN(test_utc_default);
    RUN(test_fixed_offsets);
    RUN(test_input_errors);
    RUN(test_posix_rules);
    RUN(test_tzif_v1);
    RUN(test_tzif_v2_footer);
    RUN(test_tzif_corrupt);
    RUN(test_zone_names);
    RUN(test_zone_dir);
    RUN(test_system_zones);
    RUN(test_matches_glibc);
    strands_clock_set_wall(NULL, NULL);
    return test_report();
}
