/* Allocation-failure sweeps over the http_request allow-list parser and
 * the built-in options copy: every failing allocation gives E_NOMEM and
 * nothing half-built or leaked; the run without a failure succeeds.     */
#include "failalloc.h"
#include "test.h"
#include "tools/builtin/addr_policy.h"
#include "tools/builtin/builtin.h"

static void test_parse_sweep(void)
{
    long n, clean = 0;
    FAILALLOC_SWEEP(n, 100) {
        addr_policy *p = NULL;
        strands_error err;
        strands_status st = addr_policy_parse(
            "a.example,10.0.0.0/8,b.example,::1,c.example,d.example,"
            "e.example,127.0.0.1", &p, &err);
        if (st == STRANDS_OK) {
            CHECK_INT(addr_policy_count(p), 8);
            CHECK_INT(addr_policy_allows_host(p, "E.EXAMPLE"), 1);
            clean++;
        } else {
            CHECK_INT(st, STRANDS_E_NOMEM);
            CHECK(p == NULL);
        }
        addr_policy_free(p);
    }
    CHECK(n == 100 + 2);
    CHECK_INT(clean, 1);
}

static void test_options_copy_sweep(void)
{
    builtin_options src;
    builtin_options_default(&src);
    src.http_allow = "127.0.0.1";
    src.http_max_bytes = 77;
    long n, clean = 0;
    FAILALLOC_SWEEP(n, 10) {
        builtin_options dst;
        strands_error err;
        strands_status st = builtin_options_copy(&dst, &src, &err);
        if (st == STRANDS_OK) {
            CHECK_STR(dst.http_allow, "127.0.0.1");
            CHECK(dst.http_allow != src.http_allow);
            CHECK_INT(dst.http_max_bytes, 77);
            clean++;
        } else {
            CHECK_INT(st, STRANDS_E_NOMEM);
        }
        builtin_options_cleanup(&dst);
    }
    CHECK(n == 10 + 2);
    CHECK_INT(clean, 1);
}

int main(void)
{
    failalloc_init();
    RUN(test_parse_sweep);
    RUN(test_options_copy_sweep);
    return test_report();
}
