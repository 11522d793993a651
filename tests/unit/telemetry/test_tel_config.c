/* Tests for the tracing configuration (src/telemetry/config.c) through an
 * injected getenv: what switches tracing off, the precedence of every
 * signal-specific variable over its generic one, decoding of header and
 * resource lists, the sampler, limits, and an error naming the variable
 * for every bad value.                                                   */
#include "telemetry/internal.h"
#include "test.h"

#define MAX_VARS 12

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
#define EP "OTEL_EXPORTER_OTLP_ENDPOINT=http://collector:4318"

/* Loads from "NAME=value" strings; returns the status, *on = enabled. */
static strands_status load(tel_config *cfg, int *on, strands_error *err,
                           const char *const *vars)
{
    fake_env env;
    memset(&env, 0, sizeof env);
    for (int i = 0; vars && vars[i] && i < MAX_VARS; i++) env.vars[i] = vars[i];
    return tel_config_load(cfg, on, fake_getenv, &env, err);
}

/* Expects E_INVALID whose message starts with "<var>:". */
static void expect_error(const char *const *vars, const char *var)
{
    tel_config cfg;
    strands_error err;
    int on = 1;
    strands_status st = load(&cfg, &on, &err, vars);
    CHECK_INT(st, STRANDS_E_INVALID);
    CHECK_INT(on, 0);
    size_t n = strlen(var);
    if (strncmp(err.message, var, n) || err.message[n] != ':')
        FAIL_AT("message \"%s\" does not start with \"%s:\"", err.message,
                var);
}

static const char *resource_value(const tel_config *cfg, const char *key)
{
    for (size_t i = 0; i < cfg->n_resource; i++)
        if (!strcmp(cfg->resource[i].key, key)) return cfg->resource[i].value;
    return NULL;
}

/* ---- on / off -------------------------------------------------------------- */

static void test_off_without_endpoint(void)
{
    tel_config cfg;
    strands_error err;
    int on = 1;
    CHECK_INT(load(&cfg, &on, &err, NULL), STRANDS_OK);
    CHECK_INT(on, 0);
    CHECK_INT(err.status, STRANDS_OK);
    /* Other variables are not even validated when there is no endpoint. */
    CHECK_INT(load(&cfg, &on, &err,
                   VARS("OTEL_EXPORTER_OTLP_PROTOCOL=grpc")),
              STRANDS_OK);
    CHECK_INT(on, 0);
    /* An empty value counts as unset. */
    CHECK_INT(load(&cfg, &on, &err, VARS("OTEL_EXPORTER_OTLP_ENDPOINT=")),
              STRANDS_OK);
    CHECK_INT(on, 0);
    strands_tracer *t = strands_tracer_from_env(fake_getenv,
                                                &(fake_env){{NULL}}, &err);
    CHECK(t == NULL);
    CHECK_INT(err.status, STRANDS_OK);
}

static void test_sdk_disabled(void)
{
    tel_config cfg;
    strands_error err;
    int on = 1;
    CHECK_INT(load(&cfg, &on, &err, VARS(EP, "OTEL_SDK_DISABLED=true")),
              STRANDS_OK);
    CHECK_INT(on, 0);
    CHECK_INT(load(&cfg, &on, &err, VARS(EP, "OTEL_SDK_DISABLED=TRUE")),
              STRANDS_OK);
    CHECK_INT(on, 0);
    /* Disabled wins even over values that would be errors. */
    CHECK_INT(load(&cfg, &on, &err,
                   VARS(EP, "OTEL_SDK_DISABLED=true",
                        "OTEL_TRACES_SAMPLER=bogus")),
              STRANDS_OK);
    CHECK_INT(on, 0);
    /* Anything but "true" means not disabled (the spec's boolean rule). */
    CHECK_INT(load(&cfg, &on, &err, VARS(EP, "OTEL_SDK_DISABLED=false")),
              STRANDS_OK);
    CHECK_INT(on, 1);
    tel_config_cleanup(&cfg);
    CHECK_INT(load(&cfg, &on, &err, VARS(EP, "OTEL_SDK_DISABLED=1")),
              STRANDS_OK);
    CHECK_INT(on, 1);
    tel_config_cleanup(&cfg);
}

static void test_traces_exporter(void)
{
    tel_config cfg;
    strands_error err;
    int on = 1;
    CHECK_INT(load(&cfg, &on, &err, VARS(EP, "OTEL_TRACES_EXPORTER=none")),
              STRANDS_OK);
    CHECK_INT(on, 0);
    CHECK_INT(load(&cfg, &on, &err, VARS(EP, "OTEL_TRACES_EXPORTER=otlp")),
              STRANDS_OK);
    CHECK_INT(on, 1);
    tel_config_cleanup(&cfg);
    expect_error(VARS(EP, "OTEL_TRACES_EXPORTER=zipkin"),
                 "OTEL_TRACES_EXPORTER");
}

/* ---- endpoint ---------------------------------------------------------------- */

static void expect_endpoint(const char *const *vars, const char *want)
{
    tel_config cfg;
    strands_error err;
    int on = 0;
    CHECK_INT(load(&cfg, &on, &err, vars), STRANDS_OK);
    CHECK_INT(on, 1);
    if (on) CHECK_STR(cfg.endpoint, want);
    tel_config_cleanup(&cfg);
}

static void test_endpoint_precedence(void)
{
    /* The generic endpoint is a base: /v1/traces is appended. */
    expect_endpoint(VARS(EP), "http://collector:4318/v1/traces");
    expect_endpoint(VARS("OTEL_EXPORTER_OTLP_ENDPOINT=http://c:4318/"),
                    "http://c:4318/v1/traces");
    expect_endpoint(VARS("OTEL_EXPORTER_OTLP_ENDPOINT=https://c/otlp"),
                    "https://c/otlp/v1/traces");
    expect_endpoint(VARS("OTEL_EXPORTER_OTLP_ENDPOINT=https://c/otlp/"),
                    "https://c/otlp/v1/traces");
    /* The traces endpoint is used as it is, and beats the generic one. */
    expect_endpoint(VARS("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=http://t:1/x",
                         EP),
                    "http://t:1/x");
    expect_endpoint(VARS("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=http://t:1/"),
                    "http://t:1/");
    /* An empty traces endpoint is unset: the generic one applies. */
    expect_endpoint(VARS("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=", EP),
                    "http://collector:4318/v1/traces");
}

static void test_endpoint_errors(void)
{
    expect_error(VARS("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=collector:4318"),
                 "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT");
    expect_error(VARS("OTEL_EXPORTER_OTLP_ENDPOINT=ftp://c"),
                 "OTEL_EXPORTER_OTLP_ENDPOINT");
    expect_error(VARS("OTEL_EXPORTER_OTLP_ENDPOINT=http://"),
                 "OTEL_EXPORTER_OTLP_ENDPOINT");
    expect_error(VARS("OTEL_EXPORTER_OTLP_ENDPOINT=http://a b/"),
                 "OTEL_EXPORTER_OTLP_ENDPOINT");
    /* The specific variable is the one that is checked (and named). */
    expect_error(VARS("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=nope", EP),
                 "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT");
}

/* ---- protocol ------------------------------------------------------------------- */

static int protocol_of(const char *const *vars)
{
    tel_config cfg;
    strands_error err;
    int on = 0;
    if (load(&cfg, &on, &err, vars) != STRANDS_OK || !on) return -1;
    int p = (int)cfg.protocol;
    tel_config_cleanup(&cfg);
    return p;
}

static void test_protocol(void)
{
    CHECK_INT(protocol_of(VARS(EP)), TEL_PROTO_PROTOBUF);
    CHECK_INT(protocol_of(VARS(EP, "OTEL_EXPORTER_OTLP_PROTOCOL=http/json")),
              TEL_PROTO_JSON);
    CHECK_INT(protocol_of(VARS(EP,
                               "OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf")),
              TEL_PROTO_PROTOBUF);
    CHECK_INT(protocol_of(VARS(EP,
                               "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL=http/json",
                               "OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf")),
              TEL_PROTO_JSON);
    /* The specific value wins even when the generic one would be bad. */
    CHECK_INT(protocol_of(VARS(
                  EP, "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL=http/protobuf",
                  "OTEL_EXPORTER_OTLP_PROTOCOL=grpc")),
              TEL_PROTO_PROTOBUF);
    expect_error(VARS(EP, "OTEL_EXPORTER_OTLP_PROTOCOL=grpc"),
                 "OTEL_EXPORTER_OTLP_PROTOCOL");
    expect_error(VARS(EP, "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL=grpc"),
                 "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL");
    expect_error(VARS(EP, "OTEL_EXPORTER_OTLP_PROTOCOL=http/xml"),
                 "OTEL_EXPORTER_OTLP_PROTOCOL");
    tel_config cfg;
    strands_error err;
    int on;
    load(&cfg, &on, &err, VARS(EP, "OTEL_EXPORTER_OTLP_PROTOCOL=grpc"));
    CHECK(strstr(err.message, "grpc is not supported") != NULL);
}

/* ---- headers ---------------------------------------------------------------------- */

static void test_headers(void)
{
    tel_config cfg;
    strands_error err;
    int on = 0;
    CHECK_INT(load(&cfg, &on, &err,
                   VARS(EP, "OTEL_EXPORTER_OTLP_HEADERS=api-key=s3cr%3Dt, "
                            "x-note = a%20b%2Cc ,,")),
              STRANDS_OK);
    CHECK_INT(cfg.n_headers, 2);
    if (cfg.n_headers == 2) {
        CHECK_STR(cfg.headers[0].key, "api-key");
        CHECK_STR(cfg.headers[0].value, "s3cr=t");
        CHECK_STR(cfg.headers[1].key, "x-note");
        CHECK_STR(cfg.headers[1].value, "a b,c");
    }
    tel_config_cleanup(&cfg);
    /* The traces list replaces the generic one (no merging). */
    CHECK_INT(load(&cfg, &on, &err,
                   VARS(EP, "OTEL_EXPORTER_OTLP_TRACES_HEADERS=t=1",
                        "OTEL_EXPORTER_OTLP_HEADERS=g=2,h=3")),
              STRANDS_OK);
    CHECK_INT(cfg.n_headers, 1);
    if (cfg.n_headers == 1) {
        CHECK_STR(cfg.headers[0].key, "t");
        CHECK_STR(cfg.headers[0].value, "1");
    }
    tel_config_cleanup(&cfg);
}

static void test_header_errors(void)
{
    expect_error(VARS(EP, "OTEL_EXPORTER_OTLP_HEADERS=novalue"),
                 "OTEL_EXPORTER_OTLP_HEADERS");
    expect_error(VARS(EP, "OTEL_EXPORTER_OTLP_HEADERS==v"),
                 "OTEL_EXPORTER_OTLP_HEADERS");
    expect_error(VARS(EP, "OTEL_EXPORTER_OTLP_HEADERS=a=%zz"),
                 "OTEL_EXPORTER_OTLP_HEADERS");
    expect_error(VARS(EP, "OTEL_EXPORTER_OTLP_HEADERS=a=%4"),
                 "OTEL_EXPORTER_OTLP_HEADERS");
    /* Decoded CR/LF would split the HTTP header. */
    expect_error(VARS(EP, "OTEL_EXPORTER_OTLP_HEADERS=a=x%0d%0aEvil: 1"),
                 "OTEL_EXPORTER_OTLP_HEADERS");
    expect_error(VARS(EP, "OTEL_EXPORTER_OTLP_HEADERS=bad key=1"),
                 "OTEL_EXPORTER_OTLP_HEADERS");
    expect_error(VARS(EP, "OTEL_EXPORTER_OTLP_TRACES_HEADERS=x",
                      "OTEL_EXPORTER_OTLP_HEADERS=a=1"),
                 "OTEL_EXPORTER_OTLP_TRACES_HEADERS");
}

/* ---- resource ------------------------------------------------------------------------ */

static void test_service_name(void)
{
    tel_config cfg;
    strands_error err;
    int on = 0;
    CHECK_INT(load(&cfg, &on, &err, VARS(EP)), STRANDS_OK);
    CHECK_STR(resource_value(&cfg, "service.name"), "strands-agent");
    CHECK_STR(resource_value(&cfg, "telemetry.sdk.name"), "strands-c");
    CHECK_STR(resource_value(&cfg, "telemetry.sdk.language"), "c");
    CHECK_STR(resource_value(&cfg, "telemetry.sdk.version"), STRANDS_VERSION);
    CHECK_STR(cfg.resource[0].key, "service.name");
    tel_config_cleanup(&cfg);

    CHECK_INT(load(&cfg, &on, &err,
                   VARS(EP, "OTEL_RESOURCE_ATTRIBUTES=deployment.environment"
                            "=prod,service.name=svc%20one")),
              STRANDS_OK);
    CHECK_STR(resource_value(&cfg, "service.name"), "svc one");
    CHECK_STR(resource_value(&cfg, "deployment.environment"), "prod");
    CHECK_INT(cfg.n_resource, 5);
    tel_config_cleanup(&cfg);

    CHECK_INT(load(&cfg, &on, &err,
                   VARS(EP, "OTEL_SERVICE_NAME=from-var",
                        "OTEL_RESOURCE_ATTRIBUTES=service.name=attr")),
              STRANDS_OK);
    CHECK_STR(resource_value(&cfg, "service.name"), "from-var");
    CHECK_INT(cfg.n_resource, 4); /* service.name once */
    tel_config_cleanup(&cfg);

    /* The SDK's own attributes cannot be overridden. */
    CHECK_INT(load(&cfg, &on, &err,
                   VARS(EP, "OTEL_RESOURCE_ATTRIBUTES=telemetry.sdk.name=x")),
              STRANDS_OK);
    CHECK_STR(resource_value(&cfg, "telemetry.sdk.name"), "strands-c");
    tel_config_cleanup(&cfg);

    expect_error(VARS(EP, "OTEL_RESOURCE_ATTRIBUTES=justakey"),
                 "OTEL_RESOURCE_ATTRIBUTES");
    expect_error(VARS(EP, "OTEL_RESOURCE_ATTRIBUTES=a=%g1"),
                 "OTEL_RESOURCE_ATTRIBUTES");
}

/* ---- sampler --------------------------------------------------------------------------- */

static void test_sampler_names(void)
{
    static const struct {
        const char *var;
        int parent_based;
        tel_root_sampler root;
    } cases[] = {
        {NULL, 1, TEL_SAMPLE_ALWAYS_ON}, /* the spec's default */
        {"OTEL_TRACES_SAMPLER=always_on", 0, TEL_SAMPLE_ALWAYS_ON},
        {"OTEL_TRACES_SAMPLER=always_off", 0, TEL_SAMPLE_ALWAYS_OFF},
        {"OTEL_TRACES_SAMPLER=traceidratio", 0, TEL_SAMPLE_RATIO},
        {"OTEL_TRACES_SAMPLER=parentbased_always_on", 1, TEL_SAMPLE_ALWAYS_ON},
        {"OTEL_TRACES_SAMPLER=parentbased_always_off", 1,
         TEL_SAMPLE_ALWAYS_OFF},
        {"OTEL_TRACES_SAMPLER=parentbased_traceidratio", 1, TEL_SAMPLE_RATIO},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tel_config cfg;
        strands_error err;
        int on = 0;
        CHECK_INT(load(&cfg, &on, &err, VARS(EP, cases[i].var)), STRANDS_OK);
        CHECK_INT(cfg.sampler.parent_based, cases[i].parent_based);
        CHECK_INT(cfg.sampler.root, cases[i].root);
        CHECK(cfg.sampler.ratio == 1.0);
        tel_config_cleanup(&cfg);
    }
}

static void test_sampler_arg(void)
{
    tel_config cfg;
    strands_error err;
    int on = 0;
    CHECK_INT(load(&cfg, &on, &err,
                   VARS(EP, "OTEL_TRACES_SAMPLER=traceidratio",
                        "OTEL_TRACES_SAMPLER_ARG=0.25")),
              STRANDS_OK);
    CHECK(cfg.sampler.ratio == 0.25);
    tel_config_cleanup(&cfg);
    CHECK_INT(load(&cfg, &on, &err,
                   VARS(EP, "OTEL_TRACES_SAMPLER=parentbased_traceidratio",
                        "OTEL_TRACES_SAMPLER_ARG=0")),
              STRANDS_OK);
    CHECK(cfg.sampler.ratio == 0.0);
    tel_config_cleanup(&cfg);
    /* The argument only matters to the ratio samplers. */
    CHECK_INT(load(&cfg, &on, &err,
                   VARS(EP, "OTEL_TRACES_SAMPLER=always_on",
                        "OTEL_TRACES_SAMPLER_ARG=banana")),
              STRANDS_OK);
    tel_config_cleanup(&cfg);
    static const char *const bad[] = {"OTEL_TRACES_SAMPLER_ARG=banana",
                                      "OTEL_TRACES_SAMPLER_ARG=1.5",
                                      "OTEL_TRACES_SAMPLER_ARG=-0.1",
                                      "OTEL_TRACES_SAMPLER_ARG=0.5x",
                                      "OTEL_TRACES_SAMPLER_ARG=nan"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        expect_error(VARS(EP, "OTEL_TRACES_SAMPLER=traceidratio", bad[i]),
                     "OTEL_TRACES_SAMPLER_ARG");
}

static void test_sampler_errors(void)
{
    expect_error(VARS(EP, "OTEL_TRACES_SAMPLER=sometimes"),
                 "OTEL_TRACES_SAMPLER");
    expect_error(VARS(EP, "OTEL_TRACES_SAMPLER=jaeger_remote"),
                 "OTEL_TRACES_SAMPLER");
    expect_error(VARS(EP, "OTEL_TRACES_SAMPLER=Always_On"),
                 "OTEL_TRACES_SAMPLER");
}

/* ---- limits ---------------------------------------------------------------------------- */

static void test_limits(void)
{
    tel_config cfg;
    strands_error err;
    int on = 0;
    CHECK_INT(load(&cfg, &on, &err, VARS(EP)), STRANDS_OK);
    CHECK_INT(cfg.timeout_ms, 3000);
    CHECK_INT(cfg.connect_timeout_ms, 1000);
    CHECK_INT(cfg.schedule_delay_ms, 1000);
    CHECK_INT(cfg.max_queue, 2048);
    CHECK_INT(cfg.max_batch, 512);
    tel_config_cleanup(&cfg);
    CHECK_INT(load(&cfg, &on, &err,
                   VARS(EP, "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT=500",
                        "OTEL_EXPORTER_OTLP_TIMEOUT=9000",
                        "OTEL_BSP_SCHEDULE_DELAY=20",
                        "OTEL_BSP_MAX_QUEUE_SIZE=8",
                        "OTEL_BSP_MAX_EXPORT_BATCH_SIZE=8")),
              STRANDS_OK);
    CHECK_INT(cfg.timeout_ms, 500);
    CHECK_INT(cfg.connect_timeout_ms, 500);
    CHECK_INT(cfg.schedule_delay_ms, 20);
    CHECK_INT(cfg.max_queue, 8);
    CHECK_INT(cfg.max_batch, 8);
    tel_config_cleanup(&cfg);
    CHECK_INT(load(&cfg, &on, &err,
                   VARS(EP, "OTEL_EXPORTER_OTLP_TIMEOUT=9000")),
              STRANDS_OK);
    CHECK_INT(cfg.timeout_ms, 9000);
    CHECK_INT(cfg.connect_timeout_ms, 1000);
    tel_config_cleanup(&cfg);

    expect_error(VARS(EP, "OTEL_EXPORTER_OTLP_TIMEOUT=soon"),
                 "OTEL_EXPORTER_OTLP_TIMEOUT");
    expect_error(VARS(EP, "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT=0"),
                 "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT");
    expect_error(VARS(EP, "OTEL_BSP_SCHEDULE_DELAY=0"),
                 "OTEL_BSP_SCHEDULE_DELAY");
    expect_error(VARS(EP, "OTEL_BSP_MAX_QUEUE_SIZE=-1"),
                 "OTEL_BSP_MAX_QUEUE_SIZE");
    expect_error(VARS(EP, "OTEL_BSP_MAX_EXPORT_BATCH_SIZE=x"),
                 "OTEL_BSP_MAX_EXPORT_BATCH_SIZE");
    expect_error(VARS(EP, "OTEL_BSP_MAX_QUEUE_SIZE=10",
                      "OTEL_BSP_MAX_EXPORT_BATCH_SIZE=20"),
                 "OTEL_BSP_MAX_EXPORT_BATCH_SIZE");
}

/* ---- the public constructor ------------------------------------------------------------ */

static void test_tracer_from_env(void)
{
    fake_env env = {{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=http://127.0.0.1:9/t",
                     NULL}};
    strands_error err;
    strands_tracer *t = strands_tracer_from_env(fake_getenv, &env, &err);
    CHECK(t != NULL);
    CHECK_STR(strands_tracer_endpoint(t), "http://127.0.0.1:9/t");
    strands_tracer_stats st;
    strands_tracer_get_stats(t, &st);
    CHECK_INT(st.exported + st.dropped + st.failed, 0);
    strands_tracer_shutdown(t, 100);
    strands_tracer_free(t);

    fake_env bad = {{EP, "OTEL_TRACES_SAMPLER=x", NULL}};
    t = strands_tracer_from_env(fake_getenv, &bad, &err);
    CHECK(t == NULL);
    CHECK_INT(err.status, STRANDS_E_INVALID);
    CHECK(!strncmp(err.message, "OTEL_TRACES_SAMPLER:", 20));
    CHECK_STR(strands_tracer_endpoint(NULL), "");
    strands_tracer_shutdown(NULL, 10);
    strands_tracer_free(NULL);
}

int main(void)
{
    RUN(test_off_without_endpoint);
    RUN(test_sdk_disabled);
    RUN(test_traces_exporter);
    RUN(test_endpoint_precedence);
    RUN(test_endpoint_errors);
    RUN(test_protocol);
    RUN(test_headers);
    RUN(test_header_errors);
    RUN(test_service_name);
    RUN(test_sampler_names);
    RUN(test_sampler_arg);
    RUN(test_sampler_errors);
    RUN(test_limits);
    RUN(test_tracer_from_env);
    return test_report();
}
