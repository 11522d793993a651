/* Test driver for snapshot-safe start (tests/integration/test_snapshot.py):
 * initialises what the runtime initialises before its first request (the
 * credentials chain, the Bedrock provider with its connection pool),
 * makes one signed call to warm everything up, then, on a line from
 * stdin ("go"), makes one more call from this process with ONE attempt
 * (a pooled connection that died meanwhile must be replaced by the HTTP
 * layer, not by a retry), and forks N children that each make their own
 * ids and one signed call: the state a snapshot restore hands to many
 * sessions. One JSON line per step on stdout:
 *   {"phase":"warm"|"after"|"child", "ok":bool, "error":..., "text":...,
 *    "pid":n, "ids":[uuid, uuid, uuid]}
 *   fork_probe N                                                         */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

#include <jansson.h>

#include "strands/strands.h"

static strands_model *model_new(strands_credentials_provider *creds,
                                int attempts)
{
    const char *region = getenv("AWS_REGION");
    strands_bedrock_config bc = {
        .model_id = "test-model",
        .region = region ? region : "us-east-1",
        .endpoint = getenv("AWS_ENDPOINT_URL_BEDROCK_RUNTIME"),
        .credentials = creds,
        .max_attempts = attempts};
    strands_error err;
    strands_model *m = strands_bedrock_model_new(&bc, &err);
    if (!m) fprintf(stderr, "fork_probe: %s\n", err.message);
    return m;
}

/* One call; prints the step's line with a single write (atomic on a pipe
 * for lines under PIPE_BUF, so children's lines never interleave).     */
static int call(strands_model *m, const char *phase, const char *prompt)
{
    json_t *msgs = json_pack("[{s:s, s:[{s:s}]}]", "role", "user", "content",
                             "text", prompt);
    strands_model_request rq = {.messages = msgs, .max_tokens = 100,
                                .request_id = prompt};
    strands_model_response resp;
    memset(&resp, 0, sizeof resp);
    strands_error err;
    strands_error_clear(&err);
    strands_status st = strands_model_converse(m, &rq, &resp, &err);
    json_t *ids = json_array();
    for (int i = 0; i < 3; i++) {
        char id[37];
        strands_uuid4(id);
        json_array_append_new(ids, json_string(id));
    }
    const json_t *content =
        json_object_get(resp.message, "content");
    const char *text =
        json_string_value(json_object_get(json_array_get(content, 0), "text"));
    json_t *line = json_pack("{s:s, s:b, s:s, s:s, s:I, s:o}", "phase", phase,
                             "ok", st == STRANDS_OK, "error",
                             st == STRANDS_OK ? "" : err.message, "text",
                             text ? text : "", "pid", (json_int_t)getpid(),
                             "ids", ids);
    char *out = json_dumps(line, JSON_COMPACT);
    if (out) {
        size_t n = strlen(out);
        out[n] = '\n';
        if (write(STDOUT_FILENO, out, n + 1) < 0) st = STRANDS_E_IO;
        free(out);
    }
    json_decref(line);
    json_decref(msgs);
    strands_model_response_cleanup(&resp);
    return st == STRANDS_OK ? 0 : 1;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 4;
    if (n < 1 || n > 64) {
        fprintf(stderr, "usage: fork_probe N (1..64)\n");
        return 2;
    }
    strands_error err;
    strands_aws_options o = {.region = getenv("AWS_REGION"),
                             .max_attempts = 1};
    strands_credentials_provider *creds =
        strands_credentials_default_chain_new(&o, &err);
    if (!creds) {
        fprintf(stderr, "fork_probe: %s\n", err.message);
        return 2;
    }
    strands_model *m = model_new(creds, 1);
    if (!m) return 2;
    int rc = call(m, "warm", "warm-up");
    char line[16];
    if (!fgets(line, sizeof line, stdin)) return 2; /* the test's "go" */
    rc |= call(m, "after", "after-restart");
    for (int i = 0; i < n; i++) {
        pid_t pid = fork();
        if (pid < 0) return 2;
        if (pid == 0) {
            char prompt[32];
            snprintf(prompt, sizeof prompt, "child-%d", i);
            _exit(call(m, "child", prompt));
        }
    }
    for (int i = 0; i < n; i++) {
        int status = 0;
        if (wait(&status) < 0 || !WIFEXITED(status) || WEXITSTATUS(status))
            rc = 1;
    }
    strands_model_free(m);
    strands_credentials_provider_free(creds);
    return rc;
}
