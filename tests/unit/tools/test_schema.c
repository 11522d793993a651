/* Tests for the tool input validator (src/tools/schema.c): every keyword
 * with valid and invalid instances (table-driven, checking the exact
 * message: path and rule), $ref/$defs including a self-referencing schema
 * that hits the depth cap, Unicode lengths, oneOf's exactly-one rule,
 * bad patterns, and message truncation.                                 */
#include "test.h"
#include "tools/schema.h"

typedef struct vcase {
    const char *schema;
    const char *instance;
    const char *why; /* NULL: valid */
} vcase;

static const vcase cases[] = {
    /* type */
    {"{\"type\":\"string\"}", "\"x\"", NULL},
    {"{\"type\":\"string\"}", "1", "input must be a string, not integer"},
    {"{\"type\":\"object\"}", "[]", "input must be an object, not array"},
    {"{\"type\":\"array\"}", "{}", "input must be an array, not object"},
    {"{\"type\":\"boolean\"}", "true", NULL},
    {"{\"type\":\"boolean\"}", "null", "input must be a boolean, not null"},
    {"{\"type\":\"null\"}", "null", NULL},
    {"{\"type\":\"number\"}", "1", NULL},
    {"{\"type\":\"number\"}", "1.5", NULL},
    {"{\"type\":\"number\"}", "\"1\"", "input must be a number, not string"},
    {"{\"type\":\"integer\"}", "3", NULL},
    {"{\"type\":\"integer\"}", "3.0", NULL},
    {"{\"type\":\"integer\"}", "3.5", "input must be an integer, not number"},
    {"{\"type\":[\"string\",\"null\"]}", "null", NULL},
    {"{\"type\":[\"string\",\"null\"]}", "\"a\"", NULL},
    {"{\"type\":[\"string\",\"null\"]}", "2",
     "input must be one of the types [\"string\",\"null\"], not integer"},
    {"{\"type\":\"frobnicate\"}", "2", NULL},
    /* properties, required, additionalProperties */
    {"{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"string\"}}}",
     "{\"a\":\"x\",\"b\":1}", NULL},
    {"{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"string\"}}}",
     "{\"a\":1}", "input.a must be a string, not integer"},
    {"{\"required\":[\"a\",\"b\"]}", "{\"a\":1,\"b\":null}", NULL},
    {"{\"required\":[\"a\",\"b\"]}", "{\"a\":1}", "input.b is required"},
    {"{\"required\":[\"a\"]}", "5", NULL}, /* applies to objects only */
    {"{\"properties\":{\"a\":{}},\"additionalProperties\":false}",
     "{\"a\":1}", NULL},
    {"{\"properties\":{\"a\":{}},\"additionalProperties\":false}",
     "{\"a\":1,\"zz\":2}",
     "input.zz is not allowed (no additional properties)"},
    {"{\"additionalProperties\":{\"type\":\"integer\"}}", "{\"n\":2}", NULL},
    {"{\"additionalProperties\":{\"type\":\"integer\"}}", "{\"n\":\"2\"}",
     "input.n must be an integer, not string"},
    {"{\"additionalProperties\":true}", "{\"n\":\"2\"}", NULL},
    /* enum, const */
    {"{\"enum\":[\"a\",\"b\"]}", "\"b\"", NULL},
    {"{\"enum\":[\"a\",\"b\"]}", "\"c\"", "input must be one of [\"a\",\"b\"]"},
    {"{\"enum\":[1,null,{\"k\":[1]}]}", "1.0", NULL},
    {"{\"enum\":[1,null,{\"k\":[1]}]}", "{\"k\":[1.0]}", NULL},
    {"{\"enum\":[1,null,{\"k\":[1]}]}", "{\"k\":[2]}",
     "input must be one of [1,null,{\"k\":[1]}]"},
    {"{\"const\":\"on\"}", "\"on\"", NULL},
    {"{\"const\":\"on\"}", "\"off\"", "input must be equal to \"on\""},
    {"{\"const\":false}", "0", "input must be equal to false"},
    /* items, minItems, maxItems */
    {"{\"items\":{\"type\":\"integer\"}}", "[1,2,3]", NULL},
    {"{\"items\":{\"type\":\"integer\"}}", "[1,2,\"x\"]",
     "input[2] must be an integer, not string"},
    {"{\"minItems\":2,\"maxItems\":3}", "[1,2]", NULL},
    {"{\"minItems\":2,\"maxItems\":3}", "[1]",
     "input must have at least 2 items, not 1"},
    {"{\"minItems\":2,\"maxItems\":3}", "[1,2,3,4]",
     "input must have at most 3 items, not 4"},
    /* minimum, maximum, exclusive bounds */
    {"{\"minimum\":1,\"maximum\":10}", "10", NULL},
    {"{\"minimum\":1,\"maximum\":10}", "1", NULL},
    {"{\"minimum\":1,\"maximum\":10}", "11", "input must be at most 10"},
    {"{\"minimum\":1,\"maximum\":10}", "0.5", "input must be at least 1"},
    {"{\"minimum\":0.5}", "0.25", "input must be at least 0.5"},
    {"{\"exclusiveMinimum\":0,\"exclusiveMaximum\":1}", "0.5", NULL},
    {"{\"exclusiveMinimum\":0,\"exclusiveMaximum\":1}", "0",
     "input must be greater than 0"},
    {"{\"exclusiveMinimum\":0,\"exclusiveMaximum\":1}", "1",
     "input must be less than 1"},
    {"{\"maximum\":10}", "\"99\"", NULL}, /* numbers only */
    /* minLength, maxLength: code points, not bytes */
    {"{\"minLength\":2,\"maxLength\":3}", "\"ab\"", NULL},
    {"{\"minLength\":2,\"maxLength\":3}", "\"a\"",
     "input must be at least 2 characters long, not 1"},
    {"{\"minLength\":2,\"maxLength\":3}", "\"abcd\"",
     "input must be at most 3 characters long, not 4"},
    {"{\"maxLength\":3}", "\"\\u00e9\\u00e9\\u00e9\"", NULL}, /* 6 bytes */
    {"{\"maxLength\":2}", "\"\\ud83d\\ude00\\ud83d\\ude00\"", NULL},
    {"{\"maxLength\":1}", "\"\\u65e5\\u672c\"",
     "input must be at most 1 characters long, not 2"},
    {"{\"minLength\":2}", "\"\\ud83d\\ude00\"",
     "input must be at least 2 characters long, not 1"},
    /* pattern: POSIX extended, unanchored search */
    {"{\"pattern\":\"^[a-z]+$\"}", "\"abc\"", NULL},
    {"{\"pattern\":\"^[a-z]+$\"}", "\"abC\"",
     "input must match pattern '^[a-z]+$'"},
    {"{\"pattern\":\"b+\"}", "\"abbc\"", NULL},
    {"{\"pattern\":\"b+\"}", "\"ac\"", "input must match pattern 'b+'"},
    {"{\"pattern\":\"(unclosed\"}", "\"x\"", NULL}, /* ignored */
    {"{\"pattern\":\"^x$\"}", "5", NULL},
    /* allOf, anyOf, oneOf */
    {"{\"allOf\":[{\"type\":\"integer\"},{\"minimum\":3}]}", "4", NULL},
    {"{\"allOf\":[{\"type\":\"integer\"},{\"minimum\":3}]}", "2",
     "input must be at least 3"},
    {"{\"anyOf\":[{\"type\":\"string\"},{\"minimum\":3}]}", "\"s\"", NULL},
    {"{\"anyOf\":[{\"type\":\"string\"},{\"minimum\":3}]}", "5", NULL},
    {"{\"anyOf\":[{\"type\":\"string\"},{\"minimum\":3}]}", "2",
     "input must match at least one schema in anyOf"},
    {"{\"oneOf\":[{\"type\":\"integer\"},{\"minimum\":3}]}", "2", NULL},
    {"{\"oneOf\":[{\"type\":\"integer\"},{\"minimum\":3}]}", "3.5", NULL},
    {"{\"oneOf\":[{\"type\":\"integer\"},{\"minimum\":3}]}", "5",
     "input must match exactly one schema in oneOf, matched more than one"},
    {"{\"oneOf\":[{\"type\":\"integer\"},{\"minimum\":3}]}", "2.5",
     "input must match exactly one schema in oneOf, matched none"},
    /* boolean schemas */
    {"true", "{\"a\":1}", NULL},
    {"false", "1", "input is not allowed"},
    {"{\"properties\":{\"x\":false}}", "{\"x\":1}", "input.x is not allowed"},
    /* $ref to $defs / definitions, with sibling keywords */
    {"{\"$defs\":{\"name\":{\"type\":\"string\",\"minLength\":1}},"
     "\"properties\":{\"who\":{\"$ref\":\"#/$defs/name\"}}}",
     "{\"who\":\"ann\"}", NULL},
    {"{\"$defs\":{\"name\":{\"type\":\"string\",\"minLength\":1}},"
     "\"properties\":{\"who\":{\"$ref\":\"#/$defs/name\"}}}",
     "{\"who\":\"\"}", "input.who must be at least 1 characters long, not 0"},
    {"{\"definitions\":{\"n\":{\"type\":\"integer\"}},"
     "\"items\":{\"$ref\":\"#/definitions/n\"}}", "[1,\"2\"]",
     "input[1] must be an integer, not string"},
    {"{\"$defs\":{\"a/b\":{\"const\":1}},\"$ref\":\"#/$defs/a~1b\"}", "2",
     "input must be equal to 1"},
    {"{\"$defs\":{\"n\":{\"type\":\"integer\"}},\"$ref\":\"#/$defs/n\","
     "\"maximum\":5}", "6", "input must be at most 5"},
    {"{\"$ref\":\"#/$defs/missing\"}", "6", NULL}, /* ignored */
    {"{\"$ref\":\"https://example.com/s.json\"}", "6", NULL},
    /* A recursive tree: nodes with children of the same shape. */
    {"{\"$defs\":{\"node\":{\"type\":\"object\",\"required\":[\"v\"],"
     "\"properties\":{\"v\":{\"type\":\"integer\"},\"kids\":{\"type\":"
     "\"array\",\"items\":{\"$ref\":\"#/$defs/node\"}}}}},"
     "\"$ref\":\"#/$defs/node\"}",
     "{\"v\":1,\"kids\":[{\"v\":2},{\"v\":3,\"kids\":[{\"v\":\"x\"}]}]}",
     "input.kids[1].kids[0].v must be an integer, not string"},
    /* Unknown keywords are ignored. */
    {"{\"format\":\"email\",\"x-vendor\":1,\"description\":\"d\"}", "\"no\"",
     NULL},
    /* The path names nested fields and array indexes. */
    {"{\"properties\":{\"items\":{\"items\":{\"required\":[\"name\"]}}}}",
     "{\"items\":[{\"name\":1},{\"name\":2},{}]}",
     "input.items[2].name is required"},
};

static void test_table(void)
{
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_error_t je;
        json_t *s = json_loads(cases[i].schema, JSON_DECODE_ANY, &je);
        json_t *v = json_loads(cases[i].instance, JSON_DECODE_ANY, &je);
        CHECK(s != NULL);
        CHECK(v != NULL);
        char why[512] = "unset";
        strands_status st = schema_validate(s, v, why, sizeof why);
        if (cases[i].why) {
            if (st != STRANDS_E_INVALID)
                fprintf(stderr, "case %zu: %s / %s accepted\n", i,
                        cases[i].schema, cases[i].instance);
            CHECK_INT(st, STRANDS_E_INVALID);
            CHECK_STR(why, cases[i].why);
        } else {
            if (st != STRANDS_OK)
                fprintf(stderr, "case %zu: %s / %s: %s\n", i,
                        cases[i].schema, cases[i].instance, why);
            CHECK_INT(st, STRANDS_OK);
            CHECK_STR(why, "");
        }
        json_decref(s);
        json_decref(v);
    }
}

/* A schema that refers to itself with nothing to stop it fails at the
 * depth cap instead of looping; so does an instance nested deeper than
 * the cap under a recursive schema.                                   */
static void test_ref_depth_cap(void)
{
    char why[256];
    json_t *s = json_loads("{\"$ref\":\"#\"}", 0, NULL);
    json_t *v = json_integer(1);
    CHECK_INT(schema_validate(s, v, why, sizeof why), STRANDS_E_INVALID);
    CHECK(strstr(why, "nested too deeply") != NULL);
    json_decref(s);
    json_decref(v);

    s = json_loads("{\"$defs\":{\"a\":{\"$ref\":\"#/$defs/b\"},"
                   "\"b\":{\"$ref\":\"#/$defs/a\"}},\"$ref\":\"#/$defs/a\"}",
                   0, NULL);
    v = json_integer(1);
    CHECK_INT(schema_validate(s, v, why, sizeof why), STRANDS_E_INVALID);
    CHECK(strstr(why, "nested too deeply") != NULL);
    json_decref(s);
    json_decref(v);

    /* {"n":{"n":{...}}} 30 deep passes, 200 deep fails at the cap. */
    s = json_loads("{\"type\":\"object\",\"properties\":{\"n\":"
                   "{\"$ref\":\"#\"}}}", 0, NULL);
    for (int depth = 30; depth <= 200; depth += 170) {
        json_t *inst = json_object();
        for (int i = 0; i < depth; i++) {
            json_t *outer = json_object();
            json_object_set_new(outer, "n", inst);
            inst = outer;
        }
        strands_status st = schema_validate(s, inst, why, sizeof why);
        CHECK_INT(st, depth == 30 ? STRANDS_OK : STRANDS_E_INVALID);
        if (depth != 30) CHECK(strstr(why, "input.n.n.n.") == why);
        json_decref(inst);
    }
    json_decref(s);
}

/* Messages are cut to the caller's buffer and always NUL-terminated; a
 * NULL buffer is allowed; a very long path is cut, not overflowed.    */
static void test_truncation(void)
{
    json_t *s = json_loads("{\"properties\":{\"a\":{\"type\":\"string\"}}}",
                           0, NULL);
    json_t *v = json_loads("{\"a\":1}", 0, NULL);
    char small[10];
    memset(small, 'x', sizeof small);
    CHECK_INT(schema_validate(s, v, small, sizeof small), STRANDS_E_INVALID);
    CHECK_STR(small, "input.a m");
    CHECK_INT(schema_validate(s, v, NULL, 0), STRANDS_E_INVALID);
    char one[1] = {'x'};
    CHECK_INT(schema_validate(s, v, one, 1), STRANDS_E_INVALID);
    CHECK(one[0] == '\0');
    json_decref(s);
    json_decref(v);

    /* A 2000-byte property name; a 300-entry enum. */
    char key[2001];
    memset(key, 'k', 2000);
    key[2000] = '\0';
    s = json_loads("{\"additionalProperties\":{\"type\":\"string\"}}", 0,
                   NULL);
    v = json_pack("{s:i}", key, 5);
    char why[1024];
    CHECK_INT(schema_validate(s, v, why, sizeof why), STRANDS_E_INVALID);
    CHECK(strlen(why) < 400);
    CHECK(strstr(why, "must be a string, not integer") != NULL);
    json_decref(s);
    json_decref(v);

    json_t *e = json_array();
    for (int i = 0; i < 300; i++) json_array_append_new(e, json_integer(i));
    s = json_pack("{s:o}", "enum", e);
    v = json_integer(-1);
    CHECK_INT(schema_validate(s, v, why, sizeof why), STRANDS_E_INVALID);
    CHECK(strncmp(why, "input must be one of [0,1,2,", 28) == 0);
    CHECK(strlen(why) < 200);
    CHECK(strcmp(why + strlen(why) - 3, "...") == 0);
    json_decref(s);
    json_decref(v);
}

static void test_null_schema_and_instance(void)
{
    char why[64];
    json_t *v = json_integer(1);
    CHECK_INT(schema_validate(NULL, v, why, sizeof why), STRANDS_OK);
    json_decref(v);
    json_t *s = json_loads("{\"type\":\"object\"}", 0, NULL);
    CHECK_INT(schema_validate(s, NULL, why, sizeof why), STRANDS_E_INVALID);
    CHECK_STR(why, "input must be an object, not null");
    json_decref(s);
}

/* The one $ref resolver the validator and the start-up check share. */
static void test_ref_resolve(void)
{
    json_t *root = json_loads(
        "{\"$defs\":{\"a/b\":{\"const\":1},\"c~d\":{\"const\":2}},"
        "\"definitions\":{\"x\":{\"const\":3}}}",
        0, NULL);
    CHECK(root != NULL);
    CHECK(schema_ref_resolve(root, "#") == root);
    const json_t *t = schema_ref_resolve(root, "#/$defs/a~1b");
    CHECK_INT(json_integer_value(json_object_get(t, "const")), 1);
    t = schema_ref_resolve(root, "#/$defs/c~0d");
    CHECK_INT(json_integer_value(json_object_get(t, "const")), 2);
    t = schema_ref_resolve(root, "#/definitions/x");
    CHECK_INT(json_integer_value(json_object_get(t, "const")), 3);
    CHECK(schema_ref_resolve(root, "#/$defs/missing") == NULL);
    CHECK(schema_ref_resolve(root, "#/$defs/a/b") == NULL);   /* 2 segments */
    CHECK(schema_ref_resolve(root, "#/properties/a") == NULL);
    CHECK(schema_ref_resolve(root, "other.json#/x") == NULL);
    char longref[300] = "#/$defs/";
    memset(longref + 8, 'k', 280);
    longref[288] = '\0';
    CHECK(schema_ref_resolve(root, longref) == NULL);         /* too long */
    json_decref(root);
}

int main(void)
{
    RUN(test_table);
    RUN(test_ref_resolve);
    RUN(test_ref_depth_cap);
    RUN(test_truncation);
    RUN(test_null_schema_and_instance);
    return test_report();
}
