/* Allocation-failure sweeps over the async invocation table
 * (src/server/async_table.c), the bookkeeping behind every async answer:
 * a failed add changes nothing (no entry, nothing evicted), a failed
 * result store leaves a finished entry whose answer says InternalError,
 * and an answer is either a complete document or NULL (the server then
 * sends its fixed 500 body); nothing leaks (ASan).                      */
#include <string.h>

#include "failalloc.h"
#include "server/async_table.h"
#include "test.h"

#define SWEEP_MAX 300

static runner_outcome outcome(strands_status st)
{
    runner_outcome o;
    memset(&o, 0, sizeof o);
    o.status = st;
    o.started = 1;
    if (st == STRANDS_OK) {
        o.result.text = "an answer";
        o.result.stop_reason = STRANDS_STOP_END_TURN;
        o.result.iterations = 2;
    } else {
        strands_error_set(&o.error, st, "ThrottlingException", "slow down");
    }
    return o;
}

/* An answer is NULL or whole: status, ids and, once finished, either the
 * stored fields or the InternalError of a result that could not be
 * stored.                                                              */
static void check_answer(const async_entry *e)
{
    json_t *doc = async_entry_json(e);
    if (!doc) return;
    CHECK_STR(json_string_value(json_object_get(doc, "invocation_id")), e->id);
    CHECK_STR(json_string_value(json_object_get(doc, "status")),
              async_state_name(e->state));
    if (e->state != ASYNC_RUNNING) {
        CHECK(json_is_integer(json_object_get(doc, "finished_at")));
        if (!e->fields)
            CHECK_STR(json_string_value(json_object_get(doc, "error_type")),
                      "InternalError");
        else if (e->state == ASYNC_COMPLETED)
            CHECK_STR(json_string_value(json_object_get(doc, "response")),
                      "an answer");
        else
            CHECK_STR(json_string_value(json_object_get(doc, "error_type")),
                      "ThrottlingException");
    }
    json_decref(doc);
}

static void test_table_sweep(void)
{
    long n, clean = 0;
    FAILALLOC_SWEEP(n, SWEEP_MAX) {
        async_tab t;
        if (async_tab_init(&t, 2, 1000, 60000) != STRANDS_OK) continue;
        async_entry *a = NULL, *b = NULL, *c = NULL;
        async_add_result r = async_tab_add(&t, "a", "s", 0, &a);
        if (r != ASYNC_ADD_OK) {
            CHECK_INT(r, ASYNC_ADD_NOMEM);
            CHECK(a == NULL && t.n_running == 0);
            async_tab_cleanup(&t);
            continue;
        }
        check_answer(a);
        r = async_tab_add(&t, "b", "s", 1, &b);
        if (r == ASYNC_ADD_OK) {
            runner_outcome ok = outcome(STRANDS_OK);
            runner_outcome bad = outcome(STRANDS_E_UPSTREAM);
            async_tab_finish(&t, a, &ok, 10);
            async_tab_finish(&t, b, &bad, 11);
            CHECK(a->state == ASYNC_COMPLETED ||
                  (a->state == ASYNC_FAILED && !a->fields));
            CHECK_INT(b->state, ASYNC_FAILED);
            check_answer(a);
            check_answer(b);
            /* Full of finished ones: a new entry evicts "a" only once it
             * exists. */
            r = async_tab_add(&t, "c", "s", 20, &c);
            if (r == ASYNC_ADD_OK) {
                CHECK(async_tab_find(&t, "a", 20) == NULL);
                CHECK(async_tab_find(&t, "b", 20) == b);
                check_answer(c);
                if (a && b) clean++;
            } else {
                CHECK_INT(r, ASYNC_ADD_NOMEM);
                CHECK(async_tab_find(&t, "a", 20) == a);
                CHECK_INT(t.n_finished, 2);
            }
        } else {
            CHECK_INT(r, ASYNC_ADD_NOMEM);
            CHECK(async_tab_find(&t, "a", 1) == a);
            CHECK_INT(t.n_running, 1);
        }
        async_tab_cleanup(&t);
    }
    CHECK(n == SWEEP_MAX + 2);
    CHECK(clean >= 1);
}

int main(void)
{
    failalloc_init();
    RUN(test_table_sweep);
    return test_report();
}
