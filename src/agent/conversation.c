/* History invariants and repairs (see conversation.h). Every function that
 * changes a history builds the change on the side and applies it in one
 * step, so an allocation failure leaves the history as it was.          */
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
        if (out && tu && json_array_append(out, tu)) {
            json_decref(out);
            out = NULL;
        }
    }
    return out;
}

static json_t *error_result(const char *id, const char *text)
{
    return json_pack("{s:{s:s, s:s, s:[{s:s}]}}", "toolResult", "toolUseId",
                     id, "status", "error", "content", "text", text);
}

/* Content answering every toolUse of `uses` with "Tool was interrupted.";
 * NULL on OOM.                                                          */
static json_t *interrupted_results(const json_t *uses)
{
    json_t *content = json_array();
    size_t i;
    json_t *tu;
    json_array_foreach(uses, i, tu) {
        const char *id = json_string_value(json_object_get(tu, "toolUseId"));
        if (content &&
            json_array_append_new(content, error_result(id ? id : "",
                                                        "Tool was "
                                                        "interrupted."))) {
            json_decref(content);
            content = NULL;
        }
    }
    return content;
}

/* A user message with `first` (borrowed, may be NULL) then the prompt's
 * blocks as content; NULL on OOM.                                       */
static json_t *user_message(const json_t *first, const json_t *prompt)
{
    json_t *content = json_array();
    if (!content || (first && json_array_extend(content, (json_t *)first)) ||
        json_array_extend(content, (json_t *)prompt)) {
        json_decref(content);
        return NULL;
    }
    return json_pack("{s:s, s:o}", "role", "user", "content", content);
}

/* {"role", "content"} of msg (content shared); NULL for a malformed
 * message (the caller skips it) or on OOM (*nomem set).                */
static json_t *model_view(const json_t *msg, int *nomem)
{
    const char *role = role_of(msg);
    json_t *content = json_object_get(msg, "content");
    if (!role || (strcmp(role, "user") && strcmp(role, "assistant")) ||
        !json_array_size(content))
        return NULL;
    json_t *m = json_pack("{s:s, s:O}", "role", role, "content", content);
    if (!m) *nomem = 1;
    return m;
}

/* True when every block of a user message is a toolResult. */
static int only_tool_results(const json_t *msg)
{
    json_t *content = json_object_get(msg, "content");
    size_t i;
    json_t *block;
    if (!json_array_size(content)) return 0;
    json_array_foreach(content, i, block) {
        if (!json_object_get(block, "toolResult")) return 0;
    }
    return 1;
}

static const char *result_id(const json_t *block)
{
    return json_string_value(
        json_object_get(json_object_get(block, "toolResult"), "toolUseId"));
}

/* True when `uses` holds a toolUse with this id. */
static int uses_have(const json_t *uses, const char *id)
{
    size_t i;
    json_t *tu;
    json_array_foreach(uses, i, tu) {
        const char *uid = json_string_value(json_object_get(tu, "toolUseId"));
        if (id && uid && !strcmp(id, uid)) return 1;
    }
    return 0;
}

/* The toolUse blocks of `uses` that no toolResult of `reply` (may be
 * NULL) answers, as a new array; NULL on OOM.                          */
static json_t *unanswered(const json_t *uses, const json_t *reply)
{
    json_t *out = json_array();
    size_t i, j;
    json_t *tu, *block;
    json_array_foreach(uses, i, tu) {
        const char *id = json_string_value(json_object_get(tu, "toolUseId"));
        int found = 0;
        json_array_foreach(reply ? json_object_get(reply, "content") : NULL,
                           j, block) {
            const char *rid = result_id(block);
            if (id && rid && !strcmp(id, rid)) found = 1;
        }
        if (!found && out && json_array_append(out, tu)) {
            json_decref(out);
            out = NULL;
        }
    }
    return out;
}

/* The content of message m (role `role`) without the blocks its place
 * forbids: toolResult blocks in an assistant message, and its toolUse
 * blocks without a string toolUseId or repeating one; toolUse blocks in
 * a user message, and its toolResults that answer no toolUse of `uses`
 * (the previous assistant message's, may be NULL) or repeat an answer.
 * A new reference to the content itself when nothing goes; NULL on OOM
 * (*nomem set). The result may be empty.                               */
static json_t *allowed_content(const json_t *m, const char *role,
                               const json_t *uses, int *nomem)
{
    json_t *content = json_object_get(m, "content");
    json_t *keep = json_array();
    int user = !strcmp(role, "user"), dropped = 0;
    size_t i, j;
    json_t *block;
    json_array_foreach(content, i, block) {
        int ok;
        if (!user && json_object_get(block, "toolUse")) {
            /* Answerable: a string id, not repeated in this message. */
            const char *id = json_string_value(json_object_get(
                json_object_get(block, "toolUse"), "toolUseId"));
            ok = id != NULL;
            for (j = 0; ok && j < i; j++) {
                const char *prev = json_string_value(json_object_get(
                    json_object_get(json_array_get(content, j), "toolUse"),
                    "toolUseId"));
                if (prev && !strcmp(prev, id)) ok = 0;
            }
        } else if (!user) {
            ok = !json_object_get(block, "toolResult");
        } else if (json_object_get(block, "toolUse")) {
            ok = 0;
        } else if (json_object_get(block, "toolResult")) {
            const char *id = result_id(block);
            ok = uses_have(uses, id);
            for (j = 0; ok && j < i; j++) {
                const char *prev = result_id(json_array_get(content, j));
                if (prev && !strcmp(prev, id)) ok = 0;   /* a repeat */
            }
        } else {
            ok = 1;
        }
        if (!ok) dropped = 1;
        else if (keep && json_array_append(keep, block)) {
            json_decref(keep);
            keep = NULL;
        }
    }
    if (!keep) {
        *nomem = 1;
        return NULL;
    }
    if (!dropped) {
        json_decref(keep);
        return json_incref(content);
    }
    return keep;
}

/* Replaces w[i] with {role, content} (content stolen); 0, or -1 on OOM. */
static int set_content(json_t *w, size_t i, const char *role, json_t *content)
{
    json_t *m = json_pack("{s:s, s:o}", "role", role, "content", content);
    return m ? json_array_set_new(w, i, m) : -1;
}

/* Pass 1: the model's view of log[from..]: malformed and empty messages
 * skipped, leading assistant and orphan-result messages dropped,
 * consecutive user messages joined. NULL on OOM.                        */
static json_t *restore_view(const json_t *log, size_t from)
{
    json_t *w = json_array();
    int nomem = !w;
    for (size_t i = from; !nomem && i < json_array_size(log); i++) {
        json_t *m = model_view(json_array_get(log, i), &nomem);
        if (!m) continue;
        size_t n = json_array_size(w);
        const char *role = role_of(m);
        json_t *last = n ? json_array_get(w, n - 1) : NULL;
        /* A history starts with a user message that answers nothing. */
        if (!n && (strcmp(role, "user") || only_tool_results(m))) {
            json_decref(m);
            continue;
        }
        if (last && !strcmp(role, "user") && !strcmp(role_of(last), "user")) {
            json_t *content = json_array();
            if (!content ||
                json_array_extend(content, json_object_get(last, "content")) ||
                json_array_extend(content, json_object_get(m, "content")) ||
                set_content(w, n - 1, role, json_incref(content)))
                nomem = 1;
            json_decref(content);
            json_decref(m);
            continue;
        }
        if (json_array_append_new(w, m)) nomem = 1;
    }
    if (nomem) {
        json_decref(w);
        return NULL;
    }
    return w;
}

/* Joins w[i+1] into w[i] (same role assumed); 0, or -1 on OOM. */
static int join_next(json_t *w, size_t i)
{
    json_t *a = json_array_get(w, i), *b = json_array_get(w, i + 1);
    json_t *joined = json_array();
    int rc = !joined ||
             json_array_extend(joined, json_object_get(a, "content")) ||
             json_array_extend(joined, json_object_get(b, "content")) ||
             set_content(w, i, role_of(a), json_incref(joined))
                 ? -1
                 : 0;
    json_decref(joined);
    if (rc == 0) json_array_remove(w, i + 1);
    return rc;
}

strands_status conversation_restore(const json_t *log, size_t from,
                                    json_t **working_out, json_t **repair_out)
{
    *working_out = NULL;
    *repair_out = NULL;
    json_t *w = restore_view(log, from);
    int nomem = !w;
    /* Pass 2, in order: each message keeps only the blocks its place
     * allows (a message left empty goes, and its neighbours join), and
     * every toolUse gets an answer in the next message. */
    for (size_t i = 0; !nomem && i < json_array_size(w); i++) {
        json_t *m = json_array_get(w, i);
        const char *role = role_of(m);
        json_t *prev = i ? json_array_get(w, i - 1) : NULL;
        json_t *prev_uses = prev && !strcmp(role_of(prev), "assistant")
                                ? conversation_tool_uses(prev)
                                : json_array();
        json_t *content = prev_uses ? allowed_content(m, role, prev_uses,
                                                      &nomem)
                                    : NULL;
        json_decref(prev_uses);
        if (!content) {
            nomem = 1;
            break;
        }
        /* A message left empty goes; so does an assistant message that
         * would now open the history. */
        if (!json_array_size(content) || (!prev && strcmp(role, "user"))) {
            json_decref(content);
            json_array_remove(w, i);
            json_t *next = json_array_get(w, i);
            if (prev && next && !strcmp(role_of(prev), role_of(next))) {
                if (join_next(w, i - 1)) nomem = 1;
                i -= 2;          /* look at the joined message again */
            } else {
                i -= 1;
            }
            continue;
        }
        if (content != json_object_get(m, "content")) {
            if (set_content(w, i, role, content)) nomem = 1;
            m = json_array_get(w, i);
            role = role_of(m);   /* the old message (and string) is gone */
        } else {
            json_decref(content);
        }
        if (nomem || strcmp(role, "assistant")) continue;
        json_t *next = json_array_get(w, i + 1);
        int next_user = next && !strcmp(role_of(next), "user");
        json_t *uses = conversation_tool_uses(m);
        if (uses && !json_array_size(uses) && next && !next_user) {
            /* Two assistant messages in a row, the first asking nothing:
             * one message. */
            json_decref(uses);
            if (join_next(w, i)) nomem = 1;
            i -= 1;
            continue;
        }
        json_t *missing = uses ? unanswered(uses, next_user ? next : NULL)
                               : NULL;
        json_t *answers = missing ? interrupted_results(missing) : NULL;
        if (!answers) {
            nomem = 1;
        } else if (json_array_size(answers)) {
            json_t *fix =
                next_user ? user_message(answers,
                                         json_object_get(next, "content"))
                          : json_pack("{s:s, s:O}", "role", "user",
                                      "content", answers);
            if (!fix) nomem = 1;
            else if (next_user) json_array_set_new(w, i + 1, fix);
            else if (!next) {
                *repair_out = json_incref(fix);
                if (json_array_append_new(w, fix)) nomem = 1;
            } else if (json_array_insert_new(w, i + 1, fix)) {
                nomem = 1;
            }
        }
        json_decref(answers);
        json_decref(missing);
        json_decref(uses);
    }
    if (nomem) {
        json_decref(w);
        json_decref(*repair_out);
        *repair_out = NULL;
        return STRANDS_E_NOMEM;
    }
    *working_out = w;
    return STRANDS_OK;
}

/* Everything is built on the side first; `messages` changes only in the
 * last step, which either fully happens or not at all: json_array_extend
 * grows the array before it copies, and json_array_set replaces in place
 * without allocating.                                                   */
strands_status conversation_add_prompt(json_t *messages, const json_t *prompt)
{
    size_t n = json_array_size(messages);
    json_t *last = n ? json_array_get(messages, n - 1) : NULL;
    const char *role = last ? role_of(last) : NULL;
    json_t *add = json_array();   /* messages to append */
    json_t *replace_last = NULL;  /* a new last user message */
    strands_status st = add ? STRANDS_OK : STRANDS_E_NOMEM;
    if (st == STRANDS_OK && role && !strcmp(role, "user")) {
        /* e.g. tool results left by an iteration limit: join them so
         * roles keep alternating. */
        /* (Not json_copy: it drops members silently when out of memory.)
         * A user message holds only role and content. */
        replace_last = user_message(json_object_get(last, "content"),
                                    prompt);
        if (!replace_last) st = STRANDS_E_NOMEM;
    } else if (st == STRANDS_OK) {
        /* Unanswered toolUse blocks (but those the prompt answers: client
         * tool calls) get their answers first, in the same user message
         * as the prompt. */
        json_t *uses = role && !strcmp(role, "assistant")
                           ? conversation_tool_uses(last)
                           : json_array();
        json_t *pm = json_pack("{s:O}", "content", (json_t *)prompt);
        json_t *missing = uses && pm ? unanswered(uses, pm) : NULL;
        json_t *answers = missing ? interrupted_results(missing) : NULL;
        json_decref(missing);
        json_decref(pm);
        if (!answers ||
            json_array_append_new(add, user_message(answers, prompt)))
            st = STRANDS_E_NOMEM;
        json_decref(answers);
        json_decref(uses);
    }
    if (st == STRANDS_OK && json_array_size(add) &&
        json_array_extend(messages, add))
        st = STRANDS_E_NOMEM;
    if (st == STRANDS_OK && replace_last)
        json_array_set(messages, n - 1, replace_last); /* cannot fail */
    json_decref(replace_last);
    json_decref(add);
    return st;
}

strands_status conversation_sanitize_assistant(json_t *message, int truncated)
{
    json_t *content = json_object_get(message, "content");
    json_t *fixed = json_array();   /* the new content, built on the side */
    if (!fixed) return STRANDS_E_NOMEM;
    size_t i;
    json_t *block;
    json_array_foreach(json_is_array(content) ? content : NULL, i, block) {
        json_t *tu = truncated ? json_object_get(block, "toolUse") : NULL;
        json_t *item = block;
        char text[256];
        if (tu) {
            const char *name = json_string_value(json_object_get(tu, "name"));
            snprintf(text, sizeof text,
                     "The selected tool %s's tool use was incomplete due to "
                     "maximum token limits being reached.",
                     name ? name : "<unknown>");
            item = json_pack("{s:s}", "text", text);
        } else {
            json_incref(item);
        }
        if (json_array_append_new(fixed, item)) {
            json_decref(fixed);
            return STRANDS_E_NOMEM;
        }
    }
    if (json_array_size(fixed) == 0 &&
        json_array_append_new(fixed, json_pack("{s:s}", "text",
                                               "[blank text]"))) {
        json_decref(fixed);
        return STRANDS_E_NOMEM;
    }
    /* The key may be new (content was missing): that set can fail. */
    if (json_object_set_new(message, "content", fixed))
        return STRANDS_E_NOMEM;
    return STRANDS_OK;
}

char *conversation_text(const json_t *message)
{
    dynbuf b;
    dynbuf_init(&b, (size_t)1 << 30);
    size_t i;
    json_t *block;
    int first = 1;
    json_array_foreach(json_object_get(message, "content"), i, block) {
        const char *t = json_string_value(json_object_get(block, "text"));
        if (!t) continue;
        if ((!first && dynbuf_puts(&b, "\n") != STRANDS_OK) ||
            dynbuf_puts(&b, t) != STRANDS_OK)
            return NULL;
        first = 0;
    }
    return dynbuf_take(&b, NULL);
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
