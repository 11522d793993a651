/* /invocations request checks (src/server/request.c) one by one: base64
 * through OpenSSL, session ids (no read past a short id), request ids,
 * "stream" and the verdicts of request_parse.                          */
#include <stdlib.h>
#include <string.h>

#include "server/internal.h"
#include "test.h"

static void test_base64(void)
{
    static const char *const good[] = {"aGVsbG8=", "aGVsbA==", "QUJD",
                                       "iVBORw0KGgo=", NULL};
    static const char *const bad[] = {"", "aGVsbG8", "QQ", "aGV=bG8h",
                                      "YQ==YQ==", "====", "a!b=", "A===",
                                      NULL};
    for (const char *const *s = good; *s; s++)
        if (request_base64_valid(*s, strlen(*s)) != 1)
            FAIL_AT("'%s' rejected", *s);
    for (const char *const *s = bad; *s; s++)
        if (request_base64_valid(*s, strlen(*s)) != 0)
            FAIL_AT("'%s' accepted", *s);
    /* Long input crosses the 1024-byte pieces. */
    size_t n = 4000;
    char *big = malloc(n + 1);
    for (size_t i = 0; i < n; i++) big[i] = "QUJD"[i % 4];
    big[n] = '\0';
    CHECK_INT(request_base64_valid(big, n), 1);
    big[2500] = '=';
    CHECK_INT(request_base64_valid(big, n), 0);
    free(big);
}

static void test_session_id(void)
{
    char out[SERVER_SESSION_ID_MAX + 1], why[128];
    CHECK(request_session_id("abc-123", out, sizeof out, why, sizeof why));
    CHECK_STR(out, "abc-123");
    /* Exact-size heap copies: ASan flags any read past the end. */
    static const char *const bad[] = {"a\nb", "a\n", "\n", "\x7f", "x\x01",
                                      ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *v = strdup(bad[i]);
        why[0] = '\0';
        if (request_session_id(v, out, sizeof out, why, sizeof why))
            FAIL_AT("bad id %zu accepted", i);
        CHECK(strstr(why, "session id") != NULL);
        free(v);
    }
    char long_id[SERVER_SESSION_ID_MAX + 2];
    memset(long_id, 's', sizeof long_id - 1);
    long_id[sizeof long_id - 1] = '\0';
    CHECK(!request_session_id(long_id, out, sizeof out, why, sizeof why));
    long_id[SERVER_SESSION_ID_MAX] = '\0';
    CHECK(request_session_id(long_id, out, sizeof out, why, sizeof why));
    CHECK_INT(strlen(out), SERVER_SESSION_ID_MAX);
}

static void test_request_id(void)
{
    char out[SERVER_REQUEST_ID_MAX + 1];
    CHECK_INT(request_id_pick("req-42", out, sizeof out), 1);
    CHECK_STR(out, "req-42");
    static const char *const bad[] = {NULL, "", "a\x01", "tab\there",
                                      "caf\xc3\xa9", "x\x7f"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_INT(request_id_pick(bad[i], out, sizeof out), 0);
        CHECK_INT(strlen(out), 36); /* a fresh UUID */
    }
    char long_id[SERVER_REQUEST_ID_MAX + 2];
    memset(long_id, 'r', sizeof long_id - 1);
    long_id[sizeof long_id - 1] = '\0';
    CHECK_INT(request_id_pick(long_id, out, sizeof out), 0);
    long_id[SERVER_REQUEST_ID_MAX] = '\0';
    CHECK_INT(request_id_pick(long_id, out, sizeof out), 1);
}

typedef struct parse_case {
    const char *body;
    const char *header;
    request_verdict verdict;
    int stream;
    const char *session; /* NULL: a new UUID */
    const char *why;     /* substring of the reason */
} parse_case;

static void test_parse_verdicts(void)
{
    static const parse_case cases[] = {
        {"{\"prompt\":\"hi\"}", NULL, REQUEST_OK, -1, NULL, NULL},
        {"{\"prompt\":\"hi\",\"stream\":true}", "h", REQUEST_OK, 1, "h", NULL},
        {"{\"prompt\":\"hi\",\"stream\":false,\"session_id\":\"b\"}", "h",
         REQUEST_OK, 0, "b", NULL},
        {"{\"prompt\":\"hi\",\"session_id\":null}", "h", REQUEST_OK, -1, "h",
         NULL},
        {"{\"prompt\":\"hi\",\"stream\":\"yes\"}", NULL, REQUEST_INVALID, 0,
         NULL, "'stream' must be a boolean"},
        {"{\"prompt\":\"hi\",\"stream\":null}", NULL, REQUEST_INVALID, 0, NULL,
         "'stream' must be a boolean"},
        {"{\"prompt\":\" \\t\\n\"}", NULL, REQUEST_INVALID, 0, NULL,
         "must not be empty"},
        {"{\"prompt\":\"hi\",\"session_id\":\"a\\u0000b\"}", NULL,
         REQUEST_BAD_JSON, 0, NULL, "NUL"},
        {"{\"prompt\":\"hi\",\"session_id\":7}", NULL, REQUEST_INVALID, 0,
         NULL, "must be a string"},
        {"{\"prompt\":\"hi\"}", "bad\nid", REQUEST_INVALID, 0, NULL,
         "session id"},
        {"{\"prompt\":", NULL, REQUEST_BAD_JSON, 0, NULL, "Invalid JSON"},
        {"", NULL, REQUEST_BAD_JSON, 0, NULL, "Invalid JSON"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const parse_case *c = &cases[i];
        request_parsed p;
        char why[256];
        request_verdict v = request_parse(c->body, strlen(c->body), c->header,
                                          &p, why, sizeof why);
        if (v != c->verdict) {
            FAIL_AT("case %zu: verdict %d, want %d (%s)", i, (int)v,
                    (int)c->verdict, why);
            request_parsed_cleanup(&p);
            continue;
        }
        if (v != REQUEST_OK) {
            if (!strstr(why, c->why))
                FAIL_AT("case %zu: '%s' lacks '%s'", i, why, c->why);
            continue;
        }
        CHECK_INT(p.stream, c->stream);
        if (c->session)
            CHECK_STR(p.session_id, c->session);
        else
            CHECK_INT(strlen(p.session_id), 36);
        request_parsed_cleanup(&p);
    }
}

int main(void)
{
    RUN(test_base64);
    RUN(test_session_id);
    RUN(test_request_id);
    RUN(test_parse_verdicts);
    return test_report();
}
