/* One run at a time on a /ws connection, shared by both message apps
 * (ws_invoke.c, ws_agui.c): claiming the slot (busy, draining), the
 * pump thread that carries a run's events, cancel and close reaching
 * its runner, and the last events going out as the slot turns idle.
 * Also sending a list of event documents as text messages.           */
#include <stdlib.h>
#include <string.h>

#include "server/ws.h"

void ws_slot_init(ws_slot *s, ws_conn *c, const ws_open_info *info,
                  void (*done)(void *app), void *app)
{
    memset(s, 0, sizeof *s);
    s->c = c;
    s->info = info;
    s->done = done;
    s->app = app;
    pthread_mutex_init(&s->lock, NULL);
}

/* Joins the last run's pump (it has finished or is finishing) and frees
 * its input. */
static void join_pump(ws_slot *s)
{
    if (!s->pump_joinable) return;
    pthread_join(s->pump, NULL);
    s->pump_joinable = 0;
    s->done(s->app);
}

/* Makes the claimed slot idle again (nothing started). */
static void unclaim(ws_slot *s)
{
    pthread_mutex_lock(&s->lock);
    s->running = 0;
    s->cancelled = 0;
    pthread_mutex_unlock(&s->lock);
}

ws_claim ws_slot_claim(ws_slot *s)
{
    pthread_mutex_lock(&s->lock);
    int busy = s->running;
    if (!busy) s->running = 1;
    pthread_mutex_unlock(&s->lock);
    if (busy) return WS_CLAIM_BUSY;
    if (atomic_load(&s->info->srv->draining)) {
        unclaim(s);
        return WS_CLAIM_DRAINING;
    }
    join_pump(s);
    return WS_CLAIM_OK;
}

int ws_slot_start(ws_slot *s, void *(*pump)(void *app))
{
    if (pthread_create(&s->pump, NULL, pump, s->app) != 0) {
        unclaim(s);
        return -1;
    }
    s->pump_joinable = 1;
    return 0;
}

int ws_slot_closing(ws_slot *s)
{
    pthread_mutex_lock(&s->lock);
    int gone = s->closing;
    pthread_mutex_unlock(&s->lock);
    return gone;
}

void ws_slot_attach(ws_slot *s, runner *r)
{
    pthread_mutex_lock(&s->lock);
    s->r = r;
    if (s->cancelled || s->closing) runner_cancel(r);
    pthread_mutex_unlock(&s->lock);
}

int ws_slot_cancel(ws_slot *s)
{
    pthread_mutex_lock(&s->lock);
    int running = s->running;
    if (running) {
        s->cancelled = 1;
        if (s->r) runner_cancel(s->r);
    }
    pthread_mutex_unlock(&s->lock);
    return running;
}

void ws_slot_finish(ws_slot *s, runner *r, json_t *docs, int rc,
                    const char *oom_text)
{
    pthread_mutex_lock(&s->lock);
    s->r = NULL;
    pthread_mutex_unlock(&s->lock);
    if (r) runner_release(r);
    pthread_mutex_lock(&s->lock);
    if (docs || rc) ws_send_docs(s->c, docs, rc, oom_text);
    s->running = 0;
    s->cancelled = 0;
    pthread_mutex_unlock(&s->lock);
    ws_conn_wake(s->c);
}

int ws_slot_busy(ws_slot *s)
{
    pthread_mutex_lock(&s->lock);
    int busy = s->running;
    pthread_mutex_unlock(&s->lock);
    return busy;
}

void ws_slot_close(ws_slot *s)
{
    pthread_mutex_lock(&s->lock);
    s->closing = 1;
    if (s->r) runner_cancel(s->r); /* the client is gone: stop */
    pthread_mutex_unlock(&s->lock);
    join_pump(s);
    pthread_mutex_destroy(&s->lock);
}

int ws_send_docs(ws_conn *c, json_t *docs, int rc, const char *oom_text)
{
    int ret = docs && rc == 0 ? 0 : -1;
    size_t i;
    json_t *doc;
    json_array_foreach(docs, i, doc) {
        if (ret) break;
        size_t len = 0;
        char *text = server_json_text(doc, &len);
        if (!text) {
            ret = -1;
            break;
        }
        if (ws_conn_send_text(c, text, len) != 0) {
            free(text);
            json_decref(docs);
            return -1;
        }
        free(text);
    }
    json_decref(docs);
    if (ret) ws_conn_send_text(c, oom_text, strlen(oom_text));
    return ret;
}

json_t *ws_one_doc(json_t *doc, int *rc)
{
    json_t *docs = doc ? json_array() : NULL;
    if (!docs || json_array_append_new(docs, doc) != 0) {
        if (!docs) json_decref(doc);
        json_decref(docs);
        *rc = -1;
        return NULL;
    }
    *rc = 0;
    return docs;
}
