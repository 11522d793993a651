/* Tests of the one settings table (src/runtime/settings_*.c and every
 * module's rows) through an injected getenv: defaults, fallback
 * variables, every invalid value, MODEL_PROVIDER/SESSION_STORE against
 * the registries, and the --help text.                                  */
#include <ctype.h>

#include "runtime/internal.h"
#include "strands/config.h"
#include "strands/log.h"
#include "strands/registry.h"
#include "test.h"

/* ---- injected environment -------------------------------------------- */

#define MAX_VARS 16

/* A fake environment: NULL-terminated "NAME=value" strings. */
typedef struct fake_env {
    const char *vars[MAX_VARS + 1];
    int lookups;
} fake_env;

static const char *fake_getenv(void *user, const char *name)
{
    fake_env *e = user;
    size_t n = strlen(name);
    e->lookups++;
    for (const char *const *v = e->vars; *v; v++)
        if (!strncmp(*v, name, n) && (*v)[n] == '=') return *v + n + 1;
    return NULL;
}

/* The table loaded last by load(); its core settings. */
static strands_settings *loaded;
static const strands_runtime_config *cfgp;

/* Loads the table from up to MAX_VARS "NAME=value" strings (NULL-ended),
 * freeing the one loaded before. On success `loaded` and `cfgp` point at
 * it; on failure both are NULL.                                         */
static strands_status load(strands_error *err, const char *const *vars)
{
    fake_env env;
    memset(&env, 0, sizeof env);
    for (int i = 0; vars && vars[i] && i < MAX_VARS; i++) env.vars[i] = vars[i];
    strands_error_clear(err);
    strands_settings_free(loaded);
    loaded = strands_settings_load(fake_getenv, &env, err);
    cfgp = loaded ? strands_settings_config(loaded) : NULL;
    return loaded ? STRANDS_OK : err->status;
}

static void unload(void)
{
    strands_settings_free(loaded);
    loaded = NULL;
    cfgp = NULL;
}

/* The loaded value of a variable as text; NULL when unset or unknown. */
static const char *value(const char *name)
{
    static char buf[512];
    return strands_settings_text(loaded, name, buf, sizeof buf) == 1 ? buf
                                                                    : NULL;
}

#define VARS(...) ((const char *const[]){__VA_ARGS__, NULL})

/* ---- strands_settings_load ------------------------------------------- */

static void test_config_defaults(void)
{
    strands_error err;
    CHECK_INT(load(&err, NULL), STRANDS_OK);
    CHECK_INT(cfgp->port, 0); /* the protocol's port */
    CHECK_STR(cfgp->server_protocol, "HTTP");
    CHECK_STR(cfgp->bind_address, "0.0.0.0");
    CHECK_STR(cfgp->model_id, "us.anthropic.claude-sonnet-4-20250514-v1:0");
    CHECK(cfgp->region == NULL); /* resolved later: profile, us-east-1 */
    CHECK_INT(cfgp->max_tokens, 4096);
    CHECK_INT(cfgp->max_iterations, 10);
    CHECK(cfgp->system_prompt == NULL);
    CHECK_STR(value("TOOLS"), "calculator,current_time");
    CHECK(value("AWS_ENDPOINT_URL_BEDROCK_RUNTIME") == NULL);
    CHECK_INT(cfgp->log_level, STRANDS_LOG_INFO);
    CHECK_INT(cfgp->shutdown_grace_s, 10);
    CHECK_INT(cfgp->max_body_bytes, 104857600);
    CHECK_INT(cfgp->max_attempts, 3);
    CHECK_STR(value("SESSION_MAX_COUNT"), "1000");
    CHECK_STR(value("SESSION_IDLE_TTL_SECONDS"), "3600");
    CHECK_INT(cfgp->max_history_bytes, 16777216);
    CHECK_INT(cfgp->tool_concurrency, 8);
    CHECK_INT(cfgp->tool_result_max_bytes, 1048576);
    CHECK_INT(cfgp->model_connect_timeout_s, 10);
    CHECK_INT(cfgp->model_read_timeout_s, 120);
    unload();
    CHECK(loaded == NULL && cfgp == NULL);
}

static void test_config_values(void)
{
    strands_error err;
    CHECK_INT(load(&err,
                   VARS("PORT=9000", "MODEL_ID=amazon.nova-lite-v1:0",
                        "MAX_TOKENS=1", "MAX_ITERATIONS=1000",
                        "SYSTEM_PROMPT=Be brief.", "LOG_LEVEL=WARNING",
                        "SHUTDOWN_GRACE_SECONDS=0", "AWS_MAX_ATTEMPTS=20")),
              STRANDS_OK);
    CHECK_INT(cfgp->port, 9000);
    CHECK_STR(cfgp->model_id, "amazon.nova-lite-v1:0");
    CHECK_INT(cfgp->max_tokens, 1);
    CHECK_INT(cfgp->max_iterations, 1000);
    CHECK_STR(cfgp->system_prompt, "Be brief.");
    CHECK_INT(cfgp->log_level, STRANDS_LOG_WARN);
    CHECK_INT(cfgp->shutdown_grace_s, 0);
    CHECK_INT(cfgp->max_attempts, 20);
    unload();

    CHECK_INT(load(&err,
                   VARS("PORT=65535", "MAX_BODY_BYTES=1",
                        "SESSION_MAX_COUNT=5", "SESSION_IDLE_TTL_SECONDS=0",
                        "BIND_ADDRESS=127.0.0.1", "SYSTEM_PROMPT=",
                        "SESSION_MAX_HISTORY_BYTES=2048",
                        "TOOL_CONCURRENCY=1", "TOOL_RESULT_MAX_BYTES=256",
                        "MODEL_CONNECT_TIMEOUT_SECONDS=1",
                        "MODEL_READ_TIMEOUT_SECONDS=3600")),
              STRANDS_OK);
    CHECK_INT(cfgp->max_history_bytes, 2048);
    CHECK_INT(cfgp->tool_concurrency, 1);
    CHECK_INT(cfgp->tool_result_max_bytes, 256);
    CHECK_INT(cfgp->model_connect_timeout_s, 1);
    CHECK_INT(cfgp->model_read_timeout_s, 3600);
    CHECK_INT(cfgp->port, 65535);
    CHECK_INT(cfgp->max_body_bytes, 1);
    CHECK_STR(value("SESSION_MAX_COUNT"), "5");
    CHECK_STR(value("SESSION_IDLE_TTL_SECONDS"), "0");
    CHECK_STR(cfgp->bind_address, "127.0.0.1");
    CHECK(cfgp->system_prompt == NULL); /* empty = unset, as AWS SDKs do */
    unload();
}

static void test_config_region_precedence(void)
{
    strands_error err;
    CHECK_INT(load(&err,
                   VARS("AWS_DEFAULT_REGION=eu-west-1",
                        "AWS_REGION=us-west-2")),
              STRANDS_OK);
    CHECK_STR(cfgp->region, "us-west-2");
    unload();
    CHECK_INT(load(&err, VARS("AWS_DEFAULT_REGION=eu-west-1")),
              STRANDS_OK);
    CHECK_STR(cfgp->region, "eu-west-1");
    unload();
}

static void test_config_endpoint_precedence(void)
{
    strands_error err;
    CHECK_INT(load(&err,
                   VARS("AWS_ENDPOINT_URL=https://general.example.com",
                        "AWS_ENDPOINT_URL_BEDROCK_RUNTIME="
                        "http://127.0.0.1:4566")),
              STRANDS_OK);
    CHECK_STR(value("AWS_ENDPOINT_URL_BEDROCK_RUNTIME"), "http://127.0.0.1:4566");
    unload();
    CHECK_INT(load(&err,
                   VARS("AWS_ENDPOINT_URL=https://general.example.com/p")),
              STRANDS_OK);
    CHECK_STR(value("AWS_ENDPOINT_URL_BEDROCK_RUNTIME"), "https://general.example.com/p");
    unload();
    /* The specific variable wins for its service; the general one still
     * applies to the others (Secrets Manager, STS), so it must be valid. */
    CHECK_INT(load(&err,
                   VARS("AWS_ENDPOINT_URL=https://generic.test",
                        "AWS_ENDPOINT_URL_BEDROCK_RUNTIME=https://ok.test")),
              STRANDS_OK);
    CHECK_STR(value("AWS_ENDPOINT_URL_BEDROCK_RUNTIME"), "https://ok.test");
    CHECK_STR(cfgp->sm_endpoint, "https://generic.test");
    CHECK_STR(cfgp->sts_endpoint, "https://generic.test");
    unload();
    CHECK_INT(load(&err,
                   VARS("AWS_ENDPOINT_URL=http://example.com",
                        "AWS_ENDPOINT_URL_BEDROCK_RUNTIME=https://ok.test")),
              STRANDS_E_INVALID);
    CHECK(strstr(err.message, "AWS_ENDPOINT_URL") == err.message);
}

static void test_config_tools(void)
{
    strands_error err;
    CHECK_INT(load(&err, VARS("TOOLS=")), STRANDS_OK);
    CHECK_STR(value("TOOLS"), "");
    unload();
    CHECK_INT(load(&err, VARS("TOOLS= calculator , current_time ")),
              STRANDS_OK);
    CHECK_STR(value("TOOLS"), " calculator , current_time ");
    unload();
    CHECK_INT(load(&err, VARS("TOOLS=current_time")), STRANDS_OK);
    unload();
}

typedef struct bad_case {
    const char *var;       /* "NAME=value" */
    const char *prefix;    /* message must start with "<prefix>:" */
} bad_case;

static void test_config_bad_values(void)
{
    static const bad_case cases[] = {
        {"PORT=abc", "PORT"},
        {"PORT=-1", "PORT"},
        {"PORT=70000", "PORT"},
        {"PORT=", "PORT"},
        {"PORT=80x", "PORT"},
        {"PORT=99999999999999999999999", "PORT"},
        {"MAX_ITERATIONS=0", "MAX_ITERATIONS"},
        {"MAX_TOKENS=-1", "MAX_TOKENS"},
        {"LOG_LEVEL=loud", "LOG_LEVEL"},
        {"LOG_LEVEL=", "LOG_LEVEL"},
        {"TOOLS=calculator,nope", "TOOLS"},
        {"TOOLS=calculator,calculator", "TOOLS"},
        {"AWS_ENDPOINT_URL=http://example.com", "AWS_ENDPOINT_URL"},
        {"AWS_ENDPOINT_URL_BEDROCK_RUNTIME=ftp://x",
         "AWS_ENDPOINT_URL_BEDROCK_RUNTIME"},
        {"MODEL_ID=", "MODEL_ID"},
        {"AWS_RETRY_MODE=fast", "AWS_RETRY_MODE"},
        {"BEDROCK_CREDENTIALS_REFRESH_SECONDS=-1",
         "BEDROCK_CREDENTIALS_REFRESH_SECONDS"},
        {"AWS_ENDPOINT_URL_SECRETS_MANAGER=http://example.com",
         "AWS_ENDPOINT_URL_SECRETS_MANAGER"},
        {"AWS_ENDPOINT_URL_STS=nope", "AWS_ENDPOINT_URL_STS"},
        {"SSE_KEEPALIVE_SECONDS=0", "SSE_KEEPALIVE_SECONDS"},
        {"AWS_MAX_ATTEMPTS=0", "AWS_MAX_ATTEMPTS"},
        {"SHUTDOWN_GRACE_SECONDS=x", "SHUTDOWN_GRACE_SECONDS"},
        {"MAX_BODY_BYTES=0", "MAX_BODY_BYTES"},
        {"SESSION_MAX_COUNT=-5", "SESSION_MAX_COUNT"},
        {"SESSION_IDLE_TTL_SECONDS=1.5", "SESSION_IDLE_TTL_SECONDS"},
        {"SESSION_MAX_HISTORY_BYTES=10", "SESSION_MAX_HISTORY_BYTES"},
        {"TOOL_CONCURRENCY=0", "TOOL_CONCURRENCY"},
        {"TOOL_CONCURRENCY=2000", "TOOL_CONCURRENCY"},
        {"TOOL_RESULT_MAX_BYTES=abc", "TOOL_RESULT_MAX_BYTES"},
        {"MODEL_READ_TIMEOUT_SECONDS=0", "MODEL_READ_TIMEOUT_SECONDS"},
        {"MODEL_CONNECT_TIMEOUT_SECONDS=301", "MODEL_CONNECT_TIMEOUT_SECONDS"},
        {"MODEL_PROVIDER=nope", "MODEL_PROVIDER"},
        {"MODEL_PROVIDER=", "MODEL_PROVIDER"},
        {"MODEL_PROVIDER=Bedrock", "MODEL_PROVIDER"},
        {"SESSION_STORE=nope", "SESSION_STORE"},
        {"SESSION_STORE=", "SESSION_STORE"},
        {"SESSION_STORE=mongodb://localhost:27017", "SESSION_STORE"},
        {"SESSION_STORE=:memory", "SESSION_STORE"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const bad_case *c = &cases[i];
        strands_error err;
        strands_status st = load(&err, VARS(c->var));
        if (st != STRANDS_E_INVALID) {
            FAIL_AT("%s: got %s, want E_INVALID", c->var,
                    strands_status_name(st));
            if (st == STRANDS_OK) unload();
            continue;
        }
        CHECK_INT(err.status, STRANDS_E_INVALID);
        size_t n = strlen(c->prefix);
        if (strncmp(err.message, c->prefix, n) || err.message[n] != ':')
            FAIL_AT("%s: message '%s' does not start with '%s:'", c->var,
                    err.message, c->prefix);
        /* On failure there is no table (and, under ASan, no leak). */
        CHECK(loaded == NULL);
    }
}

/* MODEL_PROVIDER and SESSION_STORE are checked against the registries,
 * and the message lists what is registered.                            */
static void test_config_provider_and_store(void)
{
    strands_error err;
    CHECK_INT(load(&err, NULL), STRANDS_OK);
    CHECK_STR(cfgp->model_provider, "bedrock");
    CHECK_STR(cfgp->session_store, "memory");
    unload();
    CHECK_INT(load(&err, VARS("MODEL_PROVIDER=bedrock",
                              "SESSION_STORE=memory:anything")),
              STRANDS_OK); /* the argument is the store factory's to judge */
    CHECK_STR(cfgp->session_store, "memory:anything");
    unload();
    CHECK_INT(load(&err, VARS("MODEL_PROVIDER=nope")), STRANDS_E_INVALID);
    CHECK_STR(err.message, "MODEL_PROVIDER: unknown model provider 'nope' "
                           "(registered: bedrock,openai,anthropic)");
    CHECK_INT(load(&err, VARS("SESSION_STORE=nope:/tmp/x")),
              STRANDS_E_INVALID);
    CHECK_STR(err.message, "SESSION_STORE: unknown session store "
                           "'nope:/tmp/x' (registered: memory,file,redis,"
                           "rediss,s3,agentcore-memory)");
    CHECK_INT(load(&err, VARS("SESSION_STORE=file:/tmp/x")), STRANDS_OK);
    unload();
}

/* Values of provider/store/source rows are read through the table. */
static void test_config_text_of_rows(void)
{
    strands_error err;
    char buf[64];
    CHECK_INT(load(&err, VARS("AWS_BEARER_TOKEN_BEDROCK=key-SECRET",
                              "LOG_LEVEL=debug")),
              STRANDS_OK);
    CHECK_STR(value("AWS_BEARER_TOKEN_BEDROCK"), "***"); /* never shown */
    CHECK_STR(value("LOG_LEVEL"), "debug");
    CHECK_STR(value("PORT"), "0");
    CHECK(value("SYSTEM_PROMPT") == NULL);
    CHECK_INT(strands_settings_text(loaded, "SYSTEM_PROMPT", buf, sizeof buf),
              0);
    CHECK_STR(buf, "");
    CHECK_INT(strands_settings_text(loaded, "NO_SUCH_VARIABLE", buf,
                                    sizeof buf), -1);
    /* The bedrock provider's group is part of the table. */
    const strands_model_provider *p = strands_model_provider_find("bedrock");
    CHECK(p && p->settings);
    CHECK(p && strands_settings_values(loaded, p->settings) != NULL);
    CHECK(strands_settings_values(loaded, NULL) == NULL);
    unload();
}

static void test_config_process_env(void)
{
    /* NULL getenv reads the process environment. */
    setenv("PORT", "1234", 1);
    setenv("TOOLS", "", 1);
    strands_error err;
    strands_settings_free(loaded);
    loaded = strands_settings_load(NULL, NULL, &err);
    cfgp = loaded ? strands_settings_config(loaded) : NULL;
    unsetenv("PORT");
    unsetenv("TOOLS");
    if (!loaded) {
        /* Another variable of the real environment may be invalid. */
        SKIP("process environment rejected: %s", err.message);
    }
    CHECK_INT(cfgp->port, 1234);
    CHECK_STR(value("TOOLS"), "");
    unload();
}

/* ---- --help ----------------------------------------------------------- */

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

/* True when `name` appears in text as a whole upper-case identifier. */
static int mentions(const char *text, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = text; (p = strstr(p, name)) != NULL; p++) {
        int before = p > text && (isupper((unsigned char)p[-1]) ||
                                  p[-1] == '_');
        int after = isupper((unsigned char)p[n]) || p[n] == '_';
        if (!before && !after) return 1;
    }
    return 0;
}

static void test_config_help_lists_variables(void)
{
    char *help = help_text();
    CHECK(help != NULL);
    if (!help) return;
    static const char *const names[] = {
        "BIND_ADDRESS", "PORT", "MODEL_ID", "AWS_REGION",
        "AWS_DEFAULT_REGION", "MAX_TOKENS", "MAX_ITERATIONS",
        "SYSTEM_PROMPT", "TOOLS", "AWS_ENDPOINT_URL_BEDROCK_RUNTIME",
        "AWS_ENDPOINT_URL", "LOG_LEVEL", "SHUTDOWN_GRACE_SECONDS",
        "MAX_BODY_BYTES", "AWS_MAX_ATTEMPTS", "SESSION_MAX_COUNT",
        "SESSION_IDLE_TTL_SECONDS", "MODEL_PROVIDER", "SESSION_STORE",
        "SESSION_MAX_HISTORY_BYTES", "TOOL_CONCURRENCY",
        "TOOL_RESULT_MAX_BYTES", "MODEL_CONNECT_TIMEOUT_SECONDS",
        "MODEL_READ_TIMEOUT_SECONDS",
        "AWS_BEARER_TOKEN_BEDROCK"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (!mentions(help, names[i]))
            FAIL_AT("--help does not mention %s", names[i]);
    /* Defaults are shown too. */
    CHECK(strstr(help, "8080") != NULL);
    CHECK(strstr(help, "us.anthropic.claude-sonnet-4-20250514-v1:0") != NULL);
    free(help);
}

/* Every row of every group is in --help, under its group's heading, and
 * each registered entry is listed by name.                             */
static void test_config_help_lists_every_group(void)
{
    char *help = help_text();
    CHECK(help != NULL);
    if (!help) return;
    size_t n;
    const strands_settings_group *const *core = runtime_core_groups(&n);
    CHECK(n >= 4);
    const char *last = help;
    for (size_t i = 0; i < n; i++) {
        char heading[128];
        snprintf(heading, sizeof heading, "%s:\n", core[i]->title);
        const char *at = strstr(help, heading);
        if (!at || at < last) {
            FAIL_AT("heading '%s' missing or out of order", core[i]->title);
            continue;
        }
        last = at;
        for (size_t j = 0; j < core[i]->n_rows; j++) {
            const char *row = strstr(at, core[i]->rows[j].name);
            if (!row) FAIL_AT("--help lacks %s", core[i]->rows[j].name);
        }
    }
    static const struct { strands_registry_kind kind; const char *head; }
        kinds[] = {{STRANDS_REGISTRY_MODEL_PROVIDER, "Model provider"},
                   {STRANDS_REGISTRY_SESSION_STORE, "Session store"},
                   {STRANDS_REGISTRY_TOOL_SOURCE, "Tool source"}};
    for (size_t k = 0; k < 3; k++) {
        runtime_entry e[STRANDS_REGISTRY_MAX];
        size_t m = runtime_registry_list(kinds[k].kind, e);
        CHECK(m >= 1);
        for (size_t i = 0; i < m; i++) {
            char heading[128];
            snprintf(heading, sizeof heading, "%s \"%s\"", kinds[k].head,
                     e[i].name);
            const char *at = strstr(help, heading);
            if (!at) {
                FAIL_AT("--help lacks '%s'", heading);
                continue;
            }
            /* A group shared with an earlier entry is printed once, then
             * referred to ("settings of ... above"). */
            int shared = 0;
            for (size_t j = 0; j < i; j++)
                shared |= e[i].settings && e[j].settings == e[i].settings;
            if (shared) {
                CHECK(strstr(at, "(settings of") != NULL);
                continue;
            }
            for (size_t j = 0; e[i].settings && j < e[i].settings->n_rows; j++)
                if (!mentions(at, e[i].settings->rows[j].name))
                    FAIL_AT("--help lacks %s under '%s'",
                            e[i].settings->rows[j].name, heading);
        }
    }
    CHECK(strstr(help, "MODEL_PROVIDER=bedrock") != NULL);
    CHECK(strstr(help, "SESSION_STORE=memory") != NULL);
    free(help);
}

/* One row per variable in the whole table (core groups and the groups of
 * every registered entry), so no two modules fight over a variable.    */
static void test_config_one_row_per_variable(void)
{
    const strands_settings_group *groups[4 + 3 * STRANDS_REGISTRY_MAX];
    size_t n_groups = 0, nc;
    const strands_settings_group *const *core = runtime_core_groups(&nc);
    for (size_t i = 0; i < nc; i++) groups[n_groups++] = core[i];
    for (int k = 0; k < 3; k++) {
        runtime_entry e[STRANDS_REGISTRY_MAX];
        size_t m = runtime_registry_list((strands_registry_kind)k, e);
        for (size_t i = 0; i < m; i++) {
            int seen = 0; /* a group two entries share counts once */
            for (size_t j = 0; j < n_groups; j++)
                seen |= groups[j] == e[i].settings;
            if (e[i].settings && !seen) groups[n_groups++] = e[i].settings;
        }
    }
    size_t rows = 0;
    for (size_t a = 0; a < n_groups; a++)
        for (size_t r = 0; r < groups[a]->n_rows; r++, rows++)
            for (size_t b = a; b < n_groups; b++)
                for (size_t q = (b == a ? r + 1 : 0); q < groups[b]->n_rows;
                     q++)
                    if (!strcmp(groups[a]->rows[r].name,
                                groups[b]->rows[q].name))
                        FAIL_AT("%s is read by '%s' and '%s'",
                                groups[a]->rows[r].name, groups[a]->title,
                                groups[b]->title);
    CHECK(rows >= 24);
}

/* Every upper-case variable name in the comments of config.h's struct
 * (read from the source tree) appears in --help, so a new setting cannot
 * be added to the header without reaching the help text.               */
static void test_config_help_matches_header(void)
{
    char *hdr = test_read_file(STRANDS_SOURCE_DIR "/include/strands/config.h",
                               NULL);
    if (!hdr) SKIP("cannot read include/strands/config.h");
    char *help = help_text();
    CHECK(help != NULL);
    const char *start = strstr(hdr, "typedef struct strands_runtime_config");
    const char *end = start ? strstr(start, "} strands_runtime_config;") : NULL;
    CHECK(start && end);
    int found = 0;
    for (const char *p = start; help && start && end && p < end; p++) {
        if (p[0] != '/' || p[1] != '*') continue;
        const char *close = strstr(p, "*/");
        if (!close) break;
        for (const char *q = p + 2; q < close;) {
            if (!isupper((unsigned char)*q) || isupper((unsigned char)q[-1]) ||
                q[-1] == '_') {
                q++;
                continue;
            }
            size_t n = 0;
            while (isupper((unsigned char)q[n]) || isdigit((unsigned char)q[n]) ||
                   q[n] == '_')
                n++;
            char name[64];
            snprintf(name, sizeof name, "%.*s", (int)n, q);
            q += n;
            /* Skip short words and the NULL in "NULL when unset". */
            if (n < 4 || !strcmp(name, "NULL")) continue;
            found++;
            if (!mentions(help, name))
                FAIL_AT("--help does not mention %s (from config.h)", name);
        }
        p = close;
    }
    CHECK(found >= 15);
    free(help);
    free(hdr);
}

int main(void)
{
    RUN(test_config_defaults);
    RUN(test_config_values);
    RUN(test_config_region_precedence);
    RUN(test_config_endpoint_precedence);
    RUN(test_config_tools);
    RUN(test_config_bad_values);
    RUN(test_config_provider_and_store);
    RUN(test_config_text_of_rows);
    RUN(test_config_process_env);
    RUN(test_config_help_lists_variables);
    RUN(test_config_help_lists_every_group);
    RUN(test_config_one_row_per_variable);
    RUN(test_config_help_matches_header);
    return test_report();
}
