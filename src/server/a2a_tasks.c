/* The A2A task table (struct a2a_state): every task this server was asked
 * to do, bounded in count (A2A_MAX_TASKS: the oldest finished task goes
 * first; running tasks are never evicted) and in time (finished tasks are
 * forgotten A2A_TASK_TTL_SECONDS after they finished). One mutex guards
 * it; tasks hold plain C strings only, and every JSON document is built
 * fresh under the lock for the caller, so no jansson object is shared
 * between threads. A running task borrows its runner pointer from the
 * thread that drives it, which takes it back (a2a_tasks_finish) before
 * releasing it; a cancel from another request reaches the runner only
 * under the lock, so it never touches a released runner.               */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "server/a2a.h"
#include "server/runner.h"
#include "strands/clock.h"
#include "strands/util.h"

/* The most answer text a task keeps. */
#define A2A_ANSWER_MAX ((size_t)16 << 20)

typedef struct a2a_task {
    char id[37];
    char context_id[SERVER_SESSION_ID_MAX + 1];
    char message_id[A2A_MESSAGE_ID_MAX + 1];
    char artifact_id[37];
    char reply_id[37];
    a2a_task_state state;
    int cancel_requested;
    int has_answer;
    int64_t updated_ms;       /* wall ms of the last state change */
    int64_t finished_mono;    /* monotonic ms it finished; 0 running */
    uint64_t seq;             /* creation order */
    char *user_text;
    char *error;              /* failure message, or NULL */
    dynbuf answer;
    runner *r;                /* borrowed while running, or NULL */
    struct a2a_task *next;
} a2a_task;

/* A thread of a task that runs without a client. */
typedef struct a2a_bg {
    pthread_t thread;
    void (*fn)(void *);
    void *arg;
    a2a_state *st;
    int done;                 /* under st->lock */
    struct a2a_bg *next;
} a2a_bg;

struct a2a_state {
    pthread_mutex_t lock;
    a2a_bg *bg;               /* spawned threads, not yet joined */
    a2a_task *head;
    size_t count, max;
    int64_t ttl_ms;
    uint64_t seq;
};

/* Wall-clock milliseconds (status timestamps are ISO 8601 with ms). */
static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void task_free(a2a_task *t)
{
    free(t->user_text);
    free(t->error);
    dynbuf_cleanup(&t->answer);
    free(t);
}

a2a_state *a2a_tasks_new(size_t max_tasks, int64_t ttl_ms)
{
    a2a_state *st = calloc(1, sizeof *st);
    if (!st) return NULL;
    pthread_mutex_init(&st->lock, NULL);
    st->max = max_tasks ? max_tasks : 1000;
    st->ttl_ms = ttl_ms > 0 ? ttl_ms : 3600000;
    return st;
}

void a2a_tasks_free(a2a_state *st)
{
    if (!st) return;
    a2a_tasks_join_all(st);
    a2a_task *t = st->head;
    while (t) {
        a2a_task *n = t->next;
        task_free(t);
        t = n;
    }
    pthread_mutex_destroy(&st->lock);
    free(st);
}

/* Unlinks and frees *pp (under lock). */
static void drop(a2a_state *st, a2a_task **pp)
{
    a2a_task *t = *pp;
    *pp = t->next;
    st->count--;
    task_free(t);
}

/* Drops finished tasks past their TTL (under lock). */
static void expire(a2a_state *st)
{
    int64_t now = strands_clock_mono_ms();
    for (a2a_task **pp = &st->head; *pp;) {
        a2a_task *t = *pp;
        if (t->finished_mono && now - t->finished_mono >= st->ttl_ms)
            drop(st, pp);
        else
            pp = &t->next;
    }
}

static a2a_task *find(a2a_state *st, const char *id)
{
    for (a2a_task *t = st->head; t; t = t->next)
        if (!strcmp(t->id, id)) return t;
    return NULL;
}

static a2a_task_view view(const a2a_task *t)
{
    a2a_task_view v = {
        .id = t->id,
        .context_id = t->context_id,
        .state = t->state,
        .updated_ms = t->updated_ms,
        .user_text = t->user_text,
        .user_message_id = t->message_id,
        .answer = t->has_answer ? dynbuf_str(&t->answer) : NULL,
        .answer_len = t->has_answer ? t->answer.len : 0,
        .artifact_id = t->artifact_id,
        .reply_id = t->reply_id,
        .error = t->error,
    };
    return v;
}

int a2a_tasks_create(a2a_state *st, const char *context_id,
                     const char *user_text, const char *message_id,
                     char id_out[37], char *artifact_out, char *why,
                     size_t whysz)
{
    a2a_task *t = calloc(1, sizeof *t);
    if (!t || !(t->user_text = strdup(user_text ? user_text : ""))) {
        free(t);
        snprintf(why, whysz, "out of memory");
        return A2A_ERR_INTERNAL;
    }
    strands_uuid4(t->id);
    strands_uuid4(t->artifact_id);
    strands_uuid4(t->reply_id);
    snprintf(t->context_id, sizeof t->context_id, "%s", context_id);
    snprintf(t->message_id, sizeof t->message_id, "%s", message_id);
    dynbuf_init(&t->answer, A2A_ANSWER_MAX);
    t->state = A2A_SUBMITTED;
    t->updated_ms = wall_ms();

    pthread_mutex_lock(&st->lock);
    expire(st);
    if (st->count >= st->max) {
        /* Evict the oldest finished task (by the time it finished). */
        a2a_task **oldest = NULL;
        for (a2a_task **pp = &st->head; *pp; pp = &(*pp)->next)
            if ((*pp)->finished_mono &&
                (!oldest || (*pp)->finished_mono < (*oldest)->finished_mono ||
                 ((*pp)->finished_mono == (*oldest)->finished_mono &&
                  (*pp)->seq < (*oldest)->seq)))
                oldest = pp;
        if (!oldest) {
            size_t max = st->max;
            pthread_mutex_unlock(&st->lock);
            task_free(t);
            snprintf(why, whysz, "too many A2A tasks are running (%zu, "
                                 "A2A_MAX_TASKS); retry when one finishes",
                     max);
            return A2A_ERR_INTERNAL;
        }
        drop(st, oldest);
    }
    t->seq = ++st->seq;
    t->next = st->head;
    st->head = t;
    st->count++;
    memcpy(id_out, t->id, 37);
    if (artifact_out) memcpy(artifact_out, t->artifact_id, 37);
    pthread_mutex_unlock(&st->lock);
    return 0;
}

int a2a_tasks_attach(a2a_state *st, const char *id, runner *r)
{
    int cancelled = 0;
    pthread_mutex_lock(&st->lock);
    a2a_task *t = find(st, id);
    if (t) {
        cancelled = t->cancel_requested;
        if (!a2a_state_terminal(t->state)) {
            t->r = r;
            t->state = A2A_WORKING;
            t->updated_ms = wall_ms();
        }
    }
    pthread_mutex_unlock(&st->lock);
    return cancelled;
}

void a2a_tasks_append(a2a_state *st, const char *id, const char *text,
                      size_t len)
{
    pthread_mutex_lock(&st->lock);
    a2a_task *t = find(st, id);
    if (t && !t->finished_mono && !t->cancel_requested) {
        /* Past the cap the answer so far is kept (the final answer
         * replaces it anyway). */
        if (t->answer.len + len <= A2A_ANSWER_MAX &&
            dynbuf_append(&t->answer, text, len) == STRANDS_OK)
            t->has_answer = 1;
    }
    pthread_mutex_unlock(&st->lock);
}

int a2a_tasks_finish(a2a_state *st, const char *id, a2a_task_state end,
                     const char *text,
                     const char *error, a2a_version v, int history_length,
                     a2a_task_state *state_out, json_t **task_out)
{
    if (task_out) *task_out = NULL;
    pthread_mutex_lock(&st->lock);
    a2a_task *t = find(st, id);
    if (!t) {
        pthread_mutex_unlock(&st->lock);
        return A2A_ERR_TASK_NOT_FOUND;
    }
    t->r = NULL;
    if (!t->finished_mono) {
        if (t->cancel_requested) {
            t->state = A2A_CANCELED; /* already timestamped by the cancel */
        } else if (end == A2A_CANCELED) {
            t->state = A2A_CANCELED;
            t->updated_ms = wall_ms();
        } else if (end == A2A_COMPLETED) {
            t->state = A2A_COMPLETED;
            dynbuf_cleanup(&t->answer);
            dynbuf_init(&t->answer, A2A_ANSWER_MAX);
            t->has_answer =
                dynbuf_append(&t->answer, text ? text : "",
                              text ? strlen(text) : 0) == STRANDS_OK;
            t->updated_ms = wall_ms();
        } else {
            t->state = A2A_FAILED;
            free(t->error);
            t->error = strdup(error && *error ? error : "the agent failed");
            t->updated_ms = wall_ms();
        }
        int64_t now = strands_clock_mono_ms();
        t->finished_mono = now > 0 ? now : 1;
    }
    if (state_out) *state_out = t->state;
    if (task_out) {
        a2a_task_view tv = view(t);
        *task_out = a2a_task_json(&tv, v, history_length, 1);
    }
    pthread_mutex_unlock(&st->lock);
    return 0;
}

int a2a_tasks_get(a2a_state *st, const char *id, a2a_version v,
                  int history_length, json_t **out)
{
    *out = NULL;
    pthread_mutex_lock(&st->lock);
    expire(st);
    a2a_task *t = find(st, id);
    if (t) {
        a2a_task_view tv = view(t);
        *out = a2a_task_json(&tv, v, history_length, 1);
    }
    pthread_mutex_unlock(&st->lock);
    return t ? 0 : A2A_ERR_TASK_NOT_FOUND;
}

int a2a_tasks_state(a2a_state *st, const char *id, a2a_task_state *state)
{
    pthread_mutex_lock(&st->lock);
    expire(st);
    a2a_task *t = find(st, id);
    if (t) *state = t->state;
    pthread_mutex_unlock(&st->lock);
    return t != NULL;
}

int64_t a2a_tasks_updated_ms(a2a_state *st, const char *id)
{
    pthread_mutex_lock(&st->lock);
    a2a_task *t = find(st, id);
    int64_t ms = t ? t->updated_ms : 0;
    pthread_mutex_unlock(&st->lock);
    return ms;
}

int a2a_tasks_cancel(a2a_state *st, const char *id, a2a_version v,
                     json_t **out)
{
    *out = NULL;
    int rc = 0;
    pthread_mutex_lock(&st->lock);
    expire(st);
    a2a_task *t = find(st, id);
    if (!t) {
        rc = A2A_ERR_TASK_NOT_FOUND;
    } else if (a2a_state_terminal(t->state)) {
        rc = A2A_ERR_TASK_NOT_CANCELABLE;
    } else {
        t->cancel_requested = 1;
        t->state = A2A_CANCELED;
        t->updated_ms = wall_ms();
        if (t->r) runner_cancel(t->r);
        a2a_task_view tv = view(t);
        *out = a2a_task_json(&tv, v, -1, 1);
    }
    pthread_mutex_unlock(&st->lock);
    return rc;
}

void a2a_tasks_cancel_all(a2a_state *st)
{
    pthread_mutex_lock(&st->lock);
    for (a2a_task *t = st->head; t; t = t->next)
        if (t->r) runner_cancel(t->r);
    pthread_mutex_unlock(&st->lock);
}

/* Newest status first; ties: newest task first. */
static int newer_first(const void *a, const void *b)
{
    const a2a_task *x = *(a2a_task *const *)a, *y = *(a2a_task *const *)b;
    if (x->updated_ms != y->updated_ms)
        return x->updated_ms > y->updated_ms ? -1 : 1;
    return x->seq > y->seq ? -1 : x->seq < y->seq;
}

int a2a_tasks_list(a2a_state *st, const a2a_list_query *q, json_t **out)
{
    *out = NULL;
    json_t *tasks = json_array();
    if (!tasks) return A2A_ERR_INTERNAL;
    pthread_mutex_lock(&st->lock);
    expire(st);
    a2a_task **all = st->count ? malloc(st->count * sizeof *all) : NULL;
    size_t n = 0;
    if (st->count && !all) goto oom;
    for (a2a_task *t = st->head; t; t = t->next) {
        if (q->context_id[0] && strcmp(q->context_id, t->context_id))
            continue;
        if (q->state >= 0 && (int)t->state != q->state) continue;
        all[n++] = t;
    }
    if (n > 1) qsort(all, n, sizeof *all, newer_first);
    size_t end = q->offset;
    for (size_t i = q->offset; i < n && i < q->offset + (size_t)q->page_size;
         i++, end = i) {
        a2a_task_view tv = view(all[i]);
        if (json_array_append_new(
                tasks, a2a_task_json(&tv, A2A_V10, q->history_length,
                                     q->include_artifacts)))
            goto oom;
    }
    char next[24] = "";
    if (end < n) snprintf(next, sizeof next, "%zu", end);
    free(all);
    pthread_mutex_unlock(&st->lock);
    *out = json_pack("{s:o, s:s, s:i, s:i}", "tasks", tasks, "nextPageToken",
                     next, "pageSize", q->page_size, "totalSize", (int)n);
    return *out ? 0 : A2A_ERR_INTERNAL;
oom:
    free(all);
    pthread_mutex_unlock(&st->lock);
    json_decref(tasks);
    return A2A_ERR_INTERNAL;
}

static void *bg_main(void *arg)
{
    a2a_bg *b = arg;
    b->fn(b->arg);
    pthread_mutex_lock(&b->st->lock);
    b->done = 1;
    pthread_mutex_unlock(&b->st->lock);
    return NULL;
}

/* Joins and frees a list of threads (not under the lock). */
static void join_list(a2a_bg *b)
{
    while (b) {
        a2a_bg *n = b->next;
        pthread_join(b->thread, NULL);
        free(b);
        b = n;
    }
}

int a2a_tasks_spawn(a2a_state *st, void (*fn)(void *), void *arg)
{
    a2a_bg *b = calloc(1, sizeof *b);
    if (!b) return -1;
    b->fn = fn;
    b->arg = arg;
    b->st = st;
    a2a_bg *done = NULL;
    pthread_mutex_lock(&st->lock);
    for (a2a_bg **pp = &st->bg; *pp;) {
        a2a_bg *x = *pp;
        if (x->done) {
            *pp = x->next;
            x->next = done;
            done = x;
        } else {
            pp = &x->next;
        }
    }
    int rc = pthread_create(&b->thread, NULL, bg_main, b);
    if (rc == 0) {
        b->next = st->bg;
        st->bg = b;
    }
    pthread_mutex_unlock(&st->lock);
    join_list(done);
    if (rc != 0) free(b);
    return rc == 0 ? 0 : -1;
}

void a2a_tasks_join_all(a2a_state *st)
{
    pthread_mutex_lock(&st->lock);
    a2a_bg *all = st->bg;
    st->bg = NULL;
    pthread_mutex_unlock(&st->lock);
    join_list(all);
}

size_t a2a_tasks_count(a2a_state *st)
{
    pthread_mutex_lock(&st->lock);
    expire(st);
    size_t n = st->count;
    pthread_mutex_unlock(&st->lock);
    return n;
}
