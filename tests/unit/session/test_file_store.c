/* The file session store (src/session/file*.c): the exact Strands Python
 * layout (against fixtures written the way Strands Python writes them,
 * tests/fixtures/strands_py_session/), continuing such a session, the
 * snapshot layout, bytes, conflicts, ids that try traversal, symlinks,
 * claims across processes (fork), crash injection between write and
 * rename, the history cap, gaps and corrupt files.                      */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <jansson.h>

#include "strands/session.h"
#include "strands/session_file.h"
#include "session/file.h"
#include "test.h"

#define FIXTURES STRANDS_SOURCE_DIR "/tests/fixtures"
#define PYSESS "session_py-session-1/agents/agent_default"

static char tmpdir[256];
static json_t *EMPTY; /* {} as the agent object */

static int rm_one(const char *p, const struct stat *sb, int flag,
                  struct FTW *ftw)
{
    (void)sb; (void)flag; (void)ftw;
    return remove(p);
}

static void rm_rf(const char *p)
{
    nftw(p, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* A fresh directory for one test; `fixture` (a folder under
 * tests/fixtures, or NULL) is copied into it.                           */
static const char *fresh(const char *fixture)
{
    if (tmpdir[0]) rm_rf(tmpdir);
    snprintf(tmpdir, sizeof tmpdir, "/tmp/strands-file-test-XXXXXX");
    if (!mkdtemp(tmpdir)) abort();
    if (fixture) {
        char cmd[1024];
        snprintf(cmd, sizeof cmd, "cp -R '%s/%s/.' '%s/'", FIXTURES, fixture,
                 tmpdir);
        if (system(cmd) != 0) abort();
    }
    return tmpdir;
}

static char *path_in(const char *rel)
{
    static char buf[1024];
    snprintf(buf, sizeof buf, "%s/%s", tmpdir, rel);
    return buf;
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    if (fread(b, 1, (size_t)n, f) != (size_t)n) n = 0;
    b[n] = '\0';
    fclose(f);
    return b;
}

static int exists(const char *rel)
{
    struct stat st;
    return lstat(path_in(rel), &st) == 0;
}

static strands_session_store *open_store(size_t cap)
{
    strands_file_store_config cfg = {.dir = tmpdir,
                                     .max_history_bytes = cap};
    strands_error err;
    strands_session_store *s = strands_file_store_new(&cfg, &err);
    if (!s) fprintf(stderr, "store: %s\n", err.message);
    return s;
}

/* Frees `old` (may be NULL); a fresh directory (with `fixture`, or NULL)
 * and a store on it with no history cap.                               */
static strands_session_store *reopen(strands_session_store *old,
                                     const char *fixture)
{
    strands_session_store_free(old);
    fresh(fixture);
    return open_store(0);
}

static strands_session_key key_of(const char *sid)
{
    strands_session_key k = {.session_id = sid};
    return k;
}

static json_t *msg(const char *role, const char *text)
{
    return json_pack("{s:s,s:[{s:s}]}", "role", role, "content", "text",
                     text);
}

/* Appends user+assistant texts at base; the status. */
static strands_status add_turn(strands_session_store *s, const char *sid,
                               size_t base, const char *u, const char *a,
                               strands_error *err)
{
    strands_session_key k = key_of(sid);
    json_t *msgs = json_pack("[o,o]", msg("user", u), msg("assistant", a));
    json_t *agent = json_pack("{s:{s:i}}", "state", "turns", (int)base);
    strands_status st = s->vtab->append(s, &k, NULL, base, msgs, agent, err);
    json_decref(msgs);
    json_decref(agent);
    return st;
}

static size_t load_count(strands_session_store *s, const char *sid,
                         strands_status *st_out)
{
    strands_session_key k = key_of(sid);
    strands_session_record r;
    strands_error err;
    strands_status st = s->vtab->load(s, &k, &r, &err);
    if (st_out) *st_out = st;
    size_t n = st == STRANDS_OK ? r.count : (size_t)-1;
    strands_session_record_clear(&r);
    return n;
}

/* The keys of a JSON object file, comma-joined in order. */
static char *keys_of(const char *rel)
{
    static char buf[512];
    buf[0] = '\0';
    json_t *doc = json_load_file(path_in(rel), 0, NULL);
    const char *k;
    json_t *v;
    json_object_foreach(doc, k, v) {
        if (buf[0]) strcat(buf, ",");
        strcat(buf, k);
    }
    json_decref(doc);
    return buf;
}

static int iso_ok(const char *s)
{
    regex_t re;
    regcomp(&re, "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}"
                 "\\.[0-9]{6}\\+00:00$", REG_EXTENDED | REG_NOSUB);
    int ok = s && regexec(&re, s, 0, NULL, 0) == 0;
    regfree(&re);
    return ok;
}

/* The committed count this store records in agent.json, or -1. */
static long long committed_of(const json_t *agent_json)
{
    json_t *c = json_object_get(json_object_get(agent_json,
                                                FILE_PRIVATE_KEY),
                                "message_count");
    return json_is_integer(c) ? (long long)json_integer_value(c) : -1;
}

static int mode_of(const char *rel)
{
    struct stat st;
    if (lstat(path_in(rel), &st) != 0) return -1;
    return (int)(st.st_mode & 0777);
}

/* ---- layout ------------------------------------------------------------ */

/* Every message record we write is byte-for-byte what Strands Python
 * writes for the same message (indent 2, UTF-8 kept, bytes encoded). */
static void test_record_bytes_match_python(void)
{
    const char *T = "2026-05-15T10:00:00.123456+00:00";
    for (size_t i = 0; i < 8; i++) {
        if (i == 6) continue; /* redacted: we never write redactions */
        char p[512];
        snprintf(p, sizeof p, "%s/strands_py_session/" PYSESS
                 "/messages/message_%zu.json", FIXTURES, i);
        char *want = slurp(p);
        CHECK(want != NULL);
        if (!want) return;
        json_t *m = NULL;
        strands_error err;
        CHECK_INT(fstore_message_parse(want, strlen(want), i, "fixture", &m,
                                       &err), STRANDS_OK);
        size_t len;
        char *got = fstore_message_record(m, i, T, &len);
        CHECK_STR(got, want);
        CHECK_INT(len, strlen(want));
        free(got);
        json_decref(m);
        free(want);
    }
}

static void test_new_session_layout(void)
{
    strands_session_store *s = reopen(NULL, NULL);
    strands_error err;
    CHECK_INT(add_turn(s, "s1", 0, "Grüße ✓", "hello", &err), STRANDS_OK);
    CHECK_STR(keys_of("session_s1/session.json"),
              "session_id,session_type,created_at,updated_at");
    json_t *sj = json_load_file(path_in("session_s1/session.json"), 0, NULL);
    CHECK_STR(json_string_value(json_object_get(sj, "session_type")),
              "AGENT");
    CHECK_STR(json_string_value(json_object_get(sj, "session_id")), "s1");
    CHECK(iso_ok(json_string_value(json_object_get(sj, "created_at"))));
    json_decref(sj);
    const char *aj = "session_s1/agents/agent_default/agent.json";
    CHECK_STR(keys_of(aj), "agent_id,state,conversation_manager_state,"
                           "_internal_state,created_at,updated_at,"
                           FILE_PRIVATE_KEY);
    json_t *a = json_load_file(path_in(aj), 0, NULL);
    CHECK_STR(json_string_value(json_object_get(a, "agent_id")), "default");
    CHECK_INT(json_integer_value(json_object_get(
                  json_object_get(a, "state"), "turns")), 0);
    CHECK_STR(json_string_value(json_object_get(
                  json_object_get(a, "conversation_manager_state"),
                  "__name__")), "SlidingWindowConversationManager");
    CHECK(json_is_false(json_object_get(
        json_object_get(json_object_get(a, "_internal_state"),
                        "interrupt_state"), "activated")));
    CHECK_INT(committed_of(a), 2);
    CHECK(iso_ok(json_string_value(json_object_get(a, "updated_at"))));
    json_decref(a);
    const char *m0 = "session_s1/agents/agent_default/messages/message_0.json";
    CHECK_STR(keys_of(m0),
              "message,message_id,redact_message,created_at,updated_at");
    char *text = slurp(path_in(m0));
    CHECK(text && strstr(text, "\"text\": \"Grüße ✓\"")); /* no \u escapes */
    CHECK(text && strncmp(text, "{\n  \"message\": {\n    \"role\": "
                                "\"user\",", 33) == 0);
    free(text);
    CHECK(exists("session_s1/agents/agent_default/messages/message_1.json"));
    CHECK(exists("session_s1/multi_agents"));
    CHECK_INT(mode_of("session_s1"), 0700);
    CHECK_INT(mode_of("session_s1/agents/agent_default/messages"), 0700);
    CHECK_INT(mode_of(m0), 0600);
    CHECK_INT(mode_of("session_s1/session.json"), 0600);
    /* No temp files are left behind. */
    char cmd[512];
    snprintf(cmd, sizeof cmd, "ls -a '%s/session_s1/agents/agent_default/"
             "messages' | grep -q tmp", tmpdir);
    CHECK(system(cmd) != 0);
    CHECK_INT(load_count(s, "s1", NULL), 2);
    strands_session_store_free(s);
}

/* ---- a session written by Strands Python -------------------------------- */

static void test_fixture_load(void)
{
    strands_session_store *s = reopen(NULL, "strands_py_session");
    strands_session_key k = key_of("py-session-1");
    strands_session_record r;
    strands_error err;
    CHECK_INT(s->vtab->load(s, &k, &r, &err), STRANDS_OK);
    CHECK_INT(r.first, 2); /* removed_message_count */
    CHECK_INT(r.count, 8);
    CHECK_INT(json_array_size(r.messages), 6);
    /* message_3: the tool use, metadata kept for the agent to strip */
    json_t *m3 = json_array_get(r.messages, 1);
    json_t *tu = json_object_get(json_array_get(json_object_get(m3,
                                                                "content"),
                                                0), "toolUse");
    CHECK_STR(json_string_value(json_object_get(tu, "name")), "calc");
    CHECK(json_object_get(m3, "metadata") != NULL);
    /* message_6: its redact_message is what load returns */
    json_t *m6 = json_array_get(r.messages, 4);
    CHECK_STR(json_string_value(json_object_get(json_array_get(
                  json_object_get(m6, "content"), 0), "text")),
              "[User input redacted.]");
    CHECK_STR(json_string_value(json_object_get(
                  json_object_get(r.agent, "state"), "name")), "Zoë");
    CHECK(json_object_get(r.agent, "_internal_state") != NULL);
    CHECK(json_object_get(r.agent, "agent_id") == NULL);
    CHECK(json_object_get(r.agent, "created_at") == NULL);
    strands_session_record_clear(&r);
    strands_session_store_free(s);
}

static void test_fixture_continue(void)
{
    strands_session_store *s = reopen(NULL, "strands_py_session");
    strands_session_key k = key_of("py-session-1");
    strands_session_record r;
    strands_error err;
    CHECK_INT(s->vtab->load(s, &k, &r, &err), STRANDS_OK);
    json_t *agent = json_deep_copy(r.agent);
    json_object_set_new(json_object_get(agent, "state"), "counter",
                        json_integer(4));
    json_t *msgs = json_pack("[o,o]", msg("user", "and 3+3?"),
                             msg("assistant", "6"));
    CHECK_INT(s->vtab->append(s, &k, NULL, r.count, msgs, agent, &err),
              STRANDS_OK);
    json_decref(msgs);
    json_decref(agent);
    strands_session_record_clear(&r);
    /* Python's files are untouched; ours follow them in the same layout. */
    for (int i = 0; i < 8; i++) {
        char rel[256], fx[512];
        snprintf(rel, sizeof rel, PYSESS "/messages/message_%d.json", i);
        snprintf(fx, sizeof fx, "%s/strands_py_session/%s", FIXTURES, rel);
        char *a = slurp(path_in(rel)), *b = slurp(fx);
        CHECK_STR(a, b);
        free(a);
        free(b);
    }
    CHECK_STR(keys_of(PYSESS "/messages/message_8.json"),
              "message,message_id,redact_message,created_at,updated_at");
    CHECK(exists(PYSESS "/messages/message_9.json"));
    CHECK(!exists(PYSESS "/messages/message_10.json"));
    json_t *a = json_load_file(path_in(PYSESS "/agent.json"), 0, NULL);
    CHECK_STR(json_string_value(json_object_get(a, "created_at")),
              "2026-05-15T10:00:00.123456+00:00");
    CHECK(strcmp(json_string_value(json_object_get(a, "updated_at")),
                 "2026-05-15T10:00:00.123456+00:00") != 0);
    CHECK_INT(json_integer_value(json_object_get(json_object_get(a, "state"),
                                                 "counter")), 4);
    CHECK_INT(committed_of(a), 10);
    json_decref(a);
    json_t *sj = json_load_file(path_in("session_py-session-1/session.json"),
                                0, NULL);
    CHECK_STR(json_string_value(json_object_get(sj, "created_at")),
              "2026-05-15T10:00:00.123456+00:00");
    json_decref(sj);
    CHECK_INT(load_count(s, "py-session-1", NULL), 10);
    strands_session_store_free(s);
}

/* ---- bytes -------------------------------------------------------------- */

static void test_bytes_round_trip(void)
{
    strands_session_store *s = reopen(NULL, NULL);
    strands_session_key k = key_of("b1");
    json_t *msgs = json_pack(
        "[{s:s,s:[{s:{s:s,s:{s:s}}},{s:{s:s,s:[{s:{s:s,s:s,s:{s:s}}}]}},"
        "{s:{s:{s:s}}}]}]",
        "role", "user", "content",
        "image", "format", "png", "source", "bytes", "iVBORw0KGgo=",
        "toolResult", "toolUseId", "t1", "content",
        "document", "format", "pdf", "name", "d", "source", "bytes", "JVBE",
        "toolUse", "input", "bytes", "not-bytes");
    strands_error err;
    CHECK_INT(s->vtab->append(s, &k, NULL, 0, msgs, EMPTY, &err), STRANDS_OK);
    char *text = slurp(path_in(
        "session_b1/agents/agent_default/messages/message_0.json"));
    CHECK(text && strstr(text, "\"bytes\": {\n              \"__bytes_"
                               "encoded__\": true,\n              \"data\""
                               ": \"iVBORw0KGgo=\""));
    CHECK(text && strstr(text, "\"data\": \"JVBE\""));
    CHECK(text && strstr(text, "\"bytes\": \"not-bytes\"")); /* tool input */
    free(text);
    strands_session_record r;
    CHECK_INT(s->vtab->load(s, &k, &r, &err), STRANDS_OK);
    CHECK(json_equal(json_array_get(r.messages, 0), json_array_get(msgs, 0)));
    strands_session_record_clear(&r);
    json_decref(msgs);
    /* A Python-written record with bytes decodes to our base64 string. */
    char p[512];
    snprintf(p, sizeof p, "%s/strands_py_session/" PYSESS
             "/messages/message_0.json", FIXTURES);
    char *py = slurp(p);
    json_t *m = NULL;
    CHECK_INT(fstore_message_parse(py, strlen(py), 0, "m0", &m, &err),
              STRANDS_OK);
    CHECK_STR(json_string_value(json_object_get(json_object_get(
                  json_object_get(json_array_get(json_object_get(m,
                  "content"), 1), "image"), "source"), "bytes")),
              "iVBORw0KGgo=");
    json_decref(m);
    free(py);
    /* Encoded bytes whose data is not base64: a parse error. */
    const char *badb = "{\"message\":{\"role\":\"user\",\"content\":["
                       "{\"image\":{\"source\":{\"bytes\":"
                       "{\"__bytes_encoded__\":true,\"data\":\"@@\"}}}}]},"
                       "\"message_id\":0}";
    CHECK_INT(fstore_message_parse(badb, strlen(badb), 0, "m0", &m, &err),
              STRANDS_E_PARSE);
    strands_session_store_free(s);
}

/* ---- snapshot layout ---------------------------------------------------- */

static void test_snapshot_load_and_continue(void)
{
    strands_session_store *s = reopen(NULL, "strands_snapshot");
    strands_session_key k = key_of("snap-1");
    strands_session_record r;
    strands_error err;
    CHECK_INT(s->vtab->load(s, &k, &r, &err), STRANDS_OK);
    CHECK_INT(r.count, 4);
    CHECK_INT(r.first, 0);
    CHECK_INT(json_array_size(r.messages), 4);
    CHECK_STR(json_string_value(json_object_get(
                  json_object_get(r.agent, "state"), "topic")),
              "arithmetic");
    CHECK_INT(fstore_removed_count(r.agent, 100), 0);
    json_t *msgs = json_pack("[o]", msg("user", "next"));
    CHECK_INT(s->vtab->append(s, &k, NULL, 3, msgs, r.agent, &err),
              STRANDS_E_BUSY);
    CHECK_STR(err.code, "SessionConflict");
    CHECK_INT(s->vtab->append(s, &k, NULL, 4, msgs, r.agent, &err),
              STRANDS_OK);
    json_decref(msgs);
    strands_session_record_clear(&r);
    /* Continued in the message-log layout. */
    const char *ad = "session_snap-1/agents/agent_default";
    CHECK(exists("session_snap-1/session.json"));
    char rel[256];
    for (int i = 0; i < 5; i++) {
        snprintf(rel, sizeof rel, "%s/messages/message_%d.json", ad, i);
        CHECK(exists(rel));
    }
    CHECK_INT(load_count(s, "snap-1", NULL), 5);
    CHECK_INT(s->vtab->load(s, &k, &r, &err), STRANDS_OK);
    CHECK_STR(json_string_value(json_object_get(json_array_get(
                  json_object_get(json_array_get(r.messages, 4), "content"),
                  0), "text")), "next");
    strands_session_record_clear(&r);
    strands_session_store_free(s);
}

/* A TypeScript snapshot (camelCase keys, the SDK's message JSON) comes
 * back in Converse form.                                                */
static void test_snapshot_typescript_shape(void)
{
    json_t *doc = json_loads(
        "{\"scope\":\"agent\",\"schemaVersion\":\"1.0\",\"createdAt\":\"x\","
        "\"data\":{\"messages\":["
        "{\"role\":\"user\",\"content\":[{\"text\":\"hi\"}],"
        "\"trackingId\":\"0b0c\"},"
        "{\"role\":\"assistant\",\"content\":["
        "{\"reasoning\":{\"text\":\"think\",\"signature\":\"sig\"}},"
        "{\"reasoning\":{\"redactedContent\":\"AAE=\"}},"
        "{\"toolUse\":{\"name\":\"calc\",\"toolUseId\":\"t1\",\"input\":{},"
        "\"reasoningSignature\":\"rs\"}}],\"metadata\":{\"usage\":{}}}],"
        "\"state\":{\"k\":1},"
        "\"conversationManagerState\":{\"removed_message_count\":3}},"
        "\"appData\":{}}", 0, NULL);
    CHECK(doc != NULL);
    json_t *msgs = NULL, *agent = NULL;
    strands_error err;
    CHECK_INT(fstore_snapshot_convert(doc, "ts", &msgs, &agent, &err),
              STRANDS_OK);
    json_t *want = json_loads(
        "[{\"role\":\"user\",\"content\":[{\"text\":\"hi\"}]},"
        "{\"role\":\"assistant\",\"content\":["
        "{\"reasoningContent\":{\"reasoningText\":{\"text\":\"think\","
        "\"signature\":\"sig\"}}},"
        "{\"reasoningContent\":{\"redactedContent\":\"AAE=\"}},"
        "{\"toolUse\":{\"name\":\"calc\",\"toolUseId\":\"t1\",\"input\":{}}}],"
        "\"metadata\":{\"usage\":{}}}]", 0, NULL);
    CHECK(json_equal(msgs, want));
    CHECK_INT(json_integer_value(json_object_get(
                  json_object_get(agent, "state"), "k")), 1);
    CHECK_INT(fstore_removed_count(agent, 100), 0);
    json_decref(want);
    json_decref(msgs);
    json_decref(agent);
    json_decref(doc);
    /* Not a snapshot this store understands. */
    doc = json_loads("{\"schemaVersion\":\"2.0\",\"data\":{}}", 0, NULL);
    CHECK_INT(fstore_snapshot_convert(doc, "v2", &msgs, &agent, &err),
              STRANDS_E_PARSE);
    CHECK(strstr(err.message, "v2") != NULL);
    json_decref(doc);
}

/* ---- concurrency -------------------------------------------------------- */

static void test_conflict(void)
{
    strands_session_store *s = reopen(NULL, NULL);
    strands_error err;
    CHECK_INT(add_turn(s, "c1", 0, "a", "b", &err), STRANDS_OK);
    CHECK_INT(add_turn(s, "c1", 0, "x", "y", &err), STRANDS_E_BUSY);
    CHECK_STR(err.code, "SessionConflict");
    CHECK_INT(add_turn(s, "c1", 3, "x", "y", &err), STRANDS_E_BUSY);
    CHECK(!exists("session_c1/agents/agent_default/messages/message_2.json"));
    CHECK_INT(add_turn(s, "c1", 2, "c", "d", &err), STRANDS_OK);
    CHECK_INT(load_count(s, "c1", NULL), 4);
    /* An empty append only replaces the agent object. */
    strands_session_key k = key_of("c1");
    json_t *none = json_array();
    json_t *agent = json_pack("{s:{s:s}}", "state", "k", "v");
    CHECK_INT(s->vtab->append(s, &k, NULL, 4, none, agent, &err),
              STRANDS_OK);
    strands_session_record r;
    CHECK_INT(s->vtab->load(s, &k, &r, &err), STRANDS_OK);
    CHECK_INT(r.count, 4);
    CHECK_STR(json_string_value(json_object_get(
                  json_object_get(r.agent, "state"), "k")), "v");
    strands_session_record_clear(&r);
    json_decref(none);
    json_decref(agent);
    strands_session_store_free(s);
}

static void test_claims_in_process(void)
{
    fresh(NULL);
    strands_session_store *a = open_store(0), *b = open_store(0);
    strands_session_key k = key_of("cl");
    strands_session_claim c1, c2;
    strands_error err;
    CHECK_INT(a->vtab->claim(a, &k, &c1, &err), STRANDS_OK);
    CHECK_INT(c1.expires_ms, 0);
    CHECK(exists(".locks/session_cl.lock"));
    CHECK_INT(a->vtab->claim(a, &k, &c2, &err), STRANDS_E_BUSY);
    CHECK_STR(err.code, "SessionBusy");
    /* A second store on the same directory: its own open file. */
    CHECK_INT(b->vtab->claim(b, &k, &c2, &err), STRANDS_E_BUSY);
    CHECK_INT(a->vtab->renew(a, &k, &c1, &err), STRANDS_OK);
    json_t *msgs = json_pack("[o]", msg("user", "hi"));
    CHECK_INT(a->vtab->append(a, &k, &c1, 0, msgs, EMPTY, &err), STRANDS_OK);
    /* The claim belongs to store a: b cannot use its token. */
    CHECK_INT(b->vtab->append(b, &k, &c1, 1, msgs, EMPTY, &err),
              STRANDS_E_BUSY);
    CHECK_STR(err.code, "SessionClaimLost");
    CHECK_INT(a->vtab->release(a, &k, &c1, &err), STRANDS_OK);
    CHECK(!exists(".locks/session_cl.lock"));
    CHECK_INT(a->vtab->release(a, &k, &c1, &err), STRANDS_E_BUSY);
    CHECK_STR(err.code, "SessionClaimLost");
    CHECK_INT(a->vtab->renew(a, &k, &c1, &err), STRANDS_E_BUSY);
    CHECK_INT(a->vtab->append(a, &k, &c1, 1, msgs, EMPTY, &err),
              STRANDS_E_BUSY);
    CHECK_STR(err.code, "SessionClaimLost");
    CHECK_INT(b->vtab->claim(b, &k, &c2, &err), STRANDS_OK);
    CHECK(strcmp(c1.token, c2.token) != 0);
    /* A store freed with a claim held lets the session go. */
    strands_session_store_free(b);
    CHECK_INT(a->vtab->claim(a, &k, &c1, &err), STRANDS_OK);
    json_decref(msgs);
    strands_session_store_free(a);
}

/* Child: claims `sid` on its own store; reports through the exit code:
 * 0 claimed, 1 busy, 2 other. hold: keep it (killed later) or _exit. */
static int child_claim(const char *sid, int hold_fd)
{
    strands_session_store *s = open_store(0);
    if (!s) _exit(2);
    strands_session_key k = key_of(sid);
    strands_session_claim c;
    strands_error err;
    strands_status st = s->vtab->claim(s, &k, &c, &err);
    if (hold_fd >= 0) { /* tell the parent, then wait to be killed */
        char b = st == STRANDS_OK ? 'y' : 'n';
        if (write(hold_fd, &b, 1) != 1) _exit(2);
        for (;;) pause();
    }
    _exit(st == STRANDS_OK ? 0 : st == STRANDS_E_BUSY ? 1 : 2);
}

static int run_child(const char *sid)
{
    pid_t pid = fork();
    if (pid == 0) child_claim(sid, -1);
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void test_claims_across_processes(void)
{
    strands_session_store *s = reopen(NULL, NULL);
    strands_session_key k = key_of("xp");
    strands_session_claim c;
    strands_error err;
    CHECK_INT(s->vtab->claim(s, &k, &c, &err), STRANDS_OK);
    CHECK_INT(run_child("xp"), 1);    /* busy in another process */
    CHECK_INT(run_child("other"), 0); /* other sessions are free */
    CHECK_INT(s->vtab->release(s, &k, &c, &err), STRANDS_OK);
    CHECK_INT(run_child("xp"), 0);

    /* A holder that dies (SIGKILL, no release) frees the session. */
    int p[2];
    CHECK(pipe(p) == 0);
    pid_t pid = fork();
    if (pid == 0) {
        close(p[0]);
        child_claim("xp", p[1]);
    }
    close(p[1]);
    char got = 0;
    CHECK(read(p[0], &got, 1) == 1);
    CHECK(got == 'y');
    close(p[0]);
    CHECK_INT(s->vtab->claim(s, &k, &c, &err), STRANDS_E_BUSY);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    CHECK_INT(s->vtab->claim(s, &k, &c, &err), STRANDS_OK);
    CHECK_INT(s->vtab->release(s, &k, &c, &err), STRANDS_OK);
    strands_session_store_free(s);
}

/* Two processes race claims and appends on one session 40 times each: every
 * append under a claim succeeds, the log has no gap nor duplicate.    */
static void test_racing_processes(void)
{
    fresh(NULL);
    pid_t kids[2];
    for (int w = 0; w < 2; w++) {
        kids[w] = fork();
        if (kids[w] != 0) continue;
        strands_session_store *s = open_store(0);
        strands_session_key k = key_of("race");
        int done = 0;
        for (int i = 0; i < 400000 && done < 40; i++) {
            strands_session_claim c;
            strands_error err;
            if (s->vtab->claim(s, &k, &c, &err) != STRANDS_OK) {
                usleep(50); /* let the other one finish its turn */
                continue;
            }
            strands_session_record r;
            if (s->vtab->load(s, &k, &r, &err) != STRANDS_OK) _exit(3);
            json_t *m = json_pack("[o]", msg("user", w ? "b" : "a"));
            strands_status st = s->vtab->append(s, &k, &c, r.count, m, EMPTY,
                                                &err);
            json_decref(m);
            strands_session_record_clear(&r);
            if (st != STRANDS_OK) {
                fprintf(stderr, "append: %s\n", err.message);
                _exit(4);
            }
            if (s->vtab->release(s, &k, &c, &err) != STRANDS_OK) _exit(5);
            done++;
        }
        strands_session_store_free(s);
        _exit(done == 40 ? 0 : 6);
    }
    for (int w = 0; w < 2; w++) {
        int status = 0;
        waitpid(kids[w], &status, 0);
        CHECK(WIFEXITED(status));
        CHECK_INT(WEXITSTATUS(status), 0);
    }
    strands_session_store *s = open_store(0);
    CHECK_INT(load_count(s, "race", NULL), 80);
    strands_session_store_free(s);
}

/* ---- crash injection ---------------------------------------------------- */

typedef struct fault_at {
    const char *point, *name;
    int crash; /* 1: _exit (a crash); 0: fail the write */
} fault_at;

static int fault(void *user, const char *point, const char *name)
{
    fault_at *f = user;
    if (strcmp(point, f->point) != 0 || strcmp(name, f->name) != 0) return 0;
    if (f->crash) _exit(0);
    return 1;
}

/* In a child: append a 2-message turn at base with the fault armed. */
static void crash_turn(const char *sid, size_t base, fault_at *f)
{
    pid_t pid = fork();
    if (pid == 0) {
        strands_session_store *s = open_store(0);
        fstore_set_fault(s, fault, f);
        strands_error err;
        add_turn(s, sid, base, "lost?", "lost?", &err);
        _exit(0);
    }
    waitpid(pid, NULL, 0);
}

static void test_crash_between_write_and_rename(void)
{
    strands_session_store *s = reopen(NULL, NULL);
    strands_error err;
    CHECK_INT(add_turn(s, "cr", 0, "u0", "a0", &err), STRANDS_OK);
    const char *md = "session_cr/agents/agent_default/messages/";
    char rel[256];

    /* Message files written and renamed, agent.json not: before. */
    fault_at f1 = {"renamed", "message_3.json", 1};
    crash_turn("cr", 2, &f1);
    snprintf(rel, sizeof rel, "%smessage_3.json", md);
    CHECK(exists(rel)); /* the crash left it... */
    CHECK_INT(load_count(s, "cr", NULL), 2); /* ...and load ignores it */
    /* agent.json's temp file written, not renamed: still before. */
    fault_at f2 = {"tmp_written", "agent.json", 1};
    crash_turn("cr", 2, &f2);
    CHECK_INT(load_count(s, "cr", NULL), 2);
    /* The next turn replaces the leftovers. */
    json_t *one = json_pack("[o]", msg("user", "u1"));
    strands_session_key k = key_of("cr");
    CHECK_INT(s->vtab->append(s, &k, NULL, 2, one, EMPTY, &err), STRANDS_OK);
    snprintf(rel, sizeof rel, "%smessage_3.json", md);
    CHECK(!exists(rel));
    CHECK_INT(load_count(s, "cr", NULL), 3);
    /* agent.json renamed, then the crash: after. */
    fault_at f3 = {"renamed", "agent.json", 1};
    crash_turn("cr", 3, &f3);
    CHECK_INT(load_count(s, "cr", NULL), 5);

    /* A failed write (not a crash): an error, nothing of the turn kept. */
    fault_at f4 = {"tmp_written", "message_6.json", 0};
    fstore_set_fault(s, fault, &f4);
    CHECK_INT(add_turn(s, "cr", 5, "u", "a", &err), STRANDS_E_UNAVAILABLE);
    CHECK_STR(err.code, "SessionStoreUnavailable");
    CHECK(strstr(err.message, "message_6.json") != NULL);
    snprintf(rel, sizeof rel, "%smessage_5.json", md);
    CHECK(!exists(rel));
    fstore_set_fault(s, NULL, NULL);
    CHECK_INT(load_count(s, "cr", NULL), 5);
    CHECK_INT(add_turn(s, "cr", 5, "u", "a", &err), STRANDS_OK);
    json_decref(one);
    strands_session_store_free(s);
}

/* A session written by Python (no committed count) survives a crash too:
 * the count is recorded before the turn writes anything.               */
static void test_crash_in_python_session(void)
{
    fresh("strands_py_session");
    fault_at f = {"renamed", "message_9.json", 1};
    crash_turn("py-session-1", 8, &f);
    strands_session_store *s = open_store(0);
    CHECK_INT(load_count(s, "py-session-1", NULL), 8);
    json_t *a = json_load_file(path_in(PYSESS "/agent.json"), 0, NULL);
    CHECK_INT(committed_of(a), 8);
    CHECK_STR(json_string_value(json_object_get(json_object_get(a, "state"),
                                                "name")), "Zoë");
    json_decref(a);
    strands_session_store_free(s);
}

/* ---- ids, symlinks, bad files ------------------------------------------- */

static void test_ids_that_try_traversal(void)
{
    strands_session_store *s = reopen(NULL, NULL);
    char longid[FILE_ID_MAX + 2];
    memset(longid, 'a', sizeof longid - 1);
    longid[sizeof longid - 1] = '\0';
    const char *bad[] = {"../x", "a/b", "/etc", ".", "..", "", "a\nb",
                         longid};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        strands_session_key k = key_of(bad[i]);
        strands_session_record r;
        strands_session_claim c;
        strands_error err;
        json_t *m = json_pack("[o]", msg("user", "x"));
        CHECK_INT(s->vtab->load(s, &k, &r, &err), STRANDS_E_INVALID);
        CHECK_INT(s->vtab->append(s, &k, NULL, 0, m, EMPTY, &err),
                  STRANDS_E_INVALID);
        CHECK_INT(s->vtab->claim(s, &k, &c, &err), STRANDS_E_INVALID);
        json_decref(m);
    }
    strands_session_key k = {.session_id = "ok", .agent_id = "../../x"};
    strands_session_record r;
    strands_error err;
    CHECK_INT(s->vtab->load(s, &k, &r, &err), STRANDS_E_INVALID);
    /* ".." inside a name is harmless: it is one component. */
    CHECK_INT(add_turn(s, "a..b", 0, "x", "y", &err), STRANDS_OK);
    CHECK(exists("session_a..b/session.json"));
    /* The longest accepted id works end to end. */
    longid[FILE_ID_MAX] = '\0';
    CHECK_INT(add_turn(s, longid, 0, "x", "y", &err), STRANDS_OK);
    strands_session_key lk = key_of(longid);
    strands_session_claim c;
    CHECK_INT(s->vtab->claim(s, &lk, &c, &err), STRANDS_OK);
    CHECK_INT(s->vtab->release(s, &lk, &c, &err), STRANDS_OK);
    strands_session_store_free(s);
}

static void test_symlinks_refused(void)
{
    fresh(NULL);
    char outside[300];
    snprintf(outside, sizeof outside, "%s-outside", tmpdir);
    rm_rf(outside);
    CHECK(mkdir(outside, 0700) == 0);
    strands_session_store *s = open_store(0);
    strands_error err;
    /* A session directory that is a symlink out of the store. */
    CHECK(symlink(outside, path_in("session_evil")) == 0);
    CHECK(add_turn(s, "evil", 0, "x", "y", &err) != STRANDS_OK);
    CHECK(load_count(s, "evil", NULL) == (size_t)-1);
    char probe[400];
    snprintf(probe, sizeof probe, "%s/session.json", outside);
    CHECK(access(probe, F_OK) != 0); /* nothing written outside */
    /* A message file that is a symlink to a file outside. */
    CHECK_INT(add_turn(s, "s2", 0, "x", "y", &err), STRANDS_OK);
    snprintf(probe, sizeof probe, "%s/secret.json", outside);
    FILE *f = fopen(probe, "w");
    fputs("{\"message\":{\"role\":\"user\",\"content\":"
          "[{\"text\":\"secret\"}]},\"message_id\":1}", f);
    fclose(f);
    const char *m1 = "session_s2/agents/agent_default/messages/message_1.json";
    CHECK(unlink(path_in(m1)) == 0);
    CHECK(symlink(probe, path_in(m1)) == 0);
    strands_status st;
    load_count(s, "s2", &st);
    CHECK_INT(st, STRANDS_E_PARSE);
    /* A lock file that is a symlink: the claim fails, nothing followed. */
    snprintf(probe, sizeof probe, "%s/lock", outside);
    CHECK(symlink(probe, path_in(".locks/session_s3.lock")) == 0);
    strands_session_key k = key_of("s3");
    strands_session_claim c;
    CHECK(s->vtab->claim(s, &k, &c, &err) != STRANDS_OK);
    CHECK(access(probe, F_OK) != 0);
    /* A snapshot reached through a symlinked directory is not read: the
     * session is new (and other new sessions still load).             */
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "cp -R '%s/strands_snapshot/session' '%s/'",
             FIXTURES, outside);
    CHECK(system(cmd) == 0);
    snprintf(probe, sizeof probe, "%s/session", outside);
    CHECK(symlink(probe, path_in("session")) == 0);
    CHECK_INT(load_count(s, "snap-1", &st), 0);
    CHECK_INT(st, STRANDS_OK);
    CHECK_INT(load_count(s, "brand-new", &st), 0);
    CHECK_INT(st, STRANDS_OK);
    strands_session_store_free(s);
    rm_rf(outside);
}

static void write_text(const char *rel, const char *text)
{
    FILE *f = fopen(path_in(rel), "w");
    fputs(text, f);
    fclose(f);
}

static void test_gaps_and_corrupt_files(void)
{
    strands_session_store *s = reopen(NULL, "strands_py_session");
    strands_session_key k = key_of("py-session-1");
    strands_session_record r;
    strands_error err;
    /* Python's agent.json has no count: a gap in the files is an error. */
    CHECK(unlink(path_in(PYSESS "/messages/message_4.json")) == 0);
    CHECK_INT(s->vtab->load(s, &k, &r, &err), STRANDS_E_PARSE);
    CHECK(strstr(err.message, "message_4.json") != NULL);
    CHECK_INT(add_turn(s, "py-session-1", 8, "x", "y", &err),
              STRANDS_E_PARSE);
    /* One bad file in an otherwise good session: a parse error naming
     * it (when `named` is set), never skipped.                          */
    static const struct {
        const char *file, *text, *copy_of, *named;
    } bad[] = {
        /* A corrupt message file. */
        {PYSESS "/messages/message_5.json", "{\"message\": tru", NULL,
         PYSESS "/messages/message_5.json"},
        /* A file whose message_id disagrees with its name. */
        {PYSESS "/messages/message_3.json", NULL,
         PYSESS "/messages/message_2.json", "message_3.json"},
        /* A name that looks like a message file but is not one. */
        {PYSESS "/messages/message_01.json", "{}", NULL, NULL},
        /* agent.json that is not an object. */
        {PYSESS "/agent.json", "[1]", NULL, "agent.json"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        s = reopen(s, "strands_py_session");
        char *copy = bad[i].copy_of ? slurp(path_in(bad[i].copy_of)) : NULL;
        write_text(bad[i].file, copy ? copy : bad[i].text);
        free(copy);
        int failed = test_failures_in_case;
        CHECK_INT(s->vtab->load(s, &k, &r, &err), STRANDS_E_PARSE);
        if (bad[i].named) CHECK(strstr(err.message, bad[i].named) != NULL);
        if (test_failures_in_case != failed)
            fprintf(stderr, "  (row %zu: %s)\n", i, bad[i].file);
    }
    /* Other files in the messages directory are left alone. */
    s = reopen(s, "strands_py_session");
    write_text(PYSESS "/messages/.strands_abc.tmp", "junk");
    write_text(PYSESS "/messages/notes.txt", "junk");
    CHECK_INT(load_count(s, "py-session-1", NULL), 8);
    /* A recorded count above the files present: the missing one named. */
    s = reopen(s, NULL);
    CHECK_INT(add_turn(s, "g", 0, "x", "y", &err), STRANDS_OK);
    CHECK(unlink(path_in("session_g/agents/agent_default/messages/"
                         "message_1.json")) == 0);
    CHECK_INT(s->vtab->load(s, &(strands_session_key){.session_id = "g"},
                            &r, &err), STRANDS_E_PARSE);
    CHECK(strstr(err.message, "message_1.json is missing") != NULL);
    strands_session_store_free(s);
}

static void test_history_cap(void)
{
    fresh(NULL);
    strands_session_store *s = open_store(1500);
    strands_error err;
    CHECK_INT(add_turn(s, "h", 0, "short", "short", &err), STRANDS_OK);
    char big[1600];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    CHECK_INT(add_turn(s, "h", 2, big, "y", &err), STRANDS_E_TOO_LARGE);
    CHECK_STR(err.code, "SessionHistoryTooLarge");
    CHECK(!exists("session_h/agents/agent_default/messages/message_2.json"));
    CHECK_INT(load_count(s, "h", NULL), 2);
    /* Messages a conversation manager removed do not count. */
    strands_session_key k = key_of("h");
    json_t *m = json_pack("[o,o]", msg("user", "u"), msg("assistant", "a"));
    json_t *agent = json_pack("{s:{s:i}}", "conversation_manager_state",
                              "removed_message_count", 3);
    CHECK_INT(s->vtab->append(s, &k, NULL, 2, m, agent, &err), STRANDS_OK);
    strands_session_record r;
    CHECK_INT(s->vtab->load(s, &k, &r, &err), STRANDS_OK);
    CHECK_INT(r.first, 3);
    CHECK_INT(r.count, 4);
    CHECK_INT(json_array_size(r.messages), 1);
    strands_session_record_clear(&r);
    json_decref(m);
    json_decref(agent);
    strands_session_store_free(s);
}

static void test_unknown_and_store_errors(void)
{
    strands_session_store *s = reopen(NULL, NULL);
    strands_session_key k = key_of("nobody");
    strands_session_record r;
    strands_error err;
    CHECK_INT(s->vtab->load(s, &k, &r, &err), STRANDS_OK);
    CHECK_INT(r.count, 0);
    CHECK_INT(json_array_size(r.messages), 0);
    CHECK(json_is_object(r.agent) && json_object_size(r.agent) == 0);
    strands_session_record_clear(&r);
    CHECK(!exists("session_nobody")); /* load creates nothing */
    strands_session_store_free(s);

    /* Missing directories are created 0700. */
    char nested[400];
    snprintf(nested, sizeof nested, "%s/a/b/c", tmpdir);
    strands_file_store_config cfg = {.dir = nested};
    s = strands_file_store_new(&cfg, &err);
    CHECK(s != NULL);
    strands_session_store_free(s);
    CHECK_INT(mode_of("a/b/c"), 0700);
    CHECK_INT(mode_of("a"), 0700);
    /* A file, an impossible place, nothing. */
    write_text("plain", "x");
    cfg.dir = path_in("plain");
    CHECK(strands_file_store_new(&cfg, &err) == NULL);
    CHECK_INT(err.status, STRANDS_E_INVALID);
    CHECK(strstr(err.message, "plain") != NULL);
    cfg.dir = "/proc/strands-no-such/dir";
    CHECK(strands_file_store_new(&cfg, &err) == NULL);
    cfg.dir = "";
    CHECK(strands_file_store_new(&cfg, &err) == NULL);
    CHECK(strands_file_store_new(NULL, &err) == NULL);
}

static void test_names_and_removed_count(void)
{
    size_t n = 99;
    CHECK_INT(fstore_message_name("message_0.json", &n), 1);
    CHECK_INT(n, 0);
    CHECK_INT(fstore_message_name("message_123.json", &n), 1);
    CHECK_INT(n, 123);
    CHECK_INT(fstore_message_name("message_.json", &n), -1);
    CHECK_INT(fstore_message_name("message_01.json", &n), -1);
    CHECK_INT(fstore_message_name("message_-1.json", &n), -1);
    CHECK_INT(fstore_message_name("message_99999999.json", &n), -1);
    CHECK_INT(fstore_message_name("message_1.json.tmp", &n), 0);
    CHECK_INT(fstore_message_name(".strands_x.tmp", &n), 0);
    json_t *a = json_pack("{s:{s:i}}", "conversation_manager_state",
                          "removed_message_count", 5);
    CHECK_INT(fstore_removed_count(a, 5), 5);
    CHECK_INT(fstore_removed_count(a, 4), 0);
    json_decref(a);
    a = json_pack("{s:{s:s}}", "conversation_manager_state",
                  "removed_message_count", "5");
    CHECK_INT(fstore_removed_count(a, 9), 0);
    json_decref(a);
    char now[48];
    fstore_iso_now(now, sizeof now);
    CHECK(iso_ok(now));
}

int main(void)
{
    EMPTY = json_object();
    RUN(test_record_bytes_match_python);
    RUN(test_new_session_layout);
    RUN(test_fixture_load);
    RUN(test_fixture_continue);
    RUN(test_bytes_round_trip);
    RUN(test_snapshot_load_and_continue);
    RUN(test_snapshot_typescript_shape);
    RUN(test_conflict);
    RUN(test_claims_in_process);
    RUN(test_claims_across_processes);
    RUN(test_racing_processes);
    RUN(test_crash_between_write_and_rename);
    RUN(test_crash_in_python_session);
    RUN(test_ids_that_try_traversal);
    RUN(test_symlinks_refused);
    RUN(test_gaps_and_corrupt_files);
    RUN(test_history_cap);
    RUN(test_unknown_and_store_errors);
    RUN(test_names_and_removed_count);
    if (tmpdir[0]) rm_rf(tmpdir);
    json_decref(EMPTY);
    return test_report();
}
