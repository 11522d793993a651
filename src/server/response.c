/* JSON responses and JSON error bodies. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "server/internal.h"

enum MHD_Result server_send_json(struct MHD_Connection *c, request_ctx *ctx,
                                 int status, json_t *doc, ...)
{
    char *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    if (!text) {
        static const char oom[] =
            "{\"error\":\"out of memory\",\"error_type\":\"InternalError\"}";
        text = strdup(oom);
        status = 500;
        if (!text) return MHD_NO;
    }
    struct MHD_Response *r = MHD_create_response_from_buffer(
        strlen(text), text, MHD_RESPMEM_MUST_FREE);
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
