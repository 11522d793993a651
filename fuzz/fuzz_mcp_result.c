/* libFuzzer target for MCP result mapping (src/mcp/result.c): the input
 * is a tools/call "result" document. Checks: mapping succeeds for every
 * object whose "content" is absent or an array, giving a non-empty array
 * of blocks with exactly one key each (text, image, document or json);
 * image and document blocks carry a known format and valid base64; the
 * error text fits any buffer, NUL-terminated. Never crash or leak.    */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mcp/result.h"
#include "net/base64.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int in(const char *s, const char *const *list)
{
    for (; s && *list; list++)
        if (!strcmp(s, *list)) return 1;
    return 0;
}

static void check_media(const json_t *m, int image)
{
    static const char *const images[] = {"png", "jpeg", "gif", "webp", NULL};
    static const char *const docs[] = {"pdf", "csv", "doc", "docx", "xls",
                                       "xlsx", "html", "txt", "md", NULL};
    if (!in(json_string_value(json_object_get(m, "format")),
            image ? images : docs))
        abort();
    const json_t *b = json_object_get(json_object_get(m, "source"), "bytes");
    if (!json_is_string(b) ||
        !net_base64_check(json_string_value(b), json_string_length(b), NULL))
        abort();
    if (!image) {
        const char *name = json_string_value(json_object_get(m, "name"));
        if (!name || !*name || strlen(name) > 64 || name[0] == ' ' ||
            strstr(name, "  "))
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 65536) return 0;
    json_t *r = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
    if (!r) return 0;
    json_t *out = NULL;
    int is_error = -1;
    strands_error e;
    strands_status st = mcp_result_to_content(r, &out, &is_error, &e);
    const json_t *content = json_object_get(r, "content");
    int expect_ok = json_is_object(r) && (!content || json_is_array(content));
    if (expect_ok != (st == STRANDS_OK) && st != STRANDS_E_NOMEM) abort();
    if (st == STRANDS_OK) {
        if (!json_is_array(out) || json_array_size(out) == 0) abort();
        if (is_error != json_is_true(json_object_get(r, "isError"))) abort();
        for (size_t i = 0; i < json_array_size(out); i++) {
            const json_t *b = json_array_get(out, i);
            if (json_object_size(b) != 1) abort();
            const json_t *v;
            if ((v = json_object_get(b, "text"))) {
                if (!json_is_string(v)) abort();
            } else if ((v = json_object_get(b, "image"))) {
                check_media(v, 1);
            } else if ((v = json_object_get(b, "document"))) {
                check_media(v, 0);
            } else if (!json_object_get(b, "json")) {
                abort();
            }
        }
        char big[4096], tiny[5];
        mcp_result_error_text(out, big, sizeof big);
        mcp_result_error_text(out, tiny, sizeof tiny);
        if (strlen(big) >= sizeof big || strlen(tiny) >= sizeof tiny) abort();
        if (strncmp(big, tiny, strlen(tiny))) abort();
    } else if (out) {
        abort();
    }
    json_decref(out);
    json_decref(r);
    return 0;
}
