/* Scaffolding shared by the agent's allocation-failure sweeps
 * (tests/unit/agent/test_*_oom.c): a fresh session per round holding a
 * given history (oom_fresh_session), one invocation run with the nth
 * allocation failing and the session loaded after it (oom_invoke_run /
 * oom_invoke_end), and the history checks every round makes: the working
 * view of a stored log is valid (oom_view_valid), and so is every request
 * the model saw (CHECK_SEEN_VALID). Include after failalloc.h and test.h. */
#ifndef STRANDS_TEST_OOM_AGENT_H
#define STRANDS_TEST_OOM_AGENT_H

#include <stdio.h>
#include <string.h>

#include "agent/conversation.h"
#include "failalloc.h"
#include "strands/strands.h"
#include "test.h"

/* One invocation under an armed failure, and what it left. */
typedef struct oom_invoke {
    strands_status st;          /* the invocation's status */
    int fired;                  /* the armed failure happened in it */
    strands_agent_result r;     /* its result */
    strands_error err;          /* its error when st is not OK */
    strands_session_record rec; /* its session as stored after it */
} oom_invoke;

/* Runs `inv` on `agent` with the nth allocation from the call on
 * failing, disarms, then loads the invocation's session from `store`
 * (checked to succeed). oom_invoke_end frees what it leaves.           */
static inline void oom_invoke_run(oom_invoke *o, strands_agent *agent,
                                  const strands_invocation *inv, long n,
                                  strands_session_store *store)
{
    memset(o, 0, sizeof *o);
    failalloc_arm(n);
    o->st = strands_agent_invoke(agent, inv, &o->r, &o->err);
    o->fired = failalloc_disarm();
    strands_session_key key = {.session_id = inv->session_id};
    CHECK_INT(store->vtab->load(store, &key, &o->rec, NULL), STRANDS_OK);
}

/* Frees the result and the record; leaves the injector as the sweep
 * expects it (failalloc_restore).                                      */
static inline void oom_invoke_end(oom_invoke *o)
{
    strands_session_record_clear(&o->rec);
    strands_agent_result_cleanup(&o->r);
    failalloc_restore(o->fired);
}

/* A fresh session per round (a log only grows): names session "s<n>" in
 * sid (cap bytes) and stores `before` in it unless `before` is empty.  */
static inline void oom_fresh_session(strands_session_store *store, long n,
                                     json_t *before, char *sid, size_t cap)
{
    snprintf(sid, cap, "s%ld", n);
    if (!json_array_size(before)) return;
    strands_session_key key = {.session_id = sid};
    json_t *agent_obj = json_object();
    CHECK_INT(store->vtab->append(store, &key, NULL, 0, before, agent_obj,
                                  NULL),
              STRANDS_OK);
    json_decref(agent_obj);
}

/* The log's working view (what the model would see) is valid. */
static inline int oom_view_valid(const json_t *log)
{
    json_t *w = NULL, *repair = NULL;
    if (conversation_restore(log, 0, &w, &repair) != STRANDS_OK) return 0;
    int ok = conversation_validate(w, NULL) == STRANDS_OK;
    json_decref(w);
    json_decref(repair);
    return ok;
}

/* Checks every request the model saw (the arrays in `seen`; anything
 * else is a copy that failed) with `validate` (conversation_validate,
 * cm_history_validate).                                                 */
#define CHECK_SEEN_VALID(seen, validate)                                 \
    do {                                                                 \
        size_t i_;                                                       \
        json_t *h_;                                                      \
        json_array_foreach(seen, i_, h_)                                 \
            CHECK(!json_is_array(h_) ||                                  \
                  validate(h_, NULL) == STRANDS_OK);                     \
    } while (0)

#endif
