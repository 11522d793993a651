/* Example: your own AgentCore runtime with a tool written in C. It is the
 * stock strands-runtime (same configuration, HTTP contract, logging and
 * shutdown) plus one extra tool, `reverse_text`, added through the
 * add_tools hook. Build it with the project (example-custom_runtime) and run
 * it exactly like strands-runtime.                                      */
#include <stdlib.h>
#include <string.h>

#include "strands/runtime.h"

/* Reverses {"text": "..."} byte by byte (ASCII example). */
static strands_status reverse_run(void *user, const json_t *input,
                                  const strands_tool_context *ctx,
                                  json_t **content_out, strands_error *err)
{
    (void)user;
    (void)ctx;
    const char *text = json_string_value(json_object_get(input, "text"));
    if (!text)
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "\"text\" must be a string");
    size_t n = strlen(text);
    char *out = malloc(n + 1);
    if (!out)
        return strands_error_set(err, STRANDS_E_NOMEM, NULL, "out of memory");
    for (size_t i = 0; i < n; i++) out[i] = text[n - 1 - i];
    out[n] = '\0';
    *content_out = json_pack("[{s:s}]", "text", out);
    free(out);
    return *content_out ? STRANDS_OK
                        : strands_error_set(err, STRANDS_E_NOMEM, NULL, "OOM");
}

static strands_status add_my_tools(void *user, strands_tool_registry *reg,
                                   strands_error *err)
{
    (void)user;
    strands_tool_def def = {
        .name = "reverse_text",
        .description = "Reverses a text.",
        .input_schema_json = "{\"type\":\"object\",\"properties\":"
                             "{\"text\":{\"type\":\"string\"}},"
                             "\"required\":[\"text\"]}",
        .run = reverse_run,
    };
    return strands_tool_registry_add(reg, &def, err);
}

int main(int argc, char **argv)
{
    strands_runtime_hooks hooks = {.add_tools = add_my_tools};
    return strands_runtime_main(argc, argv, &hooks);
}
