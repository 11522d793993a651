/* MCP server mode: a registry tool called by an MCP client (tools/call
 * with MCP_SERVE_TOOLS=true). The input is checked against the tool's
 * schema, then the tool runs on a worker thread of its own with a
 * strands_tool_context (a cancel flag, a deadline, the caller's request
 * context) while the connection's thread waits: until it is done, its
 * deadline passes (the flag is set; a call still running a grace period
 * later is abandoned, as the agent does) or the client hangs up (the
 * flag is set). Calls in flight and abandoned calls are capped.        */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/abstime.h"
#include "server/internal.h"
#include "server/mcp_server.h"
#include "server/runner.h"
#include "strands/clock.h"
#include "strands/util.h"
#include "tools/registry.h"
#include "tools/schema.h"

/* How long a cancelled call may take to stop before it is abandoned. */
#define GRACE_MS 1000
/* How often the waiting thread looks at the client's socket. */
#define POLL_MS 100

static atomic_int g_abandoned;

/* Shared by the waiting thread and the worker; the last one frees it. */
typedef struct call_job {
    atomic_int refs;
    atomic_int cancelled;
    pthread_mutex_t lock;
    pthread_cond_t cond;       /* CLOCK_MONOTONIC */
    int done;
    int abandoned;
    strands_tool *tool;        /* a reference (tools_tool_ref) */
    json_t *input;             /* a deep copy */
    char *session;
    char tool_use_id[40];
    strands_request_context *request; /* a copy, or NULL */
    int64_t deadline;
    strands_status st;
    strands_error err;
    json_t *content;
} call_job;

static void job_unref(call_job *j)
{
    if (atomic_fetch_sub(&j->refs, 1) != 1) return;
    tools_tool_unref(j->tool);
    json_decref(j->input);
    json_decref(j->content);
    free(j->session);
    tools_request_context_free(j->request);
    pthread_cond_destroy(&j->cond);
    pthread_mutex_destroy(&j->lock);
    free(j);
}

static void *worker(void *arg)
{
    call_job *j = arg;
    strands_tool_context ctx = {.tool_use_id = j->tool_use_id,
                                .session_id = j->session,
                                .cancelled = &j->cancelled,
                                .deadline_ms = j->deadline,
                                .state = NULL,
                                .request = j->request};
    json_t *content = NULL;
    strands_error err;
    strands_error_clear(&err);
    strands_status st = strands_tool_call(j->tool, j->input, &ctx, &content,
                                          &err);
    pthread_mutex_lock(&j->lock);
    j->st = st;
    j->err = err;
    j->content = content;
    j->done = 1;
    int abandoned = j->abandoned;
    pthread_cond_broadcast(&j->cond);
    pthread_mutex_unlock(&j->lock);
    if (abandoned) atomic_fetch_sub(&g_abandoned, 1);
    job_unref(j);
    return NULL;
}

static call_job *job_new(const mcp_tool_call *c)
{
    call_job *j = calloc(1, sizeof *j);
    if (!j) return NULL;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    int bad = pthread_mutex_init(&j->lock, NULL) != 0;
    if (!bad && pthread_cond_init(&j->cond, &ca) != 0) {
        pthread_mutex_destroy(&j->lock);
        bad = 1;
    }
    pthread_condattr_destroy(&ca);
    if (bad) {
        free(j);
        return NULL;
    }
    atomic_init(&j->refs, 1);
    atomic_init(&j->cancelled, 0);
    j->tool = tools_tool_ref(c->tool);
    j->input = json_deep_copy(c->input);
    j->session = strdup(c->session_id ? c->session_id : "");
    j->request = c->request ? tools_request_context_dup(c->request) : NULL;
    char id[37];
    strands_uuid4(id);
    snprintf(j->tool_use_id, sizeof j->tool_use_id, "mcp-%.32s", id);
    if (!j->input || !j->session || (c->request && !j->request)) {
        job_unref(j);
        return NULL;
    }
    return j;
}

/* Waits for the worker: done (1), or the client hung up / the deadline
 * and the grace period passed (0). Sets the cancel flag on the way.    */
static int wait_job(call_job *j, int fd, int *hung_up, int *timed_out)
{
    pthread_mutex_lock(&j->lock);
    int64_t give_up = 0;
    while (!j->done) {
        int64_t now = strands_clock_mono_ms();
        if (give_up && now >= give_up) break;
        if (!give_up && now >= j->deadline) {
            *timed_out = 1;
            atomic_store(&j->cancelled, 1);
            give_up = now + GRACE_MS;
        }
        if (!give_up && runner_peer_gone(fd)) {
            *hung_up = 1;
            atomic_store(&j->cancelled, 1);
            give_up = now + GRACE_MS;
        }
        int64_t wait = POLL_MS;
        int64_t until = give_up ? give_up : j->deadline;
        if (until - now < wait) wait = until - now > 0 ? until - now : 1;
        struct timespec ts;
        core_abstime_after_ms(CLOCK_MONOTONIC, wait, &ts);
        pthread_cond_timedwait(&j->cond, &j->lock, &ts);
    }
    int done = j->done;
    if (!done) {
        j->abandoned = 1;
        atomic_fetch_add(&g_abandoned, 1);
    }
    pthread_mutex_unlock(&j->lock);
    return done;
}

strands_status mcp_server_call_tool(struct mcp_server_state *st,
                                    const mcp_tool_call *c, json_t **content,
                                    strands_error *err)
{
    *content = NULL;
    const char *name = strands_tool_name(c->tool);
    char why[512];
    if (schema_validate(tools_tool_schema(c->tool), c->input, why,
                        sizeof why) != STRANDS_OK)
        return strands_error_set(err, STRANDS_E_INVALID, "InvalidToolInput",
                                 "invalid input for tool '%.64s': %s", name,
                                 why);
    if (atomic_load(&g_abandoned) >= MCP_SERVER_MAX_ABANDONED)
        return strands_error_set(err, STRANDS_E_BUSY, "ToolBusy",
                                 "tool '%.64s' not started: %d abandoned tool "
                                 "calls are still running", name,
                                 MCP_SERVER_MAX_ABANDONED);
    if (atomic_fetch_add(&st->calls, 1) >= MCP_SERVER_MAX_TOOL_CALLS) {
        atomic_fetch_sub(&st->calls, 1);
        return strands_error_set(err, STRANDS_E_BUSY, "ToolBusy",
                                 "tool '%.64s' not started: %d tool calls "
                                 "are already running", name,
                                 MCP_SERVER_MAX_TOOL_CALLS);
    }
    strands_status ret;
    call_job *j = job_new(c);
    if (!j) {
        ret = strands_error_set(err, STRANDS_E_NOMEM, NULL, "out of memory");
        goto out;
    }
    j->deadline = strands_clock_mono_ms() + c->timeout_ms;
    atomic_store(&j->refs, 2);
    pthread_t t;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    int rc = pthread_create(&t, &attr, worker, j);
    pthread_attr_destroy(&attr);
    if (rc) {
        atomic_store(&j->refs, 1);
        job_unref(j);
        ret = strands_error_set(err, STRANDS_E_BUSY, "ToolBusy",
                                "no thread to run tool '%.64s'", name);
        goto out;
    }
    int hung_up = 0, timed_out = 0;
    int done = wait_job(j, c->watch_fd, &hung_up, &timed_out);
    if (hung_up) {
        ret = strands_error_set(err, STRANDS_E_CANCELLED, NULL,
                                "tool '%.64s' cancelled: the client went away",
                                name);
    } else if (timed_out) {
        ret = strands_error_set(err, STRANDS_E_TIMEOUT, "ToolTimeout",
                                "tool '%.64s' timed out after %lld ms%s",
                                name, (long long)c->timeout_ms,
                                done ? "" : " (it ignored cancellation and was "
                                            "abandoned)");
    } else if (j->st != STRANDS_OK) {
        *err = j->err;
        ret = j->st;
    } else {
        *content = j->content;
        j->content = NULL;
        ret = STRANDS_OK;
    }
    job_unref(j);
out:
    atomic_fetch_sub(&st->calls, 1);
    return ret;
}
