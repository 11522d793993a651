/* Allocation-failure sweeps over the MCP server's pure code
 * (mcp_server_rpc.c, mcp_server_methods.c): every failing allocation
 * gives a clean error or a complete document, never a crash, a leak or a
 * half-built reply.                                                     */
#include <string.h>

#include "failalloc.h"
#include "server/internal.h"
#include "server/mcp_server.h"
#include "test.h"

#define META                                                             \
    "\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":\"%s\","    \
    "\"io.modelcontextprotocol/clientCapabilities\":{}}"

/* Parse, check and answer one request; returns 1 on a complete run. */
static int one(const char *text, const char *pv, const char *hm,
               const char *hn)
{
    mcp_rpc_msg m;
    json_t *id = NULL;
    mcp_rpc_error e;
    if (mcp_rpc_parse(text, strlen(text), &m, &id, &e)) {
        /* OOM: -32603, or -32700 (jansson reports some failures inside
         * the parser as syntax); "[1]" is a batch (-32600) either way. */
        CHECK(e.code == MCP_RPC_INTERNAL_ERROR ||
              e.code == MCP_RPC_PARSE_ERROR ||
              (text[0] == '[' && e.code == MCP_RPC_INVALID_REQUEST));
        CHECK(e.message[0] != '\0');
        json_decref(mcp_rpc_error_doc(id, &e));
        json_decref(id);
        mcp_rpc_error_cleanup(&e);
        return 0;
    }
    int ok = 1;
    mcp_rpc_headers h = {pv, hm, hn};
    mcp_era era;
    mcp_server_info info = {"agent", "desc"};
    if (mcp_rpc_check(&m, &h, &era, &e)) {
        json_t *doc = mcp_rpc_error_doc(m.id, &e);
        if (doc) {
            const json_t *err = json_object_get(doc, "error");
            CHECK(json_is_integer(json_object_get(err, "code")));
            CHECK(json_is_string(json_object_get(err, "message")));
        } else {
            ok = 0;
        }
        json_decref(doc);
        mcp_rpc_error_cleanup(&e);
    } else {
        json_t *r = NULL;
        if (!strcmp(m.method, "initialize")) {
            r = mcp_initialize_result("2025-06-18", &info);
            if (r) CHECK(json_object_get(r, "serverInfo") != NULL);
        } else if (!strcmp(m.method, "server/discover")) {
            r = mcp_discover_result(&info);
            if (r) CHECK_INT(json_array_size(json_object_get(
                                 r, "supportedVersions")), 3);
        } else if (!strcmp(m.method, "tools/list")) {
            r = mcp_tools_list_result(NULL, NULL, &e);
            if (r) CHECK_INT(json_array_size(json_object_get(r, "tools")), 1);
        } else {
            json_t *prompt = NULL;
            char session[SERVER_SESSION_ID_MAX + 1], why[256];
            if (mcp_invoke_args(json_object_get(m.params, "arguments"), NULL,
                                NULL, &prompt, session, sizeof session, why,
                                sizeof why))
                json_decref(prompt);
            else
                ok = 0;
            strands_agent_result res = {0};
            res.text = "answer";
            r = mcp_invoke_result("i", "s", STRANDS_OK, NULL, &res);
            if (r) CHECK(json_object_get(r, "structuredContent") != NULL);
            json_t *content = json_loads(
                "[{\"text\":\"t\"},{\"json\":{\"a\":1}},{\"image\":"
                "{\"format\":\"png\",\"source\":{\"bytes\":\"iVBO\"}}}]",
                0, NULL);
            json_t *tr = content ? mcp_tool_result(content) : NULL;
            if (tr) CHECK_INT(json_array_size(json_object_get(tr, "content")),
                              3);
            if (!tr) ok = 0;
            json_decref(tr);
            json_decref(content);
        }
        r = mcp_finish_result(r, &era, &info);
        json_t *doc = mcp_rpc_result_doc(m.id, r);
        if (doc) CHECK(json_object_get(doc, "result") != NULL);
        else ok = 0;
        json_decref(doc);
    }
    mcp_rpc_msg_cleanup(&m);
    return ok;
}

static void test_requests_sweep(void)
{
    char modern_call[512], unsupported[512], discover[512];
    snprintf(modern_call, sizeof modern_call,
             "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\","
             "\"params\":{\"name\":\"invoke_agent\",\"arguments\":"
             "{\"prompt\":\"hi\"}," META "}}", "2026-07-28");
    snprintf(unsupported, sizeof unsupported,
             "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/list\","
             "\"params\":{" META "}}", "1900-01-01");
    snprintf(discover, sizeof discover,
             "{\"jsonrpc\":\"2.0\",\"id\":\"d\",\"method\":"
             "\"server/discover\",\"params\":{" META "}}", "2026-07-28");
    long n, clean = 0;
    FAILALLOC_SWEEP(n, 2000) {
        int all = 1;
        all &= one(modern_call, "2026-07-28", "tools/call",
                   "=?base64?aW52b2tlX2FnZW50?=");
        all &= one(unsupported, "1900-01-01", "tools/list", NULL);
        all &= one(discover, "2026-07-28", "server/discover", NULL);
        all &= one("{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":\"initialize\","
                   "\"params\":{\"protocolVersion\":\"2025-06-18\"}}",
                   NULL, NULL, NULL);
        all &= one("{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/list\"}",
                   "2025-11-25", NULL, NULL);
        all &= one("[1]", NULL, NULL, NULL) == 0;
        clean += all;
    }
    CHECK(n == 2000 + 2);
    CHECK(clean >= 1);
}

int main(void)
{
    failalloc_init();
    RUN(test_requests_sweep);
    return test_report();
}
