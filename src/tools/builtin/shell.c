/* Built-in tool `shell`: runs `/bin/sh -c <command>` in WORKSPACE_DIR
 * through net_spawn_run (own process group, stdin /dev/null, the
 * runtime's environment). It is NOT confined: the command runs as the
 * runtime's user and can do whatever that user can; enable it only where
 * that is acceptable. Bounded: a timeout (the smaller of timeout_seconds,
 * SHELL_TIMEOUT_SECONDS and what is left of the call's deadline) and the
 * call's cancel flag both kill the whole process group (TERM, then KILL)
 * and reap it; stdout and stderr keep at most SHELL_OUTPUT_MAX_BYTES
 * each (the rest is read and dropped, and flagged). A non-zero exit is a
 * normal result; a timeout is an error "timed out after N s".          */
#include <stdlib.h>
#include <string.h>

#include "net/spawn.h"
#include "strands/clock.h"
#include "tools/builtin/builtin.h"
#include "tools/builtin/workspace.h"

/* Output as a JSON string (invalid UTF-8 replaced); NULL on OOM. */
static json_t *text_of(const char *buf, size_t n)
{
    size_t len;
    char *s = ws_utf8_lossy(buf, n, &len);
    json_t *j = s ? json_stringn(s, len) : NULL;
    free(s);
    return j;
}

static strands_status shell_run(void *user, const json_t *input,
                                const strands_tool_context *ctx,
                                json_t **content_out, strands_error *err)
{
    const builtin_options *opt = user;
    if (!opt || !opt->workspace_dir)
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "shell: no workspace configured");
    if (!json_is_object(input))
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "input must be a JSON object with a "
                                 "\"command\" string");
    const json_t *jc = json_object_get(input, "command");
    if (!json_is_string(jc) || !json_string_length(jc))
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "\"command\" must be a non-empty string");
    if (strlen(json_string_value(jc)) != json_string_length(jc))
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "\"command\" contains a NUL byte");
    long max_ms = opt->shell_timeout_ms > 0 ? opt->shell_timeout_ms
                                            : BUILTIN_SHELL_TIMEOUT_MS_DEFAULT;
    long timeout_ms = max_ms;
    const json_t *jt = json_object_get(input, "timeout_seconds");
    if (jt && !json_is_null(jt)) {
        if (!json_is_integer(jt) || json_integer_value(jt) < 1)
            return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                     "\"timeout_seconds\" must be a "
                                     "positive integer");
        if (json_integer_value(jt) < max_ms / 1000)
            timeout_ms = (long)json_integer_value(jt) * 1000L;
    }
    if (ctx && ctx->deadline_ms > 0) {
        int64_t left = ctx->deadline_ms - strands_clock_mono_ms();
        if (left < timeout_ms) timeout_ms = left > 1 ? (long)left : 1;
    }
    size_t cap = opt->shell_output_max_bytes ? opt->shell_output_max_bytes
                                             : BUILTIN_SHELL_OUTPUT_MAX_DEFAULT;
    char *out = malloc(cap), *errb = malloc(cap);
    if (!out || !errb) {
        free(out);
        free(errb);
        return strands_error_set(err, STRANDS_E_NOMEM, NULL, "OOM");
    }
    char *argv[] = {"sh", "-c", (char *)json_string_value(jc), NULL};
    net_spawn_opts so = {
        .path = "/bin/sh", .argv = argv, .timeout_ms = timeout_ms,
        .out = out, .out_cap = cap, .out_truncate = 1,
        .err = errb, .err_cap = cap,
        .cwd = opt->workspace_dir,
        .cancelled = ctx ? ctx->cancelled : NULL,
    };
    net_spawn_result r;
    strands_error se;
    strands_error_clear(&se);
    strands_status st = net_spawn_run(&so, &r, &se);
    if (st == STRANDS_E_TIMEOUT) {
        long secs = (timeout_ms + 999) / 1000;
        strands_error_set(err, st, NULL,
                          "shell: timed out after %ld s (process group "
                          "killed)", secs);
    } else if (st == STRANDS_E_CANCELLED) {
        strands_error_set(err, st, NULL,
                          "shell: cancelled (process group killed)");
    } else if (st != STRANDS_OK) {
        strands_error_set(err, st, NULL, "shell: %s (WORKSPACE_DIR '%.200s')",
                          se.message, opt->workspace_dir);
    } else {
        json_t *o = json_pack(
            "{s:o, s:o, s:o, s:o, s:b, s:b, s:b}", "exit_code",
            r.exited ? json_integer(r.exit_code) : json_null(), "signal",
            r.term_signal ? json_integer(r.term_signal) : json_null(),
            "stdout", text_of(out, r.out_len), "stderr",
            text_of(errb, r.err_len), "stdout_truncated", r.out_truncated,
            "stderr_truncated", r.err_truncated, "truncated",
            r.out_truncated || r.err_truncated);
        *content_out = o ? json_pack("[{s:o}]", "json", o) : NULL;
        if (!*content_out)
            st = strands_error_set(err, STRANDS_E_NOMEM, NULL,
                                   "out of memory");
    }
    free(out);
    free(errb);
    return st;
}

const strands_tool_def builtin_shell = {
    .name = "shell",
    .description =
        "Runs a shell command with /bin/sh -c in the workspace directory, "
        "as the runtime's user (not sandboxed), with stdin empty. Returns "
        "{exit_code, signal, stdout, stderr, stdout_truncated, "
        "stderr_truncated, truncated}; a non-zero exit_code is a normal "
        "result. Output beyond the configured limit per stream is dropped "
        "and flagged. The command and everything it started are killed "
        "when it runs past its timeout (timeout_seconds, at most the "
        "configured maximum).",
    .input_schema_json =
        "{\"type\":\"object\",\"properties\":{"
        "\"command\":{\"type\":\"string\",\"minLength\":1,\"description\":"
        "\"The command line, e.g. \\\"ls -la && wc -l *.txt\\\"\"},"
        "\"timeout_seconds\":{\"type\":\"integer\",\"minimum\":1,"
        "\"description\":\"Stop it after this many seconds (default and "
        "maximum: the configured limit)\"}},\"required\":[\"command\"]}",
    .run = shell_run,
};
