/* The S3 object calls of the S3 session store: GetObject, conditional
 * PutObject, DeleteObject and ListObjectsV2 over the signed-call helper
 * (SigV4 with S3's rules), each run under the AWS retry policy, and the
 * mapping of their failures to the session-store errors: throttling,
 * 5xx and transport failures that outlast the retries are E_UNAVAILABLE
 * "SessionStoreUnavailable"; 403 is a clear access error.              */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "session/s3.h"

/* ---- names -------------------------------------------------------------- */

strands_status session_s3_bucket_check(const char *b, strands_error *err)
{
    size_t n = b ? strlen(b) : 0;
    int ok = n >= 3 && n <= 63 && isalnum((unsigned char)b[0]) &&
             isalnum((unsigned char)b[n - 1]);
    for (size_t i = 0; ok && i < n; i++) {
        unsigned char c = (unsigned char)b[i];
        ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
             (c == '.' && b[i + 1] != '.');
    }
    if (ok) return STRANDS_OK;
    return strands_error_set(err, STRANDS_E_INVALID, NULL,
                             "s3 store: '%.80s' is not a valid bucket name "
                             "(3 to 63 of a-z, 0-9, '.', '-')",
                             b ? b : "");
}

strands_status session_s3_prefix_normalize(const char *prefix, char *out,
                                           size_t outsz, strands_error *err)
{
    const char *p = prefix ? prefix : "";
    while (*p == '/') p++;
    size_t n = strlen(p);
    while (n && p[n - 1] == '/') n--;
    if (n > S3_PREFIX_MAX || n >= outsz)
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "s3 store: the key prefix is longer than "
                                 "%d bytes",
                                 S3_PREFIX_MAX);
    size_t seg = 0;
    for (size_t i = 0; i <= n; i++) {
        unsigned char ch = i < n ? (unsigned char)p[i] : '/';
        if (ch < 0x20 || ch == 0x7f)
            return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                     "s3 store: the key prefix has a "
                                     "control character");
        if (ch != '/') continue;
        size_t len = i - seg;
        if (n && (len == 0 || (len == 1 && p[seg] == '.') ||
                  (len == 2 && p[seg] == '.' && p[seg + 1] == '.')))
            return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                     "s3 store: the key prefix '%.*s' has "
                                     "an empty, '.' or '..' segment",
                                     (int)(n > 200 ? 200 : n), p);
        seg = i + 1;
    }
    memcpy(out, p, n);
    out[n] = '\0';
    return STRANDS_OK;
}

int session_s3_key(char *out, size_t outsz, const char *prefix,
                   const char *rest)
{
    size_t cap = outsz < S3_KEY_MAX + 1 ? outsz : S3_KEY_MAX + 1;
    int n = prefix && prefix[0] ? snprintf(out, cap, "%s/%s", prefix, rest)
                                : snprintf(out, cap, "%s", rest);
    return n < 0 || (size_t)n >= cap ? -1 : 0;
}

/* The request path of key: "/<bucket>/<key>" (path-style) or "/<key>",
 * every byte but unreserved ones and '/' percent-encoded once (S3's
 * canonical form: the signer keeps these escapes as they are).         */
static char *object_path(const s3_client *c, const char *key)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = strlen(key);
    char *out = malloc(strlen(c->bucket) + 3 * n + 4);
    if (!out) return NULL;
    size_t o = 0;
    out[o++] = '/';
    if (c->path_style) {
        size_t b = strlen(c->bucket);
        memcpy(out + o, c->bucket, b);
        o += b;
        out[o++] = '/';
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)key[i];
        if (isalnum(ch) || ch == '-' || ch == '.' || ch == '_' || ch == '~' ||
            ch == '/') {
            out[o++] = (char)ch;
        } else {
            out[o++] = '%';
            out[o++] = hex[ch >> 4];
            out[o++] = hex[ch & 15];
        }
    }
    out[o] = '\0';
    return out;
}

/* ---- set-up ------------------------------------------------------------- */

strands_status session_s3_client_init(s3_client *c,
                                      const strands_s3_store_config *cfg,
                                      strands_error *err)
{
    memset(c, 0, sizeof *c);
    strands_status st = session_s3_bucket_check(cfg->bucket, err);
    if (st != STRANDS_OK) return st;
    snprintf(c->bucket, sizeof c->bucket, "%s", cfg->bucket);
    const char *region =
        cfg->region && cfg->region[0] ? cfg->region : "us-east-1";
    if (strlen(region) >= sizeof c->region ||
        strspn(region, "abcdefghijklmnopqrstuvwxyz0123456789-") !=
            strlen(region))
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "s3 store: '%.64s' is not a region name",
                                 region);
    snprintf(c->region, sizeof c->region, "%s", region);
    char url[512];
    if (cfg->endpoint && cfg->endpoint[0]) {
        /* A custom endpoint (MinIO, LocalStack, a fake, a VPC endpoint
         * URL): path-style, as those expect it.                        */
        snprintf(url, sizeof url, "%s", cfg->endpoint);
        c->path_style = 1;
    } else {
        /* AWS: virtual-hosted, except for bucket names with a '.', which
         * the *.s3 wildcard certificate does not cover.               */
        const char *dns =
            strncmp(region, "cn-", 3) ? "amazonaws.com" : "amazonaws.com.cn";
        c->path_style = strchr(c->bucket, '.') != NULL;
        if (c->path_style)
            snprintf(url, sizeof url, "https://s3.%s.%s", region, dns);
        else
            snprintf(url, sizeof url, "https://%s.s3.%s.%s", c->bucket, region,
                     dns);
    }
    st = aws_endpoint_parse(url, &c->endpoint, err);
    if (st != STRANDS_OK) return st;
    char attempts[16];
    snprintf(attempts, sizeof attempts, "%d",
             cfg->max_attempts > 0 ? cfg->max_attempts : 3);
    st = aws_retry_policy_init(&c->retry, cfg->retry_mode, attempts, err);
    if (st != STRANDS_OK) return st;
    c->credentials = cfg->credentials;
    c->connect_timeout_ms =
        cfg->connect_timeout_ms > 0 ? cfg->connect_timeout_ms : 3000;
    c->read_timeout_ms =
        cfg->read_timeout_ms > 0 ? cfg->read_timeout_ms : 10000;
    size_t cap = cfg->max_history_bytes
                     ? cfg->max_history_bytes
                     : STRANDS_SESSION_DEFAULT_MAX_HISTORY_BYTES;
    c->max_object = (cap > S3_MAX_META_BYTES ? cap : S3_MAX_META_BYTES) + 4096;
    if (!(c->http = http_client_new(16)))
        return strands_error_set(err, STRANDS_E_NOMEM, NULL, "out of memory");
    return STRANDS_OK;
}

void session_s3_client_cleanup(s3_client *c)
{
    http_client_free(c->http);
    c->http = NULL;
}

void session_s3_object_clear(s3_object *o)
{
    if (!o) return;
    free(o->body);
    memset(o, 0, sizeof *o);
}

/* ---- one request -------------------------------------------------------- */

typedef struct s3_req {
    s3_client *c;
    const char *method;
    const char *key; /* for messages */
    char *path;
    const char *query;
    const aws_header *extra;
    size_t n_extra;
    const char *body;
    size_t len;
    size_t max_response;
    http_response resp; /* the last answer (kept on success) */
    int attempts;
    int lost_answer; /* an earlier attempt may have been applied */
} s3_req;

/* One attempt: sends, keeps a 2xx answer in r->resp, turns the rest into
 * err (code = S3's error code) with *http_status for the retry policy. */
static strands_status s3_attempt(void *user, long *http_status,
                                 strands_error *err)
{
    s3_req *r = user;
    s3_client *c = r->c;
    r->attempts++;
    http_response_cleanup(&r->resp);
    memset(&r->resp, 0, sizeof r->resp);
    strands_credentials creds;
    strands_status st =
        c->credentials
            ? strands_credentials_resolve(c->credentials, &creds, err)
            : strands_error_set(err, STRANDS_E_NO_CREDENTIALS,
                                "NoCredentialsError",
                                "s3 store: no AWS credentials provider");
    if (st != STRANDS_OK) {
        *http_status = -1; /* not an S3 answer: not retried here */
        return st;
    }
    aws_call call = {.endpoint = &c->endpoint,
                     .service = "s3",
                     .region = c->region,
                     .creds = &creds,
                     .method = r->method,
                     .path = r->path,
                     .query = r->query,
                     .s3 = 1,
                     .content_type = "application/json",
                     .extra = r->extra,
                     .n_extra = r->n_extra,
                     .body = r->body,
                     .body_len = r->len,
                     .connect_timeout_ms = c->connect_timeout_ms,
                     .read_timeout_ms = c->read_timeout_ms,
                     .max_response = r->max_response};
    st = aws_call_send(c->http, &call, &r->resp, err);
    strands_credentials_wipe(&creds);
    if (st != STRANDS_OK) {
        if (st == STRANDS_E_NETWORK || st == STRANDS_E_TIMEOUT)
            r->lost_answer = 1;
        return st;
    }
    long status = r->resp.status;
    *http_status = status;
    if (status >= 200 && status < 300) return STRANDS_OK;
    char code[STRANDS_ERROR_CODE_MAX], msg[256];
    session_s3_xml_error(dynbuf_str(&r->resp.body), r->resp.body.len, code,
                         sizeof code, msg, sizeof msg);
    if (!code[0]) {
        if (status == 404)
            snprintf(code, sizeof code, "NoSuchKey");
        else if (status == 412)
            snprintf(code, sizeof code, "PreconditionFailed");
        else
            snprintf(code, sizeof code, "HttpError%ld", status);
    }
    if (status >= 500) r->lost_answer = 1;
    strands_error_set(err, STRANDS_E_UPSTREAM, code, "S3 error %ld %s: %s",
                      status, code, msg[0] ? msg : "(no message)");
    err->http_status = (int)status;
    return STRANDS_E_UPSTREAM;
}

/* Maps the final failure of a request on key to the store's errors. */
static strands_status s3_failure(s3_client *c, strands_status st,
                                 const char *what, const char *key,
                                 strands_error *err)
{
    char detail[STRANDS_ERROR_MESSAGE_MAX];
    snprintf(detail, sizeof detail, "%s", err->message);
    long status = err->http_status;
    if (st == STRANDS_E_NOMEM || st == STRANDS_E_CANCELLED ||
        st == STRANDS_E_TOO_LARGE)
        return st;
    if (st == STRANDS_E_UPSTREAM && status == 403) {
        if (c->credentials) strands_credentials_invalidate(c->credentials);
        return strands_error_set(err, STRANDS_E_UPSTREAM,
                                 "SessionStoreAccessDenied",
                                 "s3 store: access denied to %s "
                                 "s3://%s/%.300s (%s); the credentials need "
                                 "s3:GetObject, s3:PutObject, "
                                 "s3:DeleteObject and s3:ListBucket there",
                                 what, c->bucket, key, detail);
    }
    if (st == STRANDS_E_UPSTREAM && status >= 400 && status < 500 &&
        !aws_retry_is_throttle(err->code)) {
        char code[STRANDS_ERROR_CODE_MAX];
        snprintf(code, sizeof code, "%s", err->code);
        strands_error_set(err, STRANDS_E_UPSTREAM, code,
                          "s3 store: %s s3://%s/%.300s failed: %s", what,
                          c->bucket, key, detail);
        err->http_status = (int)status;
        return STRANDS_E_UPSTREAM;
    }
    if (st == STRANDS_E_NO_CREDENTIALS || st == STRANDS_E_INVALID ||
        st == STRANDS_E_PARSE || st == STRANDS_E_CRYPTO)
        return st;
    /* 5xx, throttling, transport failures after the retries. */
    return strands_error_set(err, STRANDS_E_UNAVAILABLE,
                             "SessionStoreUnavailable",
                             "s3 store: %s s3://%s/%.300s failed after "
                             "retries: %s",
                             what, c->bucket, key, detail);
}

/* Runs r under the retry policy; on a failure the answer is freed. */
static strands_status s3_run(s3_req *r, strands_error *err)
{
    memset(&r->resp, 0, sizeof r->resp);
    strands_error_clear(err);
    strands_status st = aws_retry_run(&r->c->retry, s3_attempt, r, NULL, err);
    if (st != STRANDS_OK) {
        http_response_cleanup(&r->resp);
        memset(&r->resp, 0, sizeof r->resp);
    }
    return st;
}

static strands_status nomem(strands_error *err)
{
    return strands_error_set(err, STRANDS_E_NOMEM, NULL, "out of memory");
}

strands_status session_s3_get(s3_client *c, const char *key, s3_object *out,
                              strands_error *err)
{
    memset(out, 0, sizeof *out);
    s3_req r = {
        .c = c, .method = "GET", .key = key, .max_response = c->max_object};
    if (!(r.path = object_path(c, key))) return nomem(err);
    strands_status st = s3_run(&r, err);
    free(r.path);
    if (st == STRANDS_E_UPSTREAM && err->http_status == 404 &&
        !strcmp(err->code, "NoSuchKey"))
        return strands_error_set(err, STRANDS_E_NOT_FOUND, "NoSuchKey",
                                 "s3://%s/%.300s does not exist", c->bucket,
                                 key);
    if (st == STRANDS_E_TOO_LARGE)
        return strands_error_set(err, STRANDS_E_TOO_LARGE,
                                 "SessionHistoryTooLarge",
                                 "s3 store: s3://%s/%.300s is larger than "
                                 "%zu bytes",
                                 c->bucket, key, c->max_object);
    if (st != STRANDS_OK) return s3_failure(c, st, "reading", key, err);
    snprintf(out->etag, sizeof out->etag, "%s", r.resp.etag);
    size_t len = r.resp.body.len;
    out->body = dynbuf_take(&r.resp.body, NULL);
    if (!out->body) out->body = strdup("");
    out->len = out->body ? len : 0;
    http_response_cleanup(&r.resp);
    return out->body ? STRANDS_OK : nomem(err);
}

/* "\"<md5 hex>\"" of data: the ETag S3 gives a single-part upload. */
static void md5_etag(const char *data, size_t len, char out[40])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    out[0] = '\0';
    if (EVP_Digest(data, len, md, &n, EVP_md5(), NULL) != 1 || n != 16) return;
    static const char hex[] = "0123456789abcdef";
    out[0] = '"';
    for (unsigned i = 0; i < 16; i++) {
        out[1 + 2 * i] = hex[md[i] >> 4];
        out[2 + 2 * i] = hex[md[i] & 15];
    }
    out[33] = '"';
    out[34] = '\0';
}

static strands_status precondition_failed(s3_client *c, const char *key,
                                          strands_error *err)
{
    return strands_error_set(err, STRANDS_E_BUSY, "PreconditionFailed",
                             "s3://%s/%.300s was written by someone else",
                             c->bucket, key);
}

strands_status session_s3_put(s3_client *c, const char *key, const char *body,
                              size_t len, s3_cond cond, const char *etag,
                              s3_object *out, strands_error *err)
{
    if (out) memset(out, 0, sizeof *out);
    aws_header h[1];
    size_t nh = 0;
    if (cond == S3_COND_NEW)
        h[nh++] = (aws_header){"if-none-match", "*"};
    else if (cond == S3_COND_MATCH)
        h[nh++] = (aws_header){"if-match", etag ? etag : "\"\""};
    s3_req r = {.c = c,
                .method = "PUT",
                .key = key,
                .extra = h,
                .n_extra = nh,
                .body = body,
                .len = len,
                .max_response = 1 << 20};
    if (!(r.path = object_path(c, key))) return nomem(err);
    strands_status st = s3_run(&r, err);
    free(r.path);
    /* 412: the condition failed; 404: If-Match on a missing object; 409
     * ConditionalRequestConflict: another conditional write of this key
     * is in flight (S3 lets at most one of them succeed).              */
    int failed_cond = st == STRANDS_E_UPSTREAM && cond != S3_COND_NONE &&
                      (err->http_status == 412 ||
                       (err->http_status == 409 &&
                        !strcmp(err->code, "ConditionalRequestConflict")) ||
                       (cond == S3_COND_MATCH && err->http_status == 404));
    if (failed_cond && r.lost_answer) {
        /* An earlier attempt may have been applied and its answer lost:
         * it was ours when the object now holds exactly our bytes.     */
        char mine[40];
        md5_etag(body, len, mine);
        s3_object cur;
        strands_error e2;
        if (mine[0] && session_s3_get(c, key, &cur, &e2) == STRANDS_OK) {
            int same = !strcmp(cur.etag, mine);
            if (same && out)
                snprintf(out->etag, sizeof out->etag, "%s", cur.etag);
            session_s3_object_clear(&cur);
            if (same) return STRANDS_OK;
        }
    }
    if (failed_cond) return precondition_failed(c, key, err);
    if (st != STRANDS_OK) return s3_failure(c, st, "writing", key, err);
    if (out) snprintf(out->etag, sizeof out->etag, "%s", r.resp.etag);
    http_response_cleanup(&r.resp);
    return STRANDS_OK;
}

strands_status session_s3_delete(s3_client *c, const char *key,
                                 const char *etag, strands_error *err)
{
    aws_header h[1] = {{"if-match", etag}};
    s3_req r = {.c = c,
                .method = "DELETE",
                .key = key,
                .extra = h,
                .n_extra = etag ? 1 : 0,
                .max_response = 1 << 20};
    if (!(r.path = object_path(c, key))) return nomem(err);
    strands_status st = s3_run(&r, err);
    free(r.path);
    if (st == STRANDS_E_UPSTREAM && err->http_status == 404 &&
        !strcmp(err->code, "NoSuchKey"))
        return STRANDS_OK;
    if (st == STRANDS_E_UPSTREAM && err->http_status == 412)
        return precondition_failed(c, key, err);
    if (st != STRANDS_OK) return s3_failure(c, st, "deleting", key, err);
    http_response_cleanup(&r.resp);
    return STRANDS_OK;
}

/* Appends s percent-encoded (every byte but unreserved ones) to b. */
static strands_status put_encoded(dynbuf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    strands_status st = STRANDS_OK;
    for (; *s && st == STRANDS_OK; s++) {
        unsigned char ch = (unsigned char)*s;
        if (isalnum(ch) || ch == '-' || ch == '.' || ch == '_' || ch == '~') {
            st = dynbuf_append(b, s, 1);
        } else {
            char e[3] = {'%', hex[ch >> 4], hex[ch & 15]};
            st = dynbuf_append(b, e, 3);
        }
    }
    return st;
}

/* Moves the entries of page into all (grown as needed). */
static strands_status merge_page(s3_list_page *all, size_t *cap,
                                 s3_list_page *page, strands_error *err)
{
    if (all->n_keys + page->n_keys > *cap) {
        size_t ncap = (*cap ? *cap * 2 : 64);
        while (ncap < all->n_keys + page->n_keys) ncap *= 2;
        char **k = realloc(all->keys, ncap * sizeof *k);
        if (k) all->keys = k;
        char **e = realloc(all->etags, ncap * sizeof *e);
        if (e) all->etags = e;
        size_t *z = realloc(all->sizes, ncap * sizeof *z);
        if (z) all->sizes = z;
        if (!k || !e || !z) return nomem(err);
        *cap = ncap;
    }
    for (size_t i = 0; i < page->n_keys; i++) {
        all->keys[all->n_keys] = page->keys[i];
        all->etags[all->n_keys] = page->etags[i];
        all->sizes[all->n_keys] = page->sizes[i];
        all->n_keys++;
    }
    page->n_keys = 0;
    return STRANDS_OK;
}

strands_status session_s3_list(s3_client *c, const char *prefix,
                               s3_list_page *out, strands_error *err)
{
    memset(out, 0, sizeof *out);
    size_t cap = 0;
    char *token = NULL;
    char path[80];
    snprintf(path, sizeof path, "/%s", c->path_style ? c->bucket : "");
    strands_status st = STRANDS_OK;
    for (int pages = 0; st == STRANDS_OK; pages++) {
        if (pages == S3_LIST_PAGES_MAX) {
            st = strands_error_set(err, STRANDS_E_TOO_LARGE, NULL,
                                   "s3 store: more than %d pages of keys "
                                   "under s3://%s/%.300s",
                                   S3_LIST_PAGES_MAX, c->bucket, prefix);
            break;
        }
        /* The query in canonical order (the signer re-sorts anyway). */
        dynbuf q;
        dynbuf_init(&q, 64 * 1024);
        if (token) {
            st = dynbuf_puts(&q, "continuation-token=");
            if (st == STRANDS_OK) st = put_encoded(&q, token);
            if (st == STRANDS_OK) st = dynbuf_puts(&q, "&");
        }
        if (st == STRANDS_OK) st = dynbuf_puts(&q, "list-type=2&prefix=");
        if (st == STRANDS_OK) st = put_encoded(&q, prefix);
        if (st != STRANDS_OK) {
            dynbuf_cleanup(&q);
            st = nomem(err);
            break;
        }
        s3_req r = {.c = c,
                    .method = "GET",
                    .key = prefix,
                    .path = path,
                    .query = dynbuf_str(&q),
                    .max_response = S3_MAX_XML_BYTES};
        st = s3_run(&r, err);
        dynbuf_cleanup(&q);
        if (st != STRANDS_OK) {
            st = s3_failure(c, st, "listing", prefix, err);
            break;
        }
        s3_list_page page;
        st = session_s3_xml_list_parse(dynbuf_str(&r.resp.body),
                                       r.resp.body.len, &page, err);
        http_response_cleanup(&r.resp);
        if (st != STRANDS_OK) break;
        st = merge_page(out, &cap, &page, err);
        free(token);
        token = page.next_token;
        page.next_token = NULL;
        int more = page.truncated;
        session_s3_list_page_free(&page);
        if (st != STRANDS_OK || !more) break;
    }
    free(token);
    if (st != STRANDS_OK) session_s3_list_page_free(out);
    return st;
}
