/* libFuzzer target for AG-UI input and output without HTTP
 * (src/server/agui_input.c, agui_encoder.c): the input is a RunAgentInput
 * body (an exact-size copy, so AddressSanitizer catches any read past
 * it). Checks the parser's contracts: a verdict other than OK comes with
 * a non-empty, terminated reason and nothing to free; OK gives a thread id
 * that is a valid session id, a run id of printable ASCII, a non-empty
 * prompt of one-key content blocks and client tool specs with a name, a
 * description and inputSchema.json. Then the parsed input drives the
 * encoder (text blocks as deltas, toolResults as tool results, client
 * tools as pending calls) and every event must frame; never crash, leak
 * or read out of bounds.                                                */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "server/agui.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_ids(const agui_input *in)
{
    size_t n = strlen(in->thread_id);
    if (n < 1 || n > SERVER_SESSION_ID_MAX) abort();
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)in->thread_id[i] < 0x20 ||
            in->thread_id[i] == 0x7f)
            abort();
    n = strlen(in->run_id);
    if (n < 1 || n > AGUI_RUN_ID_MAX) abort();
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)in->run_id[i] < 0x20 ||
            (unsigned char)in->run_id[i] > 0x7e)
            abort();
}

static void check_shapes(const agui_input *in)
{
    if (!json_is_array(in->prompt) || !json_array_size(in->prompt)) abort();
    size_t i;
    json_t *b;
    json_array_foreach(in->prompt, i, b) {
        if (!json_is_object(b) || json_object_size(b) != 1) abort();
    }
    if (in->client_tools && (!json_is_array(in->client_tools) ||
                             !json_array_size(in->client_tools) ||
                             json_array_size(in->client_tools) >
                                 AGUI_MAX_TOOLS))
        abort();
    json_array_foreach(in->client_tools, i, b) {
        if (!json_is_string(json_object_get(b, "name")) ||
            !json_string_length(json_object_get(b, "description")) ||
            !json_is_object(json_object_get(
                json_object_get(b, "inputSchema"), "json")))
            abort();
    }
}

/* Feeds the encoder events made from the input; every batch must frame. */
static void drive_encoder(const agui_input *in)
{
    agui_encoder e;
    agui_encoder_init(&e, in->thread_id, in->run_id);
    json_t *out = json_array();
    if (!out) return;
    int rc = agui_encode_start(&e, in->state, out);
    size_t i;
    json_t *b;
    json_array_foreach(in->prompt, i, b) {
        runner_event ev = {0};
        json_t *t = json_object_get(b, "text");
        if (json_is_string(t)) {
            ev.type = STRANDS_EVENT_TEXT_DELTA;
            ev.text = (char *)json_string_value(t);
            ev.text_len = json_string_length(t);
        } else if (json_object_get(b, "toolResult")) {
            ev.type = STRANDS_EVENT_TOOL_END;
            ev.data = json_object_get(b, "toolResult");
        } else {
            continue;
        }
        rc |= agui_encode_event(&e, &ev, out);
    }
    json_t *calls = json_array();
    json_array_foreach(in->client_tools, i, b) {
        json_array_append_new(
            calls, json_pack("{s:s, s:O, s:O}", "toolUseId", in->run_id,
                             "name", json_object_get(b, "name"), "input",
                             json_object_get(json_object_get(b,
                                                             "inputSchema"),
                                             "json")));
    }
    runner_outcome o = {.status = STRANDS_OK};
    o.result.client_tool_calls = calls;
    o.result.text = (char *)in->run_id;
    rc |= agui_encode_finish(&e, &o, out);
    size_t len = 0;
    char *frames = agui_sse_frames(out, &len);
    if (rc == 0 && (!frames || len != strlen(frames))) abort();
    /* The last event ends the run. */
    if (rc == 0 &&
        strcmp(json_string_value(json_object_get(
                   json_array_get(out, json_array_size(out) - 1), "type")),
               "RUN_FINISHED"))
        abort();
    free(frames);
    json_decref(calls);
    json_decref(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *exact = malloc(size ? size : 1);
    if (!exact) return 0;
    if (size) memcpy(exact, data, size);
    agui_input in;
    char why[256];
    memset(why, 0xAA, sizeof why);
    request_verdict v = agui_input_parse(exact, size, &in, why, sizeof why);
    if (v != REQUEST_OK) {
        if (!memchr(why, '\0', sizeof why) || !why[0]) abort();
        if (in.prompt || in.client_tools) abort();
    } else {
        check_ids(&in);
        check_shapes(&in);
        drive_encoder(&in);
        agui_input_cleanup(&in);
    }
    /* A tiny reason buffer must be cut, never overrun. */
    char small[3];
    if (agui_input_parse(exact, size, &in, small, sizeof small) ==
        REQUEST_OK)
        agui_input_cleanup(&in);
    else if (!memchr(small, '\0', sizeof small))
        abort();
    free(exact);
    return 0;
}
