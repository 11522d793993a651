/* The runtime's own settings rows: which model provider and session store
 * to use (checked against the registries), the model id, the log level
 * and the shutdown grace period.                                       */
#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

#include "runtime/builtins.h"
#include "runtime/internal.h"

static strands_status check_provider(const char *v, strands_error *err)
{
    if (strands_model_provider_find(v)) return STRANDS_OK;
    char names[512];
    strands_registry_names(STRANDS_REGISTRY_MODEL_PROVIDER, names,
                           sizeof names);
    return strands_error_set(err, STRANDS_E_INVALID, NULL,
                             "unknown model provider '%.64s' (registered: "
                             "%s)", v, names);
}

static strands_status check_store(const char *v, strands_error *err)
{
    if (runtime_session_store_for(v, NULL)) return STRANDS_OK;
    char names[512];
    strands_registry_names(STRANDS_REGISTRY_SESSION_STORE, names,
                           sizeof names);
    return strands_error_set(err, STRANDS_E_INVALID, NULL,
                             "unknown session store '%.64s' (registered: "
                             "%s)", v, names);
}

/* MODEL_PARAMS must be a JSON object (each provider reads its keys). */
static strands_status check_params(const char *v, strands_error *err)
{
    json_error_t je;
    json_t *j = json_loads(v, 0, &je);
    int ok = json_is_object(j);
    json_decref(j);
    if (ok) return STRANDS_OK;
    return strands_error_set(err, STRANDS_E_INVALID, NULL,
                             "not a JSON object%s%s", j ? "" : ": ",
                             j ? "" : je.text);
}

#define OFF(f) offsetof(strands_runtime_config, f)

static const strands_setting rows[] = {
    {.name = "MODEL_PROVIDER", .type = STRANDS_SETTING_STRING,
     .def = "bedrock", .offset = OFF(model_provider), .check = check_provider,
     .help = "model provider, by name (registered ones are listed below)"},
    {.name = "MODEL_ID", .type = STRANDS_SETTING_STRING,
     .def = "us.anthropic.claude-sonnet-4-20250514-v1:0",
     .offset = OFF(model_id),
     .help = "model id for the provider (Bedrock: model id, inference "
             "profile id or ARN)"},
    {.name = "MODEL_PARAMS", .type = STRANDS_SETTING_OPTIONAL,
     .offset = OFF(model_params), .check = check_params,
     .help = "inference parameters, a JSON object: temperature, top_p, "
             "stop_sequences, and provider-specific keys passed through "
             "(e.g. Bedrock additionalModelRequestFields)"},
    {.name = "MODEL_CONNECT_TIMEOUT_SECONDS", .type = STRANDS_SETTING_INT,
     .def = "10", .min = 1, .max = 300,
     .offset = OFF(model_connect_timeout_s),
     .help = "model calls: time to set up the connection (TCP and TLS)"},
    {.name = "MODEL_READ_TIMEOUT_SECONDS", .type = STRANDS_SETTING_INT,
     .def = "120", .min = 1, .max = 3600,
     .offset = OFF(model_read_timeout_s),
     .help = "model calls: longest silence between received bytes; a "
             "stream that keeps sending runs as long as it needs (504 "
             "ModelTimeout when hit)"},
    {.name = "SESSION_STORE", .type = STRANDS_SETTING_STRING,
     .def = "memory", .offset = OFF(session_store), .check = check_store,
     .help = "session store: <name>[:<argument>] (registered ones are "
             "listed below)"},
    {.name = "LOG_LEVEL", .type = STRANDS_SETTING_LOG_LEVEL, .def = "info",
     .offset = OFF(log_level), .help = "debug, info, warn or error"},
    {.name = "SHUTDOWN_GRACE_SECONDS", .type = STRANDS_SETTING_INT,
     .def = "10", .min = 0, .max = 3600, .offset = OFF(shutdown_grace_s),
     .help = "on SIGTERM/SIGINT, time in-flight invocations get to finish"},
};

const strands_settings_group runtime_settings = {
    .version = STRANDS_SETTINGS_GROUP_VERSION,
    .title = "Runtime",
    .rows = rows,
    .n_rows = sizeof rows / sizeof rows[0],
    .struct_size = sizeof(strands_runtime_config),
};
