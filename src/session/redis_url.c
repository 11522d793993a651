/* The SESSION_STORE value of the Redis store: redis://[user[:pw]@]host
 * [:port][/db] and rediss://, parsed by net/url.h (libcurl's CURLU plus
 * our strictness) for the host and port, and by CURLU for the decoded
 * user and password. Also the key-prefix check. Messages never quote
 * the URL, which may carry the password.                               */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "net/url.h"
#include "session/redis.h"

#define WHAT "SESSION_STORE"

static void wipe_free(char *s)
{
    if (!s) return;
    explicit_bzero(s, strlen(s));
    free(s);
}

void session_redis_config_cleanup(session_redis_config *cfg)
{
    if (!cfg) return;
    free(cfg->host);
    free(cfg->user);
    wipe_free(cfg->password);
    cfg->host = cfg->user = cfg->password = NULL;
}

/* One decoded part of the URL (user or password), or NULL when absent
 * or empty. *rc gets CURLUE_OUT_OF_MEMORY on OOM, else CURLUE_OK.      */
static char *userinfo_part(CURLU *h, CURLUPart part, CURLUcode *rc)
{
    char *v = NULL;
    *rc = CURLUE_OK;
    CURLUcode r = curl_url_get(h, part, &v, CURLU_URLDECODE);
    if (r == CURLUE_OUT_OF_MEMORY) *rc = r;
    if (r != CURLUE_OK || !v) return NULL;
    char *copy = NULL;
    if (v[0]) {
        copy = strdup(v);
        if (!copy) *rc = CURLUE_OUT_OF_MEMORY;
    }
    explicit_bzero(v, strlen(v));
    curl_free(v);
    return copy;
}

/* The db index from the URL path: "" or "/" = 0, "/<digits>" up to 9999. */
static int parse_db(const char *path, int *db)
{
    *db = 0;
    if (!path || !path[0] || !strcmp(path, "/")) return 1;
    if (path[0] != '/' || !path[1]) return 0;
    long v = 0;
    for (const char *p = path + 1; *p; p++) {
        if (*p < '0' || *p > '9' || p - path > 4) return 0;
        v = v * 10 + (*p - '0');
    }
    *db = (int)v;
    return 1;
}

strands_status session_redis_url_parse(const char *spec,
                                       session_redis_config *cfg,
                                       strands_error *err)
{
    cfg->host = cfg->user = cfg->password = NULL;
    size_t skip;
    int tls;
    if (spec && !strncasecmp(spec, "redis://", 8)) {
        skip = 8;
        tls = 0;
    } else if (spec && !strncasecmp(spec, "rediss://", 9)) {
        skip = 9;
        tls = 1;
    } else {
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 WHAT ": the Redis store takes a URL "
                                 "redis://[user:password@]host[:port][/db] "
                                 "or rediss://...");
    }
    /* net/url.h parses http(s) URLs: the same authority and path rules
     * apply, so the scheme is swapped for "http://". */
    size_t rest = strlen(spec + skip);
    char *http = malloc(rest + 8);
    if (!http)
        return strands_error_set(err, STRANDS_E_NOMEM, NULL,
                                 WHAT ": out of memory");
    memcpy(http, "http://", 7);
    memcpy(http + 7, spec + skip, rest + 1);

    net_url u;
    strands_status st = net_url_parse(http, NET_URL_ALLOW_USERINFO |
                                            NET_URL_NO_QUERY, WHAT, &u, err);
    if (st != STRANDS_OK) {
        wipe_free(http);
        return st;
    }
    int db = 0;
    if (!parse_db(u.path, &db)) {
        net_url_cleanup(&u);
        wipe_free(http);
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 WHAT ": the path of a redis:// URL is the "
                                 "database number (/0 to /9999), nothing "
                                 "else");
    }
    CURLU *h = curl_url();
    CURLUcode rc = h ? curl_url_set(h, CURLUPART_URL, http, 0)
                     : CURLUE_OUT_OF_MEMORY;
    char *user = NULL, *password = NULL;
    if (rc == CURLUE_OK) user = userinfo_part(h, CURLUPART_USER, &rc);
    if (rc == CURLUE_OK)
        password = userinfo_part(h, CURLUPART_PASSWORD, &rc);
    curl_url_cleanup(h);
    wipe_free(http);

    /* The host as hiredis wants it: an IPv6 address without brackets. */
    char *host = NULL;
    if (rc == CURLUE_OK) {
        size_t hl = strlen(u.host);
        if (hl > 2 && u.host[0] == '[' && u.host[hl - 1] == ']')
            host = strndup(u.host + 1, hl - 2);
        else
            host = strdup(u.host);
    }
    int port = u.port_explicit ? u.port : SESSION_REDIS_DEFAULT_PORT;
    net_url_cleanup(&u);
    if (rc != CURLUE_OK || !host) {
        free(host);
        free(user);
        wipe_free(password);
        return strands_error_set(err, rc == CURLUE_OUT_OF_MEMORY || !host
                                          ? STRANDS_E_NOMEM
                                          : STRANDS_E_INVALID,
                                 NULL, WHAT ": %s",
                                 rc == CURLUE_OUT_OF_MEMORY || !host
                                     ? "out of memory"
                                     : "is not a valid URL");
    }
    cfg->host = host;
    cfg->port = port;
    cfg->user = user;
    cfg->password = password;
    cfg->db = db;
    cfg->tls = tls;
    return STRANDS_OK;
}

strands_status session_redis_prefix_check(const char *prefix,
                                          strands_error *err)
{
    size_t n = prefix ? strlen(prefix) : 0;
    if (n == 0 || n > SESSION_REDIS_PREFIX_MAX)
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "the key prefix must be 1 to %d "
                                 "characters", SESSION_REDIS_PREFIX_MAX);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)prefix[i];
        if (c <= 0x20 || c >= 0x7f || c == '{' || c == '}')
            return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                     "the key prefix may hold printable "
                                     "ASCII only, without spaces, '{' or "
                                     "'}' (byte %zu)", i);
    }
    return STRANDS_OK;
}
