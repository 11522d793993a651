/* The file session store (SESSION_STORE=file:<dir>): sessions on a local
 * or mounted filesystem in the layout of Strands Python's
 * FileSessionManager (session_<id>/session.json, agents/agent_<aid>/
 * agent.json, agents/agent_<aid>/messages/message_<N>.json), so a session
 * moves between Strands Python and this runtime both ways. Claims are
 * advisory locks (flock) on a lock file per session, so they hold across
 * the processes that share the directory. docs/internals/session.md has
 * the whole contract (crash safety, bytes, the snapshot layout).        */
#ifndef STRANDS_SESSION_FILE_H
#define STRANDS_SESSION_FILE_H

#include <stddef.h>

#include "strands/session.h"
#include "strands/status.h"

/* Settings of a file store; pointers borrowed for the call. */
typedef struct strands_file_store_config {
    const char *dir;          /* the store's root directory: created (0700,
                                 with missing parents) when absent; must
                                 be a writable directory */
    size_t max_history_bytes; /* cap on the message files load returns
                                 (bytes on disk); 0 = the default, 16 MiB */
} strands_file_store_config;

/** Opens (creating it if needed) a file store rooted at cfg->dir and
 * returns it (free with strands_session_store_free), or NULL with err:
 * E_INVALID when the path is empty, not a directory or not writable,
 * E_NOMEM. The store is thread-safe; several processes may share dir. */
STRANDS_EXTERN strands_session_store *strands_file_store_new(
    const strands_file_store_config *cfg, strands_error *err);

#endif
