/* Authentication for remote MCP servers (Streamable HTTP): the headers a
 * request needs on top of its own. Static headers ("Authorization: Bearer
 * ${TOKEN}") are expanded at configuration time (config.c); this file owns
 * the two kinds that are computed per request:
 *  - SigV4 (service "bedrock-agentcore" by default) for AgentCore Gateway
 *    with IAM auth, signed with the runtime's AWS credential chain;
 *  - OAuth 2.0 client credentials: a token fetched from the token URL
 *    with the client id and secret, cached until shortly before expiry,
 *    sent as "Authorization: Bearer <token>".
 * Tokens and secrets never appear in error messages or logs. Thread-safe. */
#ifndef STRANDS_MCP_AUTH_H
#define STRANDS_MCP_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "mcp/config.h"
#include "strands/aws.h"
#include "strands/status.h"

typedef struct mcp_auth mcp_auth;
typedef struct http_client http_client;

/** An authenticator for cfg (copied). creds/region are used for SigV4
 * (borrowed; creds outlive the object; region is the fallback when cfg
 * names none); http (borrowed) fetches OAuth tokens. NULL + err when cfg
 * is unusable (e.g. SigV4 without credentials provider) or on OOM.
 * cfg->kind == MCP_AUTH_NONE gives NULL with err->status == STRANDS_OK. */
mcp_auth *mcp_auth_new(const mcp_auth_config *cfg,
                       strands_credentials_provider *creds,
                       const char *region, http_client *http,
                       strands_error *err);
/** Frees (NULL is a no-op); wipes cached tokens. */
void mcp_auth_free(mcp_auth *a);

/* The request being authenticated; all borrowed. */
typedef struct mcp_auth_request {
    const char *method;          /* "POST" */
    const char *url;             /* full URL */
    const char *const *headers;  /* the "Name: value" lines that will be
                                    sent (SigV4 signs content-type and the
                                    Mcp-* ones) */
    size_t n_headers;
    const void *body;
    size_t body_len;
    int64_t deadline_ms;         /* for a token fetch; 0: 30 s */
} mcp_auth_request;

/** Computes the auth header lines for one request: *lines_out = a new
 * NULL-terminated array of new "Name: value" strings (free with
 * mcp_header_lines_free from transport.h), *n_out their count. Errors:
 * E_NO_CREDENTIALS, E_UPSTREAM (token endpoint refused; err->http_status),
 * E_NETWORK, E_TIMEOUT, E_NOMEM; messages never include a secret.     */
strands_status mcp_auth_headers(mcp_auth *a, const mcp_auth_request *req,
                                char ***lines_out, size_t *n_out,
                                strands_error *err);
/** Forgets a cached OAuth token (after the server answered 401), so the
 * next request fetches a new one. No-op for other kinds.              */
void mcp_auth_invalidate(mcp_auth *a);

#endif
