/* POST /invocations: parse the body, resolve the session id, run the
 * agent, answer {"invocation_id","session_id","response","stop_reason",
 * "usage","iterations"} or a JSON error with the right status.          */
#include <stdio.h>
#include <string.h>

#include "server/internal.h"
#include "strands/log.h"
#include "strands/util.h"

#define SESSION_HEADER "X-Amzn-Bedrock-AgentCore-Runtime-Session-Id"
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

/* The error_type of a failed invocation: the upstream code when there is
 * one (e.g. "ValidationException"), else a name for the status. */
static const char *error_type_for(const strands_error *err)
{
    if (err->code[0] && strncmp(err->code, "E_", 2)) return err->code;
    switch (err->status) {
    case STRANDS_E_BUSY: return "SessionBusy";
    case STRANDS_E_INVALID: return "ValidationError";
    case STRANDS_E_UNAVAILABLE: return "ServiceUnavailable";
    case STRANDS_E_CANCELLED: return "Cancelled";
    case STRANDS_E_TIMEOUT: return "Timeout";
    case STRANDS_E_NO_CREDENTIALS: return "NoCredentialsError";
    default: return "InternalError";
    }
}

static enum MHD_Result send_agent_error(struct MHD_Connection *c,
                                        request_ctx *ctx,
                                        const strands_error *err)
{
    int status = strands_status_http(err->status);
    if (err->status == STRANDS_E_UPSTREAM || err->status == STRANDS_E_NETWORK ||
        err->status == STRANDS_E_PARSE)
        status = 502;
    json_t *doc = json_pack("{s:s, s:s}", "error", err->message, "error_type",
                            error_type_for(err));
    return server_send_json(c, ctx, status, doc, SESSION_HEADER,
                            ctx->session_id, NULL);
}

static json_t *result_json(const request_ctx *ctx,
                           const strands_agent_result *r)
{
    return json_pack(
        "{s:s, s:s, s:s, s:s, s:{s:I, s:I, s:I}, s:i}", "invocation_id",
        ctx->request_id, "session_id", ctx->session_id, "response",
        r->text ? r->text : "", "stop_reason",
        strands_stop_reason_name(r->stop_reason), "usage", "input_tokens",
        (json_int_t)r->usage.input_tokens, "output_tokens",
        (json_int_t)r->usage.output_tokens, "total_tokens",
        (json_int_t)r->usage.total_tokens, "iterations", r->iterations);
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
    json_decref(body);

    strands_invocation inv = {
        .session_id = ctx->session_id,
        .invocation_id = ctx->request_id,
        .prompt = prompt,
        .cancelled = &s->cancel,
    };
    strands_agent_result result;
    strands_error err;
    strands_status st = strands_agent_invoke(s->cfg.agent, &inv, &result,
                                             &err);
    json_decref(prompt);
    if (st != STRANDS_OK) {
        strands_log(st == STRANDS_E_BUSY ? STRANDS_LOG_WARN : STRANDS_LOG_ERROR,
                    "strands.agent", ctx->request_id, ctx->session_id, NULL,
                    "Invocation failed: %s: %s", error_type_for(&err),
                    err.message);
        return send_agent_error(c, ctx, &err);
    }
    strands_log(STRANDS_LOG_INFO, "strands.agent", ctx->request_id,
                ctx->session_id, NULL,
                "Invocation completed successfully: stop_reason=%s "
                "iterations=%d tokens=%lld",
                strands_stop_reason_name(result.stop_reason), result.iterations,
                (long long)result.usage.total_tokens);
    json_t *doc = result_json(ctx, &result);
    strands_agent_result_cleanup(&result);
    return server_send_json(c, ctx, 200, doc, SESSION_HEADER, ctx->session_id,
                            NULL);
}
