/* The caller's request context for tools: which request headers reach
 * tools (AgentCore's identity headers and its custom-header prefix), in
 * what bounds. The values are secrets; nothing here logs them.          */
#include <string.h>
#include <strings.h>

#include "server/internal.h"

/* Exact names passed on (case-insensitive). */
static const char *const exact[] = {
    SERVER_USER_HEADER,
    "WorkloadAccessToken",
    "X-Amz-Bedrock-AgentCore-Identity-WAT",
    "OAuth2CallbackUrl",
    "Authorization",
};
#define CUSTOM_PREFIX "X-Amzn-Bedrock-AgentCore-Runtime-Custom-"

/* 1 when a header named `name` reaches tools. */
static int passed_on(const char *name)
{
    for (size_t i = 0; i < sizeof exact / sizeof exact[0]; i++)
        if (!strcasecmp(name, exact[i])) return 1;
    size_t n = strlen(CUSTOM_PREFIX);
    return !strncasecmp(name, CUSTOM_PREFIX, n) && name[n];
}

typedef struct collect_ctx {
    strands_request_header *hdrs;
    size_t n;
} collect_ctx;

static enum MHD_Result collect(void *cls, enum MHD_ValueKind kind,
                               const char *key, const char *value)
{
    (void)kind;
    collect_ctx *c = cls;
    if (!key || !value || !passed_on(key) ||
        strnlen(value, STRANDS_REQUEST_HEADER_VALUE_MAX + 1) >
            STRANDS_REQUEST_HEADER_VALUE_MAX)
        return MHD_YES;
    for (size_t i = 0; i < c->n; i++)
        if (!strcasecmp(c->hdrs[i].name, key)) return MHD_YES; /* first */
    if (c->n >= STRANDS_REQUEST_HEADERS_MAX) return MHD_NO;
    c->hdrs[c->n].name = key;
    c->hdrs[c->n].value = value;
    c->n++;
    return MHD_YES;
}

size_t server_request_context(const handler_ctx *h,
                              strands_request_header *hdrs)
{
    collect_ctx c = {hdrs, 0};
    MHD_get_connection_values(h->conn, MHD_HEADER_KIND, collect, &c);
    return c.n;
}
