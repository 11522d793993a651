/* Tests for the STS client's pure parts (src/aws/sts.c): form encoding and
 * request bodies, the bounded XML extractor (well-formedness, entities,
 * CDATA, namespaces, DOCTYPE refusal, depth and size caps, duplicates),
 * success and error answers turned into credentials / strands_error, and
 * token-file reading.                                                  */
#include <sys/stat.h>

#include "aws/sts.h"
#include "test.h"

#define NS "xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\""
#define ARN "arn:aws:iam::123456789012:role/demo"

static const char ok_xml[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<AssumeRoleResponse " NS ">\n"
    "  <AssumeRoleResult>\n"
    "    <SourceIdentity>DevUser123</SourceIdentity>\n"
    "    <AssumedRoleUser>\n"
    "      <Arn>arn:aws:sts::123456789012:assumed-role/demo/John</Arn>\n"
    "      <AssumedRoleId>ARO123EXAMPLE123:John</AssumedRoleId>\n"
    "    </AssumedRoleUser>\n"
    "    <Credentials>\n"
    "      <AccessKeyId>ASIAIOSFODNN7EXAMPLE</AccessKeyId>\n"
    "      <SecretAccessKey>wJalrXUtnFEMI/K7MDENG/bPxRfiCY&amp;&#43;&#x2B;"
    "</SecretAccessKey>\n"
    "      <SessionToken><![CDATA[Fwo<GZ>&tok]]>en==</SessionToken>\n"
    "      <Expiration>2026-07-15T23:28:33.359Z</Expiration>\n"
    "    </Credentials>\n"
    "    <PackedPolicySize>6</PackedPolicySize>\n"
    "  </AssumeRoleResult>\n"
    "  <ResponseMetadata>\n"
    "    <RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId>\n"
    "  </ResponseMetadata>\n"
    "</AssumeRoleResponse>\n";

/* ---- form encoding ---------------------------------------------------- */

static void test_form_encoding(void)
{
    dynbuf b;
    dynbuf_init(&b, 4096);
    CHECK_INT(sts_form_add(&b, "RoleArn", ARN ":x y+z/~-._"), STRANDS_OK);
    CHECK_INT(sts_form_add(&b, "K&=", "\xC3\xA9\n%"), STRANDS_OK);
    CHECK_STR(dynbuf_str(&b),
              "RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fdemo"
              "%3Ax%20y%2Bz%2F~-._&K%26%3D=%C3%A9%0A%25");
    dynbuf_cleanup(&b);
}

static void test_build_bodies(void)
{
    dynbuf b;
    dynbuf_init(&b, 4096);
    sts_request rq = {.role_arn = ARN, .session_name = "s1",
                      .external_id = "ext id", .duration_seconds = 900};
    CHECK_INT(sts_build_body("AssumeRole", &rq, &b), STRANDS_OK);
    CHECK_STR(dynbuf_str(&b),
              "Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam"
              "%3A%3A123456789012%3Arole%2Fdemo&RoleSessionName=s1"
              "&DurationSeconds=900&ExternalId=ext%20id");
    dynbuf_cleanup(&b);

    sts_request wi = {.role_arn = ARN, .session_name = "s2",
                      .web_identity_token = "eyJ.a+b/c="};
    CHECK_INT(sts_build_body("AssumeRoleWithWebIdentity", &wi, &b),
              STRANDS_OK);
    CHECK_STR(dynbuf_str(&b),
              "Action=AssumeRoleWithWebIdentity&Version=2011-06-15"
              "&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fdemo"
              "&RoleSessionName=s2&WebIdentityToken=eyJ.a%2Bb%2Fc%3D");
    dynbuf_cleanup(&b);

    sts_request bad = {.role_arn = ARN};
    CHECK_INT(sts_build_body("AssumeRole", &bad, &b), STRANDS_E_INVALID);
    dynbuf_cleanup(&b);
    sts_request no_token = {.role_arn = ARN, .session_name = "s"};
    CHECK_INT(sts_build_body("AssumeRoleWithWebIdentity", &no_token, &b),
              STRANDS_E_INVALID);
    dynbuf_cleanup(&b);
}

/* ---- responses -------------------------------------------------------- */

static void test_parse_success(void)
{
    strands_credentials c;
    strands_error err;
    strands_error_clear(&err);
    CHECK_INT(sts_parse_response("AssumeRole", ARN, 200, ok_xml,
                                 strlen(ok_xml), &c, &err),
              STRANDS_OK);
    CHECK_STR(c.access_key_id, "ASIAIOSFODNN7EXAMPLE");
    CHECK_STR(c.secret_access_key, "wJalrXUtnFEMI/K7MDENG/bPxRfiCY&++");
    CHECK_STR(c.session_token, "Fwo<GZ>&token==");
    CHECK_INT(c.expiration, 1784158113);  /* 2026-07-15T23:28:33Z */
    /* The same document is no answer for the other action. */
    CHECK_INT(sts_parse_response("AssumeRoleWithWebIdentity", ARN, 200,
                                 ok_xml, strlen(ok_xml), &c, &err),
              STRANDS_E_PARSE);
    CHECK(strstr(err.message, "AssumeRoleWithWebIdentity") != NULL);
    CHECK(strstr(err.message, ARN) != NULL);
    CHECK_STR(c.secret_access_key, "");
}

static void test_parse_web_identity_prefixed(void)
{
    /* Namespace prefixes and attributes do not matter. */
    const char *xml =
        "<sts:AssumeRoleWithWebIdentityResponse "
        "xmlns:sts='https://sts.amazonaws.com/doc/2011-06-15/' a=\"x>y\">"
        "<sts:AssumeRoleWithWebIdentityResult>"
        "<sts:SubjectFromWebIdentityToken>sub</sts:SubjectFromWebIdentityToken>"
        "<sts:Credentials >"
        "<sts:AccessKeyId>ASIAWEB</sts:AccessKeyId>"
        "<sts:SecretAccessKey>sec&lt;&gt;&quot;&apos;</sts:SecretAccessKey>"
        "<sts:SessionToken>tok&#233;</sts:SessionToken>"
        "<sts:Expiration>2026-01-01T00:00:00Z</sts:Expiration>"
        "</sts:Credentials>"
        "</sts:AssumeRoleWithWebIdentityResult>"
        "</sts:AssumeRoleWithWebIdentityResponse>  \n";
    strands_credentials c;
    strands_error err;
    CHECK_INT(sts_parse_response("AssumeRoleWithWebIdentity", ARN, 200, xml,
                                 strlen(xml), &c, &err),
              STRANDS_OK);
    CHECK_STR(c.access_key_id, "ASIAWEB");
    CHECK_STR(c.secret_access_key, "sec<>\"'");
    CHECK_STR(c.session_token, "tok\xC3\xA9");
    CHECK_INT(c.expiration, 1767225600);
}

static void test_parse_errors(void)
{
    const char *xml =
        "<ErrorResponse " NS ">\n"
        "  <Error>\n    <Type>Sender</Type>\n"
        "    <Code>AccessDenied</Code>\n"
        "    <Message>User: arn:aws:iam::1:user/x is not authorized to "
        "perform: sts:AssumeRole on resource: " ARN "\n&amp; more</Message>\n"
        "  </Error>\n"
        "  <RequestId>4c5f2b9a-1111-2222-3333-444455556666</RequestId>\n"
        "</ErrorResponse>\n";
    strands_credentials c;
    strands_error err;
    strands_error_clear(&err);
    CHECK_INT(sts_parse_response("AssumeRole", ARN, 403, xml, strlen(xml), &c,
                                 &err),
              STRANDS_E_UPSTREAM);
    CHECK_INT(err.status, STRANDS_E_UPSTREAM);
    CHECK_STR(err.code, "AccessDenied");
    CHECK_INT(err.http_status, 403);
    CHECK(strstr(err.message, "STS AssumeRole for role " ARN) != NULL);
    CHECK(strstr(err.message, "HTTP 403 AccessDenied") != NULL);
    /* Control characters from the message are flattened. */
    CHECK(strstr(err.message, ARN " & more") != NULL);

    /* A very long message is cut, not a reason to lose the code. */
    char big[3000];
    int n = snprintf(big, sizeof big, "<ErrorResponse><Error><Code>Throttling"
                     "</Code><Message>%02000d</Message></Error>"
                     "</ErrorResponse>", 5);
    CHECK_INT(sts_parse_response("AssumeRole", ARN, 400, big, (size_t)n, &c,
                                 &err),
              STRANDS_E_UPSTREAM);
    CHECK_STR(err.code, "Throttling");
    const char *cut = strstr(err.message, "HTTP 400 Throttling: 0000");
    CHECK(cut != NULL);
    if (cut) CHECK_INT(strlen(cut + 21), 399);  /* the first 399 bytes */

    /* Not XML (a proxy's HTML page): the status names the error. */
    const char *html = "<html><body>Bad Gateway</body></html>";
    CHECK_INT(sts_parse_response("AssumeRole", ARN, 502, html, strlen(html),
                                 &c, &err),
              STRANDS_E_UPSTREAM);
    CHECK_STR(err.code, "HttpError502");
    CHECK_INT(err.http_status, 502);
    CHECK_INT(sts_parse_response("AssumeRole", ARN, 500, "", 0, &c, &err),
              STRANDS_E_UPSTREAM);
    CHECK_STR(err.code, "HttpError500");
}

typedef struct bad_case {
    const char *name;
    const char *xml;
} bad_case;

#define CREDS(ak, body)                                                   \
    "<AssumeRoleResponse><AssumeRoleResult><Credentials>"                 \
    "<AccessKeyId>" ak "</AccessKeyId>" body                              \
    "</Credentials></AssumeRoleResult></AssumeRoleResponse>"
#define REST                                                              \
    "<SecretAccessKey>s</SecretAccessKey><SessionToken>t</SessionToken>"  \
    "<Expiration>2026-01-01T00:00:00Z</Expiration>"

static void test_parse_rejects(void)
{
    static const bad_case cases[] = {
        {"truncated", "<AssumeRoleResponse><AssumeRoleResult>"},
        {"empty", ""},
        {"only space", "  \n "},
        {"mismatched", "<AssumeRoleResponse><A></B></AssumeRoleResponse>"},
        {"doctype",
         "<!DOCTYPE lolz [<!ENTITY lol \"lol\">]><AssumeRoleResponse/>"},
        {"unknown entity", CREDS("AK&lol;", REST)},
        {"bad numeric entity", CREDS("AK&#0;", REST)},
        {"surrogate entity", CREDS("AK&#xD800;", REST)},
        {"huge entity", CREDS("AK&#x1100000;", REST)},
        {"unterminated entity", CREDS("AK&amp", REST)},
        {"duplicate", CREDS("AK", "<AccessKeyId>AK2</AccessKeyId>" REST)},
        {"missing expiration",
         CREDS("AK", "<SecretAccessKey>s</SecretAccessKey>"
                     "<SessionToken>t</SessionToken>")},
        {"bad expiration",
         CREDS("AK", "<SecretAccessKey>s</SecretAccessKey>"
                     "<SessionToken>t</SessionToken>"
                     "<Expiration>tomorrow</Expiration>")},
        {"empty key", CREDS("", REST)},
        {"text before root", "x<AssumeRoleResponse/>"},
        {"unterminated comment", "<!-- <AssumeRoleResponse/>"},
        {"unterminated tag", "<AssumeRoleResponse a='1'"},
        {"unquoted attribute", "<AssumeRoleResponse a=1/>"},
        {"lt in attribute", "<AssumeRoleResponse a='<'/>"},
        {"bad name", "<1AssumeRoleResponse/>"},
        {"end tag first", "</AssumeRoleResponse>"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        strands_credentials c;
        strands_error err;
        strands_error_clear(&err);
        strands_status st = sts_parse_response(
            "AssumeRole", ARN, 200, cases[i].xml, strlen(cases[i].xml), &c,
            &err);
        if (st != STRANDS_E_PARSE)
            fprintf(stderr, "  case '%s'\n", cases[i].name);
        CHECK_INT(st, STRANDS_E_PARSE);
        CHECK_STR(err.code, "STSParseError");
        CHECK_STR(c.secret_access_key, "");
        CHECK(strstr(err.message, ARN) != NULL);
    }
    /* A NUL byte inside. */
    static const char nul[] = CREDS("AK\0X", REST);
    strands_credentials c;
    strands_error err;
    CHECK_INT(sts_parse_response("AssumeRole", ARN, 200, nul, sizeof nul - 1,
                                 &c, &err),
              STRANDS_E_PARSE);
}

static void test_xml_caps(void)
{
    /* Depth: STS_XML_MAX_DEPTH is fine, one more is not. */
    char xml[2048];
    size_t n = 0;
    for (int i = 0; i < STS_XML_MAX_DEPTH; i++)
        n += (size_t)snprintf(xml + n, sizeof xml - n, "<a>");
    for (int i = 0; i < STS_XML_MAX_DEPTH; i++)
        n += (size_t)snprintf(xml + n, sizeof xml - n, "</a>");
    char out[8];
    sts_xml_field f = {"a/a", out, sizeof out, 0, 0};
    strands_error err;
    CHECK_INT(sts_xml_extract(xml, n, &f, 1, &err), STRANDS_OK);
    CHECK(f.found);
    n = 0;
    for (int i = 0; i <= STS_XML_MAX_DEPTH; i++)
        n += (size_t)snprintf(xml + n, sizeof xml - n, "<a>");
    for (int i = 0; i <= STS_XML_MAX_DEPTH; i++)
        n += (size_t)snprintf(xml + n, sizeof xml - n, "</a>");
    CHECK_INT(sts_xml_extract(xml, n, &f, 1, &err), STRANDS_E_PARSE);
    CHECK(strstr(err.message, "nested too deep") != NULL);

    /* A value that does not fit its buffer. */
    const char *big = "<r><v>12345678</v></r>";
    sts_xml_field g = {"r/v", out, sizeof out, 0, 0};
    CHECK_INT(sts_xml_extract(big, strlen(big), &g, 1, &err),
              STRANDS_E_PARSE);
    const char *fits = "<r><v>1234567</v></r>";
    CHECK_INT(sts_xml_extract(fits, strlen(fits), &g, 1, &err), STRANDS_OK);
    CHECK_STR(out, "1234567");

    /* An over-long session token is refused, not truncated. */
    size_t tn = sizeof(((strands_credentials *)0)->session_token);
    char *doc = malloc(tn + 512);
    int len = snprintf(doc, tn + 512,
                       "<AssumeRoleResponse><AssumeRoleResult><Credentials>"
                       "<AccessKeyId>A</AccessKeyId><SecretAccessKey>s"
                       "</SecretAccessKey><SessionToken>%0*d</SessionToken>"
                       "<Expiration>2026-01-01T00:00:00Z</Expiration>"
                       "</Credentials></AssumeRoleResult>"
                       "</AssumeRoleResponse>",
                       (int)tn, 0);
    strands_credentials c;
    CHECK_INT(sts_parse_response("AssumeRole", ARN, 200, doc, (size_t)len,
                                 &c, &err),
              STRANDS_E_PARSE);
    free(doc);
}

static void test_xml_extract_details(void)
{
    const char *xml = "<?xml version='1.0'?><!-- c --><r>"
                      "<e/><t>a<!-- inner -->b<?pi x?>c</t>"
                      "<n><t>nested</t></n></r><!-- after -->trailing";
    char e[8], t[8], nt[8], missing[8];
    sts_xml_field f[4] = {{"r/e", e, sizeof e, 0, 0},
                          {"r/t", t, sizeof t, 0, 0},
                          {"r/n/t", nt, sizeof nt, 0, 0},
                          {"r/x", missing, sizeof missing, 0, 0}};
    strands_error err;
    CHECK_INT(sts_xml_extract(xml, strlen(xml), f, 4, &err), STRANDS_OK);
    CHECK(f[0].found);
    CHECK_STR(e, "");
    CHECK_STR(t, "abc");
    CHECK_STR(nt, "nested");
    CHECK(!f[3].found);
    CHECK_STR(missing, "");
}

/* ---- token files ------------------------------------------------------ */

static void test_token_file(void)
{
    char dir[] = "/tmp/strands-sts-XXXXXX";
    if (!mkdtemp(dir)) SKIP("mkdtemp failed");
    char path[256];
    snprintf(path, sizeof path, "%s/token", dir);
    strands_error err;
    char *tok = NULL;

    CHECK_INT(sts_read_token_file(path, &tok, &err), STRANDS_E_IO);
    CHECK(strstr(err.message, path) != NULL);
    CHECK(tok == NULL);

    FILE *f = fopen(path, "w");
    fputs("eyJhbGciOi.payload.sig\r\n  \n", f);
    fclose(f);
    CHECK_INT(sts_read_token_file(path, &tok, &err), STRANDS_OK);
    CHECK_STR(tok, "eyJhbGciOi.payload.sig");
    free(tok);

    f = fopen(path, "w");
    fputs(" \n", f);
    fclose(f);
    CHECK_INT(sts_read_token_file(path, &tok, &err), STRANDS_E_IO);
    CHECK(strstr(err.message, "is empty") != NULL);

    f = fopen(path, "w");
    for (int i = 0; i <= STS_TOKEN_FILE_MAX; i++) fputc('x', f);
    fclose(f);
    CHECK_INT(sts_read_token_file(path, &tok, &err), STRANDS_E_TOO_LARGE);
    CHECK(tok == NULL);

    CHECK_INT(sts_read_token_file(dir, &tok, &err), STRANDS_E_IO);
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    RUN(test_form_encoding);
    RUN(test_build_bodies);
    RUN(test_parse_success);
    RUN(test_parse_web_identity_prefixed);
    RUN(test_parse_errors);
    RUN(test_parse_rejects);
    RUN(test_xml_caps);
    RUN(test_xml_extract_details);
    RUN(test_token_file);
    return test_report();
}
