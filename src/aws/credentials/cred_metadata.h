/* Pieces shared by the two metadata-service credential providers
 * (cred_container.c, cred_imds.c): strict http(s) URL splitting, the
 * container host allow-list, and credentials JSON parsing whose error
 * messages never quote the response (it holds secrets).                 */
#ifndef STRANDS_AWS_CRED_METADATA_H
#define STRANDS_AWS_CRED_METADATA_H

#include <stddef.h>

#include <jansson.h>

#include "strands/aws.h"
#include "strands/status.h"

/* A URL split into what the providers need. Caller storage. */
typedef struct aws_md_url {
    int https;
    char origin[320];  /* scheme://authority as given (never the path) */
    char host[272];    /* host without port; IPv6 keeps its brackets */
    const char *rest;  /* points into the parsed string: path + query */
} aws_md_url;

/** Splits an absolute http:// or https:// URL. Rejects user info ('@'),
 * characters outside [A-Za-z0-9.-] in a host (or hex/':' in [IPv6]), bad
 * ports (1..65535) and control characters, spaces or backslashes anywhere.
 * `what` names the setting in the E_INVALID message, which shows the
 * origin at most (paths may carry credential ids).                       */
strands_status aws_md_url_parse(const char *url, const char *what,
                                aws_md_url *out, strands_error *err);

/** True when host (as in aws_md_url.host) is a loopback address: IPv4
 * 127.0.0.0/8 in dotted-decimal, [::1] in any spelling, or "localhost". */
int aws_md_host_is_loopback(const char *host);

/** The container-credentials rule: https to any host; plain http only to
 * loopback, 169.254.170.2 (ECS), 169.254.170.23 or [fd00:ec2::23] (EKS
 * Pod Identity). Returns 1 when allowed.                                 */
int aws_md_container_host_allowed(const aws_md_url *u);

/** Parses body as a JSON object; NULL with E_UPSTREAM ("<what>: the
 * response is not a JSON object") otherwise. The caller json_decref's
 * the result.                                                            */
json_t *aws_md_parse_object(const char *body, size_t len, const char *what,
                            strands_error *err);

/** Fills out from a credentials object {"AccessKeyId", "SecretAccessKey",
 * "Token", "Expiration": ISO-8601, ...}; all four are required strings.
 * E_UPSTREAM naming `what` and the offending field (never a value) for a
 * bad document; out is wiped on failure.                                 */
strands_status aws_md_credentials_from_object(const json_t *obj,
                                              const char *what,
                                              strands_credentials *out,
                                              strands_error *err);

/** 1 when s equals "true" ignoring case (AWS boolean settings). */
int aws_md_env_true(const char *s);

#endif
