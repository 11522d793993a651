/* libFuzzer target for MCP_CONFIG parsing (src/mcp/config.c): the input
 * is the config text; ${A}, ${B} and ${EMPTY} are set (B holds a line
 * break), other variables are not. Checks: a parse either succeeds, and
 * then every server is well formed (valid name and prefix, arrays
 * NULL-terminated at their counts, one transport, timeouts in range),
 * and every enabled server's allow/deny lists answer; or it fails with
 * a known status and a non-empty message that never contains B's value.
 * Never crash, leak or read out of bounds.                             */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mcp/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *lookup(void *user, const char *name)
{
    (void)user;
    if (!strcmp(name, "A")) return "value-a";
    if (!strcmp(name, "B")) return "SECRET\r\nX: y";
    if (!strcmp(name, "EMPTY")) return "";
    return NULL;
}

static int valid_chars(const char *s, const char *extra)
{
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
              (*s >= '0' && *s <= '9') || strchr(extra, *s)))
            return 0;
    return 1;
}

static void check_list(char **list, size_t n, int must_exist)
{
    if (!list) {
        if (must_exist || n) abort();
        return;
    }
    for (size_t i = 0; i < n; i++)
        if (!list[i]) abort();
    if (list[n]) abort();
}

static void check_server(const mcp_server_config *s)
{
    size_t nl = strlen(s->name);
    if (nl < 1 || nl > 48 || !valid_chars(s->name, "_.-")) abort();
    if (!s->prefix || strlen(s->prefix) > 49 ||
        !valid_chars(s->prefix, "_-"))
        abort();
    if (s->is_http) {
        if (!s->url || s->command) abort();
        check_list(s->headers, s->n_headers, 1);
        for (size_t i = 0; i < s->n_headers; i++)
            if (strpbrk(s->headers[i], "\r\n")) abort();
    } else {
        if (!s->command || !*s->command || s->url) abort();
        if (s->auth.kind != MCP_AUTH_NONE) abort();
        check_list(s->args, s->n_args, 1);
        check_list(s->env, s->n_env, 1);
        for (size_t i = 0; i < s->n_env; i++)
            if (!strchr(s->env[i], '=')) abort();
    }
    check_list(s->allow, s->n_allow, 0);
    check_list(s->deny, s->n_deny, 0);
    if (s->auth.kind == MCP_AUTH_SIGV4 && !s->auth.service) abort();
    if (s->auth.kind == MCP_AUTH_OAUTH2_CLIENT_CREDENTIALS &&
        (!s->auth.token_url || !s->auth.client_id || !s->auth.client_secret))
        abort();
    if (s->timeout_ms < 0 || s->timeout_ms > 86400000L) abort();
    if (s->startup_timeout_ms < 1000 || s->startup_timeout_ms > 3600000L)
        abort();
    for (size_t i = 0; i < s->n_allow; i++)
        (void)mcp_config_tool_allowed(s, s->allow[i]);
    (void)mcp_config_tool_allowed(s, "tool");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 65536) return 0;
    mcp_config c;
    strands_error e;
    strands_status st = mcp_config_parse((const char *)data, size, lookup,
                                         NULL, &c, &e);
    if (st == STRANDS_OK) {
        if (c.n_servers > MCP_CONFIG_MAX_SERVERS) abort();
        for (size_t i = 0; i < c.n_servers; i++) check_server(&c.servers[i]);
    } else {
        if (st != STRANDS_E_PARSE && st != STRANDS_E_INVALID &&
            st != STRANDS_E_TOO_LARGE && st != STRANDS_E_NOMEM)
            abort();
        if (!e.message[0]) abort();
        if (strstr(e.message, "SECRET") && !memmem(data, size, "SECRET", 6))
            abort();
        if (c.servers || c.n_servers) abort();
    }
    mcp_config_free(&c);
    return 0;
}
