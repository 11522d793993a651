/* The agent loop: claim the session, load its history, add the prompt,
 * then model call -> tools -> model call ... until a non-tool stop reason
 * or max_iterations model calls; save the turn and release the session. */
#include <stdlib.h>
#include <string.h>

#include "agent/conversation.h"
#include "agent/internal.h"
#include "strands/clock.h"

const char *strands_stop_reason_name(strands_stop_reason r)
{
    switch (r) {
#define X(name, api, bedrock) case STRANDS_STOP_##name: return api;
        STRANDS_STOP_REASON_MAP(X)
#undef X
    }
    return "EndTurn";
}

strands_stop_reason strands_stop_reason_from_model(const char *s)
{
#define X(name, api, bedrock) \
    if (s && *bedrock && !strcmp(s, bedrock)) return STRANDS_STOP_##name;
    STRANDS_STOP_REASON_MAP(X)
#undef X
    return STRANDS_STOP_END_TURN;
}

strands_agent *strands_agent_new(const strands_agent_config *cfg,
                                 strands_error *err)
{
    if (!cfg->model) {
        strands_error_set(err, STRANDS_E_INVALID, NULL, "agent needs a model");
        return NULL;
    }
    if (cfg->max_tokens < 1 || cfg->max_iterations < 1) {
        strands_error_set(err, STRANDS_E_INVALID, NULL,
                          "max_tokens and max_iterations must be >= 1");
        return NULL;
    }
    strands_agent *a = calloc(1, sizeof *a);
    if (!a) {
        strands_error_set(err, STRANDS_E_NOMEM, NULL, "OOM");
        return NULL;
    }
    a->model = cfg->model;
    a->tools = cfg->tools;
    a->sessions = cfg->sessions;
    a->max_tokens = cfg->max_tokens;
    a->max_iterations = cfg->max_iterations;
    if (cfg->system_prompt && *cfg->system_prompt) {
        a->system = json_pack("[{s:s}]", "text", cfg->system_prompt);
        if (!a->system) {
            free(a);
            strands_error_set(err, STRANDS_E_NOMEM, NULL, "OOM");
            return NULL;
        }
    }
    return a;
}

void strands_agent_free(strands_agent *a)
{
    if (!a) return;
    json_decref(a->system);
    free(a);
}

void strands_agent_result_cleanup(strands_agent_result *r)
{
    free(r->text);
    memset(r, 0, sizeof *r);
}

static void add_usage(strands_usage *sum, const strands_usage *u)
{
    sum->input_tokens += u->input_tokens;
    sum->output_tokens += u->output_tokens;
    sum->total_tokens += u->total_tokens;
}

static void emit_message(agent_run *run, const json_t *msg)
{
    strands_event ev = {.type = STRANDS_EVENT_MESSAGE_ADDED, .data = msg};
    agent_emit(run, &ev);
}

static void on_delta(void *user, const char *text, size_t len)
{
    strands_event ev = {.type = STRANDS_EVENT_TEXT_DELTA, .text = text,
                        .text_len = len};
    agent_emit(user, &ev);
}

/* One model call; appends the (sanitized) assistant message. Returns the
 * model's stop reason in *stop and the message's tool uses in *uses. */
static strands_status model_step(agent_run *run, json_t *messages,
                                 strands_agent_result *out, char *stop,
                                 size_t stopsz, json_t **uses,
                                 strands_error *err)
{
    strands_agent *a = run->agent;
    strands_model_request req = {
        .messages = messages,
        .system = a->system,
        .tools = a->tools && strands_tool_registry_count(a->tools)
                     ? strands_tool_registry_specs(a->tools)
                     : NULL,
        .max_tokens = a->max_tokens,
        .request_id = run->inv->invocation_id,
        .cancelled = run->inv->cancelled,
        .stream = run->inv->stream,
        .on_delta = on_delta,
        .delta_user = run,
    };
    char traceparent[64] = "";
    strands_event start = {.type = STRANDS_EVENT_MODEL_START,
                           .traceparent = traceparent,
                           .traceparent_size = sizeof traceparent};
    agent_emit(run, &start);
    if (traceparent[0]) req.traceparent = traceparent;
    int64_t t0 = strands_clock_mono_ms();
    strands_model_response resp;
    strands_status st = strands_model_converse(a->model, &req, &resp, err);
    out->iterations++;
    strands_event end = {.type = STRANDS_EVENT_MODEL_END,
                         .duration_ms = strands_clock_mono_ms() - t0};
    if (st != STRANDS_OK) {
        end.error = err;
        agent_emit(run, &end);
        return st;
    }
    add_usage(&out->usage, &resp.usage);
    snprintf(stop, stopsz, "%s", resp.stop_reason);
    int truncated = !strcmp(stop, "max_tokens");
    conversation_sanitize_assistant(resp.message, truncated);
    end.data = resp.message;
    end.usage = &resp.usage;
    end.stop_reason = resp.stop_reason;
    agent_emit(run, &end);
    *uses = truncated ? json_array() : conversation_tool_uses(resp.message);
    free(out->text);
    out->text = conversation_text(resp.message);
    if (json_array_append(messages, resp.message) || !*uses || !out->text) {
        strands_model_response_cleanup(&resp);
        return strands_error_set(err, STRANDS_E_NOMEM, NULL, "OOM");
    }
    emit_message(run, resp.message);
    strands_model_response_cleanup(&resp);
    return STRANDS_OK;
}

/* The model/tool cycles. On success the history holds the whole turn. */
static strands_status run_cycles(agent_run *run, json_t *messages,
                                 strands_agent_result *out,
                                 strands_error *err)
{
    for (;;) {
        if (run->inv->cancelled && atomic_load(run->inv->cancelled))
            return strands_error_set(err, STRANDS_E_CANCELLED, "Cancelled",
                                     "invocation cancelled");
        run->cycle++;
        strands_event cs = {.type = STRANDS_EVENT_CYCLE_START};
        agent_emit(run, &cs);
        char stop[48];
        json_t *uses = NULL;
        strands_status st = model_step(run, messages, out, stop, sizeof stop,
                                       &uses, err);
        if (st != STRANDS_OK) return st;
        /* A turn with toolUse blocks is a tool turn whatever the label. */
        if (json_array_size(uses) == 0) {
            json_decref(uses);
            out->stop_reason = strands_stop_reason_from_model(stop);
            strands_event ce = {.type = STRANDS_EVENT_CYCLE_END};
            agent_emit(run, &ce);
            return STRANDS_OK;
        }
        json_t *results = agent_run_tools(run, uses);
        json_decref(uses);
        if (!results || json_array_append_new(messages, results))
            return strands_error_set(err, STRANDS_E_NOMEM, NULL, "OOM");
        emit_message(run, results);
        strands_event ce = {.type = STRANDS_EVENT_CYCLE_END};
        agent_emit(run, &ce);
        if (out->iterations >= run->agent->max_iterations) {
            out->stop_reason = STRANDS_STOP_MAX_ITERATIONS;
            return STRANDS_OK;
        }
    }
}

static strands_status load_history(strands_agent *a, const char *session_id,
                                   json_t **messages, strands_error *err)
{
    if (!a->sessions) {
        *messages = json_array();
        return *messages ? STRANDS_OK : STRANDS_E_NOMEM;
    }
    return a->sessions->vtab->load(a->sessions, session_id, messages, err);
}

strands_status strands_agent_invoke(strands_agent *a,
                                    const strands_invocation *inv,
                                    strands_agent_result *out,
                                    strands_error *err)
{
    memset(out, 0, sizeof *out);
    strands_error_clear(err);
    if (!inv->session_id || !json_is_array(inv->prompt) ||
        !json_array_size(inv->prompt))
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "an invocation needs a session id and a "
                                 "non-empty prompt");
    strands_session_store *store = a->sessions;
    if (store) {
        strands_status st = store->vtab->claim(store, inv->session_id, err);
        if (st != STRANDS_OK) return st;
    }
    agent_run run = {.agent = a, .inv = inv};
    pthread_mutex_init(&run.event_lock, NULL);
    int64_t t0 = strands_clock_mono_ms();
    strands_event start = {.type = STRANDS_EVENT_INVOCATION_START,
                           .data = inv->prompt};
    agent_emit(&run, &start);

    json_t *messages = NULL;
    strands_status st = load_history(a, inv->session_id, &messages, err);
    if (st == STRANDS_OK) {
        st = conversation_add_prompt(messages, inv->prompt);
        if (st != STRANDS_OK)
            strands_error_set(err, st, NULL, "cannot add the prompt");
    }
    if (st == STRANDS_OK) {
        emit_message(&run, json_array_get(messages,
                                          json_array_size(messages) - 1));
        st = run_cycles(&run, messages, out, err);
    }
    if (st == STRANDS_OK && store)
        st = store->vtab->save(store, inv->session_id, messages, err);
    json_decref(messages);
    if (store) store->vtab->release(store, inv->session_id);

    strands_event end = {
        .type = STRANDS_EVENT_INVOCATION_END,
        .usage = &out->usage,
        .stop_reason = st == STRANDS_OK ? strands_stop_reason_name(
                                              out->stop_reason)
                                        : NULL,
        .text = out->text,
        .text_len = out->text ? strlen(out->text) : 0,
        .error = st == STRANDS_OK ? NULL : err,
        .duration_ms = strands_clock_mono_ms() - t0};
    agent_emit(&run, &end);
    pthread_mutex_destroy(&run.event_lock);
    if (st != STRANDS_OK) {
        int iterations = out->iterations;
        strands_usage usage = out->usage;
        strands_agent_result_cleanup(out);
        out->iterations = iterations;
        out->usage = usage;
    }
    return st;
}
