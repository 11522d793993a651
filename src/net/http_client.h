/* The shared HTTP client (general plumbing, nothing AWS-specific beyond
 * collecting the x-amzn request-id/error-type headers): a pool of curl
 * easy handles keeps TLS connections alive across requests; each request
 * borrows one handle for its duration. Thread-safe.
 *
 * Timeouts, as botocore has them: a connect timeout, and a READ timeout
 * that bounds the longest silence between bytes once the connection is up
 * (a stream that keeps sending may run as long as it needs). The silence
 * is measured in curl's progress (xferinfo) callback, which libcurl calls
 * at least about once a second while a transfer is idle, so a read
 * timeout fires between T and T + ~1 s of silence. An optional whole-
 * exchange cap exists for callers bound by a deadline of their own.     */
#ifndef STRANDS_NET_HTTP_CLIENT_H
#define STRANDS_NET_HTTP_CLIENT_H

#include <stdatomic.h>
#include <stddef.h>

#include "core/buf.h"
#include "strands/status.h"

typedef struct http_client http_client;

/* One request; everything borrowed for the duration of the call. */
typedef struct http_request {
    const char *method;          /* "POST", "GET", "PUT" */
    const char *url;
    const char *const *headers;  /* "Name: value" lines */
    size_t n_headers;
    const void *body;
    size_t body_len;
    long connect_timeout_ms;     /* TCP+TLS setup; 0: 10 s */
    long read_timeout_ms;        /* longest silence (no byte sent or
                                    received) once connected; 0: none.
                                    Hit: E_TIMEOUT, code "ReadTimeout" */
    long total_timeout_ms;       /* cap on the whole exchange, only for
                                    callers with a hard deadline (metadata
                                    services, telemetry export); 0: none.
                                    Hit: E_TIMEOUT, code "RequestTimeout" */
    size_t max_response;         /* cap on the collected body; 0: 64 MiB */
    const atomic_int *cancelled; /* non-zero: abort, E_CANCELLED */
    /* Streaming: when set, body bytes of a 2xx response go here instead of
     * resp->body; return non-zero to abort (E_CANCELLED).                */
    int (*on_data)(void *user, const char *p, size_t n);
    void *data_user;
    int no_proxy;                /* non-zero: ignore proxy settings
                                    (metadata services, link-local) */
    /* Optional: every header field of the final response (interim 1xx
     * responses are skipped), for callers that need a header the response
     * struct does not collect (e.g. Mcp-Session-Id). name and value are
     * trimmed, NOT NUL-terminated and valid only during the call; it runs
     * before the first on_data call of that response. Lines without a
     * colon are not reported.                                           */
    void (*on_header)(void *user, const char *name, size_t name_len,
                      const char *value, size_t value_len);
    void *header_user;
} http_request;

/* A response; owned by the caller, freed with http_response_cleanup. */
typedef struct http_response {
    long status;
    dynbuf body;
    char error_type[128];  /* x-amzn-ErrorType header, "" when absent */
    char request_id[128];  /* x-amzn-RequestId (or fallbacks) */
    char content_type[128];
    char etag[132];        /* ETag header as sent (quotes kept), "" when
                              absent (S3 conditional writes)       */
    long retry_after_s;    /* Retry-After in seconds (delta-seconds form
                              only, capped at 3600); -1 when absent */
    long retry_after_ms;   /* the wait the server asks for, in ms: its
                              retry-after-ms header (OpenAI, Anthropic: a
                              number of ms, any fraction dropped) when
                              present, else Retry-After x 1000; capped at
                              3600000; -1 when neither is there      */
} http_response;

/** Creates a client keeping up to `max_idle` handles. NULL on OOM. */
http_client *http_client_new(size_t max_idle);
/** Frees the client and its pooled handles (NULL is a no-op). */
void http_client_free(http_client *c);
/** Sends a request. Transport failures: E_NETWORK (connect/reset/DNS),
 * E_TIMEOUT (connect, read or total timeout; err->code "ConnectTimeout",
 * "ReadTimeout" or "RequestTimeout"), E_CANCELLED, E_TOO_LARGE, E_NOMEM;
 * err says what happened. An HTTP error status is not a failure here:
 * check resp->status. resp is always initialised (cleanup is safe).     */
strands_status http_client_send(http_client *c, const http_request *req,
                                http_response *resp, strands_error *err);
/** Frees the response body. */
void http_response_cleanup(http_response *r);

#endif
