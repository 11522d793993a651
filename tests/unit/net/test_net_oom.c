/* Allocation-failure sweeps over net/: URL parsing, the SSE decoder and
 * base64 end every failed allocation in a clean E_NOMEM (or -2), never a
 * crash, a leak (ASan) or a half-built result.                         */
#include "core/buf.h"
#include "failalloc.h"
#include "net/base64.h"
#include "net/sse_decoder.h"
#include "net/url.h"
#include "test.h"

static void test_url_sweep(void)
{
    long n, ok = 0;
    FAILALLOC_SWEEP(n, 100) {
        net_url u;
        strands_error err;
        strands_error_clear(&err);
        strands_status st = net_url_parse("http://127.0.0.1:8080/p?q=1", 0,
                                          "X", &u, &err);
        if (st == STRANDS_OK) {
            CHECK_STR(u.authority, "127.0.0.1:8080");
            CHECK_STR(u.query, "q=1");
            ok++;
            net_url_cleanup(&u);
        } else {
            CHECK_INT(st, STRANDS_E_NOMEM);
            CHECK(u.host == NULL && u.origin == NULL);
        }
    }
    CHECK(n == 100 + 2);
    CHECK(ok >= 1);
}

static int count_events(void *user, const net_sse_event *ev)
{
    (void)ev;
    ++*(int *)user;
    return 0;
}

static void test_sse_sweep(void)
{
    static const char s[] =
        "id: 1\nevent: a\ndata: x\ndata: y\n\n: c\ndata: z\n\n";
    long n, clean = 0;
    FAILALLOC_SWEEP(n, 100) {
        int events = 0;
        strands_error err;
        net_sse_decoder *d = net_sse_decoder_new(0, 0, count_events,
                                                 &events);
        if (!d) continue;
        strands_status st = STRANDS_OK;
        for (size_t i = 0; i < sizeof s - 1 && st == STRANDS_OK; i += 5)
            st = net_sse_feed(d, s + i, sizeof s - 1 - i < 5 ? sizeof s - 1 - i
                                                              : 5, &err);
        if (st == STRANDS_OK) {
            CHECK_INT(events, 2);
            clean++;
        } else {
            CHECK_INT(st, STRANDS_E_NOMEM);
            CHECK_INT(net_sse_feed(d, "\n", 1, &err), STRANDS_E_NOMEM);
        }
        net_sse_decoder_free(d);
    }
    CHECK(n == 100 + 2);
    CHECK(clean >= 1);
}

static void test_base64_sweep(void)
{
    long n;
    FAILALLOC_SWEEP(n, 20) {
        char *e = net_base64_encode("foobar", 6, NULL);
        uint8_t *d = NULL;
        size_t len = 0;
        int rc = net_base64_decode("Zm9vYmFy", 8, &d, &len);
        if (e) CHECK_STR(e, "Zm9vYmFy");
        if (rc == 0) CHECK_MEM(d, len, "foobar", 6);
        else CHECK(rc == -2 && d == NULL);
        free(e);
        free(d);
    }
    CHECK(n == 20 + 2);
}

int main(void)
{
    failalloc_init();
    RUN(test_url_sweep);
    RUN(test_sse_sweep);
    RUN(test_base64_sweep);
    return test_report();
}
