/* The address policy of the http_request built-in (SSRF protection): which
 * IP addresses a request may connect to. An address is classified from its
 * bytes (loopback, private, link-local, cloud metadata, multicast, ...; an
 * IPv6 address that embeds an IPv4 one, IPv4-mapped ::ffff:0:0/96,
 * IPv4-compatible ::/96, NAT64 64:ff9b::/96 or 6to4 2002::/16, is judged
 * by the IPv4 address it embeds), never from text, so every literal
 * spelling (2130706433, 0x7f000001, 0177.0.0.1, 127.1) is judged by the
 * address the resolver made of it. An allow list (HTTP_REQUEST_ALLOW: a
 * comma list of IPs, CIDRs and host names) lets chosen refused addresses
 * through. Pure functions over caller data; reentrant, thread-safe.      */
#ifndef TOOLS_BUILTIN_ADDR_POLICY_H
#define TOOLS_BUILTIN_ADDR_POLICY_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "strands/status.h"

#define ADDR_POLICY_MAX_ENTRIES 256  /* entries in one allow list */
#define ADDR_POLICY_MAX_LIST 65536   /* bytes of one allow list */
#define ADDR_POLICY_MAX_HOST 253     /* bytes of one host name entry */
#define ADDR_TEXT_MAX 64             /* room for any formatted address */

/* An IP address: family AF_INET (bytes[0..4)) or AF_INET6 (bytes[0..16)),
 * network byte order.                                                    */
typedef struct addr_ip {
    int family;
    uint8_t bytes[16];
} addr_ip;

/* Why an address is refused; ADDR_PUBLIC: it is not. */
typedef enum addr_class {
    ADDR_PUBLIC = 0,
    ADDR_UNSPECIFIED, /* 0.0.0.0/8 ("this network"), :: */
    ADDR_LOOPBACK,    /* 127.0.0.0/8, ::1 */
    ADDR_LINK_LOCAL,  /* 169.254.0.0/16, fe80::/10 */
    ADDR_METADATA,    /* 169.254.169.254, 169.254.170.2, 100.100.100.200,
                         fd00:ec2::254 */
    ADDR_PRIVATE,     /* 10/8, 172.16/12, 192.168/16, fc00::/7, fec0::/10,
                         64:ff9b:1::/48 */
    ADDR_CGNAT,       /* 100.64.0.0/10 */
    ADDR_MULTICAST,   /* 224.0.0.0/4, ff00::/8 */
    ADDR_BROADCAST,   /* 255.255.255.255 */
    ADDR_RESERVED     /* 240/4, 192.0.0/24, 198.18/15, documentation
                         ranges, 100::/64, 2001:db8::/32, Teredo
                         2001::/32, IPv4-compatible ::a.b.c.d */
} addr_class;

/* The verdict on one address: its class and, for an IPv6 address judged
 * by an IPv4 address it embeds, how it embeds it.                       */
typedef struct addr_verdict {
    addr_class cls;
    const char *via;  /* "IPv4-mapped", "IPv4-compatible", "NAT64",
                         "6to4", or NULL (static strings) */
    addr_ip embedded; /* the embedded IPv4 address when via != NULL */
} addr_verdict;

/* A parsed allow list (opaque; free with addr_policy_free). */
typedef struct addr_policy addr_policy;

/** Reads the address of a socket address (AF_INET or AF_INET6 of at
 * least the family's size; len is the length curl or the kernel gave).
 * Returns 0, or -1 for any other family or a short length.             */
int addr_ip_from_sockaddr(const struct sockaddr *sa, size_t len,
                          addr_ip *out);

/** Classifies ip (see addr_class). Total: any bytes give a verdict. */
addr_verdict addr_classify(const addr_ip *ip);

/** Static name of a class: "public", "loopback", "link-local", "cloud
 * metadata", "private", "carrier-grade NAT (100.64.0.0/10)",
 * "multicast", "unspecified", "broadcast", "reserved".                 */
const char *addr_class_name(addr_class cls);

/** Writes ip as inet_ntop text ("127.0.0.1", "::ffff:127.0.0.1") into out
 * (at least ADDR_TEXT_MAX bytes; cut to fit, always NUL-terminated).    */
void addr_ip_format(const addr_ip *ip, char *out, size_t outsz);

/** Parses an allow list: comma-separated entries, spaces around them and
 * empty items ignored; list NULL or blank gives an empty policy. Entries:
 * an IPv4 address in dotted-decimal ("10.1.2.3"), an IPv6 address
 * (optionally in brackets, no zone id), a CIDR of either ("10.0.0.0/8",
 * "fd00::/8"; no host bits may be set beyond the prefix), or a host name
 * (labels of [A-Za-z0-9_-], 1..63 bytes each, at most 253 bytes, no
 * trailing dot; a name whose last label is numeric, such as "127.1" or
 * "0x7f000001", is an address in a form we do not accept, not a name).
 * On success *out is a new policy (caller frees with addr_policy_free).
 * E_INVALID naming the bad entry and why ("bad entry '10.0.0.1/8': host
 * bits set beyond /8"), E_TOO_LARGE over the caps above, E_NOMEM.     */
strands_status addr_policy_parse(const char *list, addr_policy **out,
                                 strands_error *err);

/** Frees a policy (NULL is a no-op). */
void addr_policy_free(addr_policy *p);

/** Number of entries in p (0 for NULL). */
size_t addr_policy_count(const addr_policy *p);

/** 1 when an IP or CIDR entry of p contains ip; an IPv4-mapped IPv6
 * address (::ffff:a.b.c.d) also matches the IPv4 entries. NULL p: 0.   */
int addr_policy_allows_ip(const addr_policy *p, const addr_ip *ip);

/** 1 when host (a URL host as curl parsed it) equals a host name entry of
 * p, ignoring ASCII case. NULL p or host: 0.                           */
int addr_policy_allows_host(const addr_policy *p, const char *host);

/** The decision for one connection to ip, made for a URL whose host is
 * url_host (may be NULL): allowed when ip is public, when url_host is a
 * listed host name, or when ip is listed. Returns 1 when allowed; else 0
 * and, when msg is not NULL, writes why into msg (cut to fit), e.g.
 * "::ffff:127.0.0.1 is loopback (IPv4-mapped 127.0.0.1)".             */
int addr_policy_check(const addr_policy *p, const char *url_host,
                      const addr_ip *ip, char *msg, size_t msgsz);

#endif
