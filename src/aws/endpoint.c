/* Endpoint URLs for signed AWS calls, on net/url (one parser, one
 * loopback rule): https to any host, plain http only to loopback.       */
#include <stdio.h>
#include <string.h>

#include "aws/endpoint.h"
#include "net/url.h"
#include "strands/aws.h"

strands_status aws_endpoint_parse(const char *url, aws_endpoint *out,
                                  strands_error *err)
{
    memset(out, 0, sizeof *out);
    net_url u;
    strands_status st = net_url_parse(
        url, NET_URL_HTTP_LOOPBACK_ONLY | NET_URL_NO_QUERY, "endpoint URL",
        &u, err);
    if (st != STRANDS_OK) return st;
    size_t plen = strlen(u.path);
    while (plen && u.path[plen - 1] == '/') plen--;
    if (strlen(u.authority) >= sizeof out->host ||
        strlen(u.origin) >= sizeof out->base)
        st = strands_error_set(err, STRANDS_E_INVALID, NULL,
                               "endpoint URL has no valid host (longer "
                               "than %zu bytes)", sizeof out->host - 1);
    else if (plen >= sizeof out->prefix)
        st = strands_error_set(err, STRANDS_E_INVALID, NULL,
                               "endpoint URL path too long (over %zu "
                               "bytes)", sizeof out->prefix - 1);
    if (st == STRANDS_OK) {
        out->https = u.https;
        snprintf(out->host, sizeof out->host, "%s", u.authority);
        snprintf(out->base, sizeof out->base, "%s", u.origin);
        snprintf(out->prefix, sizeof out->prefix, "%.*s", (int)plen, u.path);
    }
    net_url_cleanup(&u);
    return st;
}

strands_status strands_endpoint_validate(const char *url, strands_error *err)
{
    aws_endpoint ep;
    return aws_endpoint_parse(url, &ep, err);
}
