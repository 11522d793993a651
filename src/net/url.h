/* The one URL parser (libcurl's CURLU, so what we check is what curl
 * connects to) and the one loopback rule. Only absolute http:// and
 * https:// URLs are accepted; the checks CURLU is lenient about are made
 * here: the scheme must be followed by "//" and a host; no spaces,
 * control characters or backslashes; no empty port or port 0; no IPv6
 * zone id; no fragment; numeric IPv4 hosts only in dotted-decimal form
 * (CURLU would turn 0177.1 or 2130706433 into 127.0.0.1, a classic way to
 * slip past allow-lists); user information ("user:pw@") rejected unless
 * the caller allows it. Error messages name the setting (`what`) and
 * never quote the URL (it may carry credentials or credential ids).     */
#ifndef STRANDS_NET_URL_H
#define STRANDS_NET_URL_H

#include "strands/status.h"

#define NET_URL_HTTP_LOOPBACK_ONLY 0x1u /* plain http only to loopback */
#define NET_URL_NO_QUERY 0x2u           /* reject a query string */
#define NET_URL_NO_PATH 0x4u            /* path must be empty or "/" */
#define NET_URL_ALLOW_USERINFO 0x8u     /* accept "user[:pw]@" */

/* A parsed URL; strings are owned (free with net_url_cleanup). */
typedef struct net_url {
    int https;          /* 1: https, 0: http */
    int port;           /* explicit port, else 443 / 80 */
    int port_explicit;  /* the URL named a port */
    char *host;         /* as curl will use it; IPv6 in brackets */
    char *path;         /* "/" when the URL has none; %-escapes kept */
    char *query;        /* without '?'; NULL when none */
    char *origin;       /* scheme://host[:port] (port when explicit) */
    char *authority;    /* Host header form: host, plus :port when it is
                           not the scheme's default */
} net_url;

/** Parses url (NUL-terminated) with the rules above and `flags`. Returns
 * OK and fills *out, or E_INVALID with a message starting with `what`
 * (e.g. "AWS_CONTAINER_CREDENTIALS_FULL_URI: has a bad port (digits,
 * 1..65535)"), or E_NOMEM. *out needs net_url_cleanup only after OK.  */
strands_status net_url_parse(const char *url, unsigned flags,
                             const char *what, net_url *out,
                             strands_error *err);
/** Frees the strings of u (safe on a zeroed struct). */
void net_url_cleanup(net_url *u);

/** The loopback rule, for a host as net_url gives it: "localhost" (any
 * case; not "localhost." which goes to DNS), IPv4 127.0.0.0/8 in
 * dotted-decimal, or [::1] in any spelling. 1 when loopback.          */
int net_url_host_is_loopback(const char *host);

#endif
