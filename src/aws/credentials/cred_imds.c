/* The "imds" credentials provider: EC2 instance metadata (IMDSv2, with the
 * IMDSv1 fallback SDKs keep) and the AgentCore microVM metadata service,
 * which speaks the same protocol. PUT a session token, GET the role name,
 * GET the role's credentials. Stateless: every resolve asks anew (the
 * caching chain above decides when). Token values never reach messages. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "aws/credentials/cred_env.h"
#include "aws/credentials/cred_metadata.h"

#define VAR_DISABLED "AWS_EC2_METADATA_DISABLED"
#define VAR_ENDPOINT "AWS_EC2_METADATA_SERVICE_ENDPOINT"
#define VAR_MODE "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE"
#define VAR_V1_DISABLED "AWS_EC2_METADATA_V1_DISABLED"
#define BASE_IPV4 "http://169.254.169.254"
#define BASE_IPV6 "http://[fd00:ec2::254]"

#define TOKEN_PATH "/latest/api/token"
#define ROLE_PATH "/latest/meta-data/iam/security-credentials/"
#define TOKEN_TTL_HEADER "x-aws-ec2-metadata-token-ttl-seconds: 21600"
#define TOKEN_HEADER "x-aws-ec2-metadata-token: "

/* botocore: 1 s timeout, 1 attempt. */
#define IMDS_TIMEOUT_MS 1000L
#define MAX_RESPONSE_BYTES 65536
#define MAX_TOKEN_BYTES 1024
#define MAX_ROLE_BYTES 128

#define WHAT "instance metadata credentials"

typedef struct imds_provider {
    strands_credentials_provider base;
    http_client *http;
    int disabled;
    int v1_disabled;
    char base_url[320];  /* scheme://authority, no trailing slash */
} imds_provider;

/* One GET or PUT. *status is the HTTP status; the body (at most
 * MAX_RESPONSE_BYTES) is left in resp. Transport failures become
 * E_NO_CREDENTIALS so a chain moves on when there is no IMDS.           */
static strands_status imds_send(const imds_provider *p, const char *method,
                                const char *path, const char *header,
                                http_response *resp, strands_error *err)
{
    char url[512];
    snprintf(url, sizeof url, "%s%s", p->base_url, path);
    const char *headers[2] = {"Content-Type:", header};
    http_request req = {
        .method = method,
        .url = url,
        .headers = headers,
        .n_headers = header ? 2 : 1,
        .connect_timeout_ms = IMDS_TIMEOUT_MS,
        .total_timeout_ms = IMDS_TIMEOUT_MS,
        .max_response = MAX_RESPONSE_BYTES,
        .no_proxy = 1,
    };
    strands_error e;
    strands_error_clear(&e);
    strands_status st = http_client_send(p->http, &req, resp, &e);
    if (st == STRANDS_E_NETWORK || st == STRANDS_E_TIMEOUT)
        return strands_error_set(err, STRANDS_E_NO_CREDENTIALS,
                                 "NoCredentialsError",
                                 "no instance metadata service at %s: %s",
                                 p->base_url, e.message);
    if (st != STRANDS_OK)
        return strands_error_set(err, st, e.code, WHAT ": %s", e.message);
    return STRANDS_OK;
}

static void wipe_response(http_response *resp)
{
    if (resp->body.data) explicit_bzero(resp->body.data, resp->body.len);
    http_response_cleanup(resp);
}

static strands_status bad_status(const char *step, long status,
                                 strands_error *err)
{
    strands_error_set(err, STRANDS_E_UPSTREAM, "CredentialRetrievalError",
                      WHAT ": %s answered HTTP %ld", step, status);
    if (err) err->http_status = (int)status;
    return STRANDS_E_UPSTREAM;
}

/* 401/403 on a GET: IMDS turned off, or IMDSv2 required after the v1
 * fallback. Like the SDKs, a reason to move on rather than to fail.     */
static strands_status refused(const imds_provider *p, const char *step,
                              long status, strands_error *err)
{
    strands_error_set(err, STRANDS_E_NO_CREDENTIALS, "NoCredentialsError",
                      "the instance metadata service at %s refused %s "
                      "(HTTP %ld%s)", p->base_url, step, status,
                      status == 401 ? ": token missing or rejected"
                                    : ": it may be turned off");
    if (err) err->http_status = (int)status;
    return STRANDS_E_NO_CREDENTIALS;
}

/* Fills header with "x-aws-ec2-metadata-token: <token>", or leaves it ""
 * for the IMDSv1 fallback. Secret; the caller wipes it.                 */
static strands_status fetch_token(const imds_provider *p, char *header,
                                  size_t headersz, strands_error *err)
{
    http_response resp;
    header[0] = '\0';
    strands_status st = imds_send(p, "PUT", TOKEN_PATH, TOKEN_TTL_HEADER,
                                  &resp, err);
    if (st != STRANDS_OK) return st;
    long status = resp.status;
    const char *tok = resp.body.data ? resp.body.data : "";
    size_t n = resp.body.len;
    if (status == 200) {
        int ok = n > 0 && n <= MAX_TOKEN_BYTES &&
                 sizeof TOKEN_HEADER + n <= headersz;
        for (size_t i = 0; ok && i < n; i++)
            ok = (unsigned char)tok[i] > 0x20 && tok[i] != 0x7f;
        if (ok)
            snprintf(header, headersz, TOKEN_HEADER "%.*s", (int)n, tok);
        else
            st = strands_error_set(err, STRANDS_E_UPSTREAM,
                                   "CredentialRetrievalError",
                                   WHAT ": the session token answer (%zu "
                                   "bytes) is empty, too long or not "
                                   "printable", n);
    } else if (status == 403 || status == 404 || status == 405) {
        /* No IMDSv2 here: SDKs fall back to IMDSv1 unless told not to. */
        if (p->v1_disabled) {
            st = strands_error_set(err, STRANDS_E_UPSTREAM,
                                   "CredentialRetrievalError",
                                   WHAT ": the session token request got "
                                   "HTTP %ld and the IMDSv1 fallback is "
                                   "disabled by " VAR_V1_DISABLED, status);
            if (err) err->http_status = (int)status;
        }
    } else {
        st = bad_status("the session token request", status, err);
    }
    wipe_response(&resp);
    return st;
}

/* IAM role names: [A-Za-z0-9+=,.@_-], at most 64 characters. */
static int valid_role(const char *s, size_t n)
{
    if (n == 0 || n > 64) return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || strchr("+=,.@_-", c)))
            return 0;
    }
    return 1;
}

static strands_status fetch_role(const imds_provider *p, const char *token,
                                 char *role, size_t rolesz,
                                 strands_error *err)
{
    http_response resp;
    strands_status st = imds_send(p, "GET", ROLE_PATH, token, &resp, err);
    if (st != STRANDS_OK) return st;
    const char *body = resp.body.data ? resp.body.data : "";
    size_t n = strcspn(body, "\r\n");
    if (resp.status == 404 || (resp.status == 200 && n == 0)) {
        st = strands_error_set(err, STRANDS_E_NO_CREDENTIALS,
                               "NoCredentialsError",
                               "the instance metadata service at %s has no "
                               "IAM role (HTTP %ld)", p->base_url,
                               resp.status);
    } else if (resp.status == 401 || resp.status == 403) {
        st = refused(p, "the role name request", resp.status, err);
    } else if (resp.status != 200) {
        st = bad_status("the role name request", resp.status, err);
    } else if (!valid_role(body, n) || n >= rolesz) {
        st = strands_error_set(err, STRANDS_E_UPSTREAM,
                               "CredentialRetrievalError",
                               WHAT ": the role name is not a valid IAM "
                               "role name");
    } else {
        memcpy(role, body, n);
        role[n] = '\0';
    }
    wipe_response(&resp);
    return st;
}

/* Copies a short identifier-like string (an IMDS "Code") or "?". */
static void safe_code(const json_t *v, char *out, size_t outsz)
{
    const char *s = json_is_string(v) ? json_string_value(v) : "";
    size_t n = strlen(s);
    int ok = n > 0 && n < outsz;
    for (size_t i = 0; ok && i < n; i++)
        ok = (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z') ||
             (s[i] >= '0' && s[i] <= '9') || s[i] == '.' || s[i] == '_';
    snprintf(out, outsz, "%s", ok ? s : "?");
}

static strands_status fetch_credentials(const imds_provider *p,
                                        const char *token, const char *role,
                                        strands_credentials *out,
                                        strands_error *err)
{
    char path[sizeof ROLE_PATH + MAX_ROLE_BYTES];
    snprintf(path, sizeof path, ROLE_PATH "%s", role);
    http_response resp;
    strands_status st = imds_send(p, "GET", path, token, &resp, err);
    if (st != STRANDS_OK) return st;
    json_t *doc = NULL;
    if (resp.status == 401 || resp.status == 403) {
        st = refused(p, "the credentials request", resp.status, err);
    } else if (resp.status == 404) {
        st = strands_error_set(err, STRANDS_E_NO_CREDENTIALS,
                               "NoCredentialsError",
                               "the instance metadata service at %s has no "
                               "credentials for role %s (HTTP 404)",
                               p->base_url, role);
    } else if (resp.status != 200) {
        st = bad_status("the credentials request", resp.status, err);
    } else if (!(doc = aws_md_parse_object(resp.body.data, resp.body.len,
                                           WHAT, err))) {
        st = STRANDS_E_UPSTREAM;
    } else {
        const json_t *code = json_object_get(doc, "Code");
        if (code && !(json_is_string(code) &&
                      !strcmp(json_string_value(code), "Success"))) {
            char c[STRANDS_ERROR_CODE_MAX];
            safe_code(code, c, sizeof c);
            st = strands_error_set(err, STRANDS_E_UPSTREAM, c,
                                   WHAT ": the service answered Code %s "
                                   "for role %s", c, role);
        } else {
            st = aws_md_credentials_from_object(doc, WHAT, out, err);
        }
    }
    json_decref(doc);
    wipe_response(&resp);
    return st;
}

static strands_status imds_resolve(strands_credentials_provider *self,
                                   strands_credentials *out,
                                   strands_error *err)
{
    imds_provider *p = (imds_provider *)self;
    if (p->disabled)
        return strands_error_set(err, STRANDS_E_NO_CREDENTIALS,
                                 "NoCredentialsError",
                                 "instance metadata credentials are "
                                 "disabled by " VAR_DISABLED);
    char token[sizeof TOKEN_HEADER + MAX_TOKEN_BYTES];
    char role[MAX_ROLE_BYTES];
    strands_status st = fetch_token(p, token, sizeof token, err);
    const char *hdr = token[0] ? token : NULL;
    if (st == STRANDS_OK) st = fetch_role(p, hdr, role, sizeof role, err);
    if (st == STRANDS_OK) st = fetch_credentials(p, hdr, role, out, err);
    explicit_bzero(token, sizeof token);
    return st;
}

static void imds_destroy(strands_credentials_provider *self)
{
    free(self);
}

static const strands_credentials_provider_vtab imds_vtab = {
    STRANDS_CREDENTIALS_VTAB_VERSION, "imds", imds_resolve, imds_destroy,
    NULL};

/* Chooses the base URL: the endpoint override, else the mode's default. */
static strands_status configure_base(imds_provider *p, const aws_cred_env *env,
                                     strands_error *err)
{
    const char *endpoint = aws_env_get(env, VAR_ENDPOINT);
    const char *mode = aws_env_get(env, VAR_MODE);
    if (mode && strcasecmp(mode, "IPv4") && strcasecmp(mode, "IPv6"))
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 VAR_MODE " must be IPv4 or IPv6");
    if (!endpoint) {
        snprintf(p->base_url, sizeof p->base_url, "%s",
                 mode && !strcasecmp(mode, "IPv6") ? BASE_IPV6 : BASE_IPV4);
        return STRANDS_OK;
    }
    net_url u;
    strands_status st = net_url_parse(endpoint,
                                      NET_URL_NO_PATH | NET_URL_NO_QUERY,
                                      VAR_ENDPOINT, &u, err);
    if (st != STRANDS_OK) return st;
    int fits = strlen(u.origin) < sizeof p->base_url;
    if (fits) snprintf(p->base_url, sizeof p->base_url, "%s", u.origin);
    net_url_cleanup(&u);
    if (!fits)
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 VAR_ENDPOINT " has no valid host (too "
                                 "long)");
    return STRANDS_OK;
}

strands_credentials_provider *aws_cred_imds_new(const aws_cred_env *env,
                                                strands_error *err)
{
    imds_provider *p = calloc(1, sizeof *p);
    if (!p) {
        strands_error_set(err, STRANDS_E_NOMEM, NULL, "out of memory");
        return NULL;
    }
    p->base.vtab = &imds_vtab;
    p->http = env ? env->http : NULL;
    p->disabled = aws_md_env_true(aws_env_get(env, VAR_DISABLED));
    p->v1_disabled = aws_md_env_true(aws_env_get(env, VAR_V1_DISABLED));
    if (p->disabled) return &p->base;
    strands_status st = configure_base(p, env, err);
    if (st == STRANDS_OK && !p->http)
        st = strands_error_set(err, STRANDS_E_INVALID, NULL,
                               WHAT " need an HTTP client");
    if (st != STRANDS_OK) {
        free(p);
        return NULL;
    }
    return &p->base;
}
