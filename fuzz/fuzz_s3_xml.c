/* libFuzzer target for the S3 session store's bounded XML extractor
 * (src/session/s3_xml.c): every input is read as a ListObjectsV2 page and
 * as an error document. A parsed page must hold at most S3_LIST_PAGE_MAX
 * NUL-terminated keys of at most S3_KEY_MAX bytes, a token when
 * truncated; a refused one must leave nothing allocated; the error fields
 * must be NUL-terminated within their buffers. Never crash, leak or loop. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "session/s3.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 1 << 20) return 0;
    const char *xml = (const char *)data;
    s3_list_page p;
    strands_error err;
    strands_status st = session_s3_xml_list_parse(xml, size, &p, &err);
    if (st == STRANDS_OK) {
        if (p.n_keys > S3_LIST_PAGE_MAX) abort();
        for (size_t i = 0; i < p.n_keys; i++) {
            if (!p.keys[i] || strlen(p.keys[i]) > S3_KEY_MAX) abort();
            if (p.etags[i] && strlen(p.etags[i]) > 128) abort();
        }
        if (p.truncated && (!p.next_token || !p.next_token[0])) abort();
        if (p.next_token && strlen(p.next_token) > S3_TOKEN_MAX) abort();
        session_s3_list_page_free(&p);
    } else {
        if (st != STRANDS_E_PARSE && st != STRANDS_E_NOMEM) abort();
        if (p.keys || p.next_token || p.n_keys) abort();
    }
    char code[32], msg[64];
    session_s3_xml_error(xml, size, code, sizeof code, msg, sizeof msg);
    if (strnlen(code, sizeof code) >= sizeof code ||
        strnlen(msg, sizeof msg) >= sizeof msg)
        abort();
    return 0;
}
