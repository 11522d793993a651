/* net/url: accepted URLs and their parts (host, port, path, query,
 * origin, Host-header authority), the rejections CURLU alone would let
 * through (no "//", empty host or port, port 0, numeric IPv4 spellings
 * other than dotted decimal, %-escaped hosts, zone ids, fragments,
 * spaces/controls/backslashes), user info, the flags (loopback-only http,
 * no query, no path), messages that name the setting but never the URL,
 * and the one loopback rule.                                            */
#include "test.h"
#include "net/url.h"

typedef struct ok_case {
    const char *url;
    unsigned flags;
    int https, port, port_explicit;
    const char *host, *path, *query, *origin, *authority;
} ok_case;

static void test_accepts(void)
{
    static const ok_case cases[] = {
        {"https://example.com", 0, 1, 443, 0, "example.com", "/", NULL,
         "https://example.com", "example.com"},
        {"HTTPS://Example.COM/", 0, 1, 443, 0, "Example.COM", "/", NULL,
         "https://Example.COM", "Example.COM"},
        {"http://127.0.0.1:8080/v1/creds?x=1&y=2", 0, 0, 8080, 1,
         "127.0.0.1", "/v1/creds", "x=1&y=2", "http://127.0.0.1:8080",
         "127.0.0.1:8080"},
        /* An explicit default port stays in the origin, not the Host. */
        {"https://example.com:443/p/", 0, 1, 443, 1, "example.com", "/p/",
         NULL, "https://example.com:443", "example.com"},
        {"https://example.com:80", 0, 1, 80, 1, "example.com", "/", NULL,
         "https://example.com:80", "example.com:80"},
        {"http://[::1]:9000/x//", NET_URL_HTTP_LOOPBACK_ONLY, 0, 9000, 1,
         "[::1]", "/x//", NULL, "http://[::1]:9000", "[::1]:9000"},
        /* curl prints IPv6 in its canonical form. */
        {"http://[0:0:0:0:0:0:0:1]/", NET_URL_HTTP_LOOPBACK_ONLY, 0, 80, 0,
         "[::1]", "/", NULL, "http://[::1]", "[::1]"},
        {"https://[2001:db8::1]:8443", 0, 1, 8443, 1, "[2001:db8::1]", "/",
         NULL, "https://[2001:db8::1]:8443", "[2001:db8::1]:8443"},
        {"http://[FD00:EC2:0::23]:80/", 0, 0, 80, 1, "[fd00:ec2::23]", "/",
         NULL, "http://[fd00:ec2::23]:80", "[fd00:ec2::23]"},
        /* A name that merely starts with a digit is a name. */
        {"https://1e100.net/", 0, 1, 443, 0, "1e100.net", "/", NULL,
         "https://1e100.net", "1e100.net"},
        {"http://127.1.2.3", NET_URL_HTTP_LOOPBACK_ONLY, 0, 80, 0,
         "127.1.2.3", "/", NULL, "http://127.1.2.3", "127.1.2.3"},
        {"http://LocalHost:5000/a%20b", NET_URL_HTTP_LOOPBACK_ONLY, 0, 5000,
         1, "LocalHost", "/a%20b", NULL, "http://LocalHost:5000",
         "LocalHost:5000"},
        /* Plain http elsewhere is fine without the loopback flag. */
        {"http://otel-collector:4318/v1/traces", 0, 0, 4318, 1,
         "otel-collector", "/v1/traces", NULL, "http://otel-collector:4318",
         "otel-collector:4318"},
        {"https://h:65535", NET_URL_NO_PATH | NET_URL_NO_QUERY, 1, 65535, 1,
         "h", "/", NULL, "https://h:65535", "h:65535"},
        {"http://u:pw@127.0.0.1/", NET_URL_ALLOW_USERINFO, 0, 80, 0,
         "127.0.0.1", "/", NULL, "http://127.0.0.1", "127.0.0.1"},
        /* The prefix of an endpoint, trailing slashes kept as given. */
        {"https://gw.example.com/proxy/bedrock///", 0, 1, 443, 0,
         "gw.example.com", "/proxy/bedrock///", NULL,
         "https://gw.example.com", "gw.example.com"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const ok_case *c = &cases[i];
        net_url u;
        strands_error err;
        strands_error_clear(&err);
        if (net_url_parse(c->url, c->flags, "X", &u, &err) != STRANDS_OK) {
            FAIL_AT("%s rejected: %s", c->url, err.message);
            continue;
        }
        CHECK_INT(u.https, c->https);
        CHECK_INT(u.port, c->port);
        CHECK_INT(u.port_explicit, c->port_explicit);
        CHECK_STR(u.host, c->host);
        CHECK_STR(u.path, c->path);
        if (c->query) CHECK_STR(u.query, c->query);
        else CHECK(u.query == NULL);
        CHECK_STR(u.origin, c->origin);
        CHECK_STR(u.authority, c->authority);
        net_url_cleanup(&u);
    }
}

typedef struct bad_case {
    const char *url;
    unsigned flags;
    const char *why;
} bad_case;

#define LB NET_URL_HTTP_LOOPBACK_ONLY

static void test_rejects(void)
{
    static const bad_case cases[] = {
        {NULL, 0, "empty"},
        {"", 0, "empty"},
        /* Scheme. */
        {"example.com", 0, "http:// or https://"},
        {"127.0.0.1:8080/x", 0, "http:// or https://"},
        {"ftp://example.com/", 0, "http:// or https://"},
        {"file:///etc/passwd", 0, "http:// or https://"},
        {"https:/example.com", 0, "http:// or https://"},
        {"https:example.com", 0, "http:// or https://"},
        /* Host. */
        {"https://", 0, "no valid host"},
        {"https:///path", 0, "no valid host"},
        {"https://:443", 0, "no valid host"},
        {"http://h%2e/", 0, "no valid host"},
        {"http://[::1", 0, "IPv6"},
        {"http://[]/", 0, "IPv6"},
        {"http://[::1]x/", 0, "IPv6"},
        {"http://[fe80::1%25eth0]/", 0, "zone id"},
        /* Numeric IPv4 that curl would rewrite to 127.0.0.1. */
        {"http://0177.0.0.1/", 0, "dotted-decimal"},
        {"http://2130706433/", 0, "dotted-decimal"},
        {"http://127.1/", 0, "dotted-decimal"},
        {"http://0x7f.0.0.1/", 0, "dotted-decimal"},
        /* Port. */
        {"https://example.com:", 0, "bad port"},
        {"http://[::1]:", 0, "bad port"},
        {"https://example.com:0", 0, "bad port"},
        {"https://example.com:65536", 0, "bad port"},
        {"https://example.com:99999999999999999999", 0, "bad port"},
        {"https://example.com:abc", 0, "bad port"},
        {"https://example.com:-1", 0, "bad port"},
        {"https://example.com:+80", 0, "bad port"},
        {"http://127.0.0.1:8080:1", 0, "bad port"},
        /* Characters. */
        {"http://h/a b", 0, "space"},
        {"https://example.com:44 3", 0, "space"},
        {"http://h/a\\b", 0, "backslash"},
        {"http://h/\r\nX-Injected: 1", 0, "control"},
        {"http://h/\x7f", 0, "control"},
        /* User info. */
        {"http://user@127.0.0.1/", 0, "user information"},
        {"http://u:p@h/", 0, "user information"},
        {"http://127.0.0.1@192.0.2.10/", LB, "user information"},
        {"http://:@h/", 0, "user information"},
        /* Fragment always; query and path when the caller says. */
        {"https://example.com#frag", 0, "fragment"},
        {"https://example.com/p#f", 0, "fragment"},
        {"https://example.com?x=1", NET_URL_NO_QUERY, "query"},
        {"https://example.com/p?x", NET_URL_NO_QUERY, "query"},
        {"http://127.0.0.1:1234/latest", NET_URL_NO_PATH, "no path"},
        {"http://127.0.0.1:1234//", NET_URL_NO_PATH, "no path"},
        /* Plain http to non-loopback hosts. */
        {"http://example.com", LB, "loopback"},
        {"http://example.com:80", LB, "loopback"},
        {"http://10.0.0.1", LB, "loopback"},
        {"http://128.0.0.1", LB, "loopback"},
        {"http://127.example.com", LB, "loopback"},
        {"http://127.0.0.1.nip.io", LB, "loopback"},
        {"http://localhost.example.com", LB, "loopback"},
        {"http://localhost./", LB, "loopback"},
        {"http://[::2]", LB, "loopback"},
        {"http://[::ffff:127.0.0.1]/", LB, "loopback"},
        {"http://127.0.0.256/", LB, "loopback"},
        {"http://169.254.169.254/", LB, "loopback"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const bad_case *c = &cases[i];
        net_url u;
        strands_error err;
        strands_error_clear(&err);
        strands_status st = net_url_parse(c->url, c->flags, "MY_SETTING", &u,
                                          &err);
        const char *shown = c->url ? c->url : "(null)";
        if (st != STRANDS_E_INVALID) {
            FAIL_AT("'%s' gave %s, want E_INVALID", shown,
                    strands_status_name(st));
            if (st == STRANDS_OK) net_url_cleanup(&u);
            continue;
        }
        if (!strstr(err.message, c->why))
            FAIL_AT("'%s': message '%s' lacks '%s'", shown, err.message,
                    c->why);
        if (strncmp(err.message, "MY_SETTING: ", 12))
            FAIL_AT("'%s': message '%s' does not name the setting", shown,
                    err.message);
    }
}

/* Messages never echo the URL: paths carry credential ids, user info
 * carries passwords. */
static void test_messages_do_not_echo(void)
{
    static const char *const urls[] = {
        "http://h:99999/secret-id", "http://user:hunter2@h/secret-id",
        "http://h/secret-id#hunter2", "ftp://h/secret-id"};
    for (size_t i = 0; i < 4; i++) {
        net_url u;
        strands_error err;
        CHECK_INT(net_url_parse(urls[i], NET_URL_HTTP_LOOPBACK_ONLY, "S", &u,
                                &err), STRANDS_E_INVALID);
        CHECK(strstr(err.message, "secret-id") == NULL);
        CHECK(strstr(err.message, "hunter2") == NULL);
    }
}

static void test_loopback_rule(void)
{
    static const char *const yes[] = {"localhost", "LocalHost", "LOCALHOST",
                                      "127.0.0.1", "127.255.0.9",
                                      "127.1.2.3", "[::1]",
                                      "[0:0:0:0:0:0:0:1]"};
    static const char *const no[] = {
        "128.0.0.1", "127.0.0", "127.1", "0177.0.0.1", "2130706433",
        "127.0.0.1.nip.io", "localhost.example", "localhost.", "[::2]",
        "[::ffff:127.0.0.1]", "169.254.170.2", "[fd00:ec2::23]",
        "127.0.0.256", "::1", "", "[]"};
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
        if (!net_url_host_is_loopback(yes[i]))
            FAIL_AT("not loopback: %s", yes[i]);
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
        if (net_url_host_is_loopback(no[i])) FAIL_AT("loopback: %s", no[i]);
    CHECK(!net_url_host_is_loopback(NULL));
}

int main(void)
{
    RUN(test_accepts);
    RUN(test_rejects);
    RUN(test_messages_do_not_echo);
    RUN(test_loopback_rule);
    return test_report();
}
