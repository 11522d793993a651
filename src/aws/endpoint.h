/* Endpoint URLs: parsing scheme://host[:port][/prefix] into the pieces a
 * signed request needs (the Host header and the path prefix).            */
#ifndef STRANDS_AWS_ENDPOINT_H
#define STRANDS_AWS_ENDPOINT_H

#include "strands/status.h"

typedef struct aws_endpoint {
    char base[512];     /* scheme://authority, no trailing slash */
    char host[300];     /* Host header value: host, or host:port when the
                           port is not the scheme's default */
    char prefix[256];   /* path prefix without trailing slash, or "" */
    int https;
} aws_endpoint;

/** Parses and validates url (see strands_endpoint_validate). */
strands_status aws_endpoint_parse(const char *url, aws_endpoint *out,
                                  strands_error *err);

#endif
