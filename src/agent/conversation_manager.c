/* What every conversation manager shares (see conversation_manager.h):
 * the working history with its log origins, the state kept in the agent
 * object, the overflow truncation of tool results, Strands' trim and
 * split rules, and the validity check every history sent must pass.     */
#include <stdlib.h>
#include <string.h>

#include "agent/conversation.h"
#include "agent/conversation_manager.h"

/* The system prompt of a summary call: our own wording of what Strands'
 * DEFAULT_SUMMARIZATION_PROMPT asks for (a third-person bullet summary of
 * topics, tools run and their results, technical details, insights). */
const char CM_SUMMARY_PROMPT[] =
    "You summarize conversations. Write a short, structured summary of "
    "the conversation so far, in bullet points and in the third person. "
    "Do not reply to the conversation, do not speak to the user, and do "
    "not comment on which tools exist; treat every tool call as having "
    "succeeded unless the conversation says it failed.\n\n"
    "Cover:\n"
    "- the topics discussed and the questions asked;\n"
    "- every significant tool call and what it returned;\n"
    "- code and technical details that were shared;\n"
    "- the key insights reached.\n\n"
    "Use this shape:\n\n"
    "## Conversation Summary\n"
    "* Topic: key information\n\n"
    "## Tools Executed\n"
    "* Tool: result\n\n"
    "## Key Insights\n"
    "* Insight";
/* Strands' exact request text (SUMMARIZATION_REQUEST). */
const char CM_SUMMARY_REQUEST[] = "Please summarize this conversation.";
const char CM_TRIMMED_NOTICE[] =
    "[Earlier messages of this conversation were removed to fit the "
    "context window.]";

static const char TRUNCATED_TAG[] = "... [truncated:";

/* ---- small predicates --------------------------------------------------- */

static int is_role(const json_t *msg, const char *role)
{
    const char *r = json_string_value(json_object_get(msg, "role"));
    return r && !strcmp(r, role);
}

static int has_block(const json_t *msg, const char *key)
{
    size_t i;
    json_t *b;
    json_array_foreach(json_object_get(msg, "content"), i, b) {
        if (json_object_get(b, key)) return 1;
    }
    return 0;
}

/* ---- the history -------------------------------------------------------- */

strands_status cm_history_reserve(cm_history *h, size_t n)
{
    if (n <= h->cap) return STRANDS_OK;
    if (n > CM_MAX_MESSAGES) return STRANDS_E_TOO_LARGE;
    size_t cap = h->cap ? h->cap : 16;
    while (cap < n) cap *= 2;
    size_t *o = realloc(h->origin, cap * sizeof *o);
    if (!o) return STRANDS_E_NOMEM;
    h->origin = o;
    h->cap = cap;
    return STRANDS_OK;
}

strands_status cm_history_init(cm_history *h, json_t *messages,
                               size_t origin)
{
    memset(h, 0, sizeof *h);
    size_t n = json_array_size(messages);
    strands_status st = cm_history_reserve(h, n ? n : 1);
    if (st != STRANDS_OK) return st;
    h->messages = json_incref(messages);
    for (size_t i = 0; i < n; i++) h->origin[i] = origin;
    h->log_end = origin;
    return STRANDS_OK;
}

void cm_history_clear(cm_history *h)
{
    json_decref(h->messages);
    free(h->origin);
    memset(h, 0, sizeof *h);
}

strands_status cm_history_push(cm_history *h, json_t *msg, size_t origin)
{
    size_t n = json_array_size(h->messages);
    strands_status st = cm_history_reserve(h, n + 1);
    if (st != STRANDS_OK) return st;
    if (json_array_append(h->messages, msg)) return STRANDS_E_NOMEM;
    h->origin[n] = origin;
    return STRANDS_OK;
}

void cm_history_drop_front(cm_history *h, size_t k)
{
    size_t n = json_array_size(h->messages);
    if (k > n) k = n;
    /* Removing from the front cannot fail (no allocation). */
    for (size_t i = 0; i < k; i++) json_array_remove(h->messages, 0);
    memmove(h->origin, h->origin + k, (n - k) * sizeof *h->origin);
}

strands_status cm_history_replace_front(cm_history *h, size_t k,
                                        json_t *first)
{
    size_t n = json_array_size(h->messages);
    if (k > n) k = n;
    size_t origin = k < n ? h->origin[k] : h->log_end;
    if (k == 0) {
        /* Insert: the only case that grows the history. */
        strands_status st = cm_history_reserve(h, n + 1);
        if (st != STRANDS_OK) return st;
        if (json_array_insert(h->messages, 0, first)) return STRANDS_E_NOMEM;
        memmove(h->origin + 1, h->origin, n * sizeof *h->origin);
        h->origin[0] = origin;
        return STRANDS_OK;
    }
    json_array_set(h->messages, k - 1, first); /* in place: cannot fail */
    cm_history_drop_front(h, k - 1);
    h->origin[0] = origin;
    return STRANDS_OK;
}

size_t cm_history_start(const cm_history *h)
{
    return json_array_size(h->messages) ? h->origin[0] : h->log_end;
}

/* ---- state -------------------------------------------------------------- */

static const cm_vtab *vtab_of(strands_conversation_manager_kind kind)
{
    switch (kind) {
    case STRANDS_CM_SUMMARIZING: return &cm_summarizing_vtab;
    case STRANDS_CM_NONE: return &cm_none_vtab;
    case STRANDS_CM_SLIDING_WINDOW: break;
    }
    return &cm_sliding_vtab;
}

strands_status cm_state_init(cm_state *s, const cm_config *cfg,
                             const json_t *stored, size_t log_count)
{
    memset(s, 0, sizeof *s);
    s->cfg = *cfg;
    s->vtab = vtab_of(cfg->kind);
    double r = cfg->summary_ratio;
    if (!(r > 0)) r = STRANDS_AGENT_DEFAULT_SUMMARY_RATIO; /* 0 or NaN */
    s->cfg.summary_ratio = r < 0.1 ? 0.1 : r > 0.8 ? 0.8 : r;
    if (s->cfg.window_size < 0) s->cfg.window_size = 0;
    if (s->cfg.preserve_recent < 0) s->cfg.preserve_recent = 0;
    if (!json_is_object(stored)) return STRANDS_OK;
    json_t *rc = json_object_get(stored, "removed_message_count");
    if (json_is_integer(rc) && json_integer_value(rc) > 0) {
        json_int_t v = json_integer_value(rc);
        s->removed = (unsigned long long)v > log_count ? log_count
                                                       : (size_t)v;
    }
    const char *name = json_string_value(json_object_get(stored, "__name__"));
    /* Another manager's state (e.g. after CONVERSATION_MANAGER changed):
     * start fresh from where it had removed messages up to. */
    if (name && !strcmp(name, s->vtab->state_name) &&
        s->vtab->restore(s, stored) != STRANDS_OK) {
        cm_state_clear(s);
        return STRANDS_E_NOMEM;
    }
    return STRANDS_OK;
}

void cm_state_clear(cm_state *s)
{
    json_decref(s->summary);
    memset(s, 0, sizeof *s);
}

json_t *cm_state_save(const cm_state *s)
{
    json_t *o = json_pack("{s:s, s:I}", "__name__", s->vtab->state_name,
                          "removed_message_count", (json_int_t)s->removed);
    if (o && s->vtab->save(s, o) != STRANDS_OK) {
        json_decref(o);
        o = NULL;
    }
    return o;
}

json_t *cm_state_prepend(const cm_state *s)
{
    json_t *a = json_array();
    if (a && s->summary && json_array_append(a, s->summary)) {
        json_decref(a);
        a = NULL;
    }
    return a;
}

/* ---- truncation of tool results ----------------------------------------- */

/* Bytes taken by the first n code points of s[0..len). */
static size_t utf8_head(const char *s, size_t len, size_t n)
{
    size_t i = 0;
    while (i < len && n) {
        i++;
        while (i < len && ((unsigned char)s[i] & 0xC0) == 0x80) i++;
        n--;
    }
    return i;
}

/* Byte offset where the last n code points of s[0..len) begin. */
static size_t utf8_tail(const char *s, size_t len, size_t n)
{
    size_t i = len;
    while (i > 0 && n) {
        i--;
        while (i > 0 && ((unsigned char)s[i] & 0xC0) == 0x80) i--;
        n--;
    }
    return i;
}

static size_t utf8_count(const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80) n++;
    return n;
}

/* First and last CM_TRUNCATE_KEEP characters of text around the marker;
 * a new {"text"} block, NULL when the text is short enough (or on OOM:
 * *nomem set).                                                         */
static json_t *cut_text(const char *text, size_t len, int *nomem)
{
    size_t chars = utf8_count(text, len);
    if (chars <= CM_TRUNCATE_OVER) return NULL;
    size_t head = utf8_head(text, len, CM_TRUNCATE_KEEP);
    size_t tail = utf8_tail(text, len, CM_TRUNCATE_KEEP);
    size_t removed = chars - 2 * CM_TRUNCATE_KEEP;
    char marker[96];
    int m = snprintf(marker, sizeof marker,
                     "...\n\n%s %zu chars removed] ...\n\n...", TRUNCATED_TAG,
                     removed);
    size_t out_len = head + (size_t)m + (len - tail);
    char *out = malloc(out_len + 1);
    json_t *block = NULL;
    if (out) {
        memcpy(out, text, head);
        memcpy(out + head, marker, (size_t)m);
        memcpy(out + head + m, text + tail, len - tail);
        out[out_len] = '\0';
        block = json_pack("{s:s%}", "text", out, out_len);
        free(out);
    }
    if (!block) *nomem = 1;
    return block;
}

/* The replacement of one tool-result item, NULL when it stays (or on
 * OOM: *nomem set). */
static json_t *cut_item(const json_t *item, int *nomem)
{
    json_t *v;
    if ((v = json_object_get(item, "text")) && json_is_string(v)) {
        const char *t = json_string_value(v);
        if (strstr(t, TRUNCATED_TAG)) return NULL;
        return cut_text(t, json_string_length(v), nomem);
    }
    if ((v = json_object_get(item, "image"))) {
        const char *fmt = json_string_value(json_object_get(v, "format"));
        json_t *b = json_object_get(json_object_get(v, "source"), "bytes");
        const char *b64 = json_string_value(b);
        size_t n = b64 ? json_string_length(b) : 0;
        size_t bytes = n / 4 * 3;
        if (n >= 1 && b64[n - 1] == '=') bytes--;
        if (n >= 2 && b64[n - 2] == '=') bytes--;
        char text[128];
        snprintf(text, sizeof text, "[image: %s, %zu bytes]",
                 fmt ? fmt : "unknown", bytes);
        json_t *block = json_pack("{s:s}", "text", text);
        if (!block) *nomem = 1;
        return block;
    }
    if ((v = json_object_get(item, "json"))) {
        size_t n = json_dumpb(v, NULL, 0, JSON_COMPACT);
        if (n <= CM_TRUNCATE_OVER) return NULL;
        char *s = malloc(n);
        json_t *block = NULL;
        if (s && json_dumpb(v, s, n, JSON_COMPACT) == n)
            block = cut_text(s, n, nomem);
        else
            *nomem = 1;
        free(s);
        return block;
    }
    return NULL;
}

/* Size of what a tool-result item holds, 0 when it cannot be cut. */
static size_t item_size(const json_t *item)
{
    json_t *v;
    if ((v = json_object_get(item, "text")) && json_is_string(v)) {
        const char *t = json_string_value(v);
        size_t n = json_string_length(v);
        return n > CM_TRUNCATE_OVER && !strstr(t, TRUNCATED_TAG) ? n : 0;
    }
    if ((v = json_object_get(item, "image")))
        return json_string_length(json_object_get(
                   json_object_get(v, "source"), "bytes")) + 1;
    if ((v = json_object_get(item, "json"))) {
        size_t n = json_dumpb(v, NULL, 0, JSON_COMPACT);
        return n > CM_TRUNCATE_OVER ? n : 0;
    }
    return 0;
}

typedef struct cut_candidate {
    const json_t *item;
    size_t size;
} cut_candidate;

static int by_size_desc(const void *a, const void *b)
{
    size_t x = ((const cut_candidate *)a)->size;
    size_t y = ((const cut_candidate *)b)->size;
    return x < y ? 1 : x > y ? -1 : 0;
}

static int selected(const cut_candidate *c, size_t n, const json_t *item)
{
    for (size_t i = 0; i < n; i++)
        if (c[i].item == item) return 1;
    return 0;
}

/* A copy of tool-result block `tr` ({"toolResult":{...}}) with the
 * selected items cut; NULL on OOM. */
static json_t *cut_result_block(const json_t *block, const cut_candidate *c,
                                size_t n_sel, int *nomem)
{
    json_t *tr = json_object_get(block, "toolResult");
    json_t *content = json_array(), *inner = json_object(), *out = NULL;
    size_t i;
    json_t *item;
    if (!content || !inner) goto fail;
    json_array_foreach(json_object_get(tr, "content"), i, item) {
        json_t *rep = selected(c, n_sel, item) ? cut_item(item, nomem) : NULL;
        if (*nomem) goto fail;
        if (json_array_append_new(content, rep ? rep : json_incref(item)))
            goto fail;
    }
    if (json_object_update(inner, tr) ||
        json_object_set(inner, "content", content))
        goto fail;
    out = json_pack("{s:O}", "toolResult", inner);
    if (!out) goto fail;
    json_decref(content);
    json_decref(inner);
    return out;
fail:
    *nomem = 1;
    json_decref(content);
    json_decref(inner);
    return NULL;
}

strands_status cm_truncate_tool_results(cm_history *h, int *changed)
{
    *changed = 0;
    size_t cap = 0, n_c = 0, total = 0;
    cut_candidate *c = NULL;
    size_t i, j, k;
    json_t *msg, *block, *item;
    json_array_foreach(h->messages, i, msg) {
        json_array_foreach(json_object_get(msg, "content"), j, block) {
            json_t *tr = json_object_get(block, "toolResult");
            json_array_foreach(json_object_get(tr, "content"), k, item) {
                size_t sz = item_size(item);
                if (!sz) continue;
                if (n_c == cap) {
                    size_t nc = cap ? cap * 2 : 16;
                    cut_candidate *g = realloc(c, nc * sizeof *g);
                    if (!g) {
                        free(c);
                        return STRANDS_E_NOMEM;
                    }
                    c = g;
                    cap = nc;
                }
                c[n_c++] = (cut_candidate){item, sz};
                total += sz;
            }
        }
    }
    if (!n_c) {
        free(c);
        return STRANDS_OK;
    }
    /* The largest first, until at least half of it all is covered. */
    qsort(c, n_c, sizeof *c, by_size_desc);
    size_t n_sel = 0, covered = 0;
    while (n_sel < n_c && covered < (total + 1) / 2)
        covered += c[n_sel++].size;
    /* New messages built on the side; swapped in once all are built. */
    size_t n = json_array_size(h->messages);
    json_t *fresh = json_array();
    int nomem = !fresh;
    for (i = 0; !nomem && i < n; i++) {
        msg = json_array_get(h->messages, i);
        int touched = 0;
        json_array_foreach(json_object_get(msg, "content"), j, block) {
            json_array_foreach(json_object_get(json_object_get(block,
                                                               "toolResult"),
                                               "content"),
                               k, item) {
                if (selected(c, n_sel, item)) touched = 1;
            }
        }
        if (!touched) {
            if (json_array_append_new(fresh, json_null())) nomem = 1;
            continue;
        }
        json_t *content = json_array();
        if (!content) nomem = 1;
        json_array_foreach(json_object_get(msg, "content"), j, block) {
            if (nomem) break;
            json_t *rep = json_object_get(block, "toolResult")
                              ? cut_result_block(block, c, n_sel, &nomem)
                              : json_incref(block);
            if (!rep || json_array_append_new(content, rep)) nomem = 1;
        }
        json_t *m = nomem ? NULL
                          : json_pack("{s:O, s:O}", "role",
                                      json_object_get(msg, "role"), "content",
                                      content);
        json_decref(content);
        if (!m || json_array_append_new(fresh, m)) nomem = 1;
    }
    free(c);
    if (nomem) {
        json_decref(fresh);
        return STRANDS_E_NOMEM;
    }
    for (i = 0; i < n; i++) {
        json_t *m = json_array_get(fresh, i);
        if (json_is_null(m)) continue;
        json_array_set(h->messages, i, m); /* in place: cannot fail */
        *changed = 1;
    }
    json_decref(fresh);
    return STRANDS_OK;
}

/* ---- trim and split rules ----------------------------------------------- */

size_t cm_trim_point(const json_t *messages, size_t window,
                     long *fallback_out)
{
    size_t n = json_array_size(messages);
    *fallback_out = -1;
    size_t i = n <= window ? 2 : n - window;
    for (; i < n; i++) {
        const json_t *m = json_array_get(messages, i);
        const json_t *next = i + 1 < n ? json_array_get(messages, i + 1)
                                       : NULL;
        int answered = next && has_block(next, "toolResult");
        if (is_role(m, "user")) {
            if (has_block(m, "toolResult")) continue;
            if (has_block(m, "toolUse") && !answered) continue;
            return i;
        }
        if (*fallback_out < 0 && has_block(m, "toolUse") && answered)
            *fallback_out = (long)i;
    }
    return n;
}

size_t cm_summary_split(const json_t *messages, double ratio, int preserve,
                        strands_error *err)
{
    size_t n = json_array_size(messages);
    long long count = (long long)((double)n * ratio);
    if (count < 1) count = 1;
    if ((long long)n - preserve < count) count = (long long)n - preserve;
    if (count <= 0) {
        strands_error_set(err, STRANDS_E_INVALID,
                          STRANDS_ERROR_CONTEXT_OVERFLOW,
                          "Cannot summarize: insufficient messages for "
                          "summarization");
        return 0;
    }
    /* The rest must start with an assistant message: after the summary
     * (a user message) roles still alternate, and an assistant message
     * of a valid history takes its toolResults along.                  */
    size_t i = (size_t)count;
    while (i < n && !is_role(json_array_get(messages, i), "assistant")) i++;
    if (i >= n) {
        strands_error_set(err, STRANDS_E_INVALID,
                          STRANDS_ERROR_CONTEXT_OVERFLOW,
                          "Cannot summarize: no place to split the "
                          "history that keeps tool pairs intact");
        return 0;
    }
    return i;
}

strands_status cm_history_validate(const json_t *messages,
                                   strands_error *err)
{
    size_t i;
    json_t *m;
    json_array_foreach(messages, i, m) {
        int user = is_role(m, "user");
        if (i == 0 && user && has_block(m, "toolResult"))
            return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                     "message 0: the history starts with a "
                                     "toolResult");
        if (user && has_block(m, "toolUse"))
            return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                     "message %zu: a user message holds a "
                                     "toolUse", i);
        if (!user && has_block(m, "toolResult"))
            return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                     "message %zu: an assistant message "
                                     "holds a toolResult", i);
    }
    return conversation_validate(messages, err);
}
