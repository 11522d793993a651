/* A2A objects as JSON, pure: Task, Message, the stream events, JSON-RPC
 * responses and errors, and the agent card, each in the shape of the
 * version asked (1.0 ProtoJSON or 0.3 "kind"-tagged; see a2a.h).       */
#include <stdio.h>
#include <string.h>

#include "server/a2a.h"
#include "strands/clock.h"

/* ISO 8601 UTC with milliseconds (spec 5.6.1). */
static void iso_ms(int64_t ms, char out[32])
{
    if (ms < 0) ms = 0;
    strands_clock_iso8601(ms / 1000, (int)(ms % 1000), out, 32);
}

/* A text part: 1.0 {"text"}, 0.3 {"kind":"text","text"}. */
static json_t *text_part(const char *text, size_t len, a2a_version v)
{
    json_t *p = json_object();
    if (!p) return NULL;
    if ((v == A2A_V03 && json_object_set_new(p, "kind", json_string("text"))) ||
        json_object_set_new(p, "text", json_stringn(text ? text : "", len))) {
        json_decref(p);
        return NULL;
    }
    return p;
}

json_t *a2a_message_json(const char *text, size_t len, int agent,
                         const char *message_id, const char *context_id,
                         const char *task_id, a2a_version v)
{
    json_t *m = json_object();
    json_t *parts = json_array();
    if (!m || !parts || json_array_append_new(parts, text_part(text, len, v)))
        goto oom;
    const char *role = v == A2A_V10 ? (agent ? "ROLE_AGENT" : "ROLE_USER")
                                    : (agent ? "agent" : "user");
    if ((v == A2A_V03 &&
         json_object_set_new(m, "kind", json_string("message"))) ||
        json_object_set_new(m, "messageId", json_string(message_id)) ||
        json_object_set_new(m, "role", json_string(role)) ||
        json_object_set(m, "parts", parts) ||
        (context_id &&
         json_object_set_new(m, "contextId", json_string(context_id))) ||
        (task_id && json_object_set_new(m, "taskId", json_string(task_id))))
        goto oom;
    json_decref(parts);
    return m;
oom:
    json_decref(parts);
    json_decref(m);
    return NULL;
}

/* TaskStatus {state, timestamp, message?}. */
static json_t *status_json(const char *task_id, const char *context_id,
                           a2a_task_state state, int64_t updated_ms,
                           const char *message, const char *message_id,
                           a2a_version v)
{
    char ts[32];
    iso_ms(updated_ms, ts);
    json_t *s = json_object();
    if (!s || json_object_set_new(s, "state",
                                  json_string(a2a_state_name(state, v))) ||
        json_object_set_new(s, "timestamp", json_string(ts)))
        goto oom;
    if (message) {
        char mid[80];
        if (!message_id) {
            snprintf(mid, sizeof mid, "%s-status", task_id);
            message_id = mid;
        }
        json_t *m = a2a_message_json(message, strlen(message), 1, message_id,
                                     context_id, task_id, v);
        if (!m || json_object_set_new(s, "message", m)) goto oom;
    }
    return s;
oom:
    json_decref(s);
    return NULL;
}

/* The answer artifact {artifactId, name, parts:[text]}. */
static json_t *artifact_json(const char *artifact_id, const char *text,
                             size_t len, a2a_version v)
{
    json_t *a = json_object();
    json_t *parts = json_array();
    if (!a || !parts || json_array_append_new(parts, text_part(text, len, v)) ||
        json_object_set_new(a, "artifactId", json_string(artifact_id)) ||
        json_object_set_new(a, "name", json_string("response")) ||
        json_object_set(a, "parts", parts)) {
        json_decref(parts);
        json_decref(a);
        return NULL;
    }
    json_decref(parts);
    return a;
}

json_t *a2a_task_json(const a2a_task_view *t, a2a_version v,
                      int history_length, int include_artifacts)
{
    json_t *task = json_object();
    if (!task) return NULL;
    /* The status says why a task failed; a completed one's answer is in
     * the artifact and the history. */
    const char *smsg = t->state == A2A_FAILED ? t->error : NULL;
    if ((v == A2A_V03 && json_object_set_new(task, "kind", json_string("task"))) ||
        json_object_set_new(task, "id", json_string(t->id)) ||
        json_object_set_new(task, "contextId", json_string(t->context_id)) ||
        json_object_set_new(task, "status",
                            status_json(t->id, t->context_id, t->state,
                                        t->updated_ms, smsg, NULL, v)))
        goto oom;
    if (include_artifacts && t->answer) {
        json_t *arts = json_array();
        if (!arts || json_object_set_new(task, "artifacts", arts) ||
            json_array_append_new(arts, artifact_json(t->artifact_id,
                                                      t->answer,
                                                      t->answer_len, v)))
            goto oom;
    }
    if (history_length != 0) {
        json_t *msgs[2] = {NULL, NULL};
        size_t n = 0;
        msgs[n++] = a2a_message_json(t->user_text,
                                     t->user_text ? strlen(t->user_text) : 0,
                                     0, t->user_message_id, t->context_id,
                                     t->id, v);
        if (t->state == A2A_COMPLETED && t->answer)
            msgs[n++] = a2a_message_json(t->answer, t->answer_len, 1,
                                         t->reply_id, t->context_id, t->id, v);
        size_t first = history_length > 0 && (size_t)history_length < n
                           ? n - (size_t)history_length
                           : 0;
        json_t *hist = json_array();
        int bad = !hist || json_object_set_new(task, "history", hist);
        for (size_t i = 0; i < n; i++) {
            if (!msgs[i]) bad = 1;
            if (i >= first && !bad) {
                if (json_array_append_new(hist, msgs[i])) bad = 1;
            } else {
                json_decref(msgs[i]);
            }
        }
        if (bad) goto oom;
    }
    return task;
oom:
    json_decref(task);
    return NULL;
}

/* 1.0 wraps a stream payload: {"<key>": obj}; 0.3 tags it with kind. */
static json_t *wrap(json_t *obj, const char *key10, const char *kind03,
                    a2a_version v)
{
    if (!obj) return NULL;
    if (v == A2A_V03) {
        if (json_object_set_new(obj, "kind", json_string(kind03))) {
            json_decref(obj);
            return NULL;
        }
        return obj;
    }
    json_t *w = json_object();
    if (!w) {
        json_decref(obj);
        return NULL;
    }
    if (json_object_set_new(w, key10, obj)) { /* obj is freed */
        json_decref(w);
        return NULL;
    }
    return w;
}

json_t *a2a_status_event(const char *task_id, const char *context_id,
                         a2a_task_state state, int64_t updated_ms,
                         const char *message, a2a_version v)
{
    json_t *e = json_object();
    if (!e || json_object_set_new(e, "taskId", json_string(task_id)) ||
        json_object_set_new(e, "contextId", json_string(context_id)) ||
        json_object_set_new(e, "status",
                            status_json(task_id, context_id, state,
                                        updated_ms, message, NULL, v)) ||
        (v == A2A_V03 &&
         json_object_set_new(e, "final",
                             json_boolean(a2a_state_terminal(state))))) {
        json_decref(e);
        return NULL;
    }
    return wrap(e, "statusUpdate", "status-update", v);
}

json_t *a2a_artifact_event(const char *task_id, const char *context_id,
                           const char *artifact_id, const char *text,
                           size_t len, int append, int last_chunk,
                           a2a_version v)
{
    json_t *e = json_object();
    if (!e || json_object_set_new(e, "taskId", json_string(task_id)) ||
        json_object_set_new(e, "contextId", json_string(context_id)) ||
        json_object_set_new(e, "artifact",
                            artifact_json(artifact_id, text, len, v)) ||
        json_object_set_new(e, "append", json_boolean(append)) ||
        json_object_set_new(e, "lastChunk", json_boolean(last_chunk))) {
        json_decref(e);
        return NULL;
    }
    return wrap(e, "artifactUpdate", "artifact-update", v);
}

json_t *a2a_send_result(json_t *task, a2a_version v)
{
    if (!task || v == A2A_V03) return task;
    json_t *w = json_object();
    if (!w) {
        json_decref(task);
        return NULL;
    }
    if (json_object_set_new(w, "task", task)) { /* task is freed */
        json_decref(w);
        return NULL;
    }
    return w;
}

/* {"jsonrpc":"2.0","id":id,key:value}; steals value. */
static json_t *envelope(const json_t *id, const char *key, json_t *value)
{
    if (!value) return NULL;
    json_t *r = json_object();
    if (!r || json_object_set_new(r, "jsonrpc", json_string("2.0")) ||
        json_object_set_new(r, "id", id ? json_deep_copy(id) : json_null())) {
        json_decref(value);
        json_decref(r);
        return NULL;
    }
    if (json_object_set_new(r, key, value)) { /* value is freed */
        json_decref(r);
        return NULL;
    }
    return r;
}

json_t *a2a_response(const json_t *id, json_t *result)
{
    return envelope(id, "result", result);
}

/* The google.rpc.ErrorInfo reason of an A2A-specific code, or NULL. */
static const char *reason_of(int code)
{
    switch (code) {
    case A2A_ERR_TASK_NOT_FOUND: return "TASK_NOT_FOUND";
    case A2A_ERR_TASK_NOT_CANCELABLE: return "TASK_NOT_CANCELABLE";
    case A2A_ERR_PUSH_NOT_SUPPORTED: return "PUSH_NOTIFICATION_NOT_SUPPORTED";
    case A2A_ERR_UNSUPPORTED: return "UNSUPPORTED_OPERATION";
    case A2A_ERR_CONTENT_TYPE: return "CONTENT_TYPE_NOT_SUPPORTED";
    case A2A_ERR_VERSION: return "VERSION_NOT_SUPPORTED";
    default: return NULL;
    }
}

json_t *a2a_error_response(const json_t *id, int code, const char *message,
                           a2a_version v)
{
    json_t *e = json_pack("{s:i, s:s}", "code", code, "message",
                          message ? message : "error");
    const char *reason = reason_of(code);
    if (e && v == A2A_V10 && reason &&
        json_object_set_new(
            e, "data",
            json_pack("[{s:s, s:s, s:s}]", "@type",
                      "type.googleapis.com/google.rpc.ErrorInfo", "reason",
                      reason, "domain", "a2a-protocol.org"))) {
        json_decref(e);
        return NULL;
    }
    return envelope(id, "error", e);
}

/* One skill per tool: {"id","name","description","tags"}. */
static int add_skills(json_t *skills, const json_t *specs)
{
    size_t i;
    const json_t *s;
    json_array_foreach(specs, i, s) {
        const json_t *ts = json_object_get(s, "toolSpec");
        const char *name = json_string_value(json_object_get(ts, "name"));
        const char *desc =
            json_string_value(json_object_get(ts, "description"));
        if (!name) continue;
        json_t *sk = json_pack("{s:s, s:s, s:s, s:[s, s]}", "id", name, "name",
                               name, "description",
                               desc && *desc ? desc : name, "tags", "tool",
                               name);
        if (!sk || json_array_append_new(skills, sk)) return -1;
    }
    return 0;
}

json_t *a2a_card_json(const a2a_card_info *c)
{
    const char *url = c->url ? c->url : "http://localhost:9000/";
    json_t *card = json_pack(
        "{s:s, s:s, s:s, s:[{s:s, s:s, s:s}, {s:s, s:s, s:s}], s:s, s:s, "
        "s:s, s:{s:b, s:b, s:b}, s:[s, s], s:[s], s:[]}",
        "name", c->name ? c->name : "strands-agent", "description",
        c->description ? c->description : "A Strands agent", "version",
        c->version ? c->version : "0.0.0", "supportedInterfaces", "url", url,
        "protocolBinding", "JSONRPC", "protocolVersion", "1.0", "url", url,
        "protocolBinding", "JSONRPC", "protocolVersion", "0.3",
        /* the 0.3 card fields */
        "url", url, "protocolVersion", "0.3.0", "preferredTransport",
        "JSONRPC", "capabilities", "streaming", 1, "pushNotifications", 0,
        "extendedAgentCard", 0, "defaultInputModes", "text/plain",
        "application/json", "defaultOutputModes", "text/plain", "skills");
    if (!card) return NULL;
    json_t *skills = json_object_get(card, "skills");
    if (c->tool_specs && add_skills(skills, c->tool_specs)) goto oom;
    if (!json_array_size(skills)) {
        json_t *sk = json_pack(
            "{s:s, s:s, s:s, s:[s]}", "id", "chat", "name", "chat",
            "description",
            c->description ? c->description : "Answers text messages",
            "tags", "chat");
        if (!sk || json_array_append_new(skills, sk)) goto oom;
    }
    return card;
oom:
    json_decref(card);
    return NULL;
}
