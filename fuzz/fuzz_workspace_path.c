/* libFuzzer target for the workspace path rules and UTF-8 helpers
 * (src/tools/builtin/workspace.c, utf8.c): arbitrary bytes go to
 * ws_path_parse, ws_utf8_valid_prefix / incomplete_tail and ws_utf8_lossy.
 * Checks: an accepted path has no absolute start, no "..", "." or empty
 * component, no '/' or NUL inside a component, components of at most
 * WS_NAME_MAX bytes, and re-joining them parses to the same components;
 * the lossy copy is valid UTF-8 and a fixed point of the repair. Never
 * crash, leak or read out of bounds.                                   */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tools/builtin/workspace.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static ws_path p, q;

static void check_path(const char *s, size_t size)
{
    strands_error err;
    if (ws_path_parse(s, size, &p, &err) != STRANDS_OK) {
        if (!err.message[0]) abort();
        return;
    }
    if (size && s[0] == '/') abort();
    char joined[WS_PATH_MAX + 1];
    size_t o = 0;
    for (size_t i = 0; i < p.n; i++) {
        const char *c = ws_path_component(&p, i);
        size_t n = strlen(c);
        if (n == 0 || n > WS_NAME_MAX || strchr(c, '/') ||
            !strcmp(c, ".") || !strcmp(c, ".."))
            abort();
        if (o + (i ? 1 : 0) + n > WS_PATH_MAX) abort();
        if (i) joined[o++] = '/';
        memcpy(joined + o, c, n);
        o += n;
    }
    if (ws_path_parse(joined, o, &q, &err) != STRANDS_OK || q.n != p.n)
        abort();
    for (size_t i = 0; i < p.n; i++)
        if (strcmp(ws_path_component(&p, i), ws_path_component(&q, i)))
            abort();
}

static void check_utf8(const char *s, size_t size)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t v = ws_utf8_valid_prefix(u, size);
    if (v > size) abort();
    size_t k = ws_utf8_incomplete_tail(u, size);
    if (k > 3 || (k && (k > size || v != size - k))) abort();
    size_t n, n2;
    char *a = ws_utf8_lossy(s, size, &n);
    if (!a) return;
    if (ws_utf8_valid_prefix((const unsigned char *)a, n) != n) abort();
    char *b = ws_utf8_lossy(a, n, &n2);
    if (b && (n2 != n || memcmp(a, b, n))) abort();
    if (v == size && (n != size || memcmp(a, s, n))) abort();
    free(a);
    free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s) return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    check_path(s, size);
    check_utf8(s, size);
    free(s);
    return 0;
}
