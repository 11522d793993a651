/* The whole runtime as one call: what strands-runtime's main() does
 * (flags, settings, credentials, model, tools, sessions, agent, HTTP
 * server, signals, graceful shutdown). A user's own binary registers its
 * own model providers, session stores and tool sources (strands/registry.h)
 * and then makes the same call, keeping everything else.               */
#ifndef STRANDS_RUNTIME_H
#define STRANDS_RUNTIME_H

#include <stddef.h>

#include "strands/config.h"
#include "strands/registry.h"

/** Runs the runtime until SIGTERM/SIGINT, with the model provider named
 * by MODEL_PROVIDER, the session store named by SESSION_STORE and the
 * tools of every registered tool source. Register your own entries
 * before calling it, from the thread that calls it. Returns the process
 * exit status: 0 after a clean shutdown (and for --help/--version), 2 for
 * a bad flag or configuration value (the message, on stderr, starts with
 * the variable's name), 1 when the runtime cannot start.                */
STRANDS_EXTERN int strands_runtime_main(int argc, char **argv);

/** GETs /ping on 127.0.0.1:port within timeout_ms. Returns 0 when it
 * answers 200 with status Healthy (or HealthyBusy), 1 otherwise; `why`
 * gets a one-line explanation either way.                              */
STRANDS_EXTERN int strands_healthcheck(int port, int timeout_ms, char *why,
                                       size_t whysz);

#endif
