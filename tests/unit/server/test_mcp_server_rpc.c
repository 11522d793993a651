/* MCP server mode, the pure parts (src/server/mcp_server_rpc.c and
 * mcp_server_methods.c): JSON-RPC parsing and its error codes, the era
 * and header checks of 2026-07-28 (-32020, -32022, -32602), version
 * negotiation, Accept, the Base64 sentinel header encoding, tools/list
 * pages over a real registry, and tool results as MCP content.        */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "server/internal.h"
#include "server/mcp_server.h"
#include "test.h"

#define MODERN_META                                                      \
    "\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":\"2026-07-28\"," \
    "\"io.modelcontextprotocol/clientCapabilities\":{}}"

/* Parses text; returns the error code (0 when it parsed). */
static int parse_code(const char *text, mcp_rpc_msg *m, json_t **id)
{
    mcp_rpc_error e;
    int rc = mcp_rpc_parse(text, strlen(text), m, id, &e);
    mcp_rpc_error_cleanup(&e);
    return rc ? e.code : 0;
}

static void test_parse_kinds(void)
{
    mcp_rpc_msg m;
    json_t *id = NULL;
    CHECK_INT(parse_code("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}",
                         &m, &id), 0);
    CHECK_INT(m.kind, MCP_MSG_REQUEST);
    CHECK_STR(m.method, "ping");
    CHECK(json_integer_value(m.id) == 1);
    CHECK(m.params == NULL);
    mcp_rpc_msg_cleanup(&m);
    CHECK_INT(parse_code("{\"jsonrpc\":\"2.0\",\"id\":\"a\",\"method\":"
                         "\"tools/list\",\"params\":{\"cursor\":\"1\"}}",
                         &m, &id), 0);
    CHECK_STR(json_string_value(m.id), "a");
    CHECK(json_is_object(m.params));
    mcp_rpc_msg_cleanup(&m);
    CHECK_INT(parse_code("{\"jsonrpc\":\"2.0\",\"method\":"
                         "\"notifications/initialized\"}", &m, &id), 0);
    CHECK_INT(m.kind, MCP_MSG_NOTIFICATION);
    CHECK(m.id == NULL);
    mcp_rpc_msg_cleanup(&m);
    CHECK_INT(parse_code("{\"jsonrpc\":\"2.0\",\"id\":4,\"result\":{}}", &m,
                         &id), 0);
    CHECK_INT(m.kind, MCP_MSG_RESPONSE);
    mcp_rpc_msg_cleanup(&m);
}

static void test_parse_errors(void)
{
    static const struct {
        const char *text;
        int code;
        int has_id;
    } cases[] = {
        {"", MCP_RPC_PARSE_ERROR, 0},
        {"{\"jsonrpc\":", MCP_RPC_PARSE_ERROR, 0},
        {"[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}]",
         MCP_RPC_INVALID_REQUEST, 0},
        {"[]", MCP_RPC_INVALID_REQUEST, 0},
        {"42", MCP_RPC_INVALID_REQUEST, 0},
        {"\"x\"", MCP_RPC_INVALID_REQUEST, 0},
        {"{\"id\":1,\"method\":\"ping\"}", MCP_RPC_INVALID_REQUEST, 1},
        {"{\"jsonrpc\":\"1.0\",\"id\":1,\"method\":\"ping\"}",
         MCP_RPC_INVALID_REQUEST, 1},
        {"{\"jsonrpc\":\"2.0\",\"id\":null,\"method\":\"ping\"}",
         MCP_RPC_INVALID_REQUEST, 0},
        {"{\"jsonrpc\":\"2.0\",\"id\":1.5,\"method\":\"ping\"}",
         MCP_RPC_INVALID_REQUEST, 0},
        {"{\"jsonrpc\":\"2.0\",\"id\":true,\"method\":\"ping\"}",
         MCP_RPC_INVALID_REQUEST, 0},
        {"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":3}",
         MCP_RPC_INVALID_REQUEST, 1},
        {"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"\"}",
         MCP_RPC_INVALID_REQUEST, 1},
        /* jansson refuses \u0000 (no JSON_ALLOW_NUL): a parse error. */
        {"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"pi\\u0000ng\"}",
         MCP_RPC_PARSE_ERROR, 0},
        {"{\"jsonrpc\":\"2.0\",\"id\":1}", MCP_RPC_INVALID_REQUEST, 1},
        {"{\"jsonrpc\":\"2.0\",\"result\":{}}", MCP_RPC_INVALID_REQUEST, 0},
        {"{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"ping\",\"params\":[1]}",
         MCP_RPC_INVALID_PARAMS, 1},
        {"{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"ping\",\"params\":1}",
         MCP_RPC_INVALID_PARAMS, 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        mcp_rpc_msg m;
        json_t *id = (json_t *)1;
        mcp_rpc_error e;
        int rc = mcp_rpc_parse(cases[i].text, strlen(cases[i].text), &m, &id,
                               &e);
        if (rc != -1) FAIL_AT("case %zu parsed", i);
        if (e.code != cases[i].code)
            FAIL_AT("case %zu: code %d, want %d", i, e.code, cases[i].code);
        if (e.http_status != 400) FAIL_AT("case %zu: status %d", i,
                                          e.http_status);
        if (!e.message[0]) FAIL_AT("case %zu: no message", i);
        if ((id != NULL) != cases[i].has_id) FAIL_AT("case %zu: id", i);
        CHECK(m.doc == NULL);
        /* The error document carries the id, or null. */
        json_t *doc = mcp_rpc_error_doc(id, &e);
        CHECK(doc != NULL);
        CHECK(json_integer_value(json_object_get(
                  json_object_get(doc, "error"), "code")) == cases[i].code);
        CHECK(cases[i].has_id ? !json_is_null(json_object_get(doc, "id"))
                              : json_is_null(json_object_get(doc, "id")));
        json_decref(doc);
        json_decref(id);
        mcp_rpc_error_cleanup(&e);
    }
    /* Never reads past len: a message cut short is a parse error. */
    const char *full = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}";
    char *cut = malloc(10);
    memcpy(cut, full, 10);
    mcp_rpc_msg m;
    json_t *id;
    mcp_rpc_error e;
    CHECK_INT(mcp_rpc_parse(cut, 10, &m, &id, &e), -1);
    CHECK_INT(e.code, MCP_RPC_PARSE_ERROR);
    free(cut);
}

/* Parses text and runs the era/header check; returns its code. */
static int check_code(const char *text, const char *pv, const char *hm,
                      const char *hn, mcp_era *era, mcp_rpc_error *e)
{
    mcp_rpc_msg m;
    json_t *id = NULL;
    if (parse_code(text, &m, &id)) {
        json_decref(id);
        return 1;
    }
    mcp_rpc_headers h = {pv, hm, hn};
    int rc = mcp_rpc_check(&m, &h, era, e);
    mcp_rpc_msg_cleanup(&m);
    return rc ? e->code : 0;
}

static void test_check_modern(void)
{
    mcp_era era;
    mcp_rpc_error e;
    const char *call =
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":"
        "{\"name\":\"invoke_agent\"," MODERN_META "}}";
    CHECK_INT(check_code(call, "2026-07-28", "tools/call", "invoke_agent",
                         &era, &e), 0);
    CHECK_INT(era.modern, 1);
    CHECK_STR(era.version, "2026-07-28");
    /* Base64 sentinel Mcp-Name. */
    CHECK_INT(check_code(call, "2026-07-28", "tools/call",
                         "=?base64?aW52b2tlX2FnZW50?=", &era, &e), 0);
    /* Mismatches and missing headers: 400 -32020. */
    static const char *const bad[][3] = {
        {NULL, "tools/call", "invoke_agent"},
        {"2025-11-25", "tools/call", "invoke_agent"},
        {"2026-07-28", NULL, "invoke_agent"},
        {"2026-07-28", "tools/list", "invoke_agent"},
        {"2026-07-28", "Tools/Call", "invoke_agent"},
        {"2026-07-28", "tools/call", NULL},
        {"2026-07-28", "tools/call", "calculator"},
        {"2026-07-28", "tools/call", "Invoke_agent"},
        {"2026-07-28", "tools/call", "=?base64?!!!?="},
        {"2026-07-28", "tools/call", "=?base64?Y2FsY3VsYXRvcg==?="},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int code = check_code(call, bad[i][0], bad[i][1], bad[i][2], &era, &e);
        if (code != MCP_RPC_HEADER_MISMATCH)
            FAIL_AT("case %zu: code %d", i, code);
        CHECK_INT(e.http_status, 400);
        CHECK(strstr(e.message, "Header mismatch") != NULL);
    }
    check_code(call, "2026-07-28", "tools/call", "calculator", &era, &e);
    CHECK(strstr(e.message, "'calculator'") != NULL);
    CHECK(strstr(e.message, "'invoke_agent'") != NULL);
    /* Unsupported version (header and _meta agree): -32022 + data. */
    const char *old =
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\",\"params\":"
        "{\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":"
        "\"1900-01-01\",\"io.modelcontextprotocol/clientCapabilities\":{}}}}";
    CHECK_INT(check_code(old, "1900-01-01", "tools/list", NULL, &era, &e),
              MCP_RPC_UNSUPPORTED_VERSION);
    CHECK_INT(e.http_status, 400);
    json_t *sup = json_object_get(e.data, "supported");
    CHECK_INT(json_array_size(sup), 3);
    CHECK_STR(json_string_value(json_array_get(sup, 0)), "2026-07-28");
    CHECK_STR(json_string_value(json_object_get(e.data, "requested")),
              "1900-01-01");
    mcp_rpc_error_cleanup(&e);
    /* Missing clientCapabilities, or a version that is not a string. */
    const char *nocaps =
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\",\"params\":"
        "{\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":"
        "\"2026-07-28\"}}}";
    CHECK_INT(check_code(nocaps, "2026-07-28", "tools/list", NULL, &era, &e),
              MCP_RPC_INVALID_PARAMS);
    const char *numv =
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\",\"params\":"
        "{\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":2026}}}";
    CHECK_INT(check_code(numv, "2026", "tools/list", NULL, &era, &e),
              MCP_RPC_INVALID_PARAMS);
    /* tools/call without a name string: -32602. */
    const char *noname =
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":"
        "{" MODERN_META "}}";
    CHECK_INT(check_code(noname, "2026-07-28", "tools/call", "x", &era, &e),
              MCP_RPC_INVALID_PARAMS);
}

static void test_check_legacy(void)
{
    mcp_era era;
    mcp_rpc_error e;
    const char *list = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\"}";
    CHECK_INT(check_code(list, NULL, NULL, NULL, &era, &e), 0);
    CHECK_INT(era.modern, 0);
    CHECK_STR(era.version, "");
    CHECK_INT(check_code(list, "2025-06-18", NULL, NULL, &era, &e), 0);
    CHECK_STR(era.version, "2025-06-18");
    CHECK_INT(check_code(list, "2025-11-25", "anything", NULL, &era, &e), 0);
    CHECK_INT(check_code(list, "2025-03-26", NULL, NULL, &era, &e),
              MCP_RPC_UNSUPPORTED_VERSION);
    mcp_rpc_error_cleanup(&e);
    /* 2026-07-28 named by the header only: a malformed modern request. */
    CHECK_INT(check_code(list, "2026-07-28", "tools/list", NULL, &era, &e),
              MCP_RPC_INVALID_PARAMS);
    CHECK_INT(e.http_status, 400);
    /* initialize is always the legacy handshake, whatever the headers. */
    const char *init =
        "{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":\"initialize\",\"params\":"
        "{\"protocolVersion\":\"2025-11-25\"}}";
    CHECK_INT(check_code(init, "garbage", "x", NULL, &era, &e), 0);
    CHECK_INT(era.modern, 0);
}

static void test_negotiate(void)
{
    CHECK_STR(mcp_rpc_negotiate("2025-11-25"), "2025-11-25");
    CHECK_STR(mcp_rpc_negotiate("2025-06-18"), "2025-06-18");
    CHECK_STR(mcp_rpc_negotiate("2025-03-26"), "2025-11-25");
    CHECK_STR(mcp_rpc_negotiate("2026-07-28"), "2025-11-25");
    CHECK_STR(mcp_rpc_negotiate(NULL), "2025-11-25");
    mcp_server_info info = {"agent-x", "does things"};
    json_t *r = mcp_initialize_result("2025-06-18", &info);
    CHECK_STR(json_string_value(json_object_get(r, "protocolVersion")),
              "2025-06-18");
    CHECK_STR(json_string_value(json_object_get(
                  json_object_get(r, "serverInfo"), "name")), "agent-x");
    CHECK_STR(json_string_value(json_object_get(r, "instructions")),
              "does things");
    CHECK(json_object_get(json_object_get(r, "capabilities"), "tools"));
    CHECK(json_object_get(r, "resultType") == NULL); /* legacy */
    json_decref(r);
    r = mcp_discover_result(&info);
    CHECK_STR(json_string_value(json_object_get(r, "resultType")), "complete");
    CHECK_INT(json_array_size(json_object_get(r, "supportedVersions")), 3);
    json_decref(r);
    mcp_era modern = {1, "2026-07-28"}, legacy = {0, ""};
    r = mcp_finish_result(json_object(), &modern, &info);
    CHECK_STR(json_string_value(json_object_get(r, "resultType")), "complete");
    CHECK_STR(json_string_value(json_object_get(
                  json_object_get(json_object_get(r, "_meta"),
                                  "io.modelcontextprotocol/serverInfo"),
                  "name")), "agent-x");
    json_decref(r);
    r = mcp_finish_result(json_object(), &legacy, &info);
    CHECK_INT(json_object_size(r), 0);
    json_decref(r);
}

static void test_accept(void)
{
    static const struct {
        const char *accept;
        int json, sse;
    } cases[] = {
        {NULL, 1, 1},
        {"", 1, 1},
        {"application/json, text/event-stream", 1, 1},
        {"application/json", 1, 0},
        {"text/event-stream", 0, 1},
        {"*/*", 1, 1},
        {"application/*", 1, 0},
        {"text/*;q=0.5", 0, 1},
        {"text/html", 0, 0},
        {"APPLICATION/JSON ; charset=utf-8", 1, 0},
        {"application/json;q=0, text/event-stream", 0, 1},
        {"application/json; q=0.0", 0, 0},
        {"application/json;q=0.01", 1, 0},
        {"application/jsonx, text/event-streamy", 0, 0},
        {",,, ,", 0, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int j = -1, s = -1;
        mcp_rpc_accept(cases[i].accept, &j, &s);
        if (j != cases[i].json || s != cases[i].sse)
            FAIL_AT("'%s': json %d sse %d", cases[i].accept ? cases[i].accept
                                                            : "(null)", j, s);
    }
}

static void test_header_decode(void)
{
    size_t n = 0;
    char *s = mcp_rpc_header_decode("plain", &n);
    CHECK_STR(s, "plain");
    CHECK_INT(n, 5);
    free(s);
    s = mcp_rpc_header_decode("=?base64?SGVsbG8sIOS4lueVjA==?=", &n);
    CHECK_STR(s, "Hello, \xe4\xb8\x96\xe7\x95\x8c");
    free(s);
    s = mcp_rpc_header_decode("=?base64?" "?=", &n);
    CHECK_STR(s, "");
    CHECK_INT(n, 0);
    free(s);
    CHECK(mcp_rpc_header_decode("=?base64?***?=", &n) == NULL);
    /* Not the sentinel shape: taken as is. */
    s = mcp_rpc_header_decode("=?base64?abc", &n);
    CHECK_STR(s, "=?base64?abc");
    free(s);
}

/* A header table for mcp_rpc_check_param_headers: "Name", "value"... */
static const char *table_get(void *user, const char *name)
{
    const char *const *t = user;
    for (; t[0]; t += 2)
        if (!strcasecmp(t[0], name)) return t[1];
    return NULL;
}

static void test_param_headers(void)
{
    json_t *schema = json_loads(
        "{\"type\":\"object\",\"properties\":{"
        "\"region\":{\"type\":\"string\",\"x-mcp-header\":\"Region\"},"
        "\"n\":{\"type\":\"integer\",\"x-mcp-header\":\"Count\"},"
        "\"q\":{\"type\":\"string\"}}}", 0, NULL);
    json_t *args = json_loads("{\"region\":\"us-west1\",\"n\":42,"
                              "\"q\":\"x\"}", 0, NULL);
    mcp_rpc_error e;
    const char *ok[] = {"mcp-param-region", "us-west1", "Mcp-Param-Count",
                        "42", NULL};
    CHECK_INT(mcp_rpc_check_param_headers(schema, args, table_get, ok, &e), 0);
    /* Encoded and numerically equal values match too. */
    const char *enc[] = {"Mcp-Param-Region", "=?base64?dXMtd2VzdDE=?=",
                         "Mcp-Param-Count", "42.0", NULL};
    CHECK_INT(mcp_rpc_check_param_headers(schema, args, table_get, enc, &e),
              0);
    const char *missing[] = {"Mcp-Param-Count", "42", NULL};
    CHECK_INT(mcp_rpc_check_param_headers(schema, args, table_get, missing,
                                          &e), -1);
    CHECK_INT(e.code, MCP_RPC_HEADER_MISMATCH);
    CHECK(strstr(e.message, "Mcp-Param-Region") != NULL);
    const char *wrong[] = {"Mcp-Param-Region", "eu-west1", "Mcp-Param-Count",
                           "42", NULL};
    CHECK_INT(mcp_rpc_check_param_headers(schema, args, table_get, wrong, &e),
              -1);
    CHECK(strstr(e.message, "'eu-west1'") != NULL);
    const char *badnum[] = {"Mcp-Param-Region", "us-west1", "Mcp-Param-Count",
                            "43", NULL};
    CHECK_INT(mcp_rpc_check_param_headers(schema, args, table_get, badnum,
                                          &e), -1);
    /* An argument that is absent needs no header. */
    json_t *fewer = json_loads("{\"q\":\"x\"}", 0, NULL);
    const char *none[] = {NULL};
    CHECK_INT(mcp_rpc_check_param_headers(schema, fewer, table_get, none, &e),
              0);
    json_decref(fewer);
    json_decref(args);
    json_decref(schema);
}

static strands_status noop_run(void *user, const json_t *input,
                               const strands_tool_context *ctx,
                               json_t **content_out, strands_error *err)
{
    (void)user; (void)input; (void)ctx; (void)err;
    *content_out = json_pack("[{s:s}]", "text", "ok");
    return STRANDS_OK;
}

/* invoke_agent, then the registry's tools, a page at a time. */
static void test_tools_list_pages(void)
{
    mcp_rpc_error e;
    json_t *r = mcp_tools_list_result(NULL, NULL, &e);
    json_t *tools = json_object_get(r, "tools");
    CHECK_INT(json_array_size(tools), 1);
    CHECK_STR(json_string_value(json_object_get(json_array_get(tools, 0),
                                                "name")), "invoke_agent");
    CHECK(json_object_get(r, "nextCursor") == NULL);
    CHECK(json_is_integer(json_object_get(r, "ttlMs")));
    json_decref(r);

    strands_tool_registry *reg = strands_tool_registry_new();
    strands_error err;
    size_t total = MCP_SERVER_TOOLS_PAGE + 10;
    for (size_t i = 0; i < total; i++) {
        char name[32];
        snprintf(name, sizeof name, "tool_%zu", i);
        strands_tool_def def = {name, "a tool",
                                "{\"type\":\"object\",\"properties\":"
                                "{\"a\":{\"type\":\"string\"}}}",
                                noop_run, NULL, NULL};
        if (strands_tool_registry_add(reg, &def, &err) != STRANDS_OK)
            FAIL_AT("add %zu: %s", i, err.message);
    }
    /* A registry tool named like ours is left out (ours wins). */
    strands_tool_def clash = {"invoke_agent", "x", NULL, noop_run, NULL,
                              NULL};
    CHECK(strands_tool_registry_add(reg, &clash, &err) == STRANDS_OK);
    strands_tool_snapshot *snap = strands_tool_registry_snapshot(reg);
    r = mcp_tools_list_result(snap, NULL, &e);
    tools = json_object_get(r, "tools");
    CHECK_INT(json_array_size(tools), MCP_SERVER_TOOLS_PAGE);
    json_t *t1 = json_array_get(tools, 1);
    CHECK_STR(json_string_value(json_object_get(t1, "name")), "tool_0");
    CHECK_STR(json_string_value(json_object_get(t1, "description")),
              "a tool");
    CHECK(json_object_get(json_object_get(json_object_get(t1, "inputSchema"),
                                          "properties"), "a") != NULL);
    const char *next = json_string_value(json_object_get(r, "nextCursor"));
    CHECK(next != NULL);
    json_t *r2 = mcp_tools_list_result(snap, next, &e);
    json_t *tools2 = json_object_get(r2, "tools");
    CHECK_INT(json_array_size(tools2), total - (MCP_SERVER_TOOLS_PAGE - 1));
    CHECK(json_object_get(r2, "nextCursor") == NULL);
    size_t i;
    json_t *t;
    json_array_foreach(tools2, i, t)
        if (!strcmp(json_string_value(json_object_get(t, "name")),
                    "invoke_agent"))
            FAIL_AT("the registry's invoke_agent was listed");
    json_decref(r);
    json_decref(r2);
    static const char *const bad[] = {"", "x", "-1", "+1", "99999999",
                                      "1x", "18446744073709551616"};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        r = mcp_tools_list_result(snap, bad[k], &e);
        if (r || e.code != MCP_RPC_INVALID_PARAMS)
            FAIL_AT("cursor '%s' accepted", bad[k]);
        json_decref(r);
    }
    strands_tool_snapshot_release(snap);
    strands_tool_registry_free(reg);
}

static void test_invoke_args(void)
{
    json_t *prompt = NULL;
    char session[SERVER_SESSION_ID_MAX + 1], why[256];
    json_t *a = json_pack("{s:s, s:s}", "prompt", "hi", "session_id", "s-1");
    CHECK(mcp_invoke_args(a, "ac", "mcp", &prompt, session, sizeof session,
                          why, sizeof why));
    CHECK_STR(session, "s-1");
    CHECK_STR(json_string_value(json_object_get(json_array_get(prompt, 0),
                                                "text")), "hi");
    json_decref(prompt);
    json_decref(a);
    a = json_pack("{s:s}", "prompt", "hi");
    CHECK(mcp_invoke_args(a, "ac", "mcp", &prompt, session, sizeof session,
                          why, sizeof why));
    CHECK_STR(session, "ac");
    json_decref(prompt);
    CHECK(mcp_invoke_args(a, NULL, "mcp", &prompt, session, sizeof session,
                          why, sizeof why));
    CHECK_STR(session, "mcp");
    json_decref(prompt);
    CHECK(mcp_invoke_args(a, NULL, NULL, &prompt, session, sizeof session,
                          why, sizeof why));
    CHECK_INT(strlen(session), 36);
    json_decref(prompt);
    json_decref(a);
    static const char *const bad[] = {
        "{}", "{\"prompt\":\"  \"}", "{\"prompt\":3}",
        "{\"prompt\":\"a\\u0000b\"}", "{\"prompt\":\"x\",\"session_id\":3}",
        "{\"prompt\":\"x\",\"session_id\":\"\"}",
        "{\"prompt\":\"x\",\"session_id\":\"a\\nb\"}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        a = json_loads(bad[i], 0, NULL);
        why[0] = '\0';
        if (mcp_invoke_args(a, NULL, NULL, &prompt, session, sizeof session,
                            why, sizeof why))
            FAIL_AT("'%s' accepted", bad[i]);
        CHECK(prompt == NULL);
        CHECK(strstr(why, "invoke_agent") != NULL);
        json_decref(a);
    }
}

static void test_results(void)
{
    strands_agent_result res = {0};
    res.text = "the answer";
    res.iterations = 2;
    json_t *r = mcp_invoke_result("inv-1", "s-1", STRANDS_OK, NULL, &res);
    CHECK(json_is_false(json_object_get(r, "isError")));
    CHECK_STR(json_string_value(json_object_get(
                  json_array_get(json_object_get(r, "content"), 0), "text")),
              "the answer");
    json_t *sc = json_object_get(r, "structuredContent");
    CHECK_STR(json_string_value(json_object_get(sc, "invocation_id")),
              "inv-1");
    CHECK_STR(json_string_value(json_object_get(sc, "response")),
              "the answer");
    json_decref(r);
    strands_error err;
    strands_error_set(&err, STRANDS_E_BUSY, NULL, "session busy");
    r = mcp_invoke_result("inv-1", "s-1", STRANDS_E_BUSY, &err, NULL);
    CHECK(json_is_true(json_object_get(r, "isError")));
    CHECK(json_object_get(r, "structuredContent") == NULL);
    CHECK_STR(json_string_value(json_object_get(
                  json_array_get(json_object_get(r, "content"), 0), "text")),
              "SessionBusy: session busy");
    json_decref(r);

    json_t *content = json_loads(
        "[{\"text\":\"t\"},{\"json\":{\"a\":1}},"
        "{\"image\":{\"format\":\"png\",\"source\":{\"bytes\":\"iVBO\"}}},"
        "{\"document\":{\"format\":\"pdf\",\"name\":\"r\","
        "\"source\":{\"bytes\":\"JVBE\"}}},{\"video\":{}}]", 0, NULL);
    r = mcp_tool_result(content);
    json_t *items = json_object_get(r, "content");
    CHECK_INT(json_array_size(items), 5);
    CHECK_STR(json_string_value(json_object_get(json_array_get(items, 1),
                                                "text")), "{\"a\":1}");
    json_t *img = json_array_get(items, 2);
    CHECK_STR(json_string_value(json_object_get(img, "type")), "image");
    CHECK_STR(json_string_value(json_object_get(img, "mimeType")),
              "image/png");
    CHECK_STR(json_string_value(json_object_get(img, "data")), "iVBO");
    json_t *doc = json_object_get(json_array_get(items, 3), "resource");
    CHECK_STR(json_string_value(json_object_get(doc, "mimeType")),
              "application/pdf");
    CHECK_STR(json_string_value(json_object_get(doc, "blob")), "JVBE");
    CHECK(strstr(json_string_value(json_object_get(json_array_get(items, 4),
                                                   "text")), "video"));
    CHECK(json_integer_value(json_object_get(
              json_object_get(r, "structuredContent"), "a")) == 1);
    json_decref(r);
    json_decref(content);
    /* Two json blocks: no single structured value. */
    content = json_loads("[{\"json\":{\"a\":1}},{\"json\":{\"b\":2}}]", 0,
                         NULL);
    r = mcp_tool_result(content);
    CHECK(json_object_get(r, "structuredContent") == NULL);
    json_decref(r);
    json_decref(content);
    r = mcp_tool_error_result("boom");
    CHECK(json_is_true(json_object_get(r, "isError")));
    json_decref(r);
}

int main(void)
{
    RUN(test_parse_kinds);
    RUN(test_parse_errors);
    RUN(test_check_modern);
    RUN(test_check_legacy);
    RUN(test_negotiate);
    RUN(test_accept);
    RUN(test_header_decode);
    RUN(test_param_headers);
    RUN(test_tools_list_pages);
    RUN(test_invoke_args);
    RUN(test_results);
    return test_report();
}
