/* libFuzzer target for the STS answer reader (src/aws/sts.c): arbitrary
 * bytes go to sts_parse_response as a 200 answer of both actions and as an
 * error answer, and to sts_xml_extract with small buffers. Checks the
 * contract: success gives non-empty, NUL-terminated keys; failure is
 * E_PARSE (200) or E_UPSTREAM (errors) with empty secrets and a code.
 * Never crash, leak or read out of bounds.                              */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "aws/sts.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_terminated(const char *s, size_t n)
{
    if (!memchr(s, '\0', n)) abort();
}

static void success_case(const char *action, const char *xml, size_t size)
{
    strands_credentials c;
    strands_error err;
    strands_error_clear(&err);
    strands_status st = sts_parse_response(action, "arn:aws:iam::1:role/f",
                                           200, xml, size, &c, &err);
    check_terminated(err.message, sizeof err.message);
    if (st == STRANDS_OK) {
        check_terminated(c.access_key_id, sizeof c.access_key_id);
        check_terminated(c.secret_access_key, sizeof c.secret_access_key);
        check_terminated(c.session_token, sizeof c.session_token);
        if (!c.access_key_id[0] || !c.secret_access_key[0] ||
            !c.session_token[0])
            abort();
        return;
    }
    if (st != STRANDS_E_PARSE || err.status != st) abort();
    if (c.secret_access_key[0] || c.session_token[0]) abort();
}

static void error_case(const char *xml, size_t size)
{
    strands_credentials c;
    strands_error err;
    strands_error_clear(&err);
    strands_status st = sts_parse_response("AssumeRole", "arn", 403, xml,
                                           size, &c, &err);
    if (st != STRANDS_E_UPSTREAM || !err.code[0] || err.http_status != 403)
        abort();
    check_terminated(err.code, sizeof err.code);
    for (const char *p = err.message; *p; p++)
        if ((unsigned char)*p < 0x20) abort();  /* flattened */
}

static void extract_case(const char *xml, size_t size)
{
    char a[4], b[16];
    sts_xml_field f[2] = {{"r/a", a, sizeof a, 0, 0},
                          {"r/b/c", b, sizeof b, 0, 1}};
    strands_error err;
    strands_status st = sts_xml_extract(xml, size, f, 2, &err);
    if (st != STRANDS_OK && st != STRANDS_E_PARSE) abort();
    check_terminated(a, sizeof a);
    check_terminated(b, sizeof b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *xml = (const char *)data;
    success_case("AssumeRole", xml, size);
    success_case("AssumeRoleWithWebIdentity", xml, size);
    error_case(xml, size);
    extract_case(xml, size);
    return 0;
}
