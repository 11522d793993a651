/* Example: writing a tool in C. Defines `word_count`, which counts the
 * words in {"text": "..."}, registers it (with a built-in) in a registry,
 * prints the toolSpec array the model will see, and calls the tool once
 * through strands_tool_call, as the agent loop does for a toolUse.      */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>

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

int main(void)
{
    strands_error err;
    strands_tool_registry *reg = strands_tool_registry_new();
    if (!reg) return 1;
    if (add_word_count(reg, &err) != STRANDS_OK ||
        strands_tool_registry_add_builtin(reg, "calculator", &err) !=
            STRANDS_OK) {
        fprintf(stderr, "cannot add tool: %s\n", err.message);
        strands_tool_registry_free(reg);
        return 1;
    }

    /* What the model is told (Converse toolConfig.tools). */
    char *specs = json_dumps(strands_tool_registry_specs(reg), JSON_INDENT(2));
    printf("tools:\n%s\n", specs ? specs : "?");
    free(specs);

    /* What the agent does with toolUse {"name":"word_count","input":...}. */
    const strands_tool *tool = strands_tool_registry_find(reg, "word_count");
    json_t *input = json_pack("{s:s}", "text",
                              "the quick  brown fox\njumps over the lazy dog");
    strands_tool_context ctx = {.tool_use_id = "tooluse_example_1",
                                .session_id = "example-session"};
    json_t *content = NULL;
    strands_status st = strands_tool_call(tool, input, &ctx, &content, &err);
    int rc = 1;
    if (st == STRANDS_OK) {
        char *out = json_dumps(content, JSON_COMPACT);
        printf("word_count -> %s\n", out ? out : "?");
        free(out);
        json_t *words = json_object_get(
            json_object_get(json_array_get(content, 0), "json"), "words");
        rc = json_integer_value(words) == 9 ? 0 : 1;
    } else {
        fprintf(stderr, "word_count failed: %s\n", err.message);
    }
    json_decref(content);
    json_decref(input);
    strands_tool_registry_free(reg);   /* calls word_count_free(cfg) */
    return rc;
}
