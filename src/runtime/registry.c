/* The registries of model providers, session stores and tool sources: a
 * fixed array of borrowed entries per kind, guarded by one mutex, filled
 * by register (version, name and settings checked) and read by find. The
 * built-ins are registered first, on the first call of any of these.    */
#include <stdio.h>
#include <string.h>

#include "runtime/internal.h"

typedef struct registry {
    const char *kind;   /* "model provider", ... for messages */
    size_t n;
    runtime_entry e[STRANDS_REGISTRY_MAX];
} registry;

static registry registries[3] = {
    [STRANDS_REGISTRY_MODEL_PROVIDER] = {.kind = "model provider"},
    [STRANDS_REGISTRY_SESSION_STORE] = {.kind = "session store"},
    [STRANDS_REGISTRY_TOOL_SOURCE] = {.kind = "tool source"},
};
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

#define N_KINDS (sizeof registries / sizeof registries[0])

/* True for [A-Za-z0-9_.+-]{1,32}: a SESSION_STORE scheme fits too. */
static int name_ok(const char *s)
{
    size_t n = 0;
    for (; s && s[n]; n++)
        if (!((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= 'A' && s[n] <= 'Z') ||
              (s[n] >= '0' && s[n] <= '9') || strchr("_.+-", s[n])))
            return 0;
    return n >= 1 && n <= 32;
}

/* Which group already reads variable `var` (core or registered), or NULL.
 * Called with the lock held. A group being registered again (shared by
 * two entries) is skipped: its rows are the same rows.                  */
static const char *row_owner(const char *var,
                             const strands_settings_group *self)
{
    size_t nc;
    const strands_settings_group *const *core = runtime_core_groups(&nc);
    for (size_t i = 0; i < nc; i++)
        for (size_t j = 0; j < core[i]->n_rows; j++)
            if (!strcmp(core[i]->rows[j].name, var)) return core[i]->title;
    for (size_t k = 0; k < N_KINDS; k++)
        for (size_t i = 0; i < registries[k].n; i++) {
            const strands_settings_group *g = registries[k].e[i].settings;
            if (!g || g == self) continue;
            for (size_t j = 0; j < g->n_rows; j++)
                if (!strcmp(g->rows[j].name, var)) return g->title;
        }
    return NULL;
}

static strands_status add(strands_registry_kind kind, const runtime_entry *e,
                          int has_factory, strands_error *err)
{
    registry *r = &registries[kind];
    if (!name_ok(e->name))
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "%s name '%.64s' is not 1 to 32 of "
                                 "[A-Za-z0-9_.+-]",
                                 r->kind, e->name ? e->name : "(null)");
    if (!has_factory)
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "%s '%s' has no factory function", r->kind,
                                 e->name);
    if (e->settings) {
        strands_error ge;
        strands_status st = strands_settings_group_check(e->settings, &ge);
        if (st != STRANDS_OK)
            return strands_error_set(err, st, NULL, "%s '%s': %s", r->kind,
                                     e->name, ge.message);
    }
    strands_status st = STRANDS_OK;
    pthread_mutex_lock(&lock);
    for (size_t i = 0; i < r->n && st == STRANDS_OK; i++)
        if (!strcmp(r->e[i].name, e->name))
            st = strands_error_set(err, STRANDS_E_INVALID, NULL,
                                   "%s '%s' is already registered", r->kind,
                                   e->name);
    if (st == STRANDS_OK && r->n == STRANDS_REGISTRY_MAX)
        st = strands_error_set(err, STRANDS_E_TOO_LARGE, NULL,
                               "cannot register %s '%s': %d are registered "
                               "already", r->kind, e->name,
                               STRANDS_REGISTRY_MAX);
    for (size_t j = 0; st == STRANDS_OK && e->settings &&
                       j < e->settings->n_rows; j++) {
        const char *var = e->settings->rows[j].name;
        const char *owner = row_owner(var, e->settings);
        if (owner)
            st = strands_error_set(err, STRANDS_E_INVALID, NULL,
                                   "%s '%s': setting %s is already read by "
                                   "'%s'", r->kind, e->name, var, owner);
    }
    if (st == STRANDS_OK) r->e[r->n++] = *e;
    pthread_mutex_unlock(&lock);
    return st;
}

/* Rejects a NULL entry or one built against another version. */
static strands_status check_version(strands_registry_kind kind,
                                    const void *entry, const char *name,
                                    int version, int want, strands_error *err)
{
    if (!entry)
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "%s entry is NULL", registries[kind].kind);
    if (version != want)
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "%s '%.64s': version %d, this library has "
                                 "%d", registries[kind].kind,
                                 name ? name : "(null)", version, want);
    return STRANDS_OK;
}

static const void *find(strands_registry_kind kind, const char *name,
                        size_t len)
{
    runtime_builtins_ensure();
    const void *found = NULL;
    pthread_mutex_lock(&lock);
    registry *r = &registries[kind];
    for (size_t i = 0; name && i < r->n && !found; i++)
        if (strlen(r->e[i].name) == len && !strncmp(r->e[i].name, name, len))
            found = r->e[i].entry;
    pthread_mutex_unlock(&lock);
    return found;
}

strands_status strands_model_provider_register(const strands_model_provider *p,
                                               strands_error *err)
{
    runtime_builtins_ensure();
    strands_status st = check_version(
        STRANDS_REGISTRY_MODEL_PROVIDER, p, p ? p->name : NULL,
        p ? p->version : 0, STRANDS_MODEL_PROVIDER_VERSION, err);
    if (st != STRANDS_OK) return st;
    runtime_entry e = {p->name, p->description, p->settings, p};
    return add(STRANDS_REGISTRY_MODEL_PROVIDER, &e, p->create != NULL, err);
}

const strands_model_provider *strands_model_provider_find(const char *name)
{
    return find(STRANDS_REGISTRY_MODEL_PROVIDER, name,
                name ? strlen(name) : 0);
}

strands_status strands_session_store_provider_register(
    const strands_session_store_provider *p, strands_error *err)
{
    runtime_builtins_ensure();
    strands_status st = check_version(
        STRANDS_REGISTRY_SESSION_STORE, p, p ? p->name : NULL,
        p ? p->version : 0, STRANDS_SESSION_STORE_PROVIDER_VERSION, err);
    if (st != STRANDS_OK) return st;
    runtime_entry e = {p->name, p->description, p->settings, p};
    return add(STRANDS_REGISTRY_SESSION_STORE, &e, p->create != NULL, err);
}

const strands_session_store_provider *strands_session_store_provider_find(
    const char *name)
{
    return find(STRANDS_REGISTRY_SESSION_STORE, name,
                name ? strlen(name) : 0);
}

const strands_session_store_provider *runtime_session_store_for(
    const char *spec, const char **arg)
{
    const char *colon = spec ? strchr(spec, ':') : NULL;
    if (arg) *arg = colon ? colon + 1 : NULL;
    if (!spec) return NULL;
    return find(STRANDS_REGISTRY_SESSION_STORE, spec,
                colon ? (size_t)(colon - spec) : strlen(spec));
}

strands_status strands_tool_source_provider_register(
    const strands_tool_source_provider *p, strands_error *err)
{
    runtime_builtins_ensure();
    strands_status st = check_version(
        STRANDS_REGISTRY_TOOL_SOURCE, p, p ? p->name : NULL,
        p ? p->version : 0, STRANDS_TOOL_SOURCE_PROVIDER_VERSION, err);
    if (st != STRANDS_OK) return st;
    runtime_entry e = {p->name, p->description, p->settings, p};
    return add(STRANDS_REGISTRY_TOOL_SOURCE, &e, p->add_tools != NULL, err);
}

const strands_tool_source_provider *strands_tool_source_provider_find(
    const char *name)
{
    return find(STRANDS_REGISTRY_TOOL_SOURCE, name, name ? strlen(name) : 0);
}

size_t runtime_registry_list(strands_registry_kind kind,
                             runtime_entry out[STRANDS_REGISTRY_MAX])
{
    if ((size_t)kind >= N_KINDS) return 0;
    runtime_builtins_ensure();
    pthread_mutex_lock(&lock);
    size_t n = registries[kind].n;
    memcpy(out, registries[kind].e, n * sizeof out[0]);
    pthread_mutex_unlock(&lock);
    return n;
}

void strands_registry_names(strands_registry_kind kind, char *out,
                            size_t outsz)
{
    runtime_entry e[STRANDS_REGISTRY_MAX];
    size_t n = runtime_registry_list(kind, e), used = 0;
    if (!outsz) return;
    out[0] = '\0';
    for (size_t i = 0; i < n && used < outsz; i++) {
        int w = snprintf(out + used, outsz - used, "%s%s", i ? "," : "",
                         e[i].name);
        if (w < 0) break;
        used += (size_t)w;
    }
}
