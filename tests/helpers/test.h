/* Minimal unit-test harness: CHECK macros that print both operands, a runner
 * and a closing "N passed, N failed" line. Each tests/unit file ends with
 *   int main(void) { RUN(test_x); RUN(test_y); return test_report(); }    */
#ifndef STRANDS_TEST_H
#define STRANDS_TEST_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int test_failures_in_case;
static int test_passed, test_failed, test_skipped;

#define FAIL_AT(...)                                                     \
    do {                                                                 \
        fprintf(stderr, "  %s:%d: ", __FILE__, __LINE__);                \
        fprintf(stderr, __VA_ARGS__);                                    \
        fputc('\n', stderr);                                             \
        test_failures_in_case++;                                         \
    } while (0)

#define CHECK(cond)                                                      \
    do { if (!(cond)) FAIL_AT("CHECK(%s) failed", #cond); } while (0)

#define CHECK_INT(a, b)                                                  \
    do {                                                                 \
        long long va_ = (long long)(a), vb_ = (long long)(b);            \
        if (va_ != vb_)                                                  \
            FAIL_AT("%s == %s: %lld != %lld", #a, #b, va_, vb_);         \
    } while (0)

#define CHECK_STR(a, b)                                                  \
    do {                                                                 \
        const char *sa_ = (a), *sb_ = (b);                               \
        if (!sa_ || !sb_ || strcmp(sa_, sb_) != 0)                       \
            FAIL_AT("%s == %s:\n    got:  \"%s\"\n    want: \"%s\"", #a, \
                    #b, sa_ ? sa_ : "(null)", sb_ ? sb_ : "(null)");     \
    } while (0)

#define CHECK_MEM(a, alen, b, blen)                                      \
    do {                                                                 \
        size_t la_ = (alen), lb_ = (blen);                               \
        if (la_ != lb_ || memcmp((a), (b), la_) != 0)                    \
            FAIL_AT("%s (%zu bytes) != %s (%zu bytes)", #a, la_, #b, lb_); \
    } while (0)

/* Marks the running case as skipped (with a reason) and returns from it. */
#define SKIP(...)                                                        \
    do {                                                                 \
        fprintf(stderr, "  skipped: ");                                  \
        fprintf(stderr, __VA_ARGS__);                                    \
        fputc('\n', stderr);                                             \
        test_failures_in_case = -1;                                      \
        return;                                                          \
    } while (0)

#define RUN(fn)                                                          \
    do {                                                                 \
        test_failures_in_case = 0;                                       \
        fn();                                                            \
        if (test_failures_in_case < 0) {                                 \
            test_skipped++;                                              \
            fprintf(stderr, "SKIP %s\n", #fn);                           \
        } else if (test_failures_in_case == 0) {                         \
            test_passed++;                                               \
            fprintf(stderr, "ok   %s\n", #fn);                           \
        } else {                                                         \
            test_failed++;                                               \
            fprintf(stderr, "FAIL %s\n", #fn);                           \
        }                                                                \
    } while (0)

static inline int test_report(void)
{
    printf("%d passed, %d failed, %d skipped\n", test_passed, test_failed,
           test_skipped);
    return test_failed ? 1 : 0;
}

/* Reads a whole file; returns a malloc'd NUL-terminated buffer or NULL. */
static inline char *test_read_file(const char *path, size_t *len_out)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap + 1);
    size_t n;
    while (buf && (n = fread(buf + len, 1, cap - len, f)) > 0) {
        len += n;
        if (len == cap) {
            char *nb = realloc(buf, cap * 2 + 1);
            if (!nb) { free(buf); buf = NULL; break; }
            buf = nb;
            cap *= 2;
        }
    }
    fclose(f);
    if (!buf) return NULL;
    buf[len] = '\0';
    if (len_out) *len_out = len;
    return buf;
}

/* True when ../shared (test vectors) is present beside the checkout. */
static inline int test_have_shared(void)
{
    return access(STRANDS_SHARED_DIR "/testdata", R_OK) == 0;
}

#endif
