/* Allocation-failure sweep over loading the whole settings table (every
 * core group, every registered provider's group): each
 * failing allocation gives a clean E_NOMEM and no table (never another
 * error, such as TOOLS blaming the list), or a complete table; never a
 * crash, a leak (ASan) or a half-filled table.                          */
#include "failalloc.h"
#include "strands/config.h"
#include "test.h"

static const char *const vars[] = {
    "SYSTEM_PROMPT=Be brief.", "AWS_REGION=eu-west-1",
    "AWS_ENDPOINT_URL=https://example.test", "TOOLS=",
    "SESSION_STORE=memory", NULL};

static const char *fake_getenv(void *user, const char *name)
{
    (void)user;
    size_t n = strlen(name);
    for (const char *const *v = vars; *v; v++)
        if (!strncmp(*v, name, n) && (*v)[n] == '=') return *v + n + 1;
    return NULL;
}

/* TOOLS is empty here: with names in it, the TOOLS check adds tools, and
 * an OOM inside strands_tool_registry_add (json_loads of the schema) is
 * reported as E_INVALID "unknown or duplicate tool" today (tools/
 * registry.c and tools/builtin/builtin.c map every failure to E_INVALID);
 * that belongs to the tool registry's own OOM sweep.                    */
static void test_load_sweep(void)
{
    strands_error err;
    /* Register the built-ins outside the sweep: once per process. */
    strands_settings_free(strands_settings_load(fake_getenv, NULL, &err));
    long n, clean = 0;
    FAILALLOC_SWEEP(n, 400) {
        strands_error_clear(&err);
        strands_settings *s = strands_settings_load(fake_getenv, NULL, &err);
        if (s) {
            const strands_runtime_config *c = strands_settings_config(s);
            CHECK_STR(c->system_prompt, "Be brief.");
            CHECK_STR(c->region, "eu-west-1");
            CHECK_STR(c->sts_endpoint, "https://example.test");
            char buf[64];
            CHECK_INT(strands_settings_text(s, "TOOLS", buf, sizeof buf), 1);
            CHECK_STR(buf, "");
            clean++;
        } else if (err.status != STRANDS_E_NOMEM) {
            FAIL_AT("n=%ld: %s (%s)", n, strands_status_name(err.status),
                    err.message);
        }
        strands_settings_free(s);
    }
    CHECK(n == 400 + 2);
    /* At least the last run; jansson also survives a failed hashtable
     * growth, so some runs with a failed allocation succeed too.      */
    CHECK(clean >= 1);
}

int main(void)
{
    failalloc_init();
    RUN(test_load_sweep);
    return test_report();
}
