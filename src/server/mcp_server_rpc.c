/* MCP server mode, the pure part (see mcp_server.h): one POSTed JSON-RPC
 * message parsed and classified, the era and header checks of the
 * 2026-07-28 Streamable HTTP rules and the legacy version header, the
 * versions we speak, Accept, the Base64 sentinel header encoding, and the
 * JSON-RPC reply documents. No HTTP and no threads here.               */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mcp/transport.h"
#include "net/base64.h"
#include "server/mcp_server.h"

static const char *const legacy_versions[] = {MCP_SERVER_VERSION_LEGACY,
                                              MCP_SERVER_VERSION_LEGACY_OLD};

#define META_VERSION "io.modelcontextprotocol/protocolVersion"
#define META_CAPS "io.modelcontextprotocol/clientCapabilities"

/* Text safe for a message: printable ASCII (other bytes '?'), cut with
 * "..." to fit outsz (>= 8).                                            */
static void shown(char *out, size_t outsz, const char *s, size_t n)
{
    size_t o = 0, i = 0;
    for (; i < n && o + 4 < outsz; i++) {
        unsigned char c = (unsigned char)s[i];
        out[o++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
    }
    if (i < n) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o] = '\0';
}

void mcp_rpc_error_set(mcp_rpc_error *e, int code, int http_status,
                       const char *fmt, ...)
{
    e->code = code;
    e->http_status = http_status;
    e->data = NULL;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof e->message, fmt, ap);
    va_end(ap);
}

void mcp_rpc_error_cleanup(mcp_rpc_error *e)
{
    json_decref(e->data);
    e->data = NULL;
}

void mcp_rpc_msg_cleanup(mcp_rpc_msg *m)
{
    json_decref(m->doc);
    memset(m, 0, sizeof *m);
}

/* A usable JSON-RPC id: a string or an integer (MCP: never null). */
static int valid_id(const json_t *id)
{
    return json_is_string(id) || json_is_integer(id);
}

int mcp_rpc_parse(const char *body, size_t len, mcp_rpc_msg *out,
                  json_t **err_id, mcp_rpc_error *err)
{
    memset(out, 0, sizeof *out);
    memset(err, 0, sizeof *err);
    *err_id = NULL;
    json_error_t jerr;
    json_t *doc = json_loadb(body ? body : "", len, JSON_DECODE_ANY, &jerr);
    if (!doc) {
        if (json_error_code(&jerr) == json_error_out_of_memory ||
            !jerr.text[0]) {
            mcp_rpc_error_set(err, MCP_RPC_INTERNAL_ERROR, 500,
                              "out of memory");
            return -1;
        }
        char t[200];
        shown(t, sizeof t, jerr.text, strlen(jerr.text));
        mcp_rpc_error_set(err, MCP_RPC_PARSE_ERROR, 400,
                          "Parse error: %s (line %d, column %d)", t,
                          jerr.line, jerr.column);
        return -1;
    }
    if (json_is_array(doc)) {
        mcp_rpc_error_set(err, MCP_RPC_INVALID_REQUEST, 400,
                          "Invalid Request: JSON-RPC batches are not "
                          "supported (MCP 2025-06-18 and later); send one "
                          "message per POST");
        json_decref(doc);
        return -1;
    }
    if (!json_is_object(doc)) {
        mcp_rpc_error_set(err, MCP_RPC_INVALID_REQUEST, 400,
                          "Invalid Request: the body must be a JSON-RPC "
                          "object");
        json_decref(doc);
        return -1;
    }
    json_t *id = json_object_get(doc, "id");
    if (valid_id(id)) *err_id = json_incref(id);
    json_t *jsonrpc = json_object_get(doc, "jsonrpc");
    json_t *method = json_object_get(doc, "method");
    json_t *params = json_object_get(doc, "params");
    const char *why = NULL;
    if (!json_is_string(jsonrpc) || strcmp(json_string_value(jsonrpc), "2.0"))
        why = "\"jsonrpc\" must be \"2.0\"";
    else if (method && (!json_is_string(method) ||
                        strlen(json_string_value(method)) !=
                            json_string_length(method) ||
                        !json_string_length(method)))
        why = "\"method\" must be a non-empty string";
    else if (method && id && !valid_id(id))
        why = "\"id\" must be a string or an integer";
    else if (!method && !(id && valid_id(id) &&
                          (json_object_get(doc, "result") ||
                           json_object_get(doc, "error"))))
        why = "a message needs \"method\" (a request or notification) or "
              "\"id\" with \"result\" or \"error\" (a response)";
    if (why) {
        mcp_rpc_error_set(err, MCP_RPC_INVALID_REQUEST, 400,
                          "Invalid Request: %s", why);
        json_decref(doc);
        return -1;
    }
    if (method && id && params && !json_is_object(params)) {
        mcp_rpc_error_set(err, MCP_RPC_INVALID_PARAMS, 400,
                          "Invalid params: \"params\" must be an object");
        json_decref(doc);
        return -1;
    }
    out->doc = doc;
    out->kind = !method ? MCP_MSG_RESPONSE
                : id    ? MCP_MSG_REQUEST
                        : MCP_MSG_NOTIFICATION;
    out->id = out->kind == MCP_MSG_NOTIFICATION ? NULL : id;
    out->method = method ? json_string_value(method) : NULL;
    out->params = json_is_object(params) ? params : NULL;
    json_decref(*err_id);
    *err_id = NULL;
    return 0;
}

/* ---- versions ---------------------------------------------------------- */

static int is_legacy(const char *v)
{
    for (size_t i = 0; v && i < sizeof legacy_versions / sizeof *legacy_versions;
         i++)
        if (!strcmp(v, legacy_versions[i])) return 1;
    return 0;
}

const char *mcp_rpc_negotiate(const char *requested)
{
    for (size_t i = 0; i < sizeof legacy_versions / sizeof *legacy_versions;
         i++)
        if (requested && !strcmp(requested, legacy_versions[i]))
            return legacy_versions[i];
    return MCP_SERVER_VERSION_LEGACY;
}

json_t *mcp_rpc_supported_versions(void)
{
    return json_pack("[s, s, s]", MCP_SERVER_VERSION_MODERN,
                     MCP_SERVER_VERSION_LEGACY, MCP_SERVER_VERSION_LEGACY_OLD);
}

/* ---- header values ----------------------------------------------------- */

char *mcp_rpc_header_decode(const char *v, size_t *len)
{
    static const char open[] = "=?base64?", close[] = "?=";
    size_t n = strlen(v), ol = sizeof open - 1, cl = sizeof close - 1;
    *len = 0;
    if (n >= ol + cl && !memcmp(v, open, ol) && !memcmp(v + n - cl, close, cl)) {
        uint8_t *out = NULL;
        size_t outlen = 0;
        if (net_base64_decode(v + ol, n - ol - cl, &out, &outlen) != 0)
            return NULL;
        char *s = realloc(out, outlen + 1);
        if (!s) {
            free(out);
            return NULL;
        }
        s[outlen] = '\0';
        *len = outlen;
        return s;
    }
    char *s = strdup(v);
    if (s) *len = n;
    return s;
}


/* 400 -32022 with data {supported, requested}. */
static int unsupported(mcp_rpc_error *err, const char *requested)
{
    char v[80];
    shown(v, sizeof v, requested, strlen(requested));
    mcp_rpc_error_set(err, MCP_RPC_UNSUPPORTED_VERSION, 400,
                      "Unsupported protocol version '%s'; this server "
                      "speaks " MCP_SERVER_VERSION_MODERN ", "
                      MCP_SERVER_VERSION_LEGACY " and "
                      MCP_SERVER_VERSION_LEGACY_OLD, v);
    json_t *sup = mcp_rpc_supported_versions();
    err->data = sup ? json_pack("{s:o, s:s}", "supported", sup, "requested",
                                v)
                    : NULL;
    return -1;
}

/* Compares the (decoded) Mcp-Name header with the body's name or uri. */
static int check_name(const mcp_rpc_msg *m, const char *hname,
                      mcp_rpc_error *err)
{
    const char *key = !strcmp(m->method, "resources/read") ? "uri" : "name";
    json_t *body = json_object_get(m->params, key);
    if (!json_is_string(body)) {
        mcp_rpc_error_set(err, MCP_RPC_INVALID_PARAMS, 400,
                          "Invalid params: \"params.%s\" must be a string",
                          key);
        return -1;
    }
    if (!hname) {
        mcp_rpc_error_set(err, MCP_RPC_HEADER_MISMATCH, 400,
                          "Header mismatch: the Mcp-Name header is required "
                          "for %s", m->method);
        return -1;
    }
    size_t hlen = 0;
    char *dec = mcp_rpc_header_decode(hname, &hlen);
    if (!dec) {
        mcp_rpc_error_set(err, MCP_RPC_HEADER_MISMATCH, 400,
                          "Header mismatch: the Mcp-Name header is not valid "
                          "Base64 sentinel encoding");
        return -1;
    }
    int same = hlen == json_string_length(body) &&
               !memcmp(dec, json_string_value(body), hlen);
    if (!same) {
        char a[80], b[80];
        shown(a, sizeof a, dec, hlen);
        shown(b, sizeof b, json_string_value(body), json_string_length(body));
        mcp_rpc_error_set(err, MCP_RPC_HEADER_MISMATCH, 400,
                          "Header mismatch: Mcp-Name header value '%s' does "
                          "not match body value '%s'", a, b);
    }
    free(dec);
    return same ? 0 : -1;
}

/* The 2026-07-28 checks of a request whose _meta names version mv. */
static int check_modern(const mcp_rpc_msg *m, const mcp_rpc_headers *h,
                        const json_t *meta, const json_t *mv, mcp_era *era,
                        mcp_rpc_error *err)
{
    if (!json_is_string(mv)) {
        mcp_rpc_error_set(err, MCP_RPC_INVALID_PARAMS, 400,
                          "Invalid params: _meta[\"" META_VERSION "\"] must "
                          "be a string");
        return -1;
    }
    const char *v = json_string_value(mv);
    char a[80], b[80];
    if (!h->protocol_version) {
        mcp_rpc_error_set(err, MCP_RPC_HEADER_MISMATCH, 400,
                          "Header mismatch: the MCP-Protocol-Version header "
                          "is required");
        return -1;
    }
    if (strlen(v) != json_string_length(mv) ||
        strcmp(h->protocol_version, v)) {
        shown(a, sizeof a, h->protocol_version, strlen(h->protocol_version));
        shown(b, sizeof b, v, strlen(v));
        mcp_rpc_error_set(err, MCP_RPC_HEADER_MISMATCH, 400,
                          "Header mismatch: MCP-Protocol-Version header value "
                          "'%s' does not match body value '%s'", a, b);
        return -1;
    }
    if (strcmp(v, MCP_SERVER_VERSION_MODERN)) return unsupported(err, v);
    if (!json_is_object(json_object_get(meta, META_CAPS))) {
        mcp_rpc_error_set(err, MCP_RPC_INVALID_PARAMS, 400,
                          "Invalid params: _meta[\"" META_CAPS "\"] is "
                          "required (an object)");
        return -1;
    }
    if (!h->method) {
        mcp_rpc_error_set(err, MCP_RPC_HEADER_MISMATCH, 400,
                          "Header mismatch: the Mcp-Method header is "
                          "required");
        return -1;
    }
    if (strcmp(h->method, m->method)) {
        shown(a, sizeof a, h->method, strlen(h->method));
        shown(b, sizeof b, m->method, strlen(m->method));
        mcp_rpc_error_set(err, MCP_RPC_HEADER_MISMATCH, 400,
                          "Header mismatch: Mcp-Method header value '%s' "
                          "does not match body value '%s'", a, b);
        return -1;
    }
    if ((!strcmp(m->method, "tools/call") ||
         !strcmp(m->method, "resources/read") ||
         !strcmp(m->method, "prompts/get")) &&
        check_name(m, h->name, err))
        return -1;
    era->modern = 1;
    snprintf(era->version, sizeof era->version, "%s", v);
    return 0;
}

int mcp_rpc_check(const mcp_rpc_msg *m, const mcp_rpc_headers *h,
                  mcp_era *era, mcp_rpc_error *err)
{
    memset(era, 0, sizeof *era);
    memset(err, 0, sizeof *err);
    if (!strcmp(m->method, "initialize")) return 0; /* legacy handshake */
    const json_t *meta = json_object_get(m->params, "_meta");
    const json_t *mv = json_object_get(meta, META_VERSION);
    if (mv) return check_modern(m, h, meta, mv, era, err);
    const char *pv = h->protocol_version;
    if (!pv) return 0; /* a legacy client that names no version */
    if (!strcmp(pv, MCP_SERVER_VERSION_MODERN)) {
        mcp_rpc_error_set(err, MCP_RPC_INVALID_PARAMS, 400,
                          "Invalid params: a " MCP_SERVER_VERSION_MODERN
                          " request must carry _meta[\"" META_VERSION "\"]");
        return -1;
    }
    if (!is_legacy(pv)) return unsupported(err, pv);
    snprintf(era->version, sizeof era->version, "%s", pv);
    return 0;
}

/* 1 when a and b both read as the same finite number ("42" and "42.0"). */
static int same_number(const char *a, const char *b)
{
    char *ea = NULL, *eb = NULL;
    double x = strtod(a, &ea), y = strtod(b, &eb);
    return *a && *b && ea && !*ea && eb && !*eb && x == y && x - x == 0;
}

int mcp_rpc_check_param_headers(const json_t *schema, const json_t *args,
                                mcp_header_fn *get, void *user,
                                mcp_rpc_error *err)
{
    memset(err, 0, sizeof *err);
    char **lines = NULL;
    size_t n = 0;
    strands_error e;
    strands_error_clear(&e);
    strands_status st = mcp_http_param_headers(schema, args, &lines, &n, &e);
    if (st == STRANDS_E_NOMEM) {
        mcp_rpc_error_set(err, MCP_RPC_INTERNAL_ERROR, 500, "out of memory");
        return -1;
    }
    if (st != STRANDS_OK) return 0; /* the input check reports it */
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        char *colon = strchr(lines[i], ':');
        if (!colon) continue;
        *colon = '\0';
        const char *name = lines[i], *want_enc = colon + 2;
        const char *got_enc = get(user, name);
        if (!got_enc) {
            mcp_rpc_error_set(err, MCP_RPC_HEADER_MISMATCH, 400,
                              "Header mismatch: the %.80s header is required "
                              "(the tool's schema mirrors that argument)",
                              name);
            rc = -1;
            break;
        }
        size_t wl = 0, gl = 0;
        char *want = mcp_rpc_header_decode(want_enc, &wl);
        char *got = mcp_rpc_header_decode(got_enc, &gl);
        if (!want) {
            mcp_rpc_error_set(err, MCP_RPC_INTERNAL_ERROR, 500,
                              "out of memory");
            rc = -1;
        } else if (!got) {
            mcp_rpc_error_set(err, MCP_RPC_HEADER_MISMATCH, 400,
                              "Header mismatch: the %.80s header is not valid "
                              "Base64 sentinel encoding", name);
            rc = -1;
        } else if (!(wl == gl && !memcmp(want, got, wl)) &&
                   !(strlen(want) == wl && strlen(got) == gl &&
                     same_number(want, got))) {
            char a[80], b[80];
            shown(a, sizeof a, got, gl);
            shown(b, sizeof b, want, wl);
            mcp_rpc_error_set(err, MCP_RPC_HEADER_MISMATCH, 400,
                              "Header mismatch: %.80s header value '%s' does "
                              "not match body value '%s'", name, a, b);
            rc = -1;
        }
        free(want);
        free(got);
    }
    mcp_header_lines_free(lines);
    return rc;
}

/* ---- Accept ------------------------------------------------------------ */

/* 1 when the media range's parameters say q=0. */
static int q_zero(const char *params, size_t n)
{
    for (size_t i = 0; i + 1 < n; i++) {
        if ((params[i] == 'q' || params[i] == 'Q') &&
            (i == 0 || params[i - 1] == ';' || params[i - 1] == ' ') &&
            params[i + 1] == '=') {
            size_t j = i + 2;
            if (j >= n || params[j] != '0') return 0;
            for (j++; j < n && (params[j] == '.' || params[j] == '0'); j++)
                ;
            return j >= n || params[j] == ';' || params[j] == ' ';
        }
    }
    return 0;
}

static int range_is(const char *s, size_t n, const char *want)
{
    return strlen(want) == n && !strncasecmp(s, want, n);
}

void mcp_rpc_accept(const char *accept, int *json_ok, int *sse_ok)
{
    *json_ok = *sse_ok = 0;
    if (!accept || !*accept) {
        *json_ok = *sse_ok = 1;
        return;
    }
    const char *p = accept;
    while (*p) {
        size_t n = strcspn(p, ",");
        const char *s = p;
        size_t k = n;
        while (k && (*s == ' ' || *s == '\t')) {
            s++;
            k--;
        }
        size_t t = strcspn(s, ";,");
        if (t > k) t = k;
        size_t tt = t;
        while (tt && (s[tt - 1] == ' ' || s[tt - 1] == '\t')) tt--;
        if (!q_zero(s + t, k - t)) {
            if (range_is(s, tt, "*/*")) *json_ok = *sse_ok = 1;
            if (range_is(s, tt, "application/json") ||
                range_is(s, tt, "application/*"))
                *json_ok = 1;
            if (range_is(s, tt, "text/event-stream") ||
                range_is(s, tt, "text/*"))
                *sse_ok = 1;
        }
        p += n;
        if (*p == ',') p++;
    }
}

/* ---- reply documents --------------------------------------------------- */

json_t *mcp_rpc_result_doc(const json_t *id, json_t *result)
{
    if (!result) return NULL;
    return json_pack("{s:s, s:O, s:o}", "jsonrpc", "2.0", "id",
                     id ? id : json_null(), "result", result);
}

json_t *mcp_rpc_error_doc(const json_t *id, mcp_rpc_error *e)
{
    json_t *error = json_pack("{s:i, s:s}", "code", e->code, "message",
                              e->message);
    if (error && e->data) {
        json_object_set_new(error, "data", e->data);
        e->data = NULL;
    }
    if (!error) return NULL;
    return json_pack("{s:s, s:O, s:o}", "jsonrpc", "2.0", "id",
                     id ? id : json_null(), "error", error);
}
