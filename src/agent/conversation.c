/* History invariants and repairs (see conversation.h). */
#include <stdlib.h>
#include <string.h>

#include "agent/conversation.h"
#include "core/buf.h"

static const char *role_of(const json_t *msg)
{
    return json_string_value(json_object_get(msg, "role"));
}

json_t *conversation_tool_uses(const json_t *message)
{
    json_t *out = json_array();
    size_t i;
    json_t *block;
    json_array_foreach(json_object_get(message, "content"), i, block) {
        json_t *tu = json_object_get(block, "toolUse");
        if (tu) json_array_append(out, tu);
    }
    return out;
}

static json_t *error_result(const char *id, const char *text)
{
    return json_pack("{s:{s:s, s:s, s:[{s:s}]}}", "toolResult", "toolUseId",
                     id, "status", "error", "content", "text", text);
}

strands_status conversation_add_prompt(json_t *messages, const json_t *prompt)
{
    size_t n = json_array_size(messages);
    json_t *last = n ? json_array_get(messages, n - 1) : NULL;
    const char *role = last ? role_of(last) : NULL;
    json_t *user_content = NULL;
    if (role && !strcmp(role, "assistant")) {
        json_t *uses = conversation_tool_uses(last);
        if (json_array_size(uses)) {
            user_content = json_array();
            size_t i;
            json_t *tu;
            json_array_foreach(uses, i, tu) {
                const char *id =
                    json_string_value(json_object_get(tu, "toolUseId"));
                json_array_append_new(
                    user_content,
                    error_result(id ? id : "", "Tool was interrupted."));
            }
            json_array_append_new(messages,
                                  json_pack("{s:s, s:o}", "role", "user",
                                            "content", user_content));
        }
        json_decref(uses);
    } else if (role && !strcmp(role, "user")) {
        user_content = json_object_get(last, "content");
    }
    if (!user_content) {
        user_content = json_array();
        if (json_array_append_new(messages,
                                  json_pack("{s:s, s:o}", "role", "user",
                                            "content", user_content)))
            return STRANDS_E_NOMEM;
    }
    if (json_array_extend(user_content, (json_t *)prompt))
        return STRANDS_E_NOMEM;
    return STRANDS_OK;
}

void conversation_sanitize_assistant(json_t *message, int truncated)
{
    json_t *content = json_object_get(message, "content");
    if (!json_is_array(content)) {
        content = json_array();
        json_object_set_new(message, "content", content);
    }
    if (truncated) {
        size_t i;
        json_t *block;
        json_array_foreach(content, i, block) {
            json_t *tu = json_object_get(block, "toolUse");
            if (!tu) continue;
            const char *name = json_string_value(json_object_get(tu, "name"));
            char text[256];
            snprintf(text, sizeof text,
                     "The selected tool %s's tool use was incomplete due to "
                     "maximum token limits being reached.",
                     name ? name : "<unknown>");
            json_array_set_new(content, i, json_pack("{s:s}", "text", text));
        }
    }
    if (json_array_size(content) == 0)
        json_array_append_new(content, json_pack("{s:s}", "text",
                                                 "[blank text]"));
}

char *conversation_text(const json_t *message)
{
    strands_buf b;
    strands_buf_init(&b, (size_t)1 << 30);
    size_t i;
    json_t *block;
    int first = 1;
    json_array_foreach(json_object_get(message, "content"), i, block) {
        const char *t = json_string_value(json_object_get(block, "text"));
        if (!t) continue;
        if ((!first && strands_buf_puts(&b, "\n") != STRANDS_OK) ||
            strands_buf_puts(&b, t) != STRANDS_OK)
            return NULL;
        first = 0;
    }
    return strands_buf_take(&b, NULL);
}

/* Checks that `next` answers every toolUse of `msg` exactly once and holds
 * no other toolResult. */
static strands_status check_answers(const json_t *msg, const json_t *next,
                                    size_t idx, strands_error *err)
{
    json_t *uses = conversation_tool_uses(msg);
    size_t n_uses = json_array_size(uses), n_results = 0, i, j;
    json_t *block, *tu;
    strands_status st = STRANDS_OK;
    json_array_foreach(next ? json_object_get(next, "content") : NULL, i,
                       block) {
        json_t *tr = json_object_get(block, "toolResult");
        if (!tr) continue;
        n_results++;
        const char *id = json_string_value(json_object_get(tr, "toolUseId"));
        int found = 0;
        json_array_foreach(uses, j, tu) {
            const char *uid =
                json_string_value(json_object_get(tu, "toolUseId"));
            if (id && uid && !strcmp(id, uid)) found = 1;
        }
        if (!found) {
            st = strands_error_set(err, STRANDS_E_INVALID, NULL,
                                   "message %zu: toolResult '%s' answers no "
                                   "toolUse of the previous message",
                                   idx + 1, id ? id : "");
            break;
        }
    }
    if (st == STRANDS_OK && n_results != n_uses)
        st = strands_error_set(err, STRANDS_E_INVALID, NULL,
                               "message %zu: %zu toolUse block(s) but %zu "
                               "toolResult block(s) follow",
                               idx, n_uses, n_results);
    json_decref(uses);
    return st;
}

strands_status conversation_validate(const json_t *messages,
                                     strands_error *err)
{
    size_t n = json_array_size(messages);
    for (size_t i = 0; i < n; i++) {
        const json_t *msg = json_array_get(messages, i);
        const char *role = role_of(msg);
        const char *want = i % 2 == 0 ? "user" : "assistant";
        if (!role || strcmp(role, want))
            return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                     "message %zu: role '%s', expected '%s'",
                                     i, role ? role : "(none)", want);
        if (!json_array_size(json_object_get(msg, "content")))
            return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                     "message %zu: empty content", i);
        if (!strcmp(role, "assistant")) {
            const json_t *next = i + 1 < n ? json_array_get(messages, i + 1)
                                           : NULL;
            strands_status st = check_answers(msg, next, i, err);
            if (st != STRANDS_OK) return st;
        }
    }
    return STRANDS_OK;
}
