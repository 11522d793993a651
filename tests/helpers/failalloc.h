/* Allocation-failure injection for unit tests (curl's "torture" idea): a
 * test executable built with the link flags
 *   -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=strdup,--wrap=strndup
 * (CMake adds them to every tests/unit/<module>/test_*_oom.c) routes every
 * allocation made by its own code and by libstrands through the wrappers
 * below; jansson is routed through them with json_set_alloc_funcs. A test
 * arms a countdown so the Nth allocation from then on fails, runs the code
 * under test, and sweeps N from 1 until a run completes without reaching
 * the failure: every allocation site is then known to fail cleanly.
 * Include this header in exactly one file of the executable.            */
#ifndef STRANDS_TEST_FAILALLOC_H
#define STRANDS_TEST_FAILALLOC_H

#include <stdatomic.h>
#include <stddef.h>
#include <string.h>
#include <jansson.h>

void *__real_malloc(size_t n);
void *__real_calloc(size_t k, size_t n);
void *__real_realloc(void *p, size_t n);
char *__real_strdup(const char *s);
char *__real_strndup(const char *s, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t k, size_t n);
void *__wrap_realloc(void *p, size_t n);
char *__wrap_strdup(const char *s);
char *__wrap_strndup(const char *s, size_t n);

/* Allocations left before the failing one; 0 = disarmed. */
static atomic_long failalloc_countdown;
/* Set once the armed failure has happened. */
static atomic_int failalloc_fired;

/* True when this allocation must fail. */
static int failalloc_should_fail(void)
{
    long left = atomic_load(&failalloc_countdown);
    while (left > 0) {
        if (atomic_compare_exchange_weak(&failalloc_countdown, &left,
                                         left - 1)) {
            if (left == 1) {
                atomic_store(&failalloc_fired, 1);
                return 1;
            }
            return 0;
        }
    }
    return 0;
}

void *__wrap_malloc(size_t n)
{
    return failalloc_should_fail() ? NULL : __real_malloc(n);
}

void *__wrap_calloc(size_t k, size_t n)
{
    return failalloc_should_fail() ? NULL : __real_calloc(k, n);
}

void *__wrap_realloc(void *p, size_t n)
{
    return failalloc_should_fail() ? NULL : __real_realloc(p, n);
}

char *__wrap_strdup(const char *s)
{
    return failalloc_should_fail() ? NULL : __real_strdup(s);
}

char *__wrap_strndup(const char *s, size_t n)
{
    return failalloc_should_fail() ? NULL : __real_strndup(s, n);
}

static void *failalloc_json_malloc(size_t n) { return __wrap_malloc(n); }
static void failalloc_json_free(void *p) { free(p); }

/** Routes jansson through the wrappers; call once at the start of main. */
static inline void failalloc_init(void)
{
    json_set_alloc_funcs(failalloc_json_malloc, failalloc_json_free);
}

/** Arms the injector: the nth allocation from now fails (n >= 1). */
static inline void failalloc_arm(long n)
{
    atomic_store(&failalloc_fired, 0);
    atomic_store(&failalloc_countdown, n);
}

/** Disarms it; returns 1 when the armed failure happened. */
static inline int failalloc_disarm(void)
{
    atomic_store(&failalloc_countdown, 0);
    return atomic_load(&failalloc_fired);
}

/** For a sweep body that disarms around its own setup and checks: leaves
 * the injector as FAILALLOC_SWEEP expects to find it at the end of the
 * body, "fired" when the armed failure happened in the code under test. */
static inline void failalloc_restore(int fired)
{
    atomic_store(&failalloc_countdown, 0);
    atomic_store(&failalloc_fired, fired);
}

/* Runs `body` with the nth allocation failing for n = 1, 2, ... until a
 * run completes without reaching the failure (or max_n runs); the loop
 * variable `n_var` (a long) holds n. `body` must check its own
 * postconditions for both outcomes (a clean error, or full success) and
 * free everything. After the loop n_var > max_n means the sweep never
 * reached a clean run.                                                  */
#define FAILALLOC_SWEEP(n_var, max_n)                                    \
    for (n_var = 1; n_var <= (max_n) && (failalloc_arm(n_var), 1);       \
         n_var = failalloc_disarm() ? n_var + 1 : (max_n) + 2)

#endif
