/* Structured output in the server module: "output_schema" in an
 * /invocations body (request_parse: absent, null, valid, refused with a
 * reason naming output_schema), the 422 of StructuredOutputInvalid, and
 * "structured_output" in the JSON answer and the SSE done frame.        */
#include <string.h>

#include <jansson.h>

#include "server/internal.h"
#include "json_check.h"
#include "test.h"

static request_verdict parse(const char *body, request_parsed *p, char *why,
                             size_t whysz)
{
    return request_parse(body, strlen(body), NULL, p, why, whysz);
}

static void test_output_schema_parsed(void)
{
    request_parsed p;
    char why[256];
    CHECK_INT(parse("{\"prompt\":\"hi\"}", &p, why, sizeof why), REQUEST_OK);
    CHECK(p.output_schema == NULL);
    request_parsed_cleanup(&p);
    CHECK_INT(parse("{\"prompt\":\"hi\",\"output_schema\":null}", &p, why,
                    sizeof why),
              REQUEST_OK);
    CHECK(p.output_schema == NULL);
    request_parsed_cleanup(&p);
    CHECK_INT(parse("{\"prompt\":\"hi\",\"output_schema\":{\"type\":"
                    "\"object\",\"properties\":{\"n\":{\"type\":"
                    "\"integer\"}},\"required\":[\"n\"]}}",
                    &p, why, sizeof why),
              REQUEST_OK);
    json_t *want = J("{\"type\":\"object\",\"properties\":{\"n\":{\"type\":"
                     "\"integer\"}},\"required\":[\"n\"]}");
    CHECK(json_equal(p.output_schema, want));
    json_decref(want);
    request_parsed_cleanup(&p);
    CHECK(p.output_schema == NULL && p.prompt == NULL);
}

static void test_output_schema_refused(void)
{
    static const struct {
        const char *body;
        const char *words;
    } bad[] = {
        {"{\"prompt\":\"hi\",\"output_schema\":\"object\"}",
         "output_schema must be a JSON Schema object"},
        {"{\"prompt\":\"hi\",\"output_schema\":{\"type\":\"array\"}}",
         "\"type\" is \"object\""},
        {"{\"prompt\":\"hi\",\"output_schema\":{\"type\":\"object\","
         "\"properties\":{\"a\":{\"type\":\"string\",\"pattern\":\"[\"}}}}",
         "output_schema.properties.a.pattern is not a valid"},
        {"{\"prompt\":\"hi\",\"output_schema\":{\"type\":\"object\","
         "\"properties\":{\"a\":{\"$ref\":\"http://x/y\"}}}}",
         "output_schema.properties.a.$ref does not resolve"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        request_parsed p;
        char why[256];
        CHECK_INT(parse(bad[i].body, &p, why, sizeof why), REQUEST_INVALID);
        if (!strstr(why, bad[i].words))
            fprintf(stderr, "case %zu: %s\n", i, why);
        CHECK(strstr(why, bad[i].words) != NULL);
        CHECK(p.output_schema == NULL && p.prompt == NULL);
        request_parsed_cleanup(&p);
    }
}

static void test_structured_output_error_is_422(void)
{
    strands_error err;
    strands_error_set(&err, STRANDS_E_INVALID,
                      STRANDS_ERROR_STRUCTURED_OUTPUT, "output.n is required");
    CHECK_INT(server_error_status(&err), 422);
    CHECK_STR(server_error_type(&err), "StructuredOutputInvalid");
    strands_error_set(&err, STRANDS_E_INVALID, NULL, "bad");
    CHECK_INT(server_error_status(&err), 400);
}

static void test_result_documents(void)
{
    strands_agent_result r = {0};
    r.text = "Ada, 36.";
    r.iterations = 2;
    json_t *doc = server_result_json("i1", "s1", &r);
    CHECK(doc && !json_object_get(doc, "structured_output"));
    json_decref(doc);
    size_t len;
    char *f = sse_format_done("i1", "s1", &r, &len);
    CHECK(f && !strstr(f, "structured_output"));
    free(f);
    r.structured_output = J("{\"name\":\"Ada\",\"age\":36}");
    doc = server_result_json("i1", "s1", &r);
    CHECK(json_equal(json_object_get(doc, "structured_output"),
                     r.structured_output));
    CHECK_STR(json_string_value(json_object_get(doc, "response")),
              "Ada, 36.");
    json_decref(doc);
    f = sse_format_done("i1", "s1", &r, &len);
    CHECK(f && !strncmp(f, "data: ", 6));
    json_t *done = f ? json_loadb(f + 6, len - 8, 0, NULL) : NULL;
    CHECK_STR(json_string_value(json_object_get(done, "type")), "done");
    CHECK(json_equal(json_object_get(done, "structured_output"),
                     r.structured_output));
    json_decref(done);
    free(f);
    json_decref(r.structured_output);
}

int main(void)
{
    RUN(test_output_schema_parsed);
    RUN(test_output_schema_refused);
    RUN(test_structured_output_error_is_422);
    RUN(test_result_documents);
    return test_report();
}
