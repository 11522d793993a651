/* The JSON-lines log sink on stdout: timestamp, level, message, logger,
 * requestId, sessionId (the keys AgentCore's SDK uses) plus extra fields.
 * One write per line under a lock, so lines never interleave.           */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "strands/clock.h"
#include "strands/log.h"
#include "strands/server.h"

static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;

static void json_sink(void *user, const strands_log_record *rec)
{
    FILE *out = user;
    struct timeval tv;
    gettimeofday(&tv, NULL);
    char ts[40];
    strands_clock_iso8601((int64_t)tv.tv_sec, (int)(tv.tv_usec / 1000), ts,
                          sizeof ts);
    json_t *doc = json_object();
    if (!doc) return;
    json_object_set_new(doc, "timestamp", json_string(ts));
    json_object_set_new(doc, "level",
                        json_string(strands_log_level_name(rec->level)));
    json_object_set_new(doc, "message", json_string(rec->message));
    json_object_set_new(doc, "logger", json_string(rec->logger));
    if (rec->request_id)
        json_object_set_new(doc, "requestId", json_string(rec->request_id));
    if (rec->session_id)
        json_object_set_new(doc, "sessionId", json_string(rec->session_id));
    if (rec->fields) json_object_update_missing(doc, (json_t *)rec->fields);
    char *line = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    if (!line) return;
    pthread_mutex_lock(&out_lock);
    fputs(line, out);
    fputc('\n', out);
    fflush(out);
    pthread_mutex_unlock(&out_lock);
    free(line);
}

void strands_log_use_json_stdout(void)
{
    strands_log_set_sink(json_sink, stdout);
}
