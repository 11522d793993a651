/* The A2A server's HTTP side (SERVER_PROTOCOL=A2A): POST / takes one
 * JSON-RPC request (a2a_rpc.c parses it) and answers it from the task
 * table (a2a_tasks.c); a message becomes a task run by a streaming runner
 * whose text deltas the "pump" appends to the task as they come, on the
 * request's thread (blocking send), in the SSE reader (streaming send),
 * or on a thread of the table's (returnImmediately / blocking=false).
 * GET /.well-known/agent-card.json (and the 0.2 path agent.json) serves
 * the card. The part row creates the table and, at stop, cancels and
 * joins what still runs.                                                */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "server/a2a.h"
#include "server/runner.h"
#include "strands/clock.h"
#include "strands/tool.h"
#include "strands/util.h"

/* How long a request waits for an abandoned invocation of its context. */
#define A2A_ABANDONED_WAIT_MS 5000
/* Pending SSE bytes are built in a buffer of at most this size. */
#define A2A_SSE_MAX ((size_t)32 << 20)

/* Wall-clock milliseconds, for status timestamps. */
static int64_t wall_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- answering ------------------------------------------------------------ */

/* Sends a JSON-RPC document (stolen) with 200. */
static enum MHD_Result send_rpc(handler_ctx *h, json_t *doc)
{
    return server_send_json(h->conn, h->req, 200, doc, NULL);
}

static enum MHD_Result send_error(handler_ctx *h, const json_t *id, int code,
                                  const char *msg, a2a_version v)
{
    return send_rpc(h, a2a_error_response(id, code, msg, v));
}

/* ---- the pump ------------------------------------------------------------ */

/* Moves the runner's text deltas into the task until it ends; a hang-up
 * of watch_fd's peer cancels the run. */
static void pump(a2a_state *st, const char *task_id, runner *r, int watch_fd)
{
    for (;;) {
        runner_event *ev = NULL;
        runner_wait w = runner_next(r, 1000, watch_fd, &ev);
        if (w == RUNNER_EVENT) {
            if (ev->type == STRANDS_EVENT_TEXT_DELTA)
                a2a_tasks_append(st, task_id, ev->text, ev->text_len);
            runner_event_free(ev);
        } else if (w == RUNNER_END) {
            return;
        } else if (w == RUNNER_HANGUP) {
            runner_cancel(r);
            watch_fd = -1;
        }
    }
}

/* Records a finished runner's outcome in its task. */
static int finish(a2a_state *st, const char *task_id, runner *r,
                  a2a_version v, int history_length, a2a_task_state *state,
                  json_t **task)
{
    const runner_outcome *o = runner_get_outcome(r);
    char msg[1280] = "";
    a2a_task_state end = A2A_COMPLETED;
    if (!o) {
        end = A2A_FAILED;
        snprintf(msg, sizeof msg, "the run did not finish");
    } else if (o->status == STRANDS_E_CANCELLED) {
        end = A2A_CANCELED;
    } else if (o->status != STRANDS_OK) {
        end = A2A_FAILED;
        snprintf(msg, sizeof msg, "%s: %s", server_error_type(&o->error),
                 o->error.message);
    }
    return a2a_tasks_finish(st, task_id, end,
                            end == A2A_COMPLETED ? o->result.text : NULL, msg,
                            v, history_length, state, task);
}

/* A task that runs without a client. */
typedef struct bg_run {
    a2a_state *st;
    runner *r;
    char task_id[37];
} bg_run;

static void bg_main(void *arg)
{
    bg_run *b = arg;
    pump(b->st, b->task_id, b->r, -1);
    finish(b->st, b->task_id, b->r, A2A_V10, -1, NULL, NULL);
    runner_release(b->r);
    free(b);
}

/* ---- SSE ------------------------------------------------------------------ */

typedef struct a2a_stream {
    a2a_state *st;
    a2a_version v;
    json_t *id;                 /* the request's id (this thread's copy) */
    int chunks;                 /* artifact chunks sent */
    int finished;               /* the task has been finished */
    char task_id[37], artifact_id[37];
    char context_id[SERVER_SESSION_ID_MAX + 1];
} a2a_stream;

/* Appends "data: <JSON-RPC response>\n\n" for result (stolen). */
static int add_frame(a2a_stream *s, dynbuf *out, json_t *result)
{
    return sse_pump_frame(out, "data: ", a2a_response(s->id, result));
}

/* A text delta: kept in the task (GetTask shows progress) and sent as
 * an artifact chunk.                                                    */
static int on_event(void *user, const runner_event *ev, dynbuf *out)
{
    a2a_stream *s = user;
    if (ev->type != STRANDS_EVENT_TEXT_DELTA || !ev->text_len) return 0;
    a2a_tasks_append(s->st, s->task_id, ev->text, ev->text_len);
    int rc = add_frame(s, out,
                       a2a_artifact_event(s->task_id, s->context_id,
                                          s->artifact_id, ev->text,
                                          ev->text_len, s->chunks > 0, 0,
                                          s->v));
    s->chunks++;
    return rc;
}

/* The end of the stream: the last chunk and the final status. */
static int on_end(void *user, runner *r, dynbuf *out)
{
    a2a_stream *s = user;
    a2a_task_state state = A2A_FAILED;
    const runner_outcome *o = runner_get_outcome(r);
    finish(s->st, s->task_id, r, s->v, -1, &state, NULL);
    s->finished = 1;
    int rc = 0;
    if (state == A2A_COMPLETED && !s->chunks) {
        const char *t = o && o->result.text ? o->result.text : "";
        rc = add_frame(s, out,
                       a2a_artifact_event(s->task_id, s->context_id,
                                          s->artifact_id, t, strlen(t), 0, 1,
                                          s->v));
    } else if (s->chunks) {
        rc = add_frame(s, out,
                       a2a_artifact_event(s->task_id, s->context_id,
                                          s->artifact_id, "", 0, 1, 1, s->v));
    }
    char msg[1280];
    const char *m = NULL;
    if (state == A2A_FAILED && o && o->status != STRANDS_OK) {
        snprintf(msg, sizeof msg, "%s: %s", server_error_type(&o->error),
                 o->error.message);
        m = msg;
    }
    /* The task's own status time, so the event and GetTask agree. */
    int64_t when = a2a_tasks_updated_ms(s->st, s->task_id);
    if (!when) when = wall_now_ms();
    if (!rc)
        rc = add_frame(s, out,
                       a2a_status_event(s->task_id, s->context_id, state,
                                        when, m, s->v));
    return rc ? -1 : 1;
}

/* The response is gone: a run still going (the client left) is cancelled,
 * waited for and recorded.                                              */
static void on_free(void *user, runner *r)
{
    a2a_stream *s = user;
    if (!s->finished) {
        runner_cancel(r);
        runner_wait_end(r, -1, -1);
        a2a_tasks_finish(s->st, s->task_id, A2A_CANCELED, NULL, NULL, s->v,
                         -1, NULL, NULL);
    }
    json_decref(s->id);
    free(s);
}

static const sse_pump_ops stream_ops = {on_event, on_end, on_free};

/* ---- methods ---------------------------------------------------------------- */

/* SendMessage / SendStreamingMessage (and the 0.3 names). */
static enum MHD_Result do_send(handler_ctx *h, const a2a_rpc *rpc, int stream)
{
    a2a_state *st = h->srv->a2a;
    char why[512] = "";
    a2a_send p;
    int code = a2a_send_parse(rpc->params, rpc->version, &p, why, sizeof why);
    if (code) return send_error(h, rpc->id, code, why, rpc->version);
    if (p.task_id[0]) {
        a2a_task_state ts;
        if (!a2a_tasks_state(st, p.task_id, &ts)) {
            a2a_send_cleanup(&p);
            return send_error(h, rpc->id, A2A_ERR_TASK_NOT_FOUND,
                              "task not found (unknown, or expired)",
                              rpc->version);
        }
        a2a_send_cleanup(&p);
        return send_error(
            h, rpc->id, A2A_ERR_UNSUPPORTED,
            a2a_state_terminal(ts)
                ? "the task has finished and takes no more messages; send a "
                  "new message with the same contextId to continue"
                : "the task is still working; wait for it or cancel it",
            rpc->version);
    }
    const char *actor = server_header(h, SERVER_USER_HEADER);
    if (!request_actor_id(actor, why, sizeof why)) {
        a2a_send_cleanup(&p);
        return send_error(h, rpc->id, A2A_ERR_INVALID_PARAMS, why,
                          rpc->version);
    }
    if (!p.context_id[0]) strands_uuid4(p.context_id);
    memcpy(h->req->session_id, p.context_id, sizeof h->req->session_id);

    json_t *prompt = json_pack("[{s:s}]", "text", p.text);
    char task_id[37], artifact_id[37];
    code = prompt ? a2a_tasks_create(st, p.context_id, p.text, p.message_id,
                                     task_id, artifact_id, why, sizeof why)
                  : A2A_ERR_INTERNAL;
    if (code) {
        json_decref(prompt);
        a2a_send_cleanup(&p);
        return send_error(h, rpc->id, code, why[0] ? why : "out of memory",
                          rpc->version);
    }
    /* The first stream frame: the task as submitted. */
    json_t *submitted = NULL;
    if (stream) a2a_tasks_get(st, task_id, rpc->version, -1, &submitted);

    runner_set_wait_abandoned(h->runners, p.context_id,
                              A2A_ABANDONED_WAIT_MS);
    strands_request_header hdrs[STRANDS_REQUEST_HEADERS_MAX];
    strands_request_context rc = {hdrs, server_request_context(h, hdrs)};
    runner_request rq = {
        .session_id = p.context_id,
        .request_id = h->req->request_id,
        .prompt = prompt,
        .stream = 1,
        .traceparent = server_header(h, "traceparent"),
        .xray = server_header(h, "X-Amzn-Trace-Id"),
        .actor_id = actor,
        .request = rc.n_headers ? &rc : NULL,
    };
    strands_error err;
    strands_error_clear(&err);
    runner *r = runner_start(h->runners, &rq, &err);
    json_decref(prompt);
    int history = p.history_length, later = p.return_immediately;
    a2a_send_cleanup(&p);
    if (!r) {
        char msg[1280];
        snprintf(msg, sizeof msg, "%s: %s", server_error_type(&err),
                 err.message);
        a2a_tasks_finish(st, task_id, A2A_FAILED, NULL, msg, rpc->version,
                         -1, NULL, NULL);
        json_decref(submitted);
        return send_error(h, rpc->id, A2A_ERR_INTERNAL, msg, rpc->version);
    }
    if (a2a_tasks_attach(st, task_id, r)) runner_cancel(r);

    if (stream) {
        a2a_stream *s = calloc(1, sizeof *s);
        if (!s) {
            json_decref(submitted);
            runner_cancel(r);
            runner_wait_end(r, -1, -1);
            a2a_tasks_finish(st, task_id, A2A_FAILED, NULL, "out of memory",
                             rpc->version, -1, NULL, NULL);
            runner_release(r);
            return send_error(h, rpc->id, A2A_ERR_INTERNAL, "out of memory",
                              rpc->version);
        }
        s->st = st;
        s->id = json_deep_copy(rpc->id);
        memcpy(s->task_id, task_id, sizeof s->task_id);
        memcpy(s->artifact_id, artifact_id, sizeof s->artifact_id);
        memcpy(s->context_id, h->req->session_id, sizeof s->context_id);
        s->v = rpc->version;
        int64_t now = wall_now_ms();
        /* The stream opens with the task as submitted, then working. */
        dynbuf pre;
        dynbuf_init(&pre, A2A_SSE_MAX);
        if (!s->id) json_decref(submitted);
        if (!s->id ||
            add_frame(s, &pre, a2a_send_result(submitted, rpc->version)) ||
            add_frame(s, &pre, a2a_status_event(task_id, s->context_id,
                                                A2A_WORKING, now, NULL,
                                                rpc->version))) {
            dynbuf_cleanup(&pre);
            on_free(s, r);
            runner_release(r);
            return send_error(h, rpc->id, A2A_ERR_INTERNAL, "out of memory",
                              rpc->version);
        }
        return sse_pump_start(h, r, &stream_ops, s, SERVER_SESSION_HEADER,
                              s->context_id, &pre);
    }
    if (later) {
        bg_run *b = calloc(1, sizeof *b);
        if (b) {
            b->st = st;
            b->r = r;
            memcpy(b->task_id, task_id, sizeof b->task_id);
            if (a2a_tasks_spawn(st, bg_main, b) == 0) {
                json_t *task = NULL;
                a2a_tasks_get(st, task_id, rpc->version, history, &task);
                return send_rpc(h, a2a_response(rpc->id,
                                                a2a_send_result(task,
                                                                rpc->version)));
            }
            free(b);
        }
        /* No thread for it: answer when it is done instead. */
    }
    pump(st, task_id, r, h->fd);
    json_t *task = NULL;
    finish(st, task_id, r, rpc->version, history, NULL, &task);
    /* Released once the answer is on the wire (counts as in flight). */
    h->req->runner = r;
    return send_rpc(h, a2a_response(rpc->id, a2a_send_result(task,
                                                             rpc->version)));
}

static enum MHD_Result do_task(handler_ctx *h, const a2a_rpc *rpc)
{
    char id[A2A_TASK_ID_MAX + 1], why[256] = "";
    int history = -1;
    int code = a2a_task_params_parse(rpc->params, id, sizeof id,
                                     rpc->method == A2A_GET ? &history : NULL,
                                     why, sizeof why);
    if (code) return send_error(h, rpc->id, code, why, rpc->version);
    json_t *task = NULL;
    code = rpc->method == A2A_GET
               ? a2a_tasks_get(h->srv->a2a, id, rpc->version, history, &task)
               : a2a_tasks_cancel(h->srv->a2a, id, rpc->version, &task);
    if (code == A2A_ERR_TASK_NOT_FOUND)
        return send_error(h, rpc->id, code,
                          "task not found (unknown, or expired)",
                          rpc->version);
    if (code == A2A_ERR_TASK_NOT_CANCELABLE)
        return send_error(h, rpc->id, code,
                          "task is not cancelable: it has already finished",
                          rpc->version);
    return send_rpc(h, a2a_response(rpc->id, task));
}

static enum MHD_Result do_list(handler_ctx *h, const a2a_rpc *rpc)
{
    char why[256] = "";
    a2a_list_query q;
    int code = a2a_list_parse(rpc->params, &q, why, sizeof why);
    if (code) return send_error(h, rpc->id, code, why, rpc->version);
    json_t *res = NULL;
    if (a2a_tasks_list(h->srv->a2a, &q, &res))
        return send_error(h, rpc->id, A2A_ERR_INTERNAL, "out of memory",
                          rpc->version);
    return send_rpc(h, a2a_response(rpc->id, res));
}

enum MHD_Result a2a_handle_rpc(handler_ctx *h)
{
    request_ctx *ctx = h->req;
    const char *ver = server_header(h, "A2A-Version");
    if (!ver)
        ver = MHD_lookup_connection_value(h->conn, MHD_GET_ARGUMENT_KIND,
                                          "A2A-Version");
    char why[512] = "";
    a2a_rpc rpc;
    int code = a2a_rpc_parse(dynbuf_str(&ctx->body), ctx->body.len, ver,
                             &rpc, why, sizeof why);
    enum MHD_Result ret;
    if (code) {
        ret = send_error(h, rpc.id, code, why, rpc.version);
    } else {
        switch (rpc.method) {
        case A2A_SEND: ret = do_send(h, &rpc, 0); break;
        case A2A_STREAM: ret = do_send(h, &rpc, 1); break;
        case A2A_LIST: ret = do_list(h, &rpc); break;
        default: ret = do_task(h, &rpc); break;
        }
    }
    a2a_rpc_cleanup(&rpc);
    return ret;
}

/* ---- the card ----------------------------------------------------------- */

/* The URL the card advertises: AGENTCORE_RUNTIME_URL, else from Host. */
static void card_url(const handler_ctx *h, char *out, size_t outsz)
{
    if (h->srv->cfg.runtime_url && *h->srv->cfg.runtime_url) {
        snprintf(out, outsz, "%s", h->srv->cfg.runtime_url);
        return;
    }
    const char *host = server_header(h, "Host");
    size_t n = host ? strnlen(host, 256) : 0;
    int ok = n > 0 && n < 256;
    for (size_t i = 0; ok && i < n; i++) {
        unsigned char c = (unsigned char)host[i];
        if (c <= 0x20 || c >= 0x7f || c == '/' || c == '\\' || c == '?' ||
            c == '#' || c == '@' || c == '"')
            ok = 0;
    }
    if (ok)
        snprintf(out, outsz, "http://%s/", host);
    else
        snprintf(out, outsz, "http://localhost:%d/", h->srv->port);
}

enum MHD_Result a2a_handle_card(handler_ctx *h)
{
    char url[2048];
    card_url(h, url, sizeof url);
    strands_tool_snapshot *snap =
        h->srv->cfg.tools ? strands_tool_registry_snapshot(h->srv->cfg.tools)
                          : NULL;
    a2a_card_info ci = {
        .name = h->srv->cfg.agent_name,
        .description = h->srv->cfg.agent_description,
        .url = url,
        .version = STRANDS_VERSION,
        .tool_specs = snap ? strands_tool_snapshot_specs(snap) : NULL,
    };
    json_t *card = a2a_card_json(&ci);
    strands_tool_snapshot_release(snap);
    return server_send_json(h->conn, h->req, 200, card, NULL);
}

/* ---- the part --------------------------------------------------------------- */

static strands_status part_init(strands_server *s, strands_error *err)
{
    if (s->cfg.protocol != STRANDS_PROTOCOL_A2A) return STRANDS_OK;
    int max = s->cfg.a2a_max_tasks > 0 ? s->cfg.a2a_max_tasks : 1000;
    int ttl = s->cfg.a2a_task_ttl_s > 0 ? s->cfg.a2a_task_ttl_s : 3600;
    s->a2a = a2a_tasks_new((size_t)max, (int64_t)ttl * 1000);
    if (!s->a2a) {
        strands_error_set(err, STRANDS_E_NOMEM, NULL, "OOM");
        return STRANDS_E_NOMEM;
    }
    return STRANDS_OK;
}

/* The daemon has stopped (no handler runs): what still runs is a task
 * without a client; cancel it and join its thread.                      */
static void part_cleanup(strands_server *s)
{
    if (!s->a2a) return;
    a2a_tasks_cancel_all(s->a2a);
    a2a_tasks_join_all(s->a2a);
    a2a_tasks_free(s->a2a);
    s->a2a = NULL;
}

const server_part a2a_part = {"a2a", part_init, NULL, part_cleanup};
