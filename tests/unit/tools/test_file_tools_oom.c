/* Allocation failures in the workspace tools and shell: every malloc,
 * calloc, realloc, strdup (and jansson's) fails in turn; each run ends
 * with success or a clean error, and nothing leaks (ASan/LSan builds). */
#include "failalloc.h"
#include "workspace_fixture.h"

/* Sweeps def's run on the JSON input; returns the n the sweep ended at. */
static long sweep(fixture *f, const strands_tool_def *def, const char *in)
{
    json_t *input = json_loads(in, 0, NULL);
    if (!input) exit(2);
    long n;
    int clean = 0;
    FAILALLOC_SWEEP(n, 400) {
        json_t *content = NULL;
        strands_error err;
        strands_error_clear(&err);
        strands_status st = def->run(&f->opt, input, NULL, &content, &err);
        if (st == STRANDS_OK) {
            CHECK(json_is_array(content));
            clean++;
        } else {
            CHECK(content == NULL);
            CHECK(err.message[0] != '\0');
        }
        json_decref(content);
    }
    json_decref(input);
    CHECK(clean >= 1);
    return n;
}

static void test_tools_under_oom(void)
{
    fixture f;
    fx_init(&f);
    CHECK(sweep(&f, &builtin_file_write,
                "{\"path\":\"a/b/c.bin\",\"content\":\"AAEC/w==\","
                "\"encoding\":\"base64\"}") == 402);
    CHECK(sweep(&f, &builtin_file_write,
                "{\"path\":\"a/t.txt\",\"content\":\"hello\"}") == 402);
    CHECK(sweep(&f, &builtin_file_read, "{\"path\":\"a/b/c.bin\"}") == 402);
    CHECK(sweep(&f, &builtin_file_read,
                "{\"path\":\"a/t.txt\",\"limit\":2}") == 402);
    CHECK(sweep(&f, &builtin_file_list, "{\"recursive\":true}") == 402);
    /* a read shortened to fit the result budget */
    char big[1000];
    memset(big, 'z', sizeof big);
    fx_put(f.ws, "big", big, sizeof big);
    f.opt.result_max_bytes = 300;
    CHECK(sweep(&f, &builtin_file_read, "{\"path\":\"big\"}") == 402);
    f.opt.result_max_bytes = 0;
    CHECK(sweep(&f, &builtin_shell,
                "{\"command\":\"echo out; echo err >&2\"}") == 402);
    fx_free(&f);
}

int main(void)
{
    failalloc_init();
    RUN(test_tools_under_oom);
    return test_report();
}
