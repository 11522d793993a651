/* Header values for the Streamable HTTP transport (2026-07-28 rules):
 * the Base64 sentinel encoding of Mcp-Name / Mcp-Param-* values, and the
 * plain header-safety check used for every line we send. The x-mcp-header
 * functions themselves are declared in transport.h (mcp_http_param_headers,
 * mcp_http_check_param_annotations, mcp_header_lines_free).             */
#ifndef STRANDS_MCP_HTTP_HEADERS_H
#define STRANDS_MCP_HTTP_HEADERS_H

#include <stddef.h>

/* Longest header value we produce (encoded); longer is an error. */
#define MCP_HTTP_MAX_HEADER_VALUE 8192u

/** The header value for s[0..len): s itself when it is plain header-safe
 * ASCII (0x20-0x7E, no leading/trailing space, not empty, not shaped like
 * the sentinel), else "=?base64?<Base64 of the bytes>?=". A new string
 * (free()); NULL on OOM.                                               */
char *mcp_http_encode_value(const char *s, size_t len);

/** 1 when `line` ("Name: value") is safe to hand to libcurl as one header:
 * a token name, a colon, and a value of visible ASCII, space or tab (no
 * CR, LF, NUL or other control byte). 0 otherwise.                     */
int mcp_http_header_line_ok(const char *line);

#endif
