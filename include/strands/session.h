/* The session-store interface: conversation history per session id, plus
 * an exclusive claim (a lease: token + expiry, renewed while the
 * invocation runs) so one session runs one invocation at a time. The
 * in-memory store ships now; file and shared (Redis) stores implement the
 * same vtable, which is why claim/renew/release live in the store.       */
#ifndef STRANDS_SESSION_H
#define STRANDS_SESSION_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "strands/status.h"

/* Version 2: claims are leases (token + expiry) with renew, a release
 * that reports a lost claim, and a fenced save.                         */
#define STRANDS_SESSION_VTAB_VERSION 2

/* Default cap on the stored history of one session (serialized JSON
 * bytes): SESSION_MAX_HISTORY_BYTES.                                    */
#define STRANDS_SESSION_DEFAULT_MAX_HISTORY_BYTES ((size_t)16 * 1024 * 1024)

#define STRANDS_SESSION_CLAIM_TOKEN_MAX 64

/* An exclusive claim on one session, as handed out by claim and updated by
 * renew. Caller-allocated, plain data (nothing to free).                */
typedef struct strands_session_claim {
    /* Opaque, NUL-terminated; unique per claim (a lock value for Redis, a
     * lock-file content for a file store).                              */
    char token[STRANDS_SESSION_CLAIM_TOKEN_MAX];
    /* strands_clock_mono_ms() at which the lease lapses unless renewed;
     * 0 = never (the store keeps the claim until it is released).        */
    int64_t expires_ms;
} strands_session_claim;

typedef struct strands_session_store strands_session_store;

typedef struct strands_session_store_vtab {
    int version;      /* STRANDS_SESSION_VTAB_VERSION */
    const char *name; /* "memory", "file", "redis" */
    /* Loads the conversation: *messages_out is a new reference to a JSON
     * array (empty for an unknown session) that the caller owns.          */
    strands_status (*load)(strands_session_store *self, const char *session_id,
                           json_t **messages_out, strands_error *err);
    /* Replaces the stored conversation with `messages` (borrowed; the store
     * copies what it keeps). claim: the caller's claim, checked so a writer
     * whose lease lapsed cannot overwrite the new holder's history (E_BUSY,
     * err->code "SessionClaimLost"); NULL = unfenced (tools, tests).
     * Over the store's history cap: E_TOO_LARGE, err->code
     * "SessionHistoryTooLarge", and nothing is stored.                   */
    strands_status (*save)(strands_session_store *self, const char *session_id,
                           const strands_session_claim *claim,
                           const json_t *messages, strands_error *err);
    /* Claims the session for one invocation and fills *claim_out: E_BUSY
     * while another live claim holds it (a claim whose lease lapsed does
     * not: the new claim takes over).                                    */
    strands_status (*claim)(strands_session_store *self,
                            const char *session_id,
                            strands_session_claim *claim_out,
                            strands_error *err);
    /* Extends the lease of a claim still held (updates claim->expires_ms).
     * E_BUSY with err->code "SessionClaimLost" when the claim lapsed and
     * another took over, or was released.                                */
    strands_status (*renew)(strands_session_store *self,
                            const char *session_id,
                            strands_session_claim *claim,
                            strands_error *err);
    /* Ends a claim. OK when it was still held; E_BUSY with err->code
     * "SessionClaimLost" when it was no longer this claim's (lapsed and
     * taken over, or already released): nothing is changed then.        */
    strands_status (*release)(strands_session_store *self,
                              const char *session_id,
                              const strands_session_claim *claim,
                              strands_error *err);
    void (*destroy)(strands_session_store *self);
} strands_session_store_vtab;

/* Implementations embed this as their first member. */
struct strands_session_store {
    const strands_session_store_vtab *vtab;
};

/* Settings of the in-memory store. */
typedef struct strands_memory_store_config {
    size_t max_sessions;      /* conversations held (>= 1): least recently
                                 used evicted first, never a claimed one */
    int64_t idle_ttl_s;       /* drop after this long unused (0 = never) */
    size_t max_history_bytes; /* per-session cap on the stored history as
                                 compact JSON; 0 = the default, 16 MiB */
    int64_t lease_ms;         /* claim lease; 0 = claims never lapse */
} strands_memory_store_config;

/** In-memory store (see strands_memory_store_config). Thread-safe. NULL on
 * OOM or a bad config (max_sessions 0, negative TTL or lease).          */
STRANDS_EXTERN strands_session_store *strands_memory_store_new_with(
    const strands_memory_store_config *cfg);
/** Shorthand: max_sessions and idle_ttl_s, default history cap, claims
 * that never lapse.                                                     */
STRANDS_EXTERN strands_session_store *strands_memory_store_new(
    size_t max_sessions, int64_t idle_ttl_s);
/** Number of sessions currently held by a memory store. */
STRANDS_EXTERN size_t strands_memory_store_count(strands_session_store *s);
/** Frees any store (NULL is a no-op). */
/* Longest accepted session id in bytes (AgentCore allows up to 256). */
#define STRANDS_SESSION_ID_MAX 256

/** Checks that id is usable as a session id (by the server, and as a key
 * by every store): non-NULL, 1..STRANDS_SESSION_ID_MAX bytes, free of
 * ASCII control characters; never reads past the terminator nor past
 * STRANDS_SESSION_ID_MAX + 1 bytes. Returns OK, or E_INVALID with a
 * message in err (NULL allowed). On OK, *len_out (NULL allowed) gets
 * strlen(id).                                                          */
STRANDS_EXTERN strands_status strands_session_id_check(const char *id,
                                                       size_t *len_out,
                                                       strands_error *err);

STRANDS_EXTERN void strands_session_store_free(strands_session_store *s);

#endif
