/* The Converse request of a structured-output call: a forced tool choice
 * (strands_model_request.tool_choice) becomes toolConfig.toolChoice
 * {"tool":{"name"}} next to the tools, from the tree and from the shared
 * JSON text alike; without it there is no toolChoice.                   */
#include <string.h>

#include <jansson.h>

#include "models/converse.h"
#include "json_check.h"
#include "test.h"

#define MSGS "[{\"role\":\"user\",\"content\":[{\"text\":\"hi\"}]}]"
#define TOOLS                                                            \
    "[{\"toolSpec\":{\"name\":\"echo\",\"inputSchema\":{\"json\":"       \
    "{\"type\":\"object\"}}}},{\"toolSpec\":{\"name\":"                  \
    "\"structured_output\",\"description\":\"answer\",\"inputSchema\":"  \
    "{\"json\":{\"type\":\"object\",\"required\":[\"n\"]}}}}]"

static void test_tool_choice(void)
{
    json_t *m = J(MSGS), *t = J(TOOLS);
    strands_model_request req = {.messages = m, .tools = t, .max_tokens = 9,
                                 .tool_choice = "structured_output"};
    json_t *body = converse_build_request(&req);
    json_t *want = J("{\"messages\":" MSGS ",\"inferenceConfig\":"
                     "{\"maxTokens\":9},\"toolConfig\":{\"tools\":" TOOLS
                     ",\"toolChoice\":{\"tool\":{\"name\":"
                     "\"structured_output\"}}}}");
    CHECK(json_equal(body, want));
    json_decref(body);
    /* The same from the owner's serialised text. */
    req.tools_json = TOOLS;
    req.tools_json_len = strlen(TOOLS);
    body = converse_build_request(&req);
    CHECK(json_equal(body, want));
    json_decref(body);
    json_decref(want);
    /* No choice: none sent. */
    req.tool_choice = NULL;
    body = converse_build_request(&req);
    CHECK(json_object_get(json_object_get(body, "toolConfig"),
                          "toolChoice") == NULL);
    CHECK(json_object_get(json_object_get(body, "toolConfig"), "tools"));
    json_decref(body);
    /* A name needing escapes stays one JSON string. */
    req.tool_choice = "a\"b";
    size_t len = 0;
    char *text = converse_build_body(&req, &len);
    body = text ? json_loadb(text, len, 0, NULL) : NULL;
    CHECK_STR(json_string_value(json_object_get(
                  json_object_get(json_object_get(json_object_get(
                                      body, "toolConfig"),
                                  "toolChoice"),
                                  "tool"),
                  "name")),
              "a\"b");
    json_decref(body);
    free(text);
    json_decref(m);
    json_decref(t);
}

int main(void)
{
    RUN(test_tool_choice);
    return test_report();
}
