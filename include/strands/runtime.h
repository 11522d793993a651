/* The whole runtime as one call: what strands-runtime's main() does
 * (flags, configuration, credentials, model, tools, sessions, agent, HTTP
 * server, signals, graceful shutdown), with hooks so a user's own binary
 * can add C tools or replace the model provider and keep everything else. */
#ifndef STRANDS_RUNTIME_H
#define STRANDS_RUNTIME_H

#include <stddef.h>

#include "strands/aws.h"
#include "strands/config.h"
#include "strands/model.h"
#include "strands/tool.h"

typedef struct strands_runtime_hooks {
    /* Adds tools after the built-ins named by TOOLS; may be NULL. An error
     * stops start-up with its message (exit status 2).                  */
    strands_status (*add_tools)(void *user, strands_tool_registry *reg,
                                strands_error *err);
    /* Creates the model; NULL hook = Bedrock Converse from the config.
     * `credentials` is borrowed and outlives the model.                */
    strands_model *(*create_model)(void *user,
                                   const strands_runtime_config *cfg,
                                   strands_credentials_provider *credentials,
                                   strands_error *err);
    void *user;
} strands_runtime_hooks;

/** Runs the runtime until SIGTERM/SIGINT. Returns the process exit status:
 * 0 after a clean shutdown (and for --help/--version), 2 for a bad flag or
 * configuration value, 1 when the server cannot start. hooks may be NULL. */
STRANDS_EXTERN int strands_runtime_main(int argc, char **argv,
                                        const strands_runtime_hooks *hooks);

/** GETs /ping on 127.0.0.1:port within timeout_ms. Returns 0 when it
 * answers 200 with status Healthy (or HealthyBusy), 1 otherwise; `why`
 * gets a one-line explanation either way.                              */
STRANDS_EXTERN int strands_healthcheck(int port, int timeout_ms, char *why,
                                       size_t whysz);

#endif
