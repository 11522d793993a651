/* Tests for the span tree an invocation's events build
 * (src/telemetry/tracer.c), captured through the span hook: names, parent
 * links, attributes, session.id on every span, the traceparent written at
 * MODEL_START, tool spans matched by toolUseId when TOOL_ENDs arrive out
 * of order (and from another thread), failures, unsampled invocations,
 * and a NULL tracer.                                                     */
#include <pthread.h>
#include <time.h>

#include <jansson.h>

#include "telemetry/internal.h"
#include "test.h"

#define TID "4bf92f3577b34da6a3ce929d0e0e4736"
#define PARENT "00f067aa0ba902b7"

/* ---- capture ---------------------------------------------------------------- */

#define MAX_SPANS 16
#define MAX_ATTRS 32

typedef struct cap_attr {
    char key[64];
    int type;
    char s[128];
    int64_t i;
} cap_attr;

typedef struct cap_span {
    char name[64];
    char trace_id[33], span_id[17], parent_id[17];
    uint32_t flags;
    uint64_t start_ns, end_ns;
    int status;
    char status_msg[128];
    cap_attr attrs[MAX_ATTRS];
    int n_attrs;
} cap_span;

typedef struct capture {
    cap_span spans[MAX_SPANS];
    int n;
} capture;

static void hook(void *user, const tel_span *s)
{
    capture *c = user;
    if (c->n == MAX_SPANS) return;
    cap_span *o = &c->spans[c->n++];
    memset(o, 0, sizeof *o);
    snprintf(o->name, sizeof o->name, "%s", s->name);
    tel_hex(s->trace_id, 16, o->trace_id);
    tel_hex(s->span_id, 8, o->span_id);
    if (s->has_parent) tel_hex(s->parent_span_id, 8, o->parent_id);
    o->flags = s->flags;
    o->start_ns = s->start_ns;
    o->end_ns = s->end_ns;
    o->status = s->status_code;
    if (s->status_message)
        snprintf(o->status_msg, sizeof o->status_msg, "%s", s->status_message);
    for (size_t i = 0; i < s->n_attrs && o->n_attrs < MAX_ATTRS; i++) {
        const tel_attr *a = &s->attrs[i];
        cap_attr *ca = &o->attrs[o->n_attrs++];
        snprintf(ca->key, sizeof ca->key, "%s", a->key);
        ca->type = a->type;
        if (a->type == TEL_V_STRING) snprintf(ca->s, sizeof ca->s, "%s", a->v.s);
        if (a->type == TEL_V_STRING_ARRAY && a->v.arr.n)
            snprintf(ca->s, sizeof ca->s, "%s", a->v.arr.items[0]);
        if (a->type == TEL_V_INT) ca->i = a->v.i;
    }
}

static const cap_attr *attr(const cap_span *s, const char *key)
{
    for (int i = 0; i < s->n_attrs; i++)
        if (!strcmp(s->attrs[i].key, key)) return &s->attrs[i];
    return NULL;
}

static const char *str_attr(const cap_span *s, const char *key)
{
    const cap_attr *a = attr(s, key);
    return a && (a->type == TEL_V_STRING || a->type == TEL_V_STRING_ARRAY)
               ? a->s
               : NULL;
}

static int64_t int_attr(const cap_span *s, const char *key)
{
    const cap_attr *a = attr(s, key);
    return a && a->type == TEL_V_INT ? a->i : -12345;
}

static const cap_span *find(const capture *c, const char *name, int nth)
{
    for (int i = 0; i < c->n; i++)
        if (!strcmp(c->spans[i].name, name) && nth-- == 0)
            return &c->spans[i];
    return NULL;
}

static int index_of(const capture *c, const cap_span *s)
{
    return s ? (int)(s - c->spans) : -1;
}

/* ---- the tracer under test --------------------------------------------------- */

typedef struct fake_env {
    const char *vars[4];
} fake_env;

static const char *fake_getenv(void *user, const char *name)
{
    fake_env *e = user;
    size_t n = strlen(name);
    for (const char *const *v = e->vars; *v; v++)
        if (!strncmp(*v, name, n) && (*v)[n] == '=') return *v + n + 1;
    return NULL;
}

/* A tracer whose spans go to `c` (nothing is exported). */
static strands_tracer *tracer(capture *c, const char *sampler)
{
    fake_env env = {{"OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:9",
                     sampler, NULL}};
    tel_config cfg;
    int on = 0;
    strands_error err;
    if (tel_config_load(&cfg, &on, fake_getenv, &env, &err) != STRANDS_OK ||
        !on)
        return NULL;
    cfg.no_thread = 1;
    strands_tracer *t = tel_tracer_new(&cfg, &err);
    if (!t) {
        tel_config_cleanup(&cfg);
        return NULL;
    }
    memset(c, 0, sizeof *c);
    tel_tracer_set_span_hook(t, hook, c);
    return t;
}

static strands_event_sink sink;

static void emit(strands_event *ev)
{
    ev->session_id = "sess-1";
    sink.fn(sink.user, ev);
}

static void simple(strands_event_type type)
{
    strands_event ev = {.type = type};
    emit(&ev);
}

static void model_start(char *tp, size_t tpsz)
{
    strands_event ev = {.type = STRANDS_EVENT_MODEL_START, .traceparent = tp,
                        .traceparent_size = tpsz};
    emit(&ev);
}

static void model_end(const strands_usage *u, const char *stop,
                      const strands_error *error)
{
    strands_event ev = {.type = STRANDS_EVENT_MODEL_END, .usage = u,
                        .stop_reason = stop, .error = error,
                        .duration_ms = 30};
    emit(&ev);
}

static void text_delta(void)
{
    strands_event ev = {.type = STRANDS_EVENT_TEXT_DELTA, .text = "x",
                        .text_len = 1};
    emit(&ev);
}

static void tool_start(const char *id, const char *name)
{
    json_t *d = json_pack("{s:s, s:s, s:{}}", "toolUseId", id, "name", name,
                          "input");
    strands_event ev = {.type = STRANDS_EVENT_TOOL_START, .name = name,
                        .data = d};
    emit(&ev);
    json_decref(d);
}

static void tool_end(const char *id, const char *name, const char *status,
                     const char *text, const strands_error *error)
{
    json_t *d = json_pack("{s:s, s:s, s:[{s:s}]}", "toolUseId", id, "status",
                          status, "content", "text", text);
    strands_event ev = {.type = STRANDS_EVENT_TOOL_END, .name = name,
                        .data = d, .error = error};
    emit(&ev);
    json_decref(d);
}

static void invocation_end(const strands_usage *u, const strands_error *e)
{
    strands_event ev = {.type = STRANDS_EVENT_INVOCATION_END, .usage = u,
                        .stop_reason = e ? NULL : "EndTurn", .error = e};
    emit(&ev);
}

static void *tool_b_thread(void *arg)
{
    (void)arg;
    tool_end("tu-b", "current_time", "success", "noon", NULL);
    return NULL;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, ms % 1000 * 1000000L};
    nanosleep(&ts, NULL);
}

/* ---- the full tree --------------------------------------------------------------- */

static void test_span_tree(void)
{
    capture c;
    strands_tracer *t = tracer(&c, NULL);
    CHECK(t != NULL);
    if (!t) return;
    strands_invocation_trace *it = strands_trace_begin(
        t, "00-" TID "-" PARENT "-01", NULL, "sess-1", "my-agent", "model-x");
    sink = strands_trace_sink(it);
    CHECK(sink.fn != NULL);

    char tp1[64] = "", tp2[64] = "";
    strands_usage u1 = {10, 5, 15, 0, 0}, u2 = {20, 7, 27, 0, 0},
                  total = {30, 12, 42, 0, 0};
    simple(STRANDS_EVENT_INVOCATION_START);
    simple(STRANDS_EVENT_MESSAGE_ADDED);
    simple(STRANDS_EVENT_CYCLE_START);
    model_start(tp1, sizeof tp1);
    sleep_ms(25);
    text_delta();
    text_delta();
    model_end(&u1, "tool_use", NULL);
    tool_start("tu-a", "calculator");
    tool_start("tu-b", "current_time");
    tool_start("tu-c", "shell");
    /* Ends arrive c, a, b: out of order, b from another thread. */
    tool_end("tu-c", "shell", "success", "ok", NULL);
    strands_error terr;
    strands_error_set(&terr, STRANDS_E_TOOL, NULL, "division by zero");
    tool_end("tu-a", "calculator", "error", "Error: division by zero", &terr);
    pthread_t th;
    CHECK_INT(pthread_create(&th, NULL, tool_b_thread, NULL), 0);
    pthread_join(th, NULL);
    simple(STRANDS_EVENT_MESSAGE_ADDED);
    simple(STRANDS_EVENT_CYCLE_END);
    simple(STRANDS_EVENT_CYCLE_START);
    model_start(tp2, sizeof tp2);
    model_end(&u2, "end_turn", NULL);
    simple(STRANDS_EVENT_CYCLE_END);
    invocation_end(&total, NULL);
    char root_tp[64];
    CHECK_INT(strands_trace_traceparent(it, root_tp, sizeof root_tp), 55);
    strands_trace_end(it);

    CHECK_INT(c.n, 8);
    const cap_span *agent = find(&c, "invoke_agent my-agent", 0);
    const cap_span *cy1 = find(&c, "execute_event_loop_cycle", 0);
    const cap_span *cy2 = find(&c, "execute_event_loop_cycle", 1);
    const cap_span *chat1 = find(&c, "chat", 0);
    const cap_span *chat2 = find(&c, "chat", 1);
    const cap_span *ta = find(&c, "execute_tool calculator", 0);
    const cap_span *tb = find(&c, "execute_tool current_time", 0);
    const cap_span *tc = find(&c, "execute_tool shell", 0);
    CHECK(agent && cy1 && cy2 && chat1 && chat2 && ta && tb && tc);
    if (!(agent && cy1 && cy2 && chat1 && chat2 && ta && tb && tc)) goto out;

    /* One trace, the incoming one; every span carries session.id. */
    for (int i = 0; i < c.n; i++) {
        CHECK_STR(c.spans[i].trace_id, TID);
        CHECK_STR(str_attr(&c.spans[i], "session.id"), "sess-1");
        CHECK(str_attr(&c.spans[i], "gen_ai.event.start_time") != NULL);
        CHECK(str_attr(&c.spans[i], "gen_ai.event.end_time") != NULL);
        CHECK(c.spans[i].end_ns >= c.spans[i].start_ns);
        CHECK(c.spans[i].flags & STRANDS_TRACE_FLAG_SAMPLED);
    }
    /* Parent links. */
    CHECK_STR(agent->parent_id, PARENT);
    CHECK(agent->flags & TEL_SPAN_FLAG_IS_REMOTE);
    CHECK_STR(cy1->parent_id, agent->span_id);
    CHECK_STR(cy2->parent_id, agent->span_id);
    CHECK_STR(chat1->parent_id, cy1->span_id);
    CHECK_STR(chat2->parent_id, cy2->span_id);
    CHECK_STR(ta->parent_id, cy1->span_id);
    CHECK_STR(tb->parent_id, cy1->span_id);
    CHECK_STR(tc->parent_id, cy1->span_id);
    CHECK(!(cy1->flags & TEL_SPAN_FLAG_IS_REMOTE));
    /* Children lie inside their parents; cycles do not overlap. */
    CHECK(chat1->start_ns >= cy1->start_ns && chat1->end_ns <= cy1->end_ns);
    CHECK(cy1->start_ns >= agent->start_ns && cy2->end_ns <= agent->end_ns);
    CHECK(cy1->end_ns <= cy2->start_ns);
    /* Tool spans ended in the order their TOOL_ENDs came: c, a, b. */
    CHECK(index_of(&c, tc) < index_of(&c, ta));
    CHECK(index_of(&c, ta) < index_of(&c, tb));
    /* The root span is what strands_trace_traceparent reports. */
    char want[64];
    snprintf(want, sizeof want, "00-%s-%s-01", TID, agent->span_id);
    CHECK_STR(root_tp, want);

    /* invoke_agent */
    CHECK_STR(str_attr(agent, "gen_ai.operation.name"), "invoke_agent");
    CHECK_STR(str_attr(agent, "gen_ai.system"), "strands-agents");
    CHECK_STR(str_attr(agent, "gen_ai.agent.name"), "my-agent");
    CHECK_STR(str_attr(agent, "gen_ai.request.model"), "model-x");
    CHECK_INT(int_attr(agent, "gen_ai.usage.input_tokens"), 30);
    CHECK_INT(int_attr(agent, "gen_ai.usage.prompt_tokens"), 30);
    CHECK_INT(int_attr(agent, "gen_ai.usage.output_tokens"), 12);
    CHECK_INT(int_attr(agent, "gen_ai.usage.completion_tokens"), 12);
    CHECK_INT(int_attr(agent, "gen_ai.usage.total_tokens"), 42);
    CHECK_INT(agent->status, TEL_STATUS_OK);
    /* cycles */
    const char *id1 = str_attr(cy1, "event_loop.cycle_id");
    const char *id2 = str_attr(cy2, "event_loop.cycle_id");
    CHECK(id1 && strlen(id1) == 36);
    CHECK(id2 && id1 && strcmp(id1, id2) != 0);
    CHECK(str_attr(cy1, "event_loop.parent_cycle_id") == NULL);
    CHECK_STR(str_attr(cy2, "event_loop.parent_cycle_id"), id1);
    CHECK_INT(cy1->status, TEL_STATUS_OK);
    /* chat */
    CHECK_STR(str_attr(chat1, "gen_ai.operation.name"), "chat");
    CHECK_STR(str_attr(chat1, "gen_ai.system"), "strands-agents");
    CHECK_STR(str_attr(chat1, "gen_ai.request.model"), "model-x");
    CHECK_INT(int_attr(chat1, "gen_ai.usage.input_tokens"), 10);
    CHECK_INT(int_attr(chat1, "gen_ai.usage.output_tokens"), 5);
    CHECK_INT(int_attr(chat1, "gen_ai.usage.total_tokens"), 15);
    CHECK_INT(int_attr(chat1, "gen_ai.server.request.duration"), 30);
    int64_t ttft = int_attr(chat1, "gen_ai.server.time_to_first_token");
    CHECK(ttft >= 25 && ttft < 5000);
    CHECK_STR(str_attr(chat1, "gen_ai.response.finish_reasons"), "tool_use");
    CHECK_INT(attr(chat1, "gen_ai.response.finish_reasons")->type,
              TEL_V_STRING_ARRAY);
    CHECK_STR(str_attr(chat2, "gen_ai.response.finish_reasons"), "end_turn");
    /* No text streamed in the second call: no time to first token. */
    CHECK(attr(chat2, "gen_ai.server.time_to_first_token") == NULL);
    CHECK_INT(int_attr(chat2, "gen_ai.usage.total_tokens"), 27);
    /* The model calls carried their chat span's context. */
    snprintf(want, sizeof want, "00-%s-%s-01", TID, chat1->span_id);
    CHECK_STR(tp1, want);
    snprintf(want, sizeof want, "00-%s-%s-01", TID, chat2->span_id);
    CHECK_STR(tp2, want);
    /* tools */
    CHECK_STR(str_attr(ta, "gen_ai.operation.name"), "execute_tool");
    CHECK_STR(str_attr(ta, "gen_ai.tool.name"), "calculator");
    CHECK_STR(str_attr(ta, "gen_ai.tool.call.id"), "tu-a");
    CHECK_STR(str_attr(ta, "gen_ai.tool.status"), "error");
    CHECK_INT(ta->status, TEL_STATUS_ERROR);
    CHECK_STR(ta->status_msg, "division by zero");
    CHECK_STR(str_attr(tb, "gen_ai.tool.call.id"), "tu-b");
    CHECK_STR(str_attr(tb, "gen_ai.tool.status"), "success");
    CHECK_INT(tb->status, TEL_STATUS_OK);
    CHECK_STR(str_attr(tc, "gen_ai.tool.call.id"), "tu-c");
    CHECK_INT(tc->status, TEL_STATUS_OK);
out:
    strands_tracer_free(t);
}

/* A failed model call: chat, cycle and agent spans all end in ERROR,
 * though no CYCLE_END came; a new trace starts without a parent. */
static void test_failure(void)
{
    capture c;
    strands_tracer *t = tracer(&c, NULL);
    if (!t) return;
    strands_invocation_trace *it =
        strands_trace_begin(t, NULL, NULL, "sess-1", NULL, NULL);
    sink = strands_trace_sink(it);
    simple(STRANDS_EVENT_INVOCATION_START);
    simple(STRANDS_EVENT_CYCLE_START);
    char tp[64];
    model_start(tp, sizeof tp);
    strands_error err;
    strands_error_set(&err, STRANDS_E_UPSTREAM, "ThrottlingException",
                      "Rate exceeded");
    model_end(NULL, NULL, &err);
    invocation_end(&(strands_usage){0, 0, 0, 0, 0}, &err);
    strands_trace_end(it);
    CHECK_INT(c.n, 3);
    const cap_span *agent = find(&c, "invoke_agent Strands Agents", 0);
    const cap_span *cy = find(&c, "execute_event_loop_cycle", 0);
    const cap_span *chat = find(&c, "chat", 0);
    CHECK(agent && cy && chat);
    if (agent && cy && chat) {
        CHECK_STR(agent->parent_id, "");   /* a new root */
        CHECK(agent->flags & TEL_SPAN_FLAG_HAS_IS_REMOTE);
        CHECK(!(agent->flags & TEL_SPAN_FLAG_IS_REMOTE));
        CHECK(str_attr(agent, "gen_ai.request.model") == NULL);
        CHECK_INT(chat->status, TEL_STATUS_ERROR);
        CHECK_STR(chat->status_msg, "Rate exceeded");
        CHECK_INT(cy->status, TEL_STATUS_ERROR);
        CHECK_STR(cy->status_msg, "Rate exceeded");
        CHECK_INT(agent->status, TEL_STATUS_ERROR);
        CHECK_STR(agent->status_msg, "Rate exceeded");
        CHECK_STR(agent->trace_id, chat->trace_id);
        CHECK_INT(int_attr(agent, "gen_ai.usage.total_tokens"), 0);
    }
    strands_tracer_free(t);
}

/* No INVOCATION_END (the caller gave up): end() closes what is open. */
static void test_end_without_invocation_end(void)
{
    capture c;
    strands_tracer *t = tracer(&c, NULL);
    if (!t) return;
    strands_invocation_trace *it =
        strands_trace_begin(t, NULL, NULL, "sess-1", "a", "m");
    sink = strands_trace_sink(it);
    simple(STRANDS_EVENT_INVOCATION_START);
    simple(STRANDS_EVENT_CYCLE_START);
    tool_start("tu-1", "slow");
    tool_end("tu-unknown", "other", "success", "x", NULL); /* ignored */
    strands_trace_end(it);
    CHECK_INT(c.n, 3);
    for (int i = 0; i < c.n; i++) {
        CHECK_INT(c.spans[i].status, TEL_STATUS_ERROR);
        CHECK(strstr(c.spans[i].status_msg, "INVOCATION_END") != NULL);
    }
    CHECK(find(&c, "execute_tool slow", 0) != NULL);
    /* An invocation that emitted nothing records nothing. */
    c.n = 0;
    it = strands_trace_begin(t, NULL, NULL, "sess-1", "a", "m");
    strands_trace_end(it);
    CHECK_INT(c.n, 0);
    strands_tracer_free(t);
}

/* Unsampled (upstream said no, parentbased default): nothing recorded,
 * the model call still gets the trace id, a new span id and flags 00. */
static void test_unsampled_propagates(void)
{
    capture c;
    strands_tracer *t = tracer(&c, NULL);
    if (!t) return;
    strands_invocation_trace *it = strands_trace_begin(
        t, "00-" TID "-" PARENT "-00", NULL, "sess-1", "a", "m");
    sink = strands_trace_sink(it);
    simple(STRANDS_EVENT_INVOCATION_START);
    simple(STRANDS_EVENT_CYCLE_START);
    char tp[64] = "";
    model_start(tp, sizeof tp);
    model_end(&(strands_usage){1, 1, 2, 0, 0}, "end_turn", NULL);
    simple(STRANDS_EVENT_CYCLE_END);
    invocation_end(&(strands_usage){1, 1, 2, 0, 0}, NULL);
    char root[64];
    strands_trace_traceparent(it, root, sizeof root);
    strands_trace_end(it);
    CHECK_INT(c.n, 0);
    strands_trace_ctx ctx;
    CHECK_INT(strands_traceparent_parse(tp, &ctx), STRANDS_OK);
    CHECK(!strncmp(tp, "00-" TID "-", 36));
    CHECK(strcmp(tp + 36, PARENT "-00") != 0);
    CHECK_INT(ctx.flags, 0);
    CHECK(!strncmp(root, "00-" TID "-", 36));
    CHECK(!strcmp(root + 52, "-00"));
    strands_tracer_free(t);

    /* always_off: the same for a new trace. */
    t = tracer(&c, "OTEL_TRACES_SAMPLER=always_off");
    if (!t) return;
    it = strands_trace_begin(t, NULL, NULL, "s", NULL, NULL);
    sink = strands_trace_sink(it);
    simple(STRANDS_EVENT_INVOCATION_START);
    model_start(tp, sizeof tp);
    invocation_end(NULL, NULL);
    strands_trace_end(it);
    CHECK_INT(c.n, 0);
    CHECK_INT(strands_traceparent_parse(tp, &ctx), STRANDS_OK);
    CHECK_INT(ctx.flags, 0);
    strands_tracer_free(t);
}

/* X-Ray context: joined when it says Sampled=1; with always_on even an
 * unsampled parent's trace is recorded. */
static void test_xray_parent(void)
{
    capture c;
    strands_tracer *t = tracer(&c, "OTEL_TRACES_SAMPLER=always_on");
    if (!t) return;
    strands_invocation_trace *it = strands_trace_begin(
        t, NULL,
        "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;"
        "Sampled=0",
        "sess-1", "a", "m");
    sink = strands_trace_sink(it);
    simple(STRANDS_EVENT_INVOCATION_START);
    invocation_end(NULL, NULL);
    strands_trace_end(it);
    CHECK_INT(c.n, 1);
    if (c.n == 1) {
        CHECK_STR(c.spans[0].trace_id, "5759e988bd862e3fe1be46a994272793");
        CHECK_STR(c.spans[0].parent_id, "53995c3f42cd8ad8");
    }
    strands_tracer_free(t);
}

/* MODEL_START buffers that are too small (or absent) are left alone. */
static void test_traceparent_buffer(void)
{
    capture c;
    strands_tracer *t = tracer(&c, NULL);
    if (!t) return;
    strands_invocation_trace *it =
        strands_trace_begin(t, NULL, NULL, "s", NULL, NULL);
    sink = strands_trace_sink(it);
    simple(STRANDS_EVENT_INVOCATION_START);
    char small[56 + 8];
    memset(small, 'z', sizeof small);
    model_start(small, 55);                /* one short of the NUL */
    CHECK_INT(small[0], 0);
    CHECK_INT(small[1], 'z');              /* nothing else written */
    model_end(NULL, "end_turn", NULL);
    model_start(NULL, 0);                  /* no buffer at all */
    model_end(NULL, "end_turn", NULL);
    model_start(small, 56);                /* exactly enough */
    CHECK_INT(strlen(small), 55);
    CHECK_INT(small[56], 'z');
    model_end(NULL, "end_turn", NULL);
    invocation_end(NULL, NULL);
    strands_trace_end(it);
    CHECK_INT(c.n, 4); /* three chats (parent: the agent) and the agent */
    const cap_span *agent = find(&c, "invoke_agent Strands Agents", 0);
    for (int i = 0; agent && i < 3; i++) {
        const cap_span *chat = find(&c, "chat", i);
        CHECK(chat && !strcmp(chat->parent_id, agent->span_id));
    }
    strands_tracer_free(t);
}

static void test_null_tracer(void)
{
    strands_invocation_trace *it =
        strands_trace_begin(NULL, "00-" TID "-" PARENT "-01", NULL, "s", NULL,
                            NULL);
    CHECK(it == NULL);
    strands_event_sink s = strands_trace_sink(it);
    CHECK(s.fn == NULL && s.user == NULL);
    char tp[64] = "x";
    CHECK_INT(strands_trace_traceparent(NULL, tp, sizeof tp), 0);
    CHECK_STR(tp, "");
    strands_trace_end(NULL);
    strands_tracer_stats st = {1, 1, 1};
    strands_tracer_get_stats(NULL, &st);
    CHECK_INT(st.exported + st.dropped + st.failed, 0);
}

int main(void)
{
    RUN(test_span_tree);
    RUN(test_failure);
    RUN(test_end_without_invocation_end);
    RUN(test_unsampled_propagates);
    RUN(test_xray_parent);
    RUN(test_traceparent_buffer);
    RUN(test_null_tracer);
    return test_report();
}
