/* Tool sources (src/tools/registry.c): the vtable contract (start, list,
 * call, stop, destroy; version check; ownership of user on failure),
 * aggregation with C tools and built-ins, snapshots that stay consistent
 * while a source re-lists, a call in progress that keeps its source alive
 * across a re-list and a removal (run under ASan and TSan), concurrent
 * refresh/snapshot/call traffic, and the deadline in the tool context.   */
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "strands/clock.h"
#include "strands/tool.h"
#include "test.h"

/* ---- a scriptable source ------------------------------------------------ */

typedef struct fake_source {
    char names[4][32];           /* tools listed now ("" = none) */
    pthread_mutex_t lock;        /* guards names and the gate */
    pthread_cond_t cond;
    int gate_closed;             /* calls of "slow" wait while set */
    int in_call;                 /* a "slow" call is waiting */
    atomic_int starts, lists, calls, stops, destroys;
    strands_status start_fails;  /* non-OK: start fails with it */
    int64_t seen_deadline;       /* ctx->deadline_ms of the last call */
    const strands_tool_source_vtab *vt;
} fake_source;

static strands_status fs_start(void *user, strands_error *err)
{
    fake_source *fs = user;
    atomic_fetch_add(&fs->starts, 1);
    if (fs->start_fails != STRANDS_OK)
        return strands_error_set(err, fs->start_fails, "ConnectFailed",
                                 "server unreachable");
    return STRANDS_OK;
}

static strands_status fs_list(void *user, json_t **out, strands_error *err)
{
    fake_source *fs = user;
    atomic_fetch_add(&fs->lists, 1);
    json_t *list = json_array();
    pthread_mutex_lock(&fs->lock);
    for (int i = 0; i < 4; i++)
        if (fs->names[i][0])
            json_array_append_new(
                list, json_pack("{s:s, s:s, s:{s:s, s:{s:{s:s}}}}", "name",
                                fs->names[i], "description", "a fake tool",
                                "inputSchema", "type", "object",
                                "properties", "x", "type", "integer"));
    pthread_mutex_unlock(&fs->lock);
    (void)err;
    *out = list;
    return STRANDS_OK;
}

static strands_status fs_call(void *user, const char *name,
                              const json_t *input,
                              const strands_tool_context *ctx,
                              json_t **content_out, strands_error *err)
{
    fake_source *fs = user;
    (void)input;
    (void)err;
    atomic_fetch_add(&fs->calls, 1);
    pthread_mutex_lock(&fs->lock);
    fs->seen_deadline = ctx ? ctx->deadline_ms : -1;
    if (!strcmp(name, "slow")) {
        fs->in_call = 1;
        pthread_cond_broadcast(&fs->cond);
        while (fs->gate_closed) pthread_cond_wait(&fs->cond, &fs->lock);
        fs->in_call = 0;
    }
    pthread_mutex_unlock(&fs->lock);
    /* The name comes from the tool, which the call must keep alive. */
    *content_out = json_pack("[{s:s}]", "text", name);
    return STRANDS_OK;
}

static void fs_stop(void *user)
{
    atomic_fetch_add(&((fake_source *)user)->stops, 1);
}

static void fs_destroy(void *user)
{
    atomic_fetch_add(&((fake_source *)user)->destroys, 1);
}

static const strands_tool_source_vtab fake_vtab = {
    .version = STRANDS_TOOL_SOURCE_VTAB_VERSION,
    .kind = "fake",
    .start = fs_start,
    .list = fs_list,
    .call = fs_call,
    .stop = fs_stop,
    .destroy = fs_destroy,
};

static void fs_init(fake_source *fs, const char *a, const char *b)
{
    memset(fs, 0, sizeof *fs);
    pthread_mutex_init(&fs->lock, NULL);
    pthread_cond_init(&fs->cond, NULL);
    if (a) snprintf(fs->names[0], sizeof fs->names[0], "%s", a);
    if (b) snprintf(fs->names[1], sizeof fs->names[1], "%s", b);
}

static void fs_set(fake_source *fs, const char *a, const char *b)
{
    pthread_mutex_lock(&fs->lock);
    memset(fs->names, 0, sizeof fs->names);
    if (a) snprintf(fs->names[0], sizeof fs->names[0], "%s", a);
    if (b) snprintf(fs->names[1], sizeof fs->names[1], "%s", b);
    pthread_mutex_unlock(&fs->lock);
}

static void fs_cleanup(fake_source *fs)
{
    pthread_mutex_destroy(&fs->lock);
    pthread_cond_destroy(&fs->cond);
}

static strands_status echo_run(void *user, const json_t *input,
                               const strands_tool_context *ctx,
                               json_t **content_out, strands_error *err)
{
    (void)user; (void)input; (void)ctx; (void)err;
    *content_out = json_pack("[{s:s}]", "text", "echo");
    return STRANDS_OK;
}

static char *spec_names(const json_t *specs)
{
    char buf[256] = "";
    size_t i;
    const json_t *spec;
    json_array_foreach(specs, i, spec) {
        const char *n = json_string_value(json_object_get(
            json_object_get(spec, "toolSpec"), "name"));
        if (i) strncat(buf, ",", sizeof buf - strlen(buf) - 1);
        strncat(buf, n ? n : "?", sizeof buf - strlen(buf) - 1);
    }
    return strdup(buf);
}

#define CHECK_NAMES(specs, want)                                          \
    do {                                                                  \
        char *got_ = spec_names(specs);                                   \
        CHECK_STR(got_, want);                                            \
        free(got_);                                                       \
    } while (0)

static const char *call_text(const strands_tool *t, json_t **content)
{
    strands_error err;
    *content = NULL;
    if (strands_tool_call(t, NULL, NULL, content, &err) != STRANDS_OK)
        return NULL;
    return json_string_value(json_object_get(json_array_get(*content, 0),
                                             "text"));
}

/* ---- tests --------------------------------------------------------------- */

static void test_add_source_lists_and_calls(void)
{
    fake_source fs;
    fs_init(&fs, "alpha", "beta");
    strands_tool_registry *reg = strands_tool_registry_new();
    strands_error err;
    strands_tool_def echo = {"echo", "echoes", NULL, echo_run, NULL, NULL};
    CHECK_INT(strands_tool_registry_add_builtin(reg, "calculator", &err),
              STRANDS_OK);
    CHECK_INT(strands_tool_registry_add_source(reg, &fake_vtab, "mcp:fake",
                                               &fs, &err),
              STRANDS_OK);
    CHECK_INT(strands_tool_registry_add(reg, &echo, &err), STRANDS_OK);
    CHECK_INT(atomic_load(&fs.starts), 1);
    CHECK_INT(atomic_load(&fs.lists), 1);
    /* Sources in the order added, each source's tools in its order. */
    CHECK_NAMES(strands_tool_registry_specs(reg), "calculator,alpha,beta,echo");
    const json_t *spec = json_array_get(strands_tool_registry_specs(reg), 1);
    CHECK_STR(json_string_value(json_object_get(
                  json_object_get(json_object_get(
                                      json_object_get(spec, "toolSpec"),
                                      "inputSchema"),
                                  "json"),
                  "type")),
              "object");
    json_t *content;
    CHECK_STR(call_text(strands_tool_registry_find(reg, "beta"), &content),
              "beta");
    json_decref(content);
    CHECK_STR(call_text(strands_tool_registry_find(reg, "echo"), &content),
              "echo");
    json_decref(content);
    CHECK_INT(atomic_load(&fs.calls), 1);
    strands_tool_registry_free(reg);
    CHECK_INT(atomic_load(&fs.stops), 1);
    CHECK_INT(atomic_load(&fs.destroys), 1);
    fs_cleanup(&fs);
}

static void test_add_source_errors(void)
{
    strands_tool_registry *reg = strands_tool_registry_new();
    strands_error err;
    fake_source fs;
    /* A vtab of another version is refused; user is destroyed. */
    strands_tool_source_vtab v2 = fake_vtab;
    v2.version = STRANDS_TOOL_SOURCE_VTAB_VERSION + 1;
    fs_init(&fs, "a", NULL);
    CHECK_INT(strands_tool_registry_add_source(reg, &v2, "x", &fs, &err),
              STRANDS_E_INVALID);
    CHECK(strstr(err.message, "vtab version") != NULL);
    CHECK_INT(atomic_load(&fs.destroys), 1);
    CHECK_INT(atomic_load(&fs.starts), 0);
    /* Bad source names. */
    CHECK_INT(strands_tool_registry_add_source(reg, &fake_vtab, "a b", &fs,
                                               &err),
              STRANDS_E_INVALID);
    CHECK_INT(atomic_load(&fs.destroys), 2);
    /* A failing start: the error names the source; destroy, no stop. */
    fs.start_fails = STRANDS_E_NETWORK;
    CHECK_INT(strands_tool_registry_add_source(reg, &fake_vtab, "down", &fs,
                                               &err),
              STRANDS_E_NETWORK);
    CHECK_STR(err.code, "ConnectFailed");
    CHECK(strstr(err.message, "'down'") && strstr(err.message, "unreachable"));
    CHECK_INT(atomic_load(&fs.stops), 0);
    CHECK_INT(atomic_load(&fs.destroys), 3);
    fs.start_fails = STRANDS_OK;
    /* A tool name clashing with another source: stop and destroy. */
    CHECK_INT(strands_tool_registry_add_builtin(reg, "calculator", &err),
              STRANDS_OK);
    fs_set(&fs, "calculator", NULL);
    CHECK_INT(strands_tool_registry_add_source(reg, &fake_vtab, "clash", &fs,
                                               &err),
              STRANDS_E_INVALID);
    CHECK_STR(err.message, "duplicate tool name 'calculator'");
    CHECK_INT(atomic_load(&fs.stops), 1);
    CHECK_INT(atomic_load(&fs.destroys), 4);
    /* A bad tool name in the list. */
    fs_set(&fs, "bad name", NULL);
    CHECK_INT(strands_tool_registry_add_source(reg, &fake_vtab, "bad", &fs,
                                               &err),
              STRANDS_E_INVALID);
    CHECK(strstr(err.message, "invalid tool name 'bad name'") != NULL);
    /* A duplicate source name. */
    fs_set(&fs, "ok1", NULL);
    CHECK_INT(strands_tool_registry_add_source(reg, &fake_vtab, "s", &fs,
                                               &err),
              STRANDS_OK);
    fake_source other;
    fs_init(&other, "ok2", NULL);
    CHECK_INT(strands_tool_registry_add_source(reg, &fake_vtab, "s", &other,
                                               &err),
              STRANDS_E_INVALID);
    CHECK_STR(err.message, "duplicate tool source name 's'");
    CHECK_INT(atomic_load(&other.destroys), 1);
    CHECK_INT(strands_tool_registry_count(reg), 2);
    /* Unknown names for refresh / remove. */
    CHECK_INT(strands_tool_registry_refresh(reg, "nope", &err),
              STRANDS_E_NOT_FOUND);
    CHECK_INT(strands_tool_registry_remove_source(reg, "nope", &err),
              STRANDS_E_NOT_FOUND);
    strands_tool_registry_free(reg);
    fs_cleanup(&fs);
    fs_cleanup(&other);
}

/* A snapshot is a consistent list: a refresh after it changes the
 * registry's list, not the snapshot's.                                  */
static void test_snapshot_consistent_across_refresh(void)
{
    fake_source fs;
    fs_init(&fs, "alpha", "beta");
    strands_tool_registry *reg = strands_tool_registry_new();
    strands_error err;
    CHECK_INT(strands_tool_registry_add_source(reg, &fake_vtab, "f", &fs,
                                               &err),
              STRANDS_OK);
    strands_tool_snapshot *snap = strands_tool_registry_snapshot(reg);
    fs_set(&fs, "gamma", NULL);
    CHECK_INT(strands_tool_registry_refresh(reg, "f", &err), STRANDS_OK);
    CHECK_NAMES(strands_tool_registry_specs(reg), "gamma");
    CHECK_NAMES(strands_tool_snapshot_specs(snap), "alpha,beta");
    CHECK_INT(strands_tool_snapshot_count(snap), 2);
    CHECK(strands_tool_snapshot_find(snap, "gamma") == NULL);
    json_t *content;
    CHECK_STR(call_text(strands_tool_snapshot_find(snap, "alpha"), &content),
              "alpha");
    json_decref(content);
    /* A refresh that would clash keeps the old list. */
    strands_tool_def echo = {"echo", "e", NULL, echo_run, NULL, NULL};
    CHECK_INT(strands_tool_registry_add(reg, &echo, &err), STRANDS_OK);
    fs_set(&fs, "echo", NULL);
    CHECK_INT(strands_tool_registry_refresh(reg, "f", &err),
              STRANDS_E_INVALID);
    CHECK_NAMES(strands_tool_registry_specs(reg), "gamma,echo");
    strands_tool_snapshot_release(snap);
    strands_tool_registry_free(reg);
    CHECK_INT(atomic_load(&fs.destroys), 1);
    fs_cleanup(&fs);
}

typedef struct slow_call {
    strands_tool_snapshot *snap;
    json_t *content;
    strands_status st;
} slow_call;

static void *slow_thread(void *p)
{
    slow_call *sc = p;
    strands_error err;
    const strands_tool *t = strands_tool_snapshot_find(sc->snap, "slow");
    sc->st = strands_tool_call(t, NULL, NULL, &sc->content, &err);
    strands_tool_snapshot_release(sc->snap);
    return NULL;
}

/* A call in progress keeps its tool and source alive while the source
 * re-lists and is then removed: destroy runs only when the call ends.  */
static void test_call_survives_relist_and_removal(void)
{
    fake_source fs;
    fs_init(&fs, "slow", NULL);
    fs.gate_closed = 1;
    strands_tool_registry *reg = strands_tool_registry_new();
    strands_error err;
    CHECK_INT(strands_tool_registry_add_source(reg, &fake_vtab, "f", &fs,
                                               &err),
              STRANDS_OK);
    slow_call sc = {strands_tool_registry_snapshot(reg), NULL, STRANDS_OK};
    pthread_t th;
    CHECK_INT(pthread_create(&th, NULL, slow_thread, &sc), 0);
    pthread_mutex_lock(&fs.lock);
    while (!fs.in_call) pthread_cond_wait(&fs.cond, &fs.lock);
    pthread_mutex_unlock(&fs.lock);
    /* Re-list without the tool, then remove the source, mid-call. */
    fs_set(&fs, "other", NULL);
    CHECK_INT(strands_tool_registry_refresh(reg, "f", &err), STRANDS_OK);
    CHECK(strands_tool_registry_find(reg, "slow") == NULL);
    CHECK_INT(strands_tool_registry_remove_source(reg, "f", &err),
              STRANDS_OK);
    CHECK_INT(strands_tool_registry_count(reg), 0);
    CHECK_INT(atomic_load(&fs.stops), 1);
    CHECK_INT(atomic_load(&fs.destroys), 0);   /* the call holds it */
    pthread_mutex_lock(&fs.lock);
    fs.gate_closed = 0;
    pthread_cond_broadcast(&fs.cond);
    pthread_mutex_unlock(&fs.lock);
    pthread_join(th, NULL);
    CHECK_INT(sc.st, STRANDS_OK);
    CHECK_STR(json_string_value(json_object_get(json_array_get(sc.content, 0),
                                                "text")),
              "slow");
    json_decref(sc.content);
    CHECK_INT(atomic_load(&fs.destroys), 1);   /* gone with the snapshot */
    strands_tool_registry_free(reg);
    CHECK_INT(atomic_load(&fs.destroys), 1);
    fs_cleanup(&fs);
}

/* Refreshes, snapshots and calls from several threads at once. */
typedef struct churn {
    strands_tool_registry *reg;
    fake_source *fs;
    atomic_int stop;
    atomic_int bad;
    atomic_long calls;
} churn;

static void *churn_caller(void *p)
{
    churn *c = p;
    while (!atomic_load(&c->stop)) {
        strands_tool_snapshot *snap = strands_tool_registry_snapshot(c->reg);
        size_t n = strands_tool_snapshot_count(snap);
        if (json_array_size(strands_tool_snapshot_specs(snap)) != n)
            atomic_fetch_add(&c->bad, 1);
        const char *names[] = {"a1", "a2", "b1", "b2", "fixed"};
        for (size_t i = 0; i < 5; i++) {
            const strands_tool *t = strands_tool_snapshot_find(snap, names[i]);
            if (!t) continue;
            json_t *content = NULL;
            strands_error err;
            if (strands_tool_call(t, NULL, NULL, &content, &err) !=
                    STRANDS_OK ||
                strcmp(json_string_value(json_object_get(
                           json_array_get(content, 0), "text")),
                       names[i]) != 0)
                atomic_fetch_add(&c->bad, 1);
            json_decref(content);
            atomic_fetch_add(&c->calls, 1);
        }
        strands_tool_snapshot_release(snap);
    }
    return NULL;
}

static strands_status fixed_run(void *user, const json_t *input,
                                const strands_tool_context *ctx,
                                json_t **content_out, strands_error *err)
{
    (void)user; (void)input; (void)ctx; (void)err;
    *content_out = json_pack("[{s:s}]", "text", "fixed");
    return STRANDS_OK;
}

static void test_concurrent_refresh_and_calls(void)
{
    fake_source fs;
    fs_init(&fs, "a1", "a2");
    strands_tool_registry *reg = strands_tool_registry_new();
    strands_error err;
    CHECK_INT(strands_tool_registry_add_source(reg, &fake_vtab, "f", &fs,
                                               &err),
              STRANDS_OK);
    strands_tool_def fixed = {"fixed", "f", NULL, fixed_run, NULL, NULL};
    CHECK_INT(strands_tool_registry_add(reg, &fixed, &err), STRANDS_OK);
    churn c = {.reg = reg, .fs = &fs};
    pthread_t th[3];
    for (int i = 0; i < 3; i++)
        CHECK_INT(pthread_create(&th[i], NULL, churn_caller, &c), 0);
    int fails = 0;
    for (int i = 0; i < 300; i++) {
        if (i % 2) fs_set(&fs, "a1", "a2");
        else fs_set(&fs, "b1", "b2");
        if (strands_tool_registry_refresh(reg, "f", &err) != STRANDS_OK)
            fails++;
    }
    atomic_store(&c.stop, 1);
    for (int i = 0; i < 3; i++) pthread_join(th[i], NULL);
    CHECK_INT(fails, 0);
    CHECK_INT(atomic_load(&c.bad), 0);
    CHECK(atomic_load(&c.calls) > 0);
    strands_tool_registry_free(reg);
    CHECK_INT(atomic_load(&fs.destroys), 1);
    fs_cleanup(&fs);
}

/* The deadline in the context reaches a source's call unchanged. */
static void test_deadline_reaches_source(void)
{
    fake_source fs;
    fs_init(&fs, "alpha", NULL);
    strands_tool_registry *reg = strands_tool_registry_new();
    strands_error err;
    CHECK_INT(strands_tool_registry_add_source(reg, &fake_vtab, "f", &fs,
                                               &err),
              STRANDS_OK);
    int64_t deadline = strands_clock_mono_ms() + 1234;
    strands_tool_context ctx = {.tool_use_id = "t",
                                .session_id = "s",
                                .deadline_ms = deadline};
    json_t *content = NULL;
    CHECK_INT(strands_tool_call(strands_tool_registry_find(reg, "alpha"),
                                NULL, &ctx, &content, &err),
              STRANDS_OK);
    CHECK_INT(fs.seen_deadline, deadline);
    json_decref(content);
    strands_tool_registry_free(reg);
    fs_cleanup(&fs);
}

/* ---- sources that start in the background ---------------------------- */

static void *finish_starting(void *arg)
{
    struct timespec ts = {0, 120 * 1000000L};
    nanosleep(&ts, NULL);
    strands_tool_registry_started(arg);
    return NULL;
}

static void test_wait_started(void)
{
    strands_tool_registry *reg = strands_tool_registry_new();
    /* None starting: no wait. */
    CHECK_INT(strands_tool_registry_wait_started(reg, NULL), 1);
    /* One starting, done after ~120 ms: the wait ends then. */
    strands_tool_registry_starting(reg, strands_clock_mono_ms() + 5000);
    pthread_t th;
    pthread_create(&th, NULL, finish_starting, reg);
    int64_t t0 = strands_clock_mono_ms();
    CHECK_INT(strands_tool_registry_wait_started(reg, NULL), 1);
    int64_t took = strands_clock_mono_ms() - t0;
    CHECK(took >= 100 && took < 2000);
    pthread_join(th, NULL);
    /* Its deadline passed: the wait gives up (0) at the deadline. */
    strands_tool_registry_starting(reg, strands_clock_mono_ms() + 100);
    t0 = strands_clock_mono_ms();
    CHECK_INT(strands_tool_registry_wait_started(reg, NULL), 0);
    took = strands_clock_mono_ms() - t0;
    CHECK(took >= 90 && took < 2000);
    /* A cancelled caller does not wait. */
    atomic_int cancel = 1;
    strands_tool_registry_starting(reg, strands_clock_mono_ms() + 5000);
    t0 = strands_clock_mono_ms();
    CHECK_INT(strands_tool_registry_wait_started(reg, &cancel), 0);
    CHECK(strands_clock_mono_ms() - t0 < 1000);
    strands_tool_registry_started(reg);
    strands_tool_registry_started(reg);
    CHECK_INT(strands_tool_registry_wait_started(reg, NULL), 1);
    strands_tool_registry_free(reg);
}

int main(void)
{
    RUN(test_wait_started);
    RUN(test_add_source_lists_and_calls);
    RUN(test_add_source_errors);
    RUN(test_snapshot_consistent_across_refresh);
    RUN(test_call_survives_relist_and_removal);
    RUN(test_concurrent_refresh_and_calls);
    RUN(test_deadline_reaches_source);
    return test_report();
}
