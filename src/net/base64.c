/* Base64 through OpenSSL's EVP block functions, with the strict checks
 * and exact lengths those functions leave to the caller.                */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "net/base64.h"

/* Whole quanta per EVP call: 16384 * 3 bytes <-> 16384 * 4 characters,
 * well inside the int the EVP functions take. */
#define QUANTA 16384

char *net_base64_encode(const void *p, size_t n, size_t *out_len)
{
    size_t groups = n / 3 + (n % 3 != 0);
    if (groups > (SIZE_MAX - 1) / 4) return NULL;
    size_t len = groups * 4;
    char *s = malloc(len + 1);
    if (!s) return NULL;
    const unsigned char *in = p;
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3 * QUANTA) {
        size_t chunk = n - i < 3 * QUANTA ? n - i : 3 * QUANTA;
        o += (size_t)EVP_EncodeBlock((unsigned char *)s + o, in + i,
                                     (int)chunk);
    }
    s[o] = '\0';
    if (out_len) *out_len = o;
    return s;
}

static int in_alphabet(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           (c >= '0' && c <= '9') || c == '+' || c == '/';
}

int net_base64_check(const char *s, size_t n, size_t *decoded_len)
{
    size_t pad = 0;
    while (n > 0 && pad < 2 && s[n - 1] == '=') {
        n--;
        pad++;
    }
    if (n % 4 == 1) return 0;                     /* 6 bits: not a byte */
    if (pad && (n + pad) % 4 != 0) return 0;      /* padding too short/long */
    for (size_t i = 0; i < n; i++)
        if (!in_alphabet((unsigned char)s[i])) return 0;
    if (decoded_len) *decoded_len = n / 4 * 3 + (n % 4 ? n % 4 - 1 : 0);
    return 1;
}

int net_base64_decode(const char *s, size_t n, uint8_t **out,
                      size_t *out_len)
{
    size_t len = 0;
    *out = NULL;
    *out_len = 0;
    if (!net_base64_check(s, n, &len)) return -1;
    while (n > 0 && s[n - 1] == '=') n--;
    /* Room for whole quanta: EVP writes 3 bytes per 4 characters. */
    uint8_t *buf = malloc(len + 3);
    if (!buf) return -2;
    size_t o = 0, whole = n - n % 4;
    for (size_t i = 0; i < whole; i += 4 * QUANTA) {
        size_t chunk = whole - i < 4 * QUANTA ? whole - i : 4 * QUANTA;
        int r = EVP_DecodeBlock(buf + o, (const unsigned char *)s + i,
                                (int)chunk);
        if (r < 0) goto bad;
        o += (size_t)r;
    }
    if (n % 4) {
        /* The short last quantum, padded here so EVP accepts it. */
        unsigned char last[4] = {'=', '=', '=', '='};
        memcpy(last, s + whole, n % 4);
        if (EVP_DecodeBlock(buf + o, last, 4) != 3) goto bad;
        o += n % 4 - 1;
    }
    if (o != len) goto bad;
    *out = buf;
    *out_len = len;
    return 0;
bad:
    free(buf);
    return -1;
}
