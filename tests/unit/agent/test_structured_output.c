/* Structured output (strands_invocation.output_schema) with the scripted
 * fake model: the forced call (tool_choice, the schema tool next to the
 * registry's tools), valid at once, valid after one correction (the error
 * toolResult naming the violation), invalid twice (StructuredOutputInvalid
 * naming the violation), an answer without the call, usage and iterations
 * over every call, the stored history and the next turn, the schema
 * check, the stop reasons that skip the step, a tool name collision,
 * streaming, and a forced call that overflows the context window.       */
#include <string.h>
#include <time.h>

#include "fake_model.h"
#include "json_check.h"
#include "test.h"

#include "agent/conversation.h"
#include "strands/strands.h"

#define KEY(id) (&(strands_session_key){.session_id = (id)})

static const char SCHEMA[] =
    "{\"type\":\"object\",\"properties\":{\"name\":{\"type\":\"string\"},"
    "\"age\":{\"type\":\"integer\",\"minimum\":0}},"
    "\"required\":[\"name\",\"age\"],\"additionalProperties\":false}";

#define ANSWER FAKE_TEXT("Ada, 36.")
/* A model step (stop label `stop`) that calls tool `name` with `input`. */
#define USE_STEP(stop, id, name, input)                                   \
    "{\"stop\":\"" stop "\",\"content\":[" FAKE_CALL(id, name, input) "]}"
#define FORCED(id, input) USE_STEP("tool_use", id, "structured_output", input)
#define VALID FORCED("so1", "{\"name\":\"Ada\",\"age\":36}")
#define BAD_AGE FORCED("so1", "{\"name\":\"Ada\",\"age\":\"old\"}")

static strands_status echo_run(void *user, const json_t *input,
                               const strands_tool_context *ctx,
                               json_t **content_out, strands_error *err)
{
    (void)user; (void)input; (void)ctx; (void)err;
    *content_out = json_pack("[{s:s}]", "text", "echoed");
    return STRANDS_OK;
}

typedef struct env {
    fake_model model;
    strands_tool_registry *tools;
    strands_session_store *store;
    strands_agent *agent;
    json_t *schema;
    json_t *events;   /* types of the events seen (streaming test) */
} env;

static void env_init(env *e, const char **script, size_t n, int max_iter,
                     const char *extra_tool)
{
    memset(e, 0, sizeof *e);
    fake_init(&e->model, script, n);
    e->tools = strands_tool_registry_new();
    strands_tool_def echo = {"echo", "echoes", NULL, echo_run, NULL, NULL};
    strands_tool_registry_add(e->tools, &echo, NULL);
    if (extra_tool) {
        strands_tool_def t = {extra_tool, "collides", NULL, echo_run, NULL,
                              NULL};
        CHECK_INT(strands_tool_registry_add(e->tools, &t, NULL), STRANDS_OK);
    }
    e->store = strands_memory_store_new(16, 0);
    strands_agent_config cfg = {.model = &e->model.base,
                                .tools = e->tools,
                                .sessions = e->store,
                                .system_prompt = "be brief",
                                .max_tokens = 100,
                                .max_iterations = max_iter};
    e->agent = strands_agent_new(&cfg, NULL);
    e->schema = J(SCHEMA);
    e->events = json_array();
}

static void env_cleanup(env *e)
{
    strands_agent_free(e->agent);
    strands_session_store_free(e->store);
    strands_tool_registry_free(e->tools);
    fake_destroy(&e->model.base);
    json_decref(e->schema);
    json_decref(e->events);
}

static void on_event(void *user, const strands_event *ev)
{
    env *e = user;
    json_array_append_new(e->events, json_integer(ev->type));
}

static strands_status invoke_with(env *e, const char *session,
                                  const json_t *schema, int stream,
                                  strands_agent_result *out,
                                  strands_error *err)
{
    json_t *prompt = json_pack("[{s:s}]", "text", "who?");
    strands_event_sink sink = {on_event, e};
    strands_invocation inv = {.session_id = session,
                              .invocation_id = "inv-1",
                              .prompt = prompt,
                              .sinks = &sink,
                              .n_sinks = 1,
                              .stream = stream,
                              .output_schema = schema};
    strands_status st = strands_agent_invoke(e->agent, &inv, out, err);
    json_decref(prompt);
    return st;
}

static strands_status invoke(env *e, const char *session,
                             strands_agent_result *out, strands_error *err)
{
    return invoke_with(e, session, e->schema, 0, out, err);
}

static json_t *stored(env *e, const char *session)
{
    strands_session_record rec;
    if (e->store->vtab->load(e->store, KEY(session), &rec, NULL) !=
        STRANDS_OK)
        return NULL;
    json_decref(rec.agent);
    return rec.messages;
}

/* The last message the model saw in call i. */
static json_t *last_seen(env *e, size_t call)
{
    json_t *msgs = json_array_get(e->model.seen, call);
    return json_array_get(msgs, json_array_size(msgs) - 1);
}

static const char *text_of(const json_t *msg, size_t block)
{
    return json_string_value(json_object_get(
        json_array_get(json_object_get(msg, "content"), block), "text"));
}

/* Checks that the log of `session` holds n messages. */
#define CHECK_STORED(e, session, n)                                      \
    do {                                                                 \
        json_t *m_ = stored(e, session);                                 \
        CHECK_INT(json_array_size(m_), n);                               \
        json_decref(m_);                                                 \
    } while (0)

/* Checks that the messages of the model's call i are a valid history. */
#define CHECK_SEEN_VALID(e, call)                                        \
    CHECK(conversation_validate(json_array_get((e)->model.seen, call),   \
                                NULL) == STRANDS_OK)

/* ---- tests ---------------------------------------------------------- */

static void test_valid_first_try(void)
{
    const char *script[] = {ANSWER, VALID};
    env e;
    env_init(&e, script, 2, 10, NULL);
    strands_agent_result r;
    strands_error err;
    CHECK_INT(invoke(&e, "s1", &r, &err), STRANDS_OK);
    json_t *want = J("{\"name\":\"Ada\",\"age\":36}");
    CHECK(json_equal(r.structured_output, want));
    json_decref(want);
    CHECK_STR(r.text, "Ada, 36.");     /* the answer, not the forced call */
    CHECK_INT(r.stop_reason, STRANDS_STOP_END_TURN);
    CHECK_INT(r.iterations, 2);
    CHECK_INT(r.usage.total_tokens, 30);
    CHECK_INT(r.usage.input_tokens, 20);
    /* The first call is the ordinary one; the second is forced. */
    json_t *c0 = json_array_get(e.model.seen_calls, 0);
    json_t *c1 = json_array_get(e.model.seen_calls, 1);
    CHECK(json_object_get(c0, "tool_choice") == NULL);
    CHECK_STR(json_string_value(json_object_get(c1, "tool_choice")),
              "structured_output");
    json_t *specs = json_object_get(c1, "tool_specs");
    CHECK_INT(json_array_size(specs), 2);   /* echo + the schema tool */
    CHECK_STR(json_string_value(json_object_get(
                  json_object_get(json_array_get(specs, 0), "toolSpec"),
                  "name")),
              "echo");
    json_t *so = json_object_get(json_array_get(specs, 1), "toolSpec");
    CHECK_STR(json_string_value(json_object_get(so, "name")),
              "structured_output");
    CHECK(json_equal(json_object_get(json_object_get(so, "inputSchema"),
                                     "json"),
                     e.schema));
    CHECK(json_string_length(json_object_get(so, "description")) > 20);
    /* The forced call sees the history, then the instruction. */
    json_t *seen1 = json_array_get(e.model.seen, 1);
    CHECK_INT(json_array_size(seen1), 3);
    json_t *ask = last_seen(&e, 1);
    CHECK_STR(json_string_value(json_object_get(ask, "role")), "user");
    CHECK(strstr(text_of(ask, 0), "structured_output") != NULL);
    CHECK(conversation_validate(seen1, NULL) == STRANDS_OK);
    /* Nothing of the forced exchange is stored. */
    json_t *msgs = stored(&e, "s1");
    CHECK_INT(json_array_size(msgs), 2);
    CHECK_STR(text_of(json_array_get(msgs, 1), 0), "Ada, 36.");
    json_decref(msgs);
    strands_agent_result_cleanup(&r);
    CHECK(r.structured_output == NULL);
    env_cleanup(&e);
}

static void test_tool_round_trip_then_structured(void)
{
    const char *script[] = {
        USE_STEP("tool_use", "t1", "echo", "{}"),
        ANSWER, VALID};
    env e;
    env_init(&e, script, 3, 10, NULL);
    strands_agent_result r;
    strands_error err;
    CHECK_INT(invoke(&e, "s1", &r, &err), STRANDS_OK);
    CHECK_INT(r.iterations, 3);
    CHECK_INT(r.usage.total_tokens, 45);
    CHECK_STR(json_string_value(json_object_get(r.structured_output, "name")),
              "Ada");
    /* The forced call carries the whole turn, tool round trip included. */
    json_t *seen2 = json_array_get(e.model.seen, 2);
    CHECK_INT(json_array_size(seen2), 5);
    CHECK(conversation_validate(seen2, NULL) == STRANDS_OK);
    CHECK_STORED(&e, "s1", 4);
    strands_agent_result_cleanup(&r);
    env_cleanup(&e);
}

static void test_valid_after_one_correction(void)
{
    const char *script[] = {ANSWER, BAD_AGE, VALID};
    env e;
    env_init(&e, script, 3, 10, NULL);
    strands_agent_result r;
    strands_error err;
    CHECK_INT(invoke(&e, "s1", &r, &err), STRANDS_OK);
    CHECK_INT(json_integer_value(json_object_get(r.structured_output, "age")),
              36);
    CHECK_INT(r.iterations, 3);
    CHECK_INT(r.usage.total_tokens, 45);
    CHECK_STR(json_string_value(json_object_get(
                  json_array_get(e.model.seen_calls, 2), "tool_choice")),
              "structured_output");
    /* The correction: the invalid call, then its error result. */
    json_t *seen2 = json_array_get(e.model.seen, 2);
    CHECK_INT(json_array_size(seen2), 5);
    CHECK(conversation_validate(seen2, NULL) == STRANDS_OK);
    json_t *prev = json_array_get(seen2, 3);
    CHECK_STR(json_string_value(json_object_get(prev, "role")), "assistant");
    json_t *tr = json_object_get(
        json_array_get(json_object_get(last_seen(&e, 2), "content"), 0),
        "toolResult");
    CHECK_STR(json_string_value(json_object_get(tr, "toolUseId")), "so1");
    CHECK_STR(json_string_value(json_object_get(tr, "status")), "error");
    const char *why = text_of(tr, 0);
    CHECK(why && strstr(why, "input.age") && strstr(why, "integer"));
    CHECK_STORED(&e, "s1", 2);
    strands_agent_result_cleanup(&r);
    env_cleanup(&e);
}

static void test_invalid_twice(void)
{
    const char *script[] = {
        ANSWER, BAD_AGE,
        FORCED("so2", "{\"name\":\"Ada\",\"age\":-1}")};
    env e;
    env_init(&e, script, 3, 10, NULL);
    strands_agent_result r;
    strands_error err;
    CHECK_INT(invoke(&e, "s1", &r, &err), STRANDS_E_INVALID);
    CHECK_STR(err.code, STRANDS_ERROR_STRUCTURED_OUTPUT);
    CHECK_STR(err.code, "StructuredOutputInvalid");
    /* Both violations, named from "output". */
    CHECK(strstr(err.message, "output.age") != NULL);
    CHECK(strstr(err.message, "output.age must be at least 0") != NULL);
    CHECK(strstr(err.message, "integer") != NULL);
    CHECK(strstr(err.message, "2 attempts") != NULL);
    CHECK(r.structured_output == NULL && r.text == NULL);
    CHECK_INT(r.iterations, 3);          /* kept on failure */
    CHECK_INT(r.usage.total_tokens, 45);
    CHECK_INT(e.model.next, 3);          /* no third forced call */
    /* A failed turn stores nothing. */
    CHECK_STORED(&e, "s1", 0);
    strands_agent_result_cleanup(&r);
    env_cleanup(&e);
}

static void test_forced_answer_without_tool_use(void)
{
    /* A text answer to the forced call counts as a failed attempt. */
    const char *script[] = {
        ANSWER, FAKE_TEXT("no"),
        VALID};
    env e;
    env_init(&e, script, 3, 10, NULL);
    strands_agent_result r;
    strands_error err;
    CHECK_INT(invoke(&e, "s1", &r, &err), STRANDS_OK);
    CHECK(r.structured_output != NULL);
    json_t *ask = last_seen(&e, 2);
    CHECK_STR(json_string_value(json_object_get(ask, "role")), "user");
    CHECK(strstr(text_of(ask, 0), "did not call") != NULL);
    CHECK_SEEN_VALID(&e, 2);
    strands_agent_result_cleanup(&r);
    env_cleanup(&e);

    const char *twice[] = {
        ANSWER, FAKE_TEXT("no"),
        FAKE_TEXT("still no")};
    env_init(&e, twice, 3, 10, NULL);
    CHECK_INT(invoke(&e, "s2", &r, &err), STRANDS_E_INVALID);
    CHECK_STR(err.code, STRANDS_ERROR_STRUCTURED_OUTPUT);
    CHECK(strstr(err.message, "without calling the structured_output tool"));
    strands_agent_result_cleanup(&r);
    env_cleanup(&e);
}

static void test_other_tool_and_cut_answer_are_corrected(void)
{
    /* The forced reply calls another tool and is cut at max tokens: both
     * get an answer that keeps the history valid. */
    const char *script[] = {
        ANSWER,
        USE_STEP("tool_use", "x1", "echo", "{}"),
        VALID};
    env e;
    env_init(&e, script, 3, 10, NULL);
    strands_agent_result r;
    strands_error err;
    CHECK_INT(invoke(&e, "s1", &r, &err), STRANDS_OK);
    json_t *fb = last_seen(&e, 2);
    json_t *tr = json_object_get(
        json_array_get(json_object_get(fb, "content"), 0), "toolResult");
    CHECK_STR(json_string_value(json_object_get(tr, "toolUseId")), "x1");
    CHECK(strstr(text_of(tr, 0), "not available") != NULL);
    CHECK(strstr(text_of(fb, 1), "did not call") != NULL);
    CHECK_SEEN_VALID(&e, 2);
    strands_agent_result_cleanup(&r);
    env_cleanup(&e);

    const char *cut[] = {
        ANSWER,
        USE_STEP("max_tokens", "so1", "structured_output", "{}"),
        USE_STEP("max_tokens", "so2", "structured_output", "{}")};
    env_init(&e, cut, 3, 10, NULL);
    CHECK_INT(invoke(&e, "s2", &r, &err), STRANDS_E_INVALID);
    CHECK(strstr(err.message, "token limit") != NULL);
    CHECK_SEEN_VALID(&e, 2);
    strands_agent_result_cleanup(&r);
    env_cleanup(&e);
}

static void test_next_turn_on_the_session(void)
{
    const char *script[] = {ANSWER, BAD_AGE, VALID,
                            FAKE_TEXT("Still Ada."),
                            ANSWER, VALID};
    env e;
    env_init(&e, script, 6, 10, NULL);
    strands_agent_result r;
    strands_error err;
    CHECK_INT(invoke(&e, "s1", &r, &err), STRANDS_OK);
    strands_agent_result_cleanup(&r);
    /* A plain turn next: the model sees the stored conversation only. */
    CHECK_INT(invoke_with(&e, "s1", NULL, 0, &r, &err), STRANDS_OK);
    CHECK_STR(r.text, "Still Ada.");
    CHECK(r.structured_output == NULL);
    json_t *seen3 = json_array_get(e.model.seen, 3);
    CHECK_INT(json_array_size(seen3), 3);
    CHECK(conversation_validate(seen3, NULL) == STRANDS_OK);
    CHECK(json_object_get(json_array_get(e.model.seen_calls, 3),
                          "tool_choice") == NULL);
    strands_agent_result_cleanup(&r);
    /* And a structured one again. */
    CHECK_INT(invoke(&e, "s1", &r, &err), STRANDS_OK);
    CHECK(r.structured_output != NULL);
    CHECK_INT(json_array_size(json_array_get(e.model.seen, 5)), 7);
    strands_agent_result_cleanup(&r);
    json_t *msgs = stored(&e, "s1");
    CHECK_INT(json_array_size(msgs), 6);
    CHECK(conversation_validate(msgs, NULL) == STRANDS_OK);
    json_decref(msgs);
    env_cleanup(&e);
}

#define OVERFLOW                                                         \
    "{\"error\":\"ContextWindowOverflow\",\"message\":\"Input is too long " \
    "for requested model.\"}"

/* A forced call that overflows the context window: the history is
 * reduced (the sliding window drops the older turn) and the same call is
 * made again on it. */
static void test_overflow_reduces_and_retries(void)
{
    const char *script[] = {ANSWER, VALID, ANSWER, OVERFLOW, VALID};
    env e;
    env_init(&e, script, 5, 10, NULL);
    strands_agent_result r;
    strands_error err;
    CHECK_INT(invoke(&e, "s1", &r, &err), STRANDS_OK);
    strands_agent_result_cleanup(&r);
    CHECK_INT(invoke(&e, "s1", &r, &err), STRANDS_OK);
    CHECK_INT(json_integer_value(json_object_get(r.structured_output, "age")),
              36);
    CHECK_INT(r.iterations, 3);          /* the overflowed call counts */
    /* 4 messages and the instruction, then 2 and the instruction. */
    CHECK_INT(json_array_size(json_array_get(e.model.seen, 3)), 5);
    CHECK_INT(json_array_size(json_array_get(e.model.seen, 4)), 3);
    CHECK(conversation_validate(json_array_get(e.model.seen, 4), NULL) ==
          STRANDS_OK);
    CHECK_STR(json_string_value(json_object_get(
                  json_array_get(e.model.seen_calls, 4), "tool_choice")),
              "structured_output");
    strands_agent_result_cleanup(&r);
    env_cleanup(&e);
}

/* An overflow in the correction round: after the reduction the
 * correction (the invalid call and its error result) is sent again. */
static void test_overflow_in_correction_keeps_it(void)
{
    const char *script[] = {ANSWER, VALID, ANSWER, BAD_AGE, OVERFLOW, VALID};
    env e;
    env_init(&e, script, 6, 10, NULL);
    strands_agent_result r;
    strands_error err;
    CHECK_INT(invoke(&e, "s1", &r, &err), STRANDS_OK);
    strands_agent_result_cleanup(&r);
    CHECK_INT(invoke(&e, "s1", &r, &err), STRANDS_OK);
    CHECK(r.structured_output != NULL);
    CHECK_INT(json_array_size(json_array_get(e.model.seen, 4)), 7);
    json_t *seen5 = json_array_get(e.model.seen, 5);
    CHECK_INT(json_array_size(seen5), 5);
    CHECK(conversation_validate(seen5, NULL) == STRANDS_OK);
    json_t *tr = json_object_get(
        json_array_get(json_object_get(last_seen(&e, 5), "content"), 0),
        "toolResult");
    CHECK_STR(json_string_value(json_object_get(tr, "status")), "error");
    const char *why = text_of(tr, 0);
    CHECK(why && strstr(why, "input.age"));
    strands_agent_result_cleanup(&r);
    env_cleanup(&e);
}

/* Nothing left to reduce: ContextWindowOverflow, and nothing stored. */
static void test_overflow_that_cannot_be_reduced(void)
{
    const char *script[] = {ANSWER, OVERFLOW, VALID};
    env e;
    env_init(&e, script, 3, 10, NULL);
    strands_agent_result r;
    strands_error err;
    CHECK_INT(invoke(&e, "s1", &r, &err), STRANDS_E_INVALID);
    CHECK_STR(err.code, "ContextWindowOverflow");
    CHECK(r.structured_output == NULL);
    CHECK_INT(e.model.next, 2);          /* not called again */
    json_t *msgs = stored(&e, "s1");
    CHECK_INT(json_array_size(msgs), 0);
    json_decref(msgs);
    strands_agent_result_cleanup(&r);
    env_cleanup(&e);
}

static void test_schema_is_checked_first(void)
{
    static const struct {
        const char *schema;
        const char *words;
    } bad[] = {
        {"[]", "\"type\" is \"object\""},
        {"{\"properties\":{}}", "\"type\" is \"object\""},
        {"{\"type\":\"string\"}", "\"type\" is \"object\""},
        {"{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"text\"}}}",
         "output_schema.properties.a.type"},
        {"{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"string\","
         "\"pattern\":\"(\"}}}",
         "output_schema.properties.a.pattern"},
        {"{\"type\":\"object\",\"required\":\"a\"}",
         "output_schema.required"},
        {"{\"type\":\"object\",\"properties\":{\"a\":{\"$ref\":"
         "\"#/$defs/nope\"}}}",
         "output_schema.properties.a.$ref does not resolve"},
        {"{\"type\":\"object\",\"properties\":{\"a\":3}}",
         "output_schema.properties.a must be a schema"},
        {"{\"type\":\"object\",\"anyOf\":[]}", "output_schema.anyOf"},
        /* Costly patterns: nested bounded repeats, back-references. */
        {"{\"type\":\"object\",\"properties\":{\"a\":{\"pattern\":"
         "\"((a{1000}){1000}){10}\"}}}",
         "output_schema.properties.a.pattern is too costly"},
        {"{\"type\":\"object\",\"properties\":{\"a\":{\"pattern\":"
         "\"(x[a-z]{101}){100}\"}}}",
         "output_schema.properties.a.pattern is too costly"},
        {"{\"type\":\"object\",\"properties\":{\"a\":{\"pattern\":"
         "\"a*+*+*+*+*+*+*+*+*+*+*+*+*+*+*+\"}}}",
         "output_schema.properties.a.pattern is too costly"},
        {"{\"type\":\"object\",\"properties\":{\"a\":{\"pattern\":"
         "\"a{99999999999999999999}\"}}}",
         "output_schema.properties.a.pattern is too costly"},
        {"{\"type\":\"object\",\"properties\":{\"a\":{\"pattern\":"
         "\"(a*)*\\\\1\"}}}",
         "must not use back-references"},
        {"{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"string\","
         "\"pattern\":\"^a\",\"$ref\":\"#/nowhere\"}}}",
         "output_schema.properties.a.$ref does not"},
        {"{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"array\","
         "\"items\":{\"type\":\"string\",\"maxLength\":-1}}}}",
         "output_schema.properties.a.items.maxLength"},
    };
    const char *script[] = {ANSWER};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        env e;
        env_init(&e, script, 1, 10, NULL);
        json_t *schema = J(bad[i].schema);
        strands_error err;
        CHECK_INT(strands_output_schema_check(schema, &err),
                  STRANDS_E_INVALID);
        if (!strstr(err.message, bad[i].words))
            fprintf(stderr, "schema %s: %s\n", bad[i].schema, err.message);
        CHECK(strstr(err.message, bad[i].words) != NULL);
        strands_agent_result r;
        CHECK_INT(invoke_with(&e, "s1", schema, 0, &r, &err),
                  STRANDS_E_INVALID);
        CHECK(strstr(err.message, "output_schema") != NULL);
        CHECK_INT(e.model.next, 0);          /* no model call at all */
        json_decref(schema);
        env_cleanup(&e);
    }
    static const char *const good[] = {
        SCHEMA,
        "{\"type\":\"object\"}",
        "{\"type\":\"object\",\"$defs\":{\"p\":{\"type\":\"object\","
        "\"properties\":{\"x\":{\"type\":[\"number\",\"null\"]}}}},"
        "\"properties\":{\"p\":{\"$ref\":\"#/$defs/p\"},\"q\":{\"enum\":"
        "[1,\"a\"]},\"r\":{\"type\":\"string\",\"pattern\":\"^[a-z]+$\"},"
        "\"s\":{\"oneOf\":[{\"type\":\"string\"},true]},"
        "\"t\":{\"pattern\":\"^[[:alpha:]]{2,8}(-[a-z]{1,3}){0,4}\\\\.x{3}$\"}},"
        "\"description\":\"free keywords are fine\"}"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        json_t *schema = J(good[i]);
        strands_error err;
        CHECK_INT(strands_output_schema_check(schema, &err), STRANDS_OK);
        json_decref(schema);
    }
}

/* A caller's schema cannot buy exponential validation time: anyOf over
 * recursive $refs stops at SCHEMA_MAX_STEPS with a clear violation. */
static void test_costly_schema_is_bounded(void)
{
    const char *script[] = {ANSWER, VALID, VALID};
    env e;
    env_init(&e, script, 3, 10, NULL);
    json_t *schema = J("{\"type\":\"object\",\"properties\":{\"x\":"
                       "{\"$ref\":\"#/$defs/r\"}},\"$defs\":{\"r\":"
                       "{\"anyOf\":[{\"$ref\":\"#/$defs/r\"},{\"$ref\":"
                       "\"#/$defs/r\"},false]}}}");
    strands_agent_result r;
    strands_error err;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    /* The forced input has no "x": valid at once, no recursion. */
    CHECK_INT(invoke_with(&e, "s1", schema, 0, &r, &err), STRANDS_OK);
    strands_agent_result_cleanup(&r);
    json_decref(schema);
    env_cleanup(&e);
    const char *script2[] = {
        ANSWER, FORCED("so1", "{\"x\":1}"), FORCED("so2", "{\"x\":2}")};
    env_init(&e, script2, 3, 10, NULL);
    schema = J("{\"type\":\"object\",\"properties\":{\"x\":"
               "{\"$ref\":\"#/$defs/r\"}},\"$defs\":{\"r\":"
               "{\"anyOf\":[{\"$ref\":\"#/$defs/r\"},{\"$ref\":"
               "\"#/$defs/r\"},false]}}}");
    CHECK_INT(invoke_with(&e, "s2", schema, 0, &r, &err), STRANDS_E_INVALID);
    CHECK_STR(err.code, STRANDS_ERROR_STRUCTURED_OUTPUT);
    CHECK(strstr(err.message, "steps") != NULL);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    CHECK(t1.tv_sec - t0.tv_sec < 10);
    strands_agent_result_cleanup(&r);
    json_decref(schema);
    env_cleanup(&e);
}

static void test_steps_skipped_after_other_stops(void)
{
    /* MaxIterations: the agent gave up; no forced call. */
    const char *script[] = {
        USE_STEP("tool_use", "t1", "echo", "{}")};
    env e;
    env_init(&e, script, 1, 1, NULL);
    strands_agent_result r;
    strands_error err;
    CHECK_INT(invoke(&e, "s1", &r, &err), STRANDS_OK);
    CHECK_INT(r.stop_reason, STRANDS_STOP_MAX_ITERATIONS);
    CHECK(r.structured_output == NULL);
    CHECK_INT(e.model.next, 1);
    strands_agent_result_cleanup(&r);
    env_cleanup(&e);
}

static void test_name_collision(void)
{
    const char *script[] = {
        ANSWER,
        "{\"stop\":\"tool_use\",\"content\":[{\"toolUse\":{\"toolUseId\":"
        "\"so1\",\"name\":\"structured_output_1\",\"input\":{\"name\":"
        "\"Ada\",\"age\":36}}}]}"};
    env e;
    env_init(&e, script, 2, 10, "structured_output");
    strands_agent_result r;
    strands_error err;
    CHECK_INT(invoke(&e, "s1", &r, &err), STRANDS_OK);
    CHECK(r.structured_output != NULL);
    json_t *c1 = json_array_get(e.model.seen_calls, 1);
    CHECK_STR(json_string_value(json_object_get(c1, "tool_choice")),
              "structured_output_1");
    CHECK_INT(json_array_size(json_object_get(c1, "tool_specs")), 3);
    strands_agent_result_cleanup(&r);
    env_cleanup(&e);
}

static void test_streaming_keeps_forced_answer_out(void)
{
    /* The forced reply has text too: it is not streamed as text. */
    const char *script[] = {
        ANSWER,
        "{\"stop\":\"tool_use\",\"content\":[{\"text\":\"Here:\"},"
        "{\"toolUse\":{\"toolUseId\":\"so1\",\"name\":\"structured_output\","
        "\"input\":{\"name\":\"Ada\",\"age\":36}}}]}"};
    env e;
    env_init(&e, script, 2, 10, NULL);
    strands_agent_result r;
    strands_error err;
    CHECK_INT(invoke_with(&e, "s1", e.schema, 1, &r, &err), STRANDS_OK);
    CHECK(r.structured_output != NULL);
    CHECK_STR(r.text, "Ada, 36.");
    CHECK(json_is_true(json_object_get(json_array_get(e.model.seen_calls, 1),
                                       "stream")));
    size_t i, deltas = 0, model_ends = 0, cycles = 0, cycle_ends = 0;
    json_t *t;
    json_array_foreach(e.events, i, t) {
        json_int_t ty = json_integer_value(t);
        deltas += ty == STRANDS_EVENT_TEXT_DELTA;
        model_ends += ty == STRANDS_EVENT_MODEL_END;
        cycles += ty == STRANDS_EVENT_CYCLE_START;
        cycle_ends += ty == STRANDS_EVENT_CYCLE_END;
    }
    CHECK_INT(deltas, 1);       /* "Ada, 36." only */
    CHECK_INT(model_ends, 2);
    CHECK_INT(cycles, 2);       /* the forced call is a cycle of its own */
    CHECK_INT(cycle_ends, 2);
    CHECK_INT(json_integer_value(json_array_get(
                  e.events, json_array_size(e.events) - 1)),
              STRANDS_EVENT_INVOCATION_END);
    strands_agent_result_cleanup(&r);
    env_cleanup(&e);
}

int main(void)
{
    RUN(test_valid_first_try);
    RUN(test_tool_round_trip_then_structured);
    RUN(test_valid_after_one_correction);
    RUN(test_invalid_twice);
    RUN(test_forced_answer_without_tool_use);
    RUN(test_other_tool_and_cut_answer_are_corrected);
    RUN(test_next_turn_on_the_session);
    RUN(test_overflow_reduces_and_retries);
    RUN(test_overflow_in_correction_keeps_it);
    RUN(test_overflow_that_cannot_be_reduced);
    RUN(test_schema_is_checked_first);
    RUN(test_costly_schema_is_bounded);
    RUN(test_steps_skipped_after_other_stops);
    RUN(test_name_collision);
    RUN(test_streaming_keeps_forced_answer_out);
    return test_report();
}
