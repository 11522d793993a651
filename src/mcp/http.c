/* The Streamable HTTP MCP transport (transport.h): one POST per message,
 * the reply (JSON or an SSE stream scoped to the request) decoded as it
 * arrives and every message handed to on_message before send() returns.
 *
 * Legacy era (2025-06-18 / 2025-11-25): the Mcp-Session-Id the server
 * gives with the initialize reply is kept and resent; a 404 while one is
 * held means the session is gone (E_NOT_FOUND "McpSessionExpired", id
 * dropped); close() DELETEs the session. Modern era (2026-07-28): no
 * session; Mcp-Method, Mcp-Name (Base64 sentinel when not plain) and the
 * caller's Mcp-Param-* lines go with every request. Both eras send
 * MCP-Protocol-Version once it is negotiated.
 *
 * Auth headers (auth.c) are computed last, over the final header list and
 * body, fresh for every attempt; a 401 with an authenticator drops its
 * cached token and retries once. send() may run on several threads at
 * once (the session id is under a lock). Error messages name the server,
 * never the URL (it may carry credentials) nor any header value.       */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mcp/auth.h"
#include "mcp/http_headers.h"
#include "mcp/http_reply.h"
#include "mcp/transport.h"
#include "net/http_client.h"
#include "net/url.h"
#include "strands/clock.h"

#define DEFAULT_MAX_MESSAGE ((size_t)16 << 20)
#define DEFAULT_CONNECT_MS 10000L
#define DELETE_TIMEOUT_MS 2000L      /* close(): best effort, short */
#define MAX_SESSION_ID 1024u         /* bytes of an Mcp-Session-Id */
#define MAX_STATIC_HEADERS 256
#define MAX_EXTRA_HEADERS 256
#define ERROR_SNIPPET 160            /* bytes of an error body we quote */

typedef struct mcp_http {
    mcp_transport base;              /* first: the vtab head */
    char *server_name;
    char *url;
    char **headers;                  /* static lines, NULL-terminated */
    size_t n_headers;
    mcp_auth *auth;                  /* borrowed */
    http_client *http;               /* borrowed */
    long connect_timeout_ms;
    size_t max_message;
    pthread_mutex_t lock;            /* guards session_id */
    char *session_id;                /* legacy era; NULL: none */
} mcp_http;

/* ---- header list ------------------------------------------------------- */

typedef struct lines {
    char **v;
    size_t n, cap;
    size_t n_auth_from;              /* index where auth lines start */
} lines;

static int lines_add(lines *l, const char *name, const char *value)
{
    if (l->n + 1 >= l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        char **v = realloc(l->v, cap * sizeof *v);
        if (!v) return 0;
        l->v = v;
        l->cap = cap;
    }
    size_t len = strlen(name) + (value ? strlen(value) + 2 : 0) + 1;
    char *s = malloc(len);
    if (!s) return 0;
    if (value)
        snprintf(s, len, "%s: %s", name, value);
    else
        memcpy(s, name, len);
    l->v[l->n++] = s;
    l->v[l->n] = NULL;
    return 1;
}

static void lines_free(lines *l)
{
    for (size_t i = 0; i < l->n; i++) {
        explicit_bzero(l->v[i], strlen(l->v[i])); /* may hold a token */
        free(l->v[i]);
    }
    free(l->v);
    memset(l, 0, sizeof *l);
}

static strands_status nomem(const mcp_http *h, strands_error *err)
{
    return strands_error_set(err, STRANDS_E_NOMEM, NULL,
                             "MCP server '%s': out of memory building the "
                             "request", h->server_name);
}

/* Static headers, the session, and (last) the auth lines computed over
 * all of them; `method` is "POST" or "DELETE". */
static strands_status add_auth(const mcp_http *h, lines *l,
                               const char *method, const void *body,
                               size_t body_len, int64_t deadline_ms,
                               strands_error *err)
{
    l->n_auth_from = l->n;
    if (!h->auth) return STRANDS_OK;
    mcp_auth_request ar = {
        .method = method,
        .url = h->url,
        .headers = (const char *const *)l->v,
        .n_headers = l->n,
        .body = body,
        .body_len = body_len,
        .deadline_ms = deadline_ms,
    };
    char **al = NULL;
    size_t na = 0;
    strands_status st = mcp_auth_headers(h->auth, &ar, &al, &na, err);
    if (st != STRANDS_OK) {
        if (err) { /* say which server; auth messages hold no secret */
            strands_error e = *err;
            strands_error_set(err, st, e.code, "MCP server '%s': %s",
                              h->server_name, e.message);
        }
        return st;
    }
    for (size_t i = 0; i < na && st == STRANDS_OK; i++)
        if (!lines_add(l, al[i], NULL)) st = nomem(h, err);
    for (size_t i = 0; i < na; i++) explicit_bzero(al[i], strlen(al[i]));
    mcp_header_lines_free(al);
    return st;
}

/* The caller's extra lines (Mcp-Param-*, forwarded headers), checked. */
static strands_status add_extra(mcp_http *h, const mcp_send_info *in,
                                lines *l, strands_error *err)
{
    if (in->n_extra > MAX_EXTRA_HEADERS)
        return strands_error_set(err, STRANDS_E_TOO_LARGE, NULL,
                                 "MCP server '%s': more than %d extra "
                                 "headers", h->server_name,
                                 MAX_EXTRA_HEADERS);
    for (size_t i = 0; i < in->n_extra; i++) {
        if (!mcp_http_header_line_ok(in->extra_headers[i]))
            return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                     "MCP server '%s': an extra header line "
                                     "is not a valid header",
                                     h->server_name);
        if (!lines_add(l, in->extra_headers[i], NULL)) return nomem(h, err);
    }
    return STRANDS_OK;
}

static strands_status build_post_headers(mcp_http *h, const mcp_send_info *in,
                                         const char *session, lines *l,
                                         strands_error *err)
{
    const mcp_transport *t = &h->base;
    int ok = lines_add(l, "Content-Type", "application/json") &&
             lines_add(l, "Accept", "application/json, text/event-stream");
    for (size_t i = 0; ok && i < h->n_headers; i++)
        ok = lines_add(l, h->headers[i], NULL);
    if (ok && t->protocol_version[0])
        ok = lines_add(l, "MCP-Protocol-Version", t->protocol_version);
    /* initialize opens a new session: it never carries the old id. */
    if (ok && !t->modern && session &&
        !(in->method && !strcmp(in->method, "initialize")))
        ok = lines_add(l, "Mcp-Session-Id", session);
    if (!ok) return nomem(h, err);
    if (!t->modern) return add_extra(h, in, l, err);
    if (in->method) {
        if (!lines_add(l, "Mcp-Method", in->method)) return nomem(h, err);
        if (!mcp_http_header_line_ok(l->v[l->n - 1]))
            return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                     "MCP server '%s': the method name "
                                     "cannot be sent as a header",
                                     h->server_name);
    }
    if (in->name) {
        char *enc = mcp_http_encode_value(in->name, strlen(in->name));
        if (!enc) return nomem(h, err);
        size_t elen = strlen(enc);
        ok = elen <= MCP_HTTP_MAX_HEADER_VALUE &&
             lines_add(l, "Mcp-Name", enc);
        free(enc);
        if (elen > MCP_HTTP_MAX_HEADER_VALUE)
            return strands_error_set(err, STRANDS_E_TOO_LARGE, NULL,
                                     "MCP server '%s': the name is too long "
                                     "for the Mcp-Name header",
                                     h->server_name);
        if (!ok) return nomem(h, err);
    }
    return add_extra(h, in, l, err);
}

/* ---- one exchange ------------------------------------------------------ */

typedef struct exchange {
    mcp_http *h;
    const json_t *want_id;
    char content_type[128];
    char session[MAX_SESSION_ID + 1];
    int session_seen, session_bad;
    int reply_started;
    mcp_http_reply reply;
} exchange;

static void on_header(void *user, const char *name, size_t nl,
                      const char *value, size_t vl)
{
    exchange *x = user;
    if (nl == 12 && !strncasecmp(name, "content-type", nl)) {
        size_t n = vl < sizeof x->content_type ? vl
                                               : sizeof x->content_type - 1;
        memcpy(x->content_type, value, n);
        x->content_type[n] = '\0';
    } else if (nl == 14 && !strncasecmp(name, "mcp-session-id", nl)) {
        /* 2025-11-25: visible ASCII (0x21-0x7E) only. */
        x->session_seen = 1;
        x->session_bad = vl == 0 || vl > MAX_SESSION_ID;
        for (size_t i = 0; !x->session_bad && i < vl; i++)
            if (value[i] < 0x21 || value[i] > 0x7e) x->session_bad = 1;
        if (!x->session_bad) {
            memcpy(x->session, value, vl);
            x->session[vl] = '\0';
        }
    }
}

static int on_data(void *user, const char *p, size_t n)
{
    exchange *x = user;
    if (!x->reply_started) {
        x->reply_started = 1;
        if (mcp_http_reply_init(&x->reply, x->content_type,
                                x->h->max_message, x->want_id,
                                x->h->base.on_message, x->h->base.cb_user,
                                NULL) != STRANDS_OK) {
            x->reply.st = STRANDS_E_NOMEM;
            strands_error_set(&x->reply.err, STRANDS_E_NOMEM, NULL,
                              "out of memory for the reply");
            return 1;
        }
    }
    if (mcp_http_reply_feed(&x->reply, p, n, NULL) != STRANDS_OK) return 1;
    return x->reply.done; /* our response is in: stop reading */
}

/* A short, printable quote of an error body, left out when it holds a
 * value of one of our auth lines (a server echoing the request). */
static void error_snippet(const http_response *r, const lines *l, char *out,
                          size_t cap)
{
    out[0] = '\0';
    const char *b = dynbuf_str(&r->body);
    for (size_t i = l->n_auth_from; i < l->n; i++) {
        const char *v = strchr(l->v[i], ':');
        for (v = v ? v + 1 : ""; *v == ' '; v++) {
        }
        /* Any 12-byte piece of a token or signature gives it away. */
        size_t vl = strlen(v);
        for (size_t k = 0; vl >= 12 && k + 12 <= vl; k += 6) {
            char piece[13];
            memcpy(piece, v + k, 12);
            piece[12] = '\0';
            if (strstr(b, piece)) return;
        }
    }
    size_t o = 0;
    for (size_t i = 0; i < r->body.len && o + 1 < cap; i++) {
        unsigned char c = (unsigned char)b[i];
        out[o++] = (c >= 0x20 && c < 0x7f) ? (char)c : ' ';
    }
    out[o] = '\0';
    if (o + 1 == cap && cap > 4) memcpy(out + cap - 4, "...", 4);
}

static void session_set(mcp_http *h, const char *id)
{
    char *copy = id ? strdup(id) : NULL;
    pthread_mutex_lock(&h->lock);
    free(h->session_id);
    h->session_id = copy;
    pthread_mutex_unlock(&h->lock);
}

/* Drops the session id when it is still `held` (another thread may have
 * started a new session meanwhile). */
static void session_drop(mcp_http *h, const char *held)
{
    pthread_mutex_lock(&h->lock);
    if (h->session_id && !strcmp(h->session_id, held)) {
        free(h->session_id);
        h->session_id = NULL;
    }
    pthread_mutex_unlock(&h->lock);
}

/* *out: a copy of the session id, NULL when none. 0 on OOM. */
static int session_get(mcp_http *h, char **out)
{
    pthread_mutex_lock(&h->lock);
    *out = h->session_id ? strdup(h->session_id) : NULL;
    int ok = !h->session_id || *out;
    pthread_mutex_unlock(&h->lock);
    return ok;
}

/* The transfer failed: say so with the server's name. */
static strands_status transfer_error(const mcp_http *h, strands_status st,
                                     const mcp_send_info *in,
                                     strands_error *err)
{
    char detail[STRANDS_ERROR_MESSAGE_MAX];
    char code[STRANDS_ERROR_CODE_MAX];
    snprintf(detail, sizeof detail, "%s", err ? err->message : "");
    snprintf(code, sizeof code, "%s", err ? err->code : "");
    if (st == STRANDS_E_CANCELLED)
        return strands_error_set(err, st, "Cancelled",
                                 "MCP request to server '%s' cancelled",
                                 h->server_name);
    if (st == STRANDS_E_TIMEOUT && code[0] &&
        strcmp(code, "ConnectTimeout") && in->deadline_ms)
        return strands_error_set(err, st, code,
                                 "MCP request to server '%s' timed out "
                                 "(deadline reached)", h->server_name);
    return strands_error_set(err, st, code[0] ? code : NULL,
                             "MCP server '%s': %s", h->server_name, detail);
}

/* *ms: what is left until the deadline (0: none); 0 + E_TIMEOUT in err
 * when it has passed. */
static int time_left(const mcp_http *h, int64_t deadline_ms, long *ms,
                     strands_error *err)
{
    *ms = 0;
    if (!deadline_ms) return 1;
    int64_t left = deadline_ms - strands_clock_mono_ms();
    if (left <= 0) {
        strands_error_set(err, STRANDS_E_TIMEOUT, "RequestTimeout",
                          "MCP request to server '%s' timed out (deadline "
                          "reached)", h->server_name);
        return 0;
    }
    *ms = left > 0x7fffffffL ? 0x7fffffffL : (long)left;
    return 1;
}

/* One POST. *retry is set when a 401 should be retried once. */
static strands_status post_once(mcp_http *h, const mcp_send_info *in,
                                const json_t *want_id, int attempt,
                                int *retry, strands_error *err)
{
    *retry = 0;
    if (in->cancelled && atomic_load(in->cancelled))
        return strands_error_set(err, STRANDS_E_CANCELLED, "Cancelled",
                                 "MCP request to server '%s' cancelled",
                                 h->server_name);
    long total_ms = 0;
    if (!time_left(h, in->deadline_ms, &total_ms, err))
        return STRANDS_E_TIMEOUT;
    char *session = NULL;
    if (!session_get(h, &session)) return nomem(h, err);
    lines l = {0};
    exchange *x = calloc(1, sizeof *x);
    strands_status st = x ? STRANDS_OK : nomem(h, err);
    if (st == STRANDS_OK) st = build_post_headers(h, in, session, &l, err);
    if (st == STRANDS_OK)
        st = add_auth(h, &l, "POST", in->json, in->len, in->deadline_ms, err);
    /* Again: a token fetch may have taken part of the time. */
    if (st == STRANDS_OK && !time_left(h, in->deadline_ms, &total_ms, err))
        st = STRANDS_E_TIMEOUT;
    http_response resp;
    memset(&resp, 0, sizeof resp);
    if (st == STRANDS_OK) {
        x->h = h;
        x->want_id = want_id;
        http_request rq = {
            .method = "POST",
            .url = h->url,
            .headers = (const char *const *)l.v,
            .n_headers = l.n,
            .body = in->json,
            .body_len = in->len,
            .connect_timeout_ms = h->connect_timeout_ms,
            .total_timeout_ms = total_ms,
            .max_response = h->max_message,
            .cancelled = in->cancelled,
            .on_data = on_data,
            .data_user = x,
            .on_header = on_header,
            .header_user = x,
        };
        st = http_client_send(h->http, &rq, &resp, err);
        if (x->reply_started && x->reply.st != STRANDS_OK) {
            /* The body was refused (cap, bad JSON): that is the error. */
            st = x->reply.st;
            strands_error_set(err, st, x->reply.err.code,
                              "MCP server '%s': %s", h->server_name,
                              x->reply.err.message);
        } else if (st == STRANDS_E_CANCELLED && x->reply_started &&
                   x->reply.done) {
            st = STRANDS_OK; /* we stopped reading after our response */
            resp.status = resp.status ? resp.status : 200;
        } else if (st != STRANDS_OK) {
            st = transfer_error(h, st, in, err);
        }
    }
    if (st == STRANDS_OK && resp.status >= 200 && resp.status < 300) {
        if (x->reply_started)
            st = mcp_http_reply_finish(&x->reply, err);
        if (st != STRANDS_OK) {
            strands_error_set(err, st, x->reply.err.code,
                              "MCP server '%s': %s", h->server_name,
                              x->reply.err.message);
        } else if (want_id && !(x->reply_started && x->reply.done)) {
            /* A request's reply must carry its response; a stream that
             * ends without it (streams are not resumed) is an error now,
             * not a wait until the deadline. */
            st = strands_error_set(err, STRANDS_E_UPSTREAM, "McpNoResponse",
                                   "MCP server '%s' ended its HTTP %ld "
                                   "reply without the response to the "
                                   "request", h->server_name, resp.status);
            if (err) err->http_status = (int)resp.status;
        }
        if (st == STRANDS_OK && in->method &&
            !strcmp(in->method, "initialize")) {
            if (x->session_seen && x->session_bad)
                st = strands_error_set(err, STRANDS_E_UPSTREAM, "McpBadReply",
                                       "MCP server '%s' sent an invalid "
                                       "Mcp-Session-Id (visible ASCII, at "
                                       "most %u bytes)", h->server_name,
                                       MAX_SESSION_ID);
            else
                session_set(h, x->session_seen ? x->session : NULL);
        }
    } else if (st == STRANDS_OK) {
        json_t *msg = NULL;
        if (resp.status == 401 && h->auth && attempt == 0) {
            mcp_auth_invalidate(h->auth);
            *retry = 1;
        } else if (resp.status == 404 && !h->base.modern && session) {
            session_drop(h, session);
            st = strands_error_set(err, STRANDS_E_NOT_FOUND,
                                   "McpSessionExpired",
                                   "MCP server '%s': the session has "
                                   "expired (HTTP 404)", h->server_name);
        } else if (mcp_http_jsonrpc_message(dynbuf_str(&resp.body),
                                            resp.body.len, &msg)) {
            h->base.on_message(h->base.cb_user, msg); /* taken over */
        } else {
            char snip[ERROR_SNIPPET + 1];
            error_snippet(&resp, &l, snip, sizeof snip);
            st = strands_error_set(err, STRANDS_E_UPSTREAM, NULL,
                                   "MCP server '%s' answered HTTP %ld%s%s",
                                   h->server_name, resp.status,
                                   snip[0] ? ": " : "", snip);
        }
        if (err && st != STRANDS_OK) err->http_status = (int)resp.status;
    }
    if (x && x->reply_started) mcp_http_reply_cleanup(&x->reply);
    free(x);
    http_response_cleanup(&resp);
    lines_free(&l);
    free(session);
    return st;
}

static strands_status http_send(mcp_transport *t, const mcp_send_info *in,
                                strands_error *err)
{
    mcp_http *h = (mcp_http *)t;
    if (!in || !in->json)
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "MCP server '%s': nothing to send",
                                 h->server_name);
    /* The request's id: an SSE stream is not read past its response. */
    json_t *msg = in->is_request ? json_loadb(in->json, in->len, 0, NULL)
                                 : NULL;
    const json_t *id = json_object_get(msg, "id");
    strands_status st = STRANDS_OK;
    for (int attempt = 0; attempt < 2; attempt++) {
        int retry = 0;
        st = post_once(h, in, id, attempt, &retry, err);
        if (!retry) break;
    }
    json_decref(msg);
    return st;
}

/* ---- lifecycle --------------------------------------------------------- */

static strands_status http_open(mcp_transport *t, int64_t deadline_ms,
                                strands_error *err)
{
    /* Nothing to connect: every message is its own request. */
    (void)t;
    (void)deadline_ms;
    (void)err;
    return STRANDS_OK;
}

static void http_close(mcp_transport *t)
{
    mcp_http *h = (mcp_http *)t;
    pthread_mutex_lock(&h->lock);
    char *session = h->session_id;
    h->session_id = NULL;
    pthread_mutex_unlock(&h->lock);
    if (!session) return;
    /* Best effort: tell the server the session is over. */
    lines l = {0};
    int ok = 1;
    for (size_t i = 0; ok && i < h->n_headers; i++)
        ok = lines_add(&l, h->headers[i], NULL);
    if (ok && t->protocol_version[0])
        ok = lines_add(&l, "MCP-Protocol-Version", t->protocol_version);
    if (ok) ok = lines_add(&l, "Mcp-Session-Id", session);
    int64_t deadline = strands_clock_mono_ms() + DELETE_TIMEOUT_MS;
    if (ok && add_auth(h, &l, "DELETE", NULL, 0, deadline, NULL) ==
                  STRANDS_OK) {
        http_request rq = {
            .method = "DELETE",
            .url = h->url,
            .headers = (const char *const *)l.v,
            .n_headers = l.n,
            .connect_timeout_ms = h->connect_timeout_ms < DELETE_TIMEOUT_MS
                                      ? h->connect_timeout_ms
                                      : DELETE_TIMEOUT_MS,
            .total_timeout_ms = DELETE_TIMEOUT_MS,
            .max_response = 64u << 10,
        };
        http_response resp;
        (void)http_client_send(h->http, &rq, &resp, NULL);
        http_response_cleanup(&resp);
    }
    lines_free(&l);
    free(session);
}

static void free_lines(char **v, size_t n)
{
    for (size_t i = 0; v && i < n; i++) {
        if (v[i]) explicit_bzero(v[i], strlen(v[i]));
        free(v[i]);
    }
    free(v);
}

static void http_destroy(mcp_transport *t)
{
    if (!t) return;
    mcp_http *h = (mcp_http *)t;
    http_close(t);
    free(h->server_name);
    free(h->url);
    free_lines(h->headers, h->n_headers);
    pthread_mutex_destroy(&h->lock);
    free(h);
}

static const mcp_transport_vtab http_vtab = {
    .kind = "http",
    .open = http_open,
    .send = http_send,
    .close = http_close,
    .destroy = http_destroy,
};

mcp_transport *mcp_http_new(const mcp_http_opts *o, strands_error *err)
{
    const char *name = o && o->server_name ? o->server_name : "?";
    if (!o || !o->url || !o->http) {
        strands_error_set(err, STRANDS_E_INVALID, NULL,
                          "MCP server '%s': a URL and an HTTP client are "
                          "required", name);
        return NULL;
    }
    net_url u;
    char what[128];
    snprintf(what, sizeof what, "MCP server '%s' url", name);
    if (net_url_parse(o->url, 0, what, &u, err) != STRANDS_OK) return NULL;
    net_url_cleanup(&u);
    if (o->n_headers > MAX_STATIC_HEADERS) {
        strands_error_set(err, STRANDS_E_INVALID, NULL,
                          "MCP server '%s': more than %d headers", name,
                          MAX_STATIC_HEADERS);
        return NULL;
    }
    for (size_t i = 0; i < o->n_headers; i++)
        if (!mcp_http_header_line_ok(o->headers[i])) {
            /* The value may be a secret: name only the position. */
            strands_error_set(err, STRANDS_E_INVALID, NULL,
                              "MCP server '%s': header %zu is not a valid "
                              "\"Name: value\" line (token name, no control "
                              "characters)", name, i + 1);
            return NULL;
        }
    mcp_http *h = calloc(1, sizeof *h);
    if (!h) goto oom;
    h->base.vt = &http_vtab;
    pthread_mutex_init(&h->lock, NULL);
    h->auth = o->auth;
    h->http = o->http;
    h->connect_timeout_ms =
        o->connect_timeout_ms > 0 ? o->connect_timeout_ms : DEFAULT_CONNECT_MS;
    h->max_message = o->max_message_bytes ? o->max_message_bytes
                                          : DEFAULT_MAX_MESSAGE;
    h->server_name = strdup(name);
    h->url = strdup(o->url);
    h->headers = calloc(o->n_headers + 1, sizeof *h->headers);
    if (!h->server_name || !h->url || !h->headers) goto oom;
    for (size_t i = 0; i < o->n_headers; i++) {
        if (!(h->headers[i] = strdup(o->headers[i]))) goto oom;
        h->n_headers = i + 1;
    }
    return &h->base;
oom:
    if (h) http_destroy(&h->base);
    strands_error_set(err, STRANDS_E_NOMEM, NULL,
                      "MCP server '%s': out of memory", name);
    return NULL;
}
