/* Tests for src/models/openai_stream.c: a streamed answer with reasoning,
 * text and two tool calls fed whole, byte by byte and at every two-way
 * split (the message and the event log must be the same each time);
 * non-streamed completions; ids made unique (missing, repeated, reused
 * from the history); name arriving late; bad arguments; error chunks;
 * [DONE] missing; usage-only chunks; the caps.                          */
#include <string.h>
#include <jansson.h>

#include "core/buf.h"
#include "models/openai_stream.h"
#include "json_check.h"
#include "test.h"

/* Records the events as text lines: "S0 id name", "T0 text", "I1 frag",
 * "R0 text", "E0". */
static void log_event(void *user, const strands_model_stream_event *ev)
{
    dynbuf *b = user;
    static const char tag[] = "?TIRSXSE";
    char t = ev->type == STRANDS_MODEL_STREAM_BLOCK_START ? 'S'
             : ev->type == STRANDS_MODEL_STREAM_BLOCK_STOP ? 'E'
                                                           : tag[ev->type];
    if (dynbuf_printf(b, "%c%lld", t, (long long)ev->index) != STRANDS_OK)
        abort();
    if (ev->tool_use_id && t != 'I' &&
        dynbuf_printf(b, " %s %s", ev->tool_use_id, ev->tool_name) !=
            STRANDS_OK)
        abort();
    if (ev->len && (dynbuf_puts(b, " ") != STRANDS_OK ||
                    dynbuf_append(b, ev->data, ev->len) != STRANDS_OK))
        abort();
    if (dynbuf_puts(b, "\n") != STRANDS_OK) abort();
}

/* Merges consecutive same-kind fragments so split runs compare equal. */
static char *merged(const dynbuf *b)
{
    dynbuf out;
    dynbuf_init(&out, 1 << 20);
    char prev[64] = "";
    const char *p = dynbuf_str(b);
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t n = (size_t)(nl - p);
        const char *sp = memchr(p, ' ', n);
        size_t head = sp ? (size_t)(sp - p) : n;
        int frag = (p[0] == 'T' || p[0] == 'I' || p[0] == 'R') && sp;
        if (frag && strlen(prev) == head && !strncmp(prev, p, head)) {
            if (dynbuf_append(&out, sp + 1, n - head - 1) != STRANDS_OK)
                abort();
        } else {
            if ((out.len && dynbuf_puts(&out, "\n") != STRANDS_OK) ||
                dynbuf_append(&out, p, n) != STRANDS_OK)
                abort();
            snprintf(prev, sizeof prev, "%.*s", (int)head, p);
            if (!frag) prev[0] = '\0';
        }
        p = nl + 1;
    }
    return dynbuf_take(&out, NULL);
}

static const char STREAM[] =
    "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":"
    "[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},"
    "\"finish_reason\":null}],\"usage\":null}\n\n"
    "data: {\"choices\":[{\"index\":0,\"delta\":{\"reasoning_content\":"
    "\"think \"}}]}\n\n"
    "data: {\"choices\":[{\"index\":0,\"delta\":{\"reasoning_content\":"
    "\"more\"}}]}\n\n"
    ": keep-alive comment\n\n"
    "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hel\"}}]}\n\n"
    "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"lo \\u00e9\"}"
    "}]}\r\n\r\n"
    "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":"
    "0,\"id\":\"call_A\",\"type\":\"function\",\"function\":{\"name\":"
    "\"calc\",\"arguments\":\"\"}}]}}]}\n\n"
    "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":"
    "0,\"function\":{\"arguments\":\"{\\\"x\\\":\"}}]}}]}\n\n"
    "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":"
    "0,\"function\":{\"arguments\":\"1}\"}}]}}]}\n\n"
    "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":"
    "1,\"id\":\"call_A\",\"function\":{\"name\":\"echo\",\"arguments\":"
    "\"{}\"}}]}}]}\n\n"
    "data: {\"choices\":[{\"index\":1,\"delta\":{\"content\":\"other "
    "choice\"}}]}\n\n"
    "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":"
    "\"tool_calls\"}]}\n\n"
    "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":10,"
    "\"completion_tokens\":5,\"total_tokens\":15,\"prompt_tokens_details\":"
    "{\"cached_tokens\":4}}}\n\n"
    "data: [DONE]\n\n";

/* Runs STREAM split into pieces of `step` bytes (0: whole; -1: at `at`). */
static void run(const char *body, size_t len, long step, size_t at,
                strands_model_response *out, char **events,
                strands_status *st, strands_error *err)
{
    dynbuf log;
    dynbuf_init(&log, 1 << 20);
    oa_stream *s = oa_stream_new(log_event, &log, NULL);
    if (!s) abort();
    *st = STRANDS_OK;
    if (step == 0) {
        *st = oa_stream_feed(s, body, len, err);
    } else if (step < 0) {
        *st = oa_stream_feed(s, body, at, err);
        if (*st == STRANDS_OK) *st = oa_stream_feed(s, body + at, len - at,
                                                    err);
    } else {
        for (size_t i = 0; i < len && *st == STRANDS_OK; i += (size_t)step)
            *st = oa_stream_feed(s, body + i,
                                 len - i < (size_t)step ? len - i
                                                        : (size_t)step,
                                 err);
    }
    if (*st == STRANDS_OK) *st = oa_stream_finish(s, out, err);
    *events = merged(&log);
    dynbuf_cleanup(&log);
    oa_stream_free(s);
}

static void test_stream_every_split(void)
{
    size_t len = strlen(STREAM);
    strands_model_response whole;
    strands_error err;
    strands_status st;
    char *ev0 = NULL;
    run(STREAM, len, 0, 0, &whole, &ev0, &st, &err);
    CHECK_INT(st, STRANDS_OK);
    json_t *m0 = whole.message;
    const char *tool2 = json_string_value(json_object_get(
        json_object_get(json_array_get(json_object_get(m0, "content"), 3),
                        "toolUse"),
        "toolUseId"));
    CHECK(tool2 && !strncmp(tool2, "call_1_", 7) && strlen(tool2) == 15);
    char want[1024];
    snprintf(want, sizeof want,
             "{\"role\":\"assistant\",\"content\":["
             "{\"reasoningContent\":{\"reasoningText\":{\"text\":\"think "
             "more\"}}},{\"text\":\"Hello \\u00e9\"},"
             "{\"toolUse\":{\"toolUseId\":\"call_A\",\"name\":\"calc\","
             "\"input\":{\"x\":1}}},"
             "{\"toolUse\":{\"toolUseId\":\"%s\",\"name\":\"echo\","
             "\"input\":{}}}]}", tool2);
    json_t *w = J(want);
    CHECK(json_equal(m0, w));
    json_decref(w);
    CHECK_INT(whole.stop, STRANDS_STOP_TOOL_USE);
    CHECK_STR(whole.stop_reason, "tool_calls");
    CHECK_INT(whole.usage.input_tokens, 10);
    CHECK_INT(whole.usage.output_tokens, 5);
    CHECK_INT(whole.usage.total_tokens, 15);
    CHECK_INT(whole.usage.cache_read_input_tokens, 4);
    snprintf(want, sizeof want,
             "S0\nR0 think more\nE0\nS1\nT1 Hello \xc3\xa9\nE1\n"
             "S2 call_A calc\nI2 {\"x\":1}\nE2 call_A calc\n"
             "S3 %s echo\nI3 {}\nE3 %s echo",
             tool2, tool2);
    CHECK_STR(ev0, want);
    /* Every two-way split and byte by byte: the same message (up to the
     * generated id) and the same merged events. */
    for (size_t at = 0; at <= len; at++) {
        strands_model_response r;
        char *ev = NULL;
        run(STREAM, len, -1, at, &r, &ev, &st, &err);
        CHECK_INT(st, STRANDS_OK);
        if (st != STRANDS_OK) {
            free(ev);
            break;
        }
        json_t *c = json_object_get(r.message, "content");
        json_t *u = json_object_get(json_array_get(c, 3), "toolUse");
        char id[32] = "";
        const char *gen = json_string_value(json_object_get(u, "toolUseId"));
        snprintf(id, sizeof id, "%s", gen ? gen : "");
        CHECK(!strncmp(id, "call_1_", 7) && strlen(id) == strlen(tool2));
        json_object_set_new(u, "toolUseId", json_string(tool2));
        CHECK(json_equal(r.message, m0));
        /* events: replace the generated id for comparison */
        char *p;
        while (id[0] && (p = strstr(ev, id)) != NULL)
            memcpy(p, tool2, strlen(tool2));
        CHECK_STR(ev, ev0);
        free(ev);
        strands_model_response_cleanup(&r);
    }
    strands_model_response r;
    char *ev = NULL;
    run(STREAM, len, 1, 0, &r, &ev, &st, &err);
    CHECK_INT(st, STRANDS_OK);
    CHECK_INT(json_array_size(json_object_get(r.message, "content")), 4);
    free(ev);
    strands_model_response_cleanup(&r);
    free(ev0);
    strands_model_response_cleanup(&whole);
}

static strands_status feed_all(const char *body, strands_model_response *out,
                               strands_error *err, const json_t *history)
{
    oa_stream *s = oa_stream_new(NULL, NULL, history);
    strands_status st = oa_stream_feed(s, body, strlen(body), err);
    if (st == STRANDS_OK) st = oa_stream_finish(s, out, err);
    oa_stream_free(s);
    return st;
}

static void test_late_name_and_history_ids(void)
{
    /* The id and arguments come before the name; the id is in the
     * history already, so a fresh one is made. */
    json_t *hist = J("[{\"role\":\"assistant\",\"content\":[{\"toolUse\":"
                     "{\"toolUseId\":\"call_0\",\"name\":\"x\",\"input\":{}}}]}]");
    const char *body =
        "data: {\"choices\":[{\"delta\":{\"tool_calls\":[{\"index\":0,"
        "\"id\":\"call_0\",\"function\":{\"arguments\":\"{\\\"a\\\"\"}}]}}]}\n\n"
        "data: {\"choices\":[{\"delta\":{\"tool_calls\":[{\"index\":0,"
        "\"function\":{\"name\":\"late\",\"arguments\":\":2}\"}}]}}]}\n\n"
        "data: {\"choices\":[{\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n"
        "data: [DONE]\n\n";
    strands_model_response r;
    strands_error err;
    CHECK_INT(feed_all(body, &r, &err, hist), STRANDS_OK);
    json_t *u = json_object_get(json_array_get(json_object_get(r.message,
                                                               "content"), 0),
                                "toolUse");
    const char *id = json_string_value(json_object_get(u, "toolUseId"));
    CHECK(id && strcmp(id, "call_0") && !strncmp(id, "call_0_", 7));
    CHECK_STR(json_string_value(json_object_get(u, "name")), "late");
    CHECK_INT(json_integer_value(json_object_get(json_object_get(u, "input"),
                                                 "a")), 2);
    /* "stop" with tool calls is a tool turn. */
    CHECK_INT(r.stop, STRANDS_STOP_TOOL_USE);
    strands_model_response_cleanup(&r);
    json_decref(hist);
}

static void test_bad_arguments_and_missing_name(void)
{
    const char *body =
        "data: {\"choices\":[{\"delta\":{\"tool_calls\":[{\"index\":0,"
        "\"id\":\"a\",\"function\":{\"name\":\"t\",\"arguments\":"
        "\"{not json\"}}]}}]}\n\ndata: [DONE]\n\n";
    oa_stream *s = oa_stream_new(NULL, NULL, NULL);
    strands_model_response r;
    strands_error err;
    CHECK_INT(oa_stream_feed(s, body, strlen(body), &err), STRANDS_OK);
    CHECK_INT(oa_stream_finish(s, &r, &err), STRANDS_OK);
    const char *name = NULL;
    CHECK_INT(oa_stream_bad_arguments(s, &name), 1);
    CHECK_STR(name, "t");
    json_t *u = json_object_get(json_array_get(json_object_get(r.message,
                                                               "content"), 0),
                                "toolUse");
    CHECK_INT(json_object_size(json_object_get(u, "input")), 0);
    strands_model_response_cleanup(&r);
    oa_stream_free(s);
    body = "data: {\"choices\":[{\"delta\":{\"tool_calls\":[{\"index\":0,"
           "\"function\":{\"arguments\":\"{}\"}}]}}]}\n\ndata: [DONE]\n\n";
    CHECK_INT(feed_all(body, &r, &err, NULL), STRANDS_E_PARSE);
    CHECK(strstr(err.message, "no function name") != NULL);
}

static void test_errors_and_done(void)
{
    strands_model_response r;
    strands_error err;
    const char *body = "data: {\"choices\":[{\"delta\":{\"content\":\"x\"}}]}"
                       "\n\n";
    CHECK_INT(feed_all(body, &r, &err, NULL), STRANDS_E_UPSTREAM);
    CHECK_STR(err.code, "IncompleteStream");
    body = "data: {\"error\":{\"message\":\"overloaded\",\"type\":"
           "\"server_error\",\"code\":\"busy\"}}\n\n";
    CHECK_INT(feed_all(body, &r, &err, NULL), STRANDS_E_UPSTREAM);
    CHECK_STR(err.code, "busy");
    CHECK(strstr(err.message, "overloaded") != NULL);
    body = "event: error\ndata: {\"message\":\"maximum context length is "
           "10\"}\n\n";
    CHECK_INT(feed_all(body, &r, &err, NULL), STRANDS_E_INVALID);
    CHECK_STR(err.code, STRANDS_ERROR_CONTEXT_OVERFLOW);
    body = "data: {nope\n\n";
    CHECK_INT(feed_all(body, &r, &err, NULL), STRANDS_E_PARSE);
    body = "data: [1]\n\n";
    CHECK_INT(feed_all(body, &r, &err, NULL), STRANDS_E_PARSE);
    body = "data: {\"choices\":[{\"delta\":{\"content\":5}}]}\n\n";
    CHECK_INT(feed_all(body, &r, &err, NULL), STRANDS_E_PARSE);
    body = "data: {\"choices\":{}}\n\n";
    CHECK_INT(feed_all(body, &r, &err, NULL), STRANDS_E_PARSE);
    /* After [DONE] nothing counts; an empty answer is an empty message. */
    body = "data: [DONE]\n\ndata: {nope\n\n";
    CHECK_INT(feed_all(body, &r, &err, NULL), STRANDS_OK);
    CHECK_INT(json_array_size(json_object_get(r.message, "content")), 0);
    CHECK_INT(r.stop, STRANDS_STOP_END_TURN);
    strands_model_response_cleanup(&r);
}

static void test_completion(void)
{
    const char *doc =
        "{\"id\":\"x\",\"object\":\"chat.completion\",\"choices\":[{\"index\":"
        "0,\"message\":{\"role\":\"assistant\",\"content\":\"hi\","
        "\"tool_calls\":[{\"id\":\"d\",\"type\":\"function\",\"function\":{"
        "\"name\":\"a\",\"arguments\":\"{\\\"q\\\":1}\"}},{\"id\":\"d\","
        "\"type\":\"function\",\"function\":{\"name\":\"b\",\"arguments\":"
        "{\"r\":2}}}]},\"finish_reason\":\"length\"}],\"usage\":{"
        "\"prompt_tokens\":3,\"completion_tokens\":4}}";
    dynbuf log;
    dynbuf_init(&log, 1 << 16);
    oa_stream *s = oa_stream_new(log_event, &log, NULL);
    strands_model_response r;
    strands_error err;
    CHECK_INT(oa_stream_apply_completion(s, doc, strlen(doc), &err),
              STRANDS_OK);
    CHECK_INT(oa_stream_finish(s, &r, &err), STRANDS_OK);
    json_t *c = json_object_get(r.message, "content");
    CHECK_INT(json_array_size(c), 3);
    CHECK_STR(json_string_value(json_object_get(json_array_get(c, 0),
                                                "text")), "hi");
    const char *id2 = json_string_value(json_object_get(
        json_object_get(json_array_get(c, 2), "toolUse"), "toolUseId"));
    CHECK(id2 && strcmp(id2, "d") != 0);
    CHECK_INT(json_integer_value(json_object_get(json_object_get(
                  json_object_get(json_array_get(c, 2), "toolUse"), "input"),
                  "r")), 2);
    CHECK_INT(r.stop, STRANDS_STOP_MAX_TOKENS);
    CHECK_INT(r.usage.total_tokens, 7);
    CHECK(strstr(dynbuf_str(&log), "S0\nT0 hi\nE0\nS1 d a\nI1 {\"q\":1}") != NULL);
    CHECK(oa_stream_sent_anything(s));
    strands_model_response_cleanup(&r);
    oa_stream_free(s);
    dynbuf_cleanup(&log);
    s = oa_stream_new(NULL, NULL, NULL);
    const char *e = "{\"error\":{\"message\":\"no\",\"type\":\"t\"}}";
    CHECK_INT(oa_stream_apply_completion(s, e, strlen(e), &err),
              STRANDS_E_UPSTREAM);
    CHECK_STR(err.code, "t");
    oa_stream_free(s);
    s = oa_stream_new(NULL, NULL, NULL);
    CHECK_INT(oa_stream_apply_completion(s, "{}", 2, &err), STRANDS_E_PARSE);
    oa_stream_free(s);
}

static void test_caps(void)
{
    strands_error err;
    oa_stream *s = oa_stream_new(NULL, NULL, NULL);
    oa_stream_set_limits(s, 0, 2, 8);
    const char *three =
        "data: {\"choices\":[{\"delta\":{\"tool_calls\":["
        "{\"index\":0,\"id\":\"a\",\"function\":{\"name\":\"n\"}},"
        "{\"index\":1,\"id\":\"b\",\"function\":{\"name\":\"n\"}},"
        "{\"index\":2,\"id\":\"c\",\"function\":{\"name\":\"n\"}}]}}]}\n\n";
    CHECK_INT(oa_stream_feed(s, three, strlen(three), &err),
              STRANDS_E_TOO_LARGE);
    CHECK(strstr(err.message, "2 tool calls") != NULL);
    /* sticky */
    CHECK_INT(oa_stream_feed(s, "data: [DONE]\n\n", 14, &err),
              STRANDS_E_TOO_LARGE);
    oa_stream_free(s);
    s = oa_stream_new(NULL, NULL, NULL);
    oa_stream_set_limits(s, 0, 0, 8);
    const char *args =
        "data: {\"choices\":[{\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":"
        "\"a\",\"function\":{\"name\":\"n\",\"arguments\":\"0123456789\"}}]}"
        "}]}\n\n";
    CHECK_INT(oa_stream_feed(s, args, strlen(args), &err),
              STRANDS_E_TOO_LARGE);
    oa_stream_free(s);
    s = oa_stream_new(NULL, NULL, NULL);
    oa_stream_set_limits(s, 16, 0, 0);
    const char *text = "data: {\"choices\":[{\"delta\":{\"content\":"
                       "\"0123456789abcdefXYZ\"}}]}\n\n";
    CHECK_INT(oa_stream_feed(s, text, strlen(text), &err),
              STRANDS_E_TOO_LARGE);
    oa_stream_free(s);
    s = oa_stream_new(NULL, NULL, NULL);
    strands_model_response r;
    CHECK_INT(oa_stream_feed(s, "data: [DONE]\n\n", 14, &err), STRANDS_OK);
    CHECK_INT(oa_stream_finish(s, &r, &err), STRANDS_OK);
    strands_model_response_cleanup(&r);
    CHECK_INT(oa_stream_finish(s, &r, &err), STRANDS_E_INVALID);
    CHECK_INT(oa_stream_feed(s, "x", 1, &err), STRANDS_E_INVALID);
    oa_stream_free(s);
}

int main(void)
{
    RUN(test_stream_every_split);
    RUN(test_late_name_and_history_ids);
    RUN(test_bad_arguments_and_missing_name);
    RUN(test_errors_and_done);
    RUN(test_completion);
    RUN(test_caps);
    return test_report();
}
