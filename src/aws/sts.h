/* AWS STS client for credential providers: AssumeRole (SigV4-signed) and
 * AssumeRoleWithWebIdentity (unsigned) over awsQuery with standard retries,
 * plus the bounded XML extractor for the answers (untrusted bytes; fuzzed
 * by fuzz/fuzz_sts_xml.c). Error messages name STS, the action and the
 * role ARN, never a key or token. Callers own every buffer they pass.  */
#ifndef STRANDS_AWS_STS_H
#define STRANDS_AWS_STS_H

#include <stddef.h>

#include "aws/credentials/cred_env.h"
#include "core/buf.h"
#include "strands/aws.h"

#define STS_MAX_RESPONSE (256 * 1024)  /* cap on a response body */
#define STS_XML_MAX_DEPTH 32

/* One STS call. Strings are borrowed for the duration of the call. */
typedef struct sts_request {
    const char *role_arn;        /* required */
    const char *session_name;    /* required (RoleSessionName) */
    const char *external_id;     /* AssumeRole only; NULL: none */
    int duration_seconds;        /* 0: STS default (1 h) */
    /* AssumeRole: the credentials that sign the call. */
    const strands_credentials *source;
    /* AssumeRoleWithWebIdentity: the token (file contents). */
    const char *web_identity_token;
} sts_request;

/** Calls STS AssumeRole at aws_env_endpoint(env, "STS", "sts") signed
 * (service "sts", region env->region or us-east-1) with rq->source. Fills
 * *out with the temporary credentials and their expiration. Retries
 * transport failures, 5xx and throttling up to AWS_MAX_ATTEMPTS (default
 * 3) attempts. Errors: E_UPSTREAM with err->code = STS error code (e.g.
 * "AccessDenied") and err->http_status; E_PARSE for an unreadable 200
 * answer; E_NETWORK/E_TIMEOUT; E_INVALID for a bad endpoint override.    */
strands_status sts_assume_role(const aws_cred_env *env,
                               const sts_request *rq,
                               strands_credentials *out, strands_error *err);

/** Calls STS AssumeRoleWithWebIdentity, unsigned, with
 * rq->web_identity_token. Same results and errors as sts_assume_role.    */
strands_status sts_assume_role_with_web_identity(const aws_cred_env *env,
                                                 const sts_request *rq,
                                                 strands_credentials *out,
                                                 strands_error *err);

#define STS_TOKEN_FILE_MAX (64 * 1024)

/** Reads a web identity token file (read anew at every call: tokens
 * rotate) into a malloc'd string, trailing whitespace removed; the caller
 * wipes and frees it. E_IO naming the path when it cannot be read or is
 * empty, E_TOO_LARGE beyond STS_TOKEN_FILE_MAX, E_NOMEM.                 */
strands_status sts_read_token_file(const char *path, char **out,
                                   strands_error *err);

/* ---- building blocks, exposed for unit tests and the fuzzer ---------- */

/** Appends "&name=value" ("name=value" when b is empty) with name and value
 * percent-encoded (unreserved A-Z a-z 0-9 - . _ ~ kept, space as %20).  */
strands_status sts_form_add(dynbuf *b, const char *name,
                            const char *value);

/** The request body for action "AssumeRole" or
 * "AssumeRoleWithWebIdentity". b must be empty. E_INVALID when a required
 * field is missing, E_TOO_LARGE/E_NOMEM from the buffer.                */
strands_status sts_build_body(const char *action, const sts_request *rq,
                              dynbuf *b);

/* One element to extract: path of local names from the root, e.g.
 * "AssumeRoleResponse/AssumeRoleResult/Credentials/AccessKeyId". Text is
 * entity-decoded into out (outsz bytes incl. the NUL).                  */
typedef struct sts_xml_field {
    const char *path;
    char *out;
    size_t outsz;
    int found;   /* OUT: 1 when the element was present */
    int truncate; /* 1: keep the first outsz-1 bytes of a longer text
                     instead of failing (error messages only) */
} sts_xml_field;

/** Walks a well-formed XML document (elements, attributes, text, the
 * predefined and numeric character references, CDATA, comments,
 * processing instructions; DOCTYPE is refused, so no entity expansion)
 * and copies the text of the requested elements. Namespace prefixes are
 * ignored. E_PARSE ("<what>" without quoting the input) for malformed
 * XML, depth > STS_XML_MAX_DEPTH, a requested element that appears twice
 * or whose text does not fit its buffer (unless it may be truncated). Requested elements keep
 * found = 0 when absent.                                                */
strands_status sts_xml_extract(const char *xml, size_t len,
                               sts_xml_field *fields, size_t n_fields,
                               strands_error *err);

/** Turns one STS answer into credentials or an error: for status 200 the
 * <action>Response/<action>Result/Credentials fields (all four required;
 * Expiration ISO-8601), else ErrorResponse/Error/{Code,Message} ->
 * E_UPSTREAM (code "HttpError<status>" when the body has none). role_arn
 * is only used in messages.                                             */
strands_status sts_parse_response(const char *action, const char *role_arn,
                                  long status, const char *body, size_t len,
                                  strands_credentials *out,
                                  strands_error *err);

#endif
