/* The Server-Sent Events encoder for POST /invocations: a thin consumer
 * of a streaming runner. The shared SSE body (sse_pump.c) pops the
 * runner's events; this file turns each into its frame (sse_event.c) and
 * the end into `done` or `error`. A failure before the agent began keeps
 * its own HTTP status.                                                  */
#include <stdlib.h>
#include <string.h>

#include "server/internal.h"
#include "server/runner.h"

/* The ids the closing frame names (one allocation per stream). */
typedef struct sse_ids {
    char session_id[SERVER_SESSION_ID_MAX + 1];
    char request_id[SERVER_REQUEST_ID_MAX + 1];
} sse_ids;

/* Out of memory: a well-formed error ends the stream. */
static int oom(dynbuf *out)
{
    return dynbuf_puts(out, sse_oom_frame) == STRANDS_OK ? 1 : -1;
}

static int on_event(void *user, const runner_event *ev, dynbuf *out)
{
    (void)user;
    size_t len = 0;
    char *f = sse_format_event(ev, &len);
    if (!f) return oom(out);
    int rc = dynbuf_append(out, f, len) == STRANDS_OK ? 0 : oom(out);
    free(f);
    return rc;
}

/* The frame that closes the stream: done, or error once output began. */
static int on_end(void *user, runner *r, dynbuf *out)
{
    sse_ids *ids = user;
    size_t len = 0;
    int owned = 0;
    const char *f = sse_final_frame(runner_get_outcome(r), ids->request_id,
                                    ids->session_id, &len, &owned);
    int rc = dynbuf_append(out, f, len) == STRANDS_OK ? 1 : -1;
    if (owned) free((char *)f);
    return rc;
}

static void on_free(void *user, runner *r)
{
    (void)r;
    free(user);
}

static const sse_pump_ops ops = {on_event, on_end, on_free};

enum MHD_Result sse_handle(handler_ctx *h, runner *r)
{
    request_ctx *ctx = h->req;
    enum MHD_Result ret;
    if (!sse_pump_wait_started(h, r, &ret)) return ret;
    sse_ids *ids = malloc(sizeof *ids);
    if (!ids) {
        runner_release(r);
        return server_send_error(h->conn, ctx, 500, "InternalError",
                                 "out of memory");
    }
    memcpy(ids->session_id, ctx->session_id, sizeof ids->session_id);
    memcpy(ids->request_id, ctx->request_id, sizeof ids->request_id);
    return sse_pump_start(h, r, &ops, ids, SERVER_SESSION_HEADER,
                          ctx->session_id, NULL);
}
