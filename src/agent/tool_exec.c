/* Tool execution for one model turn: look each tool up, run them (one
 * thread per call when there are several), and build the single user
 * message of toolResults in toolUse order.                               */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/internal.h"
#include "strands/clock.h"

typedef struct tool_job {
    agent_run *run;
    const json_t *use;   /* {"toolUseId","name","input"} (borrowed) */
    json_t *result;      /* {"toolResult":{...}} */
    pthread_t thread;
    int threaded;
} tool_job;

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

static void run_one(tool_job *job)
{
    agent_run *run = job->run;
    const char *id = json_string_value(json_object_get(job->use, "toolUseId"));
    const char *name = json_string_value(json_object_get(job->use, "name"));
    json_t *input = json_object_get(job->use, "input");
    if (!id) id = "";
    if (!name) name = "";
    strands_event start = {.type = STRANDS_EVENT_TOOL_START, .name = name,
                           .data = job->use};
    agent_emit(run, &start);

    int64_t t0 = strands_clock_mono_ms();
    strands_error err;
    strands_error_clear(&err);
    const strands_tool *tool =
        run->agent->tools ? strands_tool_registry_find(run->agent->tools, name)
                          : NULL;
    json_t *content = NULL;
    const char *status = "success";
    if (!tool) {
        char msg[160];
        snprintf(msg, sizeof msg, "Unknown tool: %.100s", name);
        content = json_pack("[{s:s}]", "text", msg);
        status = "error";
        strands_error_set(&err, STRANDS_E_NOT_FOUND, "UnknownTool", "%s", msg);
    } else {
        strands_tool_context ctx = {id, run->inv->session_id,
                                    run->inv->cancelled};
        if (strands_tool_call(tool, input, &ctx, &content, &err) !=
            STRANDS_OK) {
            content = error_content(err.message);
            status = "error";
        }
    }
    job->result = make_result(id, status, content);
    strands_event end = {.type = STRANDS_EVENT_TOOL_END, .name = name,
                         .data = job->result ? json_object_get(job->result,
                                                               "toolResult")
                                             : NULL,
                         .error = err.status != STRANDS_OK ? &err : NULL,
                         .duration_ms = strands_clock_mono_ms() - t0};
    agent_emit(run, &end);
}

static void *tool_thread(void *arg)
{
    run_one(arg);
    return NULL;
}

json_t *agent_run_tools(agent_run *run, const json_t *uses)
{
    size_t n = json_array_size(uses);
    tool_job *jobs = calloc(n ? n : 1, sizeof *jobs);
    if (!jobs) return NULL;
    for (size_t i = 0; i < n; i++) {
        jobs[i].run = run;
        jobs[i].use = json_array_get(uses, i);
    }
    /* The first call runs on this thread; the others get their own. */
    for (size_t i = 1; i < n; i++)
        jobs[i].threaded =
            pthread_create(&jobs[i].thread, NULL, tool_thread, &jobs[i]) == 0;
    if (n) run_one(&jobs[0]);
    for (size_t i = 1; i < n; i++) {
        if (jobs[i].threaded)
            pthread_join(jobs[i].thread, NULL);
        else
            run_one(&jobs[i]); /* no thread available: run inline */
    }
    json_t *content = json_array();
    int ok = content != NULL;
    for (size_t i = 0; i < n; i++) {
        if (!jobs[i].result || json_array_append_new(content, jobs[i].result))
            ok = 0;
    }
    free(jobs);
    json_t *msg = ok ? json_pack("{s:s, s:o}", "role", "user", "content",
                                 content)
                     : NULL;
    if (!ok) json_decref(content);
    return msg;
}
