/* One signed AWS call: builds the wire headers (Host, Content-Type,
 * X-Amz-Date, X-Amz-Security-Token), signs them with SigV4 (or sets a
 * Bearer token), sends through the shared HTTP client, and turns AWS error
 * responses into strands_error. Used by every AWS client in this module. */
#ifndef STRANDS_AWS_CALL_H
#define STRANDS_AWS_CALL_H

#include <stdatomic.h>
#include <stddef.h>

#include "aws/endpoint.h"
#include "net/http_client.h"
#include "strands/aws.h"

typedef struct aws_header {
    const char *name;
    const char *value;
} aws_header;

typedef struct aws_call {
    const aws_endpoint *endpoint;
    const char *service;               /* signing name: "bedrock" */
    const char *region;
    const strands_credentials *creds;  /* used unless bearer_token is set */
    const char *bearer_token;          /* non-NULL: Bearer auth, no SigV4 */
    const char *method;
    const char *path;                  /* as sent, percent-encoded, without
                                          the endpoint prefix */
    const char *query;                 /* raw query without '?' (already
                                          percent-encoded), or NULL */
    int s3;                            /* S3 signing rules: path neither
                                          normalized nor double-encoded,
                                          x-amz-content-sha256 signed */
    const char *content_type;
    const aws_header *extra;           /* more signed headers */
    size_t n_extra;
    const aws_header *unsigned_extra;  /* sent but not signed (traceparent) */
    size_t n_unsigned;
    const void *body;
    size_t body_len;
    long connect_timeout_ms;           /* as http_request */
    long read_timeout_ms;              /* silence bound; 0: none */
    long total_timeout_ms;             /* whole exchange; 0: none */
    size_t max_response;
    const atomic_int *cancelled;
    int (*on_data)(void *user, const char *p, size_t n);
    void *data_user;
} aws_call;

/** Signs and sends. Transport errors as http_client_send; the response
 * (any status) is returned in *resp, owned by the caller.               */
strands_status aws_call_send(http_client *c, const aws_call *call,
                             http_response *resp, strands_error *err);

/** Fills err from a non-2xx AWS response: err->code = the error type
 * (x-amzn-ErrorType, else body "code"/"__type", namespace and ":suffix"
 * stripped; "HttpError<status>" when none), err->message = the body's
 * message, err->http_status = the status. Returns E_UPSTREAM.           */
strands_status aws_error_from_response(const http_response *resp,
                                       const char *service_label,
                                       strands_error *err);

#endif
