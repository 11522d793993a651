/* Model-facing tool names for one MCP server (see mcp/names.h): the
 * prefix + name rule with a 32-bit FNV-1a hash of the server's original
 * name for names that must be changed, and the two-way map with
 * collision reporting. Lookups are binary searches over two sorted
 * index arrays.                                                          */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/text.h"
#include "mcp/names.h"

#define PREFIX_MAX 40     /* bytes of the prefix used */
#define HASH_SUFFIX 9     /* "_" + 8 hex digits */
#define SHOW_MAX 64       /* bytes of a server name shown in a report */

static int is_model_char(unsigned char ch)
{
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
           (ch >= '0' && ch <= '9') || ch == '_' || ch == '-';
}

/* FNV-1a, 32 bits: stable across builds, platforms and restarts. */
static uint32_t fnv1a(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 16777619u;
    }
    return h;
}

strands_status mcp_names_model_name(const char *prefix, const char *remote,
                                    char out[MCP_TOOL_NAME_MAX + 1],
                                    strands_error *err)
{
    out[0] = '\0';
    if (!remote || !*remote)
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "MCP tool name is empty");
    if (!prefix) prefix = "";
    size_t pl = strnlen(prefix, PREFIX_MAX), rl = strlen(remote);
    int valid = pl + rl <= MCP_TOOL_NAME_MAX;
    for (size_t i = 0; valid && i < pl; i++)
        valid = is_model_char((unsigned char)prefix[i]);
    for (size_t i = 0; valid && i < rl; i++)
        valid = is_model_char((unsigned char)remote[i]);
    if (valid) {
        memcpy(out, prefix, pl);
        memcpy(out + pl, remote, rl + 1);
        return STRANDS_OK;
    }
    /* Mapped bytes, cut so that "_xxxxxxxx" fits. */
    size_t room = MCP_TOOL_NAME_MAX - HASH_SUFFIX, o = 0;
    for (size_t i = 0; i < pl && o < room; i++)
        out[o++] = is_model_char((unsigned char)prefix[i]) ? prefix[i] : '_';
    for (size_t i = 0; i < rl && o < room; i++)
        out[o++] = is_model_char((unsigned char)remote[i]) ? remote[i] : '_';
    snprintf(out + o, HASH_SUFFIX + 1, "_%08x", (unsigned)fnv1a(remote));
    return STRANDS_OK;
}

typedef struct name_entry {
    char *model;
    char *remote;
} name_entry;

struct mcp_name_map {
    name_entry *by_model;   /* sorted by model */
    name_entry **by_remote; /* the same entries, sorted by remote */
    size_t n;
};

static int cmp_model(const void *a, const void *b)
{
    return strcmp(((const name_entry *)a)->model,
                  ((const name_entry *)b)->model);
}

static int cmp_remote(const void *a, const void *b)
{
    return strcmp((*(name_entry *const *)a)->remote,
                  (*(name_entry *const *)b)->remote);
}

void mcp_names_free_list(char **list)
{
    if (!list) return;
    for (char **p = list; *p; p++) free(*p);
    free(list);
}

void mcp_name_map_free(mcp_name_map *m)
{
    if (!m) return;
    for (size_t i = 0; i < m->n; i++) {
        free(m->by_model[i].model);
        free(m->by_model[i].remote);
    }
    free(m->by_model);
    free(m->by_remote);
    free(m);
}

/* A server name for a report: printable ASCII, others '?', cut. */
static void show(char *out, size_t cap, const char *s)
{
    core_text_shown(out, cap, s, SHOW_MAX, NULL);
}

/* Appends "<remote>: <why>" to the skipped list at *list (n so far). */
static int add_skipped(char ***list, size_t *n, const char *remote,
                       const char *why)
{
    char a[SHOW_MAX + 8], line[3 * SHOW_MAX + 256];
    show(a, sizeof a, remote);
    snprintf(line, sizeof line, "%s: %s", a, why);
    char **nl = realloc(*list, (*n + 2) * sizeof *nl);
    if (!nl) return -1;
    *list = nl;
    nl[*n] = strdup(line);
    if (!nl[*n]) return -1;
    nl[++*n] = NULL;
    return 0;
}

typedef struct cand {
    char model[MCP_TOOL_NAME_MAX + 1];
    size_t index;          /* in the input */
    size_t winner;         /* skip == 2: the input index that keeps it */
    int skip;              /* 0 kept, 1 empty name, 2 collision */
} cand;

static int cmp_cand(const void *a, const void *b)
{
    const cand *x = a, *y = b;
    int c = strcmp(x->model, y->model);
    if (c) return c;
    return x->index < y->index ? -1 : x->index > y->index;
}

static int cmp_index(const void *a, const void *b)
{
    const cand *x = a, *y = b;
    return x->index < y->index ? -1 : x->index > y->index;
}

/* The reason a candidate is left out, into why. */
static void skip_reason(const cand *c, const char *remote,
                        const char *winner, char *why, size_t cap)
{
    char w[SHOW_MAX + 8];
    if (c->skip == 1) {
        snprintf(why, cap, "empty tool name, left out");
    } else if (!strcmp(remote, winner)) {
        snprintf(why, cap, "listed twice, the second one is left out");
    } else {
        show(w, sizeof w, winner);
        snprintf(why, cap, "model name %s is already used by '%s', so this "
                           "tool is left out", c->model, w);
    }
}

mcp_name_map *mcp_name_map_new(const char *prefix, const char *const *remote,
                               size_t n, char ***skipped_out,
                               strands_error *err)
{
    char **skipped = NULL;
    size_t n_skipped = 0, kept = 0;
    if (skipped_out) *skipped_out = NULL;
    mcp_name_map *m = calloc(1, sizeof *m);
    cand *c = calloc(n ? n : 1, sizeof *c);
    if (!m || !c) goto oom;
    for (size_t i = 0; i < n; i++) {
        c[i].index = i;
        const char *r = remote[i] ? remote[i] : "";
        if (mcp_names_model_name(prefix, r, c[i].model, NULL) != STRANDS_OK)
            c[i].skip = 1;
    }
    /* Equal model names end up adjacent, the earliest input first: the
     * first one that is not itself skipped keeps the name.              */
    qsort(c, n, sizeof *c, cmp_cand);
    for (size_t i = 0, run = 0; i < n; i = run) {
        size_t keep = n;
        for (run = i; run < n && !strcmp(c[run].model, c[i].model); run++) {
            if (c[run].skip) continue;
            if (keep == n) {
                keep = run;
            } else {
                c[run].skip = 2;
                c[run].winner = c[keep].index;
            }
        }
    }
    qsort(c, n, sizeof *c, cmp_index);
    for (size_t i = 0; i < n; i++) {
        if (!c[i].skip) {
            kept++;
            continue;
        }
        char why[2 * SHOW_MAX + 128];
        const char *r = remote[i] ? remote[i] : "";
        skip_reason(&c[i], r, c[i].skip == 2 ? remote[c[i].winner] : "", why,
                    sizeof why);
        if (add_skipped(&skipped, &n_skipped, r, why)) goto oom;
    }
    m->by_model = calloc(kept ? kept : 1, sizeof *m->by_model);
    m->by_remote = calloc(kept ? kept : 1, sizeof *m->by_remote);
    if (!m->by_model || !m->by_remote) goto oom;
    for (size_t i = 0; i < n; i++) {
        if (c[i].skip) continue;
        name_entry *e = &m->by_model[m->n];
        e->model = strdup(c[i].model);
        e->remote = strdup(remote[i]);
        if (!e->model || !e->remote) {
            free(e->model);
            free(e->remote);
            goto oom;
        }
        m->n++;
    }
    qsort(m->by_model, m->n, sizeof *m->by_model, cmp_model);
    for (size_t i = 0; i < m->n; i++) m->by_remote[i] = &m->by_model[i];
    qsort(m->by_remote, m->n, sizeof *m->by_remote, cmp_remote);
    free(c);
    if (skipped_out)
        *skipped_out = skipped;
    else
        mcp_names_free_list(skipped);
    return m;
oom:
    free(c);
    mcp_name_map_free(m);
    mcp_names_free_list(skipped);
    strands_error_set(err, STRANDS_E_NOMEM, NULL,
                      "MCP tool names: out of memory");
    return NULL;
}

const char *mcp_name_map_remote(const mcp_name_map *m, const char *model)
{
    if (!m || !model || !m->n) return NULL;
    name_entry key = {(char *)model, NULL};
    const name_entry *e = bsearch(&key, m->by_model, m->n,
                                  sizeof *m->by_model, cmp_model);
    return e ? e->remote : NULL;
}

const char *mcp_name_map_model(const mcp_name_map *m, const char *remote)
{
    if (!m || !remote || !m->n) return NULL;
    name_entry key = {NULL, (char *)remote};
    name_entry *kp = &key;
    name_entry *const *e = bsearch(&kp, m->by_remote, m->n,
                                   sizeof *m->by_remote, cmp_remote);
    return e ? (*e)->model : NULL;
}
