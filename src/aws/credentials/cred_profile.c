/* The "profile" credentials provider: the active profile of the shared
 * files in botocore's order (role_arn -> STS AssumeRole via source_profile
 * or credential_source; web_identity_token_file; credentials-file keys;
 * credential_process; config-file keys), and the profile's region. Files
 * are re-read at every resolve; see docs/internals/credentials-sts-profile.md */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "aws/awstime.h"
#include "aws/credentials/cred_env.h"
#include "aws/ini.h"
#include "aws/sts.h"
#include "net/spawn.h"
#include "strands/clock.h"

#define MAX_CHAIN 8                    /* profiles in a role chain */
#define PROCESS_OUTPUT_MAX (64 * 1024)
#define PROCESS_TIMEOUT_MS 30000

typedef struct profile_provider {
    strands_credentials_provider base;
    aws_cred_env env;        /* copy; getenv/http pointers borrowed */
    char region[64];
    char *profile;           /* active profile name */
    char *creds_path;        /* NULL when HOME is unknown */
    char *config_path;
} profile_provider;

/* One resolve: both files and the role chain walked so far. */
typedef struct resolve_ctx {
    const profile_provider *p;
    aws_ini *creds;
    aws_ini *config;
    const char *visited[MAX_CHAIN];
    int n_visited;
    strands_error *err;
} resolve_ctx;

static strands_status resolve_profile_chain(resolve_ctx *c, const char *name,
                                            strands_credentials *out);
static strands_status assume_role(resolve_ctx *c, const char *name,
                                  strands_credentials *out);

/* ---- paths and lookups --------------------------------------------- */

static const char *shown(const char *path)
{
    return path ? path : "(HOME is not set)";
}

/* The file named by var ("~/" expanded), else $HOME/.aws/<file>. */
static char *file_path(const aws_cred_env *env, const char *var,
                       const char *file, int *failed)
{
    const char *v = aws_env_get(env, var);
    const char *home = aws_env_get(env, "HOME");
    char *out = NULL;
    int n = -1;
    if (v && v[0] == '~' && v[1] == '/' && home)
        n = asprintf(&out, "%s%s", home, v + 1);
    else if (v)
        n = asprintf(&out, "%s", v);
    else if (home)
        n = asprintf(&out, "%s/.aws/%s", home, file);
    else
        return NULL;
    if (n < 0) {
        *failed = 1;
        return NULL;
    }
    return out;
}

static const char *profile_name(const aws_cred_env *env)
{
    const char *name = aws_env_get(env, "AWS_PROFILE");
    if (!name) name = aws_env_get(env, "AWS_DEFAULT_PROFILE");
    return name ? name : "default";
}

/* A credential setting: the credentials file wins (botocore merges it
 * over the config file's profile). */
static const char *get(const resolve_ctx *c, const char *profile,
                       const char *key)
{
    const char *v = aws_ini_get(c->creds, profile, key);
    return v ? v : aws_ini_get(c->config, profile, key);
}

static int exists(const resolve_ctx *c, const char *profile)
{
    return aws_ini_has_profile(c->creds, profile) ||
           aws_ini_has_profile(c->config, profile);
}

static int has_static(const resolve_ctx *c, const char *profile)
{
    return get(c, profile, "aws_access_key_id") ||
           get(c, profile, "aws_secret_access_key");
}

static int is_assume_role(const resolve_ctx *c, const char *profile)
{
    return get(c, profile, "role_arn") &&
           !get(c, profile, "web_identity_token_file");
}

/* ---- static keys ----------------------------------------------------- */

/* Keys of one file's section; E_NO_CREDENTIALS when it has none. */
static strands_status static_keys(resolve_ctx *c, const aws_ini *ini,
                                  const char *path, const char *name,
                                  strands_credentials *out)
{
    const char *akid = aws_ini_get(ini, name, "aws_access_key_id");
    if (!akid || !*akid) return STRANDS_E_NO_CREDENTIALS;
    const char *secret = aws_ini_get(ini, name, "aws_secret_access_key");
    const char *token = aws_ini_get(ini, name, "aws_session_token");
    if (!secret || !*secret)
        return strands_error_set(c->err, STRANDS_E_INVALID,
                                 "PartialCredentialsError",
                                 "profile '%s' in %s has aws_access_key_id "
                                 "but no aws_secret_access_key", name, path);
    memset(out, 0, sizeof *out);
    if (strands_credentials_set(out, akid, secret, token)) {
        return strands_error_set(c->err, STRANDS_E_INVALID, NULL,
                                 "profile '%s' in %s: a key is longer than "
                                 "AWS allows", name, path);
    }
    snprintf(out->source, sizeof out->source, "profile");
    return STRANDS_OK;
}

/* ---- credential_process -------------------------------------------- */

static long process_timeout_ms(const aws_cred_env *env)
{
    const char *v = aws_env_get(env, "STRANDS_CREDENTIAL_PROCESS_TIMEOUT_MS");
    if (!v) return PROCESS_TIMEOUT_MS;
    char *end = NULL;
    long ms = strtol(v, &end, 10);
    return (*end || ms < 1 || ms > 600000) ? PROCESS_TIMEOUT_MS : ms;
}

/* Runs cmd with /bin/sh (net/spawn: clean signal state, own process
 * group, stdin /dev/null, stderr discarded since a helper could print
 * secrets there), collecting stdout into buf (cap bytes). Returns OK
 * with the exit status in *r, or an error naming the profile.           */
static strands_status run_command(resolve_ctx *c, const char *name,
                                  const char *cmd, char *buf, size_t cap,
                                  net_spawn_result *r)
{
    long timeout = process_timeout_ms(&c->p->env);
    char *argv[] = {"sh", "-c", (char *)cmd, NULL};
    net_spawn_opts o = {.path = "/bin/sh", .argv = argv,
                        .timeout_ms = timeout, .out = buf, .out_cap = cap};
    strands_error e;
    strands_error_clear(&e);
    strands_status st = net_spawn_run(&o, r, &e);
    if (st == STRANDS_OK) return st;
    if (st == STRANDS_E_TIMEOUT)
        return strands_error_set(c->err, st, "CredentialProcessTimeout",
                                 "credential_process of profile '%s' did "
                                 "not finish within %ld ms (killed)", name,
                                 timeout);
    if (st == STRANDS_E_TOO_LARGE)
        return strands_error_set(c->err, st, NULL,
                                 "credential_process of profile '%s' wrote "
                                 "more than %d bytes (killed)", name,
                                 PROCESS_OUTPUT_MAX);
    return strands_error_set(c->err, st, NULL,
                             "credential_process of profile '%s': %s", name,
                             e.message);
}

/* Reads the JSON document a credential process prints. */
static strands_status parse_process_output(resolve_ctx *c, const char *name,
                                           const char *text, size_t len,
                                           strands_credentials *out)
{
    json_error_t je;
    json_t *doc = json_loadb(text, len, 0, &je);
    strands_status st = STRANDS_OK;
    /* jansson's message may quote the text: report the position only. */
    if (!doc)
        return strands_error_set(c->err, STRANDS_E_PARSE,
                                 "CredentialProcessError",
                                 "credential_process of profile '%s': output "
                                 "is not valid JSON (line %d, column %d)",
                                 name, je.line, je.column);
    if (!json_is_object(doc)) {
        json_decref(doc);
        return strands_error_set(c->err, STRANDS_E_PARSE,
                                 "CredentialProcessError",
                                 "credential_process of profile '%s': output "
                                 "is not a JSON object", name);
    }
    json_t *ver = json_object_get(doc, "Version");
    const char *akid = json_string_value(json_object_get(doc, "AccessKeyId"));
    const char *secret =
        json_string_value(json_object_get(doc, "SecretAccessKey"));
    json_t *tok = json_object_get(doc, "SessionToken");
    json_t *exp = json_object_get(doc, "Expiration");
    const char *missing = NULL;
    if (!json_is_integer(ver) || json_integer_value(ver) != 1) {
        if (json_is_integer(ver))
            st = strands_error_set(c->err, STRANDS_E_PARSE,
                                   "CredentialProcessError",
                                   "credential_process of profile '%s': "
                                   "unsupported Version %lld (must be 1)",
                                   name, (long long)json_integer_value(ver));
        else
            missing = "Version 1";
    } else if (!akid || !*akid) {
        missing = "AccessKeyId";
    } else if (!secret || !*secret) {
        missing = "SecretAccessKey";
    } else if (tok && !json_is_null(tok) && !json_is_string(tok)) {
        missing = "a string SessionToken";
    } else if (exp && !json_is_null(exp) && !json_is_string(exp)) {
        missing = "a string Expiration";
    }
    if (missing)
        st = strands_error_set(c->err, STRANDS_E_PARSE,
                               "CredentialProcessError",
                               "credential_process of profile '%s': output "
                               "lacks %s", name, missing);
    memset(out, 0, sizeof *out);
    if (st == STRANDS_OK &&
        strands_credentials_set(out, akid, secret,
                                json_string_value(tok)))
        st = strands_error_set(c->err, STRANDS_E_PARSE,
                               "CredentialProcessError",
                               "credential_process of profile '%s': a key is "
                               "longer than AWS allows", name);
    if (st == STRANDS_OK && json_is_string(exp) &&
        aws_parse_iso8601(json_string_value(exp), &out->expiration) != 0)
        st = strands_error_set(c->err, STRANDS_E_PARSE,
                               "CredentialProcessError",
                               "credential_process of profile '%s': "
                               "Expiration is not an ISO-8601 time", name);
    json_decref(doc);
    if (st != STRANDS_OK) {
        strands_credentials_wipe(out);
        return st;
    }
    snprintf(out->source, sizeof out->source, "credential_process");
    return STRANDS_OK;
}

static strands_status credential_process(resolve_ctx *c, const char *name,
                                         const char *cmd,
                                         strands_credentials *out)
{
    char *buf = malloc(PROCESS_OUTPUT_MAX);
    if (!buf)
        return strands_error_set(c->err, STRANDS_E_NOMEM, NULL,
                                 "out of memory");
    net_spawn_result r;
    strands_status st = run_command(c, name, cmd, buf, PROCESS_OUTPUT_MAX,
                                    &r);
    if (st == STRANDS_OK && r.exited && r.exit_code != 0)
        st = strands_error_set(c->err, STRANDS_E_UPSTREAM,
                               "CredentialProcessError",
                               "credential_process of profile '%s' "
                               "exited with status %d (its stderr is "
                               "discarded)", name, r.exit_code);
    else if (st == STRANDS_OK && r.term_signal)
        st = strands_error_set(c->err, STRANDS_E_UPSTREAM,
                               "CredentialProcessError",
                               "credential_process of profile '%s' was "
                               "killed by signal %d", name, r.term_signal);
    if (st == STRANDS_OK)
        st = parse_process_output(c, name, buf, r.out_len, out);
    explicit_bzero(buf, PROCESS_OUTPUT_MAX);
    free(buf);
    return st;
}

/* ---- role chains ---------------------------------------------------- */

/* role_arn + web_identity_token_file in a profile. */
static strands_status profile_web_identity(resolve_ctx *c, const char *name,
                                           strands_credentials *out)
{
    const char *file = get(c, name, "web_identity_token_file");
    const char *arn = get(c, name, "role_arn");
    if (!arn || !*arn)
        return strands_error_set(c->err, STRANDS_E_INVALID,
                                 "InvalidConfigError",
                                 "profile '%s' has web_identity_token_file "
                                 "but no role_arn", name);
    char *token = NULL;
    strands_status st = sts_read_token_file(file, &token, c->err);
    if (st != STRANDS_OK) return st;
    char session[64];
    snprintf(session, sizeof session, "strands-c-%lld",
             (long long)strands_clock_wall());
    const char *sn = get(c, name, "role_session_name");
    sts_request rq = {.role_arn = arn,
                      .session_name = sn && *sn ? sn : session,
                      .web_identity_token = token};
    st = sts_assume_role_with_web_identity(&c->p->env, &rq, out, c->err);
    explicit_bzero(token, strlen(token));
    free(token);
    if (st == STRANDS_OK)
        snprintf(out->source, sizeof out->source, "web_identity");
    return st;
}

/* Credentials of credential_source (Environment, Ec2InstanceMetadata,
 * EcsContainer). */
static strands_status credential_source(resolve_ctx *c, const char *name,
                                        const char *src,
                                        strands_credentials *out)
{
    strands_credentials_provider *p = NULL;
    const aws_cred_env *env = &c->p->env;
    if (!strcmp(src, "Environment"))
        p = aws_cred_environment_new(env);
    else if (!strcmp(src, "Ec2InstanceMetadata"))
        p = aws_cred_imds_new(env, c->err);
    else if (!strcmp(src, "EcsContainer"))
        p = aws_cred_container_new(env, c->err);
    else
        return strands_error_set(c->err, STRANDS_E_INVALID,
                                 "InvalidConfigError",
                                 "profile '%s': credential_source '%s' is "
                                 "not one of Environment, "
                                 "Ec2InstanceMetadata, EcsContainer", name,
                                 src);
    if (!p) return c->err ? c->err->status : STRANDS_E_NOMEM;
    strands_error e;
    strands_error_clear(&e);
    strands_status st = strands_credentials_resolve(p, out, &e);
    strands_credentials_provider_free(p);
    if (st == STRANDS_E_NO_CREDENTIALS)
        return strands_error_set(c->err, STRANDS_E_INVALID,
                                 "CredentialRetrievalError",
                                 "profile '%s': credential_source %s has no "
                                 "credentials: %s", name, src, e.message);
    if (st != STRANDS_OK && c->err) *c->err = e;
    return st;
}

/* Credentials of a source_profile (botocore's rules: static keys win;
 * a profile may name itself to use its own keys; other cycles fail).   */
static strands_status source_profile(resolve_ctx *c, const char *parent,
                                     const char *name,
                                     strands_credentials *out)
{
    if (!exists(c, name))
        return strands_error_set(c->err, STRANDS_E_INVALID,
                                 "InvalidConfigError",
                                 "the source_profile '%s' of profile '%s' "
                                 "does not exist", name, parent);
    for (int i = 0; i < c->n_visited; i++) {
        if (strcmp(c->visited[i], name)) continue;
        if (!strcmp(name, parent) && has_static(c, name)) break;
        return strands_error_set(c->err, STRANDS_E_INVALID,
                                 "InfiniteLoopConfigError",
                                 "source_profile cycle: profile '%s' is "
                                 "reached again from profile '%s'", name,
                                 parent);
    }
    if (c->n_visited >= MAX_CHAIN)
        return strands_error_set(c->err, STRANDS_E_INVALID,
                                 "InvalidConfigError",
                                 "role chain of profile '%s' is longer than "
                                 "%d profiles", c->visited[0], MAX_CHAIN);
    c->visited[c->n_visited++] = name;
    if (!has_static(c, name) && is_assume_role(c, name))
        return assume_role(c, name, out);
    strands_status st = resolve_profile_chain(c, name, out);
    if (st == STRANDS_E_NO_CREDENTIALS)
        return strands_error_set(c->err, STRANDS_E_INVALID,
                                 "InvalidConfigError",
                                 "the source_profile '%s' of profile '%s' "
                                 "has no credentials", name, parent);
    return st;
}

/* Parses duration_seconds; 0 when unset. */
static int duration(resolve_ctx *c, const char *name, int *out)
{
    const char *v = get(c, name, "duration_seconds");
    *out = 0;
    if (!v || !*v) return 0;
    char *end = NULL;
    long n = strtol(v, &end, 10);
    if (*end || n < 1 || n > 129600) {
        strands_error_set(c->err, STRANDS_E_INVALID, "InvalidConfigError",
                          "profile '%s': duration_seconds '%s' is not a "
                          "number of seconds", name, v);
        return -1;
    }
    *out = (int)n;
    return 0;
}

static strands_status assume_role(resolve_ctx *c, const char *name,
                                  strands_credentials *out)
{
    const char *arn = get(c, name, "role_arn");
    const char *src_profile = get(c, name, "source_profile");
    const char *src = get(c, name, "credential_source");
    if (src_profile && src)
        return strands_error_set(c->err, STRANDS_E_INVALID,
                                 "InvalidConfigError",
                                 "profile '%s' has both source_profile and "
                                 "credential_source", name);
    if (!src_profile && !src)
        return strands_error_set(c->err, STRANDS_E_INVALID,
                                 "PartialCredentialsError",
                                 "profile '%s' has role_arn but neither "
                                 "source_profile nor credential_source", name);
    if (get(c, name, "mfa_serial"))
        return strands_error_set(c->err, STRANDS_E_INVALID,
                                 "InvalidConfigError",
                                 "profile '%s' needs an MFA code "
                                 "(mfa_serial), which a server cannot "
                                 "prompt for", name);
    int secs;
    if (duration(c, name, &secs) != 0) return c->err->status;
    strands_credentials source;
    memset(&source, 0, sizeof source);
    strands_status st = src ? credential_source(c, name, src, &source)
                            : source_profile(c, name, src_profile, &source);
    if (st != STRANDS_OK) {
        strands_credentials_wipe(&source);
        return st;
    }
    char session[64];
    snprintf(session, sizeof session, "strands-c-%lld",
             (long long)strands_clock_wall());
    const char *sn = get(c, name, "role_session_name");
    sts_request rq = {.role_arn = arn,
                      .session_name = sn && *sn ? sn : session,
                      .external_id = get(c, name, "external_id"),
                      .duration_seconds = secs,
                      .source = &source};
    st = sts_assume_role(&c->p->env, &rq, out, c->err);
    strands_credentials_wipe(&source);
    if (st == STRANDS_OK)
        snprintf(out->source, sizeof out->source, "assume_role");
    return st;
}

/* The profile's own credentials, after assume-role: web identity, static
 * keys from the credentials file, credential_process, static keys from the
 * config file. E_NO_CREDENTIALS (err untouched) when it has none.        */
static strands_status resolve_profile_chain(resolve_ctx *c, const char *name,
                                            strands_credentials *out)
{
    if (get(c, name, "web_identity_token_file"))
        return profile_web_identity(c, name, out);
    const profile_provider *p = c->p;
    strands_status st = static_keys(c, c->creds, shown(p->creds_path), name,
                                    out);
    if (st != STRANDS_E_NO_CREDENTIALS) return st;
    const char *cmd = get(c, name, "credential_process");
    if (cmd && *cmd) return credential_process(c, name, cmd, out);
    return static_keys(c, c->config, shown(p->config_path), name, out);
}

/* ---- the provider --------------------------------------------------- */

static strands_status profile_resolve(strands_credentials_provider *self,
                                      strands_credentials *out,
                                      strands_error *err)
{
    profile_provider *p = (profile_provider *)self;
    strands_error local;
    if (!err) err = &local;
    memset(out, 0, sizeof *out);
    resolve_ctx c = {.p = p, .err = err};
    c.creds = aws_ini_load(p->creds_path, AWS_INI_CREDENTIALS, err);
    if (c.creds) c.config = aws_ini_load(p->config_path, AWS_INI_CONFIG, err);
    strands_status st = STRANDS_OK;
    if (!c.creds || !c.config) {
        st = err->status;
    } else if (!exists(&c, p->profile)) {
        st = strands_error_set(err, STRANDS_E_NO_CREDENTIALS,
                               "NoCredentialsError",
                               "profile '%s' is not in %s or %s", p->profile,
                               shown(p->creds_path), shown(p->config_path));
    } else {
        c.visited[c.n_visited++] = p->profile;
        if (is_assume_role(&c, p->profile))
            st = assume_role(&c, p->profile, out);
        else
            st = resolve_profile_chain(&c, p->profile, out);
        if (st == STRANDS_E_NO_CREDENTIALS) {
            int sso = get(&c, p->profile, "sso_session") ||
                      get(&c, p->profile, "sso_start_url");
            st = strands_error_set(
                err, STRANDS_E_NO_CREDENTIALS, "NoCredentialsError",
                sso ? "profile '%s' (in %s / %s) uses IAM Identity Center "
                      "(SSO), which strands-c does not support"
                    : "profile '%s' (in %s / %s) has no credentials "
                      "(aws_access_key_id, credential_process or role_arn)",
                p->profile, shown(p->creds_path), shown(p->config_path));
        }
    }
    if (st != STRANDS_OK) strands_credentials_wipe(out);
    aws_ini_free(c.creds);
    aws_ini_free(c.config);
    return st;
}

static void profile_destroy(strands_credentials_provider *self)
{
    profile_provider *p = (profile_provider *)self;
    free(p->profile);
    free(p->creds_path);
    free(p->config_path);
    free(p);
}

static const strands_credentials_provider_vtab profile_vtab = {
    STRANDS_CREDENTIALS_VTAB_VERSION, "profile", profile_resolve,
    profile_destroy, NULL};

strands_credentials_provider *aws_cred_profile_new(const aws_cred_env *env,
                                                   strands_error *err)
{
    profile_provider *p = calloc(1, sizeof *p);
    if (!p) {
        strands_error_set(err, STRANDS_E_NOMEM, NULL, "out of memory");
        return NULL;
    }
    p->base.vtab = &profile_vtab;
    if (env) p->env = *env;
    if (env && env->region) {
        snprintf(p->region, sizeof p->region, "%s", env->region);
        p->env.region = p->region;
    }
    int failed = 0;
    p->profile = strdup(profile_name(env));
    p->creds_path = file_path(env, "AWS_SHARED_CREDENTIALS_FILE",
                              "credentials", &failed);
    p->config_path = file_path(env, "AWS_CONFIG_FILE", "config", &failed);
    if (failed || !p->profile) {
        profile_destroy(&p->base);
        strands_error_set(err, STRANDS_E_NOMEM, NULL, "out of memory");
        return NULL;
    }
    return &p->base;
}

int aws_profile_region(const aws_cred_env *env, char *out, size_t outsz)
{
    if (outsz) out[0] = '\0';
    int failed = 0;
    char *creds = file_path(env, "AWS_SHARED_CREDENTIALS_FILE", "credentials",
                            &failed);
    char *config = file_path(env, "AWS_CONFIG_FILE", "config", &failed);
    const char *name = profile_name(env);
    strands_error err;
    int rc = -1;
    /* The config file first, as the JS SDK reads region. */
    aws_ini *ini = config ? aws_ini_load(config, AWS_INI_CONFIG, &err) : NULL;
    const char *r = aws_ini_get(ini, name, "region");
    aws_ini *ini2 = NULL;
    if (!r || !*r) {
        ini2 = creds ? aws_ini_load(creds, AWS_INI_CREDENTIALS, &err) : NULL;
        r = aws_ini_get(ini2, name, "region");
    }
    if (r && *r && outsz && strlen(r) < outsz) {
        memcpy(out, r, strlen(r) + 1);
        rc = 0;
    }
    aws_ini_free(ini);
    aws_ini_free(ini2);
    free(creds);
    free(config);
    return rc;
}
