/* Allocation-failure sweeps over the MCP pure functions: config parsing
 * (every key, ${VAR} expansion, OAuth scopes), result mapping (every
 * content type, document names, structuredContent) and the name map.
 * Every failing allocation gives a clean E_NOMEM and frees everything
 * (the ASan build checks for leaks); the run past the last allocation
 * succeeds with the full result.                                      */
#include "failalloc.h"
#include "mcp/config.h"
#include "mcp/names.h"
#include "mcp/result.h"
#include "test.h"

static const char *test_env(void *user, const char *name)
{
    (void)user;
    return !strcmp(name, "TOKEN") ? "tok-123" : NULL;
}

static const char config_text[] =
    "{\"mcpServers\": {"
    " \"local\": {\"command\": \"npx\", \"args\": [\"-y\", \"srv\","
    "  \"--key=${TOKEN}\", \"$${lit}\"], \"env\": {\"A\": \"${TOKEN}\","
    "  \"B\": \"b\"}, \"cwd\": \"/w\", \"allow\": [\"x\", \"y\"],"
    "  \"deny\": [\"y\"], \"timeout_seconds\": 5},"
    " \"remote.one\": {\"url\": \"https://h.example/mcp\", \"headers\": "
    "  {\"Authorization\": \"Bearer ${TOKEN}\", \"X-A\": \"1\"}},"
    " \"gw\": {\"type\": \"http\", \"url\": \"https://gw.example/mcp\","
    "  \"auth\": {\"type\": \"sigv4\", \"region\": \"us-west-2\"}},"
    " \"oauth\": {\"url\": \"https://o.example/mcp\", \"prefix\": \"o_\","
    "  \"auth\": {\"type\": \"oauth2_client_credentials\","
    "  \"token_url\": \"https://auth.example/token\", \"client_id\": \"id\","
    "  \"client_secret\": \"${TOKEN}\", \"scopes\": [\"a\", \"b/c\"]}},"
    " \"off\": {\"disabled\": true}"
    "}}";

/* How many allocations json_loadb makes for the config text. jansson
 * 2.14's lexer ignores failed appends to its token buffer and can then
 * hit an assert(0) while re-reading the token (load.c lex_scan_string),
 * so the sweep starts after the parser's own allocations: what is swept
 * is our code from the parsed document on.                           */
static long parser_allocations(void)
{
    const long big = 1L << 40;
    failalloc_arm(big);
    json_t *v = json_loadb(config_text, sizeof config_text - 1,
                           JSON_REJECT_DUPLICATES, NULL);
    long used = big - atomic_load(&failalloc_countdown);
    failalloc_disarm();
    CHECK(v != NULL);
    json_decref(v);
    return used;
}

static void test_config_sweep(void)
{
    long n, clean = 0, runs = 0, skip = parser_allocations();
    CHECK(skip > 10);
    for (n = skip + 1; n <= skip + 2000 && (failalloc_arm(n), 1);
         n = failalloc_disarm() ? n + 1 : skip + 2000 + 2) {
        runs++;
        mcp_config c;
        strands_error e;
        strands_status st = mcp_config_parse(config_text,
                                             sizeof config_text - 1,
                                             test_env, NULL, &c, &e);
        if (st == STRANDS_OK) {
            clean++;
            CHECK_INT(c.n_servers, 4);
            if (c.n_servers == 4) {
                CHECK_STR(c.servers[0].args[2], "--key=tok-123");
                CHECK_STR(c.servers[1].headers[0],
                          "Authorization: Bearer tok-123");
                CHECK_STR(c.servers[1].prefix, "remote_one_");
                CHECK_STR(c.servers[2].auth.service, "bedrock-agentcore");
                CHECK_STR(c.servers[3].auth.scope, "a b/c");
            }
        } else {
            CHECK_INT(st, STRANDS_E_NOMEM);
            CHECK_INT(e.status, STRANDS_E_NOMEM);
            CHECK(c.servers == NULL && c.n_servers == 0);
        }
        mcp_config_free(&c);
    }
    CHECK(n == skip + 2000 + 2);
    CHECK_INT(clean, 1);
    CHECK(runs > 50);
}

static const char result_text[] =
    "{\"content\": ["
    " {\"type\": \"text\", \"text\": \"hello\"},"
    " {\"type\": \"image\", \"data\": \"iVBORw0KGgo=\", \"mimeType\": "
    "  \"image/png\"},"
    " {\"type\": \"image\", \"data\": \"PHN2Zz4=\", \"mimeType\": "
    "  \"image/svg+xml\"},"
    " {\"type\": \"audio\", \"data\": \"UklGRg==\", \"mimeType\": "
    "  \"audio/wav\"},"
    " {\"type\": \"resource\", \"resource\": {\"uri\": \"file:///a.txt\","
    "  \"text\": \"body\"}},"
    " {\"type\": \"resource\", \"resource\": {\"uri\": \"file:///r.pdf\","
    "  \"mimeType\": \"application/pdf\", \"blob\": \"JVBERg==\"}},"
    " {\"type\": \"resource\", \"resource\": {\"uri\": \"file:///r.pdf\","
    "  \"mimeType\": \"application/pdf\", \"blob\": \"JVBERg==\"}},"
    " {\"type\": \"resource\", \"resource\": {\"uri\": \"file:///z.zip\","
    "  \"blob\": \"UEsD\"}},"
    " {\"type\": \"resource_link\", \"uri\": \"file:///l\", \"name\": \"l\","
    "  \"description\": \"d\"},"
    " {\"type\": \"mystery\"}, 5],"
    " \"structuredContent\": {\"k\": [1, 2, {\"z\": null}]},"
    " \"isError\": true}";

static void test_result_sweep(void)
{
    json_t *r = json_loads(result_text, 0, NULL);
    CHECK(r != NULL);
    if (!r) return;
    long n, clean = 0;
    FAILALLOC_SWEEP(n, 2000) {
        json_t *out = NULL;
        int is_error = -1;
        strands_error e;
        strands_status st = mcp_result_to_content(r, &out, &is_error, &e);
        char text[512] = "";
        if (st == STRANDS_OK) mcp_result_error_text(out, text, sizeof text);
        /* mcp_result_error_text is void: when its json_dumps fails the
         * note stays "[json] " without the dump, and that is all.      */
        if (st == STRANDS_OK && strstr(text, "[json] {\"k\":[1,2,"))
            clean++;
        if (st == STRANDS_OK) {
            CHECK(strstr(text, "\n[json] ") != NULL);
            CHECK_INT(json_array_size(out), 12);
            CHECK_INT(is_error, 1);
            CHECK(!strncmp(text, "hello\n[image]\n", 14));
        } else {
            CHECK_INT(st, STRANDS_E_NOMEM);
            CHECK(out == NULL);
        }
        json_decref(out);
    }
    CHECK(n == 2000 + 2);
    CHECK_INT(clean, 1);
    json_decref(r);
}

static void test_names_sweep(void)
{
    static const char long_name[] =
        "very/long/name/that/needs/to/be/cut/because/it/is/longer/than/"
        "sixty/four/bytes";
    const char *names[] = {"echo", "a.b", "a_b_108bf50c", "echo", "",
                           long_name};
    long n, clean = 0;
    FAILALLOC_SWEEP(n, 500) {
        char **skipped = NULL;
        strands_error e;
        mcp_name_map *m = mcp_name_map_new("p_", names, 6, &skipped, &e);
        if (m) {
            clean++;
            CHECK_STR(mcp_name_map_model(m, "echo"), "p_echo");
            CHECK(skipped && skipped[0] && skipped[1] && skipped[2] && !skipped[3]);
        } else {
            CHECK_INT(e.status, STRANDS_E_NOMEM);
            CHECK(skipped == NULL);
        }
        mcp_name_map_free(m);
        mcp_names_free_list(skipped);
    }
    CHECK(n == 500 + 2);
    CHECK_INT(clean, 1);
}

int main(void)
{
    failalloc_init();
    RUN(test_config_sweep);
    RUN(test_result_sweep);
    RUN(test_names_sweep);
    return test_report();
}
