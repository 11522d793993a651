/* MCP_CONFIG: the JSON file that names the MCP servers, in the
 * "mcpServers" format other MCP hosts use, plus our per-server keys:
 *
 *   {"mcpServers": {
 *      "<name>": {"command": "npx", "args": [...], "env": {"K": "v"},
 *                 "cwd": "/dir"}                                  (stdio)
 *    | "<name>": {"url": "https://...", "headers": {"K": "v"},
 *                 "auth": {"type": "sigv4", "service": "...",
 *                          "region": "..."}
 *                       | {"type": "oauth2_client_credentials",
 *                          "token_url": "...", "client_id": "...",
 *                          "client_secret": "${VAR}", "scopes": [...]}
 *                 "forward_headers": ["Authorization", ...]
 *                 }                                      (Streamable HTTP)
 *      ...each also: "prefix" (default "<name>_"), "allow"/"deny" (tool
 *      names, as the server spells them), "timeout_seconds" (per call;
 *      default TOOL_TIMEOUT_SECONDS), "startup_timeout_seconds" (default
 *      30), "disabled" (true: skipped), "type" ("stdio" | "http" |
 *      "streamable-http"; optional, inferred from command/url)
 *   }}
 *
 * String values of env, headers, url, args and auth take ${VAR}
 * expansion from the environment (a missing VAR is an error naming it;
 * "$${" is a literal "${"), so secrets stay out of the file. Parsing is
 * strict: unknown keys, wrong types and bad values are errors naming the
 * server and key. Caps: file 1 MiB, 32 servers, 256 args/env/headers
 * entries per server, 1024 allow/deny names, 64 KiB per expanded value
 * (4 MiB in all). A "disabled" entry is not read beyond that key. URLs
 * go through net_url_parse; with headers, forward_headers or auth
 * (credentials) plain
 * http:// is accepted only to a loopback host, and an OAuth token_url
 * always so. Two enabled servers may not share a non-empty prefix.    */
#ifndef STRANDS_MCP_CONFIG_H
#define STRANDS_MCP_CONFIG_H

#include <stddef.h>

#include "strands/config.h"
#include "strands/status.h"

#define MCP_CONFIG_MAX_BYTES ((size_t)1 << 20)
#define MCP_CONFIG_MAX_SERVERS 32
#define MCP_DEFAULT_STARTUP_TIMEOUT_MS 30000L

typedef enum mcp_auth_kind {
    MCP_AUTH_NONE = 0,
    MCP_AUTH_SIGV4,
    MCP_AUTH_OAUTH2_CLIENT_CREDENTIALS
} mcp_auth_kind;

typedef struct mcp_auth_config {
    mcp_auth_kind kind;
    /* SigV4 */
    char *service;        /* default "bedrock-agentcore" */
    char *region;         /* NULL: the runtime's AWS region */
    /* OAuth 2.0 client credentials */
    char *token_url;
    char *client_id;
    char *client_secret;  /* expanded; wiped on free */
    char *scope;          /* scopes joined with ' ', NULL: none */
} mcp_auth_config;

/* Most names one server's "forward_headers" may list. */
#define MCP_FORWARD_HEADERS_MAX 32

typedef struct mcp_server_config {
    char *name;           /* the key under mcpServers, [A-Za-z0-9_.-]{1,48} */
    int is_http;          /* 0: stdio (command), 1: Streamable HTTP (url) */
    /* stdio */
    char *command;
    char **args;          /* NULL-terminated (n_args entries); never
                             NULL for stdio (same for env) */
    size_t n_args;
    char **env;           /* "KEY=value" entries, NULL-terminated */
    size_t n_env;
    char *cwd;            /* NULL: the runtime's */
    /* HTTP */
    char *url;
    char **headers;       /* "Name: value" lines, NULL-terminated; never
                             NULL for HTTP */
    size_t n_headers;
    mcp_auth_config auth;
    char **forward_headers; /* caller headers passed on with each
                             tools/call (names, as configured), NULL:
                             none; at most MCP_FORWARD_HEADERS_MAX */
    size_t n_forward;
    /* both */
    char *prefix;         /* default "<name>_" (name with chars outside
                             [A-Za-z0-9_-] replaced by '_'); may be "" */
    char **allow;         /* NULL: every tool; else only these */
    size_t n_allow;
    char **deny;          /* tools left out (after allow) */
    size_t n_deny;
    long timeout_ms;      /* per-call deadline; 0: TOOL_TIMEOUT_SECONDS */
    long startup_timeout_ms; /* connect + first list; default 30 s */
} mcp_server_config;

typedef struct mcp_config {
    mcp_server_config *servers; /* enabled servers, in file order */
    size_t n_servers;
} mcp_config;

/** Parses config text (len bytes). getenv_fn/user resolve ${VAR} (NULL:
 * the process environment, see core/env.h). Fills *out (caller storage;
 * release with mcp_config_free, also after an error). E_PARSE for bad
 * JSON (with line and column), E_INVALID naming "mcpServers.<name>.<key>"
 * and what is wrong, E_TOO_LARGE over a cap.                          */
strands_status mcp_config_parse(const char *text, size_t len,
                                strands_getenv_fn *getenv_fn, void *user,
                                mcp_config *out, strands_error *err);
/** Reads the file at path (≤ MCP_CONFIG_MAX_BYTES) and parses it; errors
 * as mcp_config_parse, plus E_IO naming the path and errno.           */
strands_status mcp_config_load(const char *path, strands_getenv_fn *getenv_fn,
                               void *user, mcp_config *out,
                               strands_error *err);
/** Frees what *c holds (secrets wiped) and zeroes it. NULL is a no-op. */
void mcp_config_free(mcp_config *c);

/** Frees what one server entry holds (secrets wiped) and zeroes it, e.g.
 * an entry moved out of an mcp_config (NULL is a no-op).              */
void mcp_server_config_clear(mcp_server_config *s);

/** Whether the server's allow/deny lists let `tool` (the server's name
 * for it) through: in allow (when set) and not in deny.               */
int mcp_config_tool_allowed(const mcp_server_config *s, const char *tool);

#endif
