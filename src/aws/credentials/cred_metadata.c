/* Helpers shared by the container and IMDS credential providers: strict
 * URL splitting, the container host allow-list, and parsing of the
 * credentials JSON both services answer with. Error messages name fields
 * and settings, never values.                                            */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "aws/awstime.h"
#include "aws/credentials/cred_metadata.h"

static int is_host_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '.' || c == '-';
}

static int is_ipv6_char(unsigned char c)
{
    return (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') ||
           (c >= '0' && c <= '9') || c == ':' || c == '.';
}

/* Length of the host part of an authority, 0 when malformed. */
static size_t host_length(const char *a, size_t alen)
{
    size_t i = 0;
    if (a[0] == '[') {
        for (i = 1; i < alen && a[i] != ']'; i++)
            if (!is_ipv6_char((unsigned char)a[i])) return 0;
        if (i >= alen || i == 1) return 0;
        return i + 1;
    }
    while (i < alen && a[i] != ':') {
        if (!is_host_char((unsigned char)a[i])) return 0;
        i++;
    }
    return i;
}

static int valid_port(const char *p, size_t n)
{
    if (n == 0 || n > 5) return 0;
    long v = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9') return 0;
        v = v * 10 + (p[i] - '0');
    }
    return v >= 1 && v <= 65535;
}

strands_status aws_md_url_parse(const char *url, const char *what,
                                aws_md_url *out, strands_error *err)
{
    memset(out, 0, sizeof *out);
    const char *rest;
    if (url && !strncasecmp(url, "https://", 8)) {
        out->https = 1;
        rest = url + 8;
    } else if (url && !strncasecmp(url, "http://", 7)) {
        rest = url + 7;
    } else {
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "%s must be an http:// or https:// URL",
                                 what);
    }
    for (const char *c = url; *c; c++)
        if ((unsigned char)*c <= 0x20 || *c == 0x7f || *c == '\\')
            return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                     "%s contains a space, a control "
                                     "character or a backslash", what);
    size_t alen = strcspn(rest, "/?#");
    if (memchr(rest, '@', alen))
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "%s must not contain user information "
                                 "('@')", what);
    size_t hlen = alen && alen < sizeof out->host ? host_length(rest, alen)
                                                  : 0;
    if (hlen == 0)
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "%s has no valid host", what);
    if (hlen < alen &&
        (rest[hlen] != ':' || !valid_port(rest + hlen + 1, alen - hlen - 1)))
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "%s has a bad port (digits, 1..65535)",
                                 what);
    snprintf(out->host, sizeof out->host, "%.*s", (int)hlen, rest);
    snprintf(out->origin, sizeof out->origin, "%s://%.*s",
             out->https ? "https" : "http", (int)alen, rest);
    out->rest = rest + alen;
    return STRANDS_OK;
}

/* Parses a bracketed IPv6 host into 16 bytes. 1 on success. */
static int parse_v6(const char *host, unsigned char a[16])
{
    size_t n = strlen(host);
    char tmp[64];
    if (n < 3 || n - 2 >= sizeof tmp || host[0] != '[' || host[n - 1] != ']')
        return 0;
    memcpy(tmp, host + 1, n - 2);
    tmp[n - 2] = '\0';
    return inet_pton(AF_INET6, tmp, a) == 1;
}

int aws_md_host_is_loopback(const char *host)
{
    unsigned char a[16];
    if (!strcasecmp(host, "localhost")) return 1;
    if (host[0] == '[')
        return parse_v6(host, a) &&
               !memcmp(a, in6addr_loopback.s6_addr, 16);
    /* inet_pton takes strict dotted-decimal only (no octal, no short
     * forms), so what it accepts means the same to curl. */
    return inet_pton(AF_INET, host, a) == 1 && a[0] == 127;
}

int aws_md_container_host_allowed(const aws_md_url *u)
{
    static const unsigned char ecs[4] = {169, 254, 170, 2};
    static const unsigned char eks[4] = {169, 254, 170, 23};
    static const unsigned char eks6[16] = {0xfd, 0x00, 0x0e, 0xc2, 0, 0, 0,
                                           0,    0,    0,    0,    0, 0, 0,
                                           0,    0x23};
    unsigned char a[16];
    if (u->https || aws_md_host_is_loopback(u->host)) return 1;
    if (u->host[0] == '[') return parse_v6(u->host, a) && !memcmp(a, eks6, 16);
    return inet_pton(AF_INET, u->host, a) == 1 &&
           (!memcmp(a, ecs, 4) || !memcmp(a, eks, 4));
}

json_t *aws_md_parse_object(const char *body, size_t len, const char *what,
                            strands_error *err)
{
    json_error_t jerr;
    json_t *doc = json_loadb(body ? body : "", len, 0, &jerr);
    if (json_is_object(doc)) return doc;
    json_decref(doc);
    /* jansson's error text quotes the input ("near '...'"): not used. */
    strands_error_set(err, STRANDS_E_UPSTREAM, "CredentialRetrievalError",
                      "%s: the response is not a JSON object (%zu bytes)",
                      what, len);
    return NULL;
}

static strands_status take_string(const json_t *obj, const char *key,
                                  char *dst, size_t dstsz, const char *what,
                                  strands_error *err)
{
    const json_t *v = json_object_get(obj, key);
    if (!json_is_string(v))
        return strands_error_set(err, STRANDS_E_UPSTREAM,
                                 "CredentialRetrievalError",
                                 "%s: the response has no string \"%s\"",
                                 what, key);
    size_t n = json_string_length(v);
    const char *s = json_string_value(v);
    if (n == 0 || n >= dstsz || memchr(s, '\0', n))
        return strands_error_set(err, STRANDS_E_UPSTREAM,
                                 "CredentialRetrievalError",
                                 "%s: \"%s\" is empty, longer than %zu "
                                 "bytes or contains NUL", what, key,
                                 dstsz - 1);
    memcpy(dst, s, n);
    dst[n] = '\0';
    return STRANDS_OK;
}

strands_status aws_md_credentials_from_object(const json_t *obj,
                                              const char *what,
                                              strands_credentials *out,
                                              strands_error *err)
{
    char expiration[64];
    memset(out, 0, sizeof *out);
    strands_status st = take_string(obj, "AccessKeyId", out->access_key_id,
                                    sizeof out->access_key_id, what, err);
    if (st == STRANDS_OK)
        st = take_string(obj, "SecretAccessKey", out->secret_access_key,
                         sizeof out->secret_access_key, what, err);
    if (st == STRANDS_OK)
        st = take_string(obj, "Token", out->session_token,
                         sizeof out->session_token, what, err);
    if (st == STRANDS_OK)
        st = take_string(obj, "Expiration", expiration, sizeof expiration,
                         what, err);
    if (st == STRANDS_OK && aws_parse_iso8601(expiration, &out->expiration))
        st = strands_error_set(err, STRANDS_E_UPSTREAM,
                               "CredentialRetrievalError",
                               "%s: \"Expiration\" is not an ISO-8601 "
                               "timestamp", what);
    if (st != STRANDS_OK) {
        strands_credentials_wipe(out);
        memset(out, 0, sizeof *out);
    }
    return st;
}

int aws_md_env_true(const char *s)
{
    return s && !strcasecmp(s, "true");
}
