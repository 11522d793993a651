/* Allocation-failure sweeps over the MCP HTTP pieces that need no
 * network: Mcp-Param-* lines from x-mcp-header annotations, the reply
 * parser (JSON and SSE), transport creation, authenticator creation and
 * SigV4 header computation. Every failing allocation gives a clean error
 * (or, for the parser, a clean non-OK status), never a crash, leak or
 * half-built result; the last run of each sweep succeeds.             */
#include "failalloc.h"
#include "test.h"

#include "mcp/auth.h"
#include "mcp/http_reply.h"
#include "mcp/transport.h"
#include "net/http_client.h"

#define MAX_N 400

static void test_param_headers_sweep(void)
{
    json_t *schema = json_loads(
        "{\"type\":\"object\",\"properties\":{"
        "\"r\":{\"type\":\"string\",\"x-mcp-header\":\"Region\"},"
        "\"g\":{\"type\":\"string\",\"x-mcp-header\":\"Greeting\"},"
        "\"o\":{\"type\":\"object\",\"properties\":{\"n\":{\"type\":"
        "\"integer\",\"x-mcp-header\":\"N\"}}}}}", 0, NULL);
    json_t *args = json_loads("{\"r\":\"us-west1\",\"g\":\"h\\u00e9\","
                              "\"o\":{\"n\":3}}", 0, NULL);
    long n, clean = 0;
    FAILALLOC_SWEEP(n, MAX_N) {
        char **lines = NULL;
        size_t nl = 0;
        strands_error err;
        strands_status st = mcp_http_param_headers(schema, args, &lines,
                                                   &nl, &err);
        if (st == STRANDS_OK) {
            CHECK_INT(nl, 3);
            clean++;
        } else {
            CHECK_INT(st, STRANDS_E_NOMEM);
            CHECK(lines == NULL);
        }
        mcp_header_lines_free(lines);
    }
    CHECK(n == MAX_N + 2);
    CHECK_INT(clean, 1);
    json_decref(schema);
    json_decref(args);
}

static int delivered;
static void count(void *user, json_t *msg)
{
    (void)user;
    json_decref(msg); /* the callback owns it */
    delivered++;
}

static void test_reply_sweep(void)
{
    static const char sse[] =
        "data: {\"jsonrpc\":\"2.0\",\"method\":\"n\"}\n\n"
        "data: {\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}\n\n";
    static const char js[] =
        "[{\"jsonrpc\":\"2.0\",\"method\":\"n\"},"
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}]";
    for (int mode = 0; mode < 2; mode++) {
        long n, clean = 0;
        FAILALLOC_SWEEP(n, MAX_N) {
            mcp_http_reply r;
            strands_error err;
            delivered = 0;
            const char *body = mode ? sse : js;
            strands_status st = mcp_http_reply_init(
                &r, mode ? "text/event-stream" : "application/json", 0,
                NULL, count, NULL, &err);
            size_t len = strlen(body);
            for (size_t i = 0; st == STRANDS_OK && i < len; i += 7)
                st = mcp_http_reply_feed(&r, body + i,
                                         len - i < 7 ? len - i : 7, &err);
            if (st == STRANDS_OK) st = mcp_http_reply_finish(&r, &err);
            if (st == STRANDS_OK) {
                CHECK_INT(delivered, 2);
                clean++;
            } else {
                /* jansson reports OOM as a parse failure */
                CHECK(st == STRANDS_E_NOMEM || st == STRANDS_E_PARSE);
            }
            mcp_http_reply_cleanup(&r);
        }
        CHECK(n == MAX_N + 2);
        CHECK_INT(clean, 1);
    }
}

static void test_transport_new_sweep(void)
{
    http_client *http = http_client_new(1);
    static const char *const hdrs[] = {"X-A: 1", "X-B: 2"};
    mcp_http_opts o = {.server_name = "s", .url = "https://example.com/mcp",
                       .headers = hdrs, .n_headers = 2, .http = http};
    long n, clean = 0;
    FAILALLOC_SWEEP(n, MAX_N) {
        strands_error err;
        mcp_transport *t = mcp_http_new(&o, &err);
        if (t) {
            clean++;
            t->vt->destroy(t);
        } else {
            CHECK_INT(err.status, STRANDS_E_NOMEM);
        }
    }
    CHECK(n == MAX_N + 2);
    CHECK_INT(clean, 1);
    http_client_free(http);
}

static void test_auth_sweep(void)
{
    http_client *http = http_client_new(1);
    strands_error err;
    strands_credentials_provider *creds = strands_credentials_static_new(
        "AKIDEXAMPLE", "secret/key", "session-token", &err);
    mcp_auth_config oa = {.kind = MCP_AUTH_OAUTH2_CLIENT_CREDENTIALS,
                          .token_url = "https://auth.example.com/token",
                          .client_id = "id", .client_secret = "s3cret",
                          .scope = "a b"};
    mcp_auth_config sv = {.kind = MCP_AUTH_SIGV4};
    static const char *const hdrs[] = {"Content-Type: application/json",
                                       "Mcp-Method: tools/call"};
    mcp_auth_request rq = {.method = "POST",
                           .url = "https://gw.example.com/mcp?x=1",
                           .headers = hdrs, .n_headers = 2, .body = "{}",
                           .body_len = 2};
    long n, clean = 0;
    FAILALLOC_SWEEP(n, MAX_N) {
        mcp_auth *a = mcp_auth_new(&oa, NULL, NULL, http, &err);
        mcp_auth *s = a ? mcp_auth_new(&sv, creds, "us-east-1", http, &err)
                        : NULL;
        char **lines = NULL;
        size_t nl = 0;
        strands_status st = s ? mcp_auth_headers(s, &rq, &lines, &nl, &err)
                              : err.status;
        if (st == STRANDS_OK) {
            CHECK_INT(nl, 3); /* date, token, authorization */
            clean++;
        } else {
            CHECK(st == STRANDS_E_NOMEM || st == STRANDS_E_INVALID);
            CHECK(lines == NULL);
        }
        mcp_header_lines_free(lines);
        mcp_auth_free(s);
        mcp_auth_free(a);
    }
    CHECK(n == MAX_N + 2);
    CHECK_INT(clean, 1);
    strands_credentials_provider_free(creds);
    http_client_free(http);
}

int main(void)
{
    failalloc_init();
    RUN(test_param_headers_sweep);
    RUN(test_reply_sweep);
    RUN(test_transport_new_sweep);
    RUN(test_auth_sweep);
    return test_report();
}
