/* Tests for the profile provider's offline parts (src/aws/cred_profile.c)
 * with an injected getenv and temporary files: aws_profile_region (config
 * file first, then the credentials file; AWS_PROFILE / AWS_DEFAULT_PROFILE;
 * "~/" paths), static keys, credential_process with its timeout knob, and
 * the messages when nothing is configured. STS paths are covered by
 * tests/integration/test_cred_sts.py against the fake STS.             */
#include <sys/stat.h>
#include <time.h>

#include "aws/credentials/cred_env.h"
#include "test.h"

#define MAX_VARS 8

typedef struct fake_env {
    const char *names[MAX_VARS];
    const char *values[MAX_VARS];
    int n;
} fake_env;

static const char *fake_getenv(void *user, const char *name)
{
    fake_env *e = user;
    for (int i = 0; i < e->n; i++)
        if (!strcmp(e->names[i], name)) return e->values[i];
    return NULL;
}

static void set(fake_env *e, const char *name, const char *value)
{
    for (int i = 0; i < e->n; i++)
        if (!strcmp(e->names[i], name)) {
            e->values[i] = value;
            return;
        }
    if (e->n < MAX_VARS) {
        e->names[e->n] = name;
        e->values[e->n++] = value;
    }
}

static char home[64];
static char aws_dir[96];

static void write_file(const char *name, const char *text)
{
    char path[160];
    snprintf(path, sizeof path, "%s/%s", aws_dir, name);
    FILE *f = fopen(path, "w");
    if (!f) return;
    fputs(text, f);
    fclose(f);
}

static void remove_file(const char *name)
{
    char path[160];
    snprintf(path, sizeof path, "%s/%s", aws_dir, name);
    unlink(path);
}

static aws_cred_env make_env(fake_env *fe)
{
    aws_cred_env env = {fake_getenv, fe, NULL, "us-east-1"};
    return env;
}

static void test_region(void)
{
    fake_env fe = {0};
    set(&fe, "HOME", home);
    aws_cred_env env = make_env(&fe);
    char region[32];

    CHECK_INT(aws_profile_region(&env, region, sizeof region), -1);
    CHECK_STR(region, "");

    write_file("config", "[default]\nregion = eu-west-1\n"
                         "[profile dev]\nregion = ap-south-1\n"
                         "[ops]\nregion = wrong-1\n");
    write_file("credentials", "[default]\nregion = us-west-2\n"
                              "[ops]\nregion = ca-central-1\n"
                              "[only-creds]\nregion = sa-east-1\n");
    CHECK_INT(aws_profile_region(&env, region, sizeof region), 0);
    CHECK_STR(region, "eu-west-1");  /* config file first */
    set(&fe, "AWS_PROFILE", "dev");
    CHECK_INT(aws_profile_region(&env, region, sizeof region), 0);
    CHECK_STR(region, "ap-south-1");
    /* [ops] is no profile in the config file: the credentials file's. */
    set(&fe, "AWS_PROFILE", "ops");
    CHECK_INT(aws_profile_region(&env, region, sizeof region), 0);
    CHECK_STR(region, "ca-central-1");
    set(&fe, "AWS_PROFILE", NULL);
    set(&fe, "AWS_DEFAULT_PROFILE", "only-creds");
    CHECK_INT(aws_profile_region(&env, region, sizeof region), 0);
    CHECK_STR(region, "sa-east-1");
    set(&fe, "AWS_DEFAULT_PROFILE", "missing");
    CHECK_INT(aws_profile_region(&env, region, sizeof region), -1);
    CHECK_STR(region, "");
    /* Too small a buffer is "not found", never a truncated region. */
    set(&fe, "AWS_DEFAULT_PROFILE", NULL);
    CHECK_INT(aws_profile_region(&env, region, 4), -1);
    CHECK_STR(region, "");

    /* Explicit paths, "~/" expanded with HOME. */
    write_file("other", "[default]\nregion = me-south-1\n");
    set(&fe, "AWS_CONFIG_FILE", "~/.aws/other");
    CHECK_INT(aws_profile_region(&env, region, sizeof region), 0);
    CHECK_STR(region, "me-south-1");
    set(&fe, "AWS_CONFIG_FILE", "/dev/null");
    CHECK_INT(aws_profile_region(&env, region, sizeof region), 0);
    CHECK_STR(region, "us-west-2");
    /* A broken config file: no region, no crash. */
    write_file("config", "not an ini file\n");
    set(&fe, "AWS_CONFIG_FILE", NULL);
    set(&fe, "AWS_SHARED_CREDENTIALS_FILE", "/dev/null");
    CHECK_INT(aws_profile_region(&env, region, sizeof region), -1);
    remove_file("config");
    remove_file("credentials");
    remove_file("other");
}

static strands_status resolve(fake_env *fe, strands_credentials *c,
                              strands_error *err)
{
    aws_cred_env env = make_env(fe);
    strands_credentials_provider *p = aws_cred_profile_new(&env, err);
    if (!p) return err->status;
    strands_status st = strands_credentials_resolve(p, c, err);
    strands_credentials_provider_free(p);
    return st;
}

static void test_static_and_missing(void)
{
    fake_env fe = {0};
    set(&fe, "HOME", home);
    strands_credentials c;
    strands_error err;
    CHECK_INT(resolve(&fe, &c, &err), STRANDS_E_NO_CREDENTIALS);
    CHECK(strstr(err.message, "profile 'default' is not in") != NULL);
    CHECK(strstr(err.message, aws_dir) != NULL);

    write_file("credentials", "[default]\n"
                              "aws_access_key_id = AKIDUNIT\n"
                              "aws_secret_access_key = unit/secret\n");
    CHECK_INT(resolve(&fe, &c, &err), STRANDS_OK);
    CHECK_STR(c.access_key_id, "AKIDUNIT");
    CHECK_STR(c.secret_access_key, "unit/secret");
    CHECK_STR(c.session_token, "");
    CHECK_INT(c.expiration, 0);
    CHECK_STR(c.source, "profile");

    /* The file is read at resolve time, not at creation. */
    aws_cred_env env = make_env(&fe);
    strands_credentials_provider *p = aws_cred_profile_new(&env, &err);
    write_file("credentials", "[default]\n"
                              "aws_access_key_id = AKIDCHANGED\n"
                              "aws_secret_access_key = s2\n");
    CHECK_INT(strands_credentials_resolve(p, &c, &err), STRANDS_OK);
    CHECK_STR(c.access_key_id, "AKIDCHANGED");
    strands_credentials_provider_free(p);

    /* An over-long key is refused without echoing it. */
    char text[400];
    snprintf(text, sizeof text, "[default]\naws_access_key_id = %0200d\n"
             "aws_secret_access_key = s\n", 7);
    write_file("credentials", text);
    CHECK_INT(resolve(&fe, &c, &err), STRANDS_E_INVALID);
    CHECK(strstr(err.message, "longer than AWS allows") != NULL);
    CHECK(strstr(err.message, "0000000") == NULL);
    remove_file("credentials");
}

static void test_credential_process(void)
{
    fake_env fe = {0};
    set(&fe, "HOME", home);
    write_file("config",
               "[default]\ncredential_process = printf '%s' "
               "'{\"Version\":1,\"AccessKeyId\":\"AKIDPROC\","
               "\"SecretAccessKey\":\"ps\",\"SessionToken\":null}'\n");
    strands_credentials c;
    strands_error err;
    CHECK_INT(resolve(&fe, &c, &err), STRANDS_OK);
    CHECK_STR(c.access_key_id, "AKIDPROC");
    CHECK_STR(c.secret_access_key, "ps");
    CHECK_STR(c.session_token, "");
    CHECK_INT(c.expiration, 0);
    CHECK_STR(c.source, "credential_process");

    write_file("config", "[default]\ncredential_process = sleep 5\n");
    set(&fe, "STRANDS_CREDENTIAL_PROCESS_TIMEOUT_MS", "200");
    int64_t t0 = (int64_t)time(NULL);
    CHECK_INT(resolve(&fe, &c, &err), STRANDS_E_TIMEOUT);
    CHECK(strstr(err.message, "200 ms") != NULL);
    CHECK((int64_t)time(NULL) - t0 < 4);
    remove_file("config");
}

int main(void)
{
    snprintf(home, sizeof home, "/tmp/strands-prof-XXXXXX");
    if (!mkdtemp(home)) {
        fprintf(stderr, "mkdtemp failed\n");
        return 1;
    }
    snprintf(aws_dir, sizeof aws_dir, "%s/.aws", home);
    mkdir(aws_dir, 0700);
    RUN(test_region);
    RUN(test_static_and_missing);
    RUN(test_credential_process);
    rmdir(aws_dir);
    rmdir(home);
    return test_report();
}
