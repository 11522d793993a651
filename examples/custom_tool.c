/* Example: writing tools in C. Defines `word_count`, which counts the
 * words in {"text": "..."}, and a tiny tool SOURCE (the interface MCP
 * clients implement: list the tools, call one by name) offering `shout`;
 * registers both (with a built-in) in a registry, prints the toolSpec array
 * the model will see, and calls the tools through a snapshot, as the agent
 * loop does for a toolUse.                                              */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strands/clock.h"
#include "strands/tool.h"

/* Per-tool configuration, handed to the registry as `user`. The registry
 * owns it from then on and calls free_user once, when it is freed. Run
 * functions may be called on several threads at once, so treat it as
 * read-only there.                                                    */
typedef struct word_count_config {
    size_t max_chars;            /* refuse longer texts */
} word_count_config;

static void word_count_free(void *user)
{
    free(user);
}

/* The run function: read the input, fill *content_out with a new array of
 * ToolResultContent blocks and return STRANDS_OK, or return an error with
 * a message (the agent sends it to the model as an "error" toolResult). */
static strands_status word_count_run(void *user, const json_t *input,
                                     const strands_tool_context *ctx,
                                     json_t **content_out, strands_error *err)
{
    const word_count_config *cfg = user;
    (void)ctx;  /* ctx->tool_use_id, ctx->session_id, ctx->cancelled */

    const json_t *text = json_object_get(input, "text");
    if (!json_is_string(text))
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "\"text\" must be a string");
    size_t len = json_string_length(text);
    if (len > cfg->max_chars)
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "text too long (%zu characters, max %zu)",
                                 len, cfg->max_chars);

    const char *s = json_string_value(text);
    size_t words = 0;
    int in_word = 0;
    for (size_t i = 0; i < len; i++) {
        int space = isspace((unsigned char)s[i]);
        if (!space && !in_word) words++;
        in_word = !space;
    }

    /* [{"json": {"words": N}}]; a plain answer could be [{"text": "N"}]. */
    *content_out = json_pack("[{s:{s:I}}]", "json", "words",
                             (json_int_t)words);
    if (!*content_out)
        return strands_error_set(err, STRANDS_E_NOMEM, NULL, "out of memory");
    return STRANDS_OK;
}

static strands_status add_word_count(strands_tool_registry *reg,
                                     strands_error *err)
{
    word_count_config *cfg = malloc(sizeof *cfg);
    if (!cfg)
        return strands_error_set(err, STRANDS_E_NOMEM, NULL, "out of memory");
    cfg->max_chars = 100000;

    strands_tool_def def = {
        .name = "word_count",
        .description = "Counts the words (runs of non-space characters) "
                       "in a text.",
        .input_schema_json =
            "{\"type\": \"object\","
            " \"properties\": {\"text\": {\"type\": \"string\","
            "   \"description\": \"The text to count words in\"}},"
            " \"required\": [\"text\"]}",
        .run = word_count_run,
        .user = cfg,
        .free_user = word_count_free,
    };
    /* On failure the registry has already freed cfg via free_user. */
    return strands_tool_registry_add(reg, &def, err);
}

/* ---- a tool source ------------------------------------------------------ */

/* list: the tools this source offers now (it may change; the registry
 * re-lists on strands_tool_registry_refresh).                          */
static strands_status shout_list(void *user, json_t **tools_out,
                                 strands_error *err)
{
    (void)user;
    *tools_out = json_pack(
        "[{s:s, s:s, s:{s:s, s:{s:{s:s}}, s:[s]}}]", "name", "shout",
        "description", "Upper-cases a text.", "inputSchema", "type", "object",
        "properties", "text", "type", "string", "required", "text");
    return *tools_out ? STRANDS_OK
                      : strands_error_set(err, STRANDS_E_NOMEM, NULL, "OOM");
}

/* call: runs one of the listed tools by name (any thread, concurrently). */
static strands_status shout_call(void *user, const char *name,
                                 const json_t *input,
                                 const strands_tool_context *ctx,
                                 json_t **content_out, strands_error *err)
{
    (void)user;
    (void)name;
    if (ctx && ctx->deadline_ms && strands_clock_mono_ms() > ctx->deadline_ms)
        return strands_error_set(err, STRANDS_E_TIMEOUT, NULL, "too late");
    const char *text = json_string_value(json_object_get(input, "text"));
    if (!text)
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "\"text\" must be a string");
    size_t n = strlen(text);
    char *up = malloc(n + 1);
    if (up) memcpy(up, text, n + 1);
    if (!up) return strands_error_set(err, STRANDS_E_NOMEM, NULL, "OOM");
    for (char *p = up; *p; p++) *p = (char)toupper((unsigned char)*p);
    *content_out = json_pack("[{s:s}]", "text", up);
    free(up);
    return *content_out ? STRANDS_OK
                        : strands_error_set(err, STRANDS_E_NOMEM, NULL, "OOM");
}

static const strands_tool_source_vtab shout_source = {
    .version = STRANDS_TOOL_SOURCE_VTAB_VERSION,
    .kind = "example",
    .list = shout_list,
    .call = shout_call,
    /* start, stop, destroy: nothing to do for this one */
};

/* Calls `name` from a snapshot and prints the result; 0 on success. */
static int call_and_print(const strands_tool_snapshot *snap, const char *name,
                          const json_t *input, json_t **content)
{
    strands_error err;
    strands_tool_context ctx = {
        .tool_use_id = "tooluse_example_1",
        .session_id = "example-session",
        .deadline_ms = strands_clock_mono_ms() + 5000};
    *content = NULL;
    if (strands_tool_call(strands_tool_snapshot_find(snap, name), input, &ctx,
                          content, &err) != STRANDS_OK) {
        fprintf(stderr, "%s failed: %s\n", name, err.message);
        return 1;
    }
    char *out = json_dumps(*content, JSON_COMPACT);
    printf("%s -> %s\n", name, out ? out : "?");
    free(out);
    return 0;
}

int main(void)
{
    strands_error err;
    strands_tool_registry *reg = strands_tool_registry_new();
    if (!reg) return 1;
    if (add_word_count(reg, &err) != STRANDS_OK ||
        strands_tool_registry_add_builtin(reg, "calculator", &err) !=
            STRANDS_OK ||
        strands_tool_registry_add_source(reg, &shout_source, "example:shout",
                                         NULL, &err) != STRANDS_OK) {
        fprintf(stderr, "cannot add tool: %s\n", err.message);
        strands_tool_registry_free(reg);
        return 1;
    }

    /* What the model is told (Converse toolConfig.tools). */
    char *specs = json_dumps(strands_tool_registry_specs(reg), JSON_INDENT(2));
    printf("tools:\n%s\n", specs ? specs : "?");
    free(specs);

    /* What the agent does with a toolUse: look the tool up in the snapshot
     * it took for this model turn and call it. */
    strands_tool_snapshot *snap = strands_tool_registry_snapshot(reg);
    json_t *input = json_pack("{s:s}", "text",
                              "the quick  brown fox\njumps over the lazy dog");
    json_t *content = NULL, *shouted = NULL;
    int rc = call_and_print(snap, "word_count", input, &content) ||
             call_and_print(snap, "shout", input, &shouted);
    if (!rc) {
        json_t *words = json_object_get(
            json_object_get(json_array_get(content, 0), "json"), "words");
        rc = json_integer_value(words) == 9 ? 0 : 1;
    }
    json_decref(shouted);
    json_decref(content);
    json_decref(input);
    strands_tool_snapshot_release(snap);
    strands_tool_registry_free(reg);   /* calls word_count_free(cfg) */
    return rc;
}
