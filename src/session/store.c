/* Session-store dispatch shared by every backend (strands_session_store_free)
 * and strands_session_record_clear, and the private helpers in store.h:
 * session-id and key validation, turn checks, SipHash-2-4 for
 * hash tables keyed by client-chosen ids, the random hash key, claim tokens
 * and the shared claim-lost / conflict / history-too-large errors.                    */
#include <string.h>
#include <sys/random.h>

#include "strands/clock.h"
#include "strands/session.h"
#include "session/store.h"

void strands_session_store_free(strands_session_store *s)
{
    if (!s || !s->vtab || !s->vtab->destroy) return;
    s->vtab->destroy(s);
}

strands_status strands_session_id_check(const char *id, size_t *len_out,
                                        strands_error *err)
{
    if (!id)
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "session id is missing");
    size_t len = strnlen(id, STRANDS_SESSION_ID_MAX + 1);
    if (len == 0)
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "session id is empty");
    if (len > STRANDS_SESSION_ID_MAX)
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "session id is longer than %d bytes",
                                 STRANDS_SESSION_ID_MAX);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)id[i];
        if (c < 0x20 || c == 0x7f)
            return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                     "session id contains a control "
                                     "character at byte %zu", i);
    }
    if (len_out) *len_out = len;
    return STRANDS_OK;
}

void strands_session_record_clear(strands_session_record *r)
{
    if (!r) return;
    json_decref(r->messages);
    json_decref(r->agent);
    memset(r, 0, sizeof *r);
}

/* The session-id rule applied to another id of the key (actor, agent). */
static strands_status other_id_check(const char *what, const char *id,
                                     strands_error *err)
{
    if (!id) return STRANDS_OK;
    strands_error e;
    if (strands_session_id_check(id, NULL, &e) == STRANDS_OK)
        return STRANDS_OK;
    return strands_error_set(err, STRANDS_E_INVALID, NULL,
                             "%s id must be 1..%d bytes without control "
                             "characters", what, STRANDS_SESSION_ID_MAX);
}

strands_status session_key_check(const strands_session_key *key,
                                 size_t *len_out, strands_error *err)
{
    if (!key)
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "session key is missing");
    strands_status st = strands_session_id_check(key->session_id, len_out,
                                                 err);
    if (st == STRANDS_OK) st = other_id_check("actor", key->actor_id, err);
    if (st == STRANDS_OK) st = other_id_check("agent", key->agent_id, err);
    return st;
}

strands_status session_check_turn(strands_error *err, const char *id,
                                  const json_t *messages, const json_t *agent)
{
    if (!json_is_array(messages))
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "session %s: messages must be a JSON array",
                                 id);
    size_t i;
    const json_t *m;
    json_array_foreach(messages, i, m) {
        if (!json_is_object(m))
            return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                     "session %s: message %zu is not a JSON "
                                     "object", id, i);
    }
    if (!json_is_object(agent))
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "session %s: the agent must be a JSON "
                                 "object", id);
    return STRANDS_OK;
}

strands_status session_conflict(strands_error *err, const char *id,
                                size_t base, size_t have)
{
    return strands_error_set(err, STRANDS_E_BUSY, "SessionConflict",
                             "session %s changed since it was loaded (%zu "
                             "messages expected, %zu stored): another "
                             "writer appended", id, base, have);
}

void session_claim_token(strands_session_claim *claim)
{
    uint8_t raw[16];
    session_hash_key(raw);   /* the kernel's random bytes (or fallback) */
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < 16; i++) {
        claim->token[2 * i] = hex[raw[i] >> 4];
        claim->token[2 * i + 1] = hex[raw[i] & 15];
    }
    claim->token[32] = '\0';
}

strands_status session_claim_lost(strands_error *err, const char *id)
{
    return strands_error_set(err, STRANDS_E_BUSY, "SessionClaimLost",
                             "the claim on session %s is no longer held "
                             "(its lease lapsed and another invocation took "
                             "the session, or it was released)", id);
}

strands_status session_check_history_size(strands_error *err, const char *id,
                                          size_t size, size_t cap)
{
    if (size <= cap) return STRANDS_OK;
    return strands_error_set(err, STRANDS_E_TOO_LARGE,
                             "SessionHistoryTooLarge",
                             "session %s: the conversation would take %zu "
                             "bytes, over the %zu-byte limit "
                             "(SESSION_MAX_HISTORY_BYTES); start a new "
                             "session", id, size, cap);
}

/* ---- SipHash-2-4 (Aumasson and Bernstein) ---------------------------- */

static uint64_t rotl64(uint64_t x, int b)
{
    return (x << b) | (x >> (64 - b));
}

static uint64_t load_le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}

static void sip_round(uint64_t v[4])
{
    v[0] += v[1]; v[1] = rotl64(v[1], 13); v[1] ^= v[0];
    v[0] = rotl64(v[0], 32);
    v[2] += v[3]; v[3] = rotl64(v[3], 16); v[3] ^= v[2];
    v[0] += v[3]; v[3] = rotl64(v[3], 21); v[3] ^= v[0];
    v[2] += v[1]; v[1] = rotl64(v[1], 17); v[1] ^= v[2];
    v[2] = rotl64(v[2], 32);
}

static void sip_absorb(uint64_t v[4], uint64_t m)
{
    v[3] ^= m;
    sip_round(v);
    sip_round(v);
    v[0] ^= m;
}

uint64_t session_hash(const uint8_t key[16], const void *data,
                              size_t len)
{
    const uint8_t *p = data;
    uint64_t k0 = load_le64(key), k1 = load_le64(key + 8);
    uint64_t v[4] = {
        k0 ^ 0x736f6d6570736575ULL, k1 ^ 0x646f72616e646f6dULL,
        k0 ^ 0x6c7967656e657261ULL, k1 ^ 0x7465646279746573ULL,
    };
    size_t whole = len - len % 8;
    for (size_t i = 0; i < whole; i += 8) sip_absorb(v, load_le64(p + i));

    /* Last block: the remaining bytes, with len mod 256 in the top byte. */
    uint64_t last = (uint64_t)(len & 0xff) << 56;
    for (size_t i = whole; i < len; i++)
        last |= (uint64_t)p[i] << (8 * (i - whole));
    sip_absorb(v, last);

    v[2] ^= 0xff;
    for (int i = 0; i < 4; i++) sip_round(v);
    return v[0] ^ v[1] ^ v[2] ^ v[3];
}

void session_hash_key(uint8_t key[16])
{
    if (getrandom(key, 16, GRND_NONBLOCK) == 16) return;
    /* No kernel entropy yet (early boot): mix clocks and an address. */
    uint64_t a = (uint64_t)strands_clock_mono_ms() * 0x9e3779b97f4a7c15ULL;
    uint64_t b = (uint64_t)strands_clock_wall() ^ (uint64_t)(uintptr_t)key;
    memcpy(key, &a, 8);
    memcpy(key + 8, &b, 8);
}
