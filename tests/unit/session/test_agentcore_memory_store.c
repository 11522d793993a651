/* The AgentCore Memory session store: the codec (payloads exactly as the
 * Strands integration writes them, ids), then the store against the fake
 * data plane (tests/fakes/fake_agentcore_memory.py, started here on
 * loopback with Debian's python3 + botocore; skipped when missing):
 * the shared conformance suite, actor ids, blobs above 100,000
 * characters, a turn that fails midway, throttling -> unavailable and
 * recovery, an unknown memory.                                          */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test.h"
#include "session_conformance.h"

#include "net/http_client.h"
#include "session/agentcore_memory.h"

#define AKID "AKIDACMTEST0001"
#define SECRET "acmSecretKeyForTheFakeOnly0000000000000"

static pid_t fake_pid = -1;
static char fake_url[64];
static strands_credentials_provider *creds;
static http_client *ctl_http;
static int conf_counter;

/* ---- the fake ---------------------------------------------------------- */

static int start_fake(void)
{
    int fds[2];
    if (access("/usr/bin/python3", X_OK) != 0 || pipe(fds) != 0) return -1;
    fake_pid = fork();
    if (fake_pid < 0) return -1;
    if (fake_pid == 0) {
        dup2(fds[1], 1);
        close(fds[0]);
        close(fds[1]);
        execl("/usr/bin/python3", "python3",
              STRANDS_SOURCE_DIR "/tests/fakes/fake_agentcore_memory.py",
              "--port", "0", "--credentials", AKID ":" SECRET, "--region",
              "us-east-1", (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    FILE *f = fdopen(fds[0], "r");
    char line[256] = "";
    int port = 0;
    if (f && fgets(line, sizeof line, f))
        sscanf(line, "{\"port\": %d}", &port);
    if (f) fclose(f);
    if (port <= 0) return -1;
    snprintf(fake_url, sizeof fake_url, "http://127.0.0.1:%d", port);
    return 0;
}

static void stop_fake(void)
{
    if (fake_pid > 0) {
        kill(fake_pid, SIGTERM);
        int status;
        while (waitpid(fake_pid, &status, 0) < 0 && errno == EINTR) {}
        fake_pid = -1;
    }
}

/* A control call to the fake; returns the parsed answer (caller decrefs)
 * or NULL.                                                              */
static json_t *ctl(const char *method, const char *path, const char *body)
{
    char url[256];
    snprintf(url, sizeof url, "%s%s", fake_url, path);
    const char *hdr[] = {"Content-Type: application/json"};
    http_request rq = {.method = method, .url = url, .headers = hdr,
                       .n_headers = 1, .body = body,
                       .body_len = body ? strlen(body) : 0};
    http_response resp;
    strands_error err;
    json_t *out = NULL;
    if (http_client_send(ctl_http, &rq, &resp, &err) == STRANDS_OK &&
        resp.status == 200)
        out = json_loads(dynbuf_str(&resp.body), JSON_DECODE_ANY, NULL);
    http_response_cleanup(&resp);
    return out;
}

static void ctl_do(const char *path, const char *body)
{
    json_decref(ctl("POST", path, body));
}

static strands_session_store *store_with(const char *memory_id,
                                         int max_attempts, int64_t lease)
{
    session_acm_config cfg = {.memory_id = memory_id, .region = "us-east-1",
                      .endpoint = fake_url, .credentials = creds,
                      .max_attempts = max_attempts,
                      .max_history_bytes =
                          SESSION_CONFORMANCE_MAX_HISTORY_BYTES,
                      .lease_ms = lease};
    strands_error err;
    strands_session_store *s = session_acm_store_new(&cfg, &err);
    if (!s) fprintf(stderr, "  session_acm_store_new: %s\n", err.message);
    return s;
}

/* Every event the fake holds for memory_id, oldest first. */
static json_t *fake_events(const char *memory_id)
{
    json_t *all = ctl("GET", "/__fake/events", NULL);
    json_t *out = json_array();
    size_t i;
    json_t *ev;
    json_array_foreach(all, i, ev) {
        if (!strcmp(json_string_value(json_object_get(ev, "memoryId")),
                    memory_id))
            json_array_append(out, ev);
    }
    json_decref(all);
    return out;
}

/* ---- codec ------------------------------------------------------------- */

static void test_dumps_like_python(void)
{
    /* json.dumps({"a": [1, "\u00e9\U0001f389\x7f\n\"/"], "b": {}, "c": None,
     *             "d": True}) in CPython: */
    const char *want = "{\"a\": [1, \"\\u00e9\\ud83c\\udf89\\u007f\\n\\\"/\"]"
                       ", \"b\": {}, \"c\": null, \"d\": true}";
    json_t *v = json_loads("{\"a\":[1,\"\xc3\xa9\xf0\x9f\x8e\x89\x7f\\n\\\"/\"]"
                           ",\"b\":{},\"c\":null,\"d\":true}", 0, NULL);
    CHECK(v != NULL);
    char *s = session_acm_dumps(v);
    CHECK_STR(s, want);
    free(s);
    json_decref(v);
    /* An escaped backslash followed by 'u' is not an escape to rewrite. */
    v = json_string("\\uABCD");
    s = session_acm_dumps(v);
    CHECK_STR(s, "\"\\\\uABCD\"");
    free(s);
    json_decref(v);
}

static void test_message_payload_conversational(void)
{
    json_t *m = json_loads("{\"role\":\"user\",\"content\":[{\"text\":\"hi\"},"
                           "{\"text\":\"  \"}]}", 0, NULL);
    strands_error err;
    json_t *item = session_acm_message_payload(
        m, "2026-12-07T22:10:00.123456+00:00", &err);
    CHECK(item != NULL);
    json_t *conv = json_object_get(item, "conversational");
    CHECK_STR(json_string_value(json_object_get(conv, "role")), "USER");
    /* json.dumps(SessionMessage.to_dict()) after the blank-text filter: */
    CHECK_STR(json_string_value(json_object_get(
                  json_object_get(conv, "content"), "text")),
              "{\"message\": {\"role\": \"user\", \"content\": [{\"text\": "
              "\"hi\"}]}, \"message_id\": 0, \"redact_message\": null, "
              "\"created_at\": \"2026-12-07T22:10:00.123456+00:00\", "
              "\"updated_at\": \"2026-12-07T22:10:00.123456+00:00\"}");
    json_t *back;
    CHECK_INT(session_acm_payload_message(item, &back), STRANDS_OK);
    json_t *want = json_loads("{\"role\":\"user\",\"content\":[{\"text\":"
                              "\"hi\"}]}", 0, NULL);
    CHECK(json_equal(back, want));
    json_decref(want);
    json_decref(back);
    json_decref(item);
    json_decref(m);
    /* A role Strands cannot store. */
    m = json_pack("{s:s, s:[]}", "role", "system", "content");
    strands_error_clear(&err);
    CHECK(session_acm_message_payload(m, "t", &err) == NULL);
    CHECK_INT(err.status, STRANDS_E_INVALID);
    json_decref(m);
}

static void test_message_payload_blob_threshold(void)
{
    /* The text is json.dumps of the session message; the threshold is on
     * len(text) + len(role) >= 100000. Find the text length at 'n'.     */
    const char *at = "2026-01-01T00:00:00+00:00";
    json_t *probe = json_pack("{s:s, s:[{s:s}]}", "role", "assistant",
                              "content", "text", "");
    strands_error err;
    /* Probe overhead with a one-character text. */
    json_object_set_new(json_array_get(json_object_get(probe, "content"), 0),
                        "text", json_string("x"));
    json_t *it = session_acm_message_payload(probe, at, &err);
    size_t overhead = strlen(json_string_value(json_object_get(
                          json_object_get(json_object_get(it,
                                                          "conversational"),
                                          "content"),
                          "text"))) - 1;
    json_decref(it);
    size_t fill = ACM_CONVERSATIONAL_MAX - strlen("assistant") - overhead;
    for (int extra = -1; extra <= 0; extra++) {
        size_t n = fill + (size_t)extra;
        char *text = malloc(n + 1);
        memset(text, 'a', n);
        text[n] = '\0';
        json_object_set_new(
            json_array_get(json_object_get(probe, "content"), 0), "text",
            json_string(text));
        json_t *item = session_acm_message_payload(probe, at, &err);
        CHECK(item != NULL);
        if (extra < 0) {
            CHECK(json_object_get(item, "conversational") != NULL);
        } else {
            /* blob = json.dumps((text, role)) */
            const char *blob = json_string_value(json_object_get(item,
                                                                 "blob"));
            CHECK(blob != NULL);
            json_t *pair = blob ? json_loads(blob, 0, NULL) : NULL;
            CHECK_INT(json_array_size(pair), 2);
            CHECK_STR(json_string_value(json_array_get(pair, 1)),
                      "assistant");
            CHECK(blob && !strncmp(blob, "[\"{\\\"message\\\": ", 16));
            CHECK(blob && strstr(blob, "\", \"assistant\"]") != NULL);
            json_t *back;
            CHECK_INT(session_acm_payload_message(item, &back), STRANDS_OK);
            CHECK(json_equal(back, probe));
            json_decref(back);
            json_decref(pair);
        }
        json_decref(item);
        free(text);
    }
    json_decref(probe);
}

static void test_ids(void)
{
    CHECK(session_acm_memory_id_ok("mem-123-a1b2c3d4e5"));
    CHECK(session_acm_memory_id_ok("MyMemory_x-AbCdEfGhIj"));
    CHECK(!session_acm_memory_id_ok("mem-123"));
    CHECK(!session_acm_memory_id_ok("1mem-a1b2c3d4e5"));
    CHECK(!session_acm_memory_id_ok("mem-a1b2c3d4e5/x"));
    CHECK(session_acm_actor_id_ok("default"));
    CHECK(session_acm_actor_id_ok("tenant:user/42"));
    CHECK(!session_acm_actor_id_ok("user@corp"));
    CHECK(!session_acm_actor_id_ok("a::b"));
    CHECK(!session_acm_actor_id_ok("-x"));
    CHECK(session_acm_session_id_ok("s-1_a"));
    CHECK(!session_acm_session_id_ok("s.1"));
    char long_id[102];
    memset(long_id, 's', 101);
    long_id[101] = '\0';
    CHECK(!session_acm_session_id_ok(long_id));
}

/* ---- conformance ------------------------------------------------------- */

static strands_session_store *make(void *user)
{
    (void)user;
    char id[32];
    snprintf(id, sizeof id, "conf-%010d", ++conf_counter);
    return store_with(id, 3, SESSION_CONFORMANCE_LEASE_MS);
}

/* sc_unicode with an id AgentCore accepts (its session ids are ASCII). */
static void unicode_text(strands_session_store *s)
{
    const char *text = "h\xc3\xa9llo \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x8e"
                       "\x89 \xe2\x80\xae \\u0041 \"q\" \x7f";
    sc_round_trip_text(s, "conf-unicode", text);
    /* A non-ASCII session id: refused, not mangled. */
    json_t *one = sc_one("user", text);
    json_t *agent = sc_text_agent(text);
    strands_error err;
    strands_session_key bad = sc_key("conf-\xc3\xbcnicode");
    CHECK_INT(s->vtab->append(s, &bad, NULL, 0, one, agent, &err),
              STRANDS_E_INVALID);
    json_decref(agent);
    json_decref(one);
}

static void run_conformance(void)
{
    /* The suite's own runner would run sc_unicode, which uses a non-ASCII
     * session id that AgentCore's session-id pattern refuses: the cases
     * are run one by one, the same text going through an ASCII id.     */
    (void)session_conformance_run;
    for (size_t i = 0; i < SESSION_CONFORMANCE_N_CASES; i++) {
        if (session_conformance_cases[i].fn == sc_unicode)
            sc_run_case("unicode(ascii id)", unicode_text, make, NULL, NULL);
        else
            sc_run_case(session_conformance_cases[i].name,
                        session_conformance_cases[i].fn, make, NULL, NULL);
    }
}

/* ---- store behaviour --------------------------------------------------- */

static void test_actor_ids(void)
{
    const char *mem = "actors-a1b2c3d4e5";
    strands_session_store *s = store_with(mem, 3, 0);
    CHECK(s != NULL);
    if (!s) return;
    strands_error err;
    json_t *one = sc_one("user", "mine");
    json_t *agent = json_pack("{s:{}}", "state");
    strands_session_key user = {.session_id = "sess-1", .actor_id = "user-42"};
    strands_session_key anon = {.session_id = "sess-1", .actor_id = NULL};
    CHECK_INT(s->vtab->append(s, &user, NULL, 0, one, agent, &err),
              STRANDS_OK);
    /* The default actor ("default") has its own events for that session. */
    strands_session_record rec;
    CHECK_INT(s->vtab->load(s, &anon, &rec, &err), STRANDS_OK);
    CHECK_INT(rec.count, 0);
    strands_session_record_clear(&rec);
    CHECK_INT(s->vtab->load(s, &user, &rec, &err), STRANDS_OK);
    CHECK_INT(rec.count, 1);
    strands_session_record_clear(&rec);
    CHECK_INT(s->vtab->append(s, &anon, NULL, 0, one, agent, &err),
              STRANDS_OK);
    json_t *evs = fake_events(mem);
    size_t i;
    json_t *ev;
    int by_user = 0, by_default = 0;
    json_array_foreach(evs, i, ev) {
        const char *a = json_string_value(json_object_get(ev, "actorId"));
        CHECK_STR(json_string_value(json_object_get(ev, "sessionId")),
                  "sess-1");
        by_user += !strcmp(a, "user-42");
        by_default += !strcmp(a, "default");
    }
    /* session record, message, agent state: three events each */
    CHECK_INT(by_user, 3);
    CHECK_INT(by_default, 3);
    json_decref(evs);
    /* An actor id AgentCore refuses is a clear E_INVALID, nothing sent. */
    strands_session_key bad = {.session_id = "sess-1",
                               .actor_id = "user@corp"};
    strands_error_clear(&err);
    CHECK_INT(s->vtab->load(s, &bad, &rec, &err), STRANDS_E_INVALID);
    CHECK(strstr(err.message, "actor id") != NULL);
    json_decref(agent);
    json_decref(one);
    strands_session_store_free(s);
}

static void test_events_as_strands_writes_them(void)
{
    const char *mem = "shapes-a1b2c3d4e5";
    strands_session_store *s = store_with(mem, 3, 0);
    CHECK(s != NULL);
    if (!s) return;
    size_t n = 100000;
    char *big = malloc(n + 1);
    memset(big, 'b', n);
    big[n] = '\0';
    json_t *turn = json_array();
    json_array_append_new(turn, sc_msg("user", "small"));
    json_array_append_new(turn, sc_msg("assistant", big));
    json_t *agent = json_pack("{s:{s:i}, s:{s:s, s:i}}", "state", "n", 1,
                              "conversation_manager_state", "__name__",
                              "SlidingWindowConversationManager",
                              "removed_message_count", 0);
    strands_session_key k = sc_key("shapes");
    strands_error err;
    CHECK_INT(s->vtab->append(s, &k, NULL, 0, turn, agent, &err), STRANDS_OK);
    json_t *evs = fake_events(mem);
    CHECK_INT(json_array_size(evs), 4);
    json_t *sess = json_array_get(evs, 0), *m0 = json_array_get(evs, 1),
           *m1 = json_array_get(evs, 2), *ag = json_array_get(evs, 3);
    /* Strands' session record, then the messages, then the agent state. */
    CHECK_STR(json_string_value(json_object_get(json_object_get(
                  json_object_get(sess, "metadata"), "stateType"),
                  "stringValue")),
              "SESSION");
    json_t *srec = json_loads(json_string_value(json_object_get(
                                  json_array_get(json_object_get(sess,
                                                                 "payload"),
                                                 0),
                                  "blob")),
                              0, NULL);
    CHECK_STR(json_string_value(json_object_get(srec, "session_id")),
              "shapes");
    CHECK_STR(json_string_value(json_object_get(srec, "session_type")),
              "AGENT");
    json_decref(srec);
    json_t *p0 = json_array_get(json_object_get(m0, "payload"), 0);
    json_t *p1 = json_array_get(json_object_get(m1, "payload"), 0);
    CHECK(json_object_get(p0, "conversational") != NULL);
    CHECK(json_object_get(p1, "blob") != NULL);   /* above 100,000 chars */
    json_t *ap = json_array_get(json_object_get(ag, "payload"), 0);
    json_t *adoc = json_loads(json_string_value(json_object_get(ap, "blob")),
                              0, NULL);
    CHECK_STR(json_string_value(json_object_get(adoc, "agent_id")),
              "default");
    CHECK(json_equal(json_object_get(adoc, "state"),
                     json_object_get(agent, "state")));
    json_t *md = json_object_get(ag, "metadata");
    CHECK_STR(json_string_value(json_object_get(
                  json_object_get(md, "stateType"), "stringValue")),
              "AGENT");
    CHECK_STR(json_string_value(json_object_get(
                  json_object_get(md, "agentId"), "stringValue")),
              "default");
    /* Strictly increasing timestamps: the order survives listing. */
    double t[4];
    for (int i = 0; i < 4; i++)
        t[i] = json_number_value(json_object_get(json_array_get(evs, i),
                                                 "eventTimestamp"));
    CHECK(t[0] < t[1] && t[1] < t[2] && t[2] < t[3]);
    json_decref(adoc);
    json_decref(evs);
    strands_session_record rec;
    CHECK_INT(s->vtab->load(s, &k, &rec, &err), STRANDS_OK);
    CHECK(json_equal(rec.messages, turn));
    CHECK(json_equal(rec.agent, agent));
    strands_session_record_clear(&rec);
    json_decref(agent);
    json_decref(turn);
    free(big);
    strands_session_store_free(s);
}

static void test_many_events_paginate(void)
{
    const char *mem = "pages-a1b2c3d4e5";
    strands_session_store *s = store_with(mem, 3, 0);
    CHECK(s != NULL);
    if (!s) return;
    strands_session_key k = sc_key("pages");
    strands_error err;
    json_t *turn = json_array();
    char t[32];
    for (int i = 0; i < 250; i++) {
        snprintf(t, sizeof t, "m%d", i);
        json_array_append_new(turn, sc_msg(i % 2 ? "assistant" : "user", t));
    }
    json_t *agent = json_object();
    CHECK_INT(s->vtab->append(s, &k, NULL, 0, turn, agent, &err), STRANDS_OK);
    strands_session_record rec;
    CHECK_INT(s->vtab->load(s, &k, &rec, &err), STRANDS_OK);
    CHECK_INT(rec.count, 250);
    CHECK(json_equal(rec.messages, turn));
    strands_session_record_clear(&rec);
    json_decref(agent);
    json_decref(turn);
    strands_session_store_free(s);
}

static void test_unstorable_message_writes_nothing(void)
{
    const char *mem = "norole-a1b2c3d4e5";
    strands_session_store *s = store_with(mem, 3, 0);
    CHECK(s != NULL);
    if (!s) return;
    strands_session_key k = sc_key("norole");
    json_t *turn = json_array();
    json_array_append_new(turn, sc_msg("user", "fine"));
    json_array_append_new(turn, sc_msg("system", "Strands stores only "
                                                 "user and assistant"));
    json_t *agent = json_object();
    strands_error err;
    strands_error_clear(&err);
    CHECK_INT(s->vtab->append(s, &k, NULL, 0, turn, agent, &err),
              STRANDS_E_INVALID);
    CHECK(strstr(err.message, "role") != NULL);
    json_t *evs = fake_events(mem);
    CHECK_INT(json_array_size(evs), 0);     /* not even the first one */
    json_decref(evs);
    json_decref(agent);
    json_decref(turn);
    strands_session_store_free(s);
}

static void test_many_turns_latest_agent(void)
{
    /* One agent-state event per turn; a listing keeps only the newest
     * payloads, and the latest committed one is what loads.            */
    const char *mem = "turns-a1b2c3d4e5";
    strands_session_store *s = store_with(mem, 3, 0);
    CHECK(s != NULL);
    if (!s) return;
    strands_session_key k = sc_key("turns");
    strands_error err;
    json_t *none = json_array();
    for (int i = 0; i < ACM_AGENT_PAYLOADS_KEPT + 5; i++) {
        json_t *agent = json_pack("{s:{s:i}}", "state", "n", i);
        json_t *msgs = i % 3 ? none : sc_one("user", "turn");
        CHECK_INT(s->vtab->append(s, &k, NULL, (size_t)((i + 2) / 3), msgs,
                                  agent, &err),
                  STRANDS_OK);
        if (msgs != none) json_decref(msgs);
        json_decref(agent);
    }
    strands_session_record rec;
    CHECK_INT(s->vtab->load(s, &k, &rec, &err), STRANDS_OK);
    CHECK_INT(rec.count, (ACM_AGENT_PAYLOADS_KEPT + 5 + 2) / 3);
    CHECK_INT(json_integer_value(json_object_get(
                  json_object_get(rec.agent, "state"), "n")),
              ACM_AGENT_PAYLOADS_KEPT + 4);
    strands_session_record_clear(&rec);
    json_decref(none);
    strands_session_store_free(s);
}

static void test_second_process_stale_turn_refused(void)
{
    /* Two stores = two runtime processes sharing a memory: the base check
     * reads the service, so the one that appends second is refused.    */
    const char *mem = "twoproc-a1b2c3d4e5";
    strands_session_store *a = store_with(mem, 3, 0);
    strands_session_store *b = store_with(mem, 3, 0);
    CHECK(a && b);
    if (!a || !b) {
        strands_session_store_free(a);
        strands_session_store_free(b);
        return;
    }
    strands_session_key k = sc_key("shared");
    strands_error err;
    json_t *agent = json_object();
    json_t *one = sc_one("user", "first");
    CHECK_INT(a->vtab->append(a, &k, NULL, 0, one, agent, &err), STRANDS_OK);
    json_t *ta = sc_one("assistant", "from a");
    json_t *tb = sc_one("assistant", "from b");
    CHECK_INT(a->vtab->append(a, &k, NULL, 1, ta, agent, &err), STRANDS_OK);
    strands_error_clear(&err);
    CHECK_INT(b->vtab->append(b, &k, NULL, 1, tb, agent, &err),
              STRANDS_E_BUSY);
    CHECK_STR(err.code, "SessionConflict");
    CHECK_INT(sc_count(b, "shared"), 2);
    SC_CHECK_TEXT(b, "shared", 1, "from a");
    /* Claims are per process: b can claim what a holds (documented). */
    strands_session_claim ca, cb;
    CHECK_INT(a->vtab->claim(a, &k, &ca, &err), STRANDS_OK);
    CHECK_INT(b->vtab->claim(b, &k, &cb, &err), STRANDS_OK);
    json_decref(tb);
    json_decref(ta);
    json_decref(one);
    json_decref(agent);
    strands_session_store_free(a);
    strands_session_store_free(b);
}

static void test_failure_midway_leaves_session_as_it_was(void)
{
    const char *mem = "midway-a1b2c3d4e5";
    strands_session_store *s = store_with(mem, 1, 0);
    CHECK(s != NULL);
    if (!s) return;
    strands_session_key k = sc_key("midway");
    strands_error err;
    json_t *first = sc_one("user", "committed");
    json_t *agent1 = json_pack("{s:{s:i}}", "state", "v", 1);
    CHECK_INT(s->vtab->append(s, &k, NULL, 0, first, agent1, &err),
              STRANDS_OK);
    /* The next turn: its first message event is stored, then the service
     * refuses the rest (not retryable): the turn never commits.        */
    ctl_do("/__fake/fail", "{\"operation\":\"CreateEvent\",\"code\":"
           "\"AccessDeniedException\",\"status\":403,\"count\":-1,"
           "\"after\":1}");
    json_t *turn = json_array();
    json_array_append_new(turn, sc_msg("assistant", "orphan 1"));
    json_array_append_new(turn, sc_msg("user", "orphan 2"));
    json_t *agent2 = json_pack("{s:{s:i}}", "state", "v", 2);
    strands_error_clear(&err);
    CHECK_INT(s->vtab->append(s, &k, NULL, 1, turn, agent2, &err),
              STRANDS_E_UNAVAILABLE);
    CHECK_STR(err.code, "SessionStoreUnavailable");
    CHECK(strstr(err.message, "AccessDeniedException") != NULL);
    ctl_do("/__fake/fail", "{\"clear\":true}");
    json_t *evs = fake_events(mem);
    CHECK_INT(json_array_size(evs), 4);   /* session, m, agent, orphan */
    json_decref(evs);
    /* Loads ignore the orphan: the session is as it was. */
    strands_session_record rec;
    CHECK_INT(s->vtab->load(s, &k, &rec, &err), STRANDS_OK);
    CHECK_INT(rec.count, 1);
    CHECK(json_equal(rec.messages, first));
    CHECK(json_equal(rec.agent, agent1));
    strands_session_record_clear(&rec);
    /* The retried turn goes at the same base and commits. */
    CHECK_INT(s->vtab->append(s, &k, NULL, 1, turn, agent2, &err),
              STRANDS_OK);
    CHECK_INT(s->vtab->load(s, &k, &rec, &err), STRANDS_OK);
    CHECK_INT(rec.count, 3);
    SC_CHECK_TEXT(s, "midway", 1, "orphan 1");
    SC_CHECK_TEXT(s, "midway", 2, "orphan 2");
    CHECK(json_equal(rec.agent, agent2));
    strands_session_record_clear(&rec);
    json_decref(agent2);
    json_decref(turn);
    json_decref(agent1);
    json_decref(first);
    strands_session_store_free(s);
}

static void test_throttling_is_unavailable_then_recovers(void)
{
    const char *mem = "throttle-a1b2c3d4e5";
    strands_session_store *s = store_with(mem, 2, 0);
    CHECK(s != NULL);
    if (!s) return;
    strands_session_key k = sc_key("thr");
    strands_error err;
    strands_session_record rec;
    /* One throttle: retried, the load succeeds. */
    ctl_do("/__fake/fail", "{\"operation\":\"ListEvents\",\"count\":1}");
    CHECK_INT(s->vtab->load(s, &k, &rec, &err), STRANDS_OK);
    strands_session_record_clear(&rec);
    /* Throttled past the retries: SessionStoreUnavailable. */
    ctl_do("/__fake/fail", "{\"operation\":\"*\",\"count\":2}");
    strands_error_clear(&err);
    CHECK_INT(s->vtab->load(s, &k, &rec, &err), STRANDS_E_UNAVAILABLE);
    CHECK_STR(err.code, "SessionStoreUnavailable");
    CHECK(strstr(err.message, "ThrottlingException") != NULL);
    CHECK(rec.messages == NULL);
    json_t *one = sc_one("user", "x");
    json_t *agent = json_object();
    /* A quota error is not retried: one answer fails the call. */
    ctl_do("/__fake/fail", "{\"operation\":\"*\",\"count\":1,\"code\":"
           "\"ServiceQuotaExceededException\",\"status\":402}");
    strands_error_clear(&err);
    CHECK_INT(s->vtab->append(s, &k, NULL, 0, one, agent, &err),
              STRANDS_E_UNAVAILABLE);
    CHECK_STR(err.code, "SessionStoreUnavailable");
    /* 5xx twice: unavailable too. */
    ctl_do("/__fake/fail", "{\"operation\":\"*\",\"count\":2,\"code\":"
           "\"ServiceException\",\"status\":500}");
    strands_error_clear(&err);
    CHECK_INT(s->vtab->append(s, &k, NULL, 0, one, agent, &err),
              STRANDS_E_UNAVAILABLE);
    /* The service is back: the store works again by itself. */
    CHECK_INT(s->vtab->append(s, &k, NULL, 0, one, agent, &err), STRANDS_OK);
    CHECK_INT(sc_count(s, "thr"), 1);
    json_decref(agent);
    json_decref(one);
    strands_session_store_free(s);
}

static void test_unknown_memory_and_bad_config(void)
{
    ctl_do("/__fake/memories", "[\"known-a1b2c3d4e5\"]");
    strands_session_store *s = store_with("other-a1b2c3d4e5", 1, 0);
    CHECK(s != NULL);
    strands_session_key k = sc_key("x");
    strands_session_record rec;
    strands_error err;
    strands_error_clear(&err);
    if (s) {
        CHECK_INT(s->vtab->load(s, &k, &rec, &err), STRANDS_E_UNAVAILABLE);
        CHECK_STR(err.code, "SessionStoreUnavailable");
        CHECK(strstr(err.message, "ResourceNotFoundException") != NULL);
        CHECK(strstr(err.message, "other-a1b2c3d4e5") != NULL);
    }
    strands_session_store_free(s);
    ctl_do("/__fake/memories", "[]");
    /* Bad memory ids and actor defaults are refused at creation. */
    session_acm_config cfg = {.memory_id = "mem-123", .region = "us-east-1",
                      .endpoint = fake_url, .credentials = creds};
    CHECK(session_acm_store_new(&cfg, &err) == NULL);
    CHECK_INT(err.status, STRANDS_E_INVALID);
    cfg.memory_id = "good-a1b2c3d4e5";
    cfg.default_actor_id = "a b";
    CHECK(session_acm_store_new(&cfg, &err) == NULL);
    CHECK(strstr(err.message, "MEMORY_ACTOR_ID") != NULL);
}

static void test_wrong_signature_is_unavailable(void)
{
    strands_error err;
    strands_credentials_provider *wrong = strands_credentials_static_new(
        AKID, "not-the-secret-key-at-all-00000000000000", NULL, &err);
    session_acm_config cfg = {.memory_id = "sig-a1b2c3d4e5",
                              .region = "us-east-1", .endpoint = fake_url,
                              .credentials = wrong, .max_attempts = 1};
    strands_session_store *s = session_acm_store_new(&cfg, &err);
    CHECK(s != NULL);
    if (s) {
        strands_session_key k = sc_key("sig");
        strands_session_record rec;
        strands_error_clear(&err);
        CHECK_INT(s->vtab->load(s, &k, &rec, &err), STRANDS_E_UNAVAILABLE);
        CHECK(strstr(err.message, "Signature") != NULL);
        /* The secret never appears in the error. */
        CHECK(strstr(err.message, "not-the-secret") == NULL);
    }
    strands_session_store_free(s);
    strands_credentials_provider_free(wrong);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    RUN(test_dumps_like_python);
    RUN(test_message_payload_conversational);
    RUN(test_message_payload_blob_threshold);
    RUN(test_ids);
    strands_error err;
    creds = strands_credentials_static_new(AKID, SECRET, NULL, &err);
    ctl_http = http_client_new(2);
    if (start_fake() != 0) {
        fprintf(stderr, "SKIP store tests: the fake AgentCore Memory "
                        "(/usr/bin/python3 + botocore) did not start\n");
        test_skipped++;
    } else {
        run_conformance();
        RUN(test_actor_ids);
        RUN(test_events_as_strands_writes_them);
        RUN(test_many_events_paginate);
        RUN(test_unstorable_message_writes_nothing);
        RUN(test_many_turns_latest_agent);
        RUN(test_second_process_stale_turn_refused);
        RUN(test_failure_midway_leaves_session_as_it_was);
        RUN(test_throttling_is_unavailable_then_recovers);
        RUN(test_unknown_memory_and_bad_config);
        RUN(test_wrong_signature_is_unavailable);
    }
    stop_fake();
    http_client_free(ctl_http);
    strands_credentials_provider_free(creds);
    strands_aws_thread_done();
    return test_report();
}
