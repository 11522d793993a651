/* MCP server mode, the HTTP glue (see mcp_server.h): POST /mcp takes one
 * JSON-RPC message; notifications and responses get 202, requests their
 * answer as application/json or, when the client accepts it and the call
 * streams progress, as text/event-stream. invoke_agent runs the agent
 * through the invocation runner (on this thread for a JSON answer; on a
 * worker, its text deltas sent as notifications/progress, for SSE); a
 * client that hangs up cancels it. Also the server part (srv->mcp).    */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/internal.h"
#include "server/mcp_server.h"
#include "server/runner.h"
#include "strands/util.h"
#include "tools/registry.h"

#define MCP_SESSION_HEADER "Mcp-Session-Id"
/* How long a request waits for an abandoned invocation of its session. */
#define ABANDONED_WAIT_MS 5000
/* Progress notifications one call sends at most (later deltas are only
 * in the final result).                                                */
#define MAX_PROGRESS 10000
/* Largest registry tool result sent back (compact JSON bytes). */
#define TOOL_RESULT_MAX_BYTES ((size_t)16 << 20)

/* How the reply of one request goes out. */
typedef struct reply {
    int sse_only;            /* the client accepts SSE but not JSON */
    const char *session;     /* Mcp-Session-Id to send back, or NULL */
} reply;

/* A client's Mcp-Session-Id when it is safe to echo (visible ASCII,
 * 1..256 bytes), else NULL.                                            */
static const char *echoable(const char *v)
{
    size_t n = v ? strnlen(v, SERVER_SESSION_ID_MAX + 1) : 0;
    if (n < 1 || n > SERVER_SESSION_ID_MAX) return NULL;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)v[i] <= 0x20 || (unsigned char)v[i] >= 0x7f)
            return NULL;
    return v;
}

/* "event: message\ndata: <json>\n\n" for doc (stolen); NULL on OOM. */
static char *sse_message(json_t *doc, size_t *len)
{
    size_t n = 0;
    char *text = server_json_text(doc, &n);
    json_decref(doc);
    *len = 0;
    if (!text) return NULL;
    static const char head[] = "event: message\ndata: ";
    char *out = malloc(sizeof head - 1 + n + 3);
    if (out) {
        memcpy(out, head, sizeof head - 1);
        memcpy(out + sizeof head - 1, text, n);
        memcpy(out + sizeof head - 1 + n, "\n\n", 3);
        *len = sizeof head - 1 + n + 2;
    }
    free(text);
    return out;
}

static void stream_headers(struct MHD_Response *resp, const reply *r)
{
    MHD_add_response_header(resp, "Content-Type", "text/event-stream");
    MHD_add_response_header(resp, "Cache-Control", "no-cache");
    MHD_add_response_header(resp, "X-Accel-Buffering", "no");
    if (r->session) MHD_add_response_header(resp, MCP_SESSION_HEADER, r->session);
}

/* Sends doc (stolen) with status: JSON, or one SSE event for a client
 * that accepts only SSE.                                               */
static enum MHD_Result send_doc(handler_ctx *h, const reply *r, int status,
                                json_t *doc)
{
    if (!r->sse_only)
        return server_send_json(h->conn, h->req, status, doc,
                                MCP_SESSION_HEADER, r->session, NULL);
    size_t len = 0;
    char *body = sse_message(doc, &len);
    if (!body)
        return server_send_error(h->conn, h->req, 500, "InternalError",
                                 "out of memory");
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        free(body);
        return MHD_NO;
    }
    stream_headers(resp, r);
    enum MHD_Result ret = MHD_queue_response(h->conn, (unsigned)status, resp);
    MHD_destroy_response(resp);
    h->req->status = status;
    return ret;
}

static enum MHD_Result send_error(handler_ctx *h, const reply *r,
                                  const json_t *id, mcp_rpc_error *e)
{
    json_t *doc = mcp_rpc_error_doc(id, e);
    mcp_rpc_error_cleanup(e);
    return send_doc(h, r, doc ? e->http_status : 500, doc);
}

/* Sends a result (stolen; NULL: out of memory) as the request's answer. */
static enum MHD_Result send_result(handler_ctx *h, const reply *r,
                                   const json_t *id, const mcp_era *era,
                                   const mcp_server_info *info,
                                   json_t *result)
{
    json_t *doc = mcp_rpc_result_doc(id, mcp_finish_result(result, era, info));
    if (!doc) {
        mcp_rpc_error e;
        mcp_rpc_error_set(&e, MCP_RPC_INTERNAL_ERROR, 500, "out of memory");
        return send_error(h, r, id, &e);
    }
    return send_doc(h, r, 200, doc);
}

static enum MHD_Result send_accepted(handler_ctx *h)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    if (!resp) return MHD_NO;
    enum MHD_Result ret = MHD_queue_response(h->conn, 202, resp);
    MHD_destroy_response(resp);
    h->req->status = 202;
    return ret;
}

/* ---- invoke_agent streamed as SSE ------------------------------------- */

typedef struct mcp_stream {
    char *fallback;              /* the final frame when one cannot be
                                    built (out of memory) */
    size_t fallback_len;
    long progress;               /* notifications sent */
    json_t *id, *token;          /* the request's id and progressToken */
    mcp_era era;
    mcp_server_info info;
    char session_id[SERVER_SESSION_ID_MAX + 1];
    char request_id[SERVER_REQUEST_ID_MAX + 1];
} mcp_stream;

/* A progress notification for a text delta (none when not due). */
static int on_event(void *user, const runner_event *ev, dynbuf *out)
{
    mcp_stream *st = user;
    if (ev->type != STRANDS_EVENT_TEXT_DELTA || st->progress >= MAX_PROGRESS)
        return 0;
    json_t *msg = json_stringn(ev->text, ev->text_len);
    if (!msg) return 0; /* not UTF-8: the final result has the text */
    json_t *doc = json_pack("{s:s, s:s, s:{s:O, s:I, s:o}}", "jsonrpc", "2.0",
                            "method", "notifications/progress", "params",
                            "progressToken", st->token, "progress",
                            (json_int_t)(st->progress + 1), "message", msg);
    size_t len = 0;
    char *f = doc ? sse_message(doc, &len) : NULL;
    if (!f) return 0; /* a lost notification; the result still comes */
    int rc = dynbuf_append(out, f, len) == STRANDS_OK ? 0 : -1;
    free(f);
    if (!rc) st->progress++;
    return rc;
}

/* The tools/call result, or (out of memory) the prepared error answer. */
static int on_end(void *user, runner *r, dynbuf *out)
{
    mcp_stream *st = user;
    const runner_outcome *o = runner_get_outcome(r);
    json_t *res = mcp_invoke_result(st->request_id, st->session_id, o->status,
                                    &o->error, &o->result);
    json_t *doc = res ? mcp_rpc_result_doc(st->id,
                                           mcp_finish_result(res, &st->era,
                                                             &st->info))
                      : NULL;
    size_t len = 0;
    char *f = doc ? sse_message(doc, &len) : NULL;
    int rc = f ? dynbuf_append(out, f, len)
               : dynbuf_append(out, st->fallback, st->fallback_len);
    free(f);
    return rc == STRANDS_OK ? 1 : -1;
}

static void on_free(void *user, runner *r)
{
    (void)r;
    mcp_stream *st = user;
    free(st->fallback);
    json_decref(st->id);
    json_decref(st->token);
    free(st);
}

static const sse_pump_ops stream_ops = {on_event, on_end, on_free};

static enum MHD_Result stream_invoke(handler_ctx *h, const reply *rp,
                                     runner *r, const json_t *id,
                                     const json_t *token, const mcp_era *era,
                                     const mcp_server_info *info)
{
    request_ctx *ctx = h->req;
    mcp_stream *st = calloc(1, sizeof *st);
    mcp_rpc_error e;
    mcp_rpc_error_set(&e, MCP_RPC_INTERNAL_ERROR, 500, "out of memory");
    if (st) st->fallback = sse_message(mcp_rpc_error_doc(id, &e),
                                       &st->fallback_len);
    if (!st || !st->fallback) {
        if (st) free(st);
        runner_release(r);
        return send_error(h, rp, id, &e);
    }
    st->id = json_incref((json_t *)id);
    st->token = json_incref((json_t *)token);
    st->era = *era;
    st->info = *info;
    memcpy(st->session_id, ctx->session_id, sizeof st->session_id);
    memcpy(st->request_id, ctx->request_id, sizeof st->request_id);
    return sse_pump_start(h, r, &stream_ops, st, MCP_SESSION_HEADER,
                          rp->session, NULL);
}

/* ---- tools/call -------------------------------------------------------- */

/* The request's progressToken (a string or an integer), or NULL. */
static const json_t *progress_token(const json_t *params)
{
    const json_t *t =
        json_object_get(json_object_get(params, "_meta"), "progressToken");
    return json_is_string(t) || json_is_integer(t) ? t : NULL;
}

static enum MHD_Result call_invoke(handler_ctx *h, const reply *rp,
                                   const json_t *id, const mcp_era *era,
                                   const mcp_server_info *info,
                                   const json_t *args, const json_t *token,
                                   int sse_ok)
{
    request_ctx *ctx = h->req;
    json_t *prompt = NULL;
    char why[512];
    if (!mcp_invoke_args(args, server_header(h, SERVER_SESSION_HEADER),
                         server_header(h, MCP_SESSION_HEADER), &prompt,
                         ctx->session_id, sizeof ctx->session_id, why,
                         sizeof why))
        return send_result(h, rp, id, era, info, mcp_tool_error_result(why));
    const char *actor = server_header(h, SERVER_USER_HEADER);
    if (!request_actor_id(actor, why, sizeof why)) {
        json_decref(prompt);
        return send_result(h, rp, id, era, info, mcp_tool_error_result(why));
    }
    int stream = sse_ok && token != NULL;
    runner_set_wait_abandoned(h->runners, ctx->session_id, ABANDONED_WAIT_MS);
    strands_request_header hdrs[STRANDS_REQUEST_HEADERS_MAX];
    strands_request_context rc = {hdrs, server_request_context(h, hdrs)};
    runner_request rq = {
        .session_id = ctx->session_id,
        .request_id = ctx->request_id,
        .prompt = prompt,
        .stream = stream,
        .traceparent = server_header(h, "traceparent"),
        .xray = server_header(h, "X-Amzn-Trace-Id"),
        .actor_id = actor,
        .request = rc.n_headers ? &rc : NULL,
    };
    strands_error err;
    strands_error_clear(&err);
    runner *r = stream ? runner_start(h->runners, &rq, &err)
                       : runner_run(h->runners, &rq, h->fd, &err);
    json_decref(prompt);
    if (!r)
        return send_result(h, rp, id, era, info,
                           mcp_invoke_result(ctx->request_id, ctx->session_id,
                                             err.status, &err, NULL));
    if (stream) return stream_invoke(h, rp, r, id, token, era, info);
    /* Released once the answer is on the wire (counts as in flight). */
    ctx->runner = r;
    if (runner_peer_gone(h->fd)) return MHD_NO;
    const runner_outcome *o = runner_get_outcome(r);
    return send_result(h, rp, id, era, info,
                       mcp_invoke_result(ctx->request_id, ctx->session_id,
                                         o->status, &o->error, &o->result));
}

static const char *header_of(void *user, const char *name)
{
    return server_header(user, name);
}

/* A registry tool (MCP_SERVE_TOOLS=true). */
static enum MHD_Result call_registry(handler_ctx *h, const reply *rp,
                                     const json_t *id, const mcp_era *era,
                                     const mcp_server_info *info,
                                     const char *name, const json_t *args)
{
    strands_server *s = h->srv;
    strands_tool_snapshot *snap = s->cfg.mcp_serve_tools && s->cfg.tools
                                      ? strands_tool_registry_snapshot(
                                            s->cfg.tools)
                                      : NULL;
    const strands_tool *tool = snap ? strands_tool_snapshot_find(snap, name)
                                    : NULL;
    if (!tool) {
        strands_tool_snapshot_release(snap);
        mcp_rpc_error e;
        mcp_rpc_error_set(&e, MCP_RPC_INVALID_PARAMS, 200,
                          "Unknown tool: %.100s", name);
        json_t *t = json_string(e.message);
        if (!t) mcp_rpc_error_set(&e, MCP_RPC_INVALID_PARAMS, 200,
                                  "Unknown tool");
        json_decref(t);
        return send_error(h, rp, id, &e);
    }
    mcp_rpc_error pe;
    if (era->modern &&
        mcp_rpc_check_param_headers(tools_tool_schema(tool), args, header_of,
                                    h, &pe)) {
        strands_tool_snapshot_release(snap);
        return send_error(h, rp, id, &pe);
    }
    const char *session = server_header(h, SERVER_SESSION_HEADER);
    if (!session) session = echoable(server_header(h, MCP_SESSION_HEADER));
    strands_request_header hdrs[STRANDS_REQUEST_HEADERS_MAX];
    strands_request_context rc = {hdrs, server_request_context(h, hdrs)};
    int64_t timeout = tools_tool_timeout_ms(tool);
    if (!timeout)
        timeout = s->cfg.tool_timeout_s > 0
                      ? (int64_t)s->cfg.tool_timeout_s * 1000
                      : MCP_SERVER_TOOL_TIMEOUT_MS;
    mcp_tool_call call = {.tool = tool,
                          .input = args,
                          .session_id = session ? session : "",
                          .request = rc.n_headers ? &rc : NULL,
                          .timeout_ms = timeout,
                          .watch_fd = h->fd};
    json_t *content = NULL;
    strands_error err;
    strands_error_clear(&err);
    strands_status st = mcp_server_call_tool(s->mcp, &call, &content, &err);
    strands_tool_snapshot_release(snap);
    if (st == STRANDS_E_CANCELLED && runner_peer_gone(h->fd)) return MHD_NO;
    if (st == STRANDS_OK &&
        json_dumpb(content, NULL, 0, JSON_COMPACT) > TOOL_RESULT_MAX_BYTES) {
        json_decref(content);
        content = NULL;
        st = strands_error_set(&err, STRANDS_E_TOO_LARGE, NULL,
                               "tool '%.64s' returned more than %zu bytes",
                               name, TOOL_RESULT_MAX_BYTES);
    }
    json_t *res = st == STRANDS_OK ? mcp_tool_result(content)
                                   : mcp_tool_error_result(err.message);
    json_decref(content);
    return send_result(h, rp, id, era, info, res);
}

static enum MHD_Result tools_call(handler_ctx *h, const reply *rp,
                                  const mcp_rpc_msg *m, const mcp_era *era,
                                  const mcp_server_info *info, int sse_ok)
{
    const json_t *name = json_object_get(m->params, "name");
    const json_t *args = json_object_get(m->params, "arguments");
    mcp_rpc_error e;
    if (!json_is_string(name) ||
        strlen(json_string_value(name)) != json_string_length(name)) {
        mcp_rpc_error_set(&e, MCP_RPC_INVALID_PARAMS, 200,
                          "Invalid params: \"name\" must be a string");
        return send_error(h, rp, m->id, &e);
    }
    if (args && !json_is_null(args) && !json_is_object(args)) {
        mcp_rpc_error_set(&e, MCP_RPC_INVALID_PARAMS, 200,
                          "Invalid params: \"arguments\" must be an object");
        return send_error(h, rp, m->id, &e);
    }
    json_t *empty = NULL;
    if (!json_is_object(args)) args = empty = json_object();
    if (!args) {
        mcp_rpc_error_set(&e, MCP_RPC_INTERNAL_ERROR, 500, "out of memory");
        return send_error(h, rp, m->id, &e);
    }
    enum MHD_Result ret =
        !strcmp(json_string_value(name), MCP_SERVER_INVOKE_TOOL)
            ? call_invoke(h, rp, m->id, era, info, args,
                          progress_token(m->params), sse_ok)
            : call_registry(h, rp, m->id, era, info,
                            json_string_value(name), args);
    json_decref(empty);
    return ret;
}

/* ---- the route --------------------------------------------------------- */

static enum MHD_Result tools_list(handler_ctx *h, const reply *rp,
                                  const mcp_rpc_msg *m, const mcp_era *era,
                                  const mcp_server_info *info)
{
    mcp_rpc_error e;
    const json_t *cursor = json_object_get(m->params, "cursor");
    if (cursor && !json_is_null(cursor) && !json_is_string(cursor)) {
        mcp_rpc_error_set(&e, MCP_RPC_INVALID_PARAMS, 200,
                          "Invalid params: \"cursor\" must be a string");
        return send_error(h, rp, m->id, &e);
    }
    strands_server *s = h->srv;
    strands_tool_snapshot *snap =
        s->cfg.mcp_serve_tools && s->cfg.tools
            ? strands_tool_registry_snapshot(s->cfg.tools)
            : NULL;
    json_t *res = mcp_tools_list_result(snap, json_string_value(cursor), &e);
    /* The result holds references to the snapshot's schemas; they are
     * never changed, so the snapshot may go now.                       */
    strands_tool_snapshot_release(snap);
    if (!res) return send_error(h, rp, m->id, &e);
    return send_result(h, rp, m->id, era, info, res);
}

enum MHD_Result mcp_server_handle(handler_ctx *h)
{
    request_ctx *ctx = h->req;
    strands_server *s = h->srv;
    mcp_server_info info = {s->cfg.agent_name, s->cfg.agent_description};
    reply rp = {0, NULL};
    mcp_rpc_msg m;
    mcp_rpc_error e;
    json_t *err_id = NULL;
    if (mcp_rpc_parse(dynbuf_str(&ctx->body), ctx->body.len, &m, &err_id,
                      &e)) {
        enum MHD_Result ret = send_error(h, &rp, err_id, &e);
        json_decref(err_id);
        return ret;
    }
    if (m.kind != MCP_MSG_REQUEST) {
        mcp_rpc_msg_cleanup(&m);
        return send_accepted(h);
    }
    int json_ok, sse_ok;
    mcp_rpc_accept(server_header(h, "Accept"), &json_ok, &sse_ok);
    enum MHD_Result ret;
    mcp_era era;
    mcp_rpc_headers hh = {server_header(h, "MCP-Protocol-Version"),
                          server_header(h, "Mcp-Method"),
                          server_header(h, "Mcp-Name")};
    if (!json_ok && !sse_ok) {
        mcp_rpc_error_set(&e, MCP_RPC_INVALID_REQUEST, 406,
                          "Not Acceptable: the client must accept "
                          "application/json or text/event-stream");
        ret = send_error(h, &rp, m.id, &e);
    } else if (mcp_rpc_check(&m, &hh, &era, &e)) {
        ret = send_error(h, &rp, m.id, &e);
    } else {
        rp.sse_only = !json_ok;
        /* Legacy revisions: a client's session id is echoed (never
         * checked: the server keeps no session); 2026-07-28 has none. */
        rp.session = era.modern ? NULL
                                : echoable(server_header(h, MCP_SESSION_HEADER));
        const char *method = m.method;
        char minted[37];
        if (!strcmp(method, "initialize")) {
            if (!rp.session) {
                strands_uuid4(minted);
                rp.session = minted;
            }
            const json_t *pv = json_object_get(m.params, "protocolVersion");
            if (!json_is_string(pv)) {
                mcp_rpc_error_set(&e, MCP_RPC_INVALID_PARAMS, 200,
                                  "Invalid params: \"protocolVersion\" must "
                                  "be a string");
                ret = send_error(h, &rp, m.id, &e);
            } else {
                ret = send_result(h, &rp, m.id, &era, &info,
                                  mcp_initialize_result(json_string_value(pv),
                                                        &info));
            }
        } else if (!strcmp(method, "server/discover")) {
            ret = send_result(h, &rp, m.id, &era, &info,
                              mcp_discover_result(&info));
        } else if (!strcmp(method, "ping") && !era.modern) {
            ret = send_result(h, &rp, m.id, &era, &info, json_object());
        } else if (!strcmp(method, "tools/list")) {
            ret = tools_list(h, &rp, &m, &era, &info);
        } else if (!strcmp(method, "tools/call")) {
            ret = tools_call(h, &rp, &m, &era, &info, sse_ok);
        } else {
            char shown[80];
            snprintf(shown, sizeof shown, "%.64s", method);
            json_t *t = json_string(shown);
            mcp_rpc_error_set(&e, MCP_RPC_METHOD_NOT_FOUND,
                              era.modern ? 404 : 200,
                              "Method not found: %s",
                              t ? shown : "(not UTF-8)");
            json_decref(t);
            ret = send_error(h, &rp, m.id, &e);
        }
    }
    mcp_rpc_msg_cleanup(&m);
    return ret;
}

/* ---- the server part --------------------------------------------------- */

static strands_status mcp_part_init(strands_server *s, strands_error *err)
{
    if (s->cfg.protocol != STRANDS_PROTOCOL_MCP) return STRANDS_OK;
    s->mcp = calloc(1, sizeof *s->mcp);
    if (!s->mcp)
        return strands_error_set(err, STRANDS_E_NOMEM, NULL, "out of memory");
    atomic_init(&s->mcp->calls, 0);
    return STRANDS_OK;
}

static void mcp_part_cleanup(strands_server *s)
{
    free(s->mcp);
    s->mcp = NULL;
}

const server_part mcp_server_part = {"mcp", mcp_part_init, NULL,
                                     mcp_part_cleanup};
