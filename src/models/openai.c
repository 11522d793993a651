/* The OpenAI-compatible model: body from openai_map, one POST per
 * attempt on the pooled HTTP client, the answer (SSE or JSON) through the
 * openai_stream assembler, retries on net/retry's loop (429, 5xx and
 * transport errors; a server's retry-after-ms or retry-after, capped, is
 * honoured). The API key lives only in the Authorization header line and
 * is wiped when the model is freed; it is never logged.               */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "models/openai.h"
#include "models/openai_map.h"
#include "models/openai_stream.h"
#include "net/http_client.h"
#include "net/retry.h"
#include "net/url.h"
#include "strands/log.h"

#define MAX_RESPONSE (32u * 1024 * 1024) /* a non-streamed answer */
#define LOGGER "strands.models.openai"
#define AUTH_PREFIX "Authorization: Bearer "

typedef struct openai_model {
    strands_model base;
    char *model_id;
    char *url;            /* {base}/chat/completions */
    char *auth;           /* "Authorization: Bearer <key>", or NULL */
    json_t *params;       /* MODEL_PARAMS, or NULL; only read */
    int stream;
    http_client *http;
    net_retry_policy retry;
    long connect_timeout_ms, read_timeout_ms;
} openai_model;

/* One call in flight. */
typedef struct openai_call {
    openai_model *m;
    const strands_model_request *req;
    const char *body;
    size_t body_len;
    oa_stream *asm_;          /* this attempt's assembler */
    strands_status feed_status;
    strands_error feed_err;
    const http_response *resp; /* this attempt's, filled as it arrives */
    dynbuf json;              /* a 2xx answer that is JSON, not SSE */
} openai_call;

static void on_event(void *user, const strands_model_stream_event *ev)
{
    const strands_model_request *req = user;
    if (req->on_stream) req->on_stream(req->stream_user, ev);
}

/* The answer (headers so far) is plain JSON: a server that ignores
 * "stream": true answers a whole completion. */
static int json_answer(const http_response *r)
{
    return !strncasecmp(r->content_type, "application/json", 16);
}

static int on_data(void *user, const char *p, size_t n)
{
    openai_call *c = user;
    if (json_answer(c->resp)) {
        c->feed_status = dynbuf_append(&c->json, p, n);
        if (c->feed_status != STRANDS_OK)
            strands_error_set(&c->feed_err, c->feed_status, NULL,
                              "OpenAI answer exceeds %u bytes",
                              MAX_RESPONSE);
    } else {
        c->feed_status = oa_stream_feed(c->asm_, p, n, &c->feed_err);
    }
    return c->feed_status != STRANDS_OK;
}

static strands_status attempt(void *user, net_attempt *a, strands_error *err)
{
    openai_call *c = user;
    openai_model *m = c->m;
    oa_stream_free(c->asm_);
    c->asm_ = oa_stream_new(on_event, (void *)c->req, c->req->messages);
    if (!c->asm_) return strands_error_set(err, STRANDS_E_NOMEM, NULL, "OOM");
    c->feed_status = STRANDS_OK;
    strands_error_clear(&c->feed_err);
    dynbuf_cleanup(&c->json);
    dynbuf_init(&c->json, MAX_RESPONSE);
    char trace[160];
    const char *headers[5];
    size_t nh = 0;
    headers[nh++] = "Content-Type: application/json";
    headers[nh++] = m->stream ? "Accept: text/event-stream"
                              : "Accept: application/json";
    if (m->auth) headers[nh++] = m->auth;
    if (c->req->traceparent &&
        snprintf(trace, sizeof trace, "traceparent: %s",
                 c->req->traceparent) < (int)sizeof trace)
        headers[nh++] = trace;
    http_request hr = {
        .method = "POST",
        .url = m->url,
        .headers = headers,
        .n_headers = nh,
        .body = c->body,
        .body_len = c->body_len,
        .connect_timeout_ms = m->connect_timeout_ms,
        .read_timeout_ms = m->read_timeout_ms,
        .max_response = MAX_RESPONSE,
        .cancelled = c->req->cancelled,
        .on_data = m->stream ? on_data : NULL,
        .data_user = c,
    };
    http_response resp;
    c->resp = &resp;
    strands_status st = http_client_send(m->http, &hr, &resp, err);
    if (c->feed_status != STRANDS_OK) {
        /* The body was cut short: an error chunk, bad data or a cap. */
        if (st == STRANDS_OK) http_response_cleanup(&resp);
        if (err) *err = c->feed_err;
        st = c->feed_status;
    } else if (st == STRANDS_OK) {
        if (resp.status >= 200 && resp.status < 300) {
            if (!m->stream)
                st = oa_stream_apply_completion(
                    c->asm_, dynbuf_str(&resp.body), resp.body.len, err);
            else if (json_answer(&resp))
                st = oa_stream_apply_completion(
                    c->asm_, dynbuf_str(&c->json), c->json.len, err);
        } else {
            a->http_status = resp.status;
            a->retry_after_ms = resp.retry_after_ms;
            st = openai_error_from_body(resp.status, dynbuf_str(&resp.body),
                                        resp.body.len, err);
        }
        http_response_cleanup(&resp);
    }
    /* Output already forwarded to the client must not be sent twice. */
    if (st != STRANDS_OK && oa_stream_sent_anything(c->asm_))
        a->http_status = -1;
    return st;
}

/* A server may quote the key it refused in its error message: the
 * message reaches the client and logs, so the key is cut out of it. */
static void scrub_key(const openai_model *m, strands_error *err)
{
    if (!m->auth || !err) return;
    const char *key = m->auth + strlen(AUTH_PREFIX);
    size_t k = strlen(key);
    char *p;
    while (k >= 4 && (p = strstr(err->message, key)) != NULL) {
        memmove(p + 3, p + k, strlen(p + k) + 1);
        memcpy(p, "***", 3);
    }
}

static strands_status openai_converse(strands_model *self,
                                      const strands_model_request *req,
                                      strands_model_response *out,
                                      strands_error *err)
{
    openai_model *m = (openai_model *)self;
    memset(out, 0, sizeof *out);
    openai_body_opts opts = {m->model_id, m->params, m->stream};
    size_t len = 0;
    char *body = openai_build_body(req, &opts, &len);
    if (!body)
        return strands_error_set(err, STRANDS_E_NOMEM, NULL,
                                 "cannot serialize the OpenAI request");
    openai_call c = {.m = m, .req = req, .body = body, .body_len = len};
    dynbuf_init(&c.json, MAX_RESPONSE);
    strands_status st = net_retry_run(&m->retry, attempt, &c, req->cancelled,
                                      err);
    if (st == STRANDS_OK) st = oa_stream_finish(c.asm_, out, err);
    if (st == STRANDS_OK) {
        const char *name = NULL;
        size_t bad = oa_stream_bad_arguments(c.asm_, &name);
        if (bad)
            strands_log(STRANDS_LOG_WARN, LOGGER, req->request_id, NULL, NULL,
                        "%zu tool call(s) had arguments that are not a JSON "
                        "object (first: tool '%.64s'); input {} used", bad,
                        name ? name : "");
    }
    oa_stream_free(c.asm_);
    dynbuf_cleanup(&c.json);
    free(body);
    if (st == STRANDS_E_TIMEOUT && err)
        snprintf(err->code, sizeof err->code, "ModelTimeout");
    if (st != STRANDS_OK) scrub_key(m, err);
    return st;
}

static void openai_destroy(strands_model *self)
{
    openai_model *m = (openai_model *)self;
    http_client_free(m->http);
    if (m->auth) {
        explicit_bzero(m->auth, strlen(m->auth));
        free(m->auth);
    }
    json_decref(m->params);
    free(m->model_id);
    free(m->url);
    free(m);
}

static const strands_model_vtab openai_vtab = {
    STRANDS_MODEL_VTAB_VERSION, "openai", openai_converse, openai_destroy};

strands_status openai_base_url_check(const char *url, strands_error *err)
{
    net_url u;
    strands_status st = net_url_parse(url, NET_URL_NO_QUERY, "URL", &u, err);
    if (st == STRANDS_OK) {
        net_url_cleanup(&u);
    } else if (err && !strncmp(err->message, "URL: ", 5)) {
        /* The loader prefixes the variable's name itself. */
        memmove(err->message, err->message + 5, strlen(err->message + 5) + 1);
    }
    return st;
}

/* "{base}/chat/completions" (one slash between); loopback flag out. */
static char *completions_url(const char *base, int *https, int *loopback,
                             strands_error *err)
{
    net_url u;
    if (net_url_parse(base, NET_URL_NO_QUERY, "OPENAI_BASE_URL", &u, err) !=
        STRANDS_OK)
        return NULL;
    *https = u.https;
    *loopback = net_url_host_is_loopback(u.host);
    net_url_cleanup(&u);
    size_t n = strlen(base);
    while (n && base[n - 1] == '/') n--;
    size_t size = n + sizeof "/chat/completions";
    char *url = malloc(size);
    if (!url) {
        strands_error_set(err, STRANDS_E_NOMEM, NULL, "OOM");
        return NULL;
    }
    snprintf(url, size, "%.*s/chat/completions", (int)n, base);
    return url;
}

strands_model *openai_model_new(const openai_config *cfg, strands_error *err)
{
    if (!cfg->model_id || !*cfg->model_id || strlen(cfg->model_id) > 512) {
        strands_error_set(err, STRANDS_E_INVALID, NULL,
                          "MODEL_ID: must be 1..512 characters");
        return NULL;
    }
    if (!cfg->base_url || !*cfg->base_url) {
        strands_error_set(err, STRANDS_E_INVALID, NULL,
                          "OPENAI_BASE_URL: is empty");
        return NULL;
    }
    openai_model *m = calloc(1, sizeof *m);
    if (!m) {
        strands_error_set(err, STRANDS_E_NOMEM, NULL, "OOM");
        return NULL;
    }
    m->base.vtab = &openai_vtab;
    int https = 0, loopback = 0;
    m->url = completions_url(cfg->base_url, &https, &loopback, err);
    if (!m->url) goto fail;
    int has_key = cfg->api_key && *cfg->api_key;
    if (has_key && !https && !loopback) {
        strands_error_set(err, STRANDS_E_INVALID, NULL,
                          "OPENAI_BASE_URL: plain http to a non-loopback host "
                          "would send OPENAI_API_KEY in clear text; use "
                          "https, or unset the key");
        goto fail;
    }
    if (cfg->params_json) {
        json_error_t je;
        m->params = json_loads(cfg->params_json, 0, &je);
        if (!m->params) {
            strands_error_set(err, STRANDS_E_INVALID, NULL,
                              "MODEL_PARAMS: not JSON: %s", je.text);
            goto fail;
        }
        if (openai_params_check(m->params, err) != STRANDS_OK) goto fail;
    }
    if (has_key) {
        size_t size = strlen(cfg->api_key) + sizeof AUTH_PREFIX;
        m->auth = malloc(size);
        if (!m->auth) goto oom;
        snprintf(m->auth, size, AUTH_PREFIX "%s", cfg->api_key);
        if (strpbrk(cfg->api_key, "\r\n")) {
            strands_error_set(err, STRANDS_E_INVALID, NULL,
                              "OPENAI_API_KEY: holds a line break");
            goto fail;
        }
    }
    m->model_id = strdup(cfg->model_id);
    m->http = http_client_new(64);
    if (!m->model_id || !m->http) goto oom;
    m->stream = cfg->stream != 0;
    m->connect_timeout_ms = cfg->connect_timeout_ms ? cfg->connect_timeout_ms
                                                    : 10000;
    m->read_timeout_ms = cfg->read_timeout_ms ? cfg->read_timeout_ms
                                              : 120000;
    m->retry = (net_retry_policy){
        .max_attempts = cfg->max_attempts > 0 ? cfg->max_attempts : 1,
        .base_delay_ms = cfg->base_delay_ms,
        .max_delay_ms = 20000,
        .max_retry_after_ms = cfg->max_retry_after_ms
                                  ? cfg->max_retry_after_ms
                                  : 30000,
    };
    return &m->base;
oom:
    strands_error_set(err, STRANDS_E_NOMEM, NULL, "OOM");
fail:
    openai_destroy(&m->base);
    return NULL;
}
