/* JSON Schema (draft 2020-12 subset) validation of tool inputs: walks the
 * schema and the instance together, stops at the first violation and
 * describes it as "<path> <rule>". The path lives in a fixed buffer, the
 * message in the caller's; recursion is capped at SCHEMA_MAX_DEPTH.      */
#include <math.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "tools/schema.h"
#include "tools/schema_path.h"

#define SHOW_MAX 120     /* bytes of an enum/const/pattern shown */

typedef struct vctx {
    const json_t *root;
    char *why;
    size_t whysz;
    int quiet;           /* > 0: inside anyOf/oneOf, no message */
    schema_path path;
    long steps;          /* subschemas visited so far */
} vctx;

static int validate(vctx *c, const json_t *s, const json_t *inst, int depth);

/* Records the violation (unless quiet) and returns -1. */
static int fail(vctx *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int fail(vctx *c, const char *fmt, ...)
{
    if (c->quiet || !c->why || !c->whysz) return -1;
    va_list ap;
    va_start(ap, fmt);
    schema_path_vwhy(&c->path, c->why, c->whysz, fmt, ap);
    va_end(ap);
    return -1;
}

static const char *type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "object";
    case JSON_ARRAY: return "array";
    case JSON_STRING: return "string";
    case JSON_INTEGER: return "integer";
    case JSON_REAL: return "number";
    case JSON_TRUE:
    case JSON_FALSE: return "boolean";
    default: return "null";
    }
}

static int is_type(const json_t *v, const char *t)
{
    if (!strcmp(t, "object")) return json_is_object(v);
    if (!strcmp(t, "array")) return json_is_array(v);
    if (!strcmp(t, "string")) return json_is_string(v);
    if (!strcmp(t, "number")) return json_is_number(v);
    if (!strcmp(t, "boolean")) return json_is_boolean(v);
    if (!strcmp(t, "null")) return json_is_null(v);
    if (!strcmp(t, "integer")) {
        if (json_is_integer(v)) return 1;
        if (!json_is_real(v)) return 0;
        double d = json_real_value(v);
        return isfinite(d) && floor(d) == d;
    }
    return 1; /* an unknown type name constrains nothing */
}

/* JSON Schema equality: numbers by value (1 == 1.0), the rest deep. */
static int json_eq(const json_t *a, const json_t *b, int depth)
{
    if (json_is_number(a) && json_is_number(b)) {
        if (json_is_integer(a) && json_is_integer(b))
            return json_integer_value(a) == json_integer_value(b);
        return json_number_value(a) == json_number_value(b);
    }
    if (json_typeof(a) != json_typeof(b) || depth > SCHEMA_MAX_DEPTH)
        return 0;
    if (json_is_array(a)) {
        size_t n = json_array_size(a);
        if (n != json_array_size(b)) return 0;
        for (size_t i = 0; i < n; i++)
            if (!json_eq(json_array_get(a, i), json_array_get(b, i),
                         depth + 1))
                return 0;
        return 1;
    }
    if (json_is_object(a)) {
        if (json_object_size(a) != json_object_size(b)) return 0;
        const char *k;
        const json_t *v;
        json_object_foreach((json_t *)a, k, v) {
            const json_t *w = json_object_get(b, k);
            if (!w || !json_eq(v, w, depth + 1)) return 0;
        }
        return 1;
    }
    return json_equal(a, b);
}

/* Compact JSON of v, cut to SHOW_MAX bytes with "..." (into buf). */
static const char *show(const json_t *v, char *buf, size_t bufsz)
{
    size_t n = json_dumpb(v, buf, bufsz - 1, JSON_COMPACT | JSON_ENCODE_ANY);
    if (n == 0) {
        snprintf(buf, bufsz, "?");
    } else if (n > bufsz - 1) {
        size_t cut = bufsz - 4;
        while (cut > 0 && ((unsigned char)buf[cut] & 0xC0) == 0x80) cut--;
        memcpy(buf + cut, "...", 4);
    } else {
        buf[n] = '\0';
    }
    return buf;
}

static size_t utf8_length(const char *s, size_t n)
{
    size_t cps = 0;
    for (size_t i = 0; i < n; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80) cps++;
    return cps;
}

/* A non-negative integer keyword, or -1 when absent/not one. */
static double count_kw(const json_t *s, const char *kw)
{
    const json_t *v = json_object_get(s, kw);
    return json_is_number(v) && json_number_value(v) >= 0
               ? json_number_value(v)
               : -1;
}

const json_t *schema_ref_resolve(const json_t *root, const char *ref)
{
    if (!strcmp(ref, "#")) return root;
    const char *name;
    const json_t *defs;
    if (!strncmp(ref, "#/$defs/", 8)) {
        name = ref + 8;
        defs = json_object_get(root, "$defs");
    } else if (!strncmp(ref, "#/definitions/", 14)) {
        name = ref + 14;
        defs = json_object_get(root, "definitions");
    } else {
        return NULL;
    }
    /* JSON Pointer escapes: ~1 is '/', ~0 is '~'; no further segments. */
    char key[256];
    size_t k = 0;
    for (const char *p = name; *p; p++) {
        if (*p == '/' || k + 1 >= sizeof key) return NULL;
        if (*p == '~' && (p[1] == '0' || p[1] == '1')) {
            key[k++] = p[1] == '0' ? '~' : '/';
            p++;
        } else {
            key[k++] = *p;
        }
    }
    key[k] = '\0';
    return json_object_get(defs, key);
}

static int check_type(vctx *c, const json_t *t, const json_t *inst)
{
    if (json_is_string(t)) {
        if (is_type(inst, json_string_value(t))) return 0;
        return fail(c, "must be %s %s, not %s",
                    strchr("aeiou", json_string_value(t)[0]) &&
                            json_string_value(t)[0]
                        ? "an"
                        : "a",
                    json_string_value(t), type_name(inst));
    }
    if (!json_is_array(t) || json_array_size(t) == 0) return 0;
    size_t i;
    const json_t *e;
    char list[SHOW_MAX + 4];
    json_array_foreach(t, i, e) {
        if (!json_is_string(e) || is_type(inst, json_string_value(e)))
            return 0;
    }
    return fail(c, "must be one of the types %s, not %s",
                show(t, list, sizeof list), type_name(inst));
}

static int check_object(vctx *c, const json_t *s, const json_t *inst,
                        int depth)
{
    const json_t *req = json_object_get(s, "required");
    size_t i;
    const json_t *r;
    json_array_foreach(req, i, r) {
        if (!json_is_string(r) ||
            json_object_get(inst, json_string_value(r)))
            continue;
        size_t old = schema_path_push(&c->path, ".%s", json_string_value(r));
        fail(c, "is required");
        schema_path_pop(&c->path, old);
        return -1;
    }
    const json_t *props = json_object_get(s, "properties");
    const json_t *extra = json_object_get(s, "additionalProperties");
    const char *k;
    const json_t *v;
    json_object_foreach((json_t *)inst, k, v) {
        const json_t *sub = json_object_get(props, k);
        if (!sub) sub = extra;
        if (!sub) continue;
        size_t old = schema_path_push(&c->path, ".%s", k);
        int rc;
        if (json_is_false(sub) && sub == extra)
            rc = fail(c, "is not allowed (no additional properties)");
        else
            rc = validate(c, sub, v, depth + 1);
        schema_path_pop(&c->path, old);
        if (rc) return -1;
    }
    return 0;
}

static int check_array(vctx *c, const json_t *s, const json_t *inst,
                       int depth)
{
    size_t n = json_array_size(inst);
    double min = count_kw(s, "minItems"), max = count_kw(s, "maxItems");
    if (min >= 0 && (double)n < min)
        return fail(c, "must have at least %.0f items, not %zu", min, n);
    if (max >= 0 && (double)n > max)
        return fail(c, "must have at most %.0f items, not %zu", max, n);
    const json_t *items = json_object_get(s, "items");
    if (!items) return 0;
    size_t i;
    const json_t *e;
    json_array_foreach(inst, i, e) {
        size_t old = schema_path_push(&c->path, "[%zu]", i);
        int rc = validate(c, items, e, depth + 1);
        schema_path_pop(&c->path, old);
        if (rc) return -1;
    }
    return 0;
}

static int check_string(vctx *c, const json_t *s, const json_t *inst)
{
    size_t len = utf8_length(json_string_value(inst),
                             json_string_length(inst));
    double min = count_kw(s, "minLength"), max = count_kw(s, "maxLength");
    if (min >= 0 && (double)len < min)
        return fail(c, "must be at least %.0f characters long, not %zu",
                    min, len);
    if (max >= 0 && (double)len > max)
        return fail(c, "must be at most %.0f characters long, not %zu", max,
                    len);
    const json_t *pat = json_object_get(s, "pattern");
    if (!json_is_string(pat)) return 0;
    regex_t re;
    if (regcomp(&re, json_string_value(pat), REG_EXTENDED | REG_NOSUB) != 0)
        return 0; /* documented: an uncompilable pattern is ignored */
    int match = regexec(&re, json_string_value(inst), 0, NULL, 0) == 0;
    regfree(&re);
    if (match) return 0;
    return fail(c, "must match pattern '%.*s'", SHOW_MAX,
                json_string_value(pat));
}

static int check_number(vctx *c, const json_t *s, const json_t *inst)
{
    double x = json_number_value(inst);
    char b[SHOW_MAX + 4];
    const json_t *v;
    if (json_is_number(v = json_object_get(s, "minimum")) &&
        x < json_number_value(v))
        return fail(c, "must be at least %s", show(v, b, sizeof b));
    if (json_is_number(v = json_object_get(s, "maximum")) &&
        x > json_number_value(v))
        return fail(c, "must be at most %s", show(v, b, sizeof b));
    if (json_is_number(v = json_object_get(s, "exclusiveMinimum")) &&
        x <= json_number_value(v))
        return fail(c, "must be greater than %s", show(v, b, sizeof b));
    if (json_is_number(v = json_object_get(s, "exclusiveMaximum")) &&
        x >= json_number_value(v))
        return fail(c, "must be less than %s", show(v, b, sizeof b));
    return 0;
}

/* anyOf / oneOf: the branches run quietly; returns how many matched,
 * stopping early once `enough` did (0: count all).                     */
static size_t count_matches(vctx *c, const json_t *list, const json_t *inst,
                            int depth, size_t enough)
{
    size_t matched = 0, i;
    const json_t *sub;
    c->quiet++;
    json_array_foreach(list, i, sub) {
        if (validate(c, sub, inst, depth + 1) == 0 && ++matched == enough)
            break;
    }
    c->quiet--;
    return matched;
}

static int validate(vctx *c, const json_t *s, const json_t *inst, int depth)
{
    if (!s || json_is_true(s)) return 0;
    /* A budget, so combinators over recursive $refs cannot take
     * exponential time (such schemas may come from callers). */
    if (++c->steps > SCHEMA_MAX_STEPS) return -1;
    if (json_is_false(s)) return fail(c, "is not allowed");
    if (!json_is_object(s)) return 0;
    if (depth > SCHEMA_MAX_DEPTH)
        return fail(c, "is nested too deeply for the schema (maximum depth "
                       "%d)", SCHEMA_MAX_DEPTH);

    const json_t *v = json_object_get(s, "$ref");
    if (json_is_string(v)) {
        const json_t *target =
            schema_ref_resolve(c->root, json_string_value(v));
        if (target && validate(c, target, inst, depth + 1)) return -1;
    }
    if ((v = json_object_get(s, "type")) && check_type(c, v, inst))
        return -1;
    char b[SHOW_MAX + 4];
    if ((v = json_object_get(s, "const")) && !json_eq(v, inst, 0))
        return fail(c, "must be equal to %s", show(v, b, sizeof b));
    if (json_is_array(v = json_object_get(s, "enum"))) {
        size_t i;
        const json_t *e;
        int found = 0;
        json_array_foreach(v, i, e) {
            if (json_eq(e, inst, 0)) {
                found = 1;
                break;
            }
        }
        if (!found)
            return fail(c, "must be one of %s", show(v, b, sizeof b));
    }
    if (json_is_object(inst) && check_object(c, s, inst, depth)) return -1;
    if (json_is_array(inst) && check_array(c, s, inst, depth)) return -1;
    if (json_is_string(inst) && check_string(c, s, inst)) return -1;
    if (json_is_number(inst) && check_number(c, s, inst)) return -1;

    size_t i;
    const json_t *sub;
    json_array_foreach(json_object_get(s, "allOf"), i, sub) {
        if (validate(c, sub, inst, depth + 1)) return -1;
    }
    if (json_is_array(v = json_object_get(s, "anyOf")) &&
        json_array_size(v) > 0 && count_matches(c, v, inst, depth, 1) == 0)
        return fail(c, "must match at least one schema in anyOf");
    if (json_is_array(v = json_object_get(s, "oneOf")) &&
        json_array_size(v) > 0) {
        size_t m = count_matches(c, v, inst, depth, 2);
        if (m == 0)
            return fail(c, "must match exactly one schema in oneOf, "
                           "matched none");
        if (m > 1)
            return fail(c, "must match exactly one schema in oneOf, "
                           "matched more than one");
    }
    return 0;
}

strands_status schema_validate(const json_t *schema, const json_t *instance,
                               char *why, size_t whysz)
{
    vctx c = {.root = schema, .why = why, .whysz = whysz};
    if (why && whysz) why[0] = '\0';
    schema_path_init(&c.path, "input");
    if (!instance) instance = json_null();
    if (!validate(&c, schema, instance, 0)) return STRANDS_OK;
    if (c.steps > SCHEMA_MAX_STEPS && why && whysz)
        snprintf(why, whysz, "input cannot be checked: the schema takes "
                             "more than %d steps to evaluate",
                 SCHEMA_MAX_STEPS);
    return STRANDS_E_INVALID;
}
