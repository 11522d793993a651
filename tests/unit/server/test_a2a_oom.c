/* Allocation-failure sweeps over the A2A server's pure parts and its task
 * table (src/server/a2a_rpc.c, a2a_json.c, a2a_tasks.c): every failing
 * allocation gives a clean error (a JSON-RPC code, or NULL), never a
 * crash, a leak or a half-built document.                               */
#include <string.h>

#include "server/a2a.h"
#include "failalloc.h"
#include "test.h"

static const char body[] =
    "{\"jsonrpc\":\"2.0\",\"id\":\"r1\",\"method\":\"SendMessage\",\"params\":"
    "{\"message\":{\"role\":\"ROLE_USER\",\"messageId\":\"m\",\"contextId\":"
    "\"c\",\"parts\":[{\"text\":\"hello\"},{\"data\":{\"k\":[1,2]}}]}}}";

static void test_parse_and_encode_sweep(void)
{
    long n, clean = 0;
    FAILALLOC_SWEEP(n, 400) {
        char why[256] = "";
        a2a_rpc r;
        int rc = a2a_rpc_parse(body, strlen(body), "1.0", &r, why, sizeof why);
        int ok = 0;
        if (rc == 0) {
            a2a_send s;
            if (a2a_send_parse(r.params, r.version, &s, why, sizeof why) == 0) {
                CHECK_STR(s.text, "hello\n{\"k\":[1,2]}");
                a2a_task_view t = {.id = "t", .context_id = s.context_id,
                                   .state = A2A_COMPLETED,
                                   .user_text = s.text,
                                   .user_message_id = s.message_id,
                                   .answer = "ans", .answer_len = 3,
                                   .artifact_id = "a", .reply_id = "rp"};
                json_t *task = a2a_task_json(&t, A2A_V10, -1, 1);
                json_t *resp = a2a_response(r.id, a2a_send_result(task,
                                                                  A2A_V10));
                json_t *err = a2a_error_response(r.id, A2A_ERR_TASK_NOT_FOUND,
                                                 "gone", A2A_V10);
                json_t *ev = a2a_artifact_event("t", "c", "a", "x", 1, 1, 1,
                                                A2A_V03);
                json_t *st = a2a_status_event("t", "c", A2A_FAILED, 0, "why",
                                              A2A_V10);
                a2a_card_info ci = {.name = "n", .url = "http://h/"};
                json_t *card = a2a_card_json(&ci);
                if (resp && err && ev && st && card) {
                    CHECK(json_object_get(json_object_get(resp, "result"),
                                          "task") != NULL);
                    ok = 1;
                }
                json_decref(resp);
                json_decref(err);
                json_decref(ev);
                json_decref(st);
                json_decref(card);
                a2a_send_cleanup(&s);
            } else if (!why[0]) {
                FAIL_AT("send error without a reason");
            }
        } else if (!why[0]) {
            FAIL_AT("error %d without a reason", rc);
        }
        a2a_rpc_cleanup(&r);
        clean += ok;
    }
    CHECK(n == 400 + 2);
    CHECK(clean >= 1);
}

static void test_table_sweep(void)
{
    long n, clean = 0;
    FAILALLOC_SWEEP(n, 300) {
        a2a_state *st = a2a_tasks_new(2, 3600000);
        if (!st) continue;
        char a[37], b[37], why[128];
        int ok = 0;
        if (a2a_tasks_create(st, "c", "q", "m", a, NULL, why, sizeof why) ==
            0) {
            a2a_tasks_append(st, a, "part", 4);
            json_t *j = NULL;
            a2a_tasks_finish(st, a, A2A_COMPLETED, "answer", NULL, A2A_V03,
                             -1, NULL, &j);
            json_decref(j);
            if (a2a_tasks_create(st, "c", "q2", "m2", b, NULL, why,
                                 sizeof why) == 0) {
                json_t *c = NULL;
                a2a_tasks_cancel(st, b, A2A_V10, &c);
                json_decref(c);
                a2a_list_query q = {.state = -1, .page_size = 5,
                                    .history_length = -1,
                                    .include_artifacts = 1};
                json_t *l = NULL;
                if (a2a_tasks_list(st, &q, &l) == 0 && l) {
                    CHECK_INT(json_integer_value(
                                  json_object_get(l, "totalSize")),
                              2);
                    ok = 1;
                }
                json_decref(l);
                a2a_tasks_finish(st, b, A2A_CANCELED, NULL, NULL, A2A_V10, -1,
                                 NULL, NULL);
            }
        }
        a2a_tasks_free(st);
        clean += ok;
    }
    CHECK(n == 300 + 2);
    CHECK(clean >= 1);
}

int main(void)
{
    failalloc_init();
    RUN(test_parse_and_encode_sweep);
    RUN(test_table_sweep);
    return test_report();
}
