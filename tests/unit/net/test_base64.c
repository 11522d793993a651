/* net/base64: the RFC 4648 section 10 vectors both ways, optional padding,
 * strict rejection (bad characters, whitespace, misplaced or excess '='),
 * exact decoded lengths, and a round trip across the EVP chunk size.    */
#include "test.h"
#include "net/base64.h"

static const char *const vectors[][2] = {
    {"", ""},         {"f", "Zg=="},        {"fo", "Zm8="},
    {"foo", "Zm9v"},  {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="},
    {"foobar", "Zm9vYmFy"},
};

static void test_rfc4648_vectors(void)
{
    for (size_t i = 0; i < sizeof vectors / sizeof vectors[0]; i++) {
        const char *plain = vectors[i][0], *enc = vectors[i][1];
        size_t n = 0;
        char *s = net_base64_encode(plain, strlen(plain), &n);
        CHECK_STR(s, enc);
        CHECK_INT(n, strlen(enc));
        free(s);
        uint8_t *out = NULL;
        size_t len = 99;
        CHECK_INT(net_base64_decode(enc, strlen(enc), &out, &len), 0);
        CHECK(out != NULL);
        CHECK_MEM(out, len, plain, strlen(plain));
        free(out);
    }
}

static void test_padding_optional(void)
{
    static const char *const unpadded[][2] = {
        {"Zg", "f"}, {"Zm8", "fo"}, {"Zm9vYg", "foob"}, {"Zm9vYmE", "fooba"}};
    for (size_t i = 0; i < 4; i++) {
        uint8_t *out = NULL;
        size_t len = 0;
        CHECK_INT(net_base64_decode(unpadded[i][0], strlen(unpadded[i][0]),
                                    &out, &len), 0);
        CHECK_MEM(out, len, unpadded[i][1], strlen(unpadded[i][1]));
        free(out);
    }
    uint8_t *out = NULL;
    size_t len = 0;
    CHECK_INT(net_base64_decode("AAEC/w==", 8, &out, &len), 0);
    CHECK_MEM(out, len, "\x00\x01\x02\xff", 4);
    free(out);
}

static void test_rejects(void)
{
    static const char *const bad[] = {
        "Z",         /* 6 bits */
        "Zm9vY",     /* 6 bits after whole quanta */
        "Zg=",       /* padding does not complete the quantum */
        "Zm8==",     /* one '=' too many */
        "Zg===",     /* three '=' */
        "Z===",
        "=",  "==",  "Zg==Zg==", /* '=' in the middle */
        "Zm9v\n",    /* whitespace (EVP would trim it silently) */
        " Zm9v", "Zm 9v", "Zm9v\r\nYmFy",
        "Zm9v-_",    /* base64url alphabet is not this one */
        "A*==", "Zm9\x80", NULL};
    for (const char *const *b = bad; *b; b++) {
        uint8_t *out = (uint8_t *)1;
        size_t len = 7;
        if (net_base64_decode(*b, strlen(*b), &out, &len) != -1)
            FAIL_AT("accepted \"%s\"", *b);
        CHECK(out == NULL);
        CHECK(!net_base64_check(*b, strlen(*b), NULL));
    }
    /* An embedded NUL is not in the alphabet either. */
    CHECK(!net_base64_check("Zm\0v", 4, NULL));
}

static void test_check_lengths(void)
{
    size_t n = 0;
    CHECK(net_base64_check("", 0, &n));
    CHECK_INT(n, 0);
    CHECK(net_base64_check("Zm9vYg==", 8, &n));
    CHECK_INT(n, 4);
    CHECK(net_base64_check("Zm9vYmE", 7, &n));
    CHECK_INT(n, 5);
    CHECK(net_base64_check("Zm9vYmFy", 8, &n));
    CHECK_INT(n, 6);
}

/* Larger than one EVP chunk (49152 bytes) and not a multiple of 3. */
static void test_round_trip_large(void)
{
    size_t n = 3 * 16384 * 2 + 7;
    uint8_t *data = malloc(n);
    for (size_t i = 0; i < n; i++) data[i] = (uint8_t)(i * 131 + (i >> 9));
    size_t elen = 0;
    char *enc = net_base64_encode(data, n, &elen);
    CHECK(enc != NULL);
    CHECK_INT(elen, (n + 2) / 3 * 4);
    CHECK_INT(strlen(enc), elen);
    uint8_t *dec = NULL;
    size_t dlen = 0;
    CHECK_INT(net_base64_decode(enc, elen, &dec, &dlen), 0);
    CHECK_MEM(dec, dlen, data, n);
    free(dec);
    /* Without its padding, too. */
    while (enc[elen - 1] == '=') elen--;
    CHECK_INT(net_base64_decode(enc, elen, &dec, &dlen), 0);
    CHECK_MEM(dec, dlen, data, n);
    free(dec);
    free(enc);
    free(data);
}

int main(void)
{
    RUN(test_rfc4648_vectors);
    RUN(test_padding_optional);
    RUN(test_rejects);
    RUN(test_check_lengths);
    RUN(test_round_trip_large);
    return test_report();
}
