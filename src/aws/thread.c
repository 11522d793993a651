/* Per-thread clean-up for threads that made AWS calls (OpenSSL keeps
 * thread-local state for hashing, HMAC and random numbers). */
#include <openssl/crypto.h>

#include "strands/aws.h"

void strands_aws_thread_done(void)
{
    OPENSSL_thread_stop();
}
