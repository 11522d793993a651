/* Allocation-failure sweeps over history repair (defect 3): every failing
 * allocation in conversation_add_prompt, conversation_sanitize_assistant,
 * conversation_tool_uses and one whole strands_agent_invoke (scripted fake
 * model, a tool round trip, an existing history with an unanswered toolUse)
 * yields a clean error, leaves the history as it was, and never stores an
 * invalid history.                                                      */
#include "failalloc.h"
#include "json_check.h"
#include "oom_agent.h"
#include "test.h"
#include "agent/conversation.h"
#include "agent/internal.h"
#include "strands/strands.h"

#define MAX_N 20000

/* Histories add_prompt must handle: empty, ending in an assistant turn with
 * unanswered toolUse blocks, ending in a user turn of tool results.     */
static const char *const histories[] = {
    "[]",
    "[{\"role\":\"user\",\"content\":[{\"text\":\"a\"}]},"
    "{\"role\":\"assistant\",\"content\":[{\"text\":\"x\"},"
    "{\"toolUse\":{\"toolUseId\":\"t1\",\"name\":\"calc\",\"input\":{}}},"
    "{\"toolUse\":{\"toolUseId\":\"t2\",\"name\":\"calc\",\"input\":{}}}]}]",
    "[{\"role\":\"user\",\"content\":[{\"text\":\"a\"}]},"
    "{\"role\":\"assistant\",\"content\":[{\"toolUse\":{\"toolUseId\":\"t1\","
    "\"name\":\"calc\",\"input\":{}}}]},"
    "{\"role\":\"user\",\"content\":[{\"toolResult\":{\"toolUseId\":\"t1\","
    "\"status\":\"success\",\"content\":[{\"text\":\"1\"}]}}]}]",
};

static void test_add_prompt_sweep(void)
{
    for (size_t h = 0; h < sizeof histories / sizeof histories[0]; h++) {
        json_t *before = J(histories[h]);
        json_t *prompt = J("[{\"text\":\"hello\"},{\"text\":\"again\"}]");
        long n, clean = 0, failed = 0;
        FAILALLOC_SWEEP(n, MAX_N) {
            failalloc_disarm();
            json_t *msgs = json_deep_copy(before);
            failalloc_arm(n);
            strands_status st = conversation_add_prompt(msgs, prompt);
            int fired = failalloc_disarm();
            if (st == STRANDS_OK) {
                CHECK(conversation_validate(msgs, NULL) == STRANDS_OK);
                clean++;
            } else {
                CHECK_INT(st, STRANDS_E_NOMEM);
                CHECK(json_equal(msgs, before)); /* untouched */
                failed++;
            }
            json_decref(msgs);
            failalloc_restore(fired);
        }
        CHECK(n == MAX_N + 2);
        CHECK_INT(clean, 1);
        CHECK(failed > 2);
        json_decref(prompt);
        json_decref(before);
    }
}

/* Logs restore must handle: a trailing toolUse, inner damage (a toolUse
 * without results, one answered in part, a leading orphan result), a
 * trailing user message and metadata. */
static const char *const logs[] = {
    "[{\"role\":\"user\",\"content\":[{\"text\":\"a\"}]},"
    "{\"role\":\"assistant\",\"content\":[{\"toolUse\":{\"toolUseId\":"
    "\"t1\",\"name\":\"calc\",\"input\":{}}}],\"metadata\":{\"x\":1}}]",
    "[{\"role\":\"user\",\"content\":[{\"toolResult\":{\"toolUseId\":"
    "\"o\",\"content\":[]}}]},"
    "{\"role\":\"user\",\"content\":[{\"text\":\"a\"}]},"
    "{\"role\":\"assistant\",\"content\":[{\"toolUse\":{\"toolUseId\":"
    "\"t1\",\"name\":\"calc\",\"input\":{}}}]},"
    "{\"role\":\"assistant\",\"content\":[{\"toolUse\":{\"toolUseId\":"
    "\"t2\",\"name\":\"calc\",\"input\":{}}},{\"toolUse\":{\"toolUseId\":"
    "\"t3\",\"name\":\"calc\",\"input\":{}}}]},"
    "{\"role\":\"user\",\"content\":[{\"toolResult\":{\"toolUseId\":"
    "\"t3\",\"content\":[]}}]},"
    "{\"role\":\"user\",\"content\":[{\"text\":\"b\"}]}]",
};

static void test_restore_sweep(void)
{
    for (size_t l = 0; l < sizeof logs / sizeof logs[0]; l++) {
        json_t *log = J(logs[l]);
        json_t *before = json_deep_copy(log);
        long n, clean = 0, failed = 0;
        FAILALLOC_SWEEP(n, MAX_N) {
            failalloc_disarm();
            json_t *w = NULL, *repair = NULL;
            failalloc_arm(n);
            strands_status st = conversation_restore(log, 0, &w, &repair);
            int fired = failalloc_disarm();
            if (st == STRANDS_OK) {
                CHECK(conversation_validate(w, NULL) == STRANDS_OK);
                CHECK((repair != NULL) == (l == 0));
                clean++;
            } else {
                CHECK_INT(st, STRANDS_E_NOMEM);
                CHECK(w == NULL && repair == NULL);
                failed++;
            }
            CHECK(json_equal(log, before));   /* the log is only read */
            json_decref(w);
            json_decref(repair);
            failalloc_restore(fired);
        }
        CHECK(n == MAX_N + 2);
        CHECK_INT(clean, 1);
        CHECK(failed > 2);
        json_decref(before);
        json_decref(log);
    }
}

/* The agent-state handle: every failing allocation gives a clean error
 * and leaves the state as it was. */
static void test_state_sweep(void)
{
    json_t *initial = J("{\"keep\":[1,2,3],\"n\":1}");
    json_t *value = J("{\"deep\":{\"list\":[\"a\",\"b\"]}}");
    long n, clean = 0, failed = 0;
    FAILALLOC_SWEEP(n, MAX_N) {
        failalloc_disarm();
        strands_tool_state *s = agent_state_new(initial);
        strands_tool_context ctx = {.state = s};
        strands_error err;
        failalloc_arm(n);
        strands_status st = strands_tool_state_set(&ctx, "new", value, &err);
        if (st == STRANDS_OK)
            st = strands_tool_state_delete(&ctx, "n", &err);
        json_t *got = st == STRANDS_OK ? strands_tool_state_get(&ctx, "new")
                                       : NULL;
        int fired = failalloc_disarm();
        json_t *after = NULL;
        CHECK_INT(agent_state_close(s, &after), STRANDS_OK);
        if (st == STRANDS_OK && got) {
            CHECK(json_equal(got, value));
            CHECK(after && !json_object_get(after, "n"));
            clean++;
        } else if (st != STRANDS_OK) {
            CHECK(st == STRANDS_E_NOMEM || st == STRANDS_E_INVALID);
            CHECK(err.message[0] != '\0');
            /* Unchanged: never half-set. */
            CHECK(after == NULL || json_equal(json_object_get(after, "new"),
                                              value));
            failed++;
        }
        json_decref(got);
        json_decref(after);
        agent_state_unref(s);
        failalloc_restore(fired);
    }
    CHECK(n == MAX_N + 2);
    CHECK_INT(clean, 1);
    CHECK(failed > 1);
    json_decref(value);
    json_decref(initial);
}

static void test_sanitize_sweep(void)
{
    json_t *before = J("{\"role\":\"assistant\",\"content\":[{\"text\":\"x\"},"
                       "{\"toolUse\":{\"toolUseId\":\"t1\",\"name\":\"calc\","
                       "\"input\":{}}}]}");
    for (int truncated = 0; truncated < 2; truncated++) {
        long n, clean = 0;
        FAILALLOC_SWEEP(n, MAX_N) {
            failalloc_disarm();
            json_t *msg = json_deep_copy(before);
            failalloc_arm(n);
            strands_status st = conversation_sanitize_assistant(msg,
                                                                truncated);
            int fired = failalloc_disarm();
            if (st == STRANDS_OK) {
                json_t *content = json_object_get(msg, "content");
                CHECK_INT(json_array_size(content), 2);
                CHECK(!truncated ||
                      !json_object_get(json_array_get(content, 1),
                                       "toolUse"));
                clean++;
            } else {
                CHECK_INT(st, STRANDS_E_NOMEM);
                CHECK(json_equal(msg, before));
            }
            json_decref(msg);
            failalloc_restore(fired);
        }
        CHECK(n == MAX_N + 2);
        CHECK_INT(clean, 1);
    }
    /* An empty message gets its placeholder, or stays as it was. */
    json_t *empty = J("{\"role\":\"assistant\"}");
    long n;
    FAILALLOC_SWEEP(n, MAX_N) {
        failalloc_disarm();
        json_t *msg = json_deep_copy(empty);
        failalloc_arm(n);
        strands_status st = conversation_sanitize_assistant(msg, 0);
        int fired = failalloc_disarm();
        if (st == STRANDS_OK)
            CHECK_INT(json_array_size(json_object_get(msg, "content")), 1);
        else
            CHECK(json_equal(msg, empty));
        json_decref(msg);
        failalloc_restore(fired);
    }
    CHECK(n == MAX_N + 2);
    json_decref(empty);
    json_decref(before);
}

static void test_tool_uses_sweep(void)
{
    json_t *msg = J("{\"content\":[{\"toolUse\":{\"toolUseId\":\"a\"}},"
                    "{\"text\":\"x\"},{\"toolUse\":{\"toolUseId\":\"b\"}}]}");
    long n;
    FAILALLOC_SWEEP(n, MAX_N) {
        json_t *uses = conversation_tool_uses(msg);
        /* Complete or nothing: never a list with a use dropped. */
        CHECK(uses == NULL || json_array_size(uses) == 2);
        json_decref(uses);
    }
    CHECK(n == MAX_N + 2);
    json_decref(msg);
}

/* ---- one whole invocation ------------------------------------------------ */

typedef struct fake_model {
    strands_model base;
    const char *const *script;
    size_t n, next;
} fake_model;

static strands_status fake_converse(strands_model *self,
                                    const strands_model_request *req,
                                    strands_model_response *out,
                                    strands_error *err)
{
    fake_model *m = (fake_model *)self;
    memset(out, 0, sizeof *out);
    (void)req;
    if (m->next >= m->n)
        return strands_error_set(err, STRANDS_E_INTERNAL, NULL, "exhausted");
    json_t *step = json_loads(m->script[m->next++], 0, NULL);
    if (!step) return strands_error_set(err, STRANDS_E_NOMEM, NULL, "OOM");
    const char *stop = json_string_value(json_object_get(step, "stop"));
    out->stop = !strcmp(stop, "tool_use") ? STRANDS_STOP_TOOL_USE
                                          : STRANDS_STOP_END_TURN;
    out->message = json_pack("{s:s, s:O}", "role", "assistant", "content",
                             json_object_get(step, "content"));
    json_decref(step);
    if (!out->message)
        return strands_error_set(err, STRANDS_E_NOMEM, NULL, "OOM");
    return STRANDS_OK;
}

static void fake_destroy(strands_model *self)
{
    (void)self;
}

static const strands_model_vtab fake_vtab = {STRANDS_MODEL_VTAB_VERSION,
                                             "fake", fake_converse,
                                             fake_destroy};

static const char *const script[] = {
    "{\"stop\":\"tool_use\",\"content\":[{\"text\":\"computing\"},"
    "{\"toolUse\":{\"toolUseId\":\"c1\",\"name\":\"calculator\","
    "\"input\":{\"expression\":\"6*7\"}}},"
    "{\"toolUse\":{\"toolUseId\":\"c2\",\"name\":\"nope\",\"input\":{}}}]}",
    "{\"stop\":\"end_turn\",\"content\":[{\"text\":\"42\"}]}",
};

static void test_invoke_sweep(void)
{
    fake_model model = {{&fake_vtab}, script, 2, 0};
    strands_tool_registry *tools = strands_tool_registry_new();
    strands_tool_registry_add_builtin(tools, "calculator", NULL);
    strands_session_store *store = strands_memory_store_new(8, 0);
    strands_agent_config cfg = {.model = &model.base,
                                .tools = tools,
                                .sessions = store,
                                .system_prompt = "be brief",
                                .max_tokens = 100,
                                .max_iterations = 5};
    strands_agent *agent = strands_agent_new(&cfg, NULL);
    json_t *prompt = J("[{\"text\":\"what is 6*7?\"}]");
    /* An earlier turn the model never finished: repaired on the way in. */
    json_t *before = J(histories[1]);
    long n, clean = 0, failed = 0;
    FAILALLOC_SWEEP(n, MAX_N) {
        failalloc_disarm();
        char sid[32];
        oom_fresh_session(store, n, before, sid, sizeof sid);
        strands_session_key key = {.session_id = sid};
        model.next = 0;
        strands_invocation inv = {.session_id = sid,
                                  .invocation_id = "i",
                                  .prompt = prompt};
        oom_invoke o;
        oom_invoke_run(&o, agent, &inv, n, store);
        json_t *after = o.rec.messages;
        CHECK(oom_view_valid(after));
        if (o.st == STRANDS_OK) {
            /* before (2) + repair, prompt, toolUse, results, answer */
            CHECK_INT(json_array_size(after), 7);
            CHECK_INT(o.rec.count, 7);
            CHECK_STR(o.r.text, "42");
            clean++;
        } else {
            CHECK(o.err.status == o.st);
            CHECK(o.err.message[0] != '\0');
            CHECK(json_equal(after, before));   /* nothing half-stored */
            CHECK_INT(o.rec.count, 2);
            failed++;
        }
        /* The claim was released either way. */
        strands_session_claim c;
        CHECK_INT(store->vtab->claim(store, &key, &c, NULL), STRANDS_OK);
        store->vtab->release(store, &key, &c, NULL);
        oom_invoke_end(&o);
    }
    CHECK(n == MAX_N + 2);
    /* Some failures are absorbed by design (a tool that runs out of
     * memory answers with an error result) and the turn still completes
     * with a full, valid history; most end the invocation cleanly.     */
    CHECK(clean >= 1);
    CHECK(failed > 50);
    json_decref(before);
    json_decref(prompt);
    strands_agent_free(agent);
    strands_session_store_free(store);
    strands_tool_registry_free(tools);
}

int main(void)
{
    failalloc_init();
    RUN(test_add_prompt_sweep);
    RUN(test_restore_sweep);
    RUN(test_state_sweep);
    RUN(test_sanitize_sweep);
    RUN(test_tool_uses_sweep);
    RUN(test_invoke_sweep);
    return test_report();
}
