/* The sliding-window conversation manager (Strands'
 * SlidingWindowConversationManager): keeps the newest window_size
 * messages, cut where a history may start (Strands' trim rule, with its
 * fallback at an answered toolUse, opened by a short notice so the
 * history still starts with a user message); state adds
 * model_call_count.                                                     */
#include <string.h>

#include "agent/conversation_manager.h"

/* Cuts the history to the window. `overflow`: the model said it is too
 * long (trim even when it fits; an error when nothing can go). */
static strands_status trim(cm_state *s, cm_history *h, int overflow,
                           strands_error *err)
{
    size_t n = json_array_size(h->messages);
    size_t window = (size_t)s->cfg.window_size;
    if (window == 0) {
        cm_history_drop_front(h, n);
    } else {
        long fallback;
        size_t i = cm_trim_point(h->messages, window, &fallback);
        if (i < n) {
            cm_history_drop_front(h, i);
        } else if (fallback > 0) {
            json_t *notice = json_pack("{s:s, s:[{s:s}]}", "role", "user",
                                       "content", "text", CM_TRIMMED_NOTICE);
            strands_status st =
                notice ? cm_history_replace_front(h, (size_t)fallback, notice)
                       : STRANDS_E_NOMEM;
            json_decref(notice);
            if (st != STRANDS_OK)
                return strands_error_set(err, st, NULL, "OOM");
        } else if (overflow) {
            return strands_error_set(err, STRANDS_E_INVALID,
                                     STRANDS_ERROR_CONTEXT_OVERFLOW,
                                     "Unable to trim conversation context!");
        } else {
            return STRANDS_OK; /* nothing can go without breaking it */
        }
    }
    size_t start = cm_history_start(h);
    if (start > s->removed) s->removed = start;
    return STRANDS_OK;
}

static strands_status sliding_apply(cm_state *s, cm_history *h,
                                    const cm_summarizer *sum,
                                    strands_error *err)
{
    (void)sum;
    if (json_array_size(h->messages) <= (size_t)s->cfg.window_size)
        return STRANDS_OK;
    return trim(s, h, 0, err);
}

static strands_status sliding_reduce(cm_state *s, cm_history *h,
                                     const cm_summarizer *sum,
                                     strands_error *err)
{
    (void)sum;
    return trim(s, h, 1, err);
}

static strands_status sliding_save(const cm_state *s, json_t *out)
{
    return json_object_set_new(out, "model_call_count",
                               json_integer(s->model_calls))
               ? STRANDS_E_NOMEM
               : STRANDS_OK;
}

static strands_status sliding_restore(cm_state *s, const json_t *state)
{
    json_t *v = json_object_get(state, "model_call_count");
    if (json_is_integer(v) && json_integer_value(v) > 0)
        s->model_calls = json_integer_value(v);
    return STRANDS_OK;
}

const cm_vtab cm_sliding_vtab = {
    .version = CM_VTAB_VERSION,
    .state_name = "SlidingWindowConversationManager",
    .after_invocation = 1,
    .apply_management = sliding_apply,
    .reduce_context = sliding_reduce,
    .save = sliding_save,
    .restore = sliding_restore,
};
