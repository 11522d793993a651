/* The in-memory session store through the shared conformance suite
 * (tests/helpers/session_conformance.h).                                */
#include "test.h"
#include "session_conformance.h"

static strands_session_store *make(void *user)
{
    (void)user;
    strands_memory_store_config cfg = {
        .max_sessions = 64,
        .idle_ttl_s = 0,
        .max_history_bytes = SESSION_CONFORMANCE_MAX_HISTORY_BYTES,
        .lease_ms = SESSION_CONFORMANCE_LEASE_MS};
    return strands_memory_store_new_with(&cfg);
}

int main(void)
{
    session_conformance_run(make, NULL, NULL);
    return test_report();
}
