/* Tests of the pure parts of WebSocket /ws: the client-message reader
 * (ws_message_parse, src/server/ws_message.c), the shared event objects
 * it is answered with (sse_event.c) and the connection count (the hub,
 * src/server/ws.c).                                                     */
#include <string.h>

#include <jansson.h>

#include "server/runner.h"
#include "server/ws.h"
#include "test.h"

static ws_msg_kind parse(const char *text, const char *conn_session,
                         request_parsed *p, char *why, size_t whysz)
{
    return ws_message_parse(text, strlen(text), conn_session, p, why, whysz);
}

static void test_prompt_string_uses_connection_session(void)
{
    request_parsed p;
    char why[256];
    CHECK_INT(parse("{\"prompt\":\"hi\"}", "conn-sid", &p, why, sizeof why),
              WS_MSG_PROMPT);
    CHECK_STR(p.session_id, "conn-sid");
    CHECK(json_is_array(p.prompt) && json_array_size(p.prompt) == 1);
    CHECK_STR(json_string_value(json_object_get(json_array_get(p.prompt, 0),
                                                "text")),
              "hi");
    request_parsed_cleanup(&p);
}

static void test_body_session_overrides(void)
{
    request_parsed p;
    char why[256];
    CHECK_INT(parse("{\"prompt\":[{\"text\":\"x\"}],\"session_id\":\"body\"}",
                    "conn", &p, why, sizeof why),
              WS_MSG_PROMPT);
    CHECK_STR(p.session_id, "body");
    request_parsed_cleanup(&p);
    /* No session anywhere: a new UUID, as /invocations does. */
    CHECK_INT(parse("{\"prompt\":\"x\"}", NULL, &p, why, sizeof why),
              WS_MSG_PROMPT);
    CHECK_INT((int)strlen(p.session_id), 36);
    request_parsed_cleanup(&p);
}

static void test_cancel(void)
{
    request_parsed p;
    char why[256];
    CHECK_INT(parse("{\"action\":\"cancel\"}", "s", &p, why, sizeof why),
              WS_MSG_CANCEL);
    CHECK(p.prompt == NULL);
    /* An action wins over a prompt in the same message. */
    CHECK_INT(parse("{\"action\":\"cancel\",\"prompt\":\"p\"}", "s", &p, why,
                    sizeof why),
              WS_MSG_CANCEL);
}

static void test_bad_actions(void)
{
    request_parsed p;
    char why[256];
    CHECK_INT(parse("{\"action\":\"explode\"}", "s", &p, why, sizeof why),
              WS_MSG_INVALID);
    CHECK(strstr(why, "explode") != NULL);
    CHECK_INT(parse("{\"action\":7}", "s", &p, why, sizeof why),
              WS_MSG_INVALID);
    CHECK(strstr(why, "string") != NULL);
    /* An embedded NUL: jansson refuses the document (not JSON). */
    CHECK_INT(parse("{\"action\":\"cancel\\u0000x\"}", "s", &p, why,
                    sizeof why),
              WS_MSG_NOT_JSON);
}

static void test_not_json_and_invalid(void)
{
    request_parsed p;
    char why[256];
    CHECK_INT(parse("hello", "s", &p, why, sizeof why), WS_MSG_NOT_JSON);
    CHECK(strstr(why, "not JSON") != NULL);
    CHECK_INT(parse("", "s", &p, why, sizeof why), WS_MSG_NOT_JSON);
    CHECK_INT(parse("{\"prompt\":\"   \"}", "s", &p, why, sizeof why),
              WS_MSG_INVALID);
    CHECK(why[0] != '\0');
    CHECK_INT(parse("[1,2]", "s", &p, why, sizeof why), WS_MSG_INVALID);
    CHECK(strstr(why, "prompt") != NULL);
    CHECK_INT(parse("{\"prompt\":\"x\",\"session_id\":5}", "s", &p, why,
                    sizeof why),
              WS_MSG_INVALID);
    CHECK(p.prompt == NULL);
    /* A tiny reason buffer is cut, never overrun. */
    char tiny[4];
    CHECK_INT(parse("{\"action\":\"explode\"}", "s", &p, tiny, sizeof tiny),
              WS_MSG_INVALID);
    CHECK_INT((int)strlen(tiny), 3);
}

/* The WebSocket sends the very objects the SSE frames carry. */
static void test_event_objects_match_sse_frames(void)
{
    runner_event ev = {.type = STRANDS_EVENT_TEXT_DELTA, .text = "hé",
                       .text_len = 3};
    json_t *doc = sse_event_json(&ev);
    size_t len = 0;
    char *text = server_json_text(doc, &len);
    CHECK_STR(text, "{\"type\":\"text\",\"text\":\"h\xc3\xa9\"}");
    size_t flen = 0;
    char *frame = sse_format_event(&ev, &flen);
    CHECK(frame && flen == len + 8 && !strncmp(frame, "data: ", 6) &&
          !memcmp(frame + 6, text, len));
    free(frame);
    free(text);
    json_decref(doc);

    json_t *err = sse_error_json("no", "SessionBusy");
    CHECK_STR(json_string_value(json_object_get(err, "error_type")),
              "SessionBusy");
    CHECK_STR(json_string_value(json_object_get(err, "type")), "error");
    json_decref(err);

    runner_outcome o = {.status = STRANDS_E_CANCELLED};
    strands_error_set(&o.error, STRANDS_E_CANCELLED, NULL, "stopped");
    json_t *fin = sse_final_json(&o, "inv", "sid");
    CHECK_STR(json_string_value(json_object_get(fin, "error_type")),
              "Cancelled");
    json_decref(fin);
    o.events_lost = 1;
    CHECK(sse_final_json(&o, "inv", "sid") == NULL);
    json_t *oom = json_loads(SSE_OOM_JSON, 0, NULL);
    CHECK(oom && !strcmp(json_string_value(json_object_get(oom, "type")),
                         "error"));
    json_decref(oom);
}

static void test_hub_counts_and_caps(void)
{
    struct ws_hub *h = ws_hub_new(2);
    CHECK(h != NULL);
    ws_conn *a = (ws_conn *)(uintptr_t)0x10, *b = (ws_conn *)(uintptr_t)0x20,
            *c = (ws_conn *)(uintptr_t)0x30;
    CHECK_INT(ws_hub_enter(h, a), 0);
    CHECK(!ws_hub_full(h));
    CHECK_INT(ws_hub_enter(h, b), 0);
    CHECK(ws_hub_full(h));
    CHECK_INT(ws_hub_enter(h, c), -1);
    CHECK_INT(ws_hub_count(h), 2);
    ws_hub_leave(h, a);
    ws_hub_leave(h, a); /* twice: a no-op */
    CHECK_INT(ws_hub_count(h), 1);
    CHECK_INT(ws_hub_enter(h, c), 0);
    ws_hub_leave(h, b);
    ws_hub_leave(h, c);
    CHECK_INT(ws_hub_count(h), 0);
    CHECK(!ws_hub_draining(h));
    ws_hub_drain(h); /* nothing in it to wake */
    CHECK(ws_hub_draining(h));
    CHECK_INT(ws_hub_enter(h, a), -1); /* draining: nobody enters */
    ws_hub_free(h);
    CHECK(ws_hub_new(0) == NULL);
    ws_hub_free(NULL);
}

int main(void)
{
    RUN(test_prompt_string_uses_connection_session);
    RUN(test_body_session_overrides);
    RUN(test_cancel);
    RUN(test_bad_actions);
    RUN(test_not_json_and_invalid);
    RUN(test_event_objects_match_sse_frames);
    RUN(test_hub_counts_and_caps);
    return test_report();
}
