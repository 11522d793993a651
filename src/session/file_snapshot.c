/* Reading Strands' snapshot layout (SnapshotSessionManager +
 * LocalFileStorage in Python, SessionManager + FileStorage in TypeScript):
 *   <base>/session/<sid>/scopes/agent/<aid>/snapshots/snapshot_latest.json
 * holding {"scope": "agent", "schema_version" (Python) or "schemaVersion"
 * (TypeScript): "1.0", "created_at"/"createdAt", "data": {"messages",
 * "state", "conversation_manager_state" / "conversationManagerState",
 * "interrupt_state", "model_state", ...}, "app_data"/"appData"}.
 * The store only reads it, when a session has no message log yet; the
 * first append continues the session in the FileSessionManager layout
 * (file.c). Python encodes bytes with {"__bytes_encoded__": ...}; they
 * are decoded as in message files.                                      */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "session/file.h"

/* a or b: the first member present (Python snake_case, TS camelCase). */
static json_t *get2(const json_t *o, const char *a, const char *b)
{
    json_t *v = json_object_get(o, a);
    return v ? v : json_object_get(o, b);
}

/* TypeScript snapshots keep messages in the SDK's JSON form, which is
 * Converse's except for: a per-message "trackingId", reasoning as
 * {"reasoning": {text, signature, redactedContent}} and a toolUse
 * "reasoningSignature". Each becomes what Bedrock accepts (Python's
 * messages are Converse's already and pass unchanged). 0, -1 on OOM.   */
static int converse_block(json_t *block)
{
    json_t *tu = json_object_get(block, "toolUse");
    if (json_is_object(tu)) json_object_del(tu, "reasoningSignature");
    json_t *r = json_object_get(block, "reasoning");
    if (!json_is_object(r) || json_object_get(block, "reasoningContent"))
        return 0;
    json_t *rc;
    json_t *red = json_object_get(r, "redactedContent");
    if (json_is_string(red)) {
        rc = json_pack("{s:O}", "redactedContent", red);
    } else {
        json_t *text = json_object_get(r, "text");
        json_t *sig = json_object_get(r, "signature");
        int has_text = json_is_string(text);
        json_t *rt = json_pack("{s:s%}", "text",
                               has_text ? json_string_value(text) : "",
                               has_text ? json_string_length(text) : 0);
        if (rt && json_is_string(sig) &&
            json_object_set(rt, "signature", sig) != 0) {
            json_decref(rt);
            rt = NULL;
        }
        rc = rt ? json_pack("{s:o}", "reasoningText", rt) : NULL;
    }
    if (!rc || json_object_set_new(block, "reasoningContent", rc) != 0)
        return -1;
    return json_object_del(block, "reasoning") == 0 ? 0 : -1;
}

static int converse_messages(json_t *messages)
{
    size_t i, j;
    json_t *m, *b;
    json_array_foreach(messages, i, m) {
        json_object_del(m, "trackingId");
        json_array_foreach(json_object_get(m, "content"), j, b) {
            if (json_is_object(b) && converse_block(b) != 0) return -1;
        }
    }
    return 0;
}

static strands_status bad(strands_error *err, const char *name,
                          const char *why)
{
    return strands_error_set(err, STRANDS_E_PARSE, NULL,
                             "session store: snapshot %s: %s", name, why);
}

strands_status fstore_snapshot_convert(const json_t *doc, const char *name,
                                       json_t **messages_out,
                                       json_t **agent_out, strands_error *err)
{
    *messages_out = NULL;
    *agent_out = NULL;
    if (!json_is_object(doc)) return bad(err, name, "not a JSON object");
    const char *ver =
        json_string_value(get2(doc, "schema_version", "schemaVersion"));
    if (!ver || strcmp(ver, "1.0") != 0)
        return bad(err, name, "schema version is not \"1.0\"");
    json_t *scope = json_object_get(doc, "scope");
    if (scope && !(json_is_string(scope) &&
                   strcmp(json_string_value(scope), "agent") == 0))
        return bad(err, name, "scope is not \"agent\"");
    json_t *data = json_object_get(doc, "data");
    if (!json_is_object(data)) return bad(err, name, "no \"data\" object");
    json_t *msgs = json_object_get(data, "messages");
    if (msgs && !json_is_array(msgs))
        return bad(err, name, "data.messages is not an array");
    size_t i;
    json_t *m;
    json_array_foreach(msgs, i, m) {
        if (!json_is_object(m) || !json_is_string(json_object_get(m, "role"))
            || !json_is_array(json_object_get(m, "content")))
            return bad(err, name, "a message without role and content");
    }
    if (json_array_size(msgs) > FILE_MAX_MESSAGES)
        return bad(err, name, "too many messages");

    strands_error e;
    json_t *messages = msgs ? fstore_bytes_decode(msgs, &e) : json_array();
    if (!messages) {
        if (msgs && e.status == STRANDS_E_PARSE) return bad(err, name,
                                                            e.message);
        goto oom;
    }
    if (converse_messages(messages) != 0) goto oom_m;
    json_t *agent = json_object();
    if (!agent) goto oom_m;
    json_t *state = json_object_get(data, "state");
    json_t *cms = get2(data, "conversation_manager_state",
                       "conversationManagerState");
    json_t *is = get2(data, "interrupt_state", "interruptState");
    json_t *ms = get2(data, "model_state", "modelState");
    if (json_is_object(state) &&
        json_object_set_new(agent, "state", json_deep_copy(state)) != 0)
        goto oom_a;
    if (json_is_object(cms)) {
        json_t *c = json_deep_copy(cms);
        /* The snapshot's messages are the live ones: the log this session
         * continues as starts with them at index 0.                      */
        if (!c || json_object_set_new(agent, "conversation_manager_state",
                                      c) != 0)
            goto oom_a;
        if (json_object_get(c, "removed_message_count") &&
            json_object_set_new(c, "removed_message_count",
                                json_integer(0)) != 0)
            goto oom_a;
    }
    if (json_is_object(is) || json_is_object(ms)) {
        json_t *internal = json_object();
        if (!internal ||
            json_object_set_new(agent, "_internal_state", internal) != 0)
            goto oom_a;
        if (json_is_object(is) &&
            json_object_set_new(internal, "interrupt_state",
                                json_deep_copy(is)) != 0)
            goto oom_a;
        if (json_is_object(ms) &&
            json_object_set_new(internal, "model_state",
                                json_deep_copy(ms)) != 0)
            goto oom_a;
    }
    *messages_out = messages;
    *agent_out = agent;
    return STRANDS_OK;
oom_a:
    json_decref(agent);
oom_m:
    json_decref(messages);
oom:
    return strands_error_set(err, STRANDS_E_NOMEM, NULL, "out of memory");
}

/* Walks dirfd/parts[0]/parts[1]/... to the last part's directory: fd or
 * -errno (-ENOENT when any part is missing).                           */
static int open_path(int dirfd, const char *const *parts, size_t n)
{
    int fd = dirfd;
    for (size_t i = 0; i < n; i++) {
        int next = fstore_dir_open(fd, parts[i], 0);
        if (fd != dirfd) close(fd);
        if (next < 0) return next;
        fd = next;
    }
    return fd == dirfd ? -EINVAL : fd;
}

strands_status fstore_snapshot_read(int rootfd, const char *session_id,
                                    const char *agent_id, size_t cap,
                                    json_t **messages_out, json_t **agent_out,
                                    strands_error *err)
{
    *messages_out = NULL;
    *agent_out = NULL;
    /* <root>/session/<sid>/... (the root is the storage base dir), then
     * <root>/<sid>/... (the root is the "session" namespace itself).   */
    const char *const with_ns[] = {"session", session_id, "scopes", "agent",
                                   agent_id, "snapshots"};
    for (int variant = 0; variant < 2; variant++) {
        const char *const *parts = variant == 0 ? with_ns : with_ns + 1;
        size_t n = variant == 0 ? 6 : 5;
        int fd = open_path(rootfd, parts, n);
        /* Missing, or a component that is not a directory (a symlink is
         * never followed): no snapshot there.                          */
        if (fd == -ENOENT || fd == -ENOTDIR) continue;
        char rel[2 * FILE_ID_MAX + 96];
        snprintf(rel, sizeof rel, "%s%s/scopes/agent/%s/snapshots/"
                 "snapshot_latest.json", variant == 0 ? "session/" : "",
                 session_id, agent_id);
        if (fd < 0) return fstore_io_error(err, fd, "cannot open", rel);
        char *text = NULL;
        size_t len = 0;
        int rc = fstore_read_at(fd, "snapshot_latest.json", cap, &text, &len);
        close(fd);
        if (rc == -ENOENT) continue;
        if (rc != 0) return fstore_io_error(err, rc, "cannot read", rel);
        json_error_t jerr;
        json_t *doc = json_loadb(text, len, 0, &jerr);
        free(text);
        if (!doc && json_error_code(&jerr) == json_error_out_of_memory)
            return strands_error_set(err, STRANDS_E_NOMEM, NULL,
                                     "out of memory");
        if (!doc)
            return strands_error_set(err, STRANDS_E_PARSE, NULL,
                                     "session store: %s is not valid JSON "
                                     "(line %d: %.200s)", rel, jerr.line,
                                     jerr.text);
        strands_status st = fstore_snapshot_convert(doc, rel, messages_out,
                                                    agent_out, err);
        json_decref(doc);
        return st;
    }
    return STRANDS_OK;
}
