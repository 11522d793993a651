/* The one settings table: the core modules' groups (into
 * strands_runtime_config) followed by the group of every registered model
 * provider, session store and tool source (each into its own struct).
 * Loading it validates every row once; --help prints it by module.      */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/builtins.h"
#include "runtime/internal.h"

static const strands_settings_group *const core_groups[] = {
    &runtime_settings, &server_settings, &agent_settings, &aws_settings,
};
#define N_CORE (sizeof core_groups / sizeof core_groups[0])
#define TABLE_MAX (N_CORE + 3 * STRANDS_REGISTRY_MAX)

typedef struct loaded_group {
    const strands_settings_group *g;
    void *values;   /* &config for core groups, else its own allocation */
} loaded_group;

struct strands_settings {
    strands_runtime_config config;
    size_t n;
    loaded_group groups[TABLE_MAX];
};

const strands_settings_group *const *runtime_core_groups(size_t *n)
{
    *n = N_CORE;
    return core_groups;
}

static int has_group(const strands_settings *s,
                     const strands_settings_group *g)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->groups[i].g == g) return 1;
    return 0;
}

/* Loads group g into values and appends it to the table. */
static strands_status load_group(strands_settings *s,
                                 const strands_settings_group *g,
                                 void *values, strands_getenv_fn *fn,
                                 void *user, strands_error *err)
{
    strands_status st = strands_settings_group_load(g, values, fn, user, err);
    if (st != STRANDS_OK) return st;
    s->groups[s->n].g = g;
    s->groups[s->n].values = values;
    s->n++;
    return STRANDS_OK;
}

strands_settings *strands_settings_load(strands_getenv_fn *getenv_fn,
                                        void *user, strands_error *err)
{
    strands_status st = runtime_builtins_status(err);
    if (st != STRANDS_OK) return NULL;
    strands_settings *s = calloc(1, sizeof *s);
    if (!s) {
        strands_error_set(err, STRANDS_E_NOMEM, NULL, "out of memory");
        return NULL;
    }
    for (size_t i = 0; i < N_CORE && st == STRANDS_OK; i++)
        st = load_group(s, core_groups[i], &s->config, getenv_fn, user, err);
    for (int k = 0; k < 3 && st == STRANDS_OK; k++) {
        runtime_entry e[STRANDS_REGISTRY_MAX];
        size_t n = runtime_registry_list((strands_registry_kind)k, e);
        for (size_t i = 0; i < n && st == STRANDS_OK; i++) {
            const strands_settings_group *g = e[i].settings;
            if (!g || has_group(s, g)) continue;
            void *values = calloc(1, g->struct_size ? g->struct_size : 1);
            if (!values) {
                st = strands_error_set(err, STRANDS_E_NOMEM, NULL,
                                       "out of memory");
                break;
            }
            st = load_group(s, g, values, getenv_fn, user, err);
            if (st != STRANDS_OK) free(values);
        }
    }
    if (st != STRANDS_OK) {
        strands_settings_free(s);
        return NULL;
    }
    return s;
}

void strands_settings_free(strands_settings *s)
{
    if (!s) return;
    for (size_t i = 0; i < s->n; i++) {
        strands_settings_group_cleanup(s->groups[i].g, s->groups[i].values);
        if (s->groups[i].values != &s->config) free(s->groups[i].values);
    }
    free(s);
}

const strands_runtime_config *strands_settings_config(const strands_settings *s)
{
    return &s->config;
}

const void *strands_settings_values(const strands_settings *s,
                                    const strands_settings_group *g)
{
    for (size_t i = 0; s && g && i < s->n; i++)
        if (s->groups[i].g == g) return s->groups[i].values;
    return NULL;
}

int strands_settings_text(const strands_settings *s, const char *name,
                          char *out, size_t outsz)
{
    if (outsz) out[0] = '\0';
    for (size_t i = 0; s && name && i < s->n; i++) {
        const strands_settings_group *g = s->groups[i].g;
        for (size_t j = 0; j < g->n_rows; j++)
            if (!strcmp(g->rows[j].name, name))
                return runtime_setting_text(&g->rows[j], s->groups[i].values,
                                            out, outsz);
    }
    return -1;
}

/* One section per registered entry of a kind. */
static void print_entries(FILE *f, strands_registry_kind kind,
                          const char *what, const char *variable,
                          const strands_settings_group **printed,
                          size_t *n_printed)
{
    runtime_entry e[STRANDS_REGISTRY_MAX];
    size_t n = runtime_registry_list(kind, e);
    for (size_t i = 0; i < n; i++) {
        fprintf(f, "\n%s \"%s\"", what, e[i].name);
        if (variable) fprintf(f, " (%s=%s)", variable, e[i].name);
        fprintf(f, ": %s\n", e[i].description ? e[i].description : "");
        const strands_settings_group *g = e[i].settings;
        int seen = 0;
        for (size_t j = 0; g && j < *n_printed; j++)
            seen |= printed[j] == g;
        if (g && seen) {
            fprintf(f, "  (settings of \"%s\" above)\n", g->title);
        } else if (g) {
            strands_settings_group_print(g, f);
            printed[(*n_printed)++] = g;
        }
    }
}

void strands_settings_print_help(void *stream)
{
    FILE *f = stream;
    for (size_t i = 0; i < N_CORE; i++) {
        fprintf(f, "%s%s:\n", i ? "\n" : "", core_groups[i]->title);
        strands_settings_group_print(core_groups[i], f);
    }
    const strands_settings_group *printed[3 * STRANDS_REGISTRY_MAX];
    size_t n_printed = 0;
    print_entries(f, STRANDS_REGISTRY_MODEL_PROVIDER, "Model provider",
                  "MODEL_PROVIDER", printed, &n_printed);
    print_entries(f, STRANDS_REGISTRY_SESSION_STORE, "Session store",
                  "SESSION_STORE", printed, &n_printed);
    print_entries(f, STRANDS_REGISTRY_TOOL_SOURCE, "Tool source", NULL,
                  printed, &n_printed);
}
