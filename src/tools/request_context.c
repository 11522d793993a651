/* The caller's request context as tools see it: lookup by header name,
 * and the one-block deep copy the agent gives each tool call (a call may
 * outlive its invocation, so it never borrows the server's copy).      */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "tools/registry.h"

const char *strands_request_header_get(const strands_request_context *rc,
                                       const char *name)
{
    if (!rc || !name) return NULL;
    for (size_t i = 0; i < rc->n_headers; i++)
        if (rc->headers[i].name && !strcasecmp(rc->headers[i].name, name))
            return rc->headers[i].value;
    return NULL;
}

strands_request_context *tools_request_context_dup(
    const strands_request_context *rc)
{
    if (!rc) return NULL;
    size_t n = rc->n_headers, bytes = sizeof(strands_request_context) +
                                      n * sizeof(strands_request_header);
    for (size_t i = 0; i < n; i++)
        bytes += strlen(rc->headers[i].name) + 1 +
                 strlen(rc->headers[i].value) + 1;
    char *block = malloc(bytes);
    if (!block) return NULL;
    strands_request_context *out = (strands_request_context *)(void *)block;
    strands_request_header *h =
        (strands_request_header *)(void *)(block + sizeof *out);
    char *p = (char *)(h + n);
    for (size_t i = 0; i < n; i++) {
        size_t a = strlen(rc->headers[i].name) + 1,
               b = strlen(rc->headers[i].value) + 1;
        memcpy(p, rc->headers[i].name, a);
        h[i].name = p;
        p += a;
        memcpy(p, rc->headers[i].value, b);
        h[i].value = p;
        p += b;
    }
    out->headers = h;
    out->n_headers = n;
    return out;
}

void tools_request_context_free(strands_request_context *rc)
{
    if (!rc) return;
    /* The values are secrets: wipe them before the block goes back. */
    size_t bytes = sizeof *rc + rc->n_headers * sizeof(strands_request_header);
    for (size_t i = 0; i < rc->n_headers; i++)
        bytes += strlen(rc->headers[i].name) + 1 +
                 strlen(rc->headers[i].value) + 1;
    volatile unsigned char *v = (volatile unsigned char *)rc;
    for (size_t i = 0; i < bytes; i++) v[i] = 0;
    free(rc);
}
