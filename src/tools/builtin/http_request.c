/* Built-in tool `http_request`: one HTTP(S) request (method, url, headers,
 * body) answered as [{"json": {status, url, redirects, headers, body,
 * body_encoding, body_bytes}}]. SSRF protection: every socket curl opens
 * goes through CURLOPT_OPENSOCKETFUNCTION, which judges the RESOLVED
 * address it is about to connect to (addr_policy.h) before creating the
 * socket, so what is checked is what is connected to (no DNS rebinding
 * window, every literal spelling of an address judged by its bytes).
 * Proxies are off, only http/https are spoken, and redirects are followed
 * here (at most 5), each hop a new check of its host against the allow
 * list and of every new connection's address. A fresh curl easy handle
 * per call: no state is shared between calls.                           */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include <curl/curl.h>

#include "core/buf.h"
#include "net/base64.h"
#include "strands/clock.h"
#include "tools/builtin/addr_policy.h"
#include "tools/builtin/builtin.h"

#define HR_MAX_REDIRECTS 5
#define HR_MAX_URL 8192                 /* bytes of a URL */
#define HR_MAX_REQ_HEADERS 64           /* request headers */
#define HR_MAX_HEADER_NAME 256          /* bytes of one header name */
#define HR_MAX_HEADER_VALUE 8192        /* bytes of one header value */
#define HR_MAX_REQ_BODY (1024 * 1024)   /* bytes of the request body */
#define HR_MAX_RESP_HEADERS 100         /* response headers reported */
#define HR_MAX_RESP_HEADER_BYTES 65536  /* their names and values */

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static void global_init(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }

/* The state of one call, shared with curl's callbacks. */
typedef struct hr_call {
    const strands_tool_context *ctx;
    addr_policy *policy;
    int host_allowed;      /* the current hop's host is a listed name */
    char refusal[256];     /* the first refused address, and why */
    dynbuf body;           /* the current hop's response body */
    int too_big;           /* the body passed the cap */
    int oom;
    int cancelled;
} hr_call;

/* ---- curl callbacks ----------------------------------------------------- */

/* Every socket curl connects with is made here, after the address check. */
static curl_socket_t open_socket(void *user, curlsocktype purpose,
                                 struct curl_sockaddr *a)
{
    hr_call *c = user;
    addr_ip ip;
    char why[200];
    if (purpose != CURLSOCKTYPE_IPCXN ||
        addr_ip_from_sockaddr(&a->addr, a->addrlen, &ip) != 0) {
        if (!c->refusal[0])
            snprintf(c->refusal, sizeof c->refusal,
                     "refused: not an IPv4 or IPv6 connection");
        return CURL_SOCKET_BAD;
    }
    if (!c->host_allowed &&
        !addr_policy_check(c->policy, NULL, &ip, why, sizeof why)) {
        if (!c->refusal[0])
            snprintf(c->refusal, sizeof c->refusal,
                     "refused: %s; add it to HTTP_REQUEST_ALLOW to allow it",
                     why);
        return CURL_SOCKET_BAD;
    }
    return socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
}

static size_t on_body(char *p, size_t size, size_t n, void *user)
{
    hr_call *c = user;
    size_t len = size * n;
    strands_status st = dynbuf_append(&c->body, p, len);
    if (st == STRANDS_E_TOO_LARGE) c->too_big = 1;
    else if (st != STRANDS_OK) c->oom = 1;
    return st == STRANDS_OK ? len : 0;
}

static int on_progress(void *user, curl_off_t dltotal, curl_off_t dlnow,
                       curl_off_t ultotal, curl_off_t ulnow)
{
    (void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
    hr_call *c = user;
    if (c->ctx && c->ctx->cancelled && atomic_load(c->ctx->cancelled)) {
        c->cancelled = 1;
        return 1;
    }
    return 0;
}

/* ---- input ---------------------------------------------------------------- */

static const char *const methods[] = {"GET",    "HEAD",   "POST", "PUT",
                                      "PATCH",  "DELETE", "OPTIONS"};

/* RFC 9110 token characters. */
static int is_tchar(unsigned char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
           (ch >= '0' && ch <= '9') ||
           (ch && strchr("!#$%&'*+-.^_`|~", ch) != NULL);
}

/* Headers a redirect to another origin must not carry. */
static int is_credential_header(const char *name)
{
    return !strcasecmp(name, "Authorization") ||
           !strcasecmp(name, "Proxy-Authorization") ||
           !strcasecmp(name, "Cookie");
}

/* Builds the curl header list from the input's "headers" object (NULL:
 * none); without_credentials drops is_credential_header names. On error
 * returns -1 with err set; *out is NULL when there are no headers.      */
static int build_headers(const json_t *headers, int without_credentials,
                         struct curl_slist **out, strands_error *err)
{
    *out = NULL;
    if (!headers) return 0;
    if (!json_is_object(headers)) {
        strands_error_set(err, STRANDS_E_INVALID, NULL,
                          "\"headers\" must be an object of strings");
        return -1;
    }
    if (json_object_size(headers) > HR_MAX_REQ_HEADERS) {
        strands_error_set(err, STRANDS_E_INVALID, NULL,
                          "too many headers (%zu, maximum %d)",
                          json_object_size(headers), HR_MAX_REQ_HEADERS);
        return -1;
    }
    const char *name;
    const json_t *value;
    struct curl_slist *list = NULL;
    json_object_foreach((json_t *)headers, name, value) {
        size_t nlen = strlen(name);
        if (!nlen || nlen > HR_MAX_HEADER_NAME) {
            strands_error_set(err, STRANDS_E_INVALID, NULL,
                              "header names must have 1..%d characters",
                              HR_MAX_HEADER_NAME);
            goto fail;
        }
        for (size_t i = 0; i < nlen; i++)
            if (!is_tchar((unsigned char)name[i])) {
                strands_error_set(err, STRANDS_E_INVALID, NULL,
                                  "header name '%.64s' has a character "
                                  "not allowed in a header name",
                                  name);
                goto fail;
            }
        if (!json_is_string(value)) {
            strands_error_set(err, STRANDS_E_INVALID, NULL,
                              "header '%.64s' must be a string", name);
            goto fail;
        }
        const char *v = json_string_value(value);
        size_t vlen = json_string_length(value);
        if (vlen > HR_MAX_HEADER_VALUE) {
            strands_error_set(err, STRANDS_E_INVALID, NULL,
                              "header '%.64s' is longer than %d bytes", name,
                              HR_MAX_HEADER_VALUE);
            goto fail;
        }
        for (size_t i = 0; i < vlen; i++)
            if (v[i] == '\r' || v[i] == '\n' || v[i] == '\0') {
                strands_error_set(err, STRANDS_E_INVALID, NULL,
                                  "header '%.64s' contains CR, LF or NUL",
                                  name);
                goto fail;
            }
        if (!strcasecmp(name, "Content-Length") ||
            !strcasecmp(name, "Transfer-Encoding")) {
            strands_error_set(err, STRANDS_E_INVALID, NULL,
                              "header '%s' is set from the body; leave it "
                              "out", name);
            goto fail;
        }
        if (without_credentials && is_credential_header(name)) continue;
        /* "Name;" is curl's way to send an empty header ("Name:" would
         * remove it). */
        size_t size = nlen + vlen + 3;
        char *line = malloc(size);
        if (!line) goto oom;
        if (vlen)
            snprintf(line, size, "%s: %s", name, v);
        else
            snprintf(line, size, "%s;", name);
        struct curl_slist *grown = curl_slist_append(list, line);
        free(line);
        if (!grown) goto oom;
        list = grown;
    }
    *out = list;
    return 0;
oom:
    strands_error_set(err, STRANDS_E_NOMEM, NULL, "out of memory");
fail:
    curl_slist_free_all(list);
    return -1;
}

/* Parses url into a new CURLU (caller frees); only http and https. */
static CURLU *parse_url(const char *url, const char *what,
                        strands_error *err)
{
    if (strlen(url) > HR_MAX_URL) {
        strands_error_set(err, STRANDS_E_INVALID, NULL,
                          "%s is longer than %d bytes", what, HR_MAX_URL);
        return NULL;
    }
    CURLU *u = curl_url();
    if (!u) {
        strands_error_set(err, STRANDS_E_NOMEM, NULL, "out of memory");
        return NULL;
    }
    CURLUcode uc = curl_url_set(u, CURLUPART_URL, url, 0);
    char *scheme = NULL;
    if (uc == CURLUE_OK) uc = curl_url_get(u, CURLUPART_SCHEME, &scheme, 0);
    if (uc != CURLUE_OK) {
        strands_error_set(err, STRANDS_E_INVALID, NULL,
                          "%s is not a valid absolute URL (%s)", what,
                          curl_url_strerror(uc));
        curl_url_cleanup(u);
        return NULL;
    }
    int ok = !strcmp(scheme, "http") || !strcmp(scheme, "https");
    curl_free(scheme);
    if (!ok) {
        strands_error_set(err, STRANDS_E_INVALID, NULL,
                          "%s must be an http:// or https:// URL", what);
        curl_url_cleanup(u);
        return NULL;
    }
    return u;
}

/* Part of u as a new curl string, or NULL. */
static char *url_part(CURLU *u, CURLUPart part, unsigned flags)
{
    char *s = NULL;
    if (curl_url_get(u, part, &s, flags) != CURLUE_OK) return NULL;
    return s;
}

/* Whether a and b have the same scheme, host and port. */
static int same_origin(CURLU *a, CURLU *b)
{
    static const CURLUPart parts[] = {CURLUPART_SCHEME, CURLUPART_HOST,
                                      CURLUPART_PORT};
    int same = 1;
    for (size_t i = 0; same && i < 3; i++) {
        char *x = url_part(a, parts[i], CURLU_DEFAULT_PORT);
        char *y = url_part(b, parts[i], CURLU_DEFAULT_PORT);
        same = x && y && !strcasecmp(x, y);
        curl_free(x);
        curl_free(y);
    }
    return same;
}

/* ---- the request ---------------------------------------------------------- */

/* Sets the method and body of the next transfer (a POST, PUT or PATCH
 * without a body sends an empty one, with Content-Length: 0). */
static void set_method(CURL *h, const char *method, const char *body,
                       size_t body_len)
{
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, (char *)NULL);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)-1);
    curl_easy_setopt(h, CURLOPT_HTTPGET, 1L); /* also clears NOBODY */
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, (char *)NULL);
    if (!strcmp(method, "HEAD")) {
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
        return;
    }
    if (!body && (!strcmp(method, "POST") || !strcmp(method, "PUT") ||
                  !strcmp(method, "PATCH"))) {
        body = "";
        body_len = 0;
    }
    if (body) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    }
    if (strcmp(method, "GET") || body)
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
}

/* The options every hop shares. */
static void set_common(CURL *h, hr_call *c, char *errbuf, size_t max_bytes)
{
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_PROXY, "");
    curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, open_socket);
    curl_easy_setopt(h, CURLOPT_OPENSOCKETDATA, c);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, c);
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, c);
    curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)max_bytes);
    curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(h, CURLOPT_USERAGENT,
                     "strands-runtime/" STRANDS_VERSION " http_request");
}

/* The response's headers as {lower-case name: value}; repeated names are
 * joined with ", ". Sets *truncated when the caps cut some off.        */
static json_t *response_headers(CURL *h, int *truncated)
{
    json_t *obj = json_object();
    struct curl_header *prev = NULL, *hd;
    size_t count = 0, bytes = 0;
    *truncated = 0;
    while (obj && (hd = curl_easy_nextheader(h, CURLH_HEADER, -1, prev))) {
        prev = hd;
        size_t nlen = strlen(hd->name), vlen = strlen(hd->value);
        if (count >= HR_MAX_RESP_HEADERS ||
            bytes + nlen + vlen > HR_MAX_RESP_HEADER_BYTES) {
            *truncated = 1;
            break;
        }
        char name[HR_MAX_HEADER_NAME + 1];
        if (nlen > HR_MAX_HEADER_NAME) {
            *truncated = 1;
            continue;
        }
        for (size_t i = 0; i <= nlen; i++)
            name[i] = (char)((hd->name[i] >= 'A' && hd->name[i] <= 'Z')
                                 ? hd->name[i] + 32
                                 : hd->name[i]);
        const json_t *old = json_object_get(obj, name);
        json_t *v;
        if (old) {
            size_t olen = json_string_length(old);
            char *joined = malloc(olen + 2 + vlen + 1);
            if (!joined) {
                json_decref(obj);
                return NULL;
            }
            memcpy(joined, json_string_value(old), olen);
            memcpy(joined + olen, ", ", 2);
            memcpy(joined + olen + 2, hd->value, vlen + 1);
            v = json_stringn(joined, olen + 2 + vlen);
            free(joined);
        } else {
            v = json_stringn(hd->value, vlen);
        }
        /* A value that is not UTF-8 is left out rather than mangled. */
        if (!v) {
            *truncated = 1;
            continue;
        }
        if (json_object_set_new(obj, name, v)) {
            json_decref(obj);
            return NULL;
        }
        count += !old;
        bytes += nlen + vlen;
    }
    return obj;
}

/* The answer of the last hop as the tool's content. */
static strands_status make_result(CURL *h, CURLU *u, hr_call *c,
                                  int redirects, json_t **content_out,
                                  strands_error *err)
{
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    int truncated = 0;
    json_t *headers = response_headers(h, &truncated);
    size_t len = c->body.len;
    const char *data = dynbuf_str(&c->body);
    json_t *body = NULL;
    const char *encoding = "text";
    if (!memchr(data, '\0', len)) body = json_stringn(data, len);
    if (!body) { /* binary, or text that is not UTF-8 */
        char *b64 = net_base64_encode(data, len, NULL);
        body = b64 ? json_string(b64) : NULL;
        free(b64);
        encoding = "base64";
    }
    /* The final URL without user information. */
    CURLU *shown = curl_url_dup(u);
    char *url = NULL;
    if (shown) {
        curl_url_set(shown, CURLUPART_USER, NULL, 0);
        curl_url_set(shown, CURLUPART_PASSWORD, NULL, 0);
        url = url_part(shown, CURLUPART_URL, 0);
        curl_url_cleanup(shown);
    }
    json_t *obj = NULL;
    if (headers && body && url) {
        obj = json_pack("{s:i, s:s, s:i, s:O, s:O, s:s, s:I}", "status",
                        (int)status, "url", url, "redirects", redirects,
                        "headers", headers, "body", body, "body_encoding",
                        encoding, "body_bytes", (json_int_t)len);
        if (obj && truncated &&
            json_object_set_new(obj, "headers_truncated", json_true())) {
            json_decref(obj);
            obj = NULL;
        }
    }
    curl_free(url);
    json_decref(headers);
    json_decref(body);
    *content_out = obj ? json_pack("[{s:o}]", "json", obj) : NULL;
    if (!*content_out)
        return strands_error_set(err, STRANDS_E_NOMEM, NULL,
                                 "out of memory building the result");
    return STRANDS_OK;
}

/* Turns a failed transfer into the tool's error. */
static strands_status transfer_error(const hr_call *c, CURLcode rc,
                                     const char *errbuf, size_t max_bytes,
                                     int limit_s, int by_deadline,
                                     strands_error *err)
{
    if (c->too_big || rc == CURLE_FILESIZE_EXCEEDED)
        return strands_error_set(err, STRANDS_E_TOO_LARGE, NULL,
                                 "response body larger than %zu bytes "
                                 "(HTTP_REQUEST_MAX_BYTES)", max_bytes);
    if (c->oom) return strands_error_set(err, STRANDS_E_NOMEM, NULL, "OOM");
    if (c->cancelled)
        return strands_error_set(err, STRANDS_E_CANCELLED, NULL,
                                 "request cancelled");
    if (c->refusal[0] && rc == CURLE_COULDNT_CONNECT)
        return strands_error_set(err, STRANDS_E_INVALID, NULL, "%s",
                                 c->refusal);
    if (rc == CURLE_OPERATION_TIMEDOUT) {
        if (by_deadline)
            return strands_error_set(err, STRANDS_E_TIMEOUT, NULL,
                                     "request stopped at the tool call's "
                                     "deadline");
        return strands_error_set(err, STRANDS_E_TIMEOUT, NULL,
                                 "request timed out after %d s "
                                 "(HTTP_REQUEST_TIMEOUT_SECONDS)", limit_s);
    }
    return strands_error_set(err, STRANDS_E_NETWORK, NULL,
                             "request failed: %s", errbuf[0]
                                                      ? errbuf
                                                      : curl_easy_strerror(rc));
}

static strands_status http_request_run(void *user, const json_t *input,
                                       const strands_tool_context *ctx,
                                       json_t **content_out,
                                       strands_error *err)
{
    builtin_options defaults;
    const builtin_options *o = user;
    if (!o) {
        builtin_options_default(&defaults);
        o = &defaults;
    }
    if (!json_is_object(input))
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "input must be a JSON object with a "
                                 "\"url\" string");
    const json_t *jurl = json_object_get(input, "url");
    const json_t *jmethod = json_object_get(input, "method");
    const json_t *jheaders = json_object_get(input, "headers");
    const json_t *jbody = json_object_get(input, "body");
    if (!json_is_string(jurl))
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "\"url\" is required and must be a string");
    const char *method = "GET";
    if (jmethod) {
        method = NULL;
        for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
            if (json_is_string(jmethod) &&
                !strcmp(json_string_value(jmethod), methods[i]))
                method = methods[i];
        if (!method)
            return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                     "\"method\" must be one of GET, HEAD, "
                                     "POST, PUT, PATCH, DELETE, OPTIONS");
    }
    const char *body = NULL;
    size_t body_len = 0;
    if (jbody) {
        if (!json_is_string(jbody))
            return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                     "\"body\" must be a string");
        body = json_string_value(jbody);
        body_len = json_string_length(jbody);
        if (body_len > HR_MAX_REQ_BODY)
            return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                     "\"body\" is longer than %d bytes",
                                     HR_MAX_REQ_BODY);
        if (!strcmp(method, "HEAD"))
            return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                     "a HEAD request has no body");
    }
    struct curl_slist *headers = NULL;
    if (build_headers(jheaders, 0, &headers, err)) return err->status;

    /* The time limit: ours, or the call's deadline when sooner. */
    int64_t now = strands_clock_mono_ms();
    int64_t end = now + (int64_t)o->http_timeout_seconds * 1000;
    int by_deadline = 0;
    if (ctx && ctx->deadline_ms && ctx->deadline_ms < end) {
        end = ctx->deadline_ms;
        by_deadline = 1;
    }

    pthread_once(&global_once, global_init);
    hr_call c = {.ctx = ctx};
    dynbuf_init(&c.body, o->http_max_bytes);
    char errbuf[CURL_ERROR_SIZE] = "";
    strands_status st = addr_policy_parse(o->http_allow, &c.policy, err);
    CURLU *u = NULL;
    CURL *h = NULL;
    if (st != STRANDS_OK) goto done;
    u = parse_url(json_string_value(jurl), "\"url\"", err);
    if (!u) {
        st = err->status;
        goto done;
    }
    h = curl_easy_init();
    if (!h) {
        st = strands_error_set(err, STRANDS_E_NOMEM, NULL,
                               "could not make a curl handle");
        goto done;
    }
    set_common(h, &c, errbuf, o->http_max_bytes);
    for (int hop = 0;; hop++) {
        char *host = url_part(u, CURLUPART_HOST, 0);
        c.host_allowed = addr_policy_allows_host(c.policy, host);
        curl_free(host);
        int64_t left = end - strands_clock_mono_ms();
        c.refusal[0] = '\0';
        if (left <= 0) {
            st = transfer_error(&c, CURLE_OPERATION_TIMEDOUT, "",
                                o->http_max_bytes, o->http_timeout_seconds,
                                by_deadline, err);
            goto done;
        }
        curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)left);
        curl_easy_setopt(h, CURLOPT_CURLU, u);
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
        set_method(h, method, body, body_len);
        dynbuf_cleanup(&c.body);
        errbuf[0] = '\0';
        CURLcode rc = curl_easy_perform(h);
        if (rc != CURLE_OK) {
            st = transfer_error(&c, rc, errbuf, o->http_max_bytes,
                                o->http_timeout_seconds, by_deadline, err);
            goto done;
        }
        long status = 0;
        char *location = NULL;
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
        curl_easy_getinfo(h, CURLINFO_REDIRECT_URL, &location);
        int redirect = (status == 301 || status == 302 || status == 303 ||
                        status == 307 || status == 308) && location;
        if (!redirect) {
            st = make_result(h, u, &c, hop, content_out, err);
            goto done;
        }
        if (hop == HR_MAX_REDIRECTS) {
            st = strands_error_set(err, STRANDS_E_INVALID, NULL,
                                   "too many redirects (maximum %d)",
                                   HR_MAX_REDIRECTS);
            goto done;
        }
        CURLU *next = parse_url(location, "redirect location", err);
        if (!next) {
            st = err->status;
            goto done;
        }
        if (!same_origin(u, next)) {
            /* Credentials stay with the origin they were meant for. */
            struct curl_slist *fewer = NULL;
            if (build_headers(jheaders, 1, &fewer, err)) {
                curl_url_cleanup(next);
                st = err->status;
                goto done;
            }
            curl_slist_free_all(headers);
            headers = fewer;
        }
        curl_easy_setopt(h, CURLOPT_CURLU, next); /* before u goes */
        curl_url_cleanup(u);
        u = next;
        /* 303, and 301/302 after POST, continue as GET without a body
         * (what browsers and curl do); 307 and 308 repeat the request. */
        if ((status == 303 && strcmp(method, "HEAD")) ||
            ((status == 301 || status == 302) && !strcmp(method, "POST"))) {
            method = "GET";
            body = NULL;
            body_len = 0;
        }
    }
done:
    if (h) curl_easy_cleanup(h);
    curl_url_cleanup(u);
    curl_slist_free_all(headers);
    dynbuf_cleanup(&c.body);
    addr_policy_free(c.policy);
    return st;
}

const strands_tool_def builtin_http_request = {
    .name = "http_request",
    .description =
        "Makes one HTTP or HTTPS request and returns the response as JSON: "
        "status, url (after redirects), redirects, headers (lower-case "
        "names), body and body_encoding (\"text\" for UTF-8 text, else "
        "\"base64\"), body_bytes. Follows up to 5 redirects. Responses "
        "larger than the configured limit (default 1 MiB) are an error. "
        "Private, loopback, link-local, cloud-metadata and other "
        "non-public addresses are refused unless the operator allowed "
        "them.",
    .input_schema_json =
        "{\"type\":\"object\",\"properties\":{"
        "\"method\":{\"type\":\"string\",\"enum\":[\"GET\",\"HEAD\","
        "\"POST\",\"PUT\",\"PATCH\",\"DELETE\",\"OPTIONS\"],"
        "\"description\":\"HTTP method, default GET\"},"
        "\"url\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":8192,"
        "\"description\":\"absolute http:// or https:// URL\"},"
        "\"headers\":{\"type\":\"object\",\"additionalProperties\":{"
        "\"type\":\"string\"},\"description\":\"request headers, name to "
        "value\"},"
        "\"body\":{\"type\":\"string\",\"maxLength\":1048576,"
        "\"description\":\"request body (text)\"}},"
        "\"required\":[\"url\"],\"additionalProperties\":false}",
    .run = http_request_run,
};
