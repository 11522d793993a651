/* libFuzzer target for the http_request address policy
 * (src/tools/builtin/addr_policy.c). Input: an allow list (text up to the
 * first newline), then a URL host (text up to the next newline), then
 * raw addresses, 17 bytes each (a family byte: even = IPv4 from the next
 * 4 bytes, odd = IPv6 from the next 16). Checks: the list parses, or
 * fails with E_INVALID "bad entry '...': ..." or E_TOO_LARGE; every
 * address gets a verdict; public and listed addresses are allowed; a
 * refusal says "<address> is <class>"; an IPv4-mapped address is judged
 * like its IPv4 address; an address's own text is a valid allow-list
 * entry that allows exactly it. Never crash, leak or read out of bounds. */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tools/builtin/addr_policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Copies the bytes up to the next '\n' (or the end) as a C string and
 * advances *p past it. */
static char *take_line(const uint8_t **p, const uint8_t *end)
{
    const uint8_t *nl = memchr(*p, '\n', (size_t)(end - *p));
    const uint8_t *stop = nl ? nl : end;
    size_t n = (size_t)(stop - *p);
    char *s = malloc(n + 1);
    if (!s) abort();
    memcpy(s, *p, n);
    s[n] = '\0';
    *p = nl ? nl + 1 : end;
    return s;
}

static void check_address(const addr_policy *pol, const char *host,
                          const addr_ip *ip)
{
    char msg[200], text[ADDR_TEXT_MAX];
    addr_verdict v = addr_classify(ip);
    int allowed = addr_policy_check(pol, host, ip, msg, sizeof msg);
    if (v.cls == ADDR_PUBLIC && !allowed) abort();
    if (addr_policy_allows_ip(pol, ip) && !allowed) abort();
    if (addr_policy_allows_host(pol, host) && !allowed) abort();
    if (!allowed && !strstr(msg, " is ")) abort();
    if (v.via && v.embedded.family != AF_INET) abort();

    /* ::ffff:a.b.c.d is judged like a.b.c.d */
    if (ip->family == AF_INET) {
        addr_ip mapped = {.family = AF_INET6};
        mapped.bytes[10] = mapped.bytes[11] = 0xff;
        memcpy(mapped.bytes + 12, ip->bytes, 4);
        if (addr_classify(&mapped).cls != v.cls) abort();
    }

    /* Its text is an entry that allows exactly it. */
    addr_ip_format(ip, text, sizeof text);
    addr_policy *one = NULL;
    strands_error err;
    if (addr_policy_parse(text, &one, &err) != STRANDS_OK) abort();
    if (addr_policy_count(one) != 1 || !addr_policy_allows_ip(one, ip))
        abort();
    if (!addr_policy_check(one, NULL, ip, NULL, 0)) abort();
    addr_policy_free(one);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *p = data, *end = data + size;
    char *list = take_line(&p, end);
    char *host = take_line(&p, end);
    addr_policy *pol = NULL;
    strands_error err;
    strands_status st = addr_policy_parse(list, &pol, &err);
    if (st == STRANDS_OK) {
        if (!pol) abort();
    } else if (pol ||
               !((st == STRANDS_E_INVALID &&
                  !strncmp(err.message, "bad entry '", 11)) ||
                 st == STRANDS_E_TOO_LARGE || st == STRANDS_E_NOMEM)) {
        abort();
    }
    for (int i = 0; i < 64 && end - p >= 17; i++, p += 17) {
        addr_ip ip = {.family = (p[0] & 1) ? AF_INET6 : AF_INET};
        memcpy(ip.bytes, p + 1, ip.family == AF_INET ? 4 : 16);
        check_address(pol, host, &ip);
    }
    addr_policy_free(pol);
    free(list);
    free(host);
    return 0;
}
