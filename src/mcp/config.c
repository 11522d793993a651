/* MCP_CONFIG parsing (see mcp/config.h): the JSON text is loaded strictly
 * (duplicate keys rejected), every server entry is checked key by key into
 * an mcp_server_config, and ${VAR} references are expanded from the
 * environment. Error messages name "mcpServers.<name>.<key>" and never
 * quote a value that may hold a secret. Every string the result holds is
 * wiped before it is freed: header and env values, args, URLs and the
 * OAuth client secret may all carry credentials.                         */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "core/env.h"
#include "core/text.h"
#include "mcp/config.h"
#include "net/url.h"

#define MAX_ENTRIES 256          /* args, env, headers per server */
#define MAX_NAMES 1024           /* allow, deny */
#define MAX_VALUE_BYTES 65536    /* one string after ${VAR} expansion */
#define MAX_EXPANDED_BYTES ((size_t)4 << 20) /* all expansions together */
#define MAX_NAME_LEN 48          /* server name */
#define MAX_PREFIX_LEN 40        /* names.h cuts a prefix there */
#define MAX_VAR_NAME 128         /* ${VAR} */
#define MAX_TIMEOUT_S 86400L
#define MAX_STARTUP_TIMEOUT_S 3600L
#define SHOW_MAX 48              /* bytes of a bad name shown in a message */

/* Parse state: the environment lookup, the error and the current server. */
typedef struct pctx {
    strands_getenv_fn *getenv_fn;
    void *user;
    strands_error *err;
    size_t expanded_total;
    const char *server;          /* its name, already validated */
} pctx;

/* Frees a string after overwriting it (it may hold a secret). */
static void wipe_free(char *s)
{
    if (!s) return;
    OPENSSL_cleanse(s, strlen(s));
    free(s);
}

static void wipe_free_list(char **list)
{
    if (!list) return;
    for (char **p = list; *p; p++) wipe_free(*p);
    free(list);
}

void mcp_server_config_clear(mcp_server_config *s)
{
    if (!s) return;
    wipe_free(s->name);
    wipe_free(s->command);
    wipe_free_list(s->args);
    wipe_free_list(s->env);
    wipe_free(s->cwd);
    wipe_free(s->url);
    wipe_free_list(s->headers);
    wipe_free(s->auth.service);
    wipe_free(s->auth.region);
    wipe_free(s->auth.token_url);
    wipe_free(s->auth.client_id);
    wipe_free(s->auth.client_secret);
    wipe_free(s->auth.scope);
    wipe_free(s->prefix);
    wipe_free_list(s->allow);
    wipe_free_list(s->forward_headers);
    wipe_free_list(s->deny);
    memset(s, 0, sizeof *s);
}

void mcp_config_free(mcp_config *c)
{
    if (!c) return;
    for (size_t i = 0; i < c->n_servers; i++)
        mcp_server_config_clear(&c->servers[i]);
    free(c->servers);
    memset(c, 0, sizeof *c);
}

int mcp_config_tool_allowed(const mcp_server_config *s, const char *tool)
{
    if (!s || !tool) return 0;
    if (s->allow) {
        size_t i = 0;
        while (i < s->n_allow && strcmp(s->allow[i], tool) != 0) i++;
        if (i == s->n_allow) return 0;
    }
    for (size_t i = 0; i < s->n_deny; i++)
        if (!strcmp(s->deny[i], tool)) return 0;
    return 1;
}

/* ---- error messages ---------------------------------------------------- */

/* Copies s for display: printable ASCII except quotes and backslashes,
 * others as '?', cut at SHOW_MAX bytes with "...".                      */
static void show(char *out, size_t cap, const char *s)
{
    core_text_shown(out, cap, s, SHOW_MAX, "'\"\\");
}

/* Sets "mcpServers.<server>.<key>: <message>" (key may be NULL). */
static strands_status fail(pctx *c, strands_status st, const char *key,
                           const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static strands_status fail(pctx *c, strands_status st, const char *key,
                           const char *fmt, ...)
{
    char msg[STRANDS_ERROR_MESSAGE_MAX / 2];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (c->server)
        return strands_error_set(c->err, st, NULL, "mcpServers.%s%s%s: %s",
                                 c->server, key ? "." : "", key ? key : "",
                                 msg);
    return strands_error_set(c->err, st, NULL, "mcpServers%s%s: %s",
                             key ? "." : "", key ? key : "", msg);
}

static strands_status nomem(pctx *c)
{
    return strands_error_set(c->err, STRANDS_E_NOMEM, NULL,
                             "MCP_CONFIG: out of memory");
}

/* ---- ${VAR} expansion --------------------------------------------------- */

/* A growable buffer whose old copies are wiped when it moves. */
typedef struct sbuf {
    char *p;
    size_t len, cap;
} sbuf;

static int sbuf_add(sbuf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + n + 1) cap *= 2;
        char *np = malloc(cap);
        if (!np) return -1;
        if (b->p) {
            memcpy(np, b->p, b->len);
            OPENSSL_cleanse(b->p, b->cap);
            free(b->p);
        }
        b->p = np;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
    return 0;
}

static void sbuf_wipe(sbuf *b)
{
    if (b->p) {
        OPENSSL_cleanse(b->p, b->cap);
        free(b->p);
    }
    memset(b, 0, sizeof *b);
}

static int is_var_start(char ch)
{
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || ch == '_';
}

static int is_var_char(char ch)
{
    return is_var_start(ch) || (ch >= '0' && ch <= '9');
}

/* Expands ${VAR} in s ("$${" is a literal "${"); *out is a new string.  */
static strands_status expand(pctx *c, const char *key, const char *s,
                             char **out)
{
    sbuf b = {0};
    strands_status st = STRANDS_OK;
    *out = NULL;
    size_t i = 0;
    while (s[i] && st == STRANDS_OK) {
        if (s[i] == '$' && s[i + 1] == '$' && s[i + 2] == '{') {
            if (sbuf_add(&b, "${", 2)) st = nomem(c);
            i += 3;
            continue;
        }
        if (s[i] != '$' || s[i + 1] != '{') {
            size_t run = strcspn(s + i + 1, "$") + 1;
            if (sbuf_add(&b, s + i, run)) st = nomem(c);
            i += run;
        } else {
            const char *name = s + i + 2;
            size_t n = 0;
            if (is_var_start(name[0]))
                while (is_var_char(name[n]) && n <= MAX_VAR_NAME) n++;
            if (n == 0 || n > MAX_VAR_NAME || name[n] != '}') {
                st = fail(c, STRANDS_E_INVALID, key,
                          "bad ${...} reference (want ${NAME} with NAME "
                          "of letters, digits and '_'; write $${ for a "
                          "literal ${)");
                break;
            }
            char var[MAX_VAR_NAME + 1];
            memcpy(var, name, n);
            var[n] = '\0';
            const char *val = core_getenv(c->getenv_fn, c->user, var);
            if (!val) {
                st = fail(c, STRANDS_E_INVALID, key,
                          "environment variable %s is not set", var);
                break;
            }
            size_t vlen = strlen(val);
            if (vlen > MAX_VALUE_BYTES) {
                st = fail(c, STRANDS_E_TOO_LARGE, key,
                          "environment variable %s is longer than %d bytes",
                          var, MAX_VALUE_BYTES);
                break;
            }
            if (sbuf_add(&b, val, vlen)) st = nomem(c);
            i += n + 3;
        }
        if (st == STRANDS_OK && b.len > MAX_VALUE_BYTES)
            st = fail(c, STRANDS_E_TOO_LARGE, key,
                      "longer than %d bytes after ${VAR} expansion",
                      MAX_VALUE_BYTES);
    }
    if (st == STRANDS_OK) {
        c->expanded_total += b.len;
        if (c->expanded_total > MAX_EXPANDED_BYTES)
            st = fail(c, STRANDS_E_TOO_LARGE, key,
                      "the configuration's values exceed %zu bytes in all "
                      "after ${VAR} expansion", MAX_EXPANDED_BYTES);
    }
    if (st == STRANDS_OK && !b.p && sbuf_add(&b, "", 0)) st = nomem(c);
    if (st != STRANDS_OK) {
        sbuf_wipe(&b);
        return st;
    }
    /* An exact-size copy, so no spare capacity lingers with a secret. */
    *out = strdup(b.p);
    sbuf_wipe(&b);
    return *out ? STRANDS_OK : nomem(c);
}

/* ---- typed getters -------------------------------------------------------- */

/* The string at key (NULL when absent) or an error for another type. */
static strands_status get_string(pctx *c, const json_t *obj, const char *key,
                                 const char **out)
{
    const json_t *v = json_object_get(obj, key);
    *out = NULL;
    if (!v) return STRANDS_OK;
    if (!json_is_string(v))
        return fail(c, STRANDS_E_INVALID, key, "must be a string");
    *out = json_string_value(v);
    return STRANDS_OK;
}

static strands_status copy_string(pctx *c, const char *s, char **out)
{
    *out = strdup(s);
    return *out ? STRANDS_OK : nomem(c);
}

/* Seconds at key (1..max) as milliseconds into *ms; absent leaves it.  */
static strands_status get_seconds(pctx *c, const json_t *obj,
                                  const char *key, long max, long *ms)
{
    const json_t *v = json_object_get(obj, key);
    if (!v) return STRANDS_OK;
    if (!json_is_integer(v) || json_integer_value(v) < 1 ||
        json_integer_value(v) > max)
        return fail(c, STRANDS_E_INVALID, key,
                    "must be an integer number of seconds in 1..%ld", max);
    *ms = (long)json_integer_value(v) * 1000L;
    return STRANDS_OK;
}

/* A new NULL-terminated array for n entries, all NULL. */
static strands_status new_list(pctx *c, size_t n, char ***out)
{
    *out = calloc(n + 1, sizeof **out);
    return *out ? STRANDS_OK : nomem(c);
}

/* ---- checks ------------------------------------------------------------- */

static int is_name_char(unsigned char ch)
{
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
           (ch >= '0' && ch <= '9') || ch == '_' || ch == '-';
}

static int valid_server_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > MAX_NAME_LEN) return 0;
    for (size_t i = 0; i < n; i++)
        if (!is_name_char((unsigned char)s[i]) && s[i] != '.') return 0;
    return 1;
}

/* RFC 9110 token characters. */
static int is_tchar(unsigned char ch)
{
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
           (ch >= '0' && ch <= '9') || (ch && strchr("!#$%&'*+-.^_`|~", ch));
}

/* Headers the transport or the authenticator sets itself. */
static const char *const reserved_headers[] = {
    "host", "content-length", "content-type", "accept", "transfer-encoding",
    "connection", "expect", "mcp-session-id", "mcp-protocol-version",
    "mcp-method", "mcp-name", NULL};

static const char *const server_keys[] = {
    "command", "args", "env", "cwd", "url", "headers", "auth", "prefix",
    "allow", "deny", "timeout_seconds", "startup_timeout_seconds",
    "disabled", "type", "forward_headers", NULL};

static int in_list(const char *const *list, const char *s)
{
    for (; *list; list++)
        if (!strcmp(*list, s)) return 1;
    return 0;
}

/* ---- stdio keys ------------------------------------------------------- */

static strands_status parse_args(pctx *c, const json_t *srv,
                                 mcp_server_config *s)
{
    const json_t *a = json_object_get(srv, "args");
    size_t n = 0;
    if (a) {
        if (!json_is_array(a))
            return fail(c, STRANDS_E_INVALID, "args",
                        "must be an array of strings");
        n = json_array_size(a);
        if (n > MAX_ENTRIES)
            return fail(c, STRANDS_E_TOO_LARGE, "args",
                        "has %zu entries, more than %d", n, MAX_ENTRIES);
    }
    strands_status st = new_list(c, n, &s->args);
    for (size_t i = 0; i < n && st == STRANDS_OK; i++) {
        const json_t *v = json_array_get(a, i);
        char key[32];
        snprintf(key, sizeof key, "args[%zu]", i);
        if (!json_is_string(v))
            return fail(c, STRANDS_E_INVALID, key, "must be a string");
        st = expand(c, key, json_string_value(v), &s->args[i]);
        if (st == STRANDS_OK) s->n_args = i + 1;
    }
    return st;
}

static strands_status parse_env(pctx *c, const json_t *srv,
                                mcp_server_config *s)
{
    const json_t *e = json_object_get(srv, "env");
    size_t n = 0;
    if (e) {
        if (!json_is_object(e))
            return fail(c, STRANDS_E_INVALID, "env",
                        "must be an object of string values");
        n = json_object_size(e);
        if (n > MAX_ENTRIES)
            return fail(c, STRANDS_E_TOO_LARGE, "env",
                        "has %zu entries, more than %d", n, MAX_ENTRIES);
    }
    strands_status st = new_list(c, n, &s->env);
    if (st != STRANDS_OK || !e) return st;
    const char *name;
    const json_t *v;
    json_object_foreach((json_t *)e, name, v) {
        char key[MAX_VAR_NAME + 32], shown[SHOW_MAX + 8];
        show(shown, sizeof shown, name);
        snprintf(key, sizeof key, "env.%s", shown);
        size_t nl = strlen(name);
        int ok = nl > 0 && nl <= MAX_VAR_NAME && is_var_start(name[0]);
        for (size_t i = 1; ok && i < nl; i++) ok = is_var_char(name[i]);
        if (!ok)
            return fail(c, STRANDS_E_INVALID, key,
                        "bad variable name (letters, digits and '_', not "
                        "starting with a digit, at most %d bytes)",
                        MAX_VAR_NAME);
        if (!json_is_string(v))
            return fail(c, STRANDS_E_INVALID, key, "must be a string");
        char *val = NULL;
        st = expand(c, key, json_string_value(v), &val);
        if (st != STRANDS_OK) return st;
        size_t vl = strlen(val);
        char *line = malloc(nl + 1 + vl + 1);
        if (line) {
            memcpy(line, name, nl);
            line[nl] = '=';
            memcpy(line + nl + 1, val, vl + 1);
            s->env[s->n_env++] = line;
        }
        wipe_free(val);
        if (!line) return nomem(c);
    }
    return STRANDS_OK;
}

static strands_status parse_stdio(pctx *c, const json_t *srv,
                                  mcp_server_config *s)
{
    static const char *const http_only[] = {"url", "headers", "auth",
                                            "forward_headers", NULL};
    for (const char *const *k = http_only; *k; k++)
        if (json_object_get(srv, *k))
            return fail(c, STRANDS_E_INVALID, *k,
                        "only for servers with a \"url\" (this one has a "
                        "\"command\")");
    const char *cmd, *cwd;
    strands_status st = get_string(c, srv, "command", &cmd);
    if (st != STRANDS_OK) return st;
    if (!*cmd) return fail(c, STRANDS_E_INVALID, "command", "is empty");
    if (strlen(cmd) > 4096)
        return fail(c, STRANDS_E_TOO_LARGE, "command",
                    "is longer than 4096 bytes");
    if ((st = copy_string(c, cmd, &s->command)) != STRANDS_OK) return st;
    if ((st = parse_args(c, srv, s)) != STRANDS_OK) return st;
    if ((st = parse_env(c, srv, s)) != STRANDS_OK) return st;
    if ((st = get_string(c, srv, "cwd", &cwd)) != STRANDS_OK) return st;
    if (cwd) {
        if (cwd[0] != '/')
            return fail(c, STRANDS_E_INVALID, "cwd",
                        "must be an absolute path");
        if (strlen(cwd) > 4096)
            return fail(c, STRANDS_E_TOO_LARGE, "cwd",
                        "is longer than 4096 bytes");
        st = copy_string(c, cwd, &s->cwd);
    }
    return st;
}

/* ---- HTTP keys -------------------------------------------------------- */

/* Checks and expands a URL at key (with NET_URL_* flags) into *out.   */
static strands_status parse_url(pctx *c, const char *key, const char *raw,
                                unsigned flags, char **out)
{
    strands_status st = expand(c, key, raw, out);
    if (st != STRANDS_OK) return st;
    char what[MAX_NAME_LEN + 64];
    snprintf(what, sizeof what, "mcpServers.%s.%s", c->server, key);
    net_url u;
    st = net_url_parse(*out, flags, what, &u, c->err);
    if (st == STRANDS_OK) net_url_cleanup(&u);
    return st;
}

static strands_status parse_headers(pctx *c, const json_t *srv,
                                    mcp_server_config *s)
{
    const json_t *h = json_object_get(srv, "headers");
    size_t n = 0;
    if (h) {
        if (!json_is_object(h))
            return fail(c, STRANDS_E_INVALID, "headers",
                        "must be an object of string values");
        n = json_object_size(h);
        if (n > MAX_ENTRIES)
            return fail(c, STRANDS_E_TOO_LARGE, "headers",
                        "has %zu entries, more than %d", n, MAX_ENTRIES);
    }
    strands_status st = new_list(c, n, &s->headers);
    if (st != STRANDS_OK || !h) return st;
    const char *name;
    const json_t *v;
    json_object_foreach((json_t *)h, name, v) {
        char key[SHOW_MAX + 32], shown[SHOW_MAX + 8];
        show(shown, sizeof shown, name);
        snprintf(key, sizeof key, "headers.%s", shown);
        size_t nl = strlen(name);
        int ok = nl > 0 && nl <= 128;
        for (size_t i = 0; ok && i < nl; i++)
            ok = is_tchar((unsigned char)name[i]);
        if (!ok)
            return fail(c, STRANDS_E_INVALID, key,
                        "bad header name (1..128 token characters)");
        for (const char *const *r = reserved_headers; *r; r++)
            if (!strcasecmp(*r, name))
                return fail(c, STRANDS_E_INVALID, key,
                            "is set by the MCP client itself");
        if (s->auth.kind != MCP_AUTH_NONE &&
            (!strcasecmp(name, "authorization") ||
             (s->auth.kind == MCP_AUTH_SIGV4 &&
              !strncasecmp(name, "x-amz-", 6))))
            return fail(c, STRANDS_E_INVALID, key,
                        "conflicts with \"auth\", which sets it");
        for (size_t i = 0; i < s->n_headers; i++)
            if (!strncasecmp(s->headers[i], name, nl) &&
                s->headers[i][nl] == ':')
                return fail(c, STRANDS_E_INVALID, key,
                            "is given twice (header names ignore case)");
        if (!json_is_string(v))
            return fail(c, STRANDS_E_INVALID, key, "must be a string");
        char *val = NULL;
        st = expand(c, key, json_string_value(v), &val);
        if (st != STRANDS_OK) return st;
        for (const char *p = val; *p; p++)
            if (((unsigned char)*p < 0x20 && *p != '\t') || *p == 0x7f) {
                wipe_free(val);
                return fail(c, STRANDS_E_INVALID, key,
                            "the value contains a line break or another "
                            "control character");
            }
        size_t vl = strlen(val);
        char *line = malloc(nl + 2 + vl + 1);
        if (line) {
            memcpy(line, name, nl);
            memcpy(line + nl, ": ", 2);
            memcpy(line + nl + 2, val, vl + 1);
            s->headers[s->n_headers++] = line;
        }
        wipe_free(val);
        if (!line) return nomem(c);
    }
    return STRANDS_OK;
}

/* A SigV4 service or region name: [a-z0-9-]{1,64}. */
static int valid_aws_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 64) return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') ||
              s[i] == '-'))
            return 0;
    return 1;
}

/* An auth string at key: absent gives NULL, else expanded.       */
static strands_status auth_string(pctx *c, const json_t *a, const char *key,
                                  int required, char **out)
{
    char path[64];
    snprintf(path, sizeof path, "auth.%s", key);
    const json_t *v = json_object_get(a, key);
    *out = NULL;
    if (!v) {
        if (required)
            return fail(c, STRANDS_E_INVALID, path, "is missing");
        return STRANDS_OK;
    }
    if (!json_is_string(v))
        return fail(c, STRANDS_E_INVALID, path, "must be a string");
    strands_status st = expand(c, path, json_string_value(v), out);
    if (st == STRANDS_OK && !**out)
        st = fail(c, STRANDS_E_INVALID, path, "is empty");
    return st;
}

static strands_status parse_scopes(pctx *c, const json_t *a,
                                   mcp_auth_config *au)
{
    const json_t *sc = json_object_get(a, "scopes");
    if (!sc) return STRANDS_OK;
    if (!json_is_array(sc))
        return fail(c, STRANDS_E_INVALID, "auth.scopes",
                    "must be an array of strings");
    size_t n = json_array_size(sc);
    if (n > MAX_ENTRIES)
        return fail(c, STRANDS_E_TOO_LARGE, "auth.scopes",
                    "has %zu entries, more than %d", n, MAX_ENTRIES);
    if (n == 0) return STRANDS_OK;
    sbuf b = {0};
    strands_status st = STRANDS_OK;
    for (size_t i = 0; i < n && st == STRANDS_OK; i++) {
        char key[48];
        snprintf(key, sizeof key, "auth.scopes[%zu]", i);
        const json_t *v = json_array_get(sc, i);
        char *one = NULL;
        if (!json_is_string(v)) {
            st = fail(c, STRANDS_E_INVALID, key, "must be a string");
            break;
        }
        st = expand(c, key, json_string_value(v), &one);
        if (st != STRANDS_OK) break;
        /* RFC 6749 3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ) */
        int ok = *one != '\0';
        for (const char *p = one; ok && *p; p++)
            ok = *p >= 0x21 && *p <= 0x7e && *p != '"' && *p != '\\';
        if (!ok)
            st = fail(c, STRANDS_E_INVALID, key,
                      "is not a valid scope (printable ASCII, no spaces, "
                      "quotes or backslashes)");
        else if ((i && sbuf_add(&b, " ", 1)) || sbuf_add(&b, one, strlen(one)))
            st = nomem(c);
        wipe_free(one);
    }
    if (st == STRANDS_OK) {
        au->scope = strdup(b.p);
        if (!au->scope) st = nomem(c);
    }
    sbuf_wipe(&b);
    return st;
}

static strands_status parse_auth(pctx *c, const json_t *srv,
                                 mcp_auth_config *au)
{
    static const char *const sigv4_keys[] = {"type", "service", "region",
                                             NULL};
    static const char *const oauth_keys[] = {"type", "token_url", "client_id",
                                             "client_secret", "scopes", NULL};
    const json_t *a = json_object_get(srv, "auth");
    if (!a) return STRANDS_OK;
    if (!json_is_object(a))
        return fail(c, STRANDS_E_INVALID, "auth", "must be an object");
    const json_t *t = json_object_get(a, "type");
    const char *type = json_string_value(t);
    const char *const *keys;
    if (!type)
        return fail(c, STRANDS_E_INVALID, "auth.type",
                    "must be \"sigv4\" or \"oauth2_client_credentials\"");
    if (!strcmp(type, "sigv4")) {
        au->kind = MCP_AUTH_SIGV4;
        keys = sigv4_keys;
    } else if (!strcmp(type, "oauth2_client_credentials")) {
        au->kind = MCP_AUTH_OAUTH2_CLIENT_CREDENTIALS;
        keys = oauth_keys;
    } else {
        return fail(c, STRANDS_E_INVALID, "auth.type",
                    "must be \"sigv4\" or \"oauth2_client_credentials\"");
    }
    const char *k;
    const json_t *v;
    json_object_foreach((json_t *)a, k, v) {
        if (!in_list(keys, k)) {
            char shown[SHOW_MAX + 8], key[SHOW_MAX + 16];
            show(shown, sizeof shown, k);
            snprintf(key, sizeof key, "auth.%s", shown);
            return fail(c, STRANDS_E_INVALID, key,
                        "unknown key for auth type \"%s\"", type);
        }
    }
    strands_status st;
    if (au->kind == MCP_AUTH_SIGV4) {
        if ((st = auth_string(c, a, "service", 0, &au->service)) != STRANDS_OK)
            return st;
        if (!au->service &&
            (st = copy_string(c, "bedrock-agentcore", &au->service)) !=
                STRANDS_OK)
            return st;
        if (!valid_aws_name(au->service))
            return fail(c, STRANDS_E_INVALID, "auth.service",
                        "must be 1..64 of a-z, 0-9 and '-'");
        if ((st = auth_string(c, a, "region", 0, &au->region)) != STRANDS_OK)
            return st;
        if (au->region && !valid_aws_name(au->region))
            return fail(c, STRANDS_E_INVALID, "auth.region",
                        "must be 1..64 of a-z, 0-9 and '-'");
        return STRANDS_OK;
    }
    const json_t *tu = json_object_get(a, "token_url");
    if (!tu)
        return fail(c, STRANDS_E_INVALID, "auth.token_url", "is missing");
    if (!json_is_string(tu))
        return fail(c, STRANDS_E_INVALID, "auth.token_url",
                    "must be a string");
    /* The client secret goes there: https, or http to loopback only.  */
    st = parse_url(c, "auth.token_url", json_string_value(tu),
                   NET_URL_HTTP_LOOPBACK_ONLY, &au->token_url);
    if (st != STRANDS_OK) return st;
    if ((st = auth_string(c, a, "client_id", 1, &au->client_id)) != STRANDS_OK)
        return st;
    if ((st = auth_string(c, a, "client_secret", 1, &au->client_secret)) !=
        STRANDS_OK)
        return st;
    for (const char *p = au->client_id; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            return fail(c, STRANDS_E_INVALID, "auth.client_id",
                        "contains a control character");
    for (const char *p = au->client_secret; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            return fail(c, STRANDS_E_INVALID, "auth.client_secret",
                        "contains a control character");
    return parse_scopes(c, a, au);
}

/* "forward_headers": names of the caller's request headers (as tools see
 * them: identity and custom headers) passed on with every tools/call. */
static strands_status parse_forward(pctx *c, const json_t *srv,
                                    mcp_server_config *s)
{
    const json_t *a = json_object_get(srv, "forward_headers");
    if (!a) return STRANDS_OK;
    if (!json_is_array(a))
        return fail(c, STRANDS_E_INVALID, "forward_headers",
                    "must be an array of header names");
    size_t n = json_array_size(a);
    if (n > MCP_FORWARD_HEADERS_MAX)
        return fail(c, STRANDS_E_TOO_LARGE, "forward_headers",
                    "has %zu entries, more than %d", n,
                    MCP_FORWARD_HEADERS_MAX);
    strands_status st = new_list(c, n, &s->forward_headers);
    for (size_t i = 0; i < n && st == STRANDS_OK; i++) {
        const char *v = json_string_value(json_array_get(a, i));
        char k[40];
        snprintf(k, sizeof k, "forward_headers[%zu]", i);
        size_t len = v ? strlen(v) : 0;
        int ok = len > 0 && len <= 128;
        for (size_t j = 0; ok && j < len; j++)
            ok = isalnum((unsigned char)v[j]) || v[j] == '-' || v[j] == '_';
        if (!ok)
            return fail(c, STRANDS_E_INVALID, k,
                        "must be a header name ([A-Za-z0-9_-], 1..128 "
                        "characters)");
        char lower[130];
        for (size_t j = 0; j <= len; j++)
            lower[j] = (char)tolower((unsigned char)v[j]);
        if (in_list(reserved_headers, lower))
            return fail(c, STRANDS_E_INVALID, k,
                        "'%s' is set by the transport itself", v);
        st = copy_string(c, v, &s->forward_headers[i]);
        if (st == STRANDS_OK) s->n_forward = i + 1;
    }
    return st;
}

static strands_status parse_http(pctx *c, const json_t *srv,
                                 mcp_server_config *s)
{
    static const char *const stdio_only[] = {"args", "env", "cwd", NULL};
    for (const char *const *k = stdio_only; *k; k++)
        if (json_object_get(srv, *k))
            return fail(c, STRANDS_E_INVALID, *k,
                        "only for servers with a \"command\" (this one has "
                        "a \"url\")");
    s->is_http = 1;
    strands_status st = parse_auth(c, srv, &s->auth);
    if (st != STRANDS_OK) return st;
    if ((st = parse_headers(c, srv, s)) != STRANDS_OK) return st;
    if ((st = parse_forward(c, srv, s)) != STRANDS_OK) return st;
    const char *url;
    if ((st = get_string(c, srv, "url", &url)) != STRANDS_OK) return st;
    /* Credentials (headers, forwarded caller headers or auth) only over
     * https, or http to loopback. */
    unsigned flags = (s->n_headers || s->n_forward ||
                      s->auth.kind != MCP_AUTH_NONE)
                         ? NET_URL_HTTP_LOOPBACK_ONLY
                         : 0u;
    return parse_url(c, "url", url, flags, &s->url);
}

/* ---- keys of both kinds ---------------------------------------------- */

static strands_status parse_names(pctx *c, const json_t *srv, const char *key,
                                  char ***list, size_t *n_out)
{
    const json_t *a = json_object_get(srv, key);
    if (!a) return STRANDS_OK;
    if (!json_is_array(a))
        return fail(c, STRANDS_E_INVALID, key,
                    "must be an array of tool names");
    size_t n = json_array_size(a);
    if (n > MAX_NAMES)
        return fail(c, STRANDS_E_TOO_LARGE, key,
                    "has %zu entries, more than %d", n, MAX_NAMES);
    if (n == 0 && !strcmp(key, "allow"))
        return fail(c, STRANDS_E_INVALID, key,
                    "is empty, which would allow no tool (leave it out to "
                    "allow every tool, or set \"disabled\": true)");
    strands_status st = new_list(c, n, list);
    for (size_t i = 0; i < n && st == STRANDS_OK; i++) {
        const json_t *v = json_array_get(a, i);
        char k[32];
        snprintf(k, sizeof k, "%s[%zu]", key, i);
        if (!json_is_string(v) || !*json_string_value(v))
            return fail(c, STRANDS_E_INVALID, k,
                        "must be a non-empty string");
        st = copy_string(c, json_string_value(v), &(*list)[i]);
        if (st == STRANDS_OK) *n_out = i + 1;
    }
    return st;
}

static strands_status parse_prefix(pctx *c, const json_t *srv,
                                   mcp_server_config *s)
{
    const char *p;
    strands_status st = get_string(c, srv, "prefix", &p);
    if (st != STRANDS_OK) return st;
    if (p) {
        size_t n = strlen(p);
        if (n > MAX_PREFIX_LEN)
            return fail(c, STRANDS_E_INVALID, "prefix",
                        "is longer than %d bytes", MAX_PREFIX_LEN);
        for (size_t i = 0; i < n; i++)
            if (!is_name_char((unsigned char)p[i]))
                return fail(c, STRANDS_E_INVALID, "prefix",
                            "may only contain A-Z a-z 0-9 _ -");
        return copy_string(c, p, &s->prefix);
    }
    size_t n = strlen(s->name);
    s->prefix = malloc(n + 2);
    if (!s->prefix) return nomem(c);
    for (size_t i = 0; i < n; i++)
        s->prefix[i] = is_name_char((unsigned char)s->name[i]) ? s->name[i]
                                                               : '_';
    s->prefix[n] = '_';
    s->prefix[n + 1] = '\0';
    return STRANDS_OK;
}

/* Parses one enabled server entry into s (s->name is set).         */
static strands_status parse_server(pctx *c, const json_t *srv,
                                   mcp_server_config *s)
{
    const char *k;
    const json_t *v;
    json_object_foreach((json_t *)srv, k, v) {
        if (!in_list(server_keys, k)) {
            char shown[SHOW_MAX + 8];
            show(shown, sizeof shown, k);
            return fail(c, STRANDS_E_INVALID, shown,
                        "unknown key (known: command, args, env, cwd, url, "
                        "headers, auth, prefix, allow, deny, "
                        "timeout_seconds, startup_timeout_seconds, "
                        "disabled, type)");
        }
    }
    const char *type;
    strands_status st = get_string(c, srv, "type", &type);
    if (st != STRANDS_OK) return st;
    int has_cmd = json_object_get(srv, "command") != NULL;
    int has_url = json_object_get(srv, "url") != NULL;
    if (type) {
        if (!strcmp(type, "sse"))
            return fail(c, STRANDS_E_INVALID, "type",
                        "\"sse\" (the deprecated HTTP+SSE transport) is not "
                        "supported; use a Streamable HTTP endpoint "
                        "(\"type\": \"http\")");
        if (strcmp(type, "stdio") && strcmp(type, "http") &&
            strcmp(type, "streamable-http"))
            return fail(c, STRANDS_E_INVALID, "type",
                        "must be \"stdio\", \"http\" or \"streamable-http\"");
        if (!strcmp(type, "stdio") && !has_cmd)
            return fail(c, STRANDS_E_INVALID, "command",
                        "is missing (\"type\" is \"stdio\")");
        if (strcmp(type, "stdio") && !has_url)
            return fail(c, STRANDS_E_INVALID, "url",
                        "is missing (\"type\" is \"%s\")", type);
    }
    if (has_cmd && has_url)
        return fail(c, STRANDS_E_INVALID, NULL,
                    "has both \"command\" and \"url\"; give one (command: "
                    "a local stdio server, url: a remote one)");
    if (!has_cmd && !has_url)
        return fail(c, STRANDS_E_INVALID, NULL,
                    "has neither \"command\" nor \"url\"");
    if (has_cmd && type && strcmp(type, "stdio"))
        return fail(c, STRANDS_E_INVALID, "type",
                    "is \"%s\" but the server has a \"command\"", type);
    if (has_url && type && !strcmp(type, "stdio"))
        return fail(c, STRANDS_E_INVALID, "type",
                    "is \"stdio\" but the server has a \"url\"");
    st = has_cmd ? parse_stdio(c, srv, s) : parse_http(c, srv, s);
    if (st != STRANDS_OK) return st;
    if ((st = parse_prefix(c, srv, s)) != STRANDS_OK) return st;
    if ((st = parse_names(c, srv, "allow", &s->allow, &s->n_allow)) !=
        STRANDS_OK)
        return st;
    if ((st = parse_names(c, srv, "deny", &s->deny, &s->n_deny)) !=
        STRANDS_OK)
        return st;
    s->startup_timeout_ms = MCP_DEFAULT_STARTUP_TIMEOUT_MS;
    if ((st = get_seconds(c, srv, "timeout_seconds", MAX_TIMEOUT_S,
                          &s->timeout_ms)) != STRANDS_OK)
        return st;
    return get_seconds(c, srv, "startup_timeout_seconds",
                       MAX_STARTUP_TIMEOUT_S, &s->startup_timeout_ms);
}

static strands_status parse_root(pctx *c, const json_t *root, mcp_config *out)
{
    const char *k;
    const json_t *v;
    json_object_foreach((json_t *)root, k, v) {
        if (strcmp(k, "mcpServers")) {
            char shown[SHOW_MAX + 8];
            show(shown, sizeof shown, k);
            return strands_error_set(c->err, STRANDS_E_INVALID, NULL,
                                     "%s: unknown top-level key (the file "
                                     "holds {\"mcpServers\": {...}})",
                                     shown);
        }
    }
    const json_t *servers = json_object_get(root, "mcpServers");
    if (!json_is_object(servers))
        return fail(c, STRANDS_E_INVALID, NULL,
                    servers ? "must be an object of servers by name"
                            : "is missing (the file holds "
                              "{\"mcpServers\": {...}})");
    size_t n = json_object_size(servers);
    if (n > MCP_CONFIG_MAX_SERVERS)
        return fail(c, STRANDS_E_TOO_LARGE, NULL,
                    "has %zu servers, more than %d", n,
                    MCP_CONFIG_MAX_SERVERS);
    if (n == 0) return STRANDS_OK;
    out->servers = calloc(n, sizeof *out->servers);
    if (!out->servers) return nomem(c);
    json_object_foreach((json_t *)servers, k, v) {
        if (!valid_server_name(k)) {
            char shown[SHOW_MAX + 8];
            show(shown, sizeof shown, k);
            return fail(c, STRANDS_E_INVALID, NULL,
                        "'%s' is not a valid server name (1..%d of A-Z a-z "
                        "0-9 _ . -)", shown, MAX_NAME_LEN);
        }
        c->server = k;
        if (!json_is_object(v))
            return fail(c, STRANDS_E_INVALID, NULL, "must be an object");
        const json_t *d = json_object_get(v, "disabled");
        if (d && !json_is_boolean(d))
            return fail(c, STRANDS_E_INVALID, "disabled",
                        "must be true or false");
        if (json_is_true(d)) continue; /* parked: the rest is not read */
        mcp_server_config *s = &out->servers[out->n_servers++];
        strands_status st = copy_string(c, k, &s->name);
        if (st == STRANDS_OK) st = parse_server(c, v, s);
        if (st != STRANDS_OK) return st;
        /* Tool names use the first MAX_PREFIX_LEN bytes (names.h). */
        for (size_t i = 0; i + 1 < out->n_servers; i++)
            if (*s->prefix && !strncmp(out->servers[i].prefix, s->prefix,
                                       MAX_PREFIX_LEN))
                return fail(c, STRANDS_E_INVALID, "prefix",
                            "'%s' is also the prefix of server '%s'%s; give "
                            "one of them a distinct \"prefix\"",
                            s->prefix, out->servers[i].name,
                            strlen(s->prefix) > MAX_PREFIX_LEN
                                ? " (in its first 40 bytes, which tool "
                                  "names use)"
                                : "");
    }
    c->server = NULL;
    return STRANDS_OK;
}

strands_status mcp_config_parse(const char *text, size_t len,
                                strands_getenv_fn *getenv_fn, void *user,
                                mcp_config *out, strands_error *err)
{
    memset(out, 0, sizeof *out);
    strands_error_clear(err);
    pctx c = {getenv_fn, user, err, 0, NULL};
    if (!text)
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "MCP_CONFIG: no text");
    if (len > MCP_CONFIG_MAX_BYTES)
        return strands_error_set(err, STRANDS_E_TOO_LARGE, NULL,
                                 "MCP_CONFIG: %zu bytes, more than %zu",
                                 len, MCP_CONFIG_MAX_BYTES);
    json_error_t jerr;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        /* jansson reports most allocation failures inside the parser as
         * syntax errors; one before parsing began leaves the text empty. */
        if (json_error_code(&jerr) == json_error_out_of_memory ||
            !jerr.text[0])
            return nomem(&c);
        return strands_error_set(err, STRANDS_E_PARSE, NULL,
                                 "line %d column %d: %s", jerr.line,
                                 jerr.column, jerr.text);
    }
    strands_status st;
    if (!json_is_object(root))
        st = strands_error_set(err, STRANDS_E_INVALID, NULL,
                               "the top level must be a JSON object "
                               "{\"mcpServers\": {...}}");
    else
        st = parse_root(&c, root, out);
    json_decref(root);
    if (st != STRANDS_OK) mcp_config_free(out);
    return st;
}

/* Reads at most MCP_CONFIG_MAX_BYTES of the regular file fd into *buf. */
static strands_status read_all(int fd, const char *path, char **buf,
                               size_t *len, strands_error *err)
{
    struct stat sb;
    if (fstat(fd, &sb) != 0)
        return strands_error_set(err, STRANDS_E_IO, NULL, "%s: %s", path,
                                 strerror(errno));
    if (!S_ISREG(sb.st_mode))
        return strands_error_set(err, STRANDS_E_IO, NULL,
                                 "%s: not a regular file", path);
    if ((size_t)sb.st_size > MCP_CONFIG_MAX_BYTES)
        return strands_error_set(err, STRANDS_E_TOO_LARGE, NULL,
                                 "%s: %lld bytes, more than %zu", path,
                                 (long long)sb.st_size, MCP_CONFIG_MAX_BYTES);
    size_t cap = (size_t)sb.st_size + 1, n = 0;
    char *b = malloc(cap + 1);
    if (!b)
        return strands_error_set(err, STRANDS_E_NOMEM, NULL,
                                 "%s: out of memory", path);
    for (;;) {
        ssize_t r = read(fd, b + n, cap - n);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            int e = errno;
            OPENSSL_cleanse(b, n);
            free(b);
            return strands_error_set(err, STRANDS_E_IO, NULL, "%s: %s", path,
                                     strerror(e));
        }
        if (r == 0) break;
        n += (size_t)r;
        if (n == cap) { /* it grew while we read: not what we checked */
            OPENSSL_cleanse(b, n);
            free(b);
            return strands_error_set(err, STRANDS_E_IO, NULL,
                                     "%s: changed while being read", path);
        }
    }
    b[n] = '\0';
    *buf = b;
    *len = n;
    return STRANDS_OK;
}

strands_status mcp_config_load(const char *path, strands_getenv_fn *getenv_fn,
                               void *user, mcp_config *out,
                               strands_error *err)
{
    memset(out, 0, sizeof *out);
    strands_error_clear(err);
    if (!path || !*path)
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "MCP_CONFIG: no file name");
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0)
        return strands_error_set(err, STRANDS_E_IO, NULL, "%s: %s", path,
                                 strerror(errno));
    char *text = NULL;
    size_t len = 0;
    strands_status st = read_all(fd, path, &text, &len, err);
    close(fd);
    if (st != STRANDS_OK) return st;
    st = mcp_config_parse(text, len, getenv_fn, user, out, err);
    OPENSSL_cleanse(text, len);
    free(text);
    if (st != STRANDS_OK && err) {
        char msg[STRANDS_ERROR_MESSAGE_MAX];
        snprintf(msg, sizeof msg, "%s", err->message);
        strands_error_set(err, st, NULL, "%s: %s", path, msg);
    }
    return st;
}
