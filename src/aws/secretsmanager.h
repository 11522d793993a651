/* Secrets Manager GetSecretValue (awsJson1.1, SigV4 service
 * "secretsmanager"), with the shared retry policy.                      */
#ifndef STRANDS_AWS_SECRETSMANAGER_H
#define STRANDS_AWS_SECRETSMANAGER_H

#include "aws/endpoint.h"
#include "net/http_client.h"
#include "aws/retry.h"
#include "strands/aws.h"

/** Fetches the SecretString of secret_id (name or ARN), signed with creds.
 * *out is malloc'd (the caller wipes and frees it). AWS errors: E_UPSTREAM
 * with err->code (ResourceNotFoundException, AccessDeniedException, ...)
 * and a message naming the secret id, never its value; a secret without a
 * SecretString (binary) is E_INVALID.                                    */
strands_status aws_sm_get_secret_string(http_client *http,
                                        const aws_endpoint *endpoint,
                                        const char *region,
                                        const strands_credentials *creds,
                                        aws_retry_policy *retry,
                                        const char *secret_id, char **out,
                                        strands_error *err);

#endif
