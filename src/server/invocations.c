/* POST /invocations: parse the body, resolve the session id, run the
 * agent, answer {"invocation_id","session_id","response","stop_reason",
 * "usage","iterations"} or a JSON error with the right status.          */
#include <stdio.h>
#include <string.h>

#include "server/internal.h"
#include "strands/log.h"
#include "strands/util.h"

#define SESSION_HEADER SERVER_SESSION_HEADER
#define REQUEST_HEADER "X-Amzn-Bedrock-AgentCore-Runtime-Request-Id"
#define MAX_ID_LEN 256

/* Picks the session id: body, header, or a new UUID. 0 when invalid. */
static int resolve_session(const json_t *body, struct MHD_Connection *c,
                           char *out, size_t outsz, char *why, size_t whysz)
{
    json_t *sid = json_object_get(body, "session_id");
    const char *v = NULL;
    if (sid && !json_is_null(sid)) {
        if (!json_is_string(sid)) {
            snprintf(why, whysz, "'session_id' must be a string");
            return 0;
        }
        v = json_string_value(sid);
    } else {
        v = MHD_lookup_connection_value(c, MHD_HEADER_KIND, SESSION_HEADER);
    }
    if (!v || !*v) {
        strands_uuid4(out);
        return 1;
    }
    size_t n = strlen(v);
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)v[i];
        if (ch < 0x20 || ch == 0x7f) n = MAX_ID_LEN + 1;
    }
    if (n > MAX_ID_LEN || n >= outsz) {
        snprintf(why, whysz, "session id must be 1..%d printable characters",
                 MAX_ID_LEN);
        return 0;
    }
    memcpy(out, v, n + 1);
    return 1;
}




/* SSE when the body says "stream": true, or, when it has no "stream"
 * field, when the Accept header lists text/event-stream. */
static int wants_stream(const json_t *body, struct MHD_Connection *c)
{
    json_t *v = json_object_get(body, "stream");
    if (v) return json_is_true(v);
    const char *accept =
        MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Accept");
    return accept && strstr(accept, "text/event-stream") != NULL;
}

enum MHD_Result invocations_handle(strands_server *s, struct MHD_Connection *c,
                                   request_ctx *ctx)
{
    json_error_t jerr;
    json_t *body = json_loadb(strands_buf_str(&ctx->body), ctx->body.len, 0,
                              &jerr);
    char why[256];
    if (!body) {
        snprintf(why, sizeof why, "Invalid JSON: %s (line %d, column %d)",
                 jerr.text, jerr.line, jerr.column);
        return server_send_error(c, ctx, 400, "InvalidJSON", why);
    }
    json_t *prompt = request_prompt_blocks(body, why, sizeof why);
    if (!prompt || !resolve_session(body, c, ctx->session_id,
                                    sizeof ctx->session_id, why,
                                    sizeof why)) {
        json_decref(prompt);
        json_decref(body);
        return server_send_error(c, ctx, 400, "ValidationError", why);
    }
    int stream = wants_stream(body, c);
    json_decref(body);
    if (stream) return sse_handle(s, c, ctx, prompt);

    invocation_metrics metrics;
    strands_invocation_trace *trace = server_trace_begin(s, c, ctx);
    strands_event_sink sinks[] = {invocation_metrics_sink(&metrics, 0),
                                  strands_trace_sink(trace)};
    strands_invocation inv = {
        .session_id = ctx->session_id,
        .invocation_id = ctx->request_id,
        .prompt = prompt,
        .sinks = sinks,
        .n_sinks = sizeof sinks / sizeof sinks[0],
        .cancelled = &s->cancel,
    };
    strands_agent_result result;
    strands_error err;
    strands_status st = strands_agent_invoke(s->cfg.agent, &inv, &result,
                                             &err);
    strands_trace_end(trace);
    json_decref(prompt);
    if (st != STRANDS_OK) {
        strands_log(st == STRANDS_E_BUSY ? STRANDS_LOG_WARN : STRANDS_LOG_ERROR,
                    "strands.agent", ctx->request_id, ctx->session_id, NULL,
                    "Invocation failed: %s: %s", server_error_type(&err),
                    err.message);
        return server_send_agent_error(c, ctx, &err);
    }
    strands_log(STRANDS_LOG_INFO, "strands.agent", ctx->request_id,
                ctx->session_id, NULL,
                "Invocation completed successfully: stop_reason=%s "
                "iterations=%d tokens=%lld",
                strands_stop_reason_name(result.stop_reason), result.iterations,
                (long long)result.usage.total_tokens);
    json_t *doc = server_result_json(ctx->request_id, ctx->session_id, &result);
    strands_agent_result_cleanup(&result);
    return server_send_json(c, ctx, 200, doc, SESSION_HEADER, ctx->session_id,
                            NULL);
}
