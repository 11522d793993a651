/* Tests of the pure /invocations helpers of the server module:
 * request_prompt_blocks (src/server/request.c) and
 * request_log_header_loggable (src/server/request_log.c). (They lived in
 * the configuration test before the settings moved to src/runtime/.)    */
#include <jansson.h>

#include "server/internal.h"
#include "json_check.h"
#include "test.h"

/* ---- request_prompt_blocks ------------------------------------------- */

static void test_prompt_string(void)
{
    json_t *body = J("{\"prompt\":\"What is 2+2?\",\"session_id\":\"s\"}");
    char why[256] = "";
    json_t *blocks = request_prompt_blocks(body, why, sizeof why);
    CHECK(blocks != NULL);
    json_t *want = J("[{\"text\":\"What is 2+2?\"}]");
    CHECK(json_equal(blocks, want));
    json_decref(want);
    json_decref(blocks);
    json_decref(body);
}

static void test_prompt_blocks_array(void)
{
    const char *text =
        "{\"prompt\":[{\"text\":\"Describe this\"},"
        "{\"image\":{\"format\":\"png\",\"source\":{\"bytes\":\"iVBO\"}}},"
        "{\"document\":{\"format\":\"txt\",\"name\":\"d\",\"source\":"
        "{\"bytes\":\"aGk=\"}}},{\"cachePoint\":{\"type\":\"default\"}}]}";
    json_t *body = J(text);
    char why[256] = "";
    json_t *blocks = request_prompt_blocks(body, why, sizeof why);
    CHECK(blocks != NULL);
    CHECK(json_equal(blocks, json_object_get(body, "prompt")));
    json_decref(blocks);
    json_decref(body);
}

typedef struct bad_prompt {
    const char *body;
    const char *why;       /* expected substring of the reason */
} bad_prompt;

static void test_prompt_rejects(void)
{
    static const bad_prompt cases[] = {
        {"{}", "missing"},
        {"{\"input\":\"hi\"}", "missing"},
        {"[\"prompt\"]", "missing"},
        {"{\"prompt\":null}", "string or a non-empty array"},
        {"{\"prompt\":\"\"}", "must not be empty"},
        {"{\"prompt\":[]}", "non-empty array"},
        {"{\"prompt\":42}", "string or a non-empty array"},
        {"{\"prompt\":true}", "string or a non-empty array"},
        {"{\"prompt\":{\"text\":\"hi\"}}", "string or a non-empty array"},
        {"{\"prompt\":[{\"text\":\"a\",\"image\":{}}]}", "prompt[0]"},
        {"{\"prompt\":[{}]}", "prompt[0]"},
        {"{\"prompt\":[\"hi\"]}", "prompt[0]"},
        {"{\"prompt\":[{\"text\":\"ok\"},{\"bogus\":1}]}",
         "prompt[1]: unsupported content block 'bogus'"},
        {"{\"prompt\":[{\"toolUse\":{}}]}", "unsupported"},
        {"{\"prompt\":[{\"text\":\"\"}]}", "prompt[0].text"},
        {"{\"prompt\":[{\"text\":5}]}", "prompt[0].text"},
        {"{\"prompt\":[{\"text\":\"a\"},{\"text\":null}]}", "prompt[1].text"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_t *body = J(cases[i].body);
        char why[256] = "";
        json_t *blocks = request_prompt_blocks(body, why, sizeof why);
        if (blocks) {
            FAIL_AT("%s accepted", cases[i].body);
            json_decref(blocks);
        } else if (!strstr(why, cases[i].why)) {
            FAIL_AT("%s: reason '%s' lacks '%s'", cases[i].body, why,
                    cases[i].why);
        }
        json_decref(body);
    }
    /* NULL body, and a small reason buffer that is cut, not overrun. */
    char why[8];
    memset(why, 'x', sizeof why);
    CHECK(request_prompt_blocks(NULL, why, sizeof why) == NULL);
    CHECK_INT(strlen(why), sizeof why - 1);
}

/* ---- request_log_header_loggable ------------------------------------ */

/* Header values are logged only for an allow-list; everything else,
 * credentials and custom headers alike, is masked. */
static void test_loggable_headers(void)
{
    static const char *const masked[] = {
        "authorization", "Authorization", "AUTHORIZATION",
        "X-Amz-Security-Token", "x-amz-security-token", "Cookie", "cookie",
        "Set-Cookie", "WorkloadAccessToken", "workloadaccesstoken",
        "Proxy-Authorization", "X-Api-Key",
        "X-Amzn-Bedrock-AgentCore-Runtime-Workload-AccessToken",
        "X-My-Custom-Header", "Hostx", "", NULL};
    for (const char *const *h = masked; *h; h++)
        if (request_log_header_loggable(*h))
            FAIL_AT("'%s' would be logged", *h);
    static const char *const plain[] = {
        "Content-Type", "X-Amzn-Bedrock-AgentCore-Runtime-Session-Id",
        "User-Agent", "Host", "host", "traceparent", "Accept", NULL};
    for (const char *const *h = plain; *h; h++)
        if (!request_log_header_loggable(*h))
            FAIL_AT("'%s' masked", *h);
}

static void test_actor_id_rule(void)
{
    char why[256];
    CHECK_INT(request_actor_id(NULL, why, sizeof why), 1);   /* absent */
    CHECK_INT(request_actor_id("user-1@example.com", why, sizeof why), 1);
    char id[SERVER_ACTOR_ID_MAX + 2];
    memset(id, 'u', sizeof id - 1);
    id[SERVER_ACTOR_ID_MAX] = '\0';
    CHECK_INT(request_actor_id(id, why, sizeof why), 1);     /* 256: fine */
    id[SERVER_ACTOR_ID_MAX] = 'u';
    id[SERVER_ACTOR_ID_MAX + 1] = '\0';
    const char *bad[] = {"", id, "tab\there", "caf\xc3\xa9", "\x7f"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        why[0] = '\0';
        CHECK_INT(request_actor_id(bad[i], why, sizeof why), 0);
        CHECK(strstr(why, SERVER_USER_HEADER) != NULL);
        CHECK(strstr(why, "1..256 printable ASCII") != NULL);
    }
}

/* Session-store errors keep their code as the error type and map to the
 * status of their class: 409 for conflicts, 503 for a store that is down,
 * 413 for a history over the cap. */
static void test_session_error_mapping(void)
{
    struct {
        strands_status st;
        const char *code;
        int http;
    } cases[] = {
        {STRANDS_E_BUSY, "SessionConflict", 409},
        {STRANDS_E_BUSY, "SessionBusy", 409},
        {STRANDS_E_BUSY, "SessionClaimLost", 409},
        {STRANDS_E_UNAVAILABLE, "SessionStoreUnavailable", 503},
        {STRANDS_E_TOO_LARGE, "SessionHistoryTooLarge", 413},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        strands_error err;
        strands_error_set(&err, cases[i].st, cases[i].code, "x");
        CHECK_INT(server_error_status(&err), cases[i].http);
        CHECK_STR(server_error_type(&err), cases[i].code);
    }
}

int main(void)
{
    RUN(test_prompt_string);
    RUN(test_prompt_blocks_array);
    RUN(test_prompt_rejects);
    RUN(test_loggable_headers);
    RUN(test_actor_id_rule);
    RUN(test_session_error_mapping);
    return test_report();
}
