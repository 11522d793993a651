/* Validation of the /invocations body's "prompt": a non-empty string, or
 * a non-empty array of Converse content blocks (text, image, document...).
 * Pure JSON; no HTTP. */
#include <stdio.h>
#include <string.h>

#include "server/internal.h"

static const char *const block_kinds[] = {
    "text", "image", "document", "video", "audio", "cachePoint",
    "guardContent", "reasoningContent", "citationsContent", "searchResult",
    NULL};

/* Checks one prompt content block: an object with exactly one known key. */
static int valid_block(const json_t *b, char *why, size_t whysz, size_t i)
{
    if (!json_is_object(b) || json_object_size(b) != 1) {
        snprintf(why, whysz, "prompt[%zu] must be an object with exactly one "
                             "content key (e.g. {\"text\": \"...\"})", i);
        return 0;
    }
    const char *key = json_object_iter_key(json_object_iter((json_t *)b));
    for (const char *const *k = block_kinds; *k; k++) {
        if (strcmp(*k, key)) continue;
        json_t *v = json_object_get(b, key);
        if (!strcmp(key, "text") &&
            (!json_is_string(v) || !json_string_length(v))) {
            snprintf(why, whysz, "prompt[%zu].text must be a non-empty "
                                 "string", i);
            return 0;
        }
        return 1;
    }
    snprintf(why, whysz, "prompt[%zu]: unsupported content block '%.40s'", i,
             key);
    return 0;
}

/* Turns the body's "prompt" into a content-block array (new reference), or
 * NULL with the reason in why. */
json_t *request_prompt_blocks(const json_t *body, char *why, size_t whysz)
{
    json_t *p = json_is_object(body) ? json_object_get(body, "prompt") : NULL;
    if (!p) {
        snprintf(why, whysz, "missing required field 'prompt'");
        return NULL;
    }
    if (json_is_string(p)) {
        if (!json_string_length(p)) {
            snprintf(why, whysz, "'prompt' must not be empty");
            return NULL;
        }
        return json_pack("[{s:O}]", "text", p);
    }
    if (!json_is_array(p) || !json_array_size(p)) {
        snprintf(why, whysz, "'prompt' must be a string or a non-empty array "
                             "of content blocks");
        return NULL;
    }
    size_t i;
    json_t *b;
    json_array_foreach(p, i, b) {
        if (!valid_block(b, why, whysz, i)) return NULL;
    }
    return json_incref(p);
}

