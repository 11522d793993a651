/* A scripted slow model for the server tests (test_runner.c, test_async.c):
 * each call takes `steps` steps of `delay_ms`, honours the request's cancel
 * flag between steps (optionally noticing it only `ignore_cancel_ms` later),
 * may stream a text delta "d<i> " per step, records the last request's
 * messages, then answers "all done" (end_turn, usage 3/4/7). Also the
 * agent over it on a fresh memory store, and sleep_ms().                */
#ifndef STRANDS_TEST_SLOW_MODEL_H
#define STRANDS_TEST_SLOW_MODEL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "strands/strands.h"

typedef struct slow_model {
    strands_model base;
    atomic_int steps;            /* steps per call */
    atomic_int delay_ms;         /* pause before each step (0: none) */
    atomic_int ignore_cancel_ms; /* keep going this long after a cancel */
    int stream;                  /* 1: each step streams "d<i> " */
    atomic_int emitted;          /* steps done so far, over all calls */
    atomic_int calls;
    pthread_mutex_t lock;        /* guards last_messages */
    char last_messages[4096];    /* the last request's messages, as JSON */
} slow_model;

static inline void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static inline strands_status slow_converse(strands_model *self,
                                           const strands_model_request *req,
                                           strands_model_response *out,
                                           strands_error *err)
{
    slow_model *m = (slow_model *)self;
    memset(out, 0, sizeof *out);
    atomic_fetch_add(&m->calls, 1);
    char *text = json_dumps(req->messages, JSON_COMPACT);
    pthread_mutex_lock(&m->lock);
    snprintf(m->last_messages, sizeof m->last_messages, "%s",
             text ? text : "");
    pthread_mutex_unlock(&m->lock);
    free(text);
    /* Read once: a change is for the next call. */
    int steps = atomic_load(&m->steps);
    for (int i = 0; i < steps; i++) {
        if (req->cancelled && atomic_load(req->cancelled)) {
            int late = atomic_load(&m->ignore_cancel_ms);
            if (late) sleep_ms(late);
            return strands_error_set(err, STRANDS_E_CANCELLED, "Cancelled",
                                     "request cancelled");
        }
        int delay = atomic_load(&m->delay_ms);
        if (delay) sleep_ms(delay);
        if (m->stream && req->on_stream) {
            char d[16];
            int n = snprintf(d, sizeof d, "d%d ", i);
            strands_model_stream_event ev = {
                .type = STRANDS_MODEL_STREAM_TEXT, .data = d, .len = (size_t)n};
            req->on_stream(req->stream_user, &ev);
        }
        atomic_fetch_add(&m->emitted, 1);
    }
    out->message = json_pack("{s:s, s:[{s:s}]}", "role", "assistant",
                             "content", "text", "all done");
    out->stop = STRANDS_STOP_END_TURN;
    snprintf(out->stop_reason, sizeof out->stop_reason, "end_turn");
    out->usage = (strands_usage){3, 4, 7, 0, 0};
    return STRANDS_OK;
}

static inline void slow_destroy(strands_model *self)
{
    (void)self;
}

static const strands_model_vtab slow_vtab = {STRANDS_MODEL_VTAB_VERSION,
                                             "slow", slow_converse,
                                             slow_destroy};

/* Sets up `m` (zeroed first); slow_model_cleanup() undoes it. */
static inline void slow_model_init(slow_model *m, int steps, int delay_ms,
                                   int stream)
{
    memset(m, 0, sizeof *m);
    m->base.vtab = &slow_vtab;
    atomic_store(&m->steps, steps);
    atomic_store(&m->delay_ms, delay_ms);
    m->stream = stream;
    pthread_mutex_init(&m->lock, NULL);
}

static inline void slow_model_cleanup(slow_model *m)
{
    pthread_mutex_destroy(&m->lock);
}

/* An agent over `m` (max_tokens 100, max_iterations 3) with sessions in a
 * new memory store, returned in *store (the caller frees both: agent first). */
static inline strands_agent *slow_agent_new(slow_model *m,
                                            strands_session_store **store)
{
    *store = strands_memory_store_new(16, 0);
    strands_agent_config cfg = {.model = &m->base,
                                .sessions = *store,
                                .max_tokens = 100,
                                .max_iterations = 3};
    return strands_agent_new(&cfg, NULL);
}

#endif
