/* Auth for remote MCP servers (src/mcp/auth.c) through the HTTP transport.
 *
 * SigV4: a Python fake AgentCore Gateway (tests/fakes/fake_gateway.py)
 * checks every signature with botocore (an independent implementation)
 * and answers 403 when it does not match; a whole legacy MCP exchange
 * (initialize, notification, tools/list, tools/call over SSE, DELETE) is
 * accepted, while a wrong secret or region is refused. Skipped when
 * /usr/bin/python3 has no botocore.
 *
 * OAuth client credentials against a loopback token endpoint: the token
 * is fetched once and cached, fetched again after expiry, dropped and
 * re-fetched after a 401 (one retry only), fetched once for many
 * concurrent requests; the Basic client authentication and form body are
 * as RFC 6749 says; token endpoint errors are clear; neither the secret
 * nor a token ever appears in an error message.                        */
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/wait.h>

#include "test.h"
#include "loopback_http.h"
#include "mcp/auth.h"
#include "mcp/transport.h"
#include "net/http_client.h"
#include "strands/aws.h"
#include "strands/clock.h"

static const char SECRET[] = "s3cr:t/+x";
static const char TOKEN_MARK[] = "SECRETTOKENVALUE";

/* ---- shared client pieces --------------------------------------------- */

typedef struct inbox {
    pthread_mutex_t lock;
    json_t *msgs;
} inbox;

static void on_message(void *user, json_t *msg)
{
    inbox *in = user;
    pthread_mutex_lock(&in->lock);
    json_array_append_new(in->msgs, json_deep_copy(msg));
    pthread_mutex_unlock(&in->lock);
    json_decref(msg); /* the callback owns it */
}

static mcp_transport *transport(const char *url, mcp_auth *auth,
                                http_client *http, inbox *in)
{
    mcp_http_opts o = {.server_name = "gw", .url = url, .auth = auth,
                       .http = http};
    strands_error err;
    mcp_transport *t = mcp_http_new(&o, &err);
    if (t) {
        t->on_message = on_message;
        t->cb_user = in;
    }
    return t;
}

static strands_status send_json(mcp_transport *t, const char *json,
                                const char *method, int is_request,
                                strands_error *err)
{
    mcp_send_info in = {.json = json, .len = strlen(json), .method = method,
                        .is_request = is_request,
                        .deadline_ms = strands_clock_mono_ms() + 10000};
    strands_error_clear(err);
    return t->vt->send(t, &in, err);
}

static void no_secrets(const strands_error *err)
{
    if (strstr(err->message, SECRET) || strstr(err->message, TOKEN_MARK) ||
        strstr(err->message, "Basic "))
        FAIL_AT("a secret in an error message: %s", err->message);
}

/* ---- SigV4 against the botocore-checked fake Gateway ------------------- */

typedef struct child {
    pid_t pid;
    char url[128];
} child;

/* Starts the fake; 1 with its URL, 0 when it exited with 3 (no botocore),
 * -1 on other failures. */
static int start_gateway(child *c, const char *region)
{
    int p[2];
    if (pipe(p)) return -1;
    c->pid = fork();
    if (c->pid < 0) return -1;
    if (c->pid == 0) {
        dup2(p[1], 1);
        close(p[0]);
        close(p[1]);
        execl("/usr/bin/python3", "python3",
              STRANDS_SOURCE_DIR "/tests/fakes/fake_gateway.py", "--port",
              "0", "--access-key", "AKIDMCPTEST", "--secret-key",
              "gateway/secret+key", "--session-token", "tok+en/session=",
              "--region", region, (char *)NULL);
        _exit(127);
    }
    close(p[1]);
    size_t got = 0;
    c->url[0] = '\0';
    int64_t until = strands_clock_mono_ms() + 20000;
    while (got + 1 < sizeof c->url && !strchr(c->url, '\n') &&
           strands_clock_mono_ms() < until) {
        struct pollfd q = {p[0], POLLIN, 0};
        if (poll(&q, 1, 200) <= 0) continue;
        ssize_t n = read(p[0], c->url + got, sizeof c->url - 1 - got);
        if (n <= 0) break;
        got += (size_t)n;
        c->url[got] = '\0';
    }
    close(p[0]);
    char *nl = strchr(c->url, '\n');
    if (nl) {
        *nl = '\0';
        return 1;
    }
    int status = 0;
    kill(c->pid, SIGKILL);
    waitpid(c->pid, &status, 0);
    return WIFEXITED(status) && WEXITSTATUS(status) == 3 ? 0 : -1;
}

static void stop_gateway(child *c)
{
    int status;
    kill(c->pid, SIGTERM);
    for (int i = 0; i < 100; i++) {
        if (waitpid(c->pid, &status, WNOHANG) == c->pid) return;
        lb_sleep_ms(20);
    }
    kill(c->pid, SIGKILL);
    waitpid(c->pid, &status, 0);
}

static const char INIT[] =
    "{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":\"initialize\",\"params\":{"
    "\"protocolVersion\":\"2025-11-25\",\"capabilities\":{},"
    "\"clientInfo\":{\"name\":\"strands-c-test\",\"version\":\"1\"}}}";

static void test_sigv4_gateway(void)
{
    child gw;
    int started = start_gateway(&gw, "us-west-2");
    if (started == 0) SKIP("/usr/bin/python3 has no botocore");
    CHECK_INT(started, 1);
    if (started != 1) return;
    char url[256];
    /* A path with an escape and a query: both sides canonicalise them. */
    snprintf(url, sizeof url, "%s/mcp/a%%3Ab?z=1&a=2", gw.url);
    strands_error err;
    strands_credentials_provider *good = strands_credentials_static_new(
        "AKIDMCPTEST", "gateway/secret+key", "tok+en/session=", &err);
    strands_credentials_provider *bad = strands_credentials_static_new(
        "AKIDMCPTEST", "not-the-secret", "tok+en/session=", &err);
    http_client *http = http_client_new(2);
    inbox in = {.msgs = json_array()};
    pthread_mutex_init(&in.lock, NULL);

    mcp_auth_config cfg = {.kind = MCP_AUTH_SIGV4};
    mcp_auth *auth = mcp_auth_new(&cfg, good, "us-west-2", http, &err);
    CHECK(auth != NULL);
    mcp_transport *t = transport(url, auth, http, &in);
    CHECK_INT(send_json(t, INIT, "initialize", 1, &err), STRANDS_OK);
    if (err.status) fprintf(stderr, "  %s\n", err.message);
    strcpy(t->protocol_version, "2025-11-25");
    CHECK_INT(send_json(t, "{\"jsonrpc\":\"2.0\",\"method\":"
                           "\"notifications/initialized\"}",
                        "notifications/initialized", 0, &err),
              STRANDS_OK);
    CHECK_INT(send_json(t, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":"
                           "\"tools/list\"}", "tools/list", 1, &err),
              STRANDS_OK);
    CHECK_INT(send_json(t, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":"
                           "\"tools/call\",\"params\":{\"name\":"
                           "\"calc___add\",\"arguments\":{\"a\":2,\"b\":40}}}",
                        "tools/call", 1, &err),
              STRANDS_OK);
    CHECK_INT(json_array_size(in.msgs), 3);
    const json_t *init = json_array_get(in.msgs, 0);
    CHECK_STR(json_string_value(json_object_get(
                  json_object_get(init, "result"), "protocolVersion")),
              "2025-11-25");
    const json_t *list = json_object_get(json_array_get(in.msgs, 1),
                                         "result");
    CHECK_INT(json_array_size(json_object_get(list, "tools")), 2);
    const json_t *call = json_object_get(json_array_get(in.msgs, 2),
                                         "result");
    CHECK_STR(json_string_value(json_object_get(
                  json_array_get(json_object_get(call, "content"), 0),
                  "text")),
              "42");
    t->vt->destroy(t); /* DELETEs the session, signed */
    mcp_auth_free(auth);

    /* Wrong secret: botocore's signature differs -> 403. */
    auth = mcp_auth_new(&cfg, bad, "us-west-2", http, &err);
    t = transport(url, auth, http, &in);
    CHECK_INT(send_json(t, INIT, "initialize", 1, &err), STRANDS_E_UPSTREAM);
    CHECK_INT(err.http_status, 403);
    CHECK(strstr(err.message, "HTTP 403") != NULL);
    CHECK(!strstr(err.message, "not-the-secret"));
    t->vt->destroy(t);
    mcp_auth_free(auth);

    /* Right keys, region from the config (wins over the runtime's): the
     * fake expects us-west-2, so eu-west-1 is refused. */
    cfg.region = "eu-west-1";
    auth = mcp_auth_new(&cfg, good, "us-west-2", http, &err);
    t = transport(url, auth, http, &in);
    CHECK_INT(send_json(t, INIT, "initialize", 1, &err), STRANDS_E_UPSTREAM);
    CHECK_INT(err.http_status, 403);
    t->vt->destroy(t);
    mcp_auth_free(auth);
    /* ... and a wrong service name too. */
    cfg.region = NULL;
    cfg.service = "execute-api";
    auth = mcp_auth_new(&cfg, good, "us-west-2", http, &err);
    t = transport(url, auth, http, &in);
    CHECK_INT(send_json(t, INIT, "initialize", 1, &err), STRANDS_E_UPSTREAM);
    t->vt->destroy(t);
    mcp_auth_free(auth);

    /* The fake's log: the DELETE was accepted (signature and session). */
    char log_url[256];
    snprintf(log_url, sizeof log_url, "%s/__fake/requests", gw.url);
    http_request rq = {.method = "GET", .url = log_url, .no_proxy = 1};
    http_response resp;
    CHECK_INT(http_client_send(http, &rq, &resp, &err), STRANDS_OK);
    json_t *logj = json_loads(dynbuf_str(&resp.body), 0, NULL);
    int deletes_ok = 0, denied = 0;
    size_t i;
    json_t *e;
    json_array_foreach(logj, i, e) {
        const char *m = json_string_value(json_object_get(e, "method"));
        json_int_t st = json_integer_value(json_object_get(e, "status"));
        if (m && !strcmp(m, "DELETE") && st == 200) deletes_ok++;
        if (st == 403) denied++;
    }
    CHECK_INT(deletes_ok, 1);
    CHECK_INT(denied, 3);
    json_decref(logj);
    http_response_cleanup(&resp);

    json_decref(in.msgs);
    pthread_mutex_destroy(&in.lock);
    http_client_free(http);
    strands_credentials_provider_free(good);
    strands_credentials_provider_free(bad);
    stop_gateway(&gw);
}

/* ---- OAuth against a loopback token endpoint --------------------------- */

typedef struct oauth_script {
    atomic_int fetches;        /* token requests served */
    atomic_int ttl;            /* expires_in handed out (-1: omitted) */
    atomic_int token_status;   /* 200, or an error status */
    atomic_int echo_secret;    /* error_description quotes the secret */
    atomic_int revoked_upto;   /* tokens numbered <= this get 401 */
    atomic_int token_delay_ms;
    atomic_int mcp_calls;
    pthread_mutex_t lock;
    char basic[512], form[512], ctype[512];
} oauth_script;

static void oauth_handler(lb_server *s, const lb_req *r, int fd)
{
    oauth_script *sc = s->user;
    char buf[512], body[1024];
    if (!strcmp(r->path, "/token")) {
        int n = atomic_fetch_add(&sc->fetches, 1) + 1;
        pthread_mutex_lock(&sc->lock);
        snprintf(sc->basic, sizeof sc->basic, "%s",
                 lb_header(r, "Authorization", buf, sizeof buf)
                     ? buf : "(none)");
        snprintf(sc->ctype, sizeof sc->ctype, "%s",
                 lb_header(r, "Content-Type", buf, sizeof buf) ? buf : "");
        snprintf(sc->form, sizeof sc->form, "%s", r->body);
        pthread_mutex_unlock(&sc->lock);
        if (atomic_load(&sc->token_delay_ms))
            lb_sleep_ms(atomic_load(&sc->token_delay_ms));
        int st = atomic_load(&sc->token_status);
        if (st != 200) {
            snprintf(body, sizeof body,
                     "{\"error\":\"invalid_client\",\"error_description\":"
                     "\"%s\"}", atomic_load(&sc->echo_secret)
                                    ? "secret s3cr:t/+x is wrong"
                                    : "client authentication failed");
            lb_respond(fd, st, NULL, "application/json", body);
            return;
        }
        int ttl = atomic_load(&sc->ttl);
        if (ttl >= 0)
            snprintf(body, sizeof body,
                     "{\"access_token\":\"tok-%d-%s\",\"token_type\":"
                     "\"bearer\",\"expires_in\":%d}", n, TOKEN_MARK, ttl);
        else
            snprintf(body, sizeof body,
                     "{\"access_token\":\"tok-%d-%s\",\"token_type\":"
                     "\"Bearer\"}", n, TOKEN_MARK);
        lb_respond(fd, 200, "Cache-Control: no-store\r\n",
                   "application/json", body);
        return;
    }
    atomic_fetch_add(&sc->mcp_calls, 1);
    int n = 0;
    if (!lb_header(r, "Authorization", buf, sizeof buf) ||
        sscanf(buf, "Bearer tok-%d-", &n) != 1 ||
        n <= atomic_load(&sc->revoked_upto)) {
        /* Echo what came: the client must not quote it back. */
        snprintf(body, sizeof body, "invalid token: %s", buf);
        lb_respond(fd, 401, "WWW-Authenticate: Bearer error=\"invalid_token\""
                            "\r\n", "text/plain", body);
        return;
    }
    lb_respond(fd, 200, NULL, "application/json",
               "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}");
}

typedef struct ofix {
    oauth_script sc;
    lb_server srv;
    http_client *http;
    mcp_auth *auth;
    mcp_transport *t;
    inbox in;
    char token_url[128], mcp_url[128];
} ofix;

static int osetup(ofix *f, int ttl)
{
    memset(f, 0, sizeof *f);
    atomic_store(&f->sc.ttl, ttl);
    atomic_store(&f->sc.token_status, 200);
    pthread_mutex_init(&f->sc.lock, NULL);
    lb_start(&f->srv, oauth_handler, &f->sc);
    snprintf(f->token_url, sizeof f->token_url, "http://127.0.0.1:%d/token",
             f->srv.port);
    snprintf(f->mcp_url, sizeof f->mcp_url, "http://127.0.0.1:%d/mcp",
             f->srv.port);
    f->http = http_client_new(8);
    f->in.msgs = json_array();
    pthread_mutex_init(&f->in.lock, NULL);
    mcp_auth_config cfg = {.kind = MCP_AUTH_OAUTH2_CLIENT_CREDENTIALS,
                           .token_url = f->token_url,
                           .client_id = "my client",
                           .client_secret = (char *)SECRET,
                           .scope = "read write"};
    strands_error err;
    f->auth = mcp_auth_new(&cfg, NULL, NULL, f->http, &err);
    if (!f->auth) return 0;
    f->t = transport(f->mcp_url, f->auth, f->http, &f->in);
    return f->t != NULL;
}

static void oteardown(ofix *f)
{
    if (f->t) f->t->vt->destroy(f->t);
    mcp_auth_free(f->auth);
    lb_stop(&f->srv);
    http_client_free(f->http);
    json_decref(f->in.msgs);
    pthread_mutex_destroy(&f->in.lock);
    pthread_mutex_destroy(&f->sc.lock);
}

static const char LIST[] =
    "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\"}";

static int bearer_number(ofix *f, int i)
{
    char buf[256];
    int n = -1;
    const lb_req *r = lb_nth(&f->srv, i);
    if (r && lb_header(r, "Authorization", buf, sizeof buf))
        sscanf(buf, "Bearer tok-%d-", &n);
    return n;
}

static void test_oauth_token_cached(void)
{
    ofix f;
    CHECK(osetup(&f, 3600));
    strands_error err;
    for (int i = 0; i < 3; i++)
        CHECK_INT(send_json(f.t, LIST, "tools/list", 1, &err), STRANDS_OK);
    CHECK_INT(atomic_load(&f.sc.fetches), 1);
    CHECK_INT(atomic_load(&f.sc.mcp_calls), 3);
    CHECK_INT(json_array_size(f.in.msgs), 3);
    /* Requests: /token, then /mcp x3, all with token 1. */
    CHECK_STR(lb_nth(&f.srv, 0)->path, "/token");
    for (int i = 1; i <= 3; i++) CHECK_INT(bearer_number(&f, i), 1);
    /* RFC 6749 2.3.1: id and secret form-encoded, then Basic. */
    CHECK_STR(f.sc.basic, "Basic bXklMjBjbGllbnQ6czNjciUzQXQlMkYlMkJ4");
    CHECK_STR(f.sc.form, "grant_type=client_credentials&scope=read%20write");
    CHECK_STR(f.sc.ctype, "application/x-www-form-urlencoded");
    oteardown(&f);
}

static void test_oauth_refetch_after_expiry(void)
{
    ofix f;
    /* expires_in 1 s: cached for 1 s minus 10% (0 s rounded) */
    CHECK(osetup(&f, 1));
    strands_error err;
    CHECK_INT(send_json(f.t, LIST, "tools/list", 1, &err), STRANDS_OK);
    CHECK_INT(send_json(f.t, LIST, "tools/list", 1, &err), STRANDS_OK);
    CHECK_INT(atomic_load(&f.sc.fetches), 1);
    lb_sleep_ms(1100);
    CHECK_INT(send_json(f.t, LIST, "tools/list", 1, &err), STRANDS_OK);
    CHECK_INT(atomic_load(&f.sc.fetches), 2);
    CHECK_INT(bearer_number(&f, lb_count(&f.srv) - 1), 2);
    oteardown(&f);

    /* expires_in 20 s: cached for 18 s (10% margin), not refetched. */
    CHECK(osetup(&f, 20));
    CHECK_INT(send_json(f.t, LIST, "tools/list", 1, &err), STRANDS_OK);
    lb_sleep_ms(1100);
    CHECK_INT(send_json(f.t, LIST, "tools/list", 1, &err), STRANDS_OK);
    CHECK_INT(atomic_load(&f.sc.fetches), 1);
    oteardown(&f);
}

static void test_oauth_401_refetches_once(void)
{
    ofix f;
    CHECK(osetup(&f, 3600));
    strands_error err;
    CHECK_INT(send_json(f.t, LIST, "tools/list", 1, &err), STRANDS_OK);
    atomic_store(&f.sc.revoked_upto, 1); /* the server drops token 1 */
    CHECK_INT(send_json(f.t, LIST, "tools/list", 1, &err), STRANDS_OK);
    CHECK_INT(atomic_load(&f.sc.fetches), 2);
    CHECK_INT(atomic_load(&f.sc.mcp_calls), 3); /* 401, then the retry */
    CHECK_INT(bearer_number(&f, lb_count(&f.srv) - 1), 2);

    /* Every token refused: one retry, then E_UPSTREAM 401 - and the
     * echoed token is not quoted in the message. */
    atomic_store(&f.sc.revoked_upto, 1000);
    int calls = atomic_load(&f.sc.mcp_calls);
    CHECK_INT(send_json(f.t, LIST, "tools/list", 1, &err),
              STRANDS_E_UPSTREAM);
    CHECK_INT(err.http_status, 401);
    CHECK_INT(atomic_load(&f.sc.mcp_calls), calls + 2);
    CHECK(strstr(err.message, "HTTP 401") != NULL);
    no_secrets(&err);
    oteardown(&f);
}

static void test_oauth_token_endpoint_errors(void)
{
    ofix f;
    CHECK(osetup(&f, 3600));
    atomic_store(&f.sc.token_status, 401);
    strands_error err;
    CHECK_INT(send_json(f.t, LIST, "tools/list", 1, &err),
              STRANDS_E_UPSTREAM);
    CHECK_INT(err.http_status, 401);
    CHECK(strstr(err.message, "token endpoint") &&
          strstr(err.message, "invalid_client") &&
          strstr(err.message, "client authentication failed"));
    CHECK(strstr(err.message, "'gw'") != NULL);
    no_secrets(&err);
    CHECK_INT(atomic_load(&f.sc.mcp_calls), 0);
    /* A description quoting the secret is left out. */
    atomic_store(&f.sc.echo_secret, 1);
    CHECK_INT(send_json(f.t, LIST, "tools/list", 1, &err),
              STRANDS_E_UPSTREAM);
    CHECK(strstr(err.message, "invalid_client") != NULL);
    no_secrets(&err);
    oteardown(&f);

    /* Nobody at the token URL: a network error, no secret. */
    CHECK(osetup(&f, 3600));
    mcp_auth_config cfg = {.kind = MCP_AUTH_OAUTH2_CLIENT_CREDENTIALS,
                           .token_url = "http://127.0.0.1:1/token",
                           .client_id = "id",
                           .client_secret = (char *)SECRET};
    mcp_auth *a = mcp_auth_new(&cfg, NULL, NULL, f.http, &err);
    CHECK(a != NULL);
    mcp_transport *t = transport(f.mcp_url, a, f.http, &f.in);
    CHECK_INT(send_json(t, LIST, "tools/list", 1, &err), STRANDS_E_NETWORK);
    CHECK(strstr(err.message, "OAuth token") != NULL);
    no_secrets(&err);
    t->vt->destroy(t);
    mcp_auth_free(a);
    oteardown(&f);
}

static void test_oauth_expires_in_absent(void)
{
    ofix f;
    CHECK(osetup(&f, -1)); /* no expires_in: cached for 5 min - 30 s */
    strands_error err;
    CHECK_INT(send_json(f.t, LIST, "tools/list", 1, &err), STRANDS_OK);
    CHECK_INT(send_json(f.t, LIST, "tools/list", 1, &err), STRANDS_OK);
    CHECK_INT(atomic_load(&f.sc.fetches), 1);
    oteardown(&f);
}

typedef struct worker {
    ofix *f;
    strands_status st;
} worker;

static void *send_one(void *arg)
{
    worker *w = arg;
    strands_error err;
    w->st = send_json(w->f->t, LIST, "tools/list", 1, &err);
    return NULL;
}

static void test_oauth_one_fetch_for_concurrent_requests(void)
{
    ofix f;
    CHECK(osetup(&f, 3600));
    atomic_store(&f.sc.token_delay_ms, 300);
    pthread_t th[8];
    worker w[8];
    for (int i = 0; i < 8; i++) {
        w[i] = (worker){&f, STRANDS_E_INTERNAL};
        pthread_create(&th[i], NULL, send_one, &w[i]);
    }
    for (int i = 0; i < 8; i++) {
        pthread_join(th[i], NULL);
        CHECK_INT(w[i].st, STRANDS_OK);
    }
    CHECK_INT(atomic_load(&f.sc.fetches), 1);
    CHECK_INT(atomic_load(&f.sc.mcp_calls), 8);
    /* Waiters share a failed fetch's error instead of each retrying. */
    mcp_auth_invalidate(f.auth);
    atomic_store(&f.sc.token_status, 500);
    for (int i = 0; i < 8; i++) {
        w[i] = (worker){&f, STRANDS_OK};
        pthread_create(&th[i], NULL, send_one, &w[i]);
    }
    for (int i = 0; i < 8; i++) {
        pthread_join(th[i], NULL);
        CHECK_INT(w[i].st, STRANDS_E_UPSTREAM);
    }
    CHECK(atomic_load(&f.sc.fetches) < 1 + 8);
    oteardown(&f);
}

static void test_auth_new_rejects(void)
{
    strands_error err;
    http_client *http = http_client_new(1);
    mcp_auth_config none = {.kind = MCP_AUTH_NONE};
    CHECK(mcp_auth_new(&none, NULL, NULL, http, &err) == NULL);
    CHECK_INT(err.status, STRANDS_OK);
    mcp_auth_config sig = {.kind = MCP_AUTH_SIGV4};
    CHECK(mcp_auth_new(&sig, NULL, "us-east-1", http, &err) == NULL);
    CHECK_INT(err.status, STRANDS_E_INVALID);
    mcp_auth_config oa = {.kind = MCP_AUTH_OAUTH2_CLIENT_CREDENTIALS,
                          .token_url = "http://auth.example.com/token",
                          .client_id = "id",
                          .client_secret = (char *)SECRET};
    /* The secret would travel in clear: plain http only to loopback. */
    CHECK(mcp_auth_new(&oa, NULL, NULL, http, &err) == NULL);
    CHECK_INT(err.status, STRANDS_E_INVALID);
    CHECK(strstr(err.message, "token_url") != NULL);
    no_secrets(&err);
    oa.token_url = "https://auth.example.com/token";
    oa.client_secret = NULL;
    CHECK(mcp_auth_new(&oa, NULL, NULL, http, &err) == NULL);
    CHECK_INT(err.status, STRANDS_E_INVALID);
    oa.client_secret = (char *)SECRET;
    mcp_auth *a = mcp_auth_new(&oa, NULL, NULL, http, &err);
    CHECK(a != NULL);
    mcp_auth_invalidate(a);
    mcp_auth_free(a);
    mcp_auth_free(NULL);
    mcp_auth_invalidate(NULL);
    http_client_free(http);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    RUN(test_sigv4_gateway);
    RUN(test_oauth_token_cached);
    RUN(test_oauth_refetch_after_expiry);
    RUN(test_oauth_401_refetches_once);
    RUN(test_oauth_token_endpoint_errors);
    RUN(test_oauth_expires_in_absent);
    RUN(test_oauth_one_fetch_for_concurrent_requests);
    RUN(test_auth_new_rejects);
    return test_report();
}
