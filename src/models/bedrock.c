/* The Bedrock Converse model provider: request JSON -> signed POST
 * /model/{id}/converse -> parsed response, with AWS standard retries
 * (throttling, 5xx, connection errors, read timeouts) and full-jitter
 * backoff. Timeouts: connect, and a read timeout bounding the silence
 * between bytes (no whole-call bound: a long stream is not cut off).     */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/aws_call.h"
#include "aws/retry.h"
#include "aws/sigv4.h"
#include "models/bedrock_params.h"
#include "models/converse.h"
#include "models/converse_stream.h"
#include "strands/aws.h"
#include "strands/clock.h"

typedef struct bedrock_model {
    strands_model base;
    char *model_id;
    char *region;
    char *path;           /* "/model/<encoded id>/converse" */
    char *stream_path;    /* "/model/<encoded id>/converse-stream" */
    aws_endpoint endpoint;
    strands_credentials_provider *credentials;
    char *bearer_token;   /* AWS_BEARER_TOKEN_BEDROCK, or NULL */
    http_client *http;
    aws_retry_policy retry;
    long connect_timeout_ms;
    long read_timeout_ms;  /* longest silence between bytes of an answer */
    bedrock_params params; /* MODEL_PARAMS, PROMPT_CACHE, guardrail */
} bedrock_model;

/* One call in flight: what every attempt needs. */
typedef struct bedrock_call {
    bedrock_model *m;
    const char *body;
    size_t body_len;
    const strands_model_request *req;
    strands_model_response *out;
    cs_assembler *stream;   /* ConverseStream: this attempt's assembler */
    strands_error stream_err;
    strands_status stream_status;
} bedrock_call;

static void on_stream_event(void *user, const strands_model_stream_event *ev)
{
    const strands_model_request *req = user;
    if (req->on_stream) req->on_stream(req->stream_user, ev);
}

/* ConverseStream body bytes: decoded and assembled as they arrive. */
static int on_stream_data(void *user, const char *p, size_t n)
{
    bedrock_call *bc = user;
    bc->stream_status = cs_assembler_feed(bc->stream, (const uint8_t *)p, n,
                                          &bc->stream_err);
    return bc->stream_status != STRANDS_OK; /* non-zero aborts the body */
}

/* Finishes a streamed 200 answer: the in-stream error, or the message. */
static strands_status finish_stream(bedrock_call *bc, strands_error *err)
{
    strands_status st = bc->stream_status;
    if (st == STRANDS_OK) st = cs_assembler_finish(bc->stream, bc->out, err);
    else if (err) *err = bc->stream_err;
    return st;
}

/* One attempt: resolve credentials (or use the bearer key), sign, send,
 * parse. Credentials are resolved per attempt: a refresh between attempts
 * is picked up. */
static strands_status attempt(void *user, long *http_status,
                              strands_error *err)
{
    bedrock_call *bc = user;
    bedrock_model *m = bc->m;
    strands_credentials creds;
    memset(&creds, 0, sizeof creds);
    if (!m->bearer_token) {
        strands_status st = strands_credentials_resolve(m->credentials,
                                                        &creds, err);
        if (st != STRANDS_OK) return st;
    }
    int streaming = bc->req->stream;
    if (streaming) {
        cs_callbacks cb = {NULL, NULL, (void *)bc->req, on_stream_event};
        cs_assembler_free(bc->stream);
        bc->stream = cs_assembler_new(&cb);
        bc->stream_status = STRANDS_OK;
        if (!bc->stream) {
            strands_credentials_wipe(&creds);
            return strands_error_set(err, STRANDS_E_NOMEM, NULL, "OOM");
        }
    }
    aws_header trace = {"traceparent", bc->req->traceparent};
    aws_call call = {
        .unsigned_extra = &trace,
        .n_unsigned = bc->req->traceparent ? 1 : 0,
        .endpoint = &m->endpoint,
        .service = "bedrock",
        .region = m->region,
        .creds = m->bearer_token ? NULL : &creds,
        .bearer_token = m->bearer_token,
        .method = "POST",
        .path = streaming ? m->stream_path : m->path,
        .on_data = streaming ? on_stream_data : NULL,
        .data_user = bc,
        .content_type = "application/json",
        .body = bc->body,
        .body_len = bc->body_len,
        .connect_timeout_ms = m->connect_timeout_ms,
        .read_timeout_ms = m->read_timeout_ms,
        .cancelled = bc->req->cancelled,
    };
    http_response resp;
    strands_status st = aws_call_send(m->http, &call, &resp, err);
    strands_credentials_wipe(&creds);
    if (streaming && bc->stream_status != STRANDS_OK) {
        /* The body was cut short by an in-stream exception or bad frame. */
        if (st == STRANDS_OK) http_response_cleanup(&resp);
        st = finish_stream(bc, err);
    } else if (st == STRANDS_OK) {
        *http_status = resp.status;
        if (resp.status == 200 && streaming)
            st = finish_stream(bc, err);
        else if (resp.status == 200)
            st = converse_parse_response(dynbuf_str(&resp.body),
                                         resp.body.len, bc->out, err);
        else
            st = aws_error_from_response(&resp, "Bedrock", err);
        http_response_cleanup(&resp);
    }
    /* Output already forwarded to the client must not be sent twice. */
    if (st != STRANDS_OK && streaming && cs_assembler_sent_anything(bc->stream))
        *http_status = -1;
    return st;
}

/* AWS answers these when the signing keys are expired, rotated or wrong:
 * fresh credentials (e.g. a re-read secret) may heal the call. */
static int credentials_rejected(const strands_error *err)
{
    static const char *const codes[] = {"ExpiredTokenException",
                                        "UnrecognizedClientException",
                                        "InvalidSignatureException", NULL};
    if (err->status != STRANDS_E_UPSTREAM) return 0;
    for (const char *const *c = codes; *c; c++)
        if (!strcmp(err->code, *c)) return 1;
    return 0;
}

static strands_status bedrock_converse(strands_model *self,
                                       const strands_model_request *req,
                                       strands_model_response *out,
                                       strands_error *err)
{
    bedrock_model *m = (bedrock_model *)self;
    memset(out, 0, sizeof *out);
    size_t text_len = 0;
    char *text = converse_build_body_ex(
        req, req->stream ? &m->params.stream : &m->params.converse,
        &text_len);
    if (!text)
        return strands_error_set(err, STRANDS_E_NOMEM, NULL,
                                 "cannot serialize the Converse request");
    bedrock_call bc = {m, text, text_len, req, out, NULL, {0}, STRANDS_OK};
    strands_status st = aws_retry_run(&m->retry, attempt, &bc, req->cancelled,
                                      err);
    if (st != STRANDS_OK && !m->bearer_token && credentials_rejected(err)) {
        /* Once per call: drop cached credentials and try again. */
        strands_credentials_invalidate(m->credentials);
        st = aws_retry_run(&m->retry, attempt, &bc, req->cancelled, err);
    }
    cs_assembler_free(bc.stream);
    free(text);
    /* A guardrail blocked the turn: the agent stores the redaction text
     * instead of the user's input (GUARDRAIL_REDACT_INPUT). */
    if (st == STRANDS_OK && out->stop == STRANDS_STOP_GUARDRAIL_INTERVENED &&
        m->params.redact_input &&
        !(out->redact_input = strdup(m->params.redact_input))) {
        strands_model_response_cleanup(out);
        return strands_error_set(err, STRANDS_E_NOMEM, NULL, "OOM");
    }
    /* A connect or read timeout that outlived the retries: one stable
     * error type for the client (504 ModelTimeout / SSE error event). */
    if (st == STRANDS_E_TIMEOUT && err)
        snprintf(err->code, sizeof err->code, "ModelTimeout");
    /* The input does not fit the model's context window (an HTTP 400 or
     * an in-stream exception): one code the agent recovers from. */
    if (st != STRANDS_OK && err &&
        strands_model_overflow_message(err->message)) {
        st = err->status = STRANDS_E_INVALID;
        snprintf(err->code, sizeof err->code, "%s",
                 STRANDS_ERROR_CONTEXT_OVERFLOW);
    }
    return st;
}

static void bedrock_destroy(strands_model *self)
{
    bedrock_model *m = (bedrock_model *)self;
    http_client_free(m->http);
    free(m->model_id);
    free(m->region);
    if (m->bearer_token) {
        explicit_bzero(m->bearer_token, strlen(m->bearer_token));
        free(m->bearer_token);
    }
    free(m->path);
    free(m->stream_path);
    bedrock_params_cleanup(&m->params);
    free(m);
}

static const strands_model_vtab bedrock_vtab = {
    STRANDS_MODEL_VTAB_VERSION, "bedrock", bedrock_converse, bedrock_destroy};

strands_model *strands_bedrock_model_new(const strands_bedrock_config *cfg,
                                         strands_error *err)
{
    if (!cfg->model_id || !*cfg->model_id || strlen(cfg->model_id) > 2048) {
        strands_error_set(err, STRANDS_E_INVALID, NULL,
                          "model id must be 1..2048 characters");
        return NULL;
    }
    if (!cfg->region || !*cfg->region) {
        strands_error_set(err, STRANDS_E_INVALID, NULL, "region is empty");
        return NULL;
    }
    if (cfg->max_attempts < 1) {
        strands_error_set(err, STRANDS_E_INVALID, NULL,
                          "max_attempts must be >= 1");
        return NULL;
    }
    bedrock_model *m = calloc(1, sizeof *m);
    if (!m) {
        strands_error_set(err, STRANDS_E_NOMEM, NULL, "OOM");
        return NULL;
    }
    m->base.vtab = &bedrock_vtab;
    char url[512];
    const char *endpoint = cfg->endpoint;
    if (!endpoint) {
        snprintf(url, sizeof url, "https://bedrock-runtime.%s.amazonaws.com",
                 cfg->region);
        endpoint = url;
    }
    if (aws_endpoint_parse(endpoint, &m->endpoint, err) != STRANDS_OK) {
        free(m);
        return NULL;
    }
    char *enc = sigv4_uri_encode(cfg->model_id, strlen(cfg->model_id));
    size_t plen = enc ? strlen(enc) + 32 : 0;
    m->path = enc ? malloc(plen) : NULL;
    m->stream_path = enc ? malloc(plen + 8) : NULL;
    if (m->path) snprintf(m->path, plen, "/model/%s/converse", enc);
    if (m->stream_path)
        snprintf(m->stream_path, plen + 8, "/model/%s/converse-stream", enc);
    free(enc);
    m->model_id = strdup(cfg->model_id);
    m->region = strdup(cfg->region);
    m->http = http_client_new(64);
    if (!m->path || !m->stream_path || !m->model_id || !m->region ||
        !m->http) {
        bedrock_destroy(&m->base);
        strands_error_set(err, STRANDS_E_NOMEM, NULL, "OOM");
        return NULL;
    }
    m->credentials = cfg->credentials;
    char attempts[16];
    snprintf(attempts, sizeof attempts, "%d", cfg->max_attempts);
    if (aws_retry_policy_init(&m->retry, cfg->retry_mode, attempts, err) !=
        STRANDS_OK) {
        bedrock_destroy(&m->base);
        return NULL;
    }
    if (cfg->bearer_token && *cfg->bearer_token &&
        !(m->bearer_token = strdup(cfg->bearer_token))) {
        bedrock_destroy(&m->base);
        strands_error_set(err, STRANDS_E_NOMEM, NULL, "OOM");
        return NULL;
    }
    if (bedrock_params_init(cfg, &m->params, err) != STRANDS_OK) {
        bedrock_destroy(&m->base);
        return NULL;
    }
    m->connect_timeout_ms = cfg->connect_timeout_ms ? cfg->connect_timeout_ms
                                                    : 10000;
    m->read_timeout_ms = cfg->read_timeout_ms ? cfg->read_timeout_ms
                                              : 120000;
    return &m->base;
}
