/* The MCP client protocol (see client.h): request ids and the table of
 * requests waiting for replies, era/version negotiation, list and call,
 * cancellation, and dispatch of what the server sends (replies,
 * notifications, and the few server->client requests a tool client must
 * answer: ping; everything else gets "method not found").            */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/abstime.h"
#include "mcp/client.h"
#include "strands/clock.h"
#include "strands/log.h"

#define PROBE_DEFAULT_MS 3000
#define CANCEL_NOTIFY_MS 2000

typedef struct pending {
    int64_t id;          /* 0: slot free */
    json_t *reply;       /* the whole reply message, once it came */
} pending;

struct mcp_client {
    mcp_transport *t;
    char *name;
    mcp_client_opts opts;
    int is_http;
    pthread_mutex_t mu;
    pthread_cond_t cv;   /* CLOCK_MONOTONIC */
    pending slots[MCP_CLIENT_MAX_PENDING];
    int64_t next_id;
    unsigned gen;        /* bumped when the connection goes */
    char gone_why[160];
    int open;            /* the transport is open */
    char version[16];
    int lists_change;
};

/* HTTP: a JSON-RPC error without an id, answering the POST this thread
 * is making (e.g. "Bad Request: no valid session"). */
static _Thread_local json_t *tl_orphan;

/* ---- dispatch -------------------------------------------------------- */

static void answer_server_request(mcp_client *c, const json_t *msg)
{
    const char *method = json_string_value(json_object_get(msg, "method"));
    json_t *id = json_object_get(msg, "id");
    if (c->is_http) { /* would re-enter send: not supported (logged) */
        strands_log(STRANDS_LOG_DEBUG, "mcp", NULL, NULL, NULL,
                    "mcp server '%s' sent a '%s' request on an HTTP reply; "
                    "ignored", c->name, method ? method : "?");
        return;
    }
    json_t *reply = method && !strcmp(method, "ping")
                        ? json_pack("{s:s, s:O, s:{}}", "jsonrpc", "2.0",
                                    "id", id, "result")
                        : json_pack("{s:s, s:O, s:{s:i, s:s}}", "jsonrpc",
                                    "2.0", "id", id, "error", "code", -32601,
                                    "message",
                                    "method not supported by this client");
    char *text = reply ? json_dumps(reply, JSON_COMPACT) : NULL;
    if (text) {
        mcp_send_info info = {.json = text, .len = strlen(text),
                              .method = method,
                              .deadline_ms = strands_clock_mono_ms() + 2000};
        strands_error e;
        c->t->vt->send(c->t, &info, &e);
    }
    free(text);
    json_decref(reply);
}

static void on_message(void *user, json_t *msg)
{
    mcp_client *c = user;
    const json_t *id = json_object_get(msg, "id");
    const char *method = json_string_value(json_object_get(msg, "method"));
    if (method) {
        if (id) {
            answer_server_request(c, msg);
        } else if (c->opts.on_notify) {
            c->opts.on_notify(c->opts.user, method,
                              json_object_get(msg, "params"));
        }
        json_decref(msg);
        return;
    }
    if (!json_object_get(msg, "result") && !json_object_get(msg, "error")) {
        json_decref(msg); /* not JSON-RPC: ignored */
        return;
    }
    if (!json_is_integer(id)) {
        if (c->is_http && json_object_get(msg, "error") && !tl_orphan)
            tl_orphan = msg;
        else
            json_decref(msg);
        return;
    }
    int64_t want = (int64_t)json_integer_value(id);
    pthread_mutex_lock(&c->mu);
    for (size_t i = 0; i < MCP_CLIENT_MAX_PENDING && msg; i++) {
        pending *p = &c->slots[i];
        if (p->id == want && want != 0 && !p->reply) {
            p->reply = msg; /* the waiter takes it */
            msg = NULL;
            pthread_cond_broadcast(&c->cv);
        }
    }
    pthread_mutex_unlock(&c->mu);
    json_decref(msg); /* nobody waits for it (late or unknown id) */
}

static void on_closed(void *user, const char *why)
{
    mcp_client *c = user;
    pthread_mutex_lock(&c->mu);
    c->gen++;
    snprintf(c->gone_why, sizeof c->gone_why, "%s", why ? why : "closed");
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
    if (c->opts.on_closed) c->opts.on_closed(c->opts.user, why);
}

/* ---- requests -------------------------------------------------------- */

/* Adds the modern per-request _meta to params (an object). */
static int add_meta(json_t *params)
{
    json_t *meta = json_object_get(params, "_meta");
    if (!meta) {
        meta = json_object();
        if (!meta || json_object_set_new(params, "_meta", meta)) return -1;
    }
    return json_object_set_new(meta, "io.modelcontextprotocol/protocolVersion",
                               json_string(MCP_VERSION_MODERN)) ||
           json_object_set_new(meta,
                               "io.modelcontextprotocol/clientCapabilities",
                               json_object()) ||
           json_object_set_new(meta, "io.modelcontextprotocol/clientInfo",
                               json_pack("{s:s, s:s}", "name", "strands-c",
                                         "version", STRANDS_VERSION))
               ? -1
               : 0;
}

static strands_status send_json(mcp_client *c, json_t *msg, const char *method,
                                const char *name, char **extra, size_t n_extra,
                                int is_request, const atomic_int *cancelled,
                                int64_t deadline_ms, strands_error *err)
{
    char *text = json_dumps(msg, JSON_COMPACT);
    if (!text)
        return strands_error_set(err, STRANDS_E_NOMEM, NULL, "out of memory");
    mcp_send_info info = {.json = text, .len = strlen(text), .method = method,
                          .name = name,
                          .extra_headers = (const char *const *)extra,
                          .n_extra = n_extra, .is_request = is_request,
                          .cancelled = cancelled, .deadline_ms = deadline_ms};
    strands_status st = c->t->vt->send(c->t, &info, err);
    free(text);
    return st;
}

/* Sends a notification (best effort, short deadline). */
static void notify(mcp_client *c, const char *method, json_t *params)
{
    if (c->t->modern && params && add_meta(params)) {
        json_decref(params);
        return;
    }
    json_t *msg = json_pack("{s:s, s:s}", "jsonrpc", "2.0", "method", method);
    if (msg && params) json_object_set(msg, "params", params);
    json_decref(params);
    strands_error e;
    if (msg)
        send_json(c, msg, method, NULL, NULL, 0, 0, NULL,
                  strands_clock_mono_ms() + CANCEL_NOTIFY_MS, &e);
    json_decref(msg);
}

static void release_slot(mcp_client *c, pending *p)
{
    pthread_mutex_lock(&c->mu);
    json_decref(p->reply);
    p->reply = NULL;
    p->id = 0;
    pthread_mutex_unlock(&c->mu);
}

/* True when an error reply's message speaks of the session. */
static int names_session(const json_t *reply)
{
    const char *m = json_string_value(
        json_object_get(json_object_get(reply, "error"), "message"));
    return m && strcasestr(m, "session") != NULL;
}

/* One request/reply. params is stolen (NULL: none). On a JSON-RPC error
 * reply: E_UPSTREAM, and *error_out (when non-NULL) gets the error
 * object. On OK *result_out gets the result.                          */
static strands_status request(mcp_client *c, const char *method,
                              json_t *params, const char *name, char **extra,
                              size_t n_extra, const atomic_int *cancelled,
                              int64_t deadline_ms, json_t **result_out,
                              json_t **error_out, strands_error *err)
{
    if (error_out) *error_out = NULL;
    if (!params) params = json_object();
    if (!params || (c->t->modern && add_meta(params))) {
        json_decref(params);
        return strands_error_set(err, STRANDS_E_NOMEM, NULL, "out of memory");
    }
    pthread_mutex_lock(&c->mu);
    pending *p = NULL;
    for (size_t i = 0; i < MCP_CLIENT_MAX_PENDING && !p; i++)
        if (!c->slots[i].id) p = &c->slots[i];
    int64_t id = ++c->next_id;
    unsigned gen = c->gen;
    if (p) p->id = id;
    pthread_mutex_unlock(&c->mu);
    if (!p) {
        json_decref(params);
        return strands_error_set(err, STRANDS_E_BUSY, "McpBusy",
                                 "mcp server '%s': %d requests already in "
                                 "flight", c->name, MCP_CLIENT_MAX_PENDING);
    }
    json_t *msg = json_pack("{s:s, s:I, s:s, s:o}", "jsonrpc", "2.0", "id",
                            (json_int_t)id, "method", method, "params",
                            params);
    if (!msg) {
        release_slot(c, p);
        return strands_error_set(err, STRANDS_E_NOMEM, NULL, "out of memory");
    }
    tl_orphan = NULL;
    strands_status st = send_json(c, msg, method, name, extra, n_extra, 1,
                                  cancelled, deadline_ms, err);
    json_decref(msg);
    json_t *orphan = tl_orphan;
    tl_orphan = NULL;
    json_t *reply = NULL;
    if (st == STRANDS_OK) {
        pthread_mutex_lock(&c->mu);
        for (;;) {
            if (p->reply) {
                reply = p->reply;
                p->reply = NULL;
                break;
            }
            if (c->gen != gen) {
                st = strands_error_set(err, STRANDS_E_UNAVAILABLE,
                                       "McpServerGone",
                                       "mcp server '%s' is gone (%s)",
                                       c->name, c->gone_why);
                break;
            }
            if (c->is_http) { /* the POST is over: its reply came or not */
                if (orphan && !c->t->modern && c->version[0] &&
                    strcmp(method, "initialize") &&
                    names_session(orphan)) {
                    /* Many servers answer a session they no longer know
                     * with 400 and an id-less error ("No valid session
                     * ID") instead of 404: the same remedy applies.    */
                    st = strands_error_set(err, STRANDS_E_NOT_FOUND,
                                           "McpSessionExpired",
                                           "mcp server '%s' no longer knows "
                                           "our session", c->name);
                } else if (orphan) {
                    reply = orphan;
                    orphan = NULL;
                } else {
                    st = strands_error_set(err, STRANDS_E_UPSTREAM, NULL,
                                           "mcp server '%s' sent no reply "
                                           "to '%s'", c->name, method);
                }
                break;
            }
            if (cancelled && atomic_load(cancelled)) {
                st = strands_error_set(err, STRANDS_E_CANCELLED, NULL,
                                       "'%s' to mcp server '%s' cancelled",
                                       method, c->name);
                break;
            }
            int64_t now = strands_clock_mono_ms();
            if (deadline_ms && now >= deadline_ms) {
                st = strands_error_set(err, STRANDS_E_TIMEOUT, NULL,
                                       "mcp server '%s' did not answer '%s' "
                                       "in time", c->name, method);
                break;
            }
            int64_t wait = 50;
            if (deadline_ms && deadline_ms - now < wait) wait = deadline_ms - now;
            struct timespec ts;
            core_abstime_after_ms(CLOCK_MONOTONIC, wait, &ts);
            pthread_cond_timedwait(&c->cv, &c->mu, &ts);
        }
        pthread_mutex_unlock(&c->mu);
    }
    json_decref(orphan);
    release_slot(c, p);
    if ((st == STRANDS_E_TIMEOUT || st == STRANDS_E_CANCELLED) &&
        !(c->is_http && c->t->modern)) {
        /* Tell the server to stop (modern HTTP: the aborted POST did). */
        notify(c, "notifications/cancelled",
               json_pack("{s:I, s:s}", "requestId", (json_int_t)id, "reason",
                         st == STRANDS_E_TIMEOUT ? "timed out"
                                                 : "cancelled by the client"));
    }
    if (st != STRANDS_OK) {
        json_decref(reply);
        return st;
    }
    json_t *error = json_object_get(reply, "error");
    json_t *result = json_object_get(reply, "result");
    if (error) {
        json_int_t code = json_integer_value(json_object_get(error, "code"));
        const char *m = json_string_value(json_object_get(error, "message"));
        strands_error_set(err, STRANDS_E_UPSTREAM, "McpError",
                          "MCP error %lld: %.300s", (long long)code,
                          m ? m : "(no message)");
        if (error_out) *error_out = json_incref(error);
        json_decref(reply);
        return STRANDS_E_UPSTREAM;
    }
    if (!json_is_object(result)) {
        json_decref(reply);
        return strands_error_set(err, STRANDS_E_UPSTREAM, NULL,
                                 "mcp server '%s' answered '%s' without a "
                                 "result object", c->name, method);
    }
    *result_out = json_incref(result);
    json_decref(reply);
    return STRANDS_OK;
}

/* ---- negotiation ----------------------------------------------------- */

static int is_modern_error(const json_t *error)
{
    json_int_t code = json_integer_value(json_object_get(error, "code"));
    return code == -32020 || code == -32021 || code == -32022;
}

static int list_has(const json_t *list, const char *v)
{
    size_t i;
    const json_t *x;
    json_array_foreach(list, i, x)
        if (json_is_string(x) && !strcmp(json_string_value(x), v)) return 1;
    return 0;
}

static void set_version(mcp_client *c, int modern, const char *v)
{
    c->t->modern = modern;
    snprintf(c->t->protocol_version, sizeof c->t->protocol_version, "%s", v);
    snprintf(c->version, sizeof c->version, "%s", v);
}

static void read_caps(mcp_client *c, const json_t *result)
{
    const json_t *tools =
        json_object_get(json_object_get(result, "capabilities"), "tools");
    c->lists_change = json_is_true(json_object_get(tools, "listChanged"));
}

/* The legacy handshake: initialize + notifications/initialized. */
static strands_status legacy_init(mcp_client *c, int64_t deadline_ms,
                                  strands_error *err)
{
    /* First handshake: no version header yet. A renewed one (the HTTP
     * session expired) keeps the negotiated version, which other threads'
     * requests read meanwhile.                                          */
    if (c->t->modern || !c->version[0]) set_version(c, 0, "");
    json_t *params = json_pack(
        "{s:s, s:{}, s:{s:s, s:s}}", "protocolVersion", MCP_VERSION_LEGACY,
        "capabilities", "clientInfo", "name", "strands-c", "version",
        STRANDS_VERSION);
    json_t *result = NULL;
    strands_status st = request(c, "initialize", params, NULL, NULL, 0, NULL,
                                deadline_ms, &result, NULL, err);
    if (st != STRANDS_OK) return st;
    const char *v = json_string_value(json_object_get(result, "protocolVersion"));
    if (!v || (strcmp(v, MCP_VERSION_LEGACY) && strcmp(v, MCP_VERSION_LEGACY_OLD))) {
        st = strands_error_set(err, STRANDS_E_UPSTREAM, "McpVersion",
                               "mcp server '%s' speaks protocol %.32s; we "
                               "speak " MCP_VERSION_MODERN ", "
                               MCP_VERSION_LEGACY " and "
                               MCP_VERSION_LEGACY_OLD, c->name,
                               v ? v : "(none)");
        json_decref(result);
        return st;
    }
    if (strcmp(c->version, v)) set_version(c, 0, v);
    read_caps(c, result);
    json_decref(result);
    notify(c, "notifications/initialized", NULL);
    return STRANDS_OK;
}

static strands_status negotiate(mcp_client *c, int64_t deadline_ms,
                                strands_error *err)
{
    set_version(c, 1, MCP_VERSION_MODERN);
    int64_t probe_deadline = deadline_ms;
    if (!c->is_http) {
        int64_t until = strands_clock_mono_ms() +
                        (c->opts.probe_timeout_ms ? c->opts.probe_timeout_ms
                                                  : PROBE_DEFAULT_MS);
        if (!probe_deadline || until < probe_deadline) probe_deadline = until;
    }
    json_t *result = NULL, *error = NULL;
    strands_error pe;
    strands_error_clear(&pe);
    strands_status st = request(c, "server/discover", NULL, NULL, NULL, 0,
                                NULL, probe_deadline, &result, &error, &pe);
    if (st == STRANDS_OK) {
        const json_t *sv = json_object_get(result, "supportedVersions");
        int modern = list_has(sv, MCP_VERSION_MODERN);
        if (modern) read_caps(c, result);
        json_decref(result);
        if (modern) return STRANDS_OK;
        /* A server that discovers but only speaks legacy versions. */
        return legacy_init(c, deadline_ms, err);
    }
    if (st == STRANDS_E_UPSTREAM && error && is_modern_error(error)) {
        const json_t *sup =
            json_object_get(json_object_get(error, "data"), "supported");
        int legacy_too =
            json_integer_value(json_object_get(error, "code")) == -32022 &&
            (list_has(sup, MCP_VERSION_LEGACY) ||
             list_has(sup, MCP_VERSION_LEGACY_OLD));
        json_decref(error);
        if (legacy_too) return legacy_init(c, deadline_ms, err);
        return strands_error_set(err, STRANDS_E_UPSTREAM, "McpVersion",
                                 "mcp server '%s' refused our protocol "
                                 "versions: %s", c->name, pe.message);
    }
    json_decref(error);
    if (st == STRANDS_E_UNAVAILABLE || st == STRANDS_E_NETWORK ||
        st == STRANDS_E_IO || (c->is_http && st == STRANDS_E_TIMEOUT)) {
        *err = pe;
        return st;
    }
    /* Anything else: a legacy server. */
    return legacy_init(c, deadline_ms, err);
}

/* ---- public ---------------------------------------------------------- */

mcp_client *mcp_client_new(mcp_transport *t, const mcp_client_opts *o,
                           strands_error *err)
{
    mcp_client *c = calloc(1, sizeof *c);
    const char *nm = o && o->server_name ? o->server_name : "?";
    if (c) c->name = strdup(nm);
    if (!c || !c->name) {
        if (c) free(c);
        if (t) t->vt->destroy(t);
        strands_error_set(err, STRANDS_E_NOMEM, NULL, "out of memory");
        return NULL;
    }
    if (o) c->opts = *o;
    c->opts.server_name = c->name;
    c->t = t;
    c->is_http = !strcmp(t->vt->kind, "http");
    pthread_mutex_init(&c->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&c->cv, &ca);
    pthread_condattr_destroy(&ca);
    t->on_message = on_message;
    t->on_closed = on_closed;
    t->cb_user = c;
    return c;
}

void mcp_client_close(mcp_client *c)
{
    if (!c) return;
    pthread_mutex_lock(&c->mu);
    c->gen++;
    snprintf(c->gone_why, sizeof c->gone_why, "closed by the client");
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
    if (c->open) c->t->vt->close(c->t);
    c->open = 0;
    c->version[0] = 0;
}

void mcp_client_free(mcp_client *c)
{
    if (!c) return;
    mcp_client_close(c);
    c->t->vt->destroy(c->t);
    for (size_t i = 0; i < MCP_CLIENT_MAX_PENDING; i++)
        json_decref(c->slots[i].reply);
    pthread_cond_destroy(&c->cv);
    pthread_mutex_destroy(&c->mu);
    free(c->name);
    free(c);
}

strands_status mcp_client_connect(mcp_client *c, int64_t deadline_ms,
                                  strands_error *err)
{
    if (!c->open) {
        strands_status st = c->t->vt->open(c->t, deadline_ms, err);
        if (st != STRANDS_OK) return st;
        c->open = 1;
    }
    strands_status st = negotiate(c, deadline_ms, err);
    if (st != STRANDS_OK) mcp_client_close(c);
    return st;
}

const char *mcp_client_version(const mcp_client *c)
{
    return c->version;
}

int mcp_client_lists_change(const mcp_client *c)
{
    return c->lists_change;
}

static int session_expired(strands_status st, const strands_error *e)
{
    return st == STRANDS_E_NOT_FOUND && !strcmp(e->code, "McpSessionExpired");
}

strands_status mcp_client_list_tools(mcp_client *c, int64_t deadline_ms,
                                     json_t **tools_out, strands_error *err)
{
    json_t *all = json_array();
    if (!all)
        return strands_error_set(err, STRANDS_E_NOMEM, NULL, "out of memory");
    char *cursor = NULL;
    int retried = 0;
    strands_status st = STRANDS_OK;
    for (int page = 0; st == STRANDS_OK; page++) {
        if (page >= MCP_CLIENT_MAX_PAGES) {
            st = strands_error_set(err, STRANDS_E_TOO_LARGE, NULL,
                                   "mcp server '%s': more than %d pages of "
                                   "tools", c->name, MCP_CLIENT_MAX_PAGES);
            break;
        }
        json_t *params = cursor ? json_pack("{s:s}", "cursor", cursor)
                                : json_object();
        json_t *result = NULL;
        st = request(c, "tools/list", params, NULL, NULL, 0, NULL, deadline_ms,
                     &result, NULL, err);
        if (session_expired(st, err) && !retried && !c->t->modern) {
            retried = 1; /* the server forgot us: initialize once more */
            st = legacy_init(c, deadline_ms, err);
            page = -1;
            json_array_clear(all);
            free(cursor);
            cursor = NULL;
            continue;
        }
        if (st != STRANDS_OK) break;
        const json_t *tools = json_object_get(result, "tools");
        if (!json_is_array(tools)) {
            st = strands_error_set(err, STRANDS_E_UPSTREAM, NULL,
                                   "mcp server '%s': tools/list result has "
                                   "no tools array", c->name);
        } else if (json_array_size(all) + json_array_size(tools) >
                   MCP_CLIENT_MAX_TOOLS) {
            st = strands_error_set(err, STRANDS_E_TOO_LARGE, NULL,
                                   "mcp server '%s' lists more than %d tools",
                                   c->name, MCP_CLIENT_MAX_TOOLS);
        } else if (json_array_extend(all, (json_t *)tools)) {
            st = strands_error_set(err, STRANDS_E_NOMEM, NULL, "OOM");
        }
        const char *next =
            json_string_value(json_object_get(result, "nextCursor"));
        free(cursor);
        cursor = next && next[0] ? strdup(next) : NULL;
        int more = next && next[0];
        json_decref(result);
        if (st == STRANDS_OK && more && !cursor)
            st = strands_error_set(err, STRANDS_E_NOMEM, NULL, "OOM");
        if (!more) break;
    }
    free(cursor);
    if (st != STRANDS_OK) {
        json_decref(all);
        return st;
    }
    *tools_out = all;
    return STRANDS_OK;
}

strands_status mcp_client_call_tool(mcp_client *c, const char *name,
                                    const json_t *arguments,
                                    const json_t *schema,
                                    const char *const *more_headers,
                                    size_t n_more,
                                    const atomic_int *cancelled,
                                    int64_t deadline_ms, json_t **result_out,
                                    strands_error *err)
{
    char **extra = NULL;
    size_t n_extra = 0;
    strands_status st;
    if (c->is_http && c->t->modern && schema) {
        st = mcp_http_param_headers(schema, arguments, &extra, &n_extra, err);
        if (st != STRANDS_OK) return st;
    }
    if (c->is_http && n_more) { /* the forwarded caller headers follow */
        char **all = calloc(n_extra + n_more + 1, sizeof *all);
        if (!all) {
            mcp_header_lines_free(extra);
            return strands_error_set(err, STRANDS_E_NOMEM, NULL,
                                     "out of memory");
        }
        for (size_t i = 0; i < n_extra; i++) all[i] = extra[i];
        free(extra); /* the lines now belong to `all` */
        for (size_t i = 0; i < n_more; i++)
            if (!(all[n_extra + i] = strdup(more_headers[i]))) {
                mcp_header_lines_free(all);
                return strands_error_set(err, STRANDS_E_NOMEM, NULL,
                                         "out of memory");
            }
        extra = all;
        n_extra += n_more;
    }
    json_t *result = NULL;
    for (int attempt = 0;; attempt++) {
        /* A copy: the caller's object stays with the caller's thread. */
        json_t *params = json_pack("{s:s, s:o}", "name", name, "arguments",
                                   arguments ? json_deep_copy(arguments)
                                             : json_object());
        st = request(c, "tools/call", params, name, extra, n_extra, cancelled,
                     deadline_ms, &result, NULL, err);
        if (!(session_expired(st, err) && attempt == 0 && !c->t->modern))
            break;
        st = legacy_init(c, deadline_ms, err); /* initialize once more */
        if (st != STRANDS_OK) break;
    }
    mcp_header_lines_free(extra);
    if (st != STRANDS_OK) return st;
    const char *rt = json_string_value(json_object_get(result, "resultType"));
    if (rt && strcmp(rt, "complete")) {
        json_decref(result);
        return strands_error_set(err, STRANDS_E_UPSTREAM, "McpInputRequired",
                                 "mcp server '%s' asked for more input "
                                 "(resultType '%.32s'), which this client "
                                 "does not provide", c->name, rt);
    }
    *result_out = result;
    return STRANDS_OK;
}

strands_status mcp_client_ping(mcp_client *c, int64_t deadline_ms,
                               strands_error *err)
{
    json_t *result = NULL;
    strands_status st = request(c, c->t->modern ? "server/discover" : "ping",
                                NULL, NULL, NULL, 0, NULL, deadline_ms,
                                &result, NULL, err);
    json_decref(result);
    return st;
}
