/* Redis over TLS (rediss://) without hiredis's socket layer (Debian 12's
 * hiredis 0.14 has no hiredis_ssl): a TCP connection made non-blocking
 * and driven with poll() against deadlines, wrapped in an OpenSSL session
 * (certificate and host name verified unless told otherwise, SNI sent
 * for names); commands are formatted by hiredis (redisFormatCommandArgv)
 * and written with SSL_write; replies are parsed by a hiredis redisReader
 * fed from SSL_read, one reply at most `max_reply` bytes.             */
#ifndef STRANDS_SESSION_REDIS_TLS_H
#define STRANDS_SESSION_REDIS_TLS_H

#include <stddef.h>

#include <hiredis/hiredis.h>
#include <openssl/ssl.h>

#include "strands/status.h"

/* Default bound of one reply (a load returns the whole history): added
 * to the store's history cap.                                          */
#define REDIS_TLS_REPLY_SLACK ((size_t)64 << 20)

/* Why a TLS command failed (redis_tls_command). */
typedef enum redis_tls_fail {
    REDIS_TLS_OK = 0,
    REDIS_TLS_CLOSED,   /* the server closed or reset the connection */
    REDIS_TLS_TIMEOUT,  /* no progress before the command deadline */
    REDIS_TLS_IO,       /* any other I/O, TLS or protocol error */
    REDIS_TLS_TOO_BIG,  /* a reply above max_reply bytes */
    REDIS_TLS_NOMEM
} redis_tls_fail;

typedef struct redis_tls_conn redis_tls_conn;

/** An SSL_CTX for client connections: TLS 1.2 or later; peers verified
 * against ca_file (a PEM bundle) when not NULL, else the system store
 * (SSL_CTX_set_default_verify_paths); no verification at all when
 * insecure (testing only). NULL with E_INVALID (a CA file that cannot be
 * loaded, named by REDIS_TLS_CA_FILE in the message) or E_NOMEM. Free
 * with SSL_CTX_free.                                                    */
SSL_CTX *redis_tls_ctx_new(const char *ca_file, int insecure,
                           strands_error *err);

/** Connects to host:port (every address getaddrinfo gives, in order)
 * within connect_timeout_ms, including the TLS handshake, which checks
 * the certificate names `host` (a DNS name, or an IP address checked
 * against the certificate's IP entries) unless ctx is insecure. Later
 * commands wait at most command_timeout_ms each; a reply above max_reply
 * bytes fails. *out is the connection (free with redis_tls_free); on
 * failure *out is NULL and `detail` (size n) says why: a verification
 * failure starts with "TLS certificate verification failed". Returns
 * OK, E_UNAVAILABLE or E_NOMEM (no strands_error: the caller words it). */
strands_status redis_tls_connect(SSL_CTX *ctx, const char *host, int port,
                                 int connect_timeout_ms,
                                 int command_timeout_ms, size_t max_reply,
                                 redis_tls_conn **out, char *detail,
                                 size_t n);

/** Sends one command (argv/lens borrowed) and waits for its reply, which
 * *out gets (free with freeReplyObject; an error reply is a reply).
 * REDIS_TLS_OK, or the failure with `detail` set; after a failure the
 * connection is unusable (redis_tls_broken says 1). The caller blocks
 * SIGPIPE around it.                                                    */
redis_tls_fail redis_tls_command(redis_tls_conn *c, int argc,
                                 const char **argv, const size_t *lens,
                                 redisReply **out, char *detail, size_t n);

/** 1 once a command failed on c. */
int redis_tls_broken(const redis_tls_conn *c);

/** Closes (close_notify, best effort, without waiting) and frees c;
 * NULL ok.                                                              */
void redis_tls_free(redis_tls_conn *c);

#endif
