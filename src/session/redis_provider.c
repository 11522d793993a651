/* The Redis session store as registered stores: "redis" (SESSION_STORE=
 * redis://[user:password@]host[:port][/db]) and "rediss" (the same over
 * TLS, session/redis_tls.h), sharing one group of settings rows.      */
#include <stddef.h>
#include <string.h>

#include "runtime/builtins.h"
#include "session/redis.h"

/* What the rows below fill. */
typedef struct redis_settings {
    int64_t ttl_s;          /* REDIS_SESSION_TTL_SECONDS */
    int64_t lease_ms;       /* REDIS_LOCK_LEASE_MS */
    int64_t lock_wait_ms;   /* SESSION_LOCK_WAIT_MS */
    size_t pool_size;       /* REDIS_POOL_SIZE */
    int connect_timeout_ms; /* REDIS_CONNECT_TIMEOUT_MS */
    int command_timeout_ms; /* REDIS_COMMAND_TIMEOUT_MS */
    char *key_prefix;       /* REDIS_KEY_PREFIX */
    char *password;         /* REDIS_PASSWORD (secret) */
    char *tls_ca_file;      /* REDIS_TLS_CA_FILE */
    char *tls_insecure;     /* REDIS_TLS_INSECURE: "true" or "false" */
} redis_settings;

#define OFF(f) offsetof(redis_settings, f)

static strands_status check_prefix(const char *v, strands_error *err)
{
    return session_redis_prefix_check(v, err);
}

static const strands_setting rows[] = {
    {.name = "REDIS_SESSION_TTL_SECONDS", .type = STRANDS_SETTING_INT64,
     .def = "604800", .min = 0, .max = 315360000, .offset = OFF(ttl_s),
     .help = "redis store: a session's keys expire this long after its "
             "last turn (0 = never)"},
    {.name = "REDIS_LOCK_LEASE_MS", .type = STRANDS_SETTING_INT64,
     .def = "30000", .min = 1000, .max = 3600000, .offset = OFF(lease_ms),
     .help = "redis store: lease of a session's lock, renewed while the "
             "invocation runs; a crashed holder frees it after this"},
    {.name = "SESSION_LOCK_WAIT_MS", .type = STRANDS_SETTING_INT64,
     .def = "0", .min = 0, .max = 300000, .offset = OFF(lock_wait_ms),
     .help = "redis store: how long an invocation waits for a session "
             "another one holds before 409 SessionBusy (0 = not at all)"},
    {.name = "REDIS_POOL_SIZE", .type = STRANDS_SETTING_SIZE,
     .def = "16", .min = 1, .max = SESSION_REDIS_MAX_POOL,
     .offset = OFF(pool_size),
     .help = "redis store: connections to Redis at most"},
    {.name = "REDIS_CONNECT_TIMEOUT_MS", .type = STRANDS_SETTING_INT,
     .def = "2000", .min = 50, .max = 60000,
     .offset = OFF(connect_timeout_ms),
     .help = "redis store: time to connect (TCP, AUTH, SELECT)"},
    {.name = "REDIS_COMMAND_TIMEOUT_MS", .type = STRANDS_SETTING_INT,
     .def = "5000", .min = 50, .max = 600000,
     .offset = OFF(command_timeout_ms),
     .help = "redis store: time for one command's answer (503 "
             "SessionStoreUnavailable when hit)"},
    {.name = "REDIS_KEY_PREFIX", .type = STRANDS_SETTING_STRING,
     .def = "strands:session", .offset = OFF(key_prefix),
     .check = check_prefix,
     .help = "redis store: prefix of every key ('<prefix>:{<session>}:...')"},
    {.name = "REDIS_PASSWORD", .type = STRANDS_SETTING_OPTIONAL,
     .flags = STRANDS_SETTING_SECRET, .offset = OFF(password),
     .help = "redis store: password (AUTH) when the URL carries none"},
    {.name = "REDIS_TLS_CA_FILE", .type = STRANDS_SETTING_OPTIONAL,
     .offset = OFF(tls_ca_file),
     .help = "rediss://: PEM file of the CA certificates to trust instead "
             "of the system's (a private CA, self-signed test servers)"},
    {.name = "REDIS_TLS_INSECURE", .type = STRANDS_SETTING_CHOICE,
     .def = "false", .choices = "false,true", .offset = OFF(tls_insecure),
     .help = "rediss://: true skips the server certificate check "
             "(testing only: anyone on the path can read the sessions)"},
};

static const strands_settings_group group = {
    .version = STRANDS_SETTINGS_GROUP_VERSION,
    .title = "Redis sessions",
    .rows = rows,
    .n_rows = sizeof rows / sizeof rows[0],
    .struct_size = sizeof(redis_settings),
};

static strands_session_store *create(const strands_session_store_context *ctx,
                                     strands_error *err)
{
    const redis_settings *rs = ctx->settings;
    session_redis_config cfg;
    memset(&cfg, 0, sizeof cfg);
    if (session_redis_url_parse(ctx->spec, &cfg, err) != STRANDS_OK)
        return NULL;
    if (!cfg.password && rs->password) {
        cfg.password = strdup(rs->password);
        if (!cfg.password) {
            session_redis_config_cleanup(&cfg);
            strands_error_set(err, STRANDS_E_NOMEM, NULL, "out of memory");
            return NULL;
        }
    }
    cfg.key_prefix = rs->key_prefix;
    cfg.ttl_s = rs->ttl_s;
    cfg.lease_ms = rs->lease_ms;
    cfg.lock_wait_ms = rs->lock_wait_ms;
    cfg.pool_size = rs->pool_size;
    cfg.connect_timeout_ms = rs->connect_timeout_ms;
    cfg.command_timeout_ms = rs->command_timeout_ms;
    cfg.max_history_bytes = ctx->config->max_history_bytes;
    cfg.tls_ca_file = rs->tls_ca_file;
    cfg.tls_insecure = rs->tls_insecure && !strcmp(rs->tls_insecure, "true");
    strands_session_store *s = session_redis_store_new(&cfg, err);
    session_redis_config_cleanup(&cfg);
    return s;
}

const strands_session_store_provider session_redis_provider = {
    .version = STRANDS_SESSION_STORE_PROVIDER_VERSION,
    .name = "redis",
    .description = "conversations in Redis, shared by every runtime "
                   "instance (redis://[user:password@]host[:port][/db])",
    .settings = &group,
    .create = create,
};

const strands_session_store_provider session_rediss_provider = {
    .version = STRANDS_SESSION_STORE_PROVIDER_VERSION,
    .name = "rediss",
    .description = "conversations in Redis over TLS, the server's "
                   "certificate verified (rediss://[user:password@]host"
                   "[:port][/db]; REDIS_TLS_CA_FILE)",
    .settings = &group,
    .create = create,
};
