/* Private interface of the S3 session store, shared by its files:
 *   s3.c         the vtable (load, append) and the store object;
 *   s3_claim.c   claims as lease objects (session_<id>/.claim);
 *   s3_client.c  the object calls (GET, PUT with conditions, DELETE,
 *                ListObjectsV2) over the signed-call helper, with the AWS
 *                retry policy, and their errors;
 *   s3_xml.c     a bounded extractor for the few S3 XML elements we read
 *                (ListObjectsV2 pages, error documents): the fuzzed parser.
 * The JSON shapes of the Strands layout are file_layout.c's (shared with
 * the file store). Nothing here is public; tests and the fuzz target use
 * it directly.                                                          */
#ifndef STRANDS_SESSION_S3_PRIV_H
#define STRANDS_SESSION_S3_PRIV_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "aws/aws_call.h"
#include "aws/endpoint.h"
#include "aws/retry.h"
#include "net/http_client.h"
#include "strands/session.h"
#include "strands/session_s3.h"
#include "strands/status.h"

/* Longest key we build or accept from a listing (S3's limit). */
#define S3_KEY_MAX 1024
/* Longest prefix (leaves room for the session and agent parts). */
#define S3_PREFIX_MAX 512
/* Keys one ListObjectsV2 page may carry (S3 sends at most 1000). */
#define S3_LIST_PAGE_MAX 1000
/* Pages one listing may take (a bound on the loop: 1000 x 1000 keys). */
#define S3_LIST_PAGES_MAX 1000
/* Messages one session's log may hold (a bound on every loop over it). */
#define S3_MAX_MESSAGES 1000000
/* Longest continuation token we keep. */
#define S3_TOKEN_MAX 2048
/* agent.json, session.json and .claim larger than this are refused. */
#define S3_MAX_META_BYTES ((size_t)16 * 1024 * 1024)
/* Longest XML answer (a ListObjectsV2 page, an error) we read. */
#define S3_MAX_XML_BYTES ((size_t)8 * 1024 * 1024)

/* ---- s3_xml.c ----------------------------------------------------------- */

/* One ListObjectsV2 page as far as the store needs it. */
typedef struct s3_list_page {
    char **keys;   /* n_keys heap strings (entities decoded) */
    size_t *sizes; /* <Size> of each (0 when absent) */
    char **etags;  /* <ETag> of each (quotes kept), heap strings */
    size_t n_keys;
    int truncated;    /* <IsTruncated>true</IsTruncated> */
    char *next_token; /* <NextContinuationToken>, heap, or NULL */
} s3_list_page;

/** Parses a ListObjectsV2 answer (len bytes, need not be NUL-terminated):
 * every <Contents> element's <Key>, <Size> and <ETag>, <IsTruncated> and
 * <NextContinuationToken>; XML entities (&amp; &lt; &gt; &quot; &apos;
 * &#N; &#xN;) decoded. Bounded: at most S3_LIST_PAGE_MAX keys of at most
 * S3_KEY_MAX bytes, a token of at most S3_TOKEN_MAX, len at most
 * S3_MAX_XML_BYTES. Fills *out (free with session_s3_list_page_free). E_PARSE
 * on anything else (no ListBucketResult, an unterminated element, a bad
 * entity, a truncated page without a token), E_NOMEM.                  */
strands_status session_s3_xml_list_parse(const char *xml, size_t len,
                                         s3_list_page *out,
                                         strands_error *err);
/** Frees what a page holds and zeroes it (NULL ok). */
void session_s3_list_page_free(s3_list_page *p);

/** Reads <Code> and <Message> of an S3 error document into code (up to
 * codesz-1 bytes) and msg (msgsz-1 bytes, entities decoded, truncated);
 * either is "" when absent. Never fails; bounded by len.               */
void session_s3_xml_error(const char *xml, size_t len, char *code,
                          size_t codesz, char *msg, size_t msgsz);

/* ---- s3_client.c -------------------------------------------------------- */

/* Where and how to reach the bucket; fixed after creation. */
typedef struct s3_client {
    http_client *http;
    aws_endpoint endpoint; /* the host requests go to */
    int path_style;        /* 1: paths are /<bucket>/<key> */
    char bucket[64];
    char region[64];
    strands_credentials_provider *credentials; /* borrowed */
    aws_retry_policy retry;
    long connect_timeout_ms, read_timeout_ms;
    size_t max_object; /* cap on an object body we read */
} s3_client;

/* What one object request answered. */
typedef struct s3_object {
    char *body; /* GET: heap, NUL-terminated; else NULL */
    size_t len;
    char etag[132]; /* ETag (quotes kept), "" when none */
} s3_object;

/* Conditions of a PUT or DELETE. */
typedef enum s3_cond {
    S3_COND_NONE = 0,
    S3_COND_NEW,  /* If-None-Match: *  (the object must not exist) */
    S3_COND_MATCH /* If-Match: <etag>  (it must be that version)   */
} s3_cond;

/** Sets up c (endpoint from cfg or AWS's, addressing, retry policy, an
 * HTTP client). OK or E_INVALID/E_NOMEM. Free with session_s3_client_cleanup.
 */
strands_status session_s3_client_init(s3_client *c,
                                      const strands_s3_store_config *cfg,
                                      strands_error *err);
void session_s3_client_cleanup(s3_client *c);

/** GetObject. OK with *out filled (free with session_s3_object_clear);
 * E_NOT_FOUND when the key does not exist (404 NoSuchKey); else the store
 * errors (see s3_failure in s3_client.c). */
strands_status session_s3_get(s3_client *c, const char *key, s3_object *out,
                              strands_error *err);

/** PutObject of len bytes under cond (etag: for S3_COND_MATCH). OK with
 * out->etag set to the new ETag (out may be NULL); E_BUSY code
 * "PreconditionFailed" when the condition did not hold (412, 404 for
 * If-Match on a missing object, 409 ConditionalRequestConflict). A 412 after a
 * retried attempt whose answer was lost is recognised as our own write when
 * the object's ETag is the MD5 of body. */
strands_status session_s3_put(s3_client *c, const char *key, const char *body,
                              size_t len, s3_cond cond, const char *etag,
                              s3_object *out, strands_error *err);

/** DeleteObject (If-Match etag when etag is non-NULL). OK also when the
 * key did not exist; E_BUSY "PreconditionFailed" on 412.               */
strands_status session_s3_delete(s3_client *c, const char *key,
                                 const char *etag, strands_error *err);

/** ListObjectsV2 of every key under prefix, page after page (continuation
 * tokens), into one page *out (free with session_s3_list_page_free): keys in
 * S3's order. E_TOO_LARGE past S3_LIST_PAGES_MAX pages.                */
strands_status session_s3_list(s3_client *c, const char *prefix,
                               s3_list_page *out, strands_error *err);

/** Frees what an object holds and zeroes it. */
void session_s3_object_clear(s3_object *o);

/** The key of a path below the store root: "<prefix>/<rest>" or "<rest>"
 * into out (S3_KEY_MAX + 1 bytes). 0, or -1 when it does not fit.      */
int session_s3_key(char *out, size_t outsz, const char *prefix,
                   const char *rest);

/** Checks a bucket name (S3's rules for new buckets). OK or E_INVALID. */
strands_status session_s3_bucket_check(const char *bucket, strands_error *err);
/** Normalizes a prefix into out (S3_PREFIX_MAX + 1 bytes): leading and
 * trailing '/' stripped; E_INVALID for an empty, "." or ".." segment, a
 * control character or one over S3_PREFIX_MAX bytes.                    */
strands_status session_s3_prefix_normalize(const char *prefix, char *out,
                                           size_t outsz, strands_error *err);

/* ---- s3_claim.c --------------------------------------------------------- */

/** Claims session sid (key of its .claim object: claim_key): E_BUSY
 * "SessionBusy" while another live lease holds it.                      */
strands_status session_s3_claim_take(s3_client *c, const char *claim_key,
                                     const char *sid, int64_t lease_ms,
                                     strands_session_claim *out,
                                     strands_error *err);
/** OK while `claim` is the live lease of claim_key, else E_BUSY
 * "SessionClaimLost". *etag_out (>= 132 bytes, NULL ok) gets its ETag.  */
strands_status session_s3_claim_check(s3_client *c, const char *claim_key,
                                      const char *sid,
                                      const strands_session_claim *claim,
                                      char *etag_out, strands_error *err);
/** Extends a live claim by lease_ms (updates claim->expires_ms), else
 * E_BUSY "SessionClaimLost".                                            */
strands_status session_s3_claim_renew(s3_client *c, const char *claim_key,
                                      const char *sid, int64_t lease_ms,
                                      strands_session_claim *claim,
                                      strands_error *err);
/** Ends a live claim (the lease object is marked released), else E_BUSY
 * "SessionClaimLost".                                                   */
strands_status session_s3_claim_release(s3_client *c, const char *claim_key,
                                        const char *sid,
                                        const strands_session_claim *claim,
                                        strands_error *err);

#endif
