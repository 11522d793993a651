/* The S3 session store (SESSION_STORE=s3://bucket[/prefix]): the vtable
 * and the store object. Objects in Strands Python's S3SessionManager
 * layout, JSON shapes from file_layout.c:
 *   <prefix>/session_<sid>/session.json
 *   <prefix>/session_<sid>/agents/agent_<aid>/agent.json
 *   <prefix>/session_<sid>/agents/agent_<aid>/messages/message_<N>.json
 *   <prefix>/session_<sid>/.claim          (our lease object, s3_claim.c)
 * A turn is appended all-or-nothing for readers: the message objects are
 * written first, each with If-None-Match: * (a new object), then
 * agent.json, the commit point, with If-Match on the ETag read at the
 * start of the append (If-None-Match: * for a new agent); it records the
 * committed log length (_strands_c.message_count) and load reads only
 * messages below it. Any condition that fails means another writer got
 * there first: SessionConflict, and nothing of ours is committed. Message
 * objects at or past the committed length are orphans of a turn that did
 * not commit (a crash, S3 down); an append holding a live claim replaces
 * them (If-Match on the orphan's ETag), an unfenced append refuses with
 * SessionConflict (it cannot tell an orphan from a turn in flight).    */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "session/file.h"
#include "session/s3.h"
#include "session/store.h"

typedef struct s3_store {
    strands_session_store base;
    s3_client client;
    char prefix[S3_PREFIX_MAX + 1];
    size_t max_history_bytes;
    int64_t lease_ms;
} s3_store;

static strands_status oom(strands_error *err)
{
    return strands_error_set(err, STRANDS_E_NOMEM, NULL, "out of memory");
}

/* ---- keys --------------------------------------------------------------- */

/* Keys of one agent of one session. */
typedef struct s3_keys {
    char session[S3_KEY_MAX + 1];  /* .../session_<sid>/session.json */
    char claim[S3_KEY_MAX + 1];    /* .../session_<sid>/.claim */
    char agent[S3_KEY_MAX + 1];    /* .../agent_<aid>/agent.json */
    char messages[S3_KEY_MAX + 1]; /* .../agent_<aid>/messages/ */
} s3_keys;

/* An id used in a key: the session-id rules and no '/' (Strands refuses
 * path separators in ids: a '/' would move the object to another
 * "directory" of the layout).                                          */
static strands_status id_check(const char *id, const char *what,
                               strands_error *err)
{
    if (strchr(id, '/'))
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "s3 store: the %s '%.64s' contains '/'", what,
                                 id);
    return STRANDS_OK;
}

static strands_status keys_for(const s3_store *s,
                               const strands_session_key *key, s3_keys *k,
                               strands_error *err)
{
    strands_status st = session_key_check(key, NULL, err);
    if (st != STRANDS_OK) return st;
    const char *sid = key->session_id;
    const char *aid = key->agent_id ? key->agent_id : "default";
    st = id_check(sid, "session id", err);
    if (st == STRANDS_OK) st = id_check(aid, "agent id", err);
    if (st != STRANDS_OK) return st;
    char rest[S3_KEY_MAX + 1];
    int bad = 0;
    snprintf(rest, sizeof rest, "session_%s/session.json", sid);
    bad |= session_s3_key(k->session, sizeof k->session, s->prefix, rest);
    snprintf(rest, sizeof rest, "session_%s/.claim", sid);
    bad |= session_s3_key(k->claim, sizeof k->claim, s->prefix, rest);
    snprintf(rest, sizeof rest, "session_%s/agents/agent_%s/agent.json", sid,
             aid);
    bad |= session_s3_key(k->agent, sizeof k->agent, s->prefix, rest);
    /* room for "message_<7 digits>.json" after it */
    int n = snprintf(rest, sizeof rest, "session_%s/agents/agent_%s/messages/",
                     sid, aid);
    bad |=
        n < 0 || (size_t)n + 20 >= sizeof rest ||
        session_s3_key(k->messages, sizeof k->messages - 20, s->prefix, rest);
    if (bad)
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "s3 store: the session or agent id makes "
                                 "an S3 key longer than %d bytes",
                                 S3_KEY_MAX);
    return STRANDS_OK;
}

static void message_key(const s3_keys *k, size_t i, char *out, size_t outsz)
{
    snprintf(out, outsz, "%smessage_%zu.json", k->messages, i);
}

/* ---- reading ------------------------------------------------------------ */

/* agent.json as read: absent (exists 0), or its agent object, created_at,
 * the committed length (-1: not recorded, written by Strands Python) and
 * its ETag.                                                              */
typedef struct agent_read {
    int exists;
    json_t *agent;
    json_t *created;
    long long committed;
    char etag[132];
    size_t len;
} agent_read;

static void agent_read_clear(agent_read *a)
{
    json_decref(a->agent);
    json_decref(a->created);
    memset(a, 0, sizeof *a);
}

static strands_status read_agent(s3_store *s, const s3_keys *k, agent_read *a,
                                 strands_error *err)
{
    memset(a, 0, sizeof *a);
    a->committed = -1;
    s3_object o;
    strands_status st = session_s3_get(&s->client, k->agent, &o, err);
    if (st == STRANDS_E_NOT_FOUND) {
        a->committed = 0;
        return STRANDS_OK;
    }
    if (st != STRANDS_OK) return st;
    if (o.len > S3_MAX_META_BYTES) {
        session_s3_object_clear(&o);
        return strands_error_set(err, STRANDS_E_TOO_LARGE,
                                 "SessionHistoryTooLarge",
                                 "s3 store: %.300s is too large", k->agent);
    }
    a->exists = 1;
    a->len = o.len;
    snprintf(a->etag, sizeof a->etag, "%s", o.etag);
    st = fstore_agent_parse(o.body, o.len, k->agent, &a->agent, &a->created,
                            &a->committed, err);
    session_s3_object_clear(&o);
    return st;
}

/* The message objects listed under k->messages: index -> (size, etag),
 * and the length of the run message_0..n-1 without a gap.              */
typedef struct msg_index {
    s3_list_page page;
    size_t *slot; /* slot[i] = 1 + the page entry of message_i, or 0 */
    size_t n_slots;
    size_t contiguous;
} msg_index;

static void msg_index_free(msg_index *m)
{
    session_s3_list_page_free(&m->page);
    free(m->slot);
    memset(m, 0, sizeof *m);
}

static strands_status list_messages(s3_store *s, const s3_keys *k,
                                    msg_index *m, strands_error *err)
{
    memset(m, 0, sizeof *m);
    strands_status st =
        session_s3_list(&s->client, k->messages, &m->page, err);
    if (st != STRANDS_OK) return st;
    size_t plen = strlen(k->messages), top = 0, idx;
    for (size_t i = 0; i < m->page.n_keys; i++) {
        const char *name = m->page.keys[i];
        if (strncmp(name, k->messages, plen) != 0) continue;
        if (fstore_message_name(name + plen, &idx) == 1 && idx + 1 > top)
            top = idx + 1;
    }
    if (top && !(m->slot = calloc(top, sizeof *m->slot))) {
        msg_index_free(m);
        return oom(err);
    }
    m->n_slots = top;
    for (size_t i = 0; i < m->page.n_keys; i++) {
        const char *name = m->page.keys[i];
        if (strncmp(name, k->messages, plen) != 0) continue;
        if (fstore_message_name(name + plen, &idx) == 1) m->slot[idx] = i + 1;
    }
    while (m->contiguous < top && m->slot[m->contiguous]) m->contiguous++;
    return STRANDS_OK;
}

static strands_status s3_load(strands_session_store *self,
                              const strands_session_key *key,
                              strands_session_record *out, strands_error *err)
{
    s3_store *s = (s3_store *)self;
    if (!out)
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "load: no record to fill");
    memset(out, 0, sizeof *out);
    s3_keys k;
    strands_status st = keys_for(s, key, &k, err);
    if (st != STRANDS_OK) return st;
    agent_read a;
    st = read_agent(s, &k, &a, err);
    if (st == STRANDS_OK && a.exists && a.committed < 0) {
        /* Written by Strands Python: the log is every message object. */
        msg_index m;
        st = list_messages(s, &k, &m, err);
        if (st == STRANDS_OK) a.committed = (long long)m.contiguous;
        msg_index_free(&m);
    }
    json_t *msgs = json_array();
    if (!msgs && st == STRANDS_OK) st = oom(err);
    size_t count = a.exists ? (size_t)a.committed : 0;
    size_t first = a.exists ? fstore_removed_count(a.agent, count) : 0;
    size_t total = a.len;
    char mkey[S3_KEY_MAX + 40];
    for (size_t i = first; st == STRANDS_OK && i < count; i++) {
        message_key(&k, i, mkey, sizeof mkey);
        s3_object o;
        st = session_s3_get(&s->client, mkey, &o, err);
        if (st == STRANDS_E_NOT_FOUND) {
            st = strands_error_set(err, STRANDS_E_PARSE, "SessionCorrupt",
                                   "s3 store: %.300s is missing (agent.json "
                                   "records %zu messages)",
                                   mkey, count);
            break;
        }
        if (st != STRANDS_OK) break;
        total += o.len;
        st = session_check_history_size(err, key->session_id, total,
                                        s->max_history_bytes);
        json_t *msg = NULL;
        if (st == STRANDS_OK)
            st = fstore_message_parse(o.body, o.len, i, mkey, &msg, err);
        session_s3_object_clear(&o);
        if (st == STRANDS_OK && json_array_append_new(msgs, msg) != 0)
            st = oom(err);
    }
    if (st == STRANDS_OK && !a.agent && !(a.agent = json_object()))
        st = oom(err);
    if (st != STRANDS_OK) {
        json_decref(msgs);
        agent_read_clear(&a);
        return st;
    }
    out->messages = msgs;
    out->agent = a.agent;
    a.agent = NULL;
    out->first = first;
    out->count = count;
    agent_read_clear(&a);
    return STRANDS_OK;
}

/* ---- append ------------------------------------------------------------- */

/* The message_<base+i>.json texts of one turn. */
/* The records of one append plus what each PUT answered. */
typedef struct turn {
    fstore_turn r;
    char (*etags)[132];
} turn;

static void turn_free(turn *t)
{
    fstore_turn_free(&t->r);
    free(t->etags);
    t->etags = NULL;
}

static strands_status turn_prepare(turn *t, const json_t *messages,
                                   size_t base, const char *now,
                                   strands_error *err)
{
    t->etags = NULL;
    strands_status st = fstore_turn_prepare(&t->r, messages, base, now, err);
    if (st != STRANDS_OK) return st;
    if (t->r.n && !(t->etags = calloc(t->r.n, sizeof *t->etags))) {
        turn_free(t);
        return oom(err);
    }
    return STRANDS_OK;
}

static strands_status orphan_conflict(strands_error *err, const char *sid,
                                      size_t i)
{
    return strands_error_set(err, STRANDS_E_BUSY, "SessionConflict",
                             "session %s: message %zu exists past the "
                             "committed log (a turn of another writer in "
                             "flight, or one that never committed; an "
                             "invocation holding the session's claim "
                             "replaces it)",
                             sid, i);
}

/* Removes the message objects this append wrote, each only while it is
 * still ours (If-Match); best effort, after a failure that is not a
 * conflict.                                                            */
static void undo_messages(s3_store *s, const s3_keys *k, size_t base,
                          const turn *t, size_t written)
{
    char mkey[S3_KEY_MAX + 40];
    for (size_t i = 0; i < written; i++) {
        strands_error ignored;
        message_key(k, base + i, mkey, sizeof mkey);
        (void)session_s3_delete(&s->client, mkey, t->etags[i], &ignored);
    }
}

/* The whole append once the turn is prepared. */
static strands_status append_turn(s3_store *s, const s3_keys *k,
                                  const strands_session_key *key,
                                  const strands_session_claim *claim,
                                  size_t base, turn *t, const json_t *agent,
                                  const char *now, strands_error *err)
{
    const char *sid = key->session_id;
    const char *aid = key->agent_id ? key->agent_id : "default";
    strands_status st;
    if (claim) {
        st = session_s3_claim_check(&s->client, k->claim, sid, claim, NULL,
                                    err);
        if (st != STRANDS_OK) return st;
    }
    agent_read a;
    st = read_agent(s, k, &a, err);
    msg_index m;
    memset(&m, 0, sizeof m);
    if (st == STRANDS_OK) st = list_messages(s, k, &m, err);
    if (st == STRANDS_OK) {
        if (a.exists && a.committed < 0) a.committed = (long long)m.contiguous;
        if ((size_t)a.committed != base)
            st = session_conflict(err, sid, base, (size_t)a.committed);
    }
    /* agent.json as it will be once the turn is committed. */
    char *atext = NULL;
    size_t alen = 0;
    if (st == STRANDS_OK) {
        json_t *doc = fstore_agent_doc(
            agent, aid, json_string_value(a.created), now, base + t->r.n);
        atext = doc ? fstore_json_text(doc, &alen) : NULL;
        json_decref(doc);
        if (!atext) st = oom(err);
    }
    /* The cap: what load will return after this turn, agent included. */
    if (st == STRANDS_OK) {
        size_t first = fstore_removed_count(agent, base + t->r.n), total = alen;
        for (size_t i = first; i < base; i++)
            if (i < m.n_slots && m.slot[i])
                total += m.page.sizes[m.slot[i] - 1];
        for (size_t i = 0; i < t->r.n; i++)
            if (base + i >= first) total += t->r.lens[i];
        st = session_check_history_size(err, sid, total, s->max_history_bytes);
    }
    /* A new session gets its session.json (kept when it exists). */
    if (st == STRANDS_OK && !a.exists) {
        json_t *sdoc = fstore_session_doc(sid, NULL, now);
        size_t slen;
        char *stext = sdoc ? fstore_json_text(sdoc, &slen) : NULL;
        json_decref(sdoc);
        if (!stext)
            st = oom(err);
        else
            st = session_s3_put(&s->client, k->session, stext, slen,
                                S3_COND_NEW, NULL, NULL, err);
        free(stext);
        if (st == STRANDS_E_BUSY) st = STRANDS_OK; /* already there */
    }
    /* The messages: new objects, or (claimed) over an orphan. */
    size_t written = 0;
    char mkey[S3_KEY_MAX + 40];
    for (; st == STRANDS_OK && written < t->r.n; written++) {
        size_t i = base + written;
        message_key(k, i, mkey, sizeof mkey);
        const char *orphan = NULL;
        if (i < m.n_slots && m.slot[i]) {
            orphan = m.page.etags[m.slot[i] - 1];
            if (!claim || !orphan) {
                st = orphan_conflict(err, sid, i);
                break;
            }
        }
        s3_object put;
        st = session_s3_put(
            &s->client, mkey, t->r.texts[written], t->r.lens[written],
            orphan ? S3_COND_MATCH : S3_COND_NEW, orphan, &put, err);
        if (st == STRANDS_E_BUSY) {
            st = session_conflict(err, sid, base, base + 1);
            break;
        }
        if (st == STRANDS_OK)
            snprintf(t->etags[written], sizeof t->etags[written], "%s",
                     put.etag);
        else
            break;
    }
    /* The commit point. */
    if (st == STRANDS_OK) {
        st = session_s3_put(&s->client, k->agent, atext, alen,
                            a.exists ? S3_COND_MATCH : S3_COND_NEW,
                            a.exists ? a.etag : NULL, NULL, err);
        if (st == STRANDS_E_BUSY)
            st = strands_error_set(err, STRANDS_E_BUSY, "SessionConflict",
                                   "session %s: agent.json changed since "
                                   "this turn read it (another writer "
                                   "committed)",
                                   sid);
    }
    if (st != STRANDS_OK && st != STRANDS_E_BUSY && written)
        undo_messages(s, k, base, t, written);
    free(atext);
    msg_index_free(&m);
    agent_read_clear(&a);
    return st;
}

static strands_status s3_append(strands_session_store *self,
                                const strands_session_key *key,
                                const strands_session_claim *claim,
                                size_t base, const json_t *messages,
                                const json_t *agent, strands_error *err)
{
    s3_store *s = (s3_store *)self;
    s3_keys k;
    strands_status st = keys_for(s, key, &k, err);
    if (st != STRANDS_OK) return st;
    st = session_check_turn(err, key->session_id, messages, agent);
    if (st != STRANDS_OK) return st;
    size_t i;
    json_t *msg;
    json_array_foreach(messages, i, msg)
    {
        if (!json_is_string(json_object_get(msg, "role")) ||
            !json_is_array(json_object_get(msg, "content")))
            return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                     "append: message %zu has no role and "
                                     "content",
                                     i);
    }
    if (base > S3_MAX_MESSAGES ||
        json_array_size(messages) > S3_MAX_MESSAGES - base)
        return strands_error_set(err, STRANDS_E_TOO_LARGE,
                                 "SessionHistoryTooLarge",
                                 "append: the log would hold more than %d "
                                 "messages",
                                 S3_MAX_MESSAGES);
    char now[48];
    fstore_iso_now(now, sizeof now);
    turn t;
    st = turn_prepare(&t, messages, base, now, err);
    if (st != STRANDS_OK) return st;
    /* The cap on what this turn alone adds, before any request. */
    size_t first = fstore_removed_count(agent, base + t.r.n);
    size_t total = json_dumpb(agent, NULL, 0, JSON_COMPACT);
    for (i = 0; i < t.r.n; i++)
        if (base + i >= first) total += t.r.lens[i];
    st = session_check_history_size(err, key->session_id, total,
                                    s->max_history_bytes);
    if (st == STRANDS_OK)
        st = append_turn(s, &k, key, claim, base, &t, agent, now, err);
    turn_free(&t);
    return st;
}

/* ---- claims ------------------------------------------------------------- */

static strands_status s3_claim(strands_session_store *self,
                               const strands_session_key *key,
                               strands_session_claim *out, strands_error *err)
{
    s3_store *s = (s3_store *)self;
    if (!out)
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "claim: no claim to fill");
    s3_keys k;
    strands_status st = keys_for(s, key, &k, err);
    if (st != STRANDS_OK) return st;
    return session_s3_claim_take(&s->client, k.claim, key->session_id,
                                 s->lease_ms, out, err);
}

static strands_status s3_renew(strands_session_store *self,
                               const strands_session_key *key,
                               strands_session_claim *claim,
                               strands_error *err)
{
    s3_store *s = (s3_store *)self;
    if (!claim)
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "renew: no claim");
    s3_keys k;
    strands_status st = keys_for(s, key, &k, err);
    if (st != STRANDS_OK) return st;
    return session_s3_claim_renew(&s->client, k.claim, key->session_id,
                                  s->lease_ms, claim, err);
}

static strands_status s3_release(strands_session_store *self,
                                 const strands_session_key *key,
                                 const strands_session_claim *claim,
                                 strands_error *err)
{
    s3_store *s = (s3_store *)self;
    if (!claim)
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "release: no claim");
    s3_keys k;
    strands_status st = keys_for(s, key, &k, err);
    if (st != STRANDS_OK) return st;
    return session_s3_claim_release(&s->client, k.claim, key->session_id,
                                    claim, err);
}

static void s3_destroy(strands_session_store *self)
{
    s3_store *s = (s3_store *)self;
    session_s3_client_cleanup(&s->client);
    free(s);
}

static const strands_session_store_vtab s3_vtab = {
    .version = STRANDS_SESSION_VTAB_VERSION,
    .name = "s3",
    .load = s3_load,
    .append = s3_append,
    .claim = s3_claim,
    .renew = s3_renew,
    .release = s3_release,
    .destroy = s3_destroy,
};

strands_session_store *strands_s3_store_new(const strands_s3_store_config *cfg,
                                            strands_error *err)
{
    if (!cfg) {
        strands_error_set(err, STRANDS_E_INVALID, NULL,
                          "s3 store: no configuration");
        return NULL;
    }
    if (cfg->lease_ms < 0 || cfg->max_attempts < 0 || cfg->max_attempts > 20) {
        strands_error_set(err, STRANDS_E_INVALID, NULL,
                          "s3 store: lease or attempts out of range");
        return NULL;
    }
    s3_store *s = calloc(1, sizeof *s);
    if (!s) {
        oom(err);
        return NULL;
    }
    s->base.vtab = &s3_vtab;
    s->max_history_bytes = cfg->max_history_bytes
                               ? cfg->max_history_bytes
                               : STRANDS_SESSION_DEFAULT_MAX_HISTORY_BYTES;
    s->lease_ms = cfg->lease_ms ? cfg->lease_ms : 30000;
    if (session_s3_prefix_normalize(cfg->prefix, s->prefix, sizeof s->prefix,
                                    err) != STRANDS_OK ||
        session_s3_client_init(&s->client, cfg, err) != STRANDS_OK) {
        session_s3_client_cleanup(&s->client);
        free(s);
        return NULL;
    }
    return &s->base;
}

strands_status strands_s3_store_parse_url(const char *arg, char *bucket_out,
                                          size_t bucket_size, char *prefix_out,
                                          size_t prefix_size,
                                          strands_error *err)
{
    if (!arg || strncmp(arg, "//", 2) != 0)
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "SESSION_STORE: the s3 store is "
                                 "'s3://bucket[/prefix]'");
    const char *b = arg + 2, *slash = strchr(b, '/');
    size_t blen = slash ? (size_t)(slash - b) : strlen(b);
    if (blen == 0 || blen >= bucket_size || blen > 63)
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "SESSION_STORE: 's3:%.80s' has no valid "
                                 "bucket name",
                                 arg);
    memcpy(bucket_out, b, blen);
    bucket_out[blen] = '\0';
    strands_status st = session_s3_bucket_check(bucket_out, err);
    if (st != STRANDS_OK) return st;
    return session_s3_prefix_normalize(slash ? slash + 1 : "", prefix_out,
                                       prefix_size, err);
}
