/* The Redis session store against a private redis-server on a free
 * loopback port (tests/helpers/redis_server.h; skipped when redis-server
 * is not installed): the SESSION_STORE URL, the key layout, load/append
 * with the conversation manager's skip, SessionConflict, the claim as a
 * lock with a lease (busy, renew, release, expiry and takeover, lock
 * wait), the idle TTL, the history cap, the Lua script cache (EVALSHA
 * after SCRIPT FLUSH), AUTH and SELECT, concurrent turns that never
 * interleave, and Redis killed or frozen mid-run: 503-class errors, no
 * hang, then recovery once it is back.                                 */
#include <pthread.h>

#include <hiredis/hiredis.h>

#include "session/redis.h"
#include "session/redis_conn.h"
#include "strands/clock.h"
#include "strands/session.h"
#include "redis_outage.h"
#include "redis_server.h"
#include "test.h"

static test_redis server;
static int have_server;

/* Skips the test without a server; else empties the server. */
#define NEED_SERVER()                                                    \
    do {                                                                 \
        if (!have_server)                                                \
            SKIP("redis-server is not installed (apt-get install "       \
                 "redis-server, or set REDIS_SERVER)");                  \
        test_redis_do(&server, "FLUSHALL");                              \
    } while (0)

/* A store on the test server with the given lease, wait and TTL. */
static strands_session_store *store_with(int64_t lease_ms, int64_t wait_ms,
                                         int64_t ttl_s, size_t cap)
{
    session_redis_config cfg = {
        .host = "127.0.0.1", .port = server.port, .ttl_s = ttl_s,
        .lease_ms = lease_ms, .lock_wait_ms = wait_ms, .pool_size = 4,
        .connect_timeout_ms = 1000, .command_timeout_ms = 1000,
        .max_history_bytes = cap};
    strands_error err;
    strands_session_store *s = session_redis_store_new(&cfg, &err);
    if (!s) fprintf(stderr, "  store: %s\n", err.message);
    return s;
}

static strands_session_store *store_default(void)
{
    return store_with(30000, 0, 3600, 0);
}

static json_t *msg(const char *role, const char *text)
{
    return json_pack("{s:s, s:[{s:s}]}", "role", role, "content", "text",
                     text);
}

/* A turn of two messages: user `u`, assistant `a`. */
static json_t *turn(const char *u, const char *a)
{
    json_t *arr = json_array();
    json_array_append_new(arr, msg("user", u));
    json_array_append_new(arr, msg("assistant", a));
    return arr;
}

static const char *text_at(const json_t *msgs, size_t i)
{
    return json_string_value(json_object_get(
        json_array_get(json_object_get(json_array_get(msgs, i), "content"),
                       0),
        "text"));
}

/* The integer reply of `fmt` on `key` (-99: none). */
static long long key_int(const char *fmt, const char *key)
{
    return test_redis_int(&server, fmt, key);
}

/* Drops a test's turn and agent state and frees its store. */
static void finish(strands_session_store *s, json_t *t, json_t *agent)
{
    json_decref(t);
    json_decref(agent);
    strands_session_store_free(s);
}

/* ---- URL parsing (no server) -------------------------------------------- */

static void test_url_parse(void)
{
    session_redis_config c;
    strands_error err;
    memset(&c, 0, sizeof c);
    CHECK_INT(session_redis_url_parse("redis://cache.local", &c, &err),
              STRANDS_OK);
    CHECK_STR(c.host, "cache.local");
    CHECK_INT(c.port, 6379);
    CHECK_INT(c.db, 0);
    CHECK(!c.user && !c.password && !c.tls);
    session_redis_config_cleanup(&c);

    CHECK_INT(session_redis_url_parse("REDIS://app:p%40ss%3Aw0rd@10.0.0.5:7000/3",
                                      &c, &err), STRANDS_OK);
    CHECK_STR(c.host, "10.0.0.5");
    CHECK_INT(c.port, 7000);
    CHECK_STR(c.user, "app");
    CHECK_STR(c.password, "p@ss:w0rd");
    CHECK_INT(c.db, 3);
    session_redis_config_cleanup(&c);
    CHECK(!c.host && !c.password);

    CHECK_INT(session_redis_url_parse("redis://:onlypw@[::1]:6380/", &c,
                                      &err), STRANDS_OK);
    CHECK_STR(c.host, "::1");
    CHECK(c.user == NULL);
    CHECK_STR(c.password, "onlypw");
    session_redis_config_cleanup(&c);

    CHECK_INT(session_redis_url_parse("rediss://h:6390", &c, &err),
              STRANDS_OK);
    CHECK_INT(c.tls, 1);
    /* A TLS store is made without connecting (test_rediss_store.c talks
     * to a TLS server); a CA file that cannot be read is refused now. */
    c.lease_ms = 1000;
    c.pool_size = 1;
    strands_session_store *s = session_redis_store_new(&c, &err);
    CHECK(s != NULL);
    strands_session_store_free(s);
    c.tls_ca_file = "/nonexistent/ca.pem";
    s = session_redis_store_new(&c, &err);
    CHECK(s == NULL);
    CHECK_INT(err.status, STRANDS_E_INVALID);
    CHECK(strstr(err.message, "REDIS_TLS_CA_FILE") != NULL);
    session_redis_config_cleanup(&c);

    static const char *bad[] = {
        "redis://", "redis://h/abc", "redis://h/1/2", "redis://h?db=1",
        "redis://h#x", "redis://h:0", "redis://h:99999", "http://h",
        "redis:h", "redis://h /1", "redis://0x7f.1", "redis://h/12345",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset(&c, 0, sizeof c);
        strands_status st = session_redis_url_parse(bad[i], &c, &err);
        if (st != STRANDS_E_INVALID) FAIL_AT("accepted %s", bad[i]);
        CHECK(!strncmp(err.message, "SESSION_STORE", 13));
        CHECK(c.host == NULL);
    }
    /* The password never shows in an error. */
    CHECK_INT(session_redis_url_parse("redis://u:hunter2secret@h/x", &c,
                                      &err), STRANDS_E_INVALID);
    CHECK(strstr(err.message, "hunter2secret") == NULL);
    CHECK_INT(session_redis_url_parse("redis://u:hunter2secret@h:0", &c,
                                      &err), STRANDS_E_INVALID);
    CHECK(strstr(err.message, "hunter2secret") == NULL);

    CHECK_INT(session_redis_prefix_check("strands:session", &err),
              STRANDS_OK);
    CHECK_INT(session_redis_prefix_check("a{b", &err), STRANDS_E_INVALID);
    CHECK_INT(session_redis_prefix_check("", &err), STRANDS_E_INVALID);
    CHECK_INT(session_redis_prefix_check("a b", &err), STRANDS_E_INVALID);
}

/* ---- load / append ------------------------------------------------------- */

static void test_round_trip_and_layout(void)
{
    NEED_SERVER();
    strands_session_store *s = store_default();
    CHECK_STR(s->vtab->name, "redis");
    CHECK_INT(s->vtab->version, STRANDS_SESSION_VTAB_VERSION);
    strands_session_key key = {.session_id = "s-1"};
    strands_session_record rec;
    strands_error err;
    CHECK_INT(s->vtab->load(s, &key, &rec, &err), STRANDS_OK);
    CHECK_INT(json_array_size(rec.messages), 0);
    CHECK(json_is_object(rec.agent) && json_object_size(rec.agent) == 0);
    CHECK_INT(rec.count, 0);
    CHECK_INT(rec.first, 0);
    strands_session_record_clear(&rec);

    json_t *t1 = turn("hi", "hello");
    json_t *agent = json_pack("{s:{s:i}}", "state", "n", 1);
    CHECK_INT(s->vtab->append(s, &key, NULL, 0, t1, agent, &err),
              STRANDS_OK);
    json_t *t2 = turn("again", "sure");
    json_object_set_new(json_object_get(agent, "state"), "n",
                        json_integer(2));
    CHECK_INT(s->vtab->append(s, &key, NULL, 2, t2, agent, &err),
              STRANDS_OK);
    CHECK_INT(s->vtab->load(s, &key, &rec, &err), STRANDS_OK);
    CHECK_INT(rec.count, 4);
    CHECK_INT(json_array_size(rec.messages), 4);
    CHECK_STR(text_at(rec.messages, 0), "hi");
    CHECK_STR(text_at(rec.messages, 3), "sure");
    CHECK(json_equal(rec.agent, agent));
    strands_session_record_clear(&rec);

    /* The documented layout: keys of the session under one hash tag. */
    CHECK_INT(key_int("LLEN %s", "strands:session:{s-1}:default:log"), 4);
    CHECK_INT(key_int("EXISTS %s", "strands:session:{s-1}:default:agent"),
              1);
    CHECK_INT(key_int("EXISTS %s", "strands:session:{s-1}:default:meta"), 1);
    redisReply *r = test_redis_cmd(&server, "LINDEX %s 0",
                                   "strands:session:{s-1}:default:log");
    CHECK(r && r->type == REDIS_REPLY_STRING &&
          !strcmp(r->str, "{\"role\":\"user\",\"content\":[{\"text\":"
                          "\"hi\"}]}"));
    if (r) freeReplyObject(r);

    /* Another agent of the same session is another log; '}' and '%' in
     * the session id are escaped so the hash tag stays the session's. */
    strands_session_key k2 = {.session_id = "odd}%id", .agent_id = "helper"};
    CHECK_INT(s->vtab->append(s, &k2, NULL, 0, t1, agent, &err),
              STRANDS_OK);
    CHECK_INT(key_int("LLEN %s", "strands:session:{odd%7D%25id}:helper:log"),
              2);
    CHECK_INT(s->vtab->load(s, &k2, &rec, &err), STRANDS_OK);
    CHECK_INT(rec.count, 2);
    strands_session_record_clear(&rec);
    CHECK_INT(s->vtab->load(s, &key, &rec, &err), STRANDS_OK);
    CHECK_INT(rec.count, 4); /* untouched */
    strands_session_record_clear(&rec);

    /* Bad arguments are refused before Redis is asked. */
    strands_session_key bad = {.session_id = ""};
    CHECK_INT(s->vtab->load(s, &bad, &rec, &err), STRANDS_E_INVALID);
    json_t *notarr = json_object();
    CHECK_INT(s->vtab->append(s, &key, NULL, 4, notarr, agent, &err),
              STRANDS_E_INVALID);
    json_decref(notarr);
    json_decref(t2);
    finish(s, t1, agent);
}

static void test_load_skips_removed_messages(void)
{
    NEED_SERVER();
    strands_session_store *s = store_default();
    strands_session_key key = {.session_id = "window"};
    strands_error err;
    json_t *t = turn("a", "b");
    json_t *agent = json_object();
    for (size_t i = 0; i < 3; i++)
        CHECK_INT(s->vtab->append(s, &key, NULL, 2 * i, t, agent, &err),
                  STRANDS_OK);
    json_decref(agent);
    agent = json_pack("{s:{s:i}}", "conversation_manager_state",
                      "removed_message_count", 4);
    json_t *empty = json_array();
    CHECK_INT(s->vtab->append(s, &key, NULL, 6, empty, agent, &err),
              STRANDS_OK);
    strands_session_record rec;
    CHECK_INT(s->vtab->load(s, &key, &rec, &err), STRANDS_OK);
    CHECK_INT(rec.count, 6);
    CHECK_INT(rec.first, 4);
    CHECK_INT(json_array_size(rec.messages), 2);
    strands_session_record_clear(&rec);
    /* A count past the log (or not an integer) is ignored: first = 0. */
    json_object_set_new(json_object_get(agent, "conversation_manager_state"),
                        "removed_message_count", json_integer(99));
    CHECK_INT(s->vtab->append(s, &key, NULL, 6, empty, agent, &err),
              STRANDS_OK);
    CHECK_INT(s->vtab->load(s, &key, &rec, &err), STRANDS_OK);
    CHECK_INT(rec.first, 0);
    CHECK_INT(json_array_size(rec.messages), 6);
    strands_session_record_clear(&rec);
    json_object_set_new(json_object_get(agent, "conversation_manager_state"),
                        "removed_message_count", json_real(1.5));
    CHECK_INT(s->vtab->append(s, &key, NULL, 6, empty, agent, &err),
              STRANDS_OK);
    CHECK_INT(s->vtab->load(s, &key, &rec, &err), STRANDS_OK);
    CHECK_INT(rec.first, 0);
    strands_session_record_clear(&rec);
    json_decref(empty);
    finish(s, t, agent);
}

static void test_conflict_writes_nothing(void)
{
    NEED_SERVER();
    strands_session_store *s = store_default();
    strands_session_key key = {.session_id = "race"};
    strands_error err;
    json_t *t = turn("one", "two");
    json_t *agent = json_pack("{s:s}", "v", "first");
    CHECK_INT(s->vtab->append(s, &key, NULL, 0, t, agent, &err), STRANDS_OK);
    json_t *agent2 = json_pack("{s:s}", "v", "second");
    /* A writer that loaded before the first append (base 0). */
    CHECK_INT(s->vtab->append(s, &key, NULL, 0, t, agent2, &err),
              STRANDS_E_BUSY);
    CHECK_STR(err.code, "SessionConflict");
    CHECK(strstr(err.message, "race") != NULL);
    CHECK_INT(s->vtab->append(s, &key, NULL, 5, t, agent2, &err),
              STRANDS_E_BUSY);
    CHECK_STR(err.code, "SessionConflict");
    strands_session_record rec;
    CHECK_INT(s->vtab->load(s, &key, &rec, &err), STRANDS_OK);
    CHECK_INT(rec.count, 2);
    CHECK(json_equal(rec.agent, agent));
    strands_session_record_clear(&rec);
    json_decref(agent2);
    finish(s, t, agent);
}

static void test_history_cap(void)
{
    NEED_SERVER();
    strands_session_store *s = store_with(30000, 0, 3600, 300);
    strands_session_key key = {.session_id = "cap"};
    strands_error err;
    json_t *agent = json_object();
    json_t *t = turn("0123456789", "0123456789"); /* ~2 x 56 bytes */
    CHECK_INT(s->vtab->append(s, &key, NULL, 0, t, agent, &err), STRANDS_OK);
    CHECK_INT(s->vtab->append(s, &key, NULL, 2, t, agent, &err), STRANDS_OK);
    CHECK_INT(s->vtab->append(s, &key, NULL, 4, t, agent, &err),
              STRANDS_E_TOO_LARGE);
    CHECK_STR(err.code, "SessionHistoryTooLarge");
    CHECK(strstr(err.message, "SESSION_MAX_HISTORY_BYTES") != NULL);
    CHECK_INT(key_int("LLEN %s", "strands:session:{cap}:default:log"), 4);
    /* The byte count is rebuilt from the log when its key is gone. */
    test_redis_do(&server, "DEL %s",
                           "strands:session:{cap}:default:meta");
    CHECK_INT(s->vtab->append(s, &key, NULL, 4, t, agent, &err),
              STRANDS_E_TOO_LARGE);
    CHECK_INT(key_int("LLEN %s", "strands:session:{cap}:default:log"), 4);
    json_t *small = json_array();
    CHECK_INT(s->vtab->append(s, &key, NULL, 4, small, agent, &err),
              STRANDS_OK);
    json_decref(small);
    finish(s, t, agent);
}

static void test_ttl_applied(void)
{
    NEED_SERVER();
    strands_session_store *s = store_with(30000, 0, 100, 0);
    strands_session_key key = {.session_id = "ttl"};
    strands_error err;
    json_t *t = turn("x", "y");
    json_t *agent = json_object();
    CHECK_INT(s->vtab->append(s, &key, NULL, 0, t, agent, &err), STRANDS_OK);
    const char *names[] = {"strands:session:{ttl}:default:log",
                           "strands:session:{ttl}:default:agent",
                           "strands:session:{ttl}:default:meta"};
    for (int i = 0; i < 3; i++) {
        long long ms = key_int("PTTL %s", names[i]);
        if (ms <= 90000 || ms > 100000)
            FAIL_AT("%s: PTTL %lld, want ~100000", names[i], ms);
    }
    strands_session_store_free(s);
    /* TTL 0: the keys are made persistent again. */
    s = store_with(30000, 0, 0, 0);
    CHECK_INT(s->vtab->append(s, &key, NULL, 2, t, agent, &err), STRANDS_OK);
    for (int i = 0; i < 3; i++) CHECK_INT(key_int("PTTL %s", names[i]), -1);
    strands_session_store_free(s);
    /* A short TTL really drops an idle session. */
    s = store_with(30000, 0, 1, 0);
    strands_session_key k2 = {.session_id = "short"};
    CHECK_INT(s->vtab->append(s, &k2, NULL, 0, t, agent, &err), STRANDS_OK);
    test_redis_sleep_ms(1300);
    strands_session_record rec;
    CHECK_INT(s->vtab->load(s, &k2, &rec, &err), STRANDS_OK);
    CHECK_INT(rec.count, 0);
    strands_session_record_clear(&rec);
    finish(s, t, agent);
}

/* Values this store did not write: a clear error, not a crash. */
static void test_corrupt_values(void)
{
    NEED_SERVER();
    strands_session_store *s = store_default();
    strands_session_key key = {.session_id = "bad"};
    strands_session_record rec;
    strands_error err;
    test_redis_do(&server, "RPUSH %s %s",
                           "strands:session:{bad}:default:log",
                           "{not json");
    CHECK_INT(s->vtab->load(s, &key, &rec, &err), STRANDS_E_INTERNAL);
    CHECK_STR(err.code, "SessionCorrupt");
    CHECK(rec.messages == NULL && rec.agent == NULL);
    test_redis_do(&server, "DEL %s", "strands:session:{bad}:default:log");
    test_redis_do(&server, "SET %s %s",
                           "strands:session:{bad}:default:agent", "[1,2]");
    CHECK_INT(s->vtab->load(s, &key, &rec, &err), STRANDS_E_INTERNAL);
    CHECK_STR(err.code, "SessionCorrupt");
    /* A key of another type: Redis's WRONGTYPE, as the store's error. */
    test_redis_do(&server, "SET %s %s",
                           "strands:session:{bad}:default:log", "x");
    CHECK_INT(s->vtab->load(s, &key, &rec, &err), STRANDS_E_UNAVAILABLE);
    CHECK(strstr(err.message, "WRONGTYPE") != NULL);
    strands_session_store_free(s);
}

/* EVALSHA finds no script after SCRIPT FLUSH (or a fresh server): the
 * store falls back to EVAL, which caches it for the next EVALSHA.      */
static void test_script_cache_fallback(void)
{
    NEED_SERVER();
    test_redis_do(&server, "SCRIPT FLUSH");
    strands_session_store *s = store_default();
    strands_session_key key = {.session_id = "lua"};
    strands_error err;
    json_t *t = turn("x", "y");
    json_t *agent = json_object();
    CHECK_INT(s->vtab->append(s, &key, NULL, 0, t, agent, &err), STRANDS_OK);
    /* Two EVALs ran in total so far is not observable; the cache is. */
    test_redis_do(&server, "SCRIPT FLUSH");
    CHECK_INT(s->vtab->append(s, &key, NULL, 2, t, agent, &err), STRANDS_OK);
    strands_session_record rec;
    CHECK_INT(s->vtab->load(s, &key, &rec, &err), STRANDS_OK);
    CHECK_INT(rec.count, 4);
    strands_session_record_clear(&rec);
    /* EVALSHA now hits: the command stats count evalsha calls. */
    test_redis_do(&server, "CONFIG RESETSTAT");
    CHECK_INT(s->vtab->load(s, &key, &rec, &err), STRANDS_OK);
    strands_session_record_clear(&rec);
    redisReply *r = test_redis_cmd(&server, "INFO commandstats");
    CHECK(r && r->type == REDIS_REPLY_STRING &&
          strstr(r->str, "cmdstat_evalsha:calls=1,") != NULL &&
          strstr(r->str, "cmdstat_eval:") == NULL);
    if (r) freeReplyObject(r);
    finish(s, t, agent);
}

/* ---- claims ---------------------------------------------------------------- */

static void test_claims(void)
{
    NEED_SERVER();
    strands_session_store *s = store_default();
    strands_session_key key = {.session_id = "c"};
    strands_session_claim a, b;
    strands_error err;
    int64_t t0 = strands_clock_mono_ms();
    CHECK_INT(s->vtab->claim(s, &key, &a, &err), STRANDS_OK);
    CHECK_INT(strlen(a.token), 32);
    CHECK(a.expires_ms >= t0 + 30000 && a.expires_ms < t0 + 31000);
    redisReply *r = test_redis_cmd(&server, "GET %s",
                                   "strands:session:{c}:lock");
    CHECK(r && r->type == REDIS_REPLY_STRING && !strcmp(r->str, a.token));
    if (r) freeReplyObject(r);
    long long pttl = key_int("PTTL %s", "strands:session:{c}:lock");
    CHECK(pttl > 29000 && pttl <= 30000);

    CHECK_INT(s->vtab->claim(s, &key, &b, &err), STRANDS_E_BUSY);
    CHECK_STR(err.code, "SessionBusy");
    /* The lock is per session: another agent of it is busy too. */
    strands_session_key other = {.session_id = "c", .agent_id = "x"};
    CHECK_INT(s->vtab->claim(s, &other, &b, &err), STRANDS_E_BUSY);

    /* A fenced append by the holder works; by a stranger it does not. */
    json_t *t = turn("q", "a");
    json_t *agent = json_object();
    CHECK_INT(s->vtab->append(s, &key, &a, 0, t, agent, &err), STRANDS_OK);
    strands_session_claim stranger = {.token = "not-the-token"};
    CHECK_INT(s->vtab->append(s, &key, &stranger, 2, t, agent, &err),
              STRANDS_E_BUSY);
    CHECK_STR(err.code, "SessionClaimLost");
    CHECK_INT(key_int("LLEN %s", "strands:session:{c}:default:log"), 2);

    strands_session_claim renewed = a;
    test_redis_sleep_ms(20);
    CHECK_INT(s->vtab->renew(s, &key, &renewed, &err), STRANDS_OK);
    CHECK(renewed.expires_ms > a.expires_ms);
    CHECK_INT(s->vtab->renew(s, &key, &stranger, &err), STRANDS_E_BUSY);
    CHECK_STR(err.code, "SessionClaimLost");
    CHECK_INT(s->vtab->release(s, &key, &stranger, &err), STRANDS_E_BUSY);
    CHECK_INT(s->vtab->release(s, &key, &a, &err), STRANDS_OK);
    CHECK_INT(key_int("EXISTS %s", "strands:session:{c}:lock"), 0);
    CHECK_INT(s->vtab->release(s, &key, &a, &err), STRANDS_E_BUSY);
    CHECK_STR(err.code, "SessionClaimLost");
    CHECK_INT(s->vtab->claim(s, &key, &b, &err), STRANDS_OK);
    CHECK(strcmp(a.token, b.token) != 0);
    CHECK_INT(s->vtab->renew(s, &key, &a, &err), STRANDS_E_BUSY);
    CHECK_STR(err.code, "SessionClaimLost");
    /* The released claim no longer fences an append. */
    CHECK_INT(s->vtab->append(s, &key, &a, 2, t, agent, &err),
              STRANDS_E_BUSY);
    CHECK_STR(err.code, "SessionClaimLost");
    CHECK_INT(s->vtab->release(s, &key, &b, &err), STRANDS_OK);
    finish(s, t, agent);
}

/* Two runtime instances = two stores on one server: a lapsed lease lets
 * the other take over, and the old holder is fenced out.                */
static void test_lease_expiry_and_takeover(void)
{
    NEED_SERVER();
    strands_session_store *s1 = store_with(300, 0, 3600, 0);
    strands_session_store *s2 = store_with(300, 0, 3600, 0);
    strands_session_key key = {.session_id = "lease"};
    strands_session_claim a, b;
    strands_error err;
    CHECK_INT(s1->vtab->claim(s1, &key, &a, &err), STRANDS_OK);
    CHECK_INT(s2->vtab->claim(s2, &key, &b, &err), STRANDS_E_BUSY);
    /* Renewing keeps it alive past the first lease. */
    for (int i = 0; i < 4; i++) {
        test_redis_sleep_ms(120);
        CHECK_INT(s1->vtab->renew(s1, &key, &a, &err), STRANDS_OK);
    }
    CHECK_INT(s2->vtab->claim(s2, &key, &b, &err), STRANDS_E_BUSY);
    test_redis_sleep_ms(450); /* no renewal: the lease lapses */
    CHECK_INT(s2->vtab->claim(s2, &key, &b, &err), STRANDS_OK);
    json_t *t = turn("late", "late");
    json_t *agent = json_object();
    CHECK_INT(s1->vtab->append(s1, &key, &a, 0, t, agent, &err),
              STRANDS_E_BUSY);
    CHECK_STR(err.code, "SessionClaimLost");
    CHECK_INT(s1->vtab->renew(s1, &key, &a, &err), STRANDS_E_BUSY);
    CHECK_STR(err.code, "SessionClaimLost");
    CHECK_INT(s1->vtab->release(s1, &key, &a, &err), STRANDS_E_BUSY);
    CHECK_INT(s2->vtab->append(s2, &key, &b, 0, t, agent, &err), STRANDS_OK);
    CHECK_INT(s2->vtab->release(s2, &key, &b, &err), STRANDS_OK);
    json_decref(t);
    json_decref(agent);
    strands_session_store_free(s1);
    strands_session_store_free(s2);
}

/* A lease that lapses while nobody else wants the session (a tool that
 * runs longer than the lease) is still its holder's: renew takes it
 * again and the fenced append stores the turn.                         */
static void test_lapsed_lease_untaken_is_kept(void)
{
    NEED_SERVER();
    strands_session_store *s = store_with(200, 0, 3600, 0);
    strands_session_key key = {.session_id = "slowtool"};
    strands_session_claim a, b;
    strands_error err;
    CHECK_INT(s->vtab->claim(s, &key, &a, &err), STRANDS_OK);
    test_redis_sleep_ms(400);
    CHECK_INT(key_int("EXISTS %s", "strands:session:{slowtool}:lock"), 0);
    json_t *t = turn("long", "tool");
    json_t *agent = json_object();
    CHECK_INT(s->vtab->append(s, &key, &a, 0, t, agent, &err), STRANDS_OK);
    test_redis_sleep_ms(50);
    CHECK_INT(s->vtab->renew(s, &key, &a, &err), STRANDS_OK);
    CHECK_INT(s->vtab->claim(s, &key, &b, &err), STRANDS_E_BUSY);
    test_redis_sleep_ms(400);
    /* Once another invocation took it over, the old claim is lost. */
    CHECK_INT(s->vtab->claim(s, &key, &b, &err), STRANDS_OK);
    CHECK_INT(s->vtab->renew(s, &key, &a, &err), STRANDS_E_BUSY);
    CHECK_INT(s->vtab->append(s, &key, &a, 2, t, agent, &err),
              STRANDS_E_BUSY);
    CHECK_STR(err.code, "SessionClaimLost");
    CHECK_INT(s->vtab->release(s, &key, &b, &err), STRANDS_OK);
    finish(s, t, agent);
}

typedef struct releaser {
    strands_session_store *s;
    strands_session_key key;
    strands_session_claim claim;
    long after_ms;
    strands_status st;
} releaser;

static void *release_later(void *arg)
{
    releaser *r = arg;
    test_redis_sleep_ms(r->after_ms);
    strands_error err;
    r->st = r->s->vtab->release(r->s, &r->key, &r->claim, &err);
    return NULL;
}

static void test_lock_wait(void)
{
    NEED_SERVER();
    strands_session_store *holder = store_default();
    strands_session_store *waiter = store_with(30000, 3000, 3600, 0);
    strands_session_store *brief = store_with(30000, 250, 3600, 0);
    strands_session_key key = {.session_id = "wait"};
    strands_session_claim b;
    strands_error err;
    releaser rel = {.s = holder, .key = key, .after_ms = 400};
    CHECK_INT(holder->vtab->claim(holder, &key, &rel.claim, &err),
              STRANDS_OK);
    /* A short wait gives up after about its length. */
    int64_t t0 = strands_clock_mono_ms();
    CHECK_INT(brief->vtab->claim(brief, &key, &b, &err), STRANDS_E_BUSY);
    CHECK_STR(err.code, "SessionBusy");
    int64_t waited = strands_clock_mono_ms() - t0;
    CHECK(waited >= 240 && waited < 1500);
    /* A longer wait gets the session once the holder releases it. */
    pthread_t th;
    pthread_create(&th, NULL, release_later, &rel);
    t0 = strands_clock_mono_ms();
    CHECK_INT(waiter->vtab->claim(waiter, &key, &b, &err), STRANDS_OK);
    waited = strands_clock_mono_ms() - t0;
    pthread_join(th, NULL);
    CHECK_INT(rel.st, STRANDS_OK);
    CHECK(waited >= 300 && waited < 2500);
    CHECK_INT(waiter->vtab->release(waiter, &key, &b, &err), STRANDS_OK);
    /* Without a wait (the default) a busy session fails at once. */
    CHECK_INT(holder->vtab->claim(holder, &key, &rel.claim, &err),
              STRANDS_OK);
    t0 = strands_clock_mono_ms();
    CHECK_INT(holder->vtab->claim(holder, &key, &b, &err), STRANDS_E_BUSY);
    CHECK(strands_clock_mono_ms() - t0 < 200);
    strands_session_store_free(holder);
    strands_session_store_free(waiter);
    strands_session_store_free(brief);
}

/* Many invocations of one session from several "instances": each claims
 * (waiting), loads, appends its turn after what it loaded, releases. The
 * log must hold every turn whole, in order (no interleaving, no loss). */
typedef struct worker {
    strands_session_store *s;
    int id;
    int done;
    int failures;
} worker;

#define WORKERS 6
#define TURNS 15

static void *work(void *arg)
{
    worker *w = arg;
    strands_session_key key = {.session_id = "shared"};
    for (int i = 0; i < TURNS; i++) {
        strands_session_claim c;
        strands_error err;
        if (w->s->vtab->claim(w->s, &key, &c, &err) != STRANDS_OK) {
            w->failures++;
            continue;
        }
        strands_session_record rec;
        if (w->s->vtab->load(w->s, &key, &rec, &err) == STRANDS_OK) {
            char u[32], a[32];
            snprintf(u, sizeof u, "u%d.%d", w->id, i);
            snprintf(a, sizeof a, "a%d.%d", w->id, i);
            json_t *t = turn(u, a);
            json_t *agent = json_pack("{s:i}", "last", w->id);
            if (w->s->vtab->append(w->s, &key, &c, rec.count, t, agent,
                                   &err) == STRANDS_OK)
                w->done++;
            else
                w->failures++;
            json_decref(t);
            json_decref(agent);
            strands_session_record_clear(&rec);
        } else {
            w->failures++;
        }
        w->s->vtab->release(w->s, &key, &c, &err);
    }
    return NULL;
}

static void test_concurrent_turns_never_interleave(void)
{
    NEED_SERVER();
    strands_session_store *s1 = store_with(30000, 10000, 3600, 0);
    strands_session_store *s2 = store_with(30000, 10000, 3600, 0);
    worker w[WORKERS];
    pthread_t th[WORKERS];
    for (int i = 0; i < WORKERS; i++) {
        w[i] = (worker){.s = i % 2 ? s2 : s1, .id = i};
        pthread_create(&th[i], NULL, work, &w[i]);
    }
    int done = 0;
    for (int i = 0; i < WORKERS; i++) {
        pthread_join(th[i], NULL);
        done += w[i].done;
        CHECK_INT(w[i].failures, 0);
    }
    CHECK_INT(done, WORKERS * TURNS);
    strands_session_key key = {.session_id = "shared"};
    strands_session_record rec;
    strands_error err;
    CHECK_INT(s1->vtab->load(s1, &key, &rec, &err), STRANDS_OK);
    CHECK_INT(rec.count, 2 * WORKERS * TURNS);
    for (size_t i = 0; i + 1 < json_array_size(rec.messages); i += 2) {
        const char *u = text_at(rec.messages, i);
        const char *a = text_at(rec.messages, i + 1);
        if (!u || !a || u[0] != 'u' || a[0] != 'a' || strcmp(u + 1, a + 1))
            FAIL_AT("messages %zu, %zu are not one turn: %s / %s", i, i + 1,
                    u ? u : "-", a ? a : "-");
    }
    strands_session_record_clear(&rec);
    strands_session_store_free(s1);
    strands_session_store_free(s2);
}

/* The pool never opens more than pool_size connections, however many
 * threads call at once: they wait for a free one.                     */
typedef struct loader {
    strands_session_store *s;
    int ok;
} loader;

static void *load_many(void *arg)
{
    loader *l = arg;
    strands_session_key key = {.session_id = "pool"};
    for (int i = 0; i < 30; i++) {
        strands_session_record rec;
        strands_error err;
        if (l->s->vtab->load(l->s, &key, &rec, &err) == STRANDS_OK) l->ok++;
        strands_session_record_clear(&rec);
    }
    return NULL;
}

static void test_pool_cap(void)
{
    NEED_SERVER();
    session_redis_config cfg = {
        .host = "127.0.0.1", .port = server.port, .ttl_s = 60,
        .lease_ms = 30000, .pool_size = 2, .connect_timeout_ms = 1000,
        .command_timeout_ms = 2000};
    strands_error err;
    strands_session_store *s = session_redis_store_new(&cfg, &err);
    loader l[8];
    pthread_t th[8];
    for (int i = 0; i < 8; i++) {
        l[i] = (loader){.s = s};
        pthread_create(&th[i], NULL, load_many, &l[i]);
    }
    for (int i = 0; i < 8; i++) {
        pthread_join(th[i], NULL);
        CHECK_INT(l[i].ok, 30);
    }
    /* What stays open: the pool's idle connections plus this probe
     * (polled: the server notices closed connections asynchronously). */
    int n = -1;
    for (int tries = 0; tries < 50; tries++) {
        redisReply *r = test_redis_cmd(&server, "INFO clients");
        const char *c = r && r->type == REDIS_REPLY_STRING
                            ? strstr(r->str, "connected_clients:") : NULL;
        n = c ? atoi(c + strlen("connected_clients:")) : -1;
        if (r) freeReplyObject(r);
        if (n >= 2 && n <= 3) break;
        test_redis_sleep_ms(20);
    }
    CHECK(n >= 2 && n <= 3);
    strands_session_store_free(s);
}

/* ---- Redis going away -------------------------------------------------------- */

static void test_killed_then_recovers(void)
{
    NEED_SERVER();
    strands_session_store *s = store_default();
    json_t *t = turn("before", "outage");
    json_t *agent = json_object();
    redis_outage_killed_then_recovers(&server, s, t, agent);
    finish(s, t, agent);
}

static void test_frozen_times_out_then_recovers(void)
{
    NEED_SERVER();
    strands_session_store *s = store_default(); /* 1 s timeouts */
    redis_outage_frozen(&server, s, 900, 4000);
    strands_session_store_free(s);
}

/* ---- AUTH and SELECT --------------------------------------------------------- */

static void test_auth_and_db(void)
{
    NEED_SERVER();
    test_redis secured = {0};
    snprintf(secured.binary, sizeof secured.binary, "%s", server.binary);
    snprintf(secured.password, sizeof secured.password, "pw-Zq81!x");
    if (test_redis_start(&secured) != 0) {
        FAIL_AT("could not start a redis-server with a password");
        return;
    }
    char url[128];
    session_redis_config cfg;
    strands_error err;
    snprintf(url, sizeof url, "redis://:pw-Zq81%%21x@127.0.0.1:%d/5",
             secured.port);
    memset(&cfg, 0, sizeof cfg);
    CHECK_INT(session_redis_url_parse(url, &cfg, &err), STRANDS_OK);
    cfg.lease_ms = 30000;
    cfg.pool_size = 2;
    strands_session_store *s = session_redis_store_new(&cfg, &err);
    session_redis_config_cleanup(&cfg);
    strands_session_key key = {.session_id = "auth"};
    json_t *t = turn("x", "y");
    json_t *agent = json_object();
    CHECK_INT(s->vtab->append(s, &key, NULL, 0, t, agent, &err), STRANDS_OK);
    strands_session_store_free(s);
    redisReply *r = test_redis_cmd(&secured, "SELECT 5");
    if (r) freeReplyObject(r);
    redisContext *c = test_redis_connect(&secured);
    r = c ? redisCommand(c, "SELECT 5") : NULL;
    if (r) freeReplyObject(r);
    r = c ? redisCommand(c, "LLEN %s", "strands:session:{auth}:default:log")
          : NULL;
    CHECK(r && r->type == REDIS_REPLY_INTEGER && r->integer == 2);
    if (r) freeReplyObject(r);
    if (c) redisFree(c);

    /* A wrong password: 503 with Redis's reason, never the password. */
    snprintf(url, sizeof url, "redis://:wrong-Pw-77@127.0.0.1:%d",
             secured.port);
    memset(&cfg, 0, sizeof cfg);
    CHECK_INT(session_redis_url_parse(url, &cfg, &err), STRANDS_OK);
    cfg.lease_ms = 30000;
    cfg.pool_size = 2;
    s = session_redis_store_new(&cfg, &err);
    session_redis_config_cleanup(&cfg);
    strands_session_record rec;
    CHECK_INT(s->vtab->load(s, &key, &rec, &err), STRANDS_E_UNAVAILABLE);
    CHECK_STR(err.code, "SessionStoreUnavailable");
    CHECK(strstr(err.message, "AUTH") != NULL);
    CHECK(strstr(err.message, "wrong-Pw-77") == NULL);
    strands_session_store_free(s);
    json_decref(t);
    json_decref(agent);
    test_redis_kill(&secured);
}

int main(void)
{
    have_server = test_redis_start(&server) == 0;
    if (!have_server)
        fprintf(stderr, "redis-server not found or not starting: the Redis "
                        "tests are skipped\n");
    RUN(test_url_parse);
    RUN(test_round_trip_and_layout);
    RUN(test_load_skips_removed_messages);
    RUN(test_conflict_writes_nothing);
    RUN(test_history_cap);
    RUN(test_ttl_applied);
    RUN(test_corrupt_values);
    RUN(test_script_cache_fallback);
    RUN(test_claims);
    RUN(test_lease_expiry_and_takeover);
    RUN(test_lapsed_lease_untaken_is_kept);
    RUN(test_lock_wait);
    RUN(test_concurrent_turns_never_interleave);
    RUN(test_pool_cap);
    RUN(test_killed_then_recovers);
    RUN(test_frozen_times_out_then_recovers);
    RUN(test_auth_and_db);
    test_redis_kill(&server);
    return test_report();
}
