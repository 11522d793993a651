/* GetSecretValue over the signed-call helper. */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "aws/aws_call.h"
#include "aws/secretsmanager.h"

typedef struct sm_attempt {
    http_client *http;
    aws_call call;
    const char *secret_id;
    char **out;
} sm_attempt;

static strands_status sm_once(void *user, long *http_status,
                              strands_error *err)
{
    sm_attempt *a = user;
    http_response resp;
    strands_status st = aws_call_send(a->http, &a->call, &resp, err);
    if (st != STRANDS_OK) return st;
    *http_status = resp.status;
    if (resp.status != 200) {
        aws_error_from_response(&resp, "Secrets Manager", err);
        char detail[STRANDS_ERROR_MESSAGE_MAX];
        memcpy(detail, err->message, sizeof detail);
        strands_error_set(err, STRANDS_E_UPSTREAM, err->code,
                          "secret '%s': %s", a->secret_id, detail);
        err->http_status = (int)resp.status;
        http_response_cleanup(&resp);
        return STRANDS_E_UPSTREAM;
    }
    json_t *doc = json_loadb(dynbuf_str(&resp.body), resp.body.len, 0,
                             NULL);
    explicit_bzero(resp.body.data, resp.body.len);
    http_response_cleanup(&resp);
    const char *s = json_string_value(json_object_get(doc, "SecretString"));
    if (!json_is_object(doc)) {
        st = strands_error_set(err, STRANDS_E_PARSE, "InvalidResponse",
                               "secret '%s': Secrets Manager answer is not "
                               "JSON", a->secret_id);
    } else if (!s) {
        st = strands_error_set(err, STRANDS_E_INVALID, NULL,
                               "secret '%s' has no SecretString (binary "
                               "secrets are not supported)", a->secret_id);
    } else if (!(*a->out = strdup(s))) {
        st = strands_error_set(err, STRANDS_E_NOMEM, NULL, "OOM");
    }
    if (s) explicit_bzero((char *)s, strlen(s));
    json_decref(doc);
    return st;
}

strands_status aws_sm_get_secret_string(http_client *http,
                                        const aws_endpoint *endpoint,
                                        const char *region,
                                        const strands_credentials *creds,
                                        aws_retry_policy *retry,
                                        const char *secret_id, char **out,
                                        strands_error *err)
{
    *out = NULL;
    json_t *req = json_pack("{s:s}", "SecretId", secret_id);
    char *body = req ? json_dumps(req, JSON_COMPACT) : NULL;
    json_decref(req);
    if (!body) return strands_error_set(err, STRANDS_E_NOMEM, NULL, "OOM");
    static const aws_header target = {"x-amz-target",
                                      "secretsmanager.GetSecretValue"};
    sm_attempt a = {
        .http = http,
        .call = {.endpoint = endpoint,
                 .service = "secretsmanager",
                 .region = region,
                 .creds = creds,
                 .method = "POST",
                 .path = "/",
                 .content_type = "application/x-amz-json-1.1",
                 .extra = &target,
                 .n_extra = 1,
                 .body = body,
                 .body_len = strlen(body),
                 .connect_timeout_ms = 5000,
                 .total_timeout_ms = 15000,
                 .max_response = 1 << 20},
        .secret_id = secret_id,
        .out = out,
    };
    strands_status st = aws_retry_run(retry, sm_once, &a, NULL, err);
    free(body);
    return st;
}
