/* Allocation-failure sweeps over the AgentCore Memory codec: every
 * failing allocation while encoding a message (conversational and blob)
 * or the agent blob, and while serializing a request body, yields NULL /
 * E_NOMEM, never a wrong or partial text (jansson 2.14's own dump skips
 * an object key it failed to write and goes on), and nothing leaks.
 * Decoding is not swept: jansson's parser asserts when an allocation
 * fails inside a string (load.c lex_scan_string); that a JSON event that
 * does not parse is an error, not "not a message", is checked here.    */
#include <stdlib.h>
#include <string.h>

#include "failalloc.h"
#include "json_check.h"
#include "test.h"
#include "session/agentcore_memory.h"

#define MAX_N 3000

static void sweep_message(const json_t *msg)
{
    const char *at = "2026-12-07T22:10:00.123456+00:00";
    strands_error err;
    json_t *want = session_acm_message_payload(msg, at, &err);
    CHECK(want != NULL);
    json_t *back = NULL;
    CHECK_INT(session_acm_payload_message(want, &back), STRANDS_OK);
    CHECK(json_equal(back, msg));
    json_decref(back);
    long n, clean = 0;
    FAILALLOC_SWEEP(n, MAX_N) {
        strands_error_clear(&err);
        json_t *item = session_acm_message_payload(msg, at, &err);
        char *body = item ? session_acm_dump(item, JSON_COMPACT) : NULL;
        int fired = failalloc_disarm();
        if (!item) {
            CHECK_INT(err.status, STRANDS_E_NOMEM);
        } else {
            CHECK(json_equal(item, want));
            if (body) {
                json_t *again = json_loads(body, 0, NULL);
                CHECK(json_equal(again, want));
                json_decref(again);
                clean++;
            }
        }
        free(body);
        json_decref(item);
        failalloc_restore(fired);
    }
    CHECK(n == MAX_N + 2);
    CHECK_INT(clean, 1);
    json_decref(want);
}

static void test_message_sweeps(void)
{
    json_t *small = J("{\"role\":\"assistant\",\"content\":[{\"text\":"
                      "\"h\\u00e9\"},{\"toolUse\":{\"toolUseId\":\"t1\","
                      "\"name\":\"calc\",\"input\":{\"x\":[1,2]}}}]}");
    sweep_message(small);
    json_decref(small);
    size_t n = 100000;
    char *big = malloc(n + 1);
    memset(big, 'q', n);
    big[n] = '\0';
    json_t *large = json_pack("{s:s, s:[{s:s}]}", "role", "user", "content",
                              "text", big);
    free(big);
    sweep_message(large);
    json_decref(large);
}

static void test_agent_sweep(void)
{
    json_t *agent = J("{\"state\":{\"k\":[1,\"v\"]},\"other\":true}");
    char filled[64];
    char *want = session_acm_agent_blob("default", agent, "c", "u", filled,
                                sizeof filled);
    CHECK(want != NULL);
    CHECK_STR(filled, "conversation_manager_state");
    json_t *b = json_string(want), *back = NULL;
    char *created = NULL;
    CHECK_INT(session_acm_agent_from_blob(b, filled, &back, &created),
              STRANDS_OK);
    CHECK(json_equal(back, agent));
    CHECK_STR(created, "c");
    free(created);
    json_decref(back);
    json_decref(b);
    long n, clean = 0;
    FAILALLOC_SWEEP(n, MAX_N) {
        char f2[64];
        char *blob = session_acm_agent_blob("default", agent, "c", "u", f2,
                                    sizeof f2);
        int fired = failalloc_disarm();
        if (blob) {
            CHECK_STR(blob, want);
            clean++;
        }
        free(blob);
        failalloc_restore(fired);
    }
    CHECK(n == MAX_N + 2);
    CHECK_INT(clean, 1);
    free(want);
    json_decref(agent);
}

static void test_unparsable_json_is_an_error(void)
{
    /* Looks like a Strands message (opens a JSON object) but does not
     * parse: an error (the same answer as an OOM inside jansson), never
     * "not a message", which would silently shorten the log.            */
    json_t *item = json_pack("{s:{s:{s:s}, s:s}}", "conversational",
                             "content", "text", "{\"message\": {\"ro",
                             "role", "USER");
    json_t *m = NULL;
    CHECK_INT(session_acm_payload_message(item, &m), STRANDS_E_NOMEM);
    CHECK(m == NULL);
    json_decref(item);
    /* Plain text and non-pair blobs are simply not messages. */
    item = json_pack("{s:{s:{s:s}, s:s}}", "conversational", "content",
                     "text", "just words", "role", "USER");
    CHECK_INT(session_acm_payload_message(item, &m), STRANDS_OK);
    CHECK(m == NULL);
    json_decref(item);
    item = json_pack("{s:s}", "blob", "{\"session_id\": \"s\"}");
    CHECK_INT(session_acm_payload_message(item, &m), STRANDS_OK);
    CHECK(m == NULL);
    json_decref(item);
}

int main(void)
{
    failalloc_init();
    RUN(test_message_sweeps);
    RUN(test_agent_sweep);
    RUN(test_unparsable_json_is_an_error);
    return test_report();
}
