/* The AgentCore Memory codec: messages, the agent object and the session
 * record to and from event payloads, byte for byte as the Strands
 * integration (AgentCoreMemoryConverter, AgentCoreMemorySessionManager)
 * writes them with Python's json.dumps, and the id patterns the service
 * enforces. Pure functions; nothing here does I/O.                     */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "session/agentcore_memory.h"

/* ---- ids --------------------------------------------------------------- */

static int alnum(int c) { return isascii(c) && isalnum(c); }

int session_acm_memory_id_ok(const char *id)
{
    size_t n = id ? strlen(id) : 0;
    /* [a-zA-Z][a-zA-Z0-9-_]{0,99}-[a-zA-Z0-9]{10} */
    if (n < 12 || n > 111 || !isascii((unsigned char)id[0]) ||
        !isalpha((unsigned char)id[0]))
        return 0;
    for (size_t i = n - 10; i < n; i++)
        if (!alnum((unsigned char)id[i])) return 0;
    if (id[n - 11] != '-') return 0;
    for (size_t i = 1; i < n - 11; i++) {
        unsigned char c = (unsigned char)id[i];
        if (!alnum(c) && c != '-' && c != '_') return 0;
    }
    return 1;
}

int session_acm_actor_id_ok(const char *id)
{
    /* [a-zA-Z0-9][a-zA-Z0-9-_/]*(?::[a-zA-Z0-9-_/]+)*[a-zA-Z0-9-_/]*:
     * ':' only between non-empty runs of the other characters.         */
    size_t n = id ? strlen(id) : 0;
    if (n < 1 || n > 255 || !alnum((unsigned char)id[0])) return 0;
    for (size_t i = 1; i < n; i++) {
        unsigned char c = (unsigned char)id[i];
        if (c == ':') {
            if (id[i - 1] == ':' || i + 1 == n) return 0;
        } else if (!alnum(c) && c != '-' && c != '_' && c != '/') {
            return 0;
        }
    }
    return 1;
}

int session_acm_session_id_ok(const char *id)
{
    size_t n = id ? strlen(id) : 0;
    if (n < 1 || n > 100 || !alnum((unsigned char)id[0])) return 0;
    for (size_t i = 1; i < n; i++) {
        unsigned char c = (unsigned char)id[i];
        if (!alnum(c) && c != '-' && c != '_') return 0;
    }
    return 1;
}

/* ---- json.dumps -------------------------------------------------------- */

/* Collects jansson's output, remembering any failed write: jansson
 * 2.14 ignores some callback failures (an object key it could not
 * write is skipped and the dump goes on), so the result is trusted
 * only when every write succeeded.                                     */
typedef struct dump_ctx {
    dynbuf buf;
    int failed;
} dump_ctx;

static int dump_cb(const char *p, size_t n, void *user)
{
    dump_ctx *d = user;
    if (!d->failed && dynbuf_append(&d->buf, p, n) != STRANDS_OK)
        d->failed = 1;
    return d->failed ? -1 : 0;
}

char *session_acm_dump(const json_t *v, size_t flags)
{
    dump_ctx d = {.failed = 0};
    dynbuf_init(&d.buf, SIZE_MAX);   /* bounded by the value dumped */
    if (json_dump_callback(v, dump_cb, &d, flags | JSON_ENCODE_ANY) != 0 ||
        d.failed) {
        dynbuf_cleanup(&d.buf);
        return NULL;
    }
    char *out = dynbuf_take(&d.buf, NULL);
    dynbuf_cleanup(&d.buf);
    return out;
}

char *session_acm_dumps(const json_t *v)
{
    /* jansson without JSON_COMPACT already separates with ", " and ": ";
     * ENSURE_ASCII escapes what Python escapes except DEL, and writes
     * \u escapes in upper case where Python uses lower case.            */
    char *s = session_acm_dump(v, JSON_ENSURE_ASCII);
    if (!s) return NULL;
    size_t dels = 0, n = 0;
    for (; s[n]; n++) dels += s[n] == 0x7f;
    char *out = malloc(n + dels * 5 + 1);
    if (!out) {
        free(s);
        return NULL;
    }
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == 0x7f) {
            memcpy(out + o, "\\u007f", 6);
            o += 6;
        } else if (s[i] == '\\' && s[i + 1] == 'u') {
            out[o++] = s[i++];
            out[o++] = s[i];
            for (int k = 0; k < 4 && s[i + 1]; k++)
                out[o++] = (char)tolower((unsigned char)s[++i]);
        } else if (s[i] == '\\') {
            out[o++] = s[i++];      /* a two-character escape: keep both */
            out[o++] = s[i];
        } else {
            out[o++] = s[i];
        }
    }
    out[o] = '\0';
    free(s);
    return out;
}

void session_acm_iso_now(char *out, size_t outsz)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char base[32];
    strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
    long us = ts.tv_nsec / 1000;
    if (us) snprintf(out, outsz, "%s.%06ld+00:00", base, us);
    else snprintf(out, outsz, "%s+00:00", base);
}

/* ---- messages ---------------------------------------------------------- */

static int blank(const char *s)
{
    for (; *s; s++)
        if (!strchr(" \t\n\r\f\v", *s)) return 0;
    return 1;
}

/* The message with blank text blocks dropped (Strands' _filter_empty_text);
 * a new reference; the message itself (a new reference) when that would
 * leave no content or there is nothing to drop.                        */
static json_t *filter_blank_text(const json_t *message)
{
    json_t *content = json_object_get(message, "content");
    if (!json_is_array(content)) return json_incref((json_t *)message);
    json_t *kept = json_array();
    if (!kept) return NULL;
    size_t i;
    json_t *block;
    int dropped = 0;
    json_array_foreach(content, i, block) {
        json_t *text = json_object_get(block, "text");
        if (json_is_string(text) && blank(json_string_value(text))) {
            dropped = 1;
            continue;
        }
        if (json_array_append(kept, block) != 0) {
            json_decref(kept);
            return NULL;
        }
    }
    if (!dropped || json_array_size(kept) == 0) {
        json_decref(kept);
        return json_incref((json_t *)message);
    }
    json_t *out = json_copy((json_t *)message);   /* shallow: same order */
    if (!out || json_object_set_new(out, "content", kept) != 0) {
        json_decref(out);
        return NULL;
    }
    return out;
}

json_t *session_acm_message_payload(const json_t *message,
                                    const char *created_at,
                                    strands_error *err)
{
    const char *role = json_string_value(json_object_get(message, "role"));
    const char *upper = NULL;
    if (role && !strcmp(role, "user")) upper = "USER";
    else if (role && !strcmp(role, "assistant")) upper = "ASSISTANT";
    if (!upper) {
        strands_error_set(err, STRANDS_E_INVALID, NULL,
                          "a stored message needs role user or assistant");
        return NULL;
    }
    json_t *filtered = filter_blank_text(message);
    json_t *doc = filtered ? json_object() : NULL;
    char *text = NULL;
    /* set_new takes the reference even when it fails. */
    int set = doc && json_object_set_new(doc, "message", filtered) == 0;
    if (doc) filtered = NULL;
    if (set) {
        if (json_object_set_new(doc, "message_id", json_integer(0)) == 0 &&
            json_object_set_new(doc, "redact_message", json_null()) == 0 &&
            json_object_set_new(doc, "created_at",
                                json_string(created_at)) == 0 &&
            json_object_set_new(doc, "updated_at",
                                json_string(created_at)) == 0)
            text = session_acm_dumps(doc);
    }
    json_decref(filtered);
    json_decref(doc);
    if (!text) {
        strands_error_set(err, STRANDS_E_NOMEM, NULL,
                          "out of memory encoding a message");
        return NULL;
    }
    json_t *item = NULL;
    if (strlen(text) + strlen(role) >= ACM_CONVERSATIONAL_MAX) {
        /* json.dumps((text, role)): a JSON array as the blob's string. */
        json_t *pair = json_pack("[s,s]", text, role);
        char *blob = pair ? session_acm_dumps(pair) : NULL;
        json_decref(pair);
        if (blob) item = json_pack("{s:s}", "blob", blob);
        free(blob);
    } else {
        item = json_pack("{s:{s:{s:s}, s:s}}", "conversational", "content",
                         "text", text, "role", upper);
    }
    free(text);
    if (!item)
        strands_error_set(err, STRANDS_E_NOMEM, NULL,
                          "out of memory encoding a message");
    return item;
}

/* Parses text, which should hold a JSON value opening with `open` ('{' or
 * '['), into *out: OK with NULL when it does not open so (not ours to
 * read: a plain-text event, a session or agent blob where a message pair
 * would be); E_NOMEM when it does but does not parse. jansson reports
 * most allocation failures as syntax errors, so a value that should
 * parse and does not is an error, never silently "not a message".      */
static strands_status parse(const char *text, char open, json_t **out)
{
    *out = NULL;
    while (*text == ' ' || *text == '\t' || *text == '\n' || *text == '\r')
        text++;
    if (*text != open) return STRANDS_OK;
    *out = json_loads(text, 0, NULL);
    return *out ? STRANDS_OK : STRANDS_E_NOMEM;
}

/* The message of a serialized SessionMessage (redact_message when set,
 * as SessionMessage.to_message does), blank text dropped, into *out
 * (NULL when it is not one).                                           */
static strands_status session_message(const char *text, json_t **out)
{
    json_t *doc;
    *out = NULL;
    if (parse(text, '{', &doc) != STRANDS_OK) return STRANDS_E_NOMEM;
    json_t *m = json_object_get(doc, "redact_message");
    if (!json_is_object(m)) m = json_object_get(doc, "message");
    strands_status st = STRANDS_OK;
    if (json_is_object(m) &&
        json_is_string(json_object_get(m, "role")) &&
        json_is_array(json_object_get(m, "content")) &&
        !(*out = filter_blank_text(m)))
        st = STRANDS_E_NOMEM;
    json_decref(doc);
    return st;
}

strands_status session_acm_payload_message(const json_t *item, json_t **out)
{
    *out = NULL;
    json_t *conv = json_object_get(item, "conversational");
    if (conv) {
        const char *text = json_string_value(
            json_object_get(json_object_get(conv, "content"), "text"));
        return text ? session_message(text, out) : STRANDS_OK;
    }
    const char *blob = json_string_value(json_object_get(item, "blob"));
    if (!blob) return STRANDS_OK;
    json_t *pair;
    if (parse(blob, '[', &pair) != STRANDS_OK) return STRANDS_E_NOMEM;
    strands_status st = STRANDS_OK;
    if (json_is_array(pair) && json_array_size(pair) == 2 &&
        json_is_string(json_array_get(pair, 0)))
        st = session_message(json_string_value(json_array_get(pair, 0)),
                             out);
    json_decref(pair);
    return st;
}

/* ---- agent and session ------------------------------------------------- */

/* 1 when key is an item of the comma-separated list (NULL: none). */
static int listed(const char *list, const char *key)
{
    size_t n = strlen(key);
    for (const char *p = list; p && *p;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == n && !strncmp(p, key, n)) return 1;
        p = end ? end + 1 : NULL;
    }
    return 0;
}

strands_status session_acm_agent_from_blob(const json_t *blob,
                                          const char *filled, json_t **out,
                                          char **created_at_out)
{
    *out = NULL;
    if (created_at_out) *created_at_out = NULL;
    json_t *doc = NULL;
    if (json_is_string(blob)) {
        if (parse(json_string_value(blob), '{', &doc) != STRANDS_OK)
            return STRANDS_E_NOMEM;
    } else if (json_is_object(blob) && !(doc = json_deep_copy(blob))) {
        return STRANDS_E_NOMEM;
    }
    if (!json_is_object(doc)) {
        json_decref(doc);
        return STRANDS_OK;
    }
    const char *created = json_string_value(json_object_get(doc,
                                                             "created_at"));
    if (created && created_at_out && !(*created_at_out = strdup(created))) {
        json_decref(doc);
        return STRANDS_E_NOMEM;
    }
    json_object_del(doc, "agent_id");
    json_object_del(doc, "created_at");
    json_object_del(doc, "updated_at");
    if (listed(filled, "state")) json_object_del(doc, "state");
    if (listed(filled, "conversation_manager_state"))
        json_object_del(doc, "conversation_manager_state");
    *out = doc;
    return STRANDS_OK;
}

char *session_acm_agent_blob(const char *agent_id, const json_t *agent,
                     const char *created_at, const char *updated_at,
                     char *filled, size_t filledsz)
{
    json_t *doc = json_pack("{s:s}", "agent_id", agent_id);
    const char *k;
    json_t *v;
    int ok = doc != NULL;
    if (filled && filledsz) filled[0] = '\0';
    json_object_foreach((json_t *)agent, k, v) {
        if (!ok) break;
        if (!strcmp(k, "agent_id") || !strcmp(k, "created_at") ||
            !strcmp(k, "updated_at"))
            continue;
        ok = json_object_set(doc, k, v) == 0;
    }
    /* SessionAgent.from_dict needs both; restore_from_session needs the
     * manager's __name__ (Strands' default manager).                    */
    if (ok && !json_object_get(doc, "state")) {
        ok = json_object_set_new(doc, "state", json_object()) == 0;
        if (filled) snprintf(filled, filledsz, "state");
    }
    if (ok && !json_object_get(doc, "conversation_manager_state")) {
        ok = json_object_set_new(
                 doc, "conversation_manager_state",
                 json_pack("{s:s, s:i, s:i}", "__name__",
                           "SlidingWindowConversationManager",
                           "removed_message_count", 0, "model_call_count",
                           0)) == 0;
        if (filled) {
            size_t used = strlen(filled);
            snprintf(filled + used, filledsz - used,
                     "%sconversation_manager_state", used ? "," : "");
        }
    }
    ok = ok && json_object_set_new(doc, "created_at",
                                   json_string(created_at)) == 0 &&
         json_object_set_new(doc, "updated_at",
                             json_string(updated_at)) == 0;
    char *out = ok ? session_acm_dumps(doc) : NULL;
    json_decref(doc);
    return out;
}

char *session_acm_session_blob(const char *session_id, const char *now)
{
    json_t *doc = json_pack("{s:s, s:s, s:s, s:s}", "session_id", session_id,
                            "session_type", "AGENT", "created_at", now,
                            "updated_at", now);
    char *out = doc ? session_acm_dumps(doc) : NULL;
    json_decref(doc);
    return out;
}
