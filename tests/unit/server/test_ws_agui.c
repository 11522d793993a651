/* Tests of the pure part of the AGUI-mode /ws app (src/server/ws_agui.c):
 * close reasons cut to the RFC 6455 cap at a UTF-8 character boundary. */
#include <string.h>

#include "server/ws.h"
#include "test.h"

static void test_short_reason_is_kept(void)
{
    char out[WS_CLOSE_REASON_MAX + 1];
    CHECK_INT((int)ws_close_reason_cut("threadId is required", out,
                                       sizeof out), 20);
    CHECK_STR(out, "threadId is required");
    CHECK_INT((int)ws_close_reason_cut("", out, sizeof out), 0);
    CHECK_STR(out, "");
}

static void test_long_reason_is_cut_to_the_cap(void)
{
    char in[400], out[200];
    memset(in, 'a', sizeof in - 1);
    in[sizeof in - 1] = '\0';
    CHECK_INT((int)ws_close_reason_cut(in, out, sizeof out),
              WS_CLOSE_REASON_MAX);
    CHECK_INT((int)strlen(out), WS_CLOSE_REASON_MAX);
    /* a smaller buffer is the tighter cap */
    CHECK_INT((int)ws_close_reason_cut(in, out, 10), 9);
    CHECK_INT((int)ws_close_reason_cut(in, out, 1), 0);
    CHECK_STR(out, "");
}

static void test_cut_never_splits_a_character(void)
{
    /* 122 ASCII bytes then "é" (2 bytes): byte 123 would be half of it */
    char in[200], out[WS_CLOSE_REASON_MAX + 1];
    memset(in, 'x', 122);
    strcpy(in + 122, "\xc3\xa9tail");
    CHECK_INT((int)ws_close_reason_cut(in, out, sizeof out), 122);
    CHECK(strchr(out, '\xc3') == NULL);
    /* a 4-byte character across the cap goes whole */
    memset(in, 'x', 121);
    strcpy(in + 121, "\xf0\x9f\x98\x80!");
    CHECK_INT((int)ws_close_reason_cut(in, out, sizeof out), 121);
    /* one that fits stays */
    memset(in, 'x', 119);
    strcpy(in + 119, "\xf0\x9f\x98\x80!");
    CHECK_INT((int)ws_close_reason_cut(in, out, sizeof out), 123);
    CHECK(memcmp(out + 119, "\xf0\x9f\x98\x80", 4) == 0);
}

int main(void)
{
    RUN(test_short_reason_is_kept);
    RUN(test_long_reason_is_cut_to_the_cap);
    RUN(test_cut_never_splits_a_character);
    return test_report();
}
