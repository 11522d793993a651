/* The in-memory session store as a registered store ("memory", the
 * default SESSION_STORE): its settings rows and its factory.           */
#include <stddef.h>

#include "runtime/builtins.h"

/* What the rows below fill. */
typedef struct memory_settings {
    size_t max_sessions;  /* SESSION_MAX_COUNT */
    int64_t idle_ttl_s;   /* SESSION_IDLE_TTL_SECONDS */
} memory_settings;

#define OFF(f) offsetof(memory_settings, f)

static const strands_setting rows[] = {
    {.name = "SESSION_MAX_COUNT", .type = STRANDS_SETTING_SIZE,
     .def = "1000", .min = 1, .max = 10000000, .offset = OFF(max_sessions),
     .help = "conversations kept in memory (least recently used evicted)"},
    {.name = "SESSION_IDLE_TTL_SECONDS", .type = STRANDS_SETTING_INT64,
     .def = "3600", .min = 0, .max = 31536000, .offset = OFF(idle_ttl_s),
     .help = "drop a conversation unused this long (0 = never)"},
};

static const strands_settings_group group = {
    .version = STRANDS_SETTINGS_GROUP_VERSION,
    .title = "In-memory sessions",
    .rows = rows,
    .n_rows = sizeof rows / sizeof rows[0],
    .struct_size = sizeof(memory_settings),
};

static strands_session_store *create(const strands_session_store_context *ctx,
                                     strands_error *err)
{
    const memory_settings *ms = ctx->settings;
    if (ctx->arg) {
        strands_error_set(err, STRANDS_E_INVALID, NULL,
                          "SESSION_STORE: 'memory' takes no argument "
                          "(got '%.64s')", ctx->spec);
        return NULL;
    }
    strands_memory_store_config mc = {
        .max_sessions = ms->max_sessions,
        .idle_ttl_s = ms->idle_ttl_s,
        .max_history_bytes = ctx->config->max_history_bytes};
    strands_session_store *s = strands_memory_store_new_with(&mc);
    if (!s) strands_error_set(err, STRANDS_E_NOMEM, NULL, "out of memory");
    return s;
}

const strands_session_store_provider session_memory_provider = {
    .version = STRANDS_SESSION_STORE_PROVIDER_VERSION,
    .name = "memory",
    .description = "conversations in this process (lost on restart)",
    .settings = &group,
    .create = create,
};
