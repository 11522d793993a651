/* Confinement of the workspace tools (src/tools/builtin/workspace.c): path
 * parsing ('..', absolute, NUL, long names, '.' and '//'), no symlink is
 * followed out (or in), through a link, a chain of links or a linked
 * directory, whether reading, writing or listing; FIFOs and devices are
 * refused without hanging; WORKSPACE_DIR preparation; the UTF-8 helpers. */
#include <signal.h>
#include <sys/sysmacros.h>
#include <time.h>

#include "strands/clock.h"
#include "tools/builtin/workspace.h"
#include "workspace_fixture.h"

/* Parses s; returns "" on success (components joined by '|'), else the
 * error message.                                                      */
static const char *parse(const char *s, size_t len)
{
    static char out[2 * WS_PATH_MAX + STRANDS_ERROR_MESSAGE_MAX];
    static ws_path p;
    strands_error err;
    strands_error_clear(&err);
    if (ws_path_parse(s, len, &p, &err) != STRANDS_OK) {
        snprintf(out, sizeof out, "E:%s", err.message);
        return out;
    }
    size_t o = 0;
    out[0] = '\0';
    for (size_t i = 0; i < p.n && o < sizeof out; i++)
        o += (size_t)snprintf(out + o, sizeof out - o, "%s%s", i ? "|" : "",
                              ws_path_component(&p, i));
    return out;
}
#define PARSE(s) parse(s, strlen(s))

static void test_parse(void)
{
    CHECK_STR(PARSE("a.txt"), "a.txt");
    CHECK_STR(PARSE("dir/sub/a.txt"), "dir|sub|a.txt");
    CHECK_STR(PARSE("./a//b/./c/"), "a|b|c");
    CHECK_STR(PARSE(""), "");
    CHECK_STR(PARSE("."), "");
    CHECK_STR(PARSE("..."), "...");          /* a name, not a parent */
    CHECK_STR(PARSE("..a/b.."), "..a|b..");
    CHECK_STR(PARSE(".."),
              "E:path '..': '..' components are not allowed");
    CHECK_STR(PARSE("a/../b"),
              "E:path 'a/../b': '..' components are not allowed");
    CHECK_STR(PARSE("a/.."), "E:path 'a/..': '..' components are not "
                             "allowed");
    CHECK_STR(PARSE("/etc/passwd"),
              "E:path '/etc/passwd': absolute paths are not allowed; give a "
              "path relative to the workspace");
    CHECK_STR(parse("a\0b", 3), "E:path 'a': contains a NUL byte");
    char name[300];
    memset(name, 'n', 255);
    name[255] = '\0';
    CHECK_INT(strlen(PARSE(name)), 255);
    memset(name, 'n', 256);
    name[256] = '\0';
    CHECK(strstr(PARSE(name), "a component is longer than 255 bytes"));
    char *big = malloc(WS_PATH_MAX + 2);
    for (size_t i = 0; i < WS_PATH_MAX + 1; i++) big[i] = i % 2 ? '/' : 'x';
    big[WS_PATH_MAX + 1] = '\0';
    CHECK(strstr(PARSE(big), "longer than 4096 bytes"));
    big[WS_PATH_MAX] = '\0'; /* exactly the limit: 2048 components */
    CHECK(PARSE(big)[0] != 'E');
    free(big);
}

/* The message of a call expected to fail with `want` status. */
static const char *fails(fixture *f, const strands_tool_def *def,
                         const char *in, strands_status want)
{
    static strands_error err;
    json_t *out;
    strands_status st = fx_call(f, def, in, &out, &err);
    if (st != want)
        fprintf(stderr, "  %s %s: status %d, want %d (%s)\n", def->name, in,
                (int)st, (int)want, err.message);
    json_decref(out);
    return st == want ? err.message : "(unexpected status)";
}

static void test_dotdot_and_absolute(void)
{
    fixture f;
    fx_init(&f);
    fx_put(f.outside, "secret", "s3cret", 6);
    CHECK_STR(fails(&f, &builtin_file_read, "{\"path\":\"../outside/secret\"}",
                    STRANDS_E_INVALID),
              "path '../outside/secret': '..' components are not allowed");
    char in[PATH_MAX * 2];
    snprintf(in, sizeof in, "{\"path\":\"%s/secret\"}", f.outside);
    CHECK(strstr(fails(&f, &builtin_file_read, in, STRANDS_E_INVALID),
                 "absolute paths are not allowed"));
    CHECK(strstr(fails(&f, &builtin_file_write,
                       "{\"path\":\"../outside/new\",\"content\":\"x\"}",
                       STRANDS_E_INVALID),
                 "'..' components are not allowed"));
    CHECK(!fx_exists(f.outside, "new"));
    CHECK(strstr(fails(&f, &builtin_file_list, "{\"path\":\"..\"}",
                       STRANDS_E_INVALID),
                 "'..' components are not allowed"));
    CHECK(strstr(fails(&f, &builtin_file_list, "{\"path\":\"/\"}",
                       STRANDS_E_INVALID),
                 "absolute paths are not allowed"));
    /* The workspace itself is not a file. */
    CHECK_STR(fails(&f, &builtin_file_read, "{\"path\":\"./\"}",
                    STRANDS_E_INVALID),
              "path './': names the workspace directory, not a file");
    fx_free(&f);
}

static void test_symlink_to_outside(void)
{
    fixture f;
    fx_init(&f);
    fx_put(f.outside, "secret", "s3cret", 6);
    char target[PATH_MAX * 2], link[PATH_MAX * 2];
    /* a file link, a directory link, and a relative link going up */
    symlink(fx_path(target, sizeof target, f.outside, "secret"),
            fx_path(link, sizeof link, f.ws, "file_link"));
    symlink(f.outside, fx_path(link, sizeof link, f.ws, "dir_link"));
    symlink("../outside/secret", fx_path(link, sizeof link, f.ws, "rel_link"));
    CHECK_STR(fails(&f, &builtin_file_read, "{\"path\":\"file_link\"}",
                    STRANDS_E_INVALID),
              "path 'file_link': is a symbolic link; links are not "
              "followed in the workspace");
    CHECK_STR(fails(&f, &builtin_file_read, "{\"path\":\"rel_link\"}",
                    STRANDS_E_INVALID),
              "path 'rel_link': is a symbolic link; links are not "
              "followed in the workspace");
    CHECK_STR(fails(&f, &builtin_file_read, "{\"path\":\"dir_link/secret\"}",
                    STRANDS_E_INVALID),
              "path 'dir_link/secret': 'dir_link' is a symbolic link; "
              "links are not followed in the workspace");
    /* Writing through any of them changes nothing outside. */
    fails(&f, &builtin_file_write,
          "{\"path\":\"file_link\",\"content\":\"pwned\"}", STRANDS_E_INVALID);
    fails(&f, &builtin_file_write,
          "{\"path\":\"file_link\",\"content\":\"pwned\",\"mode\":\"append\"}",
          STRANDS_E_INVALID);
    fails(&f, &builtin_file_write,
          "{\"path\":\"dir_link/secret\",\"content\":\"pwned\"}",
          STRANDS_E_INVALID);
    fails(&f, &builtin_file_write,
          "{\"path\":\"dir_link/new/deeper\",\"content\":\"x\"}",
          STRANDS_E_INVALID);
    CHECK_STR(fx_get(f.outside, "secret", NULL), "s3cret");
    CHECK(!fx_exists(f.outside, "new"));
    /* The link itself is still a link (not replaced by a file either). */
    struct stat st;
    CHECK(lstat(fx_path(link, sizeof link, f.ws, "file_link"), &st) == 0 &&
          S_ISLNK(st.st_mode));
    /* Listing shows links as links and does not descend into them. */
    strands_error err;
    json_t *out;
    CHECK_INT(fx_call(&f, &builtin_file_list, "{\"recursive\":true}", &out,
                      &err),
              STRANDS_OK);
    json_t *e = json_object_get(out, "entries");
    CHECK_INT(json_array_size(e), 3);
    for (size_t i = 0; i < json_array_size(e); i++)
        CHECK_STR(fx_str(json_array_get(e, i), "type"), "symlink");
    json_decref(out);
    CHECK(strstr(fails(&f, &builtin_file_list, "{\"path\":\"dir_link\"}",
                       STRANDS_E_INVALID),
                 "'dir_link' is a symbolic link"));
    fx_free(&f);
}

static void test_symlink_chain_and_inside(void)
{
    fixture f;
    fx_init(&f);
    fx_put(f.outside, "secret", "s3cret", 6);
    fx_put(f.ws, "real.txt", "inside", 6);
    char p[PATH_MAX * 2], t[PATH_MAX * 2];
    /* a -> b -> c -> outside/secret */
    symlink(fx_path(t, sizeof t, f.outside, "secret"),
            fx_path(p, sizeof p, f.ws, "c"));
    symlink("c", fx_path(p, sizeof p, f.ws, "b"));
    symlink("b", fx_path(p, sizeof p, f.ws, "a"));
    CHECK(strstr(fails(&f, &builtin_file_read, "{\"path\":\"a\"}",
                       STRANDS_E_INVALID), "is a symbolic link"));
    /* A link that stays inside is refused too (documented). */
    symlink("real.txt", fx_path(p, sizeof p, f.ws, "alias"));
    CHECK(strstr(fails(&f, &builtin_file_read, "{\"path\":\"alias\"}",
                       STRANDS_E_INVALID), "is a symbolic link"));
    /* A directory link deep in the path. */
    mkdir(fx_path(p, sizeof p, f.ws, "d1"), 0700);
    mkdir(fx_path(p, sizeof p, f.ws, "d1/d2"), 0700);
    symlink(f.outside, fx_path(p, sizeof p, f.ws, "d1/d2/up"));
    CHECK_STR(fails(&f, &builtin_file_read,
                    "{\"path\":\"d1/d2/up/secret\"}", STRANDS_E_INVALID),
              "path 'd1/d2/up/secret': 'd1/d2/up' is a symbolic link; links "
              "are not followed in the workspace");
    /* A regular file where a directory is expected. */
    CHECK_STR(fails(&f, &builtin_file_read, "{\"path\":\"real.txt/x\"}",
                    STRANDS_E_INVALID),
              "path 'real.txt/x': 'real.txt' is not a directory (it is a "
              "file)");
    CHECK_STR(fails(&f, &builtin_file_read, "{\"path\":\"nope/x\"}",
                    STRANDS_E_NOT_FOUND),
              "path 'nope/x': 'nope' does not exist");
    CHECK_STR(fails(&f, &builtin_file_read, "{\"path\":\"nope\"}",
                    STRANDS_E_NOT_FOUND),
              "path 'nope': does not exist");
    fx_free(&f);
}

static volatile sig_atomic_t alarmed;
static void on_alarm(int sig)
{
    (void)sig;
    alarmed = 1;
}

static void test_fifo_refused_without_hanging(void)
{
    fixture f;
    fx_init(&f);
    char p[PATH_MAX * 2];
    CHECK(mkfifo(fx_path(p, sizeof p, f.ws, "pipe"), 0600) == 0);
    /* If anything opened the FIFO blocking, the alarm would break it. */
    struct sigaction sa = {.sa_handler = on_alarm}, old;
    sigaction(SIGALRM, &sa, &old);
    alarm(5);
    int64_t t0 = strands_clock_mono_ms();
    CHECK_STR(fails(&f, &builtin_file_read, "{\"path\":\"pipe\"}",
                    STRANDS_E_INVALID),
              "path 'pipe': is a fifo, not a regular file");
    CHECK_STR(fails(&f, &builtin_file_write,
                    "{\"path\":\"pipe\",\"content\":\"x\"}",
                    STRANDS_E_INVALID),
              "path 'pipe': is a fifo, not a regular file");
    CHECK_STR(fails(&f, &builtin_file_write,
                    "{\"path\":\"pipe\",\"content\":\"x\",\"mode\":"
                    "\"append\"}", STRANDS_E_INVALID),
              "path 'pipe': is a fifo, not a regular file");
    CHECK(strstr(fails(&f, &builtin_file_list, "{\"path\":\"pipe\"}",
                       STRANDS_E_INVALID), "is not a directory (it is a "
                                           "fifo)"));
    alarm(0);
    sigaction(SIGALRM, &old, NULL);
    CHECK(!alarmed);
    CHECK(strands_clock_mono_ms() - t0 < 2000);
    /* Still a FIFO: not replaced by a regular file. */
    struct stat st;
    CHECK(lstat(p, &st) == 0 && S_ISFIFO(st.st_mode));
    fx_free(&f);
}

static void test_device_refused(void)
{
    fixture f;
    fx_init(&f);
    char p[PATH_MAX * 2];
    if (mknod(fx_path(p, sizeof p, f.ws, "null"), S_IFCHR | 0600,
              makedev(1, 3)) != 0) {
        fx_free(&f);
        SKIP("mknod: %s", strerror(errno));
    }
    CHECK_STR(fails(&f, &builtin_file_read, "{\"path\":\"null\"}",
                    STRANDS_E_INVALID),
              "path 'null': is a char_device, not a regular file");
    CHECK_STR(fails(&f, &builtin_file_write,
                    "{\"path\":\"null\",\"content\":\"x\",\"mode\":"
                    "\"append\"}", STRANDS_E_INVALID),
              "path 'null': is a char_device, not a regular file");
    strands_error err;
    json_t *out;
    CHECK_INT(fx_call(&f, &builtin_file_list, "{}", &out, &err), STRANDS_OK);
    CHECK_STR(fx_str(json_array_get(json_object_get(out, "entries"), 0),
                     "type"), "char_device");
    json_decref(out);
    fx_free(&f);
}

static void test_long_names(void)
{
    fixture f;
    fx_init(&f);
    char in[1024], name[300];
    memset(name, 'L', 255);
    name[255] = '\0';
    strands_error err;
    json_t *out;
    snprintf(in, sizeof in, "{\"path\":\"%s\",\"content\":\"ok\"}", name);
    CHECK_INT(fx_call(&f, &builtin_file_write, in, &out, &err), STRANDS_OK);
    json_decref(out);
    CHECK_STR(fx_get(f.ws, name, NULL), "ok");
    snprintf(in, sizeof in, "{\"path\":\"%s\"}", name);
    CHECK_INT(fx_call(&f, &builtin_file_read, in, &out, &err), STRANDS_OK);
    CHECK_STR(fx_str(out, "content"), "ok");
    json_decref(out);
    snprintf(in, sizeof in, "{\"path\":\"%sX\",\"content\":\"no\"}", name);
    CHECK(strstr(fails(&f, &builtin_file_write, in, STRANDS_E_INVALID),
                 "a component is longer than 255 bytes"));
    fx_free(&f);
}

static void test_prepare(void)
{
    fixture f;
    fx_init(&f);
    char p[PATH_MAX * 2];
    strands_error err;
    char *abs = NULL;
    /* Missing: created with its parents. */
    CHECK_INT(ws_prepare(fx_path(p, sizeof p, f.top, "new/deeper"), &abs,
                         &err), STRANDS_OK);
    CHECK_STR(abs, p);
    struct stat st;
    CHECK(stat(p, &st) == 0 && S_ISDIR(st.st_mode));
    CHECK_INT(st.st_mode & 0777, 0700);
    free(abs);
    /* A file: refused, naming the variable. */
    fx_put(f.top, "file", "x", 1);
    CHECK_INT(ws_prepare(fx_path(p, sizeof p, f.top, "file"), &abs, &err),
              STRANDS_E_INVALID);
    CHECK(abs == NULL);
    CHECK(strncmp(err.message, "WORKSPACE_DIR: '", 16) == 0);
    CHECK(strstr(err.message, "is not a directory (it is a file)"));
    /* Below a file: cannot be created. */
    CHECK_INT(ws_prepare(fx_path(p, sizeof p, f.top, "file/sub"), &abs, &err),
              STRANDS_E_IO);
    CHECK(strncmp(err.message, "WORKSPACE_DIR: cannot create '", 30) == 0);
    CHECK_INT(ws_prepare("", &abs, &err), STRANDS_E_INVALID);
    /* A symlink to a directory is fine (the operator's choice); the kept
     * path is the real one. */
    char link[PATH_MAX * 2];
    symlink(f.ws, fx_path(link, sizeof link, f.top, "wslink"));
    CHECK_INT(ws_prepare(link, &abs, &err), STRANDS_OK);
    char *real = realpath(f.ws, NULL);
    CHECK_STR(abs, real);
    free(real);
    free(abs);
    fx_free(&f);
}

static void test_registry_rejects_bad_workspace(void)
{
    fixture f;
    fx_init(&f);
    fx_put(f.top, "file", "x", 1);
    char p[PATH_MAX * 2];
    builtin_options o;
    builtin_options_default(&o);
    o.workspace_dir = fx_path(p, sizeof p, f.top, "file");
    strands_tool_registry *reg = strands_tool_registry_new();
    strands_error err;
    /* Tools that do not use the workspace do not care. */
    CHECK_INT(builtin_add_tools(reg, "calculator", &o, &err),
              STRANDS_OK);
    strands_tool_registry_free(reg);
    reg = strands_tool_registry_new();
    CHECK_INT(builtin_add_tools(reg, "calculator,file_read", &o, &err),
              STRANDS_E_INVALID);
    CHECK(strncmp(err.message, "WORKSPACE_DIR: ", 15) == 0);
    CHECK_INT(strands_tool_registry_count(reg), 0);
    /* A good one: the tools run in it through the registry. */
    o.workspace_dir = fx_path(p, sizeof p, f.top, "created");
    CHECK_INT(builtin_add_tools(reg, "file_write,file_read", &o, &err),
              STRANDS_OK);
    const strands_tool *t = strands_tool_registry_find(reg, "file_write");
    json_t *in = json_pack("{s:s, s:s}", "path", "x/y.txt", "content", "hi");
    json_t *content = NULL;
    CHECK_INT(strands_tool_call(t, in, NULL, &content, &err), STRANDS_OK);
    json_decref(in);
    json_decref(content);
    CHECK_STR(fx_get(p, "x/y.txt", NULL), "hi");
    strands_tool_registry_free(reg);
    fx_free(&f);
}

static void test_utf8(void)
{
    const unsigned char ok[] = "a\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80";
    CHECK_INT(ws_utf8_valid_prefix(ok, sizeof ok - 1), sizeof ok - 1);
    CHECK_INT(ws_utf8_valid_prefix((const unsigned char *)"a\0b", 3), 1);
    CHECK_INT(ws_utf8_valid_prefix((const unsigned char *)"\xC0\xAF", 2), 0);
    CHECK_INT(ws_utf8_valid_prefix((const unsigned char *)"\xED\xA0\x80", 3),
              0); /* surrogate */
    CHECK_INT(ws_utf8_valid_prefix((const unsigned char *)"\xF4\x90\x80\x80",
                                   4), 0); /* past U+10FFFF */
    CHECK_INT(ws_utf8_valid_prefix((const unsigned char *)"ab\xFF", 3), 2);
    /* cut inside the euro sign: 1 or 2 bytes of 3 */
    CHECK_INT(ws_utf8_incomplete_tail((const unsigned char *)"x\xE2\x82", 3),
              2);
    CHECK_INT(ws_utf8_incomplete_tail((const unsigned char *)"x\xE2", 2), 1);
    CHECK_INT(ws_utf8_incomplete_tail((const unsigned char *)"x\xFF", 2), 0);
    CHECK_INT(ws_utf8_incomplete_tail((const unsigned char *)"x\xE2x", 3), 0);
    CHECK_INT(ws_utf8_incomplete_tail((const unsigned char *)"xy", 2), 0);
    size_t n;
    char *s = ws_utf8_lossy("a\xFF" "b\0c", 5, &n);
    CHECK_STR(s, "a\xEF\xBF\xBD" "b\xEF\xBF\xBD" "c");
    CHECK_INT(n, 9);
    free(s);
}

int main(void)
{
    RUN(test_parse);
    RUN(test_dotdot_and_absolute);
    RUN(test_symlink_to_outside);
    RUN(test_symlink_chain_and_inside);
    RUN(test_fifo_refused_without_hanging);
    RUN(test_device_refused);
    RUN(test_long_names);
    RUN(test_prepare);
    RUN(test_registry_rejects_bad_workspace);
    RUN(test_utf8);
    return test_report();
}
