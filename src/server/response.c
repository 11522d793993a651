/* JSON responses and JSON error bodies; reading a JSON request body. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "server/internal.h"

char *server_json_text(const json_t *doc, size_t *len)
{
    *len = 0;
    if (!doc) return NULL;
    /* json_dumpb into an exact buffer, never json_dumps: when an
     * allocation fails inside it, jansson 2.14's json_dumps can return a
     * document with an object key left out instead of NULL. */
    size_t n = json_dumpb(doc, NULL, 0, JSON_COMPACT);
    char *text = n ? malloc(n + 1) : NULL;
    if (!text) return NULL;
    if (json_dumpb(doc, text, n, JSON_COMPACT) != n) {
        free(text);
        return NULL;
    }
    text[n] = '\0';
    *len = n;
    return text;
}

json_t *server_json_load(const char *body, size_t len, size_t flags,
                         json_error_t *jerr, int *nomem)
{
    json_t *doc = json_loadb(body ? body : "", len, flags, jerr);
    /* jansson reports most allocation failures inside the parser as
     * syntax errors (answered 400 with its message, still well formed);
     * one before parsing began leaves the message empty. */
    *nomem = !doc && (json_error_code(jerr) == json_error_out_of_memory ||
                      !jerr->text[0]);
    return doc;
}

enum MHD_Result server_send_json(struct MHD_Connection *c, request_ctx *ctx,
                                 int status, json_t *doc, ...)
{
    size_t len = 0;
    char *text = server_json_text(doc, &len);
    json_decref(doc);
    if (!text) {
        static const char oom[] =
            "{\"error\":\"out of memory\",\"error_type\":\"InternalError\"}";
        text = strdup(oom);
        status = 500;
        if (!text) return MHD_NO;
        len = strlen(text);
    }
    struct MHD_Response *r = MHD_create_response_from_buffer(
        len, text, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(text);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", "application/json");
    va_list ap;
    va_start(ap, doc);
    const char *name;
    while ((name = va_arg(ap, const char *)) != NULL) {
        const char *value = va_arg(ap, const char *);
        if (value) MHD_add_response_header(r, name, value);
    }
    va_end(ap);
    enum MHD_Result ret = MHD_queue_response(c, (unsigned)status, r);
    MHD_destroy_response(r);
    if (ctx) ctx->status = status;
    return ret;
}

enum MHD_Result server_send_error(struct MHD_Connection *c, request_ctx *ctx,
                                  int status, const char *type,
                                  const char *message)
{
    json_t *doc = json_pack("{s:s, s:s}", "error", message, "error_type",
                            type);
    return server_send_json(c, ctx, status, doc, NULL);
}

const char *server_error_type(const strands_error *err)
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

int server_error_status(const strands_error *err)
{
    if (err->status == STRANDS_E_UPSTREAM || err->status == STRANDS_E_NETWORK ||
        err->status == STRANDS_E_PARSE)
        return 502;
    /* Understood, but the model's typed answer never matched the schema. */
    if (!strcmp(err->code, STRANDS_ERROR_STRUCTURED_OUTPUT)) return 422;
    return strands_status_http(err->status);
}

enum MHD_Result server_send_agent_error(struct MHD_Connection *c,
                                        request_ctx *ctx,
                                        const strands_error *err)
{
    json_t *doc = json_pack("{s:s, s:s}", "error", err->message, "error_type",
                            server_error_type(err));
    return server_send_json(c, ctx, server_error_status(err), doc,
                            SERVER_SESSION_HEADER, ctx->session_id, NULL);
}

json_t *server_usage_json(const strands_usage *u)
{
    return json_pack("{s:I, s:I, s:I, s:I, s:I}", "input_tokens",
                     (json_int_t)u->input_tokens, "output_tokens",
                     (json_int_t)u->output_tokens, "total_tokens",
                     (json_int_t)u->total_tokens, "cache_read_input_tokens",
                     (json_int_t)u->cache_read_input_tokens,
                     "cache_write_input_tokens",
                     (json_int_t)u->cache_write_input_tokens);
}

json_t *server_result_json(const char *invocation_id, const char *session_id,
                           const strands_agent_result *r)
{
    /* A deep copy: the result may be read by another thread meanwhile. */
    return json_pack("{s:s, s:s, s:s, s:s, s:o, s:i, s:o*}", "invocation_id",
                     invocation_id, "session_id", session_id, "response",
                     r->text ? r->text : "", "stop_reason",
                     strands_stop_reason_name(r->stop_reason), "usage",
                     server_usage_json(&r->usage), "iterations",
                     r->iterations, "structured_output",
                     json_deep_copy(r->structured_output));
}

enum MHD_Result server_send_verdict(handler_ctx *h, request_verdict v,
                                    const char *why)
{
    switch (v) {
    case REQUEST_BAD_JSON:
        return server_send_error(h->conn, h->req, 400, "InvalidJSON", why);
    case REQUEST_NOMEM:
        return server_send_error(h->conn, h->req, 500, "InternalError",
                                 "out of memory");
    default:
        return server_send_error(h->conn, h->req, 400, "ValidationError",
                                 why);
    }
}

enum MHD_Result server_send_start_error(handler_ctx *h,
                                        const strands_error *err)
{
    int oom = err->status == STRANDS_E_NOMEM;
    return server_send_error(h->conn, h->req, oom ? 500 : 503,
                             oom ? "InternalError" : server_error_type(err),
                             err->message);
}
