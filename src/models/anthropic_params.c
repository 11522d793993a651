/* MODEL_PARAMS for the Anthropic provider (see anthropic.h): checked once
 * at start-up and turned into the members text every request body gets,
 * so no JSON tree is shared between concurrent calls.                   */
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "models/anthropic.h"

#define BAD(...) strands_error_set(err, STRANDS_E_INVALID, NULL, \
                                   "MODEL_PARAMS: " __VA_ARGS__)

/* Members the runtime sets itself. */
static const char *const reserved[] = {"model", "messages", "system",
                                       "tools", "tool_choice", "stream",
                                       "max_tokens"};

static strands_status check_thinking(const json_t *v, int max_tokens,
                                     strands_error *err)
{
    if (!json_is_object(v))
        return BAD("thinking must be an object, e.g. {\"type\":\"enabled\","
                   "\"budget_tokens\":2048}");
    const char *type = json_string_value(json_object_get(v, "type"));
    if (!type) return BAD("thinking.type must be a string");
    if (strcmp(type, "enabled")) return STRANDS_OK; /* disabled, adaptive */
    json_t *budget = json_object_get(v, "budget_tokens");
    if (!json_is_integer(budget) || json_integer_value(budget) < 1024)
        return BAD("thinking.budget_tokens must be an integer >= 1024");
    if (max_tokens > 0 && json_integer_value(budget) >= max_tokens)
        return BAD("thinking.budget_tokens (%lld) must be below MAX_TOKENS "
                   "(%d)", (long long)json_integer_value(budget), max_tokens);
    return STRANDS_OK;
}

static strands_status check_member(const char *key, const json_t *v,
                                   int max_tokens, strands_error *err)
{
    for (size_t i = 0; i < sizeof reserved / sizeof *reserved; i++)
        if (!strcmp(key, reserved[i]))
            return BAD("'%s' is set by the runtime (MODEL_ID, MAX_TOKENS, "
                       "the tools and the conversation)", key);
    if ((!strcmp(key, "temperature") || !strcmp(key, "top_p")) &&
        !json_is_number(v))
        return BAD("%s must be a number", key);
    if (!strcmp(key, "top_k") &&
        (!json_is_integer(v) || json_integer_value(v) < 0))
        return BAD("top_k must be an integer >= 0");
    if (!strcmp(key, "stop_sequences")) {
        size_t i;
        json_t *s;
        if (!json_is_array(v)) return BAD("stop_sequences must be an array");
        json_array_foreach(v, i, s)
            if (!json_is_string(s))
                return BAD("stop_sequences must hold strings");
    }
    if (!strcmp(key, "thinking")) return check_thinking(v, max_tokens, err);
    return STRANDS_OK;
}

/* Appends "key":value (comma first unless b is empty). */
static strands_status add_member(dynbuf *b, const char *key, const json_t *v)
{
    json_t *one = json_object();
    if (!one || json_object_set(one, key, (json_t *)v)) {
        json_decref(one);
        return STRANDS_E_NOMEM;
    }
    /* Measured, then written into a buffer of that size: jansson's
     * json_dumps can drop a key when an allocation fails inside it.    */
    size_t n = json_dumpb(one, NULL, 0, JSON_COMPACT);
    char *text = n ? malloc(n) : NULL;
    strands_status st = STRANDS_E_NOMEM;
    if (text && json_dumpb(one, text, n, JSON_COMPACT) == n) {
        st = b->len ? dynbuf_puts(b, ",") : STRANDS_OK;
        if (st == STRANDS_OK) st = dynbuf_append(b, text + 1, n - 2);
    }
    free(text);
    json_decref(one);
    return st;
}

strands_status anthropic_params_text(const char *params, int max_tokens,
                                     int drop_thinking, char **out,
                                     strands_error *err)
{
    *out = NULL;
    json_t *root = NULL;
    if (params && *params) {
        json_error_t je;
        root = json_loads(params, 0, &je);
        if (!json_is_object(root)) {
            json_decref(root);
            return root ? BAD("not a JSON object")
                        : BAD("not a JSON object: %s", je.text);
        }
    }
    json_t *extra = json_object_get(root, "additionalModelRequestFields");
    if (extra && !json_is_object(extra)) {
        json_decref(root);
        return BAD("additionalModelRequestFields must be an object");
    }
    dynbuf b;
    dynbuf_init(&b, 1024 * 1024);
    strands_status st = STRANDS_OK;
    const char *key;
    json_t *v;
    /* Two passes: the top level, then the lifted Bedrock-style members
     * (a key in both is refused rather than sent twice).               */
    for (int pass = 0; pass < 2 && st == STRANDS_OK; pass++) {
        json_t *obj = pass ? extra : root;
        json_object_foreach(obj, key, v) {
            if (!pass && !strcmp(key, "additionalModelRequestFields"))
                continue;
            if (pass && json_object_get(root, key)) {
                st = BAD("'%s' is set both at the top level and in "
                         "additionalModelRequestFields", key);
                break;
            }
            if ((st = check_member(key, v, max_tokens, err)) != STRANDS_OK)
                break;
            if (drop_thinking && !strcmp(key, "thinking")) continue;
            if ((st = add_member(&b, key, v)) != STRANDS_OK) {
                st = st == STRANDS_E_TOO_LARGE
                         ? BAD("larger than 1 MiB")
                         : strands_error_set(err, STRANDS_E_NOMEM, NULL,
                                             "out of memory");
                break;
            }
        }
    }
    json_decref(root);
    if (st == STRANDS_OK) {
        *out = dynbuf_take(&b, NULL);
        if (!*out)
            st = strands_error_set(err, STRANDS_E_NOMEM, NULL,
                                   "out of memory");
    }
    dynbuf_cleanup(&b);
    return st;
}
