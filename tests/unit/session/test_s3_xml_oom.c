/* Allocation-failure sweep over the S3 store's XML extractor (a
 * ListObjectsV2 page with keys, ETags and a token): every failing
 * allocation yields E_NOMEM with nothing left allocated, never a crash,
 * a leak or a half-filled page.                                        */
#include <string.h>

#include "failalloc.h"
#include "test.h"

#include "session/s3.h"

static void test_list_page_sweep(void)
{
    const char *xml =
        "<ListBucketResult><IsTruncated>true</IsTruncated>"
        "<NextContinuationToken>tok&amp;en</NextContinuationToken>"
        "<Contents><Key>p/message_0.json</Key><ETag>&quot;a&quot;</ETag>"
        "<Size>3</Size></Contents>"
        "<Contents><Key>p/message_1.json</Key><ETag>&quot;b&quot;</ETag>"
        "<Size>4</Size></Contents></ListBucketResult>";
    long n, clean = 0;
    FAILALLOC_SWEEP(n, 100)
    {
        s3_list_page p;
        strands_error err;
        strands_status st =
            session_s3_xml_list_parse(xml, strlen(xml), &p, &err);
        if (st == STRANDS_OK) {
            CHECK_INT(p.n_keys, 2);
            CHECK_STR(p.keys[1], "p/message_1.json");
            CHECK_STR(p.etags[0], "\"a\"");
            CHECK_STR(p.next_token, "tok&en");
            clean++;
            session_s3_list_page_free(&p);
        } else {
            CHECK_INT(st, STRANDS_E_NOMEM);
            CHECK(p.keys == NULL && p.next_token == NULL && p.n_keys == 0);
        }
    }
    CHECK(n == 100 + 2);
    CHECK_INT(clean, 1);
}

int main(void)
{
    failalloc_init();
    RUN(test_list_page_sweep);
    return test_report();
}
