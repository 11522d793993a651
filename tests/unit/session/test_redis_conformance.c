/* The Redis session store through the shared conformance suite
 * (tests/helpers/session_conformance.h), against a private redis-server
 * on a free loopback port (tests/helpers/redis_server.h), flushed between
 * cases. Skipped when redis-server is not installed.                    */
#include "session/redis.h"
#include "test.h"
#include "redis_server.h"
#include "session_conformance.h"

static test_redis server;

static strands_session_store *make(void *user)
{
    (void)user;
    session_redis_config cfg = {
        .host = "127.0.0.1", .port = server.port, .ttl_s = 3600,
        .lease_ms = SESSION_CONFORMANCE_LEASE_MS, .pool_size = 16,
        .connect_timeout_ms = 2000, .command_timeout_ms = 5000,
        .max_history_bytes = SESSION_CONFORMANCE_MAX_HISTORY_BYTES};
    strands_error err;
    strands_session_store *s = session_redis_store_new(&cfg, &err);
    if (!s) fprintf(stderr, "  redis store: %s\n", err.message);
    return s;
}

static void flush(void *user)
{
    (void)user;
    redisReply *r = test_redis_cmd(&server, "FLUSHALL");
    if (r) freeReplyObject(r);
}

static void skipped(void)
{
    SKIP("redis-server is not installed (apt-get install redis-server, or "
         "set REDIS_SERVER): the Redis conformance run is skipped");
}

int main(void)
{
    if (test_redis_start(&server) != 0) {
        RUN(skipped);
        return test_report();
    }
    flush(NULL);
    session_conformance_run(make, flush, NULL);
    test_redis_kill(&server);
    return test_report();
}
