/* The Redis store over TLS (rediss://, session/redis_tls.c) against a
 * private TLS redis-server on loopback with a throwaway CA made by the
 * test (tests/helpers/redis_server.h; skipped with a message when
 * redis-server or openssl lacks TLS): the shared conformance suite over
 * rediss://localhost with the CA trusted (REDIS_TLS_CA_FILE) and AUTH;
 * the certificate checked by IP too; a wrong CA refused as a TLS
 * verification failure, accepted only with the insecure setting; a host
 * the certificate does not name refused; a plain port refused without a
 * hang; a reply above the cap refused; the server killed → 503-class,
 * then recovery by itself; the provider wiring (settings rows).       */
#include <hiredis/hiredis.h>

#include "session/redis.h"
#include "session/redis_tls.h"
#include "strands/clock.h"
#include "strands/session.h"
#include "test.h"
#include "redis_outage.h"
#include "redis_server.h"
#include "session_conformance.h"

static test_redis server;
static char ca_path[256], other_ca_path[256];
static int command_timeout_ms = 3000;

/* A TLS store: host, the CA file (NULL: the system store), insecure. */
static strands_session_store *store_tls(const char *host, int port,
                                        const char *ca, int insecure,
                                        size_t cap, strands_error *err)
{
    session_redis_config cfg = {
        .host = (char *)host, .port = port, .password = server.password,
        .tls = 1, .tls_ca_file = ca, .tls_insecure = insecure,
        .ttl_s = 3600, .lease_ms = SESSION_CONFORMANCE_LEASE_MS,
        .pool_size = 8, .connect_timeout_ms = 2000,
        .command_timeout_ms = command_timeout_ms,
        .max_history_bytes = cap ? cap
                                 : SESSION_CONFORMANCE_MAX_HISTORY_BYTES};
    return session_redis_store_new(&cfg, err);
}

static strands_session_store *make(void *user)
{
    (void)user;
    strands_error err;
    strands_session_store *s = store_tls("localhost", server.tls_port,
                                         ca_path, 0, 0, &err);
    if (!s) fprintf(stderr, "  rediss store: %s\n", err.message);
    return s;
}

static void flush(void *user)
{
    (void)user;
    redisReply *r = test_redis_cmd(&server, "FLUSHALL");
    if (r) freeReplyObject(r);
}

static json_t *turn(const char *text)
{
    return json_pack("[{s:s, s:[{s:s}]}]", "role", "user", "content",
                     "text", text);
}

/* One load on a fresh store: its status, err filled. */
static strands_status load_once(const char *host, int port, const char *ca,
                                int insecure, strands_error *err)
{
    strands_session_store *s = store_tls(host, port, ca, insecure, 0, err);
    if (!s) return err->status;
    strands_session_key key = {.session_id = "probe"};
    strands_session_record rec;
    strands_status st = s->vtab->load(s, &key, &rec, err);
    if (st == STRANDS_OK) strands_session_record_clear(&rec);
    strands_session_store_free(s);
    return st;
}

static void test_round_trip_by_ip(void)
{
    strands_error err;
    strands_session_store *s = store_tls("127.0.0.1", server.tls_port,
                                         ca_path, 0, 0, &err);
    CHECK(s != NULL);
    if (!s) return;
    strands_session_key key = {.session_id = "tls-1"};
    json_t *t = turn("over TLS");
    json_t *agent = json_pack("{s:{s:i}}", "state", "n", 1);
    CHECK_INT(s->vtab->append(s, &key, NULL, 0, t, agent, &err), STRANDS_OK);
    strands_session_record rec;
    CHECK_INT(s->vtab->load(s, &key, &rec, &err), STRANDS_OK);
    CHECK_INT(rec.count, 1);
    strands_session_record_clear(&rec);
    /* What the store wrote is on the server, seen through the plain
     * admin port: the TLS path spoke real RESP. */
    redisReply *r = test_redis_cmd(&server, "LLEN %s",
                                   "strands:session:{tls-1}:default:log");
    CHECK(r && r->type == REDIS_REPLY_INTEGER && r->integer == 1);
    if (r) freeReplyObject(r);
    json_decref(t);
    json_decref(agent);
    strands_session_store_free(s);
}

static void test_wrong_ca_refused_unless_insecure(void)
{
    strands_error err;
    int64_t t0 = strands_clock_mono_ms();
    CHECK_INT(load_once("localhost", server.tls_port, other_ca_path, 0, &err),
              STRANDS_E_UNAVAILABLE);
    CHECK_STR(err.code, "SessionStoreUnavailable");
    CHECK(strstr(err.message, "TLS verification") != NULL);
    CHECK(strstr(err.message, "certificate verification failed") != NULL);
    CHECK(strands_clock_mono_ms() - t0 < 3000);
    /* The system store does not know the test CA either. */
    CHECK_INT(load_once("localhost", server.tls_port, NULL, 0, &err),
              STRANDS_E_UNAVAILABLE);
    CHECK(strstr(err.message, "TLS verification") != NULL);
    /* REDIS_TLS_INSECURE: no check at all (testing only). */
    CHECK_INT(load_once("localhost", server.tls_port, other_ca_path, 1, &err),
              STRANDS_OK);
    CHECK_INT(load_once("127.0.0.2", server.tls_port, NULL, 1, &err),
              STRANDS_OK);
}

static void test_host_mismatch_refused(void)
{
    strands_error err;
    /* The server listens on 127.0.0.2 too, but its certificate names
     * localhost and 127.0.0.1 only. */
    CHECK_INT(load_once("127.0.0.2", server.tls_port, ca_path, 0, &err),
              STRANDS_E_UNAVAILABLE);
    CHECK(strstr(err.message, "TLS verification") != NULL);
    CHECK(strstr(err.message, "mismatch") != NULL);
}

static void test_bad_ca_file_and_plain_port(void)
{
    strands_error err;
    strands_session_store *s = store_tls("localhost", server.tls_port,
                                         "/nonexistent/ca.pem", 0, 0, &err);
    CHECK(s == NULL);
    CHECK_INT(err.status, STRANDS_E_INVALID);
    CHECK(strstr(err.message, "REDIS_TLS_CA_FILE") != NULL);
    /* TLS to a plain Redis port: a clear failure, not a hang. */
    int64_t t0 = strands_clock_mono_ms();
    CHECK_INT(load_once("localhost", server.port, ca_path, 0, &err),
              STRANDS_E_UNAVAILABLE);
    CHECK(strstr(err.message, "TLS") != NULL);
    CHECK(strands_clock_mono_ms() - t0 < 3000);
}

static void test_reply_cap(void)
{
    /* A log entry bigger than the history cap plus the slack, put there
     * behind the store's back: the load refuses the reply. */
    size_t n = REDIS_TLS_REPLY_SLACK + 4096;
    char *big = malloc(n);
    CHECK(big != NULL);
    if (!big) return;
    memset(big, 'x', n);
    redisReply *r = NULL;
    redisContext *admin = test_redis_connect(&server);
    if (admin) {
        struct timeval tv = {60, 0}; /* 64 MiB on a loaded machine */
        redisSetTimeout(admin, tv);
        r = redisCommand(admin, "RPUSH %s %b",
                         "strands:session:{huge}:default:log", big, n);
        redisFree(admin);
    }
    CHECK(r && r->type == REDIS_REPLY_INTEGER);
    if (r) freeReplyObject(r);
    free(big);
    strands_error err;
    command_timeout_ms = 60000; /* 64 MiB through TLS on a loaded machine */
    strands_session_store *s = store_tls("localhost", server.tls_port,
                                         ca_path, 0, 1024, &err);
    command_timeout_ms = 3000;
    CHECK(s != NULL);
    if (!s) return;
    strands_session_key key = {.session_id = "huge"};
    strands_session_record rec;
    CHECK_INT(s->vtab->load(s, &key, &rec, &err), STRANDS_E_UNAVAILABLE);
    if (!strstr(err.message, "larger than"))
        FAIL_AT("want the reply cap, got: %s", err.message);
    /* The connection that hit the cap is gone; the next call works. */
    key.session_id = "small";
    CHECK_INT(s->vtab->load(s, &key, &rec, &err), STRANDS_OK);
    strands_session_record_clear(&rec);
    strands_session_store_free(s);
    flush(NULL);
}

static void test_killed_then_recovers(void)
{
    strands_error err;
    strands_session_store *s = store_tls("localhost", server.tls_port,
                                         ca_path, 0, 0, &err);
    CHECK(s != NULL);
    if (!s) return;
    json_t *t = turn("before");
    json_t *agent = json_object();
    redis_outage_killed_then_recovers(&server, s, t, agent);
    json_decref(t);
    json_decref(agent);
    strands_session_store_free(s);
}

static void test_frozen_times_out(void)
{
    strands_error err;
    strands_session_store *s = store_tls("localhost", server.tls_port,
                                         ca_path, 0, 0, &err);
    CHECK(s != NULL);
    if (!s) return;
    redis_outage_frozen(&server, s, 2500, 6000); /* the 3 s command timeout */
    strands_session_store_free(s);
}

static void skipped(void)
{
    SKIP("no TLS Redis for this test: redis-server is missing or built "
         "without TLS, or the openssl command is missing (set "
         "REDIS_SERVER to a TLS-capable redis-server)");
}

int main(void)
{
    snprintf(server.password, sizeof server.password, "tls-test-pw");
    if (test_redis_tls_certs(&server) != 0 || test_redis_start(&server)) {
        test_redis_tls_cleanup(&server);
        RUN(skipped);
        return test_report();
    }
    snprintf(ca_path, sizeof ca_path, "%s/ca.crt", server.tls_dir);
    snprintf(other_ca_path, sizeof other_ca_path, "%s/other-ca.crt",
             server.tls_dir);
    flush(NULL);
    RUN(test_round_trip_by_ip);
    RUN(test_wrong_ca_refused_unless_insecure);
    RUN(test_host_mismatch_refused);
    RUN(test_bad_ca_file_and_plain_port);
    RUN(test_reply_cap);
    RUN(test_killed_then_recovers);
    RUN(test_frozen_times_out);
    flush(NULL);
    session_conformance_run(make, flush, NULL);
    test_redis_kill(&server);
    test_redis_tls_cleanup(&server);
    return test_report();
}
