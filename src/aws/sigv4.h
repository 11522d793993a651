/* AWS Signature Version 4 request signing (Authorization-header flavour).
 * Pure: turns a request description plus credentials and a time into the
 * canonical request, the string to sign and the Authorization value. No I/O;
 * SHA-256 and HMAC come from OpenSSL libcrypto. Thread-safe (no state).   */
#ifndef STRANDS_AWS_SIGV4_H
#define STRANDS_AWS_SIGV4_H

#include <stddef.h>
#include <stdint.h>

#include "strands/status.h"

/* Largest canonical request sigv4_sign builds (bytes); beyond it E_TOO_LARGE. */
#define SIGV4_MAX_CANONICAL ((size_t)1 << 20)

/* One header to sign. Both strings are borrowed for the call. */
typedef struct sigv4_header {
    const char *name;
    const char *value;
} sigv4_header;

/* The request to sign. Every pointer is borrowed for the call. */
typedef struct sigv4_request {
    const char *method;          /* "POST" */
    /* Path exactly as sent on the wire (already percent-encoded), e.g.
     * "/model/a%3Ab/converse". NULL or "" means "/".                    */
    const char *path;
    const char *query;           /* raw query without '?', or NULL/"" */
    /* Headers to sign: must include host; names in any case; may repeat
     * (joined with "," in order). Unsignable headers (authorization,
     * user-agent, connection, proxy-*, sec-*, ...) are skipped.          */
    const sigv4_header *headers;
    size_t n_headers;
    const void *body;            /* may be NULL when body_len is 0 */
    size_t body_len;
} sigv4_request;

typedef struct sigv4_params {
    const char *access_key_id;
    const char *secret_access_key;
    const char *session_token;   /* NULL or "" for long-term credentials */
    const char *region;          /* "us-east-1" */
    const char *service;         /* signing name: "bedrock", "secretsmanager" */
    int64_t unix_time;           /* signing time (seconds since the epoch, UTC) */
    /* 1 for every non-S3 service: drop "." segments, resolve "..", collapse
     * repeated '/' (RFC 3986 dot-segment removal as the AWS SDKs do it). */
    int normalize_path;
    /* 1 for non-S3: URI-encode every byte of the wire path except '/' and
     * unreserved ones, so an escape "%3A" becomes "%253A". 0 (S3 style):
     * encode the path once (existing escapes are kept, raw bytes encoded). */
    int double_encode_path;
    int sign_body_hash;          /* 1: add and sign x-amz-content-sha256 */
    /* 1: the caller adds x-amz-security-token after signing; it is left out
     * of the canonical request and SignedHeaders.                        */
    int omit_session_token;
} sigv4_params;

/* Output of sigv4_sign. Fixed-size fields plus three malloc'd strings that
 * sigv4_result_cleanup frees. On failure every field is zero/NULL.       */
typedef struct sigv4_result {
    char amz_date[17];           /* "20150830T123600Z": send as x-amz-date */
    char payload_hash[65];       /* hex SHA-256 of the body */
    char signature[65];          /* lowercase hex */
    char *authorization;         /* "AWS4-HMAC-SHA256 Credential=..., ..." */
    char *canonical_request;     /* for tests and debugging */
    char *string_to_sign;        /* for tests and debugging */
} sigv4_result;

/**
 * Signs req with p and fills *out (caller storage; release it with
 * sigv4_result_cleanup). The canonical request includes, besides the passed
 * headers: x-amz-date (from unix_time, unless the caller passed one, which
 * must then be a valid "YYYYMMDDTHHMMSSZ" and is used for the whole
 * signature), x-amz-security-token (when a token is set, not omitted and not
 * already passed) and x-amz-content-sha256 (when sign_body_hash and not
 * already passed). The caller must send exactly those headers on the wire.
 * Errors: E_INVALID (missing host, bad method/name/date/credential field,
 * time out of range), E_TOO_LARGE (canonical request over
 * SIGV4_MAX_CANONICAL), E_NOMEM, E_CRYPTO; err (may be NULL) gets detail.
 */
strands_status sigv4_sign(const sigv4_request *req, const sigv4_params *p,
                          sigv4_result *out, strands_error *err);

/** Frees the malloc'd strings of r and zeroes it. NULL and repeats are fine. */
void sigv4_result_cleanup(sigv4_result *r);

/** Lowercase hex SHA-256 of data into out (NUL-terminated). */
void sigv4_hex_sha256(const void *data, size_t len, char out[65]);

/**
 * RFC 3986 percent-encoding of every byte outside A-Za-z0-9-._~ (uppercase
 * hex; space is %20). Returns a malloc'd NUL-terminated string the caller
 * frees, or NULL on OOM. s may be NULL when len is 0.
 */
char *sigv4_uri_encode(const char *s, size_t len);

#endif
