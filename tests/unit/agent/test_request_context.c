/* The caller's request context reaches tools: the agent gives every tool
 * call its own copy (strands_tool_context.request), looked up by name
 * case-insensitively; a call without a context sees NULL.               */
#include <string.h>

#include "fake_model.h"
#include "test.h"
#include "tools/registry.h"

static char seen_auth[128], seen_custom[128];
static int seen_null;

static strands_status peek_run(void *user, const json_t *input,
                               const strands_tool_context *ctx,
                               json_t **content_out, strands_error *err)
{
    (void)user; (void)input; (void)err;
    const char *a = strands_request_header_get(ctx->request, "authorization");
    const char *c = strands_request_header_get(
        ctx->request, "X-AMZN-BEDROCK-AGENTCORE-RUNTIME-CUSTOM-TENANT");
    snprintf(seen_auth, sizeof seen_auth, "%s", a ? a : "");
    snprintf(seen_custom, sizeof seen_custom, "%s", c ? c : "");
    seen_null = ctx->request == NULL;
    *content_out = json_pack("[{s:s}]", "text", "ok");
    return STRANDS_OK;
}

static const char *script[] = {
    "{\"stop\":\"tool_use\",\"content\":[{\"toolUse\":{\"toolUseId\":\"t1\","
    "\"name\":\"peek\",\"input\":{}}}]}",
    "{\"stop\":\"end_turn\",\"content\":[{\"text\":\"done\"}]}",
};

static void run(const strands_request_context *rc)
{
    fake_model m;
    fake_init(&m, script, 2);
    strands_tool_registry *tools = strands_tool_registry_new();
    strands_tool_def def = {"peek", "reads the request", NULL, peek_run,
                            NULL, NULL};
    CHECK_INT(strands_tool_registry_add(tools, &def, NULL), STRANDS_OK);
    strands_agent_config cfg = {.model = &m.base, .tools = tools,
                                .max_tokens = 100, .max_iterations = 5};
    strands_agent *agent = strands_agent_new(&cfg, NULL);
    json_t *prompt = json_pack("[{s:s}]", "text", "go");
    strands_invocation inv = {.session_id = "s1", .invocation_id = "i1",
                              .prompt = prompt, .request = rc};
    strands_agent_result r;
    strands_error err;
    CHECK_INT(strands_agent_invoke(agent, &inv, &r, &err), STRANDS_OK);
    strands_agent_result_cleanup(&r);
    json_decref(prompt);
    strands_agent_free(agent);
    strands_tool_registry_free(tools);
    fake_destroy(&m.base);
}

static void test_tool_sees_the_callers_headers(void)
{
    strands_request_header h[] = {
        {"Authorization", "Bearer abc"},
        {"X-Amzn-Bedrock-AgentCore-Runtime-Custom-Tenant", "t-1"}};
    strands_request_context rc = {h, 2};
    seen_null = -1;
    run(&rc);
    CHECK_STR(seen_auth, "Bearer abc");
    CHECK_STR(seen_custom, "t-1");
    CHECK_INT(seen_null, 0);
}

static void test_no_context_is_null(void)
{
    seen_null = -1;
    run(NULL);
    CHECK_INT(seen_null, 1);
    CHECK_STR(seen_auth, "");
}

static void test_dup_is_deep_and_lookup_case_insensitive(void)
{
    char name[] = "WorkloadAccessToken", value[] = "wat-1";
    strands_request_header h[] = {{name, value}, {"Empty", ""}};
    strands_request_context rc = {h, 2};
    strands_request_context *copy = tools_request_context_dup(&rc);
    CHECK(copy != NULL);
    memset(value, 'x', sizeof value - 1); /* the copy does not borrow */
    CHECK_STR(strands_request_header_get(copy, "workloadaccesstoken"),
              "wat-1");
    CHECK_STR(strands_request_header_get(copy, "EMPTY"), "");
    CHECK(strands_request_header_get(copy, "missing") == NULL);
    CHECK(strands_request_header_get(NULL, "x") == NULL);
    CHECK(tools_request_context_dup(NULL) == NULL);
    tools_request_context_free(copy);
    tools_request_context_free(NULL);
}

int main(void)
{
    RUN(test_tool_sees_the_callers_headers);
    RUN(test_no_context_is_null);
    RUN(test_dup_is_deep_and_lookup_case_insensitive);
    return test_report();
}
