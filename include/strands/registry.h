/* Registries of model providers, session stores and tool sources, found by
 * name (SQLite VFS style): an implementation is a static entry struct with
 * a version, a name, its settings rows and a factory, made known with one
 * register call. MODEL_PROVIDER and SESSION_STORE pick entries by name;
 * every registered tool source adds its tools. The library's own
 * implementations (bedrock, memory, builtin) register themselves through
 * these same calls, before any other entry.
 *
 * Threads: register every entry before strands_runtime_main (or before
 * strands_settings_load) starts other threads; a runtime already started
 * does not see later entries. The registries are guarded by a mutex, so
 * register and find are safe from any thread; entries are immutable.   */
#ifndef STRANDS_REGISTRY_H
#define STRANDS_REGISTRY_H

#include "strands/aws.h"
#include "strands/config.h"
#include "strands/model.h"
#include "strands/session.h"
#include "strands/settings.h"
#include "strands/status.h"
#include "strands/tool.h"

/* Entries per registry; registering more gives E_TOO_LARGE. */
#define STRANDS_REGISTRY_MAX 32

/* ---- model providers ---------------------------------------------------- */

#define STRANDS_MODEL_PROVIDER_VERSION 1

/* What a model factory gets. Every pointer is borrowed and stays valid
 * until the model is freed.                                              */
typedef struct strands_model_provider_context {
    const void *settings;     /* the provider's group struct, loaded and
                                 validated; NULL when it has no group */
    const strands_runtime_config *config; /* MODEL_ID, MAX_TOKENS, AWS_* */
    const char *region;       /* resolved AWS region */
    strands_credentials_provider *credentials; /* AWS credentials chain
                                 (or BEDROCK_CREDENTIALS_SECRET); NULL when
                                 the runtime has none */
    void *user;               /* the entry's user pointer */
    /* OUT: the factory sets it non-zero when the model signs calls with
     * `credentials`: the runtime then looks for credentials once at
     * start-up (off the start path) and warns when there are none.     */
    int uses_credentials;
} strands_model_provider_context;

typedef struct strands_model_provider {
    int version;               /* STRANDS_MODEL_PROVIDER_VERSION */
    const char *name;          /* MODEL_PROVIDER value: [A-Za-z0-9_.+-]{1,32} */
    const char *description;   /* one line for --help */
    const strands_settings_group *settings; /* its rows, or NULL */
    /* Creates the model (freed by the runtime with strands_model_free).
     * NULL + err on failure: start-up stops with err's message.         */
    strands_model *(*create)(strands_model_provider_context *ctx,
                             strands_error *err);
    void *user;                /* passed in ctx->user */
} strands_model_provider;

/** Registers a model provider. The entry (and its settings group and rows)
 * is borrowed for the life of the process: make it static. E_INVALID for
 * a wrong version, a bad or duplicate name, a missing factory, a bad
 * settings group or a row whose variable another group already reads;
 * E_TOO_LARGE when STRANDS_REGISTRY_MAX entries are registered.          */
STRANDS_EXTERN strands_status strands_model_provider_register(
    const strands_model_provider *p, strands_error *err);
/** The model provider registered as `name`, or NULL. */
STRANDS_EXTERN const strands_model_provider *strands_model_provider_find(
    const char *name);

/* ---- session stores ----------------------------------------------------- */

#define STRANDS_SESSION_STORE_PROVIDER_VERSION 1

/* What a session-store factory gets; borrowed until the store is freed. */
typedef struct strands_session_store_context {
    const char *spec;         /* the whole SESSION_STORE value, e.g.
                                 "memory", "file:/var/lib/s", "redis://h" */
    const char *arg;          /* what follows "<name>:" ("/var/lib/s",
                                 "//h"), or NULL when there is no ':' */
    const void *settings;     /* the store's group struct, or NULL */
    const strands_runtime_config *config;
    const char *region;       /* resolved AWS region */
    strands_credentials_provider *credentials; /* may be NULL */
    void *user;               /* the entry's user pointer */
} strands_session_store_context;

typedef struct strands_session_store_provider {
    int version;               /* STRANDS_SESSION_STORE_PROVIDER_VERSION */
    const char *name;          /* SESSION_STORE value up to the first ':' */
    const char *description;   /* one line for --help */
    const strands_settings_group *settings; /* its rows, or NULL */
    /* Creates the store (freed with strands_session_store_free). NULL +
     * err on failure (e.g. a bad ctx->arg).                             */
    strands_session_store *(*create)(const strands_session_store_context *ctx,
                                     strands_error *err);
    void *user;
} strands_session_store_provider;

/** Registers a session store; as strands_model_provider_register. */
STRANDS_EXTERN strands_status strands_session_store_provider_register(
    const strands_session_store_provider *p, strands_error *err);
/** The store registered as `name`, or NULL. A SESSION_STORE value is
 * looked up by its part before the first ':'.                           */
STRANDS_EXTERN const strands_session_store_provider *
strands_session_store_provider_find(const char *name);

/* ---- tool sources ------------------------------------------------------- */

#define STRANDS_TOOL_SOURCE_PROVIDER_VERSION 1

/* What a tool source gets; borrowed for the add_tools call. */
typedef struct strands_tool_source_context {
    const void *settings;     /* the source's group struct, or NULL */
    const strands_runtime_config *config;
    void *user;               /* the entry's user pointer */
    const char *region;       /* resolved AWS region (for signed calls) */
    strands_credentials_provider *credentials; /* AWS credentials chain;
                                 outlives the registry; may be NULL */
} strands_tool_source_context;

typedef struct strands_tool_source_provider {
    int version;               /* STRANDS_TOOL_SOURCE_PROVIDER_VERSION */
    const char *name;          /* e.g. "builtin" */
    const char *description;   /* one line for --help */
    const strands_settings_group *settings; /* its rows, or NULL */
    /* Adds the source's tools to reg (possibly none, as its settings
     * say). Every registered source is called at start-up, in
     * registration order ("builtin" first). An error stops start-up
     * with its message (exit status 2).                                 */
    strands_status (*add_tools)(const strands_tool_source_context *ctx,
                                strands_tool_registry *reg,
                                strands_error *err);
    void *user;
} strands_tool_source_provider;

/** Registers a tool source; as strands_model_provider_register. */
STRANDS_EXTERN strands_status strands_tool_source_provider_register(
    const strands_tool_source_provider *p, strands_error *err);
/** The tool source registered as `name`, or NULL. */
STRANDS_EXTERN const strands_tool_source_provider *
strands_tool_source_provider_find(const char *name);

/* The three registries. */
typedef enum strands_registry_kind {
    STRANDS_REGISTRY_MODEL_PROVIDER,
    STRANDS_REGISTRY_SESSION_STORE,
    STRANDS_REGISTRY_TOOL_SOURCE
} strands_registry_kind;

/** Writes the names registered in one registry, comma-separated in
 * registration order ("bedrock,echo"), into out (cut to fit; "" for an
 * unknown kind).                                                         */
STRANDS_EXTERN void strands_registry_names(strands_registry_kind kind,
                                           char *out, size_t outsz);

#endif
