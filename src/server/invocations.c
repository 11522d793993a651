/* POST /invocations: parse and validate the body (request.c), start a
 * runner, and encode its outcome: as one JSON document
 * {"invocation_id","session_id","response","stop_reason","usage",
 * "iterations"[,"structured_output"]} (this file) or as Server-Sent Events (sse.c). A client
 * that hangs up while it waits cancels its invocation. Async bodies
 * ("async": true, or an "action") are handed to async_http.c.          */
#include <stdio.h>
#include <string.h>

#include "server/async.h"
#include "server/internal.h"
#include "server/runner.h"

/* How long a request waits for an abandoned invocation of its session
 * (whose client went away) to notice and give the session back. */
#define ABANDONED_WAIT_MS 5000

/* SSE when the body says "stream": true, or, when it has no "stream"
 * field, when the Accept header lists text/event-stream. */
static int wants_stream(const handler_ctx *h, int stream)
{
    if (stream >= 0) return stream;
    const char *accept = server_header(h, "Accept");
    return accept && strstr(accept, "text/event-stream") != NULL;
}

/* The JSON encoder: the runner ran on this thread (runner_run), so its
 * outcome is there; a client that hung up meanwhile gets nothing.       */
static enum MHD_Result encode_json(handler_ctx *h, runner *r)
{
    request_ctx *ctx = h->req;
    if (runner_peer_gone(h->fd)) {
        ctx->runner = r; /* released when the request completes */
        return MHD_NO;
    }
    /* Released once the answer is on the wire: until then the invocation
     * counts as in flight, so a graceful shutdown never cuts it off. */
    ctx->runner = r;
    const runner_outcome *o = runner_get_outcome(r);
    if (o->status != STRANDS_OK)
        return server_send_agent_error(h->conn, ctx, &o->error);
    json_t *doc = server_result_json(ctx->request_id, ctx->session_id,
                                     &o->result);
    return server_send_json(h->conn, ctx, 200, doc, SERVER_SESSION_HEADER,
                            ctx->session_id, NULL);
}

enum MHD_Result invocations_handle(handler_ctx *h)
{
    request_ctx *ctx = h->req;
    char why[256];
    request_parsed p;
    request_verdict v = request_parse(
        dynbuf_str(&ctx->body), ctx->body.len,
        server_header(h, SERVER_SESSION_HEADER), &p, why, sizeof why);
    if (v != REQUEST_OK) return server_send_verdict(h, v, why);
    const char *actor = server_header(h, SERVER_USER_HEADER);
    if (!request_actor_id(actor, why, sizeof why)) {
        request_parsed_cleanup(&p);
        return server_send_error(h->conn, ctx, 400, "ValidationError", why);
    }
    if (p.action != REQUEST_ACTION_NONE) /* async.h: no prompt, no runner */
        return async_http_action(h, &p);
    memcpy(ctx->session_id, p.session_id, sizeof ctx->session_id);
    int stream = !p.async && wants_stream(h, p.stream);

    /* A retry right after a dropped stream: let the abandoned invocation
     * give the session back instead of answering 409. */
    runner_set_wait_abandoned(h->runners, ctx->session_id, ABANDONED_WAIT_MS);
    strands_request_header hdrs[STRANDS_REQUEST_HEADERS_MAX];
    strands_request_context rc = {hdrs, server_request_context(h, hdrs)};
    runner_request rq = {
        .session_id = ctx->session_id,
        .request_id = ctx->request_id,
        .prompt = p.prompt,
        .stream = stream,
        .traceparent = server_header(h, "traceparent"),
        .xray = server_header(h, "X-Amzn-Trace-Id"),
        .actor_id = actor,
        .request = rc.n_headers ? &rc : NULL,
        .output_schema = p.output_schema,
    };
    if (p.async) { /* answered 202 at once; runs on in the background */
        enum MHD_Result ret = async_http_submit(h, &rq);
        request_parsed_cleanup(&p);
        return ret;
    }
    strands_error err;
    strands_error_clear(&err);
    /* Streaming needs a producer and a consumer; JSON needs only the
     * outcome, so it runs right here (no thread hand-off) while the
     * runner set watches the socket for a hang-up.                     */
    runner *r = stream ? runner_start(h->runners, &rq, &err)
                       : runner_run(h->runners, &rq, h->fd, &err);
    request_parsed_cleanup(&p);
    if (!r) return server_send_start_error(h, &err);
    return stream ? sse_handle(h, r) : encode_json(h, r);
}
