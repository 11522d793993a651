/* Signed AWS requests over the shared HTTP client, and AWS error parsing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "aws/aws_call.h"
#include "aws/sigv4.h"
#include "strands/clock.h"

#define MAX_HEADERS 16

/* Formats "Name: value" into a heap string; NULL on OOM. */
static char *header_line(const char *name, const char *value)
{
    size_t n = strlen(name) + strlen(value) + 3;
    char *s = malloc(n);
    if (s) snprintf(s, n, "%s: %s", name, value);
    return s;
}

strands_status aws_call_send(http_client *c, const aws_call *call,
                             http_response *resp, strands_error *err)
{
    if (call->n_extra > MAX_HEADERS - 6 || call->n_unsigned > 4)
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "too many headers for one AWS call");
    sigv4_header sh[MAX_HEADERS];
    size_t n = 0;
    sh[n++] = (sigv4_header){"host", call->endpoint->host};
    sh[n++] = (sigv4_header){"content-type", call->content_type};
    for (size_t i = 0; i < call->n_extra; i++)
        sh[n++] = (sigv4_header){call->extra[i].name, call->extra[i].value};

    char url[2048];
    int has_q = call->query && call->query[0];
    int ulen = snprintf(url, sizeof url, "%s%s%s%s%s", call->endpoint->base,
                        call->endpoint->prefix, call->path, has_q ? "?" : "",
                        has_q ? call->query : "");
    if (ulen < 0 || (size_t)ulen >= sizeof url)
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "request URL too long");

    sigv4_result sig = {0};
    char *auth_value = NULL;
    size_t n_signed = n;
    if (call->bearer_token) {
        size_t alen = strlen(call->bearer_token) + 8;
        auth_value = malloc(alen);
        if (!auth_value)
            return strands_error_set(err, STRANDS_E_NOMEM, NULL, "OOM");
        snprintf(auth_value, alen, "Bearer %s", call->bearer_token);
    } else {
        if (!call->creds)
            return strands_error_set(err, STRANDS_E_NO_CREDENTIALS,
                                     "NoCredentialsError",
                                     "no credentials to sign the request");
        const char *token = call->creds->session_token[0]
                                ? call->creds->session_token
                                : NULL;
        /* With a session token the header is signed, so it must be in the
         * list handed to the signer. */
        if (token) sh[n++] = (sigv4_header){"x-amz-security-token", token};
        n_signed = n;
        sigv4_request rq = {call->method, call->path, call->query, sh, n,
                            call->body, call->body_len};
        char full_path[1024];
        if (call->endpoint->prefix[0]) {
            snprintf(full_path, sizeof full_path, "%s%s",
                     call->endpoint->prefix, call->path);
            rq.path = full_path;
        }
        sigv4_params sp = {
            .access_key_id = call->creds->access_key_id,
            .secret_access_key = call->creds->secret_access_key,
            .session_token = token,
            .region = call->region,
            .service = call->service,
            .unix_time = strands_clock_wall(),
            .normalize_path = !call->s3,
            .double_encode_path = !call->s3,
            .sign_body_hash = call->s3,
        };
        strands_status st = sigv4_sign(&rq, &sp, &sig, err);
        if (st != STRANDS_OK) return st;
        auth_value = sig.authorization;
        sig.authorization = NULL;
    }

    /* Wire headers: the signed ones, x-amz-date, authorization. */
    char *lines[MAX_HEADERS + 7] = {0};
    size_t nl = 0;
    strands_status st = STRANDS_OK;
    for (size_t i = 0; i < n_signed && st == STRANDS_OK; i++)
        if (!(lines[nl++] = header_line(sh[i].name, sh[i].value)))
            st = STRANDS_E_NOMEM;
    if (st == STRANDS_OK && !call->bearer_token &&
        !(lines[nl++] = header_line("x-amz-date", sig.amz_date)))
        st = STRANDS_E_NOMEM;
    if (st == STRANDS_OK && !call->bearer_token && call->s3 &&
        !(lines[nl++] = header_line("x-amz-content-sha256",
                                    sig.payload_hash)))
        st = STRANDS_E_NOMEM;
    if (st == STRANDS_OK &&
        !(lines[nl++] = header_line("authorization", auth_value)))
        st = STRANDS_E_NOMEM;
    for (size_t i = 0; i < call->n_unsigned && st == STRANDS_OK; i++)
        if (!(lines[nl++] = header_line(call->unsigned_extra[i].name,
                                        call->unsigned_extra[i].value)))
            st = STRANDS_E_NOMEM;
    if (st != STRANDS_OK) {
        strands_error_set(err, st, NULL, "out of memory building headers");
    } else {
        http_request hr = {
            .method = call->method,
            .url = url,
            .headers = (const char *const *)lines,
            .n_headers = nl,
            .body = call->body,
            .body_len = call->body_len,
            .connect_timeout_ms = call->connect_timeout_ms,
            .read_timeout_ms = call->read_timeout_ms,
            .total_timeout_ms = call->total_timeout_ms,
            .max_response = call->max_response,
            .cancelled = call->cancelled,
            .on_data = call->on_data,
            .data_user = call->data_user,
        };
        st = http_client_send(c, &hr, resp, err);
    }
    for (size_t i = 0; i < nl; i++) {
        if (lines[i]) explicit_bzero(lines[i], strlen(lines[i]));
        free(lines[i]);
    }
    explicit_bzero(auth_value, strlen(auth_value));
    free(auth_value);
    sigv4_result_cleanup(&sig);
    return st;
}

/* Copies an AWS error code as the SDKs read it: the text before any ','
 * or ':' (a second value, a ":http://..." suffix), then after the first
 * '#' of that ("namespace#Code").                                        */
static void sanitize_code(const char *raw, char *out, size_t outsz)
{
    size_t n = strcspn(raw, ",:");
    const char *hash = memchr(raw, '#', n);
    if (hash) {
        const char *end = raw + n;
        raw = hash + 1;
        const char *next = memchr(raw, '#', (size_t)(end - raw));
        n = (size_t)((next ? next : end) - raw);
    }
    if (n >= outsz) n = outsz - 1;
    memcpy(out, raw, n);
    out[n] = '\0';
}

strands_status aws_error_from_response(const http_response *resp,
                                       const char *service_label,
                                       strands_error *err)
{
    char code[STRANDS_ERROR_CODE_MAX] = "";
    const char *message = NULL;
    json_t *body = json_loadb(dynbuf_str(&resp->body), resp->body.len,
                              0, NULL);
    if (resp->error_type[0]) sanitize_code(resp->error_type, code, sizeof code);
    if (json_is_object(body)) {
        /* restJson order (smithy loadRestJsonErrorCode): code, __type. */
        const char *c = json_string_value(json_object_get(body, "code"));
        if (!c) c = json_string_value(json_object_get(body, "__type"));
        if (!code[0] && c) sanitize_code(c, code, sizeof code);
        message = json_string_value(json_object_get(body, "message"));
        if (!message)
            message = json_string_value(json_object_get(body, "Message"));
    }
    if (!code[0]) snprintf(code, sizeof code, "HttpError%ld", resp->status);
    strands_error_set(err, STRANDS_E_UPSTREAM, code, "%s error %ld %s: %s",
                      service_label, resp->status, code,
                      message ? message : "(no message)");
    err->http_status = (int)resp->status;
    json_decref(body);
    return STRANDS_E_UPSTREAM;
}
