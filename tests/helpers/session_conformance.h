/* The shared conformance suite of the session-store interface (v3,
 * include/strands/session.h): every store (memory, file, Redis, S3,
 * AgentCore Memory) runs it, through the vtable only. Header-only (static
 * functions); include it after test.h, which provides CHECK and the
 * pass/fail counters it reports into.
 *
 *   static strands_session_store *make(void *user) { ... }
 *   static void cleanup(void *user) { ... }      // may be NULL
 *   int main(void) {
 *       session_conformance_run(make, cleanup, &my_ctx);
 *       return test_report();
 *   }
 *
 * Each case calls make(user) for a FRESH, EMPTY store, runs, frees the
 * store with strands_session_store_free and then calls cleanup(user) (to
 * remove a directory, flush a Redis database, ...). make must configure the
 * store with a history cap of SESSION_CONFORMANCE_MAX_HISTORY_BYTES and, if
 * its claims can lapse, a lease of SESSION_CONFORMANCE_LEASE_MS (a store
 * whose claims never lapse hands out expires_ms 0 and the lapse case only
 * checks release). make returns NULL to fail the case (e.g. backend down).
 *
 * What it checks: an unknown session loads empty; append at base 0 then
 * load; the log grows in order; a stale base is refused with
 * SessionConflict and writes nothing; concurrent appends at one base: one
 * wins; the agent object round-trips (unknown keys kept) and an empty turn
 * replaces it; removed_message_count is honoured (first <= it); claims:
 * busy, renew, release, a released or lapsed claim is lost, and a fenced
 * append with a lost claim is refused (SessionClaimLost) and writes
 * nothing; concurrent claims: exactly one wins; ids that try traversal are
 * refused (E_INVALID) or stored under exactly that id; the history cap
 * (SessionHistoryTooLarge, nothing stored); a 1 MiB message and unicode
 * text round-trip; bad arguments get E_INVALID.                          */
#ifndef STRANDS_TEST_SESSION_CONFORMANCE_H
#define STRANDS_TEST_SESSION_CONFORMANCE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "strands/clock.h"
#include "strands/session.h"

/* The history cap make() must give the store (log + agent object). */
#define SESSION_CONFORMANCE_MAX_HISTORY_BYTES ((size_t)4 * 1024 * 1024)
/* The claim lease make() must give a store whose claims lapse. */
#define SESSION_CONFORMANCE_LEASE_MS 300
/* Threads racing for one claim / one append. */
#define SESSION_CONFORMANCE_THREADS 8

typedef strands_session_store *(*session_conformance_make_fn)(void *user);
typedef void (*session_conformance_cleanup_fn)(void *user);

/* ---- helpers ------------------------------------------------------------ */

/* `call` (which fills the case's local `err`, cleared first) fails as a
 * lost claim: E_BUSY with code SessionClaimLost.                       */
#define SC_CHECK_LOST(call)                                              \
    do {                                                                 \
        strands_error_clear(&err);                                       \
        CHECK_INT(call, STRANDS_E_BUSY);                                 \
        CHECK_STR(err.code, "SessionClaimLost");                         \
    } while (0)

static void sc_sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0) {}
}

static strands_session_key sc_key(const char *id)
{
    strands_session_key k = {.session_id = id, .actor_id = NULL,
                             .agent_id = NULL};
    return k;
}

/* A message {"role": role, "content": [{"text": text}]}. */
static json_t *sc_msg(const char *role, const char *text)
{
    return json_pack("{s:s, s:[{s:s}]}", "role", role, "content", "text",
                     text);
}

/* An array of one message. */
static json_t *sc_one(const char *role, const char *text)
{
    json_t *a = json_array();
    json_array_append_new(a, sc_msg(role, text));
    return a;
}

/* Appends msgs at base with an empty agent object, unfenced. */
static strands_status sc_append(strands_session_store *s, const char *id,
                                const strands_session_claim *claim,
                                size_t base, const json_t *msgs,
                                strands_error *err)
{
    strands_session_key k = sc_key(id);
    json_t *agent = json_object();
    strands_status st = s->vtab->append(s, &k, claim, base, msgs, agent, err);
    json_decref(agent);
    return st;
}

/* Loads id into *rec; CHECKs the record's shape. */
static strands_status sc_load(strands_session_store *s, const char *id,
                              strands_session_record *rec)
{
    strands_session_key k = sc_key(id);
    strands_error err;
    strands_error_clear(&err);
    strands_status st = s->vtab->load(s, &k, rec, &err);
    if (st != STRANDS_OK) {
        fprintf(stderr, "  load(%s): %s\n", id, err.message);
        return st;
    }
    CHECK(json_is_array(rec->messages));
    CHECK(json_is_object(rec->agent));
    CHECK(rec->first <= rec->count);
    CHECK_INT(rec->first + json_array_size(rec->messages), rec->count);
    return st;
}

/* The number of messages id holds (its count), or -1 when load fails. */
static long sc_count(strands_session_store *s, const char *id)
{
    strands_session_record rec;
    if (sc_load(s, id, &rec) != STRANDS_OK) return -1;
    long n = (long)rec.count;
    strands_session_record_clear(&rec);
    return n;
}

/* Text of the first content block of message i of the loaded log (i is an
 * index in the whole log), or NULL. Caller frees.                       */
static char *sc_text_at(strands_session_store *s, const char *id, size_t i)
{
    strands_session_record rec;
    if (sc_load(s, id, &rec) != STRANDS_OK) return NULL;
    char *out = NULL;
    if (i >= rec.first) {
        json_t *m = json_array_get(rec.messages, i - rec.first);
        const char *t = json_string_value(json_object_get(
            json_array_get(json_object_get(m, "content"), 0), "text"));
        if (t) out = strdup(t);
    }
    strands_session_record_clear(&rec);
    return out;
}

#define SC_CHECK_TEXT(s, id, i, want)                                    \
    do {                                                                 \
        char *t_ = sc_text_at((s), (id), (i));                           \
        CHECK_STR(t_, (want));                                           \
        free(t_);                                                        \
    } while (0)

/* ---- cases -------------------------------------------------------------- */

static void sc_unknown_loads_empty(strands_session_store *s)
{
    strands_session_record rec;
    CHECK_INT(sc_load(s, "conf-unknown", &rec), STRANDS_OK);
    CHECK_INT(json_array_size(rec.messages), 0);
    CHECK_INT(json_object_size(rec.agent), 0);
    CHECK_INT(rec.count, 0);
    CHECK_INT(rec.first, 0);
    strands_session_record_clear(&rec);
    CHECK(rec.messages == NULL && rec.agent == NULL);
}

static void sc_append_then_load(strands_session_store *s)
{
    strands_error err;
    json_t *turn = json_array();
    json_array_append_new(turn, sc_msg("user", "hello"));
    json_array_append_new(turn, sc_msg("assistant", "hi there"));
    /* metadata a model must not see is kept by the store */
    json_object_set_new(json_array_get(turn, 1), "metadata",
                        json_pack("{s:{s:i}}", "usage", "inputTokens", 7));
    CHECK_INT(sc_append(s, "conf-a", NULL, 0, turn, &err), STRANDS_OK);
    strands_session_record rec;
    CHECK_INT(sc_load(s, "conf-a", &rec), STRANDS_OK);
    CHECK_INT(rec.count, 2);
    CHECK_INT(rec.first, 0);
    CHECK(json_equal(rec.messages, turn));
    strands_session_record_clear(&rec);
    /* The next turn goes after them, in order. */
    json_t *more = json_array();
    json_array_append_new(more, sc_msg("user", "again"));
    json_array_append_new(more, sc_msg("assistant", "sure"));
    json_array_append_new(more, sc_msg("user", "third"));
    CHECK_INT(sc_append(s, "conf-a", NULL, 2, more, &err), STRANDS_OK);
    CHECK_INT(sc_count(s, "conf-a"), 5);
    SC_CHECK_TEXT(s, "conf-a", 0, "hello");
    SC_CHECK_TEXT(s, "conf-a", 1, "hi there");
    SC_CHECK_TEXT(s, "conf-a", 2, "again");
    SC_CHECK_TEXT(s, "conf-a", 4, "third");
    /* Other sessions are untouched. */
    CHECK_INT(sc_count(s, "conf-b"), 0);
    json_decref(more);
    json_decref(turn);
}

static void sc_stale_base_conflicts(strands_session_store *s)
{
    strands_error err;
    json_t *one = sc_one("user", "first");
    CHECK_INT(sc_append(s, "conf-c", NULL, 0, one, &err), STRANDS_OK);
    json_t *two = sc_one("assistant", "stale");
    size_t bases[] = {0, 2, 7};
    for (size_t i = 0; i < sizeof bases / sizeof bases[0]; i++) {
        strands_error_clear(&err);
        CHECK_INT(sc_append(s, "conf-c", NULL, bases[i], two, &err),
                  STRANDS_E_BUSY);
        CHECK_STR(err.code, "SessionConflict");
        CHECK(err.message[0] != '\0');
    }
    /* Nothing was written: the log and the agent object are as before. */
    strands_session_record rec;
    CHECK_INT(sc_load(s, "conf-c", &rec), STRANDS_OK);
    CHECK_INT(rec.count, 1);
    CHECK(json_equal(rec.messages, one));
    CHECK_INT(json_object_size(rec.agent), 0);
    strands_session_record_clear(&rec);
    /* A new session: only base 0 is right. */
    CHECK_INT(sc_append(s, "conf-new", NULL, 1, one, &err), STRANDS_E_BUSY);
    CHECK_STR(err.code, "SessionConflict");
    CHECK_INT(sc_count(s, "conf-new"), 0);
    json_decref(one);
    json_decref(two);
}

static void sc_agent_object(strands_session_store *s)
{
    strands_error err;
    strands_session_key k = sc_key("conf-agent");
    json_t *agent = json_loads(
        "{\"state\":{\"counter\":3,\"list\":[1,\"two\",{\"x\":null}],"
        "\"nested\":{\"deep\":{\"er\":true}}},"
        "\"conversation_manager_state\":{\"__name__\":"
        "\"SlidingWindowConversationManager\",\"removed_message_count\":0},"
        "\"_internal_state\":{\"interrupt_state\":{\"interrupts\":{},"
        "\"context\":{},\"activated\":false},\"model_state\":{}},"
        "\"unknown_key\":\"kept\",\"f\":1.5}", 0, NULL);
    CHECK(agent != NULL);
    json_t *turn = sc_one("user", "hi");
    CHECK_INT(s->vtab->append(s, &k, NULL, 0, turn, agent, &err),
              STRANDS_OK);
    strands_session_record rec;
    CHECK_INT(sc_load(s, "conf-agent", &rec), STRANDS_OK);
    CHECK(json_equal(rec.agent, agent));
    strands_session_record_clear(&rec);
    /* An empty turn replaces only the agent object. */
    json_t *empty = json_array();
    json_t *agent2 = json_pack("{s:{s:i}, s:s}", "state", "counter", 4,
                               "other", "value");
    CHECK_INT(s->vtab->append(s, &k, NULL, 1, empty, agent2, &err),
              STRANDS_OK);
    CHECK_INT(sc_load(s, "conf-agent", &rec), STRANDS_OK);
    CHECK(json_equal(rec.agent, agent2));
    CHECK_INT(rec.count, 1);
    CHECK(json_equal(rec.messages, turn));
    strands_session_record_clear(&rec);
    json_decref(agent2);
    json_decref(empty);
    json_decref(turn);
    json_decref(agent);
}

static void sc_removed_messages(strands_session_store *s)
{
    strands_error err;
    strands_session_key k = sc_key("conf-removed");
    json_t *turn = json_array();
    const char *texts[] = {"m0", "m1", "m2", "m3"};
    for (int i = 0; i < 4; i++)
        json_array_append_new(turn, sc_msg(i % 2 ? "assistant" : "user",
                                           texts[i]));
    json_t *agent = json_pack("{s:{s:i}}", "conversation_manager_state",
                              "removed_message_count", 2);
    CHECK_INT(s->vtab->append(s, &k, NULL, 0, turn, agent, &err),
              STRANDS_OK);
    strands_session_record rec;
    CHECK_INT(sc_load(s, "conf-removed", &rec), STRANDS_OK);
    CHECK_INT(rec.count, 4);
    CHECK(rec.first <= 2);       /* may skip the removed ones, no more */
    for (size_t i = 0; i < json_array_size(rec.messages); i++)
        CHECK(json_equal(json_array_get(rec.messages, i),
                         json_array_get(turn, rec.first + i)));
    strands_session_record_clear(&rec);
    /* The next append still counts the whole log. */
    json_t *one = sc_one("user", "m4");
    CHECK_INT(s->vtab->append(s, &k, NULL, 4, one, agent, &err), STRANDS_OK);
    CHECK_INT(sc_count(s, "conf-removed"), 5);
    SC_CHECK_TEXT(s, "conf-removed", 4, "m4");
    json_decref(one);
    json_decref(agent);
    json_decref(turn);
}

static void sc_claims(strands_session_store *s)
{
    strands_session_key k = sc_key("conf-claim");
    strands_session_claim a, b, c;
    strands_error err;
    CHECK_INT(s->vtab->claim(s, &k, &a, &err), STRANDS_OK);
    CHECK(a.token[0] != '\0');
    CHECK(strnlen(a.token, sizeof a.token) < sizeof a.token);
    strands_error_clear(&err);
    CHECK_INT(s->vtab->claim(s, &k, &b, &err), STRANDS_E_BUSY);
    CHECK_STR(err.code, "SessionBusy");
    /* Another session is independent. */
    strands_session_key k2 = sc_key("conf-claim-2");
    CHECK_INT(s->vtab->claim(s, &k2, &c, &err), STRANDS_OK);
    CHECK_INT(s->vtab->release(s, &k2, &c, &err), STRANDS_OK);
    /* Renew keeps it. */
    CHECK_INT(s->vtab->renew(s, &k, &a, &err), STRANDS_OK);
    CHECK_INT(s->vtab->claim(s, &k, &b, &err), STRANDS_E_BUSY);
    /* The holder may append under its claim. */
    json_t *one = sc_one("user", "under claim");
    CHECK_INT(sc_append(s, "conf-claim", &a, 0, one, &err), STRANDS_OK);
    CHECK_INT(s->vtab->release(s, &k, &a, &err), STRANDS_OK);
    /* Released: a new claim gets a new token; the old one is lost. */
    CHECK_INT(s->vtab->claim(s, &k, &b, &err), STRANDS_OK);
    CHECK(strcmp(a.token, b.token) != 0);
    SC_CHECK_LOST(s->vtab->renew(s, &k, &a, &err));
    SC_CHECK_LOST(s->vtab->release(s, &k, &a, &err));
    /* A fenced append with the lost claim writes nothing. */
    json_t *two = sc_one("assistant", "stale writer");
    SC_CHECK_LOST(sc_append(s, "conf-claim", &a, 1, two, &err));
    CHECK_INT(sc_count(s, "conf-claim"), 1);
    /* The lost claim's release changed nothing: b still holds it. */
    CHECK_INT(s->vtab->claim(s, &k, &c, &err), STRANDS_E_BUSY);
    CHECK_INT(sc_append(s, "conf-claim", &b, 1, two, &err), STRANDS_OK);
    CHECK_INT(sc_count(s, "conf-claim"), 2);
    CHECK_INT(s->vtab->release(s, &k, &b, &err), STRANDS_OK);
    /* Released twice: lost the second time. */
    SC_CHECK_LOST(s->vtab->release(s, &k, &b, &err));
    /* Unfenced appends work without a claim. */
    CHECK_INT(sc_append(s, "conf-claim", NULL, 2, one, &err), STRANDS_OK);
    json_decref(one);
    json_decref(two);
}

static void sc_claim_lapses(strands_session_store *s)
{
    strands_session_key k = sc_key("conf-lease");
    strands_session_claim a, b;
    strands_error err;
    int64_t t0 = strands_clock_mono_ms();
    CHECK_INT(s->vtab->claim(s, &k, &a, &err), STRANDS_OK);
    if (a.expires_ms == 0) {
        /* Claims that never lapse: the session stays busy. */
        CHECK_INT(s->vtab->claim(s, &k, &b, &err), STRANDS_E_BUSY);
        CHECK_INT(s->vtab->release(s, &k, &a, &err), STRANDS_OK);
        return;
    }
    CHECK(a.expires_ms > t0);
    CHECK(a.expires_ms <= strands_clock_mono_ms() +
                              SESSION_CONFORMANCE_LEASE_MS + 1000);
    /* Renewing extends the lease. */
    int64_t before = a.expires_ms;
    sc_sleep_ms(SESSION_CONFORMANCE_LEASE_MS / 3);
    CHECK_INT(s->vtab->renew(s, &k, &a, &err), STRANDS_OK);
    CHECK(a.expires_ms > before);
    CHECK_INT(s->vtab->claim(s, &k, &b, &err), STRANDS_E_BUSY);
    /* Unrenewed, it lapses and a new claim takes over. */
    int64_t wait = a.expires_ms - strands_clock_mono_ms() + 150;
    if (wait > 0) sc_sleep_ms((long)wait);
    CHECK_INT(s->vtab->claim(s, &k, &b, &err), STRANDS_OK);
    SC_CHECK_LOST(s->vtab->renew(s, &k, &a, &err));
    json_t *one = sc_one("user", "late");
    SC_CHECK_LOST(sc_append(s, "conf-lease", &a, 0, one, &err));
    CHECK_INT(sc_count(s, "conf-lease"), 0);
    SC_CHECK_LOST(s->vtab->release(s, &k, &a, &err));
    CHECK_INT(s->vtab->release(s, &k, &b, &err), STRANDS_OK);
    json_decref(one);
}

/* ---- races ---------------------------------------------------------------- */

typedef struct sc_race {
    strands_session_store *store;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int ready, go;
    atomic_int ok, busy, other;
    int append;                 /* 0: race for the claim; 1: for an append */
    strands_session_claim won;
} sc_race;

static void *sc_racer(void *arg)
{
    sc_race *r = arg;
    pthread_mutex_lock(&r->lock);
    r->ready++;
    pthread_cond_broadcast(&r->cond);
    while (!r->go) pthread_cond_wait(&r->cond, &r->lock);
    pthread_mutex_unlock(&r->lock);
    strands_session_key k = sc_key("conf-race");
    strands_error err;
    strands_error_clear(&err);
    strands_status st;
    strands_session_claim c;
    if (r->append) {
        json_t *one = sc_one("assistant", "racer");
        st = sc_append(r->store, "conf-race", NULL, 1, one, &err);
        json_decref(one);
    } else {
        st = r->store->vtab->claim(r->store, &k, &c, &err);
    }
    if (st == STRANDS_OK) {
        atomic_fetch_add(&r->ok, 1);
        if (!r->append) r->won = c;   /* only one thread gets here */
    } else if (st == STRANDS_E_BUSY &&
               !strcmp(err.code, r->append ? "SessionConflict"
                                           : "SessionBusy")) {
        atomic_fetch_add(&r->busy, 1);
    } else {
        fprintf(stderr, "  racer: status %d code %s: %s\n", (int)st,
                err.code, err.message);
        atomic_fetch_add(&r->other, 1);
    }
    return NULL;
}

static void sc_run_race(sc_race *r)
{
    pthread_t t[SESSION_CONFORMANCE_THREADS];
    int started = 0;
    for (int i = 0; i < SESSION_CONFORMANCE_THREADS; i++)
        if (pthread_create(&t[i], NULL, sc_racer, r) == 0) started++;
        else break;
    pthread_mutex_lock(&r->lock);
    while (r->ready < started) pthread_cond_wait(&r->cond, &r->lock);
    r->go = 1;
    pthread_cond_broadcast(&r->cond);
    pthread_mutex_unlock(&r->lock);
    for (int i = 0; i < started; i++) pthread_join(t[i], NULL);
    CHECK_INT(started, SESSION_CONFORMANCE_THREADS);
}

static void sc_concurrent_claims(strands_session_store *s)
{
    sc_race r;
    memset(&r, 0, sizeof r);
    r.store = s;
    pthread_mutex_init(&r.lock, NULL);
    pthread_cond_init(&r.cond, NULL);
    sc_run_race(&r);
    CHECK_INT(atomic_load(&r.ok), 1);
    CHECK_INT(atomic_load(&r.busy), SESSION_CONFORMANCE_THREADS - 1);
    CHECK_INT(atomic_load(&r.other), 0);
    strands_session_key k = sc_key("conf-race");
    strands_error err;
    CHECK_INT(s->vtab->release(s, &k, &r.won, &err), STRANDS_OK);
    pthread_mutex_destroy(&r.lock);
    pthread_cond_destroy(&r.cond);
}

static void sc_concurrent_appends(strands_session_store *s)
{
    strands_error err;
    json_t *one = sc_one("user", "base");
    CHECK_INT(sc_append(s, "conf-race", NULL, 0, one, &err), STRANDS_OK);
    json_decref(one);
    sc_race r;
    memset(&r, 0, sizeof r);
    r.store = s;
    r.append = 1;
    pthread_mutex_init(&r.lock, NULL);
    pthread_cond_init(&r.cond, NULL);
    sc_run_race(&r);
    CHECK_INT(atomic_load(&r.ok), 1);
    CHECK_INT(atomic_load(&r.busy), SESSION_CONFORMANCE_THREADS - 1);
    CHECK_INT(atomic_load(&r.other), 0);
    CHECK_INT(sc_count(s, "conf-race"), 2);
    pthread_mutex_destroy(&r.lock);
    pthread_cond_destroy(&r.cond);
}

/* ---- ids, sizes, text ------------------------------------------------------ */

static void sc_traversal_ids(strands_session_store *s)
{
    static const char *const ids[] = {
        "../x", "a/b", "..", ".", "../../etc/passwd", "/abs", "x/../../y",
        "a\\b", "session_..", "~", "a b", "%2e%2e%2fx", "CON", ".hidden"};
    int stored[sizeof ids / sizeof ids[0]];
    strands_error err;
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        json_t *one = sc_one("user", ids[i]);
        strands_error_clear(&err);
        strands_status st = sc_append(s, ids[i], NULL, 0, one, &err);
        json_decref(one);
        CHECK(st == STRANDS_OK || st == STRANDS_E_INVALID);
        stored[i] = st == STRANDS_OK;
        if (st == STRANDS_E_INVALID) CHECK(err.message[0] != '\0');
    }
    /* Each stored id loads back its own message, never another's. */
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        if (!stored[i]) continue;
        CHECK_INT(sc_count(s, ids[i]), 1);
        SC_CHECK_TEXT(s, ids[i], 0, ids[i]);
    }
    /* What they point at by name was not written. */
    CHECK_INT(sc_count(s, "x"), 0);
    CHECK_INT(sc_count(s, "y"), 0);
    CHECK_INT(sc_count(s, "b"), 0);
    /* Control characters, empty and over-long ids are refused. */
    char longid[STRANDS_SESSION_ID_MAX + 2];
    memset(longid, 'l', sizeof longid - 1);
    longid[sizeof longid - 1] = '\0';
    const char *bad[] = {"\x01", "a\nb", "", longid, "tab\there", "\x7f"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_t *one = sc_one("user", "bad");
        strands_session_key k = sc_key(bad[i]);
        strands_session_record rec;
        strands_session_claim c;
        CHECK_INT(sc_append(s, bad[i], NULL, 0, one, &err),
                  STRANDS_E_INVALID);
        CHECK_INT(s->vtab->load(s, &k, &rec, &err), STRANDS_E_INVALID);
        CHECK(rec.messages == NULL && rec.agent == NULL);
        CHECK_INT(s->vtab->claim(s, &k, &c, &err), STRANDS_E_INVALID);
        json_decref(one);
    }
}

static void sc_history_cap(strands_session_store *s)
{
    strands_error err;
    size_t cap = SESSION_CONFORMANCE_MAX_HISTORY_BYTES;
    char *big = malloc(cap + 1);
    CHECK(big != NULL);
    if (!big) return;
    memset(big, 'z', cap);
    big[cap] = '\0';
    json_t *huge = sc_one("user", big);
    /* A new session: refused, nothing stored. */
    strands_error_clear(&err);
    CHECK_INT(sc_append(s, "conf-cap", NULL, 0, huge, &err),
              STRANDS_E_TOO_LARGE);
    CHECK_STR(err.code, "SessionHistoryTooLarge");
    CHECK_INT(sc_count(s, "conf-cap"), 0);
    /* An existing one grows until the cap; the turn past it is refused
     * and the log stays as it was. */
    big[cap / 2] = '\0';
    json_t *half = sc_one("user", big);
    CHECK_INT(sc_append(s, "conf-cap", NULL, 0, half, &err), STRANDS_OK);
    strands_error_clear(&err);
    CHECK_INT(sc_append(s, "conf-cap", NULL, 1, half, &err),
              STRANDS_E_TOO_LARGE);
    CHECK_STR(err.code, "SessionHistoryTooLarge");
    CHECK_INT(sc_count(s, "conf-cap"), 1);
    /* A big agent object counts too. */
    strands_session_key k = sc_key("conf-cap");
    json_t *agent = json_pack("{s:{s:s}}", "state", "blob", big);
    json_t *empty = json_array();
    CHECK_INT(s->vtab->append(s, &k, NULL, 1, empty, agent, &err),
              STRANDS_E_TOO_LARGE);
    strands_session_record rec;
    CHECK_INT(sc_load(s, "conf-cap", &rec), STRANDS_OK);
    CHECK_INT(json_object_size(rec.agent), 0);
    strands_session_record_clear(&rec);
    json_decref(empty);
    json_decref(agent);
    json_decref(half);
    json_decref(huge);
    free(big);
}

static void sc_large_message(strands_session_store *s)
{
    size_t n = (size_t)1024 * 1024;
    char *text = malloc(n + 1);
    CHECK(text != NULL);
    if (!text) return;
    /* Every printable byte plus what JSON must escape. */
    static const char alphabet[] =
        "abcdefghijklmnopqrstuvwxyz0123456789 \"\\/\n\t{}[],:";
    for (size_t i = 0; i < n; i++)
        text[i] = alphabet[(i * 7 + i / 13) % (sizeof alphabet - 1)];
    text[n] = '\0';
    json_t *one = sc_one("user", text);
    strands_error err;
    CHECK_INT(sc_append(s, "conf-large", NULL, 0, one, &err), STRANDS_OK);
    strands_session_record rec;
    CHECK_INT(sc_load(s, "conf-large", &rec), STRANDS_OK);
    CHECK(json_equal(rec.messages, one));
    strands_session_record_clear(&rec);
    json_decref(one);
    free(text);
}

/* A user message of `text` and an agent state holding it under a
 * non-ASCII key (new references): what sc_round_trip_text stores.     */
static json_t *sc_text_agent(const char *text)
{
    return json_pack("{s:{s:s}}", "state", "\xe5\x90\x8d\xe5\x89\x8d", text);
}

/* Stores a message and an agent state holding `text` in session `sid`
 * and loads back exactly them.                                         */
static void sc_round_trip_text(strands_session_store *s, const char *sid,
                               const char *text)
{
    json_t *one = sc_one("user", text);
    json_t *agent = sc_text_agent(text);
    strands_session_key k = sc_key(sid);
    strands_error err;
    CHECK_INT(s->vtab->append(s, &k, NULL, 0, one, agent, &err), STRANDS_OK);
    strands_session_record rec;
    CHECK_INT(s->vtab->load(s, &k, &rec, &err), STRANDS_OK);
    CHECK(json_equal(rec.messages, one));
    CHECK(json_equal(rec.agent, agent));
    strands_session_record_clear(&rec);
    json_decref(agent);
    json_decref(one);
}

static void sc_unicode(strands_session_store *s)
{
    sc_round_trip_text(
        s, "conf-\xc3\xbcnicode-\xf0\x9f\x8e\x89",
        "h\xc3\xa9llo w\xc3\xb6rld \xe2\x80\x94 \xe6\x97\xa5\xe6\x9c\xac"
        "\xe8\xaa\x9e \xf0\x9f\x8e\x89 \xd7\xa9\xd7\x9c\xd7\x95\xd7\x9d "
        "e\xcc\x81 \xe2\x80\xae\xe2\x80\xac \xef\xbb\xbf \\u0041 \"q\"");
}

static void sc_key_with_actor(strands_session_store *s)
{
    strands_session_key k = {.session_id = "conf-actor",
                             .actor_id = "user-42",
                             .agent_id = "default"};
    json_t *one = sc_one("user", "from user 42");
    json_t *agent = json_object();
    strands_error err;
    CHECK_INT(s->vtab->append(s, &k, NULL, 0, one, agent, &err), STRANDS_OK);
    strands_session_record rec;
    CHECK_INT(s->vtab->load(s, &k, &rec, &err), STRANDS_OK);
    CHECK_INT(rec.count, 1);
    CHECK(json_equal(rec.messages, one));
    strands_session_record_clear(&rec);
    strands_session_claim c;
    CHECK_INT(s->vtab->claim(s, &k, &c, &err), STRANDS_OK);
    CHECK_INT(s->vtab->release(s, &k, &c, &err), STRANDS_OK);
    json_decref(agent);
    json_decref(one);
}

static void sc_bad_arguments(strands_session_store *s)
{
    strands_session_key k = sc_key("conf-args");
    strands_error err;
    json_t *one = sc_one("user", "x");
    json_t *agent = json_object();
    json_t *obj = json_object();
    json_t *not_msgs = json_pack("[i]", 1);
    CHECK_INT(s->vtab->append(s, NULL, NULL, 0, one, agent, &err),
              STRANDS_E_INVALID);
    CHECK_INT(s->vtab->append(s, &k, NULL, 0, obj, agent, &err),
              STRANDS_E_INVALID);
    CHECK_INT(s->vtab->append(s, &k, NULL, 0, NULL, agent, &err),
              STRANDS_E_INVALID);
    CHECK_INT(s->vtab->append(s, &k, NULL, 0, not_msgs, agent, &err),
              STRANDS_E_INVALID);
    CHECK_INT(s->vtab->append(s, &k, NULL, 0, one, one, &err),
              STRANDS_E_INVALID);
    CHECK_INT(s->vtab->append(s, &k, NULL, 0, one, NULL, &err),
              STRANDS_E_INVALID);
    strands_session_record rec;
    CHECK_INT(s->vtab->load(s, NULL, &rec, &err), STRANDS_E_INVALID);
    CHECK_INT(s->vtab->load(s, &k, NULL, &err), STRANDS_E_INVALID);
    strands_session_claim c;
    CHECK_INT(s->vtab->claim(s, NULL, &c, &err), STRANDS_E_INVALID);
    CHECK_INT(s->vtab->claim(s, &k, NULL, &err), STRANDS_E_INVALID);
    CHECK_INT(sc_count(s, "conf-args"), 0);
    json_decref(not_msgs);
    json_decref(obj);
    json_decref(agent);
    json_decref(one);
}

/* ---- the runner ------------------------------------------------------------ */

typedef void (*sc_case_fn)(strands_session_store *s);

static void sc_run_case(const char *name, sc_case_fn fn,
                        session_conformance_make_fn make,
                        session_conformance_cleanup_fn cleanup, void *user)
{
    test_failures_in_case = 0;
    strands_session_store *s = make(user);
    if (!s) {
        FAIL_AT("make() gave no store for %s", name);
    } else {
        CHECK_INT(s->vtab->version, STRANDS_SESSION_VTAB_VERSION);
        CHECK(s->vtab->name && s->vtab->load && s->vtab->append &&
              s->vtab->claim && s->vtab->renew && s->vtab->release &&
              s->vtab->destroy);
        fn(s);
        strands_session_store_free(s);
    }
    if (cleanup) cleanup(user);
    if (test_failures_in_case < 0) {
        test_skipped++;
        fprintf(stderr, "SKIP conformance/%s\n", name);
    } else if (test_failures_in_case == 0) {
        test_passed++;
        fprintf(stderr, "ok   conformance/%s\n", name);
    } else {
        test_failed++;
        fprintf(stderr, "FAIL conformance/%s\n", name);
    }
}

/** Every case of the suite, in the order session_conformance_run runs
 * them (a store that must run one differently runs the list itself with
 * sc_run_case, swapping that one).                                     */
static const struct {
    const char *name;
    sc_case_fn fn;
} session_conformance_cases[] = {
    {"unknown_loads_empty", sc_unknown_loads_empty},
    {"append_then_load", sc_append_then_load},
    {"stale_base_conflicts", sc_stale_base_conflicts},
    {"agent_object", sc_agent_object},
    {"removed_messages", sc_removed_messages},
    {"claims", sc_claims},
    {"claim_lapses", sc_claim_lapses},
    {"concurrent_claims", sc_concurrent_claims},
    {"concurrent_appends", sc_concurrent_appends},
    {"traversal_ids", sc_traversal_ids},
    {"history_cap", sc_history_cap},
    {"large_message", sc_large_message},
    {"unicode", sc_unicode},
    {"key_with_actor", sc_key_with_actor},
    {"bad_arguments", sc_bad_arguments},
};

#define SESSION_CONFORMANCE_N_CASES                                      \
    (sizeof session_conformance_cases / sizeof session_conformance_cases[0])

/** Runs every case against fresh stores from make (see the top of this
 * file); results go to test.h's counters (test_report()).              */
static void session_conformance_run(session_conformance_make_fn make,
                                    session_conformance_cleanup_fn cleanup,
                                    void *user)
{
    for (size_t i = 0; i < SESSION_CONFORMANCE_N_CASES; i++)
        sc_run_case(session_conformance_cases[i].name,
                    session_conformance_cases[i].fn, make, cleanup, user);
}

#endif
