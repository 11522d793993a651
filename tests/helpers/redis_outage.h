/* Redis going away under a session store, the scenarios both Redis store
 * tests run (test_redis_store.c over plain TCP, test_rediss_store.c over
 * TLS): the server killed mid-run (every call a 503-class
 * SessionStoreUnavailable at once, no hang), restarted empty (the store
 * reconnects by itself), and killed again between two calls (pooled
 * connections replaced without a failed call); and the server frozen
 * (a load fails after about the command timeout, then works once it
 * thaws). Include after test.h and redis_server.h.                    */
#ifndef STRANDS_TEST_REDIS_OUTAGE_H
#define STRANDS_TEST_REDIS_OUTAGE_H

#include "strands/clock.h"
#include "strands/session.h"
#include "redis_server.h"
#include "test.h"

/* Kills `srv` under `s` (session "outage"; `t` is a turn, `agent` the
 * agent state to append) and brings it back, twice.                    */
static inline void redis_outage_killed_then_recovers(test_redis *srv,
                                                     strands_session_store *s,
                                                     json_t *t, json_t *agent)
{
    strands_session_key key = {.session_id = "outage"};
    strands_session_record rec;
    strands_error err;
    CHECK_INT(s->vtab->append(s, &key, NULL, 0, t, agent, &err), STRANDS_OK);

    test_redis_kill(srv); /* as abrupt as a crash */
    int64_t t0 = strands_clock_mono_ms();
    CHECK_INT(s->vtab->load(s, &key, &rec, &err), STRANDS_E_UNAVAILABLE);
    CHECK_STR(err.code, "SessionStoreUnavailable");
    CHECK(strstr(err.message, "Redis") != NULL);
    CHECK_INT(strands_status_http(err.status), 503);
    strands_session_claim c;
    CHECK_INT(s->vtab->claim(s, &key, &c, &err), STRANDS_E_UNAVAILABLE);
    CHECK_STR(err.code, "SessionStoreUnavailable");
    CHECK_INT(s->vtab->append(s, &key, NULL, 2, t, agent, &err),
              STRANDS_E_UNAVAILABLE);
    CHECK_INT(s->vtab->renew(s, &key, &c, &err), STRANDS_E_UNAVAILABLE);
    CHECK_INT(s->vtab->release(s, &key, &c, &err), STRANDS_E_UNAVAILABLE);
    CHECK(strands_clock_mono_ms() - t0 < 3000); /* refused, not hung */

    /* Back (empty: the test server keeps nothing on disk): the store
     * reconnects by itself, and the first call after works. */
    CHECK_INT(test_redis_restart(srv), 0);
    CHECK_INT(s->vtab->load(s, &key, &rec, &err), STRANDS_OK);
    CHECK_INT(rec.count, 0);
    strands_session_record_clear(&rec);
    CHECK_INT(s->vtab->append(s, &key, NULL, 0, t, agent, &err), STRANDS_OK);

    /* Pooled connections that Redis closed while idle (a restart between
     * two calls) are replaced without a failed call. */
    test_redis_kill(srv);
    CHECK_INT(test_redis_restart(srv), 0);
    CHECK_INT(s->vtab->claim(s, &key, &c, &err), STRANDS_OK);
    CHECK_INT(s->vtab->append(s, &key, &c, 0, t, agent, &err), STRANDS_OK);
    CHECK_INT(s->vtab->release(s, &key, &c, &err), STRANDS_OK);
}

/* Freezes `srv` under `s` (session "frozen"): the load fails within
 * [min_ms, max_ms) (the store's command timeout), then works again.    */
static inline void redis_outage_frozen(test_redis *srv,
                                       strands_session_store *s,
                                       int64_t min_ms, int64_t max_ms)
{
    strands_session_key key = {.session_id = "frozen"};
    strands_session_record rec;
    strands_error err;
    CHECK_INT(s->vtab->load(s, &key, &rec, &err), STRANDS_OK);
    strands_session_record_clear(&rec);
    test_redis_freeze(srv, 1);
    int64_t t0 = strands_clock_mono_ms();
    CHECK_INT(s->vtab->load(s, &key, &rec, &err), STRANDS_E_UNAVAILABLE);
    CHECK_STR(err.code, "SessionStoreUnavailable");
    int64_t took = strands_clock_mono_ms() - t0;
    CHECK(took >= min_ms && took < max_ms);
    CHECK(strstr(err.message, "in time") != NULL);
    test_redis_freeze(srv, 0);
    CHECK_INT(s->vtab->load(s, &key, &rec, &err), STRANDS_OK);
    strands_session_record_clear(&rec);
}

#endif
