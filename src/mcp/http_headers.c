/* x-mcp-header (MCP 2026-07-28, Streamable HTTP "Custom Headers from Tool
 * Parameters"): validating a tool's annotations, turning call arguments
 * into Mcp-Param-* lines, and the Base64 sentinel value encoding shared
 * with Mcp-Name.
 *
 * An annotation is valid only on a property schema reached from the root
 * through a chain of "properties" keys alone; one anywhere else (under
 * items, $defs, anyOf/oneOf/allOf, not, if/then/else, additionalProperties,
 * patternProperties, ...) or on the root itself makes the tool invalid.
 * The walk knows which keywords hold subschemas, so a property that is
 * merely NAMED "x-mcp-header", or such a key inside const/enum/default
 * values, is not mistaken for an annotation.                            */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "mcp/http_headers.h"
#include "mcp/transport.h"
#include "net/base64.h"

#define MAX_DEPTH 32           /* schema nesting we walk */
#define MAX_ANNOTATIONS 64     /* x-mcp-header annotations per tool */
#define MAX_HEADER_NAME 128    /* bytes of one x-mcp-header value */
#define SAFE_INT_MAX 9007199254740991LL /* 2^53 - 1 */

static const char SENTINEL_OPEN[] = "=?base64?";
static const char SENTINEL_CLOSE[] = "?=";

/* ---- value encoding ---------------------------------------------------- */

char *mcp_http_encode_value(const char *s, size_t len)
{
    int plain = len > 0 && s[0] != ' ' && s[len - 1] != ' ';
    for (size_t i = 0; plain && i < len; i++)
        if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
            plain = 0;
    size_t ol = sizeof SENTINEL_OPEN - 1, cl = sizeof SENTINEL_CLOSE - 1;
    if (plain && len >= ol + cl && !memcmp(s, SENTINEL_OPEN, ol) &&
        !memcmp(s + len - cl, SENTINEL_CLOSE, cl))
        plain = 0; /* would read as encoded: encode it */
    if (plain) return strndup(s, len);
    size_t blen = 0;
    char *b = net_base64_encode(s, len, &blen);
    if (!b) return NULL;
    char *out = malloc(ol + blen + cl + 1);
    if (out) {
        memcpy(out, SENTINEL_OPEN, ol);
        memcpy(out + ol, b, blen);
        memcpy(out + ol + blen, SENTINEL_CLOSE, cl + 1);
    }
    free(b);
    return out;
}

/* RFC 9110 tchar. */
static int is_tchar(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
           (c >= 'A' && c <= 'Z') || (c && strchr("!#$%&'*+-.^_`|~", c));
}

int mcp_http_header_line_ok(const char *line)
{
    const unsigned char *p = (const unsigned char *)line;
    if (!p || !is_tchar(*p)) return 0;
    while (is_tchar(*p)) p++;
    if (*p++ != ':') return 0;
    for (; *p; p++)
        if ((*p < 0x20 && *p != '\t') || *p == 0x7f) return 0;
    return 1;
}

/* ---- the annotation walk ----------------------------------------------- */

typedef struct annotation {
    const char *header;              /* the x-mcp-header value */
    const char *path[MAX_DEPTH + 1]; /* property names from the root */
    size_t depth;
} annotation;

typedef struct walk {
    annotation *list;                /* MAX_ANNOTATIONS entries */
    size_t n;
    const char *path[MAX_DEPTH + 1];
    strands_error *err;
} walk;

/* "a.b.c" for the current path (for messages). */
static void path_text(const char *const *path, size_t depth, char *out,
                      size_t cap)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < depth && used + 1 < cap; i++) {
        int w = snprintf(out + used, cap - used, "%s%s", i ? "." : "",
                         path[i]);
        if (w < 0) break;
        used += (size_t)w;
    }
    if (!depth) snprintf(out, cap, "(the root)");
}

static int primitive_type_name(const char *t, int *non_null)
{
    if (!strcmp(t, "null")) return 1;
    if (!strcmp(t, "string") || !strcmp(t, "integer") ||
        !strcmp(t, "boolean")) {
        (*non_null)++;
        return 1;
    }
    return 0;
}

/* The annotated property must be a string, integer or boolean ("null"
 * may join them in a type list: a null value just omits the header).  */
static int primitive_type(const json_t *schema)
{
    const json_t *t = json_object_get(schema, "type");
    int non_null = 0;
    if (json_is_string(t))
        return primitive_type_name(json_string_value(t), &non_null) &&
               non_null;
    if (!json_is_array(t) || !json_array_size(t)) return 0;
    size_t i;
    const json_t *v;
    json_array_foreach(t, i, v) {
        if (!json_is_string(v) ||
            !primitive_type_name(json_string_value(v), &non_null))
            return 0;
    }
    return non_null > 0;
}

static strands_status bad(walk *w, size_t depth, const char *what)
{
    char where[256];
    path_text(w->path, depth, where, sizeof where);
    return strands_error_set(w->err, STRANDS_E_INVALID, "InvalidToolSchema",
                             "x-mcp-header at %s: %s", where, what);
}

static strands_status check_annotation(walk *w, const json_t *schema,
                                       const json_t *x, int reachable,
                                       size_t depth)
{
    if (!reachable || depth == 0)
        return bad(w, depth, "allowed only on a property reached from the "
                             "root through \"properties\" alone");
    if (!json_is_string(x)) return bad(w, depth, "must be a string");
    const char *h = json_string_value(x);
    size_t len = json_string_length(x);
    if (len == 0) return bad(w, depth, "must not be empty");
    if (len > MAX_HEADER_NAME)
        return bad(w, depth, "longer than 128 bytes");
    for (size_t i = 0; i < len; i++)
        if (!is_tchar((unsigned char)h[i]))
            return bad(w, depth, "must be an HTTP token (RFC 9110 tchar "
                                 "characters only)");
    if (!primitive_type(schema))
        return bad(w, depth, "the property's type must be string, integer "
                             "or boolean");
    for (size_t i = 0; i < w->n; i++)
        if (!strcasecmp(w->list[i].header, h))
            return bad(w, depth, "the same header name is used twice "
                                 "(names compare case-insensitively)");
    if (w->n == MAX_ANNOTATIONS)
        return bad(w, depth, "more than 64 annotations in one tool");
    annotation *a = &w->list[w->n++];
    a->header = h;
    a->depth = depth;
    memcpy(a->path, w->path, depth * sizeof *a->path);
    return STRANDS_OK;
}

static strands_status walk_schema(walk *w, const json_t *s, int reachable,
                                  size_t depth);

/* Every value of an object keyword is a subschema ($defs, ...). */
static strands_status walk_map(walk *w, const json_t *m, size_t depth)
{
    const char *k;
    json_t *v;
    if (!json_is_object(m)) return STRANDS_OK;
    json_object_foreach((json_t *)m, k, v) {
        strands_status st = walk_schema(w, v, 0, depth);
        if (st != STRANDS_OK) return st;
    }
    return STRANDS_OK;
}

/* One subschema, or an array of them (items, allOf, ...). */
static strands_status walk_any(walk *w, const json_t *v, size_t depth)
{
    if (json_is_array(v)) {
        size_t i;
        json_t *e;
        json_array_foreach(v, i, e) {
            strands_status st = walk_schema(w, e, 0, depth);
            if (st != STRANDS_OK) return st;
        }
        return STRANDS_OK;
    }
    return walk_schema(w, v, 0, depth);
}

static strands_status walk_schema(walk *w, const json_t *s, int reachable,
                                  size_t depth)
{
    static const char *const maps[] = {"patternProperties", "$defs",
                                       "definitions", "dependentSchemas"};
    static const char *const subs[] = {
        "additionalProperties", "items", "prefixItems", "contains", "not",
        "if", "then", "else", "propertyNames", "unevaluatedProperties",
        "unevaluatedItems", "additionalItems", "allOf", "anyOf", "oneOf"};
    if (!json_is_object(s)) return STRANDS_OK; /* true/false schemas */
    if (depth > MAX_DEPTH)
        return strands_error_set(w->err, STRANDS_E_INVALID,
                                 "InvalidToolSchema",
                                 "inputSchema nested deeper than %d levels",
                                 MAX_DEPTH);
    const json_t *x = json_object_get(s, "x-mcp-header");
    if (x) {
        strands_status st = check_annotation(w, s, x, reachable, depth);
        if (st != STRANDS_OK) return st;
    }
    const json_t *props = json_object_get(s, "properties");
    if (json_is_object(props)) {
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)props, k, v) {
            if (depth < MAX_DEPTH) w->path[depth] = k;
            strands_status st = walk_schema(w, v, reachable, depth + 1);
            if (st != STRANDS_OK) return st;
        }
    }
    for (size_t i = 0; i < sizeof maps / sizeof *maps; i++) {
        strands_status st =
            walk_map(w, json_object_get(s, maps[i]), depth + 1);
        if (st != STRANDS_OK) return st;
    }
    for (size_t i = 0; i < sizeof subs / sizeof *subs; i++) {
        const json_t *v = json_object_get(s, subs[i]);
        if (!v) continue;
        strands_status st = walk_any(w, v, depth + 1);
        if (st != STRANDS_OK) return st;
    }
    return STRANDS_OK;
}

static strands_status run_walk(const json_t *schema, annotation *list,
                               size_t *n, strands_error *err)
{
    walk w = {.list = list, .err = err};
    strands_status st = STRANDS_OK;
    if (schema && !json_is_object(schema) && !json_is_boolean(schema))
        st = strands_error_set(err, STRANDS_E_INVALID, "InvalidToolSchema",
                               "inputSchema is not a JSON object");
    else
        st = walk_schema(&w, schema, 1, 0);
    *n = w.n;
    return st;
}

strands_status mcp_http_check_param_annotations(const json_t *tool_schema,
                                                strands_error *err)
{
    annotation *list = calloc(MAX_ANNOTATIONS, sizeof *list);
    if (!list)
        return strands_error_set(err, STRANDS_E_NOMEM, NULL,
                                 "out of memory checking x-mcp-header");
    size_t n = 0;
    strands_status st = run_walk(tool_schema, list, &n, err);
    free(list);
    return st;
}

/* ---- argument values -> header lines ----------------------------------- */

void mcp_header_lines_free(char **lines)
{
    if (!lines) return;
    /* Lines may carry forwarded credentials: wiped before they go back. */
    for (char **p = lines; *p; p++) {
        OPENSSL_cleanse(*p, strlen(*p));
        free(*p);
    }
    free(lines);
}

/* The value at a's path in args, or NULL when absent (or null). */
static const json_t *value_at(const json_t *args, const annotation *a)
{
    const json_t *v = args;
    for (size_t i = 0; i < a->depth; i++) {
        if (!json_is_object(v)) return NULL;
        v = json_object_get(v, a->path[i]);
    }
    return json_is_null(v) ? NULL : v;
}

/* The header text of one argument value: *out a new string. */
static strands_status value_text(const json_t *v, const annotation *a,
                                 char **out, strands_error *err)
{
    char num[32];
    const char *s = NULL;
    size_t len = 0;
    char where[256];
    path_text(a->path, a->depth, where, sizeof where);
    if (json_is_string(v)) {
        s = json_string_value(v);
        len = json_string_length(v);
    } else if (json_is_boolean(v)) {
        s = json_is_true(v) ? "true" : "false";
        len = strlen(s);
    } else if (json_is_integer(v) ||
               (json_is_real(v) && json_real_value(v) >= -SAFE_INT_MAX &&
                json_real_value(v) <= SAFE_INT_MAX &&
                json_real_value(v) == (double)(long long)json_real_value(v))) {
        long long i = json_is_integer(v) ? (long long)json_integer_value(v)
                                         : (long long)json_real_value(v);
        if (i > SAFE_INT_MAX || i < -SAFE_INT_MAX)
            return strands_error_set(err, STRANDS_E_INVALID,
                                     "InvalidArgument",
                                     "argument %s (header Mcp-Param-%s) is "
                                     "outside the safe integer range "
                                     "(+-(2^53-1))", where, a->header);
        len = (size_t)snprintf(num, sizeof num, "%lld", i);
        s = num;
    } else {
        return strands_error_set(err, STRANDS_E_INVALID, "InvalidArgument",
                                 "argument %s (header Mcp-Param-%s) must be "
                                 "a string, integer or boolean", where,
                                 a->header);
    }
    char *enc = mcp_http_encode_value(s, len);
    if (!enc)
        return strands_error_set(err, STRANDS_E_NOMEM, NULL,
                                 "out of memory encoding a header value");
    if (strlen(enc) > MCP_HTTP_MAX_HEADER_VALUE) {
        free(enc);
        return strands_error_set(err, STRANDS_E_TOO_LARGE, "InvalidArgument",
                                 "argument %s (header Mcp-Param-%s) is too "
                                 "long for an HTTP header (over %u bytes "
                                 "encoded)", where, a->header,
                                 MCP_HTTP_MAX_HEADER_VALUE);
    }
    *out = enc;
    return STRANDS_OK;
}

strands_status mcp_http_param_headers(const json_t *tool_schema,
                                      const json_t *arguments,
                                      char ***lines_out, size_t *n_out,
                                      strands_error *err)
{
    *lines_out = NULL;
    *n_out = 0;
    annotation *list = calloc(MAX_ANNOTATIONS, sizeof *list);
    char **lines = calloc(MAX_ANNOTATIONS + 1, sizeof *lines);
    size_t n = 0, nl = 0;
    strands_status st = STRANDS_OK;
    if (!list || !lines)
        st = strands_error_set(err, STRANDS_E_NOMEM, NULL,
                               "out of memory building Mcp-Param headers");
    if (st == STRANDS_OK) st = run_walk(tool_schema, list, &n, err);
    for (size_t i = 0; st == STRANDS_OK && i < n; i++) {
        const json_t *v = value_at(arguments, &list[i]);
        if (!v) continue; /* absent or null: no header */
        char *enc = NULL;
        st = value_text(v, &list[i], &enc, err);
        if (st != STRANDS_OK) break;
        size_t ll = strlen("Mcp-Param-: ") + strlen(list[i].header) +
                    strlen(enc) + 1;
        char *line = malloc(ll);
        if (line) snprintf(line, ll, "Mcp-Param-%s: %s", list[i].header, enc);
        free(enc);
        if (!line) {
            st = strands_error_set(err, STRANDS_E_NOMEM, NULL,
                                   "out of memory building Mcp-Param "
                                   "headers");
            break;
        }
        lines[nl++] = line;
    }
    free(list);
    if (st != STRANDS_OK) {
        mcp_header_lines_free(lines);
        return st;
    }
    *lines_out = lines;
    *n_out = nl;
    return STRANDS_OK;
}
