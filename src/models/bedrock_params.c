/* MODEL_PARAMS and the guardrail settings for Bedrock Converse (see
 * bedrock_params.h). Common keys (snake_case as Strands' model config,
 * or Converse's own camelCase) go into inferenceConfig; every other key
 * goes into the body as it is, except the members the provider builds.  */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "models/bedrock_params.h"

/* MODEL_PARAMS key -> inferenceConfig member. */
static const struct {
    const char *key, *member;
} inference_keys[] = {
    {"temperature", "temperature"},     {"top_p", "topP"},
    {"topP", "topP"},                   {"stop_sequences", "stopSequences"},
    {"stopSequences", "stopSequences"},
};

/* Body members the provider builds itself. */
static const char *const reserved[] = {
    "messages", "system", "toolConfig", "inferenceConfig", "guardrailConfig",
    "modelId", NULL};

static strands_status bad(strands_error *err, const char *key,
                          const char *why)
{
    return strands_error_set(err, STRANDS_E_INVALID, NULL,
                             "MODEL_PARAMS.%.64s: %s", key, why);
}

/* Compact JSON of an object's members without the braces ("" when it has
 * none), or NULL on OOM.                                               */
static char *members_text(const json_t *obj)
{
    char *text = json_dumps(obj, JSON_COMPACT | JSON_SORT_KEYS);
    if (!text) return NULL;
    size_t n = strlen(text);
    memmove(text, text + 1, n - 2);
    text[n - 2] = '\0';
    return text;
}

static strands_status split_params(const char *params_json, json_t *inf,
                                   json_t *extra, int *max_tokens,
                                   strands_error *err)
{
    if (!params_json) return STRANDS_OK;
    json_error_t je;
    json_t *p = json_loads(params_json, 0, &je);
    if (!json_is_object(p)) {
        json_decref(p);
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "MODEL_PARAMS: not a JSON object");
    }
    const char *key;
    json_t *v;
    strands_status st = STRANDS_OK;
    json_object_foreach(p, key, v) {
        if (st != STRANDS_OK) break;
        if (!strcmp(key, "max_tokens") || !strcmp(key, "maxTokens")) {
            if (!json_is_integer(v) || json_integer_value(v) < 1 ||
                json_integer_value(v) > 1000000)
                st = bad(err, key, "must be an integer in 1..1000000");
            else
                *max_tokens = (int)json_integer_value(v);
            continue;
        }
        const char *member = NULL;
        for (size_t i = 0; i < sizeof inference_keys / sizeof *inference_keys;
             i++)
            if (!strcmp(key, inference_keys[i].key))
                member = inference_keys[i].member;
        if (member && !strcmp(member, "stopSequences")) {
            size_t i;
            json_t *s;
            int ok = json_is_array(v) && json_array_size(v) <= 64;
            json_array_foreach(v, i, s) ok = ok && json_is_string(s);
            if (!ok) {
                st = bad(err, key, "must be an array of at most 64 strings");
                continue;
            }
        } else if (member && !json_is_number(v)) {
            st = bad(err, key, "must be a number");
            continue;
        }
        if (member) {
            if (json_object_set(inf, member, v))
                st = strands_error_set(err, STRANDS_E_NOMEM, NULL, "OOM");
            continue;
        }
        for (const char *const *r = reserved; *r; r++)
            if (!strcmp(key, *r))
                st = bad(err, key, "is built by the provider and cannot be "
                                   "set here");
        if (st == STRANDS_OK && json_object_set(extra, key, v))
            st = strands_error_set(err, STRANDS_E_NOMEM, NULL, "OOM");
    }
    json_decref(p);
    return st;
}

/* The top-level members for a call that forces a tool: extra without
 * additionalModelRequestFields.thinking (Claude on Bedrock refuses a
 * forced toolChoice with thinking on), the whole member dropped when
 * nothing else is in it. A new reference, or NULL on OOM.             */
static json_t *forced_extra(json_t *extra)
{
    json_t *copy = json_deep_copy(extra);
    json_t *amrf = copy ? json_object_get(copy, "additionalModelRequestFields")
                        : NULL;
    if (json_is_object(amrf) && json_object_get(amrf, "thinking")) {
        json_object_del(amrf, "thinking");
        if (!json_object_size(amrf))
            json_object_del(copy, "additionalModelRequestFields");
    }
    return copy;
}

static strands_status guardrail(const strands_bedrock_config *cfg,
                                bedrock_params *out, strands_error *err)
{
    if (!cfg->guardrail_id) return STRANDS_OK;
    if (!cfg->guardrail_version || !*cfg->guardrail_version)
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "GUARDRAIL_VERSION: required with "
                                 "GUARDRAIL_ID (a version number or "
                                 "DRAFT)");
    const char *trace = cfg->guardrail_trace ? cfg->guardrail_trace
                                             : "enabled";
    const char *mode = cfg->guardrail_stream_mode
                           ? cfg->guardrail_stream_mode
                           : "sync";
    json_t *g = json_pack("{s:s, s:s, s:s}", "guardrailIdentifier",
                          cfg->guardrail_id, "guardrailVersion",
                          cfg->guardrail_version, "trace", trace);
    out->guardrail_json = g ? json_dumps(g, JSON_COMPACT) : NULL;
    if (g) json_object_set_new(g, "streamProcessingMode", json_string(mode));
    out->guardrail_stream_json = g ? json_dumps(g, JSON_COMPACT) : NULL;
    json_decref(g);
    if (cfg->guardrail_redact_input)
        out->redact_input = strdup(cfg->guardrail_redact_input);
    if (!out->guardrail_json || !out->guardrail_stream_json ||
        (cfg->guardrail_redact_input && !out->redact_input))
        return strands_error_set(err, STRANDS_E_NOMEM, NULL, "OOM");
    return STRANDS_OK;
}

strands_status bedrock_params_init(const strands_bedrock_config *cfg,
                                   bedrock_params *out, strands_error *err)
{
    memset(out, 0, sizeof *out);
    json_t *inf = json_object(), *extra = json_object();
    int max_tokens = 0;
    strands_status st =
        inf && extra ? split_params(cfg->params_json, inf, extra, &max_tokens,
                                    err)
                     : strands_error_set(err, STRANDS_E_NOMEM, NULL, "OOM");
    if (st == STRANDS_OK) {
        out->inference_json = members_text(inf);
        out->extra_json = members_text(extra);
        json_t *forced = forced_extra(extra);
        out->extra_forced_json = forced ? members_text(forced) : NULL;
        json_decref(forced);
        if (!out->inference_json || !out->extra_json ||
            !out->extra_forced_json)
            st = strands_error_set(err, STRANDS_E_NOMEM, NULL, "OOM");
    }
    json_decref(inf);
    json_decref(extra);
    if (st == STRANDS_OK) st = guardrail(cfg, out, err);
    if (st != STRANDS_OK) {
        bedrock_params_cleanup(out);
        return st;
    }
    converse_options o = {.cache_points = cfg->prompt_cache,
                          .max_tokens = max_tokens,
                          .inference_json = out->inference_json,
                          .extra_json = out->extra_json,
                          .extra_forced_json = out->extra_forced_json,
                          .guardrail_json = out->guardrail_json};
    out->converse = o;
    o.guardrail_json = out->guardrail_stream_json;
    out->stream = o;
    return STRANDS_OK;
}

void bedrock_params_cleanup(bedrock_params *p)
{
    free(p->inference_json);
    free(p->extra_json);
    free(p->extra_forced_json);
    free(p->guardrail_json);
    free(p->guardrail_stream_json);
    free(p->redact_input);
    memset(p, 0, sizeof *p);
}
