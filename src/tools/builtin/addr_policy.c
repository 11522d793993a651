/* The http_request address policy: classification of IPv4/IPv6 addresses
 * from their bytes, and the HTTP_REQUEST_ALLOW list (IPs, CIDRs, host
 * names) that lets chosen refused addresses through. See addr_policy.h. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "tools/builtin/addr_policy.h"

/* One allow-list entry: a CIDR (an IP is a full-length prefix) or a name. */
typedef struct policy_entry {
    addr_ip net;  /* family 0: a host name entry */
    int prefix;   /* bits, 0..32 or 0..128 */
    char *name;   /* host name entry, NUL-terminated */
} policy_entry;

struct addr_policy {
    policy_entry *entries;
    size_t n;
};

/* ---- classification ---------------------------------------------------- */

int addr_ip_from_sockaddr(const struct sockaddr *sa, size_t len,
                          addr_ip *out)
{
    if (!sa || !out) return -1;
    memset(out, 0, sizeof *out);
    if (sa->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
        struct sockaddr_in sin;
        memcpy(&sin, sa, sizeof sin);
        out->family = AF_INET;
        memcpy(out->bytes, &sin.sin_addr, 4);
        return 0;
    }
    if (sa->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
        struct sockaddr_in6 sin6;
        memcpy(&sin6, sa, sizeof sin6);
        out->family = AF_INET6;
        memcpy(out->bytes, &sin6.sin6_addr, 16);
        return 0;
    }
    return -1;
}

static uint32_t v4_word(const uint8_t *b)
{
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 |
           (uint32_t)b[3];
}

static int in4(uint32_t a, uint32_t net, int bits)
{
    uint32_t mask = bits ? 0xFFFFFFFFu << (32 - bits) : 0;
    return (a & mask) == net;
}

static addr_class classify4(const uint8_t *b)
{
    uint32_t a = v4_word(b);
    if (in4(a, 0x00000000u, 8)) return ADDR_UNSPECIFIED;      /* 0/8 */
    if (in4(a, 0x0A000000u, 8)) return ADDR_PRIVATE;          /* 10/8 */
    if (in4(a, 0x7F000000u, 8)) return ADDR_LOOPBACK;         /* 127/8 */
    if (a == 0x646464C8u) return ADDR_METADATA;               /* 100.100.100.200 */
    if (in4(a, 0x64400000u, 10)) return ADDR_CGNAT;           /* 100.64/10 */
    if (a == 0xA9FEA9FEu || a == 0xA9FEAA02u)                 /* 169.254.169.254, */
        return ADDR_METADATA;                                 /* 169.254.170.2 */
    if (in4(a, 0xA9FE0000u, 16)) return ADDR_LINK_LOCAL;      /* 169.254/16 */
    if (in4(a, 0xAC100000u, 12)) return ADDR_PRIVATE;         /* 172.16/12 */
    if (in4(a, 0xC0000000u, 24) || in4(a, 0xC0000200u, 24) || /* 192.0.0/24, */
        in4(a, 0xC6336400u, 24) || in4(a, 0xCB007100u, 24) || /* TEST-NETs, */
        in4(a, 0xC6120000u, 15))                              /* 198.18/15 */
        return ADDR_RESERVED;
    if (in4(a, 0xC0A80000u, 16)) return ADDR_PRIVATE;         /* 192.168/16 */
    if (a == 0xFFFFFFFFu) return ADDR_BROADCAST;
    if (in4(a, 0xE0000000u, 4)) return ADDR_MULTICAST;        /* 224/4 */
    if (in4(a, 0xF0000000u, 4)) return ADDR_RESERVED;         /* 240/4 */
    return ADDR_PUBLIC;
}

static int all_zero(const uint8_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (b[i]) return 0;
    return 1;
}

/* Judges an IPv6 address by the IPv4 address at b+off. */
static addr_verdict embedded(const uint8_t *b, size_t off, const char *via,
                             addr_class if_public)
{
    addr_verdict v = {.via = via};
    v.embedded.family = AF_INET;
    memcpy(v.embedded.bytes, b + off, 4);
    v.cls = classify4(v.embedded.bytes);
    if (v.cls == ADDR_PUBLIC) v.cls = if_public;
    return v;
}

static addr_verdict classify6(const uint8_t *b)
{
    static const uint8_t nat64[12] = {0x00, 0x64, 0xff, 0x9b};
    static const uint8_t metadata[16] = {0xfd, 0x00, 0x0e, 0xc2, [14] = 0x02,
                                         [15] = 0x54};
    addr_verdict v = {.cls = ADDR_PUBLIC};
    if (all_zero(b, 16)) {
        v.cls = ADDR_UNSPECIFIED;
    } else if (all_zero(b, 15) && b[15] == 1) {
        v.cls = ADDR_LOOPBACK;
    } else if (all_zero(b, 10) && b[10] == 0xff && b[11] == 0xff) {
        v = embedded(b, 12, "IPv4-mapped", ADDR_PUBLIC);
    } else if (all_zero(b, 8) && b[8] == 0xff && b[9] == 0xff &&
               !b[10] && !b[11]) {
        v = embedded(b, 12, "IPv4-translated", ADDR_RESERVED);
    } else if (all_zero(b, 12)) {
        v = embedded(b, 12, "IPv4-compatible", ADDR_RESERVED);
    } else if (!memcmp(b, nat64, 12)) {
        v = embedded(b, 12, "NAT64", ADDR_PUBLIC);
    } else if (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff &&
               b[3] == 0x9b && b[4] == 0x00 && b[5] == 0x01) {
        v.cls = ADDR_PRIVATE; /* 64:ff9b:1::/48, local-use NAT64 */
    } else if (b[0] == 0x20 && b[1] == 0x02) {
        v = embedded(b, 2, "6to4", ADDR_PUBLIC);
    } else if (b[0] == 0x20 && b[1] == 0x01 && !b[2] && !b[3]) {
        v.cls = ADDR_RESERVED; /* Teredo 2001::/32 */
    } else if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d &&
               b[3] == 0xb8) {
        v.cls = ADDR_RESERVED; /* documentation 2001:db8::/32 */
    } else if (!memcmp(b, metadata, 16)) {
        v.cls = ADDR_METADATA; /* fd00:ec2::254 */
    } else if ((b[0] & 0xfe) == 0xfc) {
        v.cls = ADDR_PRIVATE; /* fc00::/7 */
    } else if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) {
        v.cls = ADDR_LINK_LOCAL; /* fe80::/10 */
    } else if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0) {
        v.cls = ADDR_PRIVATE; /* fec0::/10, site-local (deprecated) */
    } else if (b[0] == 0xff) {
        v.cls = ADDR_MULTICAST;
    } else if ((b[0] & 0xe0) != 0x20) {
        /* Outside 2000::/3, the only global unicast space: 100::/64
         * (discard), unassigned and reserved blocks. */
        v.cls = ADDR_RESERVED;
    }
    return v;
}

addr_verdict addr_classify(const addr_ip *ip)
{
    addr_verdict v = {.cls = ADDR_RESERVED};
    if (!ip) return v;
    if (ip->family == AF_INET) {
        v.cls = classify4(ip->bytes);
        return v;
    }
    if (ip->family == AF_INET6) return classify6(ip->bytes);
    return v;
}

const char *addr_class_name(addr_class cls)
{
    switch (cls) {
    case ADDR_PUBLIC: return "public";
    case ADDR_UNSPECIFIED: return "unspecified";
    case ADDR_LOOPBACK: return "loopback";
    case ADDR_LINK_LOCAL: return "link-local";
    case ADDR_METADATA: return "cloud metadata";
    case ADDR_PRIVATE: return "private";
    case ADDR_CGNAT: return "carrier-grade NAT (100.64.0.0/10)";
    case ADDR_MULTICAST: return "multicast";
    case ADDR_BROADCAST: return "broadcast";
    case ADDR_RESERVED: return "reserved";
    }
    return "reserved";
}

void addr_ip_format(const addr_ip *ip, char *out, size_t outsz)
{
    char text[INET6_ADDRSTRLEN] = "?";
    if (!out || !outsz) return;
    if (ip && (ip->family == AF_INET || ip->family == AF_INET6) &&
        !inet_ntop(ip->family, ip->bytes, text, sizeof text))
        snprintf(text, sizeof text, "?");
    snprintf(out, outsz, "%s", text);
}

/* ---- the allow list ---------------------------------------------------- */

void addr_policy_free(addr_policy *p)
{
    if (!p) return;
    for (size_t i = 0; i < p->n; i++) free(p->entries[i].name);
    free(p->entries);
    free(p);
}

size_t addr_policy_count(const addr_policy *p)
{
    return p ? p->n : 0;
}

/* Parses s as a whole IPv4 (dotted-decimal) or IPv6 address. 0 or -1. */
static int parse_ip(const char *s, addr_ip *out)
{
    memset(out, 0, sizeof *out);
    if (inet_pton(AF_INET, s, out->bytes) == 1) {
        out->family = AF_INET;
        return 0;
    }
    if (inet_pton(AF_INET6, s, out->bytes) == 1) {
        out->family = AF_INET6;
        return 0;
    }
    return -1;
}

/* Whether the first `bits` bits of a and b agree (n bytes each). */
static int prefix_equal(const uint8_t *a, const uint8_t *b, int bits)
{
    int full = bits / 8, rest = bits % 8;
    if (memcmp(a, b, (size_t)full)) return 0;
    if (!rest) return 1;
    uint8_t mask = (uint8_t)(0xFF << (8 - rest));
    return (a[full] & mask) == (b[full] & mask);
}

/* "127.1", "0x7f000001", "1.2.3.4.5": a last label that is a number,
 * which resolvers read as an IPv4 address, not a name.                  */
static int last_label_numeric(const char *s)
{
    const char *last = strrchr(s, '.');
    last = last ? last + 1 : s;
    if (last[0] == '0' && (last[1] == 'x' || last[1] == 'X')) {
        for (const char *q = last + 2; *q; q++)
            if (!strchr("0123456789abcdefABCDEF", *q)) return 0;
        return 1;
    }
    for (const char *q = last; *q; q++)
        if (*q < '0' || *q > '9') return 0;
    return 1;
}

/* Checks a host name entry; NULL when fine, else why not. */
static const char *host_problem(const char *s, size_t n)
{
    if (n > ADDR_POLICY_MAX_HOST) return "host name longer than 253 bytes";
    size_t label = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '.') {
            if (!label) return "empty label in host name";
            label = 0;
            continue;
        }
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '-' || c == '_'))
            return "not an IP address, CIDR or host name";
        if (++label > 63) return "host name label longer than 63 bytes";
    }
    if (!label) return "empty label in host name";
    if (last_label_numeric(s))
        return "not a valid IP address (write IPv4 in dotted-decimal, e.g. "
               "127.0.0.1)";
    return NULL;
}

/* Parses a prefix length "0".."max" (no sign, no leading zeros). */
static int parse_prefix(const char *s, int max)
{
    if (!*s || strlen(s) > 3 || (s[0] == '0' && s[1])) return -1;
    int v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9') return -1;
        v = v * 10 + (*s - '0');
    }
    return v <= max ? v : -1;
}

#define ENTRY_MAX (ADDR_POLICY_MAX_HOST + 2)

static strands_status bad_entry(strands_error *err, const char *s, size_t n,
                                const char *why)
{
    return strands_error_set(err, STRANDS_E_INVALID, NULL,
                             "bad entry '%.*s%s': %s", (int)(n > 64 ? 64 : n),
                             s, n > 64 ? "..." : "", why);
}

/* Parses one trimmed, non-empty entry s[0..n) into *e. */
static strands_status parse_entry(const char *s, size_t n, policy_entry *e,
                                  strands_error *err)
{
    char buf[ENTRY_MAX + 1];
    if (n > ENTRY_MAX)
        return bad_entry(err, s, n, "longer than 253 bytes");
    memcpy(buf, s, n);
    buf[n] = '\0';
    if (memchr(buf, '%', n))
        return bad_entry(err, s, n, "IPv6 zone ids are not supported");
    char *slash = strchr(buf, '/');
    if (slash) {
        *slash = '\0';
        if (parse_ip(buf, &e->net))
            return bad_entry(err, s, n, "CIDR address is not an IPv4 "
                                        "(dotted-decimal) or IPv6 address");
        int max = e->net.family == AF_INET ? 32 : 128;
        e->prefix = parse_prefix(slash + 1, max);
        if (e->prefix < 0)
            return bad_entry(err, s, n, max == 32
                                            ? "prefix length must be 0..32"
                                            : "prefix length must be 0..128");
        addr_ip masked = e->net;
        int bytes = max / 8;
        for (int bit = e->prefix; bit < max; bit++)
            masked.bytes[bit / 8] &= (uint8_t) ~(0x80u >> (bit % 8));
        if (memcmp(masked.bytes, e->net.bytes, (size_t)bytes))
            return bad_entry(err, s, n, "address has bits set beyond the "
                                        "prefix length");
        return STRANDS_OK;
    }
    if (buf[0] == '[') {
        if (n < 3 || buf[n - 1] != ']')
            return bad_entry(err, s, n, "unbalanced brackets");
        buf[n - 1] = '\0';
        if (parse_ip(buf + 1, &e->net) || e->net.family != AF_INET6)
            return bad_entry(err, s, n, "not an IPv6 address in brackets");
        e->prefix = 128;
        return STRANDS_OK;
    }
    if (!parse_ip(buf, &e->net)) {
        e->prefix = e->net.family == AF_INET ? 32 : 128;
        return STRANDS_OK;
    }
    memset(&e->net, 0, sizeof e->net);
    if (strchr(buf, ':'))
        return bad_entry(err, s, n, "not a valid IPv6 address");
    const char *why = host_problem(buf, n);
    if (why) return bad_entry(err, s, n, why);
    e->name = strdup(buf);
    if (!e->name)
        return strands_error_set(err, STRANDS_E_NOMEM, NULL,
                                 "out of memory parsing the allow list");
    return STRANDS_OK;
}

strands_status addr_policy_parse(const char *list, addr_policy **out,
                                 strands_error *err)
{
    if (!out)
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "addr_policy_parse: out is NULL");
    *out = NULL;
    const char *p = list ? list : "";
    size_t len = strlen(p);
    if (len > ADDR_POLICY_MAX_LIST)
        return strands_error_set(err, STRANDS_E_TOO_LARGE, NULL,
                                 "list longer than %d bytes",
                                 ADDR_POLICY_MAX_LIST);
    addr_policy *pol = calloc(1, sizeof *pol);
    if (!pol)
        return strands_error_set(err, STRANDS_E_NOMEM, NULL,
                                 "out of memory parsing the allow list");
    size_t cap = 0;
    while (*p) {
        const char *end = strchr(p, ',');
        if (!end) end = p + strlen(p);
        const char *a = p, *b = end;
        while (a < b && (*a == ' ' || *a == '\t')) a++;
        while (b > a && (b[-1] == ' ' || b[-1] == '\t')) b--;
        p = *end ? end + 1 : end;
        if (a == b) continue;
        if (pol->n == ADDR_POLICY_MAX_ENTRIES) {
            addr_policy_free(pol);
            return strands_error_set(err, STRANDS_E_TOO_LARGE, NULL,
                                     "more than %d entries",
                                     ADDR_POLICY_MAX_ENTRIES);
        }
        if (pol->n == cap) {
            size_t ncap = cap ? cap * 2 : 4;
            policy_entry *grown =
                realloc(pol->entries, ncap * sizeof *grown);
            if (!grown) {
                addr_policy_free(pol);
                return strands_error_set(err, STRANDS_E_NOMEM, NULL,
                                         "out of memory parsing the allow "
                                         "list");
            }
            pol->entries = grown;
            cap = ncap;
        }
        policy_entry *e = &pol->entries[pol->n];
        memset(e, 0, sizeof *e);
        strands_status st = parse_entry(a, (size_t)(b - a), e, err);
        if (st != STRANDS_OK) {
            addr_policy_free(pol);
            return st;
        }
        pol->n++;
    }
    *out = pol;
    return STRANDS_OK;
}

static int entry_contains(const policy_entry *e, const addr_ip *ip)
{
    return e->net.family && e->net.family == ip->family &&
           prefix_equal(e->net.bytes, ip->bytes, e->prefix);
}

int addr_policy_allows_ip(const addr_policy *p, const addr_ip *ip)
{
    if (!p || !ip) return 0;
    addr_ip v4 = {0};
    int mapped = ip->family == AF_INET6 && all_zero(ip->bytes, 10) &&
                 ip->bytes[10] == 0xff && ip->bytes[11] == 0xff;
    if (mapped) {
        v4.family = AF_INET;
        memcpy(v4.bytes, ip->bytes + 12, 4);
    }
    for (size_t i = 0; i < p->n; i++)
        if (entry_contains(&p->entries[i], ip) ||
            (mapped && entry_contains(&p->entries[i], &v4)))
            return 1;
    return 0;
}

int addr_policy_allows_host(const addr_policy *p, const char *host)
{
    if (!p || !host) return 0;
    for (size_t i = 0; i < p->n; i++)
        if (p->entries[i].name && !strcasecmp(p->entries[i].name, host))
            return 1;
    return 0;
}

int addr_policy_check(const addr_policy *p, const char *url_host,
                      const addr_ip *ip, char *msg, size_t msgsz)
{
    addr_verdict v = addr_classify(ip);
    if (v.cls == ADDR_PUBLIC || addr_policy_allows_host(p, url_host) ||
        addr_policy_allows_ip(p, ip))
        return 1;
    if (msg && msgsz) {
        char text[ADDR_TEXT_MAX], inner[ADDR_TEXT_MAX];
        addr_ip_format(ip, text, sizeof text);
        if (v.via) {
            addr_ip_format(&v.embedded, inner, sizeof inner);
            snprintf(msg, msgsz, "%s is %s (%s %s)", text,
                     addr_class_name(v.cls), v.via, inner);
        } else {
            snprintf(msg, msgsz, "%s is %s", text, addr_class_name(v.cls));
        }
    }
    return 0;
}
