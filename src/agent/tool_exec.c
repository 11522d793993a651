/* Tool execution for one model turn: look each tool up in the cycle's
 * snapshot, check each input against the tool's schema, run every call on
 * its own worker thread (at most tool_concurrency at once) under a
 * deadline, cap each result's size, and build the single user message of
 * toolResults in toolUse order. A call past its deadline has its cancel
 * flag set and yields a "timed out" error; one that ignores the flag is
 * abandoned after AGENT_TOOL_GRACE_MS: its detached thread owns its job
 * (input copy, tool reference, result) and frees it when the tool returns. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/internal.h"
#include "core/abstime.h"
#include "core/buf.h"
#include "strands/clock.h"
#include "tools/registry.h"
#include "tools/schema.h"

/* Where finished workers report: shared by the turn and every worker,
 * freed by whoever drops the last reference (an abandoned worker may be
 * the last).                                                           */
typedef struct tool_hub {
    pthread_mutex_t lock;
    pthread_cond_t cond;     /* signalled when a job is done */
    atomic_int refs;
} tool_hub;

/* One call running on a worker thread. Two references: the turn's and
 * the worker's. Everything the tool uses is owned here (copies), so the
 * worker may outlive the turn and the invocation.                       */
typedef struct tool_job {
    tool_hub *hub;           /* a reference */
    strands_tool *tool;      /* a reference (tools_tool_ref) */
    json_t *input;           /* deep copy of the toolUse input */
    char *id, *session;
    strands_tool_state *state; /* a reference, or NULL */
    strands_request_context *request; /* a copy (owned), or NULL */
    atomic_int cancelled;    /* this call's own cancel flag */
    int64_t deadline;        /* mono ms; 0 = none */
    int64_t timeout_ms;      /* the tool's own or the agent's; 0 = none */
    pthread_t thread;
    atomic_int refs;
    /* under hub->lock: */
    int done, abandoned;
    json_t *content;         /* the tool's result (owned) */
    strands_status st;
    strands_error err;
} tool_job;

enum { SLOT_PENDING, SLOT_RUNNING, SLOT_DONE };

/* The turn's view of one toolUse. */
typedef struct tool_slot {
    const json_t *use;   /* {"toolUseId","name","input"} (borrowed) */
    json_t *result;      /* {"toolResult":{...}}; NULL only on OOM */
    int state;
    int timed_out;
    int collect;         /* done or abandoned: finish it this round */
    int64_t t0;
    tool_job *job;       /* while running */
} tool_slot;

/* Abandoned workers still running, process-wide. */
static atomic_int g_abandoned;

int agent_tools_abandoned(void)
{
    return atomic_load(&g_abandoned);
}

static json_t *make_result(const char *id, const char *status,
                           json_t *content)
{
    return json_pack("{s:{s:s, s:s, s:o}}", "toolResult", "toolUseId", id,
                     "status", status, "content", content);
}

static json_t *error_content(const char *text)
{
    char buf[STRANDS_ERROR_MESSAGE_MAX + 16];
    snprintf(buf, sizeof buf, "Error: %s", text);
    return json_pack("[{s:s}]", "text", buf);
}

/* Appends at most `room` bytes of the text a content block contributes
 * when truncated: a text block's text, else the block as compact JSON. */
static strands_status block_text(dynbuf *b, const json_t *block,
                                 size_t room)
{
    const json_t *t = json_object_get(block, "text");
    if (json_is_string(t)) {
        size_t n = json_string_length(t);
        return dynbuf_append(b, json_string_value(t),
                                  n < room ? n : room);
    }
    char *s = json_dumps(block, JSON_COMPACT);
    if (!s) return STRANDS_E_NOMEM;
    size_t n = strlen(s);
    strands_status st = dynbuf_append(b, s, n < room ? n : room);
    free(s);
    return st;
}

json_t *agent_truncate_result(json_t *content, size_t max)
{
    size_t size = json_dumpb(content, NULL, 0, JSON_COMPACT);
    if (size <= max) return json_incref(content);
    char marker[160];
    int mlen = snprintf(marker, sizeof marker,
                        "... [truncated: result was %zu bytes, limit %zu "
                        "(TOOL_RESULT_MAX_BYTES)]", size, max);
    size_t keep = max > (size_t)mlen ? max - (size_t)mlen : 0;
    /* Gather just enough text (the cap bounds the buffer), cut it at a
     * UTF-8 character boundary, add the marker.                        */
    dynbuf b;
    dynbuf_init(&b, keep + 1);
    size_t i;
    json_t *block;
    json_array_foreach(content, i, block) {
        if (b.len >= keep) break;
        if (block_text(&b, block, keep - b.len) != STRANDS_OK) {
            dynbuf_cleanup(&b);
            return NULL;
        }
    }
    /* Cut back to a UTF-8 character boundary: drop the continuation
     * bytes and the lead byte of a character the cut split.            */
    size_t cut = b.len;
    size_t back = cut;
    while (back > 0 && ((unsigned char)b.data[back - 1] & 0xC0) == 0x80)
        back--;
    if (back > 0 && ((unsigned char)b.data[back - 1] & 0x80)) {
        unsigned char lead = (unsigned char)b.data[back - 1];
        size_t need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2;
        if (cut - (back - 1) < need) cut = back - 1;
    }
    dynbuf out;
    dynbuf_init(&out, max + sizeof marker);
    json_t *text = NULL;
    if (dynbuf_append(&out, b.data ? b.data : "", cut) == STRANDS_OK &&
        dynbuf_append(&out, marker, (size_t)mlen) == STRANDS_OK)
        text = json_stringn(out.data, out.len);
    dynbuf_cleanup(&b);
    dynbuf_cleanup(&out);
    return text ? json_pack("[{s:o}]", "text", text) : NULL;
}

static void hub_unref(tool_hub *h)
{
    if (atomic_fetch_sub(&h->refs, 1) != 1) return;
    pthread_cond_destroy(&h->cond);
    pthread_mutex_destroy(&h->lock);
    free(h);
}

static tool_hub *hub_new(void)
{
    tool_hub *h = calloc(1, sizeof *h);
    if (!h) return NULL;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    int bad = pthread_mutex_init(&h->lock, NULL) != 0;
    if (!bad && pthread_cond_init(&h->cond, &ca) != 0) {
        pthread_mutex_destroy(&h->lock);
        bad = 1;
    }
    pthread_condattr_destroy(&ca);
    if (bad) {
        free(h);
        return NULL;
    }
    atomic_init(&h->refs, 1);
    return h;
}

static void job_unref(tool_job *j)
{
    if (!j || atomic_fetch_sub(&j->refs, 1) != 1) return;
    json_decref(j->input);
    json_decref(j->content);
    tools_tool_unref(j->tool);
    free(j->id);
    free(j->session);
    agent_state_unref(j->state);
    tools_request_context_free(j->request);
    hub_unref(j->hub);
    free(j);
}

/* The worker: runs the tool with the job's own context, reports, drops
 * its reference. An abandoned job is freed here (the turn is gone).    */
static void *worker(void *arg)
{
    tool_job *j = arg;
    strands_tool_context ctx = {j->id,       j->session, &j->cancelled,
                                j->deadline, j->state,   j->request};
    json_t *content = NULL;
    strands_error err;
    strands_error_clear(&err);
    strands_status st = strands_tool_call(j->tool, j->input, &ctx, &content,
                                          &err);
    tool_hub *h = j->hub;
    pthread_mutex_lock(&h->lock);
    j->content = content;
    j->st = st;
    j->err = err;
    j->done = 1;
    int abandoned = j->abandoned;
    pthread_cond_broadcast(&h->cond);
    pthread_mutex_unlock(&h->lock);
    job_unref(j);
    if (abandoned) atomic_fetch_sub(&g_abandoned, 1);
    return NULL;
}

static void emit_end(agent_run *run, tool_slot *s, strands_error *err)
{
    const char *id = json_string_value(json_object_get(s->use, "toolUseId"));
    const char *name = json_string_value(json_object_get(s->use, "name"));
    strands_event end = {.type = STRANDS_EVENT_TOOL_END,
                         .name = name ? name : "",
                         .data = s->result ? json_object_get(s->result,
                                                             "toolResult")
                                           : NULL,
                         .error = err->status != STRANDS_OK ? err : NULL,
                         .duration_ms = strands_clock_mono_ms() - s->t0,
                         .tool_use_id = id ? id : ""};
    agent_emit(run, &end);
    s->state = SLOT_DONE;
}

/* Sets the slot's result from content (owned) and emits TOOL_END. */
static void finish(agent_run *run, tool_slot *s, json_t *content,
                   strands_error *err)
{
    const char *id = json_string_value(json_object_get(s->use, "toolUseId"));
    s->result = content ? make_result(id ? id : "",
                                      err->status != STRANDS_OK ? "error"
                                                                : "success",
                                      content)
                        : NULL;
    emit_end(run, s, err);
}

/* Emits TOOL_START and starts the call: 1 when a worker runs it, 0 when
 * it is already finished (unknown tool, invalid input, no thread).     */
static int start_slot(agent_run *run, tool_hub *hub, tool_slot *s)
{
    const char *id = json_string_value(json_object_get(s->use, "toolUseId"));
    const char *name = json_string_value(json_object_get(s->use, "name"));
    json_t *input = json_object_get(s->use, "input");
    if (!id) id = "";
    if (!name) name = "";
    strands_event start = {.type = STRANDS_EVENT_TOOL_START, .name = name,
                           .data = s->use, .tool_use_id = id};
    agent_emit(run, &start);
    s->t0 = strands_clock_mono_ms();
    strands_error err;
    strands_error_clear(&err);
    const strands_tool *tool = strands_tool_snapshot_find(run->tools, name);
    char why[512];
    if (!tool) {
        char msg[160];
        snprintf(msg, sizeof msg, "Unknown tool: %.100s", name);
        strands_error_set(&err, STRANDS_E_NOT_FOUND, "UnknownTool", "%s", msg);
        finish(run, s, json_pack("[{s:s}]", "text", msg), &err);
        return 0;
    }
    if (schema_validate(tools_tool_schema(tool), input, why, sizeof why) !=
        STRANDS_OK) {
        /* The tool is not called; the model reads which field and rule. */
        strands_error_set(&err, STRANDS_E_INVALID, "InvalidToolInput",
                          "invalid input for tool '%.64s': %s", name, why);
        finish(run, s, error_content(err.message), &err);
        return 0;
    }
    if (atomic_load(&g_abandoned) >= AGENT_MAX_ABANDONED_TOOLS) {
        strands_error_set(&err, STRANDS_E_BUSY, "ToolBusy",
                          "tool '%.64s' not started: %d abandoned tool calls "
                          "are still running (the process-wide limit)",
                          name, AGENT_MAX_ABANDONED_TOOLS);
        finish(run, s, error_content(err.message), &err);
        return 0;
    }
    tool_job *j = calloc(1, sizeof *j);
    if (j) {
        j->input = input ? json_deep_copy(input) : json_null();
        j->id = strdup(id);
        j->session = strdup(run->inv->session_id ? run->inv->session_id
                                                 : "");
        j->request = tools_request_context_dup(run->inv->request);
    }
    if (!j || !j->input || !j->id || !j->session ||
        (run->inv->request && !j->request)) {
        if (j) {
            tools_request_context_free(j->request);
            json_decref(j->input);
            free(j->id);
            free(j->session);
            free(j);
        }
        strands_error_set(&err, STRANDS_E_NOMEM, "OutOfMemory",
                          "out of memory starting tool '%.64s'", name);
        finish(run, s, error_content(err.message), &err);
        return 0;
    }
    j->tool = tools_tool_ref(tool);
    j->state = agent_state_ref(run->state);
    atomic_fetch_add(&hub->refs, 1);
    j->hub = hub;
    atomic_init(&j->cancelled, 0);
    atomic_init(&j->refs, 2);
    int64_t timeout = tools_tool_timeout_ms(tool);
    if (!timeout) timeout = run->agent->tool_timeout_ms;
    j->timeout_ms = timeout;
    j->deadline = timeout ? s->t0 + timeout : 0;
    if (pthread_create(&j->thread, NULL, worker, j) != 0) {
        atomic_store(&j->refs, 1);
        job_unref(j);
        strands_error_set(&err, STRANDS_E_BUSY, "ToolBusy",
                          "no thread to run tool '%.64s'", name);
        finish(run, s, error_content(err.message), &err);
        return 0;
    }
    s->job = j;
    s->state = SLOT_RUNNING;
    return 1;
}

/* Builds the result of a running slot whose job is done or abandoned,
 * and drops the turn's reference to the job.                           */
static void collect(agent_run *run, tool_slot *s)
{
    tool_job *j = s->job;
    const char *name = json_string_value(json_object_get(s->use, "name"));
    strands_error err;
    strands_error_clear(&err);
    json_t *content = NULL;
    if (s->timed_out) {
        int64_t ms = j->timeout_ms;
        char secs[32];
        if (ms % 1000 == 0)
            snprintf(secs, sizeof secs, "%lld", (long long)(ms / 1000));
        else
            snprintf(secs, sizeof secs, "%.3f", (double)ms / 1000.0);
        strands_error_set(&err, STRANDS_E_TIMEOUT, "ToolTimeout",
                          "tool '%.64s' timed out after %s s%s",
                          name ? name : "", secs,
                          j->abandoned ? " (it ignored cancellation and was "
                                         "abandoned)"
                                       : "");
        content = error_content(err.message);
    } else if (j->st != STRANDS_OK) {
        err = j->err;
        content = error_content(err.message);
    } else {
        content = agent_truncate_result(j->content,
                                        run->agent->tool_result_max_bytes);
    }
    if (j->abandoned) pthread_detach(j->thread);
    else pthread_join(j->thread, NULL);
    s->job = NULL;
    job_unref(j);
    finish(run, s, content, &err);
}

json_t *agent_run_tools(agent_run *run, const json_t *uses)
{
    size_t n = json_array_size(uses);
    tool_slot *slots = calloc(n ? n : 1, sizeof *slots);
    tool_hub *hub = hub_new();
    if (!slots || !hub) {
        free(slots);
        if (hub) hub_unref(hub);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) slots[i].use = json_array_get(uses, i);
    size_t cap = (size_t)run->agent->tool_concurrency;
    size_t next = 0, running = 0, left = n;
    const atomic_int *inv_cancel = run->inv->cancelled;
    while (left > 0) {
        while (next < n && running < cap) {
            if (start_slot(run, hub, &slots[next])) running++;
            else left--;
            next++;
        }
        if (left == 0) break;
        int cancel = inv_cancel && atomic_load(inv_cancel);
        int64_t now = strands_clock_mono_ms();
        int64_t wake = now + AGENT_TOOL_POLL_MS;
        int any = 0;
        pthread_mutex_lock(&hub->lock);
        for (size_t i = 0; i < next; i++) {
            tool_slot *s = &slots[i];
            if (s->state != SLOT_RUNNING) continue;
            tool_job *j = s->job;
            if (cancel) atomic_store(&j->cancelled, 1);
            if (j->deadline && now >= j->deadline && !s->timed_out) {
                s->timed_out = 1;
                atomic_store(&j->cancelled, 1);
            }
            if (j->done) {
                s->collect = any = 1;
            } else if (s->timed_out &&
                       now >= j->deadline + AGENT_TOOL_GRACE_MS) {
                j->abandoned = 1;
                atomic_fetch_add(&g_abandoned, 1);
                s->collect = any = 1;
            } else if (j->deadline) {
                int64_t at = s->timed_out ? j->deadline + AGENT_TOOL_GRACE_MS
                                          : j->deadline;
                if (at < wake) wake = at;
            }
        }
        if (!any) {
            struct timespec ts;
            core_abstime_after_ms(CLOCK_MONOTONIC, wake - now, &ts);
            pthread_cond_timedwait(&hub->cond, &hub->lock, &ts);
        }
        pthread_mutex_unlock(&hub->lock);
        for (size_t i = 0; i < next; i++) {
            if (!slots[i].collect) continue;
            slots[i].collect = 0;
            collect(run, &slots[i]);
            running--;
            left--;
        }
    }
    hub_unref(hub);

    json_t *content = json_array();
    int ok = content != NULL;
    for (size_t i = 0; i < n; i++) {
        if (!slots[i].result ||
            json_array_append_new(content, slots[i].result))
            ok = 0;
        slots[i].result = NULL;
    }
    free(slots);
    json_t *msg = ok ? json_pack("{s:s, s:o}", "role", "user", "content",
                                 content)
                     : NULL;
    if (!ok) json_decref(content);
    return msg;
}
