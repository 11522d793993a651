/* Tests for MCP tools/call result mapping (src/mcp/result.c): every
 * content type to its exact Converse block (table-driven), document
 * formats by MIME type and by file extension, document names, Bedrock's
 * size limits, bad base64, isError, structuredContent, empty and absent
 * content, bad results, and the error text with its truncation.       */
#include <jansson.h>

#include "mcp/result.h"
#include "test.h"

/* JSON written with ' for ". */
static json_t *load_sq(const char *sq)
{
    char *j = strdup(sq);
    for (char *p = j; *p; p++)
        if (*p == '\'') *p = '"';
    json_t *v = json_loads(j, 0, NULL);
    free(j);
    return v;
}

/* The mapped content of a result, compact with sorted keys, ' for ". */
static char *convert(const char *sq, int *is_error, strands_status *st)
{
    json_t *r = load_sq(sq);
    json_t *out = NULL;
    strands_error e;
    *is_error = -1;
    *st = mcp_result_to_content(r, &out, is_error, &e);
    json_decref(r);
    if (*st != STRANDS_OK) return NULL;
    char *s = json_dumps(out, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(out);
    for (char *p = s; p && *p; p++)
        if (*p == '"') *p = '\'';
    return s;
}

typedef struct rcase {
    const char *result;   /* single-quoted */
    const char *content;  /* expected, single-quoted, sorted keys */
    int is_error;
} rcase;

#define PNG "iVBORw0KGgo="  /* 8 bytes */

static const rcase cases[] = {
    /* text */
    {"{'content':[{'type':'text','text':'hi'}]}", "[{'text':'hi'}]", 0},
    {"{'content':[{'type':'text','text':'a'},{'type':'text','text':'b'}]}",
     "[{'text':'a'},{'text':'b'}]", 0},
    {"{'content':[{'type':'text','text':'caf\\u00e9','annotations':"
     "{'priority':1}}]}", "[{'text':'caf\xc3\xa9'}]", 0},
    {"{'content':[{'type':'text'}]}",
     "[{'text':'[text content, without a text string, not shown]'}]", 0},
    /* images */
    {"{'content':[{'type':'image','data':'" PNG "','mimeType':'image/png'}]}",
     "[{'image':{'format':'png','source':{'bytes':'" PNG "'}}}]", 0},
    {"{'content':[{'type':'image','data':'" PNG "','mimeType':'image/JPG'}]}",
     "[{'image':{'format':'jpeg','source':{'bytes':'" PNG "'}}}]", 0},
    {"{'content':[{'type':'image','data':'" PNG "','mimeType':"
     "'image/webp; q=1'}]}",
     "[{'image':{'format':'webp','source':{'bytes':'" PNG "'}}}]", 0},
    {"{'content':[{'type':'image','data':'" PNG "','mimeType':'image/gif'}]}",
     "[{'image':{'format':'gif','source':{'bytes':'" PNG "'}}}]", 0},
    {"{'content':[{'type':'image','data':'PHN2Zz4=','mimeType':"
     "'image/svg+xml'}]}",
     "[{'text':'[image content (image/svg+xml), 5 bytes, not shown]'}]", 0},
    {"{'content':[{'type':'image','data':'not base64!','mimeType':"
     "'image/png'}]}",
     "[{'text':'[image content (image/png), its data is not valid base64, "
     "not shown]'}]", 0},
    {"{'content':[{'type':'image','data':'" PNG "\\n','mimeType':"
     "'image/png'}]}",
     "[{'text':'[image content (image/png), its data is not valid base64, "
     "not shown]'}]", 0},
    {"{'content':[{'type':'image','mimeType':'image/png'}]}",
     "[{'text':'[image content (image/png), its data is not valid base64, "
     "not shown]'}]", 0},
    {"{'content':[{'type':'image','data':'" PNG "'}]}",
     "[{'text':'[image content, 8 bytes, not shown]'}]", 0},
    /* audio */
    {"{'content':[{'type':'audio','data':'UklGRg==','mimeType':'audio/wav'}]}",
     "[{'text':'[audio content (audio/wav), 4 bytes, not shown]'}]", 0},
    /* embedded resources */
    {"{'content':[{'type':'resource','resource':{'uri':'file:///a.txt',"
     "'mimeType':'text/plain','text':'hello'}}]}",
     "[{'text':'[resource file:///a.txt]\\nhello'}]", 0},
    {"{'content':[{'type':'resource','resource':{'text':'no uri'}}]}",
     "[{'text':'no uri'}]", 0},
    {"{'content':[{'type':'resource','resource':{'uri':'file:///x/report.pdf',"
     "'mimeType':'application/pdf','blob':'JVBERg=='}}]}",
     "[{'document':{'format':'pdf','name':'report','source':{'bytes':"
     "'JVBERg=='}}}]", 0},
    {"{'content':[{'type':'resource','resource':{'uri':"
     "'s3://b/My_Report%20(v2)..final.docx?x=1#y','blob':'UEsD'}}]}",
     "[{'document':{'format':'docx','name':'My Report (v2) final',"
     "'source':{'bytes':'UEsD'}}}]", 0},
    {"{'content':[{'type':'resource','resource':{'uri':'mem://t/data.CSV',"
     "'mimeType':'application/octet-stream','blob':'YSxi'}}]}",
     "[{'document':{'format':'csv','name':'data','source':{'bytes':'YSxi'}}}]",
     0},
    {"{'content':[{'type':'resource','resource':{'uri':'x://h/',"
     "'mimeType':'text/markdown','blob':'IyBh'}},"
     "{'type':'resource','resource':{'mimeType':'text/html','blob':'PHA+'}},"
     "{'type':'resource','resource':{'uri':'a/%5F%2A_.txt',"
     "'mimeType':'text/plain','blob':'YQ=='}}]}",
     "[{'document':{'format':'md','name':'document','source':{'bytes':"
     "'IyBh'}}},{'document':{'format':'html','name':'document (2)','source':"
     "{'bytes':'PHA+'}}},{'document':{'format':'txt','name':'document (3)',"
     "'source':{'bytes':'YQ=='}}}]", 0},
    {"{'content':[{'type':'resource','resource':{'uri':'f:///q/x.xlsx',"
     "'mimeType':'application/vnd.openxmlformats-officedocument."
     "spreadsheetml.sheet','blob':'UEsD'}},{'type':'resource','resource':"
     "{'uri':'f:///r/x.xls','mimeType':'application/vnd.ms-excel',"
     "'blob':'UEsD'}},{'type':'resource','resource':{'uri':'f:///x.doc',"
     "'mimeType':'application/msword','blob':'UEsD'}}]}",
     "[{'document':{'format':'xlsx','name':'x','source':{'bytes':'UEsD'}}},"
     "{'document':{'format':'xls','name':'x (2)','source':{'bytes':'UEsD'}}},"
     "{'document':{'format':'doc','name':'x (3)','source':{'bytes':'UEsD'}}}]",
     0},
    {"{'content':[{'type':'resource','resource':{'uri':'file:///p.png',"
     "'mimeType':'image/png','blob':'" PNG "'}}]}",
     "[{'image':{'format':'png','source':{'bytes':'" PNG "'}}}]", 0},
    {"{'content':[{'type':'resource','resource':{'uri':'file:///a.zip',"
     "'mimeType':'application/zip','blob':'UEsD'}}]}",
     "[{'text':'[resource file:///a.zip (application/zip), 3 bytes, binary "
     "data, not shown]'}]", 0},
    {"{'content':[{'type':'resource','resource':{'uri':'file:///a.bin',"
     "'blob':'UEsD'}}]}",
     "[{'text':'[resource file:///a.bin, 3 bytes, binary data, not shown]'}]",
     0},
    {"{'content':[{'type':'resource','resource':{'uri':'file:///a.pdf',"
     "'mimeType':'application/pdf','blob':'%%%'}}]}",
     "[{'text':'[resource file:///a.pdf (application/pdf), its blob is not "
     "valid base64, not shown]'}]", 0},
    {"{'content':[{'type':'resource','resource':{'uri':'file:///e'}}]}",
     "[{'text':'[resource file:///e, with neither text nor blob]'}]", 0},
    {"{'content':[{'type':'resource'}]}",
     "[{'text':'[resource content, without a resource object, not shown]'}]",
     0},
    /* resource links */
    {"{'content':[{'type':'resource_link','uri':'file:///x.txt','name':"
     "'x.txt','mimeType':'text/plain','description':'The x file'}]}",
     "[{'text':'resource: file:///x.txt (name: x.txt, type: text/plain)\\n"
     "The x file'}]", 0},
    {"{'content':[{'type':'resource_link','uri':'https://e.com/a'}]}",
     "[{'text':'resource: https://e.com/a'}]", 0},
    {"{'content':[{'type':'resource_link','name':'n\\u0001'}]}",
     "[{'text':'resource: (no uri) (name: n?)'}]", 0},
    /* unknown and malformed items: a note, never dropped */
    {"{'content':[{'type':'video','data':'x'}]}",
     "[{'text':'[content of type 'video', not supported, not shown]'}]", 0},
    {"{'content':[3,{'text':'no type'}]}",
     "[{'text':'[content item 0, not an object, not shown]'},"
     "{'text':'[content item 1, without a type, not shown]'}]", 0},
    /* structuredContent, isError, empty */
    {"{'content':[{'type':'text','text':'{\\'t\\':20}'}],"
     "'structuredContent':{'t':20,'u':[1,'c']}}",
     "[{'text':'{\\'t\\':20}'},{'json':{'t':20,'u':[1,'c']}}]", 0},
    {"{'content':[],'structuredContent':{'ok':true}}",
     "[{'json':{'ok':true}}]", 0},
    {"{'structuredContent':null,'content':[]}", "[{'text':''}]", 0},
    {"{'content':[{'type':'text','text':'boom'}],'isError':true}",
     "[{'text':'boom'}]", 1},
    {"{'content':[],'isError':true}", "[{'text':''}]", 1},
    {"{'content':[{'type':'text','text':'x'}],'isError':'true'}",
     "[{'text':'x'}]", 0},
    {"{'content':[{'type':'text','text':'x'}],'isError':false}",
     "[{'text':'x'}]", 0},
    {"{}", "[{'text':''}]", 0},
    {"{'content':[],'_meta':{'a':1}}", "[{'text':''}]", 0},
};

static void test_cases(void)
{
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int is_error;
        strands_status st;
        char *got = convert(cases[i].result, &is_error, &st);
        if (!got || strcmp(got, cases[i].content))
            fprintf(stderr, "  case %zu: %s\n", i, cases[i].result);
        CHECK_INT(st, STRANDS_OK);
        CHECK_STR(got, cases[i].content);
        CHECK_INT(is_error, cases[i].is_error);
        free(got);
    }
}

static void test_bad_results(void)
{
    json_t *out = (json_t *)1;
    int is_error = 7;
    strands_error e;
    json_t *arr = json_array();
    CHECK_INT(mcp_result_to_content(arr, &out, &is_error, &e),
              STRANDS_E_PARSE);
    CHECK_STR(e.message, "MCP tools/call result is not an object");
    CHECK(out == NULL);
    CHECK_INT(is_error, 0);
    CHECK_INT(mcp_result_to_content(NULL, &out, &is_error, &e),
              STRANDS_E_PARSE);
    json_t *r = load_sq("{'content':{'type':'text','text':'x'}}");
    CHECK_INT(mcp_result_to_content(r, &out, &is_error, &e), STRANDS_E_PARSE);
    CHECK_STR(e.message,
              "MCP tools/call result: \"content\" is not an array");
    json_decref(r);
    json_decref(arr);
}

/* Bedrock's limits: 3.75 MB per image, 4.5 MB per document. */
static void test_size_limits(void)
{
    size_t n = 5000000 / 3 * 4;  /* base64 of 5,000,000 bytes */
    char *b64 = malloc(n + 1);
    memset(b64, 'A', n);
    b64[n] = '\0';
    json_t *r = json_pack(
        "{s:[{s:s,s:s,s:s},{s:s,s:{s:s,s:s,s:s}},{s:s,s:{s:s,s:s,s:s}},"
        "{s:s,s:s%,s:s}]}",
        "content", "type", "image", "mimeType", "image/png", "data", b64,
        "type", "resource", "resource", "uri", "f:///a.pdf", "mimeType",
        "application/pdf", "blob", b64, "type", "resource", "resource",
        "uri", "f:///a.png", "mimeType", "image/png", "blob", b64,
        "type", "image", "data", b64, (size_t)(3750000 / 3 * 4),
        "mimeType", "image/jpeg");
    free(b64);
    json_t *out = NULL;
    int is_error;
    CHECK_INT(mcp_result_to_content(r, &out, &is_error, NULL), STRANDS_OK);
    json_decref(r);
    CHECK_INT(json_array_size(out), 4);
    CHECK_STR(json_string_value(json_object_get(json_array_get(out, 0),
                                                "text")),
              "[image content (image/png), 4999998 bytes, over Bedrock's "
              "3.75 MB image limit, not shown]");
    CHECK_STR(json_string_value(json_object_get(json_array_get(out, 1),
                                                "text")),
              "[resource f:///a.pdf (application/pdf), 4999998 bytes, over "
              "Bedrock's 4.5 MB document limit, not shown]");
    CHECK_STR(json_string_value(json_object_get(json_array_get(out, 2),
                                                "text")),
              "[resource f:///a.png (image/png), 4999998 bytes, over "
              "Bedrock's 3.75 MB image limit, not shown]");
    /* Exactly at the limit passes. */
    CHECK(json_object_get(json_array_get(out, 3), "image") != NULL);
    json_decref(out);
}

/* A note quotes a long URI only in part. */
static void test_long_uri(void)
{
    char uri[600];
    memset(uri, 'u', sizeof uri - 1);
    uri[sizeof uri - 1] = '\0';
    json_t *r = json_pack("{s:[{s:s,s:s}]}", "content", "type",
                          "resource_link", "uri", uri);
    json_t *out = NULL;
    int is_error;
    CHECK_INT(mcp_result_to_content(r, &out, &is_error, NULL), STRANDS_OK);
    const char *t = json_string_value(json_object_get(json_array_get(out, 0),
                                                      "text"));
    CHECK(t && strlen(t) == strlen("resource: ") + 200 + 3);
    CHECK(t && !strcmp(t + strlen(t) - 4, "u..."));
    json_decref(out);
    json_decref(r);
}

static void test_error_text(void)
{
    json_t *c = load_sq("[{'text':'first'},{'image':{'format':'png'}},"
                        "{'document':{'name':'rep','format':'pdf'}},"
                        "{'json':{'code':42}},{'video':{}},{'text':'last'}]");
    char out[256];
    mcp_result_error_text(c, out, sizeof out);
    CHECK_STR(out, "first\n[image]\n[document rep]\n[json] {\"code\":42}\n"
                   "[content]\nlast");
    /* Cut to the buffer. */
    char small[8];
    mcp_result_error_text(c, small, sizeof small);
    CHECK_STR(small, "first\n[");
    mcp_result_error_text(c, small, 1);
    CHECK_STR(small, "");
    small[0] = 'x';
    mcp_result_error_text(c, small, 0);   /* nothing written */
    CHECK(small[0] == 'x');
    mcp_result_error_text(c, NULL, 10);
    json_decref(c);
    /* Never cut inside a UTF-8 sequence. */
    c = load_sq("[{'text':'ab\\u00e9\\u20ac'}]");   /* ab + 2 + 3 bytes */
    for (size_t cap = 1; cap <= 8; cap++) {
        mcp_result_error_text(c, out, cap);
        static const char *const want[] = {"", "a", "ab", "ab", "ab\xc3\xa9",
                                           "ab\xc3\xa9", "ab\xc3\xa9",
                                           "ab\xc3\xa9\xe2\x82\xac"};
        CHECK_STR(out, want[cap - 1]);
    }
    json_decref(c);
    /* Not an array: empty. */
    c = json_object();
    mcp_result_error_text(c, out, sizeof out);
    CHECK_STR(out, "");
    json_decref(c);
    mcp_result_error_text(NULL, out, sizeof out);
    CHECK_STR(out, "");
}

/* The output shares nothing with the input (the result is freed after). */
static void test_output_independent(void)
{
    json_t *r = load_sq("{'content':[{'type':'text','text':'x'}],"
                        "'structuredContent':{'a':[1]}}");
    json_t *out = NULL;
    int is_error;
    CHECK_INT(mcp_result_to_content(r, &out, &is_error, NULL), STRANDS_OK);
    json_array_append_new(json_object_get(json_object_get(r,
                                                          "structuredContent"),
                                          "a"),
                          json_integer(2));
    json_decref(r);
    char *s = json_dumps(out, JSON_COMPACT);
    CHECK_STR(s, "[{\"text\":\"x\"},{\"json\":{\"a\":[1]}}]");
    free(s);
    json_decref(out);
}

int main(void)
{
    RUN(test_cases);
    RUN(test_bad_results);
    RUN(test_size_limits);
    RUN(test_long_uri);
    RUN(test_error_text);
    RUN(test_output_independent);
    return test_report();
}
