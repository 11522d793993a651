/* Tests for MCP_CONFIG parsing (src/mcp/config.c): every key of a stdio
 * and an HTTP server read into its field, defaults, ${VAR} expansion and
 * its escape, a table of every error with its status and the exact
 * "mcpServers.<name>.<key>" it names, the caps, secrets kept out of
 * messages, allow/deny, and file loading errors.                       */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "mcp/config.h"
#include "test.h"

/* JSON written with ' for " (no apostrophes needed in these tests). */
static char *dq(const char *s)
{
    char *o = strdup(s);
    for (char *p = o; p && *p; p++)
        if (*p == '\'') *p = '"';
    return o;
}

static char big_value[70001];

/* The test environment. */
static const char *test_env(void *user, const char *name)
{
    (void)user;
    if (!strcmp(name, "TOKEN")) return "s3cr3t-token";
    if (!strcmp(name, "HOST")) return "mcp.example.com";
    if (!strcmp(name, "EMPTY")) return "";
    if (!strcmp(name, "CRLF")) return "SECRETVAL\r\nX-Evil: 1";
    if (!strcmp(name, "CLIENT_SECRET")) return "cl1ent-s3cret";
    if (!strcmp(name, "BIG")) return big_value;
    if (!strcmp(name, "V60K")) return big_value + (70000 - 60000);
    return NULL;
}

/* Parses single-quoted JSON with test_env. */
static strands_status parse(const char *sq, mcp_config *c, strands_error *e)
{
    char *j = dq(sq);
    strands_status st = mcp_config_parse(j, strlen(j), test_env, NULL, c, e);
    free(j);
    return st;
}

static void test_stdio_every_key(void)
{
    mcp_config c;
    strands_error e;
    strands_status st = parse(
        "{'mcpServers':{'files':{'type':'stdio','command':'npx',"
        "'args':['-y','@mcp/server','--token=${TOKEN}',''],"
        "'env':{'API_KEY':'${TOKEN}','MODE':'ro'},'cwd':'/srv',"
        "'prefix':'fs_','allow':['read','list','write'],'deny':['write'],"
        "'timeout_seconds':45,'startup_timeout_seconds':10}}}",
        &c, &e);
    CHECK_INT(st, STRANDS_OK);
    CHECK_STR(e.message, "");
    CHECK_INT(c.n_servers, 1);
    if (c.n_servers != 1) return;
    const mcp_server_config *s = &c.servers[0];
    CHECK_STR(s->name, "files");
    CHECK_INT(s->is_http, 0);
    CHECK_STR(s->command, "npx");
    CHECK_INT(s->n_args, 4);
    CHECK_STR(s->args[0], "-y");
    CHECK_STR(s->args[1], "@mcp/server");
    CHECK_STR(s->args[2], "--token=s3cr3t-token");
    CHECK_STR(s->args[3], "");
    CHECK(s->args[4] == NULL);
    CHECK_INT(s->n_env, 2);
    CHECK_STR(s->env[0], "API_KEY=s3cr3t-token");
    CHECK_STR(s->env[1], "MODE=ro");
    CHECK(s->env[2] == NULL);
    CHECK_STR(s->cwd, "/srv");
    CHECK(s->url == NULL && s->headers == NULL);
    CHECK_INT(s->auth.kind, MCP_AUTH_NONE);
    CHECK_STR(s->prefix, "fs_");
    CHECK_INT(s->n_allow, 3);
    CHECK_STR(s->allow[2], "write");
    CHECK(s->allow[3] == NULL);
    CHECK_INT(s->n_deny, 1);
    CHECK_STR(s->deny[0], "write");
    CHECK_INT(s->timeout_ms, 45000);
    CHECK_INT(s->startup_timeout_ms, 10000);
    CHECK(mcp_config_tool_allowed(s, "read"));
    CHECK(mcp_config_tool_allowed(s, "list"));
    CHECK(!mcp_config_tool_allowed(s, "write"));   /* denied after allow */
    CHECK(!mcp_config_tool_allowed(s, "delete"));  /* not in allow */
    CHECK(!mcp_config_tool_allowed(s, "Read"));    /* exact names */
    mcp_config_free(&c);
    CHECK(c.servers == NULL && c.n_servers == 0);
    mcp_config_free(&c);  /* again: a no-op */
    mcp_config_free(NULL);
}

static void test_stdio_defaults(void)
{
    mcp_config c;
    strands_error e;
    CHECK_INT(parse("{'mcpServers':{'my.srv-1':{'command':'srv'}}}", &c, &e),
              STRANDS_OK);
    if (c.n_servers != 1) return;
    const mcp_server_config *s = &c.servers[0];
    CHECK_STR(s->name, "my.srv-1");
    CHECK_STR(s->prefix, "my_srv-1_");  /* '.' is not a tool-name char */
    CHECK(s->args && s->args[0] == NULL && s->n_args == 0);
    CHECK(s->env && s->env[0] == NULL && s->n_env == 0);
    CHECK(s->cwd == NULL);
    CHECK(s->allow == NULL && s->n_allow == 0);
    CHECK(s->deny == NULL && s->n_deny == 0);
    CHECK_INT(s->timeout_ms, 0);
    CHECK_INT(s->startup_timeout_ms, MCP_DEFAULT_STARTUP_TIMEOUT_MS);
    CHECK(mcp_config_tool_allowed(s, "anything"));
    CHECK(!mcp_config_tool_allowed(s, NULL));
    mcp_config_free(&c);
}

static void test_http_bearer(void)
{
    mcp_config c;
    strands_error e;
    CHECK_INT(parse("{'mcpServers':{'remote':{'type':'http',"
                    "'url':'https://${HOST}/mcp?x=1',"
                    "'headers':{'Authorization':'Bearer ${TOKEN}',"
                    "'X-Tenant':'a\\tb','X-Empty':'${EMPTY}'}}}}",
                    &c, &e),
              STRANDS_OK);
    CHECK_STR(e.message, "");
    if (c.n_servers != 1) return;
    const mcp_server_config *s = &c.servers[0];
    CHECK_INT(s->is_http, 1);
    CHECK_STR(s->url, "https://mcp.example.com/mcp?x=1");
    CHECK_INT(s->n_headers, 3);
    CHECK_STR(s->headers[0], "Authorization: Bearer s3cr3t-token");
    CHECK_STR(s->headers[1], "X-Tenant: a\tb");
    CHECK_STR(s->headers[2], "X-Empty: ");
    CHECK(s->headers[3] == NULL);
    CHECK(s->command == NULL && s->args == NULL && s->env == NULL);
    CHECK_STR(s->prefix, "remote_");
    mcp_config_free(&c);
}

static void test_forward_headers(void)
{
    mcp_config c;
    strands_error e;
    CHECK_INT(parse("{'mcpServers':{'gw':{'url':'https://gw.example/mcp',"
                    "'forward_headers':['Authorization',"
                    "'X-Amzn-Bedrock-AgentCore-Runtime-Custom-Tenant']}}}",
                    &c, &e),
              STRANDS_OK);
    if (c.n_servers != 1) return;
    CHECK_INT(c.servers[0].n_forward, 2);
    CHECK_STR(c.servers[0].forward_headers[0], "Authorization");
    CHECK_STR(c.servers[0].forward_headers[1],
              "X-Amzn-Bedrock-AgentCore-Runtime-Custom-Tenant");
    mcp_config_free(&c);
    /* Forwarded credentials make plain http acceptable only to loopback. */
    CHECK_INT(parse("{'mcpServers':{'gw':{'url':'http://gw.example/mcp',"
                    "'forward_headers':['Authorization']}}}", &c, &e),
              STRANDS_E_INVALID);
    CHECK(strstr(e.message, "mcpServers.gw.url") != NULL);
    mcp_config_free(&c);
    CHECK_INT(parse("{'mcpServers':{'gw':{'url':'http://127.0.0.1:9/mcp',"
                    "'forward_headers':['Authorization']}}}", &c, &e),
              STRANDS_OK);
    mcp_config_free(&c);
    static const char *const bad[] = {
        "{'mcpServers':{'l':{'command':'x','forward_headers':['A']}}}",
        "{'mcpServers':{'l':{'url':'https://h/','forward_headers':'A'}}}",
        "{'mcpServers':{'l':{'url':'https://h/','forward_headers':['']}}}",
        "{'mcpServers':{'l':{'url':'https://h/','forward_headers':['A:B']}}}",
        "{'mcpServers':{'l':{'url':'https://h/','forward_headers':[7]}}}",
        ("{'mcpServers':{'l':{'url':'https://h/',"
         "'forward_headers':['MCP-Protocol-Version']}}}"),
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_INT(parse(bad[i], &c, &e), STRANDS_E_INVALID);
        CHECK(strstr(e.message, "mcpServers.l.forward_headers") != NULL);
        mcp_config_free(&c);
    }
}

static void test_http_plain_and_streamable(void)
{
    mcp_config c;
    strands_error e;
    /* Plain http is fine without credentials, and to loopback with them. */
    CHECK_INT(parse("{'mcpServers':{"
                    "'a':{'url':'http://10.0.0.5:8080/mcp'},"
                    "'b':{'type':'streamable-http','url':'http://127.0.0.1:9/m',"
                    "'headers':{'Authorization':'Bearer x'}},"
                    "'c':{'url':'http://localhost/m','prefix':''},"
                    "'d':{'url':'https://x.example/m','prefix':''}}}",
                    &c, &e),
              STRANDS_OK);
    CHECK_STR(e.message, "");
    CHECK_INT(c.n_servers, 4);
    if (c.n_servers == 4) {
        CHECK_STR(c.servers[1].url, "http://127.0.0.1:9/m");
        CHECK_INT(c.servers[1].is_http, 1);
        CHECK_STR(c.servers[2].prefix, "");  /* "" may be shared */
        CHECK_STR(c.servers[3].prefix, "");
        CHECK(c.servers[0].headers && c.servers[0].headers[0] == NULL);
    }
    mcp_config_free(&c);
}

static void test_sigv4(void)
{
    mcp_config c;
    strands_error e;
    CHECK_INT(parse("{'mcpServers':{"
                    "'gw':{'url':'https://gw.example.com/mcp',"
                    "'auth':{'type':'sigv4'}},"
                    "'gw2':{'url':'https://gw2.example.com/mcp',"
                    "'auth':{'type':'sigv4','service':'execute-api',"
                    "'region':'eu-west-1'},'headers':{'X-Trace':'1'}}}}",
                    &c, &e),
              STRANDS_OK);
    CHECK_STR(e.message, "");
    if (c.n_servers != 2) return;
    CHECK_INT(c.servers[0].auth.kind, MCP_AUTH_SIGV4);
    CHECK_STR(c.servers[0].auth.service, "bedrock-agentcore");
    CHECK(c.servers[0].auth.region == NULL);
    CHECK_STR(c.servers[1].auth.service, "execute-api");
    CHECK_STR(c.servers[1].auth.region, "eu-west-1");
    CHECK_STR(c.servers[1].headers[0], "X-Trace: 1");
    mcp_config_free(&c);
}

static void test_oauth(void)
{
    mcp_config c;
    strands_error e;
    CHECK_INT(parse("{'mcpServers':{'gw':{'url':'https://gw.example.com/mcp',"
                    "'auth':{'type':'oauth2_client_credentials',"
                    "'token_url':'https://auth.example.com/oauth2/token',"
                    "'client_id':'abc','client_secret':'${CLIENT_SECRET}',"
                    "'scopes':['gw/invoke','read:all']}}}}",
                    &c, &e),
              STRANDS_OK);
    CHECK_STR(e.message, "");
    if (c.n_servers != 1) return;
    const mcp_auth_config *a = &c.servers[0].auth;
    CHECK_INT(a->kind, MCP_AUTH_OAUTH2_CLIENT_CREDENTIALS);
    CHECK_STR(a->token_url, "https://auth.example.com/oauth2/token");
    CHECK_STR(a->client_id, "abc");
    CHECK_STR(a->client_secret, "cl1ent-s3cret");
    CHECK_STR(a->scope, "gw/invoke read:all");
    CHECK(a->service == NULL);
    mcp_config_free(&c);
    /* No scopes, or an empty list: scope NULL; loopback token URL. */
    CHECK_INT(parse("{'mcpServers':{'gw':{'url':'http://127.0.0.1:1/mcp',"
                    "'auth':{'type':'oauth2_client_credentials',"
                    "'token_url':'http://127.0.0.1:2/token',"
                    "'client_id':'abc','client_secret':'x','scopes':[]}}}}",
                    &c, &e),
              STRANDS_OK);
    if (c.n_servers == 1) CHECK(c.servers[0].auth.scope == NULL);
    mcp_config_free(&c);
}

static void test_expansion(void)
{
    mcp_config c;
    strands_error e;
    CHECK_INT(parse("{'mcpServers':{'s':{'command':'x','args':["
                    "'$${TOKEN}','a$b','$','$$','${TOKEN}${TOKEN}',"
                    "'${EMPTY}','pre-${HOST}-post','$${','$$${HOST}',"
                    "'$ {TOKEN}','${TOKEN}}']}}}",
                    &c, &e),
              STRANDS_OK);
    CHECK_STR(e.message, "");
    if (c.n_servers != 1) return;
    char **a = c.servers[0].args;
    CHECK_STR(a[0], "${TOKEN}");           /* escaped: literal */
    CHECK_STR(a[1], "a$b");
    CHECK_STR(a[2], "$");
    CHECK_STR(a[3], "$$");
    CHECK_STR(a[4], "s3cr3t-tokens3cr3t-token");
    CHECK_STR(a[5], "");
    CHECK_STR(a[6], "pre-mcp.example.com-post");
    CHECK_STR(a[7], "${");
    CHECK_STR(a[8], "$${HOST}");  /* left to right: "$", then "$${" */
    CHECK_STR(a[9], "$ {TOKEN}");
    CHECK_STR(a[10], "s3cr3t-token}");
    mcp_config_free(&c);
    /* command, cwd, allow/deny and prefix are not expanded. */
    CHECK_INT(parse("{'mcpServers':{'s':{'command':'${TOKEN}',"
                    "'cwd':'/${TOKEN}','allow':['${TOKEN}']}}}", &c, &e),
              STRANDS_OK);
    if (c.n_servers == 1) {
        CHECK_STR(c.servers[0].command, "${TOKEN}");
        CHECK_STR(c.servers[0].cwd, "/${TOKEN}");
        CHECK_STR(c.servers[0].allow[0], "${TOKEN}");
    }
    mcp_config_free(&c);
}

static void test_disabled_and_empty(void)
{
    mcp_config c;
    strands_error e;
    /* A parked entry is not read beyond "disabled". */
    CHECK_INT(parse("{'mcpServers':{'off':{'disabled':true,'bogus':1,"
                    "'url':'${MISSING}'},'on':{'command':'x',"
                    "'disabled':false}}}", &c, &e),
              STRANDS_OK);
    CHECK_INT(c.n_servers, 1);
    if (c.n_servers == 1) CHECK_STR(c.servers[0].name, "on");
    mcp_config_free(&c);
    CHECK_INT(parse("{'mcpServers':{}}", &c, &e), STRANDS_OK);
    CHECK_INT(c.n_servers, 0);
    CHECK(c.servers == NULL);
    mcp_config_free(&c);
    CHECK_INT(parse("{'mcpServers':{'off':{'disabled':true}}}", &c, &e),
              STRANDS_OK);
    CHECK_INT(c.n_servers, 0);
    mcp_config_free(&c);
}

typedef struct ecase {
    const char *json;       /* single-quoted */
    strands_status status;
    const char *message;    /* the exact message */
} ecase;

#define S1(body) "{'mcpServers':{'s':{" body "}}}"
#define CMD "'command':'x',"
#define URL "'url':'https://h.example/m',"
/* An OAuth auth object with `keys`; OAUTH_KEYS: all it needs. */
#define OAUTH(keys) URL "'auth':{'type':'oauth2_client_credentials'," keys "}"
#define OAUTH_KEYS "'token_url':'https://t/','client_id':'i','client_secret':"
/* Messages several rows expect (after "mcpServers.s.<key>: "). */
#define BAD_REF                                                           \
    "bad ${...} reference (want ${NAME} with NAME of letters, digits and " \
    "'_'; write $${ for a literal ${)"
#define BAD_SECONDS "must be an integer number of seconds in 1..86400"
#define BAD_VAR_NAME                                                      \
    "bad variable name (letters, digits and '_', not starting with a "    \
    "digit, at most 128 bytes)"
#define PLAIN_HTTP                                                        \
    "may use plain http only for loopback hosts (127.0.0.0/8, localhost, " \
    "[::1]); use https"
#define AUTH_TYPES "must be \"sigv4\" or \"oauth2_client_credentials\""
#define SETS_IT "conflicts with \"auth\", which sets it"

static const ecase errors[] = {
    /* the document */
    {"{'mcpServers':", STRANDS_E_PARSE,
     "line 1 column 14: unexpected token near end of file"},
    {"{'mcpServers':{},'mcpServers':{}}", STRANDS_E_PARSE,
     "line 1 column 29: duplicate object key near '\"mcpServers\"'"},
    {"[]", STRANDS_E_INVALID,
     "the top level must be a JSON object {\"mcpServers\": {...}}"},
    {"{'servers':{}}", STRANDS_E_INVALID,
     "servers: unknown top-level key (the file holds {\"mcpServers\": "
     "{...}})"},
    {"{}", STRANDS_E_INVALID,
     "mcpServers: is missing (the file holds {\"mcpServers\": {...}})"},
    {"{'mcpServers':[]}", STRANDS_E_INVALID,
     "mcpServers: must be an object of servers by name"},
    {"{'mcpServers':{'a b':{'command':'x'}}}", STRANDS_E_INVALID,
     "mcpServers: 'a b' is not a valid server name (1..48 of A-Z a-z 0-9 _ "
     ". -)"},
    {"{'mcpServers':{'':{'command':'x'}}}", STRANDS_E_INVALID,
     "mcpServers: '' is not a valid server name (1..48 of A-Z a-z 0-9 _ . "
     "-)"},
    {"{'mcpServers':{'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa':"
     "{'command':'x'}}}", STRANDS_E_INVALID,
     "mcpServers: 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...' is "
     "not a valid server name (1..48 of A-Z a-z 0-9 _ . -)"},
    {"{'mcpServers':{'s':[]}}", STRANDS_E_INVALID,
     "mcpServers.s: must be an object"},
    {S1("'disabled':1," CMD "'x':1"), STRANDS_E_INVALID,
     "mcpServers.s.disabled: must be true or false"},
    {S1(CMD "'foo':1"), STRANDS_E_INVALID,
     "mcpServers.s.foo: unknown key (known: command, args, env, cwd, url, "
     "headers, auth, prefix, allow, deny, timeout_seconds, "
     "startup_timeout_seconds, disabled, type)"},
    /* transport */
    {S1(CMD "'url':'https://h/'"), STRANDS_E_INVALID,
     "mcpServers.s: has both \"command\" and \"url\"; give one (command: a "
     "local stdio server, url: a remote one)"},
    {S1("'prefix':'p'"), STRANDS_E_INVALID,
     "mcpServers.s: has neither \"command\" nor \"url\""},
    {S1("'type':'sse'," URL "'prefix':'p'"), STRANDS_E_INVALID,
     "mcpServers.s.type: \"sse\" (the deprecated HTTP+SSE transport) is not "
     "supported; use a Streamable HTTP endpoint (\"type\": \"http\")"},
    {S1("'type':'websocket'," URL "'prefix':'p'"), STRANDS_E_INVALID,
     "mcpServers.s.type: must be \"stdio\", \"http\" or \"streamable-http\""},
    {S1("'type':3," CMD "'prefix':'p'"), STRANDS_E_INVALID,
     "mcpServers.s.type: must be a string"},
    {S1("'type':'stdio'," URL "'prefix':'p'"), STRANDS_E_INVALID,
     "mcpServers.s.command: is missing (\"type\" is \"stdio\")"},
    {S1("'type':'http'," CMD "'prefix':'p'"), STRANDS_E_INVALID,
     "mcpServers.s.url: is missing (\"type\" is \"http\")"},
    /* stdio keys */
    {S1("'command':7"), STRANDS_E_INVALID,
     "mcpServers.s.command: must be a string"},
    {S1("'command':''"), STRANDS_E_INVALID, "mcpServers.s.command: is empty"},
    {S1(CMD "'args':'a b'"), STRANDS_E_INVALID,
     "mcpServers.s.args: must be an array of strings"},
    {S1(CMD "'args':['a',1]"), STRANDS_E_INVALID,
     "mcpServers.s.args[1]: must be a string"},
    {S1(CMD "'env':[]"), STRANDS_E_INVALID,
     "mcpServers.s.env: must be an object of string values"},
    {S1(CMD "'env':{'1X':'v'}"), STRANDS_E_INVALID,
     "mcpServers.s.env.1X: " BAD_VAR_NAME},
    {S1(CMD "'env':{'A=B':'v'}"), STRANDS_E_INVALID,
     "mcpServers.s.env.A=B: " BAD_VAR_NAME},
    {S1(CMD "'env':{'':'v'}"), STRANDS_E_INVALID,
     "mcpServers.s.env.: " BAD_VAR_NAME},
    {S1(CMD "'env':{'A':true}"), STRANDS_E_INVALID,
     "mcpServers.s.env.A: must be a string"},
    {S1(CMD "'cwd':'rel/dir'"), STRANDS_E_INVALID,
     "mcpServers.s.cwd: must be an absolute path"},
    {S1(CMD "'cwd':1"), STRANDS_E_INVALID, "mcpServers.s.cwd: must be a string"},
    {S1(CMD "'headers':{}"), STRANDS_E_INVALID,
     "mcpServers.s.headers: only for servers with a \"url\" (this one has a "
     "\"command\")"},
    {S1(CMD "'auth':{'type':'sigv4'}"), STRANDS_E_INVALID,
     "mcpServers.s.auth: only for servers with a \"url\" (this one has a "
     "\"command\")"},
    /* HTTP keys */
    {S1(URL "'args':[]"), STRANDS_E_INVALID,
     "mcpServers.s.args: only for servers with a \"command\" (this one has "
     "a \"url\")"},
    {S1(URL "'env':{}"), STRANDS_E_INVALID,
     "mcpServers.s.env: only for servers with a \"command\" (this one has a "
     "\"url\")"},
    {S1(URL "'cwd':'/'"), STRANDS_E_INVALID,
     "mcpServers.s.cwd: only for servers with a \"command\" (this one has a "
     "\"url\")"},
    {S1("'url':5"), STRANDS_E_INVALID, "mcpServers.s.url: must be a string"},
    {S1("'url':'ftp://h/x'"), STRANDS_E_INVALID,
     "mcpServers.s.url: must be an http:// or https:// URL"},
    {S1("'url':''"), STRANDS_E_INVALID, "mcpServers.s.url: the URL is empty"},
    {S1("'url':'https://u:p@h/x'"), STRANDS_E_INVALID,
     "mcpServers.s.url: must not contain user information ('@')"},
    {S1("'url':'http://h.example/m','headers':{'A':'b'}"), STRANDS_E_INVALID,
     "mcpServers.s.url: " PLAIN_HTTP},
    {S1("'url':'http://h.example/m','auth':{'type':'sigv4'}"),
     STRANDS_E_INVALID,
     "mcpServers.s.url: " PLAIN_HTTP},
    {S1(URL "'headers':[]"), STRANDS_E_INVALID,
     "mcpServers.s.headers: must be an object of string values"},
    {S1(URL "'headers':{'A B':'v'}"), STRANDS_E_INVALID,
     "mcpServers.s.headers.A B: bad header name (1..128 token characters)"},
    {S1(URL "'headers':{'':'v'}"), STRANDS_E_INVALID,
     "mcpServers.s.headers.: bad header name (1..128 token characters)"},
    {S1(URL "'headers':{'X':1}"), STRANDS_E_INVALID,
     "mcpServers.s.headers.X: must be a string"},
    {S1(URL "'headers':{'X':'a\\nb'}"), STRANDS_E_INVALID,
     "mcpServers.s.headers.X: the value contains a line break or another "
     "control character"},
    {S1(URL "'headers':{'X-Token':'${CRLF}'}"), STRANDS_E_INVALID,
     "mcpServers.s.headers.X-Token: the value contains a line break or "
     "another control character"},
    {S1(URL "'headers':{'content-type':'text/plain'}"), STRANDS_E_INVALID,
     "mcpServers.s.headers.content-type: is set by the MCP client itself"},
    {S1(URL "'headers':{'Mcp-Session-Id':'1'}"), STRANDS_E_INVALID,
     "mcpServers.s.headers.Mcp-Session-Id: is set by the MCP client itself"},
    {S1(URL "'headers':{'X-A':'1','x-a':'2'}"), STRANDS_E_INVALID,
     "mcpServers.s.headers.x-a: is given twice (header names ignore case)"},
    {S1(URL "'headers':{'Authorization':'Bearer x'},"
            "'auth':{'type':'sigv4'}"), STRANDS_E_INVALID,
     "mcpServers.s.headers.Authorization: " SETS_IT},
    {S1(URL "'headers':{'X-Amz-Date':'x'},'auth':{'type':'sigv4'}"),
     STRANDS_E_INVALID,
     "mcpServers.s.headers.X-Amz-Date: " SETS_IT},
    {S1(URL "'headers':{'authorization':'x'},'auth':{'type':"
            "'oauth2_client_credentials','token_url':'https://t/',"
            "'client_id':'i','client_secret':'s'}"), STRANDS_E_INVALID,
     "mcpServers.s.headers.authorization: " SETS_IT},
    /* auth */
    {S1(URL "'auth':'sigv4'"), STRANDS_E_INVALID,
     "mcpServers.s.auth: must be an object"},
    {S1(URL "'auth':{}"), STRANDS_E_INVALID,
     "mcpServers.s.auth.type: " AUTH_TYPES},
    {S1(URL "'auth':{'type':'bearer'}"), STRANDS_E_INVALID,
     "mcpServers.s.auth.type: " AUTH_TYPES},
    {S1(URL "'auth':{'type':'sigv4','client_id':'x'}"), STRANDS_E_INVALID,
     "mcpServers.s.auth.client_id: unknown key for auth type \"sigv4\""},
    {S1(URL "'auth':{'type':'sigv4','service':'Bedrock_AgentCore'}"),
     STRANDS_E_INVALID,
     "mcpServers.s.auth.service: must be 1..64 of a-z, 0-9 and '-'"},
    {S1(URL "'auth':{'type':'sigv4','service':''}"), STRANDS_E_INVALID,
     "mcpServers.s.auth.service: is empty"},
    {S1(URL "'auth':{'type':'sigv4','region':'us east'}"), STRANDS_E_INVALID,
     "mcpServers.s.auth.region: must be 1..64 of a-z, 0-9 and '-'"},
    {S1(URL "'auth':{'type':'sigv4','region':1}"), STRANDS_E_INVALID,
     "mcpServers.s.auth.region: must be a string"},
    {S1(OAUTH("'service':'x'")),
     STRANDS_E_INVALID,
     "mcpServers.s.auth.service: unknown key for auth type "
     "\"oauth2_client_credentials\""},
    {S1(OAUTH("'client_id':'i','client_secret':'s'")), STRANDS_E_INVALID,
     "mcpServers.s.auth.token_url: is missing"},
    {S1(OAUTH("'token_url':'http://auth.example/t','client_id':'i',"
              "'client_secret':'s'")),
     STRANDS_E_INVALID,
     "mcpServers.s.auth.token_url: " PLAIN_HTTP},
    {S1(OAUTH("'token_url':'https://t/','client_secret':'s'")),
     STRANDS_E_INVALID,
     "mcpServers.s.auth.client_id: is missing"},
    {S1(OAUTH("'token_url':'https://t/','client_id':'i'")), STRANDS_E_INVALID,
     "mcpServers.s.auth.client_secret: is missing"},
    {S1(OAUTH(OAUTH_KEYS "'${EMPTY}'")),
     STRANDS_E_INVALID, "mcpServers.s.auth.client_secret: is empty"},
    {S1(OAUTH(OAUTH_KEYS "'${CRLF}'")),
     STRANDS_E_INVALID,
     "mcpServers.s.auth.client_secret: contains a control character"},
    {S1(OAUTH(OAUTH_KEYS "'s','scopes':'a b'")), STRANDS_E_INVALID,
     "mcpServers.s.auth.scopes: must be an array of strings"},
    {S1(OAUTH(OAUTH_KEYS "'s','scopes':['a','b c']")), STRANDS_E_INVALID,
     "mcpServers.s.auth.scopes[1]: is not a valid scope (printable ASCII, "
     "no spaces, quotes or backslashes)"},
    {S1(OAUTH(OAUTH_KEYS "'s','scopes':[1]")), STRANDS_E_INVALID,
     "mcpServers.s.auth.scopes[0]: must be a string"},
    /* ${VAR} */
    {S1(CMD "'args':['${MISSING}']"), STRANDS_E_INVALID,
     "mcpServers.s.args[0]: environment variable MISSING is not set"},
    {S1(CMD "'env':{'K':'${NOPE}'}"), STRANDS_E_INVALID,
     "mcpServers.s.env.K: environment variable NOPE is not set"},
    {S1("'url':'https://${NOHOST}/'"), STRANDS_E_INVALID,
     "mcpServers.s.url: environment variable NOHOST is not set"},
    {S1(CMD "'args':['${TOKEN']"), STRANDS_E_INVALID,
     "mcpServers.s.args[0]: " BAD_REF},
    {S1(CMD "'args':['${}']"), STRANDS_E_INVALID,
     "mcpServers.s.args[0]: " BAD_REF},
    {S1(CMD "'args':['${1A}']"), STRANDS_E_INVALID,
     "mcpServers.s.args[0]: " BAD_REF},
    {S1(CMD "'args':['${A-B}']"), STRANDS_E_INVALID,
     "mcpServers.s.args[0]: " BAD_REF},
    {S1(CMD "'args':['${BIG}']"), STRANDS_E_TOO_LARGE,
     "mcpServers.s.args[0]: environment variable BIG is longer than 65536 "
     "bytes"},
    {S1(CMD "'args':['${V60K}${V60K}']"), STRANDS_E_TOO_LARGE,
     "mcpServers.s.args[0]: longer than 65536 bytes after ${VAR} expansion"},
    /* keys of both kinds */
    {S1(CMD "'prefix':5"), STRANDS_E_INVALID,
     "mcpServers.s.prefix: must be a string"},
    {S1(CMD "'prefix':'a.b_'"), STRANDS_E_INVALID,
     "mcpServers.s.prefix: may only contain A-Z a-z 0-9 _ -"},
    {S1(CMD "'prefix':'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'"),
     STRANDS_E_INVALID, "mcpServers.s.prefix: is longer than 40 bytes"},
    {"{'mcpServers':{'a.b':{'command':'x'},'a_b':{'command':'y'}}}",
     STRANDS_E_INVALID,
     "mcpServers.a_b.prefix: 'a_b_' is also the prefix of server 'a.b'; "
     "give one of them a distinct \"prefix\""},
    {"{'mcpServers':{'a':{'command':'x','prefix':'p_'},"
     "'b':{'command':'y','prefix':'p_'}}}", STRANDS_E_INVALID,
     "mcpServers.b.prefix: 'p_' is also the prefix of server 'a'; give one "
     "of them a distinct \"prefix\""},
    {"{'mcpServers':{'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1':{'command':"
     "'x'},'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa2':{'command':'y'}}}",
     STRANDS_E_INVALID,
     "mcpServers.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa2.prefix: "
     "'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa2_' is also the prefix of "
     "server 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1' (in its first 40 "
     "bytes, which tool names use); give one of them a distinct \"prefix\""},
    {S1(CMD "'allow':[]"), STRANDS_E_INVALID,
     "mcpServers.s.allow: is empty, which would allow no tool (leave it out "
     "to allow every tool, or set \"disabled\": true)"},
    {S1(CMD "'allow':'a'"), STRANDS_E_INVALID,
     "mcpServers.s.allow: must be an array of tool names"},
    {S1(CMD "'allow':['a','']"), STRANDS_E_INVALID,
     "mcpServers.s.allow[1]: must be a non-empty string"},
    {S1(CMD "'deny':[null]"), STRANDS_E_INVALID,
     "mcpServers.s.deny[0]: must be a non-empty string"},
    {S1(CMD "'timeout_seconds':0"), STRANDS_E_INVALID,
     "mcpServers.s.timeout_seconds: " BAD_SECONDS},
    {S1(CMD "'timeout_seconds':-5"), STRANDS_E_INVALID,
     "mcpServers.s.timeout_seconds: " BAD_SECONDS},
    {S1(CMD "'timeout_seconds':86401"), STRANDS_E_INVALID,
     "mcpServers.s.timeout_seconds: " BAD_SECONDS},
    {S1(CMD "'timeout_seconds':1.5"), STRANDS_E_INVALID,
     "mcpServers.s.timeout_seconds: " BAD_SECONDS},
    {S1(CMD "'timeout_seconds':'30'"), STRANDS_E_INVALID,
     "mcpServers.s.timeout_seconds: " BAD_SECONDS},
    {S1(CMD "'startup_timeout_seconds':3601"), STRANDS_E_INVALID,
     "mcpServers.s.startup_timeout_seconds: must be an integer number of "
     "seconds in 1..3600"},
};

static void test_error_table(void)
{
    for (size_t i = 0; i < sizeof errors / sizeof errors[0]; i++) {
        mcp_config c;
        strands_error e;
        strands_status st = parse(errors[i].json, &c, &e);
        if (st != errors[i].status)
            fprintf(stderr, "  case %zu: %s\n", i, errors[i].json);
        CHECK_INT(st, errors[i].status);
        CHECK_INT(e.status, errors[i].status);
        if (strcmp(e.message, errors[i].message))
            fprintf(stderr, "  case %zu: %s\n", i, errors[i].json);
        CHECK_STR(e.message, errors[i].message);
        /* Secrets from the environment never reach a message. */
        CHECK(!strstr(e.message, "SECRETVAL"));
        CHECK(!strstr(e.message, "s3cr3t"));
        CHECK(!strstr(e.message, "cl1ent"));
        /* The output is empty after an error (free is still safe). */
        CHECK(c.servers == NULL && c.n_servers == 0);
        mcp_config_free(&c);
    }
}

/* Builds {"mcpServers":{"s":{"command":"x","<key>": <n entries>}}}. */
static char *with_entries(const char *key, size_t n, int object)
{
    size_t cap = 64 + n * 32;
    char *j = malloc(cap);
    size_t o = (size_t)snprintf(j, cap, "{\"mcpServers\":{\"s\":{%s"
                                        "\"%s\":%c",
                                !strcmp(key, "headers") ? "\"url\":\"https:"
                                                          "//h/\","
                                                        : "\"command\":\"x\",",
                                key, object ? '{' : '[');
    for (size_t i = 0; i < n; i++)
        o += (size_t)snprintf(j + o, cap - o,
                              object ? "%s\"K%zu\":\"v\"" : "%s\"a%zu\"",
                              i ? "," : "", i);
    snprintf(j + o, cap - o, "%c}}}", object ? '}' : ']');
    return j;
}

static void test_caps(void)
{
    static const struct {
        const char *key;
        int object;
        size_t max;
    } caps[] = {{"args", 0, 256}, {"env", 1, 256}, {"headers", 1, 256},
                {"allow", 0, 1024}, {"deny", 0, 1024}};
    for (size_t i = 0; i < sizeof caps / sizeof caps[0]; i++) {
        for (size_t extra = 0; extra < 2; extra++) {
            char *j = with_entries(caps[i].key, caps[i].max + extra,
                                   caps[i].object);
            mcp_config c;
            strands_error e;
            strands_status st = mcp_config_parse(j, strlen(j), test_env,
                                                 NULL, &c, &e);
            CHECK_INT(st, extra ? STRANDS_E_TOO_LARGE : STRANDS_OK);
            if (extra) {
                char want[160];
                snprintf(want, sizeof want,
                         "mcpServers.s.%s: has %zu entries, more than %zu",
                         caps[i].key, caps[i].max + 1, caps[i].max);
                CHECK_STR(e.message, want);
            } else if (c.n_servers == 1) {
                size_t n = !strcmp(caps[i].key, "args")  ? c.servers[0].n_args
                         : !strcmp(caps[i].key, "env")   ? c.servers[0].n_env
                         : !strcmp(caps[i].key, "allow") ? c.servers[0].n_allow
                         : !strcmp(caps[i].key, "deny")  ? c.servers[0].n_deny
                                                         : c.servers[0].n_headers;
                CHECK_INT(n, caps[i].max);
            }
            mcp_config_free(&c);
            free(j);
        }
    }
    /* 32 servers pass, 33 do not. */
    for (int n = 32; n <= 33; n++) {
        char j[4096];
        size_t o = (size_t)snprintf(j, sizeof j, "{\"mcpServers\":{");
        for (int i = 0; i < n; i++)
            o += (size_t)snprintf(j + o, sizeof j - o,
                                  "%s\"s%d\":{\"command\":\"x\"}",
                                  i ? "," : "", i);
        snprintf(j + o, sizeof j - o, "}}");
        mcp_config c;
        strands_error e;
        strands_status st = mcp_config_parse(j, strlen(j), NULL, NULL, &c, &e);
        CHECK_INT(st, n == 32 ? STRANDS_OK : STRANDS_E_TOO_LARGE);
        CHECK_INT(c.n_servers, n == 32 ? 32 : 0);
        if (n == 33)
            CHECK_STR(e.message, "mcpServers: has 33 servers, more than 32");
        mcp_config_free(&c);
    }
    /* The whole text: 1 MiB. */
    size_t big = MCP_CONFIG_MAX_BYTES + 1;
    char *t = malloc(big);
    memset(t, ' ', big);
    memcpy(t, "{\"mcpServers\":{}}", 17);
    mcp_config c;
    strands_error e;
    CHECK_INT(mcp_config_parse(t, big, NULL, NULL, &c, &e),
              STRANDS_E_TOO_LARGE);
    CHECK_STR(e.message, "MCP_CONFIG: 1048577 bytes, more than 1048576");
    CHECK_INT(mcp_config_parse(t, big - 1, NULL, NULL, &c, &e), STRANDS_OK);
    mcp_config_free(&c);
    free(t);
    /* All expansions together: 4 MiB (here 256 args of 60000 bytes). */
    char *j = malloc(64 + 256 * 12);
    size_t o = (size_t)sprintf(j, "{\"mcpServers\":{\"s\":{\"command\":\"x\","
                                  "\"args\":[");
    for (int i = 0; i < 256; i++)
        o += (size_t)sprintf(j + o, "%s\"${V60K}\"", i ? "," : "");
    sprintf(j + o, "]}}}");
    CHECK_INT(mcp_config_parse(j, strlen(j), test_env, NULL, &c, &e),
              STRANDS_E_TOO_LARGE);
    CHECK_STR(e.message, "mcpServers.s.args[69]: the configuration's values "
                         "exceed 4194304 bytes in all after ${VAR} "
                         "expansion");
    mcp_config_free(&c);
    free(j);
    /* NUL bytes in the text, no text. */
    CHECK_INT(mcp_config_parse("{\"mcpServers\":{}}\0x", 19, NULL, NULL, &c,
                               &e),
              STRANDS_E_PARSE);
    CHECK_INT(mcp_config_parse(NULL, 0, NULL, NULL, &c, &e),
              STRANDS_E_INVALID);
}

/* The process environment is the default lookup. */
static void test_process_env(void)
{
    setenv("STRANDS_TEST_MCP_TOKEN", "from-env", 1);
    const char *j = "{\"mcpServers\":{\"s\":{\"command\":\"x\",\"args\":"
                    "[\"${STRANDS_TEST_MCP_TOKEN}\"]}}}";
    mcp_config c;
    strands_error e;
    CHECK_INT(mcp_config_parse(j, strlen(j), NULL, NULL, &c, &e), STRANDS_OK);
    if (c.n_servers == 1) CHECK_STR(c.servers[0].args[0], "from-env");
    mcp_config_free(&c);
    unsetenv("STRANDS_TEST_MCP_TOKEN");
    CHECK_INT(mcp_config_parse(j, strlen(j), NULL, NULL, &c, &e),
              STRANDS_E_INVALID);
    CHECK_STR(e.message, "mcpServers.s.args[0]: environment variable "
                         "STRANDS_TEST_MCP_TOKEN is not set");
}

static void write_file(const char *path, const char *text, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f) return;
    fwrite(text, 1, n, f);
    fclose(f);
}

static void test_load(void)
{
    char dir[] = "/tmp/mcpconf.XXXXXX";
    if (!mkdtemp(dir)) SKIP("mkdtemp: %s", strerror(errno));
    char path[256], want[512];
    mcp_config c;
    strands_error e;
    /* A good file. */
    snprintf(path, sizeof path, "%s/mcp.json", dir);
    const char *good = "{\"mcpServers\":{\"s\":{\"command\":\"x\","
                       "\"env\":{\"T\":\"${TOKEN}\"}}}}\n";
    write_file(path, good, strlen(good));
    CHECK_INT(mcp_config_load(path, test_env, NULL, &c, &e), STRANDS_OK);
    CHECK_INT(c.n_servers, 1);
    if (c.n_servers == 1) CHECK_STR(c.servers[0].env[0], "T=s3cr3t-token");
    mcp_config_free(&c);
    /* Missing. */
    snprintf(path, sizeof path, "%s/none.json", dir);
    CHECK_INT(mcp_config_load(path, test_env, NULL, &c, &e), STRANDS_E_IO);
    snprintf(want, sizeof want, "%s: No such file or directory", path);
    CHECK_STR(e.message, want);
    /* A directory. */
    CHECK_INT(mcp_config_load(dir, test_env, NULL, &c, &e), STRANDS_E_IO);
    snprintf(want, sizeof want, "%s: not a regular file", dir);
    CHECK_STR(e.message, want);
    /* Too large. */
    snprintf(path, sizeof path, "%s/big.json", dir);
    char *big = malloc(MCP_CONFIG_MAX_BYTES + 1);
    memset(big, ' ', MCP_CONFIG_MAX_BYTES + 1);
    write_file(path, big, MCP_CONFIG_MAX_BYTES + 1);
    free(big);
    CHECK_INT(mcp_config_load(path, test_env, NULL, &c, &e),
              STRANDS_E_TOO_LARGE);
    snprintf(want, sizeof want, "%s: 1048577 bytes, more than 1048576", path);
    CHECK_STR(e.message, want);
    unlink(path);
    /* Unreadable (root reads anything, so only when not root). */
    snprintf(path, sizeof path, "%s/locked.json", dir);
    write_file(path, good, strlen(good));
    chmod(path, 0);
    if (geteuid() != 0) {
        CHECK_INT(mcp_config_load(path, test_env, NULL, &c, &e),
                  STRANDS_E_IO);
        snprintf(want, sizeof want, "%s: Permission denied", path);
        CHECK_STR(e.message, want);
    }
    unlink(path);
    /* Parse errors name the file first. */
    snprintf(path, sizeof path, "%s/bad.json", dir);
    write_file(path, "{\n \"mcpServers\": {\"s\": {\"command\": 1}}}", 39);
    CHECK_INT(mcp_config_load(path, test_env, NULL, &c, &e),
              STRANDS_E_INVALID);
    snprintf(want, sizeof want, "%s: mcpServers.s.command: must be a string",
             path);
    CHECK_STR(e.message, want);
    write_file(path, "{\n \"mcpServers\": {,}}", 21);
    CHECK_INT(mcp_config_load(path, test_env, NULL, &c, &e), STRANDS_E_PARSE);
    snprintf(want, sizeof want, "%s: line 2 column 17: string or '}' "
                                "expected near ','", path);
    CHECK_STR(e.message, want);
    unlink(path);
    snprintf(path, sizeof path, "%s/mcp.json", dir);
    unlink(path);
    rmdir(dir);
    CHECK_INT(mcp_config_load("", NULL, NULL, &c, &e), STRANDS_E_INVALID);
    CHECK_INT(mcp_config_load(NULL, NULL, NULL, &c, &e), STRANDS_E_INVALID);
}

int main(void)
{
    memset(big_value, 'b', sizeof big_value - 1);
    RUN(test_stdio_every_key);
    RUN(test_stdio_defaults);
    RUN(test_http_bearer);
    RUN(test_forward_headers);
    RUN(test_http_plain_and_streamable);
    RUN(test_sigv4);
    RUN(test_oauth);
    RUN(test_expansion);
    RUN(test_disabled_and_empty);
    RUN(test_error_table);
    RUN(test_caps);
    RUN(test_process_env);
    RUN(test_load);
    return test_report();
}
