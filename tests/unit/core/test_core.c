/* Tests for the core helpers: the capped buffer (src/core/buf.h), status
 * names/descriptions/HTTP mapping and strands_error (strands/status.h),
 * ISO-8601 formatting and the wall-clock override (strands/clock.h), log
 * levels and the sink (strands/log.h) and strands_uuid4 (strands/util.h). */
#include <time.h>

#include "core/buf.h"
#include "strands/clock.h"
#include "strands/log.h"
#include "strands/status.h"
#include "strands/util.h"
#include "test.h"

/* ---- dynbuf ------------------------------------------------------ */

static void test_buf_empty(void)
{
    dynbuf b;
    dynbuf_init(&b, 16);
    CHECK(b.data == NULL);
    CHECK_INT(b.len, 0);
    CHECK_INT(b.max, 16);
    CHECK_STR(dynbuf_str(&b), "");
    size_t len = 99;
    char *s = dynbuf_take(&b, &len);
    CHECK(s != NULL);
    CHECK_STR(s, "");
    CHECK_INT(len, 0);
    free(s);
    /* Appending nothing to an empty buffer still yields a string. */
    CHECK_INT(dynbuf_append(&b, "", 0), STRANDS_OK);
    CHECK_STR(dynbuf_str(&b), "");
    CHECK(b.data != NULL);
    dynbuf_cleanup(&b);
    CHECK(b.data == NULL);
    CHECK_INT(b.max, 16);
}

static void test_buf_exact_limit(void)
{
    dynbuf b;
    dynbuf_init(&b, 10);
    CHECK_INT(dynbuf_append(&b, "0123", 4), STRANDS_OK);
    CHECK_INT(dynbuf_puts(&b, "456789"), STRANDS_OK);
    CHECK_INT(b.len, 10);
    CHECK_STR(dynbuf_str(&b), "0123456789");
    /* Zero bytes at the limit is fine; one more byte is not. */
    CHECK_INT(dynbuf_append(&b, "x", 0), STRANDS_OK);
    CHECK_INT(dynbuf_append(&b, "x", 1), STRANDS_E_TOO_LARGE);
    CHECK(b.data == NULL);
    CHECK_INT(b.len, 0);
    CHECK_INT(b.cap, 0);
    CHECK_STR(dynbuf_str(&b), "");
    /* The buffer is reusable after the failure and keeps its cap. */
    CHECK_INT(dynbuf_puts(&b, "ok"), STRANDS_OK);
    CHECK_STR(dynbuf_str(&b), "ok");
    dynbuf_cleanup(&b);
}

static void test_buf_one_over_in_one_append(void)
{
    char big[11];
    memset(big, 'a', sizeof big);
    dynbuf b;
    dynbuf_init(&b, 10);
    CHECK_INT(dynbuf_append(&b, big, 10), STRANDS_OK);
    dynbuf_cleanup(&b);
    CHECK_INT(dynbuf_append(&b, big, 11), STRANDS_E_TOO_LARGE);
    CHECK(b.data == NULL);
    /* A huge length must not wrap around the size check. */
    CHECK_INT(dynbuf_puts(&b, "abc"), STRANDS_OK);
    CHECK_INT(dynbuf_append(&b, big, SIZE_MAX), STRANDS_E_TOO_LARGE);
    CHECK(b.data == NULL);
    CHECK_INT(b.len, 0);
}

static void test_buf_growth_keeps_data(void)
{
    dynbuf b;
    dynbuf_init(&b, 1 << 20);
    for (int i = 0; i < 1000; i++)
        CHECK_INT(dynbuf_append(&b, &"0123456789"[i % 10], 1),
                  STRANDS_OK);
    CHECK_INT(b.len, 1000);
    CHECK(b.cap > b.len);
    CHECK_INT(strlen(dynbuf_str(&b)), 1000);
    int ok = 1;
    for (int i = 0; i < 1000; i++)
        if (b.data[i] != '0' + i % 10) ok = 0;
    CHECK(ok);
    /* Embedded NULs are kept; len counts them. */
    CHECK_INT(dynbuf_append(&b, "a\0b", 3), STRANDS_OK);
    CHECK_INT(b.len, 1003);
    CHECK_MEM(b.data + 1000, 4, "a\0b", 4);
    dynbuf_cleanup(&b);
}

static void test_buf_printf(void)
{
    dynbuf b;
    dynbuf_init(&b, 32);
    CHECK_INT(dynbuf_printf(&b, "%s=%d", "n", 42), STRANDS_OK);
    CHECK_INT(dynbuf_printf(&b, "|%05.1f|%x", 3.14159, 255), STRANDS_OK);
    CHECK_STR(dynbuf_str(&b), "n=42|003.1|ff");
    CHECK_INT(b.len, strlen("n=42|003.1|ff"));
    /* Empty output appends nothing. */
    CHECK_INT(dynbuf_printf(&b, "%s", ""), STRANDS_OK);
    CHECK_INT(b.len, 13);
    /* 13 + 19 = 32 fits exactly; one more character does not. */
    CHECK_INT(dynbuf_printf(&b, "%019d", 7), STRANDS_OK);
    CHECK_INT(b.len, 32);
    CHECK_STR(dynbuf_str(&b) + 13, "0000000000000000007");
    CHECK_INT(dynbuf_printf(&b, "%c", 'z'), STRANDS_E_TOO_LARGE);
    CHECK(b.data == NULL);
    CHECK_INT(b.len, 0);
    /* A first printf longer than the cap fails the same way. */
    CHECK_INT(dynbuf_printf(&b, "%40s", "x"), STRANDS_E_TOO_LARGE);
    CHECK(b.data == NULL);
    dynbuf_cleanup(&b);
}

static void test_buf_take(void)
{
    dynbuf b;
    dynbuf_init(&b, 100);
    CHECK_INT(dynbuf_puts(&b, "hello"), STRANDS_OK);
    size_t len = 0;
    char *s = dynbuf_take(&b, &len);
    CHECK_STR(s, "hello");
    CHECK_INT(len, 5);
    CHECK(b.data == NULL);
    CHECK_INT(b.len, 0);
    CHECK_INT(b.cap, 0);
    CHECK_INT(b.max, 100);
    /* The buffer starts over, independent of the string handed out. */
    CHECK_INT(dynbuf_puts(&b, "again"), STRANDS_OK);
    CHECK_STR(s, "hello");
    free(s);
    s = dynbuf_take(&b, NULL);
    CHECK_STR(s, "again");
    free(s);
    s = dynbuf_take(&b, &len);
    CHECK_STR(s, "");
    CHECK_INT(len, 0);
    free(s);
}

/* ---- status ----------------------------------------------------------- */

typedef struct status_row {
    strands_status st;
    int num;
    const char *name;
    int http;
} status_row;

/* Expected values written out by hand, independent of the X-macro. */
static const status_row status_rows[] = {
    {STRANDS_OK, 0, "OK", 200},
    {STRANDS_E_NOMEM, 1, "E_NOMEM", 500},
    {STRANDS_E_INVALID, 2, "E_INVALID", 400},
    {STRANDS_E_TOO_LARGE, 3, "E_TOO_LARGE", 413},
    {STRANDS_E_NOT_FOUND, 4, "E_NOT_FOUND", 404},
    {STRANDS_E_BUSY, 5, "E_BUSY", 409},
    {STRANDS_E_IO, 6, "E_IO", 500},
    {STRANDS_E_PARSE, 7, "E_PARSE", 400},
    {STRANDS_E_NO_CREDENTIALS, 8, "E_NO_CREDENTIALS", 503},
    {STRANDS_E_UPSTREAM, 9, "E_UPSTREAM", 502},
    {STRANDS_E_NETWORK, 10, "E_NETWORK", 502},
    {STRANDS_E_TIMEOUT, 11, "E_TIMEOUT", 504},
    {STRANDS_E_CANCELLED, 12, "E_CANCELLED", 503},
    {STRANDS_E_TOOL, 13, "E_TOOL", 500},
    {STRANDS_E_CRYPTO, 14, "E_CRYPTO", 500},
    {STRANDS_E_INTERNAL, 15, "E_INTERNAL", 500},
    {STRANDS_E_UNAVAILABLE, 16, "E_UNAVAILABLE", 503},
};
#define N_STATUS (sizeof status_rows / sizeof status_rows[0])

static void test_status_table(void)
{
    int count = 0;
#define COUNT_X(name, num, http, desc) count++;
    STRANDS_STATUS_MAP(COUNT_X)
#undef COUNT_X
    CHECK_INT(count, N_STATUS);
    for (size_t i = 0; i < N_STATUS; i++) {
        const status_row *r = &status_rows[i];
        CHECK_INT(r->st, r->num);
        CHECK_STR(strands_status_name(r->st), r->name);
        CHECK_INT(strands_status_http(r->st), r->http);
        const char *d = strands_strerror(r->st);
        CHECK(d != NULL && *d);
        /* Descriptions are distinct from each other. */
        for (size_t j = 0; j < i; j++)
            CHECK(strcmp(d, strands_strerror(status_rows[j].st)) != 0);
    }
    CHECK_STR(strands_strerror(STRANDS_OK), "success");
    CHECK_STR(strands_strerror(STRANDS_E_NOMEM), "out of memory");
    CHECK_STR(strands_strerror(STRANDS_E_TIMEOUT), "timed out");
}

static void test_status_unknown(void)
{
    strands_status bogus = (strands_status)999;
    CHECK_STR(strands_status_name(bogus), "E_UNKNOWN");
    CHECK_STR(strands_strerror(bogus), "unknown status");
    CHECK_INT(strands_status_http(bogus), 500);
}

static void test_error_set_and_clear(void)
{
    strands_error err;
    memset(&err, 'x', sizeof err);
    strands_error_clear(&err);
    CHECK_INT(err.status, STRANDS_OK);
    CHECK_INT(err.http_status, 0);
    CHECK_STR(err.code, "");
    CHECK_STR(err.message, "");

    CHECK_INT(strands_error_set(&err, STRANDS_E_INVALID, NULL, "bad %s #%d",
                                "thing", 3),
              STRANDS_E_INVALID);
    CHECK_INT(err.status, STRANDS_E_INVALID);
    CHECK_STR(err.code, "E_INVALID");
    CHECK_STR(err.message, "bad thing #3");

    CHECK_INT(strands_error_set(&err, STRANDS_E_UPSTREAM,
                                "ValidationException", "%s", "nope"),
              STRANDS_E_UPSTREAM);
    CHECK_STR(err.code, "ValidationException");
    CHECK_STR(err.message, "nope");

    /* NULL err: nothing written, status still returned. */
    CHECK_INT(strands_error_set(NULL, STRANDS_E_IO, NULL, "x"), STRANDS_E_IO);
    strands_error_clear(NULL);
}

static void test_error_truncation(void)
{
    char longmsg[2000], longcode[200];
    for (size_t i = 0; i < sizeof longmsg - 1; i++)
        longmsg[i] = (char)('a' + i % 26);
    longmsg[sizeof longmsg - 1] = '\0';
    memset(longcode, 'C', sizeof longcode - 1);
    longcode[sizeof longcode - 1] = '\0';

    strands_error err;
    strands_error_set(&err, STRANDS_E_PARSE, longcode, "msg: %s", longmsg);
    CHECK_INT(strlen(err.message), STRANDS_ERROR_MESSAGE_MAX - 1);
    CHECK(!strncmp(err.message, "msg: abcdefghij", 15));
    CHECK_INT(err.message[STRANDS_ERROR_MESSAGE_MAX - 2],
              longmsg[STRANDS_ERROR_MESSAGE_MAX - 2 - 5]);
    CHECK_INT(strlen(err.code), STRANDS_ERROR_CODE_MAX - 1);
    CHECK(!strncmp(err.code, longcode, STRANDS_ERROR_CODE_MAX - 1));

    /* Exactly MAX-1 characters fit untruncated. */
    longmsg[STRANDS_ERROR_MESSAGE_MAX - 1] = '\0';
    strands_error_set(&err, STRANDS_E_PARSE, NULL, "%s", longmsg);
    CHECK_STR(err.message, longmsg);
}

/* ---- clock ------------------------------------------------------------ */

typedef struct iso_case {
    int64_t t;
    int ms;
    const char *want;
} iso_case;

static void test_clock_iso8601(void)
{
    static const iso_case cases[] = {
        {0, 0, "1970-01-01T00:00:00.000Z"},
        {-1, 0, "1969-12-31T23:59:59.000Z"},
        {94694399, 5, "1972-12-31T23:59:59.005Z"},       /* leap year end */
        {946684799, 999, "1999-12-31T23:59:59.999Z"},
        {951868799, 42, "2000-02-29T23:59:59.042Z"},      /* /400 leap */
        {1709210096, 123, "2024-02-29T12:34:56.123Z"},
        {1767225600, 0, "2026-01-01T00:00:00.000Z"},
        {2147483648, 1, "2038-01-19T03:14:08.001Z"},      /* past int32 */
        {4107542399, 0, "2100-02-28T23:59:59.000Z"},      /* 2100 not leap */
        {4107542400, 0, "2100-03-01T00:00:00.000Z"},
        {13574563200, 0, "2400-02-29T00:00:00.000Z"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char out[32];
        memset(out, '#', sizeof out);
        strands_clock_iso8601(cases[i].t, cases[i].ms, out, sizeof out);
        CHECK_STR(out, cases[i].want);
    }
    /* Exactly 25 bytes is enough; a smaller buffer is cut, NUL-terminated. */
    char exact[25];
    strands_clock_iso8601(1709210096, 7, exact, sizeof exact);
    CHECK_STR(exact, "2024-02-29T12:34:56.007Z");
    char small[11];
    strands_clock_iso8601(1709210096, 7, small, sizeof small);
    CHECK_STR(small, "2024-02-29");
}

static int64_t fixed_wall(void *user)
{
    return *(const int64_t *)user;
}

static void test_clock_wall_override(void)
{
    int64_t fixed = 1440938160;
    strands_clock_set_wall(fixed_wall, &fixed);
    CHECK_INT(strands_clock_wall(), 1440938160);
    fixed = 42;
    CHECK_INT(strands_clock_wall(), 42);
    strands_clock_set_wall(NULL, NULL);
    int64_t now = (int64_t)time(NULL);
    int64_t w = strands_clock_wall();
    CHECK(w >= now && w <= now + 2);
}

static void test_clock_mono(void)
{
    int64_t a = strands_clock_mono_ms();
    struct timespec ts = {0, 20 * 1000000L};
    nanosleep(&ts, NULL);
    int64_t b = strands_clock_mono_ms();
    CHECK(b - a >= 19);
    CHECK(b - a < 5000);
}

/* ---- log -------------------------------------------------------------- */

static void test_log_level_parse_name(void)
{
    CHECK_INT(strands_log_level_parse("debug"), STRANDS_LOG_DEBUG);
    CHECK_INT(strands_log_level_parse("DEBUG"), STRANDS_LOG_DEBUG);
    CHECK_INT(strands_log_level_parse("info"), STRANDS_LOG_INFO);
    CHECK_INT(strands_log_level_parse("Info"), STRANDS_LOG_INFO);
    CHECK_INT(strands_log_level_parse("warn"), STRANDS_LOG_WARN);
    CHECK_INT(strands_log_level_parse("WARNING"), STRANDS_LOG_WARN);
    CHECK_INT(strands_log_level_parse("error"), STRANDS_LOG_ERROR);
    CHECK_INT(strands_log_level_parse("ErRoR"), STRANDS_LOG_ERROR);
    CHECK_INT(strands_log_level_parse("loud"), -1);
    CHECK_INT(strands_log_level_parse(""), -1);
    CHECK_INT(strands_log_level_parse("info "), -1);
    CHECK_INT(strands_log_level_parse("err"), -1);
    CHECK_INT(strands_log_level_parse(NULL), -1);
    CHECK_STR(strands_log_level_name(STRANDS_LOG_DEBUG), "DEBUG");
    CHECK_STR(strands_log_level_name(STRANDS_LOG_INFO), "INFO");
    CHECK_STR(strands_log_level_name(STRANDS_LOG_WARN), "WARNING");
    CHECK_STR(strands_log_level_name(STRANDS_LOG_ERROR), "ERROR");
}

#define MAX_CAPTURED 8

/* What the test sink saw: copies, since record strings are borrowed. */
typedef struct captured {
    int n;
    strands_log_level level[MAX_CAPTURED];
    char logger[MAX_CAPTURED][64];
    char message[MAX_CAPTURED][2100];
    char request_id[MAX_CAPTURED][64];
    char session_id[MAX_CAPTURED][64];
    char *fields[MAX_CAPTURED];   /* compact JSON or NULL */
} captured;

static void test_sink(void *user, const strands_log_record *rec)
{
    captured *c = user;
    if (c->n >= MAX_CAPTURED) return;
    int i = c->n++;
    c->level[i] = rec->level;
    snprintf(c->logger[i], sizeof c->logger[i], "%s",
             rec->logger ? rec->logger : "(null)");
    snprintf(c->message[i], sizeof c->message[i], "%s", rec->message);
    snprintf(c->request_id[i], sizeof c->request_id[i], "%s",
             rec->request_id ? rec->request_id : "(null)");
    snprintf(c->session_id[i], sizeof c->session_id[i], "%s",
             rec->session_id ? rec->session_id : "(null)");
    c->fields[i] = rec->fields
                       ? json_dumps(rec->fields, JSON_COMPACT | JSON_SORT_KEYS)
                       : NULL;
}

static void test_log_sink_levels_and_fields(void)
{
    captured cap;
    memset(&cap, 0, sizeof cap);
    strands_log_level saved = strands_log_get_level();
    strands_log_set_sink(test_sink, &cap);
    strands_log_set_level(STRANDS_LOG_WARN);
    CHECK_INT(strands_log_get_level(), STRANDS_LOG_WARN);

    json_t *fields = json_pack("{s:i, s:s}", "status", 503, "path", "/x");
    strands_log(STRANDS_LOG_DEBUG, "t", NULL, NULL, NULL, "dropped %d", 1);
    strands_log(STRANDS_LOG_INFO, "t", NULL, NULL, NULL, "dropped %d", 2);
    strands_log(STRANDS_LOG_WARN, "strands.test", "req-1", "sess-1", fields,
                "warned %s=%d", "n", 7);
    strands_log(STRANDS_LOG_ERROR, "strands.other", NULL, NULL, NULL, "%s",
                "failed");
    json_decref(fields);

    CHECK_INT(cap.n, 2);
    CHECK_INT(cap.level[0], STRANDS_LOG_WARN);
    CHECK_STR(cap.logger[0], "strands.test");
    CHECK_STR(cap.message[0], "warned n=7");
    CHECK_STR(cap.request_id[0], "req-1");
    CHECK_STR(cap.session_id[0], "sess-1");
    CHECK_STR(cap.fields[0], "{\"path\":\"/x\",\"status\":503}");
    CHECK_INT(cap.level[1], STRANDS_LOG_ERROR);
    CHECK_STR(cap.logger[1], "strands.other");
    CHECK_STR(cap.message[1], "failed");
    CHECK_STR(cap.request_id[1], "(null)");
    CHECK_STR(cap.session_id[1], "(null)");
    CHECK(cap.fields[1] == NULL);

    /* Lowering the level lets debug through. */
    strands_log_set_level(STRANDS_LOG_DEBUG);
    strands_log(STRANDS_LOG_DEBUG, "t", NULL, NULL, NULL, "now %s", "seen");
    CHECK_INT(cap.n, 3);
    CHECK_INT(cap.level[2], STRANDS_LOG_DEBUG);
    CHECK_STR(cap.message[2], "now seen");

    /* A very long message is cut, not overrun. */
    char longmsg[5000];
    memset(longmsg, 'm', sizeof longmsg - 1);
    longmsg[sizeof longmsg - 1] = '\0';
    strands_log(STRANDS_LOG_ERROR, "t", NULL, NULL, NULL, "%s", longmsg);
    CHECK_INT(cap.n, 4);
    CHECK(strlen(cap.message[3]) > 1000);
    CHECK(strlen(cap.message[3]) < sizeof longmsg - 1);

    /* Without a sink nothing is delivered. */
    strands_log_set_sink(NULL, NULL);
    strands_log(STRANDS_LOG_ERROR, "t", NULL, NULL, NULL, "lost");
    CHECK_INT(cap.n, 4);

    strands_log_set_level(saved);
    for (int i = 0; i < cap.n; i++) free(cap.fields[i]);
}

/* ---- uuid ------------------------------------------------------------- */

static int is_lower_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

static int uuid_shape_ok(const char *u)
{
    if (strlen(u) != 36) return 0;
    for (int i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (u[i] != '-') return 0;
        } else if (!is_lower_hex(u[i])) {
            return 0;
        }
    }
    if (u[14] != '4') return 0;                  /* version 4 */
    return u[19] == '8' || u[19] == '9' || u[19] == 'a' || u[19] == 'b';
}

static int cmp_uuid(const void *a, const void *b)
{
    return strcmp((const char *)a, (const char *)b);
}

static void test_uuid4(void)
{
    enum { N = 1000 };
    static char ids[N][37];
    int bad = 0;
    int variant_seen[4] = {0};
    for (int i = 0; i < N; i++) {
        memset(ids[i], 'Z', sizeof ids[i]);
        strands_uuid4(ids[i]);
        if (!uuid_shape_ok(ids[i])) {
            if (!bad) FAIL_AT("bad uuid '%.37s'", ids[i]);
            bad++;
            continue;
        }
        variant_seen[ids[i][19] >= 'a' ? ids[i][19] - 'a' + 2
                                       : ids[i][19] - '8']++;
    }
    CHECK_INT(bad, 0);
    /* All four variant nibbles 8, 9, a, b show up in 1000 draws. */
    for (int v = 0; v < 4; v++) CHECK(variant_seen[v] > 0);
    qsort(ids, N, sizeof ids[0], cmp_uuid);
    int dups = 0;
    for (int i = 1; i < N; i++)
        if (!strcmp(ids[i], ids[i - 1])) dups++;
    CHECK_INT(dups, 0);
}

int main(void)
{
    RUN(test_buf_empty);
    RUN(test_buf_exact_limit);
    RUN(test_buf_one_over_in_one_append);
    RUN(test_buf_growth_keeps_data);
    RUN(test_buf_printf);
    RUN(test_buf_take);
    RUN(test_status_table);
    RUN(test_status_unknown);
    RUN(test_error_set_and_clear);
    RUN(test_error_truncation);
    RUN(test_clock_iso8601);
    RUN(test_clock_wall_override);
    RUN(test_clock_mono);
    RUN(test_log_level_parse_name);
    RUN(test_log_sink_levels_and_fields);
    RUN(test_uuid4);
    return test_report();
}
