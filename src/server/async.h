/* Long-running (async) invocations, HTTP mode: a body with "async": true
 * is answered 202 at once while its runner goes on in the background (no
 * client socket to watch) for up to ASYNC_MAX_SECONDS; get_invocation and
 * cancel_invocation actions read and stop it; /ping says HealthyBusy
 * while any runs. The table (async_table.h) keeps results bounded in
 * count and time. One monitor thread per server (started on first use)
 * notices ends, enforces the run limit and releases finished runners, so
 * they stop counting as in flight; at SIGTERM they keep running through
 * the grace period like any invocation and are cancelled with the rest. */
#ifndef STRANDS_SERVER_ASYNC_H
#define STRANDS_SERVER_ASYNC_H

#include <stdint.h>
#include <jansson.h>

#include "server/internal.h"
#include "server/runner.h"

/* The monitor checks running invocations this often (ms). */
#define ASYNC_POLL_MS 50
/* How long a submit waits for the agent to begin (claim the session), so
 * that a busy session is answered 409 like a synchronous call. */
#define ASYNC_START_WAIT_MS 10000
/* How long cancel_invocation waits for the invocation to stop. */
#define ASYNC_CANCEL_WAIT_MS 5000

typedef struct async_config {
    runner_set *runners;      /* required; borrowed, outlives the table */
    ping_state *ping;         /* /ping state to set; NULL: none */
    int max_s;                /* run limit in s; <= 0: 28800 */
    int ttl_s;                /* finished results kept, s; <= 0: 3600 */
    int max;                  /* entries kept; <= 0: 1000 */
    int64_t (*now_ms)(void);  /* monotonic clock; NULL: the real one
                                 (tests inject their own) */
    long start_wait_ms;       /* 0: ASYNC_START_WAIT_MS */
    long cancel_wait_ms;      /* 0: ASYNC_CANCEL_WAIT_MS */
} async_config;

typedef struct async_table async_table;

/** A new, empty table (config copied), or NULL on OOM. Free with
 * async_free.                                                          */
async_table *async_new(const async_config *cfg);
/** Stops the monitor, cancels and releases every runner still running
 * (waiting for each to end), frees the entries and the table. NULL is a
 * no-op. No other call may be in progress.                              */
void async_free(async_table *t);
/** Async invocations still running (started, not yet seen to end). */
int async_running(async_table *t);

/* The calls below return the HTTP status of their answer and put the
 * answer's JSON body in *out (new reference; NULL when it could not be
 * built: answer 500). Error bodies are {"error","error_type"}.          */

/** Starts rq (its stream flag is ignored: no events are kept) in the
 * background: 202 {"invocation_id","session_id","status":"running"};
 * 409 InvocationExists (the id is taken) or the agent's error when it
 * fails before it begins (409 SessionBusy...); 429
 * TooManyAsyncInvocations (the table is full of running ones); 503 when
 * no runner can start; 500 on OOM.                                      */
int async_submit(async_table *t, const runner_request *rq, json_t **out);
/** The invocation's status (async_entry_json): 200, or 404
 * InvocationNotFound (unknown, expired, or of another session when
 * session_id is not NULL).                                             */
int async_get(async_table *t, const char *id, const char *session_id,
              json_t **out);
/** Cancels a running invocation and waits (up to cancel_wait_ms) until it
 * has stopped: 200 with its status then (normally "cancelled"; "running"
 * when it has not stopped yet, "completed" when it finished first). 409
 * InvocationNotRunning (with "status") when it had already finished; 404
 * as async_get.                                                         */
int async_cancel(async_table *t, const char *id, const char *session_id,
                 json_t **out);

/** The server part: the table of an HTTP-mode server (srv->async). */
extern const server_part async_part;

/** POST /invocations with "async": true: answers async_submit's result
 * (rq as invocations.c built it; borrowed).                            */
enum MHD_Result async_http_submit(handler_ctx *h, const runner_request *rq);
/** POST /invocations with an "action" (get_invocation,
 * cancel_invocation): answers async_get / async_cancel's result.       */
enum MHD_Result async_http_action(handler_ctx *h, const request_parsed *p);

#endif
