/* Allocation-failure sweeps over AG-UI input parsing and event encoding:
 * every failing allocation gives a clean verdict (REQUEST_NOMEM, or
 * jansson's parse error for a failure inside its parser) or encoder
 * error (-1), nothing leaks (AddressSanitizer), and a clean run gives the
 * full result.                                                          */
#include "failalloc.h"
#include "test.h"

#include "server/agui.h"

#define MAX_N 3000

static const char body[] =
    "{\"threadId\":\"thread-1\",\"runId\":\"run-1\",\"messages\":["
    "{\"id\":\"1\",\"role\":\"user\",\"content\":\"delete it\"},"
    "{\"id\":\"2\",\"role\":\"assistant\",\"content\":\"Asking.\","
    "\"toolCalls\":[{\"id\":\"fe1\",\"type\":\"function\",\"function\":"
    "{\"name\":\"confirm\",\"arguments\":\"{}\"}}]},"
    "{\"id\":\"3\",\"role\":\"tool\",\"toolCallId\":\"fe1\",\"content\":"
    "[{\"type\":\"text\",\"text\":\"yes\"}]},"
    "{\"id\":\"4\",\"role\":\"user\",\"content\":[{\"type\":\"text\","
    "\"text\":\"and\"},{\"type\":\"image\",\"source\":{\"type\":\"data\","
    "\"value\":\"iVBORw==\",\"mimeType\":\"image/png\"}}]}],"
    "\"context\":[{\"description\":\"page\",\"value\":\"home\"}],"
    "\"tools\":[{\"name\":\"confirm\",\"description\":\"Ask\","
    "\"parameters\":{\"type\":\"object\"}},{\"name\":\"other\","
    "\"description\":\"\"}]}";

static void test_parse_sweep(void)
{
    long n, clean = 0, failed = 0;
    FAILALLOC_SWEEP(n, MAX_N) {
        agui_input in;
        char why[256];
        request_verdict v = agui_input_parse(body, sizeof body - 1, &in, why,
                                             sizeof why);
        int fired = failalloc_disarm();
        if (v == REQUEST_OK) {
            CHECK_INT(json_array_size(in.prompt), 4);
            CHECK_INT(json_array_size(in.client_tools), 2);
            agui_input_cleanup(&in);
            clean++;
        } else {
            CHECK(v == REQUEST_NOMEM || v == REQUEST_BAD_JSON);
            CHECK(in.prompt == NULL && in.client_tools == NULL);
            CHECK(why[0] != '\0');
            failed++;
        }
        atomic_store(&failalloc_fired, fired);
    }
    CHECK(n == MAX_N + 2);
    CHECK_INT(clean, 1);
    CHECK(failed > 20);
}

/* The events of one run (built before the sweep arms the injector: a
 * nested json_pack that fails midway leaks inside jansson itself). */
typedef struct fixtures {
    json_t *use, *res, *calls, *state;
} fixtures;

/* One run through the encoder; 0 when every call succeeded. */
static int encode_run(const fixtures *f, size_t *events)
{
    agui_encoder e;
    agui_encoder_init(&e, "t", "r");
    json_t *out = json_array();
    if (!out) return -1;
    int rc = agui_encode_start(&e, f->state, out);
    runner_event text = {.type = STRANDS_EVENT_TEXT_DELTA, .text = "hi",
                         .text_len = 2};
    runner_event ts = {.type = STRANDS_EVENT_TOOL_START, .data = f->use};
    runner_event te = {.type = STRANDS_EVENT_TOOL_END, .data = f->res};
    if (!rc) rc = agui_encode_event(&e, &text, out);
    if (!rc) rc = agui_encode_event(&e, &ts, out);
    if (!rc) rc = agui_encode_event(&e, &te, out);
    if (!rc) rc = agui_encode_event(&e, &text, out);
    runner_outcome o = {.status = STRANDS_OK};
    o.result.client_tool_calls = f->calls;
    o.result.usage.cache_write_input_tokens = 3;
    if (!rc) rc = agui_encode_finish(&e, &o, out);
    size_t len = 0;
    char *frames = rc ? NULL : agui_sse_frames(out, &len);
    if (!rc && !frames) rc = -1;
    *events = json_array_size(out);
    free(frames);
    json_decref(out);
    return rc;
}

static void test_encode_sweep(void)
{
    fixtures f = {
        json_pack("{s:s, s:s, s:{s:s}}", "toolUseId", "t1", "name",
                  "calculator", "input", "expression", "1+1"),
        json_pack("{s:s, s:[{s:s}, {s:{}}, {s:{}}]}", "toolUseId", "t1",
                  "content", "text", "2", "json", "image"),
        json_pack("[{s:s, s:s, s:{}}]", "toolUseId", "fe1", "name",
                  "confirm", "input"),
        json_pack("{s:i, s:[]}", "step", 2, "messages")};
    CHECK(f.use && f.res && f.calls && f.state);
    long n, clean = 0, failed = 0;
    FAILALLOC_SWEEP(n, MAX_N) {
        size_t events = 0;
        int rc = encode_run(&f, &events);
        int fired = failalloc_disarm();
        if (rc == 0) {
            CHECK_INT(events, 16);
            clean++;
        } else {
            failed++;
        }
        atomic_store(&failalloc_fired, fired);
    }
    CHECK(n == MAX_N + 2);
    CHECK_INT(clean, 1);
    CHECK(failed > 20);
    json_decref(f.use);
    json_decref(f.res);
    json_decref(f.calls);
    json_decref(f.state);
}

int main(void)
{
    failalloc_init();
    RUN(test_parse_sweep);
    RUN(test_encode_sweep);
    return test_report();
}
