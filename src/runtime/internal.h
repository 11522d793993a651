/* Private interface of the runtime module (src/runtime/): the settings
 * engine's helpers, the registries' snapshot for the settings table, the
 * one-time registration of the built-ins, and the pieces of
 * strands_runtime_main (help, credentials, assembly of the agent).     */
#ifndef STRANDS_RUNTIME_INTERNAL_H
#define STRANDS_RUNTIME_INTERNAL_H

#include <pthread.h>
#include <stdio.h>
#include <stddef.h>

#include "strands/agent.h"
#include "strands/aws.h"
#include "strands/config.h"
#include "strands/registry.h"
#include "strands/settings.h"
#include "strands/telemetry.h"

/* Rows per settings group. */
#define RUNTIME_GROUP_ROWS_MAX 64

/* ---- settings (settings_parse.c, settings_table.c) ------------------- */

/** Writes row r's value in `values` as text into out. 1 when it has a
 * value, 0 when it is unset (out gets "").                              */
int runtime_setting_text(const strands_setting *r, const void *values,
                         char *out, size_t outsz);

/** The core groups (runtime, server, agent, AWS), in --help order; they
 * fill strands_runtime_config. Static; *n gets their count.            */
const strands_settings_group *const *runtime_core_groups(size_t *n);

/* ---- registries (registry.c, builtins.c) ------------------------------- */

/* One registered entry, as the table and the runtime see it. */
typedef struct runtime_entry {
    const char *name;
    const char *description;
    const strands_settings_group *settings; /* NULL: none */
    const void *entry;  /* the strands_*_provider struct */
} runtime_entry;

/** Copies the entries of one registry (registration order) into out;
 * returns their count (<= STRANDS_REGISTRY_MAX).                        */
size_t runtime_registry_list(strands_registry_kind kind,
                             runtime_entry out[STRANDS_REGISTRY_MAX]);

/** Registers the built-in entries, once per process, before any other
 * entry (every registry call runs it first). Thread-safe.               */
void runtime_builtins_ensure(void);
/** STRANDS_OK, or the error that registering a built-in entry gave (a
 * bug in that entry: start-up refuses to run without it).               */
strands_status runtime_builtins_status(strands_error *err);

/** The session store a SESSION_STORE value names (its part before the
 * first ':'), or NULL; *arg gets what follows the ':' (NULL when none). */
const strands_session_store_provider *runtime_session_store_for(
    const char *spec, const char **arg);

/* ---- strands_runtime_main's pieces ---------------------------------- */

/** --help: usage, every settings row, credentials and tracing notes. */
void runtime_print_usage(FILE *f);

/* Everything strands_runtime_main builds before it serves. */
typedef struct runtime_parts {
    const strands_settings *settings;   /* borrowed */
    char region[64];
    strands_credentials_provider *credentials;
    strands_model *model;
    strands_tool_registry *tools;
    strands_session_store *store;
    strands_agent *agent;
    int uses_credentials;               /* the model signs with them */
    pthread_t checker;                  /* credentials check thread */
    int checker_started;
} runtime_parts;

/** Builds credentials, model (MODEL_PROVIDER), session store
 * (SESSION_STORE), tools (every tool source, in registration order) and
 * the agent from the settings. Returns 0, or the exit status with err
 * saying why: 2 for a configuration error (credentials set-up, a tool
 * source's error, a store or model factory's E_INVALID), 1 for anything
 * else (e.g. a model factory's other errors). Free with
 * runtime_parts_free, also after a failure.                             */
int runtime_parts_build(runtime_parts *p, const strands_settings *s,
                        strands_error *err);
/** Builds p->credentials and p->region from the AWS settings and reads
 * BEDROCK_CREDENTIALS_SECRET once when set. 0, or the exit status (2: bad
 * set-up; 1: the secret cannot be read) with err saying why.            */
int runtime_credentials_build(runtime_parts *p, strands_error *err);
/** Starts the one-time credentials check when the model uses them and
 * nothing else already checked them.                                   */
void runtime_parts_check_credentials(runtime_parts *p);
/** Frees what runtime_parts_build built, in reverse order. */
void runtime_parts_free(runtime_parts *p);

#endif
