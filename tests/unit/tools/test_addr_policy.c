/* The http_request address policy (src/tools/builtin/addr_policy.c):
 * classification of IPv4/IPv6 addresses (table-driven, with the IPv6
 * forms that embed an IPv4 address), every literal spelling of a host
 * taken through curl's URL parser and the numeric resolver to the address
 * that would be connected to, the allow list's parser (good and bad
 * entries, caps) and its matching (CIDRs, mapped addresses, names).     */
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <curl/curl.h>

#include "test.h"
#include "tools/builtin/addr_policy.h"

/* text (inet_pton) -> addr_ip; aborts the case on a typo. */
static addr_ip ip_of(const char *text)
{
    addr_ip ip = {0};
    if (inet_pton(AF_INET, text, ip.bytes) == 1)
        ip.family = AF_INET;
    else if (inet_pton(AF_INET6, text, ip.bytes) == 1)
        ip.family = AF_INET6;
    else
        fprintf(stderr, "  bad test address %s\n", text);
    return ip;
}

/* The verdict on `text` as addr_policy_check words it with no allow
 * list: "" when allowed.                                               */
static const char *verdict(const char *text, char *buf, size_t n)
{
    addr_ip ip = ip_of(text);
    if (addr_policy_check(NULL, NULL, &ip, buf, n)) buf[0] = '\0';
    return buf;
}

static void test_classify_table(void)
{
    static const struct {
        const char *addr;
        const char *want; /* addr_policy_check's message; "" = allowed */
    } cases[] = {
        /* IPv4 */
        {"8.8.8.8", ""},
        {"1.1.1.1", ""},
        {"100.63.255.255", ""},
        {"100.128.0.0", ""},
        {"172.15.255.255", ""},
        {"172.32.0.0", ""},
        {"192.167.255.255", ""},
        {"223.255.255.255", ""},
        {"0.0.0.0", "0.0.0.0 is unspecified"},
        {"0.1.2.3", "0.1.2.3 is unspecified"},
        {"127.0.0.1", "127.0.0.1 is loopback"},
        {"127.255.255.254", "127.255.255.254 is loopback"},
        {"10.0.0.1", "10.0.0.1 is private"},
        {"172.16.0.1", "172.16.0.1 is private"},
        {"172.31.255.255", "172.31.255.255 is private"},
        {"192.168.1.1", "192.168.1.1 is private"},
        {"100.64.0.1", "100.64.0.1 is carrier-grade NAT (100.64.0.0/10)"},
        {"100.127.255.255",
         "100.127.255.255 is carrier-grade NAT (100.64.0.0/10)"},
        {"100.100.100.200", "100.100.100.200 is cloud metadata"},
        {"169.254.0.1", "169.254.0.1 is link-local"},
        {"169.254.169.254", "169.254.169.254 is cloud metadata"},
        {"169.254.170.2", "169.254.170.2 is cloud metadata"},
        {"224.0.0.1", "224.0.0.1 is multicast"},
        {"239.255.255.250", "239.255.255.250 is multicast"},
        {"255.255.255.255", "255.255.255.255 is broadcast"},
        {"240.0.0.1", "240.0.0.1 is reserved"},
        {"192.0.0.8", "192.0.0.8 is reserved"},
        {"192.0.2.1", "192.0.2.1 is reserved"},
        {"198.18.0.1", "198.18.0.1 is reserved"},
        {"198.51.100.7", "198.51.100.7 is reserved"},
        {"203.0.113.9", "203.0.113.9 is reserved"},
        /* IPv6 */
        {"2606:4700:4700::1111", ""},
        {"2a00:1450::1", ""},
        {"::", ":: is unspecified"},
        {"::1", "::1 is loopback"},
        {"fe80::1", "fe80::1 is link-local"},
        {"febf::1", "febf::1 is link-local"},
        {"fec0::1", "fec0::1 is private"},
        {"fc00::1", "fc00::1 is private"},
        {"fdff:ffff::1", "fdff:ffff::1 is private"},
        {"fd00:ec2::254", "fd00:ec2::254 is cloud metadata"},
        {"ff02::1", "ff02::1 is multicast"},
        {"2001:db8::1", "2001:db8::1 is reserved"},
        {"2001:0:4136:e378::1", "2001:0:4136:e378::1 is reserved"},
        {"100::1", "100::1 is reserved"},
        {"4000::1", "4000::1 is reserved"},
        {"64:ff9b:1::1", "64:ff9b:1::1 is private"},
        /* IPv6 embedding IPv4 */
        {"::ffff:8.8.8.8", ""},
        {"::ffff:127.0.0.1",
         "::ffff:127.0.0.1 is loopback (IPv4-mapped 127.0.0.1)"},
        {"::ffff:169.254.169.254",
         "::ffff:169.254.169.254 is cloud metadata "
         "(IPv4-mapped 169.254.169.254)"},
        {"::ffff:0.0.0.0", "::ffff:0.0.0.0 is unspecified "
                           "(IPv4-mapped 0.0.0.0)"},
        {"::127.0.0.1", "::127.0.0.1 is loopback (IPv4-compatible "
                        "127.0.0.1)"},
        {"::8.8.8.8", "::8.8.8.8 is reserved (IPv4-compatible 8.8.8.8)"},
        {"::ffff:0:10.0.0.1",
         "::ffff:0:a00:1 is private (IPv4-translated 10.0.0.1)"},
        {"64:ff9b::8.8.8.8", ""},
        {"64:ff9b::127.0.0.1",
         "64:ff9b::7f00:1 is loopback (NAT64 127.0.0.1)"},
        {"64:ff9b::a9fe:a9fe",
         "64:ff9b::a9fe:a9fe is cloud metadata (NAT64 169.254.169.254)"},
        {"2002:808:808::1", ""},
        {"2002:7f00:1::", "2002:7f00:1:: is loopback (6to4 127.0.0.1)"},
        {"2002:c0a8:101::1",
         "2002:c0a8:101::1 is private (6to4 192.168.1.1)"},
    };
    char buf[200];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *got = verdict(cases[i].addr, buf, sizeof buf);
        if (strcmp(got, cases[i].want))
            FAIL_AT("%s: got \"%s\", want \"%s\"", cases[i].addr, got,
                    cases[i].want);
    }
    /* Anything but AF_INET/AF_INET6 is never public. */
    addr_ip odd = {.family = AF_UNIX};
    CHECK_INT(addr_classify(&odd).cls, ADDR_RESERVED);
    CHECK_INT(addr_classify(NULL).cls, ADDR_RESERVED);
    CHECK_STR(addr_class_name(ADDR_PUBLIC), "public");
}

/* The address curl would connect to for the host of url: curl's URL
 * parser, then the numeric resolver (what curl's resolver does first). */
static int resolve_literal(const char *url, addr_ip *out)
{
    CURLU *u = curl_url();
    char *host = NULL;
    int rc = -1;
    if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK) {
        char h[128];
        size_t n = strlen(host);
        if (host[0] == '[' && n > 2) {
            snprintf(h, sizeof h, "%.*s", (int)(n - 2), host + 1);
        } else {
            snprintf(h, sizeof h, "%s", host);
        }
        struct addrinfo hints = {.ai_flags = AI_NUMERICHOST,
                                 .ai_socktype = SOCK_STREAM};
        struct addrinfo *res = NULL;
        if (getaddrinfo(h, "80", &hints, &res) == 0) {
            rc = addr_ip_from_sockaddr(res->ai_addr, res->ai_addrlen, out);
            freeaddrinfo(res);
        }
    }
    curl_free(host);
    curl_url_cleanup(u);
    return rc;
}

static void test_every_literal_spelling(void)
{
    static const struct {
        const char *url;
        const char *want;
    } cases[] = {
        {"http://127.0.0.1/", "127.0.0.1 is loopback"},
        {"http://2130706433/", "127.0.0.1 is loopback"},
        {"http://0x7f000001/", "127.0.0.1 is loopback"},
        {"http://0X7F000001/", "127.0.0.1 is loopback"},
        {"http://0177.0.0.1/", "127.0.0.1 is loopback"},
        {"http://017700000001/", "127.0.0.1 is loopback"},
        {"http://0x7f.0.0.1/", "127.0.0.1 is loopback"},
        {"http://127.1/", "127.0.0.1 is loopback"},
        {"http://127.0.1/", "127.0.0.1 is loopback"},
        {"http://0x7f.1/", "127.0.0.1 is loopback"},
        {"http://0/", "0.0.0.0 is unspecified"},
        {"http://0.0.0.0/", "0.0.0.0 is unspecified"},
        {"http://2852039166/", "169.254.169.254 is cloud metadata"},
        {"http://0xa9fea9fe/", "169.254.169.254 is cloud metadata"},
        {"http://0251.0376.0251.0376/", "169.254.169.254 is cloud metadata"},
        {"http://167772161/", "10.0.0.1 is private"},
        {"http://[::1]/", "::1 is loopback"},
        {"http://[0:0:0:0:0:0:0:1]/", "::1 is loopback"},
        {"http://[::]/", ":: is unspecified"},
        {"http://[::ffff:127.0.0.1]/",
         "::ffff:127.0.0.1 is loopback (IPv4-mapped 127.0.0.1)"},
        {"http://[::ffff:7f00:1]/",
         "::ffff:127.0.0.1 is loopback (IPv4-mapped 127.0.0.1)"},
        {"http://[0:0:0:0:0:ffff:127.0.0.1]/",
         "::ffff:127.0.0.1 is loopback (IPv4-mapped 127.0.0.1)"},
        {"http://[64:ff9b::127.0.0.1]/",
         "64:ff9b::7f00:1 is loopback (NAT64 127.0.0.1)"},
        {"http://[2002:7f00:1::]/",
         "2002:7f00:1:: is loopback (6to4 127.0.0.1)"},
        {"http://[fd00:ec2::254]/", "fd00:ec2::254 is cloud metadata"},
    };
    char buf[200];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        addr_ip ip;
        if (resolve_literal(cases[i].url, &ip)) {
            FAIL_AT("%s: not a numeric host for curl + getaddrinfo",
                    cases[i].url);
            continue;
        }
        if (addr_policy_check(NULL, NULL, &ip, buf, sizeof buf))
            buf[0] = '\0';
        if (strcmp(buf, cases[i].want))
            FAIL_AT("%s: got \"%s\", want \"%s\"", cases[i].url, buf,
                    cases[i].want);
    }
}

static void test_sockaddr(void)
{
    addr_ip ip;
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(80)};
    sin.sin_addr.s_addr = htonl(0x7f000001);
    CHECK_INT(addr_ip_from_sockaddr((struct sockaddr *)&sin, sizeof sin,
                                    &ip), 0);
    CHECK_INT(ip.family, AF_INET);
    CHECK_INT(addr_classify(&ip).cls, ADDR_LOOPBACK);
    CHECK_INT(addr_ip_from_sockaddr((struct sockaddr *)&sin, sizeof sin - 1,
                                    &ip), -1);
    struct sockaddr_in6 sin6 = {.sin6_family = AF_INET6};
    sin6.sin6_addr.s6_addr[15] = 1;
    CHECK_INT(addr_ip_from_sockaddr((struct sockaddr *)&sin6, sizeof sin6,
                                    &ip), 0);
    CHECK_INT(ip.family, AF_INET6);
    CHECK_INT(addr_classify(&ip).cls, ADDR_LOOPBACK);
    CHECK_INT(addr_ip_from_sockaddr((struct sockaddr *)&sin6,
                                    sizeof(struct sockaddr_in), &ip), -1);
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    CHECK_INT(addr_ip_from_sockaddr((struct sockaddr *)&sun, sizeof sun,
                                    &ip), -1);
    CHECK_INT(addr_ip_from_sockaddr(NULL, 0, &ip), -1);
    char text[ADDR_TEXT_MAX];
    ip = ip_of("::ffff:10.0.0.1");
    addr_ip_format(&ip, text, sizeof text);
    CHECK_STR(text, "::ffff:10.0.0.1");
    addr_ip_format(NULL, text, sizeof text);
    CHECK_STR(text, "?");
}

static void test_parse_good(void)
{
    static const struct {
        const char *list;
        size_t n;
    } cases[] = {
        {NULL, 0},
        {"", 0},
        {" , ,, ", 0},
        {"127.0.0.1", 1},
        {" 127.0.0.1 , 10.0.0.0/8 ,", 2},
        {"::1,[::1],fd00::/8,::/0,0.0.0.0/0", 5},
        {"::ffff:127.0.0.1, 64:ff9b::/96", 2},
        {"localhost,Example.COM,my-host_1.internal", 3},
        {"10.0.0.0/32,10.0.0.1/32,172.16.0.0/12,192.168.0.0/16", 4},
        {"1.2.3.4.example", 1},
        {"0x7f.example", 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        addr_policy *p = NULL;
        strands_error err;
        strands_error_clear(&err);
        strands_status st = addr_policy_parse(cases[i].list, &p, &err);
        if (st != STRANDS_OK)
            FAIL_AT("'%s': %s", cases[i].list ? cases[i].list : "(null)",
                    err.message);
        else if (addr_policy_count(p) != cases[i].n)
            FAIL_AT("'%s': %zu entries, want %zu", cases[i].list,
                    addr_policy_count(p), cases[i].n);
        addr_policy_free(p);
    }
}

static void test_parse_bad(void)
{
    static const struct {
        const char *list;
        const char *want;
    } cases[] = {
        {"10.0.0.1/8",
         "bad entry '10.0.0.1/8': address has bits set beyond the prefix "
         "length"},
        {"10.0.0.0/33", "bad entry '10.0.0.0/33': prefix length must be "
                        "0..32"},
        {"fd00::/129", "bad entry 'fd00::/129': prefix length must be "
                       "0..128"},
        {"10.0.0.0/", "bad entry '10.0.0.0/': prefix length must be 0..32"},
        {"10.0.0.0/08", "bad entry '10.0.0.0/08': prefix length must be "
                        "0..32"},
        {"10.0.0.0/-1", "bad entry '10.0.0.0/-1': prefix length must be "
                        "0..32"},
        {"127.1/8", "bad entry '127.1/8': CIDR address is not an IPv4 "
                    "(dotted-decimal) or IPv6 address"},
        {"localhost/8", "bad entry 'localhost/8': CIDR address is not an "
                        "IPv4 (dotted-decimal) or IPv6 address"},
        {"127.1", "bad entry '127.1': not a valid IP address (write IPv4 in "
                  "dotted-decimal, e.g. 127.0.0.1)"},
        {"2130706433", "bad entry '2130706433': not a valid IP address "
                       "(write IPv4 in dotted-decimal, e.g. 127.0.0.1)"},
        {"0x7f000001", "bad entry '0x7f000001': not a valid IP address "
                       "(write IPv4 in dotted-decimal, e.g. 127.0.0.1)"},
        {"0177.0.0.1", "bad entry '0177.0.0.1': not a valid IP address "
                       "(write IPv4 in dotted-decimal, e.g. 127.0.0.1)"},
        {"1.2.3.4.5", "bad entry '1.2.3.4.5': not a valid IP address "
                      "(write IPv4 in dotted-decimal, e.g. 127.0.0.1)"},
        {"256.0.0.1", "bad entry '256.0.0.1': not a valid IP address "
                      "(write IPv4 in dotted-decimal, e.g. 127.0.0.1)"},
        {"fe80::1%eth0", "bad entry 'fe80::1%eth0': IPv6 zone ids are not "
                         "supported"},
        {"::g", "bad entry '::g': not a valid IPv6 address"},
        {"[::1", "bad entry '[::1': unbalanced brackets"},
        {"[127.0.0.1]", "bad entry '[127.0.0.1]': not an IPv6 address in "
                        "brackets"},
        {"exa mple.com", "bad entry 'exa mple.com': not an IP address, CIDR "
                         "or host name"},
        {"example.com.", "bad entry 'example.com.': empty label in host "
                         "name"},
        {"a..b", "bad entry 'a..b': empty label in host name"},
        {"http://x", "bad entry 'http://x': CIDR address is not an IPv4 "
                     "(dotted-decimal) or IPv6 address"},
        {"ok.example,*.example", "bad entry '*.example': not an IP address, "
                                 "CIDR or host name"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        addr_policy *p = (addr_policy *)1;
        strands_error err;
        strands_error_clear(&err);
        CHECK_INT(addr_policy_parse(cases[i].list, &p, &err),
                  STRANDS_E_INVALID);
        CHECK(p == NULL);
        if (strcmp(err.message, cases[i].want))
            FAIL_AT("'%s': got \"%s\", want \"%s\"", cases[i].list,
                    err.message, cases[i].want);
    }
}

static void test_parse_caps(void)
{
    strands_error err;
    addr_policy *p = NULL;
    /* a 64-byte label is too long, a 63-byte one is fine */
    char label[80];
    memset(label, 'a', 64);
    label[64] = '\0';
    CHECK_INT(addr_policy_parse(label, &p, &err), STRANDS_E_INVALID);
    CHECK(strstr(err.message, "label longer than 63 bytes") != NULL);
    label[63] = '\0';
    CHECK_INT(addr_policy_parse(label, &p, &err), STRANDS_OK);
    addr_policy_free(p);
    /* names up to 253 bytes; the bad entry is quoted cut to 64 bytes */
    char name[300];
    memset(name, 'a', sizeof name);
    for (int i = 50; i < 300; i += 51) name[i] = '.';
    name[253] = '\0';
    CHECK_INT(addr_policy_parse(name, &p, &err), STRANDS_OK);
    addr_policy_free(p);
    name[253] = 'b';
    name[254] = '\0';
    CHECK_INT(addr_policy_parse(name, &p, &err), STRANDS_E_INVALID);
    CHECK(strstr(err.message, "...': ") != NULL);
    CHECK(strlen(err.message) < 120);
    /* 256 entries are fine, 257 are not */
    char list[257 * 16];
    size_t len = 0;
    for (int i = 0; i < 257; i++)
        len += (size_t)snprintf(list + len, sizeof list - len,
                                "%s10.0.%d.%d", i ? "," : "", i / 256,
                                i % 256);
    CHECK_INT(addr_policy_parse(list, &p, &err), STRANDS_E_TOO_LARGE);
    CHECK_STR(err.message, "more than 256 entries");
    *strrchr(list, ',') = '\0';
    CHECK_INT(addr_policy_parse(list, &p, &err), STRANDS_OK);
    CHECK_INT(addr_policy_count(p), 256);
    addr_policy_free(p);
    /* the list as a whole is capped */
    char *huge = malloc(ADDR_POLICY_MAX_LIST + 2);
    memset(huge, ',', ADDR_POLICY_MAX_LIST + 1);
    huge[ADDR_POLICY_MAX_LIST + 1] = '\0';
    CHECK_INT(addr_policy_parse(huge, &p, &err), STRANDS_E_TOO_LARGE);
    free(huge);
    CHECK_INT(addr_policy_parse("x", NULL, &err), STRANDS_E_INVALID);
}

static void test_matching(void)
{
    static const struct {
        const char *list;
        const char *addr;
        int allowed;
    } cases[] = {
        {"127.0.0.1", "127.0.0.1", 1},
        {"127.0.0.1", "127.0.0.2", 0},
        {"127.0.0.1", "::ffff:127.0.0.1", 1},  /* mapped matches IPv4 */
        {"127.0.0.1", "::1", 0},
        {"127.0.0.1", "64:ff9b::7f00:1", 0},  /* NAT64 is not mapped */
        {"127.0.0.0/30", "127.0.0.3", 1},
        {"127.0.0.0/30", "127.0.0.4", 0},
        {"10.0.0.0/8", "10.255.255.255", 1},
        {"10.0.0.0/8", "11.0.0.0", 0},
        {"172.16.0.0/12", "172.31.0.1", 1},
        {"172.16.0.0/12", "172.32.0.1", 0},
        {"0.0.0.0/0", "169.254.169.254", 1},
        {"0.0.0.0/0", "::1", 0},
        {"::/0", "::1", 1},
        {"::/0", "10.0.0.1", 0},
        {"fc00::/7", "fd00:ec2::254", 1},
        {"fc00::/7", "fe00::1", 0},
        {"fd00:ec2::254", "fd00:ec2::254", 1},
        {"[fd00:ec2::254]", "fd00:ec2::254", 1},
        {"fd00:ec2::254/127", "fd00:ec2::255", 1},
        {"fd00:ec2::254/128", "fd00:ec2::255", 0},
        {"::ffff:0:0/96", "::ffff:10.1.1.1", 1},
        {"localhost", "127.0.0.1", 0},  /* names match hosts, not IPs */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        addr_policy *p = NULL;
        strands_error err;
        if (addr_policy_parse(cases[i].list, &p, &err) != STRANDS_OK) {
            FAIL_AT("'%s': %s", cases[i].list, err.message);
            continue;
        }
        addr_ip ip = ip_of(cases[i].addr);
        if (addr_policy_allows_ip(p, &ip) != cases[i].allowed)
            FAIL_AT("'%s' allows %s: want %d", cases[i].list, cases[i].addr,
                    cases[i].allowed);
        addr_policy_free(p);
    }
    addr_ip ip = ip_of("127.0.0.1");
    CHECK_INT(addr_policy_allows_ip(NULL, &ip), 0);
}

static void test_host_names_and_check(void)
{
    addr_policy *p = NULL;
    strands_error err;
    CHECK_INT(addr_policy_parse("LocalHost, internal.example, 10.0.0.0/8",
                                &p, &err), STRANDS_OK);
    CHECK_INT(addr_policy_allows_host(p, "localhost"), 1);
    CHECK_INT(addr_policy_allows_host(p, "LOCALHOST"), 1);
    CHECK_INT(addr_policy_allows_host(p, "INTERNAL.example"), 1);
    /* exact: no suffix, prefix or trailing-dot matches */
    CHECK_INT(addr_policy_allows_host(p, "sub.localhost"), 0);
    CHECK_INT(addr_policy_allows_host(p, "localhost."), 0);
    CHECK_INT(addr_policy_allows_host(p, "example"), 0);
    CHECK_INT(addr_policy_allows_host(p, "10.0.0.0"), 0);
    CHECK_INT(addr_policy_allows_host(p, NULL), 0);
    CHECK_INT(addr_policy_allows_host(NULL, "localhost"), 0);

    char msg[200] = "untouched";
    addr_ip lo = ip_of("127.0.0.1"), ten = ip_of("10.9.8.7"),
            pub = ip_of("93.184.216.34"), md = ip_of("169.254.169.254");
    CHECK_INT(addr_policy_check(p, "localhost", &lo, msg, sizeof msg), 1);
    CHECK_STR(msg, "untouched");
    CHECK_INT(addr_policy_check(p, "rebind.example", &ten, msg, sizeof msg),
              1);
    CHECK_INT(addr_policy_check(p, "example.org", &pub, msg, sizeof msg), 1);
    CHECK_INT(addr_policy_check(p, "rebind.example", &lo, msg, sizeof msg),
              0);
    CHECK_STR(msg, "127.0.0.1 is loopback");
    CHECK_INT(addr_policy_check(p, NULL, &md, msg, sizeof msg), 0);
    CHECK_STR(msg, "169.254.169.254 is cloud metadata");
    CHECK_INT(addr_policy_check(p, NULL, &md, NULL, 0), 0);
    /* cut to fit */
    CHECK_INT(addr_policy_check(p, NULL, &md, msg, 8), 0);
    CHECK_STR(msg, "169.254");
    addr_policy_free(p);
    addr_policy_free(NULL);
    CHECK_INT(addr_policy_count(NULL), 0);
}

int main(void)
{
    RUN(test_classify_table);
    RUN(test_every_literal_spelling);
    RUN(test_sockaddr);
    RUN(test_parse_good);
    RUN(test_parse_bad);
    RUN(test_parse_caps);
    RUN(test_matching);
    RUN(test_host_names_and_check);
    return test_report();
}
