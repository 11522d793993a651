/* AWS event-stream (application/vnd.amazon.eventstream) framing: an
 * incremental, bounded decoder that turns a byte stream into messages
 * (prelude + headers + payload, both CRC-32s checked) and an encoder that
 * builds one message. Pure protocol code: no I/O, no logging. See
 * docs/internals/eventstream.md.                                         */
#ifndef STRANDS_AWS_EVENTSTREAM_H
#define STRANDS_AWS_EVENTSTREAM_H

#include <stddef.h>
#include <stdint.h>

#include "strands/status.h"

/* Wire limits (aws-sdk-go, smithy). A message is at most
 * ES_PRELUDE_LEN + ES_MAX_HEADERS_LEN + ES_MAX_PAYLOAD_LEN + 4 bytes.    */
#define ES_PRELUDE_LEN 12u                   /* total, headers len, CRC */
#define ES_MIN_MESSAGE_LEN 16u               /* prelude + message CRC */
#define ES_MAX_PAYLOAD_LEN (16u * 1024 * 1024)
#define ES_MAX_HEADERS_LEN (128u * 1024)
#define ES_MAX_HEADER_VALUE_LEN 32767u       /* types 6 (bytes), 7 (string) */
#define ES_MAX_HEADER_NAME_LEN 255u
#define ES_UUID_LEN 16u

/* Header value types; the numbers are the wire type byte. */
typedef enum es_header_type {
    ES_BOOL_TRUE = 0,
    ES_BOOL_FALSE = 1,
    ES_BYTE = 2,       /* int8 in i */
    ES_INT16 = 3,      /* in i */
    ES_INT32 = 4,      /* in i */
    ES_INT64 = 5,      /* in i */
    ES_BYTES = 6,      /* bytes/len, len <= 32767 */
    ES_STRING = 7,     /* bytes/len, UTF-8 (not validated), len <= 32767 */
    ES_TIMESTAMP = 8,  /* i = milliseconds since the Unix epoch */
    ES_UUID = 9        /* bytes/len, len == 16 */
} es_header_type;

/* One header. Decoded headers point into the message buffer and are valid
 * only while the message is (during the on_message callback); name and
 * bytes are NOT NUL-terminated. For the bool types i is 1 (true) or 0
 * (false); for the integer types and ES_TIMESTAMP, i holds the value; for
 * ES_BYTES, ES_STRING and ES_UUID, bytes/len hold it (i is 0). The encoder
 * reads only the fields the type uses.                                    */
typedef struct es_header {
    const char *name;
    size_t name_len;        /* 1..255 */
    es_header_type type;
    int64_t i;
    const uint8_t *bytes;
    size_t len;
} es_header;

/* One decoded message; every pointer refers to decoder-owned memory that
 * is valid only during the on_message callback. Both CRCs have been
 * verified. payload is NULL when payload_len is 0.                       */
typedef struct es_message {
    es_header *headers;     /* n_headers entries in wire order */
    size_t n_headers;
    const uint8_t *payload;
    size_t payload_len;
    uint32_t total_length, headers_length, prelude_crc, message_crc;
} es_message;

/** First header called `name` (any type; NUL-terminated name compared
 * bytewise with name/name_len), or NULL when absent or m is NULL.        */
const es_header *es_message_header(const es_message *m, const char *name);

/** True when h is non-NULL, an ES_STRING header, and its value equals the
 * NUL-terminated s exactly. Typical use:
 *   es_header_str_eq(es_message_header(m, ":message-type"), "event")     */
int es_header_str_eq(const es_header *h, const char *s);

/* The incremental decoder. Opaque; one per byte stream; not thread-safe. */
typedef struct es_decoder es_decoder;

/* Called once per complete, verified message. Return 0 to continue, non-zero
 * to stop: es_decoder_feed then returns STRANDS_E_CANCELLED. msg and
 * everything it points to are valid only during the call. It must not feed
 * or free the decoder that called it.                                    */
typedef int es_message_fn(void *user, const es_message *msg);

/** A new idle decoder, or NULL when out of memory. Free with
 * es_decoder_free. It buffers at most one message (bounded by the limits
 * above) plus a header array.                                            */
es_decoder *es_decoder_new(void);
/** Frees the decoder and its buffers. NULL is a no-op. */
void es_decoder_free(es_decoder *d);

/** Feeds len bytes (split anywhere: a message may span many calls, a call
 * may hold many messages). Calls on_message (may be NULL: messages are
 * checked and dropped) for each complete message, in order. The input is
 * not retained after the call returns.
 * Returns STRANDS_OK when all bytes were consumed (a partial message may
 * stay buffered; see es_decoder_idle), or fills err (may be NULL) with:
 *   E_PARSE      malformed framing: "Prelude checksum mismatch: ...",
 *                "Message checksum mismatch: ...", bad lengths, bad headers
 *   E_TOO_LARGE  headers_length > 128 KiB or payload > 16 MiB
 *   E_NOMEM      out of memory
 *   E_CANCELLED  on_message returned non-zero
 * Every error is final: the decoder keeps its error state and later calls
 * return the same status and message without reading their input.       */
strands_status es_decoder_feed(es_decoder *d, const uint8_t *data, size_t len,
                               es_message_fn *on_message, void *user,
                               strands_error *err);

/** True when no partial message is buffered and no error occurred, i.e. a
 * stream that ends here ended on a message boundary. False after an
 * error, and while a truncated message waits for more bytes.             */
int es_decoder_idle(const es_decoder *d);

/** Encodes one message from n headers (in order) and a payload (may be
 * NULL when payload_len is 0). On success *out is a malloc'd buffer the
 * caller frees, *out_len its length. Errors: E_INVALID (bad header: name
 * length not 1..255, unknown type, bytes/string value over 32767 bytes,
 * UUID length not 16, NULL pointer with non-zero length), E_TOO_LARGE
 * (headers over 128 KiB or payload over 16 MiB), E_NOMEM. On error *out
 * is NULL and *out_len 0.                                                */
strands_status es_encode(const es_header *headers, size_t n,
                         const uint8_t *payload, size_t payload_len,
                         uint8_t **out, size_t *out_len);

#endif
