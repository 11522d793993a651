/* Connections of the Redis store: a bounded pool of connections
 * (thread-safe), plain hiredis contexts or TLS (rediss://), each connected with a timeout, authenticated (AUTH) and
 * on its database (SELECT), with a timeout on every command; a context
 * that fails is dropped (and the idle ones with it, as they likely share
 * its fate), so the next command reconnects: the store recovers by
 * itself when Redis comes back. Scripts run by EVALSHA with an EVAL
 * fallback on NOSCRIPT. Every failure to reach Redis, or an error reply,
 * is E_UNAVAILABLE with err->code "SessionStoreUnavailable". SIGPIPE is
 * blocked on the calling thread while a command writes.                 */
#ifndef STRANDS_SESSION_REDIS_CONN_H
#define STRANDS_SESSION_REDIS_CONN_H

#include <stddef.h>

#include <hiredis/hiredis.h>

#include "session/redis.h"
#include "strands/status.h"

typedef struct redis_pool redis_pool;

/* A Lua script: its text and its SHA-1 (40 hex digits, computed once by
 * redis_script_init).                                                   */
typedef struct redis_script {
    const char *text;
    char sha[41];
} redis_script;

/* Command flags. */
#define REDIS_CMD_IDEMPOTENT 0x1u /* safe to send again on a fresh
                                     connection after an I/O error */

/** Computes s->sha from s->text. */
void redis_script_init(redis_script *s);

/** A pool for cfg's server (host, port, user, password, db, pool_size,
 * timeouts and, for rediss://, the TLS settings are copied; a TLS pool
 * loads its CA certificates now). NULL with E_INVALID (a CA file that
 * cannot be loaded) or E_NOMEM. Free with redis_pool_free.             */
redis_pool *redis_pool_new(const session_redis_config *cfg,
                           strands_error *err);

/** Closes every connection and frees the pool (NULL ok). No command may
 * be running.                                                            */
void redis_pool_free(redis_pool *p);

/** Runs script s: EVALSHA <sha> <nkeys> <args...> (args = keys then
 * arguments, borrowed), and EVAL with the text when the server does not
 * know the script (NOSCRIPT), on a pooled connection; *out gets the reply
 * (the caller frees it with freeReplyObject). An error reply is returned
 * as E_UNAVAILABLE "SessionStoreUnavailable", not in *out. Waits at most
 * the command timeout for a free connection; REDIS_CMD_IDEMPOTENT lets
 * a command the server closed the connection on be sent once more.    */
strands_status redis_pool_eval(redis_pool *p, const redis_script *s,
                               unsigned flags, int nkeys, int nargs,
                               const char **args, const size_t *lens,
                               redisReply **out, strands_error *err);

#endif
