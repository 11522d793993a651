/* The Streamable HTTP MCP transport (src/mcp/http.c) against a scripted
 * loopback server, driven through its vtab with our own on_message:
 * JSON and SSE replies (a notification, then the response; the stream is
 * not read past the response), the legacy session id kept, resent, lost
 * on 404 (McpSessionExpired) and DELETEd on close, the modern headers
 * (Mcp-Method, Mcp-Name with the Base64 sentinel, Mcp-Param-*), a JSON-RPC
 * error body on a 400 delivered, a 500 as E_UPSTREAM, cancel, deadline,
 * oversize messages; and the x-mcp-header rules, table-driven.         */
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>

#include "test.h"
#include "loopback_http.h"
#include "mcp/http_headers.h"
#include "mcp/transport.h"
#include "net/http_client.h"
#include "strands/clock.h"

/* ---- the scripted server ----------------------------------------------- */

enum mode {
    M_JSON,       /* JSON answers; initialize gives a session id */
    M_SSE,        /* SSE: a notification, the response, then holds open */
    M_STALL,      /* SSE: a notification, then silence */
    M_400_RPC,    /* 400 with a JSON-RPC error body */
    M_500,        /* 500 with a text body */
    M_BIG_JSON,   /* a JSON answer over the test's cap */
    M_BIG_SSE,    /* an SSE event over the test's cap */
    M_404_RPC,    /* 404 with a JSON-RPC "method not found" body */
    M_SSE_CUT,    /* SSE: a notification, then the stream ends */
    M_EMPTY_200   /* 200 with an empty body */
};

typedef struct script {
    enum mode mode;
    atomic_int session_gone;     /* 1: the session id is no longer known */
} script;

static char *id_text(const lb_req *r)
{
    json_t *j = json_loads(r->body, 0, NULL);
    json_t *id = json_object_get(j, "id");
    char *s = id ? json_dumps(id, JSON_ENCODE_ANY) : NULL;
    json_decref(j);
    return s;
}

static void handler(lb_server *s, const lb_req *r, int fd)
{
    script *sc = s->user;
    char buf[512], body[1024];
    char *id = id_text(r);
    if (!strcmp(r->method, "DELETE")) {
        lb_respond(fd, 200, NULL, NULL, NULL);
        free(id);
        return;
    }
    if (!id && sc->mode != M_400_RPC) { /* a notification */
        lb_respond(fd, 202, NULL, NULL, NULL);
        return;
    }
    snprintf(body, sizeof body,
             "{\"jsonrpc\":\"2.0\",\"id\":%s,\"result\":{\"ok\":true}}",
             id ? id : "null");
    int is_init = strstr(r->body, "\"initialize\"") != NULL;
    const char *sid = lb_header(r, "Mcp-Session-Id", buf, sizeof buf);
    switch (sc->mode) {
    case M_JSON:
        if (is_init)
            lb_respond(fd, 200, "Mcp-Session-Id: abc-123\r\n",
                       "application/json", body);
        else if (sid && atomic_load(&sc->session_gone))
            lb_respond(fd, 404, NULL, "text/plain", "no such session");
        else
            lb_respond(fd, 200, NULL, "application/json; charset=utf-8",
                       body);
        break;
    case M_SSE:
        lb_say(fd, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                   "Cache-Control: no-cache\r\n\r\n");
        lb_say(fd, ": keep-alive comment\r\n\r\nevent: message\r\ndata: "
                   "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/"
                   "progress\",");
        lb_sleep_ms(50); /* an event split across writes */
        lb_say(fd, "\"params\":{\"progress\":1}}\r\n\r\n");
        lb_say(fd, "event: other\ndata: not json, not ours\n\n");
        lb_say(fd, "id: 7\ndata: ");
        lb_say(fd, body);
        lb_say(fd, "\n\n");
        lb_hold(s, fd, 5000); /* a server that keeps the stream open */
        break;
    case M_STALL:
        lb_say(fd, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                   "\r\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications"
                   "/message\",\"params\":{}}\n\n");
        lb_hold(s, fd, 8000);
        break;
    case M_400_RPC:
        lb_respond(fd, 400, NULL, "application/json",
                   "{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":-32022,"
                   "\"message\":\"Unsupported protocol version\",\"data\":"
                   "{\"supported\":[\"2025-11-25\"]}}}");
        break;
    case M_404_RPC:
        lb_respond(fd, 404, NULL, "application/json",
                   "{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":-32601,"
                   "\"message\":\"Method not found\"}}");
        break;
    case M_500:
        lb_respond(fd, 500, NULL, "text/plain", "internal\r\nboom");
        break;
    case M_SSE_CUT:
        lb_say(fd, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                   "Connection: close\r\n\r\ndata: {\"jsonrpc\":\"2.0\","
                   "\"method\":\"notifications/message\",\"params\":{}}\n\n");
        break;
    case M_EMPTY_200:
        lb_respond(fd, 200, NULL, "application/json", NULL);
        break;
    case M_BIG_JSON: {
        size_t n = 200000;
        char *big = malloc(n + 64);
        int k = snprintf(big, 64, "{\"jsonrpc\":\"2.0\",\"id\":1,\"x\":\"");
        memset(big + k, 'a', n);
        strcpy(big + k + n, "\"}");
        lb_respond(fd, 200, NULL, "application/json", big);
        free(big);
        break;
    }
    case M_BIG_SSE: {
        lb_say(fd, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                   "\r\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"n\",\"x\":\"");
        char chunk[4096];
        memset(chunk, 'b', sizeof chunk);
        for (int i = 0; i < 64; i++) lb_write(fd, chunk, sizeof chunk);
        lb_say(fd, "\"}\n\n");
        lb_hold(s, fd, 3000);
        break;
    }
    }
    free(id);
}

/* ---- the client side --------------------------------------------------- */

typedef struct inbox {
    pthread_mutex_t lock;
    json_t *msgs; /* array of copies */
} inbox;

static void on_message(void *user, json_t *msg)
{
    inbox *in = user;
    pthread_mutex_lock(&in->lock);
    json_array_append_new(in->msgs, json_deep_copy(msg));
    pthread_mutex_unlock(&in->lock);
    json_decref(msg); /* the callback owns it */
}

typedef struct fixture {
    script sc;
    lb_server srv;
    http_client *http;
    mcp_transport *t;
    inbox in;
    char url[128];
} fixture;

static const char *const static_headers[] = {"X-Static: one",
                                             "Authorization: Bearer stat1c"};

static int setup(fixture *f, enum mode m, size_t max_message)
{
    memset(f, 0, sizeof *f);
    f->sc.mode = m;
    lb_start(&f->srv, handler, &f->sc);
    snprintf(f->url, sizeof f->url, "http://127.0.0.1:%d/mcp", f->srv.port);
    f->http = http_client_new(4);
    pthread_mutex_init(&f->in.lock, NULL);
    f->in.msgs = json_array();
    mcp_http_opts o = {.server_name = "srv", .url = f->url,
                       .headers = static_headers, .n_headers = 2,
                       .http = f->http, .max_message_bytes = max_message};
    strands_error err;
    f->t = mcp_http_new(&o, &err);
    if (!f->t) return 0;
    f->t->on_message = on_message;
    f->t->cb_user = &f->in;
    return f->t->vt->open(f->t, 0, &err) == STRANDS_OK;
}

static void teardown(fixture *f)
{
    if (f->t) f->t->vt->destroy(f->t);
    lb_stop(&f->srv);
    http_client_free(f->http);
    json_decref(f->in.msgs);
    pthread_mutex_destroy(&f->in.lock);
}

static strands_status send_msg(fixture *f, const char *json,
                               const char *method, const char *name,
                               int is_request, const atomic_int *cancelled,
                               int64_t deadline_ms, strands_error *err)
{
    mcp_send_info in = {.json = json, .len = strlen(json), .method = method,
                        .name = name, .is_request = is_request,
                        .cancelled = cancelled, .deadline_ms = deadline_ms};
    strands_error_clear(err);
    return f->t->vt->send(f->t, &in, err);
}

static const json_t *msg_at(fixture *f, size_t i)
{
    return json_array_get(f->in.msgs, i);
}

static const char *hdr(const lb_req *r, const char *name)
{
    static char buf[1024];
    return r ? lb_header(r, name, buf, sizeof buf) : NULL;
}

static const char REQ1[] =
    "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\"}";

static void test_json_reply(void)
{
    fixture f;
    CHECK(setup(&f, M_JSON, 0));
    strands_error err;
    CHECK_INT(send_msg(&f, REQ1, "tools/list", NULL, 1, NULL, 0, &err),
              STRANDS_OK);
    CHECK_INT(json_array_size(f.in.msgs), 1);
    CHECK_INT(json_integer_value(json_object_get(msg_at(&f, 0), "id")), 1);
    CHECK(json_is_true(json_object_get(
        json_object_get(msg_at(&f, 0), "result"), "ok")));
    const lb_req *r = lb_nth(&f.srv, 0);
    CHECK(r != NULL);
    if (r) {
        CHECK_STR(r->method, "POST");
        CHECK_STR(r->path, "/mcp");
        CHECK_STR(r->body, REQ1);
        CHECK_STR(hdr(r, "Content-Type"), "application/json");
        CHECK_STR(hdr(r, "Accept"), "application/json, text/event-stream");
        CHECK_STR(hdr(r, "X-Static"), "one");
        CHECK_STR(hdr(r, "Authorization"), "Bearer stat1c");
        /* Legacy era, nothing negotiated yet: no version, no Mcp-Method. */
        CHECK(hdr(r, "MCP-Protocol-Version") == NULL);
        CHECK(hdr(r, "Mcp-Method") == NULL);
        CHECK(hdr(r, "Mcp-Session-Id") == NULL);
    }
    /* A notification: 202, nothing delivered. */
    CHECK_INT(send_msg(&f, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/"
                           "initialized\"}",
                       "notifications/initialized", NULL, 0, NULL, 0, &err),
              STRANDS_OK);
    CHECK_INT(json_array_size(f.in.msgs), 1);
    teardown(&f);
}

static void test_sse_reply(void)
{
    fixture f;
    CHECK(setup(&f, M_SSE, 0));
    strands_error err;
    int64_t t0 = strands_clock_mono_ms();
    CHECK_INT(send_msg(&f, REQ1, "tools/list", NULL, 1, NULL, 0, &err),
              STRANDS_OK);
    /* Returns at the response, not when the server closes (5 s). */
    CHECK(strands_clock_mono_ms() - t0 < 3000);
    CHECK_INT(json_array_size(f.in.msgs), 2);
    CHECK_STR(json_string_value(json_object_get(msg_at(&f, 0), "method")),
              "notifications/progress");
    CHECK_INT(json_integer_value(json_object_get(msg_at(&f, 1), "id")), 1);
    teardown(&f);
}

static void test_session_kept_and_lost(void)
{
    fixture f;
    CHECK(setup(&f, M_JSON, 0));
    strands_error err;
    CHECK_INT(send_msg(&f, "{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":"
                           "\"initialize\",\"params\":{}}",
                       "initialize", NULL, 1, NULL, 0, &err),
              STRANDS_OK);
    strcpy(f.t->protocol_version, "2025-11-25");
    CHECK_INT(send_msg(&f, REQ1, "tools/list", NULL, 1, NULL, 0, &err),
              STRANDS_OK);
    const lb_req *r = lb_nth(&f.srv, 1);
    CHECK_STR(hdr(r, "Mcp-Session-Id"), "abc-123");
    CHECK_STR(hdr(r, "MCP-Protocol-Version"), "2025-11-25");
    CHECK(hdr(r, "Mcp-Method") == NULL); /* legacy era */

    /* The server forgets the session: 404 -> McpSessionExpired. */
    atomic_store(&f.sc.session_gone, 1);
    CHECK_INT(send_msg(&f, REQ1, "tools/list", NULL, 1, NULL, 0, &err),
              STRANDS_E_NOT_FOUND);
    CHECK_STR(err.code, "McpSessionExpired");
    CHECK(strstr(err.message, "srv") != NULL);
    /* The id is dropped: the next request goes without it. */
    CHECK_INT(send_msg(&f, REQ1, "tools/list", NULL, 1, NULL, 0, &err),
              STRANDS_OK);
    CHECK(hdr(lb_nth(&f.srv, 3), "Mcp-Session-Id") == NULL);

    /* A new session; close() DELETEs it, once. */
    atomic_store(&f.sc.session_gone, 0);
    CHECK_INT(send_msg(&f, "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":"
                           "\"initialize\",\"params\":{}}",
                       "initialize", NULL, 1, NULL, 0, &err),
              STRANDS_OK);
    f.t->vt->close(f.t);
    f.t->vt->close(f.t);
    CHECK_INT(lb_count(&f.srv), 6);
    r = lb_nth(&f.srv, 5);
    CHECK(r && !strcmp(r->method, "DELETE"));
    CHECK_STR(hdr(r, "Mcp-Session-Id"), "abc-123");
    CHECK_STR(hdr(r, "X-Static"), "one");
    teardown(&f);
}

static void test_modern_headers(void)
{
    fixture f;
    CHECK(setup(&f, M_JSON, 0));
    f.t->modern = 1;
    strcpy(f.t->protocol_version, "2026-07-28");
    strands_error err;
    static const char *const extra[] = {"Mcp-Param-Region: us-west1"};
    mcp_send_info in = {
        .json = "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\","
                "\"params\":{\"name\":\"get_weather\"}}",
        .method = "tools/call", .name = "get_weather",
        .extra_headers = extra, .n_extra = 1, .is_request = 1};
    in.len = strlen(in.json);
    CHECK_INT(f.t->vt->send(f.t, &in, &err), STRANDS_OK);
    const lb_req *r = lb_nth(&f.srv, 0);
    CHECK_STR(hdr(r, "MCP-Protocol-Version"), "2026-07-28");
    CHECK_STR(hdr(r, "Mcp-Method"), "tools/call");
    CHECK_STR(hdr(r, "Mcp-Name"), "get_weather");
    CHECK_STR(hdr(r, "Mcp-Param-Region"), "us-west1");
    /* A name that is not plain header-safe ASCII: Base64 sentinel. */
    in.name = "Hello, \xe4\xb8\x96\xe7\x95\x8c";
    in.n_extra = 0;
    CHECK_INT(f.t->vt->send(f.t, &in, &err), STRANDS_OK);
    CHECK_STR(hdr(lb_nth(&f.srv, 1), "Mcp-Name"),
              "=?base64?SGVsbG8sIOS4lueVjA==?=");
    CHECK(hdr(lb_nth(&f.srv, 1), "Mcp-Param-Region") == NULL);
    /* No session in the modern era, even if a server sends one. */
    in.method = "initialize";
    in.name = NULL;
    CHECK_INT(f.t->vt->send(f.t, &in, &err), STRANDS_OK);
    in.method = "tools/list";
    CHECK_INT(f.t->vt->send(f.t, &in, &err), STRANDS_OK);
    CHECK(hdr(lb_nth(&f.srv, 3), "Mcp-Session-Id") == NULL);
    /* An extra line that would inject a header is refused. */
    static const char *const evil[] = {"Mcp-Param-X: a\r\nX-Evil: 1"};
    in.extra_headers = evil;
    in.n_extra = 1;
    CHECK_INT(f.t->vt->send(f.t, &in, &err), STRANDS_E_INVALID);
    CHECK_INT(lb_count(&f.srv), 4);
    teardown(&f);
}

static void test_error_body_delivered(void)
{
    fixture f;
    CHECK(setup(&f, M_400_RPC, 0));
    f.t->modern = 1;
    strcpy(f.t->protocol_version, "2026-07-28");
    strands_error err;
    CHECK_INT(send_msg(&f, REQ1, "tools/list", NULL, 1, NULL, 0, &err),
              STRANDS_OK);
    CHECK_INT(json_array_size(f.in.msgs), 1);
    CHECK_INT(json_integer_value(json_object_get(
                  json_object_get(msg_at(&f, 0), "error"), "code")),
              -32022);
    teardown(&f);

    /* A modern 404 with a JSON-RPC body is a message, not a lost session. */
    CHECK(setup(&f, M_404_RPC, 0));
    f.t->modern = 1;
    CHECK_INT(send_msg(&f, REQ1, "tools/list", NULL, 1, NULL, 0, &err),
              STRANDS_OK);
    CHECK_INT(json_array_size(f.in.msgs), 1);
    teardown(&f);
}

static void test_500_is_upstream(void)
{
    fixture f;
    CHECK(setup(&f, M_500, 0));
    strands_error err;
    CHECK_INT(send_msg(&f, REQ1, "tools/list", NULL, 1, NULL, 0, &err),
              STRANDS_E_UPSTREAM);
    CHECK_INT(err.http_status, 500);
    CHECK(strstr(err.message, "srv") && strstr(err.message, "HTTP 500"));
    CHECK(strstr(err.message, "boom") != NULL); /* a short quote */
    CHECK(!strstr(err.message, "\r") && !strstr(err.message, "\n"));
    CHECK(!strstr(err.message, "stat1c"));
    CHECK_INT(json_array_size(f.in.msgs), 0);
    teardown(&f);
}

static void test_reply_without_response(void)
{
    /* A request whose reply ends without its response fails at once
     * (streams are not resumed), keeping what did arrive. */
    fixture f;
    CHECK(setup(&f, M_SSE_CUT, 0));
    strands_error err;
    CHECK_INT(send_msg(&f, REQ1, "tools/list", NULL, 1, NULL, 0, &err),
              STRANDS_E_UPSTREAM);
    CHECK_STR(err.code, "McpNoResponse");
    CHECK_INT(err.http_status, 200);
    CHECK_INT(json_array_size(f.in.msgs), 1);
    teardown(&f);
    CHECK(setup(&f, M_EMPTY_200, 0));
    CHECK_INT(send_msg(&f, REQ1, "tools/list", NULL, 1, NULL, 0, &err),
              STRANDS_E_UPSTREAM);
    CHECK_STR(err.code, "McpNoResponse");
    /* A notification expects nothing: OK. */
    CHECK_INT(send_msg(&f, "{\"jsonrpc\":\"2.0\",\"method\":\"x\"}", "x",
                       NULL, 0, NULL, 0, &err),
              STRANDS_OK);
    teardown(&f);
}

typedef struct canceller {
    atomic_int *flag;
    long after_ms;
} canceller;

static void *cancel_later(void *arg)
{
    canceller *c = arg;
    lb_sleep_ms(c->after_ms);
    atomic_store(c->flag, 1);
    return NULL;
}

static void test_cancel(void)
{
    fixture f;
    CHECK(setup(&f, M_STALL, 0));
    atomic_int flag = 0;
    canceller c = {&flag, 300};
    pthread_t th;
    pthread_create(&th, NULL, cancel_later, &c);
    strands_error err;
    int64_t t0 = strands_clock_mono_ms();
    CHECK_INT(send_msg(&f, REQ1, "tools/list", NULL, 1, &flag, 0, &err),
              STRANDS_E_CANCELLED);
    int64_t took = strands_clock_mono_ms() - t0;
    pthread_join(th, NULL);
    CHECK(took >= 250 && took < 2500);
    CHECK_INT(json_array_size(f.in.msgs), 1); /* the notification */
    /* Already cancelled: nothing is sent. */
    int before = lb_count(&f.srv);
    CHECK_INT(send_msg(&f, REQ1, "tools/list", NULL, 1, &flag, 0, &err),
              STRANDS_E_CANCELLED);
    CHECK_INT(lb_count(&f.srv), before);
    teardown(&f);
}

static void test_deadline(void)
{
    fixture f;
    CHECK(setup(&f, M_STALL, 0));
    strands_error err;
    int64_t t0 = strands_clock_mono_ms();
    CHECK_INT(send_msg(&f, REQ1, "tools/list", NULL, 1, NULL, t0 + 600,
                       &err),
              STRANDS_E_TIMEOUT);
    int64_t took = strands_clock_mono_ms() - t0;
    CHECK(took >= 550 && took < 2500);
    CHECK(strstr(err.message, "srv") && strstr(err.message, "timed out"));
    /* A deadline already past: E_TIMEOUT, nothing sent. */
    int before = lb_count(&f.srv);
    CHECK_INT(send_msg(&f, REQ1, "tools/list", NULL, 1, NULL,
                       strands_clock_mono_ms() - 1, &err),
              STRANDS_E_TIMEOUT);
    CHECK_INT(lb_count(&f.srv), before);
    teardown(&f);
}

static void test_oversize(void)
{
    fixture f;
    CHECK(setup(&f, M_BIG_JSON, 65536));
    strands_error err;
    CHECK_INT(send_msg(&f, REQ1, "tools/list", NULL, 1, NULL, 0, &err),
              STRANDS_E_TOO_LARGE);
    CHECK(strstr(err.message, "65536") != NULL);
    CHECK_INT(json_array_size(f.in.msgs), 0);
    teardown(&f);
    CHECK(setup(&f, M_BIG_SSE, 65536));
    int64_t t0 = strands_clock_mono_ms();
    CHECK_INT(send_msg(&f, REQ1, "tools/list", NULL, 1, NULL, 0, &err),
              STRANDS_E_TOO_LARGE);
    CHECK(strands_clock_mono_ms() - t0 < 2500); /* stopped at the cap */
    CHECK_INT(json_array_size(f.in.msgs), 0);
    teardown(&f);
}

static void test_new_rejects_bad_options(void)
{
    http_client *h = http_client_new(1);
    strands_error err;
    mcp_http_opts o = {.server_name = "s", .url = "ftp://x/", .http = h};
    CHECK(mcp_http_new(&o, &err) == NULL);
    CHECK_INT(err.status, STRANDS_E_INVALID);
    o.url = "http://127.0.0.1:1/mcp";
    static const char *const bad[] = {"X-Ok: 1", "X-Bad: a\r\nInjected: 1"};
    o.headers = bad;
    o.n_headers = 2;
    CHECK(mcp_http_new(&o, &err) == NULL);
    CHECK(strstr(err.message, "header 2") && !strstr(err.message, "Injected"));
    o.n_headers = 1;
    mcp_transport *t = mcp_http_new(&o, &err);
    CHECK(t != NULL);
    CHECK_STR(t->vt->kind, "http");
    t->vt->destroy(t);
    /* Nobody listens on port 1: E_NETWORK naming the server. */
    o.n_headers = 0;
    t = mcp_http_new(&o, &err);
    inbox in = {.msgs = json_array()};
    pthread_mutex_init(&in.lock, NULL);
    t->on_message = on_message;
    t->cb_user = &in;
    mcp_send_info si = {.json = REQ1, .len = strlen(REQ1),
                        .method = "tools/list", .is_request = 1};
    CHECK_INT(t->vt->send(t, &si, &err), STRANDS_E_NETWORK);
    CHECK(strstr(err.message, "'s'") != NULL);
    t->vt->destroy(t);
    json_decref(in.msgs);
    pthread_mutex_destroy(&in.lock);
    http_client_free(h);
}

/* ---- x-mcp-header ------------------------------------------------------ */

static void test_encode_value_table(void)
{
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"us-west1", "us-west1"},
        {"Hello, \xe4\xb8\x96\xe7\x95\x8c", "=?base64?SGVsbG8sIOS4lueVjA==?="},
        {" padded ", "=?base64?IHBhZGRlZCA=?="},
        {"line1\nline2", "=?base64?bGluZTEKbGluZTI=?="},
        {"=?base64?literal?=", "=?base64?PT9iYXNlNjQ/bGl0ZXJhbD89?="},
        {"tab\there", "=?base64?dGFiCWhlcmU=?="},
        {"", "=?base64?" "?="}, /* split: "??=" is a trigraph */
        {"a b", "a b"},
        {"=?base64?", "=?base64?"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char *e = mcp_http_encode_value(cases[i].in, strlen(cases[i].in));
        CHECK_STR(e, cases[i].out);
        free(e);
    }
}

static void test_annotation_rules_table(void)
{
    static const struct {
        const char *schema;
        int valid;
        const char *why; /* a piece of the message when invalid */
    } cases[] = {
        {"{\"type\":\"object\"}", 1, NULL},
        {"{\"type\":\"object\",\"properties\":{\"region\":{\"type\":"
         "\"string\",\"x-mcp-header\":\"Region\"}}}", 1, NULL},
        {"{\"properties\":{\"a\":{\"type\":\"object\",\"properties\":{\"b\":"
         "{\"type\":\"integer\",\"x-mcp-header\":\"B\"}}}}}", 1, NULL},
        {"{\"properties\":{\"f\":{\"type\":[\"boolean\",\"null\"],"
         "\"x-mcp-header\":\"Flag\"}}}", 1, NULL},
        /* a property merely NAMED x-mcp-header, and one in a const */
        {"{\"properties\":{\"x-mcp-header\":{\"type\":\"string\"},\"c\":{"
         "\"const\":{\"x-mcp-header\":\"\"}}}}", 1, NULL},
        {"{\"properties\":{\"r\":{\"type\":\"string\",\"x-mcp-header\":"
         "\"\"}}}", 0, "empty"},
        {"{\"properties\":{\"r\":{\"type\":\"string\",\"x-mcp-header\":"
         "\"Re gion\"}}}", 0, "token"},
        {"{\"properties\":{\"r\":{\"type\":\"string\",\"x-mcp-header\":"
         "\"R\\r\\nX\"}}}", 0, "token"},
        {"{\"properties\":{\"r\":{\"type\":\"string\",\"x-mcp-header\":"
         "7}}}", 0, "string"},
        {"{\"properties\":{\"a\":{\"type\":\"string\",\"x-mcp-header\":"
         "\"Dup\"},\"b\":{\"type\":\"string\",\"x-mcp-header\":\"dUP\"}}}",
         0, "twice"},
        {"{\"properties\":{\"n\":{\"type\":\"number\",\"x-mcp-header\":"
         "\"N\"}}}", 0, "type"},
        {"{\"properties\":{\"o\":{\"type\":\"object\",\"x-mcp-header\":"
         "\"O\"}}}", 0, "type"},
        {"{\"properties\":{\"u\":{\"x-mcp-header\":\"U\"}}}", 0, "type"},
        {"{\"properties\":{\"l\":{\"type\":\"array\",\"items\":{\"type\":"
         "\"string\",\"x-mcp-header\":\"L\"}}}}", 0, "properties"},
        {"{\"properties\":{\"x\":{\"anyOf\":[{\"type\":\"string\","
         "\"x-mcp-header\":\"X\"}]}}}", 0, "properties"},
        {"{\"$defs\":{\"d\":{\"type\":\"string\",\"x-mcp-header\":\"D\"}},"
         "\"properties\":{\"d\":{\"$ref\":\"#/$defs/d\"}}}", 0, "properties"},
        {"{\"type\":\"string\",\"x-mcp-header\":\"Root\"}", 0, "properties"},
        {"{\"if\":{\"properties\":{\"a\":{\"type\":\"string\","
         "\"x-mcp-header\":\"A\"}}}}", 0, "properties"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        json_error_t je;
        json_t *s = json_loads(cases[i].schema, 0, &je);
        CHECK(s != NULL);
        strands_error err;
        strands_error_clear(&err);
        strands_status st = mcp_http_check_param_annotations(s, &err);
        if (cases[i].valid) {
            if (st != STRANDS_OK)
                FAIL_AT("case %zu should be valid: %s", i, err.message);
        } else if (st != STRANDS_E_INVALID ||
                   !strstr(err.message, cases[i].why)) {
            FAIL_AT("case %zu: status %d, message \"%s\" (want \"%s\")", i,
                    (int)st, err.message, cases[i].why);
        }
        json_decref(s);
    }
}

static void test_param_headers(void)
{
    json_t *schema = json_loads(
        "{\"type\":\"object\",\"properties\":{"
        "\"region\":{\"type\":\"string\",\"x-mcp-header\":\"Region\"},"
        "\"n\":{\"type\":\"integer\",\"x-mcp-header\":\"Count\"},"
        "\"f\":{\"type\":\"boolean\",\"x-mcp-header\":\"Flag\"},"
        "\"g\":{\"type\":\"string\",\"x-mcp-header\":\"Greeting\"},"
        "\"z\":{\"type\":[\"string\",\"null\"],\"x-mcp-header\":\"Z\"},"
        "\"gone\":{\"type\":\"string\",\"x-mcp-header\":\"Gone\"},"
        "\"o\":{\"type\":\"object\",\"properties\":{\"t\":{\"type\":"
        "\"string\",\"x-mcp-header\":\"Tenant\"}}},"
        "\"q\":{\"type\":\"string\"}}}", 0, NULL);
    json_t *args = json_loads(
        "{\"region\":\"us-west1\",\"n\":-7,\"f\":false,"
        "\"g\":\"Hello, \\u4e16\\u754c\",\"z\":null,"
        "\"o\":{\"t\":\"acme\"},\"q\":\"SELECT 1\"}", 0, NULL);
    char **lines = NULL;
    size_t n = 0;
    strands_error err;
    CHECK_INT(mcp_http_param_headers(schema, args, &lines, &n, &err),
              STRANDS_OK);
    CHECK_INT(n, 5);
    const char *want[] = {"Mcp-Param-Region: us-west1",
                          "Mcp-Param-Count: -7", "Mcp-Param-Flag: false",
                          "Mcp-Param-Greeting: =?base64?SGVsbG8sIOS4lueVjA==?=",
                          "Mcp-Param-Tenant: acme"};
    for (size_t i = 0; i < 5 && i < n; i++) {
        int found = 0;
        for (size_t k = 0; k < n; k++) found |= !strcmp(lines[k], want[i]);
        if (!found) FAIL_AT("missing header line \"%s\"", want[i]);
    }
    CHECK(lines && lines[n] == NULL);
    mcp_header_lines_free(lines);

    /* An object where a primitive belongs; an unsafe integer. */
    json_object_set_new(args, "region", json_pack("{s:i}", "a", 1));
    CHECK_INT(mcp_http_param_headers(schema, args, &lines, &n, &err),
              STRANDS_E_INVALID);
    CHECK(strstr(err.message, "Mcp-Param-Region") != NULL);
    CHECK(lines == NULL);
    json_object_set_new(args, "region", json_string("x"));
    json_object_set_new(args, "n", json_integer(9007199254740992LL));
    CHECK_INT(mcp_http_param_headers(schema, args, &lines, &n, &err),
              STRANDS_E_INVALID);
    CHECK(strstr(err.message, "safe integer") != NULL);
    /* No annotations: no lines. */
    json_t *plain = json_loads("{\"type\":\"object\"}", 0, NULL);
    CHECK_INT(mcp_http_param_headers(plain, args, &lines, &n, &err),
              STRANDS_OK);
    CHECK_INT(n, 0);
    mcp_header_lines_free(lines);
    mcp_header_lines_free(NULL);
    json_decref(plain);
    json_decref(schema);
    json_decref(args);
}

int main(void)
{
    RUN(test_json_reply);
    RUN(test_sse_reply);
    RUN(test_session_kept_and_lost);
    RUN(test_modern_headers);
    RUN(test_error_body_delivered);
    RUN(test_500_is_upstream);
    RUN(test_reply_without_response);
    RUN(test_cancel);
    RUN(test_deadline);
    RUN(test_oversize);
    RUN(test_new_rejects_bad_options);
    RUN(test_encode_value_table);
    RUN(test_annotation_rules_table);
    RUN(test_param_headers);
    return test_report();
}
