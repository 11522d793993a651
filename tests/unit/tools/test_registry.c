/* Tests for the tool registry and strands_tool_call (src/tools/registry.c)
 * and the built-in table (src/tools/builtin/builtin.c): name rules,
 * duplicates, schema parsing and normalisation, the toolSpec array,
 * free_user ownership, and the checks strands_tool_call applies to what a
 * run function returns.                                                 */
#include <pthread.h>

#include "strands/tool.h"
#include "test.h"

/* ---- fake tools --------------------------------------------------------------- */

typedef struct fake {
    int freed;               /* times free_user ran */
    int calls;
    int mode;                /* what the run function does, see fake_run */
    strands_status status;   /* for the error modes */
    const json_t *seen_input;
    const strands_tool_context *seen_ctx;
} fake;

enum {
    RUN_OK,             /* [{"text":"ok"}] */
    RUN_NULL,           /* OK without content */
    RUN_OBJECT,         /* OK with {"text":"x"} */
    RUN_BAD_BLOCK,      /* OK with [{"text":"a"}, "b"] */
    RUN_ERR_MSG,        /* error with a message */
    RUN_ERR_BARE,       /* error, err untouched */
    RUN_ERR_CONTENT,    /* error, but content set too */
    RUN_ERR_OTHER       /* returns status but sets err->status to E_IO */
};

static void fake_free(void *user) { ((fake *)user)->freed++; }

static strands_status fake_run(void *user, const json_t *input,
                               const strands_tool_context *ctx,
                               json_t **content_out, strands_error *err)
{
    fake *f = user;
    f->calls++;
    f->seen_input = input;
    f->seen_ctx = ctx;
    switch (f->mode) {
    case RUN_OK:
        *content_out = json_pack("[{s:s}]", "text", "ok");
        return STRANDS_OK;
    case RUN_NULL:
        return STRANDS_OK;
    case RUN_OBJECT:
        *content_out = json_pack("{s:s}", "text", "x");
        return STRANDS_OK;
    case RUN_BAD_BLOCK:
        *content_out = json_pack("[{s:s}, s]", "text", "a", "b");
        return STRANDS_OK;
    case RUN_ERR_MSG:
        return strands_error_set(err, f->status, "MyCode", "it broke: %d", 7);
    case RUN_ERR_BARE:
        return f->status;
    case RUN_ERR_CONTENT:
        *content_out = json_pack("[{s:s}]", "text", "partial");
        return strands_error_set(err, f->status, NULL, "half done");
    case RUN_ERR_OTHER:
        strands_error_set(err, STRANDS_E_IO, NULL, "disk on fire");
        return f->status;
    }
    return STRANDS_E_INTERNAL;
}

static strands_tool_def fake_def(const char *name, fake *f)
{
    strands_tool_def def = {
        .name = name,
        .description = "a fake tool",
        .input_schema_json = NULL,
        .run = fake_run,
        .user = f,
        .free_user = fake_free,
    };
    return def;
}

static char *dump(const json_t *j)
{
    return json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
}

/* ---- lifecycle and lookups -------------------------------------------------------- */

static void test_empty_registry(void)
{
    strands_tool_registry *reg = strands_tool_registry_new();
    CHECK(reg != NULL);
    CHECK_INT(strands_tool_registry_count(reg), 0);
    char *s = dump(strands_tool_registry_specs(reg));
    CHECK_STR(s, "[]");
    free(s);
    CHECK(strands_tool_registry_find(reg, "x") == NULL);
    CHECK(strands_tool_registry_find(reg, NULL) == NULL);
    strands_tool_registry_free(reg);
    strands_tool_registry_free(NULL);          /* no-op */
    CHECK_INT(strands_tool_registry_count(NULL), 0);
    CHECK(strands_tool_registry_specs(NULL) == NULL);
    CHECK(strands_tool_registry_find(NULL, "x") == NULL);
    CHECK(strands_tool_name(NULL) == NULL);
}

static void test_add_find_free(void)
{
    fake a = {0}, b = {0}, c = {0};
    strands_tool_registry *reg = strands_tool_registry_new();
    strands_error err;
    strands_tool_def da = fake_def("alpha", &a);
    strands_tool_def db = fake_def("beta", &b);
    strands_tool_def dc = fake_def("gamma", &c);
    dc.free_user = NULL;                      /* allowed */
    CHECK_INT(strands_tool_registry_add(reg, &da, &err), STRANDS_OK);
    CHECK_INT(strands_tool_registry_add(reg, &db, &err), STRANDS_OK);
    CHECK_INT(strands_tool_registry_add(reg, &dc, &err), STRANDS_OK);
    CHECK_INT(strands_tool_registry_count(reg), 3);
    const strands_tool *t = strands_tool_registry_find(reg, "beta");
    CHECK(t != NULL);
    CHECK_STR(strands_tool_name(t), "beta");
    CHECK(strands_tool_registry_find(reg, "Beta") == NULL);   /* exact */
    CHECK(strands_tool_registry_find(reg, "bet") == NULL);
    CHECK(strands_tool_registry_find(reg, "delta") == NULL);
    CHECK_INT(a.freed + b.freed + c.freed, 0);
    strands_tool_registry_free(reg);
    CHECK_INT(a.freed, 1);
    CHECK_INT(b.freed, 1);
    CHECK_INT(c.freed, 0);
}

static void test_strings_are_copied(void)
{
    fake f = {0};
    char name[16] = "copied", desc[32] = "original description";
    char schema[64] = "{\"type\":\"object\",\"properties\":{}}";
    strands_tool_def def = fake_def(name, &f);
    def.description = desc;
    def.input_schema_json = schema;
    strands_tool_registry *reg = strands_tool_registry_new();
    strands_error err;
    CHECK_INT(strands_tool_registry_add(reg, &def, &err), STRANDS_OK);
    memset(name, 'z', sizeof name - 1);
    memset(desc, 'z', sizeof desc - 1);
    memset(schema, 'z', sizeof schema - 1);
    const strands_tool *t = strands_tool_registry_find(reg, "copied");
    CHECK(t != NULL);
    CHECK_STR(strands_tool_name(t), "copied");
    const json_t *spec = json_object_get(
        json_array_get(strands_tool_registry_specs(reg), 0), "toolSpec");
    CHECK_STR(json_string_value(json_object_get(spec, "description")),
              "original description");
    strands_tool_registry_free(reg);
    CHECK_INT(f.freed, 1);
}

static void test_many_tools_keep_order(void)
{
    enum { N = 100 };
    fake f[N];
    memset(f, 0, sizeof f);
    strands_tool_registry *reg = strands_tool_registry_new();
    strands_error err;
    for (int i = 0; i < N; i++) {
        char name[16];
        snprintf(name, sizeof name, "tool%03d", i);
        strands_tool_def def = fake_def(name, &f[i]);
        CHECK_INT(strands_tool_registry_add(reg, &def, &err), STRANDS_OK);
    }
    CHECK_INT(strands_tool_registry_count(reg), N);
    const json_t *specs = strands_tool_registry_specs(reg);
    CHECK_INT(json_array_size(specs), N);
    for (int i = 0; i < N; i++) {
        char name[16];
        snprintf(name, sizeof name, "tool%03d", i);
        const json_t *spec = json_object_get(json_array_get(specs, (size_t)i),
                                             "toolSpec");
        CHECK_STR(json_string_value(json_object_get(spec, "name")), name);
        CHECK_STR(strands_tool_name(strands_tool_registry_find(reg, name)),
                  name);
    }
    strands_tool_registry_free(reg);
    for (int i = 0; i < N; i++) CHECK_INT(f[i].freed, 1);
}

/* ---- names ---------------------------------------------------------------- */

/* Adds a tool named `name`; returns the status, the message in msg, and
 * checks free_user ran exactly once when the add failed.               */
static strands_status try_name(strands_tool_registry *reg, const char *name,
                               char *msg, size_t msgsz)
{
    fake f = {0};
    strands_tool_def def = fake_def(name, &f);
    strands_error err;
    strands_error_clear(&err);
    strands_status st = strands_tool_registry_add(reg, &def, &err);
    snprintf(msg, msgsz, "%s", err.message);
    if (st != STRANDS_OK) {
        if (f.freed != 1) FAIL_AT("free_user ran %d times for '%s'", f.freed,
                                  name ? name : "(null)");
        if (err.status != st) FAIL_AT("err.status %d != %d", err.status, st);
    }
    return st;
}

static void test_name_rules(void)
{
    strands_tool_registry *reg = strands_tool_registry_new();
    char msg[STRANDS_ERROR_MESSAGE_MAX];
    char n64[65], n65[66];
    memset(n64, 'a', 64);
    n64[64] = '\0';
    memset(n65, 'b', 65);
    n65[65] = '\0';
    const char *good[] = {"a", "Z", "9", "-", "__", "get_weather",
                          "get-weather2", "ABC_def-123", n64};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        if (try_name(reg, good[i], msg, sizeof msg) != STRANDS_OK)
            FAIL_AT("rejected '%s': %s", good[i], msg);
    }
    CHECK_INT(strands_tool_registry_count(reg), 9);

    CHECK_INT(try_name(reg, "has space", msg, sizeof msg), STRANDS_E_INVALID);
    CHECK_STR(msg, "invalid tool name 'has space': must match "
                   "[a-zA-Z0-9_-]{1,64}");
    const char *bad[] = {"dot.name", "slash/name", "caf\xc3\xa9", "tab\t",
                         "colon:x", "plus+"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_INT(try_name(reg, bad[i], msg, sizeof msg), STRANDS_E_INVALID);
        CHECK(strstr(msg, "must match [a-zA-Z0-9_-]{1,64}") != NULL);
    }
    CHECK_INT(try_name(reg, "", msg, sizeof msg), STRANDS_E_INVALID);
    CHECK_STR(msg, "tool name is missing");
    CHECK_INT(try_name(reg, NULL, msg, sizeof msg), STRANDS_E_INVALID);
    CHECK_STR(msg, "tool name is missing");
    CHECK_INT(try_name(reg, n65, msg, sizeof msg), STRANDS_E_INVALID);
    char want[200];
    snprintf(want, sizeof want,
             "invalid tool name '%.64s...': longer than 64 characters", n65);
    CHECK_STR(msg, want);
    CHECK_INT(strands_tool_registry_count(reg), 9);   /* none added */
    strands_tool_registry_free(reg);
}

static void test_duplicates(void)
{
    strands_tool_registry *reg = strands_tool_registry_new();
    char msg[STRANDS_ERROR_MESSAGE_MAX];
    fake first = {0};
    strands_tool_def def = fake_def("get_weather", &first);
    strands_error err;
    CHECK_INT(strands_tool_registry_add(reg, &def, &err), STRANDS_OK);

    CHECK_INT(try_name(reg, "get_weather", msg, sizeof msg),
              STRANDS_E_INVALID);
    CHECK_STR(msg, "duplicate tool name 'get_weather'");
    CHECK_INT(try_name(reg, "get-weather", msg, sizeof msg),
              STRANDS_E_INVALID);
    CHECK_STR(msg, "duplicate tool name 'get-weather': already registered "
                   "as 'get_weather' (names may not differ only by '-' and "
                   "'_')");
    /* Not duplicates: case differs, or an extra character. */
    CHECK_INT(try_name(reg, "Get_weather", msg, sizeof msg), STRANDS_OK);
    CHECK_INT(try_name(reg, "get_weather_", msg, sizeof msg), STRANDS_OK);
    CHECK_INT(try_name(reg, "getweather", msg, sizeof msg), STRANDS_OK);
    CHECK_INT(try_name(reg, "a-b_c", msg, sizeof msg), STRANDS_OK);
    CHECK_INT(try_name(reg, "a_b-c", msg, sizeof msg), STRANDS_E_INVALID);
    CHECK_INT(try_name(reg, "a-b-c", msg, sizeof msg), STRANDS_E_INVALID);
    CHECK_INT(strands_tool_registry_count(reg), 5);
    /* The original survives a rejected duplicate. */
    CHECK(strands_tool_registry_find(reg, "get_weather") != NULL);
    CHECK(strands_tool_registry_find(reg, "get-weather") == NULL);
    CHECK_INT(first.freed, 0);
    strands_tool_registry_free(reg);
    CHECK_INT(first.freed, 1);
}

static void test_add_argument_errors(void)
{
    strands_tool_registry *reg = strands_tool_registry_new();
    strands_error err;
    fake f = {0};
    strands_tool_def def = fake_def("norun", &f);
    def.run = NULL;
    CHECK_INT(strands_tool_registry_add(reg, &def, &err), STRANDS_E_INVALID);
    CHECK_STR(err.message, "tool 'norun' has no run function");
    CHECK_INT(f.freed, 1);

    def = fake_def("noreg", &f);
    CHECK_INT(strands_tool_registry_add(NULL, &def, &err), STRANDS_E_INVALID);
    CHECK_STR(err.message, "tool registry is NULL");
    CHECK_INT(f.freed, 2);

    CHECK_INT(strands_tool_registry_add(reg, NULL, &err), STRANDS_E_INVALID);
    CHECK_STR(err.message, "tool definition is NULL");
    /* err may be NULL. */
    def = fake_def("bad name", &f);
    CHECK_INT(strands_tool_registry_add(reg, &def, NULL), STRANDS_E_INVALID);
    CHECK_INT(f.freed, 3);
    CHECK_INT(strands_tool_registry_count(reg), 0);
    strands_tool_registry_free(reg);
    CHECK_INT(f.freed, 3);
}

/* ---- schemas and specs ---------------------------------------------------------- */

/* Registers a tool with the given schema text; returns the dumped
 * inputSchema.json (caller frees) or NULL, with the status in *st.     */
static char *schema_of(const char *schema, strands_status *st, char *msg)
{
    fake f = {0};
    strands_tool_registry *reg = strands_tool_registry_new();
    strands_tool_def def = fake_def("t", &f);
    def.input_schema_json = schema;
    strands_error err;
    strands_error_clear(&err);
    *st = strands_tool_registry_add(reg, &def, &err);
    strcpy(msg, err.message);
    char *out = NULL;
    if (*st == STRANDS_OK) {
        const json_t *spec = json_object_get(
            json_array_get(strands_tool_registry_specs(reg), 0), "toolSpec");
        out = dump(json_object_get(json_object_get(spec, "inputSchema"),
                                   "json"));
    }
    strands_tool_registry_free(reg);
    if (f.freed != 1) FAIL_AT("free_user ran %d times", f.freed);
    return out;
}

static void test_schema_normalisation(void)
{
    strands_status st;
    char msg[STRANDS_ERROR_MESSAGE_MAX];
    static const struct { const char *in, *out; } cases[] = {
        {NULL, "{\"properties\":{},\"type\":\"object\"}"},
        {"{}", "{\"properties\":{},\"type\":\"object\"}"},
        {"{\"type\":\"object\"}", "{\"properties\":{},\"type\":\"object\"}"},
        {"{\"properties\":{\"q\":{\"type\":\"string\"}},\"required\":[\"q\"]}",
         "{\"properties\":{\"q\":{\"type\":\"string\"}},\"required\":[\"q\"],"
         "\"type\":\"object\"}"},
        /* Present values are kept as they are. */
        {"{\"type\":\"object\",\"properties\":{\"n\":{\"type\":\"number\"}},"
         "\"additionalProperties\":false}",
         "{\"additionalProperties\":false,\"properties\":{\"n\":{\"type\":"
         "\"number\"}},\"type\":\"object\"}"},
        {" {\"$schema\":\"x\"} ",
         "{\"$schema\":\"x\",\"properties\":{},\"type\":\"object\"}"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *got = schema_of(cases[i].in, &st, msg);
        CHECK_INT(st, STRANDS_OK);
        CHECK_STR(got, cases[i].out);
        free(got);
    }
}

static void test_schema_errors(void)
{
    strands_status st;
    char msg[STRANDS_ERROR_MESSAGE_MAX];
    CHECK(schema_of("{\"type\":", &st, msg) == NULL);
    CHECK_INT(st, STRANDS_E_INVALID);
    CHECK(strncmp(msg, "tool 't': input schema is not valid JSON: ", 42) ==
          0);
    CHECK(strstr(msg, "(line 1, column") != NULL);
    CHECK(schema_of("", &st, msg) == NULL);
    CHECK_INT(st, STRANDS_E_INVALID);
    CHECK(schema_of("{\"a\":1,\"a\":2}", &st, msg) == NULL);   /* dup key */
    CHECK_INT(st, STRANDS_E_INVALID);
    CHECK(strstr(msg, "duplicate") != NULL);
    CHECK(schema_of("{} {}", &st, msg) == NULL);
    CHECK_INT(st, STRANDS_E_INVALID);
    const char *not_objects[] = {"[]", "42", "\"object\"", "null", "true"};
    for (size_t i = 0; i < 5; i++) {
        CHECK(schema_of(not_objects[i], &st, msg) == NULL);
        CHECK_INT(st, STRANDS_E_INVALID);
        if (strcmp(msg, "tool 't': input schema must be a JSON object") != 0
            && strstr(msg, "not valid JSON") == NULL)
            FAIL_AT("schema %s: unexpected message '%s'", not_objects[i], msg);
    }
}

static void test_specs_shape(void)
{
    fake a = {0}, b = {0};
    strands_tool_registry *reg = strands_tool_registry_new();
    strands_error err;
    strands_tool_def da = fake_def("lookup", &a);
    da.description = "Looks \"things\" up";
    da.input_schema_json =
        "{\"type\":\"object\",\"properties\":{\"q\":{\"type\":\"string\"}},"
        "\"required\":[\"q\"]}";
    strands_tool_def db = fake_def("ping", &b);
    db.description = NULL;                     /* gets a default */
    CHECK_INT(strands_tool_registry_add(reg, &da, &err), STRANDS_OK);
    CHECK_INT(strands_tool_registry_add(reg, &db, &err), STRANDS_OK);
    const json_t *specs = strands_tool_registry_specs(reg);
    char *s = dump(specs);
    CHECK_STR(s,
              "[{\"toolSpec\":{\"description\":\"Looks \\\"things\\\" up\","
              "\"inputSchema\":{\"json\":{\"properties\":{\"q\":{\"type\":"
              "\"string\"}},\"required\":[\"q\"],\"type\":\"object\"}},"
              "\"name\":\"lookup\"}},"
              "{\"toolSpec\":{\"description\":\"Tool which performs ping\","
              "\"inputSchema\":{\"json\":{\"properties\":{},\"type\":"
              "\"object\"}},\"name\":\"ping\"}}]");
    free(s);
    /* The cached array is the same object until the registry changes. */
    CHECK(strands_tool_registry_specs(reg) == specs);
    fake c = {0};
    strands_tool_def dc = fake_def("third", &c);
    dc.description = "";                       /* empty: default as well */
    CHECK_INT(strands_tool_registry_add(reg, &dc, &err), STRANDS_OK);
    specs = strands_tool_registry_specs(reg);
    CHECK_INT(json_array_size(specs), 3);
    CHECK_STR(json_string_value(json_object_get(
                  json_object_get(json_array_get(specs, 2), "toolSpec"),
                  "description")), "Tool which performs third");
    /* A failed add leaves the specs untouched. */
    strands_tool_def dup = fake_def("lookup", &c);
    CHECK_INT(strands_tool_registry_add(reg, &dup, &err), STRANDS_E_INVALID);
    CHECK_INT(json_array_size(strands_tool_registry_specs(reg)), 3);
    strands_tool_registry_free(reg);
    CHECK_INT(a.freed + b.freed, 2);
    CHECK_INT(c.freed, 2);                     /* once added, once rejected */
}

/* ---- strands_tool_call ------------------------------------------------------------ */

typedef struct call_env {
    strands_tool_registry *reg;
    const strands_tool *tool;
    fake f;
} call_env;

static void env_init(call_env *e, int mode, strands_status status)
{
    memset(e, 0, sizeof *e);
    e->f.mode = mode;
    e->f.status = status;
    e->reg = strands_tool_registry_new();
    strands_tool_def def = fake_def("faker", &e->f);
    strands_error err;
    if (strands_tool_registry_add(e->reg, &def, &err) != STRANDS_OK)
        FAIL_AT("setup: %s", err.message);
    e->tool = strands_tool_registry_find(e->reg, "faker");
}

static void env_free(call_env *e)
{
    strands_tool_registry_free(e->reg);
    if (e->f.freed != 1) FAIL_AT("free_user ran %d times", e->f.freed);
}

static void test_call_success(void)
{
    call_env e;
    env_init(&e, RUN_OK, STRANDS_OK);
    json_t *input = json_pack("{s:i}", "x", 1);
    atomic_int cancelled = 0;
    strands_tool_context ctx = {"tooluse_1", "session-1", &cancelled, 0, NULL,
                                NULL};
    json_t *content = NULL;
    strands_error err;
    strands_error_set(&err, STRANDS_E_IO, "junk", "stale message");
    CHECK_INT(strands_tool_call(e.tool, input, &ctx, &content, &err),
              STRANDS_OK);
    CHECK_INT(e.f.calls, 1);
    CHECK(e.f.seen_input == input);
    CHECK(e.f.seen_ctx == &ctx);
    char *s = dump(content);
    CHECK_STR(s, "[{\"text\":\"ok\"}]");
    free(s);
    json_decref(content);
    CHECK_INT(err.status, STRANDS_OK);          /* cleared on success */
    CHECK_STR(err.message, "");
    CHECK_STR(err.code, "");
    /* err and ctx may be NULL. */
    CHECK_INT(strands_tool_call(e.tool, input, NULL, &content, NULL),
              STRANDS_OK);
    json_decref(content);
    json_decref(input);
    env_free(&e);
}

static void expect_call(int mode, strands_status status, strands_status want,
                        const char *want_msg, const char *want_code)
{
    call_env e;
    env_init(&e, mode, status);
    json_t *content = (json_t *)&e;            /* must be reset to NULL */
    strands_error err;
    strands_error_clear(&err);
    strands_status st = strands_tool_call(e.tool, NULL, NULL, &content, &err);
    CHECK_INT(st, want);
    CHECK_INT(err.status, want);
    CHECK(content == NULL);
    CHECK_STR(err.message, want_msg);
    CHECK_STR(err.code, want_code);
    CHECK_INT(e.f.calls, 1);
    env_free(&e);
}

static void test_call_bad_output(void)
{
    expect_call(RUN_NULL, STRANDS_OK, STRANDS_E_TOOL,
                "tool 'faker' returned no content", "E_TOOL");
    expect_call(RUN_OBJECT, STRANDS_OK, STRANDS_E_TOOL,
                "tool 'faker' returned content that is not a JSON array",
                "E_TOOL");
    expect_call(RUN_BAD_BLOCK, STRANDS_OK, STRANDS_E_TOOL,
                "tool 'faker' returned content block 1 that is not a JSON "
                "object", "E_TOOL");
}

static void test_call_errors(void)
{
    expect_call(RUN_ERR_MSG, STRANDS_E_INVALID, STRANDS_E_INVALID,
                "it broke: 7", "MyCode");
    expect_call(RUN_ERR_BARE, STRANDS_E_TOOL, STRANDS_E_TOOL,
                "tool 'faker' failed (tool failed)", "E_TOOL");
    expect_call(RUN_ERR_BARE, STRANDS_E_TIMEOUT, STRANDS_E_TIMEOUT,
                "tool 'faker' failed (timed out)", "E_TIMEOUT");
    /* Content set alongside an error is released (ASan checks the leak). */
    expect_call(RUN_ERR_CONTENT, STRANDS_E_UPSTREAM, STRANDS_E_UPSTREAM,
                "half done", "E_UPSTREAM");
    /* The returned status wins over what the tool put in err->status. */
    expect_call(RUN_ERR_OTHER, STRANDS_E_TOOL, STRANDS_E_TOOL,
                "disk on fire", "E_IO");
}

static void test_call_argument_errors(void)
{
    call_env e;
    env_init(&e, RUN_OK, STRANDS_OK);
    strands_error err;
    json_t *content = (json_t *)&e;
    CHECK_INT(strands_tool_call(NULL, NULL, NULL, &content, &err),
              STRANDS_E_INVALID);
    CHECK(content == NULL);
    CHECK_STR(err.message, "strands_tool_call: tool is NULL");
    CHECK_INT(strands_tool_call(e.tool, NULL, NULL, NULL, &err),
              STRANDS_E_INVALID);
    CHECK_STR(err.message, "strands_tool_call: content_out is NULL");
    CHECK_INT(e.f.calls, 0);
    env_free(&e);
}

/* ---- built-ins -------------------------------------------------------------------- */

static void test_builtins(void)
{
    CHECK_STR(strands_builtin_tool_names(),
              "calculator,current_time,http_request,file_read,file_write,"
              "file_list,shell");
    strands_tool_registry *reg = strands_tool_registry_new();
    strands_error err;
    /* Every advertised name registers. */
    char names[128];
    snprintf(names, sizeof names, "%s", strands_builtin_tool_names());
    size_t n = 0;
    for (char *save = NULL, *tok = strtok_r(names, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        CHECK_INT(strands_tool_registry_add_builtin(reg, tok, &err),
                  STRANDS_OK);
        CHECK(strands_tool_registry_find(reg, tok) != NULL);
        n++;
    }
    CHECK_INT(n, 7);
    CHECK_INT(strands_tool_registry_count(reg), 7);
    CHECK_INT(strands_tool_registry_add_builtin(reg, "calculator", &err),
              STRANDS_E_INVALID);
    CHECK_STR(err.message, "duplicate tool name 'calculator'");
    CHECK_INT(strands_tool_registry_add_builtin(reg, "nope", &err),
              STRANDS_E_NOT_FOUND);
    CHECK_STR(err.message, "unknown built-in tool 'nope' (available: "
                           "calculator,current_time,http_request,file_read,"
                           "file_write,file_list,shell)");
    CHECK_INT(strands_tool_registry_add_builtin(reg, NULL, &err),
              STRANDS_E_NOT_FOUND);
    /* Their specs carry a description and an object schema. */
    size_t i;
    const json_t *spec;
    json_array_foreach(strands_tool_registry_specs(reg), i, spec) {
        const json_t *ts = json_object_get(spec, "toolSpec");
        CHECK(json_string_length(json_object_get(ts, "description")) > 20);
        const json_t *schema =
            json_object_get(json_object_get(ts, "inputSchema"), "json");
        CHECK_STR(json_string_value(json_object_get(schema, "type")),
                  "object");
        CHECK(json_is_object(json_object_get(schema, "properties")));
    }
    strands_tool_registry_free(reg);
}

/* Lookups and calls from several threads on a filled registry. */
typedef struct worker_arg {
    const strands_tool_registry *reg;
    int failures;
} worker_arg;

static void *worker(void *p)
{
    worker_arg *w = p;
    json_t *input = json_pack("{s:s}", "expression", "6*7");
    for (int i = 0; i < 200; i++) {
        const strands_tool *t = strands_tool_registry_find(w->reg,
                                                           "calculator");
        json_t *content = NULL;
        strands_error err;
        if (!t || strands_tool_call(t, input, NULL, &content, &err) != 0 ||
            strcmp(json_string_value(json_object_get(
                       json_array_get(content, 0), "text")), "42") != 0)
            w->failures++;
        json_decref(content);
    }
    json_decref(input);
    return NULL;
}

static void test_concurrent_calls(void)
{
    strands_tool_registry *reg = strands_tool_registry_new();
    strands_error err;
    CHECK_INT(strands_tool_registry_add_builtin(reg, "calculator", &err),
              STRANDS_OK);
    pthread_t th[4];
    worker_arg args[4];
    for (int i = 0; i < 4; i++) {
        args[i] = (worker_arg){reg, 0};
        CHECK_INT(pthread_create(&th[i], NULL, worker, &args[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        CHECK_INT(args[i].failures, 0);
    }
    strands_tool_registry_free(reg);
}

int main(void)
{
    RUN(test_empty_registry);
    RUN(test_add_find_free);
    RUN(test_strings_are_copied);
    RUN(test_many_tools_keep_order);
    RUN(test_name_rules);
    RUN(test_duplicates);
    RUN(test_add_argument_errors);
    RUN(test_schema_normalisation);
    RUN(test_schema_errors);
    RUN(test_specs_shape);
    RUN(test_call_success);
    RUN(test_call_bad_output);
    RUN(test_call_errors);
    RUN(test_call_argument_errors);
    RUN(test_builtins);
    RUN(test_concurrent_calls);
    return test_report();
}
