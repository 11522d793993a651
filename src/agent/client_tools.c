/* Front-end (client) tools (strands_invocation.client_tools): tools the
 * caller declares for one invocation and answers itself. This file owns
 * the three places they touch the loop:
 *   - offering them to the model with the registry's tools (checked: a
 *     well-formed toolSpec, a unique name that no registry tool has);
 *   - taking the model's calls to them out of a turn's tool uses, so the
 *     loop runs only the server tools and then ends the invocation with
 *     the client calls pending (result.client_tool_calls, TOOL_USE);
 *   - resuming: the next prompt's toolResult blocks answer those calls,
 *     so the "Tool was interrupted." answers that restoring the history
 *     made up for them are taken out again (they were never crashed
 *     calls), and a toolResult that answers no pending call is refused. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/conversation.h"
#include "agent/internal.h"

/* Bedrock's toolSpec name rule: [a-zA-Z0-9_-]{1,64}. */
static int valid_name(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n < 1 || n > 64) return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

static const char *spec_name(const json_t *spec)
{
    return json_string_value(json_object_get(spec, "name"));
}

strands_status client_tools_check(const json_t *tools, strands_error *err)
{
    if (!tools) return STRANDS_OK;
    if (!json_is_array(tools) ||
        json_array_size(tools) > AGENT_MAX_CLIENT_TOOLS)
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "client tools must be an array of at most "
                                 "%d tool specs", AGENT_MAX_CLIENT_TOOLS);
    size_t i, j;
    json_t *spec;
    json_array_foreach(tools, i, spec) {
        const char *name = spec_name(spec);
        json_t *schema =
            json_object_get(json_object_get(spec, "inputSchema"), "json");
        if (!json_is_object(spec) || !valid_name(name))
            return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                     "client tool %zu: name must be 1..64 "
                                     "characters of a-z, A-Z, 0-9, _ or -",
                                     i);
        if (!json_is_string(json_object_get(spec, "description")) ||
            !json_is_object(schema))
            return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                     "client tool '%s': needs a string "
                                     "description and inputSchema.json (an "
                                     "object)", name);
        for (j = 0; j < i; j++)
            if (!strcmp(name, spec_name(json_array_get(tools, j))))
                return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                         "client tool '%s' is declared "
                                         "twice", name);
    }
    return STRANDS_OK;
}

int client_tools_has(const json_t *tools, const char *name)
{
    size_t i;
    json_t *spec;
    json_array_foreach(tools, i, spec) {
        const char *n = spec_name(spec);
        if (n && name && !strcmp(n, name)) return 1;
    }
    return 0;
}

void client_tools_offer_clear(client_tools_offer *o)
{
    json_decref(o->specs);
    free(o->json);
    memset(o, 0, sizeof *o);
}

strands_status client_tools_offer_build(const agent_run *run,
                                        strands_model_request *req,
                                        client_tools_offer *o,
                                        strands_error *err)
{
    const json_t *client = run->inv->client_tools;
    client_tools_offer_clear(o);
    if (!json_array_size(client)) return STRANDS_OK;
    size_t i;
    json_t *spec;
    json_array_foreach(client, i, spec) {
        if (strands_tool_snapshot_find(run->tools, spec_name(spec)))
            return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                     "client tool '%s' has the name of a "
                                     "tool of the agent", spec_name(spec));
    }
    o->specs = json_array();
    int ok = o->specs && (!req->tools ||
                          !json_array_extend(o->specs, (json_t *)req->tools));
    json_array_foreach(client, i, spec) {
        if (ok && json_array_append_new(o->specs,
                                        json_pack("{s:O}", "toolSpec", spec)))
            ok = 0;
    }
    size_t n = ok ? json_dumpb(o->specs, NULL, 0, JSON_COMPACT) : 0;
    o->json = n ? malloc(n + 1) : NULL;
    if (!o->json || json_dumpb(o->specs, o->json, n, JSON_COMPACT) != n) {
        client_tools_offer_clear(o);
        return strands_error_set(err, STRANDS_E_NOMEM, NULL, "OOM");
    }
    o->json[n] = '\0';
    o->len = n;
    req->tools = o->specs;
    req->tools_json = o->json;
    req->tools_json_len = o->len;
    return STRANDS_OK;
}

strands_status client_tools_take(const agent_run *run, json_t *uses,
                                 strands_agent_result *out,
                                 strands_error *err)
{
    const json_t *client = run->inv->client_tools;
    if (!json_array_size(client) || !json_array_size(uses))
        return STRANDS_OK;
    json_t *calls = json_array();
    json_t *keep = json_array();
    int ok = calls && keep;
    size_t i;
    json_t *tu;
    json_array_foreach(uses, i, tu) {
        const char *name = json_string_value(json_object_get(tu, "name"));
        json_t *into = client_tools_has(client, name) ? calls : keep;
        if (ok && json_array_append(into, tu)) ok = 0;
    }
    /* uses changes only once everything is built (cannot fail then:
     * json_array_clear frees, json_array_extend of a smaller array into
     * the emptied one reuses its storage).                              */
    if (!ok || (json_array_size(calls) &&
                (json_array_clear(uses) || json_array_extend(uses, keep)))) {
        json_decref(calls);
        json_decref(keep);
        return strands_error_set(err, STRANDS_E_NOMEM, NULL, "OOM");
    }
    json_decref(keep);
    if (!json_array_size(calls)) {
        json_decref(calls);
        return STRANDS_OK;
    }
    json_decref(out->client_tool_calls);
    out->client_tool_calls = calls;
    return STRANDS_OK;
}

/* ---- resuming -------------------------------------------------------- */

static const char *role_of(const json_t *m)
{
    return json_string_value(json_object_get(m, "role"));
}

static const char *result_id(const json_t *block)
{
    return json_string_value(
        json_object_get(json_object_get(block, "toolResult"), "toolUseId"));
}

/* True when some toolResult block of content answers id. */
static int answers(const json_t *content, const char *id)
{
    size_t i;
    json_t *b;
    json_array_foreach(content, i, b) {
        const char *rid = result_id(b);
        if (rid && id && !strcmp(rid, id)) return 1;
    }
    return 0;
}

/* True when block is one of the toolResult blocks the stored log holds
 * after its last assistant message (real answers, not made-up ones). */
static int stored_answer(const json_t *log, const json_t *block)
{
    size_t n = json_array_size(log);
    for (size_t k = n; k-- > 0;) {
        const json_t *m = json_array_get(log, k);
        const char *role = role_of(m);
        if (role && !strcmp(role, "assistant")) break;
        size_t i;
        json_t *b;
        json_array_foreach(json_object_get(m, "content"), i, b) {
            if (json_equal((json_t *)b, (json_t *)block)) return 1;
        }
    }
    return 0;
}

strands_status client_tools_resume(json_t *working, json_t **repair,
                                   const json_t *log, const json_t *prompt,
                                   strands_error *err)
{
    size_t i;
    json_t *b;
    int any = 0;
    json_array_foreach(prompt, i, b) {
        if (json_object_get(b, "toolResult")) any = 1;
    }
    if (!any) return STRANDS_OK;
    size_t n = json_array_size(working), last_a = n;
    for (size_t k = n; k-- > 0;) {
        const char *role = role_of(json_array_get(working, k));
        if (role && !strcmp(role, "assistant")) {
            last_a = k;
            break;
        }
    }
    json_t *uses = last_a < n
                       ? conversation_tool_uses(json_array_get(working,
                                                               last_a))
                       : json_array();
    json_t *trail = last_a + 1 < n ? json_array_get(working, last_a + 1)
                                   : NULL;
    json_t *kept = json_array();
    if (!uses || !kept) goto oom;
    /* The trailing user message without the made-up answers to the calls
     * the prompt answers. */
    json_array_foreach(trail ? json_object_get(trail, "content") : NULL, i,
                       b) {
        const char *rid = result_id(b);
        if (rid && answers(prompt, rid) && !stored_answer(log, b)) continue;
        if (json_array_append(kept, b)) goto oom;
    }
    /* Every toolResult of the prompt answers a pending call (a toolUse of
     * the last assistant message that nothing else answers), once. */
    json_array_foreach(prompt, i, b) {
        const char *rid = result_id(b);
        if (!json_object_get(b, "toolResult")) continue;
        size_t j;
        json_t *tu;
        int pending = 0;
        json_array_foreach(uses, j, tu) {
            const char *id = json_string_value(json_object_get(tu,
                                                               "toolUseId"));
            if (rid && id && !strcmp(rid, id)) pending = 1;
        }
        for (j = 0; pending && j < i; j++) {
            const char *prev = result_id(json_array_get(prompt, j));
            if (prev && !strcmp(prev, rid)) pending = 0; /* twice */
        }
        if (!pending || answers(kept, rid)) {
            json_decref(uses);
            json_decref(kept);
            return strands_error_set(err, STRANDS_E_INVALID,
                                     "ToolResultUnexpected",
                                     "toolResult '%.128s' answers no pending "
                                     "tool call of this session",
                                     rid ? rid : "");
        }
    }
    json_decref(uses);
    if (!trail ||
        json_array_size(kept) ==
            json_array_size(json_object_get(trail, "content"))) {
        json_decref(kept);
        return STRANDS_OK; /* nothing made up for them */
    }
    int was_repair = *repair && *repair == trail;
    if (!json_array_size(kept)) {
        json_decref(kept);
        json_array_remove(working, last_a + 1);
        if (was_repair) {
            json_decref(*repair);
            *repair = NULL;
        }
        return STRANDS_OK;
    }
    json_t *msg = json_pack("{s:s, s:o}", "role", "user", "content", kept);
    if (!msg) goto oom_nokept;
    if (was_repair) {
        json_decref(*repair);
        *repair = json_incref(msg);
    }
    json_array_set_new(working, last_a + 1, msg); /* replaces: no alloc */
    return STRANDS_OK;
oom:
    json_decref(kept);
    json_decref(uses);
oom_nokept:
    return strands_error_set(err, STRANDS_E_NOMEM, NULL, "OOM");
}
