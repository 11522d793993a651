/* Allocation-failure sweep over a whole structured-output invocation
 * with one correction round (answer, invalid forced call, valid forced
 * call): every failing allocation ends in a clean error with nothing
 * stored and no structured output, or in the exact result; every request
 * the model saw is a valid history.                                     */
#include <stdlib.h>
#include <string.h>

#include "failalloc.h"
#include "json_check.h"
#include "oom_agent.h"
#include "test.h"

#include "agent/conversation.h"
#include "strands/strands.h"

#define MAX_N 20000
#define KEY(id) (&(strands_session_key){.session_id = (id)})

/* A scripted model whose replies are parsed before the sweep arms the
 * failures (jansson's parser can drop a byte when an allocation fails in
 * it, which would change the script) and copied per call, cleanly or not
 * at all. Each request's messages are copied for the history checks.   */
typedef struct copy_model {
    strands_model base;
    json_t *replies;   /* [{"stop","content"}] */
    size_t next;
    json_t *seen;
} copy_model;

static strands_status copy_converse(strands_model *self,
                                    const strands_model_request *req,
                                    strands_model_response *out,
                                    strands_error *err)
{
    copy_model *m = (copy_model *)self;
    memset(out, 0, sizeof *out);
    json_array_append_new(m->seen, json_deep_copy(req->messages));
    json_t *step = json_array_get(m->replies, m->next++);
    if (!step)
        return strands_error_set(err, STRANDS_E_INTERNAL, NULL,
                                 "script exhausted");
    json_t *content = json_deep_copy(json_object_get(step, "content"));
    out->message = content ? json_pack("{s:s, s:o}", "role", "assistant",
                                       "content", content)
                           : NULL;
    if (!out->message)
        return strands_error_set(err, STRANDS_E_NOMEM, NULL, "OOM");
    out->stop = strcmp(json_string_value(json_object_get(step, "stop")),
                       "tool_use")
                    ? STRANDS_STOP_END_TURN
                    : STRANDS_STOP_TOOL_USE;
    out->usage = (strands_usage){10, 5, 15, 0, 0};
    return STRANDS_OK;
}

static void copy_destroy(strands_model *self) { (void)self; }

static const strands_model_vtab copy_vtab = {STRANDS_MODEL_VTAB_VERSION,
                                             "copy", copy_converse,
                                             copy_destroy};

static void test_invoke_sweep(void)
{
    json_t *replies = J(
        "[{\"stop\":\"end_turn\",\"content\":[{\"text\":\"Ada, 36.\"}]},"
        "{\"stop\":\"tool_use\",\"content\":[{\"toolUse\":{\"toolUseId\":"
        "\"so1\",\"name\":\"structured_output\",\"input\":{\"name\":\"Ada\","
        "\"age\":\"old\"}}}]},"
        "{\"stop\":\"tool_use\",\"content\":[{\"toolUse\":{\"toolUseId\":"
        "\"so2\",\"name\":\"structured_output\",\"input\":{\"name\":\"Ada\","
        "\"age\":36}}}]}]");
    json_t *want = J("{\"name\":\"Ada\",\"age\":36}");
    long n, clean = 0, failed = 0;
    FAILALLOC_SWEEP(n, MAX_N) {
        failalloc_disarm();
        copy_model m = {{&copy_vtab}, replies, 0, json_array()};
        strands_session_store *store = strands_memory_store_new(4, 0);
        strands_tool_registry *tools = strands_tool_registry_new();
        strands_tool_registry_add_builtin(tools, "calculator", NULL);
        strands_agent_config cfg = {.model = &m.base, .tools = tools,
                                    .sessions = store, .max_tokens = 50,
                                    .max_iterations = 5,
                                    .system_prompt = "be brief"};
        strands_agent *agent = strands_agent_new(&cfg, NULL);
        json_t *prompt = J("[{\"text\":\"who?\"}]");
        json_t *schema = J("{\"type\":\"object\",\"properties\":{\"name\":"
                           "{\"type\":\"string\",\"pattern\":\"^[A-Z]\"},"
                           "\"age\":{\"type\":\"integer\"}},\"required\":"
                           "[\"name\",\"age\"]}");
        strands_invocation inv = {.session_id = "s", .prompt = prompt,
                                  .output_schema = schema};
        oom_invoke o;
        oom_invoke_run(&o, agent, &inv, n, store);
        if (o.st == STRANDS_OK) {
            CHECK(json_equal(o.r.structured_output, want));
            CHECK_STR(o.r.text, "Ada, 36.");
            CHECK_INT(o.rec.count, 2);
            if (!o.fired) clean++;
        } else {
            /* A failure is never mistaken for an invalid answer. */
            CHECK(strcmp(o.err.code, STRANDS_ERROR_STRUCTURED_OUTPUT) != 0);
            CHECK(o.r.structured_output == NULL && o.r.text == NULL);
            CHECK_INT(o.rec.count, 0);
            failed++;
        }
        CHECK_SEEN_VALID(m.seen, conversation_validate);
        json_decref(prompt);
        json_decref(schema);
        strands_agent_free(agent);
        strands_tool_registry_free(tools);
        strands_session_store_free(store);
        json_decref(m.seen);
        oom_invoke_end(&o);
    }
    CHECK(n == MAX_N + 2);
    CHECK_INT(clean, 1);
    CHECK(failed > 10);
    json_decref(want);
    json_decref(replies);
}

static void test_schema_check_sweep(void)
{
    json_t *schema = J("{\"type\":\"object\",\"$defs\":{\"p\":{\"type\":"
                       "\"string\",\"pattern\":\"^(a|b)+$\"}},\"properties\":"
                       "{\"x\":{\"$ref\":\"#/$defs/p\"},\"y\":{\"type\":"
                       "\"string\",\"pattern\":\"[0-9]{2,}\"}}}");
    long n, clean = 0;
    FAILALLOC_SWEEP(n, MAX_N) {
        strands_error err;
        strands_status st = strands_output_schema_check(schema, &err);
        CHECK(st == STRANDS_OK || st == STRANDS_E_NOMEM);
        if (st == STRANDS_OK) clean++;
    }
    CHECK(n == MAX_N + 2);
    CHECK(clean >= 1);
    json_decref(schema);
}

int main(void)
{
    failalloc_init();
    RUN(test_invoke_sweep);
    RUN(test_schema_check_sweep);
    return test_report();
}
