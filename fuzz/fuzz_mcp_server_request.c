/* libFuzzer target for the MCP server's request handling without HTTP
 * (src/server/mcp_server_rpc.c, mcp_server_methods.c): the JSON-RPC parse
 * of a POSTed body, the era and header checks (MCP-Protocol-Version,
 * Mcp-Method, Mcp-Name with its Base64 sentinel form), Accept, the reply
 * documents, and for tools/call the invoke_agent arguments, the
 * Mcp-Param-* check against the params' "schema" field and a tool result
 * built from the params' "content" field.
 * Input: "<MCP-Protocol-Version>\n<Mcp-Method>\n<Mcp-Name>\n<Accept>" NUL
 * <body>; an empty line is an absent header; without a NUL every byte is
 * the body and no header is sent. Header values are exact-size heap copies
 * so AddressSanitizer catches a read past their end.
 * Checks the contracts: a failed parse or check comes with a known code,
 * an HTTP status and a message, and its error document can be built; a
 * parsed request has a method and a string or integer id; a modern era
 * only with the modern version; never crash, leak or read out of bounds. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "server/internal.h"
#include "server/mcp_server.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int known_code(int c)
{
    return c == MCP_RPC_PARSE_ERROR || c == MCP_RPC_INVALID_REQUEST ||
           c == MCP_RPC_INVALID_PARAMS || c == MCP_RPC_INTERNAL_ERROR ||
           c == MCP_RPC_HEADER_MISMATCH || c == MCP_RPC_UNSUPPORTED_VERSION;
}

static void check_error(const json_t *id, mcp_rpc_error *e)
{
    if (!known_code(e->code) || !e->message[0]) abort();
    if (e->http_status != 400 && e->http_status != 500) abort();
    if (!memchr(e->message, '\0', sizeof e->message)) abort();
    json_t *doc = mcp_rpc_error_doc(id, e);
    if (!doc) abort(); /* the message must always be valid UTF-8 */
    json_decref(doc);
    mcp_rpc_error_cleanup(e);
}

static const char *any_header(void *user, const char *name)
{
    (void)name;
    return user;
}

static void exercise_request(const mcp_rpc_msg *m, const mcp_rpc_headers *h)
{
    mcp_era era;
    mcp_rpc_error e;
    if (mcp_rpc_check(m, h, &era, &e)) {
        check_error(m->id, &e);
        return;
    }
    if (era.modern && strcmp(era.version, MCP_SERVER_VERSION_MODERN)) abort();
    mcp_server_info info = {"fuzz", NULL};
    if (!strcmp(m->method, "tools/call")) {
        const json_t *args = json_object_get(m->params, "arguments");
        json_t *prompt = NULL;
        char session[SERVER_SESSION_ID_MAX + 1], why[256];
        if (mcp_invoke_args(args, h->name, h->method, &prompt, session,
                            sizeof session, why, sizeof why)) {
            if (!json_is_array(prompt) || !session[0]) abort();
            json_decref(prompt);
        } else if (!why[0] || prompt) {
            abort();
        }
        /* x-mcp-header: the params' "schema" as the tool's input schema;
         * every Mcp-Param-* header reads as the Mcp-Name header value. */
        const json_t *schema = json_object_get(m->params, "schema");
        if (json_is_object(schema)) {
            mcp_rpc_error pe;
            if (mcp_rpc_check_param_headers(schema, args, any_header,
                                            (void *)h->name, &pe))
                check_error(m->id, &pe);
        }
        const json_t *content = json_object_get(m->params, "content");
        if (json_is_array(content))
            json_decref(mcp_finish_result(mcp_tool_result(content), &era,
                                          &info));
    } else if (!strcmp(m->method, "tools/list")) {
        mcp_rpc_error le;
        json_t *r = mcp_tools_list_result(
            NULL, json_string_value(json_object_get(m->params, "cursor")),
            &le);
        if (!r && le.code != MCP_RPC_INVALID_PARAMS) abort();
        json_decref(mcp_rpc_result_doc(m->id, r));
    } else if (!strcmp(m->method, "initialize")) {
        json_t *r = mcp_initialize_result(
            json_string_value(json_object_get(m->params, "protocolVersion")),
            &info);
        json_decref(mcp_rpc_result_doc(m->id, r));
    }
}

/* The i-th line of the header block as an exact-size copy; NULL when the
 * line is empty or missing.                                           */
static char *header_line(const char *block, size_t len, int i)
{
    size_t start = 0;
    for (int k = 0; k < i; k++) {
        const char *nl = memchr(block + start, '\n', len - start);
        if (!nl) return NULL;
        start = (size_t)(nl - block) + 1;
    }
    const char *nl = memchr(block + start, '\n', len - start);
    size_t end = nl ? (size_t)(nl - block) : len;
    if (end == start) return NULL;
    char *v = malloc(end - start + 1);
    if (!v) return NULL;
    memcpy(v, block + start, end - start);
    v[end - start] = '\0';
    return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nul = memchr(data, '\0', size);
    const char *body = (const char *)data;
    size_t body_len = size;
    char *hv[4] = {NULL, NULL, NULL, NULL};
    if (nul) {
        size_t hlen = (size_t)(nul - data);
        for (int i = 0; i < 4; i++) hv[i] = header_line(body, hlen, i);
        body = (const char *)nul + 1;
        body_len = size - hlen - 1;
    }
    int json_ok = -1, sse_ok = -1;
    mcp_rpc_accept(hv[3], &json_ok, &sse_ok);
    if ((json_ok != 0 && json_ok != 1) || (sse_ok != 0 && sse_ok != 1))
        abort();
    if (hv[2]) {
        size_t n = 0;
        free(mcp_rpc_header_decode(hv[2], &n));
    }
    char *exact = malloc(body_len ? body_len : 1);
    if (!exact) goto out;
    if (body_len) memcpy(exact, body, body_len);
    mcp_rpc_msg m;
    json_t *err_id = NULL;
    mcp_rpc_error e;
    if (mcp_rpc_parse(exact, body_len, &m, &err_id, &e)) {
        if (m.doc) abort();
        check_error(err_id, &e);
        json_decref(err_id);
    } else {
        if (m.kind == MCP_MSG_REQUEST) {
            if (!m.method || !m.method[0]) abort();
            if (!json_is_string(m.id) && !json_is_integer(m.id)) abort();
            if (m.params && !json_is_object(m.params)) abort();
            mcp_rpc_headers h = {hv[0], hv[1], hv[2]};
            exercise_request(&m, &h);
        }
        mcp_rpc_msg_cleanup(&m);
    }
    free(exact);
out:
    for (int i = 0; i < 4; i++) free(hv[i]);
    return 0;
}
