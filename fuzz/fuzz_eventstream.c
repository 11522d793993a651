/* libFuzzer target for the event-stream decoder (src/aws/eventstream.c).
 * Input: byte 0 picks a split point, the rest is the byte stream. It is
 * decoded whole, in two chunks at that point and (when small) one byte at a
 * time; all runs must agree, and every decoded message must re-encode to
 * exactly its input bytes. Must never crash, leak or read out of bounds.  */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "aws/eventstream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct run {
    const uint8_t *in;     /* the whole stream, to compare re-encodings */
    size_t in_len;
    size_t offset;         /* where the next message starts */
    size_t messages;
    uint32_t digest;       /* order-sensitive mix of the message CRCs */
} run;

static int check_message(void *user, const es_message *m)
{
    run *r = user;
    if (m->total_length != 16 + m->headers_length + m->payload_len) abort();
    if (m->total_length > r->in_len - r->offset) abort();
    uint8_t *enc = NULL;
    size_t len = 0;
    if (es_encode(m->headers, m->n_headers, m->payload, m->payload_len, &enc,
                  &len) != STRANDS_OK)
        abort();
    if (len != m->total_length || memcmp(enc, r->in + r->offset, len) != 0)
        abort();
    free(enc);
    /* Lookup by each header's own name finds it or an earlier namesake. */
    for (size_t k = 0; k < m->n_headers; k++) {
        const es_header *h = &m->headers[k];
        char name[256];
        if (h->name_len == 0 || h->name_len > 255) abort();
        memcpy(name, h->name, h->name_len);
        name[h->name_len] = '\0';
        if (strlen(name) != h->name_len) continue;   /* embedded NUL */
        const es_header *f = es_message_header(m, name);
        if (!f || f > h || f->name_len != h->name_len) abort();
        if (h->type == ES_STRING && h->len < 64) {
            char v[64];
            memcpy(v, h->bytes, h->len);
            v[h->len] = '\0';
            if (strlen(v) == h->len && !es_header_str_eq(h, v)) abort();
        }
    }
    r->offset += m->total_length;
    r->messages++;
    r->digest = r->digest * 31u + m->message_crc;
    return 0;
}

typedef struct outcome {
    strands_status status;
    int idle;
    size_t messages;
    uint32_t digest;
    char message[STRANDS_ERROR_MESSAGE_MAX];
} outcome;

/* Decodes in[0..len) in chunks of `step` bytes (the first one `first`). */
static void decode(const uint8_t *in, size_t len, size_t first, size_t step,
                   outcome *out)
{
    run r = { in, len, 0, 0, 0 };
    es_decoder *d = es_decoder_new();
    if (!d) abort();
    strands_error err;
    strands_error_clear(&err);
    strands_status st = STRANDS_OK;
    size_t off = 0, n = first;
    while (st == STRANDS_OK && off < len) {
        if (n > len - off) n = len - off;
        st = es_decoder_feed(d, in + off, n, check_message, &r, &err);
        off += n;
        n = step;
    }
    memset(out, 0, sizeof *out);
    out->status = st;
    out->idle = es_decoder_idle(d);
    out->messages = r.messages;
    out->digest = r.digest;
    if (st != STRANDS_OK) memcpy(out->message, err.message, sizeof out->message);
    /* An errored decoder must stay failed with the same message. */
    if (st != STRANDS_OK &&
        (es_decoder_feed(d, in, len, check_message, &r, &err) != st ||
         strcmp(err.message, out->message) != 0 || r.messages != out->messages))
        abort();
    es_decoder_free(d);
}

static void same(const outcome *a, const outcome *b)
{
    if (a->status != b->status || a->idle != b->idle ||
        a->messages != b->messages || a->digest != b->digest ||
        strcmp(a->message, b->message) != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) return 0;
    const uint8_t *in = data + 1;
    size_t len = size - 1;
    size_t split = len * data[0] / 255;
    outcome whole, two, bytes;
    decode(in, len, len, len, &whole);
    decode(in, len, split, len, &two);
    same(&whole, &two);
    if (len <= 1024) {
        decode(in, len, 1, 1, &bytes);
        same(&whole, &bytes);
    }
    return 0;
}
