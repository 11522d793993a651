/* Tests of the registries (src/runtime/registry.c, builtins.c): the
 * built-ins come first, register/find by name, version, name, factory and
 * settings checks, duplicates, the cap; and how registered entries reach
 * the settings table, --help and the runtime's assembly (parts.c).     */
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>

#include "runtime/internal.h"
#include "strands/clock.h"
#include "strands/registry.h"
#include "test.h"

/* ---- a fake model provider with one setting ---------------------------- */

typedef struct fake_settings {
    int level;    /* FAKE_LEVEL */
    char *label;  /* FAKE_LABEL, then FAKE_LABEL_OLD */
} fake_settings;

static const strands_setting fake_rows[] = {
    {.name = "FAKE_LEVEL", .type = STRANDS_SETTING_INT, .def = "3", .min = 1,
     .max = 5, .offset = offsetof(fake_settings, level),
     .help = "how fake the model is"},
    {.name = "FAKE_LABEL", .alt = "FAKE_LABEL_OLD",
     .type = STRANDS_SETTING_STRING, .def = "plain",
     .offset = offsetof(fake_settings, label), .help = "its label"},
};

static const strands_settings_group fake_group = {
    .version = STRANDS_SETTINGS_GROUP_VERSION,
    .title = "Fake model",
    .rows = fake_rows,
    .n_rows = 2,
    .struct_size = sizeof(fake_settings),
};

typedef struct fake_model {
    strands_model base;
} fake_model;

static strands_status fake_converse(strands_model *self,
                                    const strands_model_request *req,
                                    strands_model_response *out,
                                    strands_error *err)
{
    (void)self;
    (void)req;
    (void)out;
    return strands_error_set(err, STRANDS_E_INTERNAL, NULL, "not used");
}

static int models_destroyed;

static void fake_destroy(strands_model *self)
{
    models_destroyed++;
    free(self);
}

static const strands_model_vtab fake_vtab = {
    .version = STRANDS_MODEL_VTAB_VERSION,
    .name = "fake",
    .converse = fake_converse,
    .destroy = fake_destroy,
};

/* What the last factory call saw. */
static struct {
    const void *settings;
    const strands_runtime_config *config;
    char region[64];
    void *user;
    int level;
    char label[32];
    int credentials;
} seen_model;

static int user_token;

static strands_model *fake_create(strands_model_provider_context *ctx,
                                  strands_error *err)
{
    (void)err;
    const fake_settings *fs = ctx->settings;
    seen_model.settings = ctx->settings;
    seen_model.config = ctx->config;
    snprintf(seen_model.region, sizeof seen_model.region, "%s", ctx->region);
    seen_model.user = ctx->user;
    seen_model.level = fs->level;
    snprintf(seen_model.label, sizeof seen_model.label, "%s", fs->label);
    seen_model.credentials = ctx->credentials != NULL;
    fake_model *m = calloc(1, sizeof *m);
    if (m) m->base.vtab = &fake_vtab;
    return m ? &m->base : NULL;
}

static const strands_model_provider fake_provider = {
    .version = STRANDS_MODEL_PROVIDER_VERSION,
    .name = "fake",
    .description = "a fake model for tests",
    .settings = &fake_group,
    .create = fake_create,
    .user = &user_token,
};

/* ---- a fake session store (no settings) -------------------------------- */

static struct {
    char spec[64];
    char arg[64];
    int has_arg;
} seen_store;

static strands_session_store *store_create(
    const strands_session_store_context *ctx, strands_error *err)
{
    snprintf(seen_store.spec, sizeof seen_store.spec, "%s", ctx->spec);
    seen_store.has_arg = ctx->arg != NULL;
    snprintf(seen_store.arg, sizeof seen_store.arg, "%s",
             ctx->arg ? ctx->arg : "");
    if (ctx->arg && !strcmp(ctx->arg, "refuse")) {
        strands_error_set(err, STRANDS_E_INVALID, NULL,
                          "SESSION_STORE: refused");
        return NULL;
    }
    return strands_memory_store_new(10, 0);
}

static const strands_session_store_provider fake_store = {
    .version = STRANDS_SESSION_STORE_PROVIDER_VERSION,
    .name = "filelike",
    .description = "a store that takes an argument",
    .create = store_create,
};

/* ---- a fake tool source -------------------------------------------------- */

static strands_status echo_run(void *user, const json_t *input,
                               const strands_tool_context *ctx,
                               json_t **content_out, strands_error *err)
{
    (void)user;
    (void)input;
    (void)ctx;
    (void)err;
    *content_out = json_pack("[{s:s}]", "text", "ok");
    return STRANDS_OK;
}

static strands_status add_echo(const strands_tool_source_context *ctx,
                               strands_tool_registry *reg, strands_error *err)
{
    (void)ctx;
    strands_tool_def def = {.name = "echo_tool", .description = "d",
                            .run = echo_run};
    return strands_tool_registry_add(reg, &def, err);
}

static const strands_tool_source_provider fake_source = {
    .version = STRANDS_TOOL_SOURCE_PROVIDER_VERSION,
    .name = "fake-tools",
    .description = "adds echo_tool",
    .add_tools = add_echo,
};

/* ---- injected environment ----------------------------------------------- */

typedef struct fake_env {
    const char *vars[9];
} fake_env;

static const char *fake_getenv(void *user, const char *name)
{
    fake_env *e = user;
    size_t n = strlen(name);
    for (const char *const *v = e->vars; *v; v++)
        if (!strncmp(*v, name, n) && (*v)[n] == '=') return *v + n + 1;
    return NULL;
}

#define VARS(...) ((const char *const[]){__VA_ARGS__, NULL})

static strands_settings *load(strands_error *err, const char *const *vars)
{
    fake_env env;
    memset(&env, 0, sizeof env);
    for (int i = 0; vars && vars[i] && i < 8; i++) env.vars[i] = vars[i];
    strands_error_clear(err);
    return strands_settings_load(fake_getenv, &env, err);
}

/* ---- tests ---------------------------------------------------------------- */

static void test_builtins_come_first(void)
{
    char names[256];
    strands_registry_names(STRANDS_REGISTRY_MODEL_PROVIDER, names,
                           sizeof names);
    CHECK_STR(names, "bedrock,openai,anthropic");
    strands_registry_names(STRANDS_REGISTRY_SESSION_STORE, names,
                           sizeof names);
    CHECK_STR(names, "memory,file,redis,rediss,s3,agentcore-memory");
    strands_registry_names(STRANDS_REGISTRY_TOOL_SOURCE, names, sizeof names);
    CHECK_STR(names, "builtin,mcp");
    strands_registry_names((strands_registry_kind)7, names, sizeof names);
    CHECK_STR(names, "");
    const strands_model_provider *b = strands_model_provider_find("bedrock");
    CHECK(b && b->version == STRANDS_MODEL_PROVIDER_VERSION && b->settings);
    CHECK(strands_session_store_provider_find("memory") != NULL);
    CHECK(strands_tool_source_provider_find("builtin") != NULL);
    strands_error err;
    CHECK_INT(runtime_builtins_status(&err), STRANDS_OK);
}

static void test_unknown_names(void)
{
    CHECK(strands_model_provider_find("nope") == NULL);
    CHECK(strands_model_provider_find("") == NULL);
    CHECK(strands_model_provider_find(NULL) == NULL);
    CHECK(strands_model_provider_find("bedrock2") == NULL);
    CHECK(strands_model_provider_find("bedroc") == NULL);
    CHECK(strands_model_provider_find("memory") == NULL); /* other kind */
    CHECK(strands_session_store_provider_find("bedrock") == NULL);
    CHECK(strands_tool_source_provider_find("nope") == NULL);
    const char *arg = "untouched";
    CHECK(runtime_session_store_for("nope:x", &arg) == NULL);
    CHECK_STR(arg, "x");
    CHECK(runtime_session_store_for(NULL, &arg) == NULL);
}

static void test_register_and_find(void)
{
    strands_error err;
    CHECK_INT(strands_model_provider_register(&fake_provider, &err),
              STRANDS_OK);
    CHECK(strands_model_provider_find("fake") == &fake_provider);
    CHECK_INT(strands_session_store_provider_register(&fake_store, &err),
              STRANDS_OK);
    CHECK(strands_session_store_provider_find("filelike") == &fake_store);
    CHECK_INT(strands_tool_source_provider_register(&fake_source, &err),
              STRANDS_OK);
    CHECK(strands_tool_source_provider_find("fake-tools") == &fake_source);
    char names[256];
    strands_registry_names(STRANDS_REGISTRY_MODEL_PROVIDER, names,
                           sizeof names);
    CHECK_STR(names, "bedrock,openai,anthropic,fake");
    strands_registry_names(STRANDS_REGISTRY_TOOL_SOURCE, names, sizeof names);
    CHECK_STR(names, "builtin,mcp,fake-tools");
    /* A SESSION_STORE value is looked up by its scheme. */
    const char *arg = NULL;
    CHECK(runtime_session_store_for("filelike:/var/lib/x", &arg) ==
          &fake_store);
    CHECK_STR(arg, "/var/lib/x");
    CHECK(runtime_session_store_for("filelike", &arg) == &fake_store);
    CHECK(arg == NULL);
    CHECK(runtime_session_store_for("memory", &arg) != NULL);
    /* Names are cut to fit, never overrun. */
    char small[5];
    memset(small, 'x', sizeof small);
    strands_registry_names(STRANDS_REGISTRY_MODEL_PROVIDER, small,
                           sizeof small);
    CHECK_INT(strlen(small), 4);
}

static void test_duplicate_name_rejected(void)
{
    strands_error err;
    static const strands_model_provider again = {
        .version = STRANDS_MODEL_PROVIDER_VERSION, .name = "bedrock",
        .create = fake_create};
    CHECK_INT(strands_model_provider_register(&again, &err),
              STRANDS_E_INVALID);
    CHECK_STR(err.message, "model provider 'bedrock' is already registered");
    CHECK(strands_model_provider_find("bedrock") != &again);
    /* The same entry twice is a duplicate too. */
    CHECK_INT(strands_tool_source_provider_register(&fake_source, &err),
              STRANDS_E_INVALID);
    char names[256];
    strands_registry_names(STRANDS_REGISTRY_TOOL_SOURCE, names, sizeof names);
    CHECK_STR(names, "builtin,mcp,fake-tools");
}

static void test_wrong_version_rejected(void)
{
    strands_error err;
    static const strands_model_provider v0 = {
        .version = 0, .name = "old", .create = fake_create};
    static const strands_model_provider v2 = {
        .version = STRANDS_MODEL_PROVIDER_VERSION + 1, .name = "new",
        .create = fake_create};
    CHECK_INT(strands_model_provider_register(&v0, &err), STRANDS_E_INVALID);
    CHECK_STR(err.message, "model provider 'old': version 0, this library "
                           "has 1");
    CHECK_INT(strands_model_provider_register(&v2, &err), STRANDS_E_INVALID);
    CHECK(strands_model_provider_find("old") == NULL);
    CHECK(strands_model_provider_find("new") == NULL);
    static const strands_session_store_provider s9 = {
        .version = 9, .name = "s9", .create = store_create};
    CHECK_INT(strands_session_store_provider_register(&s9, &err),
              STRANDS_E_INVALID);
    CHECK(strstr(err.message, "session store 's9': version 9") != NULL);
    static const strands_tool_source_provider t9 = {
        .version = 9, .name = "t9", .add_tools = add_echo};
    CHECK_INT(strands_tool_source_provider_register(&t9, &err),
              STRANDS_E_INVALID);
    CHECK(strands_tool_source_provider_find("t9") == NULL);
    /* A settings group of another version is rejected with its entry. */
    static const strands_settings_group g9 = {.version = 9, .title = "G9"};
    static const strands_model_provider with_g9 = {
        .version = STRANDS_MODEL_PROVIDER_VERSION, .name = "g9",
        .settings = &g9, .create = fake_create};
    CHECK_INT(strands_model_provider_register(&with_g9, &err),
              STRANDS_E_INVALID);
    CHECK(strstr(err.message, "version 9") != NULL);
    CHECK(strands_model_provider_find("g9") == NULL);
}

static void test_bad_entries_rejected(void)
{
    strands_error err;
    CHECK_INT(strands_model_provider_register(NULL, &err), STRANDS_E_INVALID);
    CHECK_INT(strands_session_store_provider_register(NULL, &err),
              STRANDS_E_INVALID);
    CHECK_INT(strands_tool_source_provider_register(NULL, &err),
              STRANDS_E_INVALID);
    static const char *const bad_names[] = {
        "", "has space", "a:b", "a/b", "toolong-toolong-toolong-toolong-x",
        NULL};
    for (size_t i = 0; i < sizeof bad_names / sizeof bad_names[0]; i++) {
        strands_model_provider p = {.version = STRANDS_MODEL_PROVIDER_VERSION,
                                    .name = bad_names[i],
                                    .create = fake_create};
        if (strands_model_provider_register(&p, &err) != STRANDS_E_INVALID)
            FAIL_AT("name '%s' accepted", bad_names[i] ? bad_names[i] : "NULL");
    }
    static const strands_model_provider no_factory = {
        .version = STRANDS_MODEL_PROVIDER_VERSION, .name = "nofactory"};
    CHECK_INT(strands_model_provider_register(&no_factory, &err),
              STRANDS_E_INVALID);
    CHECK(strstr(err.message, "no factory") != NULL);
    static const strands_tool_source_provider no_add = {
        .version = STRANDS_TOOL_SOURCE_PROVIDER_VERSION, .name = "noadd"};
    CHECK_INT(strands_tool_source_provider_register(&no_add, &err),
              STRANDS_E_INVALID);
    /* A bad row is found at registration, not at start-up. */
    static const strands_setting bad_default[] = {
        {.name = "BAD_DEFAULT", .type = STRANDS_SETTING_INT, .def = "x",
         .max = 3, .help = "h"}};
    static const strands_settings_group bad_group = {
        .version = STRANDS_SETTINGS_GROUP_VERSION, .title = "Bad",
        .rows = bad_default, .n_rows = 1, .struct_size = sizeof(int)};
    static const strands_model_provider bad = {
        .version = STRANDS_MODEL_PROVIDER_VERSION, .name = "bad",
        .settings = &bad_group, .create = fake_create};
    CHECK_INT(strands_model_provider_register(&bad, &err), STRANDS_E_INVALID);
    CHECK(strstr(err.message, "BAD_DEFAULT") != NULL);
}

static void test_row_clash_rejected(void)
{
    strands_error err;
    /* A variable a core module reads. */
    static const strands_setting port_row[] = {
        {.name = "PORT", .type = STRANDS_SETTING_OPTIONAL, .help = "h"}};
    static const strands_settings_group port_group = {
        .version = STRANDS_SETTINGS_GROUP_VERSION, .title = "Mine",
        .rows = port_row, .n_rows = 1, .struct_size = sizeof(char *)};
    static const strands_tool_source_provider clash = {
        .version = STRANDS_TOOL_SOURCE_PROVIDER_VERSION, .name = "clash",
        .settings = &port_group, .add_tools = add_echo};
    CHECK_INT(strands_tool_source_provider_register(&clash, &err),
              STRANDS_E_INVALID);
    CHECK_STR(err.message, "tool source 'clash': setting PORT is already "
                           "read by 'HTTP server'");
    /* A variable another registered entry reads. */
    static const strands_setting level_row[] = {
        {.name = "FAKE_LEVEL", .type = STRANDS_SETTING_OPTIONAL, .help = "h"}};
    static const strands_settings_group level_group = {
        .version = STRANDS_SETTINGS_GROUP_VERSION, .title = "Other",
        .rows = level_row, .n_rows = 1, .struct_size = sizeof(char *)};
    static const strands_session_store_provider clash2 = {
        .version = STRANDS_SESSION_STORE_PROVIDER_VERSION, .name = "clash2",
        .settings = &level_group, .create = store_create};
    CHECK_INT(strands_session_store_provider_register(&clash2, &err),
              STRANDS_E_INVALID);
    CHECK(strstr(err.message, "FAKE_LEVEL is already read by 'Fake model'"));
    CHECK(strands_session_store_provider_find("clash2") == NULL);
    /* Two entries may share one group (e.g. two schemes of one store). */
    static const strands_model_provider twin = {
        .version = STRANDS_MODEL_PROVIDER_VERSION, .name = "fake-twin",
        .settings = &fake_group, .create = fake_create};
    CHECK_INT(strands_model_provider_register(&twin, &err), STRANDS_OK);
}

static void test_registered_rows_are_loaded_and_checked(void)
{
    strands_error err;
    strands_settings *s = load(&err, NULL);
    CHECK(s != NULL);
    const fake_settings *fs = strands_settings_values(s, &fake_group);
    CHECK(fs != NULL);
    if (fs) {
        CHECK_INT(fs->level, 3);
        CHECK_STR(fs->label, "plain");
    }
    strands_settings_free(s);
    s = load(&err, VARS("FAKE_LEVEL=5", "FAKE_LABEL_OLD=older"));
    CHECK(s != NULL);
    fs = strands_settings_values(s, &fake_group);
    if (fs) {
        CHECK_INT(fs->level, 5);
        CHECK_STR(fs->label, "older");
    }
    strands_settings_free(s);
    /* Checked at load whether selected or not, naming the variable. */
    CHECK(load(&err, VARS("FAKE_LEVEL=6")) == NULL);
    CHECK_STR(err.message, "FAKE_LEVEL: '6' is not an integer in 1..5");
    CHECK(load(&err, VARS("FAKE_LABEL_OLD=")) == NULL);
    CHECK_STR(err.message, "FAKE_LABEL_OLD: must not be empty");
    /* The registered provider is now a valid MODEL_PROVIDER, and the
     * message for an unknown one lists it.                              */
    s = load(&err, VARS("MODEL_PROVIDER=fake"));
    CHECK(s != NULL);
    CHECK_STR(strands_settings_config(s)->model_provider, "fake");
    strands_settings_free(s);
    CHECK(load(&err, VARS("MODEL_PROVIDER=nope")) == NULL);
    CHECK_STR(err.message, "MODEL_PROVIDER: unknown model provider 'nope' "
                           "(registered: bedrock,openai,anthropic,fake,fake-twin)");
    s = load(&err, VARS("SESSION_STORE=filelike:/tmp/s"));
    CHECK(s != NULL);
    strands_settings_free(s);
}

static char *help_text(void)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f) return NULL;
    strands_settings_print_help(f);
    fclose(f);
    return text;
}

static void test_help_lists_registered_rows(void)
{
    char *help = help_text();
    CHECK(help != NULL);
    if (!help) return;
    const char *at =
        strstr(help, "Model provider \"fake\" (MODEL_PROVIDER=fake): a fake "
                     "model for tests\n");
    CHECK(at != NULL);
    const char *next = at ? strstr(at + 1, "Model provider \"") : NULL;
    const char *level = at ? strstr(at, "FAKE_LEVEL") : NULL;
    const char *label = at ? strstr(at, "FAKE_LABEL") : NULL;
    CHECK(level && (!next || level < next));
    CHECK(label && (!next || label < next));
    /* A shared group is printed once. */
    CHECK(next && strstr(next, "(settings of \"Fake model\" above)"));
    CHECK(strstr(help, "Session store \"filelike\" (SESSION_STORE=filelike)"));
    CHECK(strstr(help, "Tool source \"fake-tools\": adds echo_tool"));
    CHECK(strstr(help, "Tool source \"builtin\"") <
          strstr(help, "Tool source \"fake-tools\""));
    free(help);
}

/* The runtime builds the model, store and tools through the entries the
 * settings select, handing each its own settings.                       */
static void test_parts_use_the_selected_entries(void)
{
    strands_error err;
    strands_settings *s = load(&err, VARS("MODEL_PROVIDER=fake",
                                          "SESSION_STORE=filelike:/d",
                                          "FAKE_LABEL=shiny",
                                          "AWS_REGION=eu-west-3",
                                          "TOOLS=calculator"));
    CHECK(s != NULL);
    if (!s) return;
    runtime_parts p;
    models_destroyed = 0;
    CHECK_INT(runtime_parts_build(&p, s, &err), 0);
    CHECK(p.model && p.store && p.tools && p.agent);
    CHECK(seen_model.settings == strands_settings_values(s, &fake_group));
    CHECK(seen_model.config == strands_settings_config(s));
    CHECK_STR(seen_model.region, "eu-west-3");
    CHECK(seen_model.user == &user_token);
    CHECK_STR(seen_model.label, "shiny");
    CHECK(seen_model.credentials);
    CHECK_INT(p.uses_credentials, 0);
    CHECK_STR(seen_store.spec, "filelike:/d");
    CHECK_STR(seen_store.arg, "/d");
    /* builtin first (only calculator), then the registered source */
    CHECK_INT(strands_tool_registry_count(p.tools), 2);
    const json_t *specs = strands_tool_registry_specs(p.tools);
    CHECK_STR(json_string_value(json_object_get(json_object_get(
                  json_array_get(specs, 0), "toolSpec"), "name")),
              "calculator");
    CHECK_STR(json_string_value(json_object_get(json_object_get(
                  json_array_get(specs, 1), "toolSpec"), "name")),
              "echo_tool");
    runtime_parts_free(&p);
    CHECK_INT(models_destroyed, 1);
    CHECK(p.model == NULL && p.agent == NULL);
    strands_settings_free(s);

    /* A store factory's E_INVALID is a configuration error: status 2. */
    s = load(&err, VARS("MODEL_PROVIDER=fake",
                        "SESSION_STORE=filelike:refuse"));
    CHECK(s != NULL);
    if (!s) return;
    CHECK_INT(runtime_parts_build(&p, s, &err), 2);
    CHECK_STR(err.message, "SESSION_STORE: refused");
    CHECK(p.agent == NULL);
    runtime_parts_free(&p);
    strands_settings_free(s);
    /* "memory" takes no argument. */
    s = load(&err, VARS("MODEL_PROVIDER=fake", "SESSION_STORE=memory:x"));
    CHECK(s != NULL);
    if (!s) return;
    CHECK_INT(runtime_parts_build(&p, s, &err), 2);
    CHECK_STR(err.message, "SESSION_STORE: 'memory' takes no argument "
                           "(got 'memory:x')");
    runtime_parts_free(&p);
    strands_settings_free(s);
}

/* ---- the cap, and concurrent finds while registering -------------------- */

static atomic_int stop_finding, finders_started;

/* Finds while the main thread registers; returns how many finds hit. */
static void *finder(void *arg)
{
    (void)arg;
    long hits = 0;
    atomic_fetch_add(&finders_started, 1);
    do {
        hits += strands_tool_source_provider_find("builtin") != NULL;
    } while (!atomic_load(&stop_finding));
    return (void *)hits;
}

static void test_cap_and_concurrent_find(void)
{
    static char names[STRANDS_REGISTRY_MAX + 1][16];
    static strands_tool_source_provider many[STRANDS_REGISTRY_MAX + 1];
    pthread_t t[3];
    atomic_store(&stop_finding, 0);
    for (int i = 0; i < 3; i++) pthread_create(&t[i], NULL, finder, NULL);
    int64_t deadline = strands_clock_mono_ms() + 5000;
    while (atomic_load(&finders_started) < 3 &&
           strands_clock_mono_ms() < deadline)
        usleep(1000);
    runtime_entry e[STRANDS_REGISTRY_MAX];
    size_t have = runtime_registry_list(STRANDS_REGISTRY_TOOL_SOURCE, e);
    strands_error err;
    size_t added = 0;
    strands_status st = STRANDS_OK;
    for (size_t i = 0; i <= STRANDS_REGISTRY_MAX && st == STRANDS_OK; i++) {
        snprintf(names[i], sizeof names[i], "src%zu", i);
        many[i] = (strands_tool_source_provider){
            .version = STRANDS_TOOL_SOURCE_PROVIDER_VERSION,
            .name = names[i], .add_tools = add_echo};
        st = strands_tool_source_provider_register(&many[i], &err);
        if (st == STRANDS_OK) added++;
    }
    atomic_store(&stop_finding, 1);
    for (int i = 0; i < 3; i++) {
        void *hits;
        pthread_join(t[i], &hits);
        CHECK((long)hits > 0);
    }
    CHECK_INT(st, STRANDS_E_TOO_LARGE);
    CHECK_INT(have + added, STRANDS_REGISTRY_MAX);
    CHECK(strstr(err.message, "32 are registered already") != NULL);
    CHECK_INT(runtime_registry_list(STRANDS_REGISTRY_TOOL_SOURCE, e),
              STRANDS_REGISTRY_MAX);
}

int main(void)
{
    setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
    RUN(test_builtins_come_first);
    RUN(test_unknown_names);
    RUN(test_register_and_find);
    RUN(test_duplicate_name_rejected);
    RUN(test_wrong_version_rejected);
    RUN(test_bad_entries_rejected);
    RUN(test_row_clash_rejected);
    RUN(test_registered_rows_are_loaded_and_checked);
    RUN(test_help_lists_registered_rows);
    RUN(test_parts_use_the_selected_entries);
    RUN(test_cap_and_concurrent_find);
    return test_report();
}
