/* Base64 (RFC 4648 section 4, the standard alphabet) on top of OpenSSL's
 * EVP_EncodeBlock / EVP_DecodeBlock. Lives in net/ with the rest of the
 * wire-format plumbing that links OpenSSL and libcurl (core/ stays free of
 * third-party libraries); models/ and server/ use it for JSON byte fields.
 *
 * Decoding is strict, as RFC 4648 section 3.3 asks: only the 64 alphabet
 * characters, then at most two '=' at the very end. Whitespace is not
 * skipped (EVP_DecodeBlock would silently trim it at the ends only).
 * Padding is optional ("AAE" and "AAE=" both decode to 00 01), but when
 * present it must complete the last quantum. The decoded length is exact
 * (EVP_DecodeBlock counts padding as zero bytes; that is undone here).   */
#ifndef STRANDS_NET_BASE64_H
#define STRANDS_NET_BASE64_H

#include <stddef.h>
#include <stdint.h>

/** Encodes n bytes of p as padded base64. Returns a NUL-terminated heap
 * string (the caller frees it with free()) and its length in *out_len
 * (may be NULL); NULL on OOM or when the result would overflow size_t.  */
char *net_base64_encode(const void *p, size_t n, size_t *out_len);

/** Checks s[0..n) under the strict rules above without decoding. Returns
 * 1 and the exact decoded length in *decoded_len (may be NULL) when valid,
 * else 0.                                                               */
int net_base64_check(const char *s, size_t n, size_t *decoded_len);

/** Decodes s[0..n). Returns 0 with a heap buffer in *out (the caller
 * frees it with free(); never NULL on success, even for empty input) and
 * its length in *out_len; -1 when s is not valid base64, -2 on OOM
 * (*out is NULL in both cases).                                         */
int net_base64_decode(const char *s, size_t n, uint8_t **out,
                      size_t *out_len);

#endif
