/* The file tools' run functions called directly on a temporary workspace:
 * file_read (text, base64 for binary, offset/limit, the FILE_MAX_BYTES
 * cap as a flagged partial read, a cut never splits a character),
 * file_write (modes, parent directories, atomic overwrite, base64, the
 * size cap, no temporary file left behind), file_list (sorted entries,
 * types and sizes, recursion, the entry cap) and their input errors.  */
#include <dirent.h>

#include "net/base64.h"
#include "workspace_fixture.h"

static void test_read_text_and_binary(void)
{
    fixture f;
    fx_init(&f);
    fx_put(f.ws, "hello.txt", "h\xC3\xA9llo\n", 7);
    fx_put(f.ws, "bin", "\x00\x01\x02\xFF", 4);
    strands_error err;
    json_t *out;
    CHECK_INT(fx_call(&f, &builtin_file_read, "{\"path\":\"hello.txt\"}",
                      &out, &err), STRANDS_OK);
    CHECK_STR(fx_str(out, "content"), "h\xC3\xA9llo\n");
    CHECK_STR(fx_str(out, "encoding"), "text");
    CHECK_STR(fx_str(out, "path"), "hello.txt");
    CHECK_INT(fx_int(out, "size"), 7);
    CHECK_INT(fx_int(out, "length"), 7);
    CHECK(json_is_false(json_object_get(out, "truncated")));
    CHECK(!json_object_get(out, "next_offset"));
    json_decref(out);
    CHECK_INT(fx_call(&f, &builtin_file_read, "{\"path\":\"./bin\"}", &out,
                      &err), STRANDS_OK);
    CHECK_STR(fx_str(out, "encoding"), "base64");
    CHECK_STR(fx_str(out, "content"), "AAEC/w==");
    json_decref(out);
    /* Empty file, and an offset past the end: empty text. */
    fx_put(f.ws, "empty", "", 0);
    CHECK_INT(fx_call(&f, &builtin_file_read, "{\"path\":\"empty\"}", &out,
                      &err), STRANDS_OK);
    CHECK_STR(fx_str(out, "content"), "");
    json_decref(out);
    CHECK_INT(fx_call(&f, &builtin_file_read,
                      "{\"path\":\"hello.txt\",\"offset\":100}", &out, &err),
              STRANDS_OK);
    CHECK_STR(fx_str(out, "content"), "");
    CHECK(json_is_false(json_object_get(out, "truncated")));
    json_decref(out);
    fx_free(&f);
}

static void test_read_cap_and_ranges(void)
{
    fixture f;
    fx_init(&f);
    fx_put(f.ws, "abc", "abcdefghijklmnopqrstuvwxy", 25);
    f.opt.file_max_bytes = 10;
    strands_error err;
    json_t *out;
    /* Over the cap: a flagged partial read and where to go on. */
    CHECK_INT(fx_call(&f, &builtin_file_read, "{\"path\":\"abc\"}", &out,
                      &err), STRANDS_OK);
    CHECK_STR(fx_str(out, "content"), "abcdefghij");
    CHECK(json_is_true(json_object_get(out, "truncated")));
    CHECK_INT(fx_int(out, "next_offset"), 10);
    CHECK_INT(fx_int(out, "size"), 25);
    json_decref(out);
    CHECK_INT(fx_call(&f, &builtin_file_read,
                      "{\"path\":\"abc\",\"offset\":20}", &out, &err),
              STRANDS_OK);
    CHECK_STR(fx_str(out, "content"), "uvwxy");
    CHECK(json_is_false(json_object_get(out, "truncated")));
    json_decref(out);
    /* limit below the cap; a limit above it is held to the cap. */
    CHECK_INT(fx_call(&f, &builtin_file_read,
                      "{\"path\":\"abc\",\"offset\":3,\"limit\":4}", &out,
                      &err), STRANDS_OK);
    CHECK_STR(fx_str(out, "content"), "defg");
    CHECK_INT(fx_int(out, "next_offset"), 7);
    json_decref(out);
    CHECK_INT(fx_call(&f, &builtin_file_read,
                      "{\"path\":\"abc\",\"limit\":1000}", &out, &err),
              STRANDS_OK);
    CHECK_INT(fx_int(out, "length"), 10);
    json_decref(out);
    /* A cut in the middle of a 3-byte character ends before it. */
    fx_put(f.ws, "euro", "123456789\xE2\x82\xAC", 12);
    CHECK_INT(fx_call(&f, &builtin_file_read, "{\"path\":\"euro\"}", &out,
                      &err), STRANDS_OK);
    CHECK_STR(fx_str(out, "encoding"), "text");
    CHECK_STR(fx_str(out, "content"), "123456789");
    CHECK_INT(fx_int(out, "next_offset"), 9);
    json_decref(out);
    CHECK_INT(fx_call(&f, &builtin_file_read,
                      "{\"path\":\"euro\",\"offset\":9}", &out, &err),
              STRANDS_OK);
    CHECK_STR(fx_str(out, "content"), "\xE2\x82\xAC");
    json_decref(out);
    /* Bad inputs. */
    CHECK_INT(fx_call(&f, &builtin_file_read,
                      "{\"path\":\"abc\",\"limit\":0}", &out, &err),
              STRANDS_E_INVALID);
    CHECK_STR(err.message, "\"limit\" must be at least 1");
    CHECK_INT(fx_call(&f, &builtin_file_read,
                      "{\"path\":\"abc\",\"offset\":-1}", &out, &err),
              STRANDS_E_INVALID);
    CHECK_STR(err.message, "\"offset\" must be a non-negative integer");
    CHECK_INT(fx_call(&f, &builtin_file_read, "{\"path\":7}", &out, &err),
              STRANDS_E_INVALID);
    CHECK_STR(err.message, "\"path\" must be a string");
    CHECK_INT(fx_call(&f, &builtin_file_read, "[]", &out, &err),
              STRANDS_E_INVALID);
    fx_free(&f);
}

/* Names in the workspace directory `rel` that start with ".strands-tmp". */
static int temp_files(fixture *f, const char *rel)
{
    char p[PATH_MAX * 2];
    DIR *d = opendir(fx_path(p, sizeof p, f->ws, rel));
    int n = 0;
    struct dirent *de;
    while (d && (de = readdir(d)))
        if (!strncmp(de->d_name, ".strands-tmp", 12)) n++;
    if (d) closedir(d);
    return n;
}

static void test_write_modes(void)
{
    fixture f;
    fx_init(&f);
    strands_error err;
    json_t *out;
    /* Parents are made; the result says what happened. */
    CHECK_INT(fx_call(&f, &builtin_file_write,
                      "{\"path\":\"a/b/c.txt\",\"content\":\"one\"}", &out,
                      &err), STRANDS_OK);
    CHECK_STR(fx_str(out, "mode"), "overwrite");
    CHECK_INT(fx_int(out, "bytes_written"), 3);
    CHECK_INT(fx_int(out, "size"), 3);
    json_decref(out);
    CHECK_STR(fx_get(f.ws, "a/b/c.txt", NULL), "one");
    CHECK_INT(fx_call(&f, &builtin_file_write,
                      "{\"path\":\"a/b/c.txt\",\"content\":\"+two\","
                      "\"mode\":\"append\"}", &out, &err), STRANDS_OK);
    CHECK_INT(fx_int(out, "size"), 7);
    json_decref(out);
    CHECK_STR(fx_get(f.ws, "a/b/c.txt", NULL), "one+two");
    /* create: refuses an existing file, makes a new one. */
    CHECK_INT(fx_call(&f, &builtin_file_write,
                      "{\"path\":\"a/b/c.txt\",\"content\":\"x\","
                      "\"mode\":\"create\"}", &out, &err), STRANDS_E_INVALID);
    CHECK_STR(err.message, "path 'a/b/c.txt': already exists (mode "
                           "\"create\")");
    CHECK_STR(fx_get(f.ws, "a/b/c.txt", NULL), "one+two");
    CHECK_INT(fx_call(&f, &builtin_file_write,
                      "{\"path\":\"new.txt\",\"content\":\"fresh\","
                      "\"mode\":\"create\"}", &out, &err), STRANDS_OK);
    json_decref(out);
    CHECK_STR(fx_get(f.ws, "new.txt", NULL), "fresh");
    /* append creates a missing file */
    CHECK_INT(fx_call(&f, &builtin_file_write,
                      "{\"path\":\"log\",\"content\":\"l1\",\"mode\":"
                      "\"append\"}", &out, &err), STRANDS_OK);
    json_decref(out);
    CHECK_STR(fx_get(f.ws, "log", NULL), "l1");
    /* base64 content */
    CHECK_INT(fx_call(&f, &builtin_file_write,
                      "{\"path\":\"bin\",\"content\":\"AAEC/w==\","
                      "\"encoding\":\"base64\"}", &out, &err), STRANDS_OK);
    json_decref(out);
    size_t n;
    const char *got = fx_get(f.ws, "bin", &n);
    CHECK_MEM(got, n, "\x00\x01\x02\xFF", 4);
    CHECK_INT(fx_call(&f, &builtin_file_write,
                      "{\"path\":\"bin\",\"content\":\"A=A\",\"encoding\":"
                      "\"base64\"}", &out, &err), STRANDS_E_INVALID);
    CHECK_STR(err.message, "\"content\" is not valid base64");
    CHECK_INT(fx_call(&f, &builtin_file_write,
                      "{\"path\":\"x\",\"content\":\"a\",\"mode\":\"bad\"}",
                      &out, &err), STRANDS_E_INVALID);
    CHECK_STR(err.message, "\"mode\" must be \"overwrite\", \"append\" or "
                           "\"create\"");
    CHECK_INT(fx_call(&f, &builtin_file_write,
                      "{\"path\":\"x\",\"content\":\"a\",\"encoding\":"
                      "\"hex\"}", &out, &err), STRANDS_E_INVALID);
    CHECK_INT(fx_call(&f, &builtin_file_write, "{\"path\":\"x\"}", &out,
                      &err), STRANDS_E_INVALID);
    CHECK_STR(err.message, "\"content\" must be a string");
    /* A directory is not overwritten. */
    CHECK_INT(fx_call(&f, &builtin_file_write,
                      "{\"path\":\"a/b\",\"content\":\"x\"}", &out, &err),
              STRANDS_E_INVALID);
    CHECK_STR(err.message, "path 'a/b': is a directory, not a regular file");
    CHECK_INT(temp_files(&f, "."), 0);
    CHECK_INT(temp_files(&f, "a/b"), 0);
    fx_free(&f);
}

static void test_write_is_atomic_and_keeps_mode(void)
{
    fixture f;
    fx_init(&f);
    fx_put(f.ws, "doc", "old content", 11);
    char p[PATH_MAX * 2];
    chmod(fx_path(p, sizeof p, f.ws, "doc"), 0640);
    /* A reader that opened the file before keeps seeing all of the old
     * content: the new one arrives by rename, never in place. */
    int fd = open(p, O_RDONLY);
    struct stat before, after;
    fstat(fd, &before);
    strands_error err;
    json_t *out;
    CHECK_INT(fx_call(&f, &builtin_file_write,
                      "{\"path\":\"doc\",\"content\":\"new\"}", &out, &err),
              STRANDS_OK);
    json_decref(out);
    char buf[32] = {0};
    CHECK_INT(pread(fd, buf, sizeof buf - 1, 0), 11);
    CHECK_STR(buf, "old content");
    close(fd);
    CHECK_STR(fx_get(f.ws, "doc", NULL), "new");
    CHECK(stat(p, &after) == 0);
    CHECK(after.st_ino != before.st_ino);
    CHECK_INT(after.st_mode & 0777, 0640);
    CHECK_INT(temp_files(&f, "."), 0);
    fx_free(&f);
}

static void test_write_cap(void)
{
    fixture f;
    fx_init(&f);
    f.opt.file_max_bytes = 4;
    strands_error err;
    json_t *out;
    CHECK_INT(fx_call(&f, &builtin_file_write,
                      "{\"path\":\"x\",\"content\":\"12345\"}", &out, &err),
              STRANDS_E_TOO_LARGE);
    CHECK_STR(err.message, "content is 5 bytes, more than the limit of 4 "
                           "(FILE_MAX_BYTES)");
    CHECK(!fx_exists(f.ws, "x"));
    /* base64: the decoded size counts ("AAECAw==" is 4 bytes). */
    CHECK_INT(fx_call(&f, &builtin_file_write,
                      "{\"path\":\"x\",\"content\":\"AAECAw==\","
                      "\"encoding\":\"base64\"}", &out, &err), STRANDS_OK);
    json_decref(out);
    CHECK_INT(fx_call(&f, &builtin_file_write,
                      "{\"path\":\"x\",\"content\":\"AAECAwQ=\","
                      "\"encoding\":\"base64\"}", &out, &err),
              STRANDS_E_TOO_LARGE);
    fx_free(&f);
}

static void test_list(void)
{
    fixture f;
    fx_init(&f);
    char p[PATH_MAX * 2];
    fx_put(f.ws, "b.txt", "bb", 2);
    fx_put(f.ws, "a.txt", "a", 1);
    mkdir(fx_path(p, sizeof p, f.ws, "dir"), 0700);
    fx_put(f.ws, "dir/inner", "123", 3);
    mkdir(fx_path(p, sizeof p, f.ws, "dir/sub"), 0700);
    strands_error err;
    json_t *out;
    CHECK_INT(fx_call(&f, &builtin_file_list, "{}", &out, &err), STRANDS_OK);
    char *text = json_dumps(out, JSON_COMPACT);
    CHECK_STR(text, "{\"path\":\".\",\"entries\":["
                    "{\"path\":\"a.txt\",\"type\":\"file\",\"size\":1},"
                    "{\"path\":\"b.txt\",\"type\":\"file\",\"size\":2},"
                    "{\"path\":\"dir\",\"type\":\"directory\"}],"
                    "\"count\":3,\"truncated\":false}");
    free(text);
    json_decref(out);
    CHECK_INT(fx_call(&f, &builtin_file_list,
                      "{\"recursive\":true}", &out, &err), STRANDS_OK);
    json_t *e = json_object_get(out, "entries");
    CHECK_INT(json_array_size(e), 5);
    CHECK_STR(fx_str(json_array_get(e, 3), "path"), "dir/inner");
    CHECK_INT(fx_int(json_array_get(e, 3), "size"), 3);
    CHECK_STR(fx_str(json_array_get(e, 4), "path"), "dir/sub");
    json_decref(out);
    /* A subdirectory, named from the workspace root. */
    CHECK_INT(fx_call(&f, &builtin_file_list, "{\"path\":\"./dir//\"}", &out,
                      &err), STRANDS_OK);
    e = json_object_get(out, "entries");
    CHECK_INT(json_array_size(e), 2);
    CHECK_STR(fx_str(json_array_get(e, 0), "path"), "dir/inner");
    json_decref(out);
    /* The cap: says it cut. */
    CHECK_INT(fx_call(&f, &builtin_file_list,
                      "{\"recursive\":true,\"max_entries\":2}", &out, &err),
              STRANDS_OK);
    CHECK_INT(json_array_size(json_object_get(out, "entries")), 2);
    CHECK(json_is_true(json_object_get(out, "truncated")));
    json_decref(out);
    /* Errors */
    CHECK_INT(fx_call(&f, &builtin_file_list, "{\"path\":\"a.txt\"}", &out,
                      &err), STRANDS_E_INVALID);
    CHECK_STR(err.message, "path 'a.txt': 'a.txt' is not a directory (it is "
                           "a file)");
    CHECK_INT(fx_call(&f, &builtin_file_list, "{\"path\":\"none\"}", &out,
                      &err), STRANDS_E_NOT_FOUND);
    CHECK_INT(fx_call(&f, &builtin_file_list, "{\"max_entries\":0}", &out,
                      &err), STRANDS_E_INVALID);
    CHECK_STR(err.message, "\"max_entries\" must be an integer in 1..10000");
    CHECK_INT(fx_call(&f, &builtin_file_list, "{\"recursive\":1}", &out,
                      &err), STRANDS_E_INVALID);
    fx_free(&f);
}

static void test_list_default_cap_and_non_utf8(void)
{
    fixture f;
    fx_init(&f);
    char name[32];
    for (int i = 0; i < BUILTIN_LIST_MAX_ENTRIES + 5; i++) {
        snprintf(name, sizeof name, "f%04d", i);
        fx_put(f.ws, name, "", 0);
    }
    fx_put(f.ws, "bad\xFFname", "", 0);
    strands_error err;
    json_t *out;
    CHECK_INT(fx_call(&f, &builtin_file_list, "{}", &out, &err), STRANDS_OK);
    CHECK_INT(json_array_size(json_object_get(out, "entries")),
              BUILTIN_LIST_MAX_ENTRIES);
    CHECK(json_is_true(json_object_get(out, "truncated")));
    CHECK_STR(fx_str(json_array_get(json_object_get(out, "entries"), 0),
                     "path"), "f0000");
    json_decref(out);
    CHECK_INT(fx_call(&f, &builtin_file_list, "{\"max_entries\":2000}", &out,
                      &err), STRANDS_OK);
    CHECK_INT(json_array_size(json_object_get(out, "entries")),
              BUILTIN_LIST_MAX_ENTRIES + 5);
    CHECK(json_is_false(json_object_get(out, "truncated")));
    CHECK_INT(fx_int(out, "skipped_non_utf8"), 1);
    json_decref(out);
    fx_free(&f);
}

/* With TOOL_RESULT_MAX_BYTES small, the read is shortened so the whole
 * result (as compact JSON) fits, and stays a proper partial read. */
static void test_read_fits_result_budget(void)
{
    fixture f;
    fx_init(&f);
    f.opt.result_max_bytes = 400;
    char text[1000], bin[1000];
    for (int i = 0; i < 1000; i++) {
        text[i] = i % 10 == 9 ? '\n' : (char)('a' + i % 26); /* '\n' -> \\n */
        bin[i] = (char)(i * 7);
    }
    fx_put(f.ws, "text", text, sizeof text);
    fx_put(f.ws, "bin", bin, sizeof bin);
    const char *files[] = {"{\"path\":\"text\"}", "{\"path\":\"bin\"}"};
    for (int k = 0; k < 2; k++) {
        json_t *in = json_loads(files[k], 0, NULL);
        json_t *content = NULL;
        strands_error err;
        CHECK_INT(builtin_file_read.run(&f.opt, in, NULL, &content, &err),
                  STRANDS_OK);
        CHECK(json_dumpb(content, NULL, 0, JSON_COMPACT) <= 400);
        json_t *o = json_object_get(json_array_get(content, 0), "json");
        CHECK(json_is_true(json_object_get(o, "truncated")));
        CHECK(fx_int(o, "length") > 100);
        CHECK_INT(fx_int(o, "next_offset"), fx_int(o, "length"));
        CHECK_STR(fx_str(o, "encoding"), k ? "base64" : "text");
        json_decref(content);
        json_decref(in);
    }
    fx_free(&f);
}

static void test_missing_workspace(void)
{
    fixture f;
    fx_init(&f);
    char gone[PATH_MAX * 2];
    f.opt.workspace_dir = fx_path(gone, sizeof gone, f.top, "gone");
    strands_error err;
    json_t *out;
    CHECK_INT(fx_call(&f, &builtin_file_read, "{\"path\":\"x\"}", &out,
                      &err), STRANDS_E_IO);
    CHECK(strstr(err.message, "cannot open the workspace (WORKSPACE_DIR"));
    fx_free(&f);
}

int main(void)
{
    RUN(test_read_text_and_binary);
    RUN(test_read_cap_and_ranges);
    RUN(test_write_modes);
    RUN(test_write_is_atomic_and_keeps_mode);
    RUN(test_write_cap);
    RUN(test_list);
    RUN(test_list_default_cap_and_non_utf8);
    RUN(test_read_fits_result_budget);
    RUN(test_missing_workspace);
    return test_report();
}
