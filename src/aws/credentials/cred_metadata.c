/* Helpers shared by the container and IMDS credential providers: the
 * container host allow-list, and parsing of the
 * credentials JSON both services answer with. Error messages name fields
 * and settings, never values.                                            */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "aws/awstime.h"
#include "aws/credentials/cred_metadata.h"

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

int aws_md_container_host_allowed(const net_url *u)
{
    static const unsigned char ecs[4] = {169, 254, 170, 2};
    static const unsigned char eks[4] = {169, 254, 170, 23};
    static const unsigned char eks6[16] = {0xfd, 0x00, 0x0e, 0xc2, 0, 0, 0,
                                           0,    0,    0,    0,    0, 0, 0,
                                           0,    0x23};
    unsigned char a[16];
    if (u->https || net_url_host_is_loopback(u->host)) return 1;
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
