/* Streamable HTTP reply bodies -> JSON-RPC messages (see http_reply.h). */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "mcp/http_reply.h"

#define DEFAULT_MAX_MESSAGE ((size_t)16 << 20)

__attribute__((format(printf, 3, 4)))
static strands_status fail(mcp_http_reply *r, strands_status st,
                           const char *fmt, ...)
{
    if (r->st == STRANDS_OK) {
        char msg[STRANDS_ERROR_MESSAGE_MAX];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        r->st = st;
        strands_error_set(&r->err, st,
                          st == STRANDS_E_PARSE ? "McpBadReply" : NULL, "%s",
                          msg);
    }
    return r->st;
}

/* Hands one message over; notes when it is the response we wait for. */
static void deliver(mcp_http_reply *r, const json_t *msg)
{
    r->delivered++;
    if (r->want_id && !json_object_get(msg, "method") &&
        (json_object_get(msg, "result") || json_object_get(msg, "error"))) {
        const json_t *id = json_object_get(msg, "id");
        if (id && json_equal((json_t *)id, (json_t *)r->want_id))
            r->done = 1;
    }
    r->on_message(r->user, json_incref((json_t *)msg)); /* taken over */
}

/* Parses one JSON text and delivers the object (or each object of a
 * batch array). Blank text delivers nothing when allow_blank.         */
static strands_status deliver_text(mcp_http_reply *r, const char *p,
                                   size_t n, int allow_blank)
{
    size_t i = 0;
    while (i < n && isspace((unsigned char)p[i])) i++;
    if (i == n) {
        if (allow_blank) return STRANDS_OK;
        return fail(r, STRANDS_E_PARSE, "an SSE event with blank data");
    }
    json_error_t jerr;
    json_t *v = json_loadb(p, n, JSON_DECODE_ANY, &jerr);
    if (!v)
        return fail(r, STRANDS_E_PARSE, "the server's reply is not JSON: %s",
                    jerr.text);
    strands_status st = STRANDS_OK;
    if (json_is_object(v)) {
        deliver(r, v);
    } else if (json_is_array(v)) {
        size_t k;
        json_t *e;
        json_array_foreach(v, k, e) {
            if (!json_is_object(e)) {
                st = fail(r, STRANDS_E_PARSE,
                          "the server's reply is a JSON array holding a "
                          "non-object");
                break;
            }
        }
        json_array_foreach(v, k, e) {
            if (st != STRANDS_OK) break;
            deliver(r, e);
        }
    } else {
        st = fail(r, STRANDS_E_PARSE,
                  "the server's reply is not a JSON-RPC message (object)");
    }
    json_decref(v);
    return st;
}

static int on_event(void *user, const net_sse_event *ev)
{
    mcp_http_reply *r = user;
    /* Only "message" events carry JSON-RPC; others are not ours. */
    if (strcmp(ev->type, "message")) return 0;
    if (memchr(ev->data, '\0', ev->data_len)) {
        fail(r, STRANDS_E_PARSE, "an SSE event holding a NUL byte");
        return 1;
    }
    /* An event without data (e.g. a priming event that only sets an id,
     * as 2025-11-25 servers send first) carries no message. */
    if (deliver_text(r, ev->data, ev->data_len, 1) != STRANDS_OK) return 1;
    return r->done; /* our response is in: stop reading */
}

static int is_sse(const char *ct)
{
    static const char sse[] = "text/event-stream";
    if (!ct) return 0;
    while (*ct == ' ' || *ct == '\t') ct++;
    if (strncasecmp(ct, sse, sizeof sse - 1)) return 0;
    char c = ct[sizeof sse - 1];
    return c == '\0' || c == ';' || c == ' ' || c == '\t';
}

strands_status mcp_http_reply_init(mcp_http_reply *r, const char *content_type,
                                   size_t max_message, const json_t *want_id,
                                   mcp_on_message_fn *fn, void *user,
                                   strands_error *err)
{
    memset(r, 0, sizeof *r);
    r->max_message = max_message ? max_message : DEFAULT_MAX_MESSAGE;
    r->on_message = fn;
    r->user = user;
    r->want_id = want_id;
    r->sse = is_sse(content_type);
    dynbuf_init(&r->body, r->max_message);
    if (r->sse) {
        /* One data line may be a whole message. */
        r->dec = net_sse_decoder_new(r->max_message, r->max_message,
                                     on_event, r);
        if (!r->dec)
            return strands_error_set(err, STRANDS_E_NOMEM, NULL,
                                     "out of memory for an SSE decoder");
    }
    return STRANDS_OK;
}

static strands_status report(mcp_http_reply *r, strands_error *err)
{
    if (r->st != STRANDS_OK && err) *err = r->err;
    return r->st;
}

strands_status mcp_http_reply_feed(mcp_http_reply *r, const void *p, size_t n,
                                   strands_error *err)
{
    if (r->st != STRANDS_OK || r->done) return report(r, err);
    if (!r->sse) {
        strands_status st = dynbuf_append(&r->body, p, n);
        if (st == STRANDS_E_TOO_LARGE)
            fail(r, st, "a reply message over %zu bytes", r->max_message);
        else if (st != STRANDS_OK)
            fail(r, st, "out of memory reading a reply");
        if (st != STRANDS_OK) return report(r, err);
        return STRANDS_OK;
    }
    strands_error e;
    strands_status st = net_sse_feed(r->dec, p, n, &e);
    if (st == STRANDS_E_CANCELLED && r->st == STRANDS_OK && r->done)
        return STRANDS_OK; /* we stopped: the response is in */
    if (st == STRANDS_E_TOO_LARGE)
        fail(r, st, "an SSE message over the cap: %s", e.message);
    else if (st != STRANDS_OK && r->st == STRANDS_OK)
        fail(r, st, "%s", e.message);
    return report(r, err);
}

strands_status mcp_http_reply_finish(mcp_http_reply *r, strands_error *err)
{
    if (r->st != STRANDS_OK || r->done) return report(r, err);
    if (r->sse) {
        strands_error e;
        strands_status st = net_sse_finish(r->dec, &e);
        if (st != STRANDS_OK && r->st == STRANDS_OK)
            fail(r, st, "%s", e.message);
        return report(r, err);
    }
    deliver_text(r, dynbuf_str(&r->body), r->body.len, 1);
    return report(r, err);
}

void mcp_http_reply_cleanup(mcp_http_reply *r)
{
    dynbuf_cleanup(&r->body);
    net_sse_decoder_free(r->dec);
    r->dec = NULL;
}

int mcp_http_jsonrpc_message(const char *body, size_t n, json_t **out)
{
    *out = NULL;
    if (!body || !n) return 0;
    json_t *v = json_loadb(body, n, 0, NULL);
    const json_t *ver = json_object_get(v, "jsonrpc");
    if (json_is_object(v) && json_is_string(ver) &&
        !strcmp(json_string_value(ver), "2.0") &&
        (json_object_get(v, "error") || json_object_get(v, "result") ||
         json_object_get(v, "method"))) {
        *out = v;
        return 1;
    }
    json_decref(v);
    return 0;
}
