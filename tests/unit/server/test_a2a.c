/* The A2A server's pure parts and its task table (src/server/a2a_rpc.c,
 * a2a_json.c, a2a_tasks.c): the JSON-RPC envelope and version rules, the
 * params of each method in 1.0 and 0.3, the shapes of tasks, events,
 * errors and the card, and the table's bounds (count, TTL, running tasks
 * kept), cancel and paging, plus concurrent use from several threads
 * (run under ThreadSanitizer in CI).                                    */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "server/a2a.h"
#include "test.h"

static int parse(const char *body, const char *ver, a2a_rpc *r)
{
    char why[256];
    memset(why, 0xAA, sizeof why);
    int rc = a2a_rpc_parse(body, strlen(body), ver, r, why, sizeof why);
    if (rc && (!memchr(why, '\0', sizeof why) || !why[0]))
        FAIL_AT("error %d without a reason", rc);
    return rc;
}

static void test_envelope(void)
{
    a2a_rpc r;
    CHECK_INT(parse("{", NULL, &r), A2A_ERR_PARSE);
    CHECK(json_is_null(r.id));
    a2a_rpc_cleanup(&r);
    CHECK_INT(parse("[{}]", NULL, &r), A2A_ERR_INVALID_REQUEST);
    a2a_rpc_cleanup(&r);
    CHECK_INT(parse("{\"jsonrpc\":\"2.0\",\"method\":\"GetTask\"}", NULL, &r),
              A2A_ERR_INVALID_REQUEST); /* no id: a notification */
    a2a_rpc_cleanup(&r);
    CHECK_INT(parse("{\"jsonrpc\":\"1.0\",\"id\":3,\"method\":\"GetTask\"}",
                    NULL, &r),
              A2A_ERR_INVALID_REQUEST);
    CHECK_INT(json_integer_value(r.id), 3); /* the id is kept for errors */
    a2a_rpc_cleanup(&r);
    CHECK_INT(parse("{\"jsonrpc\":\"2.0\",\"id\":{},\"method\":\"GetTask\"}",
                    NULL, &r),
              A2A_ERR_INVALID_REQUEST);
    a2a_rpc_cleanup(&r);
    CHECK_INT(parse("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"GetTask\","
                    "\"params\":[]}",
                    NULL, &r),
              A2A_ERR_INVALID_PARAMS);
    a2a_rpc_cleanup(&r);
    CHECK_INT(parse("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"Nope\"}", NULL,
                    &r),
              A2A_ERR_METHOD_NOT_FOUND);
    a2a_rpc_cleanup(&r);
    CHECK_INT(parse("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":"
                    "\"tasks/pushNotificationConfig/set\"}",
                    NULL, &r),
              A2A_ERR_PUSH_NOT_SUPPORTED);
    a2a_rpc_cleanup(&r);
    CHECK_INT(parse("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":"
                    "\"SubscribeToTask\"}",
                    "1.0", &r),
              A2A_ERR_UNSUPPORTED);
    a2a_rpc_cleanup(&r);
    /* duplicate keys are ambiguous: refused */
    CHECK_INT(parse("{\"jsonrpc\":\"2.0\",\"id\":1,\"id\":2,\"method\":"
                    "\"GetTask\"}",
                    NULL, &r),
              A2A_ERR_PARSE);
    a2a_rpc_cleanup(&r);
}

static void test_versions(void)
{
    static const char get10[] =
        "{\"jsonrpc\":\"2.0\",\"id\":\"a\",\"method\":\"GetTask\","
        "\"params\":{\"id\":\"t\"}}";
    static const char get03[] =
        "{\"jsonrpc\":\"2.0\",\"id\":\"a\",\"method\":\"tasks/get\","
        "\"params\":{\"id\":\"t\"}}";
    a2a_rpc r;
    static const char *const ok10[] = {"1.0", "1", " 1.0 ", "1.0.2", NULL};
    for (const char *const *v = ok10; *v; v++) {
        if (parse(get10, *v, &r) != 0 || r.version != A2A_V10 ||
            r.method != A2A_GET)
            FAIL_AT("version '%s' not served as 1.0", *v);
        a2a_rpc_cleanup(&r);
    }
    /* no header: 0.3 names as 0.3, 1.0 names as 1.0 */
    CHECK_INT(parse(get03, NULL, &r), 0);
    CHECK_INT(r.version, A2A_V03);
    a2a_rpc_cleanup(&r);
    CHECK_INT(parse(get03, "", &r), 0);
    a2a_rpc_cleanup(&r);
    CHECK_INT(parse(get10, NULL, &r), 0);
    CHECK_INT(r.version, A2A_V10);
    CHECK(json_is_object(r.params));
    a2a_rpc_cleanup(&r);
    CHECK_INT(parse(get03, "0.3", &r), 0);
    a2a_rpc_cleanup(&r);
    /* an explicit version must match the method's family */
    CHECK_INT(parse(get03, "1.0", &r), A2A_ERR_METHOD_NOT_FOUND);
    a2a_rpc_cleanup(&r);
    CHECK_INT(parse(get10, "0.3", &r), A2A_ERR_METHOD_NOT_FOUND);
    a2a_rpc_cleanup(&r);
    static const char *const bad[] = {"0.5", "2.0", "1.1", "x", "1.", "1.0x",
                                      "1..0", NULL};
    for (const char *const *v = bad; *v; v++) {
        if (parse(get10, *v, &r) != A2A_ERR_VERSION)
            FAIL_AT("version '%s' accepted", *v);
        a2a_rpc_cleanup(&r);
    }
}

static int send_parse(const char *params, a2a_version v, a2a_send *s)
{
    json_t *p = json_loads(params, 0, NULL);
    char why[256] = "";
    int rc = a2a_send_parse(p, v, s, why, sizeof why);
    if (rc && !why[0]) FAIL_AT("error %d without a reason", rc);
    json_decref(p);
    return rc;
}

static void test_send_params(void)
{
    a2a_send s;
    CHECK_INT(send_parse("{\"message\":{\"role\":\"ROLE_USER\",\"messageId\":"
                         "\"m\",\"contextId\":\"c1\",\"parts\":[{\"text\":"
                         "\"a\"},{\"data\":{\"k\":1}},{\"text\":\"b\"}]},"
                         "\"configuration\":{\"returnImmediately\":true,"
                         "\"historyLength\":2}}",
                         A2A_V10, &s),
              0);
    CHECK_STR(s.text, "a\n{\"k\":1}\nb");
    CHECK_STR(s.context_id, "c1");
    CHECK_STR(s.message_id, "m");
    CHECK_INT(s.return_immediately, 1);
    CHECK_INT(s.history_length, 2);
    a2a_send_cleanup(&s);
    CHECK_INT(send_parse("{\"message\":{\"kind\":\"message\",\"role\":"
                         "\"user\",\"messageId\":\"m\",\"parts\":[{\"kind\":"
                         "\"text\",\"text\":\"hi\"}]},\"configuration\":{"
                         "\"blocking\":false}}",
                         A2A_V03, &s),
              0);
    CHECK_STR(s.text, "hi");
    CHECK_STR(s.context_id, "");
    CHECK_INT(s.return_immediately, 1);
    CHECK_INT(s.history_length, -1);
    a2a_send_cleanup(&s);
    /* each version's role names only */
    CHECK_INT(send_parse("{\"message\":{\"role\":\"user\",\"messageId\":\"m\","
                         "\"parts\":[{\"text\":\"a\"}]}}",
                         A2A_V10, &s),
              A2A_ERR_INVALID_PARAMS);
    CHECK_INT(send_parse("{\"message\":{\"role\":\"ROLE_USER\",\"messageId\":"
                         "\"m\",\"parts\":[{\"kind\":\"text\",\"text\":"
                         "\"a\"}]}}",
                         A2A_V03, &s),
              A2A_ERR_INVALID_PARAMS);
    static const char *const bad10[] = {
        "{}",
        "{\"message\":[]}",
        "{\"message\":{\"role\":\"ROLE_USER\",\"parts\":[{\"text\":\"a\"}]}}",
        "{\"message\":{\"role\":\"ROLE_USER\",\"messageId\":\"m\"}}",
        "{\"message\":{\"role\":\"ROLE_USER\",\"messageId\":\"m\",\"parts\":"
        "[]}}",
        "{\"message\":{\"role\":\"ROLE_USER\",\"messageId\":\"m\",\"parts\":"
        "[{\"text\":\"  \\n\"}]}}",
        "{\"message\":{\"role\":\"ROLE_USER\",\"messageId\":\"m\",\"parts\":"
        "[{\"text\":5}]}}",
        "{\"message\":{\"role\":\"ROLE_USER\",\"messageId\":\"m\",\"parts\":"
        "[{}]}}",
        "{\"message\":{\"role\":\"ROLE_USER\",\"messageId\":\"m\",\"contextId\":"
        "\"a\\u0001\",\"parts\":[{\"text\":\"a\"}]}}",
        "{\"message\":{\"role\":\"ROLE_USER\",\"messageId\":\"m\",\"parts\":"
        "[{\"text\":\"a\"}]},\"configuration\":{\"returnImmediately\":1}}",
        "{\"message\":{\"role\":\"ROLE_USER\",\"messageId\":\"m\",\"parts\":"
        "[{\"text\":\"a\"}]},\"configuration\":{\"historyLength\":-1}}",
        NULL};
    for (const char *const *p = bad10; *p; p++) {
        if (send_parse(*p, A2A_V10, &s) != A2A_ERR_INVALID_PARAMS)
            FAIL_AT("accepted: %s", *p);
        CHECK(s.text == NULL);
    }
    CHECK_INT(send_parse("{\"message\":{\"role\":\"ROLE_USER\",\"messageId\":"
                         "\"m\",\"parts\":[{\"raw\":\"aGk=\"}]}}",
                         A2A_V10, &s),
              A2A_ERR_CONTENT_TYPE);
    CHECK_INT(send_parse("{\"message\":{\"role\":\"user\",\"messageId\":\"m\","
                         "\"parts\":[{\"kind\":\"file\",\"file\":{}}]}}",
                         A2A_V03, &s),
              A2A_ERR_CONTENT_TYPE);
    /* a long context id is refused, never cut */
    char big[600];
    char ctx[300];
    memset(ctx, 'c', 257);
    ctx[257] = '\0';
    snprintf(big, sizeof big,
             "{\"message\":{\"role\":\"ROLE_USER\",\"messageId\":\"m\","
             "\"contextId\":\"%s\",\"parts\":[{\"text\":\"a\"}]}}",
             ctx);
    CHECK_INT(send_parse(big, A2A_V10, &s), A2A_ERR_INVALID_PARAMS);
}

static void test_task_and_list_params(void)
{
    char id[A2A_TASK_ID_MAX + 1], why[128];
    int hl;
    json_t *p = json_loads("{\"id\":\"t1\",\"historyLength\":3}", 0, NULL);
    CHECK_INT(a2a_task_params_parse(p, id, sizeof id, &hl, why, sizeof why),
              0);
    CHECK_STR(id, "t1");
    CHECK_INT(hl, 3);
    json_decref(p);
    p = json_loads("{\"id\":7}", 0, NULL);
    CHECK_INT(a2a_task_params_parse(p, id, sizeof id, &hl, why, sizeof why),
              A2A_ERR_INVALID_PARAMS);
    json_decref(p);
    a2a_list_query q;
    p = json_loads("{}", 0, NULL);
    CHECK_INT(a2a_list_parse(p, &q, why, sizeof why), 0);
    CHECK_INT(q.page_size, A2A_PAGE_DEFAULT);
    CHECK_INT(q.state, -1);
    CHECK_INT(q.include_artifacts, 0);
    json_decref(p);
    p = json_loads("{\"contextId\":\"c\",\"status\":\"TASK_STATE_CANCELED\","
                   "\"pageSize\":100,\"pageToken\":\"12\",\"includeArtifacts\":"
                   "true,\"historyLength\":0}",
                   0, NULL);
    CHECK_INT(a2a_list_parse(p, &q, why, sizeof why), 0);
    CHECK_STR(q.context_id, "c");
    CHECK_INT(q.state, A2A_CANCELED);
    CHECK_INT(q.page_size, 100);
    CHECK_INT(q.offset, 12);
    CHECK_INT(q.include_artifacts, 1);
    CHECK_INT(q.history_length, 0);
    json_decref(p);
    static const char *const bad[] = {
        "{\"pageSize\":0}", "{\"pageSize\":101}", "{\"pageSize\":\"5\"}",
        "{\"pageToken\":\"-1\"}", "{\"pageToken\":\"1234567890\"}",
        "{\"status\":\"RUNNING\"}", "{\"includeArtifacts\":1}",
        "{\"historyLength\":-2}", NULL};
    for (const char *const *b = bad; *b; b++) {
        p = json_loads(*b, 0, NULL);
        if (a2a_list_parse(p, &q, why, sizeof why) != A2A_ERR_INVALID_PARAMS)
            FAIL_AT("accepted: %s", *b);
        json_decref(p);
    }
}

static void test_shapes(void)
{
    a2a_task_view t = {.id = "t1", .context_id = "c1",
                       .state = A2A_COMPLETED, .updated_ms = 1700000000123,
                       .user_text = "hi", .user_message_id = "m1",
                       .answer = "hello", .answer_len = 5,
                       .artifact_id = "a1", .reply_id = "r1"};
    json_t *j = a2a_task_json(&t, A2A_V10, -1, 1);
    char *s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
    CHECK_STR(s,
              "{\"artifacts\":[{\"artifactId\":\"a1\",\"name\":\"response\","
              "\"parts\":[{\"text\":\"hello\"}]}],\"contextId\":\"c1\","
              "\"history\":[{\"contextId\":\"c1\",\"messageId\":\"m1\","
              "\"parts\":[{\"text\":\"hi\"}],\"role\":\"ROLE_USER\","
              "\"taskId\":\"t1\"},{\"contextId\":\"c1\",\"messageId\":\"r1\","
              "\"parts\":[{\"text\":\"hello\"}],\"role\":\"ROLE_AGENT\","
              "\"taskId\":\"t1\"}],\"id\":\"t1\",\"status\":{\"state\":"
              "\"TASK_STATE_COMPLETED\",\"timestamp\":"
              "\"2023-11-14T22:13:20.123Z\"}}");
    free(s);
    json_decref(j);
    j = a2a_task_json(&t, A2A_V03, 1, 0);
    s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
    CHECK_STR(s,
              "{\"contextId\":\"c1\",\"history\":[{\"contextId\":\"c1\","
              "\"kind\":\"message\",\"messageId\":\"r1\",\"parts\":[{\"kind\":"
              "\"text\",\"text\":\"hello\"}],\"role\":\"agent\",\"taskId\":"
              "\"t1\"}],\"id\":\"t1\",\"kind\":\"task\",\"status\":{\"state\":"
              "\"completed\",\"timestamp\":\"2023-11-14T22:13:20.123Z\"}}");
    free(s);
    json_decref(j);
    /* failed: the reason in the status message, no reply in history */
    t.state = A2A_FAILED;
    t.error = "boom";
    j = a2a_task_json(&t, A2A_V10, -1, 1);
    CHECK_STR(json_string_value(json_object_get(
                  json_array_get(json_object_get(json_object_get(
                                     json_object_get(j, "status"), "message"),
                                                 "parts"),
                                 0),
                  "text")),
              "boom");
    CHECK_INT(json_array_size(json_object_get(j, "history")), 1);
    json_decref(j);
    /* stream events */
    j = a2a_status_event("t", "c", A2A_CANCELED, 0, NULL, A2A_V03);
    CHECK(json_is_true(json_object_get(j, "final")));
    CHECK_STR(json_string_value(json_object_get(j, "kind")), "status-update");
    json_decref(j);
    j = a2a_status_event("t", "c", A2A_WORKING, 0, NULL, A2A_V10);
    CHECK(json_object_get(j, "statusUpdate") != NULL);
    CHECK(json_object_get(json_object_get(j, "statusUpdate"), "final") == NULL);
    json_decref(j);
    j = a2a_artifact_event("t", "c", "a", "xy", 2, 1, 0, A2A_V10);
    json_t *au = json_object_get(j, "artifactUpdate");
    CHECK(json_is_true(json_object_get(au, "append")));
    CHECK(json_is_false(json_object_get(au, "lastChunk")));
    json_decref(j);
    /* errors */
    json_t *id = json_string("q");
    j = a2a_error_response(id, A2A_ERR_TASK_NOT_FOUND, "gone", A2A_V10);
    s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
    CHECK_STR(s, "{\"error\":{\"code\":-32001,\"data\":[{\"@type\":"
                 "\"type.googleapis.com/google.rpc.ErrorInfo\",\"domain\":"
                 "\"a2a-protocol.org\",\"reason\":\"TASK_NOT_FOUND\"}],"
                 "\"message\":\"gone\"},\"id\":\"q\",\"jsonrpc\":\"2.0\"}");
    free(s);
    json_decref(j);
    j = a2a_error_response(NULL, A2A_ERR_PARSE, "bad", A2A_V03);
    s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
    CHECK_STR(s, "{\"error\":{\"code\":-32700,\"message\":\"bad\"},\"id\":"
                 "null,\"jsonrpc\":\"2.0\"}");
    free(s);
    json_decref(j);
    json_decref(id);
}

static void test_card(void)
{
    json_t *specs = json_loads(
        "[{\"toolSpec\":{\"name\":\"calc\",\"description\":\"adds\"}},"
        "{\"toolSpec\":{\"name\":\"t2\"}}]",
        0, NULL);
    a2a_card_info ci = {.name = "n", .description = "d", .url = "http://h/",
                        .version = "1", .tool_specs = specs};
    json_t *c = a2a_card_json(&ci);
    json_t *skills = json_object_get(c, "skills");
    CHECK_INT(json_array_size(skills), 2);
    CHECK_STR(json_string_value(json_object_get(json_array_get(skills, 0),
                                                "description")),
              "adds");
    CHECK_STR(json_string_value(json_object_get(json_array_get(skills, 1),
                                                "description")),
              "t2");
    CHECK_STR(json_string_value(json_object_get(c, "url")), "http://h/");
    json_t *ifs = json_object_get(c, "supportedInterfaces");
    CHECK_STR(json_string_value(json_object_get(json_array_get(ifs, 0),
                                                "protocolVersion")),
              "1.0");
    CHECK(json_is_true(json_object_get(json_object_get(c, "capabilities"),
                                       "streaming")));
    json_decref(c);
    ci.tool_specs = NULL;
    c = a2a_card_json(&ci);
    CHECK_INT(json_array_size(json_object_get(c, "skills")), 1);
    json_decref(c);
    json_decref(specs);
}

static void test_table_bounds(void)
{
    a2a_state *st = a2a_tasks_new(2, 3600000);
    char ids[3][37], why[128];
    for (int i = 0; i < 2; i++)
        CHECK_INT(a2a_tasks_create(st, "c", "q", "m", ids[i], NULL, why,
                                   sizeof why),
                  0);
    /* both running: a third is refused, nothing evicted */
    CHECK_INT(a2a_tasks_create(st, "c", "q", "m", ids[2], NULL, why,
                               sizeof why),
              A2A_ERR_INTERNAL);
    CHECK(strstr(why, "A2A_MAX_TASKS") != NULL);
    CHECK_INT(a2a_tasks_count(st), 2);
    /* finish the first: the third evicts it */
    a2a_task_state s;
    CHECK_INT(a2a_tasks_finish(st, ids[0], A2A_COMPLETED, "ans", NULL,
                               A2A_V10, -1, &s, NULL),
              0);
    CHECK_INT(s, A2A_COMPLETED);
    CHECK_INT(a2a_tasks_create(st, "c", "q", "m", ids[2], NULL, why,
                               sizeof why),
              0);
    json_t *j = NULL;
    CHECK_INT(a2a_tasks_get(st, ids[0], A2A_V10, -1, &j),
              A2A_ERR_TASK_NOT_FOUND);
    CHECK_INT(a2a_tasks_get(st, ids[1], A2A_V10, -1, &j), 0);
    json_decref(j);
    a2a_tasks_free(st);

    /* TTL: a finished task goes, a running one stays */
    st = a2a_tasks_new(10, 50);
    CHECK_INT(a2a_tasks_create(st, "c", "q", "m", ids[0], NULL, why,
                               sizeof why),
              0);
    CHECK_INT(a2a_tasks_create(st, "c", "q", "m", ids[1], NULL, why,
                               sizeof why),
              0);
    a2a_tasks_finish(st, ids[0], A2A_FAILED, NULL, "x", A2A_V10, -1, NULL,
                     NULL);
    usleep(80 * 1000);
    CHECK_INT(a2a_tasks_count(st), 1);
    a2a_task_state ts;
    CHECK_INT(a2a_tasks_state(st, ids[1], &ts), 1);
    CHECK_INT(ts, A2A_SUBMITTED);
    a2a_tasks_free(st);
}

static void test_table_cancel_and_list(void)
{
    a2a_state *st = a2a_tasks_new(10, 3600000);
    char a[37], b[37], c[37], why[128];
    a2a_tasks_create(st, "x", "q1", "m1", a, NULL, why, sizeof why);
    a2a_tasks_create(st, "x", "q2", "m2", b, NULL, why, sizeof why);
    a2a_tasks_create(st, "y", "q3", "m3", c, NULL, why, sizeof why);
    a2a_tasks_append(st, a, "par", 3);
    a2a_tasks_append(st, a, "tial", 4);
    json_t *j = NULL;
    CHECK_INT(a2a_tasks_get(st, a, A2A_V10, -1, &j), 0);
    CHECK_STR(json_string_value(json_object_get(
                  json_array_get(json_object_get(json_array_get(
                                     json_object_get(j, "artifacts"), 0),
                                                 "parts"),
                                 0),
                  "text")),
              "partial");
    json_decref(j);
    CHECK_INT(a2a_tasks_cancel(st, b, A2A_V10, &j), 0);
    CHECK_STR(json_string_value(json_object_get(json_object_get(j, "status"),
                                                "state")),
              "TASK_STATE_CANCELED");
    json_decref(j);
    /* whoever runs it finishes it: it stays canceled */
    a2a_task_state s;
    a2a_tasks_finish(st, b, A2A_COMPLETED, "late", NULL, A2A_V10, -1, &s,
                     NULL);
    CHECK_INT(s, A2A_CANCELED);
    CHECK_INT(a2a_tasks_cancel(st, b, A2A_V10, &j), A2A_ERR_TASK_NOT_CANCELABLE);
    CHECK_INT(a2a_tasks_cancel(st, "none", A2A_V10, &j),
              A2A_ERR_TASK_NOT_FOUND);
    a2a_list_query q = {.state = -1, .page_size = 1, .history_length = 0};
    snprintf(q.context_id, sizeof q.context_id, "x");
    CHECK_INT(a2a_tasks_list(st, &q, &j), 0);
    CHECK_INT(json_integer_value(json_object_get(j, "totalSize")), 2);
    /* b changed state last (the cancel; a has not changed since it was
     * created): it comes first, on a tie by being the newer task */
    json_t *t0 = json_array_get(json_object_get(j, "tasks"), 0);
    CHECK_STR(json_string_value(json_object_get(t0, "id")), b);
    CHECK(json_object_get(t0, "history") == NULL);
    CHECK(json_object_get(t0, "artifacts") == NULL);
    CHECK_STR(json_string_value(json_object_get(j, "nextPageToken")), "1");
    json_decref(j);
    q.offset = 1;
    CHECK_INT(a2a_tasks_list(st, &q, &j), 0);
    CHECK_STR(json_string_value(json_object_get(
                  json_array_get(json_object_get(j, "tasks"), 0), "id")),
              a);
    CHECK_STR(json_string_value(json_object_get(j, "nextPageToken")), "");
    json_decref(j);
    q.offset = 50; /* past the end: an empty page */
    CHECK_INT(a2a_tasks_list(st, &q, &j), 0);
    CHECK_INT(json_array_size(json_object_get(j, "tasks")), 0);
    json_decref(j);
    /* attach after a cancel tells the caller to cancel its runner (after
     * the listing: attaching a makes it WORKING, a newer state change) */
    CHECK_INT(a2a_tasks_attach(st, b, NULL), 1);
    CHECK_INT(a2a_tasks_attach(st, a, NULL), 0);
    a2a_task_state as;
    CHECK_INT(a2a_tasks_state(st, a, &as), 1);
    CHECK_INT(as, A2A_WORKING);
    a2a_tasks_finish(st, a, A2A_COMPLETED, "done", NULL, A2A_V10, -1, NULL,
                     NULL);
    a2a_tasks_finish(st, c, A2A_COMPLETED, "done", NULL, A2A_V10, -1, NULL,
                     NULL);
    a2a_tasks_free(st);
}

/* Several threads create, append, cancel, list and finish at once. */
static a2a_state *shared;

static void *worker(void *arg)
{
    (void)arg;
    for (int i = 0; i < 200; i++) {
        char id[37], why[128];
        if (a2a_tasks_create(shared, "ctx", "q", "m", id, NULL, why,
                             sizeof why))
            continue;
        a2a_tasks_append(shared, id, "abc", 3);
        json_t *j = NULL;
        if (i % 3 == 0) {
            a2a_tasks_cancel(shared, id, A2A_V10, &j);
            json_decref(j);
            j = NULL;
        }
        a2a_list_query q = {.state = -1, .page_size = 5, .history_length = -1};
        if (a2a_tasks_list(shared, &q, &j) == 0) json_decref(j);
        a2a_tasks_finish(shared, id, A2A_COMPLETED, "x", NULL, A2A_V03, -1,
                         NULL, &j);
        json_decref(j);
    }
    return NULL;
}

static void bg_fn(void *arg)
{
    (void)arg;
    usleep(1000);
}

static void test_table_threads(void)
{
    shared = a2a_tasks_new(50, 3600000);
    pthread_t t[4];
    for (int i = 0; i < 4; i++) pthread_create(&t[i], NULL, worker, NULL);
    for (int i = 0; i < 8; i++) CHECK_INT(a2a_tasks_spawn(shared, bg_fn, NULL), 0);
    for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
    CHECK(a2a_tasks_count(shared) <= 50);
    a2a_tasks_free(shared); /* joins the spawned threads */
}

int main(void)
{
    RUN(test_envelope);
    RUN(test_versions);
    RUN(test_send_params);
    RUN(test_task_and_list_params);
    RUN(test_shapes);
    RUN(test_card);
    RUN(test_table_bounds);
    RUN(test_table_cancel_and_list);
    RUN(test_table_threads);
    return test_report();
}
