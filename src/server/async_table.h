/* The bookkeeping of async invocations ({"async": true}), with no
 * threads, locks or HTTP in it: a bounded table of entries by invocation
 * id, running or finished, that expires finished entries after a TTL,
 * evicts the oldest finished one when full, and turns a runner's outcome
 * into the stored result. Times are passed in (any monotonic clock in
 * ms), so tests drive them. Not thread-safe: async.c locks around it.   */
#ifndef STRANDS_SERVER_ASYNC_TABLE_H
#define STRANDS_SERVER_ASYNC_TABLE_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "server/internal.h"
#include "server/runner.h"

typedef enum async_state {
    ASYNC_RUNNING = 0,
    ASYNC_COMPLETED,
    ASYNC_FAILED,
    ASYNC_CANCELLED
} async_state;

/* One async invocation. Owned by its table; valid until it is removed,
 * expired or evicted (finished entries only) or the table is cleaned up. */
typedef struct async_entry {
    char id[SERVER_REQUEST_ID_MAX + 1];
    char session_id[SERVER_SESSION_ID_MAX + 1];
    uint64_t serial;          /* unique in the table, never 0 */
    async_state state;
    int64_t created_ms;       /* table clock */
    int64_t deadline_ms;      /* created_ms + the run limit */
    int64_t finished_ms;      /* table clock; 0 while running */
    int64_t created_at;       /* Unix seconds, for the answer */
    int64_t finished_at;
    runner *runner;           /* running and started: the caller's (the
                                 table never touches it); NULL otherwise */
    int cancel_requested;     /* cancel_invocation asked */
    int timed_out;            /* the run limit cancelled it */
    json_t *fields;           /* finished: what the answer adds (response
                                 fields, or error/error_type); NULL after
                                 an allocation failure (InternalError) */
    struct async_entry *hnext;      /* hash chain */
    struct async_entry *prev, *next;/* running list, or finished list */
} async_entry;

typedef struct async_tab {
    async_entry **buckets;
    size_t n_buckets;             /* a power of two */
    async_entry *running;         /* running entries, any order */
    async_entry *fin_head, *fin_tail; /* finished, oldest finish first */
    size_t n_running, n_finished;
    size_t max;                   /* entries at once, running or finished */
    int64_t ttl_ms;               /* finished entries are kept this long */
    int64_t max_run_ms;           /* run limit */
    uint64_t next_serial;
} async_tab;

/** Sets up an empty table for at most max (>= 1) entries. STRANDS_OK, or
 * E_NOMEM (nothing to clean up).                                        */
strands_status async_tab_init(async_tab *t, size_t max, int64_t ttl_ms,
                              int64_t max_run_ms);
/** Frees every entry and the table's memory (runners are the caller's:
 * release them first). Safe on a zeroed table.                          */
void async_tab_cleanup(async_tab *t);

typedef enum async_add_result {
    ASYNC_ADD_OK = 0,
    ASYNC_ADD_EXISTS,   /* an entry with this id is still kept */
    ASYNC_ADD_FULL,     /* max entries, all running */
    ASYNC_ADD_NOMEM
} async_add_result;

/** Adds a running entry (no runner yet) created at `now`; expired entries
 * go first, and when the table is full the entry that finished longest
 * ago is evicted. id and session_id (validated by the caller: at most
 * SERVER_REQUEST_ID_MAX / SERVER_SESSION_ID_MAX bytes) are copied. *out
 * is the entry on ASYNC_ADD_OK.                                       */
async_add_result async_tab_add(async_tab *t, const char *id,
                               const char *session_id, int64_t now,
                               async_entry **out);
/** The entry with this id, or NULL; finished entries past their TTL at
 * `now` are dropped first.                                              */
async_entry *async_tab_find(async_tab *t, const char *id, int64_t now);
/** The entry with this id and serial (still the same one), or NULL. */
async_entry *async_tab_find_serial(async_tab *t, const char *id,
                                   uint64_t serial, int64_t now);
/** Drops finished entries past their TTL at `now`; returns how many. */
size_t async_tab_expire(async_tab *t, int64_t now);
/** Removes and frees an entry (its runner, if any, is the caller's). */
void async_tab_remove(async_tab *t, async_entry *e);
/** Marks a running entry finished at `now` with the invocation's outcome:
 * completed (the response fields server_result_json builds), cancelled
 * (cancel_invocation, or the server shutting down) or failed (the agent's
 * error; "AsyncTimeout" after the run limit). e->runner is cleared (the
 * caller releases the runner AFTER this, as o lives in it). An
 * allocation failure leaves fields NULL: the answer then says failed,
 * InternalError.                                                       */
void async_tab_finish(async_tab *t, async_entry *e, const runner_outcome *o,
                      int64_t now);
/** The get_invocation answer for e: {"invocation_id","session_id",
 * "status","created_at"} and, once finished, "finished_at" with a copy of
 * the stored fields (it shares no value with e, so it may outlive it and
 * be read by another thread). New reference, or NULL on OOM.           */
json_t *async_entry_json(const async_entry *e);
/** "running", "completed", "failed" or "cancelled". */
const char *async_state_name(async_state s);

#endif
