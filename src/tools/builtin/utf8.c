/* UTF-8 checks for the workspace tools: is a file's content text, where
 * does a partial read end cleanly, and a lossy copy of command output. */
#include <stdlib.h>
#include <string.h>

#include "tools/builtin/workspace.h"

/* Length of the well-formed sequence at s[0..n) (1..4), 0 when the bytes
 * there are not one (or are a NUL), -k when they are a proper but
 * incomplete start of k bytes that runs into the end.                 */
static long seq_len(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    if (c == 0) return 0;
    if (c < 0x80) return 1;
    size_t need;
    unsigned lo = 0x80, hi = 0xBF; /* range of the second byte */
    if (c >= 0xC2 && c <= 0xDF) {
        need = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        need = 3;
        if (c == 0xE0) lo = 0xA0;      /* no overlongs */
        if (c == 0xED) hi = 0x9F;      /* no surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 4;
        if (c == 0xF0) lo = 0x90;
        if (c == 0xF4) hi = 0x8F;      /* <= U+10FFFF */
    } else {
        return 0;
    }
    for (size_t i = 1; i < need; i++) {
        if (i >= n) return -(long)i;
        unsigned b = s[i];
        unsigned blo = i == 1 ? lo : 0x80, bhi = i == 1 ? hi : 0xBF;
        if (b < blo || b > bhi) return 0;
    }
    return (long)need;
}

size_t ws_utf8_valid_prefix(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        long k = seq_len(s + i, n - i);
        if (k <= 0) break;
        i += (size_t)k;
    }
    return i;
}

size_t ws_utf8_incomplete_tail(const unsigned char *s, size_t n)
{
    size_t i = ws_utf8_valid_prefix(s, n);
    if (i == n) return 0;
    long k = seq_len(s + i, n - i);
    return k < 0 && (size_t)-k == n - i ? n - i : 0;
}

char *ws_utf8_lossy(const char *s, size_t n, size_t *out_len)
{
    const unsigned char *u = (const unsigned char *)s;
    /* Worst case: every byte becomes the 3-byte U+FFFD. */
    if (n > (((size_t)-1) - 1) / 3) return NULL;
    char *out = malloc(n * 3 + 1);
    if (!out) return NULL;
    size_t o = 0, i = 0;
    while (i < n) {
        long k = seq_len(u + i, n - i);
        if (k > 0) {
            memcpy(out + o, s + i, (size_t)k);
            o += (size_t)k;
            i += (size_t)k;
        } else {
            memcpy(out + o, "\xEF\xBF\xBD", 3);
            o += 3;
            i++;
        }
    }
    out[o] = '\0';
    if (out_len) *out_len = o;
    return out;
}
