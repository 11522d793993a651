/* strands_runtime_main: flags -> configuration -> credentials, model,
 * tools, session store, agent, server -> wait for SIGTERM/SIGINT ->
 * graceful shutdown. The strands-runtime binary is this one call.       */
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/env.h"
#include "strands/runtime.h"
#include "strands/strands.h"

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: strands-runtime [--help] [--version] [--healthcheck]\n"
            "\n"
            "A Strands-style agent runtime for AWS Bedrock AgentCore. Serves\n"
            "GET /ping and POST /invocations; calls Bedrock Converse signed\n"
            "with SigV4. --healthcheck GETs /ping on PORT and exits 0 when it\n"
            "answers Healthy (for container HEALTHCHECKs). Configured by\n"
            "environment variables:\n\n");
    strands_runtime_config_print_help(f);
    fprintf(f,
            "\nCredentials for Bedrock, first found wins (as AWS SDKs):\n"
            "  1. AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN\n"
            "  2. AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN "
            "[+ AWS_ROLE_SESSION_NAME]\n"
            "  3. shared files: AWS_PROFILE, AWS_SHARED_CREDENTIALS_FILE,\n"
            "     AWS_CONFIG_FILE (static keys, credential_process, role_arn)\n"
            "  4. AWS_CONTAINER_CREDENTIALS_RELATIVE_URI / _FULL_URI with\n"
            "     AWS_CONTAINER_AUTHORIZATION_TOKEN(_FILE)\n"
            "  5. instance metadata (IMDSv2; AWS_EC2_METADATA_DISABLED=true "
            "skips it,\n     AWS_EC2_METADATA_SERVICE_ENDPOINT overrides it)\n"
            "With BEDROCK_CREDENTIALS_SECRET these only read the secret, and "
            "Bedrock\ncalls are signed with the keys stored in it. "
            "AWS_BEARER_TOKEN_BEDROCK\n(a Bedrock API key) replaces SigV4 "
            "on Bedrock calls. Without credentials the\nserver starts, /ping "
            "is healthy and /invocations answers 503.\n"
            "\nTracing (OpenTelemetry, OTLP/HTTP; off without an endpoint):\n"
            "  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, OTEL_EXPORTER_OTLP_ENDPOINT,\n"
            "  OTEL_EXPORTER_OTLP_[TRACES_]PROTOCOL (http/protobuf, "
            "http/json),\n"
            "  OTEL_EXPORTER_OTLP_[TRACES_]HEADERS, "
            "OTEL_EXPORTER_OTLP_[TRACES_]TIMEOUT,\n"
            "  OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES, OTEL_SDK_DISABLED,\n"
            "  OTEL_TRACES_EXPORTER, OTEL_TRACES_SAMPLER, "
            "OTEL_TRACES_SAMPLER_ARG,\n"
            "  OTEL_BSP_SCHEDULE_DELAY, OTEL_BSP_MAX_QUEUE_SIZE,\n"
            "  OTEL_BSP_MAX_EXPORT_BATCH_SIZE\n");
}

/* Adds the built-ins named in TOOLS, then the hook's tools. */
static int add_tools(strands_tool_registry *reg, const char *list,
                     const strands_runtime_hooks *hooks)
{
    strands_error err;
    int rc = 0;
    if (strands_tool_registry_add_builtins(reg, list, &err) != STRANDS_OK) {
        fprintf(stderr, "strands-runtime: TOOLS: %s\n", err.message);
        rc = -1;
    }
    if (!rc && hooks && hooks->add_tools &&
        hooks->add_tools(hooks->user, reg, &err) != STRANDS_OK) {
        fprintf(stderr, "strands-runtime: adding tools: %s\n", err.message);
        rc = -1;
    }
    return rc;
}

/* Loads the configuration; on a bad value prints it and returns -1. */
static int load_config(strands_runtime_config *cfg)
{
    strands_error err;
    if (strands_runtime_config_load(cfg, NULL, NULL, &err) == STRANDS_OK)
        return 0;
    fprintf(stderr, "strands-runtime: configuration error: %s\n", err.message);
    return -1;
}

/* --healthcheck: exit 0 when /ping on the configured PORT says Healthy. */
static int healthcheck(void)
{
    strands_runtime_config cfg;
    if (load_config(&cfg)) return 2;
    char why[128];
    int rc = strands_healthcheck(cfg.port, 3000, why, sizeof why);
    strands_runtime_config_cleanup(&cfg);
    fprintf(rc ? stderr : stdout, "%s\n", why);
    return rc;
}

/* Reads the Bedrock credentials secret once at start-up, so a missing,
 * denied or malformed secret stops the runtime with a clear message. */
static int check_secret(strands_credentials_provider *creds, const char *id)
{
    strands_credentials c;
    strands_error err;
    strands_status st = strands_credentials_resolve(creds, &c, &err);
    strands_credentials_wipe(&c);
    if (st == STRANDS_OK) return 0;
    fprintf(stderr, "strands-runtime: BEDROCK_CREDENTIALS_SECRET '%s': %s\n",
            id, err.message);
    return -1;
}

/* Looks for credentials once, off the start-up path (instance metadata
 * may take a second to answer), and warns when there are none. */
static void *check_credentials(void *arg)
{
    strands_credentials c;
    strands_error err;
    if (strands_credentials_resolve(arg, &c, &err) != STRANDS_OK)
        strands_log(STRANDS_LOG_WARN, "strands.runtime", NULL, NULL, NULL,
                    "%s; /invocations will answer 503 until credentials are "
                    "available", err.message);
    else
        strands_log(STRANDS_LOG_INFO, "strands.runtime", NULL, NULL, NULL,
                    "AWS credentials found (%s provider)", c.source);
    strands_credentials_wipe(&c);
    return NULL;
}

/* Blocks until SIGTERM or SIGINT; returns the signal number. */
static int wait_for_signal(const sigset_t *set)
{
    int sig = 0;
    while (sigwait(set, &sig) != 0) {}
    return sig;
}

int strands_runtime_main(int argc, char **argv,
                         const strands_runtime_hooks *hooks)
{
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        }
        if (!strcmp(argv[i], "--healthcheck")) return healthcheck();
        if (!strcmp(argv[i], "--version")) {
            printf("strands-runtime %s\n", STRANDS_VERSION);
            return 0;
        }
        fprintf(stderr, "strands-runtime: unknown argument '%s' (see --help)\n",
                argv[i]);
        return 2;
    }
    /* Bound malloc arenas: many connection threads, little memory each. */
    mallopt(M_ARENA_MAX, 2);

    strands_runtime_config cfg;
    strands_error err;
    if (load_config(&cfg)) return 2;
    strands_log_use_json_stdout();
    strands_log_set_level((strands_log_level)cfg.log_level);

    /* Signals are handled by this thread only: block them before any
     * other thread (tracer, server) starts, so all inherit the mask. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    strands_tracer *tracer = strands_tracer_from_env(NULL, NULL, &err);
    if (!tracer && err.status != STRANDS_OK) {
        fprintf(stderr, "strands-runtime: tracing: %s\n", err.message);
        strands_runtime_config_cleanup(&cfg);
        return 2;
    }

    int rc = 1;
    pthread_t checker;
    int checker_started = 0;
    char region[64];
    if (cfg.region)
        snprintf(region, sizeof region, "%s", cfg.region);
    else
        strands_aws_region(NULL, NULL, region, sizeof region);
    strands_aws_options ao = {.region = region,
                              .bedrock_secret_id = cfg.bedrock_secret,
                              .secret_refresh_s = cfg.secret_refresh_s,
                              .retry_mode = cfg.retry_mode,
                              .max_attempts = cfg.max_attempts};
    strands_credentials_provider *creds =
        strands_credentials_for_bedrock_new(&ao, &err);
    if (!creds) {
        fprintf(stderr, "strands-runtime: credentials: %s\n", err.message);
        strands_tracer_free(tracer);
        strands_runtime_config_cleanup(&cfg);
        return 2;
    }
    if (cfg.bedrock_secret && check_secret(creds, cfg.bedrock_secret)) {
        strands_credentials_provider_free(creds);
        strands_tracer_free(tracer);
        strands_runtime_config_cleanup(&cfg);
        return 1;
    }
    const char *bearer = core_getenv(NULL, NULL, "AWS_BEARER_TOKEN_BEDROCK");
    strands_bedrock_config bc = {.model_id = cfg.model_id,
                                 .region = region,
                                 .endpoint = cfg.bedrock_endpoint,
                                 .credentials = creds,
                                 .bearer_token = bearer,
                                 .max_attempts = cfg.max_attempts,
                                 .retry_mode = cfg.retry_mode};
    strands_model *model = NULL;
    if (creds && hooks && hooks->create_model)
        model = hooks->create_model(hooks->user, &cfg, creds, &err);
    else if (creds)
        model = strands_bedrock_model_new(&bc, &err);
    strands_tool_registry *tools = strands_tool_registry_new();
    strands_session_store *store =
        strands_memory_store_new(cfg.max_sessions, cfg.session_ttl_s);
    strands_agent *agent = NULL;
    strands_server *server = NULL;
    if (!model) {
        fprintf(stderr, "strands-runtime: %s\n",
                creds ? err.message : "out of memory");
        goto out;
    }
    if (!tools || !store) goto out;
    if (add_tools(tools, cfg.tools, hooks)) {
        rc = 2;
        goto out;
    }
    strands_agent_config ac = {.model = model,
                               .tools = tools,
                               .sessions = store,
                               .system_prompt = cfg.system_prompt,
                               .max_tokens = cfg.max_tokens,
                               .max_iterations = cfg.max_iterations};
    agent = strands_agent_new(&ac, &err);
    if (!agent) {
        fprintf(stderr, "strands-runtime: %s\n", err.message);
        goto out;
    }
    strands_server_config sc = {.bind_address = cfg.bind_address,
                                .port = cfg.port,
                                .max_body_bytes = cfg.max_body_bytes,
                                .max_inflight_body_bytes =
                                    cfg.max_inflight_body_bytes,
                                .sse_keepalive_s = cfg.sse_keepalive_s,
                                .tracer = tracer,
                                .model_id = cfg.model_id,
                                .agent = agent};
    server = strands_server_start(&sc, &err);
    if (!server) {
        fprintf(stderr, "strands-runtime: %s\n", err.message);
        goto out;
    }
    if (!bearer && !cfg.bedrock_secret)
        checker_started =
            pthread_create(&checker, NULL, check_credentials, creds) == 0;
    strands_log(STRANDS_LOG_INFO, "strands.runtime", NULL, NULL, NULL,
                "strands-runtime %s listening on %s:%d (model %s, region %s, "
                "tools '%s')",
                STRANDS_VERSION, cfg.bind_address,
                strands_server_port(server), cfg.model_id, region, cfg.tools);
    if (tracer)
        strands_log(STRANDS_LOG_INFO, "strands.runtime", NULL, NULL, NULL,
                    "exporting traces to %s", strands_tracer_endpoint(tracer));

    int sig = wait_for_signal(&set);
    int64_t signalled_ms = strands_clock_mono_ms();
    strands_log(STRANDS_LOG_INFO, "strands.runtime", NULL, NULL, NULL,
                "received %s: draining for up to %d s",
                sig == SIGTERM ? "SIGTERM" : "SIGINT", cfg.shutdown_grace_s);
    strands_server_quiesce(server);
    int left = strands_server_wait_idle(server, cfg.shutdown_grace_s * 1000L);
    if (left > 0) {
        strands_log(STRANDS_LOG_WARN, "strands.runtime", NULL, NULL, NULL,
                    "abandoning %d in-flight invocation(s)", left);
        strands_server_cancel_all(server);
        strands_server_wait_idle(server, 2000);
    }
    strands_server_stop(server);
    server = NULL;
    /* Spans get whatever is left of the grace period, never more. */
    int64_t spent = strands_clock_mono_ms() - signalled_ms;
    int64_t budget = cfg.shutdown_grace_s * 1000LL - spent;
    strands_tracer_shutdown(tracer, budget > 0 ? (long)budget : 0);
    strands_log(STRANDS_LOG_INFO, "strands.runtime", NULL, NULL, NULL,
                "shutdown complete");
    rc = 0;
out:
    if (checker_started) pthread_join(checker, NULL);
    strands_server_stop(server);
    strands_agent_free(agent);
    strands_session_store_free(store);
    strands_tool_registry_free(tools);
    strands_model_free(model);
    strands_credentials_provider_free(creds);
    strands_tracer_free(tracer);
    strands_runtime_config_cleanup(&cfg);
    strands_log_json_stdout_flush(2000);
    return rc;
}
