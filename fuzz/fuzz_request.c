/* libFuzzer target for /invocations request handling without HTTP
 * (src/server/request.c): the whole body parse (request_parse: JSON,
 * prompt blocks with image/document checks, "stream", "async", the
 * async actions with their invocation id, session id from the body or
 * the header), the session-id and request-id checks on raw
 * header bytes, and request_prompt_blocks alone.
 * Input: [header bytes] NUL [body bytes]; without a NUL all bytes are the
 * body and there is no session header. Header bytes are copied into an
 * exact-size buffer so AddressSanitizer catches any read past the end.
 * Checks the contracts: a verdict other than OK comes with a non-empty,
 * terminated reason; OK gives a non-empty block array and a session id of
 * 1..256 bytes without control characters (an action: no prompt, a
 * printable invocation id of 1..128 bytes); never crash, leak or read out
 * of bounds.                                                            */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "server/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_blocks(const json_t *body, size_t whysz)
{
    char why[256];
    memset(why, 0, sizeof why);
    json_t *blocks = request_prompt_blocks(body, why, whysz);
    if (!blocks) {
        if (whysz > 1 && !why[0]) abort();
        if (memchr(why, '\0', whysz) == NULL) abort();
        return;
    }
    if (!json_is_array(blocks) || json_array_size(blocks) == 0) abort();
    size_t i;
    json_t *b;
    json_array_foreach(blocks, i, b) {
        if (!json_is_object(b) || json_object_size(b) != 1) abort();
    }
    json_decref(blocks);
}

static void check_session(const char *id)
{
    size_t n = strlen(id);
    if (n < 1 || n > SERVER_SESSION_ID_MAX) abort();
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)id[i] < 0x20 || id[i] == 0x7f) abort();
}

static void check_parse(const char *body, size_t len, const char *header)
{
    request_parsed p;
    char why[256];
    memset(why, 0xAA, sizeof why);
    request_verdict v = request_parse(body, len, header, &p, why, sizeof why);
    if (v != REQUEST_OK) {
        if (!memchr(why, '\0', sizeof why) || !why[0]) abort();
        if (p.prompt || p.output_schema) abort();
        return;
    }
    if (p.action != REQUEST_ACTION_NONE) {
        /* An action: no prompt, a printable 1..128-byte id, the session
         * only when the body or header named one. */
        if (p.prompt || p.async) abort();
        if (p.action != REQUEST_ACTION_GET_INVOCATION &&
            p.action != REQUEST_ACTION_CANCEL_INVOCATION)
            abort();
        size_t n = strnlen(p.invocation_id, sizeof p.invocation_id);
        if (n < 1 || n > SERVER_REQUEST_ID_MAX) abort();
        for (size_t i = 0; i < n; i++)
            if ((unsigned char)p.invocation_id[i] < 0x20 ||
                (unsigned char)p.invocation_id[i] >= 0x7f)
                abort();
        if (p.session_id[0]) check_session(p.session_id);
        request_parsed_cleanup(&p);
        return;
    }
    if (!json_is_array(p.prompt) || !json_array_size(p.prompt)) abort();
    if (p.output_schema && !json_is_object(p.output_schema)) abort();
    if (p.stream < -1 || p.stream > 1) abort();
    if (p.async != 0 && p.async != 1) abort();
    if (p.async && p.stream == 1) abort();
    if (p.invocation_id[0]) abort();
    check_session(p.session_id);
    request_parsed_cleanup(&p);
}

static void check_header_ids(const char *header)
{
    char out[SERVER_SESSION_ID_MAX + 1], why[128];
    memset(why, 0, sizeof why);
    if (request_session_id(header, out, sizeof out, why, sizeof why))
        check_session(out);
    else if (!why[0])
        abort();
    char rid[SERVER_REQUEST_ID_MAX + 1];
    request_id_pick(header, rid, sizeof rid);
    size_t n = strlen(rid);
    if (n < 1 || n > SERVER_REQUEST_ID_MAX) abort();
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)rid[i] < 0x20 || (unsigned char)rid[i] >= 0x7f)
            abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nul = memchr(data, '\0', size);
    char *header = NULL;
    const char *body = (const char *)data;
    size_t body_len = size;
    if (nul) {
        size_t hlen = (size_t)(nul - data);
        header = malloc(hlen + 1);
        if (!header) return 0;
        memcpy(header, data, hlen);
        header[hlen] = '\0';
        body = (const char *)nul + 1;
        body_len = size - hlen - 1;
        check_header_ids(header);
    }
    /* An exact-size copy of the body, for the same reason. */
    char *exact = malloc(body_len ? body_len : 1);
    if (!exact) {
        free(header);
        return 0;
    }
    if (body_len) memcpy(exact, body, body_len);
    check_parse(exact, body_len, header);

    json_error_t jerr;
    json_t *doc = json_loadb(exact, body_len, 0, &jerr);
    check_blocks(doc, 256);
    /* A tiny reason buffer must be cut, never overrun. */
    check_blocks(doc, 1 + (body_len ? (uint8_t)exact[0] % 16 : 0));
    json_decref(doc);
    free(exact);
    free(header);
    return 0;
}
