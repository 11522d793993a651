/* Allocation-failure sweeps over the conversation managers: trimming
 * (with the fallback notice), truncating tool results, summarising,
 * restoring and saving the state, and one whole strands_agent_invoke that
 * overflows, truncates and retries. Every failing allocation gives a
 * clean E_NOMEM and leaves the history, the state and the stored session
 * as they were.                                                          */
#include <stdlib.h>
#include <string.h>

#include "failalloc.h"
#include "fake_model.h"
#include "json_check.h"
#include "oom_agent.h"
#include "test.h"

#include "agent/conversation_manager.h"
#include "strands/strands.h"

#define MAX_N 20000
#define KEY(id) (&(strands_session_key){.session_id = (id)})

static const char TOOL_HISTORY[] =
    "[{\"role\":\"user\",\"content\":[{\"text\":\"q\"}]},"
    "{\"role\":\"assistant\",\"content\":[{\"toolUse\":{\"toolUseId\":\"a\","
    "\"name\":\"t\",\"input\":{}}}]},"
    "{\"role\":\"user\",\"content\":[{\"toolResult\":{\"toolUseId\":\"a\","
    "\"status\":\"success\",\"content\":[{\"text\":\"r1\"}]}}]},"
    "{\"role\":\"assistant\",\"content\":[{\"toolUse\":{\"toolUseId\":\"b\","
    "\"name\":\"t\",\"input\":{}}}]},"
    "{\"role\":\"user\",\"content\":[{\"toolResult\":{\"toolUseId\":\"b\","
    "\"status\":\"success\",\"content\":[{\"text\":\"r2\"}]}}]},"
    "{\"role\":\"assistant\",\"content\":[{\"text\":\"done\"}]}]";

/* A history with one toolResult of `n` characters and an image. */
static json_t *big_history(size_t n)
{
    char *s = malloc(n + 1);
    memset(s, 'x', n);
    s[n] = '\0';
    json_t *h = J("[{\"role\":\"user\",\"content\":[{\"text\":\"q\"}]},"
                  "{\"role\":\"assistant\",\"content\":[{\"toolUse\":"
                  "{\"toolUseId\":\"i\",\"name\":\"t\",\"input\":{}}}]}]");
    json_array_append_new(
        h, json_pack("{s:s, s:[{s:{s:s, s:[{s:s}, {s:{s:s, s:{s:s}}}]}}]}",
                     "role", "user", "content", "toolResult", "toolUseId",
                     "i", "content", "text", s, "image", "format", "png",
                     "source", "bytes", "aGVsbG8="));
    free(s);
    return h;
}

static void test_trim_sweep(void)
{
    for (int window = 4; window <= 5; window++) {
        json_t *before = J(TOOL_HISTORY);
        long n, clean = 0, failed = 0;
        FAILALLOC_SWEEP(n, MAX_N) {
            failalloc_disarm();
            json_t *copy = json_deep_copy(before);
            cm_history h;
            cm_history_init(&h, copy, 7);
            json_decref(copy);
            cm_config cfg = {.kind = STRANDS_CM_SLIDING_WINDOW,
                             .window_size = window};
            cm_state s;
            cm_state_init(&s, &cfg, NULL, 0);
            strands_error err;
            failalloc_arm(n);
            strands_status st = s.vtab->reduce_context(&s, &h, NULL, &err);
            int fired = failalloc_disarm();
            if (st == STRANDS_OK) {
                CHECK(cm_history_validate(h.messages, NULL) == STRANDS_OK);
                clean++;
            } else {
                CHECK_INT(st, STRANDS_E_NOMEM);
                CHECK(json_equal(h.messages, before));
                CHECK_INT(s.removed, 0);
                failed++;
            }
            cm_state_clear(&s);
            cm_history_clear(&h);
            failalloc_restore(fired);
        }
        CHECK(n == MAX_N + 2);
        CHECK_INT(clean, 1);
        CHECK(failed >= 1);
        json_decref(before);
    }
}

static void test_truncate_sweep(void)
{
    json_t *before = big_history(5000);
    long n, clean = 0, failed = 0;
    FAILALLOC_SWEEP(n, MAX_N) {
        failalloc_disarm();
        json_t *copy = json_deep_copy(before);
        cm_history h;
        cm_history_init(&h, copy, 0);
        int changed = 0;
        failalloc_arm(n);
        strands_status st = cm_truncate_tool_results(&h, &changed);
        int fired = failalloc_disarm();
        CHECK(json_equal(copy, before) || st == STRANDS_OK);
        if (st == STRANDS_OK) {
            CHECK(changed);
            CHECK(!json_equal(h.messages, before));
            clean++;
        } else {
            CHECK_INT(st, STRANDS_E_NOMEM);
            CHECK(!changed);
            CHECK(json_equal(h.messages, before));
            failed++;
        }
        json_decref(copy);
        cm_history_clear(&h);
        failalloc_restore(fired);
    }
    CHECK(n == MAX_N + 2);
    CHECK_INT(clean, 1);
    CHECK(failed > 3);
    json_decref(before);
}

static strands_status stub_summarize(void *user, const json_t *messages,
                                     json_t **reply_out, strands_error *err)
{
    (void)user; (void)messages;
    *reply_out = json_loads("{\"role\":\"assistant\",\"content\":"
                            "[{\"text\":\"S\"}]}", 0, NULL);
    return *reply_out ? STRANDS_OK
                      : strands_error_set(err, STRANDS_E_NOMEM, NULL, "OOM");
}

static void test_summarize_sweep(void)
{
    json_t *before = J(TOOL_HISTORY);
    json_t *more = J("[{\"role\":\"user\",\"content\":[{\"text\":\"q2\"}]},"
                     "{\"role\":\"assistant\",\"content\":[{\"text\":\"a\"}]}]");
    json_array_extend(before, more);
    json_decref(more);
    long n, clean = 0, failed = 0;
    FAILALLOC_SWEEP(n, MAX_N) {
        failalloc_disarm();
        json_t *copy = json_deep_copy(before);
        cm_history h;
        cm_history_init(&h, copy, 3);
        json_decref(copy);
        cm_config cfg = {.kind = STRANDS_CM_SUMMARIZING, .window_size = 40,
                         .summary_ratio = 0.3, .preserve_recent = 1};
        cm_state s;
        cm_state_init(&s, &cfg, NULL, 0);
        cm_summarizer sum = {stub_summarize, NULL};
        strands_error err;
        failalloc_arm(n);
        strands_status st = s.vtab->reduce_context(&s, &h, &sum, &err);
        json_t *saved = st == STRANDS_OK ? cm_state_save(&s) : NULL;
        int fired = failalloc_disarm();
        if (st == STRANDS_OK && saved) {
            CHECK(cm_history_validate(h.messages, NULL) == STRANDS_OK);
            CHECK(json_is_object(json_object_get(saved, "summary_message")));
            clean++;
        } else if (st != STRANDS_OK) {
            CHECK_INT(st, STRANDS_E_NOMEM);
            CHECK(json_equal(h.messages, before));
            CHECK(s.summary == NULL);
            failed++;
        }
        json_decref(saved);
        cm_state_clear(&s);
        cm_history_clear(&h);
        failalloc_restore(fired);
    }
    CHECK(n == MAX_N + 2);
    CHECK_INT(clean, 1);
    CHECK(failed > 3);
    json_decref(before);
}

static void test_state_sweep(void)
{
    json_t *stored = J("{\"__name__\":\"SummarizingConversationManager\","
                       "\"removed_message_count\":2,\"summary_message\":"
                       "{\"role\":\"user\",\"content\":[{\"text\":\"S\"}]}}");
    long n, clean = 0;
    FAILALLOC_SWEEP(n, MAX_N) {
        cm_config cfg = {.kind = STRANDS_CM_SUMMARIZING, .window_size = 4};
        cm_state s;
        strands_status st = cm_state_init(&s, &cfg, stored, 5);
        json_t *pre = st == STRANDS_OK ? cm_state_prepend(&s) : NULL;
        json_t *saved = pre ? cm_state_save(&s) : NULL;
        int fired = failalloc_disarm();
        if (saved) {
            CHECK(json_equal(saved, stored));
            CHECK_INT(json_array_size(pre), 1);
            clean++;
        } else if (st != STRANDS_OK) {
            CHECK_INT(st, STRANDS_E_NOMEM);
            CHECK(s.summary == NULL);
        }
        json_decref(pre);
        json_decref(saved);
        cm_state_clear(&s);
        failalloc_restore(fired);
    }
    CHECK(n == MAX_N + 2);
    CHECK_INT(clean, 1);
    json_decref(stored);
}

/* Answers a text of input.n characters. */
static strands_status big_run(void *user, const json_t *input,
                              const strands_tool_context *ctx,
                              json_t **content_out, strands_error *err)
{
    (void)user; (void)ctx;
    size_t n = (size_t)json_integer_value(json_object_get(input, "n"));
    char *s = malloc(n + 1);
    if (!s) return strands_error_set(err, STRANDS_E_NOMEM, NULL, "OOM");
    memset(s, 'x', n);
    s[n] = '\0';
    *content_out = json_pack("[{s:s}]", "text", s);
    free(s);
    return *content_out ? STRANDS_OK
                        : strands_error_set(err, STRANDS_E_NOMEM, NULL, "OOM");
}

/* One invocation: a tool answers 3000 characters, the model overflows,
 * the result is cut and the retry answers. */
static void test_invoke_overflow_sweep(void)
{
    static const char *const script[] = {
        "{\"stop\":\"tool_use\",\"content\":[{\"toolUse\":{\"toolUseId\":"
        "\"b1\",\"name\":\"big\",\"input\":{\"n\":3000}}}]}",
        "{\"error\":\"ContextWindowOverflow\",\"message\":\"Input is too "
        "long for requested model\"}",
        "{\"stop\":\"end_turn\",\"content\":[{\"text\":\"done\"}]}",
    };
    long n, clean = 0, failed = 0;
    FAILALLOC_SWEEP(n, MAX_N) {
        failalloc_disarm();
        fake_model m;
        fake_init(&m, (const char **)script, 3);
        strands_session_store *store = strands_memory_store_new(4, 0);
        strands_tool_registry *tools = strands_tool_registry_new();
        strands_tool_def big = {"big", "n characters", NULL, big_run, NULL,
                                NULL};
        strands_tool_registry_add(tools, &big, NULL);
        strands_agent_config cfg = {.model = &m.base, .tools = tools,
                                    .sessions = store, .max_tokens = 10,
                                    .max_iterations = 5};
        strands_agent *agent = strands_agent_new(&cfg, NULL);
        json_t *prompt = J("[{\"text\":\"go\"}]");
        strands_invocation inv = {.session_id = "s", .prompt = prompt};
        oom_invoke o;
        oom_invoke_run(&o, agent, &inv, n, store);
        if (o.st == STRANDS_OK) {
            /* (A failure in a best-effort path, e.g. an event or the
             * fake's own copy of a request, may still end well.) */
            CHECK_INT(o.rec.count, 4);
            CHECK_STR(o.r.text, "done");
            if (!o.fired) clean++;
        } else {
            CHECK_INT(o.rec.count, 0);       /* nothing stored */
            failed++;
        }
        CHECK_SEEN_VALID(m.seen, cm_history_validate);
        json_decref(prompt);
        strands_agent_free(agent);
        strands_tool_registry_free(tools);
        strands_session_store_free(store);
        fake_destroy(&m.base);
        oom_invoke_end(&o);
    }
    CHECK(n == MAX_N + 2);
    CHECK_INT(clean, 1);
    CHECK(failed > 10);
}

int main(void)
{
    failalloc_init();
    RUN(test_trim_sweep);
    RUN(test_truncate_sweep);
    RUN(test_summarize_sweep);
    RUN(test_state_sweep);
    RUN(test_invoke_overflow_sweep);
    return test_report();
}
