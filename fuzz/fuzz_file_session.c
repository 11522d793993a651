/* libFuzzer target for the file session store's parsers
 * (src/session/file_layout.c, file_snapshot.c): the input is the text of
 * a file found in a store directory, given to each parser in turn:
 *   - as message_0.json: on success the message is written back as a
 *     record and parsed again, and must come back equal (bytes encoding
 *     round-trips);
 *   - as agent.json: on success the agent.json we would write for it
 *     parses back with its committed count;
 *   - as snapshot_latest.json.
 * Errors must be E_PARSE/E_NOMEM with a NUL-terminated message. Never
 * crash, leak or loop.                                                  */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "session/file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_err(strands_status st, const strands_error *err)
{
    if (st != STRANDS_E_PARSE && st != STRANDS_E_NOMEM) abort();
    if (strnlen(err->message, sizeof err->message) >= sizeof err->message)
        abort();
}

static void message(const char *text, size_t size)
{
    json_t *msg = NULL;
    strands_error err;
    strands_status st = fstore_message_parse(text, size, 0, "message_0.json",
                                             &msg, &err);
    if (st != STRANDS_OK) {
        if (msg) abort();
        check_err(st, &err);
        return;
    }
    size_t len;
    char *rec = fstore_message_record(msg, 0, "2026-05-15T10:00:00.000000"
                                      "+00:00", &len);
    if (rec) {
        json_t *again = NULL;
        if (fstore_message_parse(rec, len, 0, "again", &again, &err) !=
                STRANDS_OK || !json_equal(msg, again))
            abort();
        json_decref(again);
        free(rec);
    }
    json_decref(msg);
}

static void agent(const char *text, size_t size)
{
    json_t *a = NULL, *created = NULL;
    long long committed;
    strands_error err;
    strands_status st = fstore_agent_parse(text, size, "agent.json", &a,
                                           &created, &committed, &err);
    if (st != STRANDS_OK) {
        check_err(st, &err);
        return;
    }
    if (committed < -1 || committed > FILE_MAX_MESSAGES) abort();
    json_t *doc = fstore_agent_doc(a, "default", json_string_value(created),
                                   "now", 5);
    size_t len;
    char *out = doc ? fstore_json_text(doc, &len) : NULL;
    if (out) {
        json_t *a2 = NULL, *c2 = NULL;
        if (fstore_agent_parse(out, len, "again", &a2, &c2, &committed,
                               &err) != STRANDS_OK || committed != 5)
            abort();
        json_decref(a2);
        json_decref(c2);
        free(out);
    }
    json_decref(doc);
    (void)fstore_removed_count(a, 10);
    json_decref(a);
    json_decref(created);
}

static void snapshot(const char *text, size_t size)
{
    json_t *doc = json_loadb(text, size, 0, NULL);
    if (!doc) return;
    json_t *msgs = NULL, *a = NULL;
    strands_error err;
    strands_status st = fstore_snapshot_convert(doc, "snapshot", &msgs, &a,
                                                &err);
    if (st == STRANDS_OK) {
        if (!json_is_array(msgs) || !json_is_object(a)) abort();
        if (fstore_removed_count(a, SIZE_MAX) != 0) abort();
    } else {
        check_err(st, &err);
    }
    json_decref(msgs);
    json_decref(a);
    json_decref(doc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 65536) return 0;
    const char *text = (const char *)data;
    message(text, size);
    agent(text, size);
    snapshot(text, size);
    return 0;
}
