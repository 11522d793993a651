/* A2A requests, pure (no HTTP, no state): the JSON-RPC 2.0 envelope, the
 * protocol version (A2A-Version header against the method's name family)
 * and the params of each method in either version (see a2a.h).         */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "server/a2a.h"

int a2a_state_terminal(a2a_task_state s)
{
    return s == A2A_COMPLETED || s == A2A_FAILED || s == A2A_CANCELED;
}

const char *a2a_state_name(a2a_task_state s, a2a_version v)
{
    static const char *const v10[] = {
        "TASK_STATE_SUBMITTED", "TASK_STATE_WORKING", "TASK_STATE_COMPLETED",
        "TASK_STATE_FAILED", "TASK_STATE_CANCELED"};
    static const char *const v03[] = {"submitted", "working", "completed",
                                      "failed", "canceled"};
    if ((unsigned)s > A2A_CANCELED) s = A2A_FAILED;
    return v == A2A_V10 ? v10[s] : v03[s];
}

/* The methods: 1.0 names, 0.3 names. */
static const struct {
    const char *name;
    a2a_method method;
    a2a_version version;
} methods[] = {
    {"SendMessage", A2A_SEND, A2A_V10},
    {"SendStreamingMessage", A2A_STREAM, A2A_V10},
    {"GetTask", A2A_GET, A2A_V10},
    {"CancelTask", A2A_CANCEL, A2A_V10},
    {"ListTasks", A2A_LIST, A2A_V10},
    {"message/send", A2A_SEND, A2A_V03},
    {"message/stream", A2A_STREAM, A2A_V03},
    {"tasks/get", A2A_GET, A2A_V03},
    {"tasks/cancel", A2A_CANCEL, A2A_V03},
};

/* Methods of the spec this server does not offer, and the error each
 * gets (push notifications: -32003; the rest: unsupported operation). */
static const struct {
    const char *name;
    int code;
} unsupported[] = {
    {"SubscribeToTask", A2A_ERR_UNSUPPORTED},
    {"GetExtendedAgentCard", A2A_ERR_UNSUPPORTED},
    {"CreateTaskPushNotificationConfig", A2A_ERR_PUSH_NOT_SUPPORTED},
    {"GetTaskPushNotificationConfig", A2A_ERR_PUSH_NOT_SUPPORTED},
    {"ListTaskPushNotificationConfigs", A2A_ERR_PUSH_NOT_SUPPORTED},
    {"DeleteTaskPushNotificationConfig", A2A_ERR_PUSH_NOT_SUPPORTED},
    {"tasks/resubscribe", A2A_ERR_UNSUPPORTED},
    {"agent/getAuthenticatedExtendedCard", A2A_ERR_UNSUPPORTED},
    {"tasks/pushNotificationConfig/set", A2A_ERR_PUSH_NOT_SUPPORTED},
    {"tasks/pushNotificationConfig/get", A2A_ERR_PUSH_NOT_SUPPORTED},
    {"tasks/pushNotificationConfig/list", A2A_ERR_PUSH_NOT_SUPPORTED},
    {"tasks/pushNotificationConfig/delete", A2A_ERR_PUSH_NOT_SUPPORTED},
};

/* The A2A-Version value: 0 ok (*v set; *given 0 when absent/empty), or
 * -1 for a version this server does not speak. Only Major.Minor counts
 * (spec 3.6); "1" means 1.0.                                            */
static int parse_version(const char *h, a2a_version *v, int *given)
{
    *given = 0;
    *v = A2A_V03;
    if (!h) return 0;
    while (*h == ' ' || *h == '\t') h++;
    size_t n = strlen(h);
    while (n && (h[n - 1] == ' ' || h[n - 1] == '\t')) n--;
    if (!n) return 0;
    *given = 1;
    int major = 0, minor = 0;
    size_t i = 0;
    if (h[i] < '0' || h[i] > '9') return -1;
    while (i < n && h[i] >= '0' && h[i] <= '9' && major < 1000)
        major = major * 10 + (h[i++] - '0');
    if (i < n) {
        if (h[i++] != '.' || i >= n || h[i] < '0' || h[i] > '9') return -1;
        while (i < n && h[i] >= '0' && h[i] <= '9' && minor < 1000)
            minor = minor * 10 + (h[i++] - '0');
        if (i < n) {
            /* a patch number is allowed and ignored */
            if (h[i++] != '.' || i >= n) return -1;
            while (i < n && h[i] >= '0' && h[i] <= '9') i++;
            if (i < n) return -1;
        }
    }
    if (major == 1 && minor == 0) {
        *v = A2A_V10;
        return 0;
    }
    if (major == 0 && minor == 3) return 0;
    return -1;
}

void a2a_rpc_cleanup(a2a_rpc *r)
{
    json_decref(r->id);
    json_decref(r->params);
    r->id = r->params = NULL;
}

int a2a_rpc_parse(const char *body, size_t len, const char *version_header,
                  a2a_rpc *out, char *why, size_t whysz)
{
    memset(out, 0, sizeof *out);
    out->version = A2A_V03;
    int given;
    a2a_version hv;
    int bad_version = parse_version(version_header, &hv, &given) != 0;
    if (!bad_version) out->version = hv;

    json_error_t jerr;
    json_t *doc = json_loadb(body ? body : "", len, JSON_REJECT_DUPLICATES,
                             &jerr);
    if (!doc) {
        out->id = json_null();
        snprintf(why, whysz, "invalid JSON: %s (line %d)", jerr.text,
                 jerr.line);
        return A2A_ERR_PARSE;
    }
    int code = A2A_ERR_INVALID_REQUEST;
    if (!json_is_object(doc)) {
        out->id = json_null();
        snprintf(why, whysz, "%s", json_is_array(doc)
                                       ? "batch requests are not supported"
                                       : "a request must be a JSON object");
        goto out;
    }
    json_t *id = json_object_get(doc, "id");
    if (id && (json_is_string(id) || json_is_integer(id) || json_is_null(id)))
        out->id = json_incref(id);
    else
        out->id = json_null();
    if (!id) {
        snprintf(why, whysz, "\"id\" is required (notifications are not "
                             "supported)");
        goto out;
    }
    if (!json_is_string(id) && !json_is_integer(id) && !json_is_null(id)) {
        snprintf(why, whysz, "\"id\" must be a string, a number or null");
        goto out;
    }
    const char *jv = json_string_value(json_object_get(doc, "jsonrpc"));
    if (!jv || strcmp(jv, "2.0")) {
        snprintf(why, whysz, "\"jsonrpc\" must be \"2.0\"");
        goto out;
    }
    const char *m = json_string_value(json_object_get(doc, "method"));
    if (!m) {
        snprintf(why, whysz, "\"method\" must be a string");
        goto out;
    }
    json_t *params = json_object_get(doc, "params");
    if (params && !json_is_object(params)) {
        code = A2A_ERR_INVALID_PARAMS;
        snprintf(why, whysz, "\"params\" must be an object");
        goto out;
    }
    if (bad_version) {
        code = A2A_ERR_VERSION;
        snprintf(why, whysz, "A2A-Version is not supported; this agent "
                             "speaks 1.0 and 0.3");
        goto out;
    }
    code = A2A_ERR_METHOD_NOT_FOUND;
    size_t i;
    for (i = 0; i < sizeof methods / sizeof methods[0]; i++)
        if (!strcmp(methods[i].name, m)) break;
    if (i == sizeof methods / sizeof methods[0]) {
        for (size_t k = 0; k < sizeof unsupported / sizeof unsupported[0];
             k++)
            if (!strcmp(unsupported[k].name, m)) {
                code = unsupported[k].code;
                snprintf(why, whysz, "%s is not supported by this agent%s",
                         m, code == A2A_ERR_PUSH_NOT_SUPPORTED
                                ? " (no push notifications)"
                                : "");
                goto out;
            }
        snprintf(why, whysz, "method not found; this agent serves "
                             "SendMessage, SendStreamingMessage, GetTask, "
                             "CancelTask, ListTasks (A2A 1.0) and "
                             "message/send, message/stream, tasks/get, "
                             "tasks/cancel (A2A 0.3)");
        goto out;
    }
    /* An explicit version must match the method's family; without one a
     * 1.0 name is served as 1.0 (0.3 clients never send those names).  */
    if (given && methods[i].version != hv) {
        snprintf(why, whysz, "method %s is not part of A2A %s", m,
                 hv == A2A_V10 ? "1.0" : "0.3");
        goto out;
    }
    out->method = methods[i].method;
    out->version = methods[i].version;
    out->params = params ? json_incref(params) : json_object();
    if (!out->params) {
        code = A2A_ERR_INTERNAL;
        snprintf(why, whysz, "out of memory");
        goto out;
    }
    code = 0;
out:
    json_decref(doc);
    if (code && whysz && !why[0]) snprintf(why, whysz, "invalid request");
    return code;
}

/* ---- params ------------------------------------------------------------- */

/* A non-negative int field: 1 when present and valid (*out set), 0 when
 * absent, -1 when invalid.                                              */
static int int_field(const json_t *o, const char *name, long max, int *out)
{
    json_t *v = json_object_get(o, name);
    if (!v || json_is_null(v)) return 0;
    if (!json_is_integer(v)) return -1;
    json_int_t n = json_integer_value(v);
    if (n < 0 || n > max) return -1;
    *out = (int)n;
    return 1;
}

/* A string field copied into out (outsz - 1 bytes at most, no control
 * characters): 1 present, 0 absent, -1 invalid.                        */
static int str_field(const json_t *o, const char *name, char *out,
                     size_t outsz)
{
    json_t *v = json_object_get(o, name);
    if (!v || json_is_null(v)) return 0;
    const char *s = json_string_value(v);
    if (!s) return -1;
    size_t n = json_string_length(v);
    if (n == 0 || n >= outsz) return -1;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) return -1;
    memcpy(out, s, n);
    out[n] = '\0';
    return 1;
}

/* Appends one part to the prompt: 0, or an error code with why. */
static int add_part(dynbuf *b, const json_t *part, size_t index,
                    a2a_version v, char *why, size_t whysz)
{
    if (!json_is_object(part)) {
        snprintf(why, whysz, "message.parts[%zu] must be an object", index);
        return A2A_ERR_INVALID_PARAMS;
    }
    const char *kind = json_string_value(json_object_get(part, "kind"));
    json_t *text = json_object_get(part, "text");
    json_t *data = json_object_get(part, "data");
    int is_text, is_data, is_file;
    if (v == A2A_V03 && kind) {
        is_text = !strcmp(kind, "text");
        is_data = !strcmp(kind, "data");
        is_file = !strcmp(kind, "file");
        if (!is_text && !is_data && !is_file) {
            snprintf(why, whysz, "message.parts[%zu].kind must be text, "
                                 "data or file", index);
            return A2A_ERR_INVALID_PARAMS;
        }
    } else {
        is_text = text != NULL;
        is_data = !is_text && data != NULL;
        is_file = !is_text && !is_data &&
                  (json_object_get(part, "raw") || json_object_get(part, "url") ||
                   json_object_get(part, "file"));
        if (!is_text && !is_data && !is_file) {
            snprintf(why, whysz, "message.parts[%zu] has no content (text, "
                                 "data, raw or url)", index);
            return A2A_ERR_INVALID_PARAMS;
        }
    }
    if (is_file) {
        snprintf(why, whysz, "message.parts[%zu]: file parts are not "
                             "supported; this agent takes text (and data "
                             "parts, read as JSON text)", index);
        return A2A_ERR_CONTENT_TYPE;
    }
    if (b->len && dynbuf_append(b, "\n", 1) != STRANDS_OK) goto oom;
    if (is_text) {
        if (!json_is_string(text)) {
            snprintf(why, whysz, "message.parts[%zu].text must be a string",
                     index);
            return A2A_ERR_INVALID_PARAMS;
        }
        if (dynbuf_append(b, json_string_value(text),
                          json_string_length(text)) != STRANDS_OK)
            goto oom;
        return 0;
    }
    if (!data) {
        snprintf(why, whysz, "message.parts[%zu].data is required", index);
        return A2A_ERR_INVALID_PARAMS;
    }
    size_t n = json_dumpb(data, NULL, 0, JSON_COMPACT | JSON_ENCODE_ANY);
    char *t = n ? malloc(n) : NULL;
    if (!t || json_dumpb(data, t, n, JSON_COMPACT | JSON_ENCODE_ANY) != n ||
        dynbuf_append(b, t, n) != STRANDS_OK) {
        free(t);
        goto oom;
    }
    free(t);
    return 0;
oom:
    snprintf(why, whysz, "out of memory (or the message is too large)");
    return A2A_ERR_INTERNAL;
}

void a2a_send_cleanup(a2a_send *s)
{
    free(s->text);
    s->text = NULL;
}

int a2a_send_parse(const json_t *params, a2a_version v, a2a_send *out,
                   char *why, size_t whysz)
{
    memset(out, 0, sizeof *out);
    out->history_length = -1;
    const json_t *msg = json_object_get(params, "message");
    if (!json_is_object(msg)) {
        snprintf(why, whysz, "params.message must be an object");
        return A2A_ERR_INVALID_PARAMS;
    }
    const char *role = json_string_value(json_object_get(msg, "role"));
    const char *user = v == A2A_V10 ? "ROLE_USER" : "user";
    if (!role || strcmp(role, user)) {
        snprintf(why, whysz, "message.role must be \"%s\"", user);
        return A2A_ERR_INVALID_PARAMS;
    }
    if (v == A2A_V03) {
        const char *kind = json_string_value(json_object_get(msg, "kind"));
        if (kind && strcmp(kind, "message")) {
            snprintf(why, whysz, "message.kind must be \"message\"");
            return A2A_ERR_INVALID_PARAMS;
        }
    }
    if (str_field(msg, "messageId", out->message_id,
                  sizeof out->message_id) != 1) {
        snprintf(why, whysz, "message.messageId must be a string of 1..%d "
                             "characters", A2A_MESSAGE_ID_MAX);
        return A2A_ERR_INVALID_PARAMS;
    }
    if (str_field(msg, "contextId", out->context_id,
                  sizeof out->context_id) < 0) {
        snprintf(why, whysz, "message.contextId must be 1..%d characters "
                             "without control characters",
                 SERVER_SESSION_ID_MAX);
        return A2A_ERR_INVALID_PARAMS;
    }
    if (str_field(msg, "taskId", out->task_id, sizeof out->task_id) < 0) {
        snprintf(why, whysz, "message.taskId must be a task id");
        return A2A_ERR_INVALID_PARAMS;
    }
    const json_t *cfg = json_object_get(params, "configuration");
    if (cfg && !json_is_null(cfg)) {
        if (!json_is_object(cfg)) {
            snprintf(why, whysz, "params.configuration must be an object");
            return A2A_ERR_INVALID_PARAMS;
        }
        const char *flag = v == A2A_V10 ? "returnImmediately" : "blocking";
        json_t *f = json_object_get(cfg, flag);
        if (f && !json_is_null(f)) {
            if (!json_is_boolean(f)) {
                snprintf(why, whysz, "configuration.%s must be a boolean",
                         flag);
                return A2A_ERR_INVALID_PARAMS;
            }
            out->return_immediately = v == A2A_V10 ? json_is_true(f)
                                                   : json_is_false(f);
        }
        if (int_field(cfg, "historyLength", 1000000, &out->history_length) <
            0) {
            snprintf(why, whysz, "configuration.historyLength must be a "
                                 "non-negative integer");
            return A2A_ERR_INVALID_PARAMS;
        }
    }
    const json_t *parts = json_object_get(msg, "parts");
    if (!json_is_array(parts) || !json_array_size(parts)) {
        snprintf(why, whysz, "message.parts must be a non-empty array");
        return A2A_ERR_INVALID_PARAMS;
    }
    dynbuf b;
    dynbuf_init(&b, (size_t)64 << 20);
    size_t i;
    const json_t *part;
    json_array_foreach(parts, i, part) {
        int rc = add_part(&b, part, i, v, why, whysz);
        if (rc) {
            dynbuf_cleanup(&b);
            return rc;
        }
    }
    size_t n = 0;
    for (size_t k = 0; k < b.len; k++)
        if (dynbuf_str(&b)[k] != ' ' && dynbuf_str(&b)[k] != '\n' &&
            dynbuf_str(&b)[k] != '\t' && dynbuf_str(&b)[k] != '\r')
            n++;
    if (!n) {
        dynbuf_cleanup(&b);
        snprintf(why, whysz, "the message has no text");
        return A2A_ERR_INVALID_PARAMS;
    }
    out->text = dynbuf_take(&b, NULL);
    if (!out->text) {
        snprintf(why, whysz, "out of memory");
        return A2A_ERR_INTERNAL;
    }
    return 0;
}

int a2a_task_params_parse(const json_t *params, char *id, size_t idsz,
                          int *history_length, char *why, size_t whysz)
{
    if (idsz > A2A_TASK_ID_MAX + 1) idsz = A2A_TASK_ID_MAX + 1;
    if (str_field(params, "id", id, idsz) != 1) {
        snprintf(why, whysz, "params.id must be a task id (1..%d "
                             "characters)", A2A_TASK_ID_MAX);
        return A2A_ERR_INVALID_PARAMS;
    }
    if (history_length) {
        *history_length = -1;
        if (int_field(params, "historyLength", 1000000, history_length) < 0) {
            snprintf(why, whysz, "params.historyLength must be a "
                                 "non-negative integer");
            return A2A_ERR_INVALID_PARAMS;
        }
    }
    return 0;
}

int a2a_list_parse(const json_t *params, a2a_list_query *out, char *why,
                   size_t whysz)
{
    memset(out, 0, sizeof *out);
    out->state = -1;
    out->page_size = A2A_PAGE_DEFAULT;
    out->history_length = -1;
    if (str_field(params, "contextId", out->context_id,
                  sizeof out->context_id) < 0) {
        snprintf(why, whysz, "contextId must be a context id");
        return A2A_ERR_INVALID_PARAMS;
    }
    json_t *st = json_object_get(params, "status");
    if (st && !json_is_null(st)) {
        const char *s = json_string_value(st);
        for (int k = 0; s && k <= A2A_CANCELED; k++)
            if (!strcmp(s, a2a_state_name((a2a_task_state)k, A2A_V10)))
                out->state = k;
        if (!s || (out->state < 0 && strcmp(s, "TASK_STATE_UNSPECIFIED") &&
                   strcmp(s, "TASK_STATE_INPUT_REQUIRED") &&
                   strcmp(s, "TASK_STATE_REJECTED") &&
                   strcmp(s, "TASK_STATE_AUTH_REQUIRED"))) {
            snprintf(why, whysz, "status must be a TASK_STATE_* name");
            return A2A_ERR_INVALID_PARAMS;
        }
        /* States this agent never enters match nothing. */
        if (out->state < 0 && strcmp(s, "TASK_STATE_UNSPECIFIED"))
            out->state = 100;
    }
    json_t *ps = json_object_get(params, "pageSize");
    if (ps && !json_is_null(ps)) {
        if (!json_is_integer(ps) || json_integer_value(ps) < 1 ||
            json_integer_value(ps) > A2A_PAGE_MAX) {
            snprintf(why, whysz, "pageSize must be between 1 and %d",
                     A2A_PAGE_MAX);
            return A2A_ERR_INVALID_PARAMS;
        }
        out->page_size = (int)json_integer_value(ps);
    }
    json_t *pt = json_object_get(params, "pageToken");
    if (pt && !json_is_null(pt)) {
        const char *s = json_string_value(pt);
        size_t n = s ? json_string_length(pt) : 0;
        if (!s) goto bad_token;
        if (n) {
            if (n > 9) goto bad_token;
            size_t off = 0;
            for (size_t k = 0; k < n; k++) {
                if (s[k] < '0' || s[k] > '9') goto bad_token;
                off = off * 10 + (size_t)(s[k] - '0');
            }
            out->offset = off;
        }
    }
    if (int_field(params, "historyLength", 1000000, &out->history_length) <
        0) {
        snprintf(why, whysz, "historyLength must be a non-negative integer");
        return A2A_ERR_INVALID_PARAMS;
    }
    json_t *ia = json_object_get(params, "includeArtifacts");
    if (ia && !json_is_null(ia)) {
        if (!json_is_boolean(ia)) {
            snprintf(why, whysz, "includeArtifacts must be a boolean");
            return A2A_ERR_INVALID_PARAMS;
        }
        out->include_artifacts = json_is_true(ia);
    }
    return 0;
bad_token:
    snprintf(why, whysz, "pageToken is not one this agent gave out");
    return A2A_ERR_INVALID_PARAMS;
}
