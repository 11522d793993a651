/* Tracing configuration from the standard OpenTelemetry variables, with
 * the specification's precedence (signal-specific beats generic) and an
 * error naming the variable for every bad value.                         */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/env.h"
#include "net/url.h"
#include "telemetry/internal.h"

#define DEFAULT_SERVICE_NAME "strands-agent"
#define MAX_LIST_ITEMS 64

typedef struct env_ctx {
    strands_getenv_fn *fn;
    void *user;
} env_ctx;

/* The variable's value; NULL when unset or empty (the spec treats an
 * empty value as unset). */
static const char *env_get(const env_ctx *e, const char *name)
{
    const char *v = core_getenv(e->fn, e->user, name);
    return v && *v ? v : NULL;
}

/* The first of two variables that is set; *which names it. */
static const char *env_pick(const env_ctx *e, const char *specific,
                            const char *generic, const char **which)
{
    const char *v = env_get(e, specific);
    *which = specific;
    if (!v) {
        v = env_get(e, generic);
        *which = generic;
    }
    return v;
}

void tel_kv_free(tel_kv *kv, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(kv[i].key);
        free(kv[i].value);
    }
    free(kv);
}

void tel_config_cleanup(tel_config *cfg)
{
    free(cfg->endpoint);
    tel_kv_free(cfg->headers, cfg->n_headers);
    tel_kv_free(cfg->resource, cfg->n_resource);
    memset(cfg, 0, sizeof *cfg);
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Percent-decodes s[0..len) into a new string; NULL (with *bad set when
 * the text is malformed or decodes to a control character) on failure. */
static char *percent_decode(const char *s, size_t len, int *bad)
{
    char *out = malloc(len + 1);
    if (!out) return NULL;
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        int c = (unsigned char)s[i];
        if (c == '%') {
            int h = i + 2 < len ? hexval((unsigned char)s[i + 1]) : -1;
            int l = i + 2 < len ? hexval((unsigned char)s[i + 2]) : -1;
            if (h < 0 || l < 0) {
                free(out);
                *bad = 1;
                return NULL;
            }
            c = h * 16 + l;
            i += 2;
        }
        if (c < 0x20 || c == 0x7f) {
            free(out);
            *bad = 1;
            return NULL;
        }
        out[o++] = (char)c;
    }
    out[o] = '\0';
    return out;
}

static int is_ows(int c) { return c == ' ' || c == '\t'; }

/* HTTP token characters (RFC 9110), which also suit attribute keys. */
static int is_token_char(int c)
{
    return isalnum(c) || (c && strchr("!#$%&'*+-.^_`|~", c));
}

static void trim(const char **b, const char **e)
{
    while (*b < *e && is_ows((unsigned char)**b)) (*b)++;
    while (*e > *b && is_ows((unsigned char)(*e)[-1])) (*e)--;
}

/* Sets key to value in the list, replacing an earlier value; takes both
 * (either NULL, from a failed copy, fails). */
static int kv_put(tel_kv **list, size_t *n, char *key, char *value)
{
    if (!key || !value) {
        free(key);
        free(value);
        return -1;
    }
    for (size_t i = 0; i < *n; i++) {
        if (!strcmp((*list)[i].key, key)) {
            free((*list)[i].value);
            (*list)[i].value = value;
            free(key);
            return 0;
        }
    }
    tel_kv *nl = realloc(*list, (*n + 1) * sizeof *nl);
    if (!nl) {
        free(key);
        free(value);
        return -1;
    }
    nl[*n].key = key;
    nl[*n].value = value;
    *list = nl;
    (*n)++;
    return 0;
}

static strands_status parse_item(const char *var, const char *b,
                                 const char *e, tel_kv **out, size_t *n,
                                 strands_error *err)
{
    const char *eq = memchr(b, '=', (size_t)(e - b));
    if (!eq)
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "%s: '%.*s' is not key=value", var,
                                 (int)(e - b > 80 ? 80 : e - b), b);
    const char *kb = b, *ke = eq, *vb = eq + 1, *ve = e;
    trim(&kb, &ke);
    trim(&vb, &ve);
    if (kb == ke)
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "%s: an item has an empty key", var);
    for (const char *p = kb; p < ke; p++)
        if (!is_token_char((unsigned char)*p))
            return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                     "%s: key '%.*s' has a character that "
                                     "is not allowed", var,
                                     (int)(ke - kb > 80 ? 80 : ke - kb), kb);
    int bad = 0;
    char *key = strndup(kb, (size_t)(ke - kb));
    char *value = key ? percent_decode(vb, (size_t)(ve - vb), &bad) : NULL;
    if (!value) {
        free(key);
        if (bad)
            return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                     "%s: the value of '%.*s' is not valid "
                                     "percent-encoded text", var,
                                     (int)(ke - kb > 80 ? 80 : ke - kb), kb);
        return strands_error_set(err, STRANDS_E_NOMEM, NULL, "OOM");
    }
    if (kv_put(out, n, key, value))
        return strands_error_set(err, STRANDS_E_NOMEM, NULL, "OOM");
    return STRANDS_OK;
}

strands_status tel_parse_kv_list(const char *var, const char *text,
                                 tel_kv **out, size_t *n, strands_error *err)
{
    *out = NULL;
    *n = 0;
    const char *p = text;
    size_t items = 0;
    while (*p) {
        const char *e = strchr(p, ',');
        if (!e) e = p + strlen(p);
        const char *b = p, *ie = e;
        trim(&b, &ie);
        if (b < ie) {
            strands_status st = STRANDS_OK;
            if (++items > MAX_LIST_ITEMS)
                st = strands_error_set(err, STRANDS_E_INVALID, NULL,
                                       "%s: more than %d items", var,
                                       MAX_LIST_ITEMS);
            if (st == STRANDS_OK) st = parse_item(var, b, ie, out, n, err);
            if (st != STRANDS_OK) {
                tel_kv_free(*out, *n);
                *out = NULL;
                *n = 0;
                return st;
            }
        }
        p = *e ? e + 1 : e;
    }
    return STRANDS_OK;
}

/* ---- Individual settings ------------------------------------------------- */

static strands_status load_endpoint(const env_ctx *e, tel_config *cfg,
                                    int *enabled, strands_error *err)
{
    const char *var = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT";
    const char *v = env_get(e, var);
    int append = 0;
    if (!v) {
        var = "OTEL_EXPORTER_OTLP_ENDPOINT";
        v = env_get(e, var);
        append = 1;
    }
    if (!v) {
        *enabled = 0;
        return STRANDS_OK;
    }
    /* net/url: http(s) only, a host, a valid port, no fragment. Plain
     * http to any host (in-cluster collectors); user info is allowed,
     * as OTLP exporters take it, and never echoed. */
    net_url u;
    strands_status st = net_url_parse(v, NET_URL_ALLOW_USERINFO, var, &u,
                                      err);
    if (st != STRANDS_OK) return st;
    net_url_cleanup(&u);
    size_t len = strlen(v);
    int slash = len && v[len - 1] == '/';
    size_t sz = len + sizeof "/v1/traces";
    cfg->endpoint = malloc(sz);
    if (!cfg->endpoint)
        return strands_error_set(err, STRANDS_E_NOMEM, NULL, "OOM");
    if (append)
        snprintf(cfg->endpoint, sz, "%s%s", v,
                 slash ? "v1/traces" : "/v1/traces");
    else
        snprintf(cfg->endpoint, sz, "%s", v);
    return STRANDS_OK;
}

static strands_status load_protocol(const env_ctx *e, tel_config *cfg,
                                    strands_error *err)
{
    const char *var;
    const char *v = env_pick(e, "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
                             "OTEL_EXPORTER_OTLP_PROTOCOL", &var);
    if (!v || !strcmp(v, "http/protobuf")) {
        cfg->protocol = TEL_PROTO_PROTOBUF;
        return STRANDS_OK;
    }
    if (!strcmp(v, "http/json")) {
        cfg->protocol = TEL_PROTO_JSON;
        return STRANDS_OK;
    }
    if (!strcmp(v, "grpc"))
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "%s: grpc is not supported; use "
                                 "http/protobuf or http/json", var);
    return strands_error_set(err, STRANDS_E_INVALID, NULL,
                             "%s: '%.80s' is not http/protobuf or "
                             "http/json", var, v);
}

static strands_status load_headers(const env_ctx *e, tel_config *cfg,
                                   strands_error *err)
{
    const char *var;
    const char *v = env_pick(e, "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
                             "OTEL_EXPORTER_OTLP_HEADERS", &var);
    if (!v) return STRANDS_OK;
    return tel_parse_kv_list(var, v, &cfg->headers, &cfg->n_headers, err);
}

static strands_status load_resource(const env_ctx *e, tel_config *cfg,
                                    strands_error *err)
{
    const char *v = env_get(e, "OTEL_RESOURCE_ATTRIBUTES");
    tel_kv *attrs = NULL;
    size_t n = 0;
    if (v) {
        strands_status st = tel_parse_kv_list("OTEL_RESOURCE_ATTRIBUTES", v,
                                              &attrs, &n, err);
        if (st != STRANDS_OK) return st;
    }
    /* service.name first: OTEL_SERVICE_NAME, the attribute, the default. */
    const char *svc = env_get(e, "OTEL_SERVICE_NAME");
    for (size_t i = 0; !svc && i < n; i++)
        if (!strcmp(attrs[i].key, "service.name")) svc = attrs[i].value;
    if (!svc) svc = DEFAULT_SERVICE_NAME;
    int fail = kv_put(&cfg->resource, &cfg->n_resource,
                      strdup("service.name"),
                      tel_utf8_dup(svc, strlen(svc)));
    for (size_t i = 0; !fail && i < n; i++) {
        if (!strcmp(attrs[i].key, "service.name")) continue;
        fail = kv_put(&cfg->resource, &cfg->n_resource, strdup(attrs[i].key),
                      tel_utf8_dup(attrs[i].value, strlen(attrs[i].value)));
    }
    tel_kv_free(attrs, n);
    /* The SDK's own attributes describe this code; they win. */
    static const char *const sdk[][2] = {
        {"telemetry.sdk.name", "strands-c"},
        {"telemetry.sdk.language", "c"},
        {"telemetry.sdk.version", STRANDS_VERSION}};
    for (size_t i = 0; !fail && i < sizeof sdk / sizeof sdk[0]; i++)
        fail = kv_put(&cfg->resource, &cfg->n_resource, strdup(sdk[i][0]),
                      strdup(sdk[i][1]));
    return fail ? strands_error_set(err, STRANDS_E_NOMEM, NULL, "OOM")
                : STRANDS_OK;
}

static strands_status load_sampler(const env_ctx *e, tel_config *cfg,
                                   strands_error *err)
{
    static const struct {
        const char *name;
        int parent_based;
        tel_root_sampler root;
    } names[] = {
        {"always_on", 0, TEL_SAMPLE_ALWAYS_ON},
        {"always_off", 0, TEL_SAMPLE_ALWAYS_OFF},
        {"traceidratio", 0, TEL_SAMPLE_RATIO},
        {"parentbased_always_on", 1, TEL_SAMPLE_ALWAYS_ON},
        {"parentbased_always_off", 1, TEL_SAMPLE_ALWAYS_OFF},
        {"parentbased_traceidratio", 1, TEL_SAMPLE_RATIO},
    };
    const char *v = env_get(e, "OTEL_TRACES_SAMPLER");
    /* The specification's default: parentbased_always_on (every new trace
     * is sampled; an upstream "not sampled" is respected). */
    cfg->sampler.parent_based = 1;
    cfg->sampler.root = TEL_SAMPLE_ALWAYS_ON;
    cfg->sampler.ratio = 1.0;
    if (!v) return STRANDS_OK;
    size_t i = 0;
    while (i < sizeof names / sizeof names[0] && strcmp(names[i].name, v)) i++;
    if (i == sizeof names / sizeof names[0])
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "OTEL_TRACES_SAMPLER: '%.80s' is not one of "
                                 "always_on, always_off, traceidratio, "
                                 "parentbased_always_on, "
                                 "parentbased_always_off, "
                                 "parentbased_traceidratio", v);
    cfg->sampler.parent_based = names[i].parent_based;
    cfg->sampler.root = names[i].root;
    if (names[i].root != TEL_SAMPLE_RATIO) return STRANDS_OK;
    const char *arg = env_get(e, "OTEL_TRACES_SAMPLER_ARG");
    if (!arg) return STRANDS_OK; /* the spec's default: 1.0 */
    char *end;
    errno = 0;
    double r = strtod(arg, &end);
    if (errno || end == arg || *end || !isfinite(r) || r < 0.0 || r > 1.0)
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "OTEL_TRACES_SAMPLER_ARG: '%.80s' is not a "
                                 "probability in [0, 1]", arg);
    cfg->sampler.ratio = r;
    return STRANDS_OK;
}

/* An integer setting in [min, max]; *out keeps its default when unset. */
static strands_status load_long(const env_ctx *e, const char *specific,
                                const char *generic, long min, long max,
                                long *out, strands_error *err)
{
    const char *var = specific;
    const char *v = generic ? env_pick(e, specific, generic, &var)
                            : env_get(e, specific);
    if (!v) return STRANDS_OK;
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (errno || end == v || *end || n < min || n > max)
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "%s: '%.80s' is not an integer in %ld..%ld",
                                 var, v, min, max);
    *out = n;
    return STRANDS_OK;
}

static strands_status load_limits(const env_ctx *e, tel_config *cfg,
                                  strands_error *err)
{
    long timeout = 3000, delay = 1000, queue = 2048, batch = 512;
    strands_status st = load_long(e, "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT",
                                  "OTEL_EXPORTER_OTLP_TIMEOUT", 1, 600000,
                                  &timeout, err);
    if (st == STRANDS_OK)
        st = load_long(e, "OTEL_BSP_SCHEDULE_DELAY", NULL, 1, 3600000,
                       &delay, err);
    if (st == STRANDS_OK)
        st = load_long(e, "OTEL_BSP_MAX_QUEUE_SIZE", NULL, 1, 1000000,
                       &queue, err);
    if (st == STRANDS_OK)
        st = load_long(e, "OTEL_BSP_MAX_EXPORT_BATCH_SIZE", NULL, 1, 1000000,
                       &batch, err);
    if (st != STRANDS_OK) return st;
    if (batch > queue)
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "OTEL_BSP_MAX_EXPORT_BATCH_SIZE: %ld is "
                                 "larger than OTEL_BSP_MAX_QUEUE_SIZE (%ld)",
                                 batch, queue);
    cfg->timeout_ms = timeout;
    cfg->connect_timeout_ms = timeout < 1000 ? timeout : 1000;
    cfg->schedule_delay_ms = delay;
    cfg->max_queue = (size_t)queue;
    cfg->max_batch = (size_t)batch;
    return STRANDS_OK;
}

/* Whether tracing is switched off before any endpoint is looked at. */
static strands_status switched_off(const env_ctx *e, int *off,
                                   strands_error *err)
{
    const char *v = env_get(e, "OTEL_SDK_DISABLED");
    *off = v && !strcasecmp(v, "true");
    if (*off) return STRANDS_OK;
    v = env_get(e, "OTEL_TRACES_EXPORTER");
    if (!v || !strcmp(v, "otlp")) return STRANDS_OK;
    if (!strcmp(v, "none")) {
        *off = 1;
        return STRANDS_OK;
    }
    return strands_error_set(err, STRANDS_E_INVALID, NULL,
                             "OTEL_TRACES_EXPORTER: '%.80s' is not "
                             "supported; use otlp or none", v);
}

strands_status tel_config_load(tel_config *cfg, int *enabled,
                               strands_getenv_fn *getenv_fn, void *user,
                               strands_error *err)
{
    env_ctx e = {getenv_fn, user};
    memset(cfg, 0, sizeof *cfg);
    strands_error_clear(err);
    *enabled = 0;
    int off = 0;
    strands_status st = switched_off(&e, &off, err);
    if (st != STRANDS_OK || off) return st;
    *enabled = 1;
    st = load_endpoint(&e, cfg, enabled, err);
    if (st != STRANDS_OK || !*enabled) {
        *enabled = 0;
        tel_config_cleanup(cfg);
        return st;
    }
    if (st == STRANDS_OK) st = load_protocol(&e, cfg, err);
    if (st == STRANDS_OK) st = load_headers(&e, cfg, err);
    if (st == STRANDS_OK) st = load_resource(&e, cfg, err);
    if (st == STRANDS_OK) st = load_sampler(&e, cfg, err);
    if (st == STRANDS_OK) st = load_limits(&e, cfg, err);
    if (st != STRANDS_OK) {
        *enabled = 0;
        tel_config_cleanup(cfg);
    }
    return st;
}
