/* A bounded extractor for the S3 XML we read: ListObjectsV2 pages (the
 * <Key>, <Size>, <ETag> of each <Contents>, <IsTruncated>,
 * <NextContinuationToken>) and error documents (<Code>, <Message>). Not a
 * general XML parser: S3's answers are flat, well-known documents, so
 * this scans for those element names and decodes the five predefined
 * entities and numeric character references in their text. Every scan
 * is bounded by the input length and the caps in s3.h.                 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "session/s3.h"

/* First occurrence of needle (nlen bytes) in [p, end), or NULL. */
static const char *find(const char *p, const char *end, const char *needle)
{
    size_t nlen = strlen(needle);
    if (p >= end || (size_t)(end - p) < nlen) return NULL;
    return memmem(p, (size_t)(end - p), needle, nlen);
}

/* Appends code point cp as UTF-8 to out (room checked by the caller:
 * at most 4 bytes). 0, or -1 for a code point XML does not allow.       */
static int put_utf8(char *out, size_t *n, unsigned long cp)
{
    if (cp == 0 || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) return -1;
    if (cp < 0x80) {
        out[(*n)++] = (char)cp;
    } else if (cp < 0x800) {
        out[(*n)++] = (char)(0xC0 | (cp >> 6));
        out[(*n)++] = (char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out[(*n)++] = (char)(0xE0 | (cp >> 12));
        out[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[(*n)++] = (char)(0x80 | (cp & 0x3F));
    } else {
        out[(*n)++] = (char)(0xF0 | (cp >> 18));
        out[(*n)++] = (char)(0x80 | ((cp >> 12) & 0x3F));
        out[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[(*n)++] = (char)(0x80 | (cp & 0x3F));
    }
    return 0;
}

/* Decodes the text [p, end) into out (outsz >= 1): entities resolved.
 * Returns the decoded length, -1 for a bad entity or a '<' in the text,
 * -2 when it does not fit (truncate = 0), else truncated to outsz - 1.  */
static long decode_text(const char *p, const char *end, char *out,
                        size_t outsz, int truncate)
{
    static const struct {
        const char *name;
        char c;
    } ents[] = {{"amp;", '&'},
                {"lt;", '<'},
                {"gt;", '>'},
                {"quot;", '"'},
                {"apos;", '\''}};
    size_t n = 0;
    while (p < end) {
        if (outsz - n < 5) {
            if (!truncate) return -2;
            break;
        }
        char c = *p;
        if (c == '<') return -1;
        if (c != '&') {
            out[n++] = c;
            p++;
            continue;
        }
        p++;
        const char *semi =
            memchr(p, ';', (size_t)(end - p) < 12 ? (size_t)(end - p) : 12);
        if (!semi) return -1;
        if (*p == '#') {
            int hex = p + 1 < semi && (p[1] == 'x' || p[1] == 'X');
            const char *d = p + 1 + hex;
            if (d >= semi) return -1;
            unsigned long cp = 0;
            for (; d < semi; d++) {
                int v;
                if (*d >= '0' && *d <= '9')
                    v = *d - '0';
                else if (hex && *d >= 'a' && *d <= 'f')
                    v = *d - 'a' + 10;
                else if (hex && *d >= 'A' && *d <= 'F')
                    v = *d - 'A' + 10;
                else
                    return -1;
                cp = cp * (hex ? 16 : 10) + (unsigned long)v;
                if (cp > 0x10FFFF) return -1;
            }
            if (put_utf8(out, &n, cp) != 0) return -1;
        } else {
            size_t i, k = (size_t)(semi + 1 - p);
            for (i = 0; i < sizeof ents / sizeof ents[0]; i++)
                if (strlen(ents[i].name) == k && !memcmp(p, ents[i].name, k))
                    break;
            if (i == sizeof ents / sizeof ents[0]) return -1;
            out[n++] = ents[i].c;
        }
        p = semi + 1;
    }
    out[n] = '\0';
    return (long)n;
}

/* The text of the first <name>...</name> in [p, end): *tp and *te span
 * it. 1 found, 0 absent, -1 opened but never closed.                    */
static int element(const char *p, const char *end, const char *name,
                   const char **tp, const char **te)
{
    char open[48], close[48];
    snprintf(open, sizeof open, "<%s>", name);
    snprintf(close, sizeof close, "</%s>", name);
    const char *o = find(p, end, open);
    if (!o) return 0;
    const char *t = o + strlen(open);
    const char *c = find(t, end, close);
    if (!c) return -1;
    *tp = t;
    *te = c;
    return 1;
}

static strands_status bad(strands_error *err, const char *what)
{
    return strands_error_set(err, STRANDS_E_PARSE, "InvalidResponse",
                             "S3 answered a ListObjectsV2 page that cannot "
                             "be read: %s",
                             what);
}

static strands_status nomem(strands_error *err)
{
    return strands_error_set(err, STRANDS_E_NOMEM, NULL, "out of memory");
}

void session_s3_list_page_free(s3_list_page *p)
{
    if (!p) return;
    for (size_t i = 0; i < p->n_keys; i++) {
        free(p->keys[i]);
        free(p->etags[i]);
    }
    free(p->keys);
    free(p->etags);
    free(p->sizes);
    free(p->next_token);
    memset(p, 0, sizeof *p);
}

/* Decodes [t, e) into a new heap string of at most cap bytes. */
static strands_status dup_text(const char *t, const char *e, size_t cap,
                               char **out, const char *what,
                               strands_error *err)
{
    if ((size_t)(e - t) > cap * 6 + 16) return bad(err, what);
    char *buf = malloc(cap + 8);
    if (!buf) return nomem(err);
    long n = decode_text(t, e, buf, cap + 8, 0);
    if (n < 0 || (size_t)n > cap) {
        free(buf);
        return bad(err, what);
    }
    *out = buf;
    return STRANDS_OK;
}

/* One <Contents>...</Contents> body [p, end) appended to out. */
static strands_status add_contents(const char *p, const char *end,
                                   s3_list_page *out, strands_error *err)
{
    const char *t, *e;
    int r = element(p, end, "Key", &t, &e);
    if (r != 1) return bad(err, "a Contents element without a Key");
    size_t i = out->n_keys;
    strands_status st =
        dup_text(t, e, S3_KEY_MAX, &out->keys[i], "a Key", err);
    if (st != STRANDS_OK) return st;
    out->etags[i] = NULL;
    out->sizes[i] = 0;
    out->n_keys++;
    if ((r = element(p, end, "ETag", &t, &e)) == 1) {
        st = dup_text(t, e, 128, &out->etags[i], "an ETag", err);
        if (st != STRANDS_OK) return st;
    } else if (r < 0) {
        return bad(err, "an unterminated ETag");
    }
    if ((r = element(p, end, "Size", &t, &e)) == 1) {
        size_t v = 0;
        if (t == e || e - t > 19) return bad(err, "a Size out of range");
        for (; t < e; t++) {
            if (*t < '0' || *t > '9') return bad(err, "a Size not a number");
            v = v * 10 + (size_t)(*t - '0');
        }
        out->sizes[i] = v;
    } else if (r < 0) {
        return bad(err, "an unterminated Size");
    }
    return STRANDS_OK;
}

strands_status session_s3_xml_list_parse(const char *xml, size_t len,
                                         s3_list_page *out, strands_error *err)
{
    memset(out, 0, sizeof *out);
    if (!xml || len > S3_MAX_XML_BYTES) return bad(err, "too large");
    const char *p = xml, *end = xml + len;
    const char *root = find(p, end, "<ListBucketResult");
    if (!root) return bad(err, "no ListBucketResult element");
    const char *rend = find(root, end, "</ListBucketResult>");
    if (!rend) return bad(err, "ListBucketResult is not closed");
    out->keys = calloc(S3_LIST_PAGE_MAX, sizeof *out->keys);
    out->etags = calloc(S3_LIST_PAGE_MAX, sizeof *out->etags);
    out->sizes = calloc(S3_LIST_PAGE_MAX, sizeof *out->sizes);
    if (!out->keys || !out->etags || !out->sizes) {
        session_s3_list_page_free(out);
        return nomem(err);
    }
    strands_status st = STRANDS_OK;
    const char *q = root;
    while (st == STRANDS_OK) {
        const char *c = find(q, rend, "<Contents>");
        if (!c) break;
        const char *ce = find(c, rend, "</Contents>");
        if (!ce) {
            st = bad(err, "an unterminated Contents element");
            break;
        }
        if (out->n_keys == S3_LIST_PAGE_MAX) {
            st = bad(err, "more keys than one page may hold");
            break;
        }
        st = add_contents(c + 10, ce, out, err);
        q = ce + 11;
    }
    /* The page's own fields sit outside every Contents element; S3 puts
     * them before the first one, but they are looked up anywhere in the
     * root: no Contents text can hold a '<', so a match is an element. */
    const char *t, *e;
    if (st == STRANDS_OK) {
        int r = element(root, rend, "IsTruncated", &t, &e);
        if (r < 0)
            st = bad(err, "an unterminated IsTruncated");
        else if (r == 1)
            out->truncated = (e - t == 4 && !memcmp(t, "true", 4));
    }
    if (st == STRANDS_OK) {
        int r = element(root, rend, "NextContinuationToken", &t, &e);
        if (r < 0)
            st = bad(err, "an unterminated NextContinuationToken");
        else if (r == 1)
            st = dup_text(t, e, S3_TOKEN_MAX, &out->next_token,
                          "a NextContinuationToken", err);
    }
    if (st == STRANDS_OK && out->truncated &&
        (!out->next_token || !out->next_token[0]))
        st = bad(err, "a truncated page without a continuation token");
    if (st != STRANDS_OK) session_s3_list_page_free(out);
    return st;
}

void session_s3_xml_error(const char *xml, size_t len, char *code,
                          size_t codesz, char *msg, size_t msgsz)
{
    if (codesz) code[0] = '\0';
    if (msgsz) msg[0] = '\0';
    if (!xml || codesz < 8 || msgsz < 8) return;
    const char *end = xml + (len > S3_MAX_XML_BYTES ? S3_MAX_XML_BYTES : len);
    const char *root = find(xml, end, "<Error>");
    if (!root) return;
    const char *t, *e;
    if (element(root, end, "Code", &t, &e) == 1 &&
        decode_text(t, e, code, codesz, 1) < 0)
        code[0] = '\0';
    if (element(root, end, "Message", &t, &e) == 1 &&
        decode_text(t, e, msg, msgsz, 1) < 0)
        msg[0] = '\0';
}
