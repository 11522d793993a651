/* The tracer and one invocation's trace: turns the agent's events into
 * Strands' spans (invoke_agent > execute_event_loop_cycle > chat /
 * execute_tool), with session.id on every span, and hands each finished
 * span to the exporter. Tool spans are matched by toolUseId, so tools that
 * finish in any order close the right span.                              */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strands/clock.h"
#include "strands/util.h"
#include "telemetry/internal.h"

#define DEFAULT_AGENT_NAME "Strands Agents"
#define GEN_AI_SYSTEM "strands-agents"

struct strands_tracer {
    tel_exporter *exp;
    const tel_config *cfg;         /* owned by exp */
    tel_span_hook *hook;
    void *hook_user;
};

typedef struct tool_slot {
    char *id;                      /* toolUseId */
    tel_span *span;
} tool_slot;

struct strands_invocation_trace {
    strands_tracer *t;
    pthread_mutex_t lock;
    int sampled;
    int has_parent;                /* remote parent from the headers */
    uint8_t trace_id[16];
    uint8_t parent_id[8];          /* the remote parent span */
    uint8_t root_id[8];            /* our invoke_agent span */
    char *session_id, *agent_name, *model_id;
    tel_span *agent;               /* open spans; NULL when not open */
    tel_span *cycle;
    tel_span *chat;
    int64_t chat_t0_ms;            /* monotonic, at MODEL_START */
    int chat_first_token;
    tool_slot *tools;
    size_t n_tools, cap_tools;
    char cycle_uuid[37];           /* of the open / last cycle */
    int agent_done;                /* the agent span ended */
};

/* ---- The tracer ---------------------------------------------------------- */

strands_tracer *tel_tracer_new(tel_config *cfg, strands_error *err)
{
    strands_tracer *t = calloc(1, sizeof *t);
    if (!t) {
        strands_error_set(err, STRANDS_E_NOMEM, NULL, "OOM");
        return NULL;
    }
    t->exp = tel_exporter_new(cfg, err);
    if (!t->exp) {
        free(t);
        return NULL;
    }
    t->cfg = tel_exporter_config(t->exp);
    return t;
}

void tel_tracer_set_span_hook(strands_tracer *t, tel_span_hook *fn,
                              void *user)
{
    t->hook = fn;
    t->hook_user = user;
}

strands_tracer *strands_tracer_from_env(strands_getenv_fn *getenv_fn,
                                        void *user, strands_error *err)
{
    tel_config cfg;
    int enabled = 0;
    if (tel_config_load(&cfg, &enabled, getenv_fn, user, err) != STRANDS_OK ||
        !enabled)
        return NULL;
    strands_tracer *t = tel_tracer_new(&cfg, err);
    if (!t) tel_config_cleanup(&cfg);
    return t;
}

void strands_tracer_shutdown(strands_tracer *t, long timeout_ms)
{
    if (t) tel_exporter_shutdown(t->exp, timeout_ms);
}

void strands_tracer_free(strands_tracer *t)
{
    if (!t) return;
    tel_exporter_free(t->exp);
    free(t);
}

void strands_tracer_get_stats(const strands_tracer *t,
                              strands_tracer_stats *out)
{
    memset(out, 0, sizeof *out);
    if (t) tel_exporter_stats(t->exp, out);
}

const char *strands_tracer_endpoint(const strands_tracer *t)
{
    return t && t->cfg->endpoint ? t->cfg->endpoint : "";
}

/* ---- Span helpers ---------------------------------------------------------- */

static void set_time_attr(tel_span *s, const char *key, uint64_t ns)
{
    char iso[32];
    strands_clock_iso8601((int64_t)(ns / 1000000000u),
                          (int)(ns / 1000000u % 1000u), iso, sizeof iso);
    tel_span_set_str(s, key, iso);
}

/* A new span of this trace, started now, with session.id set. */
static tel_span *start_span(strands_invocation_trace *it, const char *name,
                            const uint8_t *span_id, const uint8_t *parent,
                            uint32_t span_flags)
{
    tel_span *s = tel_span_new(name);
    if (!s) return NULL;
    memcpy(s->trace_id, it->trace_id, 16);
    if (span_id)
        memcpy(s->span_id, span_id, 8);
    else
        tel_random_id(s->span_id, 8);
    if (parent) {
        memcpy(s->parent_span_id, parent, 8);
        s->has_parent = 1;
    }
    s->flags = STRANDS_TRACE_FLAG_SAMPLED | span_flags;
    s->start_ns = tel_now_ns();
    if (it->session_id) tel_span_set_str(s, "session.id", it->session_id);
    set_time_attr(s, "gen_ai.event.start_time", s->start_ns);
    return s;
}

/* A child of the open cycle span, else of the agent span. */
static tel_span *start_child(strands_invocation_trace *it, const char *name)
{
    const uint8_t *parent = it->cycle ? it->cycle->span_id : it->root_id;
    return start_span(it, name, NULL, parent, TEL_SPAN_FLAG_HAS_IS_REMOTE);
}

static void set_common(tel_span *s, const char *operation)
{
    tel_span_set_str(s, "gen_ai.operation.name", operation);
    tel_span_set_str(s, "gen_ai.system", GEN_AI_SYSTEM);
}

static void set_usage(tel_span *s, const strands_usage *u)
{
    /* Strands writes both the current and the older semconv names. */
    tel_span_set_int(s, "gen_ai.usage.prompt_tokens", u->input_tokens);
    tel_span_set_int(s, "gen_ai.usage.input_tokens", u->input_tokens);
    tel_span_set_int(s, "gen_ai.usage.completion_tokens", u->output_tokens);
    tel_span_set_int(s, "gen_ai.usage.output_tokens", u->output_tokens);
    tel_span_set_int(s, "gen_ai.usage.total_tokens", u->total_tokens);
    /* Prompt caching, as Strands reports it (only when the model did). */
    if (u->cache_read_input_tokens)
        tel_span_set_int(s, "gen_ai.usage.cache_read_input_tokens",
                         u->cache_read_input_tokens);
    if (u->cache_write_input_tokens)
        tel_span_set_int(s, "gen_ai.usage.cache_write_input_tokens",
                         u->cache_write_input_tokens);
}

/* Ends s now with the given status and passes it on (takes s). */
static void finish(strands_invocation_trace *it, tel_span *s, int code,
                   const char *message)
{
    if (!s) return;
    s->end_ns = tel_now_ns();
    if (s->end_ns < s->start_ns) s->end_ns = s->start_ns;
    set_time_attr(s, "gen_ai.event.end_time", s->end_ns);
    tel_span_set_status(s, code, code == TEL_STATUS_ERROR ? message : NULL);
    strands_tracer *t = it->t;
    if (t->hook) {
        t->hook(t->hook_user, s);
        tel_span_free(s);
    } else {
        tel_exporter_submit(t->exp, s);
    }
}

/* ---- Event handlers (it->lock held, sampled invocations only) ------------ */

static void agent_start(strands_invocation_trace *it)
{
    if (it->agent || it->agent_done) return;
    char name[300];
    snprintf(name, sizeof name, "invoke_agent %s", it->agent_name);
    uint32_t flags = TEL_SPAN_FLAG_HAS_IS_REMOTE |
                     (it->has_parent ? TEL_SPAN_FLAG_IS_REMOTE : 0);
    tel_span *s = start_span(it, name, it->root_id,
                             it->has_parent ? it->parent_id : NULL, flags);
    if (!s) return;
    set_common(s, "invoke_agent");
    tel_span_set_str(s, "gen_ai.agent.name", it->agent_name);
    if (it->model_id) tel_span_set_str(s, "gen_ai.request.model", it->model_id);
    it->agent = s;
}

/* Closes every open tool span and the chat span (ERROR, message). */
static void close_open_children(strands_invocation_trace *it,
                                const char *message)
{
    for (size_t i = 0; i < it->n_tools; i++) {
        finish(it, it->tools[i].span, TEL_STATUS_ERROR, message);
        free(it->tools[i].id);
    }
    it->n_tools = 0;
    finish(it, it->chat, TEL_STATUS_ERROR, message);
    it->chat = NULL;
}

static void cycle_end(strands_invocation_trace *it, const char *error)
{
    close_open_children(it, error ? error : "span was still open when its "
                                            "cycle ended");
    finish(it, it->cycle, error ? TEL_STATUS_ERROR : TEL_STATUS_OK, error);
    it->cycle = NULL;
}

static void cycle_start(strands_invocation_trace *it)
{
    if (it->cycle) cycle_end(it, NULL);
    tel_span *s = start_span(it, "execute_event_loop_cycle", NULL,
                             it->root_id, TEL_SPAN_FLAG_HAS_IS_REMOTE);
    if (!s) return;
    char parent_uuid[37];
    memcpy(parent_uuid, it->cycle_uuid, sizeof parent_uuid);
    strands_uuid4(it->cycle_uuid);
    tel_span_set_str(s, "event_loop.cycle_id", it->cycle_uuid);
    if (parent_uuid[0])
        tel_span_set_str(s, "event_loop.parent_cycle_id", parent_uuid);
    it->cycle = s;
}

static void chat_start(strands_invocation_trace *it, const strands_event *ev)
{
    if (it->chat) {
        finish(it, it->chat, TEL_STATUS_ERROR, "model call did not end");
        it->chat = NULL;
    }
    tel_span *s = start_child(it, "chat");
    if (s) {
        set_common(s, "chat");
        if (it->model_id)
            tel_span_set_str(s, "gen_ai.request.model", it->model_id);
    }
    it->chat = s;
    it->chat_t0_ms = strands_clock_mono_ms();
    it->chat_first_token = 0;
    (void)ev;
}

static void chat_first_token(strands_invocation_trace *it)
{
    if (!it->chat || it->chat_first_token) return;
    it->chat_first_token = 1;
    tel_span_set_int(it->chat, "gen_ai.server.time_to_first_token",
                     strands_clock_mono_ms() - it->chat_t0_ms);
}

static void chat_end(strands_invocation_trace *it, const strands_event *ev)
{
    tel_span *s = it->chat;
    if (!s) return;
    it->chat = NULL;
    if (ev->usage) set_usage(s, ev->usage);
    tel_span_set_int(s, "gen_ai.server.request.duration", ev->duration_ms);
    if (ev->stop_reason) {
        const char *reasons[1] = {ev->stop_reason};
        tel_span_set_str_array(s, "gen_ai.response.finish_reasons", reasons,
                               1);
    }
    if (ev->error)
        finish(it, s, TEL_STATUS_ERROR, ev->error->message);
    else
        finish(it, s, TEL_STATUS_OK, NULL);
}

static void tool_start(strands_invocation_trace *it, const strands_event *ev)
{
    const char *id =
        json_string_value(json_object_get(ev->data, "toolUseId"));
    const char *name = ev->name;
    if (!name) name = json_string_value(json_object_get(ev->data, "name"));
    if (!name) name = "";
    if (!id) id = "";
    if (it->n_tools == it->cap_tools) {
        size_t cap = it->cap_tools ? it->cap_tools * 2 : 4;
        tool_slot *nt = realloc(it->tools, cap * sizeof *nt);
        if (!nt) return;
        it->tools = nt;
        it->cap_tools = cap;
    }
    char span_name[300];
    snprintf(span_name, sizeof span_name, "execute_tool %.200s", name);
    char *id_copy = strdup(id);
    tel_span *s = id_copy ? start_child(it, span_name) : NULL;
    if (!s) {
        free(id_copy);
        return;
    }
    set_common(s, "execute_tool");
    tel_span_set_str(s, "gen_ai.tool.name", name);
    tel_span_set_str(s, "gen_ai.tool.call.id", id);
    it->tools[it->n_tools].id = id_copy;
    it->tools[it->n_tools].span = s;
    it->n_tools++;
}

/* The first text block of a toolResult's content, or NULL. */
static const char *result_text(const json_t *result)
{
    size_t i;
    json_t *block;
    json_array_foreach(json_object_get(result, "content"), i, block) {
        const char *t = json_string_value(json_object_get(block, "text"));
        if (t) return t;
    }
    return NULL;
}

static void tool_end(strands_invocation_trace *it, const strands_event *ev)
{
    const char *id =
        json_string_value(json_object_get(ev->data, "toolUseId"));
    if (!id) id = "";
    size_t i = 0;
    while (i < it->n_tools && strcmp(it->tools[i].id, id)) i++;
    if (i == it->n_tools) return; /* never started (or OOM then) */
    tel_span *s = it->tools[i].span;
    free(it->tools[i].id);
    it->tools[i] = it->tools[--it->n_tools];
    const char *status =
        json_string_value(json_object_get(ev->data, "status"));
    if (!status) status = ev->error ? "error" : "success";
    tel_span_set_str(s, "gen_ai.tool.status", status);
    if (ev->error || strcmp(status, "success")) {
        const char *msg = ev->error ? ev->error->message : result_text(ev->data);
        finish(it, s, TEL_STATUS_ERROR, msg ? msg : "tool failed");
    } else {
        finish(it, s, TEL_STATUS_OK, NULL);
    }
}

static void invocation_end(strands_invocation_trace *it,
                           const strands_event *ev)
{
    const char *error = ev->error ? ev->error->message : NULL;
    if (ev->error && !error[0]) error = strands_strerror(ev->error->status);
    if (it->cycle || it->chat || it->n_tools)
        cycle_end(it, error ? error : "span was still open when the "
                                      "invocation ended");
    if (!it->agent) agent_start(it); /* no INVOCATION_START seen */
    tel_span *s = it->agent;
    if (!s) return;
    it->agent = NULL;
    it->agent_done = 1;
    if (ev->usage) set_usage(s, ev->usage);
    finish(it, s, error ? TEL_STATUS_ERROR : TEL_STATUS_OK, error);
}

static void on_event(void *user, const strands_event *ev)
{
    strands_invocation_trace *it = user;
    pthread_mutex_lock(&it->lock);
    if (ev->type == STRANDS_EVENT_MODEL_START && ev->traceparent &&
        ev->traceparent_size) {
        /* The model call's context goes out with the Bedrock request,
         * sampled or not. */
        strands_trace_ctx c = {.flags = it->sampled
                                            ? STRANDS_TRACE_FLAG_SAMPLED
                                            : 0};
        memcpy(c.trace_id, it->trace_id, 16);
        if (it->sampled && !it->agent_done) {
            chat_start(it, ev);
            if (it->chat) memcpy(c.span_id, it->chat->span_id, 8);
            else tel_random_id(c.span_id, 8);
        } else {
            tel_random_id(c.span_id, 8);
        }
        strands_traceparent_format(&c, ev->traceparent, ev->traceparent_size);
        pthread_mutex_unlock(&it->lock);
        return;
    }
    if (it->sampled && !it->agent_done) {
        switch (ev->type) {
        case STRANDS_EVENT_INVOCATION_START: agent_start(it); break;
        case STRANDS_EVENT_CYCLE_START: cycle_start(it); break;
        case STRANDS_EVENT_MODEL_START: chat_start(it, ev); break;
        case STRANDS_EVENT_TEXT_DELTA: chat_first_token(it); break;
        case STRANDS_EVENT_MODEL_END: chat_end(it, ev); break;
        case STRANDS_EVENT_TOOL_START: tool_start(it, ev); break;
        case STRANDS_EVENT_TOOL_END: tool_end(it, ev); break;
        case STRANDS_EVENT_CYCLE_END: cycle_end(it, NULL); break;
        case STRANDS_EVENT_INVOCATION_END: invocation_end(it, ev); break;
        case STRANDS_EVENT_MESSAGE_ADDED: break;
        default: break;            /* stream deltas other than text */
        }
    }
    pthread_mutex_unlock(&it->lock);
}

/* ---- One invocation ---------------------------------------------------------- */

static char *dup_or_null(const char *s, int *oom)
{
    if (!s) return NULL;
    char *d = strdup(s);
    if (!d) *oom = 1;
    return d;
}

strands_invocation_trace *strands_trace_begin(strands_tracer *t,
                                              const char *traceparent_header,
                                              const char *xray_header,
                                              const char *session_id,
                                              const char *agent_name,
                                              const char *model_id)
{
    if (!t) return NULL;
    strands_invocation_trace *it = calloc(1, sizeof *it);
    if (!it) return NULL;
    int oom = 0;
    it->t = t;
    it->session_id = dup_or_null(session_id, &oom);
    it->agent_name = dup_or_null(agent_name ? agent_name : DEFAULT_AGENT_NAME,
                                 &oom);
    it->model_id = dup_or_null(model_id, &oom);
    if (oom) {
        free(it->session_id);
        free(it->agent_name);
        free(it->model_id);
        free(it);
        return NULL;
    }
    strands_trace_ctx parent;
    it->has_parent =
        strands_trace_ctx_extract(traceparent_header, xray_header, &parent);
    if (it->has_parent) {
        memcpy(it->trace_id, parent.trace_id, 16);
        memcpy(it->parent_id, parent.span_id, 8);
    } else {
        tel_random_id(it->trace_id, 16);
    }
    tel_random_id(it->root_id, 8);
    it->sampled = tel_sampler_should_sample(
        &t->cfg->sampler, it->has_parent ? &parent : NULL, it->trace_id);
    pthread_mutex_init(&it->lock, NULL);
    return it;
}

strands_event_sink strands_trace_sink(strands_invocation_trace *it)
{
    strands_event_sink s = {it ? on_event : NULL, it};
    return s;
}

size_t strands_trace_traceparent(const strands_invocation_trace *it,
                                 char *out, size_t outsz)
{
    if (!it) {
        if (outsz) out[0] = '\0';
        return 0;
    }
    strands_trace_ctx c = {.flags = it->sampled ? STRANDS_TRACE_FLAG_SAMPLED
                                                : 0};
    memcpy(c.trace_id, it->trace_id, 16);
    memcpy(c.span_id, it->root_id, 8);
    return strands_traceparent_format(&c, out, outsz);
}

void strands_trace_end(strands_invocation_trace *it)
{
    if (!it) return;
    pthread_mutex_lock(&it->lock);
    if (it->agent || it->cycle || it->chat || it->n_tools) {
        const char *msg = "invocation ended without an INVOCATION_END event";
        if (it->cycle || it->chat || it->n_tools) cycle_end(it, msg);
        finish(it, it->agent, TEL_STATUS_ERROR, msg);
        it->agent = NULL;
    }
    pthread_mutex_unlock(&it->lock);
    pthread_mutex_destroy(&it->lock);
    free(it->tools);
    free(it->session_id);
    free(it->agent_name);
    free(it->model_id);
    free(it);
}
