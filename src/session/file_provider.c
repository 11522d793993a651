/* The file session store as a registered store: SESSION_STORE=file:<dir>.
 * No settings of its own: the directory is the argument, and the history
 * cap is SESSION_MAX_HISTORY_BYTES (the runtime's). Start-up fails, with
 * a message naming SESSION_STORE, when <dir> is missing from the value or
 * is not (or cannot be made) a writable directory.                     */
#include <stddef.h>

#include "strands/session_file.h"
#include "runtime/builtins.h"

static strands_session_store *create(const strands_session_store_context *ctx,
                                     strands_error *err)
{
    if (!ctx->arg || !ctx->arg[0]) {
        strands_error_set(err, STRANDS_E_INVALID, NULL,
                          "SESSION_STORE: 'file' needs a directory, as in "
                          "file:/var/lib/strands/sessions");
        return NULL;
    }
    strands_file_store_config fc = {
        .dir = ctx->arg,
        .max_history_bytes = ctx->config->max_history_bytes};
    strands_error e;
    strands_error_clear(&e);
    strands_session_store *s = strands_file_store_new(&fc, &e);
    if (!s)
        strands_error_set(err, e.status, NULL, "SESSION_STORE: %s",
                          e.message);
    return s;
}

const strands_session_store_provider session_file_provider = {
    .version = STRANDS_SESSION_STORE_PROVIDER_VERSION,
    .name = "file",
    .description = "conversations as files under <dir> (SESSION_STORE="
                   "file:<dir>), in Strands Python's FileSessionManager "
                   "layout; they survive restarts and are shared by the "
                   "processes of one machine or mount",
    .settings = NULL,
    .create = create,
};
