/* Process-wide log level and sink; formatting of the message text. */
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <strings.h>

#include "strands/log.h"

static strands_log_sink_fn *sink_fn;
static void *sink_user;
static atomic_int min_level = STRANDS_LOG_INFO;

void strands_log_set_sink(strands_log_sink_fn *fn, void *user)
{
    sink_fn = fn;
    sink_user = user;
}

void strands_log_set_level(strands_log_level level)
{
    atomic_store(&min_level, (int)level);
}

strands_log_level strands_log_get_level(void)
{
    return (strands_log_level)atomic_load(&min_level);
}

int strands_log_level_parse(const char *s)
{
    if (!s) return -1;
    if (!strcasecmp(s, "debug")) return STRANDS_LOG_DEBUG;
    if (!strcasecmp(s, "info")) return STRANDS_LOG_INFO;
    if (!strcasecmp(s, "warn") || !strcasecmp(s, "warning"))
        return STRANDS_LOG_WARN;
    if (!strcasecmp(s, "error")) return STRANDS_LOG_ERROR;
    return -1;
}

const char *strands_log_level_name(strands_log_level level)
{
    switch (level) {
    case STRANDS_LOG_DEBUG: return "DEBUG";
    case STRANDS_LOG_INFO: return "INFO";
    case STRANDS_LOG_WARN: return "WARNING";
    case STRANDS_LOG_ERROR: return "ERROR";
    }
    return "INFO";
}

void strands_log(strands_log_level level, const char *logger,
                 const char *request_id, const char *session_id,
                 const json_t *fields, const char *fmt, ...)
{
    if ((int)level < atomic_load(&min_level) || !sink_fn) return;
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    strands_log_record rec = {level, logger, msg, request_id, session_id,
                              fields};
    sink_fn(sink_user, &rec);
}
