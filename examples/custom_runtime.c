/* Example: your own AgentCore runtime. It is the stock strands-runtime
 * (same settings, HTTP contract, logging and shutdown) plus what this
 * binary registers before calling strands_runtime_main:
 *   - a tool source "example" that adds the C tool `reverse_text`;
 *   - a model provider "echo" (MODEL_PROVIDER=echo) that answers with the
 *     last user text, behind a prefix read from its own setting
 *     ECHO_PREFIX (listed by --help, validated at start-up like PORT).
 * Build it with the project (example-custom_runtime) and run it exactly
 * like strands-runtime.                                                 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strands/runtime.h"

/* ---- a tool source: reverse_text --------------------------------------- */

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

/* Called once at start-up, after the built-in tools were added. */
static strands_status add_my_tools(const strands_tool_source_context *ctx,
                                   strands_tool_registry *reg,
                                   strands_error *err)
{
    (void)ctx;
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

static const strands_tool_source_provider my_tools = {
    .version = STRANDS_TOOL_SOURCE_PROVIDER_VERSION,
    .name = "example",
    .description = "reverse_text, a tool written in C",
    .add_tools = add_my_tools,
};

/* ---- a model provider: echo -------------------------------------------- */

/* The provider's settings: one struct, one row per field. */
typedef struct echo_settings {
    char *prefix; /* ECHO_PREFIX */
} echo_settings;

static const strands_setting echo_rows[] = {
    {.name = "ECHO_PREFIX", .type = STRANDS_SETTING_STRING,
     .flags = STRANDS_SETTING_ALLOW_EMPTY, .def = "echo: ",
     .offset = offsetof(echo_settings, prefix),
     .help = "text the echo model puts before the user's words"},
};

static const strands_settings_group echo_group = {
    .version = STRANDS_SETTINGS_GROUP_VERSION,
    .title = "Echo model",
    .rows = echo_rows,
    .n_rows = sizeof echo_rows / sizeof echo_rows[0],
    .struct_size = sizeof(echo_settings),
};

/* The model: a strands_model first, then its own state. */
typedef struct echo_model {
    strands_model base;
    char *prefix;
} echo_model;

/* The text of the last user message's first text block, or "". */
static const char *last_user_text(const json_t *messages)
{
    for (size_t i = json_array_size(messages); i-- > 0;) {
        const json_t *m = json_array_get(messages, i);
        const char *role = json_string_value(json_object_get(m, "role"));
        if (!role || strcmp(role, "user")) continue;
        const json_t *content = json_object_get(m, "content");
        for (size_t j = 0; j < json_array_size(content); j++) {
            const char *t = json_string_value(
                json_object_get(json_array_get(content, j), "text"));
            if (t) return t;
        }
    }
    return "";
}

static strands_status echo_converse(strands_model *self,
                                    const strands_model_request *req,
                                    strands_model_response *out,
                                    strands_error *err)
{
    echo_model *m = (echo_model *)self;
    const char *said = last_user_text(req->messages);
    size_t n = strlen(m->prefix) + strlen(said);
    char *text = malloc(n + 1);
    if (!text)
        return strands_error_set(err, STRANDS_E_NOMEM, NULL, "out of memory");
    snprintf(text, n + 1, "%s%s", m->prefix, said);
    if (req->on_stream) {
        strands_model_stream_event ev = {.type = STRANDS_MODEL_STREAM_TEXT,
                                         .data = text, .len = n};
        req->on_stream(req->stream_user, &ev);
    }
    memset(out, 0, sizeof *out);
    out->message = json_pack("{s:s, s:[{s:s}]}", "role", "assistant",
                             "content", "text", text);
    free(text);
    if (!out->message)
        return strands_error_set(err, STRANDS_E_NOMEM, NULL, "out of memory");
    out->stop = STRANDS_STOP_END_TURN;
    snprintf(out->stop_reason, sizeof out->stop_reason, "end_turn");
    return STRANDS_OK;
}

static void echo_destroy(strands_model *self)
{
    echo_model *m = (echo_model *)self;
    free(m->prefix);
    free(m);
}

static const strands_model_vtab echo_vtab = {
    .version = STRANDS_MODEL_VTAB_VERSION,
    .name = "echo",
    .converse = echo_converse,
    .destroy = echo_destroy,
};

/* The factory: ctx->settings is an echo_settings, loaded and validated. */
static strands_model *echo_create(strands_model_provider_context *ctx,
                                  strands_error *err)
{
    const echo_settings *es = ctx->settings;
    echo_model *m = calloc(1, sizeof *m);
    if (m) m->prefix = strdup(es->prefix);
    if (!m || !m->prefix) {
        free(m);
        strands_error_set(err, STRANDS_E_NOMEM, NULL, "out of memory");
        return NULL;
    }
    m->base.vtab = &echo_vtab;
    return &m->base;
}

static const strands_model_provider echo_provider = {
    .version = STRANDS_MODEL_PROVIDER_VERSION,
    .name = "echo",
    .description = "answers with the user's last text (an example)",
    .settings = &echo_group,
    .create = echo_create,
};

int main(int argc, char **argv)
{
    strands_error err;
    if (strands_tool_source_provider_register(&my_tools, &err) != STRANDS_OK ||
        strands_model_provider_register(&echo_provider, &err) != STRANDS_OK) {
        fprintf(stderr, "custom_runtime: %s\n", err.message);
        return 1;
    }
    return strands_runtime_main(argc, argv);
}
