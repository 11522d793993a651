/* Shared by the workspace-tool tests (test_workspace.c, test_file_tools.c,
 * test_shell.c): a fresh temporary workspace with an "outside" directory
 * beside it, file helpers, and a way to call a built-in's run function
 * directly with builtin_options pointing at the workspace.             */
#ifndef TEST_WORKSPACE_FIXTURE_H
#define TEST_WORKSPACE_FIXTURE_H

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test.h"
#include "tools/builtin/builtin.h"

typedef struct fixture {
    char top[64];      /* temporary directory holding both below */
    char ws[80];       /* <top>/ws: the workspace */
    char outside[80];  /* <top>/outside: must never be touched */
    builtin_options opt;
} fixture;

static inline int fx_rm(const char *p, const struct stat *sb, int flag,
                 struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(p);
}

static inline void fx_init(fixture *f)
{
    snprintf(f->top, sizeof f->top, "/tmp/strands-ws-test-XXXXXX");
    if (!mkdtemp(f->top)) {
        perror("mkdtemp");
        exit(2);
    }
    snprintf(f->ws, sizeof f->ws, "%s/ws", f->top);
    snprintf(f->outside, sizeof f->outside, "%s/outside", f->top);
    mkdir(f->ws, 0700);
    mkdir(f->outside, 0700);
    builtin_options_default(&f->opt);
    f->opt.workspace_dir = f->ws;
}

static inline void fx_free(fixture *f)
{
    nftw(f->top, fx_rm, 16, FTW_DEPTH | FTW_PHYS);
}

/* <base>/<rel> into buf. */
static inline char *fx_path(char *buf, size_t n, const char *base,
                           const char *rel)
{
    snprintf(buf, n, "%s/%s", base, rel);
    return buf;
}

static inline void fx_put(const char *base, const char *rel, const void *data,
                   size_t len)
{
    char p[PATH_MAX * 2];
    FILE *fp = fopen(fx_path(p, sizeof p, base, rel), "wb");
    if (!fp) {
        perror(p);
        exit(2);
    }
    fwrite(data, 1, len, fp);
    fclose(fp);
}

/* Whole file into a static buffer ("" when missing; its length in *len). */
static inline const char *fx_get(const char *base, const char *rel, size_t *len)
{
    static char buf[1 << 16];
    char p[PATH_MAX * 2];
    size_t n = 0;
    FILE *fp = fopen(fx_path(p, sizeof p, base, rel), "rb");
    if (fp) {
        n = fread(buf, 1, sizeof buf - 1, fp);
        fclose(fp);
    }
    buf[n] = '\0';
    if (len) *len = n;
    return buf;
}

static inline int fx_exists(const char *base, const char *rel)
{
    char p[PATH_MAX * 2];
    struct stat st;
    return lstat(fx_path(p, sizeof p, base, rel), &st) == 0;
}

/* Runs the built-in with the fixture's options on the JSON text input.
 * Returns the status; *out gets the "json" object of the first content
 * block (a new reference; NULL on error), err the message.            */
static inline strands_status fx_call_ctx(fixture *f, const strands_tool_def *def,
                                  const char *input_json,
                                  const strands_tool_context *ctx,
                                  json_t **out, strands_error *err)
{
    json_error_t je;
    json_t *in = json_loads(input_json, JSON_ALLOW_NUL, &je);
    if (!in) {
        fprintf(stderr, "bad test input %s: %s\n", input_json, je.text);
        exit(2);
    }
    json_t *content = NULL;
    strands_error_clear(err);
    strands_status st = def->run(&f->opt, in, ctx, &content, err);
    json_decref(in);
    *out = NULL;
    if (st == STRANDS_OK) {
        json_t *j = json_object_get(json_array_get(content, 0), "json");
        *out = json_incref(j);
        if (!j) fprintf(stderr, "no json block in the result\n");
    }
    json_decref(content);
    return st;
}

static inline strands_status fx_call(fixture *f, const strands_tool_def *def,
                              const char *input_json, json_t **out,
                              strands_error *err)
{
    return fx_call_ctx(f, def, input_json, NULL, out, err);
}

static inline const char *fx_str(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

static inline long long fx_int(const json_t *o, const char *key)
{
    return (long long)json_integer_value(json_object_get(o, key));
}

#endif
