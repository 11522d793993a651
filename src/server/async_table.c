/* The async invocation table (see async_table.h): entries hashed by id,
 * a list of running entries and a list of finished ones in the order
 * they finished (so the first to expire and the first to evict are at
 * its head), the outcome-to-result mapping and the get_invocation
 * answer.                                                               */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/async_table.h"
#include "strands/clock.h"

/* FNV-1a: ids are short, and the table is capped. */
static size_t bucket_of(const async_tab *t, const char *id)
{
    uint64_t h = 1469598103934665603ull;
    for (const unsigned char *p = (const unsigned char *)id; *p; p++) {
        h ^= *p;
        h *= 1099511628211ull;
    }
    return (size_t)(h & (t->n_buckets - 1));
}

strands_status async_tab_init(async_tab *t, size_t max, int64_t ttl_ms,
                              int64_t max_run_ms)
{
    memset(t, 0, sizeof *t);
    size_t n = 16;
    while (n < max && n < ((size_t)1 << 20)) n <<= 1;
    t->buckets = calloc(n, sizeof *t->buckets);
    if (!t->buckets) return STRANDS_E_NOMEM;
    t->n_buckets = n;
    t->max = max ? max : 1;
    t->ttl_ms = ttl_ms;
    t->max_run_ms = max_run_ms;
    return STRANDS_OK;
}

static void entry_free(async_entry *e)
{
    json_decref(e->fields);
    free(e);
}

void async_tab_cleanup(async_tab *t)
{
    for (async_entry *e = t->running, *n; e; e = n) {
        n = e->next;
        entry_free(e);
    }
    for (async_entry *e = t->fin_head, *n; e; e = n) {
        n = e->next;
        entry_free(e);
    }
    free(t->buckets);
    memset(t, 0, sizeof *t);
}

/* Takes e off its list (running or finished). */
static void unlink_list(async_tab *t, async_entry *e)
{
    if (e->state == ASYNC_RUNNING) {
        if (e->prev)
            e->prev->next = e->next;
        else
            t->running = e->next;
        if (e->next) e->next->prev = e->prev;
        t->n_running--;
    } else {
        if (e->prev)
            e->prev->next = e->next;
        else
            t->fin_head = e->next;
        if (e->next)
            e->next->prev = e->prev;
        else
            t->fin_tail = e->prev;
        t->n_finished--;
    }
    e->prev = e->next = NULL;
}

void async_tab_remove(async_tab *t, async_entry *e)
{
    for (async_entry **p = &t->buckets[bucket_of(t, e->id)]; *p;
         p = &(*p)->hnext)
        if (*p == e) {
            *p = e->hnext;
            break;
        }
    unlink_list(t, e);
    entry_free(e);
}

size_t async_tab_expire(async_tab *t, int64_t now)
{
    size_t n = 0;
    /* Finished in order: the first one still fresh ends the sweep. */
    while (t->fin_head && now - t->fin_head->finished_ms >= t->ttl_ms) {
        async_tab_remove(t, t->fin_head);
        n++;
    }
    return n;
}

static async_entry *lookup(const async_tab *t, const char *id)
{
    for (async_entry *e = t->buckets[bucket_of(t, id)]; e; e = e->hnext)
        if (!strcmp(e->id, id)) return e;
    return NULL;
}

async_entry *async_tab_find(async_tab *t, const char *id, int64_t now)
{
    async_tab_expire(t, now);
    return lookup(t, id);
}

async_entry *async_tab_find_serial(async_tab *t, const char *id,
                                   uint64_t serial, int64_t now)
{
    async_entry *e = async_tab_find(t, id, now);
    return e && e->serial == serial ? e : NULL;
}

async_add_result async_tab_add(async_tab *t, const char *id,
                               const char *session_id, int64_t now,
                               async_entry **out)
{
    *out = NULL;
    async_tab_expire(t, now);
    if (lookup(t, id)) return ASYNC_ADD_EXISTS;
    if (t->n_running >= t->max) return ASYNC_ADD_FULL;
    async_entry *e = calloc(1, sizeof *e);
    if (!e) return ASYNC_ADD_NOMEM;
    /* Room is made only once the new entry exists: an allocation failure
     * evicts nothing. */
    if (t->n_running + t->n_finished >= t->max)
        async_tab_remove(t, t->fin_head);
    snprintf(e->id, sizeof e->id, "%s", id);
    snprintf(e->session_id, sizeof e->session_id, "%s", session_id);
    e->serial = ++t->next_serial;
    e->state = ASYNC_RUNNING;
    e->created_ms = now;
    e->deadline_ms = now + t->max_run_ms;
    e->created_at = strands_clock_wall();
    size_t b = bucket_of(t, e->id);
    e->hnext = t->buckets[b];
    t->buckets[b] = e;
    e->next = t->running;
    if (t->running) t->running->prev = e;
    t->running = e;
    t->n_running++;
    *out = e;
    return ASYNC_ADD_OK;
}

/* What a finished invocation adds to its answer; NULL on OOM. */
static json_t *outcome_fields(const async_tab *t, async_entry *e,
                              const runner_outcome *o)
{
    if (o->status == STRANDS_OK) {
        e->state = ASYNC_COMPLETED;
        /* A copy that shares no value with the runner's result (freed by
         * another thread when the runner is released). */
        json_t *doc = server_result_json(e->id, e->session_id, &o->result);
        json_t *own = json_deep_copy(doc);
        json_decref(doc);
        return own;
    }
    char msg[160];
    const char *type, *text;
    if (e->timed_out) {
        /* The run limit cancelled it: a failure, not the caller's cancel. */
        e->state = ASYNC_FAILED;
        snprintf(msg, sizeof msg,
                 "the invocation ran longer than ASYNC_MAX_SECONDS (%lld s) "
                 "and was cancelled",
                 (long long)(t->max_run_ms / 1000));
        type = "AsyncTimeout";
        text = msg;
    } else if (e->cancel_requested || o->status == STRANDS_E_CANCELLED) {
        e->state = ASYNC_CANCELLED;
        type = "Cancelled";
        text = e->cancel_requested
                   ? "cancelled by cancel_invocation"
                   : "cancelled (the runtime is shutting down)";
    } else {
        e->state = ASYNC_FAILED;
        type = server_error_type(&o->error);
        text = o->error.message;
    }
    return json_pack("{s:s, s:s}", "error", text, "error_type", type);
}

void async_tab_finish(async_tab *t, async_entry *e, const runner_outcome *o,
                      int64_t now)
{
    if (e->state != ASYNC_RUNNING) return;
    unlink_list(t, e);
    e->runner = NULL;
    e->fields = outcome_fields(t, e, o);
    if (!e->fields) e->state = ASYNC_FAILED;
    e->finished_ms = now;
    e->finished_at = strands_clock_wall();
    e->prev = t->fin_tail;
    if (t->fin_tail)
        t->fin_tail->next = e;
    else
        t->fin_head = e;
    t->fin_tail = e;
    t->n_finished++;
}

const char *async_state_name(async_state s)
{
    switch (s) {
    case ASYNC_COMPLETED: return "completed";
    case ASYNC_FAILED: return "failed";
    case ASYNC_CANCELLED: return "cancelled";
    default: return "running";
    }
}

json_t *async_entry_json(const async_entry *e)
{
    json_t *doc = json_pack("{s:s, s:s, s:s, s:I}", "invocation_id", e->id,
                            "session_id", e->session_id, "status",
                            async_state_name(e->state), "created_at",
                            (json_int_t)e->created_at);
    if (!doc || e->state == ASYNC_RUNNING) return doc;
    int bad = json_object_set_new(doc, "finished_at",
                                  json_integer(e->finished_at)) != 0;
    if (!bad && e->fields) {
        /* Copied: the answer is written out after the table's lock is
         * dropped, when the entry may already be expired and freed. */
        json_t *copy = json_deep_copy(e->fields);
        bad = !copy || json_object_update(doc, copy) != 0;
        json_decref(copy);
    } else if (!bad)
        bad = json_object_set_new(doc, "error",
                                  json_string("out of memory while storing "
                                              "the result")) != 0 ||
              json_object_set_new(doc, "error_type",
                                  json_string("InternalError")) != 0;
    if (bad) {
        json_decref(doc);
        return NULL;
    }
    return doc;
}
