/* Parser for the AWS shared config/credentials INI files (see ini.h for
 * the syntax). Owns the parsed sections; values are wiped on free because
 * the credentials file holds secret keys. Error messages name the file and
 * line but never quote the text.                                         */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aws/ini.h"

typedef struct ini_entry {
    char *key;    /* lowercased setting name */
    char *sub;    /* sub-section key, NULL for a top-level setting */
    char *value;
} ini_entry;

typedef struct ini_section {
    char *type;   /* "profile", "sso-session", "services", ... */
    char *name;
    ini_entry *entries;
    size_t n, cap;
} ini_section;

struct aws_ini {
    ini_section *sections;
    size_t n, cap;
};

#define NO_SECTION (-2L)    /* no header seen yet */
#define IGNORED (-1L)       /* inside a section that names no profile */

typedef struct parser {
    aws_ini *ini;
    aws_ini_kind kind;
    const char *label;
    size_t lineno;
    long cur;           /* section index, IGNORED or NO_SECTION */
    int have_setting;   /* a setting line opened in this section */
    size_t indent;      /* its indentation */
    int nested;         /* its value was empty: sub-section follows */
    long last;          /* its entry index, -1 in an ignored section */
    strands_error *err;
} parser;

/* ---- small string helpers ------------------------------------------ */

static char *dupn(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (!d) return NULL;
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

static int is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\f' || c == '\v' || c == '\r';
}

/* Trims whitespace from both ends of [*s, *s + *n). */
static void trim(const char **s, size_t *n)
{
    while (*n && is_ws(**s)) {
        (*s)++;
        (*n)--;
    }
    while (*n && is_ws((*s)[*n - 1])) (*n)--;
}

static void wipe_free(char *s)
{
    if (!s) return;
    explicit_bzero(s, strlen(s));
    free(s);
}

/* ---- the parsed structure ----------------------------------------- */

static void entry_free(ini_entry *e)
{
    free(e->key);
    free(e->sub);
    wipe_free(e->value);
}

static void section_free(ini_section *s)
{
    for (size_t i = 0; i < s->n; i++) entry_free(&s->entries[i]);
    free(s->entries);
    free(s->type);
    free(s->name);
}

void aws_ini_free(aws_ini *ini)
{
    if (!ini) return;
    for (size_t i = 0; i < ini->n; i++) section_free(&ini->sections[i]);
    free(ini->sections);
    free(ini);
}

static const ini_section *find_section(const aws_ini *ini, const char *type,
                                       const char *name)
{
    if (!ini || !type || !name) return NULL;
    for (size_t i = 0; i < ini->n; i++)
        if (!strcmp(ini->sections[i].type, type) &&
            !strcmp(ini->sections[i].name, name))
            return &ini->sections[i];
    return NULL;
}

static const char *section_value(const ini_section *s, const char *key,
                                 const char *sub)
{
    if (!s || !key) return NULL;
    for (size_t i = 0; i < s->n; i++) {
        const ini_entry *e = &s->entries[i];
        if (strcmp(e->key, key)) continue;
        if (!sub && !e->sub) return e->value;
        if (sub && e->sub && !strcmp(e->sub, sub)) return e->value;
    }
    return NULL;
}

const char *aws_ini_get(const aws_ini *ini, const char *profile,
                        const char *key)
{
    return section_value(find_section(ini, "profile", profile), key, NULL);
}

const char *aws_ini_get_sub(const aws_ini *ini, const char *profile,
                            const char *key, const char *subkey)
{
    if (!subkey) return NULL;
    return section_value(find_section(ini, "profile", profile), key, subkey);
}

const char *aws_ini_section_get(const aws_ini *ini, const char *type,
                                const char *name, const char *key,
                                const char *subkey)
{
    return section_value(find_section(ini, type, name), key, subkey);
}

int aws_ini_has_profile(const aws_ini *ini, const char *profile)
{
    return find_section(ini, "profile", profile) != NULL;
}

/* ---- parsing -------------------------------------------------------- */

static strands_status fail(parser *p, strands_status st, const char *what)
{
    return strands_error_set(p->err, st, NULL, "%s:%zu: %s", p->label,
                             p->lineno, what);
}

static strands_status oom(parser *p)
{
    return strands_error_set(p->err, STRANDS_E_NOMEM, NULL,
                             "out of memory parsing %s", p->label);
}

/* Selects (creating when new) the section type/name; sets p->cur. */
static strands_status open_section(parser *p, const char *type,
                                   const char *name, size_t name_len)
{
    aws_ini *ini = p->ini;
    for (size_t i = 0; i < ini->n; i++) {
        const ini_section *s = &ini->sections[i];
        if (!strcmp(s->type, type) && strlen(s->name) == name_len &&
            !memcmp(s->name, name, name_len)) {
            p->cur = (long)i;
            return STRANDS_OK;
        }
    }
    if (ini->n >= AWS_INI_MAX_SECTIONS)
        return fail(p, STRANDS_E_TOO_LARGE, "too many sections");
    if (ini->n == ini->cap) {
        size_t cap = ini->cap ? ini->cap * 2 : 8;
        ini_section *ns = realloc(ini->sections, cap * sizeof *ns);
        if (!ns) return oom(p);
        ini->sections = ns;
        ini->cap = cap;
    }
    ini_section *s = &ini->sections[ini->n];
    memset(s, 0, sizeof *s);
    s->type = dupn(type, strlen(type));
    s->name = dupn(name, name_len);
    if (!s->type || !s->name) {
        section_free(s);
        return oom(p);
    }
    p->cur = (long)ini->n++;
    return STRANDS_OK;
}

/* Interprets a header's text (already trimmed) for the file's kind. */
static strands_status section_header(parser *p, const char *h, size_t n)
{
    p->have_setting = 0;
    if (p->kind == AWS_INI_CREDENTIALS ||
        (n == 7 && !memcmp(h, "default", 7)))
        return open_section(p, "profile", h, n);
    /* Config file: "type name", name optionally quoted (shlex-like). */
    size_t tlen = 0;
    while (tlen < n && !is_ws(h[tlen])) tlen++;
    const char *name = h + tlen;
    size_t nlen = n - tlen;
    trim(&name, &nlen);
    if (nlen >= 2 && (name[0] == '"' || name[0] == '\'') &&
        name[nlen - 1] == name[0]) {
        name++;
        nlen -= 2;
    } else {
        for (size_t i = 0; i < nlen; i++)
            if (is_ws(name[i]) || name[i] == '"' || name[i] == '\'')
                nlen = 0;  /* more than two words: not a section we know */
    }
    if (nlen == 0 || tlen == 0 || tlen >= 32) {
        p->cur = IGNORED;
        return STRANDS_OK;
    }
    char type[32];
    memcpy(type, h, tlen);
    type[tlen] = '\0';
    return open_section(p, type, name, nlen);
}

/* Appends an entry to the current section; returns its index or -1. */
static long add_entry(parser *p, const char *key, size_t klen,
                      const char *sub, size_t slen, const char *val,
                      size_t vlen)
{
    ini_section *s = &p->ini->sections[p->cur];
    if (s->n >= AWS_INI_MAX_ENTRIES) {
        fail(p, STRANDS_E_TOO_LARGE, "too many settings in one section");
        return -1;
    }
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 8;
        ini_entry *ne = realloc(s->entries, cap * sizeof *ne);
        if (!ne) {
            oom(p);
            return -1;
        }
        s->entries = ne;
        s->cap = cap;
    }
    ini_entry *e = &s->entries[s->n];
    e->key = dupn(key, klen);
    e->sub = sub ? dupn(sub, slen) : NULL;
    e->value = dupn(val, vlen);
    if (!e->key || (sub && !e->sub) || !e->value) {
        entry_free(e);
        oom(p);
        return -1;
    }
    return (long)s->n++;
}

/* Removes the entries of key (its value and sub-keys, or one sub-key). */
static void remove_entries(ini_section *s, const char *key, size_t klen,
                           const char *sub, size_t slen)
{
    size_t out = 0;
    for (size_t i = 0; i < s->n; i++) {
        ini_entry *e = &s->entries[i];
        int same_key = strlen(e->key) == klen && !memcmp(e->key, key, klen);
        int match = same_key && (!sub || (e->sub && strlen(e->sub) == slen &&
                                          !memcmp(e->sub, sub, slen)));
        if (match)
            entry_free(e);
        else
            s->entries[out++] = *e;
    }
    s->n = out;
}

/* "key = value" (or "key: value") at section level. */
static strands_status setting(parser *p, const char *s, size_t n,
                              size_t indent)
{
    if (p->cur == NO_SECTION)
        return fail(p, STRANDS_E_PARSE, "setting before any [section]");
    size_t d = 0;
    while (d < n && s[d] != '=' && s[d] != ':') d++;
    if (d == n)
        return fail(p, STRANDS_E_PARSE, "expected 'name = value'");
    const char *key = s, *val = s + d + 1;
    size_t klen = d, vlen = n - d - 1;
    trim(&key, &klen);
    trim(&val, &vlen);
    if (klen == 0) return fail(p, STRANDS_E_PARSE, "setting without a name");
    p->have_setting = 1;
    p->indent = indent;
    p->nested = vlen == 0;
    p->last = -1;
    if (p->cur == IGNORED) return STRANDS_OK;
    char lower[256];
    if (klen >= sizeof lower)
        return fail(p, STRANDS_E_TOO_LARGE, "setting name too long");
    for (size_t i = 0; i < klen; i++)
        lower[i] = (key[i] >= 'A' && key[i] <= 'Z') ? (char)(key[i] + 32)
                                                    : key[i];
    remove_entries(&p->ini->sections[p->cur], lower, klen, NULL, 0);
    p->last = add_entry(p, lower, klen, NULL, 0, val, vlen);
    return p->last < 0 ? p->err->status : STRANDS_OK;
}

/* An indented line after a setting: a sub-section line or more value. */
static strands_status continuation(parser *p, const char *s, size_t n)
{
    if (p->last < 0) return STRANDS_OK;  /* ignored section */
    ini_section *sec = &p->ini->sections[p->cur];
    const char *key = sec->entries[p->last].key;
    if (p->nested) {
        const char *eq = memchr(s, '=', n);
        if (!eq)
            return fail(p, STRANDS_E_PARSE,
                        "expected 'name = value' in the sub-section");
        const char *sub = s, *val = eq + 1;
        size_t slen = (size_t)(eq - s), vlen = n - slen - 1;
        trim(&sub, &slen);
        trim(&val, &vlen);
        if (slen == 0)
            return fail(p, STRANDS_E_PARSE, "sub-section setting without "
                                            "a name");
        /* Sub-keys always follow their parent, so removing one never
         * moves the parent entry (p->last) or frees its key. */
        size_t klen = strlen(key);
        remove_entries(sec, key, klen, sub, slen);
        long idx = add_entry(p, key, klen, sub, slen, val, vlen);
        return idx < 0 ? p->err->status : STRANDS_OK;
    }
    ini_entry *e = &sec->entries[p->last];
    size_t old = strlen(e->value);
    char *v = malloc(old + 1 + n + 1);
    if (!v) return oom(p);
    memcpy(v, e->value, old);
    v[old] = '\n';
    memcpy(v + old + 1, s, n);
    v[old + 1 + n] = '\0';
    wipe_free(e->value);
    e->value = v;
    return STRANDS_OK;
}

/* Cuts an inline comment: '#' or ';' preceded by whitespace. */
static size_t strip_inline_comment(const char *s, size_t n)
{
    for (size_t i = 1; i < n; i++)
        if ((s[i] == '#' || s[i] == ';') && is_ws(s[i - 1])) return i;
    return n;
}

static strands_status parse_line(parser *p, const char *line, size_t n)
{
    size_t indent = 0;
    while (indent < n && is_ws(line[indent])) indent++;
    const char *s = line + indent;
    size_t len = n - indent;
    if (len == 0 || s[0] == '#' || s[0] == ';') return STRANDS_OK;
    len = strip_inline_comment(s, len);
    trim(&s, &len);
    if (len == 0) return STRANDS_OK;
    if (p->have_setting && indent > p->indent)
        return continuation(p, s, len);
    if (s[0] == '[') {
        size_t close = len;
        while (close > 1 && s[close - 1] != ']') close--;
        if (close <= 1)
            return fail(p, STRANDS_E_PARSE, "section header without ']'");
        const char *h = s + 1;
        size_t hlen = close - 2;
        trim(&h, &hlen);
        if (hlen == 0)
            return fail(p, STRANDS_E_PARSE, "empty section name");
        return section_header(p, h, hlen);
    }
    return setting(p, s, len, indent);
}

aws_ini *aws_ini_parse(const char *text, size_t len, aws_ini_kind kind,
                       const char *label, strands_error *err)
{
    strands_error local;
    if (!err) err = &local;
    if (len > AWS_INI_MAX_FILE) {
        strands_error_set(err, STRANDS_E_TOO_LARGE, NULL,
                          "%s: larger than %d bytes", label,
                          AWS_INI_MAX_FILE);
        return NULL;
    }
    aws_ini *ini = calloc(1, sizeof *ini);
    if (!ini) {
        strands_error_set(err, STRANDS_E_NOMEM, NULL, "out of memory");
        return NULL;
    }
    parser p = {ini, kind, label ? label : "(config)", 0, NO_SECTION, 0, 0,
                0, -1, err};
    size_t pos = 0;
    if (len >= 3 && !memcmp(text, "\xEF\xBB\xBF", 3)) pos = 3;  /* BOM */
    strands_status st = STRANDS_OK;
    while (pos < len && st == STRANDS_OK) {
        const char *line = text + pos;
        const char *nl = memchr(line, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - line) : len - pos;
        pos += n + (nl ? 1 : 0);
        p.lineno++;
        if (n && line[n - 1] == '\r') n--;
        if (memchr(line, '\0', n))
            st = fail(&p, STRANDS_E_PARSE, "NUL byte in the file");
        else if (n > AWS_INI_MAX_LINE)
            st = fail(&p, STRANDS_E_TOO_LARGE, "line too long");
        else
            st = parse_line(&p, line, n);
    }
    if (st != STRANDS_OK) {
        aws_ini_free(ini);
        return NULL;
    }
    return ini;
}

/* ---- files ---------------------------------------------------------- */

static aws_ini *empty_ini(strands_error *err)
{
    aws_ini *ini = calloc(1, sizeof *ini);
    if (!ini)
        strands_error_set(err, STRANDS_E_NOMEM, NULL, "out of memory");
    return ini;
}

static aws_ini *io_error(const char *path, int e, strands_error *err)
{
    char buf[128];
    const char *msg = strerror_r(e, buf, sizeof buf);
    strands_error_set(err, STRANDS_E_IO, NULL, "cannot read %s: %s", path,
                      msg);
    return NULL;
}

aws_ini *aws_ini_load(const char *path, aws_ini_kind kind,
                      strands_error *err)
{
    if (!path || !*path) return empty_ini(err);
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0) {
        if (errno == ENOENT || errno == ENOTDIR) return empty_ini(err);
        return io_error(path, errno, err);
    }
    struct stat stt;
    if (fstat(fd, &stt) != 0) {
        int e = errno;
        close(fd);
        return io_error(path, e, err);
    }
    if (!S_ISREG(stt.st_mode)) {
        close(fd);
        return empty_ini(err);
    }
    if (stt.st_size > AWS_INI_MAX_FILE) {
        close(fd);
        strands_error_set(err, STRANDS_E_TOO_LARGE, NULL,
                          "%s: larger than %d bytes", path, AWS_INI_MAX_FILE);
        return NULL;
    }
    size_t cap = (size_t)stt.st_size + 1, len = 0;
    char *buf = malloc(cap);
    if (!buf) {
        close(fd);
        strands_error_set(err, STRANDS_E_NOMEM, NULL, "out of memory");
        return NULL;
    }
    /* Read to EOF (the file may grow), up to the cap plus one byte. */
    for (;;) {
        if (len == cap) {
            if (cap > AWS_INI_MAX_FILE) break;
            size_t ncap = cap * 2 > AWS_INI_MAX_FILE + 1 ? AWS_INI_MAX_FILE + 1
                                                         : cap * 2;
            char *nb = malloc(ncap);
            if (!nb) break;
            memcpy(nb, buf, len);
            explicit_bzero(buf, len);
            free(buf);
            buf = nb;
            cap = ncap;
        }
        ssize_t r = read(fd, buf + len, cap - len);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            int e = errno;
            close(fd);
            explicit_bzero(buf, len);
            free(buf);
            return io_error(path, e, err);
        }
        if (r == 0) break;
        len += (size_t)r;
    }
    close(fd);
    aws_ini *ini = NULL;
    if (len > AWS_INI_MAX_FILE)
        strands_error_set(err, STRANDS_E_TOO_LARGE, NULL,
                          "%s: larger than %d bytes", path, AWS_INI_MAX_FILE);
    else if (len == cap)
        strands_error_set(err, STRANDS_E_NOMEM, NULL, "out of memory");
    else
        ini = aws_ini_parse(buf, len, kind, path, err);
    explicit_bzero(buf, cap);
    free(buf);
    return ini;
}
