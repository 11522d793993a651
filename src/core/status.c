/* Status table lookups and strands_error helpers (the X-macro expansions). */
#include <stdio.h>
#include <string.h>

#include "strands/status.h"

const char *strands_status_name(strands_status s)
{
    switch (s) {
#define X(name, num, http, desc) case STRANDS_##name: return #name;
        STRANDS_STATUS_MAP(X)
#undef X
    }
    return "E_UNKNOWN";
}

const char *strands_strerror(strands_status s)
{
    switch (s) {
#define X(name, num, http, desc) case STRANDS_##name: return desc;
        STRANDS_STATUS_MAP(X)
#undef X
    }
    return "unknown status";
}

int strands_status_http(strands_status s)
{
    switch (s) {
#define X(name, num, http, desc) case STRANDS_##name: return http;
        STRANDS_STATUS_MAP(X)
#undef X
    }
    return 500;
}

void strands_error_clear(strands_error *err)
{
    if (!err) return;
    err->status = STRANDS_OK;
    err->http_status = 0;
    err->code[0] = '\0';
    err->message[0] = '\0';
}

strands_status strands_error_set(strands_error *err, strands_status status,
                                 const char *code, const char *fmt, ...)
{
    if (!err) return status;
    err->status = status;
    snprintf(err->code, sizeof err->code, "%s",
             code ? code : strands_status_name(status));
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    return status;
}
