/* Tests for src/aws/eventstream.c: the official aws-sdk-go and smithy-rs
 * vectors and the ConverseStream fixtures (read in place from ../shared),
 * each fed whole, byte by byte and split at every/random offsets; re-encoding
 * of every decoded message; hand-built frames for every limit and header
 * error; the encoder's argument checks.                                  */
#include <dirent.h>
#include <jansson.h>
#include <zlib.h>

#include "aws/eventstream.h"
#include "core/buf.h"
#include "net/base64.h"
#include "test.h"

#define ES_DIR STRANDS_SHARED_DIR "/testdata/eventstream"
#define MAX_FILES 32

/* ---- small helpers ---------------------------------------------------- */

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint32_t crc_of(const uint8_t *p, size_t n)
{
    return (uint32_t)crc32(0L, p, (uInt)n);
}

/* A 12-byte prelude with a correct CRC (independent of the encoder). */
static void make_prelude(uint8_t *p, uint32_t total, uint32_t hlen)
{
    put32(p, total);
    put32(p + 4, hlen);
    put32(p + 8, crc_of(p, 8));
}

/* A whole frame from raw header bytes and payload, CRCs correct; free(). */
static uint8_t *raw_frame(const void *hdr, size_t hlen, const void *payload,
                          size_t plen, size_t *out_len)
{
    size_t total = 16 + hlen + plen;
    uint8_t *f = malloc(total);
    if (!f) abort();
    make_prelude(f, (uint32_t)total, (uint32_t)hlen);
    if (hlen) memcpy(f + 12, hdr, hlen);
    if (plen) memcpy(f + 12 + hlen, payload, plen);
    put32(f + total - 4, crc_of(f, total - 4));
    *out_len = total;
    return f;
}

/* Decodes base64 into a new buffer (net/base64); -1 if bad. */
static long b64_decode(const char *s, uint8_t **out)
{
    size_t n = 0;
    if (net_base64_decode(s, strlen(s), out, &n) != 0) return -1;
    return (long)n;
}

static void buf_hex(dynbuf *b, const uint8_t *p, size_t n)
{
    for (size_t k = 0; k < n; k++)
        if (dynbuf_printf(b, "%02x", p[k]) != STRANDS_OK) abort();
}

static void buf_fmt(dynbuf *b, const char *s)
{
    if (dynbuf_puts(b, s) != STRANDS_OK) abort();
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted names in dir starting with prefix and ending with suffix. */
static size_t list_dir(const char *dir, const char *prefix, const char *suffix,
                       char **names)
{
    size_t n = 0;
    DIR *dp = opendir(dir);
    if (!dp) return 0;
    struct dirent *e;
    while ((e = readdir(dp)) != NULL) {
        size_t len = strlen(e->d_name), sl = strlen(suffix);
        if (e->d_name[0] == '.' || strncmp(e->d_name, prefix, strlen(prefix))
            || len < sl || strcmp(e->d_name + len - sl, suffix))
            continue;
        if (n < MAX_FILES) names[n] = strdup(e->d_name);
        n++;
    }
    closedir(dp);
    qsort(names, n < MAX_FILES ? n : MAX_FILES, sizeof *names, cmp_names);
    return n;
}

static void free_names(char **names, size_t n)
{
    for (size_t k = 0; k < n && k < MAX_FILES; k++) free(names[k]);
}

static uint8_t *read_path(const char *dir, const char *name, size_t *len)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return (uint8_t *)test_read_file(path, len);
}

/* ---- transcripts: a canonical text form of everything decoded ---------- */

typedef struct ctx {
    dynbuf out;
    int full;                 /* include offsets, lengths and CRCs */
    const uint8_t *stream;    /* the bytes fed, for the re-encode check */
    size_t stream_len;
    size_t offset;            /* offset of the next message */
    int messages;
    int reencode_mismatches;
    int cancel_at;            /* cancel on this message number (1-based) */
} ctx;

static void ctx_init(ctx *c, int full, const uint8_t *stream, size_t len)
{
    memset(c, 0, sizeof *c);
    dynbuf_init(&c->out, 64u << 20);
    c->full = full;
    c->stream = stream;
    c->stream_len = len;
}

static void put_header_line(dynbuf *b, const char *name, size_t name_len,
                            int type)
{
    buf_fmt(b, "  ");
    for (size_t k = 0; k < name_len; k++) {
        unsigned char ch = (unsigned char)name[k];
        if (ch >= 0x20 && ch < 0x7f && ch != '\\') {
            if (dynbuf_printf(b, "%c", ch) != STRANDS_OK) abort();
        } else if (dynbuf_printf(b, "\\x%02x", ch) != STRANDS_OK) {
            abort();
        }
    }
    if (dynbuf_printf(b, " type=%d value=", type) != STRANDS_OK) abort();
}

static void put_message(ctx *c, const es_message *m)
{
    dynbuf *b = &c->out;
    if (c->full &&
        dynbuf_printf(b, "@%zu total=%u hlen=%u pcrc=%08x mcrc=%08x\n",
                           c->offset, m->total_length, m->headers_length,
                           m->prelude_crc, m->message_crc) != STRANDS_OK)
        abort();
    for (size_t k = 0; k < m->n_headers; k++) {
        const es_header *h = &m->headers[k];
        put_header_line(b, h->name, h->name_len, (int)h->type);
        if (h->type == ES_BOOL_TRUE || h->type == ES_BOOL_FALSE) {
            buf_fmt(b, h->i ? "true" : "false");
        } else if (h->type == ES_BYTES || h->type == ES_STRING ||
                   h->type == ES_UUID) {
            buf_hex(b, h->bytes, h->len);
        } else if (dynbuf_printf(b, "%" PRId64, h->i) != STRANDS_OK) {
            abort();
        }
        buf_fmt(b, "\n");
    }
    buf_fmt(b, "  payload=");
    buf_hex(b, m->payload, m->payload_len);
    buf_fmt(b, "\n");
}

static int on_msg(void *user, const es_message *m)
{
    ctx *c = user;
    c->messages++;
    put_message(c, m);
    /* The encoder must reproduce the exact input bytes of every message. */
    uint8_t *enc = NULL;
    size_t enc_len = 0;
    if (es_encode(m->headers, m->n_headers, m->payload, m->payload_len, &enc,
                  &enc_len) != STRANDS_OK ||
        enc_len != m->total_length || c->offset + enc_len > c->stream_len ||
        memcmp(enc, c->stream + c->offset, enc_len) != 0)
        c->reencode_mismatches++;
    free(enc);
    c->offset += m->total_length;
    return c->messages == c->cancel_at;
}

static void put_end(ctx *c, strands_status st, const es_decoder *d,
                    const strands_error *err)
{
    if (dynbuf_printf(&c->out, "end status=%s idle=%d error=%s\n",
                           strands_status_name(st), es_decoder_idle(d),
                           st == STRANDS_OK ? "" : err->message) != STRANDS_OK)
        abort();
}

/* Feeds data in chunks whose sizes come from next_chunk(state) and returns
 * the malloc'd transcript; counts re-encode mismatches into *mismatches.  */
typedef size_t chunk_fn(void *state, size_t left);

static char *decode_chunks(const uint8_t *data, size_t len, int full,
                           chunk_fn *next, void *state, int *mismatches)
{
    ctx c;
    ctx_init(&c, full, data, len);
    es_decoder *d = es_decoder_new();
    if (!d) abort();
    strands_error err;
    strands_error_clear(&err);
    strands_status st = STRANDS_OK;
    size_t off = 0;
    do {
        size_t n = next ? next(state, len - off) : len - off;
        st = es_decoder_feed(d, data + off, n, on_msg, &c, &err);
        off += n;
    } while (st == STRANDS_OK && off < len);
    put_end(&c, st, d, &err);
    es_decoder_free(d);
    if (mismatches) *mismatches += c.reencode_mismatches;
    return dynbuf_take(&c.out, NULL);
}

static char *decode_whole(const uint8_t *data, size_t len, int full)
{
    return decode_chunks(data, len, full, NULL, NULL, NULL);
}

static size_t chunk_one(void *state, size_t left)
{
    (void)state;
    (void)left;
    return 1;
}

typedef struct split_state { size_t first; int used; } split_state;

static size_t chunk_split(void *state, size_t left)
{
    split_state *s = state;
    if (s->used++) return left;
    return s->first < left ? s->first : left;
}

static size_t chunk_random(void *state, size_t left)
{
    uint32_t *x = state;
    *x ^= *x << 13;
    *x ^= *x >> 17;
    *x ^= *x << 5;
    size_t n = 1 + *x % 97;   /* 1..97 bytes, sometimes crossing frames */
    return n < left ? n : left;
}

/* Decodes data whole, byte by byte, split in two at every offset (when
 * small) and in 40 random chunkings; all transcripts must be identical.
 * Returns the whole-feed transcript (malloc'd).                          */
static char *decode_all_ways(const char *name, const uint8_t *data, size_t len)
{
    int mismatches = 0;
    char *want = decode_chunks(data, len, 1, NULL, NULL, &mismatches);
    char *t = decode_chunks(data, len, 1, chunk_one, NULL, &mismatches);
    if (strcmp(t, want) != 0)
        FAIL_AT("%s: byte-by-byte transcript differs:\n%s\nvs whole:\n%s",
                name, t, want);
    free(t);
    int bad_splits = 0;
    for (size_t k = 0; len <= 4096 && k <= len; k++) {
        split_state s = { k, 0 };
        t = decode_chunks(data, len, 1, chunk_split, &s, &mismatches);
        if (strcmp(t, want) != 0 && bad_splits++ == 0)
            FAIL_AT("%s: split at %zu differs:\n%s", name, k, t);
        free(t);
    }
    uint32_t seed = 0x9e3779b9u ^ (uint32_t)len;
    for (int r = 0; r < 40; r++) {
        t = decode_chunks(data, len, 1, chunk_random, &seed, &mismatches);
        if (strcmp(t, want) != 0 && bad_splits++ == 0)
            FAIL_AT("%s: random split %d differs:\n%s", name, r, t);
        free(t);
    }
    CHECK_INT(bad_splits, 0);
    if (mismatches) FAIL_AT("%s: %d re-encodings differ", name, mismatches);
    return want;
}

/* ---- expectations from the JSON files ---------------------------------- */

/* How a fixture writes byte values: aws-sdk-go uses base64 for types 6/7/9;
 * smithy-rs and converse-stream use text (value_utf8, value_hex, ...).  */
enum style { STYLE_B64, STYLE_TEXT };

static int put_expected_value(dynbuf *b, json_t *h, int type,
                              enum style style)
{
    json_t *v = json_object_get(h, "value");
    if (type == ES_BOOL_TRUE || type == ES_BOOL_FALSE) {
        if (!json_is_boolean(v)) return -1;
        buf_fmt(b, json_is_true(v) ? "true" : "false");
        return 0;
    }
    if (type != ES_BYTES && type != ES_STRING && type != ES_UUID) {
        if (!v) v = json_object_get(h, "value_ms_since_epoch");
        if (!json_is_integer(v)) return -1;
        return dynbuf_printf(b, "%" JSON_INTEGER_FORMAT,
                                  json_integer_value(v)) == STRANDS_OK ? 0 : -1;
    }
    json_t *hex = json_object_get(h, "value_hex");
    if (json_is_string(hex)) {
        buf_fmt(b, json_string_value(hex));
        return 0;
    }
    if (!v) v = json_object_get(h, "value_utf8");
    if (!json_is_string(v)) return -1;
    const char *s = json_string_value(v);
    if (style == STYLE_TEXT) {
        buf_hex(b, (const uint8_t *)s, strlen(s));
        return 0;
    }
    uint8_t *raw = NULL;
    long n = b64_decode(s, &raw);
    if (n >= 0) buf_hex(b, raw, (size_t)n);
    free(raw);
    return n < 0 ? -1 : 0;
}

/* Appends the transcript lines of one expected message (fields as in the
 * fixture; prelude line only when full).                                */
static int put_expected_message(dynbuf *b, json_t *m, int full,
                                size_t offset, enum style style)
{
    if (full) {
        json_t *off = json_object_get(m, "offset");
        if (off) offset = (size_t)json_integer_value(off);
        uint32_t tl = (uint32_t)json_integer_value(
            json_object_get(m, "total_length"));
        uint32_t hl = (uint32_t)json_integer_value(
            json_object_get(m, "headers_length"));
        /* aws-sdk-go writes the CRCs signed: compare modulo 2^32. */
        uint32_t pc = (uint32_t)json_integer_value(
            json_object_get(m, "prelude_crc"));
        uint32_t mc = (uint32_t)json_integer_value(
            json_object_get(m, "message_crc"));
        if (dynbuf_printf(b, "@%zu total=%u hlen=%u pcrc=%08x "
                               "mcrc=%08x\n", offset, tl, hl, pc, mc))
            return -1;
    }
    size_t k;
    json_t *h;
    json_array_foreach(json_object_get(m, "headers"), k, h) {
        const char *name = json_string_value(json_object_get(h, "name"));
        int type = (int)json_integer_value(json_object_get(h, "type"));
        if (!name) return -1;
        put_header_line(b, name, strlen(name), type);
        if (put_expected_value(b, h, type, style) != 0) return -1;
        buf_fmt(b, "\n");
    }
    buf_fmt(b, "  payload=");
    json_t *p = json_object_get(m, "payload");
    if (!p) p = json_object_get(m, "payload_utf8");
    const char *ps = json_string_value(p);
    if (!ps) return -1;
    if (style == STYLE_TEXT) {
        buf_hex(b, (const uint8_t *)ps, strlen(ps));
    } else {
        uint8_t *raw = NULL;
        long n = b64_decode(ps, &raw);
        if (n >= 0) buf_hex(b, raw, (size_t)n);
        free(raw);
        if (n < 0) return -1;
    }
    buf_fmt(b, "\n");
    return 0;
}

static const char *END_OK = "end status=OK idle=1 error=\n";

/* ---- official vectors -------------------------------------------------- */

static void test_aws_sdk_go_positive(void)
{
    if (!test_have_shared()) SKIP("../shared not found (no test vectors)");
    const char *enc_dir = ES_DIR "/aws-sdk-go/encoded/positive";
    const char *dec_dir = ES_DIR "/aws-sdk-go/decoded/positive";
    char *names[MAX_FILES];
    size_t n = list_dir(enc_dir, "", "", names);
    CHECK_INT(n, 5);
    for (size_t k = 0; k < n && k < MAX_FILES; k++) {
        size_t len = 0;
        uint8_t *data = read_path(enc_dir, names[k], &len);
        char *js = (char *)read_path(dec_dir, names[k], NULL);
        json_t *want_json = js ? json_loads(js, 0, NULL) : NULL;
        CHECK(data && want_json);
        if (data && want_json) {
            dynbuf want;
            dynbuf_init(&want, 1u << 20);
            CHECK_INT(put_expected_message(&want, want_json, 1, 0, STYLE_B64),
                      0);
            buf_fmt(&want, END_OK);
            char *got = decode_all_ways(names[k], data, len);
            if (strcmp(got, dynbuf_str(&want)) != 0)
                FAIL_AT("%s:\n got:\n%s want:\n%s", names[k], got,
                        dynbuf_str(&want));
            free(got);
            dynbuf_cleanup(&want);
        }
        json_decref(want_json);
        free(js);
        free(data);
    }
    free_names(names, n);
}

static void test_aws_sdk_go_negative(void)
{
    if (!test_have_shared()) SKIP("../shared not found (no test vectors)");
    const char *enc_dir = ES_DIR "/aws-sdk-go/encoded/negative";
    const char *dec_dir = ES_DIR "/aws-sdk-go/decoded/negative";
    char *names[MAX_FILES];
    size_t n = list_dir(enc_dir, "", "", names);
    CHECK_INT(n, 4);
    for (size_t k = 0; k < n && k < MAX_FILES; k++) {
        size_t len = 0;
        uint8_t *data = read_path(enc_dir, names[k], &len);
        char *reason = (char *)read_path(dec_dir, names[k], NULL);
        CHECK(data && reason);
        if (data && reason) {
            reason[strcspn(reason, "\r\n")] = '\0';
            char want[256];
            snprintf(want, sizeof want, "end status=E_PARSE idle=0 error=%s: ",
                     reason);
            char *got = decode_all_ways(names[k], data, len);
            if (strncmp(got, want, strlen(want)) != 0)
                FAIL_AT("%s: got %s want prefix %s", names[k], got, want);
            free(got);
        }
        free(reason);
        free(data);
    }
    free_names(names, n);
}

static void test_smithy_valid(void)
{
    if (!test_have_shared()) SKIP("../shared not found (no test vectors)");
    const char *dir = ES_DIR "/smithy-rs";
    json_t *expected = json_load_file(ES_DIR "/smithy-rs/expected.json", 0,
                                      NULL);
    CHECK(expected != NULL);
    json_t *valid = json_object_get(expected, "valid");
    char *names[MAX_FILES];
    size_t n = list_dir(dir, "valid_", "", names);
    CHECK_INT(n, 3);
    CHECK_INT(json_object_size(valid), 3);
    for (size_t k = 0; k < n && k < MAX_FILES; k++) {
        json_t *m = json_object_get(valid, names[k]);
        size_t len = 0;
        uint8_t *data = read_path(dir, names[k], &len);
        CHECK(m && data);
        if (m && data) {
            dynbuf want;
            dynbuf_init(&want, 1u << 20);
            CHECK_INT(put_expected_message(&want, m, 0, 0, STYLE_TEXT), 0);
            buf_fmt(&want, END_OK);
            free(decode_all_ways(names[k], data, len));
            char *got = decode_whole(data, len, 0);
            if (strcmp(got, dynbuf_str(&want)) != 0)
                FAIL_AT("%s:\n got:\n%s want:\n%s", names[k], got,
                        dynbuf_str(&want));
            free(got);
            dynbuf_cleanup(&want);
        }
        free(data);
    }
    free_names(names, n);
    json_decref(expected);
}

/* What each invalid smithy-rs file must report as is, and once its message
 * CRC is recomputed (NULL: the prelude already fails, nothing to repair). */
static const struct {
    const char *name, *as_is, *repaired;
} smithy_invalid[] = {
    { "invalid_prelude_checksum", "Prelude checksum mismatch: computed "
      "0x8BB495FB, stored 0xDEADBEEF", NULL },
    { "invalid_message_checksum", "Message checksum mismatch: computed "
      "0x01A05860, stored 0xDEADBEEF", "" },
    { "invalid_header_value_type", "Message checksum mismatch",
      "header 2 (offset 13): unknown value type 96" },
    { "invalid_header_name_length", "Message checksum mismatch",
      "header 2 (offset 13): name length 255 plus type byte runs past" },
    { "invalid_header_name_length_too_long", "Message checksum mismatch",
      "header 1 (offset 6): name length 102 plus type byte runs past" },
    { "invalid_header_string_value_length", "Message checksum mismatch",
      "header 7 (offset 71): value length 65535 exceeds the 32767-byte" },
    { "invalid_header_string_length_cut_off", "Message checksum mismatch",
      "header 7 (offset 71): value length runs past the end of the headers" },
    { "invalid_headers_length", "headers_length 77 does not fit in "
      "total_length 89 (at most 73)", NULL },
};

static void check_error_transcript(const char *name, const char *got,
                                   const char *want_msg)
{
    char want[512];
    snprintf(want, sizeof want, "end status=E_PARSE idle=0 error=%s",
             want_msg);
    if (strncmp(got, want, strlen(want)) != 0)
        FAIL_AT("%s:\n got:  %s want: %s...", name, got, want);
}

static void test_smithy_invalid(void)
{
    if (!test_have_shared()) SKIP("../shared not found (no test vectors)");
    const char *dir = ES_DIR "/smithy-rs";
    char *names[MAX_FILES];
    size_t n = list_dir(dir, "invalid_", "", names);
    size_t n_cases = sizeof smithy_invalid / sizeof smithy_invalid[0];
    CHECK_INT(n, 8);
    CHECK_INT(n_cases, 8);
    size_t valid_len = 0;
    uint8_t *valid = read_path(dir, "valid_with_all_headers_and_payload",
                               &valid_len);
    CHECK(valid != NULL);
    for (size_t k = 0; k < n && k < MAX_FILES; k++) {
        size_t c = 0;
        while (c < n_cases && strcmp(smithy_invalid[c].name, names[k])) c++;
        if (c == n_cases) {
            FAIL_AT("no expectation for %s", names[k]);
            continue;
        }
        size_t len = 0;
        uint8_t *data = read_path(dir, names[k], &len);
        CHECK(data != NULL);
        if (!data) continue;
        char *got = decode_all_ways(names[k], data, len);
        check_error_transcript(names[k], got, smithy_invalid[c].as_is);
        free(got);
        /* With a correct message CRC the header error itself shows. */
        uint32_t total = len >= 4 ? (uint32_t)data[0] << 24 | data[1] << 16 |
                                    data[2] << 8 | data[3] : 0;
        if (smithy_invalid[c].repaired && total >= 16 && total <= len) {
            put32(data + total - 4, crc_of(data, total - 4));
            got = decode_all_ways(names[k], data, total);
            if (smithy_invalid[c].repaired[0] == '\0') {
                /* The only defect was the CRC: now it is the valid file. */
                CHECK_MEM(data, total, valid, valid_len);
                CHECK(strstr(got, END_OK) != NULL);
            } else {
                check_error_transcript(names[k], got,
                                       smithy_invalid[c].repaired);
            }
            free(got);
        } else {
            CHECK(smithy_invalid[c].repaired == NULL);
        }
        free(data);
    }
    free(valid);
    free_names(names, n);
}

static void test_converse_stream(void)
{
    if (!test_have_shared()) SKIP("../shared not found (no test vectors)");
    const char *dir = ES_DIR "/converse-stream";
    char *names[MAX_FILES];
    size_t n = list_dir(dir, "", ".bin", names);
    CHECK_INT(n, 5);
    for (size_t k = 0; k < n && k < MAX_FILES; k++) {
        char json_name[256];
        snprintf(json_name, sizeof json_name, "%.*s.json",
                 (int)(strlen(names[k]) - 4), names[k]);
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, json_name);
        json_t *fixture = json_load_file(path, 0, NULL);
        size_t len = 0;
        uint8_t *data = read_path(dir, names[k], &len);
        json_t *msgs = json_object_get(fixture, "messages");
        CHECK(data && json_array_size(msgs) >= 2);
        if (data && msgs) {
            dynbuf want;
            dynbuf_init(&want, 1u << 20);
            size_t i;
            json_t *m;
            json_array_foreach(msgs, i, m)
                CHECK_INT(put_expected_message(&want, m, 1, 0, STYLE_TEXT), 0);
            buf_fmt(&want, END_OK);
            char *got = decode_all_ways(names[k], data, len);
            if (strcmp(got, dynbuf_str(&want)) != 0)
                FAIL_AT("%s:\n got:\n%s want:\n%s", names[k], got,
                        dynbuf_str(&want));
            free(got);
            dynbuf_cleanup(&want);
        }
        free(data);
        json_decref(fixture);
    }
    free_names(names, n);
}

/* ---- hand-built frames ------------------------------------------------- */

/* Feeds data whole to a fresh decoder; returns the status, err filled. */
static strands_status feed_once(const uint8_t *data, size_t len, int *msgs,
                                strands_error *err, int *idle)
{
    ctx c;
    ctx_init(&c, 0, data, len);
    es_decoder *d = es_decoder_new();
    if (!d) abort();
    strands_error_clear(err);
    strands_status st = es_decoder_feed(d, data, len, on_msg, &c, err);
    if (msgs) *msgs = c.messages;
    if (idle) *idle = es_decoder_idle(d);
    es_decoder_free(d);
    dynbuf_cleanup(&c.out);
    return st;
}

static void expect_prelude_error(uint32_t total, uint32_t hlen,
                                 strands_status want, const char *want_msg)
{
    uint8_t p[12];
    make_prelude(p, total, hlen);
    strands_error err;
    int msgs = -1;
    CHECK_INT(feed_once(p, sizeof p, &msgs, &err, NULL), want);
    CHECK_INT(err.status, want);
    CHECK_STR(err.message, want_msg);
    CHECK_INT(msgs, 0);
}

static void test_prelude_limits(void)
{
    expect_prelude_error(12, 0, STRANDS_E_PARSE,
                         "total_length 12 is less than the 16-byte minimum");
    expect_prelude_error(0, 0, STRANDS_E_PARSE,
                         "total_length 0 is less than the 16-byte minimum");
    expect_prelude_error(40, 25, STRANDS_E_PARSE,
                         "headers_length 25 does not fit in total_length 40 "
                         "(at most 24)");
    expect_prelude_error(0xffffffffu, 0xfffffff0u, STRANDS_E_PARSE,
                         "headers_length 4294967280 does not fit in "
                         "total_length 4294967295 (at most 4294967279)");
    expect_prelude_error(16 + 131073, 131073, STRANDS_E_TOO_LARGE,
                         "headers_length 131073 exceeds the 131072-byte "
                         "limit");
    expect_prelude_error(16 + 16777217, 0, STRANDS_E_TOO_LARGE,
                         "payload length 16777217 exceeds the 16777216-byte "
                         "limit");
    expect_prelude_error(0xffffffffu, 0, STRANDS_E_TOO_LARGE,
                         "payload length 4294967279 exceeds the 16777216-byte "
                         "limit");
    /* Exactly at the limits the prelude is accepted and bytes are awaited. */
    uint32_t preludes[][2] = { { 16 + 131072, 131072 },
                               { 16 + 16777216, 0 },
                               { 16 + 131072 + 16777216, 131072 } };
    for (size_t k = 0; k < 3; k++) {
        uint8_t p[12];
        make_prelude(p, preludes[k][0], preludes[k][1]);
        strands_error err;
        int idle = 1;
        CHECK_INT(feed_once(p, sizeof p, NULL, &err, &idle), STRANDS_OK);
        CHECK_INT(idle, 0);
    }
    /* A corrupted length is caught by the prelude CRC, before allocating. */
    uint8_t p[12];
    make_prelude(p, 29, 0);
    p[0] = 0x7f;
    strands_error err;
    CHECK_INT(feed_once(p, sizeof p, NULL, &err, NULL), STRANDS_E_PARSE);
    CHECK(strncmp(err.message, "Prelude checksum mismatch: computed 0x",
                  38) == 0);
}

/* Wraps raw header bytes into a frame with correct CRCs and expects the
 * decoder to report want_msg exactly (whole and byte by byte).          */
static void expect_header_error(const void *hdr, size_t hlen,
                                const char *want_msg)
{
    size_t len;
    uint8_t *f = raw_frame(hdr, hlen, "xy", 2, &len);
    strands_error err;
    int msgs = -1;
    CHECK_INT(feed_once(f, len, &msgs, &err, NULL), STRANDS_E_PARSE);
    CHECK_STR(err.message, want_msg);
    CHECK_INT(msgs, 0);
    char *t = decode_all_ways("hand-built", f, len);
    char want[600];
    snprintf(want, sizeof want, "end status=E_PARSE idle=0 error=%s\n",
             want_msg);
    CHECK_STR(t, want);
    free(t);
    free(f);
}

static void test_header_errors(void)
{
    expect_header_error("\x00\x00", 2,
                        "header 0 (offset 0): name length is 0");
    expect_header_error("\x01" "a\x00\x00\x01", 5,
                        "header 1 (offset 3): name length is 0");
    expect_header_error("\x05" "abc", 4, "header 0 (offset 0): name length 5 "
                        "plus type byte runs past the end of the headers "
                        "(3 bytes left)");
    expect_header_error("\x03" "abc", 4, "header 0 (offset 0): name length 3 "
                        "plus type byte runs past the end of the headers "
                        "(3 bytes left)");
    expect_header_error("\x01" "a\x0a", 3,
                        "header 0 (offset 0): unknown value type 10");
    expect_header_error("\x01" "a\x00\x01" "b\xff", 6,
                        "header 1 (offset 3): unknown value type 255");
    expect_header_error("\x01" "a\x05\x00\x00\x00", 6,
                        "header 0 (offset 0): 8-byte value of type 5 runs "
                        "past the end of the headers (3 bytes left)");
    expect_header_error("\x01" "a\x08\x00", 4,
                        "header 0 (offset 0): 8-byte value of type 8 runs "
                        "past the end of the headers (1 bytes left)");
    expect_header_error("\x01" "a\x02", 3,
                        "header 0 (offset 0): 1-byte value of type 2 runs "
                        "past the end of the headers (0 bytes left)");
    expect_header_error("\x01" "a\x03\x01", 4,
                        "header 0 (offset 0): 2-byte value of type 3 runs "
                        "past the end of the headers (1 bytes left)");
    expect_header_error("\x01" "a\x04\x01\x02\x03", 6,
                        "header 0 (offset 0): 4-byte value of type 4 runs "
                        "past the end of the headers (3 bytes left)");
    expect_header_error("\x01" "a\x09" "0123456789abcde", 18,
                        "header 0 (offset 0): 16-byte value of type 9 runs "
                        "past the end of the headers (15 bytes left)");
    expect_header_error("\x01" "a\x07\x00", 4, "header 0 (offset 0): value "
                        "length runs past the end of the headers");
    expect_header_error("\x01" "a\x06\x00\x05" "abcd", 9,
                        "header 0 (offset 0): 5-byte value of type 6 runs "
                        "past the end of the headers (4 bytes left)");

    /* String value of 32768 bytes, all present: over the value limit. */
    size_t hlen = 1 + 1 + 1 + 2 + 32768;
    uint8_t *h = calloc(1, hlen);
    memcpy(h, "\x01" "s\x07\x80\x00", 5);
    expect_header_error(h, hlen, "header 0 (offset 0): value length 32768 "
                        "exceeds the 32767-byte limit");
    /* 32767 bytes is fine, and decodes to exactly that value. */
    memcpy(h, "\x01" "s\x06\x7f\xff", 5);
    memset(h + 5, 'v', 32767);
    size_t len;
    uint8_t *f = raw_frame(h, hlen - 1, NULL, 0, &len);
    char *t = decode_whole(f, len, 0);
    CHECK(strncmp(t, "  s type=6 value=767676", 23) == 0);
    CHECK(strlen(t) == strlen("  s type=6 value=") + 2 * 32767 +
                       strlen("\n  payload=\n") + strlen(END_OK));
    free(t);
    free(f);
    free(h);
}

static void test_message_crc(void)
{
    size_t len;
    uint8_t *f = raw_frame("\x01" "a\x00", 3, "hello", 5, &len);
    uint32_t good = crc_of(f, len - 4);
    f[len - 1] ^= 1;
    strands_error err;
    int msgs = -1;
    CHECK_INT(feed_once(f, len, &msgs, &err, NULL), STRANDS_E_PARSE);
    char want[128];
    snprintf(want, sizeof want, "Message checksum mismatch: computed 0x%08X, "
             "stored 0x%08X", good, good ^ 1);
    CHECK_STR(err.message, want);
    CHECK_INT(msgs, 0);
    /* A flipped payload bit is caught too, whichever path decodes it. */
    f[len - 1] ^= 1;
    f[len - 6] ^= 0x40;
    char *t = decode_all_ways("payload-bit", f, len);
    CHECK(strstr(t, "error=Message checksum mismatch") != NULL);
    free(t);
    free(f);
}

static int count_msg(void *user, const es_message *m)
{
    (void)m;
    (*(int *)user)++;
    return 0;
}

static void test_sticky_error(void)
{
    uint8_t *good = NULL;
    size_t good_len = 0;
    CHECK_INT(es_encode(NULL, 0, (const uint8_t *)"ok", 2, &good, &good_len),
              STRANDS_OK);
    es_decoder *d = es_decoder_new();
    CHECK(d != NULL);
    if (!d) return;
    int msgs = 0;
    strands_error err;
    CHECK_INT(es_decoder_feed(d, good, good_len, count_msg, &msgs, &err),
              STRANDS_OK);
    CHECK_INT(msgs, 1);
    CHECK(es_decoder_idle(d));
    good[good_len - 2] ^= 0xff;   /* bad message CRC */
    CHECK_INT(es_decoder_feed(d, good, good_len, count_msg, &msgs, &err),
              STRANDS_E_PARSE);
    char first[STRANDS_ERROR_MESSAGE_MAX];
    snprintf(first, sizeof first, "%s", err.message);
    CHECK(strncmp(first, "Message checksum mismatch", 25) == 0);
    CHECK(!es_decoder_idle(d));
    good[good_len - 2] ^= 0xff;   /* valid again: still refused */
    strands_error_clear(&err);
    CHECK_INT(es_decoder_feed(d, good, good_len, count_msg, &msgs, &err),
              STRANDS_E_PARSE);
    CHECK_STR(err.message, first);
    CHECK_INT(err.status, STRANDS_E_PARSE);
    CHECK_INT(es_decoder_feed(d, NULL, 0, count_msg, &msgs, NULL),
              STRANDS_E_PARSE);
    CHECK_INT(msgs, 1);
    CHECK(!es_decoder_idle(d));
    es_decoder_free(d);
    free(good);
}

static void test_cancel(void)
{
    uint8_t *a = NULL, *b = NULL;
    size_t al = 0, bl = 0;
    CHECK_INT(es_encode(NULL, 0, (const uint8_t *)"one", 3, &a, &al),
              STRANDS_OK);
    CHECK_INT(es_encode(NULL, 0, (const uint8_t *)"two", 3, &b, &bl),
              STRANDS_OK);
    uint8_t both[64];
    CHECK(al + bl <= sizeof both);
    memcpy(both, a, al);
    memcpy(both + al, b, bl);
    ctx c;
    ctx_init(&c, 0, both, al + bl);
    c.cancel_at = 1;
    es_decoder *d = es_decoder_new();
    strands_error err;
    CHECK_INT(es_decoder_feed(d, both, al + bl, on_msg, &c, &err),
              STRANDS_E_CANCELLED);
    CHECK_INT(c.messages, 1);
    CHECK_STR(err.message,
              "event-stream decoding stopped by the message callback");
    CHECK_INT(es_decoder_feed(d, b, bl, on_msg, &c, &err),
              STRANDS_E_CANCELLED);
    CHECK_INT(c.messages, 1);
    CHECK(!es_decoder_idle(d));
    es_decoder_free(d);
    dynbuf_cleanup(&c.out);
    free(a);
    free(b);
}

static void test_partial_and_many(void)
{
    es_header h = { "k", 1, ES_STRING, 0, (const uint8_t *)"v", 1 };
    uint8_t *m = NULL;
    size_t ml = 0;
    CHECK_INT(es_encode(&h, 1, (const uint8_t *)"payload", 7, &m, &ml),
              STRANDS_OK);
    uint8_t stream[4 * 64];
    CHECK(4 * ml <= sizeof stream);
    for (int k = 0; k < 4; k++) memcpy(stream + k * ml, m, ml);
    es_decoder *d = es_decoder_new();
    int msgs = 0;
    strands_error err;
    /* Three whole messages and half of the fourth in one call. */
    size_t first = 3 * ml + ml / 2;
    CHECK_INT(es_decoder_feed(d, stream, first, count_msg, &msgs, &err),
              STRANDS_OK);
    CHECK_INT(msgs, 3);
    CHECK(!es_decoder_idle(d));
    CHECK_INT(es_decoder_feed(d, stream + first, 4 * ml - first - 1,
                              count_msg, &msgs, &err), STRANDS_OK);
    CHECK_INT(msgs, 3);
    CHECK(!es_decoder_idle(d));
    CHECK_INT(es_decoder_feed(d, stream + 4 * ml - 1, 1, count_msg, &msgs,
                              &err), STRANDS_OK);
    CHECK_INT(msgs, 4);
    CHECK(es_decoder_idle(d));
    /* A prelude alone (fewer than 16 bytes) leaves the decoder busy. */
    CHECK_INT(es_decoder_feed(d, stream, 12, NULL, NULL, &err), STRANDS_OK);
    CHECK(!es_decoder_idle(d));
    CHECK_INT(es_decoder_feed(d, stream + 12, ml - 12, NULL, NULL, &err),
              STRANDS_OK);
    CHECK(es_decoder_idle(d));
    CHECK_INT(es_decoder_feed(d, NULL, 0, NULL, NULL, &err), STRANDS_OK);
    CHECK_INT(es_decoder_feed(d, NULL, 5, NULL, NULL, &err),
              STRANDS_E_INVALID);
    es_decoder_free(d);
    es_decoder_free(NULL);
    free(m);
}

/* ---- encoder and round trips ------------------------------------------ */

typedef struct capture {
    int n;
    es_header h[16];
    size_t n_headers;
    uint8_t names[16][8];
    uint8_t values[16][64];
    uint8_t payload[64];
    size_t payload_len;
} capture;

static int capture_msg(void *user, const es_message *m)
{
    capture *c = user;
    c->n++;
    c->n_headers = m->n_headers;
    for (size_t k = 0; k < m->n_headers && k < 16; k++) {
        c->h[k] = m->headers[k];
        memcpy(c->names[k], m->headers[k].name, m->headers[k].name_len);
        c->h[k].name = (const char *)c->names[k];
        if (m->headers[k].bytes) {
            memcpy(c->values[k], m->headers[k].bytes, m->headers[k].len);
            c->h[k].bytes = c->values[k];
        }
    }
    c->payload_len = m->payload_len;
    if (m->payload_len <= sizeof c->payload)
        memcpy(c->payload, m->payload, m->payload_len);
    CHECK(es_message_header(m, "s") == &m->headers[7]);
    CHECK(es_message_header(m, "absent") == NULL);
    CHECK(es_message_header(m, "") == NULL);
    CHECK(es_header_str_eq(es_message_header(m, "s"), "text"));
    CHECK(!es_header_str_eq(es_message_header(m, "s"), "tex"));
    CHECK(!es_header_str_eq(es_message_header(m, "b"), "text"));
    CHECK(!es_header_str_eq(NULL, "text"));
    return 0;
}

static void test_round_trip_all_types(void)
{
    static const uint8_t uuid[16] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11,
                                      12, 13, 14, 0xff };
    const es_header in[] = {
        { "t", 1, ES_BOOL_TRUE, 0, NULL, 0 },
        { "f", 1, ES_BOOL_FALSE, 0, NULL, 0 },
        { "y", 1, ES_BYTE, -128, NULL, 0 },
        { "h", 1, ES_INT16, -32768, NULL, 0 },
        { "i", 1, ES_INT32, INT32_MIN, NULL, 0 },
        { "l", 1, ES_INT64, INT64_MIN, NULL, 0 },
        { "b", 1, ES_BYTES, 0, (const uint8_t *)"\x00\xff\x01", 3 },
        { "s", 1, ES_STRING, 0, (const uint8_t *)"text", 4 },
        { "ts", 2, ES_TIMESTAMP, -1, NULL, 0 },
        { "u", 1, ES_UUID, 0, uuid, 16 },
        { "s", 1, ES_STRING, 0, (const uint8_t *)"dup", 3 },
        { "e", 1, ES_STRING, 0, NULL, 0 },
        { "y2", 2, ES_BYTE, 127, NULL, 0 },
        { "l2", 2, ES_INT64, INT64_MAX, NULL, 0 },
    };
    size_t n = sizeof in / sizeof in[0];
    uint8_t *enc = NULL;
    size_t len = 0;
    CHECK_INT(es_encode(in, n, (const uint8_t *)"{}", 2, &enc, &len),
              STRANDS_OK);
    capture c;
    memset(&c, 0, sizeof c);
    es_decoder *d = es_decoder_new();
    strands_error err;
    CHECK_INT(es_decoder_feed(d, enc, len, capture_msg, &c, &err), STRANDS_OK);
    CHECK_INT(c.n, 1);
    CHECK_INT(c.n_headers, n);
    for (size_t k = 0; k < n && k < c.n_headers; k++) {
        CHECK_MEM(c.h[k].name, c.h[k].name_len, in[k].name, in[k].name_len);
        CHECK_INT(c.h[k].type, in[k].type);
        if (in[k].type == ES_BOOL_TRUE || in[k].type == ES_BOOL_FALSE)
            CHECK_INT(c.h[k].i, in[k].type == ES_BOOL_TRUE);
        else
            CHECK_INT(c.h[k].i, in[k].i);
        CHECK_MEM(c.h[k].bytes ? c.h[k].bytes : (const uint8_t *)"",
                  c.h[k].len, in[k].bytes ? in[k].bytes : (const uint8_t *)"",
                  in[k].len);
    }
    CHECK_MEM(c.payload, c.payload_len, "{}", 2);
    /* Byte-exact layout of a few values. */
    CHECK_MEM(enc + 12, 6, "\x01" "t\x00\x01" "f\x01", 6);
    CHECK_MEM(enc + 18, 4, "\x01" "y\x02\x80", 4);
    CHECK_MEM(enc + 22, 5, "\x01" "h\x03\x80\x00", 5);
    /* Re-encoding the decoded headers gives the same bytes. */
    uint8_t *again = NULL;
    size_t again_len = 0;
    CHECK_INT(es_encode(c.h, c.n_headers, c.payload, c.payload_len, &again,
                        &again_len), STRANDS_OK);
    CHECK_MEM(again, again_len, enc, len);
    free(again);
    free(enc);
    es_decoder_free(d);
    /* An empty message is the 16-byte aws-sdk-go empty_message. */
    CHECK_INT(es_encode(NULL, 0, NULL, 0, &enc, &len), STRANDS_OK);
    CHECK_MEM(enc, len, "\x00\x00\x00\x10\x00\x00\x00\x00\x05\xc2\x48\xeb"
              "\x7d\x98\xc8\xff", 16);
    free(enc);
}

static void expect_encode(const es_header *h, size_t n, size_t plen,
                          strands_status want)
{
    uint8_t *out = (uint8_t *)"x";
    size_t out_len = 7;
    uint8_t *payload = plen ? calloc(1, plen) : NULL;
    CHECK_INT(es_encode(h, n, payload, plen, &out, &out_len), want);
    if (want != STRANDS_OK) {
        CHECK(out == NULL);
        CHECK_INT(out_len, 0);
    }
    free(out);
    free(payload);
}

static void test_encode_rejects(void)
{
    char name256[256];
    memset(name256, 'n', sizeof name256);
    static uint8_t big[32768];
    es_header h = { "a", 1, ES_STRING, 0, big, 32767 };
    expect_encode(&h, 1, 0, STRANDS_OK);
    h.len = 32768;
    expect_encode(&h, 1, 0, STRANDS_E_INVALID);
    h = (es_header){ name256, 255, ES_BOOL_TRUE, 0, NULL, 0 };
    expect_encode(&h, 1, 0, STRANDS_OK);
    h.name_len = 256;
    expect_encode(&h, 1, 0, STRANDS_E_INVALID);
    h.name_len = 0;
    expect_encode(&h, 1, 0, STRANDS_E_INVALID);
    h = (es_header){ "a", 1, (es_header_type)10, 0, NULL, 0 };
    expect_encode(&h, 1, 0, STRANDS_E_INVALID);
    h = (es_header){ "a", 1, ES_UUID, 0, big, 15 };
    expect_encode(&h, 1, 0, STRANDS_E_INVALID);
    h = (es_header){ "a", 1, ES_BYTE, 128, NULL, 0 };
    expect_encode(&h, 1, 0, STRANDS_E_INVALID);
    h = (es_header){ "a", 1, ES_INT16, 32768, NULL, 0 };
    expect_encode(&h, 1, 0, STRANDS_E_INVALID);
    h = (es_header){ "a", 1, ES_INT32, (int64_t)INT32_MAX + 1, NULL, 0 };
    expect_encode(&h, 1, 0, STRANDS_E_INVALID);
    h = (es_header){ "a", 1, ES_BYTES, 0, NULL, 3 };
    expect_encode(&h, 1, 0, STRANDS_E_INVALID);
    expect_encode(NULL, 1, 0, STRANDS_E_INVALID);
    uint8_t *out;
    size_t out_len;
    CHECK_INT(es_encode(NULL, 0, NULL, 1, &out, &out_len), STRANDS_E_INVALID);
    CHECK_INT(es_encode(NULL, 0, NULL, 0, NULL, &out_len), STRANDS_E_INVALID);
}

/* Headers of exactly `total` bytes built from string headers named "a". */
static size_t fill_headers(es_header *hs, size_t total, const uint8_t *val)
{
    size_t n = 0;
    while (total > 0) {
        size_t v = total - 5 > 32767 ? 32767 : total - 5;
        if (total - (v + 5) > 0 && total - (v + 5) < 5) v -= 5;
        hs[n++] = (es_header){ "a", 1, ES_STRING, 0, val, v };
        total -= v + 5;
    }
    return n;
}

static void test_size_limits_exact(void)
{
    static uint8_t val[32767];
    memset(val, 'q', sizeof val);
    es_header hs[8];
    size_t n = fill_headers(hs, ES_MAX_HEADERS_LEN, val);
    uint8_t *pay = calloc(1, ES_MAX_PAYLOAD_LEN + 1);
    CHECK(pay != NULL);
    if (!pay) return;
    for (size_t k = 0; k < ES_MAX_PAYLOAD_LEN; k += 4096) pay[k] = (uint8_t)k;
    uint8_t *enc = NULL;
    size_t len = 0;
    /* Largest legal message: 128 KiB of headers and a 16 MiB payload. */
    CHECK_INT(es_encode(hs, n, pay, ES_MAX_PAYLOAD_LEN, &enc, &len),
              STRANDS_OK);
    CHECK_INT(len, 16 + ES_MAX_HEADERS_LEN + ES_MAX_PAYLOAD_LEN);
    if (enc) {
        CHECK_INT((uint32_t)enc[4] << 24 | enc[5] << 16 | enc[6] << 8 | enc[7],
                  ES_MAX_HEADERS_LEN);
        {
            es_decoder *d = es_decoder_new();
            int msgs = 0;
            strands_error err;
            size_t third = len / 3;
            CHECK_INT(es_decoder_feed(d, enc, third, count_msg, &msgs, &err),
                      STRANDS_OK);
            CHECK_INT(es_decoder_feed(d, enc + third, len - third, count_msg,
                                      &msgs, &err), STRANDS_OK);
            CHECK_INT(msgs, 1);
            CHECK(es_decoder_idle(d));
            es_decoder_free(d);
        }
    }
    free(enc);
    CHECK_INT(es_encode(hs, n, pay, ES_MAX_PAYLOAD_LEN + 1, &enc, &len),
              STRANDS_E_TOO_LARGE);
    hs[n] = (es_header){ "t", 1, ES_BOOL_TRUE, 0, NULL, 0 };
    CHECK_INT(es_encode(hs, n + 1, NULL, 0, &enc, &len), STRANDS_E_TOO_LARGE);
    free(pay);
}

int main(void)
{
    RUN(test_aws_sdk_go_positive);
    RUN(test_aws_sdk_go_negative);
    RUN(test_smithy_valid);
    RUN(test_smithy_invalid);
    RUN(test_converse_stream);
    RUN(test_prelude_limits);
    RUN(test_header_errors);
    RUN(test_message_crc);
    RUN(test_sticky_error);
    RUN(test_cancel);
    RUN(test_partial_and_many);
    RUN(test_round_trip_all_types);
    RUN(test_encode_rejects);
    RUN(test_size_limits_exact);
    return test_report();
}
