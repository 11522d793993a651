/* The invocation runner: one strands_agent_invoke on a worker of the
 * set's pool of JOINABLE threads, with the standard event sinks (the metrics log line, tracing),
 * a bounded event queue (cap in events and in bytes; the producer waits
 * when it is full, so a slow consumer stalls only its own invocation) and
 * a cancel flag. Protocol encoders (JSON, SSE, later WebSocket, MCP...)
 * are consumers: they pop events with a timeout, optionally watching the
 * client's socket for a hang-up, and read the outcome at the end.
 *
 * Every runner belongs to a runner set: the one place that counts the
 * invocations in flight, cancels them all and joins its worker threads. A
 * runner is freed only by runner_release (once its worker is done with
 * it), and a set only
 * when no runner is left, so no invocation thread ever outlives the
 * server, agent, store or model it uses.                                */
#ifndef STRANDS_SERVER_RUNNER_H
#define STRANDS_SERVER_RUNNER_H

#include <stddef.h>
#include <jansson.h>

#include "strands/agent.h"
#include "strands/telemetry.h"

typedef struct runner runner;
typedef struct runner_set runner_set;

/* Set-wide settings; every pointer is borrowed and must outlive the set. */
typedef struct runner_set_config {
    strands_agent *agent;     /* required */
    strands_tracer *tracer;   /* NULL: no tracing */
    const char *model_id;     /* for spans; may be NULL */
    size_t queue_max_events;  /* per runner; 0: RUNNER_QUEUE_EVENTS */
    size_t queue_max_bytes;   /* per runner; 0: RUNNER_QUEUE_BYTES */
    int max_runners;          /* live runners at once; 0: RUNNER_MAX */
} runner_set_config;

#define RUNNER_QUEUE_EVENTS 1024
#define RUNNER_QUEUE_BYTES (1u << 20)
#define RUNNER_MAX 4096

/** A new, empty set (config copied), or NULL on OOM. */
runner_set *runner_set_new(const runner_set_config *cfg);
/** Cancels what is still running, waits for every runner to be released
 * and frees the set (NULL is a no-op). Callers release their runners
 * (e.g. by stopping the HTTP daemon) before this.                       */
void runner_set_free(runner_set *s);
/** Runners not yet released (the invocations in flight). */
int runner_set_count(runner_set *s);
/** Waits until no runner is left or timeout_ms passed; returns the count
 * still left.                                                           */
int runner_set_wait_idle(runner_set *s, long timeout_ms);
/** Cancels every live runner (their invocations stop as soon as they can).
 * Runners started later are cancelled too.                              */
void runner_set_cancel_all(runner_set *s);
/** Waits up to timeout_ms while a CANCELLED runner of session_id is still
 * running (an invocation whose client went away still holds the session
 * claim until it notices). Returns 1 when none is left.                 */
int runner_set_wait_abandoned(runner_set *s, const char *session_id,
                              long timeout_ms);

/* What a runner is asked to run; borrowed for the runner_start call. */
typedef struct runner_request {
    const char *session_id;   /* required, already validated */
    const char *request_id;   /* invocation id; required */
    json_t *prompt;           /* content-block array (copied) */
    int stream;               /* stream model output and queue events */
    const char *traceparent;  /* incoming trace headers, or NULL */
    const char *xray;
    const char *actor_id;     /* the end user, already validated (at most
                                 RUNNER_ACTOR_ID_MAX bytes), or NULL */
    const strands_request_context *request; /* the caller's headers for
                                 tools (copied), or NULL */
    json_t *output_schema;    /* structured output schema (copied), or
                                 NULL */
    json_t *client_tools;     /* front-end tools (copied), or NULL */
} runner_request;

/* Longest actor (end-user) id a runner keeps. */
#define RUNNER_ACTOR_ID_MAX 256

/** Starts the invocation on a worker thread of the set: an idle worker,
 * else a new one (when no thread can be created it waits for a busy
 * worker). NULL with err filled (E_NOMEM; E_UNAVAILABLE when the set is
 * at max_runners or has no worker at all). The caller owns the runner:
 * runner_release it.                                                     */
runner *runner_start(runner_set *s, const runner_request *rq,
                     strands_error *err);

/** Runs the invocation on the CALLING thread (for encoders that need only
 * the outcome, such as the JSON one: no thread hand-off) and returns the
 * finished runner, its outcome ready; NULL with err as runner_start. It
 * counts as in flight and is cancelled with the set like any runner.
 * watch_fd >= 0 is a client socket: the set's one watcher thread (epoll,
 * started on first use) cancels the invocation when its peer hangs up.
 * The caller owns the runner: runner_release it.                        */
runner *runner_run(runner_set *s, const runner_request *rq, int watch_fd,
                   strands_error *err);

/* One queued event (streaming runners only). Owned by the consumer that
 * popped it; free with runner_event_free.                               */
typedef struct runner_event {
    strands_event_type type;  /* TEXT_DELTA, REASONING_DELTA, TOOL_START
                                 or TOOL_END */
    char *text;               /* TEXT_DELTA, REASONING_DELTA: the text
                                 (NUL-terminated) */
    size_t text_len;
    json_t *data;             /* TOOL_START: the toolUse object; TOOL_END:
                                 the toolResult object (owned) */
    size_t bytes;             /* what it counts against the byte cap */
    struct runner_event *next;
} runner_event;

/** Frees a popped event (NULL is a no-op). */
void runner_event_free(runner_event *ev);

typedef enum runner_wait {
    RUNNER_EVENT,    /* *out holds the next event */
    RUNNER_TIMEOUT,  /* nothing new within the timeout */
    RUNNER_STARTED,  /* runner_wait_started: the agent began */
    RUNNER_END,      /* finished and the queue is drained: see the outcome */
    RUNNER_HANGUP    /* watch_fd's peer closed its end */
} runner_wait;

/** Pops the next event, waiting up to timeout_ms. watch_fd >= 0 is a
 * client socket watched for a hang-up meanwhile (-1: none). Never blocks
 * the producer.                                                          */
runner_wait runner_next(runner *r, long timeout_ms, int watch_fd,
                        runner_event **out);
/** Waits until the agent has begun the invocation (RUNNER_STARTED; a
 * failure before that, e.g. a busy session, gives RUNNER_END) or the
 * watched peer hangs up. timeout_ms < 0: no timeout.                     */
runner_wait runner_wait_started(runner *r, long timeout_ms, int watch_fd);
/** Waits until the invocation has finished (RUNNER_END), discarding any
 * queued events, or the watched peer hangs up. timeout_ms < 0: none.     */
runner_wait runner_wait_end(runner *r, long timeout_ms, int watch_fd);

/* The outcome, valid after RUNNER_END until runner_release. */
typedef struct runner_outcome {
    strands_status status;
    strands_error error;         /* when status != OK */
    strands_agent_result result; /* when status == OK */
    int started;                 /* the agent emitted INVOCATION_START */
    int events_lost;             /* an event could not be queued (OOM) */
} runner_outcome;

/** The outcome; NULL while the invocation is still running. */
const runner_outcome *runner_get_outcome(runner *r);
/** Asks the invocation to stop (it is then "abandoned"); idempotent. */
void runner_cancel(runner *r);
/** Cancels the invocation if it is still running, waits until its worker
 * is done with it, frees the runner and takes it off its set (NULL is a
 * no-op). The worker thread itself is joined by runner_set_free.        */
void runner_release(runner *r);

/** True when the peer of socket fd closed its end (never blocks). */
int runner_peer_gone(int fd);

#endif
