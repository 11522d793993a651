/* strands_runtime_main: flags -> settings (every module's rows, every
 * registered provider's) -> credentials, model, tools, session store,
 * agent (runtime/parts.c) -> server -> wait for SIGTERM/SIGINT ->
 * graceful shutdown. The strands-runtime binary is this one call.       */
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/internal.h"
#include "strands/strands.h"

/* Loads the settings; on a bad value prints it and returns NULL. */
static strands_settings *load_settings(void)
{
    strands_error err;
    strands_settings *s = strands_settings_load(NULL, NULL, &err);
    if (!s)
        fprintf(stderr, "strands-runtime: configuration error: %s\n",
                err.message);
    return s;
}

/* PORT, or the port of SERVER_PROTOCOL when PORT is 0 (unset). */
static int runtime_port(const strands_runtime_config *cfg)
{
    strands_server_protocol p = STRANDS_PROTOCOL_HTTP;
    strands_server_protocol_parse(cfg->server_protocol, &p);
    return cfg->port ? cfg->port : strands_server_protocol_port(p);
}

/* --healthcheck: exit 0 when /ping on the configured PORT says Healthy. */
static int healthcheck(void)
{
    strands_settings *s = load_settings();
    if (!s) return 2;
    char why[128];
    int rc = strands_healthcheck(runtime_port(strands_settings_config(s)),
                                 3000, why, sizeof why);
    strands_settings_free(s);
    fprintf(rc ? stderr : stdout, "%s\n", why);
    return rc;
}

/* Blocks until SIGTERM or SIGINT; returns the signal number. */
static int wait_for_signal(const sigset_t *set)
{
    int sig = 0;
    while (sigwait(set, &sig) != 0) {}
    return sig;
}

/* Drains and stops the server after a signal, within the grace period. */
static void shut_down(strands_server *server, strands_tracer *tracer,
                      const strands_runtime_config *cfg, int sig)
{
    int64_t signalled_ms = strands_clock_mono_ms();
    strands_log(STRANDS_LOG_INFO, "strands.runtime", NULL, NULL, NULL,
                "received %s: draining for up to %d s",
                sig == SIGTERM ? "SIGTERM" : "SIGINT", cfg->shutdown_grace_s);
    strands_server_quiesce(server);
    int left = strands_server_wait_idle(server, cfg->shutdown_grace_s * 1000L);
    if (left > 0) {
        strands_log(STRANDS_LOG_WARN, "strands.runtime", NULL, NULL, NULL,
                    "abandoning %d in-flight invocation(s)", left);
        strands_server_cancel_all(server);
        strands_server_wait_idle(server, 2000);
    }
    strands_server_stop(server);
    /* Spans get whatever is left of the grace period, never more. */
    int64_t spent = strands_clock_mono_ms() - signalled_ms;
    int64_t budget = cfg->shutdown_grace_s * 1000LL - spent;
    strands_tracer_shutdown(tracer, budget > 0 ? (long)budget : 0);
    strands_log(STRANDS_LOG_INFO, "strands.runtime", NULL, NULL, NULL,
                "shutdown complete");
}

/* SESSION_STORE as it may be logged: the user information of a URL
 * ("redis://user:password@host") is replaced by "***".                  */
static void store_for_log(const char *spec, char *out, size_t outsz)
{
    const char *sl = strstr(spec, "://");
    const char *auth = sl ? sl + 3 : NULL;
    const char *at = auth ? memrchr(auth, '@', strcspn(auth, "/?#")) : NULL;
    if (at)
        snprintf(out, outsz, "%.*s***%s", (int)(auth - spec), spec, at);
    else
        snprintf(out, outsz, "%s", spec);
}

/* Serves until a signal; returns the exit status. */
static int run(const strands_settings *settings)
{
    const strands_runtime_config *cfg = strands_settings_config(settings);
    strands_error err;
    strands_log_use_json_stdout();
    strands_log_set_level((strands_log_level)cfg->log_level);

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
        return 2;
    }
    runtime_parts parts;
    int rc = runtime_parts_build(&parts, settings, &err);
    if (rc) fprintf(stderr, "strands-runtime: %s\n", err.message);
    strands_server *server = NULL;
    if (!rc) {
        strands_server_protocol proto = STRANDS_PROTOCOL_HTTP;
        strands_server_protocol_parse(cfg->server_protocol, &proto);
        strands_server_config sc = {.protocol = proto,
                                    .bind_address = cfg->bind_address,
                                    .port = runtime_port(cfg),
                                    .max_body_bytes = cfg->max_body_bytes,
                                    .max_inflight_body_bytes =
                                        cfg->max_inflight_body_bytes,
                                    .sse_keepalive_s = cfg->sse_keepalive_s,
                                    .tracer = tracer,
                                    .model_id = cfg->model_id,
                                    .agent = parts.agent,
                                    .tools = parts.tools,
                                    .ws_max_message_bytes =
                                        cfg->ws_max_message_bytes,
                                    .mcp_serve_tools =
                                        cfg->mcp_serve_tools &&
                                        !strcmp(cfg->mcp_serve_tools, "true"),
                                    .tool_timeout_s =
                                        cfg->tool_timeout_seconds,
                                    .agent_name = cfg->agent_name,
                                    .agent_description =
                                        cfg->agent_description,
                                    .runtime_url = cfg->runtime_url,
                                    .a2a_max_tasks = cfg->a2a_max_tasks,
                                    .a2a_task_ttl_s = cfg->a2a_task_ttl_s,
                                    .async_max_s = cfg->async_max_s,
                                    .async_result_ttl_s =
                                        cfg->async_result_ttl_s,
                                    .async_max = cfg->async_max};
        server = strands_server_start(&sc, &err);
        if (!server) {
            fprintf(stderr, "strands-runtime: %s\n", err.message);
            rc = 1;
        }
    }
    if (server) {
        runtime_parts_check_credentials(&parts);
        char store[512];
        store_for_log(cfg->session_store, store, sizeof store);
        strands_log(STRANDS_LOG_INFO, "strands.runtime", NULL, NULL, NULL,
                    "strands-runtime %s listening on %s:%d (model provider "
                    "%s, model %s, region %s, session store %s)",
                    STRANDS_VERSION, cfg->bind_address,
                    strands_server_port(server), cfg->model_provider,
                    cfg->model_id, parts.region, store);
        if (tracer)
            strands_log(STRANDS_LOG_INFO, "strands.runtime", NULL, NULL, NULL,
                        "exporting traces to %s",
                        strands_tracer_endpoint(tracer));
        shut_down(server, tracer, cfg, wait_for_signal(&set));
    }
    runtime_parts_free(&parts);
    strands_tracer_free(tracer);
    return rc;
}

int strands_runtime_main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            runtime_print_usage(stdout);
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
    strands_settings *settings = load_settings();
    if (!settings) return 2;
    int rc = run(settings);
    strands_settings_free(settings);
    strands_log_json_stdout_flush(2000); /* queued log lines reach stdout */
    return rc;
}
