/* Checking the shape of a JSON Schema (see schema_check.h): one walk over
 * the schema, keyword by keyword, stopping at the first problem; the
 * path lives in a fixed buffer, recursion is capped at SCHEMA_MAX_DEPTH. */
#include <math.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/schema.h"
#include "tools/schema_check.h"
#include "tools/schema_path.h"

typedef struct cctx {
    const json_t *root;
    char *why;
    size_t whysz;
    schema_path path;
    strands_status st;   /* E_INVALID, or E_NOMEM from regcomp */
} cctx;

static int bad(cctx *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int bad(cctx *c, const char *fmt, ...)
{
    if (c->st == STRANDS_OK) c->st = STRANDS_E_INVALID;
    va_list ap;
    va_start(ap, fmt);
    schema_path_vwhy(&c->path, c->why, c->whysz, fmt, ap);
    va_end(ap);
    return -1;
}

static int type_known(const json_t *t)
{
    static const char *const names[] = {"object", "array", "string",
                                        "number", "integer", "boolean",
                                        "null", NULL};
    const char *s = json_string_value(t);
    for (const char *const *n = names; s && *n; n++)
        if (!strcmp(*n, s)) return 1;
    return 0;
}

static int check(cctx *c, const json_t *s, int depth);

/* "{m}", "{m,}" or "{m,n}" at p: 1 with the bound in *n (n, else m,
 * else m+1 for "{m,}"; at least 1) and *end at the closing brace; 0 for
 * a literal '{'. */
static int brace_bound(const char *p, long *n, const char **end)
{
    char *e;
    long m = strtol(p + 1, &e, 10), hi = m;
    if (e == p + 1 || *e == '-' || p[1] == '-' || p[1] == '+') return 0;
    if (*e == ',') {
        char *e2;
        hi = strtol(e + 1, &e2, 10);
        if (e2 == e + 1) hi = m + 1;
        e = e2;
    }
    if (*e != '}') return 0;
    *n = hi < 1 ? 1 : hi;
    *end = e;
    return 1;
}

/* What a pattern costs glibc's regcomp, which expands every bounded
 * repeat: each atom counts 1, a group the sum of its contents, "{m,n}"
 * multiplies the atom before it by its bound (n, else m, else m+1 for
 * "{m,}") and "+" by 2 ("X+" is "XX*": "a++++..." doubles each time); saturates at SCHEMA_CHECK_PATTERN_WEIGHT + 1. Sets *backref
 * when the pattern uses a back-reference (\1..\9: exponential matching). */
static long pattern_weight(const char *p, int *backref)
{
    enum { MAXNEST = 64 };
    const long cap = SCHEMA_CHECK_PATTERN_WEIGHT + 1;
    long sum[MAXNEST + 1] = {0};
    int top = 0;
    long last = 0;           /* weight of the atom just seen */
    long n;
    *backref = 0;
    for (; *p; p++) {
        long atom = 1;
        if (*p == '\\') {
            if (p[1] >= '1' && p[1] <= '9') *backref = 1;
            if (p[1]) p++;
        } else if (*p == '[') {
            const char *q = p + 1;
            if (*q == '^') q++;
            if (*q == ']') q++;
            while (*q && *q != ']') {
                if (*q == '[' && (q[1] == ':' || q[1] == '.' ||
                                  q[1] == '=')) {
                    const char *e = strchr(q + 2, q[1]);
                    q = e && e[1] == ']' ? e + 2 : q + 1;
                } else {
                    q++;
                }
            }
            p = *q ? q : q - 1;
        } else if (*p == '(') {
            if (top == MAXNEST) return cap;
            sum[++top] = 0;
            last = 0;
            continue;
        } else if (*p == ')' && top > 0) {
            atom = sum[top--];
            if (atom < 1) atom = 1;
        } else if (*p == '*' || *p == '?') {
            continue;        /* loops over the same atom: no copy */
        } else if (*p == '+') {
            /* "X+" compiles as "XX*": the atom is copied. */
            sum[top] = sum[top] + last > cap ? cap : sum[top] + last;
            last = last > cap / 2 ? cap : last * 2;
            continue;
        } else if (*p == '{' && brace_bound(p, &n, &p)) {
            long extra = n > cap || last > cap / n ? cap : last * (n - 1);
            sum[top] = sum[top] + extra > cap ? cap : sum[top] + extra;
            last = n > cap || last > cap / n ? cap : last * n;
            continue;
        }
        sum[top] = sum[top] + atom > cap ? cap : sum[top] + atom;
        last = atom;
    }
    while (top > 0) {        /* unclosed groups: regcomp refuses them */
        long inner = sum[top--];
        sum[top] = sum[top] + inner > cap ? cap : sum[top] + inner;
    }
    return sum[0];
}

/* A keyword whose value is an object of subschemas. */
static int check_map(cctx *c, const json_t *s, const char *kw, int depth)
{
    const json_t *m = json_object_get(s, kw);
    if (!m) return 0;
    size_t old = schema_path_push(&c->path, ".%s", kw);
    if (!json_is_object(m)) return bad(c, "must be an object");
    const char *k;
    const json_t *sub;
    json_object_foreach((json_t *)m, k, sub) {
        size_t o2 = schema_path_push(&c->path, ".%.60s", k);
        if (check(c, sub, depth + 1)) return -1;
        schema_path_pop(&c->path, o2);
    }
    schema_path_pop(&c->path, old);
    return 0;
}

/* A keyword whose value is a non-empty array of subschemas. */
static int check_list(cctx *c, const json_t *s, const char *kw, int depth)
{
    const json_t *l = json_object_get(s, kw);
    if (!l) return 0;
    size_t old = schema_path_push(&c->path, ".%s", kw);
    if (!json_is_array(l) || !json_array_size(l))
        return bad(c, "must be a non-empty array of schemas");
    size_t i;
    const json_t *sub;
    json_array_foreach(l, i, sub) {
        size_t o2 = schema_path_push(&c->path, "[%zu]", i);
        if (check(c, sub, depth + 1)) return -1;
        schema_path_pop(&c->path, o2);
    }
    schema_path_pop(&c->path, old);
    return 0;
}

static int check_one(cctx *c, const json_t *s, const char *kw, int depth)
{
    const json_t *sub = json_object_get(s, kw);
    if (!sub) return 0;
    size_t old = schema_path_push(&c->path, ".%s", kw);
    if (check(c, sub, depth + 1)) return -1;
    schema_path_pop(&c->path, old);
    return 0;
}

static int check_type(cctx *c, const json_t *t)
{
    size_t old = schema_path_push(&c->path, ".type");
    if (json_is_array(t)) {
        size_t i;
        const json_t *e;
        json_array_foreach(t, i, e) {
            if (!type_known(e)) break;
        }
        if (json_array_size(t) && i == json_array_size(t)) {
            schema_path_pop(&c->path, old);
            return 0;
        }
    } else if (type_known(t)) {
        schema_path_pop(&c->path, old);
        return 0;
    }
    return bad(c, "must be one of object, array, string, number, integer, "
                  "boolean, null (or an array of them)");
}

static int check_scalars(cctx *c, const json_t *s)
{
    size_t old = c->path.len;
    static const char *const counts[] = {"minItems", "maxItems",
                                         "minLength", "maxLength", NULL};
    static const char *const bounds[] = {"minimum", "maximum",
                                         "exclusiveMinimum",
                                         "exclusiveMaximum", NULL};
    for (const char *const *k = counts; *k; k++) {
        const json_t *v = json_object_get(s, *k);
        double d = json_is_number(v) ? json_number_value(v) : -1;
        if (v && (d < 0 || d != floor(d)))
            return schema_path_push(&c->path, ".%s", *k),
                   bad(c, "must be a non-negative integer");
    }
    for (const char *const *k = bounds; *k; k++) {
        const json_t *v = json_object_get(s, *k);
        if (v && !json_is_number(v))
            return schema_path_push(&c->path, ".%s", *k), bad(c, "must be a number");
    }
    const json_t *v = json_object_get(s, "required");
    if (v) {
        size_t i;
        const json_t *e;
        if (!json_is_array(v))
            return schema_path_push(&c->path, ".required"), bad(c, "must be an array of "
                                                "property names");
        json_array_foreach(v, i, e) {
            if (!json_is_string(e))
                return schema_path_push(&c->path, ".required[%zu]", i),
                       bad(c, "must be a string");
        }
    }
    v = json_object_get(s, "enum");
    if (v && (!json_is_array(v) || !json_array_size(v)))
        return schema_path_push(&c->path, ".enum"), bad(c, "must be a non-empty array");
    if ((v = json_object_get(s, "pattern"))) {
        schema_path_push(&c->path, ".pattern");
        if (!json_is_string(v)) return bad(c, "must be a string");
        int backref = 0;
        if (pattern_weight(json_string_value(v), &backref) >
            SCHEMA_CHECK_PATTERN_WEIGHT)
            return bad(c, "is too costly to compile (bounded repeats "
                          "expand to more than %d atoms)",
                       SCHEMA_CHECK_PATTERN_WEIGHT);
        if (backref)
            return bad(c, "must not use back-references (\\1..\\9)");
        regex_t re;
        int rc = regcomp(&re, json_string_value(v), REG_EXTENDED | REG_NOSUB);
        if (rc == REG_ESPACE) {
            c->st = STRANDS_E_NOMEM;
            return bad(c, "could not be compiled: out of memory");
        }
        if (rc) {
            char msg[128];
            regerror(rc, &re, msg, sizeof msg);
            return bad(c, "is not a valid POSIX extended regular "
                          "expression: %s", msg);
        }
        regfree(&re);
        schema_path_pop(&c->path, old);
    }
    if ((v = json_object_get(s, "$ref"))) {
        schema_path_push(&c->path, ".$ref");
        if (!json_is_string(v)) return bad(c, "must be a string");
        if (!schema_ref_resolve(c->root, json_string_value(v)))
            return bad(c, "does not resolve (supported: \"#\", "
                          "\"#/$defs/<name>\", \"#/definitions/<name>\")");
        schema_path_pop(&c->path, old);
    }
    return 0;
}

static int check(cctx *c, const json_t *s, int depth)
{
    if (json_is_boolean(s)) return 0;
    if (!json_is_object(s)) return bad(c, "must be a schema (an object or "
                                          "a boolean)");
    if (depth > SCHEMA_MAX_DEPTH)
        return bad(c, "is nested too deeply (maximum depth %d)",
                   SCHEMA_MAX_DEPTH);
    size_t old = c->path.len;
    const json_t *t = json_object_get(s, "type");
    if (t && check_type(c, t)) return -1;
    if (check_scalars(c, s)) return -1;
    schema_path_pop(&c->path, old);
    if (check_map(c, s, "properties", depth) ||
        check_map(c, s, "$defs", depth) ||
        check_map(c, s, "definitions", depth) ||
        check_one(c, s, "additionalProperties", depth) ||
        check_one(c, s, "items", depth) ||
        check_list(c, s, "anyOf", depth) ||
        check_list(c, s, "oneOf", depth) ||
        check_list(c, s, "allOf", depth))
        return -1;
    return 0;
}

strands_status schema_check(const json_t *schema, const char *name,
                            char *why, size_t whysz)
{
    cctx c = {.root = schema, .why = why, .whysz = whysz};
    if (why && whysz) why[0] = '\0';
    schema_path_push(&c.path, "%.60s", name ? name : "schema");
    if (!schema) return bad(&c, "is missing"), c.st;
    return check(&c, schema, 0) ? c.st : STRANDS_OK;
}
