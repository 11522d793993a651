/* The session-store interface: conversation history per session id, plus
 * an exclusive claim so one session runs one invocation at a time. The
 * in-memory store ships now; file and shared (Redis) stores implement the
 * same vtable, which is why claim/release live in the store.             */
#ifndef STRANDS_SESSION_H
#define STRANDS_SESSION_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "strands/status.h"

#define STRANDS_SESSION_VTAB_VERSION 1

typedef struct strands_session_store strands_session_store;

typedef struct strands_session_store_vtab {
    int version;      /* STRANDS_SESSION_VTAB_VERSION */
    const char *name; /* "memory", "file", "redis" */
    /* Loads the conversation: *messages_out is a new reference to a JSON
     * array (empty for an unknown session) that the caller owns.          */
    strands_status (*load)(strands_session_store *self, const char *session_id,
                           json_t **messages_out, strands_error *err);
    /* Replaces the stored conversation with `messages` (borrowed; the store
     * copies what it keeps).                                              */
    strands_status (*save)(strands_session_store *self, const char *session_id,
                           const json_t *messages, strands_error *err);
    /* Claims the session for one invocation: E_BUSY when already claimed. */
    strands_status (*claim)(strands_session_store *self,
                            const char *session_id, strands_error *err);
    /* Ends a successful claim. */
    void (*release)(strands_session_store *self, const char *session_id);
    void (*destroy)(strands_session_store *self);
} strands_session_store_vtab;

/* Implementations embed this as their first member. */
struct strands_session_store {
    const strands_session_store_vtab *vtab;
};

/** In-memory store: at most max_sessions conversations (least recently
 * used evicted first, never a claimed one), each dropped after idle_ttl_s
 * seconds without use (0 = no TTL). Thread-safe. NULL on OOM.            */
STRANDS_EXTERN strands_session_store *strands_memory_store_new(
    size_t max_sessions, int64_t idle_ttl_s);
/** Number of sessions currently held by a memory store. */
STRANDS_EXTERN size_t strands_memory_store_count(strands_session_store *s);
/** Frees any store (NULL is a no-op). */
STRANDS_EXTERN void strands_session_store_free(strands_session_store *s);

#endif
