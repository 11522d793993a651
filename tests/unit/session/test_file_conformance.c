/* The file session store through the shared conformance suite
 * (tests/helpers/session_conformance.h): each case gets a fresh, empty
 * directory, removed again by cleanup.                                  */
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>

#include "strands/session_file.h"
#include "test.h"
#include "session_conformance.h"

typedef struct ctx {
    char dir[64];
} ctx;

static int rm_one(const char *p, const struct stat *sb, int flag,
                  struct FTW *ftw)
{
    (void)sb; (void)flag; (void)ftw;
    return remove(p);
}

static strands_session_store *make(void *user)
{
    ctx *c = user;
    snprintf(c->dir, sizeof c->dir, "/tmp/strands-file-conf-XXXXXX");
    if (!mkdtemp(c->dir)) return NULL;
    strands_file_store_config cfg = {
        .dir = c->dir,
        .max_history_bytes = SESSION_CONFORMANCE_MAX_HISTORY_BYTES};
    strands_error err;
    strands_session_store *s = strands_file_store_new(&cfg, &err);
    if (!s) fprintf(stderr, "file store: %s\n", err.message);
    return s;
}

static void cleanup(void *user)
{
    ctx *c = user;
    nftw(c->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

int main(void)
{
    ctx c;
    session_conformance_run(make, cleanup, &c);
    return test_report();
}
