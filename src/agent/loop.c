/* The agent loop: claim the session, load its record (message log +
 * agent object) and build the working history from it (from the
 * conversation manager's removed_message_count, after its summary;
 * repairing what a crash left; fields a model must not see stay in the
 * log only), add the prompt, then model call -> tools -> model call ...
 * until a non-tool stop reason or max_iterations model calls (renewing the
 * claim's lease as cycles go by; the conversation manager keeps the
 * history in its window before each model call, and a context overflow is
 * recovered by truncating tool results, then reducing, then retrying, at
 * most CM_MAX_REDUCTIONS times); let the manager apply its window; append
 * the turn's messages and the agent object (with the agent state the
 * tools changed and the manager's state) after the loaded count, under the
 * claim, and release the session. A failed turn stores nothing. Streamed
 * model output becomes typed events.                                    */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/conversation.h"
#include "agent/internal.h"
#include "agent/structured_output.h"
#include "strands/clock.h"

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
    if (cfg->tool_concurrency < 0 ||
        cfg->tool_concurrency > AGENT_MAX_TOOL_CONCURRENCY ||
        cfg->tool_timeout_ms < 0) {
        strands_error_set(err, STRANDS_E_INVALID, NULL,
                          "tool_concurrency must be 0..%d and "
                          "tool_timeout_ms >= 0", AGENT_MAX_TOOL_CONCURRENCY);
        return NULL;
    }
    if ((unsigned)cfg->conversation_manager > STRANDS_CM_NONE ||
        cfg->window_size < 0 || cfg->window_size > 1000000 ||
        !isfinite(cfg->summary_ratio) || cfg->summary_ratio < 0 ||
        cfg->summary_preserve_recent < 0) {
        strands_error_set(err, STRANDS_E_INVALID, NULL,
                          "conversation manager: unknown kind, or "
                          "window_size not in 0..1000000, or a negative "
                          "summary_ratio or summary_preserve_recent");
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
    a->tool_concurrency = cfg->tool_concurrency
                              ? cfg->tool_concurrency
                              : STRANDS_AGENT_DEFAULT_TOOL_CONCURRENCY;
    a->tool_result_max_bytes =
        cfg->tool_result_max_bytes
            ? cfg->tool_result_max_bytes
            : STRANDS_AGENT_DEFAULT_TOOL_RESULT_MAX_BYTES;
    a->tool_timeout_ms = cfg->tool_timeout_ms;
    a->cm = (cm_config){
        .kind = cfg->conversation_manager,
        .window_size = cfg->window_size ? cfg->window_size
                                        : STRANDS_AGENT_DEFAULT_WINDOW_SIZE,
        .summary_ratio = cfg->summary_ratio > 0
                             ? cfg->summary_ratio
                             : STRANDS_AGENT_DEFAULT_SUMMARY_RATIO,
        .preserve_recent = cfg->summary_preserve_recent};
    if (cfg->system_prompt && *cfg->system_prompt) {
        a->system = json_pack("[{s:s}]", "text", cfg->system_prompt);
        /* Serialised once for every model call (measured first: jansson
         * can drop a member when an allocation fails while dumping). */
        size_t n = a->system ? json_dumpb(a->system, NULL, 0, JSON_COMPACT)
                             : 0;
        a->system_json = n ? malloc(n + 1) : NULL;
        if (a->system_json &&
            json_dumpb(a->system, a->system_json, n, JSON_COMPACT) == n) {
            a->system_json[n] = '\0';
            a->system_json_len = n;
        } else {
            free(a->system_json);
            a->system_json = NULL;
        }
        if (!a->system_json) {
            json_decref(a->system);
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
    free(a->system_json);
    free(a);
}

void strands_agent_result_cleanup(strands_agent_result *r)
{
    free(r->text);
    json_decref(r->structured_output);
    json_decref(r->client_tool_calls);
    memset(r, 0, sizeof *r);
}

static void add_usage(strands_usage *sum, const strands_usage *u)
{
    sum->input_tokens += u->input_tokens;
    sum->output_tokens += u->output_tokens;
    sum->total_tokens += u->total_tokens;
    sum->cache_read_input_tokens += u->cache_read_input_tokens;
    sum->cache_write_input_tokens += u->cache_write_input_tokens;
}

static void emit_message(agent_run *run, const json_t *msg)
{
    strands_event ev = {.type = STRANDS_EVENT_MESSAGE_ADDED, .data = msg};
    agent_emit(run, &ev);
}

/* Typed model stream events -> agent events. */
static void on_stream(void *user, const strands_model_stream_event *me)
{
    static const strands_event_type map[] = {
        [STRANDS_MODEL_STREAM_TEXT] = STRANDS_EVENT_TEXT_DELTA,
        [STRANDS_MODEL_STREAM_TOOL_INPUT] = STRANDS_EVENT_TOOL_INPUT_DELTA,
        [STRANDS_MODEL_STREAM_REASONING_TEXT] = STRANDS_EVENT_REASONING_DELTA,
        [STRANDS_MODEL_STREAM_REASONING_SIGNATURE] =
            STRANDS_EVENT_REASONING_SIGNATURE_DELTA,
        [STRANDS_MODEL_STREAM_REASONING_REDACTED] =
            STRANDS_EVENT_REASONING_REDACTED_DELTA,
        [STRANDS_MODEL_STREAM_BLOCK_START] = STRANDS_EVENT_CONTENT_BLOCK_START,
        [STRANDS_MODEL_STREAM_BLOCK_STOP] = STRANDS_EVENT_CONTENT_BLOCK_STOP,
    };
    if ((size_t)me->type >= sizeof map / sizeof map[0] || !map[me->type])
        return;                     /* a type this agent does not know */
    strands_event ev = {.type = map[me->type],
                        .text = me->data,
                        .text_len = me->len,
                        .name = me->tool_name,
                        .tool_use_id = me->tool_use_id,
                        .block_index = me->index};
    agent_emit(user, &ev);
}

/* The history of one turn: what the model sees and what the log gains. */
typedef struct turn {
    strands_session_record rec; /* as loaded (rec.agent is updated) */
    cm_history hist;  /* sent to the model: role + content only, repaired,
                         kept in bounds by the conversation manager */
    cm_state cm;      /* the conversation manager's state */
    json_t *added;    /* the messages this turn appends to the log */
    json_t *prompt_msg; /* the turn's user message in `added` (borrowed) */
    agent_run *run;
    strands_agent_result *out;
} turn;

/* Log index the next message this turn adds will get. */
static size_t next_index(const turn *t)
{
    return t->rec.count + json_array_size(t->added);
}

/* Adds msg (borrowed) to both the working history and the turn's log
 * messages, and reports it. */
static strands_status turn_add(agent_run *run, turn *t, json_t *msg,
                               strands_error *err)
{
    if (cm_history_push(&t->hist, msg, next_index(t)) != STRANDS_OK)
        goto oom;
    if (json_array_append(t->added, msg)) {
        json_array_remove(t->hist.messages,
                          json_array_size(t->hist.messages) - 1);
        goto oom;
    }
    emit_message(run, msg);
    return STRANDS_OK;
oom:
    return strands_error_set(err, STRANDS_E_NOMEM, NULL, "OOM");
}

/* ---- conversation manager ---------------------------------------------- */

static int is_overflow(const strands_error *err)
{
    return err && !strcmp(err->code, STRANDS_ERROR_CONTEXT_OVERFLOW);
}

/* The summary call of the summarizing manager: the agent's model, no
 * tools, the summarizer's system prompt; its usage counts in the turn. */
static strands_status run_summary(void *user, const json_t *messages,
                                  json_t **reply_out, strands_error *err)
{
    turn *t = user;
    agent_run *run = t->run;
    *reply_out = NULL;
    json_t *system = json_pack("[{s:s}]", "text", CM_SUMMARY_PROMPT);
    if (!system) return strands_error_set(err, STRANDS_E_NOMEM, NULL, "OOM");
    strands_model_request req = {
        .messages = messages,
        .system = system,
        .max_tokens = run->agent->max_tokens,
        .request_id = run->inv->invocation_id,
        .cancelled = run->inv->cancelled,
    };
    strands_model_response resp;
    strands_status st = strands_model_converse(run->agent->model, &req,
                                               &resp, err);
    json_decref(system);
    if (st != STRANDS_OK) return st;
    add_usage(&t->out->usage, &resp.usage);
    *reply_out = resp.message;
    resp.message = NULL;
    strands_model_response_cleanup(&resp);
    if (!*reply_out)
        return strands_error_set(err, STRANDS_E_INVALID,
                                 STRANDS_ERROR_CONTEXT_OVERFLOW,
                                 "Cannot summarize: the model answered no "
                                 "message");
    return STRANDS_OK;
}

/* The manager keeps the history in its window (before each model call,
 * and after the invocation). */
static strands_status manage(turn *t, strands_error *err)
{
    cm_summarizer sum = {run_summary, t};
    t->hist.log_end = next_index(t);
    return t->cm.vtab->apply_management(&t->cm, &t->hist, &sum, err);
}

/* After a context overflow: cut the largest tool results when any can
 * be cut, else reduce as the manager says. A manager that cannot reduce
 * any more ends the invocation with ContextWindowOverflow. */
static strands_status reduce(turn *t, strands_error *err)
{
    int changed = 0;
    t->hist.log_end = next_index(t);
    if (cm_truncate_tool_results(&t->hist, &changed) != STRANDS_OK)
        return strands_error_set(err, STRANDS_E_NOMEM, NULL, "OOM");
    if (changed) return STRANDS_OK;
    cm_summarizer sum = {run_summary, t};
    strands_error why;
    strands_error_clear(&why);
    strands_status st = t->cm.vtab->reduce_context(&t->cm, &t->hist, &sum,
                                                   &why);
    if (st == STRANDS_OK) return STRANDS_OK;
    if (st == STRANDS_E_NOMEM || st == STRANDS_E_CANCELLED ||
        is_overflow(&why) == 0) {
        if (err) *err = why;
        return st;
    }
    return strands_error_set(err, STRANDS_E_INVALID,
                             STRANDS_ERROR_CONTEXT_OVERFLOW,
                             "the conversation exceeds the model's context "
                             "window and cannot be reduced further: %s",
                             why.message);
}

/* The structured-output step's view of the turn's history. */
static const json_t *so_messages(void *user)
{
    return ((turn *)user)->hist.messages;
}

static strands_status so_reduce(void *user, strands_error *err)
{
    return reduce(user, err);
}

/* One model call with this cycle's tool snapshot (run->tools); adds the
 * (sanitized) assistant message to the turn. Returns the stop reason in
 * *stop and the message's tool uses in *uses. */
static strands_status model_step(agent_run *run, turn *t,
                                 strands_agent_result *out,
                                 strands_stop_reason *stop, json_t **uses,
                                 strands_error *err)
{
    strands_agent *a = run->agent;
    strands_status st = manage(t, err);
    if (st != STRANDS_OK) return st;
    strands_model_request req = {
        .messages = t->hist.messages,
        .system = a->system,
        .tools = strands_tool_snapshot_count(run->tools)
                     ? strands_tool_snapshot_specs(run->tools)
                     : NULL,
        .max_tokens = a->max_tokens,
        .request_id = run->inv->invocation_id,
        .cancelled = run->inv->cancelled,
        .stream = run->inv->stream,
        .on_stream = on_stream,
        .stream_user = run,
        .system_json = a->system_json,
        .system_json_len = a->system_json_len,
    };
    if (req.tools)
        req.tools_json = strands_tool_snapshot_specs_json(
            run->tools, &req.tools_json_len);
    client_tools_offer offer = {0};
    st = client_tools_offer_build(run, &req, &offer, err);
    if (st != STRANDS_OK) return st;
    out->iterations++;
    strands_model_response resp;
    strands_event end;
    for (int reductions = 0;; reductions++) {
        char traceparent[64] = "";
        strands_event start = {.type = STRANDS_EVENT_MODEL_START,
                               .traceparent = traceparent,
                               .traceparent_size = sizeof traceparent};
        agent_emit(run, &start);
        req.traceparent = traceparent[0] ? traceparent : NULL;
        req.messages = t->hist.messages;
        int64_t t0 = strands_clock_mono_ms();
        t->cm.model_calls++;
        st = strands_model_converse(a->model, &req, &resp, err);
        end = (strands_event){.type = STRANDS_EVENT_MODEL_END,
                              .duration_ms = strands_clock_mono_ms() - t0};
        if (st == STRANDS_OK) break;
        end.error = err;
        agent_emit(run, &end);
        if (!is_overflow(err)) {
            client_tools_offer_clear(&offer);
            return st;
        }
        if (reductions == CM_MAX_REDUCTIONS) {
            client_tools_offer_clear(&offer);
            char why[STRANDS_ERROR_MESSAGE_MAX];
            snprintf(why, sizeof why, "%s", err->message);
            return strands_error_set(err, STRANDS_E_INVALID,
                                     STRANDS_ERROR_CONTEXT_OVERFLOW,
                                     "the conversation still exceeds the "
                                     "model's context window after %d "
                                     "reductions (%.600s)",
                                     CM_MAX_REDUCTIONS, why);
        }
        st = reduce(t, err);
        if (st != STRANDS_OK) break;
    }
    client_tools_offer_clear(&offer);
    if (st != STRANDS_OK) return st;
    add_usage(&out->usage, &resp.usage);
    *stop = resp.stop;
    /* A guardrail blocked the input: the session keeps the redaction text
     * instead of what the user sent (the model saw it only this once). */
    if (resp.redact_input && t->prompt_msg &&
        json_object_set_new(t->prompt_msg, "content",
                            json_pack("[{s:s}]", "text",
                                      resp.redact_input))) {
        strands_model_response_cleanup(&resp);
        return strands_error_set(err, STRANDS_E_NOMEM, NULL, "OOM");
    }
    int truncated = resp.stop == STRANDS_STOP_MAX_TOKENS;
    if (!resp.message ||
        conversation_sanitize_assistant(resp.message, truncated) !=
            STRANDS_OK) {
        strands_model_response_cleanup(&resp);
        strands_error_set(err, STRANDS_E_NOMEM, NULL, "OOM");
        end.error = err;
        agent_emit(run, &end);
        return STRANDS_E_NOMEM;
    }
    end.data = resp.message;
    end.usage = &resp.usage;
    end.stop_reason = strands_stop_reason_label(resp.stop);
    agent_emit(run, &end);
    *uses = truncated ? json_array() : conversation_tool_uses(resp.message);
    free(out->text);
    out->text = conversation_text(resp.message);
    if (!*uses || !out->text) {
        strands_model_response_cleanup(&resp);
        return strands_error_set(err, STRANDS_E_NOMEM, NULL, "OOM");
    }
    st = turn_add(run, t, resp.message, err);
    strands_model_response_cleanup(&resp);
    return st;
}

/* The session's claim, renewed when past half its lease. */
typedef struct claim_state {
    strands_session_claim claim;
    int64_t lease_len;      /* ms the lease ran when granted; 0 = forever */
} claim_state;

static strands_status keep_claim(strands_session_store *store,
                                 const strands_session_key *key,
                                 claim_state *cs,
                                 strands_error *err)
{
    if (!store || !cs->claim.expires_ms) return STRANDS_OK;
    int64_t now = strands_clock_mono_ms();
    if (cs->claim.expires_ms - now > cs->lease_len / 2) return STRANDS_OK;
    strands_status st = store->vtab->renew(store, key, &cs->claim, err);
    if (st == STRANDS_OK && cs->claim.expires_ms)
        cs->lease_len = cs->claim.expires_ms - now;
    return st;
}

/* The model/tool cycles. On success the history holds the whole turn. */
static strands_status run_cycles(agent_run *run, turn *t,
                                 const strands_session_key *key,
                                 claim_state *cs, strands_agent_result *out,
                                 strands_error *err)
{
    strands_session_store *store = run->agent->sessions;
    for (;;) {
        if (run->inv->cancelled && atomic_load(run->inv->cancelled))
            return strands_error_set(err, STRANDS_E_CANCELLED, "Cancelled",
                                     "invocation cancelled");
        strands_status st = keep_claim(store, key, cs, err);
        if (st != STRANDS_OK) return st;
        run->cycle++;
        strands_event cs_ev = {.type = STRANDS_EVENT_CYCLE_START};
        agent_emit(run, &cs_ev);
        /* One consistent tool list for this model call and its tools
         * (sources still starting, e.g. MCP servers, are waited for). */
        if (run->cycle == 1)
            strands_tool_registry_wait_started(run->agent->tools,
                                               run->inv->cancelled);
        run->tools = strands_tool_registry_snapshot(run->agent->tools);
        strands_stop_reason stop = STRANDS_STOP_END_TURN;
        json_t *uses = NULL;
        st = model_step(run, t, out, &stop, &uses, err);
        /* Calls to client tools end the invocation, pending. */
        if (st == STRANDS_OK) st = client_tools_take(run, uses, out, err);
        json_t *results = NULL;
        if (st == STRANDS_OK && json_array_size(uses) &&
            !(results = agent_run_tools(run, uses)))
            st = strands_error_set(err, STRANDS_E_NOMEM, NULL, "OOM");
        strands_tool_snapshot_release(run->tools);
        run->tools = NULL;
        if (st != STRANDS_OK) {
            json_decref(uses);
            return st;
        }
        /* A turn with toolUse blocks is a tool turn whatever the label. */
        if (json_array_size(uses) == 0) {
            json_decref(uses);
            out->stop_reason = out->client_tool_calls ? STRANDS_STOP_TOOL_USE
                                                      : stop;
            strands_event ce = {.type = STRANDS_EVENT_CYCLE_END};
            agent_emit(run, &ce);
            return STRANDS_OK;
        }
        json_decref(uses);
        st = turn_add(run, t, results, err);
        json_decref(results);
        if (st != STRANDS_OK) return st;
        strands_event ce = {.type = STRANDS_EVENT_CYCLE_END};
        agent_emit(run, &ce);
        if (out->client_tool_calls) {
            out->stop_reason = STRANDS_STOP_TOOL_USE;
            return STRANDS_OK;
        }
        if (out->iterations >= run->agent->max_iterations) {
            out->stop_reason = STRANDS_STOP_MAX_ITERATIONS;
            return STRANDS_OK;
        }
    }
}

/* The log index each working message starts at: a message whose
 * content is the very array of a log message comes from it; one that
 * restore rebuilt (joined, repaired) gets a lower bound (one past the
 * last known message). `vlog` is what restore read: the manager's
 * prepended messages (n_pre, not in the log), then log[base..].        */
static void set_origins(cm_history *h, const json_t *vlog, size_t n_pre,
                        size_t base)
{
    size_t cursor = 0, bound = base, n_v = json_array_size(vlog);
    for (size_t i = 0; i < json_array_size(h->messages); i++) {
        json_t *c = json_object_get(json_array_get(h->messages, i),
                                    "content");
        size_t j = cursor;
        while (j < n_v &&
               json_object_get(json_array_get(vlog, j), "content") != c)
            j++;
        if (j == n_v) {
            h->origin[i] = bound;
            continue;
        }
        cursor = j + 1;
        h->origin[i] = j < n_pre ? base : base + (j - n_pre);
        if (j >= n_pre) bound = h->origin[i] + 1;
    }
}

/* Loads the session (an empty one without a store), restores the
 * conversation manager's state from the agent object and builds the
 * working history from [its summary] + log[removed..], with each
 * message's log origin; a repair message for a toolUse a crash left
 * unanswered joins the turn's log messages. */
static strands_status turn_load(agent_run *run, const strands_session_key *key,
                                turn *t, strands_error *err)
{
    strands_session_store *store = run->agent->sessions;
    strands_status st;
    if (store) {
        st = store->vtab->load(store, key, &t->rec, err);
        if (st != STRANDS_OK) return st;
        if (!json_is_array(t->rec.messages) || !json_is_object(t->rec.agent))
            return strands_error_set(err, STRANDS_E_INTERNAL, NULL,
                                     "session store '%s' returned a "
                                     "malformed record for session %s",
                                     store->vtab->name, key->session_id);
    } else {
        t->rec.messages = json_array();
        t->rec.agent = json_object();
        if (!t->rec.messages || !t->rec.agent)
            return strands_error_set(err, STRANDS_E_NOMEM, NULL, "OOM");
    }
    /* The manager's state says where the history starts (a store may
     * return the messages it removed) and what goes before (a summary). */
    if (cm_state_init(&t->cm, &run->agent->cm,
                      json_object_get(t->rec.agent,
                                      "conversation_manager_state"),
                      t->rec.count) != STRANDS_OK)
        return strands_error_set(err, STRANDS_E_NOMEM, NULL, "OOM");
    size_t skip = 0, n_log = json_array_size(t->rec.messages);
    if (t->cm.removed > t->rec.first) skip = t->cm.removed - t->rec.first;
    if (skip > n_log) skip = n_log;
    json_t *repair = NULL, *working = NULL;
    json_t *vlog = cm_state_prepend(&t->cm);
    size_t n_pre = json_array_size(vlog);
    for (size_t i = skip; vlog && i < n_log; i++)
        if (json_array_append(vlog, json_array_get(t->rec.messages, i))) {
            json_decref(vlog);
            vlog = NULL;
        }
    t->added = json_array();
    st = STRANDS_OK;
    if (!vlog || !t->added ||
        conversation_restore(vlog, 0, &working, &repair) != STRANDS_OK ||
        (st = client_tools_resume(working, &repair, vlog, run->inv->prompt,
                                  err)) != STRANDS_OK ||
        cm_history_init(&t->hist, working, t->rec.first + skip) !=
            STRANDS_OK) {
        json_decref(vlog);
        json_decref(working);
        json_decref(repair);
        return st == STRANDS_E_INVALID
                   ? st
                   : strands_error_set(err, STRANDS_E_NOMEM, NULL, "OOM");
    }
    json_decref(working);
    set_origins(&t->hist, vlog, n_pre, t->rec.first + skip);
    json_decref(vlog);
    run->state = agent_state_new(json_object_get(t->rec.agent, "state"));
    if (!run->state || (repair && json_array_append(t->added, repair))) {
        json_decref(repair);
        return strands_error_set(err, STRANDS_E_NOMEM, NULL, "OOM");
    }
    if (repair) emit_message(run, repair);
    json_decref(repair);
    return STRANDS_OK;
}

/* Adds the prompt: a user message of its blocks to the log; in the
 * working history it joins a trailing user message (tool results left by
 * an iteration limit, or a repair) so roles keep alternating. */
static strands_status turn_prompt(agent_run *run, turn *t,
                                  const json_t *prompt, strands_error *err)
{
    json_t *content = json_array();
    json_t *msg = content && !json_array_extend(content, (json_t *)prompt)
                      ? json_pack("{s:s, s:O}", "role", "user", "content",
                                  content)
                      : NULL;
    json_decref(content);
    size_t n = json_array_size(t->hist.messages);
    strands_status st =
        msg ? cm_history_reserve(&t->hist, n + 1) : STRANDS_E_NOMEM;
    if (st == STRANDS_OK) st = conversation_add_prompt(t->hist.messages, prompt);
    /* A new message comes from the prompt's log index; one joined to a
     * trailing user message keeps that message's. */
    if (st == STRANDS_OK && json_array_size(t->hist.messages) > n)
        t->hist.origin[n] = next_index(t);
    if (st == STRANDS_OK && json_array_append(t->added, msg))
        st = STRANDS_E_NOMEM;
    if (st == STRANDS_OK) t->prompt_msg = msg; /* added holds a reference */
    if (st == STRANDS_OK) emit_message(run, msg);
    json_decref(msg);
    if (st != STRANDS_OK)
        return strands_error_set(err, st, NULL, "cannot add the prompt");
    return STRANDS_OK;
}

/* Appends the turn and the agent object (with the state the tools left)
 * after the messages the turn loaded from, under the claim. */
static strands_status turn_store(agent_run *run,
                                 const strands_session_key *key,
                                 claim_state *cs, turn *t, json_t *state,
                                 strands_error *err)
{
    strands_session_store *store = run->agent->sessions;
    if (state && json_object_set(t->rec.agent, "state", state))
        return strands_error_set(err, STRANDS_E_NOMEM, NULL, "OOM");
    if (json_object_set_new(t->rec.agent, "conversation_manager_state",
                            cm_state_save(&t->cm)))
        return strands_error_set(err, STRANDS_E_NOMEM, NULL, "OOM");
    strands_status st = keep_claim(store, key, cs, err);
    if (st != STRANDS_OK) return st;
    return store->vtab->append(store, key, &cs->claim, t->rec.count,
                               t->added, t->rec.agent, err);
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
    if (client_tools_check(inv->client_tools, err) != STRANDS_OK)
        return STRANDS_E_INVALID;
    if (inv->output_schema &&
        strands_output_schema_check(inv->output_schema, err) != STRANDS_OK)
        return err->status;
    strands_session_store *store = a->sessions;
    strands_session_key key = {.session_id = inv->session_id,
                               .actor_id = inv->actor_id,
                               .agent_id = NULL};
    claim_state cs = {{{0}, 0}, 0};
    if (store) {
        int64_t now = strands_clock_mono_ms();
        strands_status st = store->vtab->claim(store, &key, &cs.claim, err);
        if (st != STRANDS_OK) return st;
        cs.lease_len = cs.claim.expires_ms ? cs.claim.expires_ms - now : 0;
    }
    agent_run run = {.agent = a, .inv = inv};
    pthread_mutex_init(&run.event_lock, NULL);
    int64_t t0 = strands_clock_mono_ms();
    strands_event start = {.type = STRANDS_EVENT_INVOCATION_START,
                           .data = inv->prompt};
    agent_emit(&run, &start);

    turn t;
    memset(&t, 0, sizeof t);
    t.run = &run;
    t.out = out;
    strands_status st = turn_load(&run, &key, &t, err);
    if (st == STRANDS_OK) st = turn_prompt(&run, &t, inv->prompt, err);
    if (st == STRANDS_OK) st = run_cycles(&run, &t, &key, &cs, out, err);
    /* Structured output: forced answers on a copy of the history. */
    if (st == STRANDS_OK && inv->output_schema &&
        agent_so_applies(out->stop_reason)) {
        agent_so_history h = {so_messages, so_reduce, &t};
        st = agent_structured_output(&run, &h, out, err);
    }
    /* The window applies after the invocation too (the turn's messages
     * are still all appended to the log). */
    if (st == STRANDS_OK && t.cm.vtab->after_invocation)
        st = manage(&t, err);
    /* The state is final now: a tool call still running (abandoned) can
     * no longer change it. */
    json_t *state = NULL;
    if (agent_state_close(run.state, &state) != STRANDS_OK &&
        st == STRANDS_OK)
        st = strands_error_set(err, STRANDS_E_NOMEM, NULL, "OOM");
    if (st == STRANDS_OK && store)
        st = turn_store(&run, &key, &cs, &t, state, err);
    json_decref(state);
    agent_state_unref(run.state);
    run.state = NULL;
    cm_history_clear(&t.hist);
    cm_state_clear(&t.cm);
    json_decref(t.added);
    strands_session_record_clear(&t.rec);
    if (store) {
        /* A claim lost after a fenced append changes nothing: the turn is
         * stored. Before it, the invocation already failed.            */
        strands_error rerr;
        store->vtab->release(store, &key, &cs.claim, &rerr);
    }

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
