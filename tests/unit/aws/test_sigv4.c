/* Unit tests for src/aws/sigv4.c: every case of the official SigV4 suites
 * (aws4_testsuite, aws-signing-test-suite/v4 header flavour) and the
 * project's generated Bedrock/Secrets Manager cases, checked byte-exactly,
 * plus the encoding helpers, canonicalization details and error paths.   */
#include <dirent.h>
#include <jansson.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include "test.h"
#include "aws/sigv4.h"

#define SIGV4_DIR STRANDS_SHARED_DIR "/testdata/sigv4"
#define MAX_HEADERS 64

static const char *const AKID = "AKIDEXAMPLE";
static const char *const SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

/* ------------------------------------------------------------------------
 * Request-file parsing (the .req / request.txt format)
 * ---------------------------------------------------------------------- */

typedef struct parsed_req {
    char *method, *path, *query;     /* malloc'd */
    char *names[MAX_HEADERS];        /* malloc'd */
    char *values[MAX_HEADERS];       /* malloc'd; folded lines joined "\n" */
    sigv4_header headers[MAX_HEADERS];
    size_t n_headers;
    const char *body;                /* points into the file text */
    size_t body_len;
} parsed_req;

static void parsed_req_free(parsed_req *r)
{
    free(r->method);
    free(r->path);
    free(r->query);
    for (size_t i = 0; i < r->n_headers; i++) {
        free(r->names[i]);
        free(r->values[i]);
    }
    memset(r, 0, sizeof *r);
}

static char *dup_range(const char *p, size_t len)
{
    char *s = malloc(len + 1);
    if (s) {
        memcpy(s, p, len);
        s[len] = '\0';
    }
    return s;
}

/* Query bytes that cannot appear raw on the wire (UTF-8, space, controls)
 * are percent-encoded as a client would send them. The path is kept as
 * written: the suites define its canonical form as the encoding of exactly
 * those bytes (see sigv4.h double_encode_path).                          */
static char *wire_encode(const char *p, size_t len)
{
    char *s = malloc(len * 3 + 1);
    size_t w = 0;
    if (!s) return NULL;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c <= 0x20 || c >= 0x7f) {
            w += (size_t)snprintf(s + w, 4, "%%%02X", c);
        } else {
            s[w++] = (char)c;
        }
    }
    s[w] = '\0';
    return s;
}

static int parse_request_line(parsed_req *r, const char *line, size_t len)
{
    const char *sp1 = memchr(line, ' ', len);
    const char *sp2 = line + len;
    while (sp2 > line && sp2[-1] != ' ') sp2--;
    if (!sp1 || sp2 <= sp1 + 1) return -1;
    const char *target = sp1 + 1;
    size_t tlen = (size_t)(sp2 - 1 - target);
    const char *q = memchr(target, '?', tlen);
    size_t plen = q ? (size_t)(q - target) : tlen;
    r->method = dup_range(line, (size_t)(sp1 - line));
    r->path = dup_range(target, plen);
    r->query = q ? wire_encode(q + 1, tlen - plen - 1) : dup_range("", 0);
    return r->method && r->path && r->query ? 0 : -1;
}

static int append_folded(parsed_req *r, const char *line, size_t len)
{
    if (r->n_headers == 0) return -1;
    char *old = r->values[r->n_headers - 1];
    size_t olen = strlen(old);
    char *v = realloc(old, olen + len + 2);
    if (!v) return -1;
    v[olen] = '\n';
    memcpy(v + olen + 1, line, len);
    v[olen + len + 1] = '\0';
    r->values[r->n_headers - 1] = v;
    return 0;
}

/* Parses request line, headers (with folding), blank line and body. */
static int parse_request(const char *text, size_t text_len, parsed_req *r)
{
    memset(r, 0, sizeof *r);
    const char *p = text, *end = text + text_len;
    int first = 1;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *eol = nl ? nl : end;
        size_t len = (size_t)(eol - p);
        const char *next = nl ? nl + 1 : end;
        if (first) {
            if (parse_request_line(r, p, len) != 0) return -1;
            first = 0;
        } else if (len == 0) {
            r->body = next;
            r->body_len = (size_t)(end - next);
            break;
        } else if (*p == ' ' || *p == '\t') {
            if (append_folded(r, p, len) != 0) return -1;
        } else {
            const char *colon = memchr(p, ':', len);
            if (!colon || r->n_headers == MAX_HEADERS) return -1;
            size_t i = r->n_headers++;
            r->names[i] = dup_range(p, (size_t)(colon - p));
            r->values[i] = dup_range(colon + 1, (size_t)(eol - colon - 1));
            if (!r->names[i] || !r->values[i]) return -1;
        }
        p = next;
    }
    if (first) return -1;
    for (size_t i = 0; i < r->n_headers; i++) {
        r->headers[i].name = r->names[i];
        r->headers[i].value = r->values[i];
    }
    return 0;
}

/* ------------------------------------------------------------------------
 * Small file helpers
 * ---------------------------------------------------------------------- */

/* out = a + b + c; 0, or -1 (and a failed check) when it does not fit. */
static int join3(char *out, size_t cap, const char *a, const char *b,
                 const char *c)
{
    int n = snprintf(out, cap, "%s%s%s", a, b, c);
    if (n >= 0 && (size_t)n < cap) return 0;
    FAIL_AT("path too long: %s%s%s", a, b, c);
    return -1;
}

static char *read_at(const char *dir, const char *name, const char *ext,
                     size_t *len)
{
    char path[2048], sub[2048];
    if (join3(sub, sizeof sub, dir, "/", name) != 0 ||
        join3(path, sizeof path, sub, ext, "") != 0)
        return NULL;
    return test_read_file(path, len);
}

static int is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Value (up to end of line) of the first line starting with prefix
 * (case-insensitive), malloc'd; NULL if none.                            */
static char *line_value(const char *text, const char *prefix)
{
    size_t plen = strlen(prefix);
    for (const char *p = text; p && *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        if (len >= plen && strncasecmp(p, prefix, plen) == 0)
            return dup_range(p + plen, len - plen);
        p = nl ? nl + 1 : NULL;
    }
    return NULL;
}

/* Unix time of "YYYYMMDDTHHMMSSZ" or "YYYY-MM-DDTHH:MM:SSZ"; -1 if bad. */
static int64_t parse_time(const char *s)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    if (sscanf(s, "%4d%2d%2dT%2d%2d%2dZ", &tm.tm_year, &tm.tm_mon,
               &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6 &&
        sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2dZ", &tm.tm_year, &tm.tm_mon,
               &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6)
        return -1;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return (int64_t)timegm(&tm);
}

/* ------------------------------------------------------------------------
 * Running one case
 * ---------------------------------------------------------------------- */

typedef struct expect {
    const char *creq, *sts;
    const char *authz;       /* full Authorization value, or NULL */
    const char *signature;   /* hex signature, or NULL */
} expect;

static void sign_and_compare(const char *label, const char *req_text,
                             size_t req_len, const sigv4_params *p,
                             const expect *want)
{
    int before = test_failures_in_case;
    parsed_req pr;
    if (parse_request(req_text, req_len, &pr) != 0) {
        FAIL_AT("cannot parse request");
    } else {
        sigv4_request req = { pr.method, pr.path, pr.query, pr.headers,
                              pr.n_headers, pr.body, pr.body_len };
        sigv4_result out;
        strands_error err;
        strands_status st = sigv4_sign(&req, p, &out, &err);
        CHECK_INT(st, STRANDS_OK);
        if (st != STRANDS_OK) fprintf(stderr, "    %s\n", err.message);
        CHECK_STR(out.canonical_request, want->creq);
        CHECK_STR(out.string_to_sign, want->sts);
        if (want->authz) CHECK_STR(out.authorization, want->authz);
        if (want->signature) CHECK_STR(out.signature, want->signature);
        sigv4_result_cleanup(&out);
    }
    parsed_req_free(&pr);
    if (test_failures_in_case != before)
        fprintf(stderr, "    ^ in case %s\n", label);
}

/* The classic layout (<case>/<case>.req, .creq, .sts, .authz, .sreq), used
 * by aws4_testsuite and generated/. Region, service and time come from the
 * .sts; the session token from the .creq x-amz-security-token line, or,
 * when only the signed request (.sreq) carries it, the token was added
 * after signing (omit_session_token).                                    */
static void run_classic_case(const char *dir, const char *name,
                             const char *label)
{
    size_t req_len = 0;
    char *req = read_at(dir, name, ".req", &req_len);
    char *creq = read_at(dir, name, ".creq", NULL);
    char *sts = read_at(dir, name, ".sts", NULL);
    char *authz = read_at(dir, name, ".authz", NULL);
    char *sreq = read_at(dir, name, ".sreq", NULL);
    char region[64] = "", service[64] = "", date[32] = "";
    CHECK(req && creq && sts && authz && sreq);
    if (req && creq && sts && authz && sreq) {
        CHECK_INT(sscanf(sts, "AWS4-HMAC-SHA256\n%31[^\n]\n%*8[0-9]/%63[^/]/"
                         "%63[^/]/aws4_request\n", date, region, service), 3);
        char *signed_tok = line_value(creq, "x-amz-security-token:");
        char *wire_tok = line_value(sreq, "X-Amz-Security-Token:");
        sigv4_params p = { AKID, SECRET, signed_tok ? signed_tok : wire_tok,
                           region, service, parse_time(date), 1, 1, 0,
                           !signed_tok && wire_tok };
        expect want = { creq, sts, authz, NULL };
        sign_and_compare(label, req, req_len, &p, &want);
        free(signed_tok);
        free(wire_tok);
    }
    free(req);
    free(creq);
    free(sts);
    free(authz);
    free(sreq);
}

/* Runs every case below dir (a case is a folder holding <name>.req;
 * other folders are searched recursively). Returns the number run.       */
static int walk_classic(const char *dir, const char *prefix)
{
    int count = 0;
    DIR *d = opendir(dir);
    CHECK(d != NULL);
    if (!d) return 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.') continue;
        char sub[2048], label[1024], sub_prefix[1024];
        if (join3(sub, sizeof sub, dir, "/", de->d_name) != 0 ||
            !is_dir(sub))
            continue;
        if (join3(label, sizeof label, prefix, de->d_name, "") != 0)
            continue;
        char *probe = read_at(sub, de->d_name, ".req", NULL);
        if (probe) {
            free(probe);
            run_classic_case(sub, de->d_name, label);
            count++;
        } else if (join3(sub_prefix, sizeof sub_prefix, label, "/", "") == 0) {
            count += walk_classic(sub, sub_prefix);
        }
    }
    closedir(d);
    return count;
}

static void test_aws4_testsuite(void)
{
    if (!test_have_shared()) SKIP("%s absent", STRANDS_SHARED_DIR);
    int n = walk_classic(SIGV4_DIR "/aws4_testsuite", "aws4_testsuite/");
    CHECK_INT(n, 34);
}

static void test_generated(void)
{
    if (!test_have_shared()) SKIP("%s absent", STRANDS_SHARED_DIR);
    int n = walk_classic(SIGV4_DIR "/generated", "generated/");
    CHECK_INT(n, 3);
}

static const char *json_str(json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}

/* One aws-signing-test-suite/v4 case, header flavour, driven by
 * context.json. normalize:false means neither dot-segment removal nor the
 * second encoding of the path.                                           */
static void run_v4_case(const char *dir, const char *name)
{
    char label[300];
    snprintf(label, sizeof label, "v4/%s", name);
    size_t req_len = 0;
    char *req = read_at(dir, "request.txt", "", &req_len);
    char *creq = read_at(dir, "header-canonical-request.txt", "", NULL);
    char *sts = read_at(dir, "header-string-to-sign.txt", "", NULL);
    char *sig = read_at(dir, "header-signature.txt", "", NULL);
    char *sreq = read_at(dir, "header-signed-request.txt", "", NULL);
    char *ctx_text = read_at(dir, "context.json", "", NULL);
    json_t *ctx = ctx_text ? json_loads(ctx_text, 0, NULL) : NULL;
    json_t *cred = json_object_get(ctx, "credentials");
    CHECK(req && creq && sts && sig && sreq && ctx && cred);
    if (req && creq && sts && sig && sreq && ctx && cred) {
        char *authz = line_value(sreq, "Authorization:");
        const char *ts = json_str(ctx, "timestamp");
        int normalize = json_is_true(json_object_get(ctx, "normalize"));
        sigv4_params p = {
            json_str(cred, "access_key_id"),
            json_str(cred, "secret_access_key"),
            json_str(cred, "token"),
            json_str(ctx, "region"),
            json_str(ctx, "service"),
            ts ? parse_time(ts) : -1,
            normalize,
            normalize,
            json_is_true(json_object_get(ctx, "sign_body")),
            json_is_true(json_object_get(ctx, "omit_session_token")),
        };
        CHECK(authz != NULL);
        expect want = { creq, sts, authz, sig };
        sign_and_compare(label, req, req_len, &p, &want);
        free(authz);
    }
    json_decref(ctx);
    free(ctx_text);
    free(req);
    free(creq);
    free(sts);
    free(sig);
    free(sreq);
}

static void test_signing_suite_v4(void)
{
    if (!test_have_shared()) SKIP("%s absent", STRANDS_SHARED_DIR);
    const char *root = SIGV4_DIR "/aws-signing-test-suite/v4";
    DIR *d = opendir(root);
    CHECK(d != NULL);
    if (!d) return;
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.') continue;
        char sub[2048];
        if (join3(sub, sizeof sub, root, "/", de->d_name) != 0 ||
            !is_dir(sub))
            continue;
        run_v4_case(sub, de->d_name);
        n++;
    }
    closedir(d);
    CHECK_INT(n, 38);
}

/* ------------------------------------------------------------------------
 * Helpers and canonicalization details (no vector files needed)
 * ---------------------------------------------------------------------- */

static void test_uri_encode(void)
{
    char *s = sigv4_uri_encode("a b/~-._:%+=&", 13);
    CHECK_STR(s, "a%20b%2F~-._%3A%25%2B%3D%26");
    free(s);
    s = sigv4_uri_encode("\xe1\x88\xb4", 3);
    CHECK_STR(s, "%E1%88%B4");
    free(s);
    s = sigv4_uri_encode("x\0y", 3);
    CHECK_STR(s, "x%00y");
    free(s);
    s = sigv4_uri_encode(NULL, 0);
    CHECK_STR(s, "");
    free(s);
    s = sigv4_uri_encode("AZaz09", 6);
    CHECK_STR(s, "AZaz09");
    free(s);
}

static void test_hex_sha256(void)
{
    char h[65];
    sigv4_hex_sha256(NULL, 0, h);
    CHECK_STR(h, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b"
                 "7852b855");
    sigv4_hex_sha256("abc", 3, h);
    CHECK_STR(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61"
                 "f20015ad");
}

/* Signs a request with default params (non-S3, time of the suites). */
static strands_status sign_simple(const char *method, const char *path,
                                  const char *query, const sigv4_header *h,
                                  size_t nh, sigv4_params *p, sigv4_result *o)
{
    sigv4_request req = { method, path, query, h, nh, NULL, 0 };
    return sigv4_sign(&req, p, o, NULL);
}

static sigv4_params default_params(void)
{
    sigv4_params p = { AKID, SECRET, NULL, "us-east-1", "bedrock",
                       1440938160, 1, 1, 0, 0 };
    return p;
}

/* Line n (0-based) of s, in a static buffer. */
static const char *nth_line(const char *s, int n)
{
    static char line[4096];
    for (; s && n > 0; n--) {
        s = strchr(s, '\n');
        if (s) s++;
    }
    if (!s) return "(none)";
    size_t len = strcspn(s, "\n");
    if (len >= sizeof line) len = sizeof line - 1;
    memcpy(line, s, len);
    line[len] = '\0';
    return line;
}

static void test_model_id_double_encoding(void)
{
    const sigv4_header h[] = { { "Host", "bedrock-runtime.us-east-1."
                                         "amazonaws.com" } };
    const char *path =
        "/model/us.anthropic.claude-sonnet-4-20250514-v1%3A0/converse";
    sigv4_params p = default_params();
    sigv4_result out;
    CHECK_INT(sign_simple("POST", path, NULL, h, 1, &p, &out), STRANDS_OK);
    CHECK_STR(nth_line(out.canonical_request, 1),
              "/model/us.anthropic.claude-sonnet-4-20250514-v1%253A0/"
              "converse");
    sigv4_result_cleanup(&out);

    /* S3 style: the wire path is already encoded once; keep it. */
    p.double_encode_path = 0;
    CHECK_INT(sign_simple("POST", path, NULL, h, 1, &p, &out), STRANDS_OK);
    CHECK_STR(nth_line(out.canonical_request, 1), path);
    sigv4_result_cleanup(&out);

    /* An ARN with %2F stays one segment: no normalization across it. */
    p = default_params();
    CHECK_INT(sign_simple("POST", "/model/arn%3Ax%2F..%2Fy/converse", NULL,
                          h, 1, &p, &out), STRANDS_OK);
    CHECK_STR(nth_line(out.canonical_request, 1),
              "/model/arn%253Ax%252F..%252Fy/converse");
    sigv4_result_cleanup(&out);
}

static void test_path_normalization(void)
{
    const sigv4_header h[] = { { "host", "example.com" } };
    static const struct { const char *in, *norm, *raw; } cases[] = {
        { "/a/./b/../c//d/", "/a/c/d/", "/a/./b/../c//d/" },
        { "/..", "/", "/.." },
        { "/a/b/..", "/a", "/a/b/.." },
        { "", "/", "/" },
        { "/a b/%41%2f", "/a%20b/%2541%252f", "/a%20b/A%2F" },
        { "/$x", "/%24x", "/%24x" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sigv4_params p = default_params();
        sigv4_result out;
        CHECK_INT(sign_simple("GET", cases[i].in, NULL, h, 1, &p, &out),
                  STRANDS_OK);
        CHECK_STR(nth_line(out.canonical_request, 1), cases[i].norm);
        sigv4_result_cleanup(&out);
        p.normalize_path = p.double_encode_path = 0;
        CHECK_INT(sign_simple("GET", cases[i].in, NULL, h, 1, &p, &out),
                  STRANDS_OK);
        CHECK_STR(nth_line(out.canonical_request, 1), cases[i].raw);
        sigv4_result_cleanup(&out);
    }
}

static void test_canonical_query(void)
{
    const sigv4_header h[] = { { "host", "example.com" } };
    static const struct { const char *in, *want; } cases[] = {
        { "b=2&a=1&a=0&&c", "a=0&a=1&b=2&c=" },
        { "x=%zz+y", "x=%25zz%2By" },
        { "%2f=%7e&a=b=c", "%2F=~&a=b%3Dc" },
        { "B=1&a=1", "B=1&a=1" },
        { "&", "" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sigv4_params p = default_params();
        sigv4_result out;
        CHECK_INT(sign_simple("GET", "/", cases[i].in, h, 1, &p, &out),
                  STRANDS_OK);
        CHECK_STR(nth_line(out.canonical_request, 2), cases[i].want);
        sigv4_result_cleanup(&out);
    }
}

static void test_added_headers(void)
{
    const sigv4_header h[] = {
        { "Host", "bedrock-runtime.us-east-1.amazonaws.com" },
        { "Content-Type", "application/json" },
    };
    sigv4_params p = default_params();
    p.session_token = "TOKEN";
    p.sign_body_hash = 1;
    p.unix_time = 1700000000; /* 2023-11-14T22:13:20Z */
    sigv4_request req = { "POST", "/", NULL, h, 2, "{}", 2 };
    sigv4_result out;
    CHECK_INT(sigv4_sign(&req, &p, &out, NULL), STRANDS_OK);
    CHECK_STR(out.amz_date, "20231114T221320Z");
    char hash[65];
    sigv4_hex_sha256("{}", 2, hash);
    CHECK_STR(out.payload_hash, hash);
    char want[1024];
    snprintf(want, sizeof want,
             "POST\n/\n\ncontent-type:application/json\n"
             "host:bedrock-runtime.us-east-1.amazonaws.com\n"
             "x-amz-content-sha256:%s\nx-amz-date:20231114T221320Z\n"
             "x-amz-security-token:TOKEN\n\n"
             "content-type;host;x-amz-content-sha256;x-amz-date;"
             "x-amz-security-token\n%s", hash, hash);
    CHECK_STR(out.canonical_request, want);
    CHECK(strstr(out.authorization, "Credential=AKIDEXAMPLE/20231114/"
                 "us-east-1/bedrock/aws4_request, SignedHeaders=content-type;"
                 "host;x-amz-content-sha256;x-amz-date;x-amz-security-token, "
                 "Signature=") == out.authorization + 17);
    CHECK(strstr(out.authorization, out.signature) != NULL);
    char first_sig[65];
    memcpy(first_sig, out.signature, 65);
    sigv4_result_cleanup(&out);

    /* Omitted token: neither in the headers nor in SignedHeaders, and a
     * different signature.                                               */
    p.omit_session_token = 1;
    CHECK_INT(sigv4_sign(&req, &p, &out, NULL), STRANDS_OK);
    CHECK(strstr(out.canonical_request, "x-amz-security-token") == NULL);
    CHECK(strcmp(out.signature, first_sig) != 0);
    sigv4_result_cleanup(&out);
}

static void test_explicit_headers_win(void)
{
    const sigv4_header h[] = {
        { "host", "s3.amazonaws.com" },
        { "X-Amz-Date", "20200102T030405Z" },
        { "X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD" },
        { "X-Amz-Security-Token", "passed" },
    };
    sigv4_params p = default_params();
    p.session_token = "other";
    p.sign_body_hash = 1;
    sigv4_request req = { "PUT", "/k", NULL, h, 4, "data", 4 };
    sigv4_result out;
    CHECK_INT(sigv4_sign(&req, &p, &out, NULL), STRANDS_OK);
    CHECK_STR(out.amz_date, "20200102T030405Z");
    CHECK_STR(out.payload_hash, "UNSIGNED-PAYLOAD");
    CHECK_STR(out.canonical_request,
              "PUT\n/k\n\nhost:s3.amazonaws.com\n"
              "x-amz-content-sha256:UNSIGNED-PAYLOAD\n"
              "x-amz-date:20200102T030405Z\nx-amz-security-token:passed\n\n"
              "host;x-amz-content-sha256;x-amz-date;x-amz-security-token\n"
              "UNSIGNED-PAYLOAD");
    CHECK(strstr(out.string_to_sign, "\n20200102/us-east-1/bedrock/") !=
          NULL);
    sigv4_result_cleanup(&out);
}

static void test_header_canonicalization(void)
{
    const sigv4_header h[] = {
        { "HOST", "  example.com  " },
        { "User-Agent", "strands-c" },
        { "Authorization", "Bearer x" },
        { "X-Amzn-Trace-Id", "Root=1" },
        { "Proxy-Authorization", "x" },
        { "Sec-Fetch-Mode", "cors" },
        { "Connection", "keep-alive" },
        { "x-folded", "a\r\n  b \t c\n" },
        { "X-Dup", "2" },
        { "x-dup", " 1 " },
        { "x-empty", "   " },
    };
    sigv4_params p = default_params();
    sigv4_result out;
    CHECK_INT(sign_simple("GET", "/", NULL, h, sizeof h / sizeof h[0], &p,
                          &out), STRANDS_OK);
    CHECK_STR(out.canonical_request,
              "GET\n/\n\nhost:example.com\nx-amz-date:20150830T123600Z\n"
              "x-dup:2,1\nx-empty:\nx-folded:a b c\n\n"
              "host;x-amz-date;x-dup;x-empty;x-folded\n"
              "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b"
              "855");
    sigv4_result_cleanup(&out);
}

static void test_errors(void)
{
    const sigv4_header ok[] = { { "host", "example.com" } };
    sigv4_params p = default_params();
    sigv4_result out;
    strands_error err;
    sigv4_request req = { "GET", "/", NULL, ok, 0, NULL, 0 };

    /* No host header (an empty one does not count). */
    CHECK_INT(sigv4_sign(&req, &p, &out, &err), STRANDS_E_INVALID);
    CHECK(strstr(err.message, "host") != NULL);
    CHECK(out.authorization == NULL && out.signature[0] == '\0');
    const sigv4_header empty_host[] = { { "host", " " } };
    req.headers = empty_host;
    req.n_headers = 1;
    CHECK_INT(sigv4_sign(&req, &p, &out, &err), STRANDS_E_INVALID);

    const sigv4_header bad_name[] = { ok[0], { "bad name", "v" } };
    req.headers = bad_name;
    req.n_headers = 2;
    CHECK_INT(sigv4_sign(&req, &p, &out, &err), STRANDS_E_INVALID);

    const sigv4_header bad_date[] = { ok[0], { "x-amz-date", "2015-08-30" } };
    req.headers = bad_date;
    CHECK_INT(sigv4_sign(&req, &p, &out, &err), STRANDS_E_INVALID);

    req.headers = ok;
    req.n_headers = 1;
    p.unix_time = -1;
    CHECK_INT(sigv4_sign(&req, &p, &out, &err), STRANDS_E_INVALID);
    p = default_params();
    p.region = "us east";
    CHECK_INT(sigv4_sign(&req, &p, &out, &err), STRANDS_E_INVALID);
    p = default_params();
    p.secret_access_key = "";
    CHECK_INT(sigv4_sign(&req, &p, &out, &err), STRANDS_E_INVALID);
    p = default_params();
    req.method = "G ET";
    CHECK_INT(sigv4_sign(&req, &p, &out, &err), STRANDS_E_INVALID);
    req.method = "GET";

    /* A canonical request over the cap fails cleanly. */
    size_t big = SIGV4_MAX_CANONICAL + 16;
    char *v = malloc(big + 1);
    CHECK(v != NULL);
    if (v) {
        memset(v, 'v', big);
        v[big] = '\0';
        const sigv4_header huge[] = { ok[0], { "x-big", v } };
        req.headers = huge;
        req.n_headers = 2;
        CHECK_INT(sigv4_sign(&req, &p, &out, &err), STRANDS_E_TOO_LARGE);
        CHECK_INT(err.status, STRANDS_E_TOO_LARGE);
        CHECK(out.canonical_request == NULL);
        free(v);
    }
    sigv4_result_cleanup(&out); /* zeroed result: harmless */
    sigv4_result_cleanup(NULL);
}

int main(void)
{
    RUN(test_uri_encode);
    RUN(test_hex_sha256);
    RUN(test_model_id_double_encoding);
    RUN(test_path_normalization);
    RUN(test_canonical_query);
    RUN(test_added_headers);
    RUN(test_explicit_headers_win);
    RUN(test_header_canonicalization);
    RUN(test_errors);
    RUN(test_aws4_testsuite);
    RUN(test_signing_suite_v4);
    RUN(test_generated);
    return test_report();
}
