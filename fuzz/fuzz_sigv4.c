/* libFuzzer target for the SigV4 signer: splits the input into flags, method,
 * path, query, "name:value" header lines and a body, signs it, and checks the
 * result is consistent. Must never crash, leak or read out of bounds.
 * Input: byte 0 flags, byte 1 time selector, then '\n'-separated
 * method, path, query, headers up to an empty line, body.               */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "aws/sigv4.h"

#define MAX_FUZZ_HEADERS 32

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Next '\n'-terminated field of [*p, end) as a malloc'd C string. */
static char *next_field(const uint8_t **p, const uint8_t *end)
{
    const uint8_t *nl = memchr(*p, '\n', (size_t)(end - *p));
    const uint8_t *stop = nl ? nl : end;
    size_t len = (size_t)(stop - *p);
    char *s = malloc(len + 1);
    if (!s) abort();
    memcpy(s, *p, len);
    s[len] = '\0';
    *p = nl ? nl + 1 : end;
    return s;
}

static int64_t pick_time(uint8_t sel)
{
    if (sel == 0xff) return -1;
    if (sel == 0xfe) return INT64_MAX;
    if (sel == 0xfd) return INT64_C(253402300799);
    return INT64_C(1440938160) + (int64_t)sel * 86400 * 97;
}

static void check_result(strands_status st, const sigv4_result *out)
{
    if (st != STRANDS_OK) {
        if (out->authorization || out->canonical_request ||
            out->string_to_sign || out->signature[0])
            abort();
        return;
    }
    if (!out->authorization || !out->canonical_request ||
        !out->string_to_sign || strlen(out->signature) != 64 ||
        strlen(out->amz_date) != 16 ||
        strncmp(out->authorization, "AWS4-HMAC-SHA256 Credential=", 28) ||
        !strstr(out->authorization, out->signature))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *enc = sigv4_uri_encode((const char *)data, size);
    if (!enc) abort();
    free(enc);
    if (size < 2) return 0;
    uint8_t flags = data[0];
    int64_t when = pick_time(data[1]);
    const uint8_t *p = data + 2, *end = data + size;

    char *method = next_field(&p, end);
    char *path = next_field(&p, end);
    char *query = next_field(&p, end);
    char *names[MAX_FUZZ_HEADERS], *lines[MAX_FUZZ_HEADERS];
    sigv4_header headers[MAX_FUZZ_HEADERS];
    size_t n = 0;
    while (p < end && n < MAX_FUZZ_HEADERS) {
        char *line = next_field(&p, end);
        if (!*line) {
            free(line);
            break;
        }
        char *colon = strchr(line, ':');
        lines[n] = line;
        names[n] = line;
        if (colon) *colon = '\0';
        headers[n].name = names[n];
        headers[n].value = colon ? colon + 1 : "";
        n++;
    }
    sigv4_request req = { method, path, query, headers, n, p,
                          (size_t)(end - p) };
    sigv4_params prm = {
        "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        (flags & 16) ? "session-token" : NULL, "us-east-1", "bedrock", when,
        flags & 1, (flags >> 1) & 1, (flags >> 2) & 1, (flags >> 3) & 1,
    };
    sigv4_result out;
    strands_error err;
    strands_status st = sigv4_sign(&req, &prm, &out, &err);
    check_result(st, &out);
    sigv4_result_cleanup(&out);

    for (size_t i = 0; i < n; i++) free(lines[i]);
    free(method);
    free(path);
    free(query);
    return 0;
}
