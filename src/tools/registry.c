/* The tool registry (include/strands/tool.h): owns each tool's copied name,
 * description and normalised JSON schema, the user data handed over by
 * strands_tool_registry_add, and the cached Converse toolSpec array.
 * strands_tool_call wraps a tool's run function and checks what it returns. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strands/tool.h"

#define TOOL_NAME_MAX 64

struct strands_tool {
    char *name;
    char *description;
    json_t *schema;              /* normalised; also referenced by specs */
    strands_tool_run_fn *run;
    void *user;
    void (*free_user)(void *user);
};

struct strands_tool_registry {
    strands_tool **tools;        /* in the order they were added */
    size_t count;
    size_t cap;
    json_t *specs;               /* [{"toolSpec":{...}}...], one per tool */
};

strands_tool_registry *strands_tool_registry_new(void)
{
    strands_tool_registry *reg = calloc(1, sizeof *reg);
    if (!reg) return NULL;
    reg->specs = json_array();
    if (!reg->specs) {
        free(reg);
        return NULL;
    }
    return reg;
}

static void tool_free(strands_tool *tool)
{
    if (!tool) return;
    if (tool->free_user) tool->free_user(tool->user);
    json_decref(tool->schema);
    free(tool->name);
    free(tool->description);
    free(tool);
}

void strands_tool_registry_free(strands_tool_registry *reg)
{
    if (!reg) return;
    for (size_t i = 0; i < reg->count; i++) tool_free(reg->tools[i]);
    free(reg->tools);
    json_decref(reg->specs);
    free(reg);
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

static strands_status check_duplicate(const strands_tool_registry *reg,
                                      const char *name, strands_error *err)
{
    for (size_t i = 0; i < reg->count; i++) {
        const char *other = reg->tools[i]->name;
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

/* Parses the schema text (NULL: empty object) and applies the Strands
 * defaults: "type":"object" and "properties":{} when absent.              */
static strands_status load_schema(const char *text, const char *tool_name,
                                  json_t **out, strands_error *err)
{
    json_t *schema;
    if (text) {
        json_error_t jerr;
        schema = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
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
        if (!schema) goto nomem;
    }
    if (!json_object_get(schema, "type") &&
        json_object_set_new(schema, "type", json_string("object")) != 0)
        goto nomem_schema;
    if (!json_object_get(schema, "properties") &&
        json_object_set_new(schema, "properties", json_object()) != 0)
        goto nomem_schema;
    *out = schema;
    return STRANDS_OK;

nomem_schema:
    json_decref(schema);
nomem:
    return strands_error_set(err, STRANDS_E_NOMEM, NULL,
                             "out of memory loading the schema of tool '%s'",
                             tool_name);
}

/* ---- adding tools -------------------------------------------------------- */

static json_t *make_spec(const strands_tool *tool)
{
    return json_pack("{s:{s:s, s:s, s:{s:O}}}", "toolSpec", "name",
                     tool->name, "description", tool->description,
                     "inputSchema", "json", tool->schema);
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

/* Builds the tool from def; on failure frees what it built, but never
 * def->user (the caller does that).                                     */
static strands_status tool_new(const strands_tool_def *def,
                               strands_tool **out, strands_error *err)
{
    strands_tool *tool = calloc(1, sizeof *tool);
    if (!tool) goto nomem;
    tool->name = strdup(def->name);
    tool->description = def->description && def->description[0]
                            ? strdup(def->description)
                            : default_description(def->name);
    if (!tool->name || !tool->description) goto nomem;
    strands_status st = load_schema(def->input_schema_json, def->name,
                                    &tool->schema, err);
    if (st != STRANDS_OK) {
        tool_free(tool);
        return st;
    }
    tool->run = def->run;
    *out = tool;
    return STRANDS_OK;

nomem:
    tool_free(tool);
    return strands_error_set(err, STRANDS_E_NOMEM, NULL,
                             "out of memory adding tool '%s'", def->name);
}

static strands_status append_tool(strands_tool_registry *reg,
                                  strands_tool *tool, strands_error *err)
{
    if (reg->count == reg->cap) {
        size_t cap = reg->cap ? reg->cap * 2 : 8;
        strands_tool **tools = realloc(reg->tools, cap * sizeof *tools);
        if (!tools) goto nomem;
        reg->tools = tools;
        reg->cap = cap;
    }
    json_t *spec = make_spec(tool);
    if (!spec || json_array_append_new(reg->specs, spec) != 0) goto nomem;
    reg->tools[reg->count++] = tool;
    return STRANDS_OK;

nomem:
    return strands_error_set(err, STRANDS_E_NOMEM, NULL,
                             "out of memory adding tool '%s'", tool->name);
}

strands_status strands_tool_registry_add(strands_tool_registry *reg,
                                         const strands_tool_def *def,
                                         strands_error *err)
{
    if (!def)
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "tool definition is NULL");
    strands_status st = STRANDS_OK;
    strands_tool *tool = NULL;
    if (!reg)
        st = strands_error_set(err, STRANDS_E_INVALID, NULL,
                               "tool registry is NULL");
    if (st == STRANDS_OK) st = check_name(def->name, err);
    if (st == STRANDS_OK) st = check_duplicate(reg, def->name, err);
    if (st == STRANDS_OK && !def->run)
        st = strands_error_set(err, STRANDS_E_INVALID, NULL,
                               "tool '%s' has no run function", def->name);
    if (st == STRANDS_OK) st = tool_new(def, &tool, err);
    if (st == STRANDS_OK) st = append_tool(reg, tool, err);
    if (st != STRANDS_OK) {
        tool_free(tool);                  /* user not yet attached */
        if (def->free_user) def->free_user(def->user);
        return st;
    }
    tool->user = def->user;
    tool->free_user = def->free_user;
    return STRANDS_OK;
}

/* ---- lookups ------------------------------------------------------------- */

const strands_tool *strands_tool_registry_find(const strands_tool_registry *reg,
                                               const char *name)
{
    if (!reg || !name) return NULL;
    for (size_t i = 0; i < reg->count; i++) {
        if (strcmp(reg->tools[i]->name, name) == 0) return reg->tools[i];
    }
    return NULL;
}

size_t strands_tool_registry_count(const strands_tool_registry *reg)
{
    return reg ? reg->count : 0;
}

const json_t *strands_tool_registry_specs(const strands_tool_registry *reg)
{
    return reg ? reg->specs : NULL;
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
    strands_status st = tool->run(tool->user, input, ctx, &content, e);
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
