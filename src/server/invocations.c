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

static const char *const block_kinds[] = {
    "text", "image", "document", "video", "audio", "cachePoint",
    "guardContent", "reasoningContent", "citationsContent", "searchResult",
    NULL};

/* Checks one prompt content block: an object with exactly one known key. */
static int valid_block(const json_t *b, char *why, size_t whysz, size_t i)
{
    if (!json_is_object(b) || json_object_size(b) != 1) {
        snprintf(why, whysz, "prompt[%zu] must be an object with exactly one "
                             "content key (e.g. {\"text\": \"...\"})", i);
        return 0;
    }
    const char *key = json_object_iter_key(json_object_iter((json_t *)b));
    for (const char *const *k = block_kinds; *k; k++) {
        if (strcmp(*k, key)) continue;
        json_t *v = json_object_get(b, key);
        if (!strcmp(key, "text") &&
            (!json_is_string(v) || !json_string_length(v))) {
            snprintf(why, whysz, "prompt[%zu].text must be a non-empty "
                                 "string", i);
            return 0;
        }
        return 1;
    }
    snprintf(why, whysz, "prompt[%zu]: unsupported content block '%.40s'", i,
             key);
    return 0;
}

/* Turns the body's "prompt" into a content-block array (new reference), or
 * NULL with the reason in why. */
static json_t *prompt_blocks(const json_t *body, char *why, size_t whysz)
{
    json_t *p = json_is_object(body) ? json_object_get(body, "prompt") : NULL;
    if (!p) {
        snprintf(why, whysz, "missing required field 'prompt'");
        return NULL;
    }
    if (json_is_string(p)) {
        if (!json_string_length(p)) {
            snprintf(why, whysz, "'prompt' must not be empty");
            return NULL;
        }
        return json_pack("[{s:O}]", "text", p);
    }
    if (!json_is_array(p) || !json_array_size(p)) {
        snprintf(why, whysz, "'prompt' must be a string or a non-empty array "
                             "of content blocks");
        return NULL;
    }
    size_t i;
    json_t *b;
    json_array_foreach(p, i, b) {
        if (!valid_block(b, why, whysz, i)) return NULL;
    }
    return json_incref(p);
}

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

static const char *error_type_for(const strands_error *err)
{
    return err->code[0] ? err->code : strands_status_name(err->status);
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
    json_t *prompt = prompt_blocks(body, why, sizeof why);
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
