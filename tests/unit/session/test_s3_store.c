/* The S3 session store against tests/fakes/fake_s3.py (started here as a
 * child process on loopback; its SigV4 check is botocore's, independent
 * of our signer): the shared conformance suite, the Strands key layout,
 * conditional-write conflicts (a concurrent writer is detected and never
 * overwritten), orphans of a turn that never committed, S3 503 after
 * retries -> SessionStoreUnavailable, retries that recover, 403, a
 * session written by Strands Python, and the bounded XML extractor.   */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test.h"
#include "session_conformance.h"

#include "net/http_client.h"
#include "session/s3.h"
#include "strands/aws.h"
#include "strands/session_s3.h"

#define AK "AKIDS3UNITTEST"
#define SK "s3unit/secret+KEY"
#define TOK "S3UNIT//token=="

static pid_t fake_pid = -1;
static int fake_port;
static char endpoint[64];
static http_client *ctl_http;
static strands_credentials_provider *creds;
static int prefix_seq;
static char cur_prefix[64];

static int fake_start(void)
{
    int fds[2];
    if (access("/usr/bin/python3", X_OK) != 0 || pipe(fds) != 0) return -1;
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        dup2(fds[1], 1);
        close(fds[0]);
        close(fds[1]);
        execl("/usr/bin/python3", "python3",
              STRANDS_SOURCE_DIR "/tests/fakes/fake_s3.py", "--credentials",
              AK ":" SK ":" TOK, "--region", "us-east-1", (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    char line[128] = "";
    FILE *f = fdopen(fds[0], "r");
    if (!f || !fgets(line, sizeof line, f)) {
        if (f) fclose(f);
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        return -1;
    }
    fclose(f);
    fake_pid = pid;
    if (sscanf(line, "{\"port\": %d}", &fake_port) != 1) return -1;
    snprintf(endpoint, sizeof endpoint, "http://127.0.0.1:%d", fake_port);
    return 0;
}

static void fake_stop(void)
{
    if (fake_pid > 0) {
        kill(fake_pid, SIGTERM);
        waitpid(fake_pid, NULL, 0);
    }
}

/* A control call to the fake; returns the body (free()) or NULL. */
static char *ctl(const char *method, const char *path, const char *body)
{
    char url[256];
    snprintf(url, sizeof url, "%s%s", endpoint, path);
    http_request rq = {.method = method,
                       .url = url,
                       .body = body,
                       .body_len = body ? strlen(body) : 0,
                       .total_timeout_ms = 10000,
                       .no_proxy = 1};
    http_response resp;
    strands_error err;
    if (http_client_send(ctl_http, &rq, &resp, &err) != STRANDS_OK) {
        http_response_cleanup(&resp);
        return NULL;
    }
    char *out = resp.status == 200 ? dynbuf_take(&resp.body, NULL) : NULL;
    http_response_cleanup(&resp);
    return out;
}

static void ctl_json(const char *path, json_t *body)
{
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    free(ctl("POST", path, text));
    free(text);
}

/* The body of object "bkt/<key>" as JSON, or NULL when absent. */
static json_t *object_json(const char *key)
{
    char path[1200];
    snprintf(path, sizeof path, "/__fake/object?key=bkt/%s", key);
    char *b = ctl("GET", path, NULL);
    json_t *j = b ? json_loads(b, 0, NULL) : NULL;
    free(b);
    return j;
}

/* Requests the fake logged since the last reset (a JSON array). */
static size_t requests_logged(void)
{
    char *b = ctl("GET", "/__fake/requests", NULL);
    json_t *j = b ? json_loads(b, 0, NULL) : NULL;
    size_t n = json_array_size(j);
    json_decref(j);
    free(b);
    return n;
}

static strands_session_store *make_with(const char *prefix, int attempts,
                                        int64_t lease_ms)
{
    strands_s3_store_config cfg = {.bucket = "bkt",
                                   .prefix = prefix,
                                   .region = "us-east-1",
                                   .endpoint = endpoint,
                                   .credentials = creds,
                                   .max_history_bytes =
                                       SESSION_CONFORMANCE_MAX_HISTORY_BYTES,
                                   .lease_ms = lease_ms,
                                   .max_attempts = attempts};
    strands_error err;
    strands_session_store *s = strands_s3_store_new(&cfg, &err);
    if (!s) fprintf(stderr, "  s3 store: %s\n", err.message);
    return s;
}

static strands_session_store *make(void *user)
{
    (void)user;
    snprintf(cur_prefix, sizeof cur_prefix, "conf/%d", ++prefix_seq);
    return make_with(cur_prefix, 3, SESSION_CONFORMANCE_LEASE_MS);
}

static void debug_cleanup(void *user)
{
    (void)user;
    if (!getenv("S3_DEBUG")) return;
    char *b = ctl("GET", "/__fake/requests", NULL);
    json_t *j = b ? json_loads(b, 0, NULL) : NULL;
    size_t i;
    json_t *e;
    json_array_foreach(j, i, e) fprintf(
        stderr, "    %s %s %s %lld inm=%s im=%s\n",
        json_string_value(json_object_get(e, "method")),
        json_string_value(json_object_get(e, "key")),
        json_string_value(json_object_get(e, "query")),
        json_integer_value(json_object_get(e, "status")),
        json_string_value(
            json_object_get(json_object_get(e, "headers"), "if-none-match")),
        json_string_value(
            json_object_get(json_object_get(e, "headers"), "if-match")));
    json_decref(j);
    free(b);
    free(ctl("POST", "/__fake/reset", "{}"));
}

static strands_session_store *fresh(int attempts)
{
    snprintf(cur_prefix, sizeof cur_prefix, "t/%d", ++prefix_seq);
    free(ctl("POST", "/__fake/reset", "{}"));
    return make_with(cur_prefix, attempts, 30000);
}

static strands_session_key key_of(const char *id)
{
    strands_session_key k = {.session_id = id};
    return k;
}

static json_t *one(const char *role, const char *text)
{
    return json_pack("[{s:s, s:[{s:s}]}]", "role", role, "content", "text",
                     text);
}

static strands_status put_one(strands_session_store *s, const char *id,
                              const strands_session_claim *claim, size_t base,
                              const char *text, strands_error *err)
{
    strands_session_key k = key_of(id);
    json_t *m = one(base % 2 ? "assistant" : "user", text);
    json_t *agent = json_pack("{s:{s:i}}", "state", "n", (int)base);
    strands_error_clear(err);
    strands_status st = s->vtab->append(s, &k, claim, base, m, agent, err);
    json_decref(agent);
    json_decref(m);
    return st;
}

static long count_of(strands_session_store *s, const char *id)
{
    strands_session_key k = key_of(id);
    strands_session_record rec;
    strands_error err;
    if (s->vtab->load(s, &k, &rec, &err) != STRANDS_OK) return -1;
    long n = (long)rec.count;
    strands_session_record_clear(&rec);
    return n;
}

static char *key_in(const char *rest)
{
    static char buf[700];
    snprintf(buf, sizeof buf, "%s/%s", cur_prefix, rest);
    return buf;
}

/* ---- cases -------------------------------------------------------------- */

static void strands_layout(void)
{
    strands_session_store *s = fresh(3);
    CHECK(s != NULL);
    if (!s) return;
    strands_error err;
    CHECK_INT(put_one(s, "s1", NULL, 0, "hello", &err), STRANDS_OK);
    json_t *sj = object_json(key_in("session_s1/session.json"));
    CHECK_STR(json_string_value(json_object_get(sj, "session_id")), "s1");
    CHECK_STR(json_string_value(json_object_get(sj, "session_type")), "AGENT");
    json_t *aj = object_json(key_in("session_s1/agents/agent_default/"
                                    "agent.json"));
    CHECK_STR(json_string_value(json_object_get(aj, "agent_id")), "default");
    CHECK(json_is_object(json_object_get(aj, "conversation_manager_state")));
    CHECK_INT(json_integer_value(json_object_get(
                  json_object_get(aj, "_strands_c"), "message_count")),
              1);
    json_t *mj = object_json(key_in("session_s1/agents/agent_default/"
                                    "messages/message_0.json"));
    CHECK_INT(json_integer_value(json_object_get(mj, "message_id")), 0);
    CHECK(json_is_null(json_object_get(mj, "redact_message")));
    CHECK_STR(json_string_value(
                  json_object_get(json_object_get(mj, "message"), "role")),
              "user");
    /* Indent 2, as Python's json.dump(indent=2). */
    char path[1200];
    snprintf(path, sizeof path, "/__fake/object?key=bkt/%s",
             key_in("session_s1/agents/agent_default/messages/"
                    "message_0.json"));
    char *raw = ctl("GET", path, NULL);
    CHECK(raw && !strncmp(raw, "{\n  \"", 5));
    free(raw);
    /* The claim lives beside them, not among the messages. */
    strands_session_key k = key_of("s1");
    strands_session_claim c;
    CHECK_INT(s->vtab->claim(s, &k, &c, &err), STRANDS_OK);
    json_t *cj = object_json(key_in("session_s1/.claim"));
    CHECK_STR(json_string_value(json_object_get(cj, "token")), c.token);
    CHECK_INT(s->vtab->release(s, &k, &c, &err), STRANDS_OK);
    json_decref(cj);
    json_decref(mj);
    json_decref(aj);
    json_decref(sj);
    strands_session_store_free(s);
}

/* Another writer commits agent.json while our turn is in flight: our
 * If-Match fails, theirs stays.                                          */
static void conflict_on_agent_json(void)
{
    strands_session_store *s = fresh(3);
    if (!s) {
        CHECK(0);
        return;
    }
    strands_error err;
    CHECK_INT(put_one(s, "c1", NULL, 0, "first", &err), STRANDS_OK);
    char akey[1200];
    snprintf(akey, sizeof akey, "bkt/%s",
             key_in("session_c1/agents/agent_default/agent.json"));
    const char *theirs = "{\"agent_id\": \"default\", \"state\": "
                         "{\"by\": \"them\"}, \"_strands_c\": "
                         "{\"message_count\": 1}}";
    ctl_json("/__fake/hook",
             json_pack("{s:s, s:s, s:s, s:s}", "method", "PUT", "key_contains",
                       "agent.json", "put_key", akey, "put_body", theirs));
    CHECK_INT(put_one(s, "c1", NULL, 1, "ours", &err), STRANDS_E_BUSY);
    CHECK_STR(err.code, "SessionConflict");
    json_t *aj = object_json(akey + 4);
    CHECK_STR(
        json_string_value(json_object_get(json_object_get(aj, "state"), "by")),
        "them");
    json_decref(aj);
    CHECK_INT(count_of(s, "c1"), 1);
    strands_session_store_free(s);
}

/* Another writer creates message_1 first: our If-None-Match fails. */
static void conflict_on_message(void)
{
    strands_session_store *s = fresh(3);
    if (!s) {
        CHECK(0);
        return;
    }
    strands_error err;
    CHECK_INT(put_one(s, "c2", NULL, 0, "first", &err), STRANDS_OK);
    char mkey[1200];
    snprintf(mkey, sizeof mkey, "bkt/%s",
             key_in("session_c2/agents/agent_default/messages/"
                    "message_1.json"));
    ctl_json("/__fake/hook",
             json_pack("{s:s, s:s, s:s, s:s}", "method", "PUT", "key_contains",
                       "message_1.json", "put_key", mkey, "put_body",
                       "{\"theirs\": true}"));
    CHECK_INT(put_one(s, "c2", NULL, 1, "ours", &err), STRANDS_E_BUSY);
    CHECK_STR(err.code, "SessionConflict");
    json_t *mj = object_json(mkey + 4);
    CHECK(json_is_true(json_object_get(mj, "theirs")));
    json_decref(mj);
    strands_session_store_free(s);
}

/* A turn that wrote message objects but never committed: invisible to
 * load; an unfenced append refuses; a claimed one replaces them.      */
static void orphans(void)
{
    strands_session_store *s = fresh(3);
    if (!s) {
        CHECK(0);
        return;
    }
    strands_error err;
    CHECK_INT(put_one(s, "o1", NULL, 0, "first", &err), STRANDS_OK);
    char mkey[1200];
    snprintf(mkey, sizeof mkey, "bkt/%s",
             key_in("session_o1/agents/agent_default/messages/"
                    "message_1.json"));
    ctl_json("/__fake/put",
             json_pack("{s:s, s:s}", "key", mkey, "body", "{\"orphan\": 1}"));
    CHECK_INT(count_of(s, "o1"), 1);
    CHECK_INT(put_one(s, "o1", NULL, 1, "unfenced", &err), STRANDS_E_BUSY);
    CHECK_STR(err.code, "SessionConflict");
    strands_session_key k = key_of("o1");
    strands_session_claim c;
    CHECK_INT(s->vtab->claim(s, &k, &c, &err), STRANDS_OK);
    CHECK_INT(put_one(s, "o1", &c, 1, "claimed", &err), STRANDS_OK);
    CHECK_INT(s->vtab->release(s, &k, &c, &err), STRANDS_OK);
    strands_session_record rec;
    CHECK_INT(s->vtab->load(s, &k, &rec, &err), STRANDS_OK);
    CHECK_INT(rec.count, 2);
    CHECK_STR(
        json_string_value(json_object_get(
            json_array_get(
                json_object_get(json_array_get(rec.messages, 1), "content"),
                0),
            "text")),
        "claimed");
    strands_session_record_clear(&rec);
    strands_session_store_free(s);
}

/* S3 answers 503 SlowDown to every attempt: SessionStoreUnavailable after
 * exactly max_attempts requests; nothing half-written stays visible.   */
static void unavailable_after_retries(void)
{
    strands_session_store *s = fresh(2);
    if (!s) {
        CHECK(0);
        return;
    }
    strands_error err;
    CHECK_INT(put_one(s, "u1", NULL, 0, "first", &err), STRANDS_OK);
    size_t before = requests_logged();
    ctl_json("/__fake/fail", json_pack("{s:i, s:i, s:s}", "count", 50,
                                       "status", 503, "code", "SlowDown"));
    strands_session_key k = key_of("u1");
    strands_session_record rec;
    CHECK_INT(s->vtab->load(s, &k, &rec, &err), STRANDS_E_UNAVAILABLE);
    CHECK_STR(err.code, "SessionStoreUnavailable");
    CHECK(strstr(err.message, "SlowDown") != NULL);
    CHECK_INT(requests_logged() - before, 2); /* AWS_MAX_ATTEMPTS = 2 */
    free(ctl("POST", "/__fake/reset", "{}"));
    strands_session_store_free(s);
}

/* A turn whose second message cannot be written: unavailable, the first
 * one is removed again, the log is as before, and the store recovers. */
static void failure_mid_turn(void)
{
    strands_session_store *s = fresh(1);
    if (!s) {
        CHECK(0);
        return;
    }
    strands_error err;
    CHECK_INT(put_one(s, "m1", NULL, 0, "first", &err), STRANDS_OK);
    ctl_json("/__fake/fail",
             json_pack("{s:i, s:i, s:s, s:s, s:[s]}", "count", 1, "status",
                       503, "code", "ServiceUnavailable", "key_contains",
                       "message_2.json", "methods", "PUT"));
    strands_session_key k = key_of("m1");
    json_t *turn = json_pack("[{s:s,s:[{s:s}]},{s:s,s:[{s:s}]}]", "role",
                             "assistant", "content", "text", "a", "role",
                             "user", "content", "text", "b");
    json_t *agent = json_object();
    CHECK_INT(s->vtab->append(s, &k, NULL, 1, turn, agent, &err),
              STRANDS_E_UNAVAILABLE);
    CHECK_STR(err.code, "SessionStoreUnavailable");
    CHECK_INT(count_of(s, "m1"), 1);
    json_t *orphan = object_json(key_in("session_m1/agents/agent_default/"
                                        "messages/message_1.json"));
    CHECK(orphan == NULL); /* undone */
    json_decref(orphan);
    CHECK_INT(s->vtab->append(s, &k, NULL, 1, turn, agent, &err), STRANDS_OK);
    CHECK_INT(count_of(s, "m1"), 3);
    json_decref(agent);
    json_decref(turn);
    strands_session_store_free(s);
}

/* Two 503s then success: the standard policy retries through them. */
static void retries_recover(void)
{
    strands_session_store *s = fresh(3);
    if (!s) {
        CHECK(0);
        return;
    }
    strands_error err;
    ctl_json("/__fake/fail", json_pack("{s:i, s:i, s:s}", "count", 2, "status",
                                       503, "code", "SlowDown"));
    CHECK_INT(put_one(s, "r1", NULL, 0, "hello", &err), STRANDS_OK);
    CHECK_INT(count_of(s, "r1"), 1);
    strands_session_store_free(s);
}

/* A PUT that S3 carried out but whose answer was a 503: the retry meets
 * its own object (412 on If-None-Match / If-Match) and recognises it by
 * its MD5 ETag instead of reporting a conflict.                         */
static void lost_answer_is_ours(void)
{
    strands_session_store *s = fresh(3);
    if (!s) {
        CHECK(0);
        return;
    }
    strands_error err;
    CHECK_INT(put_one(s, "la", NULL, 0, "first", &err), STRANDS_OK);
    ctl_json("/__fake/fail",
             json_pack("{s:i, s:i, s:s, s:s, s:[s], s:b}", "count", 1,
                       "status", 503, "code", "SlowDown", "key_contains",
                       "message_1.json", "methods", "PUT", "apply", 1));
    ctl_json("/__fake/fail",
             json_pack("{s:i, s:i, s:s, s:s, s:[s], s:b}", "count", 1,
                       "status", 503, "code", "SlowDown", "key_contains",
                       "agent.json", "methods", "PUT", "apply", 1));
    CHECK_INT(put_one(s, "la", NULL, 1, "second", &err), STRANDS_OK);
    CHECK_INT(count_of(s, "la"), 2);
    /* Someone else's object in the same place is still a conflict. */
    char mkey[1200];
    snprintf(mkey, sizeof mkey, "bkt/%s",
             key_in("session_la/agents/agent_default/messages/"
                    "message_2.json"));
    ctl_json("/__fake/fail",
             json_pack("{s:i, s:i, s:s, s:s, s:[s]}", "count", 1, "status",
                       503, "code", "SlowDown", "key_contains",
                       "message_2.json", "methods", "PUT"));
    ctl_json("/__fake/hook",
             json_pack("{s:s, s:s, s:s, s:s}", "method", "PUT", "key_contains",
                       "message_2.json", "put_key", mkey, "put_body",
                       "{\"theirs\": 2}"));
    CHECK_INT(put_one(s, "la", NULL, 2, "third", &err), STRANDS_E_BUSY);
    CHECK_STR(err.code, "SessionConflict");
    strands_session_store_free(s);
}

static void access_denied(void)
{
    free(ctl("POST", "/__fake/reset", "{}"));
    strands_error err;
    strands_credentials_provider *bad =
        strands_credentials_static_new(AK, "wrong-secret", TOK, &err);
    strands_s3_store_config cfg = {.bucket = "bkt",
                                   .prefix = "x",
                                   .region = "us-east-1",
                                   .endpoint = endpoint,
                                   .credentials = bad,
                                   .max_attempts = 1};
    strands_session_store *s = strands_s3_store_new(&cfg, &err);
    CHECK(s != NULL);
    if (s) {
        strands_session_key k = key_of("d1");
        strands_session_record rec;
        CHECK_INT(s->vtab->load(s, &k, &rec, &err), STRANDS_E_UPSTREAM);
        CHECK_STR(err.code, "SessionStoreAccessDenied");
        CHECK(strstr(err.message, "SignatureDoesNotMatch") != NULL);
        CHECK(strstr(err.message, "wrong-secret") == NULL);
        strands_session_store_free(s);
    }
    strands_credentials_provider_free(bad);
}

/* A session as Strands Python's S3SessionManager writes it (agent.json
 * without our _strands_c): every message object is the log.            */
static void python_written_session(void)
{
    strands_session_store *s = fresh(3);
    if (!s) {
        CHECK(0);
        return;
    }
    char key[1200];
    snprintf(key, sizeof key, "bkt/%s",
             key_in("session_py/agents/agent_default/agent.json"));
    ctl_json(
        "/__fake/put",
        json_pack("{s:s, s:s}", "key", key, "body",
                  "{\"agent_id\": \"default\", \"state\": {\"k\": 1}, "
                  "\"conversation_manager_state\": {\"__name__\": "
                  "\"SlidingWindowConversationManager\", "
                  "\"removed_message_count\": 0},"
                  " \"created_at\": \"2026-05-15T10:00:00.000000+00:00\"}"));
    for (int i = 0; i < 3; i++) {
        char body[400];
        snprintf(body, sizeof body,
                 "{\"message\": {\"role\": \"%s\", \"content\": [{\"text\": "
                 "\"py%d\"}]}, \"message_id\": %d, \"redact_message\": null}",
                 i % 2 ? "assistant" : "user", i, i);
        char rest[200];
        snprintf(rest, sizeof rest,
                 "session_py/agents/agent_default/messages/message_%d.json",
                 i);
        snprintf(key, sizeof key, "bkt/%s", key_in(rest));
        ctl_json("/__fake/put",
                 json_pack("{s:s, s:s}", "key", key, "body", body));
    }
    strands_session_key k = key_of("py");
    strands_session_record rec;
    strands_error err;
    CHECK_INT(s->vtab->load(s, &k, &rec, &err), STRANDS_OK);
    CHECK_INT(rec.count, 3);
    CHECK_INT(json_integer_value(
                  json_object_get(json_object_get(rec.agent, "state"), "k")),
              1);
    strands_session_record_clear(&rec);
    /* Continued here: the next turn goes at 3 and is committed. */
    CHECK_INT(put_one(s, "py", NULL, 3, "c4", &err), STRANDS_OK);
    CHECK_INT(count_of(s, "py"), 4);
    json_t *aj = object_json(key_in("session_py/agents/agent_default/"
                                    "agent.json"));
    CHECK_STR(json_string_value(json_object_get(aj, "created_at")),
              "2026-05-15T10:00:00.000000+00:00");
    json_decref(aj);
    strands_session_store_free(s);
}

static void bad_config(void)
{
    strands_error err;
    const char *buckets[] = {"",    "ab",        "Upper", "a..b",
                             "-ab", "has space", "x/y"};
    for (size_t i = 0; i < sizeof buckets / sizeof buckets[0]; i++) {
        strands_s3_store_config cfg = {
            .bucket = buckets[i], .endpoint = endpoint, .credentials = creds};
        CHECK(strands_s3_store_new(&cfg, &err) == NULL);
        CHECK_INT(err.status, STRANDS_E_INVALID);
    }
    const char *prefixes[] = {"a//b", "a/../b", "./a", "a/.", "x\ny"};
    for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++) {
        strands_s3_store_config cfg = {.bucket = "bkt",
                                       .prefix = prefixes[i],
                                       .endpoint = endpoint,
                                       .credentials = creds};
        CHECK(strands_s3_store_new(&cfg, &err) == NULL);
    }
    char b[64], p[1025];
    CHECK_INT(strands_s3_store_parse_url("//bkt/a/b/", b, sizeof b, p,
                                         sizeof p, &err),
              STRANDS_OK);
    CHECK_STR(b, "bkt");
    CHECK_STR(p, "a/b");
    CHECK_INT(
        strands_s3_store_parse_url("//bkt", b, sizeof b, p, sizeof p, &err),
        STRANDS_OK);
    CHECK_STR(p, "");
    CHECK_INT(
        strands_s3_store_parse_url("bkt", b, sizeof b, p, sizeof p, &err),
        STRANDS_E_INVALID);
    CHECK_INT(
        strands_s3_store_parse_url("///x", b, sizeof b, p, sizeof p, &err),
        STRANDS_E_INVALID);
    /* An http endpoint that is not loopback is refused. */
    strands_s3_store_config cfg = {.bucket = "bkt",
                                   .endpoint = "http://example.com",
                                   .credentials = creds};
    CHECK(strands_s3_store_new(&cfg, &err) == NULL);
}

static void xml_extractor(void)
{
    const char *page =
        "<?xml version=\"1.0\"?><ListBucketResult xmlns=\"x\">"
        "<Name>b</Name><IsTruncated>true</IsTruncated>"
        "<NextContinuationToken>t&amp;1</NextContinuationToken>"
        "<Contents><Key>a&lt;b&#x41;&#233;</Key><ETag>&quot;e1&quot;</ETag>"
        "<Size>12</Size></Contents>"
        "<Contents><Key>k2</Key><Size>0</Size></Contents>"
        "</ListBucketResult>";
    s3_list_page p;
    strands_error err;
    CHECK_INT(session_s3_xml_list_parse(page, strlen(page), &p, &err),
              STRANDS_OK);
    CHECK_INT(p.n_keys, 2);
    CHECK_STR(p.keys[0], "a<bA\xc3\xa9");
    CHECK_STR(p.etags[0], "\"e1\"");
    CHECK_INT(p.sizes[0], 12);
    CHECK_STR(p.keys[1], "k2");
    CHECK(p.etags[1] == NULL);
    CHECK_INT(p.truncated, 1);
    CHECK_STR(p.next_token, "t&1");
    session_s3_list_page_free(&p);
    const char *bad[] = {
        "",
        "<Error/>",
        "<ListBucketResult>",
        "<ListBucketResult><Contents><Key>x</ListBucketResult>",
        "<ListBucketResult><Contents><Key>a&bogus;</Key></Contents>"
        "</ListBucketResult>",
        "<ListBucketResult><Contents><Key>&#0;</Key></Contents>"
        "</ListBucketResult>",
        "<ListBucketResult><IsTruncated>true</IsTruncated>"
        "</ListBucketResult>",
        "<ListBucketResult><Contents><Size>1</Size></Contents>"
        "</ListBucketResult>"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_INT(session_s3_xml_list_parse(bad[i], strlen(bad[i]), &p, &err),
                  STRANDS_E_PARSE);
        CHECK(p.keys == NULL);
    }
    char code[64], msg[16];
    const char *e = "<Error><Code>SlowDown</Code><Message>Please reduce "
                    "your request rate &amp; more</Message></Error>";
    session_s3_xml_error(e, strlen(e), code, sizeof code, msg, sizeof msg);
    CHECK_STR(code, "SlowDown");
    CHECK(!strncmp(msg, "Please red", 10) && strlen(msg) < sizeof msg);
    session_s3_xml_error("<Error><Code>x", 14, code, sizeof code, msg,
                         sizeof msg);
    CHECK_STR(code, "");
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    RUN(xml_extractor);
    if (fake_start() != 0) {
        fprintf(stderr, "SKIP s3 store: cannot start tests/fakes/fake_s3.py "
                        "(needs /usr/bin/python3 with botocore)\n");
        test_skipped++;
        return test_report();
    }
    strands_error err;
    ctl_http = http_client_new(4);
    creds = strands_credentials_static_new(AK, SK, TOK, &err);
    RUN(bad_config);
    session_conformance_run(make, debug_cleanup, NULL);
    RUN(strands_layout);
    RUN(conflict_on_agent_json);
    RUN(conflict_on_message);
    RUN(orphans);
    RUN(unavailable_after_retries);
    RUN(failure_mid_turn);
    RUN(retries_recover);
    RUN(lost_answer_is_ours);
    RUN(access_denied);
    RUN(python_written_session);
    strands_credentials_provider_free(creds);
    http_client_free(ctl_http);
    fake_stop();
    return test_report();
}
