/* Endpoint URL parsing and the plain-http-only-on-loopback rule. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "aws/endpoint.h"
#include "strands/aws.h"

static int is_loopback(const char *host, size_t len)
{
    if (len == 9 && !strncasecmp(host, "localhost", 9)) return 1;
    if (len == 5 && !strncmp(host, "[::1]", 5)) return 1;
    if (len < 4 || strncmp(host, "127.", 4)) return 0;
    for (size_t i = 0; i < len; i++)
        if (!(host[i] == '.' || (host[i] >= '0' && host[i] <= '9')))
            return 0;
    return 1;
}

strands_status aws_endpoint_parse(const char *url, aws_endpoint *out,
                                  strands_error *err)
{
    memset(out, 0, sizeof *out);
    if (!url || !*url)
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "endpoint URL is empty");
    const char *rest;
    if (!strncasecmp(url, "https://", 8)) {
        out->https = 1;
        rest = url + 8;
    } else if (!strncasecmp(url, "http://", 7)) {
        rest = url + 7;
    } else {
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "endpoint URL '%s' must start with https:// "
                                 "(or http:// for a loopback address)", url);
    }
    size_t alen = strcspn(rest, "/?#");
    if (alen == 0 || alen >= sizeof out->host)
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "endpoint URL '%s' has no valid host", url);
    if (strpbrk(rest + alen, "?#"))
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "endpoint URL '%s' must not have a query "
                                 "or fragment", url);
    /* Host part without the port, to check loopback. */
    const char *auth = rest;
    size_t hlen = alen;
    const char *colon = NULL;
    if (auth[0] == '[') {
        const char *rb = memchr(auth, ']', alen);
        if (!rb)
            return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                     "endpoint URL '%s': bad IPv6 host", url);
        hlen = (size_t)(rb - auth) + 1;
        if (hlen < alen && auth[hlen] != ':')
            return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                     "endpoint URL '%s': bad IPv6 host", url);
        if (hlen < alen) colon = auth + hlen;
    } else {
        colon = memchr(auth, ':', alen);
        if (colon) hlen = (size_t)(colon - auth);
    }
    if (hlen == 0)
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "endpoint URL '%s' has no valid host", url);
    if (colon) {
        const char *p = colon + 1;
        if (p == auth + alen)
            return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                     "endpoint URL '%s': empty port", url);
        long port = 0;
        for (; p < auth + alen && port <= 65535; p++) {
            if (*p < '0' || *p > '9') break;
            port = port * 10 + (*p - '0');
        }
        if (p < auth + alen || port < 1 || port > 65535)
            return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                     "endpoint URL '%s': bad port (digits "
                                     "1..65535)", url);
    }
    if (!out->https && !is_loopback(auth, hlen))
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "endpoint URL '%s': plain http is allowed "
                                 "only for loopback hosts; use https", url);
    /* Drop a default port from the Host header, as HTTP clients do. */
    size_t keep = alen;
    if (colon) {
        const char *port = colon + 1;
        size_t plen = (size_t)(auth + alen - port);
        if ((out->https && plen == 3 && !strncmp(port, "443", 3)) ||
            (!out->https && plen == 2 && !strncmp(port, "80", 2)))
            keep = hlen;
    }
    snprintf(out->host, sizeof out->host, "%.*s", (int)keep, auth);
    snprintf(out->base, sizeof out->base, "%s://%.*s",
             out->https ? "https" : "http", (int)alen, auth);
    const char *path = rest + alen;
    size_t plen = strlen(path);
    while (plen && path[plen - 1] == '/') plen--;
    if (plen >= sizeof out->prefix)
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "endpoint URL '%s': path too long", url);
    snprintf(out->prefix, sizeof out->prefix, "%.*s", (int)plen, path);
    return STRANDS_OK;
}

strands_status strands_endpoint_validate(const char *url, strands_error *err)
{
    aws_endpoint ep;
    return aws_endpoint_parse(url, &ep, err);
}
