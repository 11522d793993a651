/* Unit tests for the in-memory session store (src/session/memory.c) and the
 * shared helpers in src/session/store.c: deep-copy semantics, isolation,
 * claims, LRU eviction, the max_sessions bound, idle TTL with an injected
 * clock, id validation, and a multi-threaded stress run.                  */
#include <pthread.h>
#include <stdatomic.h>

#include "strands/clock.h"
#include "strands/session.h"
#include "session/store.h"
#include "test.h"

/* ---- helpers ------------------------------------------------------------ */

static int64_t fake_now;

static int64_t fake_wall(void *user)
{
    (void)user;
    return fake_now;
}

#define KEY(id) (&(strands_session_key){.session_id = (id)})

/* The stored messages of id (*out: a new reference, NULL on error). */
static strands_status load(strands_session_store *s, const char *id,
                           json_t **out, strands_error *err)
{
    strands_session_record rec;
    strands_status st = s->vtab->load(s, KEY(id), out ? &rec : NULL, err);
    if (st == STRANDS_OK) {
        *out = rec.messages;
        json_decref(rec.agent);
    } else if (out) {
        *out = NULL;
    }
    return st;
}

/* Appends msgs after whatever id holds (unfenced), with an empty agent. */
static strands_status save(strands_session_store *s, const char *id,
                           const json_t *msgs, strands_error *err)
{
    strands_session_record rec;
    strands_status st = s->vtab->load(s, KEY(id), &rec, err);
    size_t base = st == STRANDS_OK ? rec.count : 0;
    strands_session_record_clear(&rec);
    json_t *agent = json_object();
    st = s->vtab->append(s, KEY(id), NULL, base, msgs, agent, err);
    json_decref(agent);
    return st;
}

/* The tests' claims by session id (the helpers below keep the old
 * claim(id) / release(id) shape of the tests). */
#define MAX_HELD 64
static struct {
    char id[64];
    strands_session_claim claim;
} claims_held[MAX_HELD];

static pthread_mutex_t claims_lock = PTHREAD_MUTEX_INITIALIZER;

/* The slot of id (created when asked); claims_lock held. */
static strands_session_claim *held_slot(const char *id, int create)
{
    for (int i = 0; i < MAX_HELD; i++)
        if (claims_held[i].id[0] && id && !strcmp(claims_held[i].id, id))
            return &claims_held[i].claim;
    for (int i = 0; create && id && i < MAX_HELD; i++)
        if (!claims_held[i].id[0]) {
            snprintf(claims_held[i].id, sizeof claims_held[i].id, "%s", id);
            return &claims_held[i].claim;
        }
    return NULL;
}

static strands_status claim(strands_session_store *s, const char *id,
                            strands_error *err)
{
    strands_session_claim c;
    strands_status st = s->vtab->claim(s, KEY(id), &c, err);
    pthread_mutex_lock(&claims_lock);
    strands_session_claim *slot = st == STRANDS_OK ? held_slot(id, 1) : NULL;
    if (slot) *slot = c;
    pthread_mutex_unlock(&claims_lock);
    return st;
}

/* Releases the test's last claim of id (a no-op for ids never claimed). */
static void release(strands_session_store *s, const char *id)
{
    strands_session_claim c = {{0}, 0};
    pthread_mutex_lock(&claims_lock);
    strands_session_claim *slot = held_slot(id, 0);
    if (slot) c = *slot;
    pthread_mutex_unlock(&claims_lock);
    s->vtab->release(s, KEY(id), &c, NULL);
}

/* A one-message history whose text is `text`. */
static json_t *history(const char *text)
{
    return json_pack("[{s:s, s:[{s:s}]}]", "role", "user", "content", "text",
                     text);
}

/* Saves history(text) under id; returns the status. */
static strands_status save_text(strands_session_store *s, const char *id,
                                const char *text)
{
    json_t *h = history(text);
    strands_error err;
    strands_status st = save(s, id, h, &err);
    json_decref(h);
    return st;
}

/* Text of the last stored message, "" for an empty history, or NULL.
 * Loading touches the entry, like any other access. Caller frees.       */
static char *loaded_text(strands_session_store *s, const char *id)
{
    json_t *msgs = NULL;
    strands_error err;
    if (load(s, id, &msgs, &err) != STRANDS_OK) return NULL;
    const char *text = "";
    size_t n = json_array_size(msgs);
    if (n > 0)
        json_unpack(json_array_get(msgs, n - 1), "{s:[{s:s}]}", "content",
                    "text", &text);
    char *copy = strdup(text);
    json_decref(msgs);
    return copy;
}

#define CHECK_TEXT(store, id, want)                                       \
    do {                                                                  \
        char *t_ = loaded_text((store), (id));                            \
        CHECK_STR(t_, (want));                                            \
        free(t_);                                                         \
    } while (0)

/* ---- helpers from store.c ----------------------------------------------- */

static void test_siphash_reference_vectors(void)
{
    uint8_t key[16], msg[15];
    for (int i = 0; i < 16; i++) key[i] = (uint8_t)i;
    for (int i = 0; i < 15; i++) msg[i] = (uint8_t)i;
    /* From the SipHash paper (appendix A) and its reference vectors.h. */
    CHECK(session_hash(key, msg, 15) == 0xa129ca6149be45e5ULL);
    CHECK(session_hash(key, msg, 0) == 0x726fdb47dd0e0e31ULL);
    CHECK(session_hash(key, msg, 8) == 0x93f5f5799a932462ULL);
}

static void test_id_check(void)
{
    char id[STRANDS_SESSION_ID_MAX + 2];
    size_t len = 0;
    strands_error err;
    memset(id, 'x', sizeof(id));
    id[STRANDS_SESSION_ID_MAX] = '\0';
    CHECK_INT(strands_session_id_check(id, &len, &err), STRANDS_OK);
    CHECK_INT(len, STRANDS_SESSION_ID_MAX);
    id[STRANDS_SESSION_ID_MAX] = 'x';
    id[STRANDS_SESSION_ID_MAX + 1] = '\0';
    CHECK_INT(strands_session_id_check(id, &len, &err), STRANDS_E_INVALID);
    CHECK_STR(err.message, "session id is longer than 256 bytes");
    CHECK_INT(strands_session_id_check("", NULL, &err), STRANDS_E_INVALID);
    CHECK_STR(err.message, "session id is empty");
    CHECK_INT(strands_session_id_check(NULL, NULL, &err), STRANDS_E_INVALID);
    CHECK_STR(err.message, "session id is missing");
    CHECK_INT(strands_session_id_check("ab\ncd", NULL, &err),
              STRANDS_E_INVALID);
    CHECK_STR(err.message, "session id contains a control character at "
                           "byte 2");
    CHECK_INT(strands_session_id_check("7f0c2a4e-1b9d-4d7e-9a51-3c2f8e6b1d20",
                                       NULL, NULL), STRANDS_OK);
}

/* ---- basic behaviour ---------------------------------------------------- */

static void test_new_and_free(void)
{
    CHECK(strands_memory_store_new(0, 0) == NULL);
    CHECK(strands_memory_store_new(4, -1) == NULL);
    strands_session_store_free(NULL);
    CHECK_INT(strands_memory_store_count(NULL), 0);

    strands_session_store *s = strands_memory_store_new(4, 0);
    CHECK(s != NULL);
    if (!s) return;
    CHECK_INT(s->vtab->version, STRANDS_SESSION_VTAB_VERSION);
    CHECK_STR(s->vtab->name, "memory");
    CHECK_INT(strands_memory_store_count(s), 0);
    strands_session_store_free(s);
}

static void test_load_unknown_is_empty_array(void)
{
    strands_session_store *s = strands_memory_store_new(4, 0);
    json_t *msgs = NULL;
    strands_error err;
    CHECK_INT(load(s, "nobody", &msgs, &err), STRANDS_OK);
    CHECK(json_is_array(msgs));
    CHECK_INT(json_array_size(msgs), 0);
    CHECK_INT(strands_memory_store_count(s), 0); /* load creates nothing */
    json_decref(msgs);
    strands_session_store_free(s);
}

static void test_round_trip_is_deep_copy(void)
{
    strands_session_store *s = strands_memory_store_new(4, 0);
    strands_error err;
    json_t *orig = history("hello");
    json_t *expect = json_deep_copy(orig);
    CHECK_INT(save(s, "a", orig, &err), STRANDS_OK);

    /* Mutating the caller's value after save leaves the store alone. */
    json_object_set_new(json_array_get(orig, 0), "role",
                        json_string("assistant"));
    json_array_append_new(orig, json_string("extra"));

    json_t *got = NULL;
    CHECK_INT(load(s, "a", &got, &err), STRANDS_OK);
    CHECK(json_equal(got, expect));
    CHECK(got != orig);

    /* Mutating a loaded copy (top level and nested) changes nothing. */
    json_t *content = json_object_get(json_array_get(got, 0), "content");
    json_object_set_new(json_array_get(content, 0), "text",
                        json_string("tampered"));
    json_array_append_new(got, json_string("more"));
    json_t *again = NULL;
    CHECK_INT(load(s, "a", &again, &err), STRANDS_OK);
    CHECK(json_equal(again, expect));
    CHECK(again != got);
    CHECK_INT(json_array_size(again), 1);

    json_decref(orig);
    json_decref(expect);
    json_decref(got);
    json_decref(again);
    strands_session_store_free(s);
}

static void test_append_grows_the_log(void)
{
    strands_session_store *s = strands_memory_store_new(4, 0);
    CHECK_INT(save_text(s, "a", "one"), STRANDS_OK);
    CHECK_INT(save_text(s, "a", "two"), STRANDS_OK);
    CHECK_TEXT(s, "a", "two");
    CHECK_INT(strands_memory_store_count(s), 1);
    /* An empty turn changes only the agent object. */
    json_t *empty = json_array();
    json_t *agent = json_pack("{s:{s:i}}", "state", "n", 3);
    strands_error err;
    CHECK_INT(s->vtab->append(s, KEY("a"), NULL, 2, empty, agent, &err),
              STRANDS_OK);
    strands_session_record rec;
    CHECK_INT(s->vtab->load(s, KEY("a"), &rec, &err), STRANDS_OK);
    CHECK_INT(rec.count, 2);
    CHECK_INT(rec.first, 0);
    CHECK_INT(json_array_size(rec.messages), 2);
    CHECK(json_equal(rec.agent, agent));
    strands_session_record_clear(&rec);
    CHECK(rec.messages == NULL && rec.agent == NULL && rec.count == 0);
    strands_session_record_clear(NULL);
    /* A writer that loaded before the last append is refused. */
    json_t *h = history("three");
    CHECK_INT(s->vtab->append(s, KEY("a"), NULL, 1, h, agent, &err),
              STRANDS_E_BUSY);
    CHECK_STR(err.code, "SessionConflict");
    CHECK_TEXT(s, "a", "two");
    json_decref(h);
    json_decref(agent);
    json_decref(empty);
    strands_session_store_free(s);
}

static void test_isolation_between_ids(void)
{
    strands_session_store *s = strands_memory_store_new(8, 0);
    char long_id[STRANDS_SESSION_ID_MAX + 1];
    memset(long_id, 'q', STRANDS_SESSION_ID_MAX);
    long_id[STRANDS_SESSION_ID_MAX] = '\0';
    CHECK_INT(save_text(s, "a", "A"), STRANDS_OK);
    CHECK_INT(save_text(s, "ab", "AB"), STRANDS_OK);
    CHECK_INT(save_text(s, "A", "upper"), STRANDS_OK);
    CHECK_INT(save_text(s, long_id, "long"), STRANDS_OK);
    CHECK_TEXT(s, "a", "A");
    CHECK_TEXT(s, "ab", "AB");
    CHECK_TEXT(s, "A", "upper");
    CHECK_TEXT(s, long_id, "long");
    CHECK_TEXT(s, "b", "");
    CHECK_INT(strands_memory_store_count(s), 4);
    strands_session_store_free(s);
}

static void test_claim_busy_release(void)
{
    strands_session_store *s = strands_memory_store_new(4, 0);
    strands_error err;
    CHECK_INT(claim(s, "a", &err), STRANDS_OK);
    CHECK_INT(strands_memory_store_count(s), 1); /* claim creates the entry */
    CHECK_TEXT(s, "a", "");                      /* claimed, never saved */

    strands_error_clear(&err);
    CHECK_INT(claim(s, "a", &err), STRANDS_E_BUSY);
    CHECK_INT(err.status, STRANDS_E_BUSY);
    CHECK_STR(err.message, "session a is busy with another invocation");
    CHECK_INT(claim(s, "b", &err), STRANDS_OK); /* other ids unaffected */

    /* The claimant can save and load while holding the claim. */
    CHECK_INT(save_text(s, "a", "turn 1"), STRANDS_OK);
    CHECK_TEXT(s, "a", "turn 1");

    release(s, "a");
    CHECK_INT(claim(s, "a", &err), STRANDS_OK);
    CHECK_TEXT(s, "a", "turn 1"); /* history survives claim cycles */
    release(s, "a");
    release(s, "a");       /* double release: no-op */
    release(s, "unknown"); /* unknown id: no-op */
    release(s, "");        /* invalid id: no-op */
    release(s, NULL);
    CHECK_INT(claim(s, "a", &err), STRANDS_OK);
    CHECK_INT(strands_memory_store_count(s), 2);
    strands_session_store_free(s); /* frees claimed entries too */
}

/* ---- bounds --------------------------------------------------------------- */

static void test_lru_eviction_order(void)
{
    strands_session_store *s = strands_memory_store_new(3, 0);
    strands_error err;
    json_t *msgs = NULL;
    CHECK_INT(save_text(s, "a", "A"), STRANDS_OK);
    CHECK_INT(save_text(s, "b", "B"), STRANDS_OK);
    CHECK_INT(save_text(s, "c", "C"), STRANDS_OK);  /* LRU: a b c */
    CHECK_INT(save_text(s, "d", "D"), STRANDS_OK);  /* evicts a: b c d */
    CHECK_INT(strands_memory_store_count(s), 3);

    CHECK_INT(load(s, "b", &msgs, &err), STRANDS_OK); /* c d b */
    json_decref(msgs);
    CHECK_INT(save_text(s, "e", "E"), STRANDS_OK);  /* evicts c: d b e */
    CHECK_INT(save_text(s, "d", "D2"), STRANDS_OK); /* b e d */
    CHECK_INT(claim(s, "b", &err), STRANDS_OK);
    release(s, "b");                                /* e d b */
    CHECK_INT(save_text(s, "f", "F"), STRANDS_OK);  /* evicts e: d b f */
    CHECK_INT(strands_memory_store_count(s), 3);

    /* Loading absent ids creates nothing, so these checks evict nothing. */
    CHECK_TEXT(s, "a", "");
    CHECK_TEXT(s, "c", "");
    CHECK_TEXT(s, "e", "");
    CHECK_TEXT(s, "d", "D2");
    CHECK_TEXT(s, "b", "B");
    CHECK_TEXT(s, "f", "F");
    CHECK_INT(strands_memory_store_count(s), 3);

    /* A claim of a new id evicts too: LRU is now d b f, so d goes. */
    CHECK_INT(claim(s, "g", &err), STRANDS_OK);
    CHECK_TEXT(s, "d", "");
    CHECK_TEXT(s, "b", "B");
    CHECK_INT(strands_memory_store_count(s), 3);
    strands_session_store_free(s);
}

static void test_claimed_entries_never_evicted(void)
{
    strands_session_store *s = strands_memory_store_new(3, 0);
    strands_error err;
    CHECK_INT(claim(s, "a", &err), STRANDS_OK);
    CHECK_INT(save_text(s, "a", "A"), STRANDS_OK);
    CHECK_INT(claim(s, "b", &err), STRANDS_OK);
    CHECK_INT(save_text(s, "c", "C"), STRANDS_OK);
    /* a is the least recently used, but claimed: c is the one to go. */
    CHECK_INT(save_text(s, "d", "D"), STRANDS_OK);
    CHECK_TEXT(s, "c", "");
    CHECK_TEXT(s, "a", "A");
    CHECK_INT(claim(s, "c", &err), STRANDS_OK); /* evicts d */
    CHECK_TEXT(s, "d", "");
    CHECK_INT(strands_memory_store_count(s), 3);

    /* All three claimed: new ids are refused, the bound holds. */
    strands_error_clear(&err);
    json_t *h = history("E");
    CHECK_INT(save(s, "e", h, &err), STRANDS_E_UNAVAILABLE);
    CHECK_INT(err.status, STRANDS_E_UNAVAILABLE);
    CHECK_STR(err.message, "session store is full: all 3 sessions are "
                           "claimed by running invocations");
    strands_error_clear(&err);
    CHECK_INT(claim(s, "e", &err), STRANDS_E_UNAVAILABLE);
    CHECK(strstr(err.message, "full") != NULL);
    CHECK_INT(strands_memory_store_count(s), 3);
    CHECK_TEXT(s, "e", "");
    /* Existing claimed ids can still be saved and loaded. */
    CHECK_INT(save_text(s, "b", "B"), STRANDS_OK);
    CHECK_TEXT(s, "b", "B");
    CHECK_TEXT(s, "a", "A");

    /* Releasing a makes it the only candidate: e replaces it. */
    release(s, "a");
    CHECK_INT(save(s, "e", h, &err), STRANDS_OK);
    CHECK_TEXT(s, "a", "");
    CHECK_TEXT(s, "e", "E");
    CHECK_INT(strands_memory_store_count(s), 3);
    json_decref(h);
    strands_session_store_free(s);
}

static void test_many_sessions_grow_table(void)
{
    enum { N = 1000 };
    strands_session_store *s = strands_memory_store_new(N, 0);
    char id[32], text[32];
    int bad = 0;
    for (int i = 0; i < N; i++) {
        snprintf(id, sizeof(id), "session-%d", i);
        snprintf(text, sizeof(text), "text-%d", i);
        if (save_text(s, id, text) != STRANDS_OK) bad++;
    }
    CHECK_INT(bad, 0);
    CHECK_INT(strands_memory_store_count(s), N);
    for (int i = 0; i < N; i++) {
        snprintf(id, sizeof(id), "session-%d", i);
        snprintf(text, sizeof(text), "text-%d", i);
        char *t = loaded_text(s, id);
        if (!t || strcmp(t, text) != 0) bad++;
        free(t);
    }
    CHECK_INT(bad, 0);
    /* All were loaded in order, so session-0 is the oldest. */
    CHECK_INT(save_text(s, "one-more", "x"), STRANDS_OK);
    CHECK_INT(strands_memory_store_count(s), N);
    CHECK_TEXT(s, "session-0", "");
    CHECK_TEXT(s, "session-1", "text-1");
    strands_session_store_free(s);
}

/* ---- idle TTL ------------------------------------------------------------ */

static void test_ttl_expiry(void)
{
    strands_clock_set_wall(fake_wall, NULL);
    strands_session_store *s = strands_memory_store_new(8, 10);
    strands_error err;

    fake_now = 1000;
    CHECK_INT(save_text(s, "a", "A"), STRANDS_OK);
    fake_now = 1010;                 /* exactly the TTL: still alive */
    CHECK_TEXT(s, "a", "A");         /* and the load refreshes it */
    fake_now = 1020;
    CHECK_TEXT(s, "a", "A");
    fake_now = 1031;                 /* 11 s idle: gone on access */
    CHECK_INT(strands_memory_store_count(s), 1);
    CHECK_TEXT(s, "a", "");
    CHECK_INT(strands_memory_store_count(s), 0);

    /* The claim sweep drops expired idle entries it never looks up. */
    fake_now = 2000;
    CHECK_INT(save_text(s, "x", "X"), STRANDS_OK);
    CHECK_INT(save_text(s, "y", "Y"), STRANDS_OK);
    fake_now = 2005;
    CHECK_INT(save_text(s, "z", "Z"), STRANDS_OK);
    CHECK_INT(save_text(s, "w", "W"), STRANDS_OK);
    fake_now = 2012;
    CHECK_INT(strands_memory_store_count(s), 4);
    CHECK_INT(claim(s, "w", &err), STRANDS_OK); /* an existing id */
    CHECK_INT(strands_memory_store_count(s), 2); /* z and w */

    /* A claimed entry never expires, however long it runs. */
    fake_now = 3000;
    CHECK_INT(claim(s, "v", &err), STRANDS_OK); /* sweeps z */
    CHECK_INT(strands_memory_store_count(s), 2); /* w and v */
    CHECK_TEXT(s, "z", "");
    CHECK_TEXT(s, "w", "W");
    release(s, "w");                 /* idle from 3000 */
    fake_now = 3010;
    CHECK_TEXT(s, "w", "W");
    fake_now = 3021;
    CHECK_TEXT(s, "w", "");
    /* An expired entry can be claimed afresh (its history is gone). */
    CHECK_INT(claim(s, "w", &err), STRANDS_OK);
    CHECK_TEXT(s, "w", "");
    strands_session_store_free(s);

    /* Saving a new id sweeps expired entries too. */
    s = strands_memory_store_new(8, 5);
    fake_now = 0;
    CHECK_INT(save_text(s, "a", "A"), STRANDS_OK);
    fake_now = 10;
    CHECK_INT(save_text(s, "b", "B"), STRANDS_OK);
    CHECK_INT(strands_memory_store_count(s), 1);
    strands_session_store_free(s);

    /* TTL 0: nothing expires. */
    s = strands_memory_store_new(8, 0);
    fake_now = 100;
    CHECK_INT(save_text(s, "a", "A"), STRANDS_OK);
    fake_now = 100 + 10LL * 365 * 24 * 3600;
    CHECK_INT(claim(s, "b", &err), STRANDS_OK);
    CHECK_TEXT(s, "a", "A");
    strands_session_store_free(s);
    strands_clock_set_wall(NULL, NULL);
}

/* ---- invalid input --------------------------------------------------------- */

static void test_invalid_ids_and_messages(void)
{
    strands_session_store *s = strands_memory_store_new(4, 0);
    strands_error err;
    json_t *h = history("x");
    json_t *msgs = NULL;
    char too_long[STRANDS_SESSION_ID_MAX + 2];
    memset(too_long, 'z', STRANDS_SESSION_ID_MAX + 1);
    too_long[STRANDS_SESSION_ID_MAX + 1] = '\0';
    const char *bad[] = {NULL, "", too_long, "tab\there"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        strands_error_clear(&err);
        CHECK_INT(load(s, bad[i], &msgs, &err), STRANDS_E_INVALID);
        CHECK(msgs == NULL);
        CHECK_INT(err.status, STRANDS_E_INVALID);
        CHECK(strncmp(err.message, "session id", 10) == 0);
        CHECK_INT(save(s, bad[i], h, &err), STRANDS_E_INVALID);
        CHECK_INT(claim(s, bad[i], &err), STRANDS_E_INVALID);
    }
    CHECK_INT(claim(s, too_long, &err), STRANDS_E_INVALID);
    CHECK_STR(err.message, "session id is longer than 256 bytes");
    CHECK_INT(strands_memory_store_count(s), 0);

    /* Messages must be an array. */
    json_t *obj = json_object();
    CHECK_INT(save(s, "a", obj, &err), STRANDS_E_INVALID);
    CHECK_STR(err.message, "session a: messages must be a JSON array");
    CHECK_INT(save(s, "a", NULL, &err), STRANDS_E_INVALID);
    CHECK_INT(load(s, "a", NULL, &err), STRANDS_E_INVALID);
    CHECK_INT(strands_memory_store_count(s), 0);
    json_decref(obj);
    json_decref(h);
    strands_session_store_free(s);
}

/* ---- concurrency ------------------------------------------------------------ */

enum { STRESS_THREADS = 8, STRESS_OPS = 2000, STRESS_IDS = 50,
       STRESS_MAX = 16, STRESS_HELD = 3 };

typedef struct stress_shared {
    strands_session_store *store;
    atomic_int owner[STRESS_IDS];   /* thread holding each id's claim, or -1 */
    atomic_int failures;
    atomic_int over_bound;
    atomic_int busy_seen;
    atomic_int unavailable_seen;
} stress_shared;

typedef struct stress_arg {
    stress_shared *sh;
    int tid;
} stress_arg;

static atomic_llong stress_ticks;

/* Time advances one second every 64 reads, so the TTL sweep runs too. */
static int64_t stress_wall(void *user)
{
    (void)user;
    return 1000000 + atomic_fetch_add(&stress_ticks, 1) / 64;
}

static unsigned rnd(unsigned *state)
{
    *state = *state * 1103515245u + 12345u;
    return (*state >> 16) & 0x7fff;
}

static void stress_fail(stress_shared *sh, const char *what, const char *id)
{
    if (atomic_fetch_add(&sh->failures, 1) < 5)
        fprintf(stderr, "  stress: %s (%s)\n", what, id);
}

/* Saves "<tid>:<n>" to a held id, then checks a load returns it: with the
 * claim held, nobody else may change, evict or expire the entry.        */
static void stress_save_and_check(stress_shared *sh, int tid, const char *id,
                                  int n)
{
    char text[32];
    snprintf(text, sizeof(text), "%d:%d", tid, n);
    if (save_text(sh->store, id, text) != STRANDS_OK)
        stress_fail(sh, "save of a claimed id failed", id);
    char *got = loaded_text(sh->store, id);
    if (!got || strcmp(got, text) != 0)
        stress_fail(sh, "claimed history changed underneath", id);
    free(got);
}

static void stress_claim(stress_shared *sh, int tid, int *held, int *nheld,
                         int k, int n)
{
    char id[16];
    strands_error err;
    for (int i = 0; i < *nheld; i++)
        if (held[i] == k) return;
    snprintf(id, sizeof(id), "s%d", k);
    strands_status st = claim(sh->store, id, &err);
    if (st == STRANDS_OK) {
        int expect = -1;
        if (!atomic_compare_exchange_strong(&sh->owner[k], &expect, tid))
            stress_fail(sh, "two threads hold one claim", id);
        held[(*nheld)++] = k;
        stress_save_and_check(sh, tid, id, n);
    } else if (st == STRANDS_E_BUSY) {
        atomic_fetch_add(&sh->busy_seen, 1);
    } else if (st == STRANDS_E_UNAVAILABLE) {
        atomic_fetch_add(&sh->unavailable_seen, 1);
    } else {
        stress_fail(sh, "unexpected claim status", id);
    }
}

static void stress_release(stress_shared *sh, int *held, int *nheld,
                           int slot)
{
    char id[16];
    int k = held[slot];
    snprintf(id, sizeof(id), "s%d", k);
    atomic_store(&sh->owner[k], -1);  /* before the store lets others in */
    release(sh->store, id);
    held[slot] = held[--*nheld];
}

static void *stress_thread(void *p)
{
    stress_arg *a = p;
    stress_shared *sh = a->sh;
    unsigned seed = 7919u * (unsigned)(a->tid + 1);
    int held[STRESS_HELD], nheld = 0;
    char id[16];

    for (int n = 0; n < STRESS_OPS; n++) {
        unsigned op = rnd(&seed) % 4;
        int k = (int)(rnd(&seed) % STRESS_IDS);
        if (op == 0 && nheld < STRESS_HELD) {
            stress_claim(sh, a->tid, held, &nheld, k, n);
        } else if (op == 1 && nheld > 0) {
            stress_release(sh, held, &nheld, (int)(rnd(&seed) % nheld));
        } else if (op == 2 && nheld > 0) {
            int h = held[rnd(&seed) % (unsigned)nheld];
            snprintf(id, sizeof(id), "s%d", h);
            stress_save_and_check(sh, a->tid, id, n);
        } else {
            snprintf(id, sizeof(id), "s%d", k);
            char *t = loaded_text(sh->store, id);
            if (!t) stress_fail(sh, "load failed", id);
            free(t);
        }
        if (strands_memory_store_count(sh->store) > STRESS_MAX)
            atomic_fetch_add(&sh->over_bound, 1);
    }
    while (nheld > 0) stress_release(sh, held, &nheld, nheld - 1);
    return NULL;
}

static void run_stress(int64_t ttl)
{
    stress_shared sh;
    memset(&sh, 0, sizeof(sh));
    sh.store = strands_memory_store_new(STRESS_MAX, ttl);
    for (int i = 0; i < STRESS_IDS; i++) atomic_init(&sh.owner[i], -1);

    pthread_t th[STRESS_THREADS];
    stress_arg args[STRESS_THREADS];
    int started = 0;
    for (int i = 0; i < STRESS_THREADS; i++) {
        args[i].sh = &sh;
        args[i].tid = i;
        if (pthread_create(&th[i], NULL, stress_thread, &args[i]) == 0)
            started++;
        else
            break;
    }
    CHECK_INT(started, STRESS_THREADS);
    for (int i = 0; i < started; i++) pthread_join(th[i], NULL);

    CHECK_INT(atomic_load(&sh.failures), 0);
    CHECK_INT(atomic_load(&sh.over_bound), 0);
    CHECK(strands_memory_store_count(sh.store) <= STRESS_MAX);
    CHECK(atomic_load(&sh.busy_seen) > 0); /* the contention was real */
    /* Everything was released: every id can be claimed again. */
    strands_error err;
    CHECK_INT(claim(sh.store, "s0", &err), STRANDS_OK);
    fprintf(stderr, "  ttl %lld: %d busy, %d unavailable, %zu left\n",
            (long long)ttl, atomic_load(&sh.busy_seen),
            atomic_load(&sh.unavailable_seen),
            strands_memory_store_count(sh.store));
    strands_session_store_free(sh.store);
}

static void test_stress_threads(void)
{
    run_stress(0);
}

static void test_stress_threads_with_ttl(void)
{
    /* Set before any thread starts, as strands_clock_set_wall requires. */
    strands_clock_set_wall(stress_wall, NULL);
    run_stress(2);
    strands_clock_set_wall(NULL, NULL);
}

int main(void)
{
    RUN(test_siphash_reference_vectors);
    RUN(test_id_check);
    RUN(test_new_and_free);
    RUN(test_load_unknown_is_empty_array);
    RUN(test_round_trip_is_deep_copy);
    RUN(test_append_grows_the_log);
    RUN(test_isolation_between_ids);
    RUN(test_claim_busy_release);
    RUN(test_lru_eviction_order);
    RUN(test_claimed_entries_never_evicted);
    RUN(test_many_sessions_grow_table);
    RUN(test_ttl_expiry);
    RUN(test_invalid_ids_and_messages);
    RUN(test_stress_threads);
    RUN(test_stress_threads_with_ttl);
    return test_report();
}
