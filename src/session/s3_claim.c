/* Claims of the S3 session store as lease objects: session_<id>/.claim
 * holds {"token": "<32 hex>", "expires_at_ms": <wall-clock ms>} (token ""
 * once released). S3 has no locks, so every change of a lease is a
 * conditional PUT: a new lease object with If-None-Match: *, taking over a
 * lapsed or released one, renewing or releasing with If-Match on the
 * ETag just read. Of two instances racing, S3 lets exactly one write win.
 * Expiry is wall-clock time, compared by every instance: their clocks
 * must agree well within the lease (NTP / Amazon Time Sync keep them
 * within milliseconds; the lease defaults to 30 s).                     */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "session/s3.h"
#include "session/store.h"
#include "strands/clock.h"

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The lease read from S3. */
typedef struct lease {
    int exists;
    char etag[132];
    char token[STRANDS_SESSION_CLAIM_TOKEN_MAX];
    int64_t expires_at_ms;
} lease;

/* Reads the lease object. A body that is not a lease reads as a released
 * one (any claim may take it over with If-Match).                      */
static strands_status lease_read(s3_client *c, const char *key, lease *l,
                                 strands_error *err)
{
    memset(l, 0, sizeof *l);
    s3_object o;
    strands_status st = session_s3_get(c, key, &o, err);
    if (st == STRANDS_E_NOT_FOUND) return STRANDS_OK;
    if (st != STRANDS_OK) return st;
    l->exists = 1;
    snprintf(l->etag, sizeof l->etag, "%s", o.etag);
    json_t *doc = json_loadb(o.body, o.len, 0, NULL);
    session_s3_object_clear(&o);
    const char *tok = json_string_value(json_object_get(doc, "token"));
    json_t *exp = json_object_get(doc, "expires_at_ms");
    if (tok && strlen(tok) < sizeof l->token && json_is_integer(exp)) {
        snprintf(l->token, sizeof l->token, "%s", tok);
        l->expires_at_ms = (int64_t)json_integer_value(exp);
    }
    json_decref(doc);
    return STRANDS_OK;
}

static int lease_live(const lease *l)
{
    return l->exists && l->token[0] && l->expires_at_ms > wall_ms();
}

/* Writes the lease {token, expires_at_ms} over what l read. */
static strands_status lease_write(s3_client *c, const char *key,
                                  const lease *l, const char *token,
                                  int64_t expires_at_ms, strands_error *err)
{
    char body[STRANDS_SESSION_CLAIM_TOKEN_MAX + 80];
    int n = snprintf(body, sizeof body,
                     "{\n  \"token\": \"%s\",\n  \"expires_at_ms\": %lld\n}",
                     token, (long long)expires_at_ms);
    return session_s3_put(c, key, body, (size_t)n,
                          l->exists ? S3_COND_MATCH : S3_COND_NEW,
                          l->exists ? l->etag : NULL, NULL, err);
}

static strands_status busy(strands_error *err, const char *sid)
{
    return strands_error_set(err, STRANDS_E_BUSY, "SessionBusy",
                             "session %s is in use by another invocation",
                             sid);
}

strands_status session_s3_claim_take(s3_client *c, const char *claim_key,
                                     const char *sid, int64_t lease_ms,
                                     strands_session_claim *out,
                                     strands_error *err)
{
    lease l;
    strands_status st = lease_read(c, claim_key, &l, err);
    if (st != STRANDS_OK) return st;
    if (lease_live(&l)) return busy(err, sid);
    strands_session_claim cl;
    session_claim_token(&cl);
    int64_t mono = strands_clock_mono_ms();
    st = lease_write(c, claim_key, &l, cl.token, wall_ms() + lease_ms, err);
    if (st == STRANDS_E_BUSY) return busy(err, sid);
    if (st != STRANDS_OK) return st;
    cl.expires_ms = mono + lease_ms;
    *out = cl;
    return STRANDS_OK;
}

/* Reads the lease and checks it is claim's and live. */
static strands_status held(s3_client *c, const char *claim_key,
                           const char *sid, const strands_session_claim *claim,
                           lease *l, strands_error *err)
{
    strands_status st = lease_read(c, claim_key, l, err);
    if (st != STRANDS_OK) return st;
    if (!lease_live(l) ||
        strncmp(l->token, claim->token, sizeof l->token) != 0)
        return session_claim_lost(err, sid);
    return STRANDS_OK;
}

strands_status session_s3_claim_check(s3_client *c, const char *claim_key,
                                      const char *sid,
                                      const strands_session_claim *claim,
                                      char *etag_out, strands_error *err)
{
    lease l;
    strands_status st = held(c, claim_key, sid, claim, &l, err);
    if (st == STRANDS_OK && etag_out) snprintf(etag_out, 132, "%s", l.etag);
    return st;
}

strands_status session_s3_claim_renew(s3_client *c, const char *claim_key,
                                      const char *sid, int64_t lease_ms,
                                      strands_session_claim *claim,
                                      strands_error *err)
{
    lease l;
    strands_status st = held(c, claim_key, sid, claim, &l, err);
    if (st != STRANDS_OK) return st;
    int64_t mono = strands_clock_mono_ms();
    st =
        lease_write(c, claim_key, &l, claim->token, wall_ms() + lease_ms, err);
    if (st == STRANDS_E_BUSY) return session_claim_lost(err, sid);
    if (st == STRANDS_OK) claim->expires_ms = mono + lease_ms;
    return st;
}

strands_status session_s3_claim_release(s3_client *c, const char *claim_key,
                                        const char *sid,
                                        const strands_session_claim *claim,
                                        strands_error *err)
{
    lease l;
    strands_status st = held(c, claim_key, sid, claim, &l, err);
    if (st != STRANDS_OK) return st;
    st = lease_write(c, claim_key, &l, "", 0, err);
    if (st == STRANDS_E_BUSY) return session_claim_lost(err, sid);
    return st;
}
