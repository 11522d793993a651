/* The S3 session store (SESSION_STORE=s3://bucket[/prefix]): sessions as
 * objects in the layout of Strands Python's S3SessionManager
 * (<prefix>/session_<id>/session.json, .../agents/agent_<aid>/agent.json,
 * .../messages/message_<N>.json), so a session moves between Strands
 * Python and this runtime both ways. Every write is conditional
 * (If-None-Match: * for new objects, If-Match: <ETag> for agent.json), so
 * a concurrent writer is detected and never overwritten; claims are lease
 * objects (session_<id>/.claim). docs/internals/session.md has the whole
 * contract (commit point, orphans, leases, addressing).                 */
#ifndef STRANDS_SESSION_S3_H
#define STRANDS_SESSION_S3_H

#include <stddef.h>
#include <stdint.h>

#include "strands/aws.h"
#include "strands/session.h"
#include "strands/status.h"

/* Settings of an S3 store; pointers borrowed for the call (the
 * credentials provider for the life of the store).                      */
typedef struct strands_s3_store_config {
    const char *bucket;       /* S3 bucket name (3..63 of a-z 0-9 . -) */
    const char *prefix;       /* key prefix, NULL/"" = none; leading and
                                 trailing '/' are stripped (as Strands
                                 does); no empty, "." or ".." segment */
    const char *region;       /* signing region (NULL: us-east-1) */
    const char *endpoint;     /* NULL: AWS (https, virtual-hosted
                                 <bucket>.s3.<region>.amazonaws.com, or
                                 path-style when the bucket has a '.');
                                 else a custom endpoint, addressed
                                 path-style (<endpoint>/<bucket>/<key>) */
    strands_credentials_provider *credentials; /* signs every request;
                                 borrowed, must outlive the store */
    size_t max_history_bytes; /* cap on what load returns (message objects
                                 + agent.json); 0 = the default, 16 MiB */
    int64_t lease_ms;         /* claim lease (> 0; 0 = 30000). Expiry is
                                 wall-clock time shared by every instance:
                                 their clocks must agree well within it */
    int max_attempts;         /* attempts per S3 request (1..20; 0 = 3) */
    const char *retry_mode;   /* "standard" (NULL), "legacy", "adaptive" */
    long connect_timeout_ms;  /* 0 = 3000 */
    long read_timeout_ms;     /* longest silence in an answer; 0 = 10000 */
} strands_s3_store_config;

/** Creates an S3 store (free with strands_session_store_free), or NULL
 * with err: E_INVALID for a bad bucket, prefix, endpoint or setting,
 * E_NOMEM. Makes no request (a missing bucket shows on first use). The
 * store is thread-safe; any number of processes may share a bucket.    */
STRANDS_EXTERN strands_session_store *strands_s3_store_new(
    const strands_s3_store_config *cfg, strands_error *err);

/** Parses the part of SESSION_STORE after "s3:" ("//bucket[/prefix]")
 * into bucket_out (>= 64 bytes) and prefix_out (>= 1025 bytes, "" for
 * none). OK, or E_INVALID with a message naming SESSION_STORE.          */
STRANDS_EXTERN strands_status strands_s3_store_parse_url(
    const char *arg, char *bucket_out, size_t bucket_size, char *prefix_out,
    size_t prefix_size, strands_error *err);

#endif
