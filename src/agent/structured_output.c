/* Structured output (strands_invocation.output_schema), as Strands does
 * it with a forced tool: once the agent's turn is over, the model is
 * asked to answer through a tool whose input schema is the caller's
 * schema, with the provider's tool choice forcing that tool. Its input is
 * checked with the tools' schema validator; an invalid answer (or one
 * without the call) gets one correction round: the reply and an error
 * toolResult naming the violation go back, forced again. Valid: the input
 * is the result's structured_output; invalid twice: StructuredOutputInvalid.
 *
 * The forced exchange is built on a copy of the working history and is
 * never stored: the session keeps the turn as the model answered it, so
 * no stored toolUse names a tool that later requests do not declare, and
 * the history stays valid for every provider. A forced call that
 * overflows the context window reduces the working history as a cycle's
 * would (the loop does it) and is made again. Also the public schema
 * check (strands_output_schema_check).                                  */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/conversation.h"
#include "agent/conversation_manager.h"
#include "agent/structured_output.h"
#include "strands/clock.h"
#include "tools/schema.h"
#include "tools/schema_check.h"

static const char so_description[] =
    "Returns your final answer to the user in the structured form the "
    "caller asked for. Call this tool exactly once, with the complete "
    "answer as its input, following its input schema exactly.";

#define SO_INSTRUCTION                                                    \
    "Now give your final answer by calling the %s tool: its input is the " \
    "answer, in the form its input schema describes. Call no other tool."

#define SO_NOT_CALLED                                                      \
    "You did not call the %s tool. Call it now with your final answer as " \
    "its input."

strands_status strands_output_schema_check(const json_t *schema,
                                           strands_error *err)
{
    char why[512];
    const char *type = json_string_value(json_object_get(schema, "type"));
    if (!json_is_object(schema) || !type || strcmp(type, "object"))
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "output_schema must be a JSON Schema "
                                 "object whose \"type\" is \"object\"");
    strands_status st = schema_check(schema, "output_schema", why,
                                     sizeof why);
    if (st == STRANDS_E_NOMEM)
        return strands_error_set(err, st, NULL, "OOM");
    if (st != STRANDS_OK)
        return strands_error_set(err, st, NULL, "%s", why);
    return STRANDS_OK;
}

int agent_so_applies(strands_stop_reason stop)
{
    return stop == STRANDS_STOP_END_TURN ||
           stop == STRANDS_STOP_STOP_SEQUENCE ||
           stop == STRANDS_STOP_MAX_TOKENS;
}

/* ---- the forced tool ------------------------------------------------- */

/* The name of a client tool entry ({"name"} or {"toolSpec":{"name"}}). */
static const char *client_tool_name(const json_t *t)
{
    const char *n = json_string_value(json_object_get(t, "name"));
    if (!n)
        n = json_string_value(
            json_object_get(json_object_get(t, "toolSpec"), "name"));
    return n;
}

static int name_taken(const strands_tool_snapshot *snap,
                      const json_t *client_tools, const char *name)
{
    if (strands_tool_snapshot_find(snap, name)) return 1;
    size_t i;
    json_t *t;
    json_array_foreach(client_tools, i, t) {
        const char *n = client_tool_name(t);
        if (n && !strcmp(n, name)) return 1;
    }
    return 0;
}

/* AGENT_SO_TOOL_NAME, or the first free "<name>_<n>". */
static void pick_name(const strands_tool_snapshot *snap,
                      const json_t *client_tools, char *out, size_t outsz)
{
    snprintf(out, outsz, "%s", AGENT_SO_TOOL_NAME);
    for (int n = 1; name_taken(snap, client_tools, out) && n < 1000; n++)
        snprintf(out, outsz, "%s_%d", AGENT_SO_TOOL_NAME, n);
}

/* The forced call's tool list: the registry's tools (parsed from the
 * snapshot's text: its tree is shared with other invocations and is
 * never referenced from here) and the structured-output tool with a
 * copy of the schema. NULL on OOM. */
static json_t *forced_tools(const strands_tool_snapshot *snap,
                            const char *name, const json_t *schema)
{
    size_t len = 0;
    const char *text = strands_tool_snapshot_count(snap)
                           ? strands_tool_snapshot_specs_json(snap, &len)
                           : NULL;
    json_t *tools = text ? json_loadb(text, len, 0, NULL) : json_array();
    if (!json_is_array(tools)) {
        json_decref(tools);
        return NULL;
    }
    json_t *copy = json_deep_copy(schema);
    json_t *spec = copy ? json_pack("{s:{s:s, s:s, s:{s:o}}}", "toolSpec",
                                    "name", name, "description",
                                    so_description, "inputSchema", "json",
                                    copy)
                        : NULL;
    if (!spec || json_array_append_new(tools, spec)) {
        json_decref(tools);
        return NULL;
    }
    return tools;
}

/* A user message of one text block. */
static json_t *user_text(const char *text)
{
    return json_pack("{s:s, s:[{s:s}]}", "role", "user", "content", "text",
                     text);
}

/* The first forced call's messages: the history and the instruction (a
 * text block joined to a trailing user message, so roles alternate).
 * Only new arrays and objects are made: the history's messages are
 * referenced, never changed. NULL on OOM. */
static json_t *first_messages(const json_t *history, const char *name)
{
    size_t n = json_array_size(history);
    json_t *msgs = json_array();
    char text[512];
    snprintf(text, sizeof text, SO_INSTRUCTION, name);
    json_t *ask = user_text(text);
    if (!msgs || !ask) goto oom;
    json_t *last = n ? json_array_get(history, n - 1) : NULL;
    const char *role = json_string_value(json_object_get(last, "role"));
    int join = role && !strcmp(role, "user");
    for (size_t i = 0; i + (join ? 1 : 0) < n; i++)
        if (json_array_append(msgs, json_array_get(history, i))) goto oom;
    if (join) {
        json_t *content = json_array();
        json_t *msg = content && !json_array_extend(
                                     content, json_object_get(last,
                                                              "content")) &&
                              !json_array_extend(
                                  content, json_object_get(ask, "content"))
                          ? json_pack("{s:s, s:O}", "role", "user",
                                      "content", content)
                          : NULL;
        json_decref(content);
        if (!msg) goto oom;
        json_decref(ask);
        ask = msg;
    }
    if (json_array_append_new(msgs, ask)) {
        ask = NULL;
        goto oom;
    }
    return msgs;
oom:
    json_decref(ask);
    json_decref(msgs);
    return NULL;
}

/* ---- one forced call ------------------------------------------------- */

static void sum_usage(strands_usage *sum, const strands_usage *u)
{
    sum->input_tokens += u->input_tokens;
    sum->output_tokens += u->output_tokens;
    sum->total_tokens += u->total_tokens;
    sum->cache_read_input_tokens += u->cache_read_input_tokens;
    sum->cache_write_input_tokens += u->cache_write_input_tokens;
}

/* One forced model call as one cycle (events, iterations, usage); the
 * reply is sanitized (a max_tokens reply loses its cut toolUse blocks). */
static strands_status forced_call(agent_run *run, const json_t *messages,
                                  const json_t *tools, const char *name,
                                  strands_agent_result *out,
                                  strands_model_response *resp,
                                  strands_error *err)
{
    strands_agent *a = run->agent;
    memset(resp, 0, sizeof *resp);
    if (run->inv->cancelled && atomic_load(run->inv->cancelled))
        return strands_error_set(err, STRANDS_E_CANCELLED, "Cancelled",
                                 "invocation cancelled");
    run->cycle++;
    strands_event cs = {.type = STRANDS_EVENT_CYCLE_START};
    agent_emit(run, &cs);
    char traceparent[64] = "";
    strands_event start = {.type = STRANDS_EVENT_MODEL_START,
                           .traceparent = traceparent,
                           .traceparent_size = sizeof traceparent};
    agent_emit(run, &start);
    /* The forced answer is not streamed to the client: it becomes the
     * result's structured_output, not text. The provider still uses its
     * streaming API when the invocation does (stream on, no callback). */
    strands_model_request req = {
        .messages = messages,
        .system = a->system,
        .system_json = a->system_json,
        .system_json_len = a->system_json_len,
        .tools = tools,
        .max_tokens = a->max_tokens,
        .request_id = run->inv->invocation_id,
        .cancelled = run->inv->cancelled,
        .stream = run->inv->stream,
        .traceparent = traceparent[0] ? traceparent : NULL,
        .tool_choice = name,
    };
    out->iterations++;
    int64_t t0 = strands_clock_mono_ms();
    strands_status st = strands_model_converse(a->model, &req, resp, err);
    strands_event end = {.type = STRANDS_EVENT_MODEL_END,
                         .duration_ms = strands_clock_mono_ms() - t0};
    if (st == STRANDS_OK) {
        sum_usage(&out->usage, &resp->usage);
        if (!resp->message ||
            conversation_sanitize_assistant(
                resp->message, resp->stop == STRANDS_STOP_MAX_TOKENS) !=
                STRANDS_OK)
            st = strands_error_set(err, STRANDS_E_NOMEM, NULL, "OOM");
    }
    if (st == STRANDS_OK) {
        end.data = resp->message;
        end.usage = &resp->usage;
        end.stop_reason = strands_stop_reason_label(resp->stop);
    } else {
        end.error = err;
        strands_model_response_cleanup(resp);
    }
    agent_emit(run, &end);
    strands_event ce = {.type = STRANDS_EVENT_CYCLE_END};
    agent_emit(run, &ce);
    return st;
}

/* ---- judging a reply ------------------------------------------------- */

/* Looks at the reply's toolUse blocks. The first call of `name` whose
 * input matches the schema wins: *value = a deep copy of its input.
 * Otherwise `why` names the violation and *feedback is the user message
 * answering the reply: an error toolResult for each toolUse (the
 * violation for calls of `name`, "not available" for any other tool) and,
 * when `name` was not called, an instruction to call it. */
static strands_status judge(const json_t *reply, strands_stop_reason stop,
                            const char *name, const json_t *schema,
                            json_t **value, json_t **feedback, char *why,
                            size_t whysz)
{
    *value = NULL;
    *feedback = NULL;
    why[0] = '\0';
    json_t *content = json_array();
    if (!content) return STRANDS_E_NOMEM;
    int called = 0;
    size_t i;
    json_t *block;
    json_array_foreach(json_object_get(reply, "content"), i, block) {
        json_t *tu = json_object_get(block, "toolUse");
        if (!tu) continue;
        const char *n = json_string_value(json_object_get(tu, "name"));
        json_t *input = json_object_get(tu, "input");
        char one[600], text[800];
        if (n && !strcmp(n, name)) {
            if (schema_validate(schema, input, one, sizeof one) ==
                STRANDS_OK) {
                json_decref(content);
                *value = json_deep_copy(input ? input : json_null());
                return *value ? STRANDS_OK : STRANDS_E_NOMEM;
            }
            if (!called) snprintf(why, whysz, "%s", one);
            called = 1;
            snprintf(text, sizeof text,
                     "Validation failed: %s. Call %s again with input that "
                     "matches its input schema.", one, name);
        } else {
            snprintf(text, sizeof text,
                     "Tool %.100s is not available now: answer only by "
                     "calling %s.", n ? n : "(unnamed)", name);
        }
        json_t *r = json_pack("{s:{s:O?, s:s, s:[{s:s}]}}", "toolResult",
                              "toolUseId", json_object_get(tu, "toolUseId"),
                              "status", "error", "content", "text", text);
        if (!r || json_array_append_new(content, r)) {
            json_decref(content);
            return STRANDS_E_NOMEM;
        }
    }
    if (!called) {
        if (stop == STRANDS_STOP_MAX_TOKENS)
            snprintf(why, whysz, "the model's answer reached the token "
                                 "limit (MaxTokens) before its %s call was "
                                 "complete", name);
        else
            snprintf(why, whysz, "the model answered without calling the "
                                 "%s tool", name);
        char text[512];
        snprintf(text, sizeof text, SO_NOT_CALLED, name);
        json_t *ask = user_text(text);
        if (!ask ||
            json_array_extend(content, json_object_get(ask, "content"))) {
            json_decref(ask);
            json_decref(content);
            return STRANDS_E_NOMEM;
        }
        json_decref(ask);
    }
    *feedback = json_pack("{s:s, s:o}", "role", "user", "content", content);
    return *feedback ? STRANDS_OK : STRANDS_E_NOMEM;
}

/* A violation as the caller sees it: the path starts at "output" (the
 * validator names the tool input "input"). */
static const char *as_output(const char *why, char *buf, size_t bufsz)
{
    if (strncmp(why, "input", 5) || (why[5] && why[5] != '.' &&
                                     why[5] != '[' && why[5] != ' '))
        return why;
    /* Cut to fit (the message is for reading). */
    size_t n = strlen(why + 5);
    if (bufsz < 7) return why;
    if (n > bufsz - 7) n = bufsz - 7;
    memcpy(buf, "output", 6);
    memcpy(buf + 6, why + 5, n);
    buf[6 + n] = '\0';
    return buf;
}

/* The forced calls' messages on the history now: the instruction after
 * it, then the correction round when there is one (reply and feedback,
 * borrowed; NULL: none). NULL on OOM. */
static json_t *call_messages(const agent_so_history *h, const char *name,
                             json_t *reply, json_t *feedback)
{
    json_t *msgs = first_messages(h->messages(h->user), name);
    if (msgs && reply &&
        (json_array_append(msgs, reply) ||
         json_array_append(msgs, feedback))) {
        json_decref(msgs);
        return NULL;
    }
    return msgs;
}

static int is_overflow(const strands_error *err)
{
    return err && !strcmp(err->code, STRANDS_ERROR_CONTEXT_OVERFLOW);
}

strands_status agent_structured_output(agent_run *run,
                                       const agent_so_history *h,
                                       strands_agent_result *out,
                                       strands_error *err)
{
    const json_t *schema = run->inv->output_schema;
    strands_tool_snapshot *snap =
        strands_tool_registry_snapshot(run->agent->tools);
    char name[64];
    pick_name(snap, run->inv->client_tools, name, sizeof name);
    json_t *tools = forced_tools(snap, name, schema);
    strands_tool_snapshot_release(snap);
    /* the correction round, kept to be sent again after a reduction */
    json_t *reply = NULL, *feedback = NULL;
    json_t *msgs = tools ? call_messages(h, name, NULL, NULL) : NULL;
    strands_status st = msgs ? STRANDS_OK
                             : strands_error_set(err, STRANDS_E_NOMEM, NULL,
                                                 "OOM");
    char why[AGENT_SO_ATTEMPTS][600];
    int reductions = 0;
    for (int attempt = 0; st == STRANDS_OK && attempt < AGENT_SO_ATTEMPTS;
         attempt++) {
        strands_model_response resp;
        st = forced_call(run, msgs, tools, name, out, &resp, err);
        if (st != STRANDS_OK && is_overflow(err) &&
            reductions < CM_MAX_REDUCTIONS) {
            /* The same call again on the reduced history. */
            reductions++;
            st = h->reduce(h->user, err);
            if (st != STRANDS_OK) break;
            json_decref(msgs);
            msgs = call_messages(h, name, reply, feedback);
            if (!msgs) {
                st = strands_error_set(err, STRANDS_E_NOMEM, NULL, "OOM");
                break;
            }
            attempt--;
            continue;
        }
        if (st != STRANDS_OK) break;
        json_t *value = NULL;
        json_decref(feedback);
        feedback = NULL;
        json_decref(reply);
        reply = NULL;
        st = judge(resp.message, resp.stop, name, schema, &value, &feedback,
                   why[attempt], sizeof why[attempt]);
        if (st == STRANDS_OK && value) {
            out->structured_output = value;
        } else if (st == STRANDS_OK && attempt + 1 < AGENT_SO_ATTEMPTS) {
            /* The correction round: the reply and its answer go back. */
            reply = json_incref(resp.message);
            if (json_array_append(msgs, reply) ||
                json_array_append(msgs, feedback))
                st = STRANDS_E_NOMEM;
        }
        strands_model_response_cleanup(&resp);
        if (st != STRANDS_OK) {
            strands_error_set(err, STRANDS_E_NOMEM, NULL, "OOM");
            break;
        }
        if (value) break;
        if (attempt + 1 == AGENT_SO_ATTEMPTS) {
            char b0[620], b1[620];
            st = strands_error_set(
                err, STRANDS_E_INVALID, STRANDS_ERROR_STRUCTURED_OUTPUT,
                "the model's structured output does not match output_schema "
                "after %d attempts: %.400s (first attempt: %.400s)",
                AGENT_SO_ATTEMPTS, as_output(why[attempt], b1, sizeof b1),
                as_output(why[0], b0, sizeof b0));
        }
    }
    json_decref(reply);
    json_decref(feedback);
    json_decref(msgs);
    json_decref(tools);
    return st;
}
