/* The client messages of /ws in HTTP mode, as a pure function (no
 * sockets, no threads; unit-tested and fuzzed): {"action":"cancel"}, or
 * an invocation body read by request.c exactly as POST /invocations reads
 * it, and the verdict the connection acts on (close 1003 for a message
 * that is not JSON, an error event for a JSON one that is not valid).   */
#include <stdio.h>
#include <string.h>

#include "server/ws.h"

ws_msg_kind ws_message_parse(const char *text, size_t len,
                             const char *conn_session,
                             request_parsed *prompt, char *why,
                             size_t whysz)
{
    memset(prompt, 0, sizeof *prompt);
    if (whysz) why[0] = '\0';
    json_error_t jerr;
    int nomem;
    json_t *doc = server_json_load(text, len, 0, &jerr, &nomem);
    if (!doc) {
        if (nomem) {
            snprintf(why, whysz, "out of memory");
            return WS_MSG_NOMEM;
        }
        snprintf(why, whysz, "message is not JSON: %s", jerr.text);
        return WS_MSG_NOT_JSON;
    }
    json_t *action = json_object_get(doc, "action");
    if (action) {
        ws_msg_kind k = WS_MSG_INVALID;
        if (!json_is_string(action))
            snprintf(why, whysz, "'action' must be a string");
        else if (strcmp(json_string_value(action), "cancel") ||
                 json_string_length(action) != 6)
            snprintf(why, whysz, "unknown action '%.40s'; the only action "
                                 "is \"cancel\"",
                     json_string_value(action));
        else
            k = WS_MSG_CANCEL;
        json_decref(doc);
        return k;
    }
    json_decref(doc);
    /* An invocation body, as /invocations takes it (parsed again there:
     * one rule for both endpoints). */
    switch (request_parse(text, len, conn_session, prompt, why, whysz)) {
    case REQUEST_OK:
        return WS_MSG_PROMPT;
    case REQUEST_NOMEM:
        return WS_MSG_NOMEM;
    case REQUEST_BAD_JSON:
        /* It parsed a moment ago: only an allocation failure inside the
         * parser can make it fail now. */
        snprintf(why, whysz, "out of memory");
        return WS_MSG_NOMEM;
    default:
        return WS_MSG_INVALID;
    }
}
