/* /invocations request checks (src/server/request.c) one by one: base64
 * through OpenSSL, session ids (no read past a short id), request ids,
 * "stream", "async", the async actions and the verdicts of
 * request_parse.                                                        */
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

/* "async" and the async actions (get_invocation, cancel_invocation). */
static void test_parse_async_and_actions(void)
{
    request_parsed p;
    char why[256];
#define PARSE(body, hdr) request_parse(body, strlen(body), hdr, &p, why, \
                                       sizeof why)
    CHECK_INT(PARSE("{\"prompt\":\"hi\",\"async\":true}", NULL), REQUEST_OK);
    CHECK_INT(p.async, 1);
    CHECK_INT(p.stream, -1);
    CHECK_INT(p.action, REQUEST_ACTION_NONE);
    CHECK_INT(strlen(p.session_id), 36);
    request_parsed_cleanup(&p);
    CHECK_INT(PARSE("{\"prompt\":\"hi\",\"async\":false,\"stream\":true}",
                    NULL),
              REQUEST_OK);
    CHECK_INT(p.async, 0);
    CHECK_INT(p.stream, 1);
    request_parsed_cleanup(&p);
    CHECK_INT(PARSE("{\"prompt\":\"hi\",\"async\":true,\"stream\":false}",
                    NULL),
              REQUEST_OK);
    CHECK_INT(p.async, 1);
    request_parsed_cleanup(&p);

    static const struct {
        const char *body, *why;
    } bad[] = {
        {"{\"prompt\":\"hi\",\"async\":\"yes\"}", "'async' must be a boolean"},
        {"{\"prompt\":\"hi\",\"async\":1}", "'async' must be a boolean"},
        {"{\"prompt\":\"hi\",\"async\":null}", "'async' must be a boolean"},
        {"{\"prompt\":\"hi\",\"async\":true,\"stream\":true}",
         "cannot both be true"},
        {"{\"async\":true}", "missing required field 'prompt'"},
        {"{\"action\":\"delete_everything\",\"invocation_id\":\"a\"}",
         "unknown action 'delete_everything'; allowed: get_invocation, "
         "cancel_invocation"},
        {"{\"action\":7}", "'action' must be a string (one of get_invocation, "
                           "cancel_invocation)"},
        {"{\"action\":null}", "'action' must be a string"},
        {"{\"action\":\"get_invocation\"}", "needs 'invocation_id'"},
        {"{\"action\":\"get_invocation\",\"invocation_id\":\"\"}",
         "needs 'invocation_id'"},
        {"{\"action\":\"get_invocation\",\"invocation_id\":5}",
         "needs 'invocation_id'"},
        {"{\"action\":\"cancel_invocation\",\"invocation_id\":\"a\\nb\"}",
         "'cancel_invocation' needs 'invocation_id': 1..128 printable"},
        {"{\"action\":\"get_invocation\",\"invocation_id\":\"a\\u0000b\"}",
         "NUL"},
        {"{\"action\":\"get_invocation\",\"invocation_id\":\"a\","
         "\"session_id\":5}", "'session_id' must be a string"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        request_verdict v = PARSE(bad[i].body, NULL);
        if (v == REQUEST_OK) {
            FAIL_AT("bad %zu accepted", i);
            request_parsed_cleanup(&p);
            continue;
        }
        if (!strstr(why, bad[i].why))
            FAIL_AT("bad %zu: '%s' lacks '%s'", i, why, bad[i].why);
        CHECK(p.prompt == NULL);
        CHECK_INT(p.action, REQUEST_ACTION_NONE);
    }

    /* Actions need no prompt; the session comes from the body, else the
     * header, and is never made up. */
    CHECK_INT(PARSE("{\"action\":\"get_invocation\",\"invocation_id\":"
                    "\"inv-1\"}", NULL),
              REQUEST_OK);
    CHECK_INT(p.action, REQUEST_ACTION_GET_INVOCATION);
    CHECK_STR(p.invocation_id, "inv-1");
    CHECK_STR(p.session_id, "");
    CHECK(p.prompt == NULL);
    request_parsed_cleanup(&p);
    CHECK_INT(PARSE("{\"action\":\"cancel_invocation\",\"invocation_id\":"
                    "\"inv-2\"}", "hdr-s"),
              REQUEST_OK);
    CHECK_INT(p.action, REQUEST_ACTION_CANCEL_INVOCATION);
    CHECK_STR(p.session_id, "hdr-s");
    request_parsed_cleanup(&p);
    CHECK_INT(PARSE("{\"action\":\"get_invocation\",\"invocation_id\":"
                    "\"inv-3\",\"session_id\":\"body-s\",\"prompt\":5}",
                    "hdr-s"),
              REQUEST_OK);
    CHECK_STR(p.session_id, "body-s");
    request_parsed_cleanup(&p);
    CHECK_INT(PARSE("{\"action\":\"get_invocation\",\"invocation_id\":"
                    "\"inv-4\"}", "bad\nsession"),
              REQUEST_INVALID);
    /* The longest id taken, one more refused. */
    char body[400], id[SERVER_REQUEST_ID_MAX + 2];
    memset(id, 'i', sizeof id - 1);
    id[SERVER_REQUEST_ID_MAX] = '\0';
    snprintf(body, sizeof body,
             "{\"action\":\"get_invocation\",\"invocation_id\":\"%s\"}", id);
    CHECK_INT(PARSE(body, NULL), REQUEST_OK);
    CHECK_INT(strlen(p.invocation_id), SERVER_REQUEST_ID_MAX);
    request_parsed_cleanup(&p);
    id[SERVER_REQUEST_ID_MAX] = 'i';
    id[SERVER_REQUEST_ID_MAX + 1] = '\0';
    snprintf(body, sizeof body,
             "{\"action\":\"get_invocation\",\"invocation_id\":\"%s\"}", id);
    CHECK_INT(PARSE(body, NULL), REQUEST_INVALID);
#undef PARSE
}

int main(void)
{
    RUN(test_base64);
    RUN(test_session_id);
    RUN(test_request_id);
    RUN(test_parse_verdicts);
    RUN(test_parse_async_and_actions);
    return test_report();
}
