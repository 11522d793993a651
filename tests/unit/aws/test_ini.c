/* Tests for the AWS shared config/credentials parser (src/aws/ini.c):
 * section rules of each file kind, comments, sub-sections, continuation
 * lines, key case, repeated sections and keys, parse errors that name the
 * line without quoting secrets, and file loading (missing, /dev/null,
 * size cap, unreadable).                                                */
#include <errno.h>
#include <sys/stat.h>

#include "aws/ini.h"
#include "test.h"

static aws_ini *parse(const char *text, aws_ini_kind kind)
{
    strands_error err;
    strands_error_clear(&err);
    aws_ini *ini = aws_ini_parse(text, strlen(text), kind, "test.ini", &err);
    if (!ini) fprintf(stderr, "  parse failed: %s\n", err.message);
    return ini;
}

static void test_credentials_file_sections(void)
{
    aws_ini *ini = parse("[default]\n"
                         "aws_access_key_id = AKIDDEFAULT\n"
                         "aws_secret_access_key=secret/with+chars\n"
                         "\n"
                         "[dev]\n"
                         "  aws_access_key_id   =   AKIDDEV  \n"
                         "[profile prod]\n"
                         "aws_access_key_id = AKIDPROD\n",
                         AWS_INI_CREDENTIALS);
    CHECK(ini != NULL);
    CHECK_STR(aws_ini_get(ini, "default", "aws_access_key_id"), "AKIDDEFAULT");
    CHECK_STR(aws_ini_get(ini, "default", "aws_secret_access_key"),
              "secret/with+chars");
    CHECK_STR(aws_ini_get(ini, "dev", "aws_access_key_id"), "AKIDDEV");
    /* In the credentials file the header is the profile name, verbatim. */
    CHECK(aws_ini_get(ini, "prod", "aws_access_key_id") == NULL);
    CHECK_STR(aws_ini_get(ini, "profile prod", "aws_access_key_id"),
              "AKIDPROD");
    CHECK(aws_ini_get(ini, "dev", "aws_secret_access_key") == NULL);
    CHECK(aws_ini_get(ini, "nope", "aws_access_key_id") == NULL);
    CHECK(aws_ini_has_profile(ini, "dev"));
    CHECK(!aws_ini_has_profile(ini, "prod"));
    aws_ini_free(ini);
}

static void test_config_file_sections(void)
{
    aws_ini *ini = parse("[default]\nregion = us-east-1\n"
                         "[profile dev]\nregion = eu-west-1\n"
                         "[prod]\nregion = ignored-1\n"
                         "[profile   spaced]\nregion = ap-south-1\n"
                         "[profile \"with space\"]\nregion = sa-east-1\n"
                         "[profile 'single']\nregion = ca-central-1\n"
                         "[profilex]\nregion = bad-1\n"
                         "[profile two words]\nregion = bad-2\n"
                         "[ profile padded ]\nregion = us-west-1\n"
                         "[profile default]\noutput = json\n"
                         "[sso-session my-sso]\nsso_region = us-east-2\n",
                         AWS_INI_CONFIG);
    CHECK(ini != NULL);
    CHECK_STR(aws_ini_get(ini, "default", "region"), "us-east-1");
    /* [profile default] is the same profile as [default]. */
    CHECK_STR(aws_ini_get(ini, "default", "output"), "json");
    CHECK_STR(aws_ini_get(ini, "dev", "region"), "eu-west-1");
    /* A bare [name] in the config file is not a profile. */
    CHECK(aws_ini_get(ini, "prod", "region") == NULL);
    CHECK(!aws_ini_has_profile(ini, "prod"));
    CHECK_STR(aws_ini_get(ini, "spaced", "region"), "ap-south-1");
    CHECK_STR(aws_ini_get(ini, "with space", "region"), "sa-east-1");
    CHECK_STR(aws_ini_get(ini, "single", "region"), "ca-central-1");
    CHECK(aws_ini_get(ini, "x", "region") == NULL);
    CHECK(aws_ini_get(ini, "profilex", "region") == NULL);
    CHECK(aws_ini_get(ini, "two words", "region") == NULL);
    CHECK(aws_ini_get(ini, "two", "region") == NULL);
    CHECK_STR(aws_ini_get(ini, "padded", "region"), "us-west-1");
    CHECK_STR(aws_ini_section_get(ini, "sso-session", "my-sso", "sso_region",
                                  NULL),
              "us-east-2");
    CHECK(aws_ini_get(ini, "my-sso", "sso_region") == NULL);
    aws_ini_free(ini);
}

static void test_comments(void)
{
    aws_ini *ini = parse("# leading comment\n"
                         "; another\n"
                         "[default] ; comment after the header\n"
                         "region = us-east-1 # inline comment\n"
                         "output = json;not-a-comment\n"
                         "token = abc#def\n"
                         "   # indented comment\n"
                         "tab_comment = v\t;c\n"
                         "hash_only = #\n",
                         AWS_INI_CONFIG);
    CHECK(ini != NULL);
    CHECK_STR(aws_ini_get(ini, "default", "region"), "us-east-1");
    CHECK_STR(aws_ini_get(ini, "default", "output"), "json;not-a-comment");
    CHECK_STR(aws_ini_get(ini, "default", "token"), "abc#def");
    CHECK_STR(aws_ini_get(ini, "default", "tab_comment"), "v");
    /* " #" starts a comment even right after '=': the value is empty. */
    CHECK_STR(aws_ini_get(ini, "default", "hash_only"), "");
    aws_ini_free(ini);
}

static void test_sub_sections(void)
{
    aws_ini *ini = parse("[profile dev]\n"
                         "services = my-services\n"
                         "s3 =\n"
                         "  addressing_style = path\n"
                         "\n"
                         "  # comment inside\n"
                         "  signature_version = s3v4 ; inline\n"
                         "region = us-west-2\n"
                         "[services my-services]\n"
                         "sts =\n"
                         "\tendpoint_url = http://127.0.0.1:9000\n"
                         "bedrock_runtime =\n"
                         "  endpoint_url = https://example.com\n",
                         AWS_INI_CONFIG);
    CHECK(ini != NULL);
    CHECK_STR(aws_ini_get(ini, "dev", "s3"), "");
    CHECK_STR(aws_ini_get_sub(ini, "dev", "s3", "addressing_style"), "path");
    CHECK_STR(aws_ini_get_sub(ini, "dev", "s3", "signature_version"),
              "s3v4");
    CHECK_STR(aws_ini_get(ini, "dev", "region"), "us-west-2");
    CHECK(aws_ini_get(ini, "dev", "addressing_style") == NULL);
    CHECK(aws_ini_get_sub(ini, "dev", "s3", "region") == NULL);
    CHECK_STR(aws_ini_section_get(ini, "services", "my-services", "sts",
                                  "endpoint_url"),
              "http://127.0.0.1:9000");
    CHECK_STR(aws_ini_section_get(ini, "services", "my-services",
                                  "bedrock_runtime", "endpoint_url"),
              "https://example.com");
    aws_ini_free(ini);
}

static void test_continuation_and_case(void)
{
    aws_ini *ini = parse("[default]\n"
                         "AWS_Access_Key_ID = AKIDUPPER\n"
                         "region: eu-north-1\n"
                         "role_arn = arn:aws:iam::123456789012:role/r\n"
                         "multi = first\n"
                         "    second\n"
                         "  third\n"
                         "after = x\n",
                         AWS_INI_CREDENTIALS);
    CHECK(ini != NULL);
    /* Keys are lowercased as botocore's RawConfigParser does. */
    CHECK_STR(aws_ini_get(ini, "default", "aws_access_key_id"), "AKIDUPPER");
    CHECK(aws_ini_get(ini, "default", "AWS_Access_Key_ID") == NULL);
    /* ':' also separates, but only when it comes first. */
    CHECK_STR(aws_ini_get(ini, "default", "region"), "eu-north-1");
    CHECK_STR(aws_ini_get(ini, "default", "role_arn"),
              "arn:aws:iam::123456789012:role/r");
    CHECK_STR(aws_ini_get(ini, "default", "multi"), "first\nsecond\nthird");
    CHECK_STR(aws_ini_get(ini, "default", "after"), "x");
    aws_ini_free(ini);
}

static void test_repeats_merge(void)
{
    aws_ini *ini = parse("[a]\nk1 = one\nk2 = two\n"
                         "[b]\nk1 = b\n"
                         "[a]\nk1 = uno\n"
                         "s =\n  x = 1\n"
                         "s =\n  y = 2\n",
                         AWS_INI_CREDENTIALS);
    CHECK(ini != NULL);
    CHECK_STR(aws_ini_get(ini, "a", "k1"), "uno");
    CHECK_STR(aws_ini_get(ini, "a", "k2"), "two");
    CHECK_STR(aws_ini_get(ini, "b", "k1"), "b");
    /* Re-setting a sub-section key drops its earlier sub-keys. */
    CHECK(aws_ini_get_sub(ini, "a", "s", "x") == NULL);
    CHECK_STR(aws_ini_get_sub(ini, "a", "s", "y"), "2");
    aws_ini_free(ini);
}

static void test_line_endings_and_bom(void)
{
    aws_ini *ini = parse("\xEF\xBB\xBF[default]\r\nregion = us-east-1\r\n"
                         "empty =\r\n[other]\r\nk = v",
                         AWS_INI_CONFIG);
    CHECK(ini != NULL);
    CHECK_STR(aws_ini_get(ini, "default", "region"), "us-east-1");
    CHECK_STR(aws_ini_get(ini, "default", "empty"), "");
    CHECK(!aws_ini_has_profile(ini, "other"));
    aws_ini_free(ini);
    ini = parse("", AWS_INI_CONFIG);
    CHECK(ini != NULL);
    CHECK(!aws_ini_has_profile(ini, "default"));
    aws_ini_free(ini);
    ini = parse("[empty]\n", AWS_INI_CREDENTIALS);
    CHECK(aws_ini_has_profile(ini, "empty"));
    CHECK(aws_ini_get(ini, "empty", "k") == NULL);
    aws_ini_free(ini);
}

typedef struct err_case {
    const char *text;
    strands_status status;
    const char *where;  /* expected message prefix */
} err_case;

static void test_errors_name_line_not_content(void)
{
    static const err_case cases[] = {
        {"aws_secret_access_key = SECRETVALUE\n", STRANDS_E_PARSE,
         "test.ini:1: setting before any [section]"},
        {"[default]\nregion = x\nSECRETVALUE\n", STRANDS_E_PARSE,
         "test.ini:3: expected 'name = value'"},
        {"[default\nk = SECRETVALUE\n", STRANDS_E_PARSE,
         "test.ini:1: section header without ']'"},
        {"[]\n", STRANDS_E_PARSE, "test.ini:1: empty section name"},
        {"[d]\n = SECRETVALUE\n", STRANDS_E_PARSE,
         "test.ini:2: setting without a name"},
        {"[d]\ns =\n  SECRETVALUE\n", STRANDS_E_PARSE,
         "test.ini:3: expected 'name = value' in the sub-section"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        strands_error err;
        strands_error_clear(&err);
        aws_ini *ini = aws_ini_parse(cases[i].text, strlen(cases[i].text),
                                     AWS_INI_CREDENTIALS, "test.ini", &err);
        CHECK(ini == NULL);
        aws_ini_free(ini);
        CHECK_INT(err.status, cases[i].status);
        CHECK_STR(err.message, cases[i].where);
        CHECK(strstr(err.message, "SECRETVALUE") == NULL);
    }
    /* A NUL byte and an over-long line. */
    strands_error err;
    static const char nul[] = "[d]\nk = a\0b\n";
    CHECK(aws_ini_parse(nul, sizeof nul - 1, AWS_INI_CONFIG, "f", &err) ==
          NULL);
    CHECK_INT(err.status, STRANDS_E_PARSE);
    CHECK_STR(err.message, "f:2: NUL byte in the file");
    size_t n = AWS_INI_MAX_LINE + 20;
    char *big = malloc(n + 1);
    memcpy(big, "[d]\nk = ", 8);
    memset(big + 8, 'x', n - 8);
    big[n] = '\0';
    CHECK(aws_ini_parse(big, n, AWS_INI_CONFIG, "f", &err) == NULL);
    CHECK_INT(err.status, STRANDS_E_TOO_LARGE);
    CHECK_STR(err.message, "f:2: line too long");
    /* Exactly at the cap is fine. */
    big[4 + AWS_INI_MAX_LINE] = '\0';
    aws_ini *ini = aws_ini_parse(big, 4 + AWS_INI_MAX_LINE, AWS_INI_CONFIG,
                                 "f", &err);
    CHECK(ini != NULL);
    aws_ini_free(ini);
    free(big);
}

static void test_caps(void)
{
    /* Too many settings in one section. */
    size_t cap = (AWS_INI_MAX_ENTRIES + 1) * 16 + 16;
    char *t = malloc(cap);
    size_t len = (size_t)snprintf(t, cap, "[d]\n");
    for (int i = 0; i <= AWS_INI_MAX_ENTRIES; i++)
        len += (size_t)snprintf(t + len, cap - len, "k%d = v\n", i);
    strands_error err;
    CHECK(aws_ini_parse(t, len, AWS_INI_CREDENTIALS, "f", &err) == NULL);
    CHECK_INT(err.status, STRANDS_E_TOO_LARGE);
    free(t);
    /* Too many sections. */
    cap = (AWS_INI_MAX_SECTIONS + 1) * 12 + 16;
    t = malloc(cap);
    len = 0;
    for (int i = 0; i <= AWS_INI_MAX_SECTIONS; i++)
        len += (size_t)snprintf(t + len, cap - len, "[s%d]\n", i);
    CHECK(aws_ini_parse(t, len, AWS_INI_CREDENTIALS, "f", &err) == NULL);
    CHECK_INT(err.status, STRANDS_E_TOO_LARGE);
    CHECK(strstr(err.message, "too many sections") != NULL);
    free(t);
}

static int write_file(const char *path, const char *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    size_t w = fwrite(data, 1, len, f);
    fclose(f);
    return w == len ? 0 : -1;
}

static void test_load_files(void)
{
    char dir[] = "/tmp/strands-ini-XXXXXX";
    if (!mkdtemp(dir)) SKIP("mkdtemp failed");
    char path[256];
    strands_error err;

    /* Missing file, NULL path and /dev/null: empty, not an error. */
    snprintf(path, sizeof path, "%s/missing", dir);
    aws_ini *ini = aws_ini_load(path, AWS_INI_CONFIG, &err);
    CHECK(ini != NULL);
    CHECK(!aws_ini_has_profile(ini, "default"));
    aws_ini_free(ini);
    snprintf(path, sizeof path, "%s/missing/deeper", dir);
    ini = aws_ini_load(path, AWS_INI_CONFIG, &err);
    CHECK(ini != NULL);
    aws_ini_free(ini);
    ini = aws_ini_load(NULL, AWS_INI_CONFIG, &err);
    CHECK(ini != NULL);
    aws_ini_free(ini);
    ini = aws_ini_load("/dev/null", AWS_INI_CONFIG, &err);
    CHECK(ini != NULL);
    aws_ini_free(ini);
    ini = aws_ini_load(dir, AWS_INI_CONFIG, &err);  /* a directory */
    CHECK(ini != NULL);
    aws_ini_free(ini);

    /* A real file. */
    snprintf(path, sizeof path, "%s/config", dir);
    const char *text = "[profile x]\nregion = us-east-2\n";
    CHECK_INT(write_file(path, text, strlen(text)), 0);
    ini = aws_ini_load(path, AWS_INI_CONFIG, &err);
    CHECK(ini != NULL);
    CHECK_STR(aws_ini_get(ini, "x", "region"), "us-east-2");
    aws_ini_free(ini);

    /* Parse errors carry the path. */
    text = "[x]\nbroken line\n";
    CHECK_INT(write_file(path, text, strlen(text)), 0);
    ini = aws_ini_load(path, AWS_INI_CONFIG, &err);
    CHECK(ini == NULL);
    char want[300];
    snprintf(want, sizeof want, "%s:2: expected 'name = value'", path);
    CHECK_STR(err.message, want);

    /* Over the size cap. */
    size_t n = AWS_INI_MAX_FILE + 1;
    char *big = malloc(n);
    memset(big, '#', n);
    CHECK_INT(write_file(path, big, n), 0);
    free(big);
    ini = aws_ini_load(path, AWS_INI_CONFIG, &err);
    CHECK(ini == NULL);
    CHECK_INT(err.status, STRANDS_E_TOO_LARGE);
    CHECK(strstr(err.message, path) != NULL);

    /* Unreadable (root reads anything: then skip this part). */
    CHECK_INT(write_file(path, "[x]\n", 4), 0);
    chmod(path, 0);
    if (geteuid() != 0) {
        ini = aws_ini_load(path, AWS_INI_CONFIG, &err);
        CHECK(ini == NULL);
        CHECK_INT(err.status, STRANDS_E_IO);
        CHECK(strstr(err.message, path) != NULL);
    }
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    RUN(test_credentials_file_sections);
    RUN(test_config_file_sections);
    RUN(test_comments);
    RUN(test_sub_sections);
    RUN(test_continuation_and_case);
    RUN(test_repeats_merge);
    RUN(test_line_endings_and_bom);
    RUN(test_errors_name_line_not_content);
    RUN(test_caps);
    RUN(test_load_files);
    return test_report();
}
