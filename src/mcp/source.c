/* MCP servers as tool sources: the "mcp" entry of the tool-source
 * registry (its MCP_CONFIG row, checked at start-up) and, per configured
 * server, a tool source named "mcp:<name>" with a supervisor thread.
 *
 * The supervisor connects in the background (start-up never waits for a
 * server), lists the tools, maps their names (names.h) and publishes
 * them with strands_tool_registry_refresh; it re-lists on
 * notifications/tools/list_changed, checks liveness after a call timed
 * out, and restarts a server that exited or stopped answering, with
 * backoff (1 s doubling to 60 s). Meanwhile the tools stay listed and a
 * call fails at once with an error that says why. stop() terminates the
 * child (stdio) and joins the supervisor: no process is left behind.    */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/abstime.h"
#include "mcp/auth.h"
#include "mcp/client.h"
#include "mcp/config.h"
#include "mcp/names.h"
#include "mcp/result.h"
#include "net/http_client.h"
#include "runtime/builtins.h"
#include "strands/clock.h"
#include "strands/log.h"

#define BACKOFF_FIRST_MS 1000
#define BACKOFF_MAX_MS 60000
#define RELIST_TIMEOUT_MS 30000
#define PING_TIMEOUT_MS 5000
#define MCP_ERROR_TEXT_MAX 2000

typedef enum server_state {
    SERVER_STARTING,
    SERVER_READY,
    SERVER_DOWN
} server_state;

typedef struct mcp_server {
    mcp_server_config cfg;       /* owned (moved out of the mcp_config) */
    char source_name[64];        /* "mcp:<name>" */
    strands_tool_registry *reg;  /* borrowed; stop() runs before it goes */
    http_client *http;           /* HTTP servers only */
    mcp_auth *auth;
    mcp_client *client;
    pthread_rwlock_t conn;       /* calls: read; reconnects: write */

    pthread_mutex_t mu;          /* guards everything below */
    pthread_cond_t cv;           /* CLOCK_MONOTONIC */
    pthread_t thread;
    int launched, stopping, relist, check, closed;
    int starting;                /* announced to the registry, not over */
    server_state state;
    char why[256];               /* why it is down */
    json_t *listed;              /* what list() returns (model names) */
    mcp_name_map *names;
    json_t *schemas;             /* remote name -> inputSchema */
} mcp_server;

/* Logs "mcp server '<name>'<what><detail>" with the server as a field. */
static void log_server(strands_log_level lvl, const mcp_server *s,
                       const char *what, const char *detail)
{
    json_t *f = json_pack("{s:s}", "mcp_server", s->cfg.name);
    strands_log(lvl, "mcp", NULL, NULL, f, "mcp server '%s'%s%s", s->cfg.name,
                what, detail);
    json_decref(f);
}

static void set_state(mcp_server *s, server_state st, const char *why)
{
    pthread_mutex_lock(&s->mu);
    s->state = st;
    snprintf(s->why, sizeof s->why, "%s", why ? why : "");
    pthread_mutex_unlock(&s->mu);
}

/* ---- client callbacks (transport threads) ---------------------------- */

static void on_notify(void *user, const char *method, const json_t *params)
{
    (void)params;
    mcp_server *s = user;
    if (strcmp(method, "notifications/tools/list_changed")) return;
    pthread_mutex_lock(&s->mu);
    s->relist = 1;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

static void on_closed(void *user, const char *why)
{
    mcp_server *s = user;
    pthread_mutex_lock(&s->mu);
    s->closed = 1;
    s->state = SERVER_DOWN;
    snprintf(s->why, sizeof s->why, "it %s", why ? why : "closed");
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

/* ---- the tool list ----------------------------------------------------- */

/* Builds the model-facing list from the server's tools: allow/deny,
 * x-mcp-header checks (modern HTTP), name mapping, per-server timeout.
 * Stores it (under mu) for list(). Returns the number published.       */
static strands_status publish_tools(mcp_server *s, json_t *remote,
                                    size_t *n_out, strands_error *err)
{
    size_t n = json_array_size(remote);
    const char **names = calloc(n ? n : 1, sizeof *names);
    json_t *kept = json_array();
    json_t *schemas = json_object();
    if (!names || !kept || !schemas) {
        free(names);
        json_decref(kept);
        json_decref(schemas);
        return strands_error_set(err, STRANDS_E_NOMEM, NULL, "OOM");
    }
    size_t k = 0, i;
    json_t *tool;
    json_array_foreach(remote, i, tool) {
        const char *name = json_string_value(json_object_get(tool, "name"));
        const json_t *schema = json_object_get(tool, "inputSchema");
        strands_error e;
        if (!name || !name[0] || !mcp_config_tool_allowed(&s->cfg, name))
            continue;
        if (schema && !json_is_object(schema)) {
            log_server(STRANDS_LOG_WARN, s,
                       ": tool left out: ",
                       "its inputSchema is not an object");
            continue;
        }
        if (s->cfg.is_http && schema &&
            mcp_http_check_param_annotations(schema, &e) != STRANDS_OK) {
            char d[400];
            snprintf(d, sizeof d, "%.64s: %.300s", name, e.message);
            log_server(STRANDS_LOG_WARN, s,
                       ": tool left out: ", d);
            continue;
        }
        names[k++] = name;
        json_array_append(kept, tool);
        json_object_set_new(schemas, name,
                            schema ? json_incref((json_t *)schema)
                                   : json_object());
    }
    char **skipped = NULL;
    mcp_name_map *map = mcp_name_map_new(s->cfg.prefix, names, k, &skipped,
                                         err);
    free(names);
    if (!map) {
        json_decref(kept);
        json_decref(schemas);
        return err->status;
    }
    for (char **p = skipped; p && *p; p++)
        log_server(STRANDS_LOG_WARN, s, ": tool left out: ",
                   *p);
    mcp_names_free_list(skipped);
    json_t *listed = json_array();
    json_array_foreach(kept, i, tool) {
        const char *name = json_string_value(json_object_get(tool, "name"));
        const char *model = mcp_name_map_model(map, name);
        if (!model || !listed) continue;
        const char *desc =
            json_string_value(json_object_get(tool, "description"));
        if (!desc)
            desc = json_string_value(json_object_get(tool, "title"));
        json_t *item = json_pack("{s:s, s:s, s:O}", "name", model,
                                 "description", desc && desc[0] ? desc : name,
                                 "inputSchema",
                                 json_object_get(schemas, name));
        if (item && s->cfg.timeout_ms > 0)
            json_object_set_new(item, "timeoutMs",
                                json_integer(s->cfg.timeout_ms));
        if (!item || json_array_append_new(listed, item)) {
            json_decref(listed);
            listed = NULL;
        }
    }
    json_decref(kept);
    if (!listed) {
        mcp_name_map_free(map);
        json_decref(schemas);
        return strands_error_set(err, STRANDS_E_NOMEM, NULL, "OOM");
    }
    *n_out = json_array_size(listed);
    pthread_mutex_lock(&s->mu);
    json_decref(s->listed);
    s->listed = listed;
    mcp_name_map_free(s->names);
    s->names = map;
    json_decref(s->schemas);
    s->schemas = schemas;
    pthread_mutex_unlock(&s->mu);
    return STRANDS_OK;
}

/* Lists the server's tools and swaps them into the registry. */
static strands_status relist(mcp_server *s, int64_t deadline_ms,
                             size_t *n_out, strands_error *err)
{
    json_t *tools = NULL;
    pthread_rwlock_rdlock(&s->conn);
    strands_status st = mcp_client_list_tools(s->client, deadline_ms, &tools,
                                              err);
    pthread_rwlock_unlock(&s->conn);
    if (st == STRANDS_OK) st = publish_tools(s, tools, n_out, err);
    json_decref(tools);
    if (st != STRANDS_OK) return st;
    /* The entry may not be in the registry yet (add_source is still
     * running during start-up): retry briefly.                         */
    for (int i = 0; i < 100; i++) {
        strands_error e;
        st = strands_tool_registry_refresh(s->reg, s->source_name, &e);
        if (st != STRANDS_E_NOT_FOUND) break;
        struct timespec ts = {0, 20 * 1000000L};
        nanosleep(&ts, NULL);
    }
    if (st != STRANDS_OK)
        return strands_error_set(err, st, NULL,
                                 "publishing the tools failed");
    return STRANDS_OK;
}

/* ---- the supervisor ---------------------------------------------------- */

/* Waits up to ms (0: until woken) unless stopping; returns stopping. */
static int wait_ms(mcp_server *s, int64_t ms)
{
    struct timespec ts;
    core_abstime_after_ms(CLOCK_MONOTONIC, ms, &ts);
    pthread_mutex_lock(&s->mu);
    while (!s->stopping) {
        if (pthread_cond_timedwait(&s->cv, &s->mu, &ts) != 0) break;
    }
    int stop = s->stopping;
    pthread_mutex_unlock(&s->mu);
    return stop;
}

static void disconnect(mcp_server *s)
{
    pthread_rwlock_wrlock(&s->conn);
    mcp_client_close(s->client);
    pthread_rwlock_unlock(&s->conn);
}

static strands_status connect_and_list(mcp_server *s, size_t *n_tools,
                                       strands_error *err)
{
    int64_t deadline = strands_clock_mono_ms() + s->cfg.startup_timeout_ms;
    pthread_mutex_lock(&s->mu);
    s->closed = 0;
    pthread_mutex_unlock(&s->mu);
    pthread_rwlock_wrlock(&s->conn);
    strands_status st = mcp_client_connect(s->client, deadline, err);
    pthread_rwlock_unlock(&s->conn);
    /* Ready before its tools are published: a model that sees them must
     * be able to call them.                                             */
    if (st == STRANDS_OK) set_state(s, SERVER_READY, NULL);
    if (st == STRANDS_OK) st = relist(s, deadline, n_tools, err);
    if (st != STRANDS_OK) disconnect(s);
    return st;
}

/* Serves one connected period: re-lists, liveness checks; returns when
 * the connection is lost (why filled) or on stop (returns 1).          */
static int serve(mcp_server *s, char *why, size_t whysz)
{
    for (;;) {
        pthread_mutex_lock(&s->mu);
        while (!s->stopping && !s->relist && !s->check && !s->closed)
            pthread_cond_wait(&s->cv, &s->mu);
        int stop = s->stopping, rl = s->relist, ck = s->check;
        int closed = s->closed;
        s->relist = s->check = 0;
        if (closed) snprintf(why, whysz, "%s", s->why);
        pthread_mutex_unlock(&s->mu);
        if (stop) return 1;
        if (closed) return 0;
        strands_error e;
        if (ck) {
            pthread_rwlock_rdlock(&s->conn);
            strands_status st = mcp_client_ping(
                s->client, strands_clock_mono_ms() + PING_TIMEOUT_MS, &e);
            pthread_rwlock_unlock(&s->conn);
            if (st != STRANDS_OK && st != STRANDS_E_UPSTREAM) {
                snprintf(why, whysz, "it stopped answering (%.200s)", e.message);
                return 0;
            }
        }
        if (rl) {
            size_t n = 0;
            strands_status st = relist(
                s, strands_clock_mono_ms() + RELIST_TIMEOUT_MS, &n, &e);
            if (st == STRANDS_OK) {
                char d[64];
                snprintf(d, sizeof d, "%zu", n);
                log_server(STRANDS_LOG_INFO, s,
                           ": tools changed, now ", d);
            } else {
                log_server(STRANDS_LOG_WARN, s,
                           ": re-listing its tools failed: ",
                           e.message);
            }
        }
    }
}

/* Tells the registry the first connection attempt is over (once). */
static void first_attempt_over(mcp_server *s)
{
    pthread_mutex_lock(&s->mu);
    int was = s->starting;
    s->starting = 0;
    pthread_mutex_unlock(&s->mu);
    if (was) strands_tool_registry_started(s->reg);
}

static void *supervise(void *arg)
{
    mcp_server *s = arg;
    int64_t backoff = BACKOFF_FIRST_MS;
    int ever_ready = 0;
    for (;;) {
        strands_error e;
        strands_error_clear(&e);
        size_t n = 0;
        strands_status st = connect_and_list(s, &n, &e);
        first_attempt_over(s);
        char detail[600];
        if (st == STRANDS_OK) {
            set_state(s, SERVER_READY, NULL);
            snprintf(detail, sizeof detail, "%zu tools, protocol %s", n,
                     mcp_client_version(s->client));
            log_server(STRANDS_LOG_INFO, s, " ready: ",
                       detail);
            ever_ready = 1;
            backoff = BACKOFF_FIRST_MS;
            char why[256] = "";
            if (serve(s, why, sizeof why)) break;
            set_state(s, SERVER_DOWN, why);
            snprintf(detail, sizeof detail, "%s; restarting in %lld s", why,
                     (long long)(backoff / 1000));
            log_server(STRANDS_LOG_WARN, s, ": ", detail);
            disconnect(s);
        } else {
            char why[256];
            snprintf(why, sizeof why, "it failed to start: %.200s",
                     e.message);
            set_state(s, SERVER_DOWN, why);
            snprintf(detail, sizeof detail, "%.500s; retrying in %lld s",
                     e.message, (long long)(backoff / 1000));
            log_server(ever_ready ? STRANDS_LOG_WARN : STRANDS_LOG_ERROR, s,
                       " failed to start: ", detail);
        }
        if (wait_ms(s, backoff)) break;
        backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
        set_state(s, SERVER_STARTING, NULL);
    }
    return NULL;
}

/* ---- the tool-source vtab ---------------------------------------------- */

static strands_status server_list(void *user, json_t **tools_out,
                                  strands_error *err)
{
    mcp_server *s = user;
    pthread_mutex_lock(&s->mu);
    json_t *copy = s->listed ? json_deep_copy(s->listed) : json_array();
    pthread_mutex_unlock(&s->mu);
    if (!copy)
        return strands_error_set(err, STRANDS_E_NOMEM, NULL, "OOM");
    *tools_out = copy;
    return STRANDS_OK;
}

/* The configured forward_headers present in the caller's request, as
 * "Name: value" lines (the value is a secret: the caller wipes them with
 * mcp_header_lines_free). 0 lines is fine: *out stays NULL.            */
static strands_status forward_lines(const mcp_server_config *cfg,
                                    const strands_tool_context *ctx,
                                    char ***out, size_t *n_out,
                                    strands_error *err)
{
    *out = NULL;
    *n_out = 0;
    if (!cfg->n_forward || !ctx || !ctx->request) return STRANDS_OK;
    char **lines = calloc(cfg->n_forward + 1, sizeof *lines);
    if (!lines)
        return strands_error_set(err, STRANDS_E_NOMEM, NULL, "out of memory");
    size_t n = 0;
    for (size_t i = 0; i < cfg->n_forward; i++) {
        const char *v =
            strands_request_header_get(ctx->request, cfg->forward_headers[i]);
        if (!v) continue;
        size_t len = strlen(cfg->forward_headers[i]) + strlen(v) + 3;
        if (!(lines[n] = malloc(len))) {
            mcp_header_lines_free(lines);
            return strands_error_set(err, STRANDS_E_NOMEM, NULL,
                                     "out of memory");
        }
        snprintf(lines[n++], len, "%s: %s", cfg->forward_headers[i], v);
    }
    *out = lines;
    *n_out = n;
    return STRANDS_OK;
}

static strands_status server_call(void *user, const char *tool_name,
                                  const json_t *input,
                                  const strands_tool_context *ctx,
                                  json_t **content_out, strands_error *err)
{
    mcp_server *s = user;
    pthread_mutex_lock(&s->mu);
    server_state state = s->state;
    char why[256];
    snprintf(why, sizeof why, "%s", s->why);
    const char *r = s->names ? mcp_name_map_remote(s->names, tool_name) : NULL;
    char *remote = r ? strdup(r) : NULL;
    /* A private copy: the supervisor may swap s->schemas meanwhile, and
     * jansson reference counts must not be shared between threads.     */
    const json_t *sc = remote ? json_object_get(s->schemas, remote) : NULL;
    json_t *schema = sc ? json_deep_copy(sc) : NULL;
    pthread_mutex_unlock(&s->mu);
    strands_status st;
    if (state != SERVER_READY) {
        st = strands_error_set(err, STRANDS_E_UNAVAILABLE, "McpUnavailable",
                               "MCP server '%s' is not available%s%s%s",
                               s->cfg.name, why[0] ? " (" : "", why,
                               why[0] ? "); it is being restarted, try again "
                                        "later"
                                      : "; it is starting");
        goto out;
    }
    if (!remote) {
        st = strands_error_set(err, STRANDS_E_NOT_FOUND, NULL,
                               "MCP server '%s' no longer offers '%.64s'",
                               s->cfg.name, tool_name);
        goto out;
    }
    json_t *result = NULL;
    int64_t deadline = ctx ? ctx->deadline_ms : 0;
    char **fwd = NULL;
    size_t n_fwd = 0;
    st = forward_lines(&s->cfg, ctx, &fwd, &n_fwd, err);
    if (st != STRANDS_OK) goto out;
    pthread_rwlock_rdlock(&s->conn);
    st = mcp_client_call_tool(s->client, remote, input, schema,
                              (const char *const *)fwd, n_fwd,
                              ctx ? ctx->cancelled : NULL, deadline, &result,
                              err);
    pthread_rwlock_unlock(&s->conn);
    mcp_header_lines_free(fwd);
    if (st == STRANDS_E_TIMEOUT) { /* is it still alive? */
        pthread_mutex_lock(&s->mu);
        s->check = 1;
        pthread_cond_broadcast(&s->cv);
        pthread_mutex_unlock(&s->mu);
    }
    if (st != STRANDS_OK) goto out;
    int is_error = 0;
    st = mcp_result_to_content(result, content_out, &is_error, err);
    json_decref(result);
    if (st == STRANDS_OK && is_error) {
        char text[MCP_ERROR_TEXT_MAX];
        mcp_result_error_text(*content_out, text, sizeof text);
        json_decref(*content_out);
        *content_out = NULL;
        st = strands_error_set(err, STRANDS_E_TOOL, "McpToolError", "%s",
                               text[0] ? text : "the tool reported an error");
    }
out:
    free(remote);
    json_decref(schema);
    return st;
}

static void server_stop(void *user)
{
    mcp_server *s = user;
    pthread_mutex_lock(&s->mu);
    s->stopping = 1;
    pthread_cond_broadcast(&s->cv);
    int launched = s->launched;
    pthread_mutex_unlock(&s->mu);
    if (launched) pthread_join(s->thread, NULL);
    s->launched = 0;
    first_attempt_over(s);
    disconnect(s); /* stdio: the child is terminated and reaped */
}

static void server_destroy(void *user)
{
    mcp_server *s = user;
    mcp_client_free(s->client);
    mcp_auth_free(s->auth);
    http_client_free(s->http);
    json_decref(s->listed);
    json_decref(s->schemas);
    mcp_name_map_free(s->names);
    mcp_server_config_clear(&s->cfg);
    pthread_rwlock_destroy(&s->conn);
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

static const strands_tool_source_vtab server_vtab = {
    .version = STRANDS_TOOL_SOURCE_VTAB_VERSION,
    .kind = "mcp",
    .list = server_list,
    .call = server_call,
    .stop = server_stop,
    .destroy = server_destroy,
};

/* ---- creating servers -------------------------------------------------- */

static mcp_server *server_new(mcp_server_config *cfg,
                              const strands_tool_source_context *ctx,
                              strands_tool_registry *reg, strands_error *err)
{
    mcp_server *s = calloc(1, sizeof *s);
    if (!s) {
        strands_error_set(err, STRANDS_E_NOMEM, NULL, "OOM");
        return NULL;
    }
    s->cfg = *cfg;
    memset(cfg, 0, sizeof *cfg); /* moved */
    s->reg = reg;
    snprintf(s->source_name, sizeof s->source_name, "mcp:%s", s->cfg.name);
    pthread_mutex_init(&s->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->cv, &ca);
    pthread_condattr_destroy(&ca);
    pthread_rwlockattr_t ra;
    pthread_rwlockattr_init(&ra);
    pthread_rwlockattr_setkind_np(&ra,
                                  PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&s->conn, &ra);
    pthread_rwlockattr_destroy(&ra);
    s->state = SERVER_STARTING;
    mcp_transport *t = NULL;
    if (s->cfg.is_http) {
        s->http = http_client_new(8);
        if (!s->http) {
            strands_error_set(err, STRANDS_E_NOMEM, NULL, "OOM");
            goto fail;
        }
        strands_error_clear(err);
        s->auth = mcp_auth_new(&s->cfg.auth, ctx->credentials, ctx->region,
                               s->http, err);
        if (!s->auth && err->status != STRANDS_OK) goto fail;
        mcp_http_opts ho = {.server_name = s->cfg.name,
                            .url = s->cfg.url,
                            .headers = (const char *const *)s->cfg.headers,
                            .n_headers = s->cfg.n_headers,
                            .auth = s->auth,
                            .http = s->http};
        t = mcp_http_new(&ho, err);
    } else {
        mcp_stdio_opts so = {.server_name = s->cfg.name,
                             .command = s->cfg.command,
                             .args = (const char *const *)s->cfg.args,
                             .env = (const char *const *)s->cfg.env,
                             .n_env = s->cfg.n_env,
                             .cwd = s->cfg.cwd};
        t = mcp_stdio_new(&so, err);
    }
    if (!t) goto fail;
    mcp_client_opts co = {.server_name = s->cfg.name, .on_notify = on_notify,
                          .on_closed = on_closed, .user = s};
    s->client = mcp_client_new(t, &co, err);
    if (!s->client) goto fail;
    return s;
fail:
    server_destroy(s);
    return NULL;
}

static strands_status launch(mcp_server *s, strands_error *err)
{
    pthread_mutex_lock(&s->mu);
    s->starting = 1;
    strands_tool_registry_starting(
        s->reg, strands_clock_mono_ms() + s->cfg.startup_timeout_ms);
    int rc = pthread_create(&s->thread, NULL, supervise, s);
    s->launched = rc == 0;
    pthread_mutex_unlock(&s->mu);
    if (rc != 0) first_attempt_over(s);
    if (rc != 0)
        return strands_error_set(err, STRANDS_E_NOMEM, NULL,
                                 "no thread for mcp server '%s'", s->cfg.name);
    return STRANDS_OK;
}

/* ---- the registry entry ------------------------------------------------ */

typedef struct mcp_settings {
    char *config; /* MCP_CONFIG */
} mcp_settings;

static strands_status check_config(const char *path, strands_error *err)
{
    if (!path || !path[0]) return STRANDS_OK;
    mcp_config c;
    strands_status st = mcp_config_load(path, NULL, NULL, &c, err);
    mcp_config_free(&c);
    return st;
}

static const strands_setting rows[] = {
    {.name = "MCP_CONFIG", .type = STRANDS_SETTING_STRING,
     .flags = STRANDS_SETTING_ALLOW_EMPTY, .def = "",
     .offset = offsetof(mcp_settings, config), .check = check_config,
     .help = "JSON file naming MCP servers ({\"mcpServers\": ...}, see "
             "docs/mcp.md); empty = none"},
};

static const strands_settings_group group = {
    .version = STRANDS_SETTINGS_GROUP_VERSION,
    .title = "MCP servers",
    .rows = rows,
    .n_rows = sizeof rows / sizeof rows[0],
    .struct_size = sizeof(mcp_settings),
};

static strands_status add_tools(const strands_tool_source_context *ctx,
                                strands_tool_registry *reg,
                                strands_error *err)
{
    const mcp_settings *ms = ctx->settings;
    if (!ms || !ms->config || !ms->config[0]) return STRANDS_OK;
    mcp_config cfg;
    strands_error e;
    strands_status st = mcp_config_load(ms->config, NULL, NULL, &cfg, &e);
    if (st != STRANDS_OK) {
        mcp_config_free(&cfg);
        return strands_error_set(err, st, NULL, "MCP_CONFIG: %s", e.message);
    }
    for (size_t i = 0; i < cfg.n_servers; i++) {
        char name[64];
        snprintf(name, sizeof name, "%s", cfg.servers[i].name);
        mcp_server *s = server_new(&cfg.servers[i], ctx, reg, &e);
        if (!s) { /* reported; the runtime goes on without it */
            strands_log(STRANDS_LOG_ERROR, "mcp", NULL, NULL, NULL,
                        "mcp server '%s' left out: %s", name, e.message);
            continue;
        }
        char source_name[64];
        snprintf(source_name, sizeof source_name, "%s", s->source_name);
        st = strands_tool_registry_add_source(reg, &server_vtab, source_name,
                                              s, &e);
        if (st != STRANDS_OK) { /* s is freed by the registry */
            strands_log(STRANDS_LOG_ERROR, "mcp", NULL, NULL, NULL,
                        "mcp server '%s' left out: %s", name, e.message);
            continue;
        }
        if (launch(s, &e) != STRANDS_OK)
            strands_log(STRANDS_LOG_ERROR, "mcp", NULL, NULL, NULL,
                        "mcp server '%s': %s", name, e.message);
    }
    mcp_config_free(&cfg);
    return STRANDS_OK;
}

const strands_tool_source_provider mcp_tool_source = {
    .version = STRANDS_TOOL_SOURCE_PROVIDER_VERSION,
    .name = "mcp",
    .description = "tools of the MCP servers named by MCP_CONFIG",
    .settings = &group,
    .add_tools = add_tools,
};
