/* The Anthropic Messages model provider: request body (anthropic_request.c)
 * -> POST {base}/v1/messages with x-api-key and anthropic-version, always
 * streamed (stream: true), the SSE body assembled as it arrives
 * (anthropic_stream.c; a server that answers application/json anyway is
 * parsed whole), with retries: transport failures, 408, 409, 429, 5xx
 * and 529 overloaded_error, and an in-stream overloaded_error / api_error
 * before any output reached the consumer; Retry-After (and Anthropic's
 * retry-after-ms) honoured. Timeouts: connect, and a read timeout bounding
 * the silence between bytes.                                            */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "models/anthropic.h"
#include "net/http_client.h"
#include "net/retry.h"
#include "net/url.h"
#include "strands/anthropic.h"
#include "strands/clock.h"

#define ERROR_BODY_MAX (1024 * 1024)   /* an HTTP error answer */
#define MAX_RETRY_AFTER_MS 60000       /* longer Retry-After: capped */

typedef struct anthropic_model {
    strands_model base;
    char *model_id;
    char *url;           /* {base}/v1/messages */
    char *key_header;    /* "x-api-key: <key>" (wiped on free), or NULL */
    char *params;        /* MODEL_PARAMS members text ("" = none) */
    char *params_forced; /* the same without thinking, for calls that
                            force a tool (tool_choice): the API refuses
                            a forced tool with thinking on */
    http_client *http;
    net_retry_policy retry;
    long connect_timeout_ms;
    long read_timeout_ms;
} anthropic_model;

/* One call in flight: what every attempt needs, and its answer state. */
typedef struct anthropic_call {
    anthropic_model *m;
    const char *body;
    size_t body_len;
    const strands_model_request *req;
    strands_model_response *out;
    anthropic_stream *stream;   /* this attempt's assembler */
    const http_response *resp;  /* this attempt's, filled as it arrives */
    dynbuf json;                /* a 2xx application/json answer's body */
    strands_status data_status; /* the body consumer failed */
    strands_error data_err;
} anthropic_call;

static void on_stream_event(void *user, const strands_model_stream_event *ev)
{
    const strands_model_request *req = user;
    req->on_stream(req->stream_user, ev);
}

/* The 2xx answer (headers so far) is one JSON message, not SSE. */
static int json_answer(const http_response *r)
{
    return !strncasecmp(r->content_type, "application/json", 16);
}

/* Body bytes of a 2xx answer: assembled (SSE) or collected (JSON). */
static int on_data(void *user, const char *p, size_t n)
{
    anthropic_call *c = user;
    if (json_answer(c->resp)) {
        c->data_status = dynbuf_append(&c->json, p, n);
        if (c->data_status != STRANDS_OK)
            strands_error_set(&c->data_err, c->data_status, NULL,
                              "Anthropic answer larger than %u bytes",
                              ANTHROPIC_STREAM_MAX_BYTES);
    } else {
        c->data_status = anthropic_stream_feed(c->stream, p, n,
                                               &c->data_err);
    }
    return c->data_status != STRANDS_OK; /* non-zero aborts the body */
}

/* A 200 answer's outcome: the message, or why there is none. */
static strands_status finish_answer(anthropic_call *c, strands_error *err)
{
    if (c->data_status != STRANDS_OK) {
        if (err) *err = c->data_err;
        return c->data_status;
    }
    if (json_answer(c->resp))
        return anthropic_parse_message(dynbuf_str(&c->json), c->json.len,
                                       c->out, err);
    return anthropic_stream_finish(c->stream, c->out, err);
}

static strands_status attempt(void *user, net_attempt *a, strands_error *err)
{
    anthropic_call *c = user;
    anthropic_model *m = c->m;
    const strands_model_request *req = c->req;
    anthropic_stream_free(c->stream);
    c->stream = anthropic_stream_new(
        req->stream && req->on_stream ? on_stream_event : NULL, (void *)req);
    if (!c->stream)
        return strands_error_set(err, STRANDS_E_NOMEM, NULL, "out of memory");
    dynbuf_cleanup(&c->json);
    c->data_status = STRANDS_OK;
    strands_error_clear(&c->data_err);

    char trace[160] = "";
    const char *headers[6];
    size_t nh = 0;
    headers[nh++] = "content-type: application/json";
    headers[nh++] = "accept: text/event-stream";
    headers[nh++] = "anthropic-version: " ANTHROPIC_VERSION;
    if (m->key_header) headers[nh++] = m->key_header;
    if (req->traceparent && strlen(req->traceparent) < 128 &&
        !strpbrk(req->traceparent, "\r\n")) {
        snprintf(trace, sizeof trace, "traceparent: %s", req->traceparent);
        headers[nh++] = trace;
    }
    http_request hr = {
        .method = "POST",
        .url = m->url,
        .headers = headers,
        .n_headers = nh,
        .body = c->body,
        .body_len = c->body_len,
        .connect_timeout_ms = m->connect_timeout_ms,
        .read_timeout_ms = m->read_timeout_ms,
        .max_response = ERROR_BODY_MAX,
        .cancelled = req->cancelled,
        .on_data = on_data,
        .data_user = c,
    };
    http_response resp;
    c->resp = &resp;
    strands_status st = http_client_send(m->http, &hr, &resp, err);
    if (st != STRANDS_OK && c->data_status != STRANDS_OK) {
        /* The body consumer stopped it: an in-stream error, bad event,
         * or a limit. */
        if (err) *err = c->data_err;
        st = c->data_status;
    } else if (st == STRANDS_OK) {
        if (resp.status >= 200 && resp.status < 300) {
            st = finish_answer(c, err);
        } else {
            st = anthropic_error_from_response(resp.status,
                                               dynbuf_str(&resp.body),
                                               resp.body.len, err);
            a->http_status = resp.status;
            a->retry_after_ms = resp.retry_after_ms;
        }
        http_response_cleanup(&resp);
    }
    /* Output already shown to the consumer must not be shown twice. */
    if (st != STRANDS_OK && anthropic_stream_sent_anything(c->stream))
        a->http_status = -1;
    return st;
}

/* Which failures get another attempt (see the file comment). */
static int classify(void *user, strands_status st, const net_attempt *a,
                    const strands_error *err)
{
    (void)user;
    if (st == STRANDS_E_CANCELLED || a->http_status < 0) return 0;
    if (st == STRANDS_E_NETWORK || st == STRANDS_E_TIMEOUT) return 1;
    long s = a->http_status;
    if (s == 408 || s == 409 || s == 429 || s >= 500) return 1;
    if (s == 0 && st == STRANDS_E_UPSTREAM && err)
        return !strcmp(err->code, "overloaded_error") ||
               !strcmp(err->code, "api_error") ||
               !strcmp(err->code, "rate_limit_error");
    return 0;
}

static strands_status anthropic_converse(strands_model *self,
                                         const strands_model_request *req,
                                         strands_model_response *out,
                                         strands_error *err)
{
    anthropic_model *m = (anthropic_model *)self;
    memset(out, 0, sizeof *out);
    size_t len = 0;
    char *body = anthropic_build_body(
        req, m->model_id, req->tool_choice ? m->params_forced : m->params,
        &len, err);
    if (!body) return err ? err->status : STRANDS_E_INVALID;
    int64_t t0 = strands_clock_mono_ms();
    anthropic_call c = {.m = m, .body = body, .body_len = len, .req = req,
                        .out = out};
    dynbuf_init(&c.json, ANTHROPIC_STREAM_MAX_BYTES);
    strands_status st = net_retry_run(&m->retry, attempt, &c, req->cancelled,
                                      err);
    anthropic_stream_free(c.stream);
    dynbuf_cleanup(&c.json);
    free(body);
    if (st == STRANDS_OK) {
        out->latency_ms = strands_clock_mono_ms() - t0;
    } else {
        strands_model_response_cleanup(out);
        /* A connect or read timeout that outlived the retries: the same
         * stable error type as Bedrock's (504 ModelTimeout). */
        if (st == STRANDS_E_TIMEOUT && err)
            snprintf(err->code, sizeof err->code, "ModelTimeout");
    }
    return st;
}

static void anthropic_destroy(strands_model *self)
{
    anthropic_model *m = (anthropic_model *)self;
    http_client_free(m->http);
    if (m->key_header) {
        explicit_bzero(m->key_header, strlen(m->key_header));
        free(m->key_header);
    }
    free(m->model_id);
    free(m->url);
    free(m->params);
    free(m->params_forced);
    free(m);
}

static const strands_model_vtab anthropic_vtab = {
    STRANDS_MODEL_VTAB_VERSION, "anthropic", anthropic_converse,
    anthropic_destroy};

/* {base}/v1/messages, the base checked by the one URL rule. */
static char *messages_url(const char *base, strands_error *err)
{
    net_url u;
    if (net_url_parse(base, NET_URL_HTTP_LOOPBACK_ONLY | NET_URL_NO_QUERY,
                      "ANTHROPIC_BASE_URL", &u, err) != STRANDS_OK)
        return NULL;
    size_t plen = strlen(u.path);
    while (plen && u.path[plen - 1] == '/') plen--;
    size_t n = strlen(u.origin) + plen + sizeof "/v1/messages";
    char *url = malloc(n);
    if (url)
        snprintf(url, n, "%s%.*s/v1/messages", u.origin, (int)plen, u.path);
    else
        strands_error_set(err, STRANDS_E_NOMEM, NULL, "out of memory");
    net_url_cleanup(&u);
    return url;
}

static strands_status check_model_id(const char *id, strands_error *err)
{
    size_t n = id ? strlen(id) : 0;
    if (n < 1 || n > 256)
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "MODEL_ID: an Anthropic model name of "
                                 "1..256 characters is required");
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)id[i] < 0x21 || id[i] == 0x7f || id[i] == '"' ||
            id[i] == '\\')
            return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                     "MODEL_ID: must not hold spaces, "
                                     "quotes or control characters");
    /* A Bedrock model id, inference profile or ARN (the runtime's default
     * MODEL_ID is one): the Anthropic API would answer 404 to every call. */
    if (!strncmp(id, "arn:", 4) || !strncmp(id, "anthropic.", 10) ||
        strstr(id, ".anthropic."))
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "MODEL_ID: '%.100s' is a Bedrock model id; "
                                 "the anthropic provider wants an Anthropic "
                                 "model name, e.g. claude-sonnet-4-20250514",
                                 id);
    return STRANDS_OK;
}

strands_model *strands_anthropic_model_new(const strands_anthropic_config *cfg,
                                           strands_error *err)
{
    if (check_model_id(cfg->model_id, err) != STRANDS_OK) return NULL;
    if (cfg->max_attempts < 0 || cfg->max_attempts > 20) {
        strands_error_set(err, STRANDS_E_INVALID, NULL,
                          "max_attempts must be 0..20");
        return NULL;
    }
    if (cfg->api_key && strpbrk(cfg->api_key, "\r\n")) {
        strands_error_set(err, STRANDS_E_INVALID, NULL,
                          "ANTHROPIC_API_KEY: must not hold line breaks");
        return NULL;
    }
    anthropic_model *m = calloc(1, sizeof *m);
    if (!m) {
        strands_error_set(err, STRANDS_E_NOMEM, NULL, "out of memory");
        return NULL;
    }
    m->base.vtab = &anthropic_vtab;
    m->url = messages_url(cfg->base_url ? cfg->base_url
                                        : "https://api.anthropic.com", err);
    if (!m->url ||
        anthropic_params_text(cfg->params, cfg->max_tokens_hint, 0,
                              &m->params, err) != STRANDS_OK ||
        anthropic_params_text(cfg->params, cfg->max_tokens_hint, 1,
                              &m->params_forced, err) != STRANDS_OK) {
        anthropic_destroy(&m->base);
        return NULL;
    }
    m->model_id = strdup(cfg->model_id);
    m->http = http_client_new(64);
    if (cfg->api_key && *cfg->api_key) {
        size_t n = strlen(cfg->api_key) + sizeof "x-api-key: ";
        if ((m->key_header = malloc(n)))
            snprintf(m->key_header, n, "x-api-key: %s", cfg->api_key);
    }
    if (!m->model_id || !m->http ||
        (cfg->api_key && *cfg->api_key && !m->key_header)) {
        anthropic_destroy(&m->base);
        strands_error_set(err, STRANDS_E_NOMEM, NULL, "out of memory");
        return NULL;
    }
    m->retry = (net_retry_policy){
        .max_attempts = cfg->max_attempts ? cfg->max_attempts : 3,
        .base_delay_ms = cfg->retry_base_delay_ms,
        .max_retry_after_ms = MAX_RETRY_AFTER_MS,
        .classify = classify,
    };
    m->connect_timeout_ms = cfg->connect_timeout_ms ? cfg->connect_timeout_ms
                                                    : 10000;
    m->read_timeout_ms = cfg->read_timeout_ms ? cfg->read_timeout_ms
                                              : 120000;
    return &m->base;
}
