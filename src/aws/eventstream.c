/* AWS event-stream decoder and encoder (see eventstream.h). The decoder
 * parses a whole message in place when the caller's chunk holds one, and
 * otherwise buffers exactly one message; the prelude CRC is checked before
 * total_length is trusted, and the message CRC before headers are parsed. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "aws/eventstream.h"

#define ES_MAX_MESSAGE_LEN \
    (ES_MIN_MESSAGE_LEN + ES_MAX_HEADERS_LEN + ES_MAX_PAYLOAD_LEN)
/* Buffers above these sizes are released once their message is done. */
#define ES_KEEP_BUF_BYTES (64u * 1024)
#define ES_KEEP_HEADERS 256u
#define ES_MIN_BUF_BYTES 1024u

struct es_decoder {
    uint8_t *buf;          /* bytes of the current message, len of them */
    size_t len, cap;
    uint32_t need;         /* its total_length, once len >= ES_PRELUDE_LEN */
    es_header *headers;    /* scratch array for the message being handed out */
    size_t headers_cap;
    strands_error error;   /* sticky: error.status != OK once failed */
};

/* ---- byte helpers ----------------------------------------------------- */

static uint16_t get_be16(const uint8_t *p)
{
    return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

static uint32_t get_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
           (uint32_t)p[2] << 8 | p[3];
}

static uint64_t get_be64(const uint8_t *p)
{
    return (uint64_t)get_be32(p) << 32 | get_be32(p + 4);
}

static uint8_t *put_be(uint8_t *p, uint64_t v, size_t n)
{
    for (size_t k = n; k > 0; k--) {
        p[k - 1] = (uint8_t)(v & 0xff);
        v >>= 8;
    }
    return p + n;
}

static uint32_t crc(const uint8_t *p, size_t n)
{
    /* n <= ES_MAX_MESSAGE_LEN, well inside zlib's uInt. */
    return (uint32_t)crc32(0L, p, (uInt)n);
}

/* ---- header lookup ---------------------------------------------------- */

const es_header *es_message_header(const es_message *m, const char *name)
{
    if (!m || !name) return NULL;
    size_t n = strlen(name);
    for (size_t k = 0; k < m->n_headers; k++) {
        const es_header *h = &m->headers[k];
        if (h->name_len == n && memcmp(h->name, name, n) == 0) return h;
    }
    return NULL;
}

int es_header_str_eq(const es_header *h, const char *s)
{
    if (!h || !s || h->type != ES_STRING) return 0;
    size_t n = strlen(s);
    return h->len == n && (n == 0 || memcmp(h->bytes, s, n) == 0);
}

/* ---- decoder: errors and memory --------------------------------------- */

/* Records a final error in d and copies it to err; returns status. */
__attribute__((format(printf, 4, 5)))
static strands_status fail(es_decoder *d, strands_error *err,
                           strands_status status, const char *fmt, ...)
{
    char msg[STRANDS_ERROR_MESSAGE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    strands_error_set(&d->error, status, NULL, "%s", msg);
    if (err) *err = d->error;
    return status;
}

es_decoder *es_decoder_new(void)
{
    es_decoder *d = calloc(1, sizeof *d);
    if (d) strands_error_clear(&d->error);
    return d;
}

void es_decoder_free(es_decoder *d)
{
    if (!d) return;
    free(d->buf);
    free(d->headers);
    free(d);
}

int es_decoder_idle(const es_decoder *d)
{
    return d && d->error.status == STRANDS_OK && d->len == 0;
}

/* Makes room for n buffered bytes. Grows by doubling but never past the
 * current message's total_length (d->need), so memory follows the bytes
 * actually received, not the length a prelude announces.                */
static strands_status reserve_buf(es_decoder *d, size_t n, strands_error *err)
{
    if (n <= d->cap) return STRANDS_OK;
    size_t cap = d->cap ? d->cap : ES_MIN_BUF_BYTES;
    while (cap < n) cap *= 2;
    size_t limit = d->need > ES_MIN_BUF_BYTES ? d->need : ES_MIN_BUF_BYTES;
    if (cap > limit) cap = limit > n ? limit : n;
    uint8_t *p = realloc(d->buf, cap);
    if (!p) return fail(d, err, STRANDS_E_NOMEM, "out of memory buffering "
                        "a %zu-byte event-stream message", n);
    d->buf = p;
    d->cap = cap;
    return STRANDS_OK;
}

/* Returns the slot for header number k, growing the array when needed. */
static es_header *header_slot(es_decoder *d, size_t k, strands_error *err)
{
    if (k >= d->headers_cap) {
        size_t cap = d->headers_cap ? d->headers_cap * 2 : 16;
        es_header *p = realloc(d->headers, cap * sizeof *p);
        if (!p) {
            fail(d, err, STRANDS_E_NOMEM, "out of memory for %zu headers", cap);
            return NULL;
        }
        d->headers = p;
        d->headers_cap = cap;
    }
    return &d->headers[k];
}

/* Drops oversized scratch memory between messages (keeps memory bounded by
 * the largest recent message only while it is being decoded).           */
static void trim_buffers(es_decoder *d)
{
    if (d->cap > ES_KEEP_BUF_BYTES) {
        free(d->buf);
        d->buf = NULL;
        d->cap = 0;
    }
    if (d->headers_cap > ES_KEEP_HEADERS) {
        free(d->headers);
        d->headers = NULL;
        d->headers_cap = 0;
    }
}

/* ---- decoder: parsing ------------------------------------------------- */

/* Validates the 12-byte prelude at p; on success *total is its length. */
static strands_status check_prelude(es_decoder *d, const uint8_t *p,
                                    uint32_t *total, strands_error *err)
{
    uint32_t stored = get_be32(p + 8), computed = crc(p, 8);
    if (stored != computed)
        return fail(d, err, STRANDS_E_PARSE, "Prelude checksum mismatch: "
                    "computed 0x%08X, stored 0x%08X", computed, stored);
    uint32_t tl = get_be32(p), hl = get_be32(p + 4);
    if (tl < ES_MIN_MESSAGE_LEN)
        return fail(d, err, STRANDS_E_PARSE, "total_length %u is less than "
                    "the %u-byte minimum", tl, ES_MIN_MESSAGE_LEN);
    if (hl > tl - ES_MIN_MESSAGE_LEN)
        return fail(d, err, STRANDS_E_PARSE, "headers_length %u does not fit "
                    "in total_length %u (at most %u)", hl, tl,
                    tl - ES_MIN_MESSAGE_LEN);
    if (hl > ES_MAX_HEADERS_LEN)
        return fail(d, err, STRANDS_E_TOO_LARGE, "headers_length %u exceeds "
                    "the %u-byte limit", hl, ES_MAX_HEADERS_LEN);
    uint32_t pl = tl - hl - ES_MIN_MESSAGE_LEN;
    if (pl > ES_MAX_PAYLOAD_LEN)
        return fail(d, err, STRANDS_E_TOO_LARGE, "payload length %u exceeds "
                    "the %u-byte limit", pl, ES_MAX_PAYLOAD_LEN);
    *total = tl;
    return STRANDS_OK;
}

/* Size of a fixed-width value type, or 0 for the others. */
static size_t fixed_value_size(unsigned type)
{
    switch (type) {
    case ES_BYTE: return 1;
    case ES_INT16: return 2;
    case ES_INT32: return 4;
    case ES_INT64: case ES_TIMESTAMP: return 8;
    case ES_UUID: return ES_UUID_LEN;
    default: return 0;
    }
}

/* Decodes one header starting at p[*off] (headers section of n bytes) into
 * h, numbered k for error messages; advances *off past it.              */
static strands_status parse_header(es_decoder *d, const uint8_t *p, size_t n,
                                   size_t *off, size_t k, es_header *h,
                                   strands_error *err)
{
    size_t at = *off, o = at;
    size_t name_len = p[o++];
    if (name_len == 0)
        return fail(d, err, STRANDS_E_PARSE, "header %zu (offset %zu): "
                    "name length is 0", k, at);
    if (name_len >= n - o)   /* the name plus at least the type byte */
        return fail(d, err, STRANDS_E_PARSE, "header %zu (offset %zu): "
                    "name length %zu plus type byte runs past the end of the "
                    "headers (%zu bytes left)", k, at, name_len, n - o);
    memset(h, 0, sizeof *h);
    h->name = (const char *)p + o;
    h->name_len = name_len;
    o += name_len;
    unsigned type = p[o++];
    if (type > ES_UUID)
        return fail(d, err, STRANDS_E_PARSE, "header %zu (offset %zu): "
                    "unknown value type %u", k, at, type);
    h->type = (es_header_type)type;
    size_t vlen = fixed_value_size(type);
    if (type == ES_BYTES || type == ES_STRING) {
        if (n - o < 2)
            return fail(d, err, STRANDS_E_PARSE, "header %zu (offset %zu): "
                        "value length runs past the end of the headers", k, at);
        vlen = get_be16(p + o);
        o += 2;
        if (vlen > ES_MAX_HEADER_VALUE_LEN)
            return fail(d, err, STRANDS_E_PARSE, "header %zu (offset %zu): "
                        "value length %zu exceeds the %u-byte limit", k, at,
                        vlen, ES_MAX_HEADER_VALUE_LEN);
    }
    if (vlen > n - o)
        return fail(d, err, STRANDS_E_PARSE, "header %zu (offset %zu): "
                    "%zu-byte value of type %u runs past the end of the "
                    "headers (%zu bytes left)", k, at, vlen, type, n - o);
    const uint8_t *v = p + o;
    switch (type) {
    case ES_BOOL_TRUE: h->i = 1; break;
    case ES_BOOL_FALSE: h->i = 0; break;
    case ES_BYTE: h->i = (int8_t)v[0]; break;
    case ES_INT16: h->i = (int16_t)get_be16(v); break;
    case ES_INT32: h->i = (int32_t)get_be32(v); break;
    case ES_INT64: case ES_TIMESTAMP: h->i = (int64_t)get_be64(v); break;
    default: h->bytes = v; h->len = vlen; break;
    }
    *off = o + vlen;
    return STRANDS_OK;
}

/* Verifies, parses and delivers the complete message p[0..total). */
static strands_status deliver(es_decoder *d, const uint8_t *p, uint32_t total,
                              es_message_fn *on_message, void *user,
                              strands_error *err)
{
    uint32_t stored = get_be32(p + total - 4), computed = crc(p, total - 4);
    if (stored != computed)
        return fail(d, err, STRANDS_E_PARSE, "Message checksum mismatch: "
                    "computed 0x%08X, stored 0x%08X", computed, stored);
    es_message m;
    memset(&m, 0, sizeof m);
    m.total_length = total;
    m.headers_length = get_be32(p + 4);
    m.prelude_crc = get_be32(p + 8);
    m.message_crc = stored;
    const uint8_t *hp = p + ES_PRELUDE_LEN;
    size_t off = 0;
    while (off < m.headers_length) {
        es_header *h = header_slot(d, m.n_headers, err);
        if (!h) return d->error.status;
        strands_status st = parse_header(d, hp, m.headers_length, &off,
                                         m.n_headers, h, err);
        if (st != STRANDS_OK) return st;
        m.n_headers++;
    }
    m.headers = m.n_headers ? d->headers : NULL;
    m.payload_len = total - m.headers_length - ES_MIN_MESSAGE_LEN;
    m.payload = m.payload_len ? hp + m.headers_length : NULL;
    if (on_message && on_message(user, &m) != 0)
        return fail(d, err, STRANDS_E_CANCELLED,
                    "event-stream decoding stopped by the message callback");
    return STRANDS_OK;
}

/* Appends from *data to the buffered partial message; delivers it when
 * complete. Consumes at least one byte.                                  */
static strands_status feed_buffered(es_decoder *d, const uint8_t **data,
                                    size_t *len, es_message_fn *on_message,
                                    void *user, strands_error *err)
{
    size_t want = d->len < ES_PRELUDE_LEN ? ES_PRELUDE_LEN : d->need;
    size_t take = want - d->len < *len ? want - d->len : *len;
    strands_status st = reserve_buf(d, d->len + take, err);
    if (st != STRANDS_OK) return st;
    memcpy(d->buf + d->len, *data, take);
    d->len += take;
    *data += take;
    *len -= take;
    if (d->len == ES_PRELUDE_LEN && want == ES_PRELUDE_LEN) {
        uint32_t total;
        st = check_prelude(d, d->buf, &total, err);
        if (st != STRANDS_OK) return st;
        d->need = total;
        return STRANDS_OK;
    }
    if (d->len < ES_PRELUDE_LEN || d->len < d->need) return STRANDS_OK;
    st = deliver(d, d->buf, d->need, on_message, user, err);
    if (st != STRANDS_OK) return st;
    d->len = 0;
    d->need = 0;
    trim_buffers(d);
    return STRANDS_OK;
}

strands_status es_decoder_feed(es_decoder *d, const uint8_t *data, size_t len,
                               es_message_fn *on_message, void *user,
                               strands_error *err)
{
    if (!d) return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                     "es_decoder_feed: NULL decoder");
    if (d->error.status != STRANDS_OK) {
        if (err) *err = d->error;
        return d->error.status;
    }
    if (!data && len > 0) return strands_error_set(err, STRANDS_E_INVALID,
                                                   NULL, "es_decoder_feed: "
                                                   "NULL data");
    strands_status st = STRANDS_OK;
    while (len > 0 && st == STRANDS_OK) {
        if (d->len > 0 || len < ES_PRELUDE_LEN) {
            st = feed_buffered(d, &data, &len, on_message, user, err);
            continue;
        }
        /* Idle with a whole prelude at hand: parse in place if possible. */
        uint32_t total;
        st = check_prelude(d, data, &total, err);
        if (st != STRANDS_OK) break;
        if (len < total) {
            d->need = total;
            st = reserve_buf(d, len, err);
            if (st != STRANDS_OK) break;
            memcpy(d->buf, data, len);
            d->len = len;
            break;
        }
        st = deliver(d, data, total, on_message, user, err);
        data += total;
        len -= total;
    }
    return st;
}

/* ---- encoder ---------------------------------------------------------- */

/* Checks one header for es_encode; on success *size is its wire size. */
static strands_status header_wire_size(const es_header *h, size_t *size)
{
    if (!h->name || h->name_len == 0 || h->name_len > ES_MAX_HEADER_NAME_LEN)
        return STRANDS_E_INVALID;
    size_t vsize;
    switch (h->type) {
    case ES_BOOL_TRUE: case ES_BOOL_FALSE: vsize = 0; break;
    case ES_BYTE:
        if (h->i < INT8_MIN || h->i > INT8_MAX) return STRANDS_E_INVALID;
        vsize = 1;
        break;
    case ES_INT16:
        if (h->i < INT16_MIN || h->i > INT16_MAX) return STRANDS_E_INVALID;
        vsize = 2;
        break;
    case ES_INT32:
        if (h->i < INT32_MIN || h->i > INT32_MAX) return STRANDS_E_INVALID;
        vsize = 4;
        break;
    case ES_INT64: case ES_TIMESTAMP: vsize = 8; break;
    case ES_BYTES: case ES_STRING:
        if (h->len > ES_MAX_HEADER_VALUE_LEN || (!h->bytes && h->len))
            return STRANDS_E_INVALID;
        vsize = 2 + h->len;
        break;
    case ES_UUID:
        if (h->len != ES_UUID_LEN || !h->bytes) return STRANDS_E_INVALID;
        vsize = ES_UUID_LEN;
        break;
    default: return STRANDS_E_INVALID;
    }
    *size = 1 + h->name_len + 1 + vsize;
    return STRANDS_OK;
}

static uint8_t *put_header(uint8_t *p, const es_header *h)
{
    *p++ = (uint8_t)h->name_len;
    memcpy(p, h->name, h->name_len);
    p += h->name_len;
    *p++ = (uint8_t)h->type;
    uint64_t u = (uint64_t)h->i;
    switch (h->type) {
    case ES_BYTE: return put_be(p, u, 1);
    case ES_INT16: return put_be(p, u, 2);
    case ES_INT32: return put_be(p, u, 4);
    case ES_INT64: case ES_TIMESTAMP: return put_be(p, u, 8);
    case ES_BYTES: case ES_STRING:
        p = put_be(p, h->len, 2);
        /* fall through */
    case ES_UUID:
        if (h->len) memcpy(p, h->bytes, h->len);
        return p + h->len;
    default: return p;   /* bools: no value bytes */
    }
}

strands_status es_encode(const es_header *headers, size_t n,
                         const uint8_t *payload, size_t payload_len,
                         uint8_t **out, size_t *out_len)
{
    if (!out || !out_len) return STRANDS_E_INVALID;
    *out = NULL;
    *out_len = 0;
    if ((!headers && n) || (!payload && payload_len)) return STRANDS_E_INVALID;
    if (payload_len > ES_MAX_PAYLOAD_LEN) return STRANDS_E_TOO_LARGE;
    size_t hlen = 0;
    for (size_t k = 0; k < n; k++) {
        size_t size;
        strands_status st = header_wire_size(&headers[k], &size);
        if (st != STRANDS_OK) return st;
        hlen += size;
        if (hlen > ES_MAX_HEADERS_LEN) return STRANDS_E_TOO_LARGE;
    }
    size_t total = ES_MIN_MESSAGE_LEN + hlen + payload_len;
    uint8_t *buf = malloc(total);
    if (!buf) return STRANDS_E_NOMEM;
    uint8_t *p = put_be(buf, total, 4);
    p = put_be(p, hlen, 4);
    p = put_be(p, crc(buf, 8), 4);
    for (size_t k = 0; k < n; k++) p = put_header(p, &headers[k]);
    if (payload_len) memcpy(p, payload, payload_len);
    p += payload_len;
    put_be(p, crc(buf, total - 4), 4);
    *out = buf;
    *out_len = total;
    return STRANDS_OK;
}
