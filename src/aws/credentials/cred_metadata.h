/* Pieces shared by the two metadata-service credential providers
 * (cred_container.c, cred_imds.c): the container host allow-list (URLs
 * are parsed by net/url), and credentials JSON parsing whose error
 * messages never quote the response (it holds secrets).                 */
#ifndef STRANDS_AWS_CRED_METADATA_H
#define STRANDS_AWS_CRED_METADATA_H

#include <stddef.h>

#include <jansson.h>

#include "net/url.h"
#include "strands/aws.h"
#include "strands/status.h"

/** The container-credentials rule: https to any host; plain http only to
 * loopback (net_url_host_is_loopback), 169.254.170.2 (ECS),
 * 169.254.170.23 or [fd00:ec2::23] (EKS Pod Identity). u comes from
 * net_url_parse. Returns 1 when allowed.                                */
int aws_md_container_host_allowed(const net_url *u);

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
