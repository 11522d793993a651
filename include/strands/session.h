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

/* Version 3: a session is an append-only message LOG plus an AGENT object
 * (agent state, conversation-manager state), as Strands' session managers
 * keep them; a turn is appended atomically after the count it loaded
 * (optimistic concurrency on top of the claim); the key carries the
 * end user (actor) for stores that partition by user.                   */
#define STRANDS_SESSION_VTAB_VERSION 3

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

/* Which session; every pointer borrowed for the call. */
typedef struct strands_session_key {
    const char *session_id; /* strands_session_id_check rules */
    const char *actor_id;   /* the end user (AgentCore's
                               X-Amzn-Bedrock-AgentCore-Runtime-User-Id);
                               NULL when unknown. Stores that partition by
                               user (AgentCore Memory) use it, with their
                               own default; others ignore it.            */
    const char *agent_id;   /* NULL: "default" (Strands' default id) */
} strands_session_key;

/* What load returns; owned by the caller, released with
 * strands_session_record_clear.                                        */
typedef struct strands_session_record {
    /* Stored messages from index `first` to the end of the log, oldest
     * first: Converse messages, possibly carrying fields a model must not
     * see (e.g. "metadata"), which the agent strips before a model call.
     * An empty array for a new session.                                 */
    json_t *messages;
    /* The agent object (Strands' agent.json without its ids/timestamps):
     * {"state": {...}, "conversation_manager_state": {...}, ...}; {} for a
     * new session. Stores keep keys they do not know.                   */
    json_t *agent;
    /* Index of messages[0] in the log. A store may skip the messages a
     * conversation manager already removed (agent.
     * conversation_manager_state.removed_message_count, when that is a
     * non-negative integer no larger than the log), or return them all
     * (first = 0); the agent handles both.                              */
    size_t first;
    /* Messages in the whole log: the `base` of the next append. */
    size_t count;
} strands_session_record;

typedef struct strands_session_store strands_session_store;

typedef struct strands_session_store_vtab {
    int version;      /* STRANDS_SESSION_VTAB_VERSION */
    const char *name; /* "memory", "file", "redis", "s3", ... */
    /* Loads a session into *out (caller storage, filled on OK, zeroed on
     * error). An unknown session is not an error: empty messages, agent
     * {}, count 0. A store that cannot be reached: E_UNAVAILABLE with
     * err->code "SessionStoreUnavailable" (the server answers 503).     */
    strands_status (*load)(strands_session_store *self,
                           const strands_session_key *key,
                           strands_session_record *out, strands_error *err);
    /* Appends one turn: `messages` (borrowed array, possibly empty) go to
     * the log after its first `base` messages, and `agent` (borrowed
     * object) replaces the stored agent object; both or neither (a crash
     * or failure midway leaves the session as it was). Errors:
     *  - E_BUSY "SessionConflict": the log no longer has exactly `base`
     *    messages (another writer appended): nothing is written;
     *  - E_BUSY "SessionClaimLost": `claim` (NULL = unfenced, for tools
     *    and tests) is no longer the live claim: nothing is written;
     *  - E_TOO_LARGE "SessionHistoryTooLarge": over the store's cap;
     *  - E_UNAVAILABLE "SessionStoreUnavailable": the store is down.     */
    strands_status (*append)(strands_session_store *self,
                             const strands_session_key *key,
                             const strands_session_claim *claim, size_t base,
                             const json_t *messages, const json_t *agent,
                             strands_error *err);
    /* Claims the session for one invocation and fills *claim_out: E_BUSY
     * (code "SessionBusy") while another live claim holds it (a claim
     * whose lease lapsed does not: the new claim takes over).            */
    strands_status (*claim)(strands_session_store *self,
                            const strands_session_key *key,
                            strands_session_claim *claim_out,
                            strands_error *err);
    /* Extends the lease of a claim still held (updates claim->expires_ms).
     * E_BUSY with err->code "SessionClaimLost" when the claim lapsed and
     * another took over, or was released.                                */
    strands_status (*renew)(strands_session_store *self,
                            const strands_session_key *key,
                            strands_session_claim *claim,
                            strands_error *err);
    /* Ends a claim. OK when it was still held; E_BUSY with err->code
     * "SessionClaimLost" when it was no longer this claim's (lapsed and
     * taken over, or already released): nothing is changed then.        */
    strands_status (*release)(strands_session_store *self,
                              const strands_session_key *key,
                              const strands_session_claim *claim,
                              strands_error *err);
    void (*destroy)(strands_session_store *self);
} strands_session_store_vtab;

/* Implementations embed this as their first member. */
struct strands_session_store {
    const strands_session_store_vtab *vtab;
};

/** Releases what a record holds and zeroes it (NULL ok). */
STRANDS_EXTERN void strands_session_record_clear(strands_session_record *r);

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
