/* The Redis session store ("redis://" SESSION_STORE): its configuration,
 * the SESSION_STORE URL parser that fills it, and the constructor. The
 * store keeps each session under one documented key layout (see
 * docs/internals/session.md, "Redis store"):
 *   <prefix>:{<session>}:lock                 the claim (SET NX PX)
 *   <prefix>:{<session>}:<agent>:log          LIST of compact JSON messages
 *   <prefix>:{<session>}:<agent>:agent        STRING, the agent object
 *   <prefix>:{<session>}:<agent>:meta         HASH: bytes (in the log),
 *                                             turn (last append's id)
 * where <session> has '%' and '}' %-escaped, so the braces form a Redis
 * Cluster hash tag that places every key of a session in one slot (the
 * store itself talks to one server: Cluster and Sentinel are out of
 * scope). A turn is appended by one Lua script (atomic on the server).  */
#ifndef STRANDS_SESSION_REDIS_H
#define STRANDS_SESSION_REDIS_H

#include <stddef.h>
#include <stdint.h>

#include "strands/session.h"
#include "strands/status.h"

/* Defaults of the store's settings rows (session/redis_provider.c). */
#define SESSION_REDIS_DEFAULT_PORT 6379
#define SESSION_REDIS_DEFAULT_TTL_S ((int64_t)7 * 24 * 3600)
#define SESSION_REDIS_DEFAULT_LEASE_MS ((int64_t)30000)
#define SESSION_REDIS_MAX_POOL 256
#define SESSION_REDIS_PREFIX_MAX 64
/* Messages one append may carry (each is one argument of the script). */
#define SESSION_REDIS_MAX_TURN_MESSAGES 50000

/* Everything the store needs. Strings are owned by whoever filled the
 * struct (session_redis_url_parse + session_redis_config_cleanup); the
 * store makes its own copies.                                          */
typedef struct session_redis_config {
    char *host;             /* name or address; IPv6 without brackets */
    int port;               /* 1..65535 */
    char *user;             /* ACL user name (AUTH user pass); NULL: none */
    char *password;         /* NULL: no AUTH. A secret: never logged */
    int db;                 /* SELECT index, 0 = none sent */
    int tls;                /* rediss://: TLS (session/redis_tls.h) */
    const char *tls_ca_file; /* borrowed; PEM CAs to trust instead of the
                                system's; NULL: the system store */
    int tls_insecure;       /* 1: no certificate check (testing only) */
    const char *key_prefix; /* borrowed; NULL: "strands:session" */
    int64_t ttl_s;          /* idle TTL of a session's keys; 0 = none */
    int64_t lease_ms;       /* claim lease (> 0) */
    int64_t lock_wait_ms;   /* a claim waits this long for a busy lock */
    size_t pool_size;       /* connections at most, 1..SESSION_REDIS_MAX_POOL */
    int connect_timeout_ms; /* TCP connect (and AUTH/SELECT) */
    int command_timeout_ms; /* each command's send and reply */
    size_t max_history_bytes; /* log + agent cap; 0: the default */
} session_redis_config;

/** Parses a SESSION_STORE value "redis://[user[:password]@]host[:port]
 * [/db]" (or "rediss://...") with libcurl's URL parser (net/url.h rules:
 * no query, fragment or zone id; %-escapes in user and password
 * decoded) and fills host, port, user, password, db and tls of *cfg
 * (other fields untouched). E_INVALID with a message that starts with
 * "SESSION_STORE:" and never quotes the URL or the password; E_NOMEM.
 * On error the fields it owns are left NULL.                            */
strands_status session_redis_url_parse(const char *spec,
                                       session_redis_config *cfg,
                                       strands_error *err);

/** Frees the strings session_redis_url_parse filled (the password is
 * wiped first) and NULLs them. Safe on a zeroed struct.                */
void session_redis_config_cleanup(session_redis_config *cfg);

/** Checks a key prefix: 1..SESSION_REDIS_PREFIX_MAX printable ASCII
 * characters without '{', '}' or spaces. OK or E_INVALID (message
 * without the variable name).                                          */
strands_status session_redis_prefix_check(const char *prefix,
                                          strands_error *err);

/** Creates the store (copies what it needs from cfg; nothing connects
 * yet: the first call does, and every later call reconnects as needed).
 * Thread-safe. NULL with E_INVALID for a bad config (or a TLS CA file
 * that cannot be loaded) or E_NOMEM. Free with strands_session_store_free. */
strands_session_store *session_redis_store_new(const session_redis_config *cfg,
                                               strands_error *err);

#endif
