/* libFuzzer target for the conversation managers (src/agent/
 * conversation_manager.c, cm_sliding.c, cm_summarizing.c): whatever log
 * a store hands back, restored into a working history, every window the
 * sliding window applies or reduces to, every summary split, the
 * truncation of tool results and a stored state of any shape leave a
 * history that passes cm_history_validate, a removed count no larger than
 * the log, and the log untouched. Never crash, leak or hang.            */
#include <stdint.h>
#include <stdlib.h>

#include <jansson.h>

#include "agent/conversation.h"
#include "agent/conversation_manager.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static strands_status summarize(void *user, const json_t *messages,
                                json_t **reply_out, strands_error *err)
{
    (void)user;
    if (cm_history_validate(messages, NULL) != STRANDS_OK) abort();
    *reply_out = json_pack("{s:s, s:[{s:s}]}", "role", "assistant",
                           "content", "text", "summary");
    return *reply_out ? STRANDS_OK
                      : strands_error_set(err, STRANDS_E_NOMEM, NULL, "OOM");
}

static void run(const json_t *log, const json_t *stored,
                strands_conversation_manager_kind kind, int window,
                int overflow)
{
    json_t *before = json_deep_copy(log);
    json_t *w = NULL, *repair = NULL;
    if (conversation_restore(log, 0, &w, &repair) != STRANDS_OK) abort();
    size_t n_log = json_array_size(log);
    cm_history h;
    if (cm_history_init(&h, w, 0) != STRANDS_OK) abort();
    for (size_t i = 0; i < json_array_size(h.messages); i++)
        h.origin[i] = i < n_log ? i : n_log;
    h.log_end = n_log;
    cm_config cfg = {.kind = kind, .window_size = window,
                     .summary_ratio = 0.3, .preserve_recent = window % 3};
    cm_state s;
    if (cm_state_init(&s, &cfg, stored, n_log) != STRANDS_OK) abort();
    if (s.removed > n_log) abort();
    cm_summarizer sum = {summarize, NULL};
    int changed = 0;
    if (overflow && cm_truncate_tool_results(&h, &changed) != STRANDS_OK)
        abort();
    strands_status st =
        overflow ? s.vtab->reduce_context(&s, &h, &sum, NULL)
                 : s.vtab->apply_management(&s, &h, &sum, NULL);
    if (st != STRANDS_OK && st != STRANDS_E_INVALID) abort();
    if (cm_history_validate(h.messages, NULL) != STRANDS_OK) abort();
    if (s.removed > n_log) abort();
    json_t *saved = cm_state_save(&s);
    if (!saved) abort();
    if (!json_equal(log, before)) abort();
    json_decref(saved);
    cm_state_clear(&s);
    cm_history_clear(&h);
    json_decref(w);
    json_decref(repair);
    json_decref(before);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *doc = json_loadb((const char *)data, size, 0, NULL);
    if (!doc) return 0;
    /* [log] or {"log": [...], "state": {...}} */
    json_t *log = json_is_array(doc) ? doc : json_object_get(doc, "log");
    json_t *stored = json_object_get(doc, "state");
    if (json_is_array(log)) {
        for (int window = 0; window <= 6; window++)
            for (int overflow = 0; overflow < 2; overflow++)
                for (int k = 0; k < 3; k++)
                    run(log, stored, (strands_conversation_manager_kind)k,
                        window, overflow);
    }
    json_decref(doc);
    return 0;
}
