/* Allocation-failure sweeps over the Redis store, plain (redis://) and
 * over TLS (rediss://, a TLS redis-server with a throwaway CA), each
 * against a private redis-server (skipped without one): creating it,
 * load, claim, append, renew, release and free, with every allocation of
 * our code (the TLS connection included) and of jansson failing in turn,
 * give OK or a clean E_NOMEM, never a crash, a leak (ASan) or a
 * half-built record. hiredis's and OpenSSL's own allocations are inside
 * their shared libraries and are not swept.                            */
#include "failalloc.h"
#include "session/redis.h"
#include "test.h"
#include "redis_server.h"

static test_redis server;
static int use_tls;        /* the sweep running: rediss:// */
static char ca_path[256];  /* its CA file */
static strands_error last; /* the error of the last failed run */

#define MAX_ALLOCS 400

static strands_status one_run(long n, int *steps)
{
    session_redis_config cfg = {
        .host = "127.0.0.1", .port = server.port, .ttl_s = 60,
        .lease_ms = 5000, .pool_size = 2, .connect_timeout_ms = 2000,
        .command_timeout_ms = 5000};
    if (use_tls) {
        cfg.host = "localhost";
        cfg.port = server.tls_port;
        cfg.tls = 1;
        cfg.tls_ca_file = ca_path;
    }
    strands_error err;
    char id[32];
    snprintf(id, sizeof id, "oom-%ld", n); /* a failed run may hold a lock */
    strands_session_key key = {.session_id = id};
    strands_session_store *s = session_redis_store_new(&cfg, &err);
    if (!s) return STRANDS_E_NOMEM;
    strands_session_record rec;
    memset(&rec, 0, sizeof rec);
    strands_session_claim c;
    json_t *msgs = json_pack("[{s:s,s:[{s:s}]},{s:s,s:[{s:s}]}]", "role",
                             "user", "content", "text", "hi", "role",
                             "assistant", "content", "text", "hello");
    json_t *agent = json_pack("{s:{s:i}}", "state", "n", 1);
    strands_status st = msgs && agent ? STRANDS_OK : STRANDS_E_NOMEM;
    if (st == STRANDS_OK) st = s->vtab->load(s, &key, &rec, &err);
    if (st == STRANDS_OK) {
        (*steps)++;
        CHECK(rec.messages && rec.agent);
        st = s->vtab->claim(s, &key, &c, &err);
    }
    if (st == STRANDS_OK) {
        (*steps)++;
        st = s->vtab->append(s, &key, &c, rec.count, msgs, agent, &err);
        if (st == STRANDS_OK) st = s->vtab->renew(s, &key, &c, &err);
        strands_status rst = s->vtab->release(s, &key, &c, &err);
        if (st == STRANDS_OK) st = rst;
    }
    strands_session_record_clear(&rec);
    if (st == STRANDS_OK) {
        (*steps)++;
        st = s->vtab->load(s, &key, &rec, &err);
        if (st == STRANDS_OK) {
            CHECK_INT(rec.count, 2);
            CHECK(json_equal(rec.agent, agent));
        }
        strands_session_record_clear(&rec);
    }
    json_decref(msgs);
    json_decref(agent);
    strands_session_store_free(s);
    if (st != STRANDS_OK) last = err;
    return st;
}

/* Sweeps one_run over every allocation of a run. */
static void sweep(void)
{
    long n, clean = 0;
    int steps = 0;
    FAILALLOC_SWEEP(n, MAX_ALLOCS) {
        strands_status st = one_run(n, &steps);
        if (st == STRANDS_OK) clean++;
        else if (st != STRANDS_E_NOMEM)
            FAIL_AT("run %ld: status %s (%s), want OK or E_NOMEM", n,
                    strands_status_name(st), last.message);
    }
    CHECK(n == MAX_ALLOCS + 2);
    CHECK(clean >= 1);
    CHECK(steps > 10); /* failures reached every stage */
}

static void test_redis_store_sweep(void)
{
    memset(&server, 0, sizeof server);
    use_tls = 0;
    if (test_redis_start(&server) != 0)
        SKIP("redis-server is not installed (apt-get install "
             "redis-server, or set REDIS_SERVER)");
    sweep();
    test_redis_kill(&server);
}

static void test_rediss_store_sweep(void)
{
    memset(&server, 0, sizeof server);
    use_tls = 1;
    if (test_redis_tls_certs(&server) != 0 || test_redis_start(&server)) {
        test_redis_tls_cleanup(&server);
        SKIP("no TLS Redis: redis-server is missing or built without TLS, "
             "or the openssl command is missing");
    }
    snprintf(ca_path, sizeof ca_path, "%s/ca.crt", server.tls_dir);
    sweep();
    test_redis_kill(&server);
    test_redis_tls_cleanup(&server);
}

int main(void)
{
    failalloc_init();
    RUN(test_redis_store_sweep);
    RUN(test_rediss_store_sweep);
    return test_report();
}
