/* Tests for the runtime configuration (src/server/config.c) through an
 * injected getenv: defaults, fallback variables, every invalid value, the
 * --help text; and the pure /invocations helpers of the server module:
 * request_prompt_blocks (src/server/request.c) and
 * request_log_header_loggable (src/server/request_log.c).               */
#include <ctype.h>
#include <jansson.h>

#include "server/internal.h"
#include "strands/config.h"
#include "strands/log.h"
#include "test.h"

/* ---- injected environment -------------------------------------------- */

#define MAX_VARS 8

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

/* Loads a config from up to MAX_VARS "NAME=value" strings (NULL-ended). */
static strands_status load(strands_runtime_config *cfg, strands_error *err,
                           const char *const *vars)
{
    fake_env env;
    memset(&env, 0, sizeof env);
    for (int i = 0; vars && vars[i] && i < MAX_VARS; i++) env.vars[i] = vars[i];
    strands_error_clear(err);
    return strands_runtime_config_load(cfg, fake_getenv, &env, err);
}

#define VARS(...) ((const char *const[]){__VA_ARGS__, NULL})

/* ---- strands_runtime_config_load ------------------------------------- */

static void test_config_defaults(void)
{
    strands_runtime_config cfg;
    strands_error err;
    CHECK_INT(load(&cfg, &err, NULL), STRANDS_OK);
    CHECK_INT(cfg.port, 8080);
    CHECK_STR(cfg.bind_address, "0.0.0.0");
    CHECK_STR(cfg.model_id, "us.anthropic.claude-sonnet-4-20250514-v1:0");
    CHECK(cfg.region == NULL); /* resolved later: profile, us-east-1 */
    CHECK_INT(cfg.max_tokens, 4096);
    CHECK_INT(cfg.max_iterations, 10);
    CHECK(cfg.system_prompt == NULL);
    CHECK_STR(cfg.tools, "calculator,current_time");
    CHECK(cfg.bedrock_endpoint == NULL);
    CHECK_INT(cfg.log_level, STRANDS_LOG_INFO);
    CHECK_INT(cfg.shutdown_grace_s, 10);
    CHECK_INT(cfg.max_body_bytes, 104857600);
    CHECK_INT(cfg.max_attempts, 3);
    CHECK_INT(cfg.max_sessions, 1000);
    CHECK_INT(cfg.session_ttl_s, 3600);
    strands_runtime_config_cleanup(&cfg);
    CHECK(cfg.model_id == NULL);
    CHECK(cfg.tools == NULL);
}

static void test_config_values(void)
{
    strands_runtime_config cfg;
    strands_error err;
    CHECK_INT(load(&cfg, &err,
                   VARS("PORT=9000", "MODEL_ID=amazon.nova-lite-v1:0",
                        "MAX_TOKENS=1", "MAX_ITERATIONS=1000",
                        "SYSTEM_PROMPT=Be brief.", "LOG_LEVEL=WARNING",
                        "SHUTDOWN_GRACE_SECONDS=0", "AWS_MAX_ATTEMPTS=20")),
              STRANDS_OK);
    CHECK_INT(cfg.port, 9000);
    CHECK_STR(cfg.model_id, "amazon.nova-lite-v1:0");
    CHECK_INT(cfg.max_tokens, 1);
    CHECK_INT(cfg.max_iterations, 1000);
    CHECK_STR(cfg.system_prompt, "Be brief.");
    CHECK_INT(cfg.log_level, STRANDS_LOG_WARN);
    CHECK_INT(cfg.shutdown_grace_s, 0);
    CHECK_INT(cfg.max_attempts, 20);
    strands_runtime_config_cleanup(&cfg);

    CHECK_INT(load(&cfg, &err,
                   VARS("PORT=65535", "MAX_BODY_BYTES=1",
                        "SESSION_MAX_COUNT=5", "SESSION_IDLE_TTL_SECONDS=0",
                        "BIND_ADDRESS=127.0.0.1", "SYSTEM_PROMPT=")),
              STRANDS_OK);
    CHECK_INT(cfg.port, 65535);
    CHECK_INT(cfg.max_body_bytes, 1);
    CHECK_INT(cfg.max_sessions, 5);
    CHECK_INT(cfg.session_ttl_s, 0);
    CHECK_STR(cfg.bind_address, "127.0.0.1");
    CHECK(cfg.system_prompt == NULL); /* empty = unset, as AWS SDKs do */
    strands_runtime_config_cleanup(&cfg);
}

static void test_config_region_precedence(void)
{
    strands_runtime_config cfg;
    strands_error err;
    CHECK_INT(load(&cfg, &err,
                   VARS("AWS_DEFAULT_REGION=eu-west-1",
                        "AWS_REGION=us-west-2")),
              STRANDS_OK);
    CHECK_STR(cfg.region, "us-west-2");
    strands_runtime_config_cleanup(&cfg);
    CHECK_INT(load(&cfg, &err, VARS("AWS_DEFAULT_REGION=eu-west-1")),
              STRANDS_OK);
    CHECK_STR(cfg.region, "eu-west-1");
    strands_runtime_config_cleanup(&cfg);
}

static void test_config_endpoint_precedence(void)
{
    strands_runtime_config cfg;
    strands_error err;
    CHECK_INT(load(&cfg, &err,
                   VARS("AWS_ENDPOINT_URL=https://general.example.com",
                        "AWS_ENDPOINT_URL_BEDROCK_RUNTIME="
                        "http://127.0.0.1:4566")),
              STRANDS_OK);
    CHECK_STR(cfg.bedrock_endpoint, "http://127.0.0.1:4566");
    strands_runtime_config_cleanup(&cfg);
    CHECK_INT(load(&cfg, &err,
                   VARS("AWS_ENDPOINT_URL=https://general.example.com/p")),
              STRANDS_OK);
    CHECK_STR(cfg.bedrock_endpoint, "https://general.example.com/p");
    strands_runtime_config_cleanup(&cfg);
    /* The specific variable wins for its service; the general one still
     * applies to the others (Secrets Manager, STS), so it must be valid. */
    CHECK_INT(load(&cfg, &err,
                   VARS("AWS_ENDPOINT_URL=https://generic.test",
                        "AWS_ENDPOINT_URL_BEDROCK_RUNTIME=https://ok.test")),
              STRANDS_OK);
    CHECK_STR(cfg.bedrock_endpoint, "https://ok.test");
    CHECK_STR(cfg.sm_endpoint, "https://generic.test");
    CHECK_STR(cfg.sts_endpoint, "https://generic.test");
    strands_runtime_config_cleanup(&cfg);
    CHECK_INT(load(&cfg, &err,
                   VARS("AWS_ENDPOINT_URL=http://example.com",
                        "AWS_ENDPOINT_URL_BEDROCK_RUNTIME=https://ok.test")),
              STRANDS_E_INVALID);
    CHECK(strstr(err.message, "AWS_ENDPOINT_URL") == err.message);
}

static void test_config_tools(void)
{
    strands_runtime_config cfg;
    strands_error err;
    CHECK_INT(load(&cfg, &err, VARS("TOOLS=")), STRANDS_OK);
    CHECK_STR(cfg.tools, "");
    strands_runtime_config_cleanup(&cfg);
    CHECK_INT(load(&cfg, &err, VARS("TOOLS= calculator , current_time ")),
              STRANDS_OK);
    CHECK_STR(cfg.tools, " calculator , current_time ");
    strands_runtime_config_cleanup(&cfg);
    CHECK_INT(load(&cfg, &err, VARS("TOOLS=current_time")), STRANDS_OK);
    strands_runtime_config_cleanup(&cfg);
}

typedef struct bad_case {
    const char *var;       /* "NAME=value" */
    const char *prefix;    /* message must start with "<prefix>:" */
} bad_case;

static void test_config_bad_values(void)
{
    static const bad_case cases[] = {
        {"PORT=abc", "PORT"},
        {"PORT=0", "PORT"},
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
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const bad_case *c = &cases[i];
        strands_runtime_config cfg;
        strands_error err;
        strands_status st = load(&cfg, &err, VARS(c->var));
        if (st != STRANDS_E_INVALID) {
            FAIL_AT("%s: got %s, want E_INVALID", c->var,
                    strands_status_name(st));
            if (st == STRANDS_OK) strands_runtime_config_cleanup(&cfg);
            continue;
        }
        CHECK_INT(err.status, STRANDS_E_INVALID);
        size_t n = strlen(c->prefix);
        if (strncmp(err.message, c->prefix, n) || err.message[n] != ':')
            FAIL_AT("%s: message '%s' does not start with '%s:'", c->var,
                    err.message, c->prefix);
        /* On failure nothing is left allocated. */
        CHECK(cfg.model_id == NULL && cfg.tools == NULL &&
              cfg.region == NULL && cfg.bind_address == NULL);
    }
}

static void test_config_process_env(void)
{
    /* NULL getenv reads the process environment. */
    setenv("PORT", "1234", 1);
    setenv("TOOLS", "", 1);
    strands_runtime_config cfg;
    strands_error err;
    strands_status st = strands_runtime_config_load(&cfg, NULL, NULL, &err);
    unsetenv("PORT");
    unsetenv("TOOLS");
    if (st != STRANDS_OK) {
        /* Another variable of the real environment may be invalid. */
        SKIP("process environment rejected: %s", err.message);
    }
    CHECK_INT(cfg.port, 1234);
    CHECK_STR(cfg.tools, "");
    strands_runtime_config_cleanup(&cfg);
}

/* ---- --help ----------------------------------------------------------- */

static char *help_text(void)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f) return NULL;
    strands_runtime_config_print_help(f);
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
        "SESSION_IDLE_TTL_SECONDS"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (!mentions(help, names[i]))
            FAIL_AT("--help does not mention %s", names[i]);
    /* Defaults are shown too. */
    CHECK(strstr(help, "8080") != NULL);
    CHECK(strstr(help, "us.anthropic.claude-sonnet-4-20250514-v1:0") != NULL);
    free(help);
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

/* ---- request_prompt_blocks ------------------------------------------- */

static json_t *J(const char *text)
{
    json_error_t e;
    json_t *v = json_loads(text, 0, &e);
    if (!v) {
        fprintf(stderr, "bad test JSON (%s): %s\n", e.text, text);
        abort();
    }
    return v;
}

static void test_prompt_string(void)
{
    json_t *body = J("{\"prompt\":\"What is 2+2?\",\"session_id\":\"s\"}");
    char why[256] = "";
    json_t *blocks = request_prompt_blocks(body, why, sizeof why);
    CHECK(blocks != NULL);
    json_t *want = J("[{\"text\":\"What is 2+2?\"}]");
    CHECK(json_equal(blocks, want));
    json_decref(want);
    json_decref(blocks);
    json_decref(body);
}

static void test_prompt_blocks_array(void)
{
    const char *text =
        "{\"prompt\":[{\"text\":\"Describe this\"},"
        "{\"image\":{\"format\":\"png\",\"source\":{\"bytes\":\"iVBO\"}}},"
        "{\"document\":{\"format\":\"txt\",\"name\":\"d\",\"source\":"
        "{\"bytes\":\"aGk=\"}}},{\"cachePoint\":{\"type\":\"default\"}}]}";
    json_t *body = J(text);
    char why[256] = "";
    json_t *blocks = request_prompt_blocks(body, why, sizeof why);
    CHECK(blocks != NULL);
    CHECK(json_equal(blocks, json_object_get(body, "prompt")));
    json_decref(blocks);
    json_decref(body);
}

typedef struct bad_prompt {
    const char *body;
    const char *why;       /* expected substring of the reason */
} bad_prompt;

static void test_prompt_rejects(void)
{
    static const bad_prompt cases[] = {
        {"{}", "missing"},
        {"{\"input\":\"hi\"}", "missing"},
        {"[\"prompt\"]", "missing"},
        {"{\"prompt\":null}", "string or a non-empty array"},
        {"{\"prompt\":\"\"}", "must not be empty"},
        {"{\"prompt\":[]}", "non-empty array"},
        {"{\"prompt\":42}", "string or a non-empty array"},
        {"{\"prompt\":true}", "string or a non-empty array"},
        {"{\"prompt\":{\"text\":\"hi\"}}", "string or a non-empty array"},
        {"{\"prompt\":[{\"text\":\"a\",\"image\":{}}]}", "prompt[0]"},
        {"{\"prompt\":[{}]}", "prompt[0]"},
        {"{\"prompt\":[\"hi\"]}", "prompt[0]"},
        {"{\"prompt\":[{\"text\":\"ok\"},{\"bogus\":1}]}",
         "prompt[1]: unsupported content block 'bogus'"},
        {"{\"prompt\":[{\"toolUse\":{}}]}", "unsupported"},
        {"{\"prompt\":[{\"text\":\"\"}]}", "prompt[0].text"},
        {"{\"prompt\":[{\"text\":5}]}", "prompt[0].text"},
        {"{\"prompt\":[{\"text\":\"a\"},{\"text\":null}]}", "prompt[1].text"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_t *body = J(cases[i].body);
        char why[256] = "";
        json_t *blocks = request_prompt_blocks(body, why, sizeof why);
        if (blocks) {
            FAIL_AT("%s accepted", cases[i].body);
            json_decref(blocks);
        } else if (!strstr(why, cases[i].why)) {
            FAIL_AT("%s: reason '%s' lacks '%s'", cases[i].body, why,
                    cases[i].why);
        }
        json_decref(body);
    }
    /* NULL body, and a small reason buffer that is cut, not overrun. */
    char why[8];
    memset(why, 'x', sizeof why);
    CHECK(request_prompt_blocks(NULL, why, sizeof why) == NULL);
    CHECK_INT(strlen(why), sizeof why - 1);
}

/* ---- request_log_header_loggable ------------------------------------ */

/* Header values are logged only for an allow-list; everything else,
 * credentials and custom headers alike, is masked. */
static void test_loggable_headers(void)
{
    static const char *const masked[] = {
        "authorization", "Authorization", "AUTHORIZATION",
        "X-Amz-Security-Token", "x-amz-security-token", "Cookie", "cookie",
        "Set-Cookie", "WorkloadAccessToken", "workloadaccesstoken",
        "Proxy-Authorization", "X-Api-Key",
        "X-Amzn-Bedrock-AgentCore-Runtime-Workload-AccessToken",
        "X-My-Custom-Header", "Hostx", "", NULL};
    for (const char *const *h = masked; *h; h++)
        if (request_log_header_loggable(*h))
            FAIL_AT("'%s' would be logged", *h);
    static const char *const plain[] = {
        "Content-Type", "X-Amzn-Bedrock-AgentCore-Runtime-Session-Id",
        "User-Agent", "Host", "host", "traceparent", "Accept", NULL};
    for (const char *const *h = plain; *h; h++)
        if (!request_log_header_loggable(*h))
            FAIL_AT("'%s' masked", *h);
}

int main(void)
{
    RUN(test_config_defaults);
    RUN(test_config_values);
    RUN(test_config_region_precedence);
    RUN(test_config_endpoint_precedence);
    RUN(test_config_tools);
    RUN(test_config_bad_values);
    RUN(test_config_process_env);
    RUN(test_config_help_lists_variables);
    RUN(test_config_help_matches_header);
    RUN(test_prompt_string);
    RUN(test_prompt_blocks_array);
    RUN(test_prompt_rejects);
    RUN(test_loggable_headers);
    return test_report();
}
