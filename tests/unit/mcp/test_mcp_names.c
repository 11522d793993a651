/* Tests for the model-facing MCP tool names (src/mcp/names.c): valid
 * names kept as prefix + name; dots, slashes, spaces and UTF-8 mapped to
 * '_' with a hash suffix; long names cut to 64 with the suffix; the
 * mapping is stable (a fixed expected value) and depends only on
 * (prefix, name); collisions and duplicates are reported, the first one
 * kept; the map works both ways.                                       */
#include "mcp/names.h"
#include "test.h"

/* FNV-1a 32 of s, written independently of names.c for the checks. */
static unsigned ref_hash(const char *s)
{
    unsigned long h = 0x811c9dc5ul;
    while (*s) {
        h = (h ^ (unsigned char)*s++) * 0x01000193ul;
        h &= 0xfffffffful;
    }
    return (unsigned)h;
}

static int valid_model_name(const char *s)
{
    size_t n = strlen(s);
    if (n < 1 || n > 64) return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
              (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '-'))
            return 0;
    return 1;
}

static void test_valid_names_kept(void)
{
    char out[MCP_TOOL_NAME_MAX + 1];
    strands_error e;
    CHECK_INT(mcp_names_model_name("fs_", "read_file", out, &e), STRANDS_OK);
    CHECK_STR(out, "fs_read_file");
    CHECK_INT(mcp_names_model_name("", "Get-Thing", out, &e), STRANDS_OK);
    CHECK_STR(out, "Get-Thing");
    CHECK_INT(mcp_names_model_name(NULL, "x", out, &e), STRANDS_OK);
    CHECK_STR(out, "x");
    /* Exactly 64 bytes: kept as is. */
    char name[80];
    memset(name, 'a', 61);
    name[61] = '\0';
    CHECK_INT(mcp_names_model_name("gw_", name, out, &e), STRANDS_OK);
    CHECK_INT(strlen(out), 64);
    CHECK(!strncmp(out, "gw_aaa", 6) && out[63] == 'a');
}

static void test_mapped_names(void)
{
    char out[MCP_TOOL_NAME_MAX + 1], want[80];
    strands_error e;
    /* A literal value pins the hash, so a change of hash (which would
     * rename every mapped tool) fails here: FNV-1a 32 of "a.b".       */
    CHECK_INT(ref_hash("a.b"), 0x108bf50cu);
    CHECK_INT(mcp_names_model_name("s_", "a.b", out, &e), STRANDS_OK);
    CHECK_STR(out, "s_a_b_108bf50c");
    /* Slashes, spaces, UTF-8 (each byte becomes '_'). */
    CHECK_INT(mcp_names_model_name("p_", "files/read file", out, &e),
              STRANDS_OK);
    snprintf(want, sizeof want, "p_files_read_file_%08x",
             ref_hash("files/read file"));
    CHECK_STR(out, want);
    CHECK_INT(mcp_names_model_name("p_", "caf\xc3\xa9", out, &e), STRANDS_OK);
    snprintf(want, sizeof want, "p_caf___%08x", ref_hash("caf\xc3\xa9"));
    CHECK_STR(out, want);
    CHECK(valid_model_name(out));
    /* A prefix with bad bytes (names.h maps them too). */
    CHECK_INT(mcp_names_model_name("my.srv_", "x", out, &e), STRANDS_OK);
    snprintf(want, sizeof want, "my_srv_x_%08x", ref_hash("x"));
    CHECK_STR(out, want);
    /* Too long: cut to 55 bytes + "_" + 8 hex = 64. */
    char name[200];
    memset(name, 'n', 150);
    name[150] = '\0';
    CHECK_INT(mcp_names_model_name("srv_", name, out, &e), STRANDS_OK);
    CHECK_INT(strlen(out), 64);
    CHECK(!strncmp(out, "srv_nnnn", 8));
    snprintf(want, sizeof want, "_%08x", ref_hash(name));
    CHECK_STR(out + 55, want);
    CHECK(valid_model_name(out));
    /* Two long names that share the first 55 bytes still differ. */
    char name2[200];
    memcpy(name2, name, sizeof name);
    name2[149] = 'm';
    char out2[MCP_TOOL_NAME_MAX + 1];
    CHECK_INT(mcp_names_model_name("srv_", name2, out2, &e), STRANDS_OK);
    CHECK(strcmp(out, out2) != 0);
    CHECK(!strncmp(out, out2, 55));
    /* A prefix over 40 bytes is cut to 40 (room is always left). */
    char prefix[100];
    memset(prefix, 'p', 90);
    prefix[90] = '\0';
    CHECK_INT(mcp_names_model_name(prefix, "tool", out, &e), STRANDS_OK);
    CHECK_STR(out + 40, "tool");
    CHECK_INT(strlen(out), 44);
    CHECK_INT(mcp_names_model_name(prefix, name, out, &e), STRANDS_OK);
    CHECK_INT(strlen(out), 64);
    CHECK(valid_model_name(out));
    /* Empty remote name. */
    CHECK_INT(mcp_names_model_name("p_", "", out, &e), STRANDS_E_INVALID);
    CHECK_STR(e.message, "MCP tool name is empty");
    CHECK_INT(mcp_names_model_name("p_", NULL, out, &e), STRANDS_E_INVALID);
}

static void test_stability(void)
{
    /* The same (prefix, name) always gives the same model name, and a
     * map built from a re-list in another order agrees.                */
    const char *a[] = {"x.y", "read", "a/b/c", "z"};
    const char *b[] = {"z", "a/b/c", "read", "x.y"};
    mcp_name_map *m1 = mcp_name_map_new("s_", a, 4, NULL, NULL);
    mcp_name_map *m2 = mcp_name_map_new("s_", b, 4, NULL, NULL);
    CHECK(m1 && m2);
    for (int i = 0; i < 4; i++) {
        const char *x = mcp_name_map_model(m1, a[i]);
        const char *y = mcp_name_map_model(m2, a[i]);
        CHECK(x && y);
        if (x && y) CHECK_STR(x, y);
        char out[MCP_TOOL_NAME_MAX + 1];
        CHECK_INT(mcp_names_model_name("s_", a[i], out, NULL), STRANDS_OK);
        if (x) CHECK_STR(x, out);
    }
    mcp_name_map_free(m1);
    mcp_name_map_free(m2);
}

static void test_map_both_ways(void)
{
    const char *names[] = {"echo", "get.weather", "files/list", "add"};
    char **skipped = (char **)1;
    strands_error e;
    mcp_name_map *m = mcp_name_map_new("ev_", names, 4, &skipped, &e);
    CHECK(m != NULL);
    CHECK(skipped == NULL);
    char want[80];
    CHECK_STR(mcp_name_map_model(m, "echo"), "ev_echo");
    CHECK_STR(mcp_name_map_remote(m, "ev_echo"), "echo");
    CHECK_STR(mcp_name_map_model(m, "add"), "ev_add");
    snprintf(want, sizeof want, "ev_get_weather_%08x",
             ref_hash("get.weather"));
    CHECK_STR(mcp_name_map_model(m, "get.weather"), want);
    CHECK_STR(mcp_name_map_remote(m, want), "get.weather");
    snprintf(want, sizeof want, "ev_files_list_%08x", ref_hash("files/list"));
    CHECK_STR(mcp_name_map_remote(m, want), "files/list");
    CHECK(mcp_name_map_remote(m, "echo") == NULL);     /* not a model name */
    CHECK(mcp_name_map_remote(m, "ev_nope") == NULL);
    CHECK(mcp_name_map_model(m, "nope") == NULL);
    CHECK(mcp_name_map_model(m, NULL) == NULL);
    CHECK(mcp_name_map_remote(NULL, "ev_echo") == NULL);
    mcp_name_map_free(m);
    mcp_name_map_free(NULL);
    /* An empty list. */
    m = mcp_name_map_new("p_", NULL, 0, &skipped, &e);
    CHECK(m != NULL && skipped == NULL);
    CHECK(mcp_name_map_remote(m, "p_x") == NULL);
    mcp_name_map_free(m);
    /* The map keeps its own copies. */
    char mutable_name[] = "tool";
    const char *one[] = {mutable_name};
    m = mcp_name_map_new("p_", one, 1, NULL, &e);
    mutable_name[0] = 'X';
    CHECK_STR(mcp_name_map_remote(m, "p_tool"), "tool");
    CHECK_STR(mcp_name_map_model(m, "tool"), "p_tool");
    mcp_name_map_free(m);
}

static void test_collisions(void)
{
    char hashed[80];
    snprintf(hashed, sizeof hashed, "a_b_%08x", ref_hash("a.b"));
    /* "a.b" maps to a_b_<hash>; a server tool literally named that
     * collides; the one listed first keeps the name. Duplicates and
     * empty names are reported too.                                    */
    const char *names[] = {"a.b", "ok", hashed, "ok", "", NULL, "last"};
    char **skipped = NULL;
    strands_error e;
    mcp_name_map *m = mcp_name_map_new("", names, 7, &skipped, &e);
    CHECK(m != NULL);
    CHECK(skipped != NULL);
    if (!m || !skipped) return;
    CHECK_STR(mcp_name_map_remote(m, hashed), "a.b");
    CHECK_STR(mcp_name_map_model(m, "a.b"), hashed);
    CHECK(mcp_name_map_model(m, hashed) == NULL);  /* the loser is out */
    CHECK_STR(mcp_name_map_model(m, "ok"), "ok");
    CHECK_STR(mcp_name_map_model(m, "last"), "last");
    char want[300];
    snprintf(want, sizeof want, "%s: model name %s is already used by "
                                "'a.b', so this tool is left out", hashed,
             hashed);
    CHECK_STR(skipped[0], want);
    CHECK_STR(skipped[1], "ok: listed twice, the second one is left out");
    CHECK_STR(skipped[2], ": empty tool name, left out");
    CHECK_STR(skipped[3], ": empty tool name, left out");
    CHECK(skipped[4] == NULL);
    mcp_names_free_list(skipped);
    mcp_name_map_free(m);
    /* The winner is the first in input order even when it sorts later;
     * weird bytes in a report are shown as '?'.                       */
    const char *rev[] = {"x\ny", "x y", "x_y_zz"};
    char mx[MCP_TOOL_NAME_MAX + 1], my[MCP_TOOL_NAME_MAX + 1];
    mcp_names_model_name("", "x\ny", mx, NULL);
    mcp_names_model_name("", "x y", my, NULL);
    CHECK(strcmp(mx, my) != 0);  /* the hash separates them */
    m = mcp_name_map_new("", rev, 3, &skipped, &e);
    CHECK(skipped == NULL);
    mcp_name_map_free(m);
    const char *twice[] = {"x\ny", "x\ny"};
    m = mcp_name_map_new("", twice, 2, &skipped, &e);
    CHECK(skipped != NULL);
    if (skipped)
        CHECK_STR(skipped[0], "x?y: listed twice, the second one is left out");
    CHECK_STR(mcp_name_map_remote(m, mx), "x\ny");
    mcp_names_free_list(skipped);
    skipped = NULL;
    mcp_name_map_free(m);
    mcp_names_free_list(skipped);
    mcp_names_free_list(NULL);
}

/* Many names: every kept name is valid and unique, lookups agree. */
static void test_many(void)
{
    enum { N = 2000 };
    static char buf[N][40];
    const char *names[N];
    for (int i = 0; i < N; i++) {
        snprintf(buf[i], sizeof buf[i], i % 3 ? "tool.%d" : "tool_%d", i);
        names[i] = buf[i];
    }
    char **skipped = NULL;
    mcp_name_map *m = mcp_name_map_new("gateway_target_", names, N,
                                       &skipped, NULL);
    CHECK(m != NULL);
    CHECK(skipped == NULL);
    for (int i = 0; m && i < N; i++) {
        const char *model = mcp_name_map_model(m, names[i]);
        CHECK(model && valid_model_name(model));
        if (model) CHECK_STR(mcp_name_map_remote(m, model), names[i]);
    }
    mcp_name_map_free(m);
    mcp_names_free_list(skipped);
}

int main(void)
{
    RUN(test_valid_names_kept);
    RUN(test_mapped_names);
    RUN(test_stability);
    RUN(test_map_both_ways);
    RUN(test_collisions);
    RUN(test_many);
    return test_report();
}
