/* The JSON layout of Strands Python's FileSessionManager, as the file
 * session store reads and writes it: message records (message_<N>.json),
 * agent.json and session.json documents, Python's isoformat() timestamps,
 * the {"__bytes_encoded__": true, "data": <base64>} form Python uses for
 * bytes, and the indent-2, non-ASCII-kept serialization. Pure functions
 * over jansson values: no I/O here.                                      */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "strands/clock.h"
#include "net/base64.h"
#include "session/file.h"

/* ---- timestamps --------------------------------------------------------- */

void fstore_iso_now(char *out, size_t outsz)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t s = strands_clock_wall();
    long usec = (long)(ts.tv_nsec / 1000);
    if (s != (int64_t)ts.tv_sec) usec = 0; /* an overridden (test) clock */
    time_t t = (time_t)s;
    struct tm tm;
    gmtime_r(&t, &tm);
    snprintf(out, outsz, "%04d-%02d-%02dT%02d:%02d:%02d.%06ld+00:00",
             tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
             tm.tm_min, tm.tm_sec, usec);
}

/* ---- bytes -------------------------------------------------------------- */

/* {"__bytes_encoded__": true, "data": <s>} for the string s. */
static json_t *encoded_bytes(const json_t *s)
{
    return json_pack("{s:b,s:O}", "__bytes_encoded__", 1, "data", s);
}

/* A string Python holds as bytes: valid base64 (anything else stays a
 * plain string, which Python would not decode either).                  */
static int is_b64(const json_t *s)
{
    return json_is_string(s) &&
           net_base64_check(json_string_value(s), json_string_length(s),
                            NULL);
}

/* Encodes media->source.bytes (image, document, video) in place. */
static int encode_media(json_t *media)
{
    json_t *src = json_object_get(media, "source");
    json_t *b = json_object_get(src, "bytes");
    if (!is_b64(b)) return 0;
    json_t *enc = encoded_bytes(b);
    return enc ? json_object_set_new(src, "bytes", enc) : -1;
}

static int encode_media_blocks(json_t *block)
{
    static const char *const media[] = {"image", "document", "video"};
    for (size_t i = 0; i < sizeof media / sizeof media[0]; i++) {
        json_t *m = json_object_get(block, media[i]);
        if (json_is_object(m) && encode_media(m) != 0) return -1;
    }
    return 0;
}

/* Walks one content block: media, guard content images, redacted
 * reasoning, and the media inside tool results. toolUse inputs and JSON
 * tool results are user data and are left alone.                       */
static int encode_block(json_t *block)
{
    if (!json_is_object(block)) return 0;
    if (encode_media_blocks(block) != 0) return -1;
    json_t *guard = json_object_get(block, "guardContent");
    if (json_is_object(guard) && encode_media_blocks(guard) != 0) return -1;
    json_t *rc = json_object_get(block, "reasoningContent");
    json_t *red = json_object_get(rc, "redactedContent");
    if (is_b64(red)) {
        json_t *enc = encoded_bytes(red);
        if (!enc || json_object_set_new(rc, "redactedContent", enc) != 0)
            return -1;
    }
    json_t *tr = json_object_get(block, "toolResult");
    json_t *items = json_object_get(tr, "content");
    size_t i;
    json_t *item;
    json_array_foreach(items, i, item) {
        if (json_is_object(item) && encode_media_blocks(item) != 0)
            return -1;
    }
    return 0;
}

json_t *fstore_bytes_encode(const json_t *msg)
{
    json_t *copy = json_deep_copy(msg);
    if (!copy) return NULL;
    json_t *content = json_object_get(copy, "content");
    size_t i;
    json_t *block;
    json_array_foreach(content, i, block) {
        if (encode_block(block) != 0) {
            json_decref(copy);
            return NULL;
        }
    }
    return copy;
}

/* Depth bound of decode (jansson's parser stops at 2048 levels too). */
#define DECODE_MAX_DEPTH 2048

static json_t *decode_rec(const json_t *v, int depth, strands_error *err)
{
    if (depth > DECODE_MAX_DEPTH) {
        strands_error_set(err, STRANDS_E_PARSE, NULL, "nested too deeply");
        return NULL;
    }
    if (json_is_object(v)) {
        if (json_is_true(json_object_get(v, "__bytes_encoded__")) &&
            json_object_get(v, "data")) {
            json_t *d = json_object_get(v, "data");
            const char *s = json_string_value(d);
            if (!s || !net_base64_check(s, json_string_length(d), NULL)) {
                strands_error_set(err, STRANDS_E_PARSE, NULL,
                                  "an encoded bytes value whose data is "
                                  "not base64");
                return NULL;
            }
            json_t *out = json_stringn(s, json_string_length(d));
            if (!out) strands_error_set(err, STRANDS_E_NOMEM, NULL,
                                        "out of memory");
            return out;
        }
        json_t *out = json_object();
        if (!out) goto oom;
        const char *k;
        json_t *m;
        json_object_foreach((json_t *)v, k, m) {
            json_t *c = decode_rec(m, depth + 1, err);
            if (!c || json_object_set_new(out, k, c) != 0) {
                if (c) strands_error_set(err, STRANDS_E_NOMEM, NULL,
                                         "out of memory");
                json_decref(out);
                return NULL;
            }
        }
        return out;
    }
    if (json_is_array(v)) {
        json_t *out = json_array();
        if (!out) goto oom;
        size_t i;
        json_t *m;
        json_array_foreach(v, i, m) {
            json_t *c = decode_rec(m, depth + 1, err);
            if (!c || json_array_append_new(out, c) != 0) {
                if (c) strands_error_set(err, STRANDS_E_NOMEM, NULL,
                                         "out of memory");
                json_decref(out);
                return NULL;
            }
        }
        return out;
    }
    json_t *out = json_deep_copy(v);
    if (out) return out;
oom:
    strands_error_set(err, STRANDS_E_NOMEM, NULL, "out of memory");
    return NULL;
}

json_t *fstore_bytes_decode(const json_t *v, strands_error *err)
{
    return decode_rec(v, 0, err);
}

/* ---- serialization ------------------------------------------------------ */

char *fstore_json_text(const json_t *v, size_t *len)
{
    /* Measure first: jansson may drop a member when an allocation fails
     * inside a dump and still return text (see memory.c).               */
    size_t want = json_dumpb(v, NULL, 0, JSON_INDENT(2));
    if (want == 0) return NULL;
    char *text = malloc(want + 1);
    if (!text) return NULL;
    if (json_dumpb(v, text, want, JSON_INDENT(2)) != want) {
        free(text);
        return NULL;
    }
    text[want] = '\0';
    if (len) *len = want;
    return text;
}

char *fstore_message_record(const json_t *msg, size_t id, const char *now,
                            size_t *len)
{
    json_t *enc = fstore_bytes_encode(msg);
    if (!enc) return NULL;
    json_t *rec = json_pack("{s:o,s:I,s:n,s:s,s:s}", "message", enc,
                            "message_id", (json_int_t)id, "redact_message",
                            "created_at", now, "updated_at", now);
    if (!rec) return NULL; /* json_pack's "o" consumed enc */
    char *text = fstore_json_text(rec, len);
    json_decref(rec);
    return text;
}

/* ---- parsing ------------------------------------------------------------ */

static int is_message(const json_t *m)
{
    return json_is_object(m) && json_is_string(json_object_get(m, "role")) &&
           json_is_array(json_object_get(m, "content"));
}

strands_status fstore_message_parse(const char *text, size_t len,
                                    size_t expect_id, const char *name,
                                    json_t **msg_out, strands_error *err)
{
    *msg_out = NULL;
    json_error_t jerr;
    json_t *root = json_loadb(text, len, 0, &jerr);
    if (!root && json_error_code(&jerr) == json_error_out_of_memory)
        return strands_error_set(err, STRANDS_E_NOMEM, NULL,
                                 "out of memory");
    if (!root)
        return strands_error_set(err, STRANDS_E_PARSE, NULL,
                                 "session store: %s is not valid JSON "
                                 "(line %d: %.200s)", name, jerr.line,
                                 jerr.text);
    const char *why = NULL;
    json_t *msg = json_object_get(root, "message");
    json_t *red = json_object_get(root, "redact_message");
    json_t *id = json_object_get(root, "message_id");
    if (!json_is_object(root)) why = "not a JSON object";
    else if (!is_message(msg))
        why = "\"message\" is not a message (role, content)";
    else if (!json_is_integer(id) ||
             json_integer_value(id) != (json_int_t)expect_id)
        why = "\"message_id\" does not match the file name";
    else if (red && !json_is_null(red) && !is_message(red))
        why = "\"redact_message\" is neither null nor a message";
    if (why) {
        json_decref(root);
        return strands_error_set(err, STRANDS_E_PARSE, NULL,
                                 "session store: %s: %s", name, why);
    }
    strands_error e;
    json_t *out = fstore_bytes_decode(json_is_object(red) ? red : msg, &e);
    json_decref(root);
    if (!out) {
        if (e.status == STRANDS_E_NOMEM)
            return strands_error_set(err, STRANDS_E_NOMEM, NULL,
                                     "out of memory");
        return strands_error_set(err, STRANDS_E_PARSE, NULL,
                                 "session store: %s: %s", name, e.message);
    }
    *msg_out = out;
    return STRANDS_OK;
}

/* Keys of agent.json that are not part of the v3 agent object. */
static int is_envelope_key(const char *k)
{
    return strcmp(k, "agent_id") == 0 || strcmp(k, "created_at") == 0 ||
           strcmp(k, "updated_at") == 0 || strcmp(k, FILE_PRIVATE_KEY) == 0;
}

strands_status fstore_agent_parse(const char *text, size_t len,
                                  const char *name, json_t **agent_out,
                                  json_t **created_out, long long *committed,
                                  strands_error *err)
{
    *agent_out = NULL;
    *created_out = NULL;
    *committed = -1;
    json_error_t jerr;
    json_t *root = json_loadb(text, len, 0, &jerr);
    if (!root && json_error_code(&jerr) == json_error_out_of_memory)
        return strands_error_set(err, STRANDS_E_NOMEM, NULL,
                                 "out of memory");
    if (!json_is_object(root)) {
        json_decref(root);
        return strands_error_set(err, STRANDS_E_PARSE, NULL,
                                 "session store: %s is not a JSON object",
                                 name);
    }
    json_t *agent = json_object();
    if (!agent) goto oom;
    const char *k;
    json_t *v;
    json_object_foreach(root, k, v) {
        if (is_envelope_key(k)) continue;
        if (json_object_set_new(agent, k, json_deep_copy(v)) != 0) goto oom;
    }
    json_t *priv = json_object_get(root, FILE_PRIVATE_KEY);
    json_t *c = json_object_get(priv, "message_count");
    if (json_is_integer(c) && json_integer_value(c) >= 0 &&
        json_integer_value(c) <= FILE_MAX_MESSAGES) {
        *committed = (long long)json_integer_value(c);
        size_t i;
        json_t *d;
        json_array_foreach(json_object_get(priv, "defaults"), i, d) {
            if (json_is_string(d))
                json_object_del(agent, json_string_value(d));
        }
    }
    json_t *created = json_object_get(root, "created_at");
    if (json_is_string(created)) {
        *created_out = json_deep_copy(created);
        if (!*created_out) goto oom;
    }
    json_decref(root);
    *agent_out = agent;
    return STRANDS_OK;
oom:
    json_decref(agent);
    json_decref(root);
    return strands_error_set(err, STRANDS_E_NOMEM, NULL, "out of memory");
}

/* Copies agent[key] when it is an object, else builds the default. */
static json_t *object_or(const json_t *agent, const char *key,
                         json_t *(*def)(void))
{
    json_t *v = json_object_get(agent, key);
    return json_is_object(v) ? json_deep_copy(v) : def();
}

/* Strands' defaults (PY types/session.py, the sliding-window manager). */
static json_t *def_state(void) { return json_object(); }

static json_t *def_cms(void)
{
    return json_pack("{s:s,s:i,s:i}", "__name__",
                     "SlidingWindowConversationManager",
                     "removed_message_count", 0, "model_call_count", 0);
}

static json_t *def_internal(void)
{
    return json_pack("{s:{s:{},s:{},s:b},s:{}}", "interrupt_state",
                     "interrupts", "context", "activated", 0,
                     "model_state");
}

json_t *fstore_agent_doc(const json_t *agent, const char *agent_id,
                         const char *created, const char *now,
                         size_t committed)
{
    json_t *doc = json_object();
    json_t *priv = json_pack("{s:I,s:[]}", "message_count",
                             (json_int_t)committed, "defaults");
    if (!doc || !priv) goto fail;
    json_t *defaults = json_object_get(priv, "defaults");
    static const char *const filled[] = {"state",
                                         "conversation_manager_state",
                                         "_internal_state"};
    for (size_t i = 0; i < sizeof filled / sizeof filled[0]; i++)
        if (!json_is_object(json_object_get(agent, filled[i])) &&
            json_array_append_new(defaults, json_string(filled[i])) != 0)
            goto fail;
    if (json_object_set_new(doc, "agent_id", json_string(agent_id)) ||
        json_object_set_new(doc, "state", object_or(agent, "state",
                                                    def_state)) ||
        json_object_set_new(doc, "conversation_manager_state",
                            object_or(agent, "conversation_manager_state",
                                      def_cms)) ||
        json_object_set_new(doc, "_internal_state",
                            object_or(agent, "_internal_state",
                                      def_internal)))
        goto fail;
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)agent, k, v) {
        if (is_envelope_key(k) || json_object_get(doc, k)) continue;
        if (json_object_set_new(doc, k, json_deep_copy(v)) != 0) goto fail;
    }
    if (json_object_set_new(doc, "created_at",
                            json_string(created ? created : now)) ||
        json_object_set_new(doc, "updated_at", json_string(now)) ||
        json_object_set(doc, FILE_PRIVATE_KEY, priv))
        goto fail;
    json_decref(priv);
    return doc;
fail:
    json_decref(priv);
    json_decref(doc);
    return NULL;
}

json_t *fstore_session_doc(const char *session_id, const char *created,
                           const char *now)
{
    return json_pack("{s:s,s:s,s:s,s:s}", "session_id", session_id,
                     "session_type", "AGENT", "created_at",
                     created ? created : now, "updated_at", now);
}

size_t fstore_removed_count(const json_t *agent, size_t limit)
{
    json_t *cms = json_object_get(agent, "conversation_manager_state");
    json_t *r = json_object_get(cms, "removed_message_count");
    if (!json_is_integer(r)) return 0;
    json_int_t n = json_integer_value(r);
    if (n < 0 || (unsigned long long)n > limit) return 0;
    return (size_t)n;
}

int fstore_message_name(const char *name, size_t *n)
{
    static const char pre[] = "message_", suf[] = ".json";
    size_t len = strlen(name), lp = sizeof pre - 1, ls = sizeof suf - 1;
    if (len < lp + ls || memcmp(name, pre, lp) != 0 ||
        memcmp(name + len - ls, suf, ls) != 0)
        return 0;
    const char *d = name + lp;
    size_t nd = len - lp - ls;
    if (nd == 0 || nd > 7 || (nd > 1 && d[0] == '0')) return -1;
    size_t v = 0;
    for (size_t i = 0; i < nd; i++) {
        if (d[i] < '0' || d[i] > '9') return -1;
        v = v * 10 + (size_t)(d[i] - '0');
    }
    if (v >= FILE_MAX_MESSAGES) return -1;
    *n = v;
    return 1;
}

/* ---- the records of one append ------------------------------------------ */

void fstore_turn_free(fstore_turn *t)
{
    for (size_t i = 0; i < t->n; i++) free(t->texts[i]);
    free(t->texts);
    free(t->lens);
    memset(t, 0, sizeof *t);
}

strands_status fstore_turn_prepare(fstore_turn *t, const json_t *messages,
                                   size_t base, const char *now,
                                   strands_error *err)
{
    memset(t, 0, sizeof *t);
    size_t k = json_array_size(messages);
    if (k == 0) return STRANDS_OK;
    t->texts = calloc(k, sizeof *t->texts);
    t->lens = calloc(k, sizeof *t->lens);
    for (size_t i = 0; t->texts && t->lens && i < k; i++) {
        t->texts[i] = fstore_message_record(json_array_get(messages, i),
                                            base + i, now, &t->lens[i]);
        t->n = i + 1;
        if (!t->texts[i]) break;
    }
    if (!t->texts || !t->lens || !t->n || !t->texts[t->n - 1]) {
        fstore_turn_free(t);
        return strands_error_set(err, STRANDS_E_NOMEM, NULL,
                                 "out of memory rendering the turn");
    }
    return STRANDS_OK;
}
