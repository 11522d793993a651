/* strands_runtime_main: flags -> configuration -> credentials, model,
 * tools, session store, agent, server -> wait for SIGTERM/SIGINT ->
 * graceful shutdown. The strands-runtime binary is this one call.       */
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strands/runtime.h"
#include "strands/strands.h"

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: strands-runtime [--help] [--version]\n"
            "\n"
            "A Strands-style agent runtime for AWS Bedrock AgentCore. Serves\n"
            "GET /ping and POST /invocations; calls Bedrock Converse signed\n"
            "with SigV4. Configured by environment variables:\n\n");
    strands_runtime_config_print_help(f);
    fprintf(f,
            "\nCredentials: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and\n"
            "AWS_SESSION_TOKEN. Without them the server starts, /ping is\n"
            "healthy and /invocations answers 503.\n");
}

/* Adds the built-ins named in TOOLS, then the hook's tools. */
static int add_tools(strands_tool_registry *reg, const char *list,
                     const strands_runtime_hooks *hooks)
{
    char *copy = strdup(list);
    if (!copy) return -1;
    char *save = NULL;
    int rc = 0;
    strands_error err;
    for (char *t = strtok_r(copy, ", ", &save); t && !rc;
         t = strtok_r(NULL, ", ", &save)) {
        if (strands_tool_registry_add_builtin(reg, t, &err) != STRANDS_OK) {
            fprintf(stderr, "strands-runtime: TOOLS: %s\n", err.message);
            rc = -1;
        }
    }
    free(copy);
    if (!rc && hooks && hooks->add_tools &&
        hooks->add_tools(hooks->user, reg, &err) != STRANDS_OK) {
        fprintf(stderr, "strands-runtime: adding tools: %s\n", err.message);
        rc = -1;
    }
    return rc;
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
    if (strands_runtime_config_load(&cfg, NULL, NULL, &err) != STRANDS_OK) {
        fprintf(stderr, "strands-runtime: configuration error: %s\n",
                err.message);
        return 2;
    }
    strands_log_use_json_stdout();
    strands_log_set_level((strands_log_level)cfg.log_level);

    /* Signals are handled by this thread only; block them everywhere. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    int rc = 1;
    strands_credentials_provider *creds = strands_credentials_env_new();
    strands_bedrock_config bc = {.model_id = cfg.model_id,
                                 .region = cfg.region,
                                 .endpoint = cfg.bedrock_endpoint,
                                 .credentials = creds,
                                 .max_attempts = cfg.max_attempts};
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
                                .agent = agent};
    server = strands_server_start(&sc, &err);
    if (!server) {
        fprintf(stderr, "strands-runtime: %s\n", err.message);
        goto out;
    }
    strands_credentials probe;
    if (strands_credentials_resolve(creds, &probe, &err) != STRANDS_OK)
        strands_log(STRANDS_LOG_WARN, "strands.runtime", NULL, NULL, NULL,
                    "%s; /invocations will answer 503 until they are set",
                    err.message);
    strands_credentials_wipe(&probe);
    strands_log(STRANDS_LOG_INFO, "strands.runtime", NULL, NULL, NULL,
                "strands-runtime %s listening on %s:%d (model %s, region %s, "
                "tools '%s')",
                STRANDS_VERSION, cfg.bind_address,
                strands_server_port(server), cfg.model_id, cfg.region,
                cfg.tools);

    int sig = wait_for_signal(&set);
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
    strands_log(STRANDS_LOG_INFO, "strands.runtime", NULL, NULL, NULL,
                "shutdown complete");
    rc = 0;
out:
    strands_server_stop(server);
    strands_agent_free(agent);
    strands_session_store_free(store);
    strands_tool_registry_free(tools);
    strands_model_free(model);
    strands_credentials_provider_free(creds);
    strands_runtime_config_cleanup(&cfg);
    return rc;
}
