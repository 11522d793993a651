/* The tool registry (include/strands/tool.h). It aggregates tool sources
 * under a read/write lock. Reference counts tie the pieces together:
 *   source (shared owner of its tools) <- each tool of it
 *   tool (name, description, schema, C run fn) <- each generation and the
 *        source entry listing it
 *   generation (= strands_tool_snapshot: every tool + the Converse specs)
 *        <- the registry (current) and each snapshot holder
 * Any change (add, refresh, remove) builds a new generation and swaps it in
 * under the write lock, so readers never see a half-made list and a call in
 * progress keeps what it uses alive. C tools added with
 * strands_tool_registry_add form the "local" source; the built-ins are the
 * "builtin" source (src/tools/builtin/builtin.c).                         */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/abstime.h"
#include "strands/clock.h"
#include "strands/tool.h"
#include "tools/registry.h"

#define TOOL_NAME_MAX 64
#define LOCAL_SOURCE "local"

typedef struct tool_source {
    atomic_int refs;
    char *name;
    const strands_tool_source_vtab *vtab; /* NULL for the local source */
    void *user;
} tool_source;

struct strands_tool {
    atomic_int refs;
    char *name;
    char *description;
    json_t *schema;              /* normalised */
    strands_tool_run_fn *run;    /* C tools; NULL: the source's call */
    void *user;
    void (*free_user)(void *user);
    tool_source *source;         /* a counted reference */
    int64_t timeout_ms;          /* the source's "timeoutMs"; 0: default */
};

struct strands_tool_snapshot {
    atomic_int refs;
    strands_tool **tools;        /* counted references, in spec order */
    size_t count;
    json_t *specs;               /* [{"toolSpec":{...}}...] */
    char *specs_json;            /* the same, compact text */
    size_t specs_json_len;
};

typedef struct source_entry {
    tool_source *source;         /* counted reference */
    strands_tool **tools;        /* its current tools, counted references */
    size_t count;
} source_entry;

struct strands_tool_registry {
    pthread_rwlock_t lock;       /* guards everything below */
    source_entry *entries;       /* in the order sources were added */
    size_t n_entries;
    strands_tool_snapshot *current;
    /* Sources still making their first connection (see
     * strands_tool_registry_starting); `starting` is read without the
     * mutex on the fast path.                                          */
    atomic_int starting;
    pthread_mutex_t start_mu;
    pthread_cond_t start_cv;     /* CLOCK_MONOTONIC */
    int64_t start_until;         /* latest announced deadline */
};

/* ---- reference counting -------------------------------------------------- */

static void source_unref(tool_source *src)
{
    if (!src || atomic_fetch_sub(&src->refs, 1) != 1) return;
    if (src->vtab && src->vtab->destroy) src->vtab->destroy(src->user);
    free(src->name);
    free(src);
}

static strands_tool *tool_ref(strands_tool *t)
{
    atomic_fetch_add(&t->refs, 1);
    return t;
}

static void tool_unref(strands_tool *t)
{
    if (!t || atomic_fetch_sub(&t->refs, 1) != 1) return;
    if (t->free_user) t->free_user(t->user);
    json_decref(t->schema);
    free(t->name);
    free(t->description);
    source_unref(t->source);
    free(t);
}

static void tools_unref(strands_tool **tools, size_t n)
{
    for (size_t i = 0; i < n; i++) tool_unref(tools[i]);
    free(tools);
}

void strands_tool_snapshot_release(strands_tool_snapshot *s)
{
    if (!s || atomic_fetch_sub(&s->refs, 1) != 1) return;
    tools_unref(s->tools, s->count);
    json_decref(s->specs);
    free(s->specs_json);
    free(s);
}

/* ---- validation ---------------------------------------------------------- */

static int name_char_ok(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '_' || c == '-';
}

static strands_status check_name(const char *name, strands_error *err)
{
    if (!name || !name[0])
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "tool name is missing");
    size_t len = strnlen(name, TOOL_NAME_MAX + 1);
    if (len > TOOL_NAME_MAX)
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "invalid tool name '%.*s...': longer than "
                                 "%d characters", TOOL_NAME_MAX, name,
                                 TOOL_NAME_MAX);
    for (size_t i = 0; i < len; i++) {
        if (!name_char_ok(name[i]))
            return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                     "invalid tool name '%s': must match "
                                     "[a-zA-Z0-9_-]{1,64}", name);
    }
    return STRANDS_OK;
}

/* Equal when the names match after mapping every '-' to '_'. */
static int same_normalised_name(const char *a, const char *b)
{
    for (; *a && *b; a++, b++) {
        char ca = *a == '-' ? '_' : *a;
        char cb = *b == '-' ? '_' : *b;
        if (ca != cb) return 0;
    }
    return *a == *b;
}

/* Tool names compare equal when they match after mapping '-' to '_'. */
static strands_status check_duplicate_in(strands_tool *const *tools,
                                         size_t n, const char *name,
                                         strands_error *err)
{
    for (size_t i = 0; i < n; i++) {
        const char *other = tools[i]->name;
        if (strcmp(other, name) == 0)
            return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                     "duplicate tool name '%s'", name);
        if (same_normalised_name(other, name))
            return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                     "duplicate tool name '%s': already "
                                     "registered as '%s' (names may not "
                                     "differ only by '-' and '_')",
                                     name, other);
    }
    return STRANDS_OK;
}

/* Checks `tools` (about to replace entry `skip`'s list, or a new source's
 * when skip == n_entries) against each other and every other source.    */
static strands_status check_tool_set(const strands_tool_registry *reg,
                                     size_t skip, strands_tool *const *tools,
                                     size_t n, strands_error *err)
{
    for (size_t i = 0; i < n; i++) {
        strands_status st = check_duplicate_in(tools, i, tools[i]->name, err);
        for (size_t e = 0; st == STRANDS_OK && e < reg->n_entries; e++)
            if (e != skip)
                st = check_duplicate_in(reg->entries[e].tools,
                                        reg->entries[e].count,
                                        tools[i]->name, err);
        if (st != STRANDS_OK) return st;
    }
    return STRANDS_OK;
}

/* Applies the Strands defaults to a schema object (owned; consumed):
 * "type":"object" and "properties":{} when absent.                      */
static strands_status normalise_schema(json_t *schema, const char *tool_name,
                                       json_t **out, strands_error *err)
{
    if (!schema ||
        (!json_object_get(schema, "type") &&
         json_object_set_new(schema, "type", json_string("object")) != 0) ||
        (!json_object_get(schema, "properties") &&
         json_object_set_new(schema, "properties", json_object()) != 0)) {
        json_decref(schema);
        return strands_error_set(err, STRANDS_E_NOMEM, NULL,
                                 "out of memory loading the schema of tool "
                                 "'%s'", tool_name);
    }
    *out = schema;
    return STRANDS_OK;
}

/* Parses the schema text (NULL: empty object) and normalises it. */
static strands_status load_schema(const char *text, const char *tool_name,
                                  json_t **out, strands_error *err)
{
    json_t *schema;
    if (text) {
        json_error_t jerr;
        schema = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
        if (!schema && json_error_code(&jerr) == json_error_out_of_memory)
            return normalise_schema(NULL, tool_name, out, err);
        if (!schema)
            return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                     "tool '%s': input schema is not valid "
                                     "JSON: %s (line %d, column %d)",
                                     tool_name, jerr.text, jerr.line,
                                     jerr.column);
        if (!json_is_object(schema)) {
            json_decref(schema);
            return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                     "tool '%s': input schema must be a "
                                     "JSON object", tool_name);
        }
    } else {
        schema = json_object();
    }
    return normalise_schema(schema, tool_name, out, err);
}

static char *default_description(const char *name)
{
    static const char prefix[] = "Tool which performs ";
    size_t n = sizeof prefix + strlen(name);
    char *s = malloc(n);
    if (s) {
        memcpy(s, prefix, sizeof prefix - 1);
        memcpy(s + sizeof prefix - 1, name, strlen(name) + 1);
    }
    return s;
}

/* A new tool (refs 1) of `src` (a reference is taken) with copied name and
 * description and the schema (consumed). Never takes a run fn's user.   */
static strands_status tool_new(tool_source *src, const char *name,
                               const char *description, json_t *schema,
                               strands_tool **out, strands_error *err)
{
    strands_tool *tool = calloc(1, sizeof *tool);
    if (tool) {
        atomic_init(&tool->refs, 1);
        tool->schema = schema;
        tool->name = strdup(name);
        tool->description = description && description[0]
                                ? strdup(description)
                                : default_description(name);
    }
    if (!tool || !tool->name || !tool->description) {
        if (tool) tool_unref(tool);
        else json_decref(schema);
        return strands_error_set(err, STRANDS_E_NOMEM, NULL,
                                 "out of memory adding tool '%s'", name);
    }
    atomic_fetch_add(&src->refs, 1);
    tool->source = src;
    *out = tool;
    return STRANDS_OK;
}

/* Turns a source's list ([{"name","description","inputSchema"}...]) into
 * tools of src. On failure nothing is kept.                             */
static strands_status tools_from_list(tool_source *src, const json_t *list,
                                      strands_tool ***out, size_t *n_out,
                                      strands_error *err)
{
    if (!json_is_array(list))
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "tool source '%s': list did not return a "
                                 "JSON array", src->name);
    size_t n = json_array_size(list);
    strands_tool **tools = calloc(n ? n : 1, sizeof *tools);
    if (!tools)
        return strands_error_set(err, STRANDS_E_NOMEM, NULL, "OOM");
    strands_status st = STRANDS_OK;
    size_t i;
    for (i = 0; i < n && st == STRANDS_OK; i++) {
        const json_t *item = json_array_get(list, i);
        const char *name = json_string_value(json_object_get(item, "name"));
        const char *desc =
            json_string_value(json_object_get(item, "description"));
        const json_t *schema = json_object_get(item, "inputSchema");
        json_t *copy = NULL;
        st = check_name(name, err);
        if (st == STRANDS_OK && schema && !json_is_object(schema))
            st = strands_error_set(err, STRANDS_E_INVALID, NULL,
                                   "tool '%s': input schema must be a JSON "
                                   "object", name);
        if (st == STRANDS_OK)
            st = normalise_schema(schema ? json_deep_copy(schema)
                                         : json_object(),
                                  name, &copy, err);
        const json_t *tmo = json_object_get(item, "timeoutMs");
        if (st == STRANDS_OK && tmo &&
            (!json_is_integer(tmo) || json_integer_value(tmo) <= 0))
            st = strands_error_set(err, STRANDS_E_INVALID, NULL,
                                   "tool '%s': timeoutMs must be a positive "
                                   "integer", name);
        if (st == STRANDS_OK)
            st = tool_new(src, name, desc, copy, &tools[i], err);
        if (st == STRANDS_OK && tmo)
            tools[i]->timeout_ms = (int64_t)json_integer_value(tmo);
    }
    if (st != STRANDS_OK) {
        tools_unref(tools, n);   /* calloc'd: unfilled slots are NULL */
        return st;
    }
    *out = tools;
    *n_out = n;
    return STRANDS_OK;
}

/* ---- generations --------------------------------------------------------- */

static json_t *make_spec(const strands_tool *tool)
{
    return json_pack("{s:{s:s, s:s, s:{s:O}}}", "toolSpec", "name",
                     tool->name, "description", tool->description,
                     "inputSchema", "json", tool->schema);
}

/* A new generation from the entries, with entry `swap` (when < n_entries)
 * listing `tools`/`n` instead of its own; NULL on OOM.                   */
static strands_tool_snapshot *generation_new(const strands_tool_registry *reg,
                                             size_t swap,
                                             strands_tool *const *tools,
                                             size_t n)
{
    strands_tool_snapshot *g = calloc(1, sizeof *g);
    if (!g) return NULL;
    atomic_init(&g->refs, 1);
    size_t total = 0;
    for (size_t e = 0; e < reg->n_entries; e++)
        total += e == swap ? n : reg->entries[e].count;
    if (swap == reg->n_entries) total += n;   /* a new source */
    g->specs = json_array();
    g->tools = calloc(total ? total : 1, sizeof *g->tools);
    if (!g->specs || !g->tools) goto fail;
    for (size_t e = 0; e <= reg->n_entries; e++) {
        strands_tool *const *list = e == swap ? tools
                                    : e < reg->n_entries
                                        ? reg->entries[e].tools
                                        : NULL;
        size_t count = e == swap ? n
                       : e < reg->n_entries ? reg->entries[e].count
                                            : 0;
        for (size_t i = 0; i < count; i++) {
            json_t *spec = make_spec(list[i]);
            if (!spec || json_array_append_new(g->specs, spec) != 0)
                goto fail;
            g->tools[g->count++] = tool_ref(list[i]);
        }
    }
    /* Serialised once here, not on every model call. The size is measured
     * first and must match: jansson can drop a member when an allocation
     * fails inside its dumper.                                          */
    size_t n_text = json_dumpb(g->specs, NULL, 0, JSON_COMPACT);
    g->specs_json = n_text ? malloc(n_text + 1) : NULL;
    if (!g->specs_json ||
        json_dumpb(g->specs, g->specs_json, n_text, JSON_COMPACT) != n_text)
        goto fail;
    g->specs_json[n_text] = '\0';
    g->specs_json_len = n_text;
    return g;
fail:
    strands_tool_snapshot_release(g);
    return NULL;
}

/* Publishes a new generation (caller holds the write lock). */
static void publish(strands_tool_registry *reg, strands_tool_snapshot *g)
{
    strands_tool_snapshot *old = reg->current;
    reg->current = g;
    strands_tool_snapshot_release(old);
}

/* ---- registry ------------------------------------------------------------ */

strands_tool_registry *strands_tool_registry_new(void)
{
    strands_tool_registry *reg = calloc(1, sizeof *reg);
    if (!reg) return NULL;
    if (pthread_rwlock_init(&reg->lock, NULL) != 0) {
        free(reg);
        return NULL;
    }
    pthread_mutex_init(&reg->start_mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&reg->start_cv, &ca);
    pthread_condattr_destroy(&ca);
    reg->current = generation_new(reg, 0, NULL, 0);
    if (!reg->current) {
        pthread_rwlock_destroy(&reg->lock);
        free(reg);
        return NULL;
    }
    return reg;
}

static void source_stop(tool_source *src)
{
    if (src->vtab && src->vtab->stop) src->vtab->stop(src->user);
}

void strands_tool_registry_free(strands_tool_registry *reg)
{
    if (!reg) return;
    /* Every source stops first (a source's own thread may still refresh
     * the registry until its stop returns), then the references go.    */
    for (size_t e = 0; e < reg->n_entries; e++)
        source_stop(reg->entries[e].source);
    for (size_t e = 0; e < reg->n_entries; e++) {
        tools_unref(reg->entries[e].tools, reg->entries[e].count);
        source_unref(reg->entries[e].source);
    }
    free(reg->entries);
    strands_tool_snapshot_release(reg->current);
    pthread_rwlock_destroy(&reg->lock);
    pthread_cond_destroy(&reg->start_cv);
    pthread_mutex_destroy(&reg->start_mu);
    free(reg);
}

static size_t find_entry(const strands_tool_registry *reg, const char *name)
{
    for (size_t e = 0; e < reg->n_entries; e++)
        if (!strcmp(reg->entries[e].source->name, name)) return e;
    return reg->n_entries;
}

static strands_status check_source_name(const char *name, strands_error *err)
{
    size_t len = name ? strnlen(name, TOOL_NAME_MAX + 1) : 0;
    int ok = len >= 1 && len <= TOOL_NAME_MAX;
    for (size_t i = 0; ok && i < len; i++)
        ok = name_char_ok(name[i]) || name[i] == '.' || name[i] == ':';
    if (!ok)
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "invalid tool source name '%.64s': must "
                                 "match [a-zA-Z0-9_.:-]{1,64}",
                                 name ? name : "(null)");
    return STRANDS_OK;
}

/* Adds a source entry with `tools` (consumed either way) under the write
 * lock the caller holds.                                                */
static strands_status add_entry(strands_tool_registry *reg, tool_source *src,
                                strands_tool **tools, size_t n,
                                strands_error *err)
{
    strands_status st = check_tool_set(reg, reg->n_entries, tools, n, err);
    source_entry *entries = NULL;
    strands_tool_snapshot *g = NULL;
    if (st == STRANDS_OK) {
        entries = realloc(reg->entries,
                          (reg->n_entries + 1) * sizeof *entries);
        if (entries) reg->entries = entries;
        g = entries ? generation_new(reg, reg->n_entries, tools, n) : NULL;
        if (!g)
            st = strands_error_set(err, STRANDS_E_NOMEM, NULL,
                                   "out of memory adding tool source '%s'",
                                   src->name);
    }
    if (st != STRANDS_OK) {
        tools_unref(tools, n);
        return st;
    }
    atomic_fetch_add(&src->refs, 1);
    reg->entries[reg->n_entries++] =
        (source_entry){.source = src, .tools = tools, .count = n};
    publish(reg, g);
    return STRANDS_OK;
}

/* Calls list and converts the answer into tools of src. */
static strands_status list_tools(tool_source *src, strands_tool ***tools,
                                 size_t *n, strands_error *err)
{
    json_t *list = NULL;
    strands_error lerr;
    strands_error_clear(&lerr);
    strands_status st = src->vtab->list(src->user, &list, &lerr);
    if (st != STRANDS_OK) {
        json_decref(list);
        return strands_error_set(err, st, lerr.code[0] ? lerr.code : NULL,
                                 "tool source '%s': %s", src->name,
                                 lerr.message[0] ? lerr.message
                                                 : strands_strerror(st));
    }
    st = tools_from_list(src, list, tools, n, err);
    json_decref(list);
    return st;
}

static tool_source *source_new(const strands_tool_source_vtab *vtab,
                               const char *name, void *user)
{
    tool_source *src = calloc(1, sizeof *src);
    if (!src) return NULL;
    src->name = strdup(name);
    if (!src->name) {
        free(src);
        return NULL;
    }
    atomic_init(&src->refs, 1);
    src->vtab = vtab;
    src->user = user;
    return src;
}

strands_status strands_tool_registry_add_source(
    strands_tool_registry *reg, const strands_tool_source_vtab *vtab,
    const char *name, void *user, strands_error *err)
{
    strands_status st = STRANDS_OK;
    if (!reg || !vtab)
        st = strands_error_set(err, STRANDS_E_INVALID, NULL,
                               "tool %s is NULL", reg ? "source vtab"
                                                      : "registry");
    else if (vtab->version != STRANDS_TOOL_SOURCE_VTAB_VERSION ||
             !vtab->list || !vtab->call)
        st = strands_error_set(err, STRANDS_E_INVALID, NULL,
                               "tool source '%.64s': vtab version %d (want "
                               "%d) or list/call missing",
                               name ? name : "", vtab->version,
                               STRANDS_TOOL_SOURCE_VTAB_VERSION);
    if (st == STRANDS_OK) st = check_source_name(name, err);
    if (st != STRANDS_OK) {
        if (vtab && vtab->destroy) vtab->destroy(user);
        return st;
    }
    tool_source *src = source_new(vtab, name, user);
    if (!src) {
        if (vtab->destroy) vtab->destroy(user);
        return strands_error_set(err, STRANDS_E_NOMEM, NULL, "OOM");
    }
    strands_error serr;
    strands_error_clear(&serr);
    if (vtab->start && (st = vtab->start(user, &serr)) != STRANDS_OK) {
        strands_error_set(err, st, serr.code[0] ? serr.code : NULL,
                          "tool source '%s' did not start: %s", name,
                          serr.message[0] ? serr.message
                                          : strands_strerror(st));
        source_unref(src);          /* not started: no stop */
        return st;
    }
    strands_tool **tools = NULL;
    size_t n = 0;
    st = list_tools(src, &tools, &n, err);
    if (st == STRANDS_OK) {
        pthread_rwlock_wrlock(&reg->lock);
        if (find_entry(reg, name) < reg->n_entries) {
            tools_unref(tools, n);
            st = strands_error_set(err, STRANDS_E_INVALID, NULL,
                                   "duplicate tool source name '%s'", name);
        } else {
            st = add_entry(reg, src, tools, n, err);
        }
        pthread_rwlock_unlock(&reg->lock);
    }
    if (st != STRANDS_OK) source_stop(src);
    source_unref(src);              /* the entry holds its own reference */
    return st;
}

/* Replaces entry e's tools (consumed) under the write lock. */
static strands_status swap_tools(strands_tool_registry *reg, size_t e,
                                 strands_tool **tools, size_t n,
                                 strands_error *err)
{
    strands_status st = check_tool_set(reg, e, tools, n, err);
    strands_tool_snapshot *g =
        st == STRANDS_OK ? generation_new(reg, e, tools, n) : NULL;
    if (st == STRANDS_OK && !g)
        st = strands_error_set(err, STRANDS_E_NOMEM, NULL,
                               "out of memory listing tool source '%s'",
                               reg->entries[e].source->name);
    if (st != STRANDS_OK) {
        tools_unref(tools, n);
        return st;
    }
    tools_unref(reg->entries[e].tools, reg->entries[e].count);
    reg->entries[e].tools = tools;
    reg->entries[e].count = n;
    publish(reg, g);
    return STRANDS_OK;
}

strands_status strands_tool_registry_refresh(strands_tool_registry *reg,
                                             const char *name,
                                             strands_error *err)
{
    if (!reg || !name)
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "refresh needs a registry and a name");
    pthread_rwlock_rdlock(&reg->lock);
    size_t e = find_entry(reg, name);
    tool_source *src = e < reg->n_entries ? reg->entries[e].source : NULL;
    if (src) atomic_fetch_add(&src->refs, 1);
    pthread_rwlock_unlock(&reg->lock);
    if (!src || !src->vtab) {
        source_unref(src);
        return strands_error_set(err, STRANDS_E_NOT_FOUND, NULL,
                                 "no tool source '%.64s' to refresh", name);
    }
    /* The list call may block (a remote server): no lock held. */
    strands_tool **tools = NULL;
    size_t n = 0;
    strands_status st = list_tools(src, &tools, &n, err);
    if (st == STRANDS_OK) {
        pthread_rwlock_wrlock(&reg->lock);
        e = find_entry(reg, name);
        if (e < reg->n_entries && reg->entries[e].source == src) {
            st = swap_tools(reg, e, tools, n, err);
        } else {                    /* removed meanwhile */
            tools_unref(tools, n);
            st = strands_error_set(err, STRANDS_E_NOT_FOUND, NULL,
                                   "tool source '%s' was removed", name);
        }
        pthread_rwlock_unlock(&reg->lock);
    }
    source_unref(src);
    return st;
}

strands_status strands_tool_registry_remove_source(strands_tool_registry *reg,
                                                   const char *name,
                                                   strands_error *err)
{
    if (!reg || !name)
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "remove needs a registry and a name");
    pthread_rwlock_wrlock(&reg->lock);
    size_t e = find_entry(reg, name);
    strands_status st = STRANDS_OK;
    source_entry gone = {0};
    if (e == reg->n_entries) {
        st = strands_error_set(err, STRANDS_E_NOT_FOUND, NULL,
                               "no tool source '%.64s'", name);
    } else {
        /* The generation without it: built while the entry is still
         * there, with an empty list in its place.                       */
        strands_tool_snapshot *g = generation_new(reg, e, NULL, 0);
        if (!g) {
            st = strands_error_set(err, STRANDS_E_NOMEM, NULL, "OOM");
        } else {
            gone = reg->entries[e];
            memmove(&reg->entries[e], &reg->entries[e + 1],
                    (reg->n_entries - e - 1) * sizeof *reg->entries);
            reg->n_entries--;
            publish(reg, g);
        }
    }
    pthread_rwlock_unlock(&reg->lock);
    if (gone.source) {
        source_stop(gone.source);
        tools_unref(gone.tools, gone.count);
        source_unref(gone.source);
    }
    return st;
}

void *tools_registry_source_user(strands_tool_registry *reg, const char *name,
                                 const strands_tool_source_vtab *vtab)
{
    pthread_rwlock_rdlock(&reg->lock);
    size_t e = find_entry(reg, name);
    void *user = e < reg->n_entries && reg->entries[e].source->vtab == vtab
                     ? reg->entries[e].source->user
                     : NULL;
    pthread_rwlock_unlock(&reg->lock);
    return user;
}

int64_t tools_tool_timeout_ms(const strands_tool *tool)
{
    return tool ? tool->timeout_ms : 0;
}

const json_t *tools_tool_schema(const strands_tool *tool)
{
    return tool->schema;
}

/* ---- C tools --------------------------------------------------------------- */

/* The local source's entry, added on first use (write lock held). */
static strands_status local_entry(strands_tool_registry *reg, size_t *out,
                                  strands_error *err)
{
    size_t e = find_entry(reg, LOCAL_SOURCE);
    if (e == reg->n_entries) {
        tool_source *src = source_new(NULL, LOCAL_SOURCE, NULL);
        if (!src) return strands_error_set(err, STRANDS_E_NOMEM, NULL, "OOM");
        strands_status st = add_entry(reg, src, NULL, 0, err);
        source_unref(src);
        if (st != STRANDS_OK) return st;
    }
    *out = e;
    return STRANDS_OK;
}

/* Adds a built tool (reference consumed) to the local source. */
static strands_status add_local(strands_tool_registry *reg,
                                strands_status (*make)(tool_source *src,
                                                       void *arg,
                                                       strands_tool **out,
                                                       strands_error *err),
                                void *arg, strands_error *err)
{
    pthread_rwlock_wrlock(&reg->lock);
    size_t e = 0;
    strands_status st = local_entry(reg, &e, err);
    strands_tool *tool = NULL;
    strands_tool **tools = NULL;
    size_t n = 0;
    if (st == STRANDS_OK) st = make(reg->entries[e].source, arg, &tool, err);
    if (st == STRANDS_OK) {
        n = reg->entries[e].count + 1;
        tools = malloc(n * sizeof *tools);
        if (!tools) {
            tool_unref(tool);
            st = strands_error_set(err, STRANDS_E_NOMEM, NULL, "OOM");
        }
    }
    if (st == STRANDS_OK) {
        for (size_t i = 0; i + 1 < n; i++)
            tools[i] = tool_ref(reg->entries[e].tools[i]);
        tools[n - 1] = tool;
        st = swap_tools(reg, e, tools, n, err);
    }
    pthread_rwlock_unlock(&reg->lock);
    return st;
}

typedef struct def_arg {
    const strands_tool_def *def;
    int attached;                /* def->user now belongs to the tool */
} def_arg;

static strands_status make_c_tool(tool_source *src, void *arg,
                                  strands_tool **out, strands_error *err)
{
    def_arg *d = arg;
    const strands_tool_def *def = d->def;
    json_t *schema = NULL;
    strands_status st = load_schema(def->input_schema_json, def->name,
                                    &schema, err);
    if (st == STRANDS_OK)
        st = tool_new(src, def->name, def->description, schema, out, err);
    if (st != STRANDS_OK) return st;
    (*out)->run = def->run;
    (*out)->user = def->user;
    (*out)->free_user = def->free_user;
    d->attached = 1;
    return STRANDS_OK;
}

strands_status strands_tool_registry_add(strands_tool_registry *reg,
                                         const strands_tool_def *def,
                                         strands_error *err)
{
    if (!def)
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "tool definition is NULL");
    strands_status st = STRANDS_OK;
    if (!reg)
        st = strands_error_set(err, STRANDS_E_INVALID, NULL,
                               "tool registry is NULL");
    if (st == STRANDS_OK) st = check_name(def->name, err);
    if (st == STRANDS_OK) {
        /* Checked first so a duplicate reports as such, not as a schema
         * error; checked again under the lock by swap_tools.            */
        pthread_rwlock_rdlock(&reg->lock);
        st = check_duplicate_in(reg->current->tools, reg->current->count,
                                def->name, err);
        pthread_rwlock_unlock(&reg->lock);
    }
    if (st == STRANDS_OK && !def->run)
        st = strands_error_set(err, STRANDS_E_INVALID, NULL,
                               "tool '%s' has no run function", def->name);
    def_arg d = {def, 0};
    if (st == STRANDS_OK) st = add_local(reg, make_c_tool, &d, err);
    /* On failure after the tool took def->user, its unref freed it. */
    if (st != STRANDS_OK && !d.attached && def->free_user)
        def->free_user(def->user);
    return st;
}

/* ---- lookups ------------------------------------------------------------- */

strands_tool_snapshot *strands_tool_registry_snapshot(
    strands_tool_registry *reg)
{
    if (!reg) return NULL;
    pthread_rwlock_rdlock(&reg->lock);
    strands_tool_snapshot *g = reg->current;
    atomic_fetch_add(&g->refs, 1);
    pthread_rwlock_unlock(&reg->lock);
    return g;
}

size_t strands_tool_snapshot_count(const strands_tool_snapshot *s)
{
    return s ? s->count : 0;
}

const json_t *strands_tool_snapshot_specs(const strands_tool_snapshot *s)
{
    return s ? s->specs : NULL;
}

const char *strands_tool_snapshot_specs_json(const strands_tool_snapshot *s,
                                             size_t *len)
{
    if (len) *len = s ? s->specs_json_len : 0;
    return s ? s->specs_json : NULL;
}

const strands_tool *strands_tool_snapshot_find(const strands_tool_snapshot *s,
                                               const char *name)
{
    if (!s || !name) return NULL;
    for (size_t i = 0; i < s->count; i++)
        if (strcmp(s->tools[i]->name, name) == 0) return s->tools[i];
    return NULL;
}

/* The current generation, borrowed (valid until the registry changes). */
static const strands_tool_snapshot *peek(const strands_tool_registry *reg)
{
    strands_tool_registry *r = (strands_tool_registry *)reg;
    pthread_rwlock_rdlock(&r->lock);
    const strands_tool_snapshot *g = r->current;
    pthread_rwlock_unlock(&r->lock);
    return g;
}

const strands_tool *strands_tool_registry_find(const strands_tool_registry *reg,
                                               const char *name)
{
    return reg ? strands_tool_snapshot_find(peek(reg), name) : NULL;
}

size_t strands_tool_registry_count(const strands_tool_registry *reg)
{
    return reg ? peek(reg)->count : 0;
}

const json_t *strands_tool_registry_specs(const strands_tool_registry *reg)
{
    return reg ? peek(reg)->specs : NULL;
}

const char *strands_tool_name(const strands_tool *tool)
{
    return tool ? tool->name : NULL;
}

/* ---- calling ------------------------------------------------------------- */

/* Checks that content is an array of objects (ToolResultContent blocks). */
static strands_status check_content(const strands_tool *tool,
                                    const json_t *content, strands_error *err)
{
    if (!content)
        return strands_error_set(err, STRANDS_E_TOOL, NULL,
                                 "tool '%s' returned no content", tool->name);
    if (!json_is_array(content))
        return strands_error_set(err, STRANDS_E_TOOL, NULL,
                                 "tool '%s' returned content that is not a "
                                 "JSON array", tool->name);
    size_t i;
    const json_t *block;
    json_array_foreach(content, i, block) {
        if (!json_is_object(block))
            return strands_error_set(err, STRANDS_E_TOOL, NULL,
                                     "tool '%s' returned content block %zu "
                                     "that is not a JSON object",
                                     tool->name, i);
    }
    return STRANDS_OK;
}

strands_status strands_tool_call(const strands_tool *tool, const json_t *input,
                                 const strands_tool_context *ctx,
                                 json_t **content_out, strands_error *err)
{
    if (content_out) *content_out = NULL;
    if (!tool || !content_out)
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "strands_tool_call: %s is NULL",
                                 tool ? "content_out" : "tool");
    strands_error local;
    strands_error *e = err ? err : &local;
    strands_error_clear(e);

    json_t *content = NULL;
    strands_status st =
        tool->run ? tool->run(tool->user, input, ctx, &content, e)
                  : tool->source->vtab->call(tool->source->user, tool->name,
                                             input, ctx, &content, e);
    if (st != STRANDS_OK) {
        json_decref(content);             /* a misbehaving tool's leftovers */
        if (!e->message[0])
            return strands_error_set(e, st, NULL, "tool '%s' failed (%s)",
                                     tool->name, strands_strerror(st));
        e->status = st;
        if (!e->code[0])
            snprintf(e->code, sizeof e->code, "%s", strands_status_name(st));
        return st;
    }
    st = check_content(tool, content, e);
    if (st != STRANDS_OK) {
        json_decref(content);
        return st;
    }
    strands_error_clear(e);
    *content_out = content;
    return STRANDS_OK;
}

strands_tool *tools_tool_ref(const strands_tool *tool)
{
    return tool_ref((strands_tool *)tool);
}

void tools_tool_unref(strands_tool *tool)
{
    tool_unref(tool);
}

/* ---- sources that are starting ------------------------------------------- */

void strands_tool_registry_starting(strands_tool_registry *reg,
                                    int64_t until_ms)
{
    if (!reg) return;
    pthread_mutex_lock(&reg->start_mu);
    atomic_fetch_add(&reg->starting, 1);
    if (until_ms > reg->start_until) reg->start_until = until_ms;
    pthread_mutex_unlock(&reg->start_mu);
}

void strands_tool_registry_started(strands_tool_registry *reg)
{
    if (!reg) return;
    pthread_mutex_lock(&reg->start_mu);
    if (atomic_load(&reg->starting) > 0 &&
        atomic_fetch_sub(&reg->starting, 1) == 1)
        reg->start_until = 0; /* the next announcement sets it afresh */
    pthread_cond_broadcast(&reg->start_cv);
    pthread_mutex_unlock(&reg->start_mu);
}

int strands_tool_registry_wait_started(strands_tool_registry *reg,
                                       const atomic_int *cancelled)
{
    if (!reg || atomic_load(&reg->starting) == 0) return 1;
    pthread_mutex_lock(&reg->start_mu);
    for (;;) {
        if (atomic_load(&reg->starting) == 0) break;
        if (cancelled && atomic_load(cancelled)) break;
        int64_t now = strands_clock_mono_ms();
        if (now >= reg->start_until) break;
        int64_t wait = reg->start_until - now;
        if (wait > 50) wait = 50; /* to notice *cancelled */
        struct timespec ts;
        core_abstime_after_ms(CLOCK_MONOTONIC, wait, &ts);
        pthread_cond_timedwait(&reg->start_cv, &reg->start_mu, &ts);
    }
    int done = atomic_load(&reg->starting) == 0;
    pthread_mutex_unlock(&reg->start_mu);
    return done;
}
