/* The Bedrock Converse model provider: request JSON -> signed POST
 * /model/{id}/converse -> parsed response, with AWS standard retries
 * (throttling, 5xx, connection errors) and full-jitter backoff.          */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/aws_call.h"
#include "aws/retry.h"
#include "aws/sigv4.h"
#include "models/converse.h"
#include "strands/aws.h"
#include "strands/clock.h"

typedef struct bedrock_model {
    strands_model base;
    char *model_id;
    char *region;
    char *path;           /* "/model/<encoded id>/converse" */
    aws_endpoint endpoint;
    strands_credentials_provider *credentials;
    http_client *http;
    int max_attempts;
    long connect_timeout_ms;
    long request_timeout_ms;
} bedrock_model;

/* One attempt: resolve credentials, sign, send, parse. */
static strands_status attempt(bedrock_model *m, const char *body,
                              size_t body_len,
                              const strands_model_request *req,
                              strands_model_response *out, long *http_status,
                              strands_error *err)
{
    strands_credentials creds;
    strands_status st = strands_credentials_resolve(m->credentials, &creds,
                                                    err);
    if (st != STRANDS_OK) return st;
    aws_call call = {
        .endpoint = &m->endpoint,
        .service = "bedrock",
        .region = m->region,
        .creds = &creds,
        .method = "POST",
        .path = m->path,
        .content_type = "application/json",
        .body = body,
        .body_len = body_len,
        .connect_timeout_ms = m->connect_timeout_ms,
        .timeout_ms = m->request_timeout_ms,
        .cancelled = req->cancelled,
    };
    http_response resp;
    st = aws_call_send(m->http, &call, &resp, err);
    strands_credentials_wipe(&creds);
    *http_status = 0;
    if (st != STRANDS_OK) return st;
    *http_status = resp.status;
    if (resp.status == 200)
        st = converse_parse_response(strands_buf_str(&resp.body),
                                     resp.body.len, out, err);
    else
        st = aws_error_from_response(&resp, "Bedrock", err);
    http_response_cleanup(&resp);
    return st;
}

static strands_status bedrock_converse(strands_model *self,
                                       const strands_model_request *req,
                                       strands_model_response *out,
                                       strands_error *err)
{
    bedrock_model *m = (bedrock_model *)self;
    memset(out, 0, sizeof *out);
    json_t *body = converse_build_request(req);
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    if (!text)
        return strands_error_set(err, STRANDS_E_NOMEM, NULL,
                                 "cannot serialize the Converse request");
    size_t len = strlen(text);
    strands_status st = STRANDS_E_INTERNAL;
    for (int n = 1; n <= m->max_attempts; n++) {
        long http_status = 0;
        strands_error_clear(err);
        st = attempt(m, text, len, req, out, &http_status, err);
        if (st == STRANDS_OK || n == m->max_attempts) break;
        int transport = st == STRANDS_E_NETWORK || st == STRANDS_E_TIMEOUT;
        if (!transport && st != STRANDS_E_UPSTREAM) break;
        if (!aws_retry_is_retryable(transport ? st : STRANDS_OK, http_status,
                                    err ? err->code : NULL))
            break;
        int64_t delay = aws_retry_delay_ms(n, aws_retry_random_unit());
        if (aws_retry_sleep(delay, req->cancelled) != 0) {
            st = strands_error_set(err, STRANDS_E_CANCELLED, "Cancelled",
                                   "model call cancelled");
            break;
        }
    }
    free(text);
    return st;
}

static void bedrock_destroy(strands_model *self)
{
    bedrock_model *m = (bedrock_model *)self;
    http_client_free(m->http);
    free(m->model_id);
    free(m->region);
    free(m->path);
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
    if (m->path) snprintf(m->path, plen, "/model/%s/converse", enc);
    free(enc);
    m->model_id = strdup(cfg->model_id);
    m->region = strdup(cfg->region);
    m->http = http_client_new(64);
    if (!m->path || !m->model_id || !m->region || !m->http) {
        bedrock_destroy(&m->base);
        strands_error_set(err, STRANDS_E_NOMEM, NULL, "OOM");
        return NULL;
    }
    m->credentials = cfg->credentials;
    m->max_attempts = cfg->max_attempts;
    m->connect_timeout_ms = cfg->connect_timeout_ms ? cfg->connect_timeout_ms
                                                    : 10000;
    m->request_timeout_ms = cfg->request_timeout_ms ? cfg->request_timeout_ms
                                                    : 120000;
    return &m->base;
}
