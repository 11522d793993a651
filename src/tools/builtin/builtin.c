/* The table of built-in tools and the "builtin" tool source over it:
 * strands_tool_registry_add_builtin enables one of them by name in a
 * registry's builtin source (added on first use; its state, a bit set of
 * enabled tools and a copy of the builtin_options, is freed by the
 * source's destroy). The definitions live one per file in this directory;
 * their user data is NULL: each run gets the source's options instead.  */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "tools/builtin/builtin.h"
#include "tools/builtin/workspace.h"
#include "tools/registry.h"

#define BUILTIN_SOURCE "builtin"

static const strands_tool_def *const builtins[] = {
    &builtin_calculator,
    &builtin_current_time,
    &builtin_http_request,
    &builtin_file_read,
    &builtin_file_write,
    &builtin_file_list,
    &builtin_shell,
};

#define BUILTIN_COUNT (sizeof builtins / sizeof builtins[0])

const char *strands_builtin_tool_names(void)
{
    return "calculator,current_time,http_request,file_read,file_write,"
           "file_list,shell";
}

/* Bits of the built-ins that work in WORKSPACE_DIR. */
static unsigned workspace_mask(void)
{
    unsigned m = 0;
    for (size_t i = 0; i < BUILTIN_COUNT; i++)
        if (builtins[i] == &builtin_file_read ||
            builtins[i] == &builtin_file_write ||
            builtins[i] == &builtin_file_list || builtins[i] == &builtin_shell)
            m |= 1u << i;
    return m;
}

/* ---- the "builtin" tool source ------------------------------------------ */

/* Which built-ins a registry enabled (bit i = builtins[i]) and the
 * options their runs get. */
typedef struct builtin_state {
    atomic_uint enabled;
    builtin_options opts;
} builtin_state;

static void builtin_state_free(void *user)
{
    builtin_state *bs = user;
    if (!bs) return;
    builtin_options_cleanup(&bs->opts);
    free(bs);
}

static strands_status builtin_list(void *user, json_t **tools_out,
                                   strands_error *err)
{
    builtin_state *bs = user;
    unsigned enabled = atomic_load(&bs->enabled);
    json_t *list = json_array();
    for (size_t i = 0; list && i < BUILTIN_COUNT; i++) {
        if (!(enabled & (1u << i))) continue;
        const strands_tool_def *def = builtins[i];
        json_t *schema = def->input_schema_json
                             ? json_loads(def->input_schema_json, 0, NULL)
                             : json_object();
        json_t *item = schema ? json_pack("{s:s, s:s, s:o}", "name",
                                          def->name, "description",
                                          def->description, "inputSchema",
                                          schema)
                              : NULL;
        if (!item || json_array_append_new(list, item)) {
            json_decref(list);
            list = NULL;
        }
    }
    if (!list)
        return strands_error_set(err, STRANDS_E_NOMEM, NULL,
                                 "out of memory listing the built-in tools");
    *tools_out = list;
    return STRANDS_OK;
}

static strands_status builtin_call(void *user, const char *tool_name,
                                   const json_t *input,
                                   const strands_tool_context *ctx,
                                   json_t **content_out, strands_error *err)
{
    builtin_state *bs = user;
    for (size_t i = 0; i < BUILTIN_COUNT; i++)
        if (!strcmp(builtins[i]->name, tool_name))
            return builtins[i]->run(&bs->opts, input, ctx, content_out,
                                    err);
    return strands_error_set(err, STRANDS_E_NOT_FOUND, NULL,
                             "unknown built-in tool '%.64s'", tool_name);
}

static const strands_tool_source_vtab builtin_vtab = {
    .version = STRANDS_TOOL_SOURCE_VTAB_VERSION,
    .kind = "builtin",
    .list = builtin_list,
    .call = builtin_call,
    .destroy = builtin_state_free,
};

/* Index of the built-in called name[0..n), or BUILTIN_COUNT. */
static size_t builtin_index(const char *name, size_t n)
{
    for (size_t i = 0; i < BUILTIN_COUNT; i++)
        if (strlen(builtins[i]->name) == n && !memcmp(builtins[i]->name, name, n))
            return i;
    return BUILTIN_COUNT;
}

/* Enables the built-ins of `mask` in reg's builtin source (added on first
 * use, with a copy of opts) with ONE refresh. E_INVALID when one is
 * enabled already.                                                      */
static strands_status enable(strands_tool_registry *reg, unsigned mask,
                             const builtin_options *opts,
                             strands_error *err)
{
    builtin_state *bs = tools_registry_source_user(reg, BUILTIN_SOURCE,
                                                   &builtin_vtab);
    if (bs && (mask & workspace_mask())) {
        /* The existing source's workspace; its string stays as it is. */
        char *abs = NULL;
        strands_status st = ws_prepare(bs->opts.workspace_dir, &abs, err);
        free(abs);
        if (st != STRANDS_OK) return st;
    }
    if (!bs) {
        builtin_state *fresh = calloc(1, sizeof *fresh);
        if (!fresh)
            return strands_error_set(err, STRANDS_E_NOMEM, NULL, "OOM");
        if (builtin_options_copy(&fresh->opts, opts, err) != STRANDS_OK) {
            builtin_state_free(fresh);
            return STRANDS_E_NOMEM;
        }
        if (mask & workspace_mask()) {
            char *abs = NULL;
            strands_status st = ws_prepare(fresh->opts.workspace_dir, &abs,
                                           err);
            if (st != STRANDS_OK) {
                builtin_state_free(fresh);
                return st;
            }
            free(fresh->opts.workspace_dir);
            fresh->opts.workspace_dir = abs;
        }
        strands_status st = strands_tool_registry_add_source(
            reg, &builtin_vtab, BUILTIN_SOURCE, fresh, err);
        if (st != STRANDS_OK) return st;
        bs = fresh;
    }
    unsigned before = atomic_fetch_or(&bs->enabled, mask);
    if (before & mask) {
        atomic_fetch_and(&bs->enabled, ~(mask & ~before));
        for (size_t i = 0; i < BUILTIN_COUNT; i++)
            if (before & mask & (1u << i))
                return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                         "duplicate tool name '%s'",
                                         builtins[i]->name);
    }
    strands_status st = strands_tool_registry_refresh(reg, BUILTIN_SOURCE,
                                                      err);
    if (st != STRANDS_OK) atomic_fetch_and(&bs->enabled, ~mask);
    return st;
}

strands_status strands_tool_registry_add_builtin(strands_tool_registry *reg,
                                                 const char *name,
                                                 strands_error *err)
{
    size_t i = name ? builtin_index(name, strlen(name)) : BUILTIN_COUNT;
    if (i == BUILTIN_COUNT)
        return strands_error_set(err, STRANDS_E_NOT_FOUND, NULL,
                                 "unknown built-in tool '%.64s' (available: "
                                 "%s)", name ? name : "(null)",
                                 strands_builtin_tool_names());
    if (!reg)
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "tool registry is NULL");
    return enable(reg, 1u << i, NULL, err);
}

strands_status builtin_list_parse(const char *list, unsigned *mask_out,
                                  strands_error *err)
{
    unsigned mask = 0;
    const char *p = list ? list : "";
    while (*p) {
        const char *end = strchr(p, ',');
        if (!end) end = p + strlen(p);
        const char *a = p, *b = end;
        while (a < b && *a == ' ') a++;
        while (b > a && b[-1] == ' ') b--;
        if (b > a) {
            size_t i = builtin_index(a, (size_t)(b - a));
            if (i == BUILTIN_COUNT || (mask & (1u << i)))
                return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                         "unknown or duplicate tool "
                                         "'%.*s' (built-ins: %s)",
                                         (int)(b - a > 64 ? 64 : b - a), a,
                                         strands_builtin_tool_names());
            mask |= 1u << i;
        }
        p = *end ? end + 1 : end;
    }
    if (mask_out) *mask_out = mask;
    return STRANDS_OK;
}

strands_status strands_tool_registry_add_builtins(strands_tool_registry *reg,
                                                  const char *list,
                                                  strands_error *err)
{
    return builtin_add_tools(reg, list, NULL, err);
}

strands_status builtin_add_tools(strands_tool_registry *reg,
                                 const char *list,
                                 const builtin_options *opts,
                                 strands_error *err)
{
    unsigned mask = 0;
    strands_status st = builtin_list_parse(list, &mask, err);
    if (st != STRANDS_OK || !mask) return st;
    if (!reg)
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "tool registry is NULL");
    strands_error e;
    st = enable(reg, mask, opts, &e);
    if (st == STRANDS_E_NOMEM) /* not the list's fault */
        return strands_error_set(err, st, NULL,
                                 "out of memory adding the built-in tools");
    if (st != STRANDS_OK)
        return strands_error_set(err, STRANDS_E_INVALID, NULL, "%s",
                                 e.message);
    return STRANDS_OK;
}
