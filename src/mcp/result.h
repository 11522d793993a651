/* MCP CallToolResult -> Converse toolResult content:
 *   text                      -> {"text": ...}
 *   image (png/jpeg/gif/webp) -> {"image": {"format", "source": {"bytes"}}}
 *   other image/audio         -> {"text": "[<type> content (<mime>), N bytes, not shown]"}
 *   resource with text        -> {"text": ...} (uri noted)
 *   resource with blob of a document type (pdf, csv, doc, docx, xls,
 *     xlsx, html, txt, md)    -> {"document": {"format", "name", "source": {"bytes"}}}
 *   resource with blob of an image type above -> {"image": ...}
 *   other blob                -> a text note
 *   resource_link             -> {"text": "resource: <uri> ..."}
 *   structuredContent         -> {"json": ...} (appended)
 *   isError: true             -> *is_error = 1 (the agent reports status
 *                                "error" with the text of the content)
 * Base64 payloads are checked (net/base64.h) before they are passed on.
 * Unknown content types become a text note; nothing is silently dropped. */
#ifndef STRANDS_MCP_RESULT_H
#define STRANDS_MCP_RESULT_H

#include <jansson.h>
#include <stddef.h>

#include "strands/status.h"

/** Converts `result` (borrowed, the JSON-RPC "result" of tools/call) into
 * *content_out (a new array of content blocks, never empty: an empty
 * result gives [{"text": ""}]) and *is_error. E_PARSE when result is not
 * an object or "content" is present but not an array (absent counts as
 * empty); E_NOMEM.                                                      */
strands_status mcp_result_to_content(const json_t *result,
                                     json_t **content_out, int *is_error,
                                     strands_error *err);

/** The text of a content array (text blocks joined with '\n', others as
 * short notes), for an error message: writes at most cap-1 bytes + NUL. */
void mcp_result_error_text(const json_t *content, char *out, size_t cap);

#endif
