/* Allocation-failure sweeps over front-end (client) tools in a whole
 * invocation: taking a client call out of a mixed turn (the server tool
 * runs, the client call is pending), and resuming with the client's
 * answer (the made-up "interrupted" answer removed). Every failure ends
 * the invocation cleanly with the stored history untouched; the clean
 * run stores the whole turn.                                           */
#include "failalloc.h"
#include "fake_model.h"
#include "json_check.h"
#include "oom_agent.h"
#include "test.h"

#include "agent/conversation.h"
#include "strands/strands.h"

#define MAX_N 4000

static const char *const client_spec =
    "[{\"name\":\"pick_color\",\"description\":\"Ask for a color\","
    "\"inputSchema\":{\"json\":{\"type\":\"object\"}}}]";

/* Runs one sweep: `before` stored in a fresh session each round, then
 * one invocation of `prompt`; `want_len` messages stored when clean. */
static void sweep(const char *const *script, size_t n_script,
                  const char *before_json, const char *prompt_json,
                  size_t want_len, int want_calls)
{
    fake_model model;
    fake_init(&model, (const char **)script, n_script);
    strands_tool_registry *tools = strands_tool_registry_new();
    strands_tool_registry_add_builtin(tools, "calculator", NULL);
    strands_session_store *store = strands_memory_store_new(8, 0);
    strands_agent_config cfg = {.model = &model.base,
                                .tools = tools,
                                .sessions = store,
                                .max_tokens = 100,
                                .max_iterations = 5};
    strands_agent *agent = strands_agent_new(&cfg, NULL);
    json_t *client = J(client_spec);
    json_t *prompt = J(prompt_json);
    json_t *before = J(before_json);
    long n, clean = 0, failed = 0;
    FAILALLOC_SWEEP(n, MAX_N) {
        failalloc_disarm();
        char sid[32];
        oom_fresh_session(store, n, before, sid, sizeof sid);
        model.next = 0;
        strands_invocation inv = {.session_id = sid,
                                  .invocation_id = "i",
                                  .prompt = prompt,
                                  .client_tools = client};
        oom_invoke o;
        oom_invoke_run(&o, agent, &inv, n, store);
        json_t *after = o.rec.messages;  /* [] when nothing was stored */
        CHECK(oom_view_valid(after));
        if (o.st == STRANDS_OK) {
            CHECK_INT(json_array_size(after), want_len);
            CHECK_INT(json_array_size(o.r.client_tool_calls), want_calls);
            char *dump = json_dumps(after, JSON_COMPACT);
            CHECK(dump && !strstr(dump, "interrupted"));
            free(dump);
            clean++;
        } else {
            CHECK(o.err.message[0] != '\0');
            CHECK(json_equal(after, before)); /* nothing half-stored */
            CHECK(o.r.client_tool_calls == NULL);
            failed++;
        }
        oom_invoke_end(&o);
    }
    CHECK(n == MAX_N + 2);
    CHECK(clean >= 1);
    CHECK(failed > 20);
    json_decref(before);
    json_decref(prompt);
    json_decref(client);
    strands_agent_free(agent);
    strands_session_store_free(store);
    strands_tool_registry_free(tools);
    fake_destroy(&model.base);
}

static void test_take_sweep(void)
{
    static const char *const script[] = {
        "{\"stop\":\"tool_use\",\"content\":["
        "{\"toolUse\":{\"toolUseId\":\"s1\",\"name\":\"calculator\","
        "\"input\":{\"expression\":\"6*7\"}}},"
        "{\"toolUse\":{\"toolUseId\":\"c2\",\"name\":\"pick_color\","
        "\"input\":{}}}]}"};
    /* prompt, assistant, the server tool's result */
    sweep(script, 1, "[]", "[{\"text\":\"go\"}]", 3, 1);
}

static void test_resume_sweep(void)
{
    static const char *const script[] = {
        "{\"stop\":\"end_turn\",\"content\":[{\"text\":\"42 in red\"}]}"};
    const char *before =
        "[{\"role\":\"user\",\"content\":[{\"text\":\"go\"}]},"
        "{\"role\":\"assistant\",\"content\":["
        "{\"toolUse\":{\"toolUseId\":\"s1\",\"name\":\"calculator\","
        "\"input\":{\"expression\":\"6*7\"}}},"
        "{\"toolUse\":{\"toolUseId\":\"c2\",\"name\":\"pick_color\","
        "\"input\":{}}}]},"
        "{\"role\":\"user\",\"content\":[{\"toolResult\":{\"toolUseId\":"
        "\"s1\",\"status\":\"success\",\"content\":[{\"text\":\"42\"}]}}]}]";
    /* before (3), the client's answer, the reply */
    sweep(script, 1, before,
          "[{\"toolResult\":{\"toolUseId\":\"c2\",\"status\":\"success\","
          "\"content\":[{\"text\":\"red\"}]}},{\"text\":\"thanks\"}]",
          5, 0);
}

int main(void)
{
    failalloc_init();
    RUN(test_take_sweep);
    RUN(test_resume_sweep);
    return test_report();
}
