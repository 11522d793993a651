/* Allocation-failure sweep over the /ws client-message reader
 * (ws_message_parse): every failing allocation gives a clean verdict
 * (out of memory; or, where jansson reports an allocation failure inside
 * its parser as a syntax error, "not JSON" with a well-formed reason) or
 * the exact result of a run without failures; never a leak, a prompt
 * left behind on failure, or an unterminated reason.                     */
#include <stdlib.h>
#include <string.h>

#include "failalloc.h"
#include "server/ws.h"
#include "test.h"

#define SWEEP_MAX 300

static const char *const cases[] = {
    "{\"prompt\":\"What is 2+2?\",\"session_id\":\"s-1\"}",
    "{\"prompt\":[{\"text\":\"a\"},{\"text\":\"b\"}]}",
    "{\"action\":\"cancel\"}",
    "{\"action\":\"explode\"}",
    "{\"prompt\":\"  \"}",
    "not json",
};

static void test_sweep(void)
{
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        const char *text = cases[c];
        request_parsed want;
        char want_why[256];
        ws_msg_kind want_k = ws_message_parse(text, strlen(text), "conn",
                                              &want, want_why,
                                              sizeof want_why);
        long n;
        FAILALLOC_SWEEP(n, SWEEP_MAX) {
            request_parsed got;
            char why[256];
            memset(why, 0xAA, sizeof why);
            ws_msg_kind k = ws_message_parse(text, strlen(text), "conn", &got,
                                             why, sizeof why);
            if (k != WS_MSG_PROMPT) {
                CHECK(got.prompt == NULL);
                CHECK(memchr(why, '\0', sizeof why) != NULL);
            }
            if (k == WS_MSG_NOMEM) {
                CHECK_STR(why, "out of memory");
                continue;
            }
            if (k == WS_MSG_NOT_JSON && want_k != WS_MSG_NOT_JSON) {
                CHECK(why[0] != '\0');
                continue;
            }
            CHECK_INT(k, want_k);
            if (k == WS_MSG_PROMPT) {
                CHECK_STR(got.session_id, want.session_id);
                CHECK(json_equal(got.prompt, want.prompt));
                request_parsed_cleanup(&got);
            } else if (k != WS_MSG_CANCEL) {
                CHECK_STR(why, want_why);
            }
        }
        CHECK(n == SWEEP_MAX + 2);
        if (want_k == WS_MSG_PROMPT) request_parsed_cleanup(&want);
    }
}

int main(void)
{
    failalloc_init();
    RUN(test_sweep);
    return test_report();
}
