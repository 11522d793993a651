/* Allocation-failure sweeps over the file session store: opening a store,
 * appending a turn to a new session (with bytes to encode), claiming and
 * releasing. Every failing allocation gives a clean error (E_NOMEM), the
 * session is then either untouched or holds the whole turn (checked by a
 * load with the injector disarmed), and nothing leaks (run under ASan).
 * Loading is not swept: jansson 2.14's json_loadb itself crashes when an
 * allocation inside its lexer fails; the parsers are fuzzed instead
 * (fuzz/fuzz_file_session.c).                                           */
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strands/session.h"
#include "strands/session_file.h"
#include "failalloc.h"
#include "test.h"

static int rm_one(const char *p, const struct stat *sb, int flag,
                  struct FTW *ftw)
{
    (void)sb; (void)flag; (void)ftw;
    return remove(p);
}

#define SWEEP_MAX 5000

static void test_append_load_claim_sweep(void)
{
    char dir[64];
    snprintf(dir, sizeof dir, "/tmp/strands-file-oom-XXXXXX");
    if (!mkdtemp(dir)) abort();
    json_t *msgs = json_pack(
        "[{s:s,s:[{s:s},{s:{s:s,s:{s:s}}}]},{s:s,s:[{s:s}],s:{s:i}}]",
        "role", "user", "content", "text", "h\xc3\xa9llo", "image", "format",
        "png", "source", "bytes", "iVBORw0KGgo=", "role", "assistant",
        "content", "text", "hi", "metadata", "latencyMs", 5);
    json_t *agent = json_pack("{s:{s:i},s:s}", "state", "n", 1, "x", "y");
    strands_session_key k = {.session_id = "oom"};
    long n, clean = 0, runs = 0;
    FAILALLOC_SWEEP(n, SWEEP_MAX) {
        nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
        strands_file_store_config cfg = {.dir = dir};
        strands_error err;
        strands_session_store *s = strands_file_store_new(&cfg, &err);
        if (!s) {
            CHECK_INT(err.status, STRANDS_E_NOMEM);
            continue;
        }
        strands_status st = s->vtab->append(s, &k, NULL, 0, msgs, agent,
                                            &err);
        if (st != STRANDS_OK) CHECK_INT(st, STRANDS_E_NOMEM);
        strands_session_claim c;
        strands_status cst = s->vtab->claim(s, &k, &c, &err);
        if (cst == STRANDS_OK)
            CHECK_INT(s->vtab->release(s, &k, &c, &err), STRANDS_OK);
        else
            CHECK_INT(cst, STRANDS_E_NOMEM);
        long fired = failalloc_disarm(); /* the loop reads it again */
        runs++;
        strands_session_record r;
        CHECK_INT(s->vtab->load(s, &k, &r, &err), STRANDS_OK);
        /* All of the turn or none of it. */
        CHECK(r.count == 0 || r.count == 2);
        if (st == STRANDS_OK) {
            CHECK_INT(r.count, 2);
            CHECK(json_equal(r.messages, msgs));
            CHECK(json_equal(r.agent, agent));
        }
        strands_session_record_clear(&r);
        if (!fired) clean++;
        strands_session_store_free(s);
    }
    CHECK(n == SWEEP_MAX + 2);
    CHECK(clean >= 1);
    CHECK(runs > 50); /* the wrappers really saw the store's allocations */
    fprintf(stderr, "  %ld allocation sites swept\n", runs - 1);
    json_decref(msgs);
    json_decref(agent);
    nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

int main(void)
{
    failalloc_init();
    RUN(test_append_load_claim_sweep);
    return test_report();
}
