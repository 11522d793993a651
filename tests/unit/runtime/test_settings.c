/* Tests of settings rows and groups (src/runtime/settings_parse.c) on a
 * group of every type: defaults, fallback variables, ranges, choices,
 * the extra check, error messages that name the variable, cleanup, the
 * definition checks that registration relies on, and the help lines.   */
#include <stddef.h>
#include <stdint.h>

#include "strands/log.h"
#include "strands/settings.h"
#include "test.h"

#define MAX_VARS 8

typedef struct fake_env {
    const char *vars[MAX_VARS + 1];
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

/* A struct with one field of every type, and guard bytes around them. */
typedef struct all_types {
    uint32_t guard_a;
    int count;
    size_t bytes;
    int64_t seconds;
    char *name;
    char *list;
    char *note;
    char *url;
    char *mode;
    int level;
    char *key;
    uint32_t guard_b;
} all_types;

static int checks_called;

static strands_status no_x(const char *v, strands_error *err)
{
    checks_called++;
    if (strchr(v, 'x'))
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "'%s' must not contain x", v);
    return STRANDS_OK;
}

#define OFF(f) offsetof(all_types, f)

static const strands_setting rows[] = {
    {.name = "T_COUNT", .type = STRANDS_SETTING_INT, .def = "5", .min = -3,
     .max = 9, .offset = OFF(count), .help = "an int"},
    {.name = "T_BYTES", .type = STRANDS_SETTING_SIZE, .def = "1024",
     .min = 1, .max = 1LL << 40, .offset = OFF(bytes), .help = "a size"},
    {.name = "T_SECONDS", .type = STRANDS_SETTING_INT64, .def = "0",
     .min = 0, .max = 1LL << 40, .offset = OFF(seconds), .help = "an int64"},
    {.name = "T_NAME", .alt = "T_NAME_OLD", .type = STRANDS_SETTING_STRING,
     .def = "dflt", .offset = OFF(name), .check = no_x, .help = "a name"},
    {.name = "T_LIST", .type = STRANDS_SETTING_STRING,
     .flags = STRANDS_SETTING_ALLOW_EMPTY, .def = "a,b", .offset = OFF(list),
     .help = "a list"},
    {.name = "T_NOTE", .type = STRANDS_SETTING_OPTIONAL,
     .offset = OFF(note), .check = no_x, .help = "optional"},
    {.name = "T_URL", .alt = "T_URL_ANY", .type = STRANDS_SETTING_URL,
     .offset = OFF(url), .help = "a URL"},
    {.name = "T_MODE", .type = STRANDS_SETTING_CHOICE, .def = "fast",
     .choices = "fast,slow,off", .offset = OFF(mode), .help = "a choice"},
    {.name = "T_LEVEL", .type = STRANDS_SETTING_LOG_LEVEL, .def = "warn",
     .offset = OFF(level), .help = "a level"},
    {.name = "T_KEY", .type = STRANDS_SETTING_OPTIONAL,
     .flags = STRANDS_SETTING_SECRET, .offset = OFF(key), .help = "a key"},
};

static const strands_settings_group group = {
    .version = STRANDS_SETTINGS_GROUP_VERSION,
    .title = "Test group",
    .rows = rows,
    .n_rows = sizeof rows / sizeof rows[0],
    .struct_size = sizeof(all_types),
};

static strands_status load(all_types *v, strands_error *err,
                           const char *const *vars)
{
    fake_env env;
    memset(&env, 0, sizeof env);
    for (int i = 0; vars && vars[i] && i < MAX_VARS; i++) env.vars[i] = vars[i];
    memset(v, 0xAB, sizeof *v); /* garbage: load must not read or free it */
    v->guard_a = v->guard_b = 0x5AFE5AFE;
    strands_error_clear(err);
    return strands_settings_group_load(&group, v, fake_getenv, &env, err);
}

static void test_defaults(void)
{
    all_types v;
    strands_error err;
    CHECK_INT(strands_settings_group_check(&group, &err), STRANDS_OK);
    CHECK_INT(load(&v, &err, NULL), STRANDS_OK);
    CHECK_INT(v.count, 5);
    CHECK_INT(v.bytes, 1024);
    CHECK_INT(v.seconds, 0);
    CHECK_STR(v.name, "dflt");
    CHECK_STR(v.list, "a,b");
    CHECK(v.note == NULL);
    CHECK(v.url == NULL);
    CHECK_STR(v.mode, "fast");
    CHECK_INT(v.level, STRANDS_LOG_WARN);
    CHECK(v.key == NULL);
    /* Bytes outside the rows' fields are left alone. */
    CHECK_INT(v.guard_a, 0x5AFE5AFE);
    CHECK_INT(v.guard_b, 0x5AFE5AFE);
    strands_settings_group_cleanup(&group, &v);
    CHECK(v.name == NULL && v.mode == NULL && v.count == 0);
    CHECK_INT(v.guard_b, 0x5AFE5AFE);
    strands_settings_group_cleanup(&group, &v); /* twice is harmless */
}

static void test_values_and_alt(void)
{
    all_types v;
    strands_error err;
    CHECK_INT(load(&v, &err,
                   VARS("T_COUNT=-3", "T_BYTES=1099511627776",
                        "T_SECONDS=86400", "T_NAME_OLD=old", "T_LIST=",
                        "T_NOTE=", "T_URL_ANY=https://example.com/p",
                        "T_MODE=off")),
              STRANDS_OK);
    CHECK_INT(v.count, -3);
    CHECK_INT(v.bytes, 1LL << 40);
    CHECK_INT(v.seconds, 86400);
    CHECK_STR(v.name, "old");          /* the fallback variable */
    CHECK_STR(v.list, "");             /* ALLOW_EMPTY */
    CHECK(v.note == NULL);             /* OPTIONAL: empty = unset */
    CHECK_STR(v.url, "https://example.com/p");
    CHECK_STR(v.mode, "off");
    strands_settings_group_cleanup(&group, &v);
    /* The primary variable wins over the fallback. */
    CHECK_INT(load(&v, &err, VARS("T_NAME_OLD=old", "T_NAME=new",
                                  "T_URL=http://127.0.0.1:9",
                                  "T_LEVEL=DEBUG", "T_KEY=k")),
              STRANDS_OK);
    CHECK_STR(v.name, "new");
    CHECK_STR(v.url, "http://127.0.0.1:9");
    CHECK_INT(v.level, STRANDS_LOG_DEBUG);
    CHECK_STR(v.key, "k");
    strands_settings_group_cleanup(&group, &v);
}

typedef struct bad_case {
    const char *var;
    const char *message; /* the whole expected message */
} bad_case;

static void test_bad_values_name_the_variable(void)
{
    static const bad_case cases[] = {
        {"T_COUNT=10", "T_COUNT: '10' is not an integer in -3..9"},
        {"T_COUNT=-4", "T_COUNT: '-4' is not an integer in -3..9"},
        {"T_COUNT=", "T_COUNT: '' is not an integer in -3..9"},
        {"T_COUNT=1e3", "T_COUNT: '1e3' is not an integer in -3..9"},
        {"T_BYTES=0", "T_BYTES: '0' is not an integer in 1..1099511627776"},
        {"T_SECONDS=-1",
         "T_SECONDS: '-1' is not an integer in 0..1099511627776"},
        {"T_NAME=", "T_NAME: must not be empty"},
        {"T_NAME_OLD=", "T_NAME_OLD: must not be empty"},
        {"T_NAME=xyz", "T_NAME: 'xyz' must not contain x"},
        {"T_NAME_OLD=box", "T_NAME_OLD: 'box' must not contain x"},
        {"T_NOTE=x", "T_NOTE: 'x' must not contain x"},
        {"T_MODE=FAST", "T_MODE: 'FAST' is not one of fast, slow, off"},
        {"T_MODE=", "T_MODE: '' is not one of fast, slow, off"},
        {"T_MODE=fast,slow", "T_MODE: 'fast,slow' is not one of fast, slow, "
                             "off"},
        {"T_LEVEL=loud", "T_LEVEL: 'loud' is not one of debug, info, warn, "
                         "error"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        all_types v;
        strands_error err;
        strands_status st = load(&v, &err, VARS(cases[i].var));
        if (st != STRANDS_E_INVALID) {
            FAIL_AT("%s: got %s", cases[i].var, strands_status_name(st));
            if (st == STRANDS_OK) strands_settings_group_cleanup(&group, &v);
            continue;
        }
        if (strcmp(err.message, cases[i].message))
            FAIL_AT("%s: message '%s', want '%s'", cases[i].var, err.message,
                    cases[i].message);
        /* Failure leaves every row's field zeroed (nothing allocated). */
        CHECK(v.name == NULL && v.list == NULL && v.mode == NULL &&
              v.count == 0 && v.level == 0);
        CHECK_INT(v.guard_a, 0x5AFE5AFE);
    }
    /* URL messages carry the validator's reason after the name. */
    all_types v;
    strands_error err;
    CHECK_INT(load(&v, &err, VARS("T_URL_ANY=http://example.com")),
              STRANDS_E_INVALID);
    CHECK(!strncmp(err.message, "T_URL_ANY: ", 11));
    CHECK_INT(load(&v, &err, VARS("T_URL=ftp://x")), STRANDS_E_INVALID);
    CHECK(!strncmp(err.message, "T_URL: ", 7));
}

static void test_check_runs_once_per_value(void)
{
    all_types v;
    strands_error err;
    checks_called = 0;
    CHECK_INT(load(&v, &err, NULL), STRANDS_OK); /* T_NOTE unset: skipped */
    CHECK_INT(checks_called, 1);
    strands_settings_group_cleanup(&group, &v);
    checks_called = 0;
    CHECK_INT(load(&v, &err, VARS("T_NOTE=fine")), STRANDS_OK);
    CHECK_INT(checks_called, 2);
    strands_settings_group_cleanup(&group, &v);
}

/* A group with one row changed by `edit`; checked by group_check. */
typedef struct bad_def {
    const char *what;
    strands_setting row;
    int version;
    size_t struct_size;
    const char *want; /* substring of the message */
} bad_def;

static void test_group_check_rejects_bad_definitions(void)
{
    static const bad_def cases[] = {
        {"version", {.name = "OK_NAME", .type = STRANDS_SETTING_INT,
                     .def = "1", .max = 2, .help = "h"}, 2, 8, "version 2"},
        {"lower-case name", {.name = "bad_name", .type = STRANDS_SETTING_INT,
                             .def = "1", .max = 2, .help = "h"},
         1, 8, "bad variable name"},
        {"NULL name", {.type = STRANDS_SETTING_INT, .def = "1", .max = 2,
                       .help = "h"}, 1, 8, "bad variable name"},
        {"bad alt", {.name = "OK_NAME", .alt = "1X", .type =
                     STRANDS_SETTING_INT, .def = "1", .max = 2, .help = "h"},
         1, 8, "bad variable name"},
        {"offset", {.name = "OK_NAME", .type = STRANDS_SETTING_INT64,
                    .def = "1", .max = 2, .offset = 4, .help = "h"},
         1, 8, "offset"},
        {"type", {.name = "OK_NAME", .type = (strands_setting_type)99,
                  .def = "1", .help = "h"}, 1, 8, "bad type"},
        {"help", {.name = "OK_NAME", .type = STRANDS_SETTING_INT, .def = "1",
                  .max = 2}, 1, 8, "no help"},
        {"default", {.name = "OK_NAME", .type = STRANDS_SETTING_STRING,
                     .help = "h"}, 1, 8, "needs a default"},
        {"choices", {.name = "OK_NAME", .type = STRANDS_SETTING_CHOICE,
                     .def = "a", .help = "h"}, 1, 8, "no choices"},
        {"range", {.name = "OK_NAME", .type = STRANDS_SETTING_INT,
                   .def = "1", .min = 5, .max = 2, .help = "h"},
         1, 8, "bad range"},
        {"int range", {.name = "OK_NAME", .type = STRANDS_SETTING_INT,
                       .def = "1", .max = 1LL << 40, .help = "h"},
         1, 8, "bad range"},
        {"size range", {.name = "OK_NAME", .type = STRANDS_SETTING_SIZE,
                        .def = "1", .min = -1, .max = 3, .help = "h"},
         1, 8, "bad range"},
        {"bad default", {.name = "OK_NAME", .type = STRANDS_SETTING_INT,
                         .def = "7", .max = 2, .help = "h"},
         1, 8, "bad default: OK_NAME: '7' is not an integer in 0..2"},
        {"bad choice default", {.name = "OK_NAME", .type =
                                STRANDS_SETTING_CHOICE, .def = "c",
                                .choices = "a,b", .help = "h"},
         1, 8, "bad default"},
        {"empty default", {.name = "OK_NAME", .type = STRANDS_SETTING_STRING,
                           .def = "", .help = "h"}, 1, 8, "bad default"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        strands_settings_group g = {.version = cases[i].version,
                                    .title = "G", .rows = &cases[i].row,
                                    .n_rows = 1,
                                    .struct_size = cases[i].struct_size};
        strands_error err;
        strands_error_clear(&err);
        strands_status st = strands_settings_group_check(&g, &err);
        if (st != STRANDS_E_INVALID)
            FAIL_AT("%s: got %s", cases[i].what, strands_status_name(st));
        else if (!strstr(err.message, cases[i].want))
            FAIL_AT("%s: message '%s' lacks '%s'", cases[i].what,
                    err.message, cases[i].want);
    }
    /* Group-level faults. */
    strands_error err;
    CHECK_INT(strands_settings_group_check(NULL, &err), STRANDS_E_INVALID);
    strands_settings_group g = {.version = 1, .title = NULL};
    CHECK_INT(strands_settings_group_check(&g, &err), STRANDS_E_INVALID);
    g.title = "rows missing";
    g.n_rows = 1;
    CHECK_INT(strands_settings_group_check(&g, &err), STRANDS_E_INVALID);
    static const strands_setting twice[] = {
        {.name = "SAME", .type = STRANDS_SETTING_OPTIONAL, .help = "h"},
        {.name = "SAME", .type = STRANDS_SETTING_OPTIONAL, .offset = 8,
         .help = "h"},
    };
    strands_settings_group dup = {.version = 1, .title = "Dup", .rows = twice,
                                  .n_rows = 2, .struct_size = 16};
    CHECK_INT(strands_settings_group_check(&dup, &err), STRANDS_E_INVALID);
    CHECK(strstr(err.message, "SAME is listed twice") != NULL);
    /* A group without rows is fine (a provider with nothing to set). */
    strands_settings_group none = {.version = 1, .title = "None"};
    CHECK_INT(strands_settings_group_check(&none, &err), STRANDS_OK);
}

static void test_print_lists_rows_and_defaults(void)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    CHECK(f != NULL);
    if (!f) return;
    strands_settings_group_print(&group, f);
    fclose(f);
    for (size_t i = 0; i < group.n_rows; i++) {
        char line[256];
        snprintf(line, sizeof line, "  %-34s %s\n", rows[i].name,
                 rows[i].help);
        if (!strstr(text, line)) FAIL_AT("help lacks row %s", rows[i].name);
    }
    CHECK(strstr(text, "default: fast\n") != NULL);
    CHECK(strstr(text, "default: (unset)\n") != NULL);
    free(text);
}

int main(void)
{
    RUN(test_defaults);
    RUN(test_values_and_alt);
    RUN(test_bad_values_name_the_variable);
    RUN(test_check_runs_once_per_value);
    RUN(test_group_check_rejects_bad_definitions);
    RUN(test_print_lists_rows_and_defaults);
    return test_report();
}
