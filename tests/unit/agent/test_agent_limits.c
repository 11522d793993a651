/* The agent's bounds and its use of the new interfaces, with a scripted
 * fake model: TOOL_CONCURRENCY (tools of one turn run in a pool of at most
 * N threads, results in toolUse order), TOOL_RESULT_MAX_BYTES (truncation
 * with a readable marker), the tool deadline, typed stream events, the
 * session claim's lease renewal and loss, and the history cap.           */
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "test.h"

#include "agent/conversation.h"
#include "agent/internal.h"
#include "strands/strands.h"

/* A session key for id (a compound literal: valid in the enclosing
 * block). */
#define KEY(id) (&(strands_session_key){.session_id = (id)})

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* ---- scripted fake model (the response JSON: {"stop","content"}) -------- */

typedef struct fake_model {
    strands_model base;
    char **script;
    size_t n;
    atomic_size_t next;
} fake_model;

static strands_stop_reason fake_stop(const char *label)
{
    return !strcmp(label, "tool_use") ? STRANDS_STOP_TOOL_USE
                                      : STRANDS_STOP_END_TURN;
}

static void stream_ev(const strands_model_request *req,
                      strands_model_stream_type type, int64_t index,
                      const char *data, const char *id, const char *name)
{
    strands_model_stream_event ev = {type, index, data,
                                     data ? strlen(data) : 0, id, name};
    req->on_stream(req->stream_user, &ev);
}

static strands_status fake_converse(strands_model *self,
                                    const strands_model_request *req,
                                    strands_model_response *out,
                                    strands_error *err)
{
    fake_model *m = (fake_model *)self;
    memset(out, 0, sizeof *out);
    size_t i = atomic_fetch_add(&m->next, 1);
    if (i >= m->n)
        return strands_error_set(err, STRANDS_E_INTERNAL, NULL,
                                 "script exhausted");
    json_t *step = json_loads(m->script[i], 0, NULL);
    json_t *content = json_object_get(step, "content");
    if (req->stream && req->on_stream) {
        size_t k;
        json_t *b;
        json_array_foreach(content, k, b) {
            json_t *tu = json_object_get(b, "toolUse");
            json_t *rc = json_object_get(b, "reasoningContent");
            if (json_object_get(b, "text")) {
                stream_ev(req, STRANDS_MODEL_STREAM_TEXT, (int64_t)k,
                          json_string_value(json_object_get(b, "text")), NULL,
                          NULL);
            } else if (tu) {
                const char *id =
                    json_string_value(json_object_get(tu, "toolUseId"));
                const char *nm = json_string_value(json_object_get(tu, "name"));
                char *in = json_dumps(json_object_get(tu, "input"),
                                      JSON_COMPACT);
                size_t half = strlen(in) / 2;
                char first[256];
                snprintf(first, sizeof first, "%.*s", (int)half, in);
                stream_ev(req, STRANDS_MODEL_STREAM_BLOCK_START, (int64_t)k,
                          NULL, id, nm);
                stream_ev(req, STRANDS_MODEL_STREAM_TOOL_INPUT, (int64_t)k,
                          first, id, nm);
                stream_ev(req, STRANDS_MODEL_STREAM_TOOL_INPUT, (int64_t)k,
                          in + half, id, nm);
                stream_ev(req, STRANDS_MODEL_STREAM_BLOCK_STOP, (int64_t)k,
                          NULL, id, nm);
                free(in);
            } else if (rc) {
                json_t *rt = json_object_get(rc, "reasoningText");
                stream_ev(req, STRANDS_MODEL_STREAM_REASONING_TEXT,
                          (int64_t)k,
                          json_string_value(json_object_get(rt, "text")),
                          NULL, NULL);
                stream_ev(req, STRANDS_MODEL_STREAM_REASONING_SIGNATURE,
                          (int64_t)k,
                          json_string_value(json_object_get(rt, "signature")),
                          NULL, NULL);
            }
        }
    }
    out->message = json_pack("{s:s, s:O}", "role", "assistant", "content",
                             content);
    const char *stop = json_string_value(json_object_get(step, "stop"));
    out->stop = fake_stop(stop);
    snprintf(out->stop_reason, sizeof out->stop_reason, "%s", stop);
    out->usage = (strands_usage){1, 1, 2, 0, 0};
    json_decref(step);
    return STRANDS_OK;
}

static void fake_destroy(strands_model *self)
{
    fake_model *m = (fake_model *)self;
    for (size_t i = 0; i < m->n; i++) free(m->script[i]);
    free(m->script);
}

static const strands_model_vtab fake_vtab = {STRANDS_MODEL_VTAB_VERSION,
                                             "fake", fake_converse,
                                             fake_destroy};

static void fake_init(fake_model *m)
{
    memset(m, 0, sizeof *m);
    m->base.vtab = &fake_vtab;
    m->script = calloc(64, sizeof *m->script);
}

static void fake_add(fake_model *m, const char *json)
{
    m->script[m->n++] = strdup(json);
}

/* A tool-use turn calling `tool` n times with input {"i":k,"ms":ms}. */
static void fake_add_tools(fake_model *m, const char *tool, int n, int ms)
{
    json_t *content = json_array();
    for (int k = 0; k < n; k++) {
        char id[16];
        snprintf(id, sizeof id, "t%d", k);
        json_array_append_new(content,
                              json_pack("{s:{s:s, s:s, s:{s:i, s:i}}}",
                                        "toolUse", "toolUseId", id, "name",
                                        tool, "input", "i", k, "ms", ms));
    }
    json_t *step = json_pack("{s:s, s:o}", "stop", "tool_use", "content",
                             content);
    m->script[m->n++] = json_dumps(step, JSON_COMPACT);
    json_decref(step);
}

static const char *END = "{\"stop\":\"end_turn\",\"content\":"
                         "[{\"text\":\"done\"}]}";

/* ---- tools ---------------------------------------------------------------- */

static atomic_int running, peak;
/* the peak check_pool expects: calls wait for one another up to it */
static atomic_int gather;

/* Sleeps input.ms, counts concurrent runs, answers "<i>". */
static strands_status counted_run(void *user, const json_t *input,
                                  const strands_tool_context *ctx,
                                  json_t **content_out, strands_error *err)
{
    (void)user; (void)ctx; (void)err;
    int now = atomic_fetch_add(&running, 1) + 1;
    int prev = atomic_load(&peak);
    while (now > prev && !atomic_compare_exchange_weak(&peak, &prev, now)) {}
    /* Until the pool's expected peak has been seen (at most 5 s), the
     * calls in flight wait for one another, so a loaded machine that is
     * slow to start threads still shows the peak the pool allows. */
    for (int i = 0; i < 5000 && atomic_load(&peak) < atomic_load(&gather);
         i++)
        sleep_ms(1);
    sleep_ms((long)json_integer_value(json_object_get(input, "ms")));
    atomic_fetch_sub(&running, 1);
    char text[16];
    snprintf(text, sizeof text, "%d",
             (int)json_integer_value(json_object_get(input, "i")));
    *content_out = json_pack("[{s:s}]", "text", text);
    return STRANDS_OK;
}

/* Answers input.i bytes: 'x' (or a 2-byte 'é' when user is non-NULL). */
static strands_status big_run(void *user, const json_t *input,
                              const strands_tool_context *ctx,
                              json_t **content_out, strands_error *err)
{
    (void)ctx; (void)err;
    size_t n = (size_t)json_integer_value(json_object_get(input, "i"));
    char *s = malloc(n + 1);
    for (size_t k = 0; k < n; k++)
        s[k] = user ? (k % 2 ? (char)0xA9 : (char)0xC3) : 'x';
    s[n] = '\0';
    *content_out = json_pack("[{s:s}]", "text", s);
    free(s);
    return STRANDS_OK;
}

static atomic_llong seen_deadline;

static strands_status deadline_run(void *user, const json_t *input,
                                   const strands_tool_context *ctx,
                                   json_t **content_out, strands_error *err)
{
    (void)user; (void)input; (void)err;
    atomic_store(&seen_deadline, ctx->deadline_ms);
    *content_out = json_pack("[{s:s}]", "text", "ok");
    return STRANDS_OK;
}

typedef struct probe {
    strands_session_store *store;
    strands_status claim_status;   /* what the probe's claim got */
    int take_over;                 /* keep the claim it wins */
    strands_session_claim won;
} probe;

/* Sleeps input.ms, then (for input.i == 1) tries to claim session "s" as
 * another invocation would.                                             */
static strands_status probe_run(void *user, const json_t *input,
                                const strands_tool_context *ctx,
                                json_t **content_out, strands_error *err)
{
    probe *p = user;
    (void)ctx; (void)err;
    sleep_ms((long)json_integer_value(json_object_get(input, "ms")));
    if (json_integer_value(json_object_get(input, "i")) == 1) {
        strands_session_claim c;
        p->claim_status = p->store->vtab->claim(p->store, KEY("s"), &c, NULL);
        if (p->claim_status == STRANDS_OK && !p->take_over)
            p->store->vtab->release(p->store, KEY("s"), &c, NULL);
        if (p->claim_status == STRANDS_OK) p->won = c;
    }
    *content_out = json_pack("[{s:s}]", "text", "probed");
    return STRANDS_OK;
}

/* ---- environment ---------------------------------------------------------- */

typedef struct env {
    fake_model model;
    strands_tool_registry *tools;
    strands_session_store *store;
    strands_agent *agent;
    probe probe;
} env;

static void env_init(env *e, strands_agent_config cfg,
                     const strands_memory_store_config *scfg)
{
    fake_init(&e->model);
    e->tools = strands_tool_registry_new();
    strands_memory_store_config def = {.max_sessions = 16};
    e->store = strands_memory_store_new_with(scfg ? scfg : &def);
    e->probe = (probe){.store = e->store};
    strands_tool_def defs[] = {
        {"counted", "c", NULL, counted_run, NULL, NULL},
        {"big", "b", NULL, big_run, NULL, NULL},
        {"big_utf8", "b", NULL, big_run, (void *)1, NULL},
        {"deadline", "d", NULL, deadline_run, NULL, NULL},
        {"probe", "p", NULL, probe_run, &e->probe, NULL},
    };
    for (size_t i = 0; i < sizeof defs / sizeof defs[0]; i++)
        strands_tool_registry_add(e->tools, &defs[i], NULL);
    cfg.model = &e->model.base;
    cfg.tools = e->tools;
    cfg.sessions = e->store;
    if (!cfg.max_tokens) cfg.max_tokens = 100;
    if (!cfg.max_iterations) cfg.max_iterations = 10;
    e->agent = strands_agent_new(&cfg, NULL);
}

static void env_cleanup(env *e)
{
    strands_agent_free(e->agent);
    strands_session_store_free(e->store);
    strands_tool_registry_free(e->tools);
    fake_destroy(&e->model.base);
}

static strands_status invoke(env *e, const strands_event_sink *sink,
                             int stream, strands_agent_result *r,
                             strands_error *err)
{
    json_t *prompt = json_pack("[{s:s}]", "text", "go");
    strands_invocation inv = {.session_id = "s",
                              .invocation_id = "i",
                              .prompt = prompt,
                              .sinks = sink,
                              .n_sinks = sink ? 1 : 0,
                              .stream = stream};
    strands_status st = strands_agent_invoke(e->agent, &inv, r, err);
    json_decref(prompt);
    return st;
}

static json_t *stored(env *e)
{
    strands_session_record rec;
    if (e->store->vtab->load(e->store, KEY("s"), &rec, NULL) != STRANDS_OK)
        return NULL;
    json_t *msgs = rec.messages;
    json_decref(rec.agent);
    return msgs;
}

/* The toolResult content of result k in message idx. */
static json_t *result_content(json_t *msgs, size_t idx, size_t k)
{
    return json_object_get(
        json_object_get(
            json_array_get(json_object_get(json_array_get(msgs, idx),
                                           "content"),
                           k),
            "toolResult"),
        "content");
}

/* ---- tests ------------------------------------------------------------------ */

static void check_pool(int concurrency, int uses, int want_peak)
{
    env e;
    env_init(&e, (strands_agent_config){.tool_concurrency = concurrency},
             NULL);
    fake_add_tools(&e.model, "counted", uses, 40);
    fake_add(&e.model, END);
    atomic_store(&peak, 0);
    atomic_store(&gather, want_peak);
    strands_agent_result r;
    strands_error err;
    CHECK_INT(invoke(&e, NULL, 0, &r, &err), STRANDS_OK);
    atomic_store(&gather, 0);
    CHECK_INT(atomic_load(&peak), want_peak);
    json_t *msgs = stored(&e);
    CHECK(conversation_validate(msgs, NULL) == STRANDS_OK);
    /* Results in toolUse order whatever order the threads finished. */
    json_t *results = json_object_get(json_array_get(msgs, 2), "content");
    CHECK_INT(json_array_size(results), uses);
    for (int k = 0; k < uses; k++) {
        json_t *tr = json_object_get(json_array_get(results, (size_t)k),
                                     "toolResult");
        char id[16], text[16];
        snprintf(id, sizeof id, "t%d", k);
        snprintf(text, sizeof text, "%d", k);
        CHECK_STR(json_string_value(json_object_get(tr, "toolUseId")), id);
        CHECK_STR(json_string_value(json_object_get(
                      json_array_get(json_object_get(tr, "content"), 0),
                      "text")),
                  text);
    }
    json_decref(msgs);
    strands_agent_result_cleanup(&r);
    env_cleanup(&e);
}

static void test_tool_concurrency_cap(void)
{
    check_pool(3, 20, 3);      /* TOOL_CONCURRENCY=3: never more than 3 */
    check_pool(0, 12, 8);      /* the default is 8 */
    check_pool(1, 4, 1);       /* 1: one after the other */
    check_pool(16, 5, 5);      /* fewer uses than slots: all at once */
    strands_agent_config bad = {.tool_concurrency = 100000};
    fake_model m;
    fake_init(&m);
    bad.model = &m.base;
    bad.max_tokens = bad.max_iterations = 1;
    strands_error err;
    CHECK(strands_agent_new(&bad, &err) == NULL);
    CHECK_INT(err.status, STRANDS_E_INVALID);
    fake_destroy(&m.base);
}

static void test_tool_result_truncated(void)
{
    env e;
    env_init(&e, (strands_agent_config){.tool_result_max_bytes = 1000}, NULL);
    json_t *step = json_pack(
        "{s:s, s:[{s:{s:s, s:s, s:{s:i}}}, {s:{s:s, s:s, s:{s:i}}},"
        " {s:{s:s, s:s, s:{s:i}}}]}",
        "stop", "tool_use", "content", "toolUse", "toolUseId", "a", "name",
        "big", "input", "i", 5000, "toolUse", "toolUseId", "b", "name",
        "big_utf8", "input", "i", 5000, "toolUse", "toolUseId", "c", "name",
        "big", "input", "i", 100);
    char *text = json_dumps(step, JSON_COMPACT);
    fake_add(&e.model, text);
    free(text);
    json_decref(step);
    fake_add(&e.model, END);
    strands_agent_result r;
    strands_error err;
    CHECK_INT(invoke(&e, NULL, 0, &r, &err), STRANDS_OK);
    json_t *msgs = stored(&e);
    CHECK(conversation_validate(msgs, NULL) == STRANDS_OK);
    json_t *a = result_content(msgs, 2, 0);
    CHECK_INT(json_array_size(a), 1);
    const char *ta = json_string_value(json_object_get(json_array_get(a, 0),
                                                       "text"));
    CHECK(ta != NULL);
    if (ta) {
        CHECK(strlen(ta) <= 1000);
        CHECK(strlen(ta) > 900);
        CHECK(strstr(ta, "xxxx... [truncated: result was 5013 bytes, limit "
                         "1000 (TOOL_RESULT_MAX_BYTES)]") != NULL);
    }
    /* Multi-byte text is cut at a character boundary (valid UTF-8). */
    json_t *b = result_content(msgs, 2, 1);
    const char *tb = json_string_value(json_object_get(json_array_get(b, 0),
                                                       "text"));
    CHECK(tb && strstr(tb, "\xc3\xa9... [truncated: result was") != NULL);
    /* A small result is untouched. */
    json_t *c = result_content(msgs, 2, 2);
    CHECK_INT(json_string_length(json_object_get(json_array_get(c, 0),
                                                 "text")),
              100);
    json_decref(msgs);
    strands_agent_result_cleanup(&r);
    env_cleanup(&e);
}

static void test_truncate_helper_edges(void)
{
    /* Non-text blocks count as their JSON; the marker alone when the
     * limit is smaller than the marker. */
    json_t *content = json_pack("[{s:{s:s}}]", "json", "k",
                                "vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv"
                                "vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv"
                                "vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv");
    json_t *same = agent_truncate_result(content, 10000);
    CHECK(same == content);
    json_decref(same);
    json_t *cut = agent_truncate_result(content, 110);
    const char *t = json_string_value(json_object_get(json_array_get(cut, 0),
                                                      "text"));
    CHECK(t && !strncmp(t, "{\"json\":{\"k\":\"vvv", 16));
    CHECK(t && strlen(t) <= 110);
    json_decref(cut);
    cut = agent_truncate_result(content, 5);
    t = json_string_value(json_object_get(json_array_get(cut, 0), "text"));
    CHECK(t && !strncmp(t, "... [truncated", 14));
    json_decref(cut);
    json_decref(content);
}

static void test_tool_deadline(void)
{
    env e;
    env_init(&e, (strands_agent_config){.tool_timeout_ms = 5000}, NULL);
    fake_add_tools(&e.model, "deadline", 1, 0);
    fake_add(&e.model, END);
    strands_agent_result r;
    strands_error err;
    int64_t t0 = strands_clock_mono_ms();
    CHECK_INT(invoke(&e, NULL, 0, &r, &err), STRANDS_OK);
    int64_t t1 = strands_clock_mono_ms();
    long long d = atomic_load(&seen_deadline);
    CHECK(d >= t0 + 5000 && d <= t1 + 5000);
    strands_agent_result_cleanup(&r);
    env_cleanup(&e);
    /* No timeout configured: no deadline. */
    env_init(&e, (strands_agent_config){0}, NULL);
    fake_add_tools(&e.model, "deadline", 1, 0);
    fake_add(&e.model, END);
    atomic_store(&seen_deadline, -1);
    CHECK_INT(invoke(&e, NULL, 0, &r, &err), STRANDS_OK);
    CHECK_INT(atomic_load(&seen_deadline), 0);
    strands_agent_result_cleanup(&r);
    env_cleanup(&e);
}

typedef struct ev_rec {
    json_t *events;
} ev_rec;

static void record(void *user, const strands_event *ev)
{
    ev_rec *r = user;
    if (ev->type < STRANDS_EVENT_TEXT_DELTA) return;
    if (ev->type > STRANDS_EVENT_TEXT_DELTA &&
        ev->type < STRANDS_EVENT_TOOL_INPUT_DELTA)
        return;
    json_t *e = json_pack("{s:i, s:I}", "type", (int)ev->type, "index",
                          (json_int_t)ev->block_index);
    if (ev->text)
        json_object_set_new(e, "text", json_stringn(ev->text, ev->text_len));
    if (ev->tool_use_id)
        json_object_set_new(e, "id", json_string(ev->tool_use_id));
    if (ev->name) json_object_set_new(e, "name", json_string(ev->name));
    json_array_append_new(r->events, e);
}

static void test_typed_stream_events(void)
{
    env e;
    env_init(&e, (strands_agent_config){0}, NULL);
    fake_add(&e.model,
             "{\"stop\":\"tool_use\",\"content\":["
             "{\"reasoningContent\":{\"reasoningText\":{\"text\":\"hmm\","
             "\"signature\":\"sig\"}}},"
             "{\"text\":\"Let me see.\"},"
             "{\"toolUse\":{\"toolUseId\":\"t7\",\"name\":\"deadline\","
             "\"input\":{\"q\":\"abcdef\"}}}]}");
    fake_add(&e.model, END);
    ev_rec rec = {json_array()};
    strands_event_sink sink = {record, &rec};
    strands_agent_result r;
    strands_error err;
    CHECK_INT(invoke(&e, &sink, 1, &r, &err), STRANDS_OK);
    char want[1024];
    snprintf(want, sizeof want,
             "[{\"type\":%d,\"index\":0,\"text\":\"hmm\"},"
             "{\"type\":%d,\"index\":0,\"text\":\"sig\"},"
             "{\"type\":%d,\"index\":1,\"text\":\"Let me see.\"},"
             "{\"type\":%d,\"index\":2,\"id\":\"t7\",\"name\":\"deadline\"},"
             "{\"type\":%d,\"index\":2,\"text\":\"{\\\"q\\\":\\\"a\","
             "\"id\":\"t7\",\"name\":\"deadline\"},"
             "{\"type\":%d,\"index\":2,\"text\":\"bcdef\\\"}\","
             "\"id\":\"t7\",\"name\":\"deadline\"},"
             "{\"type\":%d,\"index\":2,\"id\":\"t7\",\"name\":\"deadline\"},"
             "{\"type\":%d,\"index\":0,\"text\":\"done\"}]",
             STRANDS_EVENT_REASONING_DELTA,
             STRANDS_EVENT_REASONING_SIGNATURE_DELTA,
             STRANDS_EVENT_TEXT_DELTA, STRANDS_EVENT_CONTENT_BLOCK_START,
             STRANDS_EVENT_TOOL_INPUT_DELTA, STRANDS_EVENT_TOOL_INPUT_DELTA,
             STRANDS_EVENT_CONTENT_BLOCK_STOP, STRANDS_EVENT_TEXT_DELTA);
    json_t *w = json_loads(want, 0, NULL);
    CHECK(w != NULL);
    if (!json_equal(w, rec.events)) {
        char *got = json_dumps(rec.events, JSON_COMPACT);
        FAIL_AT("events differ:\n got:  %s\n want: %s", got, want);
        free(got);
    }
    json_decref(w);
    json_decref(rec.events);
    strands_agent_result_cleanup(&r);
    env_cleanup(&e);
}

/* A lease shorter than the invocation: the agent renews it at each cycle,
 * so another claim made late in the invocation is still refused.        */
static void test_claim_renewed_during_invocation(void)
{
    strands_memory_store_config scfg = {.max_sessions = 8, .lease_ms = 400};
    env e;
    env_init(&e, (strands_agent_config){0}, &scfg);
    fake_add_tools(&e.model, "probe", 1, 250);   /* i = 0: no probe */
    fake_add_tools(&e.model, "probe", 1, 250);
    fake_add_tools(&e.model, "probe", 2, 100);   /* i = 1 probes at ~600 ms */
    fake_add(&e.model, END);
    strands_agent_result r;
    strands_error err;
    CHECK_INT(invoke(&e, NULL, 0, &r, &err), STRANDS_OK);
    CHECK_INT(e.probe.claim_status, STRANDS_E_BUSY);
    CHECK_INT(r.iterations, 4);
    strands_agent_result_cleanup(&r);
    /* Released at the end. */
    strands_session_claim c;
    CHECK_INT(e.store->vtab->claim(e.store, KEY("s"), &c, NULL), STRANDS_OK);
    CHECK_INT(e.store->vtab->release(e.store, KEY("s"), &c, NULL), STRANDS_OK);
    env_cleanup(&e);
}

/* When the lease lapses mid-invocation and another invocation takes the
 * session, the agent stops with SessionClaimLost and stores nothing.    */
static void test_claim_lost(void)
{
    strands_memory_store_config scfg = {.max_sessions = 8, .lease_ms = 100};
    env e;
    env_init(&e, (strands_agent_config){0}, &scfg);
    e.probe.take_over = 1;
    fake_add_tools(&e.model, "probe", 2, 250);   /* i = 1 takes it over */
    fake_add(&e.model, END);
    strands_agent_result r;
    strands_error err;
    CHECK_INT(invoke(&e, NULL, 0, &r, &err), STRANDS_E_BUSY);
    CHECK_STR(err.code, "SessionClaimLost");
    CHECK_INT(e.probe.claim_status, STRANDS_OK);
    json_t *msgs = stored(&e);
    CHECK_INT(json_array_size(msgs), 0);
    json_decref(msgs);
    /* The taker still holds it: the agent's release did not free it. */
    strands_session_claim c;
    CHECK_INT(e.store->vtab->claim(e.store, KEY("s"), &c, NULL), STRANDS_E_BUSY);
    CHECK_INT(e.store->vtab->release(e.store, KEY("s"), &e.probe.won, NULL),
              STRANDS_OK);
    env_cleanup(&e);
}

/* A history over SESSION_MAX_HISTORY_BYTES (320: the first turn and its
 * agent object with the conversation-manager state fit, the second turn
 * does not): a clear error, and the stored
 * history stays as it was.                                              */
static void test_history_cap_through_agent(void)
{
    strands_memory_store_config scfg = {.max_sessions = 8,
                                        .max_history_bytes = 320};
    env e;
    env_init(&e, (strands_agent_config){0}, &scfg);
    fake_add(&e.model, "{\"stop\":\"end_turn\",\"content\":[{\"text\":"
                       "\"short\"}]}");
    fake_add(&e.model, "{\"stop\":\"end_turn\",\"content\":[{\"text\":"
                       "\"a much longer answer that pushes the stored "
                       "conversation over its two hundred byte cap\"}]}");
    strands_agent_result r;
    strands_error err;
    CHECK_INT(invoke(&e, NULL, 0, &r, &err), STRANDS_OK);
    strands_agent_result_cleanup(&r);
    CHECK_INT(invoke(&e, NULL, 0, &r, &err), STRANDS_E_TOO_LARGE);
    CHECK_STR(err.code, "SessionHistoryTooLarge");
    CHECK(strstr(err.message, "SESSION_MAX_HISTORY_BYTES") != NULL);
    json_t *msgs = stored(&e);
    CHECK_INT(json_array_size(msgs), 2);
    CHECK(conversation_validate(msgs, NULL) == STRANDS_OK);
    json_decref(msgs);
    env_cleanup(&e);
}

int main(void)
{
    RUN(test_tool_concurrency_cap);
    RUN(test_tool_result_truncated);
    RUN(test_truncate_helper_edges);
    RUN(test_tool_deadline);
    RUN(test_typed_stream_events);
    RUN(test_claim_renewed_during_invocation);
    RUN(test_claim_lost);
    RUN(test_history_cap_through_agent);
    return test_report();
}
