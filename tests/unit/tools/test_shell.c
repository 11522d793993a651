/* The shell built-in run directly: exit status (a non-zero exit is a
 * result, not an error), stdout/stderr, working directory = workspace,
 * output caps (flagged, the command is not killed for it), invalid UTF-8
 * output, termination by a signal, the timeout (its own, the call's
 * deadline) and the cancel flag, each killing the whole process group:
 * a `sleep` grandchild is gone afterwards.                             */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>

#include "strands/clock.h"
#include "workspace_fixture.h"

static void test_exit_codes_and_output(void)
{
    fixture f;
    fx_init(&f);
    strands_error err;
    json_t *out;
    CHECK_INT(fx_call(&f, &builtin_shell,
                      "{\"command\":\"echo hello; echo oops >&2; exit 3\"}",
                      &out, &err), STRANDS_OK);
    CHECK_INT(fx_int(out, "exit_code"), 3);
    CHECK(json_is_null(json_object_get(out, "signal")));
    CHECK_STR(fx_str(out, "stdout"), "hello\n");
    CHECK_STR(fx_str(out, "stderr"), "oops\n");
    CHECK(json_is_false(json_object_get(out, "truncated")));
    json_decref(out);
    /* Runs in the workspace. */
    fx_put(f.ws, "marker", "m", 1);
    CHECK_INT(fx_call(&f, &builtin_shell, "{\"command\":\"pwd; ls\"}", &out,
                      &err), STRANDS_OK);
    char want[PATH_MAX * 2];
    char *real = realpath(f.ws, NULL);
    snprintf(want, sizeof want, "%s\nmarker\n", real);
    free(real);
    CHECK_STR(fx_str(out, "stdout"), want);
    CHECK_INT(fx_int(out, "exit_code"), 0);
    json_decref(out);
    /* Killed by a signal: no exit code, the signal. */
    CHECK_INT(fx_call(&f, &builtin_shell, "{\"command\":\"kill -9 $$\"}",
                      &out, &err), STRANDS_OK);
    CHECK(json_is_null(json_object_get(out, "exit_code")));
    CHECK_INT(fx_int(out, "signal"), 9);
    json_decref(out);
    /* Invalid UTF-8 is replaced, not an error. */
    CHECK_INT(fx_call(&f, &builtin_shell,
                      "{\"command\":\"printf 'a\\\\377b'\"}", &out, &err),
              STRANDS_OK);
    CHECK_STR(fx_str(out, "stdout"), "a\xEF\xBF\xBD" "b");
    json_decref(out);
    /* Input errors */
    CHECK_INT(fx_call(&f, &builtin_shell, "{\"command\":\"\"}", &out, &err),
              STRANDS_E_INVALID);
    CHECK_STR(err.message, "\"command\" must be a non-empty string");
    CHECK_INT(fx_call(&f, &builtin_shell,
                      "{\"command\":\"true\",\"timeout_seconds\":0}", &out,
                      &err), STRANDS_E_INVALID);
    CHECK_INT(fx_call(&f, &builtin_shell, "{\"command\":\"a\\u0000b\"}", &out,
                      &err), STRANDS_E_INVALID);
    CHECK_STR(err.message, "\"command\" contains a NUL byte");
    fx_free(&f);
}

static void test_output_cap(void)
{
    fixture f;
    fx_init(&f);
    f.opt.shell_output_max_bytes = 1000;
    strands_error err;
    json_t *out;
    /* 200 kB each way: both are cut, the command still ends normally. */
    CHECK_INT(fx_call(&f, &builtin_shell,
                      "{\"command\":\"head -c 200000 /dev/zero | tr '\\\\0' "
                      "x; head -c 200000 /dev/zero | tr '\\\\0' y >&2; "
                      "exit 7\"}", &out, &err), STRANDS_OK);
    CHECK_INT(fx_int(out, "exit_code"), 7);
    CHECK_INT(strlen(fx_str(out, "stdout")), 1000);
    CHECK_INT(strlen(fx_str(out, "stderr")), 1000);
    CHECK(fx_str(out, "stdout")[999] == 'x');
    CHECK(json_is_true(json_object_get(out, "stdout_truncated")));
    CHECK(json_is_true(json_object_get(out, "stderr_truncated")));
    CHECK(json_is_true(json_object_get(out, "truncated")));
    json_decref(out);
    fx_free(&f);
}

/* Whether process pid still runs (a zombie or no process: no). */
static int running(pid_t pid)
{
    char p[64], buf[512];
    snprintf(p, sizeof p, "/proc/%ld/stat", (long)pid);
    FILE *fp = fopen(p, "r");
    if (!fp) return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, fp);
    fclose(fp);
    buf[n] = '\0';
    const char *rp = strrchr(buf, ')');
    return rp && rp[1] == ' ' && rp[2] != 'Z' && rp[2] != 'X';
}

/* The sleep grandchild's pid, written by the command to <ws>/pid. */
static pid_t grandchild(fixture *f)
{
    return (pid_t)atol(fx_get(f->ws, "pid", NULL));
}

/* Waits up to 2 s for pid to be gone. */
static int gone(pid_t pid)
{
    for (int i = 0; i < 200 && running(pid); i++) usleep(10000);
    return !running(pid);
}

#define SLEEPER "{\"command\":\"sleep 30 & echo $! > pid; wait\""

static void test_timeout_kills_group(void)
{
    fixture f;
    fx_init(&f);
    strands_error err;
    json_t *out;
    int64_t t0 = strands_clock_mono_ms();
    CHECK_INT(fx_call(&f, &builtin_shell, SLEEPER ",\"timeout_seconds\":1}",
                      &out, &err), STRANDS_E_TIMEOUT);
    int64_t took = strands_clock_mono_ms() - t0;
    CHECK(took >= 900 && took < 4000);
    CHECK_STR(err.message, "shell: timed out after 1 s (process group "
                           "killed)");
    pid_t pid = grandchild(&f);
    CHECK(pid > 0);
    CHECK(gone(pid));
    /* SHELL_TIMEOUT_SECONDS is the ceiling: asking for more gets it. */
    f.opt.shell_timeout_ms = 1000;
    t0 = strands_clock_mono_ms();
    CHECK_INT(fx_call(&f, &builtin_shell, SLEEPER ",\"timeout_seconds\":99}",
                      &out, &err), STRANDS_E_TIMEOUT);
    CHECK(strands_clock_mono_ms() - t0 < 4000);
    CHECK(gone(grandchild(&f)));
    fx_free(&f);
}

static void test_call_deadline_bounds_it(void)
{
    fixture f;
    fx_init(&f);
    strands_error err;
    json_t *out;
    strands_tool_context ctx = {.deadline_ms = strands_clock_mono_ms() + 700};
    int64_t t0 = strands_clock_mono_ms();
    CHECK_INT(fx_call_ctx(&f, &builtin_shell, SLEEPER "}", &ctx, &out, &err),
              STRANDS_E_TIMEOUT);
    CHECK(strands_clock_mono_ms() - t0 < 3000);
    CHECK(strstr(err.message, "timed out after 1 s"));
    CHECK(gone(grandchild(&f)));
    fx_free(&f);
}

typedef struct canceller {
    atomic_int *flag;
    int delay_ms;
} canceller;

static void *cancel_later(void *arg)
{
    canceller *c = arg;
    usleep((useconds_t)c->delay_ms * 1000);
    atomic_store(c->flag, 1);
    return NULL;
}

static void test_cancel_kills_group(void)
{
    fixture f;
    fx_init(&f);
    strands_error err;
    json_t *out;
    atomic_int flag = 0;
    strands_tool_context ctx = {.cancelled = &flag};
    canceller c = {&flag, 400};
    pthread_t th;
    pthread_create(&th, NULL, cancel_later, &c);
    int64_t t0 = strands_clock_mono_ms();
    CHECK_INT(fx_call_ctx(&f, &builtin_shell, SLEEPER "}", &ctx, &out, &err),
              STRANDS_E_CANCELLED);
    int64_t took = strands_clock_mono_ms() - t0;
    pthread_join(th, NULL);
    CHECK(took >= 350 && took < 2500);
    CHECK_STR(err.message, "shell: cancelled (process group killed)");
    CHECK(gone(grandchild(&f)));
    /* Already cancelled: ends at once. */
    t0 = strands_clock_mono_ms();
    CHECK_INT(fx_call_ctx(&f, &builtin_shell, "{\"command\":\"sleep 30\"}",
                          &ctx, &out, &err), STRANDS_E_CANCELLED);
    CHECK(strands_clock_mono_ms() - t0 < 1500);
    fx_free(&f);
}

static void test_missing_workspace(void)
{
#ifdef STRANDS_TEST_EMULATED
    SKIP("under qemu-user the emulator forks for posix_spawn, so a failed "
         "chdir is not reported to the parent (checked natively)");
#endif
    fixture f;
    fx_init(&f);
    char gone_dir[PATH_MAX * 2];
    f.opt.workspace_dir = fx_path(gone_dir, sizeof gone_dir, f.top, "gone");
    strands_error err;
    json_t *out;
    CHECK_INT(fx_call(&f, &builtin_shell, "{\"command\":\"true\"}", &out,
                      &err), STRANDS_E_IO);
    CHECK(strstr(err.message, "cannot start it"));
    CHECK(strstr(err.message, "WORKSPACE_DIR"));
    fx_free(&f);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    RUN(test_exit_codes_and_output);
    RUN(test_output_cap);
    RUN(test_timeout_kills_group);
    RUN(test_call_deadline_bounds_it);
    RUN(test_cancel_kills_group);
    RUN(test_missing_workspace);
    return test_report();
}
