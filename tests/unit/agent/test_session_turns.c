/* The agent on session interface v3: a turn is appended at the end after
 * the loaded count (nothing for a failed turn, SessionConflict when
 * another writer appended meanwhile), the agent object is kept and carries
 * the agent state C tools read and write (strands_tool_state_*), fields a
 * model must not see stay in the log only, removed_message_count is
 * honoured, a history a crash left inconsistent is repaired on restore,
 * a store that is down fails the invocation cleanly.                     */
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "fake_model.h"
#include "json_check.h"
#include "test.h"

#include "strands/strands.h"

#define KEY(id) (&(strands_session_key){.session_id = (id)})

/* ---- tools ------------------------------------------------------------- */

/* Reads state "count" (0 when absent), stores count + 1, answers it. */
static strands_status counter_run(void *user, const json_t *input,
                                  const strands_tool_context *ctx,
                                  json_t **content_out, strands_error *err)
{
    (void)user; (void)input;
    json_t *v = strands_tool_state_get(ctx, "count");
    json_int_t n = json_integer_value(v) + 1;
    json_decref(v);
    json_t *nv = json_integer(n);
    strands_status st = strands_tool_state_set(ctx, "count", nv, err);
    json_decref(nv);
    if (st != STRANDS_OK) return st;
    *content_out = json_pack("[{s:I}]", "json", (json_int_t)n);
    return STRANDS_OK;
}

/* Sets state[input.k] = input.v (tools of one turn run concurrently). */
static strands_status setter_run(void *user, const json_t *input,
                                 const strands_tool_context *ctx,
                                 json_t **content_out, strands_error *err)
{
    (void)user;
    const char *k = json_string_value(json_object_get(input, "k"));
    for (int i = 0; i < 50; i++) {       /* many writes, to race for real */
        json_t *v = json_pack("{s:O, s:i}", "v", json_object_get(input, "v"),
                              "i", i);
        strands_status st = strands_tool_state_set(ctx, k, v, err);
        json_decref(v);
        if (st != STRANDS_OK) return st;
        json_t *back = strands_tool_state_get(ctx, k);
        json_decref(back);
    }
    *content_out = json_pack("[{s:s}]", "text", "set");
    return STRANDS_OK;
}

/* Ignores its deadline, then writes the state: by then the invocation
 * has ended and the write must be refused (no use after free, no race
 * with the append). */
static atomic_int late_status = -1, late_done;

static strands_status late_run(void *user, const json_t *input,
                               const strands_tool_context *ctx,
                               json_t **content_out, strands_error *err)
{
    (void)user; (void)input;
    struct timespec ts = {0, 400 * 1000000L};
    nanosleep(&ts, NULL);
    json_t *v = json_true();
    strands_error e;
    atomic_store(&late_status, (int)strands_tool_state_set(ctx, "late", v,
                                                           &e));
    json_decref(v);
    json_t *got = strands_tool_state_get(ctx, "late");   /* still readable */
    json_decref(got);
    atomic_store(&late_done, 1);
    (void)err;
    *content_out = json_pack("[{s:s}]", "text", "too late");
    return STRANDS_OK;
}

/* Another writer appends to the session while the turn runs. */
static strands_status interloper_run(void *user, const json_t *input,
                                     const strands_tool_context *ctx,
                                     json_t **content_out, strands_error *err)
{
    (void)input;
    strands_session_store *store = user;
    strands_session_record rec;
    strands_status st = store->vtab->load(store, KEY(ctx->session_id), &rec,
                                          err);
    if (st != STRANDS_OK) return st;
    json_t *msgs = J("[{\"role\":\"user\",\"content\":[{\"text\":\"other\"}]}]");
    st = store->vtab->append(store, KEY(ctx->session_id), NULL, rec.count,
                             msgs, rec.agent, err);
    json_decref(msgs);
    strands_session_record_clear(&rec);
    if (st != STRANDS_OK) return st;
    *content_out = json_pack("[{s:s}]", "text", "done");
    return STRANDS_OK;
}

/* ---- a store wrapper that can be "down" ------------------------------- */

typedef struct flaky_store {
    strands_session_store base;
    strands_session_store *inner;
    int load_down, append_down;
} flaky_store;

static strands_status down(strands_error *err)
{
    return strands_error_set(err, STRANDS_E_UNAVAILABLE,
                             "SessionStoreUnavailable",
                             "the session store is down");
}

static strands_status flaky_load(strands_session_store *self,
                                 const strands_session_key *key,
                                 strands_session_record *out,
                                 strands_error *err)
{
    flaky_store *f = (flaky_store *)self;
    if (f->load_down) {
        memset(out, 0, sizeof *out);
        return down(err);
    }
    return f->inner->vtab->load(f->inner, key, out, err);
}

static strands_status flaky_append(strands_session_store *self,
                                   const strands_session_key *key,
                                   const strands_session_claim *claim,
                                   size_t base, const json_t *messages,
                                   const json_t *agent, strands_error *err)
{
    flaky_store *f = (flaky_store *)self;
    if (f->append_down) return down(err);
    return f->inner->vtab->append(f->inner, key, claim, base, messages,
                                  agent, err);
}

static strands_status flaky_claim(strands_session_store *self,
                                  const strands_session_key *key,
                                  strands_session_claim *c,
                                  strands_error *err)
{
    flaky_store *f = (flaky_store *)self;
    return f->inner->vtab->claim(f->inner, key, c, err);
}

static strands_status flaky_renew(strands_session_store *self,
                                  const strands_session_key *key,
                                  strands_session_claim *c,
                                  strands_error *err)
{
    flaky_store *f = (flaky_store *)self;
    return f->inner->vtab->renew(f->inner, key, c, err);
}

static strands_status flaky_release(strands_session_store *self,
                                    const strands_session_key *key,
                                    const strands_session_claim *c,
                                    strands_error *err)
{
    flaky_store *f = (flaky_store *)self;
    return f->inner->vtab->release(f->inner, key, c, err);
}

static void flaky_destroy(strands_session_store *self)
{
    (void)self;
}

static const strands_session_store_vtab flaky_vtab = {
    STRANDS_SESSION_VTAB_VERSION, "flaky", flaky_load, flaky_append,
    flaky_claim, flaky_renew, flaky_release, flaky_destroy};

/* ---- environment -------------------------------------------------------- */

typedef struct env {
    fake_model model;
    strands_tool_registry *tools;
    strands_session_store *store;   /* the memory store */
    flaky_store flaky;              /* wraps it; what the agent uses */
    strands_agent *agent;
} env;

static void env_init(env *e, const char **script, size_t n)
{
    fake_init(&e->model, script, n);
    e->store = strands_memory_store_new(16, 0);
    e->tools = strands_tool_registry_new();
    strands_tool_def counter = {"counter", "counts", NULL, counter_run, NULL,
                                NULL};
    strands_tool_def inter = {"interloper", "writes", NULL, interloper_run,
                              e->store, NULL};
    strands_tool_registry_add(e->tools, &counter, NULL);
    strands_tool_registry_add(e->tools, &inter, NULL);
    strands_tool_def setter = {"setter", "sets", NULL, setter_run, NULL,
                               NULL};
    strands_tool_registry_add(e->tools, &setter, NULL);
    e->flaky = (flaky_store){{&flaky_vtab}, e->store, 0, 0};
    strands_agent_config cfg = {.model = &e->model.base,
                                .tools = e->tools,
                                .sessions = &e->flaky.base,
                                .max_tokens = 100,
                                .max_iterations = 5};
    e->agent = strands_agent_new(&cfg, NULL);
}

static void env_cleanup(env *e)
{
    strands_agent_free(e->agent);
    strands_tool_registry_free(e->tools);
    strands_session_store_free(e->store);
    fake_destroy(&e->model.base);
}

/* Restarts the fake model's script (same steps again). */
static void rescript(env *e, const char **script, size_t n)
{
    e->model.script = script;
    e->model.n = n;
    e->model.next = 0;
    json_array_clear(e->model.seen);
}

static strands_status invoke(env *e, const char *sid, const char *text,
                             strands_error *err)
{
    json_t *prompt = json_pack("[{s:s}]", "text", text);
    strands_invocation inv = {.session_id = sid,
                              .invocation_id = "inv",
                              .prompt = prompt,
                              .actor_id = "user-1"};
    strands_agent_result r;
    strands_status st = strands_agent_invoke(e->agent, &inv, &r, err);
    strands_agent_result_cleanup(&r);
    json_decref(prompt);
    return st;
}

static void seed(env *e, const char *sid, const char *log, const char *agent)
{
    json_t *m = J(log), *a = J(agent);
    CHECK_INT(e->store->vtab->append(e->store, KEY(sid), NULL, 0, m, a, NULL),
              STRANDS_OK);
    json_decref(m);
    json_decref(a);
}

/* The stored record of sid (clear it after). */
static strands_session_record stored(env *e, const char *sid)
{
    strands_session_record rec;
    if (e->store->vtab->load(e->store, KEY(sid), &rec, NULL) != STRANDS_OK)
        memset(&rec, 0, sizeof rec);
    return rec;
}

/* The messages the model saw on call i. */
static json_t *seen(env *e, size_t i)
{
    return json_array_get(e->model.seen, i);
}

static const char *const COUNT_TOOL[] = {
    "{\"stop\":\"tool_use\",\"content\":[{\"toolUse\":{\"toolUseId\":\"c1\","
    "\"name\":\"counter\",\"input\":{}}}]}",
    "{\"stop\":\"end_turn\",\"content\":[{\"text\":\"counted\"}]}",
};

static const char *const ANSWER[] = {
    "{\"stop\":\"end_turn\",\"content\":[{\"text\":\"ok\"}]}",
};

/* ---- tests -------------------------------------------------------------- */

/* A C tool increments a counter in the agent state across two
 * invocations of one session; the state is stored with the turn and
 * unknown agent keys survive.                                           */
static void test_state_counter_across_invocations(void)
{
    env e;
    env_init(&e, (const char **)COUNT_TOOL, 2);
    seed(&e, "s", "[]", "{\"keep\":\"me\",\"state\":{\"other\":true}}");
    CHECK_INT(invoke(&e, "s", "count", NULL), STRANDS_OK);
    strands_session_record rec = stored(&e, "s");
    CHECK_INT(json_integer_value(json_object_get(
                  json_object_get(rec.agent, "state"), "count")), 1);
    CHECK(json_is_true(json_object_get(json_object_get(rec.agent, "state"),
                                       "other")));
    CHECK_STR(json_string_value(json_object_get(rec.agent, "keep")), "me");
    CHECK_INT(rec.count, 4);   /* prompt, toolUse, toolResult, answer */
    strands_session_record_clear(&rec);

    rescript(&e, (const char **)COUNT_TOOL, 2);
    CHECK_INT(invoke(&e, "s", "count again", NULL), STRANDS_OK);
    rec = stored(&e, "s");
    CHECK_INT(json_integer_value(json_object_get(
                  json_object_get(rec.agent, "state"), "count")), 2);
    CHECK_INT(rec.count, 8);
    /* The tool's second answer says 2. */
    json_t *res = json_object_get(json_array_get(json_object_get(
                                      json_array_get(rec.messages, 6),
                                      "content"), 0), "toolResult");
    CHECK_INT(json_integer_value(json_object_get(json_array_get(
                  json_object_get(res, "content"), 0), "json")), 2);
    strands_session_record_clear(&rec);

    /* A failed turn keeps none of its state changes. */
    rescript(&e, (const char **)COUNT_TOOL, 1);   /* 2nd call: exhausted */
    strands_error err;
    CHECK(invoke(&e, "s", "fail", &err) != STRANDS_OK);
    rec = stored(&e, "s");
    CHECK_INT(json_integer_value(json_object_get(
                  json_object_get(rec.agent, "state"), "count")), 2);
    CHECK_INT(rec.count, 8);
    strands_session_record_clear(&rec);
    env_cleanup(&e);
}

/* strands_tool_state_* on their own: bad keys, caps, no state. */
static void test_state_api_limits(void)
{
    strands_tool_context none = {0};
    strands_error err;
    json_t *one = json_integer(1);
    CHECK(strands_tool_state_get(&none, "k") == NULL);
    CHECK_INT(strands_tool_state_set(&none, "k", one, &err),
              STRANDS_E_INVALID);
    CHECK_INT(strands_tool_state_delete(NULL, "k", &err), STRANDS_E_INVALID);
    json_decref(one);
}

/* Through the agent: a tool exercising the state API's errors. */
static strands_status limits_run(void *user, const json_t *input,
                                 const strands_tool_context *ctx,
                                 json_t **content_out, strands_error *err)
{
    (void)user; (void)input; (void)err;
    int bad = 0;
    strands_error e;
    json_t *v = json_string("v");
    char longkey[STRANDS_TOOL_STATE_KEY_MAX + 2];
    memset(longkey, 'k', sizeof longkey - 1);
    longkey[sizeof longkey - 1] = '\0';
    if (strands_tool_state_set(ctx, "", v, &e) != STRANDS_E_INVALID) bad++;
    if (strands_tool_state_set(ctx, NULL, v, &e) != STRANDS_E_INVALID) bad++;
    if (strands_tool_state_set(ctx, longkey, v, &e) != STRANDS_E_INVALID)
        bad++;
    if (strands_tool_state_set(ctx, "\xff\xfe", v, &e) != STRANDS_E_INVALID)
        bad++;
    if (strands_tool_state_set(ctx, "k", NULL, &e) != STRANDS_E_INVALID)
        bad++;
    longkey[STRANDS_TOOL_STATE_KEY_MAX] = '\0';   /* exactly the max */
    if (strands_tool_state_set(ctx, longkey, v, &e) != STRANDS_OK) bad++;
    if (strands_tool_state_delete(ctx, longkey, &e) != STRANDS_OK) bad++;
    /* The whole state is capped: 0.6 MiB fits once, not twice. */
    size_t n = STRANDS_TOOL_STATE_MAX_BYTES * 6 / 10;
    char *big = malloc(n + 1);
    memset(big, 'b', n);
    big[n] = '\0';
    json_t *bv = json_string(big);
    if (strands_tool_state_set(ctx, "big1", bv, &e) != STRANDS_OK) bad++;
    if (strands_tool_state_set(ctx, "big2", bv, &e) != STRANDS_E_TOO_LARGE)
        bad++;
    json_t *gone = strands_tool_state_get(ctx, "big2");
    if (gone) bad++;              /* refused: the state is unchanged */
    json_decref(gone);
    if (strands_tool_state_delete(ctx, "big1", &e) != STRANDS_OK) bad++;
    if (strands_tool_state_set(ctx, "big2", bv, &e) != STRANDS_OK) bad++;
    if (strands_tool_state_delete(ctx, "big2", &e) != STRANDS_OK) bad++;
    if (strands_tool_state_delete(ctx, "absent", &e) != STRANDS_OK) bad++;
    /* A copy: changing what get returned changes nothing. */
    json_t *obj = json_pack("{s:i}", "a", 1);
    strands_tool_state_set(ctx, "obj", obj, &e);
    json_object_set_new(obj, "a", json_integer(99));
    json_t *got = strands_tool_state_get(ctx, "obj");
    if (json_integer_value(json_object_get(got, "a")) != 1) bad++;
    json_object_set_new(got, "a", json_integer(7));
    json_decref(got);
    got = strands_tool_state_get(ctx, "obj");
    if (json_integer_value(json_object_get(got, "a")) != 1) bad++;
    json_decref(got);
    json_decref(obj);
    json_decref(bv);
    free(big);
    json_decref(v);
    *content_out = json_pack("[{s:i}]", "json", bad);
    return STRANDS_OK;
}

static void test_state_api_through_agent(void)
{
    static const char *const script[] = {
        "{\"stop\":\"tool_use\",\"content\":[{\"toolUse\":{\"toolUseId\":"
        "\"l1\",\"name\":\"limits\",\"input\":{}}}]}",
        "{\"stop\":\"end_turn\",\"content\":[{\"text\":\"ok\"}]}",
    };
    env e;
    env_init(&e, (const char **)script, 2);
    strands_tool_def limits = {"limits", "limits", NULL, limits_run, NULL,
                               NULL};
    strands_tool_registry_add(e.tools, &limits, NULL);
    CHECK_INT(invoke(&e, "s", "go", NULL), STRANDS_OK);
    strands_session_record rec = stored(&e, "s");
    json_t *res = json_object_get(json_array_get(json_object_get(
                                      json_array_get(rec.messages, 2),
                                      "content"), 0), "toolResult");
    CHECK_INT(json_integer_value(json_object_get(json_array_get(
                  json_object_get(res, "content"), 0), "json")), 0);
    json_t *state = json_object_get(rec.agent, "state");
    json_t *want = J("{\"obj\":{\"a\":1}}");
    CHECK(json_equal(state, want));
    json_decref(want);
    strands_session_record_clear(&rec);
    env_cleanup(&e);
}

/* Eight tool calls of one turn write the state at once. */
static void test_state_concurrent_tools(void)
{
    static const char *const script[] = {
        "{\"stop\":\"tool_use\",\"content\":["
        "{\"toolUse\":{\"toolUseId\":\"a\",\"name\":\"setter\",\"input\":{\"k\":\"k0\",\"v\":0}}},"
        "{\"toolUse\":{\"toolUseId\":\"b\",\"name\":\"setter\",\"input\":{\"k\":\"k1\",\"v\":1}}},"
        "{\"toolUse\":{\"toolUseId\":\"c\",\"name\":\"setter\",\"input\":{\"k\":\"k2\",\"v\":2}}},"
        "{\"toolUse\":{\"toolUseId\":\"d\",\"name\":\"setter\",\"input\":{\"k\":\"k3\",\"v\":3}}},"
        "{\"toolUse\":{\"toolUseId\":\"e\",\"name\":\"setter\",\"input\":{\"k\":\"k4\",\"v\":4}}},"
        "{\"toolUse\":{\"toolUseId\":\"f\",\"name\":\"setter\",\"input\":{\"k\":\"k5\",\"v\":5}}},"
        "{\"toolUse\":{\"toolUseId\":\"g\",\"name\":\"setter\",\"input\":{\"k\":\"k6\",\"v\":6}}},"
        "{\"toolUse\":{\"toolUseId\":\"h\",\"name\":\"setter\",\"input\":{\"k\":\"k7\",\"v\":7}}}]}",
        "{\"stop\":\"end_turn\",\"content\":[{\"text\":\"ok\"}]}",
    };
    env e;
    env_init(&e, (const char **)script, 2);
    CHECK_INT(invoke(&e, "s", "go", NULL), STRANDS_OK);
    strands_session_record rec = stored(&e, "s");
    json_t *state = json_object_get(rec.agent, "state");
    CHECK_INT(json_object_size(state), 8);
    for (int i = 0; i < 8; i++) {
        char k[8];
        snprintf(k, sizeof k, "k%d", i);
        json_t *v = json_object_get(state, k);
        CHECK_INT(json_integer_value(json_object_get(v, "v")), i);
        CHECK_INT(json_integer_value(json_object_get(v, "i")), 49);
    }
    strands_session_record_clear(&rec);
    env_cleanup(&e);
}

/* A tool abandoned past its deadline cannot change the stored state. */
static void test_state_abandoned_tool(void)
{
    static const char *const script[] = {
        "{\"stop\":\"tool_use\",\"content\":[{\"toolUse\":{\"toolUseId\":"
        "\"z1\",\"name\":\"late\",\"input\":{}}}]}",
        "{\"stop\":\"end_turn\",\"content\":[{\"text\":\"ok\"}]}",
    };
    env e;
    env_init(&e, (const char **)script, 2);
    strands_tool_def late = {"late", "late", NULL, late_run, NULL, NULL};
    strands_tool_registry_add(e.tools, &late, NULL);
    strands_agent_config cfg = {.model = &e.model.base,
                                .tools = e.tools,
                                .sessions = &e.flaky.base,
                                .max_tokens = 100,
                                .max_iterations = 5,
                                .tool_timeout_ms = 100};
    strands_agent_free(e.agent);
    e.agent = strands_agent_new(&cfg, NULL);
    CHECK_INT(invoke(&e, "s", "go", NULL), STRANDS_OK);
    for (int i = 0; i < 300 && !atomic_load(&late_done); i++) {
        struct timespec ts = {0, 10 * 1000000L};
        nanosleep(&ts, NULL);
    }
    CHECK_INT(atomic_load(&late_done), 1);
    CHECK_INT(atomic_load(&late_status), STRANDS_E_INVALID);
    strands_session_record rec = stored(&e, "s");
    CHECK(json_object_get(json_object_get(rec.agent, "state"), "late") ==
          NULL);
    strands_session_record_clear(&rec);
    env_cleanup(&e);
}

/* "metadata" (and other keys) stay in the log but never reach the model. */
static void test_metadata_kept_not_sent(void)
{
    env e;
    env_init(&e, (const char **)ANSWER, 1);
    seed(&e, "s",
         "[{\"role\":\"user\",\"content\":[{\"text\":\"a\"}]},"
         "{\"role\":\"assistant\",\"content\":[{\"text\":\"b\"}],"
         "\"metadata\":{\"usage\":{\"inputTokens\":1}},\"extra\":1}]",
         "{}");
    CHECK_INT(invoke(&e, "s", "c", NULL), STRANDS_OK);
    json_t *sent = seen(&e, 0);
    CHECK_INT(json_array_size(sent), 3);
    size_t i;
    json_t *m;
    json_array_foreach(sent, i, m) CHECK_INT(json_object_size(m), 2);
    strands_session_record rec = stored(&e, "s");
    CHECK_INT(rec.count, 4);
    CHECK(json_object_get(json_array_get(rec.messages, 1), "metadata"));
    CHECK(json_object_get(json_array_get(rec.messages, 1), "extra"));
    strands_session_record_clear(&rec);
    env_cleanup(&e);
}

/* Messages a conversation manager removed are not sent. */
static void test_removed_messages_skipped(void)
{
    env e;
    env_init(&e, (const char **)ANSWER, 1);
    seed(&e, "s",
         "[{\"role\":\"user\",\"content\":[{\"text\":\"m0\"}]},"
         "{\"role\":\"assistant\",\"content\":[{\"text\":\"m1\"}]},"
         "{\"role\":\"user\",\"content\":[{\"text\":\"m2\"}]},"
         "{\"role\":\"assistant\",\"content\":[{\"text\":\"m3\"}]}]",
         "{\"conversation_manager_state\":{\"removed_message_count\":2}}");
    CHECK_INT(invoke(&e, "s", "m4", NULL), STRANDS_OK);
    json_t *want = J("[{\"role\":\"user\",\"content\":[{\"text\":\"m2\"}]},"
                     "{\"role\":\"assistant\",\"content\":[{\"text\":\"m3\"}]},"
                     "{\"role\":\"user\",\"content\":[{\"text\":\"m4\"}]}]");
    CHECK(json_equal(seen(&e, 0), want));
    json_decref(want);
    strands_session_record rec = stored(&e, "s");
    CHECK_INT(rec.count, 6);     /* the log keeps everything */
    CHECK_INT(json_integer_value(json_object_get(
                  json_object_get(rec.agent, "conversation_manager_state"),
                  "removed_message_count")), 2);
    strands_session_record_clear(&rec);
    env_cleanup(&e);
}

/* A crash after the assistant asked for tools: the restore answers them
 * "Tool was interrupted." (error), the repair goes to the log as its own
 * message, and the model sees one user message of repair + prompt.    */
static void test_restore_repairs_trailing_tool_use(void)
{
    env e;
    env_init(&e, (const char **)ANSWER, 1);
    seed(&e, "s",
         "[{\"role\":\"user\",\"content\":[{\"text\":\"a\"}]},"
         "{\"role\":\"assistant\",\"content\":[{\"text\":\"x\"},"
         "{\"toolUse\":{\"toolUseId\":\"t1\",\"name\":\"counter\","
         "\"input\":{}}}]}]",
         "{}");
    CHECK_INT(invoke(&e, "s", "next", NULL), STRANDS_OK);
    json_t *want_sent = J(
        "[{\"role\":\"user\",\"content\":[{\"text\":\"a\"}]},"
        "{\"role\":\"assistant\",\"content\":[{\"text\":\"x\"},"
        "{\"toolUse\":{\"toolUseId\":\"t1\",\"name\":\"counter\","
        "\"input\":{}}}]},"
        "{\"role\":\"user\",\"content\":[{\"toolResult\":{\"toolUseId\":"
        "\"t1\",\"status\":\"error\",\"content\":[{\"text\":"
        "\"Tool was interrupted.\"}]}},{\"text\":\"next\"}]}]");
    CHECK(json_equal(seen(&e, 0), want_sent));
    json_decref(want_sent);
    strands_session_record rec = stored(&e, "s");
    CHECK_INT(rec.count, 5);     /* + repair, prompt, answer */
    json_t *repair = json_array_get(rec.messages, 2);
    CHECK_STR(json_string_value(json_object_get(repair, "role")), "user");
    json_t *tr = json_object_get(json_array_get(json_object_get(repair,
                                                                "content"),
                                                0),
                                 "toolResult");
    CHECK_STR(json_string_value(json_object_get(tr, "status")), "error");
    CHECK_STR(json_string_value(json_object_get(tr, "toolUseId")), "t1");
    CHECK_STR(json_string_value(json_object_get(
                  json_array_get(json_object_get(tr, "content"), 0), "text")),
              "Tool was interrupted.");
    CHECK_STR(json_string_value(json_object_get(
                  json_array_get(json_object_get(json_array_get(rec.messages,
                                                                3),
                                                 "content"),
                                 0),
                  "text")),
              "next");
    strands_session_record_clear(&rec);

    /* The next turn sends the same valid history (no second repair). */
    rescript(&e, (const char **)ANSWER, 1);
    CHECK_INT(invoke(&e, "s", "more", NULL), STRANDS_OK);
    CHECK_INT(json_array_size(seen(&e, 0)), 5);
    rec = stored(&e, "s");
    CHECK_INT(rec.count, 7);
    strands_session_record_clear(&rec);
    env_cleanup(&e);
}

/* A toolUse in the middle without results (e.g. a partly written log),
 * a leading orphan toolResult message, a toolUse answered in part. */
static void test_restore_repairs_inner_damage(void)
{
    env e;
    env_init(&e, (const char **)ANSWER, 1);
    seed(&e, "s",
         "[{\"role\":\"user\",\"content\":[{\"toolResult\":{\"toolUseId\":"
         "\"old\",\"status\":\"success\",\"content\":[{\"text\":\"r\"}]}}]},"
         "{\"role\":\"assistant\",\"content\":[{\"text\":\"orphan reply\"}]},"
         "{\"role\":\"user\",\"content\":[{\"text\":\"a\"}]},"
         "{\"role\":\"assistant\",\"content\":[{\"toolUse\":{\"toolUseId\":"
         "\"t1\",\"name\":\"counter\",\"input\":{}}}]},"
         "{\"role\":\"assistant\",\"content\":[{\"text\":\"b\"},"
         "{\"toolUse\":{\"toolUseId\":\"t2\",\"name\":\"counter\","
         "\"input\":{}}},{\"toolUse\":{\"toolUseId\":\"t3\",\"name\":"
         "\"counter\",\"input\":{}}}]},"
         "{\"role\":\"user\",\"content\":[{\"toolResult\":{\"toolUseId\":"
         "\"t3\",\"status\":\"success\",\"content\":[{\"text\":\"3\"}]}}]},"
         "{\"role\":\"assistant\",\"content\":[{\"text\":\"c\"}]}]",
         "{}");
    CHECK_INT(invoke(&e, "s", "d", NULL), STRANDS_OK);
    json_t *want = J(
        "[{\"role\":\"user\",\"content\":[{\"text\":\"a\"}]},"
        "{\"role\":\"assistant\",\"content\":[{\"toolUse\":{\"toolUseId\":"
        "\"t1\",\"name\":\"counter\",\"input\":{}}}]},"
        "{\"role\":\"user\",\"content\":[{\"toolResult\":{\"toolUseId\":"
        "\"t1\",\"status\":\"error\",\"content\":[{\"text\":"
        "\"Tool was interrupted.\"}]}}]},"
        "{\"role\":\"assistant\",\"content\":[{\"text\":\"b\"},"
        "{\"toolUse\":{\"toolUseId\":\"t2\",\"name\":\"counter\","
        "\"input\":{}}},{\"toolUse\":{\"toolUseId\":\"t3\",\"name\":"
        "\"counter\",\"input\":{}}}]},"
        "{\"role\":\"user\",\"content\":[{\"toolResult\":{\"toolUseId\":"
        "\"t2\",\"status\":\"error\",\"content\":[{\"text\":"
        "\"Tool was interrupted.\"}]}},{\"toolResult\":{\"toolUseId\":"
        "\"t3\",\"status\":\"success\",\"content\":[{\"text\":\"3\"}]}}]},"
        "{\"role\":\"assistant\",\"content\":[{\"text\":\"c\"}]},"
        "{\"role\":\"user\",\"content\":[{\"text\":\"d\"}]}]");
    CHECK(json_equal(seen(&e, 0), want));
    if (!json_equal(seen(&e, 0), want)) {
        char *t = json_dumps(seen(&e, 0), JSON_COMPACT);
        fprintf(stderr, "  sent: %s\n", t);
        free(t);
    }
    json_decref(want);
    /* The log gains only the prompt and the answer (the inner repairs
     * live in the working history). */
    strands_session_record rec = stored(&e, "s");
    CHECK_INT(rec.count, 9);
    strands_session_record_clear(&rec);
    env_cleanup(&e);
}

/* Another writer appended during the turn: SessionConflict, the turn is
 * not stored, the other writer's message is.                           */
static void test_conflict_stores_nothing(void)
{
    static const char *const script[] = {
        "{\"stop\":\"tool_use\",\"content\":[{\"toolUse\":{\"toolUseId\":"
        "\"i1\",\"name\":\"interloper\",\"input\":{}}}]}",
        "{\"stop\":\"end_turn\",\"content\":[{\"text\":\"ok\"}]}",
    };
    env e;
    env_init(&e, (const char **)script, 2);
    strands_error err;
    CHECK_INT(invoke(&e, "s", "go", &err), STRANDS_E_BUSY);
    CHECK_STR(err.code, "SessionConflict");
    strands_session_record rec = stored(&e, "s");
    CHECK_INT(rec.count, 1);
    CHECK_STR(json_string_value(json_object_get(
                  json_array_get(json_object_get(json_array_get(rec.messages,
                                                                0),
                                                 "content"),
                                 0),
                  "text")),
              "other");
    strands_session_record_clear(&rec);
    /* The claim was released. */
    strands_session_claim c;
    CHECK_INT(e.store->vtab->claim(e.store, KEY("s"), &c, NULL), STRANDS_OK);
    e.store->vtab->release(e.store, KEY("s"), &c, NULL);
    env_cleanup(&e);
}

/* A store that is down: the invocation fails with its error, the model is
 * not called when the load fails, and nothing is stored.               */
static void test_store_unavailable(void)
{
    env e;
    env_init(&e, (const char **)ANSWER, 1);
    e.flaky.load_down = 1;
    strands_error err;
    CHECK_INT(invoke(&e, "s", "hi", &err), STRANDS_E_UNAVAILABLE);
    CHECK_STR(err.code, "SessionStoreUnavailable");
    CHECK_INT(json_array_size(e.model.seen), 0);
    e.flaky.load_down = 0;
    e.flaky.append_down = 1;
    CHECK_INT(invoke(&e, "s", "hi", &err), STRANDS_E_UNAVAILABLE);
    CHECK_STR(err.code, "SessionStoreUnavailable");
    strands_session_record rec = stored(&e, "s");
    CHECK_INT(rec.count, 0);
    strands_session_record_clear(&rec);
    /* It recovers when the store does. */
    e.flaky.append_down = 0;
    rescript(&e, (const char **)ANSWER, 1);
    CHECK_INT(invoke(&e, "s", "hi", NULL), STRANDS_OK);
    rec = stored(&e, "s");
    CHECK_INT(rec.count, 2);
    strands_session_record_clear(&rec);
    env_cleanup(&e);
}

int main(void)
{
    RUN(test_state_counter_across_invocations);
    RUN(test_state_api_limits);
    RUN(test_state_api_through_agent);
    RUN(test_state_concurrent_tools);
    RUN(test_state_abandoned_tool);
    RUN(test_metadata_kept_not_sent);
    RUN(test_removed_messages_skipped);
    RUN(test_restore_repairs_trailing_tool_use);
    RUN(test_restore_repairs_inner_damage);
    RUN(test_conflict_stores_nothing);
    RUN(test_store_unavailable);
    return test_report();
}
