/* AWS SigV4 header signing (see sigv4.h): canonical URI, query and headers,
 * the string to sign, the derived signing key and the Authorization value.
 * Owns no state; every string is built in a capped dynbuf and handed
 * to the caller through sigv4_result.                                     */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "aws/sigv4.h"
#include "core/buf.h"

#define ALGORITHM "AWS4-HMAC-SHA256"
#define LAST_UNIX_TIME INT64_C(253402300799) /* 9999-12-31T23:59:59Z */

static const char HEX_UPPER[] = "0123456789ABCDEF";
static const char HEX_LOWER[] = "0123456789abcdef";

/* ------------------------------------------------------------------------
 * Encoding helpers
 * ---------------------------------------------------------------------- */

static int is_unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
           c == '~';
}

static int hex_value(unsigned char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

/* If s[i] starts a valid "%XX" escape among len bytes, returns the byte. */
static int escape_at(const char *s, size_t len, size_t i)
{
    if (s[i] != '%' || i + 2 >= len) return -1;
    int hi = hex_value((unsigned char)s[i + 1]);
    int lo = hex_value((unsigned char)s[i + 2]);
    return (hi < 0 || lo < 0) ? -1 : hi * 16 + lo;
}

static strands_status put_escape(dynbuf *b, unsigned char c)
{
    char esc[3] = { '%', HEX_UPPER[c >> 4], HEX_UPPER[c & 15] };
    return dynbuf_append(b, esc, 3);
}

/* Appends s URI-encoded; keep_slash leaves '/' as is (path segments). */
static strands_status put_encoded(dynbuf *b, const char *s, size_t len,
                                  int keep_slash)
{
    size_t i = 0;
    while (i < len) {
        size_t run = i;
        while (run < len && (is_unreserved((unsigned char)s[run]) ||
                             (keep_slash && s[run] == '/')))
            run++;
        strands_status st = dynbuf_append(b, s + i, run - i);
        if (st != STRANDS_OK) return st;
        if (run == len) break;
        st = put_escape(b, (unsigned char)s[run]);
        if (st != STRANDS_OK) return st;
        i = run + 1;
    }
    return STRANDS_OK;
}

/* Appends s percent-decoded then URI-encoded (each "%XX" counts as its byte;
 * a '%' without two hex digits is a literal '%'). keep_slash as above, for
 * literal slashes only: a decoded "%2F" stays encoded.                    */
static strands_status put_reencoded(dynbuf *b, const char *s, size_t len,
                                    int keep_slash)
{
    for (size_t i = 0; i < len; i++) {
        int c = escape_at(s, len, i);
        strands_status st;
        if (c >= 0) {
            i += 2;
            st = is_unreserved((unsigned char)c)
                     ? dynbuf_append(b, &(char){ (char)c }, 1)
                     : put_escape(b, (unsigned char)c);
        } else if (is_unreserved((unsigned char)s[i]) ||
                   (keep_slash && s[i] == '/')) {
            st = dynbuf_append(b, s + i, 1);
        } else {
            st = put_escape(b, (unsigned char)s[i]);
        }
        if (st != STRANDS_OK) return st;
    }
    return STRANDS_OK;
}

char *sigv4_uri_encode(const char *s, size_t len)
{
    dynbuf b;
    dynbuf_init(&b, SIZE_MAX / 4);
    if (put_encoded(&b, s, len, 0) != STRANDS_OK) return NULL;
    return dynbuf_take(&b, NULL);
}

void sigv4_hex_sha256(const void *data, size_t len, char out[65])
{
    unsigned char md[SHA256_DIGEST_LENGTH];
    static const unsigned char empty = 0;
    SHA256(len ? data : &empty, len, md);
    for (size_t i = 0; i < sizeof md; i++) {
        out[2 * i] = HEX_LOWER[md[i] >> 4];
        out[2 * i + 1] = HEX_LOWER[md[i] & 15];
    }
    out[64] = '\0';
}

/* ------------------------------------------------------------------------
 * Canonical URI and query
 * ---------------------------------------------------------------------- */

typedef struct span {
    const char *p;
    size_t len;
} span;

/* Writes the dot-segment-free form of path into *out (a malloc'd copy the
 * caller frees): "." dropped, ".." pops, empty segments collapse, leading
 * and trailing '/' kept, as the AWS SDK signers do.                       */
static strands_status normalize_path(const char *path, size_t len,
                                     char **out)
{
    size_t n_seg = 1;
    for (size_t i = 0; i < len; i++) n_seg += path[i] == '/';
    span *seg = malloc(n_seg * sizeof *seg);
    char *res = malloc(len + 2);
    if (!seg || !res) {
        free(seg);
        free(res);
        return STRANDS_E_NOMEM;
    }
    size_t kept = 0, start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && path[i] != '/') continue;
        span s = { path + start, i - start };
        start = i + 1;
        if (s.len == 0 || (s.len == 1 && s.p[0] == '.')) continue;
        if (s.len == 2 && s.p[0] == '.' && s.p[1] == '.') {
            if (kept) kept--;
            continue;
        }
        seg[kept++] = s;
    }
    size_t w = 0;
    if (len && path[0] == '/') res[w++] = '/';
    for (size_t k = 0; k < kept; k++) {
        if (k) res[w++] = '/';
        memcpy(res + w, seg[k].p, seg[k].len);
        w += seg[k].len;
    }
    if (kept && path[len - 1] == '/') res[w++] = '/';
    res[w] = '\0';
    free(seg);
    *out = res;
    return STRANDS_OK;
}

static strands_status put_canonical_uri(dynbuf *b, const char *path,
                                        const sigv4_params *p)
{
    if (!path || !*path) return dynbuf_puts(b, "/");
    char *norm = NULL;
    size_t len = strlen(path);
    if (p->normalize_path) {
        strands_status st = normalize_path(path, len, &norm);
        if (st != STRANDS_OK) return st;
        path = norm;
        len = strlen(norm);
    }
    strands_status st;
    if (len == 0)
        st = dynbuf_puts(b, "/");
    else if (p->double_encode_path)
        st = put_encoded(b, path, len, 1);
    else
        st = put_reencoded(b, path, len, 1);
    free(norm);
    return st;
}

typedef struct qparam {
    char *name;   /* encoded; both point into one allocation */
    char *value;
} qparam;

static int qparam_cmp(const void *a, const void *b)
{
    const qparam *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : strcmp(x->value, y->value);
}

/* Encodes one "name[=value]" piece into *q (one malloc'd block). */
static strands_status encode_param(const char *s, size_t len, qparam *q)
{
    const char *eq = memchr(s, '=', len);
    size_t nlen = eq ? (size_t)(eq - s) : len;
    dynbuf b;
    dynbuf_init(&b, SIGV4_MAX_CANONICAL);
    strands_status st = put_reencoded(&b, s, nlen, 0);
    size_t name_len = b.len;
    if (st == STRANDS_OK) st = dynbuf_append(&b, "", 1);
    if (st == STRANDS_OK && eq)
        st = put_reencoded(&b, eq + 1, len - nlen - 1, 0);
    if (st != STRANDS_OK) return st;
    char *block = dynbuf_take(&b, NULL);
    if (!block) return STRANDS_E_NOMEM;
    q->name = block;
    q->value = block + name_len + 1;
    return STRANDS_OK;
}

/* Canonical query: each parameter decoded and re-encoded, sorted by name
 * then value, joined "name=value" with '&'. Empty pieces ("a&&b") vanish. */
static strands_status put_canonical_query(dynbuf *b, const char *query)
{
    if (!query || !*query) return STRANDS_OK;
    size_t len = strlen(query), n_max = 1, n = 0;
    for (size_t i = 0; i < len; i++) n_max += query[i] == '&';
    qparam *qs = calloc(n_max, sizeof *qs);
    if (!qs) return STRANDS_E_NOMEM;
    strands_status st = STRANDS_OK;
    size_t start = 0;
    for (size_t i = 0; i <= len && st == STRANDS_OK; i++) {
        if (i < len && query[i] != '&') continue;
        if (i > start) st = encode_param(query + start, i - start, &qs[n++]);
        start = i + 1;
    }
    if (st == STRANDS_OK) qsort(qs, n, sizeof *qs, qparam_cmp);
    for (size_t i = 0; i < n && st == STRANDS_OK; i++)
        st = dynbuf_printf(b, "%s%s=%s", i ? "&" : "", qs[i].name,
                                qs[i].value);
    for (size_t i = 0; i < n; i++) free(qs[i].name);
    free(qs);
    return st;
}

/* ------------------------------------------------------------------------
 * Canonical headers
 * ---------------------------------------------------------------------- */

typedef struct hentry {
    char *name;    /* lowercase, malloc'd */
    char *value;   /* trimmed, whitespace runs collapsed, malloc'd */
    size_t order;  /* position among the passed headers (stable sort) */
} hentry;

typedef struct hset {
    hentry *e;
    size_t n;
    size_t n_date, n_token, n_sha, n_host;
    const char *date;   /* canonical x-amz-date value when passed */
    const char *sha;    /* canonical x-amz-content-sha256 value when passed */
} hset;

/* Headers the JS SDK signer never signs (ALWAYS_UNSIGNABLE_HEADERS). */
static int is_unsignable(const char *lname)
{
    static const char *const names[] = {
        "authorization", "cache-control", "connection", "expect", "from",
        "keep-alive", "max-forwards", "pragma", "referer", "te", "trailer",
        "transfer-encoding", "upgrade", "user-agent", "x-amzn-trace-id",
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(lname, names[i]) == 0) return 1;
    return strncmp(lname, "proxy-", 6) == 0 || strncmp(lname, "sec-", 4) == 0;
}

/* RFC 9110 token character (header names, methods). */
static int is_tchar(unsigned char c)
{
    return is_unreserved(c) || (c && strchr("!#$%&'*+^`|", c) != NULL);
}

static int is_token(const char *s)
{
    if (!s || !*s) return 0;
    for (; *s; s++)
        if (!is_tchar((unsigned char)*s)) return 0;
    return 1;
}

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' ||
           c == '\f';
}

/* Trimmed copy of v with every whitespace run (folded lines included)
 * replaced by one space. NULL on OOM.                                    */
static char *canonical_value(const char *v)
{
    size_t len = strlen(v), w = 0;
    char *out = malloc(len + 1);
    if (!out) return NULL;
    int pending_space = 0;
    for (size_t i = 0; i < len; i++) {
        if (is_space(v[i])) {
            pending_space = w > 0;
            continue;
        }
        if (pending_space) out[w++] = ' ';
        pending_space = 0;
        out[w++] = v[i];
    }
    out[w] = '\0';
    return out;
}

static strands_status hset_add(hset *hs, const char *name, const char *value)
{
    hentry *e = &hs->e[hs->n];
    size_t len = strlen(name);
    e->name = malloc(len + 1);
    e->value = canonical_value(value);
    if (!e->name || !e->value) {
        free(e->name);
        free(e->value);
        return STRANDS_E_NOMEM;
    }
    for (size_t i = 0; i <= len; i++) {
        char c = name[i];
        e->name[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
    }
    e->order = hs->n++;
    return STRANDS_OK;
}

static void hset_cleanup(hset *hs)
{
    for (size_t i = 0; hs->e && i < hs->n; i++) {
        free(hs->e[i].name);
        free(hs->e[i].value);
    }
    free(hs->e);
    memset(hs, 0, sizeof *hs);
}

/* Adds the passed headers that are signed, and notes the special ones. */
static strands_status hset_collect(hset *hs, const sigv4_request *req,
                                   const sigv4_params *p, strands_error *err)
{
    hs->e = calloc(req->n_headers + 3, sizeof *hs->e);
    if (!hs->e) return STRANDS_E_NOMEM;
    for (size_t i = 0; i < req->n_headers; i++) {
        const sigv4_header *h = &req->headers[i];
        if (!is_token(h->name) || !h->value)
            return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                     "sigv4: header %zu has an invalid name "
                                     "or no value", i);
        strands_status st = hset_add(hs, h->name, h->value);
        if (st != STRANDS_OK) return st;
        hentry *e = &hs->e[hs->n - 1];
        int drop = is_unsignable(e->name) ||
                   (p->omit_session_token &&
                    strcmp(e->name, "x-amz-security-token") == 0);
        if (drop) {
            free(e->name);
            free(e->value);
            hs->n--;
            continue;
        }
        if (strcmp(e->name, "x-amz-date") == 0) {
            hs->n_date++;
            hs->date = e->value;
        } else if (strcmp(e->name, "x-amz-security-token") == 0) {
            hs->n_token++;
        } else if (strcmp(e->name, "x-amz-content-sha256") == 0) {
            hs->n_sha++;
            hs->sha = e->value;
        } else if (strcmp(e->name, "host") == 0 && e->value[0]) {
            hs->n_host++;
        }
    }
    return STRANDS_OK;
}

static int hentry_cmp(const void *a, const void *b)
{
    const hentry *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    if (c) return c;
    return x->order < y->order ? -1 : x->order > y->order;
}

/* Appends "name:v1,v2\n" per distinct name to canon and "a;b" to signed_. */
static strands_status put_headers(const hset *hs, dynbuf *canon,
                                  dynbuf *signed_)
{
    strands_status st = STRANDS_OK;
    for (size_t i = 0; i < hs->n && st == STRANDS_OK; i++) {
        const hentry *e = &hs->e[i];
        int first = i == 0 || strcmp(e->name, hs->e[i - 1].name) != 0;
        int last = i + 1 == hs->n || strcmp(e->name, hs->e[i + 1].name) != 0;
        if (first) {
            st = dynbuf_printf(canon, "%s:%s", e->name, e->value);
            if (st == STRANDS_OK)
                st = dynbuf_printf(signed_, "%s%s", i ? ";" : "",
                                        e->name);
        } else {
            st = dynbuf_printf(canon, ",%s", e->value);
        }
        if (st == STRANDS_OK && last) st = dynbuf_puts(canon, "\n");
    }
    return st;
}

/* ------------------------------------------------------------------------
 * Dates, credentials and the signing key
 * ---------------------------------------------------------------------- */

static int is_amz_date(const char *s)
{
    if (strlen(s) != 16 || s[8] != 'T' || s[15] != 'Z') return 0;
    for (int i = 0; i < 15; i++)
        if (i != 8 && (s[i] < '0' || s[i] > '9')) return 0;
    return 1;
}

static strands_status format_amz_date(int64_t t, char out[17])
{
    if (t < 0 || t > LAST_UNIX_TIME) return STRANDS_E_INVALID;
    time_t tt = (time_t)t;
    struct tm tm;
    if (!gmtime_r(&tt, &tm)) return STRANDS_E_INVALID;
    if (strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm) != 16)
        return STRANDS_E_INVALID;
    return STRANDS_OK;
}

/* Region, service and key id go into the scope: printable, no '/', ','. */
static int is_scope_field(const char *s)
{
    if (!s || !*s) return 0;
    for (; *s; s++)
        if (*s <= ' ' || *s > '~' || *s == '/' || *s == ',') return 0;
    return 1;
}

static strands_status check_params(const sigv4_request *req,
                                   const sigv4_params *p, strands_error *err)
{
    if (!req || !p)
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "sigv4: missing request or parameters");
    if (!is_token(req->method))
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "sigv4: invalid HTTP method");
    if (req->n_headers && !req->headers)
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "sigv4: headers missing");
    if (req->body_len && !req->body)
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "sigv4: body missing");
    if (!is_scope_field(p->access_key_id) || !is_scope_field(p->region) ||
        !is_scope_field(p->service))
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "sigv4: invalid access key id, region or "
                                 "service");
    if (!p->secret_access_key || !*p->secret_access_key)
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "sigv4: empty secret access key");
    return STRANDS_OK;
}

static int hmac256(const void *key, size_t key_len, const char *msg,
                   unsigned char out[32])
{
    unsigned int out_len = 0;
    if (key_len > 1024) return 0; /* far above any real secret */
    return HMAC(EVP_sha256(), key, (int)key_len, (const unsigned char *)msg,
                strlen(msg), out, &out_len) != NULL && out_len == 32;
}

/* signature = hex(HMAC(kSigning, sts)) with kSigning derived from the
 * secret, date, region and service. Wipes the key material.              */
static strands_status compute_signature(const sigv4_params *p,
                                        const char *date8, const char *sts,
                                        char out[65])
{
    size_t slen = strlen(p->secret_access_key);
    char *k0 = malloc(slen + 5);
    if (!k0) return STRANDS_E_NOMEM;
    memcpy(k0, "AWS4", 4);
    memcpy(k0 + 4, p->secret_access_key, slen + 1);
    unsigned char k[32], sig[32];
    int ok = hmac256(k0, slen + 4, date8, k) && hmac256(k, 32, p->region, k) &&
             hmac256(k, 32, p->service, k) &&
             hmac256(k, 32, "aws4_request", k) && hmac256(k, 32, sts, sig);
    OPENSSL_cleanse(k0, slen + 4);
    OPENSSL_cleanse(k, sizeof k);
    free(k0);
    if (!ok) return STRANDS_E_CRYPTO;
    for (size_t i = 0; i < 32; i++) {
        out[2 * i] = HEX_LOWER[sig[i] >> 4];
        out[2 * i + 1] = HEX_LOWER[sig[i] & 15];
    }
    out[64] = '\0';
    return STRANDS_OK;
}

/* ------------------------------------------------------------------------
 * sigv4_sign
 * ---------------------------------------------------------------------- */

/* Fills amz_date and payload_hash, adds the implicit headers and sorts. */
static strands_status prepare_headers(hset *hs, const sigv4_request *req,
                                      const sigv4_params *p,
                                      sigv4_result *out, strands_error *err)
{
    if (hs->n_host == 0)
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "sigv4: no host header");
    if (hs->n_date > 1 || (hs->n_date == 1 && !is_amz_date(hs->date)))
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "sigv4: x-amz-date must be one "
                                 "YYYYMMDDTHHMMSSZ value");
    if (hs->n_sha > 1 || (hs->n_sha == 1 && strlen(hs->sha) > 64))
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "sigv4: invalid x-amz-content-sha256");
    strands_status st = STRANDS_OK;
    if (hs->n_date) {
        memcpy(out->amz_date, hs->date, 17);
    } else if (format_amz_date(p->unix_time, out->amz_date) != STRANDS_OK) {
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "sigv4: signing time out of range");
    } else {
        st = hset_add(hs, "x-amz-date", out->amz_date);
    }
    /* An explicit x-amz-content-sha256 is the payload line (JS SDK rule). */
    if (hs->n_sha)
        memcpy(out->payload_hash, hs->sha, strlen(hs->sha) + 1);
    else
        sigv4_hex_sha256(req->body, req->body_len, out->payload_hash);
    if (st == STRANDS_OK && p->sign_body_hash && !hs->n_sha)
        st = hset_add(hs, "x-amz-content-sha256", out->payload_hash);
    if (st == STRANDS_OK && p->session_token && *p->session_token &&
        !p->omit_session_token && !hs->n_token)
        st = hset_add(hs, "x-amz-security-token", p->session_token);
    if (st == STRANDS_OK) qsort(hs->e, hs->n, sizeof *hs->e, hentry_cmp);
    return st;
}

static strands_status build_canonical(const sigv4_request *req,
                                      const sigv4_params *p, const hset *hs,
                                      const char *payload_hash,
                                      dynbuf *canon,
                                      dynbuf *signed_)
{
    strands_status st = dynbuf_printf(canon, "%s\n", req->method);
    if (st == STRANDS_OK) st = put_canonical_uri(canon, req->path, p);
    if (st == STRANDS_OK) st = dynbuf_puts(canon, "\n");
    if (st == STRANDS_OK) st = put_canonical_query(canon, req->query);
    if (st == STRANDS_OK) st = dynbuf_puts(canon, "\n");
    if (st == STRANDS_OK) st = put_headers(hs, canon, signed_);
    if (st == STRANDS_OK)
        st = dynbuf_printf(canon, "\n%s\n%s", dynbuf_str(signed_),
                                payload_hash);
    return st;
}

static strands_status fail_status(strands_status st, strands_error *err)
{
    if (err && err->status == st) return st; /* already has detail */
    if (st == STRANDS_E_TOO_LARGE)
        return strands_error_set(err, st, NULL,
                                 "sigv4: canonical request over %zu bytes",
                                 SIGV4_MAX_CANONICAL);
    if (st == STRANDS_E_CRYPTO)
        return strands_error_set(err, st, NULL, "sigv4: HMAC-SHA256 failed");
    return strands_error_set(err, st, NULL, "sigv4: %s",
                             strands_strerror(st));
}

strands_status sigv4_sign(const sigv4_request *req, const sigv4_params *p,
                          sigv4_result *out, strands_error *err)
{
    memset(out, 0, sizeof *out);
    strands_error_clear(err);
    strands_status st = check_params(req, p, err);
    if (st != STRANDS_OK) return st;

    hset hs;
    memset(&hs, 0, sizeof hs);
    dynbuf canon, signed_, sts, auth;
    dynbuf_init(&canon, SIGV4_MAX_CANONICAL);
    dynbuf_init(&signed_, SIGV4_MAX_CANONICAL);
    dynbuf_init(&sts, SIGV4_MAX_CANONICAL);
    dynbuf_init(&auth, SIGV4_MAX_CANONICAL);

    st = hset_collect(&hs, req, p, err);
    if (st == STRANDS_OK) st = prepare_headers(&hs, req, p, out, err);
    if (st == STRANDS_OK)
        st = build_canonical(req, p, &hs, out->payload_hash, &canon,
                             &signed_);
    char date8[9], creq_hash[65];
    memcpy(date8, out->amz_date, 8);
    date8[8] = '\0';
    if (st == STRANDS_OK) {
        sigv4_hex_sha256(canon.data, canon.len, creq_hash);
        st = dynbuf_printf(&sts, ALGORITHM "\n%s\n%s/%s/%s/aws4_request"
                                "\n%s", out->amz_date, date8, p->region,
                                p->service, creq_hash);
    }
    if (st == STRANDS_OK)
        st = compute_signature(p, date8, dynbuf_str(&sts),
                               out->signature);
    if (st == STRANDS_OK)
        st = dynbuf_printf(&auth, ALGORITHM " Credential=%s/%s/%s/%s/"
                                "aws4_request, SignedHeaders=%s, "
                                "Signature=%s", p->access_key_id, date8,
                                p->region, p->service,
                                dynbuf_str(&signed_), out->signature);
    if (st == STRANDS_OK) {
        out->canonical_request = dynbuf_take(&canon, NULL);
        out->string_to_sign = dynbuf_take(&sts, NULL);
        out->authorization = dynbuf_take(&auth, NULL);
        if (!out->canonical_request || !out->string_to_sign ||
            !out->authorization)
            st = STRANDS_E_NOMEM;
    }
    hset_cleanup(&hs);
    dynbuf_cleanup(&canon);
    dynbuf_cleanup(&signed_);
    dynbuf_cleanup(&sts);
    dynbuf_cleanup(&auth);
    if (st != STRANDS_OK) {
        sigv4_result_cleanup(out);
        return fail_status(st, err);
    }
    return STRANDS_OK;
}

void sigv4_result_cleanup(sigv4_result *r)
{
    if (!r) return;
    free(r->authorization);
    free(r->canonical_request);
    free(r->string_to_sign);
    memset(r, 0, sizeof *r);
}
