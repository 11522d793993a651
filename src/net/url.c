/* URL parsing on libcurl's CURLU plus the strictness CURLU leaves out,
 * and the loopback rule.                                                */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "net/url.h"

void net_url_cleanup(net_url *u)
{
    if (!u) return;
    free(u->host);
    free(u->path);
    free(u->query);
    free(u->origin);
    free(u->authority);
    memset(u, 0, sizeof *u);
}

int net_url_host_is_loopback(const char *host)
{
    unsigned char a[16];
    if (!host) return 0;
    if (!strcasecmp(host, "localhost")) return 1;
    size_t n = strlen(host);
    if (n > 2 && host[0] == '[' && host[n - 1] == ']') {
        char tmp[64];
        if (n - 2 >= sizeof tmp) return 0;
        memcpy(tmp, host + 1, n - 2);
        tmp[n - 2] = '\0';
        return inet_pton(AF_INET6, tmp, a) == 1 &&
               !memcmp(a, in6addr_loopback.s6_addr, 16);
    }
    /* inet_pton takes strict dotted-decimal only (no octal, no short
     * forms), which is also the only numeric form net_url_parse passes. */
    return inet_pton(AF_INET, host, a) == 1 && a[0] == 127;
}

static strands_status invalid(strands_error *err, const char *what,
                              const char *problem)
{
    return strands_error_set(err, STRANDS_E_INVALID, NULL, "%s: %s", what,
                             problem);
}

/* 1 when s may be a numeric IPv4 spelling (decimal, octal, hex parts). */
static int looks_numeric(const char *s, size_t n)
{
    if (n == 0 || s[0] < '0' || s[0] > '9') return 0;
    for (size_t i = 0; i < n; i++)
        if (!(s[i] == '.' || s[i] == 'x' || s[i] == 'X' ||
              isxdigit((unsigned char)s[i])))
            return 0;
    return 1;
}

/* Text checks before CURLU: scheme, "//", a host, the authority shape. */
static strands_status precheck(const char *url, const char *what, int *https,
                               const char **auth, size_t *alen,
                               strands_error *err)
{
    const char *rest;
    if (!url || !*url) return invalid(err, what, "the URL is empty");
    if (!strncasecmp(url, "https://", 8)) {
        *https = 1;
        rest = url + 8;
    } else if (!strncasecmp(url, "http://", 7)) {
        *https = 0;
        rest = url + 7;
    } else {
        return invalid(err, what, "must be an http:// or https:// URL");
    }
    for (const char *c = url; *c; c++)
        if ((unsigned char)*c <= 0x20 || *c == 0x7f || *c == '\\')
            return invalid(err, what, "contains a space, a control "
                                      "character or a backslash");
    *auth = rest;
    *alen = strcspn(rest, "/?#");
    if (memchr(rest, '@', *alen)) return STRANDS_OK; /* judged later */
    if (*alen == 0 || rest[0] == ':')
        return invalid(err, what, "has no valid host");
    if (rest[0] == '[') {
        const char *rb = memchr(rest, ']', *alen);
        if (!rb || (rb + 1 < rest + *alen && rb[1] != ':'))
            return invalid(err, what, "has a bad IPv6 host");
    }
    if (rest[*alen - 1] == ':')
        return invalid(err, what, "has a bad port (digits, 1..65535)");
    return STRANDS_OK;
}

static char *get_part(CURLU *h, CURLUPart part, CURLUcode *rc)
{
    char *v = NULL;
    *rc = curl_url_get(h, part, &v, 0);
    if (*rc != CURLUE_OK) return NULL;
    char *copy = strdup(v);
    curl_free(v);
    if (!copy) *rc = CURLUE_OUT_OF_MEMORY;
    return copy;
}

static int has_part(CURLU *h, CURLUPart part)
{
    char *v = NULL;
    if (curl_url_get(h, part, &v, 0) != CURLUE_OK) return 0;
    curl_free(v);
    return 1;
}

/* Maps a CURLU error on the whole URL to a message. */
static strands_status curlu_error(CURLUcode rc, const char *what,
                                  strands_error *err)
{
    switch (rc) {
    case CURLUE_OUT_OF_MEMORY:
        return strands_error_set(err, STRANDS_E_NOMEM, NULL,
                                 "%s: out of memory", what);
    case CURLUE_BAD_PORT_NUMBER:
        return invalid(err, what, "has a bad port (digits, 1..65535)");
    case CURLUE_BAD_IPV6:
        return invalid(err, what, "has a bad IPv6 host");
    case CURLUE_NO_HOST:
    case CURLUE_BAD_HOSTNAME:
        return invalid(err, what, "has no valid host");
    default:
        return invalid(err, what, "is not a valid URL");
    }
}

strands_status net_url_parse(const char *url, unsigned flags,
                             const char *what, net_url *out,
                             strands_error *err)
{
    memset(out, 0, sizeof *out);
    if (!what) what = "URL";
    int https = 0;
    const char *auth = NULL;
    size_t alen = 0;
    strands_status st = precheck(url, what, &https, &auth, &alen, err);
    if (st != STRANDS_OK) return st;
    CURLU *h = curl_url();
    if (!h)
        return strands_error_set(err, STRANDS_E_NOMEM, NULL,
                                 "%s: out of memory", what);
    CURLUcode rc = curl_url_set(h, CURLUPART_URL, url, 0);
    if (rc != CURLUE_OK) {
        curl_url_cleanup(h);
        return curlu_error(rc, what, err);
    }
    if (!(flags & NET_URL_ALLOW_USERINFO) &&
        (has_part(h, CURLUPART_USER) || has_part(h, CURLUPART_PASSWORD) ||
         has_part(h, CURLUPART_OPTIONS) || memchr(auth, '@', alen)))
        st = invalid(err, what, "must not contain user information ('@')");
    else if (has_part(h, CURLUPART_ZONEID))
        st = invalid(err, what, "must not have an IPv6 zone id");
    else if (has_part(h, CURLUPART_FRAGMENT))
        st = invalid(err, what, "must not have a fragment ('#')");
    else if ((flags & NET_URL_NO_QUERY) && has_part(h, CURLUPART_QUERY))
        st = invalid(err, what, "must not have a query string");
    if (st != STRANDS_OK) {
        curl_url_cleanup(h);
        return st;
    }
    out->https = https;
    out->host = get_part(h, CURLUPART_HOST, &rc);
    if (rc == CURLUE_OK) out->path = get_part(h, CURLUPART_PATH, &rc);
    if (rc == CURLUE_OK) {
        out->query = get_part(h, CURLUPART_QUERY, &rc);
        if (rc == CURLUE_NO_QUERY) rc = CURLUE_OK;
    }
    char *port = NULL;
    if (rc == CURLUE_OK) {
        port = get_part(h, CURLUPART_PORT, &rc);
        if (rc == CURLUE_NO_PORT) rc = CURLUE_OK;
    }
    curl_url_cleanup(h);
    if (rc != CURLUE_OK) {
        free(port);
        net_url_cleanup(out);
        return curlu_error(rc, what, err);
    }
    out->port_explicit = port != NULL;
    out->port = port ? atoi(port) : (https ? 443 : 80);
    free(port);
    /* The host as written (after any user info, before the port). */
    const char *at = memchr(auth, '@', alen);
    const char *hw = at ? at + 1 : auth;
    size_t hwlen = (size_t)(auth + alen - hw);
    if (hw[0] != '[') {
        const char *colon = memchr(hw, ':', hwlen);
        if (colon) hwlen = (size_t)(colon - hw);
    }
    if (out->port < 1 || out->port > 65535)
        st = invalid(err, what, "has a bad port (digits, 1..65535)");
    else if (!out->host[0])
        st = invalid(err, what, "has no valid host");
    else if (looks_numeric(hw, hwlen) &&
             (strlen(out->host) != hwlen || memcmp(out->host, hw, hwlen)))
        st = strands_error_set(err, STRANDS_E_INVALID, NULL,
                               "%s: host %.*s is not allowed: a numeric "
                               "IPv4 host must be in dotted-decimal form",
                               what, (int)(hwlen > 64 ? 64 : hwlen), hw);
    else if (hw[0] != '[' &&
             (strlen(out->host) != hwlen || memcmp(out->host, hw, hwlen)))
        st = invalid(err, what, "has no valid host"); /* e.g. %-escapes */
    else if ((flags & NET_URL_NO_PATH) && strcmp(out->path, "/"))
        st = invalid(err, what, "must be scheme://host[:port] with no path");
    else if ((flags & NET_URL_HTTP_LOOPBACK_ONLY) && !https &&
             !net_url_host_is_loopback(out->host))
        st = invalid(err, what, "may use plain http only for loopback hosts "
                                "(127.0.0.0/8, localhost, [::1]); use "
                                "https");
    if (st != STRANDS_OK) {
        net_url_cleanup(out);
        return st;
    }
    int dflt = out->port == (https ? 443 : 80);
    size_t hl = strlen(out->host);
    out->origin = malloc(hl + 16);
    out->authority = malloc(hl + 8);
    if (!out->origin || !out->authority) {
        net_url_cleanup(out);
        return strands_error_set(err, STRANDS_E_NOMEM, NULL,
                                 "%s: out of memory", what);
    }
    if (out->port_explicit)
        snprintf(out->origin, hl + 16, "%s://%s:%d", https ? "https" : "http",
                 out->host, out->port);
    else
        snprintf(out->origin, hl + 16, "%s://%s", https ? "https" : "http",
                 out->host);
    if (dflt)
        snprintf(out->authority, hl + 8, "%s", out->host);
    else
        snprintf(out->authority, hl + 8, "%s:%d", out->host, out->port);
    return STRANDS_OK;
}
