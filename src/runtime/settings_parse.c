/* Settings rows (strands/settings.h): checking a group's definition,
 * parsing each row's value from the environment into its field, freeing
 * them, and describing them for --help. Knows nothing of which groups
 * exist: runtime/settings_table.c assembles the table.                   */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/env.h"
#include "runtime/internal.h"
#include "strands/aws.h"
#include "strands/log.h"

/* Size of the field a row of type t is stored in; 0 for a bad type. */
static size_t field_size(strands_setting_type t)
{
    switch (t) {
    case STRANDS_SETTING_INT:
    case STRANDS_SETTING_LOG_LEVEL: return sizeof(int);
    case STRANDS_SETTING_SIZE: return sizeof(size_t);
    case STRANDS_SETTING_INT64: return sizeof(int64_t);
    case STRANDS_SETTING_STRING:
    case STRANDS_SETTING_OPTIONAL:
    case STRANDS_SETTING_URL:
    case STRANDS_SETTING_CHOICE: return sizeof(char *);
    }
    return 0;
}

/* True for the types stored as an allocated char *. */
static int is_string(strands_setting_type t)
{
    return t == STRANDS_SETTING_STRING || t == STRANDS_SETTING_OPTIONAL ||
           t == STRANDS_SETTING_URL || t == STRANDS_SETTING_CHOICE;
}

static void *field_of(const strands_setting *r, void *values)
{
    return (char *)values + r->offset;
}

static strands_status parse_int(const strands_setting *r, const char *name,
                                const char *v, long long *out,
                                strands_error *err)
{
    errno = 0;
    char *end = NULL;
    long long n = strtoll(v, &end, 10);
    if (!*v || *end || errno || n < r->min || n > r->max)
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "%s: '%s' is not an integer in %lld..%lld",
                                 name, v, r->min, r->max);
    *out = n;
    return STRANDS_OK;
}

static strands_status dup_into(char **dst, const char *v, strands_error *err)
{
    *dst = v ? strdup(v) : NULL;
    if (v && !*dst)
        return strands_error_set(err, STRANDS_E_NOMEM, NULL, "out of memory");
    return STRANDS_OK;
}

/* True when v is one of the comma-separated words of `choices`. */
static int is_choice(const char *choices, const char *v)
{
    size_t n = strlen(v);
    for (const char *p = choices; *p;) {
        size_t len = strcspn(p, ",");
        if (len == n && n && !strncmp(p, v, n)) return 1;
        p += len;
        if (*p) p++;
    }
    return 0;
}

/* "a,b,c" -> "a, b, c" (cut to fit). */
static void list_text(const char *choices, char *out, size_t outsz)
{
    size_t o = 0;
    for (const char *p = choices; *p && o + 1 < outsz; p++) {
        if (*p == ',' && o + 2 < outsz) {
            out[o++] = ',';
            out[o++] = ' ';
        } else if (*p != ',') {
            out[o++] = *p;
        }
    }
    out[o < outsz ? o : outsz - 1] = '\0';
}

/* Parses value v of row r, read from variable `name`, into its field. */
static strands_status load_one(const strands_setting *r, void *values,
                               const char *name, const char *v,
                               strands_error *err)
{
    void *field = field_of(r, values);
    long long n = 0;
    strands_status st = STRANDS_OK;
    char list[256];
    switch (r->type) {
    case STRANDS_SETTING_INT:
        if ((st = parse_int(r, name, v, &n, err)) == STRANDS_OK)
            *(int *)field = (int)n;
        return st;
    case STRANDS_SETTING_SIZE:
        if ((st = parse_int(r, name, v, &n, err)) == STRANDS_OK)
            *(size_t *)field = (size_t)n;
        return st;
    case STRANDS_SETTING_INT64:
        if ((st = parse_int(r, name, v, &n, err)) == STRANDS_OK)
            *(int64_t *)field = n;
        return st;
    case STRANDS_SETTING_LOG_LEVEL:
        n = strands_log_level_parse(v);
        if (n < 0)
            return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                     "%s: '%s' is not one of debug, info, "
                                     "warn, error", name, v);
        *(int *)field = (int)n;
        return STRANDS_OK;
    case STRANDS_SETTING_URL: {
        strands_error e;
        strands_status vst = v ? strands_endpoint_validate(v, &e)
                               : STRANDS_OK;
        if (vst != STRANDS_OK) /* E_NOMEM stays E_NOMEM */
            return strands_error_set(err, vst == STRANDS_E_NOMEM
                                              ? vst : STRANDS_E_INVALID,
                                     NULL, "%s: %s", name, e.message);
        return dup_into(field, v, err);
    }
    case STRANDS_SETTING_STRING:
        if (!*v && !(r->flags & STRANDS_SETTING_ALLOW_EMPTY))
            return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                     "%s: must not be empty", name);
        return dup_into(field, v, err);
    case STRANDS_SETTING_OPTIONAL:
        return dup_into(field, v && *v ? v : NULL, err);
    case STRANDS_SETTING_CHOICE:
        if (!is_choice(r->choices, v)) {
            list_text(r->choices, list, sizeof list);
            return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                     "%s: '%s' is not one of %s", name, v,
                                     list);
        }
        return dup_into(field, v, err);
    }
    return strands_error_set(err, STRANDS_E_INTERNAL, NULL,
                             "%s: unknown setting type", name);
}

/* True for [A-Z][A-Z0-9_]{0,63}. */
static int name_ok(const char *s)
{
    if (!s || *s < 'A' || *s > 'Z') return 0;
    size_t n = 0;
    for (; s[n]; n++)
        if (!((s[n] >= 'A' && s[n] <= 'Z') || (s[n] >= '0' && s[n] <= '9') ||
              s[n] == '_'))
            return 0;
    return n <= 64;
}

/* Checks one row's definition (not its default). */
static strands_status check_row(const strands_settings_group *g,
                                const strands_setting *r, strands_error *err)
{
    const char *t = g->title;
    size_t fs = field_size(r->type);
    if (!name_ok(r->name) || (r->alt && !name_ok(r->alt)))
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "settings '%s': bad variable name '%.64s'",
                                 t, r->name ? r->name : "(null)");
    if (!fs || r->offset > g->struct_size ||
        g->struct_size - r->offset < fs)
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "settings '%s': %s: bad type or offset "
                                 "outside the %zu-byte struct",
                                 t, r->name, g->struct_size);
    if (!r->help)
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "settings '%s': %s: no help text", t,
                                 r->name);
    if (!r->def && r->type != STRANDS_SETTING_OPTIONAL &&
        r->type != STRANDS_SETTING_URL)
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "settings '%s': %s: needs a default", t,
                                 r->name);
    if (r->type == STRANDS_SETTING_CHOICE && (!r->choices || !*r->choices))
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "settings '%s': %s: no choices", t, r->name);
    int is_int = r->type == STRANDS_SETTING_INT ||
                 r->type == STRANDS_SETTING_SIZE ||
                 r->type == STRANDS_SETTING_INT64;
    if (is_int && (r->min > r->max ||
                   (r->type == STRANDS_SETTING_INT &&
                    (r->min < INT_MIN || r->max > INT_MAX)) ||
                   (r->type == STRANDS_SETTING_SIZE && r->min < 0)))
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "settings '%s': %s: bad range %lld..%lld",
                                 t, r->name, r->min, r->max);
    return STRANDS_OK;
}

strands_status strands_settings_group_check(const strands_settings_group *g,
                                            strands_error *err)
{
    if (!g)
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "settings group is NULL");
    if (g->version != STRANDS_SETTINGS_GROUP_VERSION)
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "settings '%s': version %d, this library "
                                 "has %d", g->title ? g->title : "(null)",
                                 g->version, STRANDS_SETTINGS_GROUP_VERSION);
    if (!g->title || !*g->title || (g->n_rows && !g->rows) ||
        g->n_rows > RUNTIME_GROUP_ROWS_MAX)
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "settings group needs a title and at most "
                                 "%d rows", RUNTIME_GROUP_ROWS_MAX);
    for (size_t i = 0; i < g->n_rows; i++) {
        strands_status st = check_row(g, &g->rows[i], err);
        if (st != STRANDS_OK) return st;
        for (size_t j = 0; j < i; j++)
            if (!strcmp(g->rows[j].name, g->rows[i].name))
                return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                         "settings '%s': %s is listed twice",
                                         g->title, g->rows[i].name);
    }
    if (!g->n_rows) return STRANDS_OK;
    /* Every default must be a valid value of its row. */
    void *scratch = calloc(1, g->struct_size);
    if (!scratch)
        return strands_error_set(err, STRANDS_E_NOMEM, NULL, "out of memory");
    strands_status st = STRANDS_OK;
    for (size_t i = 0; i < g->n_rows && st == STRANDS_OK; i++) {
        const strands_setting *r = &g->rows[i];
        strands_error e;
        st = load_one(r, scratch, r->name, r->def, &e);
        if (st == STRANDS_E_INVALID)
            strands_error_set(err, st, NULL, "settings '%s': bad default: %s",
                              g->title, e.message);
        else if (st != STRANDS_OK)
            *err = e;
    }
    strands_settings_group_cleanup(g, scratch);
    free(scratch);
    return st;
}

strands_status strands_settings_group_load(const strands_settings_group *g,
                                           void *values,
                                           strands_getenv_fn *getenv_fn,
                                           void *user, strands_error *err)
{
    /* Zero first, so a failure part-way frees only what this call set. */
    for (size_t i = 0; i < g->n_rows; i++)
        memset(field_of(&g->rows[i], values), 0, field_size(g->rows[i].type));
    for (size_t i = 0; i < g->n_rows; i++) {
        const strands_setting *r = &g->rows[i];
        const char *name = r->name;
        const char *v = core_getenv(getenv_fn, user, name);
        if (!v && r->alt) {
            name = r->alt; /* errors name the variable that held the value */
            v = core_getenv(getenv_fn, user, name);
        }
        if (!v) v = r->def;
        strands_status st = load_one(r, values, name, v, err);
        if (st == STRANDS_OK && v && r->check) {
            strands_error e;
            strands_error_clear(&e);
            st = r->check(v, &e);
            if (st != STRANDS_OK)
                strands_error_set(err, st, NULL, "%s: %s", name, e.message);
        }
        if (st != STRANDS_OK) {
            strands_settings_group_cleanup(g, values);
            return st;
        }
    }
    return STRANDS_OK;
}

void strands_settings_group_cleanup(const strands_settings_group *g,
                                    void *values)
{
    for (size_t i = 0; g && values && i < g->n_rows; i++) {
        const strands_setting *r = &g->rows[i];
        void *field = field_of(r, values);
        char *str = is_string(r->type) ? *(char **)field : NULL;
        if (str && (r->flags & STRANDS_SETTING_SECRET))
            explicit_bzero(str, strlen(str));
        free(str);
        memset(field, 0, field_size(r->type));
    }
}

void strands_settings_group_print(const strands_settings_group *g,
                                  void *stream)
{
    FILE *f = stream;
    for (size_t i = 0; i < g->n_rows; i++) {
        const strands_setting *r = &g->rows[i];
        fprintf(f, "  %-34s %s\n", r->name, r->help);
        fprintf(f, "  %-34s default: %s\n", "",
                r->def ? (*r->def ? r->def : "(empty)") : "(unset)");
    }
}

int runtime_setting_text(const strands_setting *r, const void *values,
                         char *out, size_t outsz)
{
    const void *field = (const char *)values + r->offset;
    if (outsz) out[0] = '\0';
    switch (r->type) {
    case STRANDS_SETTING_INT:
        snprintf(out, outsz, "%d", *(const int *)field);
        return 1;
    case STRANDS_SETTING_LOG_LEVEL:
        /* As it is written in the environment: lower case. */
        snprintf(out, outsz, "%s",
                 strands_log_level_name(*(const int *)field));
        for (char *c = out; *c; c++)
            if (*c >= 'A' && *c <= 'Z') *c = (char)(*c - 'A' + 'a');
        return 1;
    case STRANDS_SETTING_SIZE:
        snprintf(out, outsz, "%zu", *(const size_t *)field);
        return 1;
    case STRANDS_SETTING_INT64:
        snprintf(out, outsz, "%" PRId64, *(const int64_t *)field);
        return 1;
    case STRANDS_SETTING_STRING:
    case STRANDS_SETTING_OPTIONAL:
    case STRANDS_SETTING_URL:
    case STRANDS_SETTING_CHOICE: {
        const char *s = *(char *const *)field;
        if (!s) return 0;
        snprintf(out, outsz, "%s",
                 r->flags & STRANDS_SETTING_SECRET ? "***" : s);
        return 1;
    }
    }
    return 0;
}
