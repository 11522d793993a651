/* Conversation managers: Strands' trim rule (pairs at the boundary, the
 * fallback, window 0), the summary split, the state round trip (incl. a
 * state blob written by Strands Python), truncation of the largest tool
 * results anywhere, the validity checker; and through the agent with the
 * scripted fake model: overflow -> truncate -> retry, three failed
 * reductions -> ContextWindowOverflow, the summarizing call, a long
 * conversation under a small window. Every history the fake model saw is
 * checked with cm_history_validate.                                     */
#include <stdlib.h>
#include <string.h>

#include "fake_model.h"
#include "json_check.h"
#include "test.h"

#include "agent/conversation_manager.h"
#include "strands/strands.h"

#define KEY(id) (&(strands_session_key){.session_id = (id)})

/* Short message builders: u("x") user text, a("x") assistant text,
 * tu("id") assistant toolUse, tr("id") user toolResult. */
static json_t *msg_text(const char *role, const char *text)
{
    return json_pack("{s:s, s:[{s:s}]}", "role", role, "content", "text",
                     text);
}

static json_t *msg_tu(const char *id)
{
    return json_pack("{s:s, s:[{s:{s:s, s:s, s:{}}}]}", "role", "assistant",
                     "content", "toolUse", "toolUseId", id, "name", "t",
                     "input");
}

static json_t *msg_tr(const char *id, const char *text)
{
    return json_pack("{s:s, s:[{s:{s:s, s:s, s:[{s:s}]}}]}", "role", "user",
                     "content", "toolResult", "toolUseId", id, "status",
                     "success", "content", "text", text);
}

/* A history from a compact spec: "u" user text, "a" assistant text, "T"
 * assistant toolUse, "R" user toolResult answering the previous T; each
 * message's text is its index. */
static json_t *history(const char *spec)
{
    json_t *h = json_array();
    char id[32], text[32];
    int last_tu = -1;
    for (int i = 0; spec[i]; i++) {
        snprintf(text, sizeof text, "m%d", i);
        switch (spec[i]) {
        case 'u': json_array_append_new(h, msg_text("user", text)); break;
        case 'a': json_array_append_new(h, msg_text("assistant", text)); break;
        case 'T':
            snprintf(id, sizeof id, "t%d", i);
            last_tu = i;
            json_array_append_new(h, msg_tu(id));
            break;
        case 'R':
            snprintf(id, sizeof id, "t%d", last_tu);
            json_array_append_new(h, msg_tr(id, text));
            break;
        }
    }
    return h;
}

/* The spec letters of a history (as above; "N" for the trim notice). */
static void spec_of(const json_t *h, char *out, size_t outsz)
{
    size_t i, n = 0;
    json_t *m;
    json_array_foreach(h, i, m) {
        if (n + 1 >= outsz) break;
        const char *role = json_string_value(json_object_get(m, "role"));
        json_t *b0 = json_array_get(json_object_get(m, "content"), 0);
        const char *t = json_string_value(json_object_get(b0, "text"));
        char c = '?';
        if (json_object_get(b0, "toolUse")) c = 'T';
        else if (json_object_get(b0, "toolResult")) c = 'R';
        else if (t && !strcmp(t, CM_TRIMMED_NOTICE)) c = 'N';
        else c = !strcmp(role, "user") ? 'u' : 'a';
        out[n++] = c;
    }
    out[n] = '\0';
}

/* Sets up a history whose message i comes from log index 100 + i. */
static void hist_from(cm_history *h, const char *spec)
{
    json_t *m = history(spec);
    CHECK_INT(cm_history_init(h, m, 0), STRANDS_OK);
    json_decref(m);
    for (size_t i = 0; i < json_array_size(h->messages); i++)
        h->origin[i] = 100 + i;
    h->log_end = 100 + json_array_size(h->messages);
}

static cm_config cfg_of(strands_conversation_manager_kind k, int window)
{
    return (cm_config){.kind = k, .window_size = window,
                       .summary_ratio = 0.3, .preserve_recent = 2};
}

/* ---- the trim rule ------------------------------------------------------ */

static void test_trim_table(void)
{
    static const struct {
        const char *spec;
        int window;
        int overflow;
        const char *want;      /* spec after; NULL: an error */
        size_t removed;        /* removed_message_count after */
    } cases[] = {
        /* plain: the newest 4 */
        {"uauaua", 4, 0, "uaua", 102},
        /* fits: apply does nothing */
        {"uaua", 4, 0, "uaua", 0},
        /* a toolResult at the boundary is not a start; nor is its
         * assistant: the next plain user message is */
        {"uTRaua", 4, 0, "ua", 104},
        /* pair straddling the boundary: kept whole by starting later */
        {"uauTRaua", 5, 0, "ua", 106},
        /* overflow while it fits: from index 2 on */
        {"uaua", 40, 1, "ua", 102},
        /* no plain user start: Strands' fallback at the first answered
         * toolUse, opened by a user notice */
        {"uTRTRTRa", 4, 0, "NTRa", 105},
        {"uTRTRTRa", 4, 1, "NTRa", 105},
        /* nothing can go: apply leaves it, overflow is an error */
        {"uTR", 1, 0, "uTR", 0},
        {"uTR", 1, 1, NULL, 0},
        {"u", 1, 1, NULL, 0},
        /* window 0: everything goes (Strands) */
        {"uaua", 0, 0, "", 104},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cm_history h;
        hist_from(&h, cases[i].spec);
        cm_config cfg = cfg_of(STRANDS_CM_SLIDING_WINDOW, cases[i].window);
        cm_state s;
        CHECK_INT(cm_state_init(&s, &cfg, NULL, 0), STRANDS_OK);
        strands_error err;
        strands_error_clear(&err);
        strands_status st =
            cases[i].overflow
                ? s.vtab->reduce_context(&s, &h, NULL, &err)
                : s.vtab->apply_management(&s, &h, NULL, &err);
        char got[64];
        spec_of(h.messages, got, sizeof got);
        if (!cases[i].want) {
            if (st == STRANDS_OK)
                fprintf(stderr, "  case %zu (%s): expected an error\n", i,
                        cases[i].spec);
            CHECK_INT(st, STRANDS_E_INVALID);
            CHECK_STR(err.code, STRANDS_ERROR_CONTEXT_OVERFLOW);
            CHECK_STR(got, cases[i].spec);      /* unchanged */
        } else {
            CHECK_INT(st, STRANDS_OK);
            if (strcmp(got, cases[i].want))
                fprintf(stderr, "  case %zu (%s, window %d): got %s\n", i,
                        cases[i].spec, cases[i].window, got);
            CHECK_STR(got, cases[i].want);
            CHECK_INT(s.removed, cases[i].removed);
            CHECK(cm_history_validate(h.messages, &err) == STRANDS_OK);
        }
        cm_state_clear(&s);
        cm_history_clear(&h);
    }
}

/* Every window over a tool-heavy history: the result is always valid
 * and never longer than needed. */
static void test_trim_every_window(void)
{
    const char *spec = "uTRTRauTRauTRTRauauTRa";
    for (int w = 1; w <= 24; w++) {
        for (int overflow = 0; overflow < 2; overflow++) {
            cm_history h;
            hist_from(&h, spec);
            cm_config cfg = cfg_of(STRANDS_CM_SLIDING_WINDOW, w);
            cm_state s;
            cm_state_init(&s, &cfg, NULL, 0);
            strands_error err;
            size_t before = json_array_size(h.messages);
            strands_status st =
                overflow ? s.vtab->reduce_context(&s, &h, NULL, &err)
                         : s.vtab->apply_management(&s, &h, NULL, &err);
            if (st == STRANDS_OK) {
                CHECK(cm_history_validate(h.messages, &err) == STRANDS_OK);
                if (json_array_size(h.messages) != before || overflow)
                    CHECK_INT(s.removed, cm_history_start(&h));
                else
                    CHECK_INT(s.removed, 0);
                /* Never longer than the window, a notice aside, unless
                 * nothing could go. */
                if (json_array_size(h.messages) != before)
                    CHECK(json_array_size(h.messages) <= (size_t)w + 1 ||
                          overflow);
            }
            cm_state_clear(&s);
            cm_history_clear(&h);
        }
    }
}

/* ---- the summary split -------------------------------------------------- */

static void test_summary_split_table(void)
{
    static const struct {
        const char *spec;
        double ratio;
        int preserve;
        size_t want;   /* 0: an error */
    } cases[] = {
        {"uauauauaua", 0.3, 2, 3},     /* 3 is an assistant message */
        {"uauauauaua", 0.4, 2, 5},     /* 4 is user: moved to 5 */
        {"uTRTRauaua", 0.3, 2, 3},     /* 3 is T (answered by 4): ok */
        {"uTRTRauaua", 0.2, 0, 3},     /* 2 is R: moved past it */
        {"uaua", 0.3, 10, 0},          /* nothing old enough */
        {"uaua", 0.1, 3, 1},           /* at least one */
        {"uTRu", 0.5, 0, 0},           /* no assistant after the split */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_t *h = history(cases[i].spec);
        strands_error err;
        strands_error_clear(&err);
        size_t got = cm_summary_split(h, cases[i].ratio, cases[i].preserve,
                                      &err);
        if (got != cases[i].want)
            fprintf(stderr, "  split case %zu: got %zu\n", i, got);
        CHECK_INT(got, cases[i].want);
        if (!cases[i].want) {
            CHECK_STR(err.code, STRANDS_ERROR_CONTEXT_OVERFLOW);
            CHECK(strstr(err.message, "Cannot summarize") != NULL);
        }
        json_decref(h);
    }
}

/* A stub summarizer: answers `reply` (JSON) and keeps the request. */
typedef struct stub {
    const char *reply;
    json_t *request;
    int calls;
} stub;

static strands_status stub_summarize(void *user, const json_t *messages,
                                     json_t **reply_out, strands_error *err)
{
    (void)err;
    stub *s = user;
    s->calls++;
    json_decref(s->request);
    s->request = json_deep_copy(messages);
    *reply_out = J(s->reply);
    return STRANDS_OK;
}

static void test_summarize_replaces_oldest(void)
{
    cm_history h;
    hist_from(&h, "uTRauauTRauau");   /* 13 messages */
    cm_config cfg = {.kind = STRANDS_CM_SUMMARIZING, .window_size = 40,
                     .summary_ratio = 0.3, .preserve_recent = 2};
    cm_state s;
    CHECK_INT(cm_state_init(&s, &cfg, NULL, 0), STRANDS_OK);
    stub st = {"{\"role\":\"assistant\",\"content\":[{\"text\":\"SUM\"},"
               "{\"reasoningContent\":{\"reasoningText\":{\"text\":\"r\"}}}]}",
               NULL, 0};
    cm_summarizer sum = {stub_summarize, &st};
    strands_error err;
    /* Under the window apply does nothing. */
    CHECK_INT(s.vtab->apply_management(&s, &h, &sum, &err), STRANDS_OK);
    CHECK_INT(st.calls, 0);
    CHECK_INT(s.vtab->reduce_context(&s, &h, &sum, &err), STRANDS_OK);
    CHECK_INT(st.calls, 1);
    /* int(13 * 0.3) = 3 is an assistant message: 3 summarised. */
    CHECK_INT(json_array_size(h.messages), 11);
    json_t *first = json_array_get(h.messages, 0);
    CHECK_STR(json_string_value(json_object_get(first, "role")), "user");
    CHECK_INT(json_array_size(json_object_get(first, "content")), 1);
    CHECK_INT(s.removed, 103);
    CHECK(cm_history_validate(h.messages, &err) == STRANDS_OK);
    /* The request: the 3 messages, the request text joined to the last. */
    CHECK_INT(json_array_size(st.request), 3);
    json_t *last = json_array_get(st.request, 2);
    json_t *lc = json_object_get(last, "content");
    CHECK_STR(json_string_value(json_object_get(
                  json_array_get(lc, json_array_size(lc) - 1), "text")),
              CM_SUMMARY_REQUEST);
    CHECK(cm_history_validate(st.request, &err) == STRANDS_OK);
    /* A call without tools: tool blocks are written out as text. */
    char *req_text = json_dumps(st.request, 0);
    CHECK(strstr(req_text, "\"toolUse\"") == NULL);
    CHECK(strstr(req_text, "\"toolResult\"") == NULL);
    CHECK(strstr(req_text, "[tool call t, input {}]") != NULL);
    CHECK(strstr(req_text, "[tool result, success: m2]") != NULL);
    free(req_text);
    /* The state carries the summary. */
    json_t *saved = cm_state_save(&s);
    CHECK_STR(json_string_value(json_object_get(saved, "__name__")),
              "SummarizingConversationManager");
    CHECK(json_equal(json_object_get(saved, "summary_message"), first));
    CHECK_INT(json_integer_value(json_object_get(saved,
                                                 "removed_message_count")),
              103);
    json_decref(saved);
    /* Again: the old summary is summarised with the rest; the removed
     * count is that of the first message kept (not counting summaries). */
    CHECK_INT(s.vtab->reduce_context(&s, &h, &sum, &err), STRANDS_OK);
    CHECK_INT(json_array_size(h.messages), 9);
    CHECK_INT(s.removed, 105);
    CHECK(cm_history_validate(h.messages, &err) == STRANDS_OK);
    json_decref(st.request);
    cm_state_clear(&s);
    cm_history_clear(&h);
}

/* A summary holding a toolUse (HS#1160) is refused; nothing changes. */
static void test_summary_with_tool_use_refused(void)
{
    cm_history h;
    hist_from(&h, "uauauauaua");
    cm_config cfg = {.kind = STRANDS_CM_SUMMARIZING, .window_size = 4,
                     .summary_ratio = 0.3, .preserve_recent = 2};
    cm_state s;
    cm_state_init(&s, &cfg, NULL, 0);
    stub st = {"{\"role\":\"assistant\",\"content\":[{\"text\":\"x\"},"
               "{\"toolUse\":{\"toolUseId\":\"z\",\"name\":\"out\","
               "\"input\":{}}}]}",
               NULL, 0};
    cm_summarizer sum = {stub_summarize, &st};
    strands_error err;
    CHECK_INT(s.vtab->reduce_context(&s, &h, &sum, &err), STRANDS_E_INVALID);
    CHECK(strstr(err.message, "toolUse") != NULL);
    CHECK_INT(json_array_size(h.messages), 10);
    CHECK_INT(s.removed, 0);
    CHECK(s.summary == NULL);
    /* apply (window exceeded) is best effort: OK, nothing changed. */
    CHECK_INT(s.vtab->apply_management(&s, &h, &sum, &err), STRANDS_OK);
    CHECK_INT(json_array_size(h.messages), 10);
    json_decref(st.request);
    cm_state_clear(&s);
    cm_history_clear(&h);
}

/* ---- state -------------------------------------------------------------- */

static void test_state_round_trip(void)
{
    /* As Strands Python writes it in agent.json. */
    json_t *py = J("{\"__name__\": \"SlidingWindowConversationManager\", "
                   "\"removed_message_count\": 4, \"model_call_count\": 7}");
    cm_config cfg = cfg_of(STRANDS_CM_SLIDING_WINDOW, 40);
    cm_state s;
    CHECK_INT(cm_state_init(&s, &cfg, py, 10), STRANDS_OK);
    CHECK_INT(s.removed, 4);
    CHECK_INT(s.model_calls, 7);
    json_t *out = cm_state_save(&s);
    CHECK(json_equal(out, py));
    json_decref(out);
    json_t *pre = cm_state_prepend(&s);
    CHECK_INT(json_array_size(pre), 0);
    json_decref(pre);
    cm_state_clear(&s);
    /* Capped at the log's length. */
    CHECK_INT(cm_state_init(&s, &cfg, py, 3), STRANDS_OK);
    CHECK_INT(s.removed, 3);
    cm_state_clear(&s);

    /* Summarizing, as Strands Python writes it: the summary is put back
     * in front. */
    json_t *spy = J("{\"__name__\": \"SummarizingConversationManager\", "
                    "\"removed_message_count\": 6, \"summary_message\": "
                    "{\"role\": \"user\", \"content\": [{\"text\": "
                    "\"## Conversation Summary\\n* Topic\"}]}}");
    cm_config scfg = cfg_of(STRANDS_CM_SUMMARIZING, 40);
    CHECK_INT(cm_state_init(&s, &scfg, spy, 10), STRANDS_OK);
    CHECK_INT(s.removed, 6);
    pre = cm_state_prepend(&s);
    CHECK_INT(json_array_size(pre), 1);
    CHECK(json_equal(json_array_get(pre, 0),
                     json_object_get(spy, "summary_message")));
    json_decref(pre);
    out = cm_state_save(&s);
    CHECK(json_equal(out, spy));
    json_decref(out);
    cm_state_clear(&s);

    /* Another manager's state: only its removed count is kept. */
    CHECK_INT(cm_state_init(&s, &cfg, spy, 10), STRANDS_OK);
    CHECK_INT(s.removed, 6);
    CHECK_INT(s.model_calls, 0);
    pre = cm_state_prepend(&s);
    CHECK_INT(json_array_size(pre), 0);
    json_decref(pre);
    cm_state_clear(&s);
    CHECK_INT(cm_state_init(&s, &scfg, py, 10), STRANDS_OK);
    CHECK_INT(s.removed, 4);
    CHECK(s.summary == NULL);
    cm_state_clear(&s);

    /* Malformed states: a fresh start. */
    static const char *const bad[] = {
        "{\"__name__\":\"SlidingWindowConversationManager\","
        "\"removed_message_count\":-3}",
        "{\"removed_message_count\":\"4\"}",
        "[1,2]",
        "{\"__name__\":\"SummarizingConversationManager\","
        "\"removed_message_count\":0,\"summary_message\":{\"role\":\"user\","
        "\"content\":[{\"toolUse\":{\"toolUseId\":\"x\",\"name\":\"n\","
        "\"input\":{}}}]}}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_t *b = J(bad[i]);
        CHECK_INT(cm_state_init(&s, &scfg, b, 10), STRANDS_OK);
        CHECK_INT(s.removed, 0);
        CHECK(s.summary == NULL);
        cm_state_clear(&s);
        json_decref(b);
    }
    /* Null manager. */
    cm_config ncfg = cfg_of(STRANDS_CM_NONE, 40);
    CHECK_INT(cm_state_init(&s, &ncfg, NULL, 0), STRANDS_OK);
    out = cm_state_save(&s);
    CHECK_STR(json_string_value(json_object_get(out, "__name__")),
              "NullConversationManager");
    json_decref(out);
    cm_state_clear(&s);
    /* The ratio is clamped as Strands clamps it. */
    cm_config r = cfg_of(STRANDS_CM_SUMMARIZING, 40);
    r.summary_ratio = 0.95;
    cm_state_init(&s, &r, NULL, 0);
    CHECK(s.cfg.summary_ratio == 0.8);
    cm_state_clear(&s);
    r.summary_ratio = 0.01;
    cm_state_init(&s, &r, NULL, 0);
    CHECK(s.cfg.summary_ratio == 0.1);
    cm_state_clear(&s);
    json_decref(py);
    json_decref(spy);
}

/* ---- truncation --------------------------------------------------------- */

static char *filled(size_t n, char c)
{
    char *s = malloc(n + 1);
    memset(s, c, n);
    s[n] = '\0';
    return s;
}

/* The largest results go first wherever they are (not only the oldest,
 * Strands' HS#4341); the originals are never modified. */
static void test_truncate_largest_anywhere(void)
{
    char *big = filled(2 * 1024 * 1024, 'B');
    big[0] = 'H';
    big[2 * 1024 * 1024 - 1] = 'T';
    char *mid = filled(1000, 'M');
    json_t *h = json_array();
    json_array_append_new(h, msg_text("user", "q"));
    json_array_append_new(h, msg_tu("old"));
    json_array_append_new(h, msg_tr("old", mid));          /* the oldest */
    json_array_append_new(h, msg_tu("new"));
    json_array_append_new(h, msg_tr("new", big));          /* the largest */
    json_array_append_new(h, msg_text("assistant", "a"));
    json_array_append_new(h, msg_text("user", "q2"));
    json_t *orig = json_deep_copy(h);
    json_t *log_view = json_incref(h);   /* what the log holds */
    json_t *same = json_array();
    json_array_extend(same, h);          /* the same message objects */
    cm_history hist;
    CHECK_INT(cm_history_init(&hist, same, 0), STRANDS_OK);
    json_decref(same);
    int changed = 0;
    CHECK_INT(cm_truncate_tool_results(&hist, &changed), STRANDS_OK);
    CHECK(changed);
    json_t *r = json_object_get(json_array_get(json_object_get(
                    json_array_get(hist.messages, 4), "content"), 0),
                    "toolResult");
    const char *t = json_string_value(json_object_get(
        json_array_get(json_object_get(r, "content"), 0), "text"));
    CHECK(t && strlen(t) < 600);
    CHECK(t && t[0] == 'H' && t[strlen(t) - 1] == 'T');
    char marker[80];
    snprintf(marker, sizeof marker, "... [truncated: %d chars removed] ...",
             2 * 1024 * 1024 - 400);
    CHECK(t && strstr(t, marker) != NULL);
    CHECK_STR(json_string_value(json_object_get(r, "toolUseId")), "new");
    CHECK_STR(json_string_value(json_object_get(r, "status")), "success");
    /* The 1000-character one is kept this time (the big one was enough). */
    const char *m = json_string_value(json_object_get(json_array_get(
        json_object_get(json_object_get(json_array_get(json_object_get(
            json_array_get(hist.messages, 2), "content"), 0), "toolResult"),
            "content"), 0), "text"));
    CHECK_INT(strlen(m), 1000);
    /* Next pass: the 1000-character one; then nothing is left to cut. */
    CHECK_INT(cm_truncate_tool_results(&hist, &changed), STRANDS_OK);
    CHECK(changed);
    CHECK_INT(cm_truncate_tool_results(&hist, &changed), STRANDS_OK);
    CHECK(!changed);
    /* The log's messages are as they were. */
    CHECK(json_equal(log_view, orig));
    strands_error err;
    CHECK(cm_history_validate(hist.messages, &err) == STRANDS_OK);
    cm_history_clear(&hist);
    json_decref(log_view);
    json_decref(orig);
    json_decref(h);
    free(big);
    free(mid);
}

static void test_truncate_images_utf8_json(void)
{
    /* 400 'é' (2 bytes each) stays; 401 is cut at character bounds. */
    char *acc = malloc(1000 * 2 + 1);
    for (int i = 0; i < 1000; i++) memcpy(acc + 2 * i, "\xc3\xa9", 2);
    acc[2000] = '\0';
    json_t *h = J("[{\"role\":\"user\",\"content\":[{\"text\":\"q\"}]},"
                  "{\"role\":\"assistant\",\"content\":[{\"toolUse\":"
                  "{\"toolUseId\":\"i\",\"name\":\"t\",\"input\":{}}}]}]");
    json_t *res = json_pack(
        "{s:s, s:[{s:{s:s, s:s, s:[{s:s}, {s:{s:s, s:{s:s}}}, {s:s}]}}]}",
        "role", "user", "content", "toolResult", "toolUseId", "i", "status",
        "error", "content", "text", acc, "image", "format", "png", "source",
        "bytes", "aGVsbG8gd29ybGQ=", "text", "short");
    json_array_append_new(h, res);
    cm_history hist;
    cm_history_init(&hist, h, 0);
    int changed;
    /* Two passes at most cut both (the largest first). */
    cm_truncate_tool_results(&hist, &changed);
    cm_truncate_tool_results(&hist, &changed);
    json_t *items = json_object_get(json_object_get(json_array_get(
        json_object_get(json_array_get(hist.messages, 2), "content"), 0),
        "toolResult"), "content");
    const char *t0 = json_string_value(json_object_get(
        json_array_get(items, 0), "text"));
    CHECK(t0 && strstr(t0, "[truncated: 600 chars removed]") != NULL);
    CHECK(t0 && !strncmp(t0, acc, 400));      /* 200 whole characters */
    CHECK_STR(json_string_value(json_object_get(json_array_get(items, 1),
                                                "text")),
              "[image: png, 11 bytes]");
    CHECK_STR(json_string_value(json_object_get(json_array_get(items, 2),
                                                "text")),
              "short");
    CHECK_STR(json_string_value(json_object_get(json_object_get(
                  json_array_get(json_object_get(json_array_get(
                      hist.messages, 2), "content"), 0), "toolResult"),
                  "status")),
              "error");
    cm_history_clear(&hist);
    json_decref(h);
    free(acc);
}

/* ---- the validity checker ----------------------------------------------- */

static void test_validate_table(void)
{
    static const struct {
        const char *json;
        int ok;
    } cases[] = {
        {"[]", 1},
        {"[{\"role\":\"user\",\"content\":[{\"text\":\"q\"}]}]", 1},
        /* starts with an assistant message */
        {"[{\"role\":\"assistant\",\"content\":[{\"text\":\"a\"}]}]", 0},
        /* starts with a toolResult */
        {"[{\"role\":\"user\",\"content\":[{\"toolResult\":{\"toolUseId\":"
         "\"x\",\"content\":[]}}]}]", 0},
        /* toolUse without its result */
        {"[{\"role\":\"user\",\"content\":[{\"text\":\"q\"}]},"
         "{\"role\":\"assistant\",\"content\":[{\"toolUse\":{\"toolUseId\":"
         "\"x\",\"name\":\"t\",\"input\":{}}}]},"
         "{\"role\":\"user\",\"content\":[{\"text\":\"q\"}]}]", 0},
        /* orphan toolResult after a plain answer */
        {"[{\"role\":\"user\",\"content\":[{\"text\":\"q\"}]},"
         "{\"role\":\"assistant\",\"content\":[{\"text\":\"a\"}]},"
         "{\"role\":\"user\",\"content\":[{\"toolResult\":{\"toolUseId\":"
         "\"x\",\"content\":[]}}]}]", 0},
        /* a user message with a toolUse */
        {"[{\"role\":\"user\",\"content\":[{\"toolUse\":{\"toolUseId\":"
         "\"x\",\"name\":\"t\",\"input\":{}}}]}]", 0},
        /* the pair, valid */
        {"[{\"role\":\"user\",\"content\":[{\"text\":\"q\"}]},"
         "{\"role\":\"assistant\",\"content\":[{\"toolUse\":{\"toolUseId\":"
         "\"x\",\"name\":\"t\",\"input\":{}}}]},"
         "{\"role\":\"user\",\"content\":[{\"toolResult\":{\"toolUseId\":"
         "\"x\",\"content\":[]}}]}]", 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_t *h = J(cases[i].json);
        strands_error err;
        strands_status st = cm_history_validate(h, &err);
        if ((st == STRANDS_OK) != cases[i].ok)
            fprintf(stderr, "  validate case %zu: %s\n", i,
                    st == STRANDS_OK ? "accepted" : err.message);
        CHECK((st == STRANDS_OK) == cases[i].ok);
        json_decref(h);
    }
}

/* ---- through the agent -------------------------------------------------- */

/* Answers a text of input.n characters. */
static strands_status big_run(void *user, const json_t *input,
                              const strands_tool_context *ctx,
                              json_t **content_out, strands_error *err)
{
    (void)user; (void)ctx; (void)err;
    size_t n = (size_t)json_integer_value(json_object_get(input, "n"));
    char *s = filled(n, 'x');
    *content_out = json_pack("[{s:s}]", "text", s);
    free(s);
    return STRANDS_OK;
}

typedef struct env {
    fake_model model;
    strands_tool_registry *tools;
    strands_session_store *store;
    strands_agent *agent;
} env;

static void env_init(env *e, const char *const *script, size_t n,
                     strands_agent_config cfg)
{
    fake_init(&e->model, (const char **)script, n);
    e->store = strands_memory_store_new(16, 0);
    e->tools = strands_tool_registry_new();
    strands_tool_def big = {"big", "answers n characters", NULL, big_run,
                            NULL, NULL};
    strands_tool_registry_add(e->tools, &big, NULL);
    cfg.model = &e->model.base;
    cfg.tools = e->tools;
    cfg.sessions = e->store;
    cfg.max_tokens = 100;
    if (!cfg.max_iterations) cfg.max_iterations = 10;
    cfg.tool_result_max_bytes = 8 * 1024 * 1024;
    e->agent = strands_agent_new(&cfg, NULL);
    CHECK(e->agent != NULL);
}

static void env_cleanup(env *e)
{
    strands_agent_free(e->agent);
    strands_tool_registry_free(e->tools);
    strands_session_store_free(e->store);
    fake_destroy(&e->model.base);
}

static strands_status invoke(env *e, const char *text, strands_error *err)
{
    json_t *prompt = json_pack("[{s:s}]", "text", text);
    strands_invocation inv = {.session_id = "s", .invocation_id = "inv",
                              .prompt = prompt};
    strands_agent_result r;
    strands_status st = strands_agent_invoke(e->agent, &inv, &r, err);
    strands_agent_result_cleanup(&r);
    json_decref(prompt);
    return st;
}

/* Every history the model was sent is valid. */
static void check_all_sent_valid(env *e)
{
    size_t i;
    json_t *h;
    json_array_foreach(e->model.seen, i, h) {
        strands_error err;
        strands_status st = cm_history_validate(h, &err);
        if (st != STRANDS_OK)
            fprintf(stderr, "  request %zu invalid: %s\n", i, err.message);
        CHECK_INT(st, STRANDS_OK);
    }
}

static size_t sent_bytes(env *e, size_t i)
{
    return json_dumpb(json_array_get(e->model.seen, i), NULL, 0,
                      JSON_COMPACT);
}

static strands_session_record stored(env *e)
{
    strands_session_record rec;
    if (e->store->vtab->load(e->store, KEY("s"), &rec, NULL) != STRANDS_OK)
        memset(&rec, 0, sizeof rec);
    return rec;
}

#define OVERFLOW_STEP                                                     \
    "{\"error\":\"ContextWindowOverflow\",\"message\":\"Bedrock error 400 " \
    "ValidationException: Input is too long for requested model.\"}"
#define END_STEP "{\"stop\":\"end_turn\",\"content\":[{\"text\":\"done\"}]}"

/* A 2 MB tool result overflows the context: cut, retried, answered; the
 * log keeps the full result. */
static void test_agent_overflow_truncate_retry(void)
{
    static const char *const script[] = {
        "{\"stop\":\"tool_use\",\"content\":[{\"toolUse\":{\"toolUseId\":"
        "\"b1\",\"name\":\"big\",\"input\":{\"n\":2097152}}}]}",
        OVERFLOW_STEP,
        END_STEP,
    };
    env e;
    env_init(&e, script, 3, (strands_agent_config){0});
    strands_error err;
    CHECK_INT(invoke(&e, "go", &err), STRANDS_OK);
    CHECK_INT(json_array_size(e.model.seen), 3);
    CHECK(sent_bytes(&e, 1) > 2000000);
    CHECK(sent_bytes(&e, 2) < 4000);
    char *txt = json_dumps(json_array_get(e.model.seen, 2), 0);
    CHECK(strstr(txt, "[truncated: 2096752 chars removed]") != NULL);
    free(txt);
    check_all_sent_valid(&e);
    strands_session_record rec = stored(&e);
    CHECK_INT(rec.count, 4);
    size_t logged = json_dumpb(rec.messages, NULL, 0, JSON_COMPACT);
    CHECK(logged > 2000000);       /* the log is never rewritten */
    strands_session_record_clear(&rec);
    env_cleanup(&e);
}

/* Overflow after every reduction: three reductions, then a clear
 * ContextWindowOverflow; nothing of the turn is stored. */
static void test_agent_overflow_gives_up(void)
{
    static const char *const script[] = {OVERFLOW_STEP, OVERFLOW_STEP,
                                         OVERFLOW_STEP, OVERFLOW_STEP,
                                         OVERFLOW_STEP};
    env e;
    env_init(&e, script, 5, (strands_agent_config){0});
    /* A long history the window does not trim (40) but a reduction can. */
    json_t *log = json_array();
    for (int i = 0; i < 20; i++)
        json_array_append_new(log, msg_text(i % 2 ? "assistant" : "user",
                                            "old"));
    json_t *agent = json_object();
    CHECK_INT(e.store->vtab->append(e.store, KEY("s"), NULL, 0, log, agent,
                                    NULL),
              STRANDS_OK);
    strands_error err;
    CHECK_INT(invoke(&e, "go", &err), STRANDS_E_INVALID);
    CHECK_STR(err.code, STRANDS_ERROR_CONTEXT_OVERFLOW);
    CHECK(strstr(err.message, "after 3 reductions") != NULL);
    CHECK_INT(json_array_size(e.model.seen), 4);   /* 1 + 3 retries */
    /* Each retry sent less than the one before. */
    for (size_t i = 1; i < 4; i++)
        CHECK(json_array_size(json_array_get(e.model.seen, i)) <
              json_array_size(json_array_get(e.model.seen, i - 1)));
    check_all_sent_valid(&e);
    strands_session_record rec = stored(&e);
    CHECK_INT(rec.count, 20);
    strands_session_record_clear(&rec);
    json_decref(log);
    json_decref(agent);
    env_cleanup(&e);
}

/* CONVERSATION_MANAGER=none: nothing to reduce once the results are as
 * short as they get. */
static void test_agent_overflow_none(void)
{
    static const char *const script[] = {OVERFLOW_STEP, END_STEP};
    env e;
    env_init(&e, script, 2,
             (strands_agent_config){.conversation_manager = STRANDS_CM_NONE});
    strands_error err;
    CHECK_INT(invoke(&e, "go", &err), STRANDS_E_INVALID);
    CHECK_STR(err.code, STRANDS_ERROR_CONTEXT_OVERFLOW);
    CHECK(strstr(err.message, "CONVERSATION_MANAGER=none") != NULL);
    CHECK_INT(json_array_size(e.model.seen), 1);
    env_cleanup(&e);
}

/* Summarizing past the window: a summary call (no tools, the summary
 * prompt), then the answer with the summary first; the state carries it
 * and the next turn starts with it. */
static void test_agent_summarizing(void)
{
    static const char *const script[] = {
        "{\"stop\":\"end_turn\",\"content\":[{\"text\":\"SUMMARY\"}]}",
        END_STEP,
        END_STEP,
    };
    env e;
    env_init(&e, script, 3,
             (strands_agent_config){
                 .conversation_manager = STRANDS_CM_SUMMARIZING,
                 .window_size = 9, .summary_ratio = 0.5,
                 .summary_preserve_recent = 2});
    json_t *log = history("uauTRauauaua");      /* 12 messages */
    json_t *agent = json_object();
    CHECK_INT(e.store->vtab->append(e.store, KEY("s"), NULL, 0, log, agent,
                                    NULL),
              STRANDS_OK);
    strands_error err;
    CHECK_INT(invoke(&e, "go", &err), STRANDS_OK);
    CHECK_INT(json_array_size(e.model.seen), 2);
    json_t *call0 = json_array_get(e.model.seen_calls, 0);
    CHECK_INT(json_integer_value(json_object_get(call0, "tools")), 0);
    CHECK_STR(json_string_value(json_object_get(json_array_get(
                  json_object_get(call0, "system"), 0), "text")),
              CM_SUMMARY_PROMPT);
    CHECK_INT(json_integer_value(json_object_get(
                  json_array_get(e.model.seen_calls, 1), "tools")), 1);
    /* 13 messages (with the prompt): int(13 * 0.5) = 6 is user, so 7. */
    CHECK_INT(json_array_size(json_array_get(e.model.seen, 0)), 7);
    json_t *sent = json_array_get(e.model.seen, 1);
    CHECK_INT(json_array_size(sent), 7);
    CHECK_STR(json_string_value(json_object_get(json_array_get(
                  json_object_get(json_array_get(sent, 0), "content"), 0),
                  "text")),
              "SUMMARY");
    check_all_sent_valid(&e);
    strands_session_record rec = stored(&e);
    CHECK_INT(rec.count, 14);                 /* nothing dropped */
    json_t *cms = json_object_get(rec.agent, "conversation_manager_state");
    CHECK_STR(json_string_value(json_object_get(cms, "__name__")),
              "SummarizingConversationManager");
    CHECK_INT(json_integer_value(json_object_get(cms,
                                                 "removed_message_count")),
              7);
    CHECK_STR(json_string_value(json_object_get(json_array_get(
                  json_object_get(json_object_get(cms, "summary_message"),
                                  "content"), 0), "text")),
              "SUMMARY");
    strands_session_record_clear(&rec);
    /* Next turn: summary first, then log[7..14), then the prompt (9, the
     * window: no new summary). */
    CHECK_INT(invoke(&e, "again", &err), STRANDS_OK);
    CHECK_INT(json_array_size(e.model.seen), 3);
    sent = json_array_get(e.model.seen, 2);
    CHECK_INT(json_array_size(sent), 9);
    CHECK_STR(json_string_value(json_object_get(json_array_get(
                  json_object_get(json_array_get(sent, 0), "content"), 0),
                  "text")),
              "SUMMARY");
    check_all_sent_valid(&e);
    json_decref(log);
    json_decref(agent);
    env_cleanup(&e);
}

/* A long tool-heavy conversation under WINDOW_SIZE 6: every request is
 * valid and within the window (plus a notice at most), the log keeps
 * every message, the removed count grows. */
static void test_agent_long_conversation_small_window(void)
{
    enum { TURNS = 12 };
    static const char TOOL_1[] =
        "{\"stop\":\"tool_use\",\"content\":[{\"text\":\"calling\"},"
        "{\"toolUse\":{\"toolUseId\":\"b\",\"name\":\"big\","
        "\"input\":{\"n\":10}}}]}";
    static const char TOOL_2[] =
        "{\"stop\":\"tool_use\",\"content\":[{\"toolUse\":{\"toolUseId\":"
        "\"c\",\"name\":\"big\",\"input\":{\"n\":20}}}]}";
    static const char *const turn[] = {TOOL_1, TOOL_2, END_STEP};
    const char *script[TURNS * 3];
    for (int i = 0; i < TURNS * 3; i++) script[i] = turn[i % 3];
    env e;
    env_init(&e, script, TURNS * 3,
             (strands_agent_config){.window_size = 6});
    strands_error err;
    for (int i = 0; i < TURNS; i++) CHECK_INT(invoke(&e, "go", &err),
                                              STRANDS_OK);
    CHECK_INT(json_array_size(e.model.seen), TURNS * 3);
    check_all_sent_valid(&e);
    size_t i;
    json_t *h;
    json_array_foreach(e.model.seen, i, h) CHECK(json_array_size(h) <= 7);
    strands_session_record rec = stored(&e);
    CHECK_INT(rec.count + rec.first, TURNS * 6);
    json_t *cms = json_object_get(rec.agent, "conversation_manager_state");
    CHECK_STR(json_string_value(json_object_get(cms, "__name__")),
              "SlidingWindowConversationManager");
    json_int_t removed = json_integer_value(json_object_get(
        cms, "removed_message_count"));
    CHECK(removed >= TURNS * 6 - 6 && removed < TURNS * 6);
    CHECK_INT(json_integer_value(json_object_get(cms, "model_call_count")),
              TURNS * 3);
    strands_session_record_clear(&rec);
    env_cleanup(&e);
}

int main(void)
{
    RUN(test_trim_table);
    RUN(test_trim_every_window);
    RUN(test_summary_split_table);
    RUN(test_summarize_replaces_oldest);
    RUN(test_summary_with_tool_use_refused);
    RUN(test_state_round_trip);
    RUN(test_truncate_largest_anywhere);
    RUN(test_truncate_images_utf8_json);
    RUN(test_validate_table);
    RUN(test_agent_overflow_truncate_retry);
    RUN(test_agent_overflow_gives_up);
    RUN(test_agent_overflow_none);
    RUN(test_agent_summarizing);
    RUN(test_agent_long_conversation_small_window);
    return test_report();
}
