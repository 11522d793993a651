/* libFuzzer target for the client messages of WebSocket /ws
 * (ws_message_parse, src/server/ws_message.c): the input is one text
 * message (copied into an exact-size buffer so AddressSanitizer catches
 * any read past the end), read with and without a connection session
 * and with a tiny reason buffer. Checks the contracts: a prompt comes
 * with a non-empty block array and a session id of 1..256 bytes without
 * control characters; any other verdict holds no prompt and a
 * NUL-terminated, non-empty reason; a cancel is exactly
 * {"action":"cancel"...}. Never crash, leak or read out of bounds.     */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "server/ws.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const char *text, size_t len, const char *conn,
                  size_t whysz)
{
    request_parsed p;
    char why[256];
    memset(why, 0xAA, sizeof why);
    ws_msg_kind k = ws_message_parse(text, len, conn, &p, why, whysz);
    if (k == WS_MSG_PROMPT) {
        if (!json_is_array(p.prompt) || !json_array_size(p.prompt)) abort();
        size_t n = strlen(p.session_id);
        if (n < 1 || n > SERVER_SESSION_ID_MAX) abort();
        for (size_t i = 0; i < n; i++)
            if ((unsigned char)p.session_id[i] < 0x20 ||
                p.session_id[i] == 0x7f)
                abort();
        request_parsed_cleanup(&p);
        return;
    }
    if (p.prompt) abort();
    if (k == WS_MSG_CANCEL) return;
    if (k < WS_MSG_NOT_JSON || k > WS_MSG_NOMEM) abort();
    if (!memchr(why, '\0', whysz)) abort();
    if (whysz > 1 && !why[0]) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *exact = calloc(1, size ? size : 1);
    if (!exact) return 0;
    if (size) memcpy(exact, data, size);
    check(exact, size, NULL, 256);
    check(exact, size, "connection-session", 256);
    check(exact, size, "s", 1 + (size ? data[0] % 8 : 0));
    free(exact);
    return 0;
}
