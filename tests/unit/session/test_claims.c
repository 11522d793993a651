/* The claim protocol of the session-store interface, on the memory store:
 * tokens, busy, renew, release of a stale claim, a lapsed lease letting a
 * new claim in (and fencing the old holder's append), and the per-session
 * history cap (SESSION_MAX_HISTORY_BYTES).                              */
#include <time.h>

#include "strands/clock.h"
#include "strands/session.h"
#include "test.h"

#define KEY(id) (&(strands_session_key){.session_id = (id)})

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static json_t *history(const char *text)
{
    return json_pack("[{s:s, s:[{s:s}]}]", "role", "user", "content", "text",
                     text);
}

static char *stored_text(strands_session_store *s, const char *id)
{
    strands_session_record rec;
    if (s->vtab->load(s, KEY(id), &rec, NULL) != STRANDS_OK) return NULL;
    json_t *msgs = json_incref(rec.messages);
    strands_session_record_clear(&rec);
    const char *t = json_string_value(json_object_get(
        json_array_get(json_object_get(json_array_get(msgs, 0), "content"),
                       0),
        "text"));
    char *copy = strdup(t ? t : "");
    json_decref(msgs);
    return copy;
}

/* Appends msgs as the first turn of id (base 0, empty agent object). */
static strands_status append0(strands_session_store *s, const char *id,
                              const strands_session_claim *claim,
                              const json_t *msgs, strands_error *err)
{
    json_t *agent = json_object();
    strands_status st = s->vtab->append(s, KEY(id), claim, 0, msgs, agent,
                                        err);
    json_decref(agent);
    return st;
}

#define CHECK_STORED(s, id, want)                                        \
    do {                                                                 \
        char *got_ = stored_text(s, id);                                 \
        CHECK_STR(got_, want);                                           \
        free(got_);                                                      \
    } while (0)

static void test_vtab_and_tokens(void)
{
    strands_session_store *s = strands_memory_store_new(8, 0);
    CHECK_INT(s->vtab->version, STRANDS_SESSION_VTAB_VERSION);
    CHECK_INT(STRANDS_SESSION_VTAB_VERSION, 3);
    CHECK(s->vtab->claim && s->vtab->renew && s->vtab->release);
    strands_session_claim a, b;
    strands_error err;
    CHECK_INT(s->vtab->claim(s, KEY("x"), &a, &err), STRANDS_OK);
    CHECK_INT(strlen(a.token), 32);
    CHECK_INT(a.expires_ms, 0);            /* the default lease: forever */
    CHECK_INT(s->vtab->claim(s, KEY("x"), &b, &err), STRANDS_E_BUSY);
    CHECK_INT(s->vtab->release(s, KEY("x"), &a, &err), STRANDS_OK);
    CHECK_INT(s->vtab->claim(s, KEY("x"), &b, &err), STRANDS_OK);
    CHECK(strcmp(a.token, b.token) != 0);  /* a new claim, a new token */
    /* The first claim's token no longer releases the session. */
    CHECK_INT(s->vtab->release(s, KEY("x"), &a, &err), STRANDS_E_BUSY);
    CHECK_STR(err.code, "SessionClaimLost");
    CHECK(strstr(err.message, "session x") != NULL);
    strands_session_claim c;
    CHECK_INT(s->vtab->claim(s, KEY("x"), &c, &err), STRANDS_E_BUSY);
    CHECK_INT(s->vtab->release(s, KEY("x"), &b, &err), STRANDS_OK);
    /* Releasing twice reports the claim as lost the second time. */
    CHECK_INT(s->vtab->release(s, KEY("x"), &b, &err), STRANDS_E_BUSY);
    CHECK_STR(err.code, "SessionClaimLost");
    CHECK_INT(s->vtab->release(s, KEY(""), &b, &err), STRANDS_E_INVALID);
    strands_session_store_free(s);
}

static void test_lease_expiry_and_renew(void)
{
    strands_memory_store_config cfg = {.max_sessions = 8, .lease_ms = 500};
    strands_session_store *s = strands_memory_store_new_with(&cfg);
    strands_session_claim a, b;
    strands_error err;
    int64_t t0 = strands_clock_mono_ms();
    CHECK_INT(s->vtab->claim(s, KEY("x"), &a, &err), STRANDS_OK);
    CHECK(a.expires_ms >= t0 + 500 && a.expires_ms <= t0 + 500 + 1000);
    CHECK_INT(s->vtab->claim(s, KEY("x"), &b, &err), STRANDS_E_BUSY);
    /* Renewing keeps the claim alive past the first lease. */
    sleep_ms(300);
    int64_t before = a.expires_ms;
    CHECK_INT(s->vtab->renew(s, KEY("x"), &a, &err), STRANDS_OK);
    CHECK(a.expires_ms > before);
    sleep_ms(300);                         /* past the first lease */
    CHECK_INT(s->vtab->claim(s, KEY("x"), &b, &err), STRANDS_E_BUSY);
    /* Unrenewed, the lease lapses and a new claim takes over. */
    sleep_ms(650);
    CHECK_INT(s->vtab->claim(s, KEY("x"), &b, &err), STRANDS_OK);
    CHECK(strcmp(a.token, b.token) != 0);
    /* The old holder learns it lost the claim: renew, append, release. */
    CHECK_INT(s->vtab->renew(s, KEY("x"), &a, &err), STRANDS_E_BUSY);
    CHECK_STR(err.code, "SessionClaimLost");
    json_t *h = history("stale writer");
    CHECK_INT(append0(s, "x", &a, h, &err), STRANDS_E_BUSY);
    CHECK_STR(err.code, "SessionClaimLost");
    json_decref(h);
    CHECK_STORED(s, "x", "");              /* nothing was stored */
    h = history("new holder");
    CHECK_INT(append0(s, "x", &b, h, &err), STRANDS_OK);
    json_decref(h);
    CHECK_STORED(s, "x", "new holder");
    CHECK_INT(s->vtab->release(s, KEY("x"), &a, &err), STRANDS_E_BUSY);
    CHECK_INT(s->vtab->claim(s, KEY("x"), &a, &err), STRANDS_E_BUSY); /* b holds */
    CHECK_INT(s->vtab->release(s, KEY("x"), &b, &err), STRANDS_OK);
    /* A lapsed claim nobody took over may still be renewed (memory). */
    CHECK_INT(s->vtab->claim(s, KEY("y"), &a, &err), STRANDS_OK);
    sleep_ms(650);
    CHECK_INT(s->vtab->renew(s, KEY("y"), &a, &err), STRANDS_OK);
    CHECK_INT(s->vtab->claim(s, KEY("y"), &b, &err), STRANDS_E_BUSY);
    CHECK_INT(s->vtab->release(s, KEY("y"), &a, &err), STRANDS_OK);
    strands_session_store_free(s);
    /* Bad configs. */
    strands_memory_store_config bad = {.max_sessions = 1, .lease_ms = -1};
    CHECK(strands_memory_store_new_with(&bad) == NULL);
    CHECK(strands_memory_store_new_with(NULL) == NULL);
}

/* The history cap (log + agent object): an append over it fails with a clear error and stores
 * nothing; at the cap it succeeds.                                       */
static void test_history_cap(void)
{
    json_t *small = history("ok");
    char *text = json_dumps(small, JSON_COMPACT);
    size_t small_len = strlen(text);
    free(text);
    strands_memory_store_config cfg = {.max_sessions = 4,
                                       .max_history_bytes = small_len + 20};
    strands_session_store *s = strands_memory_store_new_with(&cfg);
    strands_error err;
    CHECK_INT(append0(s, "x", NULL, small, &err), STRANDS_OK);
    char big[64];
    memset(big, 'b', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    json_t *large = history(big);
    json_t *agent = json_object();
    CHECK_INT(s->vtab->append(s, KEY("x"), NULL, 1, large, agent, &err),
              STRANDS_E_TOO_LARGE);
    json_decref(agent);
    CHECK_INT(err.status, STRANDS_E_TOO_LARGE);
    CHECK_STR(err.code, "SessionHistoryTooLarge");
    CHECK(strstr(err.message, "SESSION_MAX_HISTORY_BYTES") != NULL);
    CHECK_STORED(s, "x", "ok");            /* the old history stays */
    CHECK_INT(append0(s, "new", NULL, large, &err),
              STRANDS_E_TOO_LARGE);
    CHECK_INT(strands_memory_store_count(s), 1);  /* no entry was made */
    /* Exactly at the cap (log + agent object "{}") is fine. */
    json_t *edge = history("ok");
    text = json_dumps(edge, JSON_COMPACT);
    size_t edge_len = strlen(text);
    free(text);
    strands_session_store_free(s);
    cfg.max_history_bytes = edge_len + 2;
    s = strands_memory_store_new_with(&cfg);
    CHECK_INT(append0(s, "x", NULL, edge, &err), STRANDS_OK);
    strands_session_store_free(s);
    json_decref(edge);
    json_decref(large);
    json_decref(small);
    /* The default cap is 16 MiB. */
    CHECK_INT(STRANDS_SESSION_DEFAULT_MAX_HISTORY_BYTES, 16 * 1024 * 1024);
}

int main(void)
{
    RUN(test_vtab_and_tokens);
    RUN(test_lease_expiry_and_renew);
    RUN(test_history_cap);
    return test_report();
}
