/* The body of a Streamable HTTP reply, turned into JSON-RPC messages: a
 * JSON body (one message, or a batch array of them) or an SSE stream whose
 * "message" events each carry one. Bytes are fed as they arrive, so a long
 * stream is delivered message by message; each message is capped.
 * Factored out of http.c so it can be fuzzed (fuzz/fuzz_mcp_http_reply.c). */
#ifndef STRANDS_MCP_HTTP_REPLY_H
#define STRANDS_MCP_HTTP_REPLY_H

#include <jansson.h>
#include <stddef.h>

#include "core/buf.h"
#include "mcp/transport.h"
#include "net/sse_decoder.h"
#include "strands/status.h"

typedef struct mcp_http_reply {
    int sse;                     /* 1: text/event-stream */
    size_t max_message;
    mcp_on_message_fn *on_message;
    void *user;
    const json_t *want_id;       /* borrowed; the request's id or NULL */
    int done;                    /* the response to want_id was delivered */
    size_t delivered;            /* messages handed to on_message */
    dynbuf body;                 /* JSON mode */
    net_sse_decoder *dec;        /* SSE mode */
    strands_status st;           /* first error (sticky) */
    strands_error err;
} mcp_http_reply;

/** Prepares r (caller storage) for a body of `content_type` (NULL or ""
 * reads as JSON; "text/event-stream" with any parameters as SSE).
 * max_message: cap on one message (0: 16 MiB). want_id (borrowed, may be
 * NULL): when a response with this id arrives, r->done is set and an SSE
 * stream is not read further. fn/user get each message (borrowed object).
 * E_NOMEM. Release with mcp_http_reply_cleanup (also after errors).   */
strands_status mcp_http_reply_init(mcp_http_reply *r, const char *content_type,
                                   size_t max_message, const json_t *want_id,
                                   mcp_on_message_fn *fn, void *user,
                                   strands_error *err);
/** Feeds n bytes. OK (also when the stream was stopped because r->done);
 * E_TOO_LARGE (a message over the cap), E_PARSE (not JSON, or not an
 * object / array of objects), E_NOMEM. Errors are sticky.             */
strands_status mcp_http_reply_feed(mcp_http_reply *r, const void *p, size_t n,
                                   strands_error *err);
/** The body ended: a JSON body is parsed and delivered now (an empty or
 * blank body delivers nothing); an SSE stream's partial event is dropped.
 * Returns the sticky error, if any.                                   */
strands_status mcp_http_reply_finish(mcp_http_reply *r, strands_error *err);
/** Frees what r holds (safe on a zeroed or failed reply). */
void mcp_http_reply_cleanup(mcp_http_reply *r);

/** Whether body[0..n) is one JSON-RPC 2.0 message (an object with
 * "jsonrpc": "2.0" and a result, an error or a method). On 1, *out is
 * the parsed object (the caller decrefs); else *out is NULL.          */
int mcp_http_jsonrpc_message(const char *body, size_t n, json_t **out);

#endif
