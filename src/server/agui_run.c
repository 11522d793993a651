/* Starting the run of a parsed RunAgentInput, shared by the AG-UI
 * transports (agui.c: POST /invocations over SSE; ws_agui.c: /ws): the
 * front-end tools checked against the agent's, the session (= threadId)
 * told to wait briefly for an abandoned run, and a streaming runner
 * started with the input's prompt and front-end tools.               */
#include <stdio.h>

#include "server/agui.h"

/* See invocations.c: a retry right after a dropped stream. */
#define AGUI_ABANDONED_WAIT_MS 5000

/* A front-end tool may not take the name of one of the agent's tools. */
static int tool_clash(strands_tool_registry *reg, const json_t *client,
                      char *why, size_t whysz)
{
    if (!reg || !client) return 0;
    strands_tool_snapshot *snap = strands_tool_registry_snapshot(reg);
    size_t i;
    json_t *spec;
    int clash = 0;
    json_array_foreach(client, i, spec) {
        const char *name = json_string_value(json_object_get(spec, "name"));
        if (strands_tool_snapshot_find(snap, name)) {
            snprintf(why, whysz, "tools[%zu].name '%s' is the name of a "
                                 "tool of the agent", i, name);
            clash = 1;
            break;
        }
    }
    strands_tool_snapshot_release(snap);
    return clash;
}

runner *agui_run_start(strands_server *srv, const agui_input *in,
                       const agui_origin *from, strands_error *err)
{
    char why[256];
    if (tool_clash(srv->cfg.tools, in->client_tools, why, sizeof why)) {
        strands_error_set(err, STRANDS_E_INVALID, NULL, "%s", why);
        return NULL;
    }
    runner_set_wait_abandoned(srv->runners, in->thread_id,
                              AGUI_ABANDONED_WAIT_MS);
    runner_request rq = {
        .session_id = in->thread_id,
        .request_id = from->request_id,
        .prompt = in->prompt,
        .stream = 1,
        .traceparent = from->traceparent,
        .xray = from->xray,
        .actor_id = from->actor_id,
        .request = from->request,
        .client_tools = in->client_tools,
    };
    return runner_start(srv->runners, &rq, err);
}
