/* The summarizing conversation manager (Strands'
 * SummarizingConversationManager): when the history passes the window,
 * or the context overflows, the oldest share (summary_ratio, never the
 * newest preserve_recent messages) is replaced by one summary message
 * (checked before each model call, so the answer is never delayed by a
 * summary after it)
 * that a model call writes (no tools, CM_SUMMARY_PROMPT), re-labelled
 * role user. The split keeps pairs intact; a summary holding a toolUse
 * is refused (a user message cannot hold one). State adds
 * summary_message, put back in front of the history on restore.       */
#include <stdlib.h>
#include <string.h>

#include "agent/conversation_manager.h"
#include "core/buf.h"

/* One content block as text for the summary call: tool calls and results
 * are written out (a request without tools may not hold toolUse or
 * toolResult blocks), reasoning is left out (NULL, *skip set), other
 * media are named. NULL on OOM. */
static json_t *block_as_text(const json_t *b, int *skip)
{
    json_t *v;
    *skip = 0;
    if (json_is_string(json_object_get(b, "text"))) return json_incref((json_t *)b);
    if (json_object_get(b, "reasoningContent")) {
        *skip = 1;
        return NULL;
    }
    dynbuf d;
    dynbuf_init(&d, (size_t)1 << 30);
    strands_status st = STRANDS_OK;
    if ((v = json_object_get(b, "toolUse"))) {
        const char *name = json_string_value(json_object_get(v, "name"));
        json_t *input = json_object_get(v, "input");
        char *in = input ? json_dumps(input, JSON_COMPACT | JSON_ENCODE_ANY)
                         : strdup("null");
        st = in ? dynbuf_printf(&d, "[tool call %s, input %s]",
                                name ? name : "?", in)
                : STRANDS_E_NOMEM;
        free(in);
    } else if ((v = json_object_get(b, "toolResult"))) {
        const char *status = json_string_value(json_object_get(v, "status"));
        st = dynbuf_printf(&d, "[tool result%s%s:", status ? ", " : "",
                           status ? status : "");
        size_t i;
        json_t *item, *x;
        json_array_foreach(json_object_get(v, "content"), i, item) {
            if (st != STRANDS_OK) break;
            if ((x = json_object_get(item, "text")) && json_is_string(x)) {
                st = dynbuf_printf(&d, " %s", json_string_value(x));
            } else if ((x = json_object_get(item, "json"))) {
                char *j = json_dumps(x, JSON_COMPACT | JSON_ENCODE_ANY);
                st = j ? dynbuf_printf(&d, " %s", j) : STRANDS_E_NOMEM;
                free(j);
            } else {
                const char *kind = "content";
                if (json_object_get(item, "image")) kind = "image";
                else if (json_object_get(item, "document")) kind = "document";
                st = dynbuf_printf(&d, " [%s]", kind);
            }
        }
        if (st == STRANDS_OK) st = dynbuf_puts(&d, "]");
    } else {
        const char *kind = json_object_get(b, "image")      ? "image"
                           : json_object_get(b, "document") ? "document"
                                                            : "content";
        st = dynbuf_printf(&d, "[%s]", kind);
    }
    size_t len = 0;
    char *text = st == STRANDS_OK ? dynbuf_take(&d, &len) : NULL;
    if (st != STRANDS_OK) dynbuf_cleanup(&d);
    json_t *out = text ? json_pack("{s:s%}", "text", text, len) : NULL;
    free(text);
    return out;
}

/* msg as a message of text blocks (plus `extra`, may be NULL); NULL on
 * OOM. */
static json_t *as_text_message(const json_t *msg, const char *extra)
{
    json_t *content = json_array();
    size_t i;
    json_t *b;
    int nomem = !content;
    json_array_foreach(json_object_get(msg, "content"), i, b) {
        if (nomem) break;
        int skip;
        json_t *t = block_as_text(b, &skip);
        if (skip) continue;
        if (!t || json_array_append_new(content, t)) nomem = 1;
    }
    if (!nomem && (extra || !json_array_size(content)) &&
        json_array_append_new(content,
                              json_pack("{s:s}", "text",
                                        extra ? extra : "[no text]")))
        nomem = 1;
    json_t *m = nomem ? NULL
                      : json_pack("{s:O, s:O}", "role",
                                  json_object_get(msg, "role"), "content",
                                  content);
    json_decref(content);
    return m;
}

/* The request: messages[0..split) as text (a call without tools), with
 * CM_SUMMARY_REQUEST joined to the last (user) message; NULL on OOM. */
static json_t *summary_request(const json_t *messages, size_t split)
{
    json_t *req = json_array();
    for (size_t i = 0; req && i < split; i++) {
        json_t *m = as_text_message(json_array_get(messages, i),
                                    i + 1 == split ? CM_SUMMARY_REQUEST
                                                   : NULL);
        if (!m || json_array_append_new(req, m)) {
            json_decref(req);
            return NULL;
        }
    }
    return req;
}

/* The summary message from the model's reply: its text blocks as a user
 * message. NULL with err set when it holds a toolUse or no text. */
static json_t *summary_message(const json_t *reply, strands_error *err)
{
    json_t *texts = json_array();
    size_t i;
    json_t *b;
    if (!texts) goto oom;
    json_array_foreach(json_object_get(reply, "content"), i, b) {
        if (json_object_get(b, "toolUse")) {
            json_decref(texts);
            strands_error_set(err, STRANDS_E_INVALID,
                              STRANDS_ERROR_CONTEXT_OVERFLOW,
                              "Cannot summarize: the summary holds a toolUse "
                              "block, which a user message cannot carry");
            return NULL;
        }
        if (json_is_string(json_object_get(b, "text")) &&
            json_array_append(texts, b))
            goto oom;
    }
    if (!json_array_size(texts)) {
        json_decref(texts);
        strands_error_set(err, STRANDS_E_INVALID,
                          STRANDS_ERROR_CONTEXT_OVERFLOW,
                          "Cannot summarize: the model's summary has no "
                          "text");
        return NULL;
    }
    json_t *m = json_pack("{s:s, s:o}", "role", "user", "content", texts);
    if (!m) goto oom_texts_gone;
    return m;
oom:
    json_decref(texts);
oom_texts_gone:
    strands_error_set(err, STRANDS_E_NOMEM, NULL, "OOM");
    return NULL;
}

static strands_status summarize(cm_state *s, cm_history *h,
                                const cm_summarizer *sum, strands_error *err)
{
    size_t split = cm_summary_split(h->messages, s->cfg.summary_ratio,
                                    s->cfg.preserve_recent, err);
    if (!split) return err ? err->status : STRANDS_E_INVALID;
    if (!sum || !sum->summarize)
        return strands_error_set(err, STRANDS_E_INVALID,
                                 STRANDS_ERROR_CONTEXT_OVERFLOW,
                                 "Cannot summarize: no model to summarize "
                                 "with");
    json_t *req = summary_request(h->messages, split);
    if (!req) return strands_error_set(err, STRANDS_E_NOMEM, NULL, "OOM");
    json_t *reply = NULL;
    strands_status st = sum->summarize(sum->user, req, &reply, err);
    json_decref(req);
    if (st != STRANDS_OK) return st;
    json_t *m = summary_message(reply, err);
    json_decref(reply);
    if (!m) return err ? err->status : STRANDS_E_INVALID;
    st = cm_history_replace_front(h, split, m);
    if (st != STRANDS_OK) {
        json_decref(m);
        return strands_error_set(err, st, NULL, "OOM");
    }
    json_decref(s->summary);
    s->summary = m;
    size_t start = cm_history_start(h);
    if (start > s->removed) s->removed = start;
    return STRANDS_OK;
}

static strands_status summarizing_apply(cm_state *s, cm_history *h,
                                        const cm_summarizer *sum,
                                        strands_error *err)
{
    if (json_array_size(h->messages) <= (size_t)s->cfg.window_size)
        return STRANDS_OK;
    /* Best effort (as Strands' proactive compression): the model call
     * goes ahead with the history as it is. */
    strands_error e;
    strands_error_clear(&e);
    strands_status st = summarize(s, h, sum, &e);
    if (st == STRANDS_E_NOMEM || st == STRANDS_E_CANCELLED) {
        if (err) *err = e;
        return st;
    }
    return STRANDS_OK;
}

static strands_status summarizing_reduce(cm_state *s, cm_history *h,
                                         const cm_summarizer *sum,
                                         strands_error *err)
{
    return summarize(s, h, sum, err);
}

static strands_status summarizing_save(const cm_state *s, json_t *out)
{
    return json_object_set(out, "summary_message",
                           s->summary ? s->summary : json_null())
               ? STRANDS_E_NOMEM
               : STRANDS_OK;
}

/* A stored summary is used when it is a message a history can start
 * with: content blocks, none of them a toolUse or toolResult. */
static strands_status summarizing_restore(cm_state *s, const json_t *state)
{
    json_t *m = json_object_get(state, "summary_message");
    json_t *content = json_object_get(m, "content");
    size_t i;
    json_t *b;
    if (!json_is_object(m) || !json_array_size(content)) return STRANDS_OK;
    json_array_foreach(content, i, b) {
        if (!json_is_object(b) || json_object_get(b, "toolUse") ||
            json_object_get(b, "toolResult"))
            return STRANDS_OK;
    }
    s->summary = json_pack("{s:s, s:O}", "role", "user", "content", content);
    return s->summary ? STRANDS_OK : STRANDS_E_NOMEM;
}

const cm_vtab cm_summarizing_vtab = {
    .version = CM_VTAB_VERSION,
    .state_name = "SummarizingConversationManager",
    .apply_management = summarizing_apply,
    .reduce_context = summarizing_reduce,
    .save = summarizing_save,
    .restore = summarizing_restore,
};
