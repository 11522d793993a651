/* Tool execution for one model turn: look each tool up in the cycle's
 * snapshot, run the calls on at most tool_concurrency threads (the calling
 * thread plus a small pool that takes the next call as each finishes),
 * check each input against the tool's schema first, cap each result's size, and build the single user message of toolResults in
 * toolUse order.                                                         */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/internal.h"
#include "core/buf.h"
#include "strands/clock.h"
#include "tools/registry.h"
#include "tools/schema.h"

typedef struct tool_job {
    const json_t *use;   /* {"toolUseId","name","input"} (borrowed) */
    json_t *result;      /* {"toolResult":{...}}; NULL only on OOM */
} tool_job;

/* The calls of one turn, shared by the workers. */
typedef struct tool_batch {
    agent_run *run;
    tool_job *jobs;
    size_t n;
    atomic_size_t next;  /* the next job to take */
} tool_batch;

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

static void run_one(agent_run *run, tool_job *job)
{
    const char *id = json_string_value(json_object_get(job->use, "toolUseId"));
    const char *name = json_string_value(json_object_get(job->use, "name"));
    json_t *input = json_object_get(job->use, "input");
    if (!id) id = "";
    if (!name) name = "";
    strands_event start = {.type = STRANDS_EVENT_TOOL_START, .name = name,
                           .data = job->use, .tool_use_id = id};
    agent_emit(run, &start);

    int64_t t0 = strands_clock_mono_ms();
    strands_error err;
    strands_error_clear(&err);
    const strands_tool *tool = strands_tool_snapshot_find(run->tools, name);
    json_t *content = NULL;
    const char *status = "success";
    char why[512];
    if (!tool) {
        char msg[160];
        snprintf(msg, sizeof msg, "Unknown tool: %.100s", name);
        content = json_pack("[{s:s}]", "text", msg);
        status = "error";
        strands_error_set(&err, STRANDS_E_NOT_FOUND, "UnknownTool", "%s", msg);
    } else if (schema_validate(tools_tool_schema(tool), input, why,
                               sizeof why) != STRANDS_OK) {
        /* The tool is not called; the model reads which field and rule. */
        strands_error_set(&err, STRANDS_E_INVALID, "InvalidToolInput",
                          "invalid input for tool '%.64s': %s", name, why);
        content = error_content(err.message);
        status = "error";
    } else {
        int64_t timeout = run->agent->tool_timeout_ms;
        strands_tool_context ctx = {id, run->inv->session_id,
                                    run->inv->cancelled,
                                    timeout ? t0 + timeout : 0};
        if (strands_tool_call(tool, input, &ctx, &content, &err) !=
            STRANDS_OK) {
            content = error_content(err.message);
            status = "error";
        } else {
            json_t *capped = agent_truncate_result(
                content, run->agent->tool_result_max_bytes);
            json_decref(content);
            content = capped;
        }
    }
    job->result = content ? make_result(id, status, content) : NULL;
    strands_event end = {.type = STRANDS_EVENT_TOOL_END, .name = name,
                         .data = job->result ? json_object_get(job->result,
                                                               "toolResult")
                                             : NULL,
                         .error = err.status != STRANDS_OK ? &err : NULL,
                         .duration_ms = strands_clock_mono_ms() - t0,
                         .tool_use_id = id};
    agent_emit(run, &end);
}

/* A worker: takes jobs until none are left. */
static void *worker(void *arg)
{
    tool_batch *b = arg;
    for (;;) {
        size_t i = atomic_fetch_add(&b->next, 1);
        if (i >= b->n) return NULL;
        run_one(b->run, &b->jobs[i]);
    }
}

json_t *agent_run_tools(agent_run *run, const json_t *uses)
{
    size_t n = json_array_size(uses);
    tool_batch b = {.run = run, .n = n};
    atomic_init(&b.next, 0);
    b.jobs = calloc(n ? n : 1, sizeof *b.jobs);
    size_t want = n < (size_t)run->agent->tool_concurrency
                      ? n
                      : (size_t)run->agent->tool_concurrency;
    pthread_t *threads = want > 1 ? calloc(want - 1, sizeof *threads) : NULL;
    if (!b.jobs || (want > 1 && !threads)) {
        free(b.jobs);
        free(threads);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) b.jobs[i].use = json_array_get(uses, i);
    /* want - 1 extra threads; fewer when creation fails (the calling
     * thread still works through every job).                          */
    size_t started = 0;
    while (started + 1 < want &&
           pthread_create(&threads[started], NULL, worker, &b) == 0)
        started++;
    worker(&b);
    for (size_t i = 0; i < started; i++) pthread_join(threads[i], NULL);
    free(threads);

    json_t *content = json_array();
    int ok = content != NULL;
    for (size_t i = 0; i < n; i++) {
        if (!b.jobs[i].result ||
            json_array_append_new(content, b.jobs[i].result))
            ok = 0;
        b.jobs[i].result = NULL;
    }
    free(b.jobs);
    json_t *msg = ok ? json_pack("{s:s, s:o}", "role", "user", "content",
                                 content)
                     : NULL;
    if (!ok) json_decref(content);
    return msg;
}
