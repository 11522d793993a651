/* libcurl-backed HTTP client with a pool of reusable easy handles (each
 * keeps its own connection cache, so keep-alive and TLS sessions survive
 * across requests), and the connect / read (silence) / total timeouts.
 * A pooled connection that died meanwhile (the peer closed it, or the
 * process was restored from a snapshot) is replaced by libcurl on reuse;
 * a forked child never reuses its parent's pooled connections (their
 * sockets and TLS state are shared with the parent).                    */
#include <ctype.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <curl/curl.h>

#include "net/http_client.h"
#include "strands/clock.h"

struct http_client {
    pthread_mutex_t lock;
    CURL **idle;
    size_t n_idle;
    size_t max_idle;
    pid_t pid;               /* the process the pooled handles belong to */
};

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static void global_init(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }

http_client *http_client_new(size_t max_idle)
{
    http_client *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->max_idle = max_idle ? max_idle : 1;
    c->idle = calloc(c->max_idle, sizeof *c->idle);
    if (!c->idle) {
        free(c);
        return NULL;
    }
    pthread_mutex_init(&c->lock, NULL);
    c->pid = getpid();
    return c;
}

/* Under c->lock: in a forked child, forget the parent's handles without
 * closing them (a TLS close_notify or FIN on the shared socket would
 * break the parent's connection). Their memory stays with the child.   */
static void forget_if_forked(http_client *c)
{
    pid_t now = getpid();
    if (c->pid == now) return;
    c->n_idle = 0;
    c->pid = now;
}

void http_client_free(http_client *c)
{
    if (!c) return;
    for (size_t i = 0; i < c->n_idle; i++) curl_easy_cleanup(c->idle[i]);
    free(c->idle);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

static CURL *acquire(http_client *c)
{
    /* TLS and curl are initialised on first use, so a runtime that has not
     * called AWS yet stays small and starts fast. */
    pthread_once(&global_once, global_init);
    CURL *h = NULL;
    pthread_mutex_lock(&c->lock);
    forget_if_forked(c);
    if (c->n_idle) h = c->idle[--c->n_idle];
    pthread_mutex_unlock(&c->lock);
    if (h) {
        curl_easy_reset(h); /* keeps the connection cache */
        return h;
    }
    return curl_easy_init();
}

static void release(http_client *c, CURL *h, int reusable)
{
    if (reusable) {
        pthread_mutex_lock(&c->lock);
        forget_if_forked(c);
        if (c->n_idle < c->max_idle) {
            c->idle[c->n_idle++] = h;
            h = NULL;
        }
        pthread_mutex_unlock(&c->lock);
    }
    if (h) curl_easy_cleanup(h);
}

typedef struct xfer {
    const http_request *req;
    http_response *resp;
    int aborted_by_callback;
    int too_large;
    int read_timed_out;
    int connected;           /* the prereq callback ran */
    int retry_ms_given;      /* retry-after-ms seen: it beats Retry-After */
    int64_t last_activity;   /* monotonic ms of the last byte either way */
    curl_off_t last_dl, last_ul;
} xfer;

/* Any received byte (header or body) resets the silence clock. */
static void touch(xfer *x)
{
    x->last_activity = strands_clock_mono_ms();
}

static size_t on_body(char *p, size_t size, size_t n, void *user)
{
    xfer *x = user;
    size_t len = size * n;
    touch(x);
    if (x->req->on_data && x->resp->status >= 200 && x->resp->status < 300) {
        if (x->req->on_data(x->req->data_user, p, len)) {
            x->aborted_by_callback = 1;
            return 0;
        }
        return len;
    }
    if (dynbuf_append(&x->resp->body, p, len) != STRANDS_OK) {
        x->too_large = 1;
        return 0;
    }
    return len;
}

/* Copies a header value (trimmed) into dst when the name matches. */
static void header_value(const char *line, size_t len, const char *name,
                         char *dst, size_t dstsz)
{
    size_t nlen = strlen(name);
    if (len <= nlen || line[nlen] != ':' || strncasecmp(line, name, nlen))
        return;
    const char *v = line + nlen + 1, *end = line + len;
    while (v < end && isspace((unsigned char)*v)) v++;
    while (end > v && isspace((unsigned char)end[-1])) end--;
    size_t vlen = (size_t)(end - v);
    if (vlen >= dstsz) vlen = dstsz - 1;
    memcpy(dst, v, vlen);
    dst[vlen] = '\0';
}

/* Splits "Name: value\r\n" and hands both (trimmed) to the caller's
 * on_header hook; lines without a colon (the blank end line) are not. */
static void report_header(const http_request *req, const char *line,
                          size_t len)
{
    const char *colon = memchr(line, ':', len);
    if (!colon || colon == line) return;
    const char *name = line, *name_end = colon;
    while (name_end > name && isspace((unsigned char)name_end[-1]))
        name_end--;
    const char *v = colon + 1, *end = line + len;
    while (v < end && isspace((unsigned char)*v)) v++;
    while (end > v && isspace((unsigned char)end[-1])) end--;
    req->on_header(req->header_user, name, (size_t)(name_end - name), v,
                   (size_t)(end - v));
}

/* A retry-after-ms value: digits, optionally a fraction (dropped);
 * capped at an hour. -1 when it is not a number. */
static long retry_ms_value(const char *v)
{
    long ms = 0;
    size_t i = 0;
    for (; v[i] >= '0' && v[i] <= '9'; i++)
        if (ms < 3600000L) ms = ms * 10 + (v[i] - '0');
    if (!i) return -1;
    if (v[i] == '.')
        for (i++; v[i] >= '0' && v[i] <= '9'; i++) {
        }
    if (v[i]) return -1;
    return ms > 3600000L ? 3600000L : ms;
}

static size_t on_header(char *p, size_t size, size_t n, void *user)
{
    xfer *x = user;
    size_t len = size * n;
    http_response *r = x->resp;
    touch(x);
    if (len > 5 && !strncmp(p, "HTTP/", 5)) {
        /* Status line: a new response (e.g. after 100-continue) starts. */
        const char *sp = memchr(p, ' ', len);
        r->status = sp ? strtol(sp + 1, NULL, 10) : 0;
        r->error_type[0] = r->request_id[0] = r->content_type[0] = '\0';
        r->etag[0] = '\0';
        r->retry_after_s = -1;
        r->retry_after_ms = -1;
        x->retry_ms_given = 0;
        return len;
    }
    if (x->req->on_header && r->status >= 200)
        report_header(x->req, p, len);
    char ra[32] = "";
    header_value(p, len, "retry-after", ra, sizeof ra);
    if (ra[0]) {
        char *end = NULL;
        long v = strtol(ra, &end, 10);
        if (end != ra && !*end && v >= 0) {
            r->retry_after_s = v > 3600 ? 3600 : v;
            if (!x->retry_ms_given) r->retry_after_ms = r->retry_after_s * 1000;
        }
    }
    ra[0] = '\0';
    header_value(p, len, "retry-after-ms", ra, sizeof ra);
    long ms = ra[0] ? retry_ms_value(ra) : -1;
    if (ms >= 0) {
        r->retry_after_ms = ms;
        x->retry_ms_given = 1;
    }
    header_value(p, len, "x-amzn-ErrorType", r->error_type,
                 sizeof r->error_type);
    if (!r->request_id[0]) {
        header_value(p, len, "x-amzn-RequestId", r->request_id,
                     sizeof r->request_id);
        header_value(p, len, "x-amz-request-id", r->request_id,
                     sizeof r->request_id);
    }
    header_value(p, len, "content-type", r->content_type,
                 sizeof r->content_type);
    header_value(p, len, "etag", r->etag, sizeof r->etag);
    return len;
}

/* Called once the connection is up (new or reused), before the request
 * is sent: the silence clock starts here, not during connect. */
static int on_prereq(void *user, char *conn_primary_ip, char *conn_local_ip,
                     int conn_primary_port, int conn_local_port)
{
    (void)conn_primary_ip; (void)conn_local_ip;
    (void)conn_primary_port; (void)conn_local_port;
    xfer *x = user;
    x->connected = 1;
    touch(x);
    return CURL_PREREQFUNC_OK;
}

/* Cancellation and the read (silence) timeout. libcurl calls this often
 * while bytes flow and about once a second while the transfer is idle. */
static int on_progress(void *user, curl_off_t dltotal, curl_off_t dlnow,
                       curl_off_t ultotal, curl_off_t ulnow)
{
    (void)dltotal; (void)ultotal;
    xfer *x = user;
    if (x->req->cancelled && atomic_load(x->req->cancelled)) {
        x->aborted_by_callback = 1;
        return 1;
    }
    if (dlnow != x->last_dl || ulnow != x->last_ul) {
        x->last_dl = dlnow;
        x->last_ul = ulnow;
        touch(x);
    }
    if (x->connected && x->req->read_timeout_ms > 0 &&
        strands_clock_mono_ms() - x->last_activity >
            x->req->read_timeout_ms) {
        x->read_timed_out = 1;
        return 1;
    }
    return 0;
}

static strands_status map_curl_error(CURLcode rc, const xfer *x,
                                     const char *detail, strands_error *err)
{
    if (x->read_timed_out)
        return strands_error_set(err, STRANDS_E_TIMEOUT, "ReadTimeout",
                                 "no data received for %ld ms (read "
                                 "timeout)", x->req->read_timeout_ms);
    if (x->aborted_by_callback)
        return strands_error_set(err, STRANDS_E_CANCELLED, "Cancelled",
                                 "request cancelled");
    if (x->too_large)
        return strands_error_set(err, STRANDS_E_TOO_LARGE, NULL,
                                 "response body exceeds %zu bytes",
                                 x->resp->body.max);
    const char *msg = detail[0] ? detail : curl_easy_strerror(rc);
    if (rc == CURLE_OUT_OF_MEMORY)
        return strands_error_set(err, STRANDS_E_NOMEM, NULL,
                                 "out of memory in the HTTP client: %s",
                                 msg);
    if (rc == CURLE_OPERATION_TIMEDOUT && !x->connected)
        return strands_error_set(err, STRANDS_E_TIMEOUT, "ConnectTimeout",
                                 "connect timed out: %s", msg);
    if (rc == CURLE_OPERATION_TIMEDOUT)
        return strands_error_set(err, STRANDS_E_TIMEOUT, "RequestTimeout",
                                 "request timed out: %s", msg);
    return strands_error_set(err, STRANDS_E_NETWORK, "NetworkError",
                             "connection error: %s", msg);
}

/* The request's header list plus the two suppressions; 0 on OOM (the
 * partial list is freed, *out is NULL). */
static int build_headers(const http_request *req, struct curl_slist **out)
{
    static const char *const extra[] = {"Expect:", "Accept:"};
    struct curl_slist *hdrs = NULL;
    *out = NULL;
    for (size_t i = 0; i < req->n_headers + 2; i++) {
        const char *line = i < req->n_headers ? req->headers[i]
                                              : extra[i - req->n_headers];
        struct curl_slist *n = curl_slist_append(hdrs, line);
        if (!n) {
            curl_slist_free_all(hdrs);
            return 0;
        }
        hdrs = n;
    }
    *out = hdrs;
    return 1;
}

strands_status http_client_send(http_client *c, const http_request *req,
                                http_response *resp, strands_error *err)
{
    memset(resp, 0, sizeof *resp);
    resp->retry_after_s = -1;
    resp->retry_after_ms = -1;
    dynbuf_init(&resp->body,
                     req->max_response ? req->max_response : 64u << 20);
    /* curl adds Expect and Accept unless told not to; they are not part
     * of the signature, so keep the wire minimal and predictable. Every
     * append is checked: a dropped header would change the request. */
    struct curl_slist *hdrs = NULL;
    if (!build_headers(req, &hdrs))
        return strands_error_set(err, STRANDS_E_NOMEM, NULL,
                                 "out of memory building headers");
    CURL *h = acquire(c);
    if (!h) {
        curl_slist_free_all(hdrs);
        return strands_error_set(err, STRANDS_E_NOMEM, NULL,
                                 "cannot create an HTTP handle");
    }

    xfer x = {.req = req, .resp = resp};
    x.last_activity = strands_clock_mono_ms();
    char detail[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(h, CURLOPT_URL, req->url);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req->method);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    if (req->body || !strcmp(req->method, "POST") ||
        !strcmp(req->method, "PUT")) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, req->body ? req->body : "");
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
                         (curl_off_t)req->body_len);
    }
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &x);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &x);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, &x);
    curl_easy_setopt(h, CURLOPT_PREREQFUNCTION, on_prereq);
    curl_easy_setopt(h, CURLOPT_PREREQDATA, &x);
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, detail);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                     req->connect_timeout_ms ? req->connect_timeout_ms
                                             : 10000L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, req->total_timeout_ms);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    if (req->no_proxy) curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
    /* Small transfer buffers: requests and answers are small JSON, and
     * hundreds of handles may be alive under load. */
    curl_easy_setopt(h, CURLOPT_BUFFERSIZE, 16384L);
    curl_easy_setopt(h, CURLOPT_UPLOAD_BUFFERSIZE, 16384L);

    CURLcode rc = curl_easy_perform(h);
    curl_slist_free_all(hdrs);
    strands_status st = STRANDS_OK;
    if (rc != CURLE_OK) st = map_curl_error(rc, &x, detail, err);
    release(c, h, rc == CURLE_OK);
    if (st != STRANDS_OK) http_response_cleanup(resp);
    return st;
}

void http_response_cleanup(http_response *r)
{
    dynbuf_cleanup(&r->body);
}
