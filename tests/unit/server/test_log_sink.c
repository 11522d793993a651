/* The JSON-lines log sink (src/server/log_sink.c) never blocks a caller:
 * with stdout a pipe nobody reads, 20000 log calls return at once; lines
 * beyond the queue's bound are dropped and counted, and once stdout is
 * read again every line that was kept comes out whole, followed by one
 * line that says how many were dropped; the flush writes everything.   */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "strands/clock.h"
#include "strands/log.h"
#include "strands/server.h"
#include "test.h"

#define N_LINES 20000

typedef struct drain {
    int fd;
    char *data;
    size_t len, cap;
} drain;

static void *drain_pipe(void *arg)
{
    drain *d = arg;
    char buf[65536];
    ssize_t n;
    while ((n = read(d->fd, buf, sizeof buf)) > 0) {
        if (d->len + (size_t)n + 1 > d->cap) {
            d->cap = (d->len + (size_t)n + 1) * 2;
            d->data = realloc(d->data, d->cap);
        }
        memcpy(d->data + d->len, buf, (size_t)n);
        d->len += (size_t)n;
        d->data[d->len] = '\0';
    }
    return NULL;
}

static void test_stalled_stdout_never_blocks(void)
{
    int p[2];
    CHECK_INT(pipe(p), 0);
    fflush(stdout);
    int saved = dup(STDOUT_FILENO);
    dup2(p[1], STDOUT_FILENO);
    close(p[1]);

    strands_log_use_json_stdout();
    strands_log_set_level(STRANDS_LOG_INFO);
    int64_t t0 = strands_clock_mono_ms();
    for (int i = 0; i < N_LINES; i++)
        strands_log(STRANDS_LOG_INFO, "strands.test", "req", NULL, NULL,
                    "line %d with some padding to fill the pipe sooner %s",
                    i, "................................................");
    int64_t spent = strands_clock_mono_ms() - t0;

    /* Read stdout again, flush, and put the real stdout back. */
    drain d = {.fd = p[0]};
    pthread_t t;
    pthread_create(&t, NULL, drain_pipe, &d);
    strands_log_json_stdout_flush(5000);
    fflush(stdout);
    dup2(saved, STDOUT_FILENO);
    close(saved);
    pthread_join(t, NULL);
    close(p[0]);

    CHECK(spent < 2000); /* a blocking sink would never have returned */
    long kept = 0, dropped = 0, reports = 0, last = -1, bad = 0;
    for (char *line = d.data ? strtok(d.data, "\n") : NULL; line;
         line = strtok(NULL, "\n")) {
        json_t *doc = json_loads(line, 0, NULL);
        if (!doc) {
            bad++;
            continue;
        }
        const char *logger =
            json_string_value(json_object_get(doc, "logger"));
        const char *msg = json_string_value(json_object_get(doc, "message"));
        if (logger && !strcmp(logger, "strands.log")) {
            reports++;
            dropped += strtol(msg, NULL, 10);
        } else {
            long i = strtol(msg + 5, NULL, 10);
            if (i <= last) bad++; /* order kept */
            last = i;
            kept++;
        }
        json_decref(doc);
    }
    free(d.data);
    CHECK_INT(bad, 0);
    CHECK_INT(kept + dropped, N_LINES);
    CHECK(dropped > 0);   /* the pipe (64 KiB) + queue cannot hold all */
    CHECK(reports >= 1);
}

int main(void)
{
    RUN(test_stalled_stdout_never_blocks);
    return test_report();
}
