/* STS AssumeRole / AssumeRoleWithWebIdentity over the awsQuery protocol:
 * form-encoded request bodies, a bounded XML extractor for the answers,
 * and the retrying call. Request bodies and response bodies hold secrets
 * (tokens, keys) and are wiped before they are freed.                    */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aws/aws_call.h"
#include "aws/awstime.h"
#include "aws/retry.h"
#include "aws/sts.h"

#define STS_VERSION "2011-06-15"
#define STS_CONTENT_TYPE "application/x-www-form-urlencoded; charset=utf-8"
#define STS_BODY_MAX (64 * 1024)
#define XML_NAME_MAX 128

/* ---- form encoding -------------------------------------------------- */

static int unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
           c == '~';
}

static strands_status form_encode(dynbuf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        char enc[3] = {'%', hex[c >> 4], hex[c & 15]};
        strands_status st = unreserved(c) ? dynbuf_append(b, s, 1)
                                          : dynbuf_append(b, enc, 3);
        if (st != STRANDS_OK) return st;
    }
    return STRANDS_OK;
}

strands_status sts_form_add(dynbuf *b, const char *name,
                            const char *value)
{
    strands_status st = STRANDS_OK;
    if (b->len) st = dynbuf_append(b, "&", 1);
    if (st == STRANDS_OK) st = form_encode(b, name);
    if (st == STRANDS_OK) st = dynbuf_append(b, "=", 1);
    if (st == STRANDS_OK) st = form_encode(b, value ? value : "");
    return st;
}

strands_status sts_build_body(const char *action, const sts_request *rq,
                              dynbuf *b)
{
    int web = !strcmp(action, "AssumeRoleWithWebIdentity");
    if (!rq->role_arn || !*rq->role_arn || !rq->session_name ||
        !*rq->session_name || (web && (!rq->web_identity_token ||
                                       !*rq->web_identity_token)))
        return STRANDS_E_INVALID;
    char duration[16];
    snprintf(duration, sizeof duration, "%d", rq->duration_seconds);
    strands_status st = sts_form_add(b, "Action", action);
    if (st == STRANDS_OK) st = sts_form_add(b, "Version", STS_VERSION);
    if (st == STRANDS_OK) st = sts_form_add(b, "RoleArn", rq->role_arn);
    if (st == STRANDS_OK)
        st = sts_form_add(b, "RoleSessionName", rq->session_name);
    if (st == STRANDS_OK && rq->duration_seconds > 0)
        st = sts_form_add(b, "DurationSeconds", duration);
    if (st == STRANDS_OK && !web && rq->external_id && *rq->external_id)
        st = sts_form_add(b, "ExternalId", rq->external_id);
    if (st == STRANDS_OK && web)
        st = sts_form_add(b, "WebIdentityToken", rq->web_identity_token);
    return st;
}

/* ---- XML extraction ------------------------------------------------- */

typedef struct xml_state {
    const char *start, *p, *end;
    int opened;                             /* elements seen so far */
    sts_xml_field *fields;
    size_t n_fields;
    int depth;
    const char *qname[STS_XML_MAX_DEPTH];  /* open elements, in the input */
    size_t qlen[STS_XML_MAX_DEPTH];
    size_t path_len[STS_XML_MAX_DEPTH + 1]; /* path length before a push */
    int active[STS_XML_MAX_DEPTH + 1];      /* field receiving text */
    char path[STS_XML_MAX_DEPTH * (XML_NAME_MAX + 1) + 1];
    strands_error *err;
} xml_state;

static strands_status xml_fail(xml_state *s, const char *what)
{
    return strands_error_set(s->err, STRANDS_E_PARSE, NULL,
                             "malformed XML at byte %zu: %s",
                             (size_t)(s->p - s->start), what);
}

static int xml_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int name_start(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' ||
           c == ':' || c >= 0x80;
}

static int name_char(unsigned char c)
{
    return name_start(c) || (c >= '0' && c <= '9') || c == '-' || c == '.';
}

/* Reads a name at s->p; returns its length (0 when none or too long). */
static size_t read_name(xml_state *s)
{
    const char *q = s->p;
    if (q >= s->end || !name_start((unsigned char)*q)) return 0;
    while (q < s->end && name_char((unsigned char)*q)) q++;
    size_t n = (size_t)(q - s->p);
    if (n > XML_NAME_MAX) return 0;
    s->p = q;
    return n;
}

static void skip_space(xml_state *s)
{
    while (s->p < s->end && xml_space(*s->p)) s->p++;
}

/* Appends text to the active field, if any. */
static strands_status put_text(xml_state *s, const char *t, size_t n)
{
    int a = s->active[s->depth];
    if (a < 0 || n == 0) return STRANDS_OK;
    sts_xml_field *f = &s->fields[a];
    size_t have = strlen(f->out);
    if (have + n >= f->outsz && f->truncate) n = f->outsz - 1 - have;
    if (have + n >= f->outsz) return xml_fail(s, "element text too long");
    memcpy(f->out + have, t, n);
    f->out[have + n] = '\0';
    return STRANDS_OK;
}

/* Encodes a code point as UTF-8; 0 when not an XML character. */
static size_t utf8(unsigned long cp, char out[4])
{
    int ok = cp == 0x9 || cp == 0xA || cp == 0xD ||
             (cp >= 0x20 && cp <= 0xD7FF) || (cp >= 0xE000 && cp <= 0xFFFD) ||
             (cp >= 0x10000 && cp <= 0x10FFFF);
    if (!ok) return 0;
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Decodes the reference at s->p ('&') into out; returns its length. */
static size_t entity(xml_state *s, char out[4])
{
    static const struct {
        const char *name;
        char c;
    } named[] = {{"amp;", '&'}, {"lt;", '<'}, {"gt;", '>'},
                 {"quot;", '"'}, {"apos;", '\''}};
    const char *q = s->p + 1;
    size_t left = (size_t)(s->end - q);
    for (size_t i = 0; i < sizeof named / sizeof named[0]; i++) {
        size_t n = strlen(named[i].name);
        if (left >= n && !memcmp(q, named[i].name, n)) {
            s->p = q + n;
            out[0] = named[i].c;
            return 1;
        }
    }
    if (left < 3 || *q != '#') return 0;
    q++;
    int hex = *q == 'x';
    if (hex) q++;
    unsigned long cp = 0;
    int digits = 0;
    for (; q < s->end && *q != ';'; q++, digits++) {
        int d;
        if (*q >= '0' && *q <= '9')
            d = *q - '0';
        else if (hex && *q >= 'a' && *q <= 'f')
            d = *q - 'a' + 10;
        else if (hex && *q >= 'A' && *q <= 'F')
            d = *q - 'A' + 10;
        else
            return 0;
        if (digits >= 8) return 0;
        cp = cp * (hex ? 16 : 10) + (unsigned long)d;
    }
    if (q >= s->end || digits == 0) return 0;
    size_t n = utf8(cp, out);
    if (n) s->p = q + 1;
    return n;
}

/* Character data up to the next '<'. */
static strands_status text(xml_state *s)
{
    while (s->p < s->end && *s->p != '<') {
        const char *run = s->p;
        while (s->p < s->end && *s->p != '<' && *s->p != '&') s->p++;
        strands_status st = put_text(s, run, (size_t)(s->p - run));
        if (st != STRANDS_OK) return st;
        if (s->p < s->end && *s->p == '&') {
            char ch[4];
            size_t n = entity(s, ch);
            if (!n) return xml_fail(s, "bad character reference");
            st = put_text(s, ch, n);
            if (st != STRANDS_OK) return st;
        }
    }
    return STRANDS_OK;
}

/* Skips past the terminator; E_PARSE when it never comes. */
static strands_status skip_past(xml_state *s, const char *term,
                                const char **start_out)
{
    size_t tn = strlen(term);
    const char *hit = memmem(s->p, (size_t)(s->end - s->p), term, tn);
    if (!hit) return xml_fail(s, "unterminated markup");
    if (start_out) *start_out = s->p;
    s->p = hit + tn;
    return STRANDS_OK;
}

static strands_status push(xml_state *s, const char *qname, size_t qlen)
{
    if (s->depth >= STS_XML_MAX_DEPTH) return xml_fail(s, "nested too deep");
    const char *local = qname;
    for (size_t i = 0; i < qlen; i++)
        if (qname[i] == ':') local = qname + i + 1;
    size_t llen = qlen - (size_t)(local - qname);
    size_t at = s->path_len[s->depth];
    if (s->depth) s->path[at++] = '/';
    memcpy(s->path + at, local, llen);
    at += llen;
    s->path[at] = '\0';
    s->qname[s->depth] = qname;
    s->qlen[s->depth] = qlen;
    s->depth++;
    s->opened++;
    s->path_len[s->depth] = at;
    s->active[s->depth] = -1;
    for (size_t i = 0; i < s->n_fields; i++) {
        if (strcmp(s->fields[i].path, s->path)) continue;
        if (s->fields[i].found) return xml_fail(s, "element repeated");
        s->fields[i].found = 1;
        s->fields[i].out[0] = '\0';
        s->active[s->depth] = (int)i;
    }
    return STRANDS_OK;
}

/* "<name attr='v' ...>" or "<name/>"; s->p is past '<'. */
static strands_status start_tag(xml_state *s)
{
    const char *qname = s->p;
    size_t qlen = read_name(s);
    if (!qlen) return xml_fail(s, "bad element name");
    for (;;) {
        int had_space = s->p < s->end && xml_space(*s->p);
        skip_space(s);
        if (s->p >= s->end) return xml_fail(s, "unterminated tag");
        if (*s->p == '>' || *s->p == '/') break;
        if (!had_space || !read_name(s))
            return xml_fail(s, "bad attribute");
        skip_space(s);
        if (s->p >= s->end || *s->p != '=') return xml_fail(s, "bad attribute");
        s->p++;
        skip_space(s);
        if (s->p >= s->end || (*s->p != '"' && *s->p != '\''))
            return xml_fail(s, "unquoted attribute value");
        char quote[2] = {*s->p, '\0'};
        s->p++;
        const char *val = s->p;
        strands_status st = skip_past(s, quote, NULL);
        if (st != STRANDS_OK) return st;
        if (memchr(val, '<', (size_t)(s->p - 1 - val)))
            return xml_fail(s, "'<' in an attribute value");
    }
    strands_status st = push(s, qname, qlen);
    if (st != STRANDS_OK) return st;
    if (*s->p == '/') {
        if (s->p + 1 >= s->end || s->p[1] != '>')
            return xml_fail(s, "bad empty-element tag");
        s->p += 2;
        s->depth--;
        return STRANDS_OK;
    }
    s->p++;
    return STRANDS_OK;
}

/* "</name>"; s->p is past "</". */
static strands_status end_tag(xml_state *s)
{
    const char *qname = s->p;
    size_t qlen = read_name(s);
    if (!qlen || s->depth == 0) return xml_fail(s, "unexpected end tag");
    skip_space(s);
    if (s->p >= s->end || *s->p != '>') return xml_fail(s, "bad end tag");
    s->p++;
    int d = s->depth - 1;
    if (qlen != s->qlen[d] || memcmp(qname, s->qname[d], qlen))
        return xml_fail(s, "mismatched end tag");
    s->depth--;
    return STRANDS_OK;
}

static strands_status markup(xml_state *s)
{
    size_t left = (size_t)(s->end - s->p);
    if (left >= 2 && s->p[1] == '?') {
        s->p += 2;
        return skip_past(s, "?>", NULL);
    }
    if (left >= 4 && !memcmp(s->p, "<!--", 4)) {
        s->p += 4;
        return skip_past(s, "-->", NULL);
    }
    if (left >= 9 && !memcmp(s->p, "<![CDATA[", 9)) {
        if (s->depth == 0) return xml_fail(s, "CDATA outside the root");
        s->p += 9;
        const char *start = s->p;
        strands_status st = skip_past(s, "]]>", &start);
        if (st != STRANDS_OK) return st;
        return put_text(s, start, (size_t)(s->p - 3 - start));
    }
    if (left >= 2 && s->p[1] == '!')
        return xml_fail(s, "DOCTYPE and declarations are not accepted");
    if (left >= 2 && s->p[1] == '/') {
        s->p += 2;
        return end_tag(s);
    }
    s->p++;
    return start_tag(s);
}

strands_status sts_xml_extract(const char *xml, size_t len,
                               sts_xml_field *fields, size_t n_fields,
                               strands_error *err)
{
    xml_state s;
    memset(&s, 0, sizeof s);
    s.start = s.p = xml;
    s.end = xml + len;
    s.fields = fields;
    s.n_fields = n_fields;
    s.err = err;
    s.active[0] = -1;
    for (size_t i = 0; i < n_fields; i++) {
        fields[i].found = 0;
        if (fields[i].outsz) fields[i].out[0] = '\0';
        if (!fields[i].outsz)
            return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                     "XML field without a buffer");
    }
    if (len && memchr(xml, '\0', len)) return xml_fail(&s, "NUL byte");
    while (s.p < s.end) {
        strands_status st;
        if (*s.p == '<') {
            st = markup(&s);
        } else if (s.depth > 0) {
            st = text(&s);
        } else if (xml_space(*s.p)) {
            s.p++;
            st = STRANDS_OK;
        } else {
            st = xml_fail(&s, "text outside the root element");
        }
        if (st != STRANDS_OK) return st;
        if (s.opened && s.depth == 0) return STRANDS_OK; /* root closed */
    }
    return xml_fail(&s, s.opened ? "truncated document" : "no root element");
}

/* ---- responses ------------------------------------------------------ */

/* Replaces each occurrence of secret in msg with "[redacted]". */
static void redact(char *msg, size_t msgsz, const char *secret)
{
    size_t sn = secret ? strlen(secret) : 0;
    if (sn < 4) return;
    static const char mark[] = "[redacted]";
    char *hit;
    while ((hit = strstr(msg, secret)) != NULL) {
        size_t tail = strlen(hit + sn);
        size_t mn = sizeof mark - 1;
        if ((size_t)(hit - msg) + mn + tail + 1 > msgsz) {
            *hit = '\0';
            return;
        }
        memmove(hit + mn, hit + sn, tail + 1);
        memcpy(hit, mark, mn);
    }
}

/* Printable ASCII only: AWS messages may carry control characters. */
static void sanitize(char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f) *s = ' ';
}

static strands_status parse_response(const char *action, const char *arn,
                                     long status, const char *body,
                                     size_t len, const char *const *secrets,
                                     size_t n_secrets,
                                     strands_credentials *out,
                                     strands_error *err)
{
    strands_error e;
    strands_error_clear(&e);
    if (status == 200) {
        static const char *const names[4] = {"AccessKeyId", "SecretAccessKey",
                                             "SessionToken", "Expiration"};
        char paths[4][128], expiration[64];
        memset(out, 0, sizeof *out);
        for (int i = 0; i < 4; i++)
            snprintf(paths[i], sizeof paths[i],
                     "%sResponse/%sResult/Credentials/%s", action, action,
                     names[i]);
        sts_xml_field f[4] = {
            {paths[0], out->access_key_id, sizeof out->access_key_id, 0, 0},
            {paths[1], out->secret_access_key, sizeof out->secret_access_key,
             0, 0},
            {paths[2], out->session_token, sizeof out->session_token, 0, 0},
            {paths[3], expiration, sizeof expiration, 0, 0}};
        strands_status st = sts_xml_extract(body, len, f, 4, &e);
        const char *missing = NULL;
        for (int i = 0; i < 4 && st == STRANDS_OK && !missing; i++)
            if (!f[i].found || !f[i].out[0]) missing = names[i];
        int64_t when = 0;
        if (st == STRANDS_OK && !missing &&
            aws_parse_iso8601(expiration, &when) != 0)
            missing = "a valid Expiration";
        if (st != STRANDS_OK || missing) {
            strands_credentials_wipe(out);
            memset(out->access_key_id, 0, sizeof out->access_key_id);
            if (st != STRANDS_OK)
                return strands_error_set(err, STRANDS_E_PARSE, "STSParseError",
                                         "STS %s for role %s: unreadable "
                                         "response: %s", action, arn,
                                         e.message);
            return strands_error_set(err, STRANDS_E_PARSE, "STSParseError",
                                     "STS %s for role %s: the response has "
                                     "no %s", action, arn, missing);
        }
        out->expiration = when;
        return STRANDS_OK;
    }
    char code[STRANDS_ERROR_CODE_MAX], message[400];
    sts_xml_field f[2] = {
        {"ErrorResponse/Error/Code", code, sizeof code, 0, 0},
        {"ErrorResponse/Error/Message", message, sizeof message, 0, 1}};
    strands_status st = sts_xml_extract(body, len, f, 2, &e);
    if (st != STRANDS_OK) {  /* not an STS error document */
        message[0] = '\0';
        code[0] = '\0';
    }
    if (!code[0]) snprintf(code, sizeof code, "HttpError%ld", status);
    sanitize(code);
    sanitize(message);
    for (size_t i = 0; i < n_secrets; i++) {
        redact(message, sizeof message, secrets[i]);
        redact(code, sizeof code, secrets[i]);
    }
    strands_error_set(err, STRANDS_E_UPSTREAM, code,
                      "STS %s for role %s failed: HTTP %ld %s: %s", action,
                      arn, status, code,
                      message[0] ? message : "(no message)");
    if (err) err->http_status = (int)status;
    return STRANDS_E_UPSTREAM;
}

strands_status sts_parse_response(const char *action, const char *role_arn,
                                  long status, const char *body, size_t len,
                                  strands_credentials *out,
                                  strands_error *err)
{
    return parse_response(action, role_arn, status, body, len, NULL, 0, out,
                          err);
}

/* ---- token files -------------------------------------------------- */

static strands_status token_io_error(const char *path, int e,
                                     strands_error *err)
{
    char buf[128];
    return strands_error_set(err, STRANDS_E_IO, NULL,
                             "cannot read the web identity token file %s: "
                             "%s", path, strerror_r(e, buf, sizeof buf));
}

strands_status sts_read_token_file(const char *path, char **out,
                                   strands_error *err)
{
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) return token_io_error(path, errno, err);
    char *buf = malloc(STS_TOKEN_FILE_MAX + 1);
    if (!buf) {
        close(fd);
        return strands_error_set(err, STRANDS_E_NOMEM, NULL,
                                 "out of memory");
    }
    size_t len = 0;
    int e = 0;
    while (len <= STS_TOKEN_FILE_MAX) {
        ssize_t r = read(fd, buf + len, STS_TOKEN_FILE_MAX + 1 - len);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) e = errno;
        if (r <= 0) break;
        len += (size_t)r;
    }
    close(fd);
    strands_status st = STRANDS_OK;
    if (e)
        st = token_io_error(path, e, err);
    else if (len > STS_TOKEN_FILE_MAX)
        st = strands_error_set(err, STRANDS_E_TOO_LARGE, NULL,
                               "the web identity token file %s is larger "
                               "than %d bytes", path, STS_TOKEN_FILE_MAX);
    while (st == STRANDS_OK && len &&
           (buf[len - 1] == '\n' || buf[len - 1] == '\r' ||
            buf[len - 1] == ' ' || buf[len - 1] == '\t'))
        len--;
    if (st == STRANDS_OK && len == 0)
        st = strands_error_set(err, STRANDS_E_IO, NULL,
                               "the web identity token file %s is empty",
                               path);
    if (st == STRANDS_OK && memchr(buf, '\0', len))
        st = strands_error_set(err, STRANDS_E_IO, NULL,
                               "the web identity token file %s holds a NUL "
                               "byte", path);
    if (st != STRANDS_OK) {
        explicit_bzero(buf, STS_TOKEN_FILE_MAX + 1);
        free(buf);
        return st;
    }
    buf[len] = '\0';
    *out = buf;
    return STRANDS_OK;
}

/* ---- the call ------------------------------------------------------- */

typedef struct sts_call {
    const aws_cred_env *env;
    http_client *http;
    const char *action;
    const sts_request *rq;
    aws_endpoint endpoint;
    char url[sizeof ((aws_endpoint *)0)->base + 300];
    const char *region;
    dynbuf body;
    strands_credentials *out;
} sts_call;

static strands_status attempt(void *user, long *http_status,
                              strands_error *err)
{
    sts_call *c = user;
    http_response resp;
    memset(&resp, 0, sizeof resp);
    dynbuf_init(&resp.body, STS_MAX_RESPONSE);
    strands_status st;
    const char *ctype = "Content-Type: " STS_CONTENT_TYPE;
    if (c->rq->web_identity_token) {
        http_request hr = {
            .method = "POST",
            .url = c->url,
            .headers = &ctype,
            .n_headers = 1,
            .body = c->body.data,
            .body_len = c->body.len,
            .total_timeout_ms = 30000,
            .max_response = STS_MAX_RESPONSE,
        };
        st = http_client_send(c->http, &hr, &resp, err);
    } else {
        aws_call call = {
            .endpoint = &c->endpoint,
            .service = "sts",
            .region = c->region,
            .creds = c->rq->source,
            .method = "POST",
            .path = "/",
            .content_type = STS_CONTENT_TYPE,
            .body = c->body.data,
            .body_len = c->body.len,
            .total_timeout_ms = 30000,
            .max_response = STS_MAX_RESPONSE,
        };
        st = aws_call_send(c->http, &call, &resp, err);
    }
    if (st == STRANDS_OK) {
        const char *secrets[3] = {c->rq->web_identity_token, NULL, NULL};
        if (c->rq->source) {
            secrets[1] = c->rq->source->secret_access_key;
            secrets[2] = c->rq->source->session_token;
        }
        *http_status = resp.status;
        st = parse_response(c->action, c->rq->role_arn, resp.status,
                            dynbuf_str(&resp.body), resp.body.len,
                            secrets, 3, c->out, err);
        /* botocore retries STS's IDPCommunicationError (the identity
         * provider was unreachable); the shared policy does not know it. */
        if (st == STRANDS_E_UPSTREAM && err &&
            !strcmp(err->code, "IDPCommunicationError"))
            *http_status = 503;
    }
    if (resp.body.data) explicit_bzero(resp.body.data, resp.body.len);
    http_response_cleanup(&resp);
    return st;
}

static strands_status sts_send(const aws_cred_env *env, const char *action,
                               const sts_request *rq,
                               strands_credentials *out, strands_error *err)
{
    memset(out, 0, sizeof *out);
    const char *arn = rq->role_arn && *rq->role_arn ? rq->role_arn : "(none)";
    sts_call *c = calloc(1, sizeof *c);
    if (!c)
        return strands_error_set(err, STRANDS_E_NOMEM, NULL, "out of memory");
    c->env = env;
    c->action = action;
    c->rq = rq;
    c->out = out;
    c->region = env && env->region && *env->region ? env->region
                                                   : "us-east-1";
    dynbuf_init(&c->body, STS_BODY_MAX);
    aws_retry_policy policy;
    strands_status st = aws_retry_policy_init(
        &policy, aws_env_get(env, "AWS_RETRY_MODE"),
        aws_env_get(env, "AWS_MAX_ATTEMPTS"), err);
    char url[2048] = "";
    if (st == STRANDS_OK)
        st = aws_env_endpoint(env, "STS", "sts", url, sizeof url, err);
    if (st == STRANDS_OK && strlen(url) >= sizeof url - 1)
        st = strands_error_set(err, STRANDS_E_INVALID, NULL,
                               "the STS endpoint URL is too long");
    if (st == STRANDS_OK) st = aws_endpoint_parse(url, &c->endpoint, err);
    if (st == STRANDS_OK) {
        st = sts_build_body(action, rq, &c->body);
        if (st == STRANDS_E_INVALID)
            strands_error_set(err, st, NULL,
                              "STS %s for role %s: role ARN, session name%s "
                              "are required", action, arn,
                              rq->web_identity_token
                                  ? " and web identity token"
                                  : "");
        else if (st != STRANDS_OK)
            strands_error_set(err, st, NULL, "STS %s for role %s: request "
                              "too large", action, arn);
    }
    if (st == STRANDS_OK && !strcmp(action, "AssumeRole") && !rq->source)
        st = strands_error_set(err, STRANDS_E_INVALID, NULL,
                               "STS AssumeRole for role %s: no source "
                               "credentials", arn);
    http_client *own = NULL;
    if (st == STRANDS_OK) {
        snprintf(c->url, sizeof c->url, "%s%s/", c->endpoint.base,
                 c->endpoint.prefix);
        c->http = env && env->http ? env->http : (own = http_client_new(1));
        if (!c->http)
            st = strands_error_set(err, STRANDS_E_NOMEM, NULL,
                                   "cannot create an HTTP client");
    }
    if (st == STRANDS_OK) st = aws_retry_run(&policy, attempt, c, NULL, err);
    http_client_free(own);
    if (c->body.data) explicit_bzero(c->body.data, c->body.len);
    dynbuf_cleanup(&c->body);
    free(c);
    if (st != STRANDS_OK) strands_credentials_wipe(out);
    return st;
}

strands_status sts_assume_role(const aws_cred_env *env,
                               const sts_request *rq,
                               strands_credentials *out, strands_error *err)
{
    sts_request r = *rq;
    r.web_identity_token = NULL;  /* the signed call */
    return sts_send(env, "AssumeRole", &r, out, err);
}

strands_status sts_assume_role_with_web_identity(const aws_cred_env *env,
                                                 const sts_request *rq,
                                                 strands_credentials *out,
                                                 strands_error *err)
{
    sts_request r = *rq;
    r.source = NULL;
    r.external_id = NULL;
    if (!r.web_identity_token) r.web_identity_token = "";
    return sts_send(env, "AssumeRoleWithWebIdentity", &r, out, err);
}
