/* The async invocation table (src/server/async_table.c) with explicit
 * times: ids, duplicates, the cap (429 when all run), eviction of the
 * entry that finished longest ago, TTL expiry measured from the finish,
 * the outcome-to-status mapping (completed, failed, AsyncTimeout,
 * cancelled) and the get_invocation answer's fields.                    */
#include <stdio.h>
#include <string.h>

#include "server/async_table.h"
#include "test.h"

static runner_outcome ok_outcome(const char *text)
{
    runner_outcome o;
    memset(&o, 0, sizeof o);
    o.status = STRANDS_OK;
    o.started = 1;
    o.result.text = (char *)text;
    o.result.stop_reason = STRANDS_STOP_END_TURN;
    o.result.usage = (strands_usage){5, 2, 7, 0, 0};
    o.result.iterations = 1;
    return o;
}

static runner_outcome err_outcome(strands_status st, const char *code,
                                  const char *msg)
{
    runner_outcome o;
    memset(&o, 0, sizeof o);
    o.status = st;
    o.started = 1;
    strands_error_set(&o.error, st, code, "%s", msg);
    return o;
}

static async_entry *add(async_tab *t, const char *id, int64_t now)
{
    async_entry *e = NULL;
    async_add_result r = async_tab_add(t, id, "sess-1", now, &e);
    if (r != ASYNC_ADD_OK) FAIL_AT("add %s: %d", id, (int)r);
    return e;
}

static void test_add_find_duplicate(void)
{
    async_tab t;
    CHECK_INT(async_tab_init(&t, 10, 1000, 5000), STRANDS_OK);
    async_entry *a = add(&t, "inv-a", 100);
    CHECK(a != NULL);
    CHECK_STR(a->session_id, "sess-1");
    CHECK_INT(a->state, ASYNC_RUNNING);
    CHECK(a->deadline_ms == 5100);
    CHECK(async_tab_find(&t, "inv-a", 200) == a);
    CHECK(async_tab_find(&t, "inv-b", 200) == NULL);
    async_entry *dup = NULL;
    CHECK_INT(async_tab_add(&t, "inv-a", "other", 200, &dup),
              ASYNC_ADD_EXISTS);
    CHECK(dup == NULL);
    CHECK(async_tab_find_serial(&t, "inv-a", a->serial, 200) == a);
    CHECK(async_tab_find_serial(&t, "inv-a", a->serial + 1, 200) == NULL);
    async_tab_remove(&t, a);
    CHECK(async_tab_find(&t, "inv-a", 200) == NULL);
    CHECK_INT(t.n_running, 0);
    /* The id is free again. */
    CHECK(add(&t, "inv-a", 300) != NULL);
    async_tab_cleanup(&t);
}

static void test_many_ids(void)
{
    async_tab t;
    CHECK_INT(async_tab_init(&t, 300, 1000, 5000), STRANDS_OK);
    char id[32];
    for (int i = 0; i < 300; i++) {
        snprintf(id, sizeof id, "id-%d", i);
        add(&t, id, i);
    }
    for (int i = 0; i < 300; i++) {
        snprintf(id, sizeof id, "id-%d", i);
        async_entry *e = async_tab_find(&t, id, 400);
        if (!e || strcmp(e->id, id)) FAIL_AT("lost %s", id);
    }
    for (int i = 0; i < 300; i += 2) {
        snprintf(id, sizeof id, "id-%d", i);
        async_tab_remove(&t, async_tab_find(&t, id, 400));
    }
    for (int i = 0; i < 300; i++) {
        snprintf(id, sizeof id, "id-%d", i);
        CHECK((async_tab_find(&t, id, 400) != NULL) == (i % 2 == 1));
    }
    CHECK_INT(t.n_running, 150);
    async_tab_cleanup(&t);
}

static void test_cap_and_eviction_order(void)
{
    async_tab t;
    CHECK_INT(async_tab_init(&t, 3, 100000, 100000), STRANDS_OK);
    async_entry *a = add(&t, "a", 1);
    async_entry *b = add(&t, "b", 2);
    async_entry *c = add(&t, "c", 3);
    async_entry *e = NULL;
    /* All running: nothing can go. */
    CHECK_INT(async_tab_add(&t, "d", "s", 4, &e), ASYNC_ADD_FULL);
    runner_outcome o = ok_outcome("x");
    /* b finishes first, then a: b is the one finished longest ago. */
    async_tab_finish(&t, b, &o, 10);
    async_tab_finish(&t, a, &o, 20);
    CHECK_INT(t.n_running, 1);
    CHECK_INT(t.n_finished, 2);
    CHECK(add(&t, "d", 30) != NULL);
    CHECK(async_tab_find(&t, "b", 30) == NULL);
    CHECK(async_tab_find(&t, "a", 30) == a);
    CHECK(add(&t, "e", 31) != NULL);
    CHECK(async_tab_find(&t, "a", 31) == NULL);
    CHECK(async_tab_find(&t, "c", 31) == c);
    /* c, d and e run: full again. */
    CHECK_INT(async_tab_add(&t, "f", "s", 32, &e), ASYNC_ADD_FULL);
    async_tab_cleanup(&t);
}

static void test_ttl_from_finish(void)
{
    async_tab t;
    CHECK_INT(async_tab_init(&t, 10, 1000, 100000), STRANDS_OK);
    async_entry *old = add(&t, "old", 0);
    async_entry *young = add(&t, "young", 50);
    runner_outcome o = ok_outcome("x");
    /* Created first, finished last: its TTL runs from the finish. */
    async_tab_finish(&t, young, &o, 100);
    async_tab_finish(&t, old, &o, 600);
    /* A running entry never expires, however old. */
    async_entry *run = add(&t, "run", 0);
    CHECK(async_tab_find(&t, "young", 1099) == young);
    CHECK(async_tab_find(&t, "young", 1100) == NULL);
    CHECK(async_tab_find(&t, "old", 1599) == old);
    CHECK_INT(async_tab_expire(&t, 1600), 1);
    CHECK(async_tab_find(&t, "old", 1600) == NULL);
    CHECK(async_tab_find(&t, "run", 1000000) == run);
    CHECK_INT(t.n_finished, 0);
    async_tab_cleanup(&t);
}

static void test_outcome_mapping(void)
{
    async_tab t;
    CHECK_INT(async_tab_init(&t, 10, 1000, 7000), STRANDS_OK);

    async_entry *e = add(&t, "done", 0);
    runner_outcome o = ok_outcome("the answer");
    async_tab_finish(&t, e, &o, 10);
    CHECK_INT(e->state, ASYNC_COMPLETED);
    json_t *doc = async_entry_json(e);
    CHECK_STR(json_string_value(json_object_get(doc, "status")), "completed");
    CHECK_STR(json_string_value(json_object_get(doc, "invocation_id")),
              "done");
    CHECK_STR(json_string_value(json_object_get(doc, "session_id")),
              "sess-1");
    CHECK_STR(json_string_value(json_object_get(doc, "response")),
              "the answer");
    CHECK_STR(json_string_value(json_object_get(doc, "stop_reason")),
              "EndTurn");
    CHECK_INT(json_integer_value(json_object_get(
                  json_object_get(doc, "usage"), "total_tokens")),
              7);
    CHECK_INT(json_integer_value(json_object_get(doc, "iterations")), 1);
    CHECK(json_is_integer(json_object_get(doc, "created_at")));
    CHECK(json_is_integer(json_object_get(doc, "finished_at")));
    CHECK(json_object_get(doc, "error") == NULL);
    /* The answer shares no value with the entry (it is written out after
     * the table's lock is dropped, when the entry may be gone). */
    CHECK(json_object_get(doc, "usage") != NULL);
    CHECK(json_object_get(doc, "usage") !=
          json_object_get(e->fields, "usage"));
    CHECK(json_object_get(doc, "response") !=
          json_object_get(e->fields, "response"));
    json_decref(doc);

    e = add(&t, "bad", 0);
    o = err_outcome(STRANDS_E_UPSTREAM, "ThrottlingException", "slow down");
    async_tab_finish(&t, e, &o, 10);
    doc = async_entry_json(e);
    CHECK_STR(json_string_value(json_object_get(doc, "status")), "failed");
    CHECK_STR(json_string_value(json_object_get(doc, "error_type")),
              "ThrottlingException");
    CHECK_STR(json_string_value(json_object_get(doc, "error")), "slow down");
    CHECK(json_object_get(doc, "response") == NULL);
    json_decref(doc);

    e = add(&t, "late", 0);
    e->timed_out = 1;
    o = err_outcome(STRANDS_E_CANCELLED, "Cancelled", "invocation cancelled");
    async_tab_finish(&t, e, &o, 10);
    doc = async_entry_json(e);
    CHECK_STR(json_string_value(json_object_get(doc, "status")), "failed");
    CHECK_STR(json_string_value(json_object_get(doc, "error_type")),
              "AsyncTimeout");
    CHECK(strstr(json_string_value(json_object_get(doc, "error")),
                 "ASYNC_MAX_SECONDS (7 s)") != NULL);
    json_decref(doc);

    e = add(&t, "stopped", 0);
    e->cancel_requested = 1;
    async_tab_finish(&t, e, &o, 10);
    doc = async_entry_json(e);
    CHECK_STR(json_string_value(json_object_get(doc, "status")), "cancelled");
    CHECK_STR(json_string_value(json_object_get(doc, "error_type")),
              "Cancelled");
    json_decref(doc);

    /* Cancelled by the server shutting down (cancel_all). */
    e = add(&t, "shutdown", 0);
    async_tab_finish(&t, e, &o, 10);
    CHECK_INT(e->state, ASYNC_CANCELLED);

    /* A cancel that came too late: it finished first. */
    e = add(&t, "raced", 0);
    e->cancel_requested = 1;
    o = ok_outcome("made it");
    async_tab_finish(&t, e, &o, 10);
    CHECK_INT(e->state, ASYNC_COMPLETED);

    /* Running: no finish fields. */
    e = add(&t, "running", 0);
    doc = async_entry_json(e);
    CHECK_STR(json_string_value(json_object_get(doc, "status")), "running");
    CHECK(json_object_get(doc, "finished_at") == NULL);
    CHECK_INT(json_object_size(doc), 4);
    json_decref(doc);
    /* finish is a no-op on a finished entry. */
    e = async_tab_find(&t, "done", 11);
    o = err_outcome(STRANDS_E_IO, NULL, "x");
    async_tab_finish(&t, e, &o, 11);
    CHECK_INT(e->state, ASYNC_COMPLETED);
    async_tab_cleanup(&t);
}

static void test_state_names(void)
{
    CHECK_STR(async_state_name(ASYNC_RUNNING), "running");
    CHECK_STR(async_state_name(ASYNC_COMPLETED), "completed");
    CHECK_STR(async_state_name(ASYNC_FAILED), "failed");
    CHECK_STR(async_state_name(ASYNC_CANCELLED), "cancelled");
}

int main(void)
{
    RUN(test_add_find_duplicate);
    RUN(test_many_ids);
    RUN(test_cap_and_eviction_order);
    RUN(test_ttl_from_finish);
    RUN(test_outcome_mapping);
    RUN(test_state_names);
    return test_report();
}
