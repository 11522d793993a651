/* The agent state of one invocation (strands_tool_state): the session's
 * "state" object, shared by the concurrent tool calls of the turn behind a
 * mutex, reference-counted because an abandoned tool call may outlive the
 * invocation, and closed when the turn ends (later writes are refused).
 * Also the public strands_tool_state_get/set/delete.                     */
#include <stdlib.h>
#include <string.h>

#include "agent/internal.h"

struct strands_tool_state {
    pthread_mutex_t lock;   /* guards everything below */
    atomic_int refs;
    json_t *state;          /* a JSON object, owned */
    int changed;            /* set or delete succeeded */
    int closed;             /* the turn took the state: writes refused */
};

strands_tool_state *agent_state_new(const json_t *initial)
{
    strands_tool_state *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->state = json_is_object(initial) ? json_deep_copy(initial)
                                       : json_object();
    if (!s->state || pthread_mutex_init(&s->lock, NULL) != 0) {
        json_decref(s->state);
        free(s);
        return NULL;
    }
    atomic_init(&s->refs, 1);
    return s;
}

strands_tool_state *agent_state_ref(strands_tool_state *s)
{
    if (s) atomic_fetch_add(&s->refs, 1);
    return s;
}

void agent_state_unref(strands_tool_state *s)
{
    if (!s || atomic_fetch_sub(&s->refs, 1) != 1) return;
    json_decref(s->state);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

strands_status agent_state_close(strands_tool_state *s, json_t **changed)
{
    *changed = NULL;
    if (!s) return STRANDS_OK;
    pthread_mutex_lock(&s->lock);
    s->closed = 1;
    /* A copy: an abandoned tool call may still hold the handle, and
     * nothing of the state is shared between threads. */
    if (s->changed) *changed = json_deep_copy(s->state);
    int nomem = s->changed && !*changed;
    pthread_mutex_unlock(&s->lock);
    return nomem ? STRANDS_E_NOMEM : STRANDS_OK;
}

static strands_status check_key(const strands_tool_context *ctx,
                                const char *key, strands_error *err)
{
    if (!ctx || !ctx->state)
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "this tool call has no agent state");
    size_t n = key ? strnlen(key, STRANDS_TOOL_STATE_KEY_MAX + 1) : 0;
    if (n == 0 || n > STRANDS_TOOL_STATE_KEY_MAX)
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "state key must be 1..%d bytes",
                                 STRANDS_TOOL_STATE_KEY_MAX);
    json_t *probe = json_string(key);   /* NULL: not UTF-8 (or OOM) */
    json_decref(probe);
    if (!probe)
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "state key must be valid UTF-8");
    return STRANDS_OK;
}

json_t *strands_tool_state_get(const strands_tool_context *ctx,
                               const char *key)
{
    if (check_key(ctx, key, NULL) != STRANDS_OK) return NULL;
    strands_tool_state *s = ctx->state;
    pthread_mutex_lock(&s->lock);
    json_t *v = json_object_get(s->state, key);
    json_t *copy = v ? json_deep_copy(v) : NULL;
    pthread_mutex_unlock(&s->lock);
    return copy;
}

/* Under s->lock: refuses writes once the turn has taken the state. */
static strands_status check_open(const strands_tool_state *s,
                                 strands_error *err)
{
    if (!s->closed) return STRANDS_OK;
    return strands_error_set(err, STRANDS_E_INVALID, NULL,
                             "the invocation has ended: its agent state can "
                             "no longer change");
}

strands_status strands_tool_state_set(const strands_tool_context *ctx,
                                      const char *key, const json_t *value,
                                      strands_error *err)
{
    strands_status st = check_key(ctx, key, err);
    if (st != STRANDS_OK) return st;
    if (!value)
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "state value is missing");
    /* The copy is made and measured before the lock is taken. */
    size_t vsize =
        json_dumpb(value, NULL, 0, JSON_COMPACT | JSON_ENCODE_ANY);
    /* Every jansson value serializes: 0 means the dump ran out of memory
     * (jansson allocates to detect cycles). */
    if (vsize == 0)
        return strands_error_set(err, STRANDS_E_NOMEM, NULL,
                                 "out of memory measuring state '%.64s'",
                                 key);
    if (vsize > STRANDS_TOOL_STATE_MAX_BYTES)
        return strands_error_set(err, STRANDS_E_TOO_LARGE, NULL,
                                 "state value for '%.64s' is %zu bytes, "
                                 "over the %zu-byte state limit", key, vsize,
                                 STRANDS_TOOL_STATE_MAX_BYTES);
    json_t *copy = json_deep_copy(value);
    if (!copy)
        return strands_error_set(err, STRANDS_E_NOMEM, NULL,
                                 "out of memory copying state '%.64s'", key);
    strands_tool_state *s = ctx->state;
    pthread_mutex_lock(&s->lock);
    st = check_open(s, err);
    json_t *old = NULL;
    if (st == STRANDS_OK) {
        old = json_object_get(s->state, key);
        json_incref(old);
        if (json_object_set(s->state, key, copy))
            st = strands_error_set(err, STRANDS_E_NOMEM, NULL,
                                   "out of memory setting state '%.64s'",
                                   key);
    }
    if (st == STRANDS_OK) {
        size_t total = json_dumpb(s->state, NULL, 0, JSON_COMPACT);
        if (total == 0 || total > STRANDS_TOOL_STATE_MAX_BYTES) {
            /* Put the state back as it was (replacing an existing key
             * and deleting one do not allocate). */
            if (old) json_object_set(s->state, key, old);
            else json_object_del(s->state, key);
            st = total == 0
                     ? strands_error_set(err, STRANDS_E_NOMEM, NULL,
                                         "out of memory measuring the "
                                         "agent state")
                     : strands_error_set(err, STRANDS_E_TOO_LARGE, NULL,
                                         "agent state would be %zu bytes, "
                                         "over the %zu-byte limit", total,
                                         STRANDS_TOOL_STATE_MAX_BYTES);
        } else {
            s->changed = 1;
        }
    }
    pthread_mutex_unlock(&s->lock);
    json_decref(old);
    json_decref(copy);
    return st;
}

strands_status strands_tool_state_delete(const strands_tool_context *ctx,
                                         const char *key, strands_error *err)
{
    strands_status st = check_key(ctx, key, err);
    if (st != STRANDS_OK) return st;
    strands_tool_state *s = ctx->state;
    pthread_mutex_lock(&s->lock);
    st = check_open(s, err);
    if (st == STRANDS_OK && json_object_del(s->state, key) == 0)
        s->changed = 1;
    pthread_mutex_unlock(&s->lock);
    return st;
}
