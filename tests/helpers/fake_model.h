/* A scripted fake model provider for agent unit tests: each call answers
 * the next step of a script ({"stop": label, "content": [...]}, or
 * {"error": code, "message": text}: the call fails with E_INVALID and
 * that code), streams it as typed events when asked, and keeps a copy of
 * every request's messages (and, in seen_calls, {"system": ...|null,
 * "tools": n}, plus "tool_choice", "tool_specs" (the tools array) and
 * "stream" for a call with a forced tool choice). Include in one test file; fake_init, then use &m.base. */
#ifndef STRANDS_TEST_FAKE_MODEL_H
#define STRANDS_TEST_FAKE_MODEL_H

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strands/strands.h"

/* Script steps as JSON text: a turn that answers `text`; a tool_use turn
 * whose content is `blocks` (comma-joined JSON, e.g. FAKE_CALL(...)); one
 * toolUse block calling tool `name` with the JSON text `input`.        */
#define FAKE_TEXT(text)                                                  \
    "{\"stop\":\"end_turn\",\"content\":[{\"text\":\"" text "\"}]}"
#define FAKE_TOOL_USE(blocks) "{\"stop\":\"tool_use\",\"content\":[" blocks "]}"
#define FAKE_CALL(id, name, input)                                       \
    "{\"toolUse\":{\"toolUseId\":\"" id "\",\"name\":\"" name "\","    \
    "\"input\":" input "}}"

typedef struct fake_model {
    strands_model base;
    const char **script;      /* JSON of each response: {"stop","content"} */
    size_t n, next;
    json_t *seen;             /* copies of each request's messages */
    json_t *seen_calls;       /* {"system","tools"} of each request */
    strands_status fail_with; /* non-OK: every call fails */
    pthread_mutex_t lock;
} fake_model;

/* The fake provider's own labels, mapped to the neutral enum. */
static strands_stop_reason fake_stop(const char *label)
{
    if (!strcmp(label, "tool_use")) return STRANDS_STOP_TOOL_USE;
    if (!strcmp(label, "max_tokens") || !strcmp(label, "length"))
        return STRANDS_STOP_MAX_TOKENS;
    if (!strcmp(label, "stop_sequence")) return STRANDS_STOP_STOP_SEQUENCE;
    return STRANDS_STOP_END_TURN;
}

static void stream_ev(const strands_model_request *req,
                      strands_model_stream_type type, int64_t index,
                      const char *data, const char *id, const char *name)
{
    strands_model_stream_event ev = {type, index, data,
                                     data ? strlen(data) : 0, id, name};
    req->on_stream(req->stream_user, &ev);
}

/* Streams a scripted content array as a provider would: text deltas,
 * tool blocks (start, input in two parts, stop), reasoning text. */
static void fake_stream(const strands_model_request *req,
                        const json_t *content)
{
    size_t i;
    json_t *block;
    json_array_foreach(content, i, block) {
        json_t *v;
        int64_t k = (int64_t)i;
        if ((v = json_object_get(block, "text"))) {
            stream_ev(req, STRANDS_MODEL_STREAM_TEXT, k, json_string_value(v),
                      NULL, NULL);
        } else if ((v = json_object_get(block, "toolUse"))) {
            const char *id =
                json_string_value(json_object_get(v, "toolUseId"));
            const char *name = json_string_value(json_object_get(v, "name"));
            char *in = json_dumps(json_object_get(v, "input"), JSON_COMPACT);
            size_t half = strlen(in) / 2;
            char first[256];
            snprintf(first, sizeof first, "%.*s", (int)half, in);
            stream_ev(req, STRANDS_MODEL_STREAM_BLOCK_START, k, NULL, id,
                      name);
            stream_ev(req, STRANDS_MODEL_STREAM_TOOL_INPUT, k, first, id,
                      name);
            stream_ev(req, STRANDS_MODEL_STREAM_TOOL_INPUT, k, in + half, id,
                      name);
            stream_ev(req, STRANDS_MODEL_STREAM_BLOCK_STOP, k, NULL, id,
                      name);
            free(in);
        } else if ((v = json_object_get(block, "reasoningContent"))) {
            json_t *rt = json_object_get(v, "reasoningText");
            stream_ev(req, STRANDS_MODEL_STREAM_REASONING_TEXT, k,
                      json_string_value(json_object_get(rt, "text")), NULL,
                      NULL);
            stream_ev(req, STRANDS_MODEL_STREAM_REASONING_SIGNATURE, k,
                      json_string_value(json_object_get(rt, "signature")),
                      NULL, NULL);
        }
    }
}

static strands_status fake_converse(strands_model *self,
                                    const strands_model_request *req,
                                    strands_model_response *out,
                                    strands_error *err)
{
    fake_model *m = (fake_model *)self;
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&m->lock);
    json_array_append_new(m->seen, json_deep_copy(req->messages));
    json_t *call = json_pack("{s:O?, s:I}", "system", req->system, "tools",
                             (json_int_t)json_array_size(req->tools));
    /* A forced call (structured output): its tool choice, every tool's
     * spec and the stream flag (only then: other calls allocate as
     * before, which allocation-failure sweeps count on). */
    if (req->tool_choice) {
        json_object_set_new(call, "tool_choice",
                            json_string(req->tool_choice));
        json_object_set_new(call, "tool_specs",
                            req->tools ? json_deep_copy(req->tools)
                                       : json_array());
        json_object_set_new(call, "stream", json_boolean(req->stream));
    }
    json_array_append_new(m->seen_calls, call);
    size_t i = m->next++;
    pthread_mutex_unlock(&m->lock);
    if (m->fail_with != STRANDS_OK)
        return strands_error_set(err, m->fail_with, "ValidationException",
                                 "scripted failure");
    if (i >= m->n)
        return strands_error_set(err, STRANDS_E_INTERNAL, NULL,
                                 "script exhausted");
    json_t *step = json_loads(m->script[i], 0, NULL);
    if (!step)   /* out of memory (allocation-failure sweeps) */
        return strands_error_set(err, STRANDS_E_NOMEM, NULL, "OOM");
    if (json_object_get(step, "error")) {
        const char *msg =
            json_string_value(json_object_get(step, "message"));
        strands_error_set(err, STRANDS_E_INVALID,
                          json_string_value(json_object_get(step, "error")),
                          "%s", msg ? msg : "scripted error");
        json_decref(step);
        return STRANDS_E_INVALID;
    }
    if (req->on_stream && req->stream) fake_stream(req, json_object_get(step, "content"));
    out->message = json_pack("{s:s, s:O}", "role", "assistant", "content",
                             json_object_get(step, "content"));
    const char *stop = json_string_value(json_object_get(step, "stop"));
    snprintf(out->stop_reason, sizeof out->stop_reason, "%s", stop);
    out->stop = fake_stop(stop);
    out->usage = (strands_usage){10, 5, 15, 0, 0};
    json_decref(step);
    return STRANDS_OK;
}

static void fake_destroy(strands_model *self)
{
    fake_model *m = (fake_model *)self;
    json_decref(m->seen);
    json_decref(m->seen_calls);
    pthread_mutex_destroy(&m->lock);
}

static const strands_model_vtab fake_vtab = {STRANDS_MODEL_VTAB_VERSION,
                                             "fake", fake_converse,
                                             fake_destroy};

static void fake_init(fake_model *m, const char **script, size_t n)
{
    memset(m, 0, sizeof *m);
    m->base.vtab = &fake_vtab;
    m->script = script;
    m->n = n;
    m->seen = json_array();
    m->seen_calls = json_array();
    pthread_mutex_init(&m->lock, NULL);
}

#endif
