/* RunAgentInput parsing for SERVER_PROTOCOL=AGUI (see agui.h), pure (no
 * HTTP), strict: every field @ag-ui/core's schema types is checked when
 * present and a failure names it ("messages[2].toolCallId must be a
 * string"). What the run uses:
 *   threadId        the session id (the session-id rule applies);
 *   runId           echoed in RUN_STARTED / RUN_FINISHED;
 *   messages        only those after the last assistant message are new:
 *                   "tool" messages become toolResult blocks (toolUseId =
 *                   toolCallId; "error" set: status error) except those
 *                   answering that message's calls to tools that are not
 *                   front-end tools (the runtime ran those), "user"
 *                   messages their text and image (data source) blocks;
 *                   system, developer, activity and reasoning messages are
 *                   checked and not used (the agent has its own system
 *                   prompt; the session store has the history);
 *   tools           front-end tools, as tool specs for the agent;
 *   context         one text block per entry after the user's input;
 *   state           kept, to be echoed in a STATE_SNAPSHOT after
 *                   RUN_STARTED (the agent does not change it);
 *   forwardedProps, resume, parentRunId, protocolVersion: checked for
 *                   type and otherwise ignored.                        */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/agui.h"

/* A parse in progress: the reason of the first failure. */
typedef struct parse {
    char *why;
    size_t whysz;
    int nomem;
} parse;

/* Records the reason (printf-style); returns 0 (a failed check). */
__attribute__((format(printf, 2, 3))) static int bad(parse *p,
                                                     const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->why, p->whysz, fmt, ap);
    va_end(ap);
    return 0;
}

static int oom(parse *p)
{
    p->nomem = 1;
    snprintf(p->why, p->whysz, "out of memory");
    return 0;
}

static int blank(const char *s)
{
    for (; s && *s; s++)
        if (!strchr(" \t\r\n\f\v", *s)) return 0;
    return 1;
}

/* 1..max bytes of printable ASCII (runId). */
static int printable_id(const char *s, size_t max)
{
    size_t n = s ? strlen(s) : 0;
    if (n < 1 || n > max) return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
            return 0;
    return 1;
}

/* An optional member that must be a string when present; `where` names
 * the object ("" for the body, else e.g. "messages[3]."). */
static int opt_string(parse *p, const json_t *o, const char *key,
                      const char *where)
{
    json_t *v = json_object_get(o, key);
    if (!v || json_is_string(v)) return 1;
    return bad(p, "%s%s must be a string", where, key);
}

static const char *const image_mimes[][2] = {{"image/png", "png"},
                                             {"image/jpeg", "jpeg"},
                                             {"image/jpg", "jpeg"},
                                             {"image/gif", "gif"},
                                             {"image/webp", "webp"}};

/* Appends the Converse block of one user content part. 1 ok, 0 bad. */
static int user_part(parse *p, const json_t *part, size_t i, size_t j,
                     json_t *blocks)
{
    const char *type = json_string_value(json_object_get(part, "type"));
    if (!json_is_object(part) || !type)
        return bad(p, "messages[%zu].content[%zu] must be an object with "
                      "a string type", i, j);
    if (!strcmp(type, "text")) {
        json_t *t = json_object_get(part, "text");
        if (!json_is_string(t))
            return bad(p, "messages[%zu].content[%zu].text must be a "
                          "string", i, j);
        if (blank(json_string_value(t))) return 1; /* nothing to say */
        return json_array_append_new(blocks, json_pack("{s:O}", "text", t))
                   ? oom(p)
                   : 1;
    }
    if (!strcmp(type, "image")) {
        json_t *src = json_object_get(part, "source");
        const char *st = json_string_value(json_object_get(src, "type"));
        const char *mime = json_string_value(json_object_get(src, "mimeType"));
        json_t *value = json_object_get(src, "value");
        if (!st || strcmp(st, "data") || !json_is_string(value))
            return bad(p, "messages[%zu].content[%zu].source: only a "
                          "\"data\" source (base64 value) is supported", i, j);
        const char *format = NULL;
        for (size_t k = 0; mime && k < sizeof image_mimes /
                                           sizeof image_mimes[0]; k++)
            if (!strcmp(mime, image_mimes[k][0])) format = image_mimes[k][1];
        if (!format)
            return bad(p, "messages[%zu].content[%zu].source.mimeType "
                          "must be image/png, image/jpeg, image/gif or "
                          "image/webp", i, j);
        if (!request_base64_valid(json_string_value(value),
                                  json_string_length(value)))
            return bad(p, "messages[%zu].content[%zu].source.value is not "
                          "valid base64", i, j);
        return json_array_append_new(
                   blocks, json_pack("{s:{s:s, s:{s:O}}}", "image", "format",
                                     format, "source", "bytes", value))
                   ? oom(p)
                   : 1;
    }
    return bad(p, "messages[%zu].content[%zu].type '%.40s' is not "
                  "supported (text, image)", i, j, type);
}

/* Appends a user message's blocks. */
static int user_blocks(parse *p, const json_t *m, size_t i, json_t *blocks)
{
    json_t *c = json_object_get(m, "content");
    if (json_is_string(c)) {
        if (blank(json_string_value(c))) return 1;
        return json_array_append_new(blocks, json_pack("{s:O}", "text", c))
                   ? oom(p)
                   : 1;
    }
    if (!json_is_array(c))
        return bad(p, "messages[%zu].content must be a string or an array "
                      "of content parts", i);
    size_t j;
    json_t *part;
    json_array_foreach(c, j, part) {
        if (!user_part(p, part, i, j, blocks)) return 0;
    }
    return 1;
}

/* The toolResult block of a tool message. */
static int tool_block(parse *p, const json_t *m, size_t i, json_t *blocks)
{
    json_t *c = json_object_get(m, "content");
    const char *id = json_string_value(json_object_get(m, "toolCallId"));
    const char *error = json_string_value(json_object_get(m, "error"));
    json_t *content = json_array();
    if (!content) return oom(p);
    int ok = 1;
    if (json_is_string(c)) {
        if (json_string_length(c) &&
            json_array_append_new(content, json_pack("{s:O}", "text", c)))
            ok = oom(p);
    } else if (json_is_array(c)) {
        size_t j;
        json_t *part;
        json_array_foreach(c, j, part) {
            json_t *t = json_object_get(part, "text");
            const char *type = json_string_value(json_object_get(part,
                                                                 "type"));
            if (!ok) break;
            if (!type || strcmp(type, "text") || !json_is_string(t))
                ok = bad(p, "messages[%zu].content[%zu]: a tool message "
                            "holds text parts only", i, j);
            else if (json_string_length(t) &&
                     json_array_append_new(content,
                                           json_pack("{s:O}", "text", t)))
                ok = oom(p);
        }
    } else {
        ok = bad(p, "messages[%zu].content must be a string or an array "
                    "of text parts", i);
    }
    /* Bedrock wants some content: an empty answer says so. */
    if (ok && !json_array_size(content) &&
        json_array_append_new(content,
                              json_pack("{s:s}", "text",
                                        error && *error ? error
                                                        : "(no output)")))
        ok = oom(p);
    if (!ok) {
        json_decref(content);
        return 0;
    }
    return json_array_append_new(
               blocks, json_pack("{s:{s:s, s:s, s:o}}", "toolResult",
                                 "toolUseId", id, "status",
                                 error ? "error" : "success", "content",
                                 content))
               ? oom(p)
               : 1;
}

/* Checks one message's shape (roles and fields @ag-ui/core types). */
static int check_message(parse *p, const json_t *m, size_t i)
{
    const char *role = json_string_value(json_object_get(m, "role"));
    if (!json_is_object(m))
        return bad(p, "messages[%zu] must be an object", i);
    if (!role)
        return bad(p, "messages[%zu].role must be a string", i);
    if (!json_is_string(json_object_get(m, "id")))
        return bad(p, "messages[%zu].id must be a string", i);
    if (!strcmp(role, "user")) {
        json_t *c = json_object_get(m, "content");
        if (!json_is_string(c) && !json_is_array(c))
            return bad(p, "messages[%zu].content must be a string or an "
                          "array of content parts", i);
        return 1;
    }
    if (!strcmp(role, "tool")) {
        json_t *c = json_object_get(m, "content");
        const char *id = json_string_value(json_object_get(m, "toolCallId"));
        if (!id || !*id || strlen(id) > 64)
            return bad(p, "messages[%zu].toolCallId must be a string of "
                          "1..64 characters", i);
        if (!json_is_string(c) && !json_is_array(c))
            return bad(p, "messages[%zu].content must be a string or an "
                          "array of text parts", i);
        char where[40];
        snprintf(where, sizeof where, "messages[%zu].", i);
        return opt_string(p, m, "error", where);
    }
    if (!strcmp(role, "assistant")) {
        json_t *tc = json_object_get(m, "toolCalls");
        char where[40];
        snprintf(where, sizeof where, "messages[%zu].", i);
        if (!opt_string(p, m, "content", where)) return 0;
        if (tc && !json_is_array(tc))
            return bad(p, "messages[%zu].toolCalls must be an array",
                       i);
        size_t j;
        json_t *call;
        json_array_foreach(tc, j, call) {
            json_t *fn = json_object_get(call, "function");
            if (!json_is_string(json_object_get(call, "id")) ||
                !json_is_string(json_object_get(fn, "name")) ||
                !json_is_string(json_object_get(fn, "arguments")))
                return bad(p, "messages[%zu].toolCalls[%zu] needs a string "
                              "id, function.name and function.arguments", i, j);
        }
        return 1;
    }
    if (!strcmp(role, "system") || !strcmp(role, "developer")) {
        if (!json_is_string(json_object_get(m, "content")))
            return bad(p, "messages[%zu].content must be a string", i);
        return 1;
    }
    if (!strcmp(role, "activity") || !strcmp(role, "reasoning")) return 1;
    return bad(p, "messages[%zu].role '%.40s' is not one of user, "
                  "assistant, tool, system, developer, activity, reasoning",
               i, role);
}

/* The prompt: the new input after the last assistant message. */
/* True when the tool message m answers a call of the last assistant
 * message (`last`, may be NULL) to a tool that is not one of the input's
 * front-end `tools`: a back-end tool the runtime ran and answered itself
 * (its TOOL_CALL_RESULT is in the client's copy). */
static int answers_backend_call(const json_t *m, const json_t *last,
                                const json_t *tools)
{
    const char *id = json_string_value(json_object_get(m, "toolCallId"));
    size_t i, j;
    json_t *call, *t;
    json_array_foreach(json_object_get(last, "toolCalls"), i, call) {
        const char *cid = json_string_value(json_object_get(call, "id"));
        if (!cid || strcmp(cid, id)) continue;
        const char *name = json_string_value(
            json_object_get(json_object_get(call, "function"), "name"));
        json_array_foreach(json_is_array(tools) ? tools : NULL, j, t) {
            const char *tn = json_string_value(json_object_get(t, "name"));
            if (tn && name && !strcmp(tn, name)) return 0;
        }
        return 1;
    }
    return 0;
}

static json_t *prompt_of(parse *p, const json_t *messages,
                         const json_t *tools)
{
    size_t n = json_array_size(messages), from = 0, i;
    json_t *m;
    json_array_foreach(messages, i, m) {
        if (!check_message(p, m, i)) return NULL;
        const char *role = json_string_value(json_object_get(m, "role"));
        if (!strcmp(role, "assistant")) from = i + 1;
    }
    const json_t *last = from ? json_array_get(messages, from - 1) : NULL;
    json_t *results = json_array(), *user = json_array();
    if (!results || !user) {
        oom(p);
        goto fail;
    }
    for (i = from; i < n; i++) {
        m = json_array_get(messages, i);
        const char *role = json_string_value(json_object_get(m, "role"));
        if (!strcmp(role, "tool") && answers_backend_call(m, last, tools))
            continue; /* the runtime has that result already */
        if (!strcmp(role, "tool") ? !tool_block(p, m, i, results)
            : !strcmp(role, "user") ? !user_blocks(p, m, i, user)
                                    : 0)
            goto fail;
    }
    if (!json_array_size(results) && !json_array_size(user)) {
        bad(p, "messages: no user or tool message with content after the "
               "last assistant message (nothing to run)");
        goto fail;
    }
    if (json_array_extend(results, user)) {
        oom(p);
        goto fail;
    }
    json_decref(user);
    return results;
fail:
    json_decref(results);
    json_decref(user);
    return NULL;
}

/* Bedrock's toolSpec name rule. */
static int tool_name_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n < 1 || n > 64) return 0;
    for (size_t i = 0; i < n; i++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                    "0123456789_-",
                    s[i]))
            return 0;
    return 1;
}

/* RunAgentInput.tools -> the agent's client tool specs (NULL: none). */
static int tools_of(parse *p, const json_t *tools, json_t **out)
{
    *out = NULL;
    if (!tools) return 1;
    if (!json_is_array(tools))
        return bad(p, "tools must be an array");
    if (json_array_size(tools) > AGUI_MAX_TOOLS)
        return bad(p, "tools: at most %d tools", AGUI_MAX_TOOLS);
    if (!json_array_size(tools)) return 1;
    json_t *specs = json_array();
    if (!specs) return oom(p);
    size_t i, j;
    json_t *t;
    json_array_foreach(tools, i, t) {
        const char *name = json_string_value(json_object_get(t, "name"));
        json_t *desc = json_object_get(t, "description");
        json_t *params = json_object_get(t, "parameters");
        int ok = 1;
        if (!json_is_object(t))
            ok = bad(p, "tools[%zu] must be an object", i);
        else if (!tool_name_ok(name))
            ok = bad(p, "tools[%zu].name must be 1..64 characters of a-z, "
                        "A-Z, 0-9, _ or -", i);
        else if (!json_is_string(desc))
            ok = bad(p, "tools[%zu].description must be a string", i);
        else if (params && !json_is_object(params))
            ok = bad(p, "tools[%zu].parameters must be a JSON Schema "
                        "object", i);
        for (j = 0; ok && j < i; j++)
            if (!strcmp(name, json_string_value(json_object_get(
                                  json_array_get(tools, j), "name"))))
                ok = bad(p, "tools[%zu].name '%s' is declared twice", i,
                         name);
        json_t *schema = !ok ? NULL
                         : params ? json_incref(params)
                                  : json_pack("{s:s, s:{}}", "type", "object",
                                              "properties");
        if (ok && !schema) ok = oom(p);
        /* Bedrock wants a description: the name stands in for none. */
        if (ok && json_array_append_new(
                      specs, json_pack("{s:s, s:s, s:{s:o}}", "name", name,
                                       "description",
                                       json_string_length(desc)
                                           ? json_string_value(desc)
                                           : name,
                                       "inputSchema", "json", schema)))
            ok = oom(p);
        else if (!ok)
            json_decref(schema);
        if (!ok) {
            json_decref(specs);
            return 0;
        }
    }
    *out = specs;
    return 1;
}

/* RunAgentInput.context -> one text block each, appended to prompt. */
static int context_of(parse *p, const json_t *context, json_t *prompt)
{
    if (!context) return 1;
    if (!json_is_array(context))
        return bad(p, "context must be an array");
    if (json_array_size(context) > AGUI_MAX_CONTEXT)
        return bad(p, "context: at most %d entries", AGUI_MAX_CONTEXT);
    size_t i;
    json_t *c;
    json_array_foreach(context, i, c) {
        json_t *d = json_object_get(c, "description");
        json_t *v = json_object_get(c, "value");
        if (!json_is_string(d) || !json_is_string(v))
            return bad(p, "context[%zu] needs a string description and "
                          "value", i);
        size_t n = json_string_length(d) + json_string_length(v) + 16;
        char *s = malloc(n);
        if (!s) return oom(p);
        snprintf(s, n, "[context] %s: %s", json_string_value(d),
                 json_string_value(v));
        int rc = json_array_append_new(prompt,
                                       json_pack("{s:s}", "text", s));
        free(s);
        if (rc) return oom(p);
    }
    return 1;
}

void agui_input_cleanup(agui_input *in)
{
    json_decref(in->prompt);
    json_decref(in->client_tools);
    json_decref(in->state);
    in->prompt = in->client_tools = in->state = NULL;
}

request_verdict agui_input_parse(const char *body, size_t len,
                                 agui_input *out, char *why, size_t whysz)
{
    memset(out, 0, sizeof *out);
    if (whysz) why[0] = '\0';
    parse p = {why, whysz, 0};
    json_error_t jerr;
    int nomem;
    json_t *doc = server_json_load(body, len, 0, &jerr, &nomem);
    if (!doc) {
        if (nomem) {
            snprintf(why, whysz, "out of memory");
            return REQUEST_NOMEM;
        }
        snprintf(why, whysz, "invalid JSON: %s (line %d, column %d)",
                 jerr.text, jerr.line, jerr.column);
        return REQUEST_BAD_JSON;
    }
    request_verdict v = REQUEST_INVALID;
    const char *thread = json_string_value(json_object_get(doc, "threadId"));
    const char *run = json_string_value(json_object_get(doc, "runId"));
    json_t *messages = json_object_get(doc, "messages");
    json_t *resume = json_object_get(doc, "resume");
    char sub[160];
    if (!json_is_object(doc)) {
        bad(&p, "the body must be a RunAgentInput object");
    } else if (!thread) {
        bad(&p, "threadId must be a string");
    } else if (!request_session_id(thread, out->thread_id,
                                   sizeof out->thread_id, sub, sizeof sub)) {
        bad(&p, "threadId: %s", sub);
    } else if (!printable_id(run, AGUI_RUN_ID_MAX)) {
        bad(&p, "runId must be a string of 1..%d printable characters",
            AGUI_RUN_ID_MAX);
    } else if (!json_is_array(messages)) {
        bad(&p, "messages must be an array");
    } else if (json_array_size(messages) > AGUI_MAX_MESSAGES) {
        bad(&p, "messages: at most %d messages", AGUI_MAX_MESSAGES);
    } else if (resume && !json_is_array(resume)) {
        bad(&p, "resume must be an array");
    } else if (!opt_string(&p, doc, "parentRunId", "") ||
               !opt_string(&p, doc, "protocolVersion", "")) {
        /* why names the field */
    } else if ((out->prompt = prompt_of(&p, messages,
                                         json_object_get(doc, "tools"))) &&
               context_of(&p, json_object_get(doc, "context"), out->prompt) &&
               tools_of(&p, json_object_get(doc, "tools"),
                        &out->client_tools)) {
        snprintf(out->run_id, sizeof out->run_id, "%s", run);
        json_t *state = json_object_get(doc, "state");
        if (state && !json_is_null(state)) out->state = json_incref(state);
        v = REQUEST_OK;
    }
    if (p.nomem) v = REQUEST_NOMEM;
    if (v != REQUEST_OK) agui_input_cleanup(out);
    json_decref(doc);
    return v;
}
