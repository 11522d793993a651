/* The "container" credentials provider (ECS task roles, EKS Pod Identity,
 * any local credentials server): GET the URL named by
 * AWS_CONTAINER_CREDENTIALS_RELATIVE_URI or _FULL_URI, with the
 * Authorization token from AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE (read
 * at every fetch) or AWS_CONTAINER_AUTHORIZATION_TOKEN; parse the JSON. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/credentials/cred_env.h"
#include "aws/credentials/cred_metadata.h"
#include "aws/retry.h"

#define VAR_RELATIVE "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"
#define VAR_FULL "AWS_CONTAINER_CREDENTIALS_FULL_URI"
#define VAR_TOKEN "AWS_CONTAINER_AUTHORIZATION_TOKEN"
#define VAR_TOKEN_FILE "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"
/* Test hook (not an AWS setting): replaces the ECS host 169.254.170.2 in
 * front of the relative URI, e.g. "127.0.0.1:8123". Subject to the same
 * host rule as FULL_URI, so it cannot point credentials elsewhere.      */
#define VAR_TEST_HOST "STRANDS_CONTAINER_CREDENTIALS_HOST"
#define ECS_HOST "169.254.170.2"

/* botocore: 2 s timeout, 3 attempts, 1 s apart (the JS SDK: 1 s, 4). */
#define FETCH_TIMEOUT_MS 2000L
#define FETCH_ATTEMPTS 3
#define RETRY_DELAY_MS 1000
#define MAX_TOKEN_BYTES 16384
#define MAX_RESPONSE_BYTES 65536

#define WHAT "container credentials"

typedef struct container_provider {
    strands_credentials_provider base;
    http_client *http;
    char *url;          /* NULL: not configured */
    char origin[320];   /* scheme://authority, for messages */
    char *token_file;   /* path or NULL */
    char *token;        /* secret; NULL when unset */
} container_provider;

static void free_secret(char *s)
{
    if (!s) return;
    explicit_bzero(s, strlen(s));
    free(s);
}

static void container_destroy(strands_credentials_provider *self)
{
    container_provider *p = (container_provider *)self;
    free(p->url);
    free(p->token_file);
    free_secret(p->token);
    free(p);
}

/* Reads the token file into a malloc'd string (secret) at *out. */
static strands_status read_token_file(const char *path, char **out,
                                      size_t *len, strands_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return strands_error_set(err, STRANDS_E_IO, NULL,
                                 "cannot read " VAR_TOKEN_FILE " '%s': %s",
                                 path, strerror(errno));
    char *buf = malloc(MAX_TOKEN_BYTES + 1);
    if (!buf) {
        fclose(f);
        return strands_error_set(err, STRANDS_E_NOMEM, NULL,
                                 "out of memory reading a token file");
    }
    size_t n = fread(buf, 1, MAX_TOKEN_BYTES + 1, f);
    int failed = ferror(f);
    fclose(f);
    if (failed || n > MAX_TOKEN_BYTES) {
        explicit_bzero(buf, MAX_TOKEN_BYTES + 1);
        free(buf);
        return strands_error_set(err, failed ? STRANDS_E_IO
                                              : STRANDS_E_INVALID, NULL,
                                 VAR_TOKEN_FILE " '%s': %s", path,
                                 failed ? "read error"
                                        : "larger than 16 KiB");
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return STRANDS_OK;
}

/* Builds "Authorization: <token>" (secret, caller frees with free_secret)
 * or leaves *line NULL when no token is configured.                      */
static strands_status auth_header(const container_provider *p, char **line,
                                  strands_error *err)
{
    *line = NULL;
    char *file_token = NULL;
    size_t len = 0;
    const char *token = p->token, *source = VAR_TOKEN;
    if (p->token_file) {
        strands_status st = read_token_file(p->token_file, &file_token, &len,
                                            err);
        if (st != STRANDS_OK) return st;
        token = file_token;
        source = VAR_TOKEN_FILE;
    } else if (token) {
        len = strlen(token);
    } else {
        return STRANDS_OK;
    }
    strands_status st = STRANDS_OK;
    if (len == 0)
        st = strands_error_set(err, STRANDS_E_INVALID, NULL,
                               "the container authorization token from %s "
                               "is empty", source);
    else if (memchr(token, '\r', len) || memchr(token, '\n', len) ||
             strlen(token) != len)
        st = strands_error_set(err, STRANDS_E_INVALID, NULL,
                               "the container authorization token from %s "
                               "contains a CR, LF or NUL character (a "
                               "trailing newline counts); it must be one "
                               "header value", source);
    if (st == STRANDS_OK) {
        static const char prefix[] = "Authorization: ";
        *line = malloc(sizeof prefix + len);
        if (!*line) {
            st = strands_error_set(err, STRANDS_E_NOMEM, NULL,
                                   "out of memory building a header");
        } else {
            memcpy(*line, prefix, sizeof prefix - 1);
            memcpy(*line + sizeof prefix - 1, token, len + 1);
        }
    }
    free_secret(file_token);
    return st;
}

/* Outcome of an HTTP answer other than 200. */
static strands_status http_failure(const container_provider *p, long status,
                                   int *retryable, strands_error *err)
{
    *retryable = status >= 500 || status == 429;
    const char *hint = "";
    if (status == 401 || status == 403)
        hint = ": the authorization token was refused (check " VAR_TOKEN
               "_FILE / " VAR_TOKEN ")";
    strands_error_set(err, STRANDS_E_UPSTREAM, "CredentialRetrievalError",
                      WHAT " endpoint %s answered HTTP %ld%s", p->origin,
                      status, hint);
    if (err) err->http_status = (int)status;
    return STRANDS_E_UPSTREAM;
}

static strands_status fetch_once(const container_provider *p,
                                 const char *auth, strands_credentials *out,
                                 int *retryable, strands_error *err)
{
    const char *headers[2] = {"Accept: application/json", auth};
    http_request req = {
        .method = "GET",
        .url = p->url,
        .headers = headers,
        .n_headers = auth ? 2 : 1,
        .connect_timeout_ms = FETCH_TIMEOUT_MS,
        .total_timeout_ms = FETCH_TIMEOUT_MS,
        .max_response = MAX_RESPONSE_BYTES,
        .no_proxy = 1,
    };
    http_response resp;
    strands_error e;
    strands_error_clear(&e);
    *retryable = 0;
    strands_status st = http_client_send(p->http, &req, &resp, &e);
    if (st != STRANDS_OK) {
        *retryable = st == STRANDS_E_NETWORK || st == STRANDS_E_TIMEOUT;
        return strands_error_set(err, st, e.code, WHAT " endpoint %s: %s",
                                 p->origin, e.message);
    }
    if (resp.status != 200) {
        st = http_failure(p, resp.status, retryable, err);
    } else {
        json_t *doc = aws_md_parse_object(resp.body.data, resp.body.len,
                                          WHAT, err);
        st = doc ? aws_md_credentials_from_object(doc, WHAT, out, err)
                 : STRANDS_E_UPSTREAM;
        json_decref(doc);
    }
    if (resp.body.data) explicit_bzero(resp.body.data, resp.body.len);
    http_response_cleanup(&resp);
    return st;
}

static strands_status container_resolve(strands_credentials_provider *self,
                                        strands_credentials *out,
                                        strands_error *err)
{
    container_provider *p = (container_provider *)self;
    if (!p->url)
        return strands_error_set(err, STRANDS_E_NO_CREDENTIALS,
                                 "NoCredentialsError",
                                 "container credentials are not configured "
                                 "(" VAR_RELATIVE " and " VAR_FULL
                                 " are unset)");
    char *auth = NULL;
    strands_status st = auth_header(p, &auth, err);
    for (int attempt = 1; st == STRANDS_OK; attempt++) {
        int retryable = 0;
        st = fetch_once(p, auth, out, &retryable, err);
        if (st == STRANDS_OK || !retryable || attempt >= FETCH_ATTEMPTS)
            break;
        aws_retry_sleep(RETRY_DELAY_MS, NULL);
        st = STRANDS_OK;
    }
    free_secret(auth);
    return st;
}

static const strands_credentials_provider_vtab container_vtab = {
    STRANDS_CREDENTIALS_VTAB_VERSION, "container", container_resolve,
    container_destroy, NULL};

/* Sets p->url from the relative or full URI after checking the host. */
static strands_status configure_url(container_provider *p,
                                    const aws_cred_env *env,
                                    strands_error *err)
{
    const char *rel = aws_env_get(env, VAR_RELATIVE);
    const char *what = rel ? VAR_RELATIVE : VAR_FULL;
    char *url;
    if (rel) {
        const char *host = aws_env_get(env, VAR_TEST_HOST);
        if (rel[0] != '/')
            return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                     VAR_RELATIVE " must start with '/'");
        if (host) what = VAR_TEST_HOST " (test hook) with " VAR_RELATIVE;
        size_t n = strlen("http://") + strlen(host ? host : ECS_HOST) +
                   strlen(rel) + 1;
        url = malloc(n);
        if (url)
            snprintf(url, n, "http://%s%s", host ? host : ECS_HOST, rel);
    } else {
        url = strdup(aws_env_get(env, VAR_FULL));
    }
    if (!url)
        return strands_error_set(err, STRANDS_E_NOMEM, NULL,
                                 "out of memory");
    net_url u;
    strands_status st = net_url_parse(url, 0, what, &u, err);
    if (st == STRANDS_OK && !aws_md_container_host_allowed(&u))
        st = strands_error_set(
            err, STRANDS_E_INVALID, NULL,
            "%s: host %s is not allowed for container credentials over "
            "plain http; use https, a loopback host (127.0.0.0/8, [::1], "
            "localhost), 169.254.170.2, 169.254.170.23 or [fd00:ec2::23]",
            what, u.host);
    if (st == STRANDS_OK)
        snprintf(p->origin, sizeof p->origin, "%s", u.origin);
    net_url_cleanup(&u); /* zeroed when the parse failed */
    if (st != STRANDS_OK) {
        free(url);
        return st;
    }
    p->url = url;
    return STRANDS_OK;
}

strands_credentials_provider *aws_cred_container_new(const aws_cred_env *env,
                                                     strands_error *err)
{
    container_provider *p = calloc(1, sizeof *p);
    if (!p) {
        strands_error_set(err, STRANDS_E_NOMEM, NULL, "out of memory");
        return NULL;
    }
    p->base.vtab = &container_vtab;
    p->http = env ? env->http : NULL;
    if (!aws_env_get(env, VAR_RELATIVE) && !aws_env_get(env, VAR_FULL))
        return &p->base; /* not configured: resolve says so */
    strands_status st = STRANDS_OK;
    if (!p->http)
        st = strands_error_set(err, STRANDS_E_INVALID, NULL,
                               WHAT " need an HTTP client");
    if (st == STRANDS_OK) st = configure_url(p, env, err);
    const char *file = aws_env_get(env, VAR_TOKEN_FILE);
    const char *token = aws_env_get(env, VAR_TOKEN);
    if (st == STRANDS_OK && ((file && !(p->token_file = strdup(file))) ||
                             (token && !(p->token = strdup(token)))))
        st = strands_error_set(err, STRANDS_E_NOMEM, NULL, "out of memory");
    if (st != STRANDS_OK) {
        container_destroy(&p->base);
        return NULL;
    }
    return &p->base;
}
