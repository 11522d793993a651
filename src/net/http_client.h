/* The shared HTTP client: the only code that includes curl/curl.h. A pool
 * of curl easy handles keeps TLS connections alive across requests; each
 * request borrows one handle for its duration. Thread-safe.              */
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
    long connect_timeout_ms;     /* 0: 10 s */
    long timeout_ms;             /* whole request; 0: none */
    size_t max_response;         /* cap on the collected body; 0: 64 MiB */
    const atomic_int *cancelled; /* non-zero: abort, E_CANCELLED */
    /* Streaming: when set, body bytes of a 2xx response go here instead of
     * resp->body; return non-zero to abort (E_CANCELLED).                */
    int (*on_data)(void *user, const char *p, size_t n);
    void *data_user;
    int no_proxy;                /* non-zero: ignore proxy settings
                                    (metadata services, link-local) */
} http_request;

/* A response; owned by the caller, freed with http_response_cleanup. */
typedef struct http_response {
    long status;
    strands_buf body;
    char error_type[128];  /* x-amzn-ErrorType header, "" when absent */
    char request_id[128];  /* x-amzn-RequestId (or fallbacks) */
    char content_type[128];
} http_response;

/** Creates a client keeping up to `max_idle` handles. NULL on OOM. */
http_client *http_client_new(size_t max_idle);
/** Frees the client and its pooled handles (NULL is a no-op). */
void http_client_free(http_client *c);
/** Sends a request. Transport failures: E_NETWORK (connect/reset/DNS),
 * E_TIMEOUT, E_CANCELLED, E_TOO_LARGE; err says what happened. An HTTP
 * error status is not a failure here: check resp->status.               */
strands_status http_client_send(http_client *c, const http_request *req,
                                http_response *resp, strands_error *err);
/** Frees the response body. */
void http_response_cleanup(http_response *r);

#endif
