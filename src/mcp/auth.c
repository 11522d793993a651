/* Per-request authentication for remote MCP servers (auth.h): SigV4 and
 * OAuth 2.0 client credentials.
 *
 * SigV4 signs like botocore does for a JSON service such as
 * bedrock-agentcore: host, x-amz-date, x-amz-security-token (when the
 * credentials have one) and every header the transport will send
 * (content-type, accept, the Mcp-* ones, static headers); the payload's
 * SHA-256 goes into the canonical request but no x-amz-content-sha256
 * header is added (botocore adds that one for S3 only).
 *
 * OAuth 2.0 client credentials (RFC 6749 section 4.4): a POST of
 * "grant_type=client_credentials[&scope=...]" to the token URL with the
 * client authenticated by HTTP Basic (client id and secret each
 * form-urlencoded first, section 2.3.1 - the method every server must
 * support; secrets in the body are only a MAY). The answer's access_token
 * is cached until expires_in minus 60 s (minus 10% for tokens living less
 * than 10 minutes; 5 minutes when the server sends no expires_in). One
 * fetch runs at a time: other requests wait for it and share its token or
 * its error. Token answers are capped at 64 KiB, tokens at 16 KiB of
 * visible ASCII. Neither the secret nor a token ever reaches a message. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>
#include <jansson.h>

#include "aws/sigv4.h"
#include "mcp/auth.h"
#include "mcp/transport.h"
#include "net/base64.h"
#include "net/http_client.h"
#include "net/url.h"
#include "strands/clock.h"

#define DEFAULT_SERVICE "bedrock-agentcore"
#define MAX_SIGNED_HEADERS 300
#define TOKEN_RESPONSE_MAX ((size_t)64 << 10)
#define TOKEN_MAX 16384u
#define DEFAULT_TOKEN_TTL_S 300
#define DEFAULT_FETCH_MS 30000
#define ERROR_DESCRIPTION_MAX 200

struct mcp_auth {
    mcp_auth_kind kind;
    /* SigV4 */
    char *service, *region;
    strands_credentials_provider *creds;   /* borrowed */
    /* OAuth */
    char *token_url, *client_secret_probe; /* probe: for redaction checks */
    char *basic;                           /* "Basic <b64>": secret-bearing */
    char *form;                            /* the token request body */
    http_client *http;                     /* borrowed */
    pthread_mutex_t lock;
    pthread_cond_t cond;
    char *token;                           /* cached; NULL: none */
    int64_t valid_until_ms;                /* monotonic */
    int64_t valid_until_wall;              /* Unix seconds: also checked,
                                              since a process restored from
                                              a snapshot may see its
                                              monotonic clock not move over
                                              hours of wall time */
    int fetching;
    unsigned long gen;                     /* completed fetches */
    strands_error last_err;                /* of the last fetch */
};

static void wipe_free(char *s)
{
    if (s) explicit_bzero(s, strlen(s));
    free(s);
}

void mcp_auth_free(mcp_auth *a)
{
    if (!a) return;
    free(a->service);
    free(a->region);
    free(a->token_url);
    wipe_free(a->client_secret_probe);
    wipe_free(a->basic);
    wipe_free(a->form);
    wipe_free(a->token);
    if (a->kind == MCP_AUTH_OAUTH2_CLIENT_CREDENTIALS) {
        pthread_mutex_destroy(&a->lock);
        pthread_cond_destroy(&a->cond);
    }
    free(a);
}

/* application/x-www-form-urlencoded (libcurl's escape: all but
 * unreserved bytes as %XX, which every form decoder reads). */
static char *form_encode(const char *s)
{
    char *e = curl_easy_escape(NULL, s, (int)strlen(s));
    if (!e) return NULL;
    char *copy = strdup(e);
    explicit_bzero(e, strlen(e));
    curl_free(e);
    return copy;
}

static strands_status oauth_init(mcp_auth *a, const mcp_auth_config *cfg,
                                 http_client *http, strands_error *err)
{
    if (!cfg->token_url || !cfg->token_url[0] || !cfg->client_id ||
        !cfg->client_id[0] || !cfg->client_secret || !cfg->client_secret[0])
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "OAuth client credentials need token_url, "
                                 "client_id and client_secret");
    if (!http)
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "OAuth client credentials need an HTTP "
                                 "client");
    net_url u;
    /* The secret goes there: https, or plain http to loopback only. */
    if (net_url_parse(cfg->token_url, NET_URL_HTTP_LOOPBACK_ONLY,
                      "auth.token_url", &u, err) != STRANDS_OK)
        return err ? err->status : STRANDS_E_INVALID;
    net_url_cleanup(&u);
    a->http = http;

    char *id = form_encode(cfg->client_id);
    char *secret = form_encode(cfg->client_secret);
    char *scope = cfg->scope && cfg->scope[0] ? form_encode(cfg->scope)
                                              : NULL;
    char *pair = NULL, *b64 = NULL;
    strands_status st = STRANDS_E_NOMEM;
    if (id && secret && (scope || !(cfg->scope && cfg->scope[0]))) {
        size_t pl = strlen(id) + strlen(secret) + 2;
        pair = malloc(pl);
        if (pair) {
            snprintf(pair, pl, "%s:%s", id, secret);
            size_t bl = 0;
            b64 = net_base64_encode(pair, strlen(pair), &bl);
            if (b64 && (a->basic = malloc(bl + 7)))
                snprintf(a->basic, bl + 7, "Basic %s", b64);
        }
        size_t fl = strlen("grant_type=client_credentials&scope=") +
                    (scope ? strlen(scope) : 0) + 1;
        a->form = malloc(fl);
        if (a->form)
            snprintf(a->form, fl, "grant_type=client_credentials%s%s",
                     scope ? "&scope=" : "", scope ? scope : "");
        a->token_url = strdup(cfg->token_url);
        a->client_secret_probe = strdup(cfg->client_secret);
        if (a->basic && a->form && a->token_url && a->client_secret_probe)
            st = STRANDS_OK;
    }
    wipe_free(id);
    wipe_free(secret);
    free(scope);
    wipe_free(pair);
    wipe_free(b64);
    if (st != STRANDS_OK)
        return strands_error_set(err, st, NULL,
                                 "out of memory setting up OAuth");
    return STRANDS_OK;
}

mcp_auth *mcp_auth_new(const mcp_auth_config *cfg,
                       strands_credentials_provider *creds,
                       const char *region, http_client *http,
                       strands_error *err)
{
    strands_error_clear(err);
    if (!cfg || cfg->kind == MCP_AUTH_NONE) return NULL;
    if (cfg->kind != MCP_AUTH_SIGV4 &&
        cfg->kind != MCP_AUTH_OAUTH2_CLIENT_CREDENTIALS) {
        strands_error_set(err, STRANDS_E_INVALID, NULL,
                          "unknown MCP auth kind %d", (int)cfg->kind);
        return NULL;
    }
    mcp_auth *a = calloc(1, sizeof *a);
    if (!a) {
        strands_error_set(err, STRANDS_E_NOMEM, NULL, "out of memory");
        return NULL;
    }
    a->kind = cfg->kind;
    strands_status st = STRANDS_OK;
    if (cfg->kind == MCP_AUTH_SIGV4) {
        const char *reg = cfg->region && cfg->region[0] ? cfg->region
                                                        : region;
        if (!creds)
            st = strands_error_set(err, STRANDS_E_INVALID, NULL,
                                   "SigV4 auth needs AWS credentials (none "
                                   "configured)");
        else if (!reg || !reg[0])
            st = strands_error_set(err, STRANDS_E_INVALID, NULL,
                                   "SigV4 auth needs a region (auth.region "
                                   "or AWS_REGION)");
        else {
            a->creds = creds;
            a->service = strdup(cfg->service && cfg->service[0]
                                    ? cfg->service
                                    : DEFAULT_SERVICE);
            a->region = strdup(reg);
            if (!a->service || !a->region)
                st = strands_error_set(err, STRANDS_E_NOMEM, NULL,
                                       "out of memory");
        }
    } else {
        /* The token cache's lock and condition (monotonic waits). */
        pthread_mutex_init(&a->lock, NULL);
        pthread_condattr_t ca;
        pthread_condattr_init(&ca);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        pthread_cond_init(&a->cond, &ca);
        pthread_condattr_destroy(&ca);
        st = oauth_init(a, cfg, http, err);
    }
    if (st != STRANDS_OK) {
        mcp_auth_free(a);
        return NULL;
    }
    return a;
}

/* ---- header-line arrays ------------------------------------------------ */

static char *line(const char *name, const char *value)
{
    size_t n = strlen(name) + strlen(value) + 3;
    char *s = malloc(n);
    if (s) snprintf(s, n, "%s: %s", name, value);
    return s;
}

/* *out = NULL-terminated array of the given lines (taken), n of them. */
static strands_status hand_out(char **src, size_t n, char ***out,
                               size_t *n_out, strands_error *err)
{
    char **v = calloc(n + 1, sizeof *v);
    int ok = v != NULL;
    for (size_t i = 0; i < n; i++) ok = ok && src[i];
    if (!ok) {
        for (size_t i = 0; i < n; i++) wipe_free(src[i]);
        free(v);
        return strands_error_set(err, STRANDS_E_NOMEM, NULL,
                                 "out of memory building auth headers");
    }
    memcpy(v, src, n * sizeof *v);
    *out = v;
    *n_out = n;
    return STRANDS_OK;
}

/* ---- SigV4 ------------------------------------------------------------- */

static strands_status sigv4_headers(mcp_auth *a, const mcp_auth_request *rq,
                                    char ***out, size_t *n_out,
                                    strands_error *err)
{
    if (rq->n_headers > MAX_SIGNED_HEADERS - 3)
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "too many headers to sign");
    net_url u;
    if (net_url_parse(rq->url, 0, "MCP server url", &u, err) != STRANDS_OK)
        return err ? err->status : STRANDS_E_INVALID;
    sigv4_header *sh = calloc(rq->n_headers + 3, sizeof *sh);
    char **names = calloc(rq->n_headers + 1, sizeof *names);
    strands_credentials cr;
    memset(&cr, 0, sizeof cr);
    sigv4_result sig = {0};
    strands_status st = STRANDS_OK;
    size_t n = 0;
    if (!sh || !names)
        st = strands_error_set(err, STRANDS_E_NOMEM, NULL,
                               "out of memory signing");
    if (st == STRANDS_OK) sh[n++] = (sigv4_header){"host", u.authority};
    for (size_t i = 0; st == STRANDS_OK && i < rq->n_headers; i++) {
        const char *colon = strchr(rq->headers[i], ':');
        if (!colon) continue;
        names[i] = strndup(rq->headers[i],
                           (size_t)(colon - rq->headers[i]));
        if (!names[i]) {
            st = strands_error_set(err, STRANDS_E_NOMEM, NULL,
                                   "out of memory signing");
            break;
        }
        const char *v = colon + 1;
        while (*v == ' ' || *v == '\t') v++;
        sh[n++] = (sigv4_header){names[i], v};
    }
    if (st == STRANDS_OK) st = strands_credentials_resolve(a->creds, &cr, err);
    const char *token = cr.session_token[0] ? cr.session_token : NULL;
    if (st == STRANDS_OK) {
        if (token) sh[n++] = (sigv4_header){"x-amz-security-token", token};
        sigv4_request sr = {rq->method, u.path, u.query, sh, n, rq->body,
                            rq->body_len};
        sigv4_params sp = {
            .access_key_id = cr.access_key_id,
            .secret_access_key = cr.secret_access_key,
            .session_token = token,
            .region = a->region,
            .service = a->service,
            .unix_time = strands_clock_wall(),
            .normalize_path = 1,
            .double_encode_path = 1,
        };
        st = sigv4_sign(&sr, &sp, &sig, err);
    }
    if (st == STRANDS_OK) {
        char *lv[3];
        size_t nl = 0;
        lv[nl++] = line("X-Amz-Date", sig.amz_date);
        if (token) lv[nl++] = line("X-Amz-Security-Token", token);
        lv[nl++] = line("Authorization", sig.authorization);
        st = hand_out(lv, nl, out, n_out, err);
    }
    strands_credentials_wipe(&cr);
    sigv4_result_cleanup(&sig);
    for (size_t i = 0; names && i < rq->n_headers; i++) free(names[i]);
    free(names);
    free(sh);
    net_url_cleanup(&u);
    return st;
}

/* ---- OAuth ------------------------------------------------------------- */

/* Copies a short printable piece of an error field for a message; empty
 * when it holds the client secret. */
static void safe_text(const mcp_auth *a, const json_t *v, char *out,
                      size_t cap)
{
    out[0] = '\0';
    if (!json_is_string(v)) return;
    const char *s = json_string_value(v);
    if (a->client_secret_probe && strstr(s, a->client_secret_probe)) return;
    size_t o = 0;
    for (; *s && o + 1 < cap; s++)
        out[o++] = ((unsigned char)*s >= 0x20 && (unsigned char)*s < 0x7f)
                       ? *s
                       : ' ';
    out[o] = '\0';
}

static int token_ok(const char *t, size_t len)
{
    if (len == 0 || len > TOKEN_MAX) return 0;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)t[i] < 0x21 || (unsigned char)t[i] > 0x7e)
            return 0;
    return 1;
}

/* expires_in as a number of seconds (also as a digit string, which some
 * servers send); -1 when absent or unusable. */
static long long expires_in(const json_t *v)
{
    if (json_is_integer(v)) return json_integer_value(v);
    if (json_is_real(v) && json_real_value(v) >= 0 &&
        json_real_value(v) < 1e12)
        return (long long)json_real_value(v);
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        char *end = NULL;
        long long n = strtoll(s, &end, 10);
        if (end != s && !*end && n >= 0) return n;
    }
    return -1;
}

/* The token endpoint's answer -> *token (new) and *ttl_ms. */
static strands_status parse_token(const mcp_auth *a, const http_response *r,
                                  char **token, int64_t *ttl_ms,
                                  strands_error *err)
{
    json_t *doc = json_loadb(r->body.data ? r->body.data : "", r->body.len,
                             0, NULL);
    if (r->status < 200 || r->status >= 300) {
        char code[64], desc[ERROR_DESCRIPTION_MAX];
        safe_text(a, json_object_get(doc, "error"), code, sizeof code);
        safe_text(a, json_object_get(doc, "error_description"), desc,
                  sizeof desc);
        json_decref(doc);
        strands_error_set(err, STRANDS_E_UPSTREAM, "OAuthTokenError",
                          "the OAuth token endpoint answered HTTP %ld%s%s%s%s",
                          r->status, code[0] ? " " : "", code,
                          desc[0] ? ": " : "", desc);
        if (err) err->http_status = (int)r->status;
        return STRANDS_E_UPSTREAM;
    }
    strands_status st = STRANDS_OK;
    const json_t *tok = json_object_get(doc, "access_token");
    const json_t *type = json_object_get(doc, "token_type");
    if (!json_is_object(doc))
        st = strands_error_set(err, STRANDS_E_UPSTREAM, "OAuthTokenError",
                               "the OAuth token endpoint's answer is not a "
                               "JSON object");
    else if (!json_is_string(tok) ||
             !token_ok(json_string_value(tok), json_string_length(tok)))
        st = strands_error_set(err, STRANDS_E_UPSTREAM, "OAuthTokenError",
                               "the OAuth token endpoint's answer has no "
                               "usable access_token (visible ASCII, at most "
                               "%u bytes)", TOKEN_MAX);
    else if (type && (!json_is_string(type) ||
                      strcasecmp(json_string_value(type), "bearer")))
        st = strands_error_set(err, STRANDS_E_UPSTREAM, "OAuthTokenError",
                               "the OAuth token endpoint gave a token_type "
                               "other than Bearer");
    if (st == STRANDS_OK) {
        long long ttl = expires_in(json_object_get(doc, "expires_in"));
        if (ttl < 0) ttl = DEFAULT_TOKEN_TTL_S;
        if (ttl > 365LL * 86400) ttl = 365LL * 86400;
        long long margin = ttl >= 600 ? 60 : ttl / 10;
        *ttl_ms = (ttl - margin) * 1000;
        *token = strdup(json_string_value(tok));
        if (!*token)
            st = strands_error_set(err, STRANDS_E_NOMEM, NULL,
                                   "out of memory storing a token");
    }
    json_decref(doc);
    return st;
}

static strands_status fetch_token(const mcp_auth *a, int64_t deadline_ms,
                                  char **token, int64_t *ttl_ms,
                                  strands_error *err)
{
    int64_t left = deadline_ms - strands_clock_mono_ms();
    if (left <= 0)
        return strands_error_set(err, STRANDS_E_TIMEOUT, "RequestTimeout",
                                 "no time left to fetch an OAuth token");
    char *auth = line("Authorization", a->basic);
    if (!auth)
        return strands_error_set(err, STRANDS_E_NOMEM, NULL,
                                 "out of memory fetching a token");
    const char *hdrs[] = {
        "Content-Type: application/x-www-form-urlencoded",
        "Accept: application/json", auth};
    http_request rq = {
        .method = "POST",
        .url = a->token_url,
        .headers = hdrs,
        .n_headers = 3,
        .body = a->form,
        .body_len = strlen(a->form),
        .connect_timeout_ms = left < 10000 ? (long)left : 10000L,
        .total_timeout_ms = left > 0x7fffffffL ? 0x7fffffffL : (long)left,
        .max_response = TOKEN_RESPONSE_MAX,
    };
    http_response resp;
    strands_error e;
    strands_error_clear(&e);
    strands_status st = http_client_send(a->http, &rq, &resp, &e);
    wipe_free(auth);
    if (st == STRANDS_E_TOO_LARGE)
        st = strands_error_set(err, st, "OAuthTokenError",
                               "the OAuth token endpoint's answer is over "
                               "%zu bytes", TOKEN_RESPONSE_MAX);
    else if (st != STRANDS_OK)
        st = strands_error_set(err, st, e.code,
                               "fetching an OAuth token failed: %s",
                               e.message);
    else
        st = parse_token(a, &resp, token, ttl_ms, err);
    if (resp.body.data) explicit_bzero(resp.body.data, resp.body.len);
    http_response_cleanup(&resp);
    return st;
}

static strands_status bearer_line(const char *token, char ***out,
                                  size_t *n_out, strands_error *err)
{
    size_t n = strlen(token) + 8;
    char *v = malloc(n);
    if (v) snprintf(v, n, "Bearer %s", token);
    char *l = v ? line("Authorization", v) : NULL;
    wipe_free(v);
    return hand_out(&l, 1, out, n_out, err);
}

static strands_status oauth_headers(mcp_auth *a, const mcp_auth_request *rq,
                                    char ***out, size_t *n_out,
                                    strands_error *err)
{
    int64_t deadline = rq->deadline_ms ? rq->deadline_ms
                                       : strands_clock_mono_ms() +
                                             DEFAULT_FETCH_MS;
    pthread_mutex_lock(&a->lock);
    for (;;) {
        if (a->token && strands_clock_mono_ms() < a->valid_until_ms &&
            strands_clock_wall() < a->valid_until_wall) {
            strands_status st = bearer_line(a->token, out, n_out, err);
            pthread_mutex_unlock(&a->lock);
            return st;
        }
        if (!a->fetching) break;
        /* Another request is fetching: wait for it and share its end. */
        unsigned long gen = a->gen;
        while (a->fetching && a->gen == gen) {
            int64_t ms = deadline;
            struct timespec ts = {(time_t)(ms / 1000),
                                  (long)(ms % 1000) * 1000000L};
            if (pthread_cond_timedwait(&a->cond, &a->lock, &ts) &&
                strands_clock_mono_ms() >= deadline) {
                pthread_mutex_unlock(&a->lock);
                return strands_error_set(err, STRANDS_E_TIMEOUT,
                                         "RequestTimeout",
                                         "timed out waiting for an OAuth "
                                         "token");
            }
        }
        if (a->gen != gen && !a->token) {
            strands_status st = a->last_err.status;
            if (err) *err = a->last_err;
            pthread_mutex_unlock(&a->lock);
            return st != STRANDS_OK ? st : STRANDS_E_UPSTREAM;
        }
    }
    a->fetching = 1;
    pthread_mutex_unlock(&a->lock);

    char *token = NULL;
    int64_t ttl_ms = 0;
    strands_error e;
    strands_error_clear(&e);
    strands_status st = fetch_token(a, deadline, &token, &ttl_ms, &e);

    pthread_mutex_lock(&a->lock);
    a->fetching = 0;
    a->gen++;
    a->last_err = e;
    if (st == STRANDS_OK) {
        wipe_free(a->token);
        a->token = token;
        a->valid_until_ms = strands_clock_mono_ms() + ttl_ms;
        a->valid_until_wall = strands_clock_wall() + ttl_ms / 1000;
        st = bearer_line(a->token, out, n_out, err);
    } else if (err) {
        *err = e;
    }
    pthread_cond_broadcast(&a->cond);
    pthread_mutex_unlock(&a->lock);
    return st;
}

strands_status mcp_auth_headers(mcp_auth *a, const mcp_auth_request *req,
                                char ***lines_out, size_t *n_out,
                                strands_error *err)
{
    *lines_out = NULL;
    *n_out = 0;
    if (!a) return hand_out(NULL, 0, lines_out, n_out, err);
    if (a->kind == MCP_AUTH_SIGV4)
        return sigv4_headers(a, req, lines_out, n_out, err);
    return oauth_headers(a, req, lines_out, n_out, err);
}

void mcp_auth_invalidate(mcp_auth *a)
{
    if (!a || a->kind != MCP_AUTH_OAUTH2_CLIENT_CREDENTIALS) return;
    pthread_mutex_lock(&a->lock);
    wipe_free(a->token);
    a->token = NULL;
    pthread_mutex_unlock(&a->lock);
}
