/* Allocation-failure sweeps over core helpers: every failing allocation
 * yields a clean error, never a crash, leak or half-built value.       */
#include "core/buf.h"
#include "failalloc.h"
#include "test.h"

/* dynbuf growth: a failed grow leaves the buffer valid and empty of
 * the failed append; json_dumps of a document never returns garbage.   */
static void test_buf_and_json_sweep(void)
{
    long n, clean = 0, runs = 0;
    FAILALLOC_SWEEP(n, 200) {
        dynbuf b;
        dynbuf_init(&b, 1 << 20);
        strands_status st = dynbuf_puts(&b, "hello, ");
        if (st == STRANDS_OK) st = dynbuf_puts(&b, "world");
        json_t *doc = json_pack("{s:s, s:i}", "a", "b", "c", 1);
        char *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
        if (st == STRANDS_OK) CHECK_STR(dynbuf_str(&b), "hello, world");
        if (text) CHECK_STR(text, "{\"a\":\"b\",\"c\":1}");
        if (st == STRANDS_OK && text) clean++;
        runs++;
        free(text);
        json_decref(doc);
        dynbuf_cleanup(&b);
    }
    CHECK(n == 200 + 2);
    CHECK_INT(clean, 1);  /* only the last run succeeds */
    CHECK(runs > 3);      /* the wrappers really saw the allocations */
}

int main(void)
{
    failalloc_init();
    RUN(test_buf_and_json_sweep);
    return test_report();
}
