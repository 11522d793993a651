/* JSON helpers for unit tests: J() parses a JSON literal the test relies on
 * (any value, NUL escapes allowed; a broken literal aborts the run), and
 * CHECK_JSON / CHECK_JSON_EQ compare a json_t against JSON text / another
 * json_t, printing both sides (compact, sorted keys) when they differ.
 * Include after test.h.                                                  */
#ifndef STRANDS_TEST_JSON_CHECK_H
#define STRANDS_TEST_JSON_CHECK_H

#include <jansson.h>

#include "test.h"

/* Parses `text`; returns a new reference (the caller decrefs it). */
static inline json_t *J(const char *text)
{
    json_error_t e;
    json_t *v = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, &e);
    if (!v) {
        fprintf(stderr, "bad test JSON (%s): %s\n", e.text, text);
        abort();
    }
    return v;
}

/* Checks that the JSON value `got` equals the JSON value `want` (either
 * may be NULL; borrowed).                                                */
#define CHECK_JSON_EQ(got, want)                                         \
    do {                                                                 \
        const json_t *gv_ = (got), *wv_ = (want);                        \
        if (!json_equal(gv_, wv_)) {                                     \
            char *g_ = gv_ ? json_dumps(gv_, JSON_COMPACT |              \
                                                 JSON_SORT_KEYS |        \
                                                 JSON_ENCODE_ANY)        \
                           : NULL;                                       \
            char *w_ = wv_ ? json_dumps(wv_, JSON_COMPACT |              \
                                                 JSON_SORT_KEYS |        \
                                                 JSON_ENCODE_ANY)        \
                           : NULL;                                       \
            FAIL_AT("JSON differs:\n    got:  %s\n    want: %s",        \
                    g_ ? g_ : "(null)", w_ ? w_ : "(null)");             \
            free(g_);                                                    \
            free(w_);                                                    \
        }                                                                \
    } while (0)

/* Checks that the JSON value `got` equals the JSON text `want_text`
 * (no extra or missing keys).                                            */
#define CHECK_JSON(got, want_text)                                       \
    do {                                                                 \
        json_t *wj_ = J(want_text);                                      \
        CHECK_JSON_EQ(got, wj_);                                         \
        json_decref(wj_);                                                \
    } while (0)

#endif
