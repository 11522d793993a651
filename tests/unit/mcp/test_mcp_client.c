/* The MCP client (src/mcp/client.c) over the stdio transport
 * (src/mcp/stdio.c), against the scriptable fake server
 * tests/fakes/fake_mcp.py: era negotiation (legacy, modern, dual, a
 * legacy server silent on server/discover), pagination, results and
 * errors, deadlines and cancellation with notifications/cancelled, a
 * server that dies mid-call, and close() leaving no process behind. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mcp/client.h"
#include "strands/clock.h"
#include "test.h"

#define PY "/usr/bin/python3"

static char fake_path[1024];
static char log_path[256];

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static int have_fake(void)
{
    const char *env = getenv("FAKE_MCP");
    snprintf(fake_path, sizeof fake_path, "%s",
             env ? env : STRANDS_SOURCE_DIR "/tests/fakes/fake_mcp.py");
    return access(PY, X_OK) == 0 && access(fake_path, R_OK) == 0;
}

/* The fake's JSON-lines log as an array. */
static json_t *read_log(void)
{
    json_t *all = json_array();
    FILE *f = fopen(log_path, "r");
    if (!f) return all;
    char line[65536];
    while (fgets(line, sizeof line, f)) {
        json_t *j = json_loads(line, 0, NULL);
        if (j) json_array_append_new(all, j);
    }
    fclose(f);
    return all;
}

/* Log entries whose "event" is `event` (NULL: any) and, when `method` is
 * given, whose "method" is `method`.                                   */
static int count_where(const char *event, const char *method)
{
    json_t *all = read_log();
    int n = 0;
    size_t i;
    json_t *e;
    json_array_foreach(all, i, e) {
        const char *ev = json_string_value(json_object_get(e, "event"));
        const char *m = json_string_value(json_object_get(e, "method"));
        if (event && (!ev || strcmp(ev, event))) continue;
        if (method && (!m || strcmp(m, method))) continue;
        n++;
    }
    json_decref(all);
    return n;
}

static int log_count(const char *event)
{
    return count_where(event, NULL);
}

/* Requests the fake received for `method`. */
static int method_count(const char *method)
{
    return count_where("request", method);
}

static pid_t fake_pid(void)
{
    json_t *all = read_log();
    pid_t pid = 0;
    size_t i;
    json_t *e;
    json_array_foreach(all, i, e)
        if (!strcmp(json_string_value(json_object_get(e, "event")) ?: "",
                    "start"))
            pid = (pid_t)json_integer_value(json_object_get(e, "pid"));
    json_decref(all);
    return pid;
}

static atomic_int closed_calls;
static char closed_why[160];

static void on_closed(void *user, const char *why)
{
    (void)user;
    snprintf(closed_why, sizeof closed_why, "%s", why);
    atomic_fetch_add(&closed_calls, 1);
}

static atomic_int list_changed;

static void on_notify(void *user, const char *method, const json_t *params)
{
    (void)user; (void)params;
    if (!strcmp(method, "notifications/tools/list_changed"))
        atomic_fetch_add(&list_changed, 1);
}

/* A client for fake_mcp.py with extra args (NULL-terminated). */
static mcp_client *start(const char *const *extra)
{
    static int seq;
    snprintf(log_path, sizeof log_path, "/tmp/strands-mcp-%d-%d.log",
             (int)getpid(), seq++);
    unlink(log_path);
    const char *args[24];
    size_t n = 0;
    args[n++] = fake_path;
    args[n++] = "--log";
    args[n++] = log_path;
    for (size_t i = 0; extra && extra[i] && n < 22; i++) args[n++] = extra[i];
    args[n] = NULL;
    mcp_stdio_opts so = {.server_name = "fake", .command = PY, .args = args};
    strands_error err;
    mcp_transport *t = mcp_stdio_new(&so, &err);
    CHECK(t != NULL);
    atomic_store(&closed_calls, 0);
    atomic_store(&list_changed, 0);
    mcp_client_opts co = {.server_name = "fake", .on_closed = on_closed,
                          .on_notify = on_notify, .probe_timeout_ms = 1000};
    return t ? mcp_client_new(t, &co, &err) : NULL;
}

static int64_t in_ms(int64_t ms)
{
    return strands_clock_mono_ms() + ms;
}

static const char *first_text(const json_t *result)
{
    return json_string_value(json_object_get(
        json_array_get(json_object_get(result, "content"), 0), "text"));
}

/* Every case runs the fake as a child process. */
#ifdef STRANDS_TEST_EMULATED
#define NEED_FAKE()                                                       \
    do {                                                                  \
        (void)have_fake;                                                  \
        SKIP("under qemu-user process-level MCP tests see the emulator"); \
    } while (0)
#else
#define NEED_FAKE()                                                       \
    do {                                                                  \
        if (!have_fake()) SKIP("needs " PY " and tests/fakes/fake_mcp.py"); \
    } while (0)
#endif

/* ---- tests -------------------------------------------------------------- */

static void test_legacy_list_and_call(void)
{
    NEED_FAKE();
    const char *extra[] = {"--era", "legacy", "--page-size", "3", NULL};
    mcp_client *c = start(extra);
    strands_error err;
    CHECK_INT(mcp_client_connect(c, in_ms(10000), &err), STRANDS_OK);
    CHECK_STR(mcp_client_version(c), MCP_VERSION_LEGACY);
    json_t *tools = NULL;
    CHECK_INT(mcp_client_list_tools(c, in_ms(10000), &tools, &err),
              STRANDS_OK);
    CHECK(json_array_size(tools) > 6); /* several pages of 3 */
    int saw_echo = 0, saw_dots = 0;
    size_t i;
    json_t *t;
    json_array_foreach(tools, i, t) {
        const char *n = json_string_value(json_object_get(t, "name"));
        if (n && !strcmp(n, "echo")) saw_echo = 1;
        if (n && !strcmp(n, "name.with.dots")) saw_dots = 1;
    }
    CHECK(saw_echo && saw_dots);
    json_decref(tools);
    /* Pages were fetched with the cursor. */
    json_t *all = read_log();
    int lists = 0, with_cursor = 0;
    json_t *e;
    json_array_foreach(all, i, e) {
        const char *m = json_string_value(json_object_get(e, "method"));
        const char *ev = json_string_value(json_object_get(e, "event"));
        if (m && !strcmp(m, "tools/list") && ev && !strcmp(ev, "request")) {
            lists++;
            if (json_object_get(json_object_get(e, "params"), "cursor"))
                with_cursor++;
        }
    }
    json_decref(all);
    CHECK(lists >= 3 && with_cursor == lists - 1);

    json_t *args = json_pack("{s:s}", "message", "hello");
    json_t *result = NULL;
    CHECK_INT(mcp_client_call_tool(c, "echo", args, NULL, NULL, 0, NULL, in_ms(5000),
                                   &result, &err), STRANDS_OK);
    CHECK_STR(first_text(result), "hello");
    json_decref(result);
    json_decref(args);
    /* isError is a result, not a protocol error. */
    args = json_pack("{s:s}", "message", "nope");
    CHECK_INT(mcp_client_call_tool(c, "fail", args, NULL, NULL, 0, NULL, in_ms(5000),
                                   &result, &err), STRANDS_OK);
    CHECK(json_is_true(json_object_get(result, "isError")));
    json_decref(result);
    /* An unknown tool is a JSON-RPC error. */
    CHECK_INT(mcp_client_call_tool(c, "no_such_tool", args, NULL, NULL, 0, NULL,
                                   in_ms(5000), &result, &err),
              STRANDS_E_UPSTREAM);
    CHECK(strstr(err.message, "MCP error -32602") != NULL);
    json_decref(args);
    mcp_client_free(c);
}

static void test_modern_and_dual(void)
{
    NEED_FAKE();
    const char *eras[] = {"modern", "dual"};
    for (int k = 0; k < 2; k++) {
        const char *extra[] = {"--era", eras[k], NULL};
        mcp_client *c = start(extra);
        strands_error err;
        CHECK_INT(mcp_client_connect(c, in_ms(10000), &err), STRANDS_OK);
        CHECK_STR(mcp_client_version(c), MCP_VERSION_MODERN);
        json_t *args = json_pack("{s:i, s:i}", "a", 2, "b", 3);
        json_t *result = NULL;
        CHECK_INT(mcp_client_call_tool(c, "add", args, NULL, NULL, 0, NULL,
                                       in_ms(5000), &result, &err),
                  STRANDS_OK);
        CHECK_INT((int)json_integer_value(json_object_get(
                      json_object_get(result, "structuredContent"), "sum")),
                  5);
        json_decref(result);
        json_decref(args);
        CHECK_INT(method_count("initialize"), 0);
        CHECK(method_count("server/discover") >= 1);
        mcp_client_free(c);
    }
}

static void test_legacy_silent_on_discover(void)
{
    NEED_FAKE();
    char scen[256];
    snprintf(scen, sizeof scen, "/tmp/strands-mcp-scen-%d.json",
             (int)getpid());
    FILE *f = fopen(scen, "w");
    fputs("{\"discover_reply\": \"silent\"}", f);
    fclose(f);
    const char *extra[] = {"--era", "legacy", "--scenario", scen, NULL};
    mcp_client *c = start(extra);
    strands_error err;
    int64_t t0 = strands_clock_mono_ms();
    CHECK_INT(mcp_client_connect(c, in_ms(10000), &err), STRANDS_OK);
    int64_t took = strands_clock_mono_ms() - t0;
    CHECK(took >= 900 && took < 5000); /* the 1 s probe, then initialize */
    CHECK_STR(mcp_client_version(c), MCP_VERSION_LEGACY);
    mcp_client_free(c);
    unlink(scen);
}

static void test_deadline_sends_cancel(void)
{
    NEED_FAKE();
    const char *extra[] = {"--era", "legacy", NULL};
    mcp_client *c = start(extra);
    strands_error err;
    CHECK_INT(mcp_client_connect(c, in_ms(10000), &err), STRANDS_OK);
    json_t *args = json_pack("{s:i}", "ms", 5000);
    json_t *result = NULL;
    int64_t t0 = strands_clock_mono_ms();
    CHECK_INT(mcp_client_call_tool(c, "slow", args, NULL, NULL, 0, NULL, in_ms(300),
                                   &result, &err), STRANDS_E_TIMEOUT);
    int64_t took = strands_clock_mono_ms() - t0;
    CHECK(took >= 290 && took < 1500);
    json_decref(args);
    /* The server was told, and the connection still works. */
    for (int i = 0; i < 100 && log_count("cancel") < 1; i++) sleep_ms(20);
    CHECK_INT(log_count("cancel"), 1);
    CHECK_INT(mcp_client_ping(c, in_ms(3000), &err), STRANDS_OK);
    mcp_client_free(c);
}

static atomic_int cancel_flag;

static void *cancel_soon(void *arg)
{
    (void)arg;
    sleep_ms(150);
    atomic_store(&cancel_flag, 1);
    return NULL;
}

static void test_cancel_flag(void)
{
    NEED_FAKE();
    const char *extra[] = {"--era", "modern", NULL};
    mcp_client *c = start(extra);
    strands_error err;
    CHECK_INT(mcp_client_connect(c, in_ms(10000), &err), STRANDS_OK);
    atomic_store(&cancel_flag, 0);
    pthread_t th;
    pthread_create(&th, NULL, cancel_soon, NULL);
    json_t *args = json_object();
    json_t *result = NULL;
    int64_t t0 = strands_clock_mono_ms();
    CHECK_INT(mcp_client_call_tool(c, "hang", args, NULL, NULL, 0, &cancel_flag,
                                   in_ms(10000), &result, &err),
              STRANDS_E_CANCELLED);
    CHECK(strands_clock_mono_ms() - t0 < 2000);
    pthread_join(th, NULL);
    json_decref(args);
    for (int i = 0; i < 100 && log_count("cancel") < 1; i++) sleep_ms(20);
    CHECK_INT(log_count("cancel"), 1);
    mcp_client_free(c);
}

static void test_server_dies_mid_call(void)
{
    NEED_FAKE();
    const char *extra[] = {"--era", "legacy", NULL};
    mcp_client *c = start(extra);
    strands_error err;
    CHECK_INT(mcp_client_connect(c, in_ms(10000), &err), STRANDS_OK);
    json_t *args = json_object();
    json_t *result = NULL;
    int64_t t0 = strands_clock_mono_ms();
    CHECK_INT(mcp_client_call_tool(c, "die", args, NULL, NULL, 0, NULL, in_ms(10000),
                                   &result, &err), STRANDS_E_UNAVAILABLE);
    CHECK(strands_clock_mono_ms() - t0 < 3000);
    CHECK(strstr(err.message, "exited with status 7") != NULL);
    /* The owner's callback runs just after the waiters were woken. */
    for (int i = 0; i < 200 && !atomic_load(&closed_calls); i++) sleep_ms(5);
    CHECK_INT(atomic_load(&closed_calls), 1);
    CHECK(strstr(closed_why, "exited with status 7") != NULL);
    /* Reconnecting starts a new process. */
    pid_t first = fake_pid();
    mcp_client_close(c);
    CHECK_INT(mcp_client_connect(c, in_ms(10000), &err), STRANDS_OK);
    CHECK(fake_pid() != first);
    CHECK_INT(mcp_client_call_tool(c, "echo", args, NULL, NULL, 0, NULL, in_ms(5000),
                                   &result, &err), STRANDS_OK);
    json_decref(result);
    json_decref(args);
    mcp_client_free(c);
}

static void test_close_leaves_nothing(void)
{
    NEED_FAKE();
    /* A server that ignores SIGTERM and EOF still goes (SIGKILL). */
    const char *extra[] = {"--era", "legacy", "--ignore-sigterm",
                           "--ignore-eof", NULL};
    mcp_client *c = start(extra);
    strands_error err;
    CHECK_INT(mcp_client_connect(c, in_ms(10000), &err), STRANDS_OK);
    pid_t pid = fake_pid();
    CHECK(pid > 0);
    CHECK_INT(kill(pid, 0), 0);
    int64_t t0 = strands_clock_mono_ms();
    mcp_client_close(c);
    CHECK(strands_clock_mono_ms() - t0 < 5000);
    CHECK(kill(pid, 0) == -1 && errno == ESRCH); /* gone and reaped */
    CHECK_INT(atomic_load(&closed_calls), 0);    /* close is not a loss */
    mcp_client_free(c);
}

static void test_list_changed_notification(void)
{
    NEED_FAKE();
    const char *extra[] = {"--era", "legacy", NULL};
    mcp_client *c = start(extra);
    strands_error err;
    CHECK_INT(mcp_client_connect(c, in_ms(10000), &err), STRANDS_OK);
    CHECK_INT(mcp_client_lists_change(c), 1);
    json_t *args = json_object();
    json_t *result = NULL;
    CHECK_INT(mcp_client_call_tool(c, "toggle", args, NULL, NULL, 0, NULL, in_ms(5000),
                                   &result, &err), STRANDS_OK);
    json_decref(result);
    json_decref(args);
    for (int i = 0; i < 100 && !atomic_load(&list_changed); i++) sleep_ms(10);
    CHECK_INT(atomic_load(&list_changed), 1);
    mcp_client_free(c);
}

static void test_bad_command(void)
{
    NEED_FAKE();
    mcp_stdio_opts so = {.server_name = "x",
                         .command = "/nonexistent/mcp-server"};
    strands_error err;
    mcp_transport *t = mcp_stdio_new(&so, &err);
    mcp_client *c = mcp_client_new(t, NULL, &err);
    CHECK_INT(mcp_client_connect(c, in_ms(3000), &err), STRANDS_E_IO);
    CHECK(strstr(err.message, "/nonexistent/mcp-server") != NULL);
    mcp_client_free(c);
}

int main(void)
{
    RUN(test_legacy_list_and_call);
    RUN(test_modern_and_dual);
    RUN(test_legacy_silent_on_discover);
    RUN(test_deadline_sends_cancel);
    RUN(test_cancel_flag);
    RUN(test_server_dies_mid_call);
    RUN(test_close_leaves_nothing);
    RUN(test_list_changed_notification);
    RUN(test_bad_command);
    return test_report();
}
