/* Logging API: library code hands structured records to one process-wide
 * sink (the server installs a JSON-lines sink on stdout). Without a sink
 * records are dropped. Record strings are borrowed during the call.      */
#ifndef STRANDS_LOG_H
#define STRANDS_LOG_H

#include <jansson.h>
#include "strands/common.h"

typedef enum strands_log_level {
    STRANDS_LOG_DEBUG = 0,
    STRANDS_LOG_INFO = 1,
    STRANDS_LOG_WARN = 2,
    STRANDS_LOG_ERROR = 3
} strands_log_level;

typedef struct strands_log_record {
    strands_log_level level;
    const char *logger;      /* e.g. "strands.server" */
    const char *message;
    const char *request_id;  /* may be NULL */
    const char *session_id;  /* may be NULL */
    const json_t *fields;    /* extra key/values (object) or NULL */
} strands_log_record;

typedef void strands_log_sink_fn(void *user, const strands_log_record *rec);

/** Installs the sink (NULL: drop records). Call before threads start. */
STRANDS_EXTERN void strands_log_set_sink(strands_log_sink_fn *fn, void *user);
/** Records below `level` are dropped before formatting. */
STRANDS_EXTERN void strands_log_set_level(strands_log_level level);
/** Current minimum level. */
STRANDS_EXTERN strands_log_level strands_log_get_level(void);
/** Parses "debug|info|warn|warning|error" (any case); -1 when unknown. */
STRANDS_EXTERN int strands_log_level_parse(const char *s);
/** Static upper-case name, "INFO". */
STRANDS_EXTERN const char *strands_log_level_name(strands_log_level level);
/** Emits a record. `fields` (borrowed, may be NULL) adds keys. */
STRANDS_EXTERN void strands_log(strands_log_level level, const char *logger,
                                const char *request_id, const char *session_id,
                                const json_t *fields, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

#endif
