/* The export side of the tracer: a bounded queue of finished spans and one
 * thread that POSTs them to the OTLP endpoint in batches (when a batch is
 * full, or every schedule delay). Producers never wait for I/O: a full
 * queue drops. Shutdown is bounded: requests get at most the time left,
 * and a thread still stuck past the deadline is cancelled and left to
 * finish (and free the exporter) on its own.                             */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/abstime.h"
#include "net/http_client.h"
#include "strands/aws.h"
#include "strands/clock.h"
#include "telemetry/internal.h"

#define MAX_RESPONSE (64u << 10)
#define MAX_REQUEST (64u << 20)
#define JOIN_MARGIN_MS 50 /* a request must end this long before the
                             shutdown deadline */

struct tel_exporter {
    tel_config cfg;
    tel_export_meta meta;
    http_client *http;
    char **header_lines;          /* "Name: value" */
    size_t n_header_lines;
    tel_span **batch;             /* the thread's working array */

    pthread_mutex_t lock;
    pthread_cond_t cond;          /* CLOCK_MONOTONIC */
    tel_span *head, *tail;        /* the queue */
    size_t count;
    int stopping;                 /* flush what is left, then exit */
    int64_t deadline_ms;          /* monotonic, when stopping */
    int shut;                     /* shutdown was called */

    atomic_int cancel;            /* aborts the request in flight */
    atomic_uint_least64_t exported, dropped, failed;
    atomic_int refs;              /* owner + running thread */
    pthread_t thread;
    int has_thread;               /* started and not yet joined/detached */
};

static void destroy(tel_exporter *e)
{
    while (e->head) {
        tel_span *s = e->head;
        e->head = s->next;
        tel_span_free(s);
    }
    for (size_t i = 0; i < e->n_header_lines; i++) free(e->header_lines[i]);
    free(e->header_lines);
    free(e->batch);
    http_client_free(e->http);
    tel_config_cleanup(&e->cfg);
    pthread_cond_destroy(&e->cond);
    pthread_mutex_destroy(&e->lock);
    free(e);
}

static void unref(tel_exporter *e)
{
    if (atomic_fetch_sub(&e->refs, 1) == 1) destroy(e);
}

/* ---- One export request -------------------------------------------------- */

static int add_line(tel_exporter *e, const char *name, const char *value)
{
    size_t sz = strlen(name) + strlen(value) + 3;
    char *line = malloc(sz);
    if (!line) return -1;
    snprintf(line, sz, "%s: %s", name, value);
    e->header_lines[e->n_header_lines++] = line;
    return 0;
}

static int build_headers(tel_exporter *e)
{
    e->header_lines = calloc(e->cfg.n_headers + 2, sizeof *e->header_lines);
    if (!e->header_lines) return -1;
    if (add_line(e, "Content-Type",
                 e->cfg.protocol == TEL_PROTO_JSON ? "application/json"
                                                   : "application/x-protobuf") ||
        add_line(e, "User-Agent", "strands-c-otlp/" STRANDS_VERSION))
        return -1;
    for (size_t i = 0; i < e->cfg.n_headers; i++) {
        /* The body's type is ours to state. */
        if (!strcasecmp(e->cfg.headers[i].key, "content-type")) continue;
        if (add_line(e, e->cfg.headers[i].key, e->cfg.headers[i].value))
            return -1;
    }
    return 0;
}

/* POSTs n spans with at most timeout_ms; counts the outcome. */
static void send_batch(tel_exporter *e, tel_span *const *spans, size_t n,
                       long timeout_ms)
{
    dynbuf body;
    dynbuf_init(&body, MAX_REQUEST);
    strands_status st = e->cfg.protocol == TEL_PROTO_JSON
                            ? tel_encode_json(&e->meta, spans, n, &body)
                            : tel_encode_protobuf(&e->meta, spans, n, &body);
    int ok = 0;
    if (st == STRANDS_OK) {
        long connect = e->cfg.connect_timeout_ms;
        http_request req = {
            .method = "POST",
            .url = e->cfg.endpoint,
            .headers = (const char *const *)e->header_lines,
            .n_headers = e->n_header_lines,
            .body = body.data ? body.data : "",
            .body_len = body.len,
            .connect_timeout_ms = connect < timeout_ms ? connect : timeout_ms,
            .total_timeout_ms = timeout_ms,
            .max_response = MAX_RESPONSE,
            .cancelled = &e->cancel,
        };
        http_response resp;
        strands_error err;
        if (http_client_send(e->http, &req, &resp, &err) == STRANDS_OK) {
            ok = resp.status >= 200 && resp.status < 300;
            http_response_cleanup(&resp);
        }
    }
    dynbuf_cleanup(&body);
    atomic_fetch_add(ok ? &e->exported : &e->failed, (uint64_t)n);
}

/* ---- The thread ------------------------------------------------------------ */

/* Moves up to max_batch spans from the queue into e->batch (lock held). */
static size_t take_batch(tel_exporter *e)
{
    size_t n = 0;
    while (e->head && n < e->cfg.max_batch) {
        tel_span *s = e->head;
        e->head = s->next;
        s->next = NULL;
        e->batch[n++] = s;
    }
    if (!e->head) e->tail = NULL;
    e->count -= n;
    return n;
}

/* Waits (lock held) until a batch is full, the schedule delay passed, or
 * shutdown was asked for. */
static void wait_for_work(tel_exporter *e)
{
    int64_t flush_at = strands_clock_mono_ms() + e->cfg.schedule_delay_ms;
    while (!e->stopping && e->count < e->cfg.max_batch) {
        int64_t left = flush_at - strands_clock_mono_ms();
        if (left <= 0) break;
        struct timespec ts;
        core_abstime_after_ms(CLOCK_MONOTONIC, left, &ts);
        pthread_cond_timedwait(&e->cond, &e->lock, &ts);
    }
}

static void *export_main(void *arg)
{
    tel_exporter *e = arg;
    pthread_mutex_lock(&e->lock);
    for (;;) {
        wait_for_work(e);
        if (!e->count) {
            if (e->stopping) break;
            continue;
        }
        size_t n = take_batch(e);
        long timeout = e->cfg.timeout_ms;
        if (e->stopping) {
            int64_t left = e->deadline_ms - JOIN_MARGIN_MS -
                           strands_clock_mono_ms();
            if (left < timeout) timeout = (long)left;
        }
        pthread_mutex_unlock(&e->lock);
        if (timeout > 0 && !atomic_load(&e->cancel))
            send_batch(e, e->batch, n, timeout);
        else
            atomic_fetch_add(&e->dropped, (uint64_t)n);
        for (size_t i = 0; i < n; i++) tel_span_free(e->batch[i]);
        pthread_mutex_lock(&e->lock);
    }
    pthread_mutex_unlock(&e->lock);
    unref(e);
    strands_aws_thread_done(); /* TLS state of an https endpoint */
    return NULL;
}

/* ---- Public (module) interface --------------------------------------------- */

tel_exporter *tel_exporter_new(tel_config *cfg, strands_error *err)
{
    tel_exporter *e = calloc(1, sizeof *e);
    if (!e) {
        strands_error_set(err, STRANDS_E_NOMEM, NULL, "OOM");
        return NULL;
    }
    e->cfg = *cfg;
    e->batch = calloc(cfg->max_batch ? cfg->max_batch : 1, sizeof *e->batch);
    e->http = cfg->no_thread ? NULL : http_client_new(1);
    if (!e->batch || (!cfg->no_thread && !e->http) || build_headers(e)) {
        for (size_t i = 0; i < e->n_header_lines; i++)
            free(e->header_lines[i]);
        free(e->header_lines);
        free(e->batch);
        http_client_free(e->http);
        free(e);
        strands_error_set(err, STRANDS_E_NOMEM, NULL, "OOM");
        return NULL;
    }
    memset(cfg, 0, sizeof *cfg);
    e->meta.resource = e->cfg.resource;
    e->meta.n_resource = e->cfg.n_resource;
    e->meta.scope_name = TEL_SCOPE_NAME;
    e->meta.scope_version = STRANDS_VERSION;
    pthread_mutex_init(&e->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&e->cond, &ca);
    pthread_condattr_destroy(&ca);
    atomic_init(&e->refs, 1);
    if (!e->cfg.no_thread) {
        atomic_store(&e->refs, 2);
        if (pthread_create(&e->thread, NULL, export_main, e) != 0) {
            *cfg = e->cfg; /* give the configuration back */
            memset(&e->cfg, 0, sizeof e->cfg);
            atomic_store(&e->refs, 1);
            unref(e);
            strands_error_set(err, STRANDS_E_INTERNAL, NULL,
                              "cannot start the trace export thread");
            return NULL;
        }
        e->has_thread = 1;
    }
    return e;
}

void tel_exporter_submit(tel_exporter *e, tel_span *s)
{
    pthread_mutex_lock(&e->lock);
    if (e->shut || e->count >= e->cfg.max_queue) {
        pthread_mutex_unlock(&e->lock);
        atomic_fetch_add(&e->dropped, 1);
        tel_span_free(s);
        return;
    }
    s->next = NULL;
    if (e->tail)
        e->tail->next = s;
    else
        e->head = s;
    e->tail = s;
    if (++e->count >= e->cfg.max_batch) pthread_cond_signal(&e->cond);
    pthread_mutex_unlock(&e->lock);
}

void tel_exporter_shutdown(tel_exporter *e, long timeout_ms)
{
    if (timeout_ms < 0) timeout_ms = 0;
    pthread_mutex_lock(&e->lock);
    if (e->shut) {
        pthread_mutex_unlock(&e->lock);
        return;
    }
    e->shut = 1;
    e->stopping = 1;
    e->deadline_ms = strands_clock_mono_ms() + timeout_ms;
    pthread_cond_signal(&e->cond);
    tel_span *orphans = e->has_thread ? NULL : e->head;
    size_t n_orphans = e->has_thread ? 0 : e->count;
    if (orphans) {
        e->head = e->tail = NULL;
        e->count = 0;
    }
    pthread_mutex_unlock(&e->lock);

    /* Without a thread nothing can be sent: what is queued is dropped. */
    atomic_fetch_add(&e->dropped, (uint64_t)n_orphans);
    while (orphans) {
        tel_span *next = orphans->next;
        tel_span_free(orphans);
        orphans = next;
    }
    if (!e->has_thread) return;
    struct timespec ts;
    core_abstime_after_ms(CLOCK_REALTIME, timeout_ms, &ts);
    if (pthread_timedjoin_np(e->thread, NULL, &ts) != 0) {
        /* Stuck in a request: abort it and let the thread finish alone;
         * it holds its own reference to e. */
        atomic_store(&e->cancel, 1);
        pthread_detach(e->thread);
    }
    e->has_thread = 0;
}

void tel_exporter_free(tel_exporter *e)
{
    if (!e) return;
    tel_exporter_shutdown(e, 0);
    unref(e);
}

void tel_exporter_stats(const tel_exporter *e, strands_tracer_stats *out)
{
    tel_exporter *m = (tel_exporter *)e; /* atomics need a non-const */
    out->exported = atomic_load(&m->exported);
    out->dropped = atomic_load(&m->dropped);
    out->failed = atomic_load(&m->failed);
}

const tel_config *tel_exporter_config(const tel_exporter *e)
{
    return &e->cfg;
}

size_t tel_exporter_queued(tel_exporter *e)
{
    pthread_mutex_lock(&e->lock);
    size_t n = e->count;
    pthread_mutex_unlock(&e->lock);
    return n;
}
