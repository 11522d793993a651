/* Unit tests of src/aws/credentials/cred_metadata.c: the container host
 * rule (URL parsing and the loopback rule: tests/unit/net/test_url.c), credentials JSON parsing (messages never carry
 * values), and the container/IMDS constructors' configuration checks
 * through a test getenv.                                                */
#include <jansson.h>

#include "aws/credentials/cred_env.h"
#include "aws/credentials/cred_metadata.h"
#include "test.h"

static int allowed(const char *url)
{
    net_url u;
    if (net_url_parse(url, 0, "X", &u, NULL) != STRANDS_OK) return -1;
    int ok = aws_md_container_host_allowed(&u);
    net_url_cleanup(&u);
    return ok;
}

static void test_container_hosts(void)
{
    CHECK_INT(allowed("http://169.254.170.2/v2/credentials/x"), 1);
    CHECK_INT(allowed("http://169.254.170.23/v1/credentials"), 1);
    CHECK_INT(allowed("http://[fd00:ec2::23]/v1/credentials"), 1);
    CHECK_INT(allowed("http://[FD00:EC2:0::23]:80/v1/credentials"), 1);
    CHECK_INT(allowed("http://127.0.0.1:1234/"), 1);
    CHECK_INT(allowed("http://localhost/"), 1);
    CHECK_INT(allowed("http://[::1]:9/"), 1);
    CHECK_INT(allowed("https://creds.example.com/x"), 1);
    CHECK_INT(allowed("https://10.0.0.1/x"), 1);
    CHECK_INT(allowed("http://169.254.170.3/"), 0);
    CHECK_INT(allowed("http://169.254.169.254/"), 0);
    CHECK_INT(allowed("http://[fd00:ec2::254]/"), 0);
    CHECK_INT(allowed("http://10.0.0.1/"), 0);
    CHECK_INT(allowed("http://0251.0376.0252.2/"), -1); /* octal ECS */
    CHECK_INT(allowed("http://creds.example.com/"), 0);
}

static strands_status parse(const char *json, strands_credentials *c,
                            strands_error *e)
{
    json_t *doc = aws_md_parse_object(json, strlen(json), "test", e);
    if (!doc) return e->status;
    strands_status st = aws_md_credentials_from_object(doc, "test", c, e);
    json_decref(doc);
    return st;
}

static void test_credentials_json(void)
{
    strands_credentials c;
    strands_error e;
    strands_error_clear(&e);
    CHECK_INT(parse("{\"AccessKeyId\":\"ASIAX\",\"SecretAccessKey\":\"sk\","
                    "\"Token\":\"tok\",\"Expiration\":\"2026-11-24T16:00:00Z\","
                    "\"AccountId\":\"123456789012\"}", &c, &e), STRANDS_OK);
    CHECK_STR(c.access_key_id, "ASIAX");
    CHECK_STR(c.secret_access_key, "sk");
    CHECK_STR(c.session_token, "tok");
    CHECK_INT(c.expiration, 1795536000);

    CHECK_INT(parse("{\"AccessKeyId\":\"ASIAX\",\"SecretAccessKey\":\"SEKRIT\""
                    ",\"Expiration\":\"2026-11-24T16:00:00Z\"}", &c, &e),
              STRANDS_E_UPSTREAM);
    CHECK(strstr(e.message, "\"Token\"") != NULL);
    CHECK(strstr(e.message, "SEKRIT") == NULL);
    CHECK_STR(c.secret_access_key, "");  /* wiped on failure */

    CHECK_INT(parse("{\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"SEKRIT\","
                    "\"Token\":\"t\",\"Expiration\":\"soon\"}", &c, &e),
              STRANDS_E_UPSTREAM);
    CHECK(strstr(e.message, "Expiration") != NULL);
    CHECK_INT(parse("{\"AccessKeyId\":\"\",\"SecretAccessKey\":\"s\","
                    "\"Token\":\"t\",\"Expiration\":\"2026-11-24T16:00:00Z\"}",
                    &c, &e), STRANDS_E_UPSTREAM);
    CHECK_INT(parse("{\"AccessKeyId\":\"A\\u0000B\",\"SecretAccessKey\":\"s\","
                    "\"Token\":\"t\",\"Expiration\":\"2026-11-24T16:00:00Z\"}",
                    &c, &e), STRANDS_E_UPSTREAM);
    /* Bad JSON: jansson would quote the input near the error; we do not. */
    CHECK_INT(parse("{\"SecretAccessKey\": SEKRIT-VALUE", &c, &e),
              STRANDS_E_UPSTREAM);
    CHECK(strstr(e.message, "SEKRIT") == NULL);
    CHECK(strstr(e.message, "not a JSON object") != NULL);
    CHECK_INT(parse("[1]", &c, &e), STRANDS_E_UPSTREAM);

    char big[200];
    memset(big, 'k', 150);
    big[150] = '\0';
    char doc[400];
    snprintf(doc, sizeof doc, "{\"AccessKeyId\":\"A\",\"SecretAccessKey\":"
             "\"%s\",\"Token\":\"t\",\"Expiration\":\"2026-11-24T16:00:00Z\"}",
             big);
    CHECK_INT(parse(doc, &c, &e), STRANDS_E_UPSTREAM);
    CHECK(strstr(e.message, "kkkk") == NULL);
}

static void test_env_true(void)
{
    CHECK(aws_md_env_true("true"));
    CHECK(aws_md_env_true("TRUE"));
    CHECK(aws_md_env_true("True"));
    CHECK(!aws_md_env_true("1"));
    CHECK(!aws_md_env_true("false"));
    CHECK(!aws_md_env_true(""));
    CHECK(!aws_md_env_true(NULL));
}

/* A getenv over a NULL-terminated list of "NAME=value" strings. */
static const char *list_getenv(void *user, const char *name)
{
    size_t n = strlen(name);
    for (const char *const *p = user; *p; p++)
        if (!strncmp(*p, name, n) && (*p)[n] == '=') return *p + n + 1;
    return NULL;
}

typedef strands_credentials_provider *ctor_fn(const aws_cred_env *env,
                                              strands_error *err);

/* Builds a provider from vars; returns its constructor status. */
static strands_status build(ctor_fn *fn, const char *const *vars,
                            strands_error *e)
{
    http_client *http = http_client_new(1);
    aws_cred_env env = {list_getenv, (void *)vars, http, "us-east-1"};
    strands_error_clear(e);
    strands_credentials_provider *p = fn(&env, e);
    strands_status st = p ? STRANDS_OK : e->status;
    strands_credentials_provider_free(p);
    http_client_free(http);
    return st;
}

static void test_constructors(void)
{
    strands_error e;
    const char *none[] = {NULL};
    CHECK_INT(build(aws_cred_container_new, none, &e), STRANDS_OK);
    const char *full_ok[] = {
        "AWS_CONTAINER_CREDENTIALS_FULL_URI=http://169.254.170.23/v1/c",
        NULL};
    CHECK_INT(build(aws_cred_container_new, full_ok, &e), STRANDS_OK);
    const char *full_bad[] = {
        "AWS_CONTAINER_CREDENTIALS_FULL_URI=http://192.0.2.1/v1/c", NULL};
    CHECK_INT(build(aws_cred_container_new, full_bad, &e), STRANDS_E_INVALID);
    CHECK(strstr(e.message, "192.0.2.1") != NULL);
    /* The relative URI wins: a bad FULL_URI is then not looked at. */
    const char *both[] = {
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI=/v2/credentials/id",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI=http://192.0.2.1/v1/c", NULL};
    CHECK_INT(build(aws_cred_container_new, both, &e), STRANDS_OK);

    CHECK_INT(build(aws_cred_imds_new, none, &e), STRANDS_OK);
    const char *mode[] = {"AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE=ipv6",
                          NULL};
    CHECK_INT(build(aws_cred_imds_new, mode, &e), STRANDS_OK);
    const char *bad_mode[] = {"AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE=v6",
                              NULL};
    CHECK_INT(build(aws_cred_imds_new, bad_mode, &e), STRANDS_E_INVALID);
    const char *ep[] = {"AWS_EC2_METADATA_SERVICE_ENDPOINT=http://10.1.2.3/",
                        NULL};
    CHECK_INT(build(aws_cred_imds_new, ep, &e), STRANDS_OK);
    const char *ep_bad[] = {
        "AWS_EC2_METADATA_SERVICE_ENDPOINT=http://10.1.2.3/latest", NULL};
    CHECK_INT(build(aws_cred_imds_new, ep_bad, &e), STRANDS_E_INVALID);
    /* Disabled wins over any other setting. */
    const char *off[] = {"AWS_EC2_METADATA_DISABLED=TRUE",
                         "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE=v6", NULL};
    CHECK_INT(build(aws_cred_imds_new, off, &e), STRANDS_OK);
}

static void test_disabled_resolve(void)
{
    const char *off[] = {"AWS_EC2_METADATA_DISABLED=true", NULL};
    aws_cred_env env = {list_getenv, (void *)off, NULL, "us-east-1"};
    strands_error e;
    strands_credentials_provider *p = aws_cred_imds_new(&env, &e);
    CHECK(p != NULL);
    if (!p) return;
    strands_credentials c;
    CHECK_INT(strands_credentials_resolve(p, &c, &e),
              STRANDS_E_NO_CREDENTIALS);
    CHECK(strstr(e.message, "AWS_EC2_METADATA_DISABLED") != NULL);
    CHECK_STR(p->vtab->name, "imds");
    strands_credentials_provider_free(p);
}

int main(void)
{
    RUN(test_container_hosts);
    RUN(test_credentials_json);
    RUN(test_env_true);
    RUN(test_constructors);
    RUN(test_disabled_resolve);
    return test_report();
}
