/* The JSON-lines log sink on stdout: timestamp, level, message, logger,
 * requestId, sessionId (the keys AgentCore's SDK uses) plus extra fields.
 * Callers never wait on stdout: a line is formatted on the caller's
 * thread and put on a bounded queue that ONE writer thread empties. When
 * stdout stalls and the queue is full, lines are dropped and counted, and
 * the writer reports the count once it can write again. Lines never
 * interleave (one writer). The writer starts with the first line, so a
 * quiet runtime never starts it; without it (creation failed, or after
 * the final flush) lines are written directly.                          */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "core/abstime.h"
#include "strands/clock.h"
#include "strands/log.h"
#include "strands/server.h"

#define LOG_QUEUE_MAX_LINES 8192
#define LOG_QUEUE_MAX_BYTES ((size_t)8 << 20)

typedef struct log_line {
    struct log_line *next;
    size_t len;
    char text[];             /* the line with its '\n' */
} log_line;

static struct {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    log_line *head, *tail;
    size_t lines, bytes;
    unsigned long long dropped;
    int running, stop;
    int enabled;             /* installed: the writer starts on first use */
    pthread_t writer;
    FILE *out;
} q = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, NULL, NULL,
       0, 0, 0, 0, 0, 0, 0, NULL};

/* The line for a record (malloc'd, '\n'-terminated), or NULL on OOM. */
static log_line *format_record(const strands_log_record *rec)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    char ts[40];
    strands_clock_iso8601((int64_t)tv.tv_sec, (int)(tv.tv_usec / 1000), ts,
                          sizeof ts);
    json_t *doc = json_object();
    if (!doc) return NULL;
    json_object_set_new(doc, "timestamp", json_string(ts));
    json_object_set_new(doc, "level",
                        json_string(strands_log_level_name(rec->level)));
    json_object_set_new(doc, "message", json_string(rec->message));
    json_object_set_new(doc, "logger", json_string(rec->logger));
    if (rec->request_id)
        json_object_set_new(doc, "requestId", json_string(rec->request_id));
    if (rec->session_id)
        json_object_set_new(doc, "sessionId", json_string(rec->session_id));
    if (rec->fields) json_object_update_missing(doc, (json_t *)rec->fields);
    size_t n = json_dumpb(doc, NULL, 0, JSON_COMPACT);
    log_line *l = n ? malloc(sizeof *l + n + 1) : NULL;
    if (l && json_dumpb(doc, l->text, n, JSON_COMPACT) == n) {
        l->text[n] = '\n';
        l->len = n + 1;
        l->next = NULL;
    } else {
        free(l);
        l = NULL;
    }
    json_decref(doc);
    return l;
}

static void write_line(FILE *out, const char *text, size_t len)
{
    fwrite(text, 1, len, out);
    fflush(out);
}

/* The writer reports lost lines as a log line of its own. */
static void write_dropped(FILE *out, unsigned long long n)
{
    char msg[96];
    snprintf(msg, sizeof msg, "%llu log line(s) dropped: stdout was not "
                              "being read", n);
    strands_log_record rec = {STRANDS_LOG_WARN, "strands.log", msg, NULL,
                              NULL, NULL};
    log_line *l = format_record(&rec);
    if (!l) return;
    write_line(out, l->text, l->len);
    free(l);
}

static void *writer(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&q.lock);
    for (;;) {
        while (!q.head && !q.dropped && !q.stop)
            pthread_cond_wait(&q.cond, &q.lock);
        if (!q.head && !q.dropped && q.stop) break;
        log_line *batch = q.head;
        unsigned long long dropped = q.dropped;
        q.head = q.tail = NULL;
        q.lines = q.bytes = 0;
        q.dropped = 0;
        pthread_mutex_unlock(&q.lock);
        if (dropped) write_dropped(q.out, dropped);
        while (batch) {
            log_line *next = batch->next;
            write_line(q.out, batch->text, batch->len);
            free(batch);
            batch = next;
        }
        pthread_mutex_lock(&q.lock);
        pthread_cond_broadcast(&q.cond); /* flushers wait for empty */
    }
    pthread_mutex_unlock(&q.lock);
    return NULL;
}

/* Starts the writer (under q.lock). It takes no signals: the process's
 * signal handling (e.g. sigwait for SIGTERM) stays with the threads that
 * want it. On failure lines are written by their callers.              */
static void start_writer(void)
{
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    q.running = pthread_create(&q.writer, NULL, writer, NULL) == 0;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (!q.running) q.enabled = 0;
}

static void json_sink(void *user, const strands_log_record *rec)
{
    (void)user;
    log_line *l = format_record(rec);
    pthread_mutex_lock(&q.lock);
    /* The writer starts with the first line: a runtime that logs nothing
     * (LOG_LEVEL=warn, quiet) never pays for the thread. */
    if (!q.running && q.enabled && !q.stop) start_writer();
    if (!q.running) {
        /* No writer (before start or after the final flush): write here. */
        if (l) write_line(q.out ? q.out : stdout, l->text, l->len);
        pthread_mutex_unlock(&q.lock);
        free(l);
        return;
    }
    if (!l || q.lines >= LOG_QUEUE_MAX_LINES ||
        q.bytes + l->len > LOG_QUEUE_MAX_BYTES) {
        q.dropped++;
        pthread_mutex_unlock(&q.lock);
        free(l);
        return;
    }
    if (q.tail)
        q.tail->next = l;
    else
        q.head = l;
    q.tail = l;
    q.lines++;
    q.bytes += l->len;
    pthread_cond_broadcast(&q.cond);
    pthread_mutex_unlock(&q.lock);
}

/* At exit, lines still queued are written (bounded: stdout may be stuck). */
static void flush_at_exit(void)
{
    strands_log_json_stdout_flush(2000);
}

void strands_log_use_json_stdout(void)
{
    static int exit_hook;
    pthread_mutex_lock(&q.lock);
    if (!exit_hook) exit_hook = atexit(flush_at_exit) == 0;
    q.out = stdout;
    q.stop = 0;
    q.enabled = 1;
    pthread_mutex_unlock(&q.lock);
    strands_log_set_sink(json_sink, NULL);
}

void strands_log_json_stdout_flush(long timeout_ms)
{
    pthread_mutex_lock(&q.lock);
    if (!q.running) {
        pthread_mutex_unlock(&q.lock);
        return;
    }
    q.stop = 1;
    pthread_cond_broadcast(&q.cond);
    pthread_mutex_unlock(&q.lock);
    struct timespec ts;
    core_abstime_after_ms(CLOCK_REALTIME, timeout_ms, &ts);
    if (pthread_timedjoin_np(q.writer, NULL, &ts) != 0) {
        /* stdout is stuck: leave the writer blocked, lines unwritten. */
        return;
    }
    pthread_mutex_lock(&q.lock);
    q.running = 0;
    pthread_mutex_unlock(&q.lock);
}
