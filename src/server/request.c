/* Parsing and validation of an /invocations request, with no HTTP in it
 * (so unit tests, allocation-failure sweeps and the fuzzer call it
 * directly): the JSON body, "prompt" as a string or Converse content
 * blocks (text, image, document... with their required fields), the
 * "stream" and "async" flags, the structured-output schema, the async
 * actions (get_invocation, cancel_invocation), the session id and the
 * client's request id. Every failure leaves a reason in `why`; an
 * allocation failure is told apart from bad input.                      */
#include <stdio.h>
#include <string.h>

#include "net/base64.h"
#include "server/internal.h"
#include "strands/util.h"

static const char *const block_kinds[] = {
    "text", "image", "document", "video", "audio", "cachePoint",
    "guardContent", "reasoningContent", "citationsContent", "searchResult",
    NULL};

static const char *const image_formats[] = {"png", "jpeg", "gif", "webp",
                                            NULL};
static const char *const document_formats[] = {
    "pdf", "csv", "doc", "docx", "xls", "xlsx", "html", "txt", "md", NULL};

static int in_list(const char *v, const char *const *list)
{
    for (; v && *list; list++)
        if (!strcmp(*list, v)) return 1;
    return 0;
}

static int blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!strchr(" \t\r\n\f\v", s[i]) || !s[i]) return 0;
    return 1;
}

int request_base64_valid(const char *s, size_t len)
{
    /* Bedrock takes padded base64: whole 4-character quanta, and at least
     * one byte of data. The alphabet and padding rules are net/base64's. */
    size_t decoded = 0;
    return s && len && len % 4 == 0 && net_base64_check(s, len, &decoded) &&
           decoded > 0;
}

/* Checks {"source": {"bytes": "<base64>"}}; 1 ok, 0 bad (why). */
static int valid_source(const json_t *v, const char *key, size_t i,
                        char *why, size_t whysz)
{
    json_t *bytes = json_object_get(json_object_get(v, "source"), "bytes");
    if (!json_is_string(bytes)) {
        snprintf(why, whysz, "prompt[%zu].%s.source.bytes must be a "
                             "base64 string", i, key);
        return 0;
    }
    int ok = request_base64_valid(json_string_value(bytes),
                                  json_string_length(bytes));
    if (!ok)
        snprintf(why, whysz, "prompt[%zu].%s.source.bytes is not valid "
                             "base64", i, key);
    return ok;
}

/* Image and document blocks: the fields Bedrock would otherwise reject
 * after a model call. 1 ok, 0 bad (why), -1 OOM.                         */
static int valid_media(const json_t *v, const char *key, size_t i, char *why,
                       size_t whysz)
{
    if (!json_is_object(v)) {
        snprintf(why, whysz, "prompt[%zu].%s must be an object", i, key);
        return 0;
    }
    const char *format = json_string_value(json_object_get(v, "format"));
    int image = !strcmp(key, "image");
    if (!in_list(format, image ? image_formats : document_formats)) {
        snprintf(why, whysz, "prompt[%zu].%s.format must be one of %s", i,
                 key, image ? "png, jpeg, gif, webp"
                            : "pdf, csv, doc, docx, xls, xlsx, html, txt, "
                              "md");
        return 0;
    }
    if (!image) {
        json_t *name = json_object_get(v, "name");
        if (!json_is_string(name) ||
            blank(json_string_value(name), json_string_length(name))) {
            snprintf(why, whysz, "prompt[%zu].document.name must be a "
                                 "non-empty string", i);
            return 0;
        }
    }
    return valid_source(v, key, i, why, whysz);
}

/* Checks one prompt content block: an object with exactly one known key
 * and, for text, image and document, the fields they need.
 * 1 ok, 0 bad (why), -1 OOM.                                             */
static int valid_block(const json_t *b, char *why, size_t whysz, size_t i)
{
    if (!json_is_object(b) || json_object_size(b) != 1) {
        snprintf(why, whysz, "prompt[%zu] must be an object with exactly one "
                             "content key (e.g. {\"text\": \"...\"})", i);
        return 0;
    }
    const char *key = json_object_iter_key(json_object_iter((json_t *)b));
    if (!in_list(key, block_kinds)) {
        snprintf(why, whysz, "prompt[%zu]: unsupported content block "
                             "'%.40s'", i, key);
        return 0;
    }
    json_t *v = json_object_get(b, key);
    if (!strcmp(key, "text")) {
        if (!json_is_string(v) ||
            blank(json_string_value(v), json_string_length(v))) {
            snprintf(why, whysz, "prompt[%zu].text must be a non-empty, "
                                 "non-blank string", i);
            return 0;
        }
        return 1;
    }
    if (!strcmp(key, "image") || !strcmp(key, "document"))
        return valid_media(v, key, i, why, whysz);
    return 1;
}

/* request_prompt_blocks, telling an allocation failure (*nomem) apart. */
static json_t *prompt_blocks(const json_t *body, char *why, size_t whysz,
                             int *nomem)
{
    *nomem = 0;
    if (whysz) why[0] = '\0';
    json_t *p = json_is_object(body) ? json_object_get(body, "prompt") : NULL;
    if (!p) {
        snprintf(why, whysz, "missing required field 'prompt'");
        return NULL;
    }
    if (json_is_string(p)) {
        if (blank(json_string_value(p), json_string_length(p))) {
            snprintf(why, whysz, "'prompt' must not be empty or blank");
            return NULL;
        }
        json_t *blocks = json_pack("[{s:O}]", "text", p);
        if (!blocks) {
            *nomem = 1;
            snprintf(why, whysz, "out of memory");
        }
        return blocks;
    }
    if (!json_is_array(p) || !json_array_size(p)) {
        snprintf(why, whysz, "'prompt' must be a string or a non-empty array "
                             "of content blocks");
        return NULL;
    }
    size_t i;
    json_t *b;
    json_array_foreach(p, i, b) {
        int ok = valid_block(b, why, whysz, i);
        if (ok <= 0) {
            *nomem = ok < 0;
            return NULL;
        }
    }
    return json_incref(p);
}

int request_session_id(const char *v, char *out, size_t outsz, char *why,
                       size_t whysz)
{
    /* The one session-id rule (the stores apply it too). */
    size_t n = 0;
    if (strands_session_id_check(v, &n, NULL) != STRANDS_OK || n >= outsz) {
        snprintf(why, whysz, "session id must be 1..%d characters without "
                             "control characters", SERVER_SESSION_ID_MAX);
        return 0;
    }
    memcpy(out, v, n);
    out[n] = '\0';
    return 1;
}

int request_actor_id(const char *v, char *why, size_t whysz)
{
    if (!v) return 1;
    size_t n = strnlen(v, SERVER_ACTOR_ID_MAX + 1);
    int ok = n >= 1 && n <= SERVER_ACTOR_ID_MAX;
    for (size_t i = 0; ok && i < n; i++) {
        unsigned char ch = (unsigned char)v[i];
        if (ch < 0x20 || ch >= 0x7f) ok = 0;
    }
    if (!ok)
        snprintf(why, whysz, "%s must be 1..%d printable ASCII characters",
                 SERVER_USER_HEADER, SERVER_ACTOR_ID_MAX);
    return ok;
}

int request_id_pick(const char *v, char *out, size_t outsz)
{
    size_t n = v ? strnlen(v, SERVER_REQUEST_ID_MAX + 1) : 0;
    int ok = n >= 1 && n <= SERVER_REQUEST_ID_MAX && n < outsz;
    for (size_t i = 0; ok && i < n; i++) {
        unsigned char ch = (unsigned char)v[i];
        if (ch < 0x20 || ch >= 0x7f) ok = 0;
    }
    if (ok) {
        memcpy(out, v, n);
        out[n] = '\0';
        return 1;
    }
    char id[37];
    strands_uuid4(id);
    snprintf(out, outsz, "%s", id);
    return 0;
}

json_t *request_prompt_blocks(const json_t *body, char *why, size_t whysz)
{
    int nomem;
    return prompt_blocks(body, why, whysz, &nomem);
}

void request_parsed_cleanup(request_parsed *p)
{
    json_decref(p->prompt);
    p->prompt = NULL;
    json_decref(p->output_schema);
    p->output_schema = NULL;
}

/* "output_schema": absent or null is none; else a checked JSON Schema
 * object (a new reference in *out). 1 ok, 0 bad (why), -1 OOM.          */
static int output_schema(const json_t *doc, json_t **out, char *why,
                         size_t whysz)
{
    *out = NULL;
    json_t *s = json_object_get(doc, "output_schema");
    if (!s || json_is_null(s)) return 1;
    strands_error err;
    strands_error_clear(&err);
    strands_status st = strands_output_schema_check(s, &err);
    if (st == STRANDS_E_NOMEM) {
        snprintf(why, whysz, "out of memory");
        return -1;
    }
    if (st != STRANDS_OK) {
        snprintf(why, whysz, "%s", err.message);
        return 0;
    }
    *out = json_incref(s);
    return 1;
}

/* The session id of the body ("session_id"), else of the header; an
 * empty result when neither names one. 1 ok, 0 bad (why).              */
static int pick_session(const json_t *doc, const char *header_session,
                        char *out, size_t outsz, char *why, size_t whysz)
{
    out[0] = '\0';
    json_t *sid = json_object_get(doc, "session_id");
    const char *sv = header_session;
    if (sid && !json_is_null(sid)) {
        if (!json_is_string(sid)) {
            snprintf(why, whysz, "'session_id' must be a string");
            return 0;
        }
        sv = json_string_value(sid);
        /* An embedded NUL would cut the id short: refuse it. */
        if (strlen(sv) != json_string_length(sid)) {
            snprintf(why, whysz, "session id must not contain NUL");
            return 0;
        }
    }
    if (!sv || !*sv) return 1;
    return request_session_id(sv, out, outsz, why, whysz);
}

/* An "action" body (the action, its invocation_id, the session id);
 * REQUEST_OK or REQUEST_INVALID (why).                                  */
static request_verdict parse_action(const json_t *doc, const json_t *action,
                                    const char *header_session,
                                    request_parsed *out, char *why,
                                    size_t whysz)
{
    static const char allowed[] = "get_invocation, cancel_invocation";
    const char *name = json_string_value(action);
    if (!json_is_string(action)) {
        snprintf(why, whysz, "'action' must be a string (one of %s)",
                 allowed);
        return REQUEST_INVALID;
    }
    if (!strcmp(name, "get_invocation")) {
        out->action = REQUEST_ACTION_GET_INVOCATION;
    } else if (!strcmp(name, "cancel_invocation")) {
        out->action = REQUEST_ACTION_CANCEL_INVOCATION;
    } else {
        snprintf(why, whysz, "unknown action '%.40s'; allowed: %s", name,
                 allowed);
        return REQUEST_INVALID;
    }
    json_t *id = json_object_get(doc, "invocation_id");
    const char *iv = json_string_value(id);
    size_t n = iv ? json_string_length(id) : 0;
    int ok = iv && n >= 1 && n <= SERVER_REQUEST_ID_MAX;
    for (size_t i = 0; ok && i < n; i++) {
        unsigned char ch = (unsigned char)iv[i];
        if (ch < 0x20 || ch >= 0x7f) ok = 0;
    }
    if (!ok) {
        snprintf(why, whysz, "'%s' needs 'invocation_id': 1..%d printable "
                             "ASCII characters", name, SERVER_REQUEST_ID_MAX);
        return REQUEST_INVALID;
    }
    memcpy(out->invocation_id, iv, n);
    out->invocation_id[n] = '\0';
    if (!pick_session(doc, header_session, out->session_id,
                      sizeof out->session_id, why, whysz))
        return REQUEST_INVALID;
    return REQUEST_OK;
}

/* A boolean field: 1 true, 0 false or absent (*present tells), -1 not a
 * boolean.                                                              */
static int bool_field(const json_t *doc, const char *key, int *present)
{
    json_t *v = json_object_get(doc, key);
    *present = v != NULL;
    if (!v) return 0;
    return json_is_boolean(v) ? json_is_true(v) : -1;
}

request_verdict request_parse(const char *body, size_t len,
                              const char *header_session,
                              request_parsed *out, char *why, size_t whysz)
{
    memset(out, 0, sizeof *out);
    if (whysz) why[0] = '\0';
    json_error_t jerr;
    int nomem;
    json_t *doc = server_json_load(body, len, 0, &jerr, &nomem);
    if (!doc) {
        if (nomem) {
            snprintf(why, whysz, "out of memory");
            return REQUEST_NOMEM;
        }
        snprintf(why, whysz, "Invalid JSON: %s (line %d, column %d)",
                 jerr.text, jerr.line, jerr.column);
        return REQUEST_BAD_JSON;
    }
    request_verdict v = REQUEST_INVALID;
    json_t *prompt = NULL;
    json_t *action = json_object_get(doc, "action");
    if (action) {
        /* An action needs no prompt; other fields are not looked at. */
        v = parse_action(doc, action, header_session, out, why, whysz);
        goto out;
    }
    prompt = prompt_blocks(doc, why, whysz, &nomem);
    if (!prompt) {
        v = nomem ? REQUEST_NOMEM : REQUEST_INVALID;
        goto out;
    }
    int present;
    int stream = bool_field(doc, "stream", &present);
    if (stream < 0) {
        snprintf(why, whysz, "'stream' must be a boolean");
        goto out;
    }
    out->stream = present ? stream : -1;
    out->async = bool_field(doc, "async", &present);
    if (out->async < 0) {
        snprintf(why, whysz, "'async' must be a boolean");
        goto out;
    }
    if (out->async && out->stream == 1) {
        snprintf(why, whysz, "'async' and 'stream' cannot both be true: an "
                             "async invocation is answered 202 at once "
                             "(read its result with get_invocation)");
        goto out;
    }
    if (!pick_session(doc, header_session, out->session_id,
                      sizeof out->session_id, why, whysz))
        goto out;
    if (!out->session_id[0]) strands_uuid4(out->session_id);
    int so = output_schema(doc, &out->output_schema, why, whysz);
    if (so <= 0) {
        v = so < 0 ? REQUEST_NOMEM : REQUEST_INVALID;
        goto out;
    }
    out->prompt = prompt;
    prompt = NULL;
    v = REQUEST_OK;
out:
    json_decref(prompt);
    json_decref(doc);
    if (v != REQUEST_OK) {
        out->session_id[0] = '\0';
        out->invocation_id[0] = '\0';
        out->stream = 0;
        out->async = 0;
        out->action = REQUEST_ACTION_NONE;
        if (whysz && !why[0]) snprintf(why, whysz, "invalid request");
    }
    return v;
}
