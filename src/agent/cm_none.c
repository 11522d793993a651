/* The conversation manager that keeps everything (Strands'
 * NullConversationManager): no management; an overflow that truncating
 * tool results did not cure is the client's ContextWindowOverflow.    */
#include "agent/conversation_manager.h"

static strands_status none_apply(cm_state *s, cm_history *h,
                                 const cm_summarizer *sum, strands_error *err)
{
    (void)s; (void)h; (void)sum; (void)err;
    return STRANDS_OK;
}

static strands_status none_reduce(cm_state *s, cm_history *h,
                                  const cm_summarizer *sum,
                                  strands_error *err)
{
    (void)s; (void)h; (void)sum;
    return strands_error_set(err, STRANDS_E_INVALID,
                             STRANDS_ERROR_CONTEXT_OVERFLOW,
                             "the conversation does not fit the model's "
                             "context window and CONVERSATION_MANAGER=none "
                             "keeps every message");
}

static strands_status none_save(const cm_state *s, json_t *out)
{
    (void)s; (void)out;
    return STRANDS_OK;
}

static strands_status none_restore(cm_state *s, const json_t *state)
{
    (void)s; (void)state;
    return STRANDS_OK;
}

const cm_vtab cm_none_vtab = {
    .version = CM_VTAB_VERSION,
    .state_name = "NullConversationManager",
    .after_invocation = 1,
    .apply_management = none_apply,
    .reduce_context = none_reduce,
    .save = none_save,
    .restore = none_restore,
};
