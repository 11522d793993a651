/* The AgentCore Memory session store: a session is the event stream of
 * (memory, actor, session) in AgentCore Memory short-term memory, written
 * with CreateEvent (one event per message, one agent-state event per
 * turn) and read back with ListEvents (every page, bounded), SigV4 service
 * "bedrock-agentcore", AWS standard retries.
 *
 * A turn cannot be written atomically (one event per message), so each
 * turn is tagged: its message events carry metadata strands-c.turn = T, and
 * the agent-state event written LAST commits it (same T, plus the base it
 * was appended after and its message count). Loads replay the events in
 * time order and take a tagged message only when its turn's commit event
 * exists and its base matches the log at that point; untagged messages
 * (written by Strands Python) always count. A failure midway therefore
 * leaves ignored events, never a half turn. Claims are process-local
 * (AgentCore Memory has no lock): see docs/internals/session.md.      */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aws/aws_call.h"
#include "aws/retry.h"
#include "aws/sigv4.h"
#include "session/agentcore_memory.h"
#include "session/store.h"
#include "strands/clock.h"

#define UNAVAILABLE "SessionStoreUnavailable"
#define MAX_ENTRIES 65536   /* sessions claimed or appending at once */

/* A session this process holds a claim on or is appending to. */
typedef struct acm_entry {
    struct acm_entry *next;
    char *session_id;
    int claimed;
    int64_t lease_until;                       /* 0: never lapses */
    char token[STRANDS_SESSION_CLAIM_TOKEN_MAX];
    int appending;                             /* one append at a time */
} acm_entry;

typedef struct acm_store {
    strands_session_store base;
    char *memory_id;
    char *memory_enc;          /* memory id, URI-encoded for paths */
    char *region;
    char *default_actor;
    aws_endpoint endpoint;
    strands_credentials_provider *credentials;
    int own_credentials;
    http_client *http;
    aws_retry_policy retry;
    size_t max_history_bytes;
    size_t max_events;
    int64_t lease_ms;
    long connect_timeout_ms;
    long read_timeout_ms;
    pthread_mutex_t lock;
    pthread_cond_t cond;       /* an append finished */
    acm_entry *entries;
    size_t n_entries;
    int64_t last_ts_ms;        /* newest eventTimestamp this process sent */
} acm_store;

/* ---- one signed call --------------------------------------------------- */

typedef struct acm_call {
    acm_store *s;
    const char *path;
    const char *body;
    size_t body_len;
    long want;                 /* the success status */
    char *answer;              /* the 2xx body (malloc'd) */
} acm_call;

static strands_status attempt(void *user, long *http_status,
                              strands_error *err)
{
    acm_call *c = user;
    strands_credentials creds;
    memset(&creds, 0, sizeof creds);
    strands_status st = strands_credentials_resolve(c->s->credentials, &creds,
                                                    err);
    if (st != STRANDS_OK) return st;
    aws_call call = {
        .endpoint = &c->s->endpoint,
        .service = "bedrock-agentcore",
        .region = c->s->region,
        .creds = &creds,
        .method = "POST",
        .path = c->path,
        .content_type = "application/json",
        .body = c->body,
        .body_len = c->body_len,
        .connect_timeout_ms = c->s->connect_timeout_ms,
        .read_timeout_ms = c->s->read_timeout_ms,
    };
    http_response resp;
    st = aws_call_send(c->s->http, &call, &resp, err);
    strands_credentials_wipe(&creds);
    if (st != STRANDS_OK) return st;
    *http_status = resp.status;
    if (resp.status == c->want) {
        free(c->answer);
        c->answer = dynbuf_take(&resp.body, NULL);
        if (!c->answer)
            st = strands_error_set(err, STRANDS_E_NOMEM, NULL, "OOM");
    } else {
        st = aws_error_from_response(&resp, "AgentCore Memory", err);
    }
    http_response_cleanup(&resp);
    return st;
}

/* Sends body to path with retries; on OK, *answer (malloc'd) is the
 * parsed answer. Errors as the store reports them: ValidationException
 * E_INVALID; anything else after retries E_UNAVAILABLE
 * "SessionStoreUnavailable" naming the AWS error.                      */
static strands_status send_json(acm_store *s, const char *path,
                                json_t *body, long want, json_t **answer,
                                size_t *answer_len, const char *what,
                                strands_error *err)
{
    *answer = NULL;
    /* eventTimestamp is epoch seconds with milliseconds: 13 digits. */
    char *text = session_acm_dump(body, JSON_COMPACT | JSON_REAL_PRECISION(13));
    if (!text)
        return strands_error_set(err, STRANDS_E_NOMEM, NULL,
                                 "out of memory building %s", what);
    acm_call c = {.s = s, .path = path, .body = text,
                  .body_len = strlen(text), .want = want};
    strands_error e;
    strands_error_clear(&e);
    strands_status st = aws_retry_run(&s->retry, attempt, &c, NULL, &e);
    free(text);
    if (st == STRANDS_OK) {
        if (answer_len) *answer_len = strlen(c.answer);
        *answer = json_loads(c.answer, 0, NULL);
        free(c.answer);
        if (json_is_object(*answer)) return STRANDS_OK;
        json_decref(*answer);
        *answer = NULL;
        return strands_error_set(err, STRANDS_E_UNAVAILABLE, UNAVAILABLE,
                                 "AgentCore Memory %s: answer is not a JSON "
                                 "object", what);
    }
    free(c.answer);
    if (st == STRANDS_E_NOMEM) {
        if (err) *err = e;
        return st;
    }
    if (!strcmp(e.code, "ValidationException"))
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "AgentCore Memory %s refused: %s", what,
                                 e.message);
    strands_status out = strands_error_set(
        err, STRANDS_E_UNAVAILABLE, UNAVAILABLE,
        "AgentCore Memory %s failed (memory %s): %s%s%s", what, s->memory_id,
        e.code[0] ? e.code : "error", e.message[0] ? ": " : "", e.message);
    if (err) err->http_status = e.http_status;
    return out;
}

/* ---- ListEvents -------------------------------------------------------- */

/* The string value of an event's metadata entry `key`, or NULL. */
static const char *md_str(const json_t *ev, const char *key)
{
    return json_string_value(json_object_get(
        json_object_get(json_object_get(ev, "metadata"), key),
        "stringValue"));
}


/* Every event of (actor, session), payloads included, into *out (a new
 * array), except the payloads of agent_id's agent-state events older
 * than the ACM_AGENT_PAYLOADS_KEPT newest (one is written per turn; only
 * the latest committed one is read). E_TOO_LARGE past max_events or
 * when the answers add up to more than ACM_LIST_BYTES_FACTOR times the
 * history cap (plus 64 MiB).                                          */
static strands_status list_all(acm_store *s, const char *actor,
                               const char *sid, const char *agent_id,
                               json_t **out, strands_error *err)
{
    *out = NULL;
    char *ea = sigv4_uri_encode(actor, strlen(actor));
    char *es = sigv4_uri_encode(sid, strlen(sid));
    char path[1024];
    int plen = ea && es ? snprintf(path, sizeof path,
                                   "/memories/%s/actor/%s/sessions/%s",
                                   s->memory_enc, ea, es)
                        : -1;
    free(ea);
    free(es);
    if (plen < 0)
        return strands_error_set(err, STRANDS_E_NOMEM, NULL, "OOM");
    if ((size_t)plen >= sizeof path)
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "AgentCore Memory path too long");
    json_t *events = json_array();
    if (!events) return strands_error_set(err, STRANDS_E_NOMEM, NULL, "OOM");
    char *next = NULL;
    strands_status st = STRANDS_OK;
    size_t pages = 0, max_pages = s->max_events / ACM_PAGE_SIZE + 2;
    size_t bytes = 0, agents = 0;
    size_t max_bytes = s->max_history_bytes * ACM_LIST_BYTES_FACTOR +
                       ((size_t)64 << 20);
    do {
        json_t *body = json_pack("{s:b, s:i}", "includePayloads", 1,
                                 "maxResults", ACM_PAGE_SIZE);
        if (body && next)
            json_object_set_new(body, "nextToken", json_string(next));
        free(next);
        next = NULL;
        if (!body) {
            st = strands_error_set(err, STRANDS_E_NOMEM, NULL, "OOM");
            break;
        }
        json_t *answer;
        size_t got = 0;
        st = send_json(s, path, body, 200, &answer, &got, "ListEvents", err);
        json_decref(body);
        if (st != STRANDS_OK) break;
        bytes += got;
        json_t *page = json_object_get(answer, "events");
        if (!json_is_array(page)) {
            json_decref(answer);
            st = strands_error_set(err, STRANDS_E_UNAVAILABLE, UNAVAILABLE,
                                   "AgentCore Memory ListEvents: no events "
                                   "array in the answer");
            break;
        }
        size_t i;
        json_t *ev;
        json_array_foreach(page, i, ev) {   /* newest first */
            const char *type = md_str(ev, "stateType");
            const char *aid = md_str(ev, "agentId");
            if (type && !strcmp(type, "AGENT") && aid &&
                !strcmp(aid, agent_id) && ++agents > ACM_AGENT_PAYLOADS_KEPT)
                json_object_set_new(ev, "payload", json_array());
        }
        json_array_extend(events, page);
        const char *tok = json_string_value(json_object_get(answer,
                                                            "nextToken"));
        if (tok && *tok && !(next = strdup(tok)))
            st = strands_error_set(err, STRANDS_E_NOMEM, NULL, "OOM");
        json_decref(answer);
        if (st != STRANDS_OK) break;
        if (bytes > max_bytes)
            st = strands_error_set(
                err, STRANDS_E_TOO_LARGE, "SessionHistoryTooLarge",
                "session '%s' holds more than %zu bytes of events in "
                "AgentCore Memory", sid, max_bytes);
        else if (json_array_size(events) > s->max_events ||
                 ++pages > max_pages)
            st = strands_error_set(
                err, STRANDS_E_TOO_LARGE, "SessionHistoryTooLarge",
                "session '%s' has more than %zu events in AgentCore Memory",
                sid, s->max_events);
    } while (st == STRANDS_OK && next);
    free(next);
    if (st != STRANDS_OK) {
        json_decref(events);
        return st;
    }
    *out = events;
    return STRANDS_OK;
}

/* ---- replay: events -> the committed log and agent object -------------- */

typedef struct acm_state {
    json_t *log;           /* committed messages, oldest first */
    json_t *agent;         /* the latest agent object, or NULL */
    char *agent_created;   /* its created_at, or NULL */
    size_t agent_bytes;    /* its compact JSON size */
    size_t log_bytes;      /* the log's compact JSON size */
    int64_t max_ts;        /* newest eventTimestamp (ms), 0 if none */
    int has_session;       /* a Strands SESSION event exists */
} acm_state;

static void state_clear(acm_state *st)
{
    json_decref(st->log);
    json_decref(st->agent);
    free(st->agent_created);
    memset(st, 0, sizeof *st);
}

typedef struct ev_ref {
    json_t *ev;
    int64_t ts;
    const char *id;
    size_t order;
} ev_ref;

static int ev_cmp(const void *a, const void *b)
{
    const ev_ref *x = a, *y = b;
    if (x->ts != y->ts) return x->ts < y->ts ? -1 : 1;
    int c = strcmp(x->id, y->id);
    if (c) return c;
    return x->order < y->order ? -1 : x->order > y->order;
}

static size_t compact_size(const json_t *v)
{
    return json_dumpb(v, NULL, 0, JSON_COMPACT);
}

/* A decimal metadata value; -1 when absent or malformed. */
static long long md_num(const json_t *ev, const char *key)
{
    const char *v = md_str(ev, key);
    if (!v || !*v || strlen(v) > 18) return -1;
    char *end;
    long long n = strtoll(v, &end, 10);
    return *end || n < 0 ? -1 : n;
}

static strands_status replay(const json_t *events, const char *agent_id,
                             acm_state *out, strands_error *err)
{
    memset(out, 0, sizeof *out);
    size_t n = json_array_size(events);
    ev_ref *refs = calloc(n ? n : 1, sizeof *refs);
    json_t *pending = json_object();  /* turn -> its message events */
    out->log = json_array();
    if (!refs || !pending || !out->log) {
        free(refs);
        json_decref(pending);
        state_clear(out);
        return strands_error_set(err, STRANDS_E_NOMEM, NULL, "OOM");
    }
    for (size_t i = 0; i < n; i++) {
        json_t *ev = json_array_get(events, i);
        double t = json_number_value(json_object_get(ev, "eventTimestamp"));
        const char *id = json_string_value(json_object_get(ev, "eventId"));
        refs[i] = (ev_ref){ev, (int64_t)llround(t * 1000.0), id ? id : "", i};
    }
    qsort(refs, n, sizeof *refs, ev_cmp);
    strands_status st = STRANDS_OK;
    json_t *final_agent = NULL;   /* the agent event that holds */
    for (size_t i = 0; i < n && st == STRANDS_OK; i++) {
        json_t *ev = refs[i].ev;
        if (refs[i].ts > out->max_ts) out->max_ts = refs[i].ts;
        const char *type = md_str(ev, "stateType");
        const char *turn = md_str(ev, ACM_MD_TURN);
        json_t *payload = json_array_get(json_object_get(ev, "payload"), 0);
        if (type && !strcmp(type, "SESSION")) {
            out->has_session = 1;
        } else if (type && !strcmp(type, "AGENT")) {
            const char *aid = md_str(ev, "agentId");
            if (!aid || strcmp(aid, agent_id)) continue;
            json_t *msgs = turn ? json_object_get(pending, turn) : NULL;
            if (turn) {
                /* Our commit: exactly its messages, after exactly `base`. */
                long long base = md_num(ev, ACM_MD_BASE);
                long long cnt = md_num(ev, ACM_MD_COUNT);
                size_t have = msgs ? json_array_size(msgs) : 0;
                if (base < 0 || (size_t)base != json_array_size(out->log) ||
                    cnt < 0 || (size_t)cnt != have)
                    continue;   /* a lost race or an incomplete turn */
            }
            for (size_t k = 0; msgs && k < json_array_size(msgs); k++) {
                json_t *m = json_array_get(msgs, k);
                out->log_bytes += compact_size(m);
                if (json_array_append(out->log, m) != 0)
                    st = strands_error_set(err, STRANDS_E_NOMEM, NULL, "OOM");
            }
            if (turn) json_object_del(pending, turn);
            final_agent = ev;   /* parsed once, after the replay */
        } else if (payload) {
            json_t *m;
            if (session_acm_payload_message(payload, &m) != STRANDS_OK) {
                st = strands_error_set(
                    err, STRANDS_E_NOMEM, NULL,
                    "cannot decode stored message %s (out of memory, or "
                    "an event that is not valid JSON)",
                    json_string_value(json_object_get(ev, "eventId")));
                break;
            }
            if (!m) continue;      /* not a Strands message */
            if (turn) {
                json_t *list = json_object_get(pending, turn);
                if (!list) {
                    list = json_array();
                    if (!list || json_object_set_new(pending, turn, list))
                        list = NULL;
                }
                if (!list || json_array_append(list, m) != 0)
                    st = strands_error_set(err, STRANDS_E_NOMEM, NULL, "OOM");
            } else {
                out->log_bytes += compact_size(m);
                if (json_array_append(out->log, m) != 0)
                    st = strands_error_set(err, STRANDS_E_NOMEM, NULL, "OOM");
            }
            json_decref(m);
        }
    }
    free(refs);
    json_decref(pending);
    if (st == STRANDS_OK && final_agent) {
        json_t *payload = json_array_get(
            json_object_get(final_agent, "payload"), 0);
        if (!payload) {
            st = strands_error_set(
                err, STRANDS_E_UNAVAILABLE, UNAVAILABLE,
                "the agent state of this session is older than the %d "
                "newest agent-state events", ACM_AGENT_PAYLOADS_KEPT);
        } else {
            const char *filled = md_str(final_agent, ACM_MD_TURN)
                                     ? md_str(final_agent, ACM_MD_FILLED)
                                     : NULL;
            if (session_acm_agent_from_blob(
                    json_object_get(payload, "blob"), filled, &out->agent,
                    &out->agent_created) != STRANDS_OK ||
                (!out->agent && !(out->agent = json_object())))
                st = strands_error_set(err, STRANDS_E_NOMEM, NULL, "OOM");
            else
                out->agent_bytes = compact_size(out->agent);
        }
    }
    if (st != STRANDS_OK) state_clear(out);
    return st;
}

/* ---- keys -------------------------------------------------------------- */

static strands_status check_key(const acm_store *s,
                                const strands_session_key *key,
                                const char **actor, strands_error *err)
{
    strands_status st = session_key_check(key, NULL, err);
    if (st != STRANDS_OK) return st;
    if (!session_acm_session_id_ok(key->session_id))
        return strands_error_set(
            err, STRANDS_E_INVALID, NULL,
            "session id '%.64s' is not usable with AgentCore Memory (1-100 "
            "characters: letters, digits, '-', '_', starting with a letter "
            "or digit)", key->session_id);
    const char *a = key->actor_id && *key->actor_id ? key->actor_id
                                                    : s->default_actor;
    if (!session_acm_actor_id_ok(a))
        return strands_error_set(
            err, STRANDS_E_INVALID, NULL,
            "actor id '%.64s' is not usable with AgentCore Memory (1-255 "
            "characters: letters, digits, '-', '_', '/', ':')", a);
    if (actor) *actor = a;
    return STRANDS_OK;
}

static const char *agent_id_of(const strands_session_key *key)
{
    return key->agent_id && *key->agent_id ? key->agent_id : "default";
}

/* ---- load -------------------------------------------------------------- */

static strands_status acm_load(strands_session_store *self,
                               const strands_session_key *key,
                               strands_session_record *out,
                               strands_error *err)
{
    acm_store *s = (acm_store *)self;
    if (!out)
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "load needs an output record");
    memset(out, 0, sizeof *out);
    const char *actor = NULL;
    strands_status st = check_key(s, key, &actor, err);
    if (st != STRANDS_OK) return st;
    json_t *events;
    st = list_all(s, actor, key->session_id, agent_id_of(key), &events, err);
    if (st != STRANDS_OK) return st;
    acm_state state;
    st = replay(events, agent_id_of(key), &state, err);
    json_decref(events);
    if (st != STRANDS_OK) return st;
    st = session_check_history_size(err, key->session_id,
                                    state.log_bytes + state.agent_bytes,
                                    s->max_history_bytes);
    if (st != STRANDS_OK) {
        state_clear(&state);
        return st;
    }
    out->messages = state.log;
    out->agent = state.agent ? state.agent : json_object();
    out->count = json_array_size(state.log);
    out->first = 0;
    state.log = state.agent = NULL;
    state_clear(&state);
    if (!out->agent) {
        strands_session_record_clear(out);
        return strands_error_set(err, STRANDS_E_NOMEM, NULL, "OOM");
    }
    return STRANDS_OK;
}

/* ---- entries (claims and the one-append-at-a-time slot) ---------------- */

static acm_entry *find_entry(acm_store *s, const char *sid)
{
    for (acm_entry *e = s->entries; e; e = e->next)
        if (!strcmp(e->session_id, sid)) return e;
    return NULL;
}

/* The entry of sid, created when missing; NULL on OOM or when too many
 * sessions are in use. Called with the lock held.                      */
static acm_entry *get_entry(acm_store *s, const char *sid)
{
    acm_entry *e = find_entry(s, sid);
    if (e || s->n_entries >= MAX_ENTRIES) return e;
    e = calloc(1, sizeof *e);
    if (!e || !(e->session_id = strdup(sid))) {
        free(e);
        return NULL;
    }
    e->next = s->entries;
    s->entries = e;
    s->n_entries++;
    return e;
}

/* Drops e when nothing holds it. Lock held. */
static void put_entry(acm_store *s, acm_entry *e)
{
    if (!e || e->claimed || e->appending) return;
    for (acm_entry **p = &s->entries; *p; p = &(*p)->next)
        if (*p == e) {
            *p = e->next;
            s->n_entries--;
            free(e->session_id);
            free(e);
            return;
        }
}

static int holds(const acm_entry *e, const strands_session_claim *claim)
{
    return e && e->claimed && claim &&
           strncmp(e->token, claim->token, sizeof e->token) == 0;
}

static int64_t lease_end(const acm_store *s)
{
    return s->lease_ms ? strands_clock_mono_ms() + s->lease_ms : 0;
}

/* ---- append ------------------------------------------------------------ */

/* CreateEvent for one payload item with metadata md (borrowed). */
static strands_status create_event(acm_store *s, const char *actor,
                                   const char *sid, int64_t ts_ms,
                                   json_t *item, json_t *md,
                                   const char *client_token,
                                   strands_error *err)
{
    char path[300];
    snprintf(path, sizeof path, "/memories/%s/events", s->memory_enc);
    json_t *body = json_pack("{s:s, s:s, s:f, s:[O], s:O, s:s}", "actorId",
                             actor, "sessionId", sid, "eventTimestamp",
                             (double)ts_ms / 1000.0, "payload", item,
                             "metadata", md, "clientToken", client_token);
    if (!body) return strands_error_set(err, STRANDS_E_NOMEM, NULL, "OOM");
    json_t *answer;
    strands_status st = send_json(s, path, body, 201, &answer, NULL,
                                  "CreateEvent", err);
    json_decref(body);
    json_decref(answer);
    return st;
}

static json_t *md_value(const char *v)
{
    return json_pack("{s:s}", "stringValue", v);
}

/* The timestamps of the next n events: after every event seen and every
 * event this process sent, and not before now. Lock held.              */
static int64_t next_timestamps(acm_store *s, int64_t seen_max, size_t n)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    int64_t first = now;
    if (seen_max >= first) first = seen_max + 1;
    if (s->last_ts_ms >= first) first = s->last_ts_ms + 1;
    s->last_ts_ms = first + (int64_t)n - 1;
    return first;
}

/* Writes the turn's events (session record first for a new session, each
 * message, then the commit). Everything is encoded before the first
 * CreateEvent, so a message Strands cannot store (a role other than user
 * or assistant) or an OOM writes nothing. Returns the first failure.   */
static strands_status write_turn(acm_store *s, const strands_session_key *key,
                                 const char *actor, const acm_state *state,
                                 size_t base, const json_t *messages,
                                 const json_t *agent, strands_error *err)
{
    const char *sid = key->session_id;
    strands_session_claim turn;
    session_claim_token(&turn);
    char now[40];
    session_acm_iso_now(now, sizeof now);
    size_t n = json_array_size(messages);
    int need_session = !state->has_session;
    strands_status st = STRANDS_OK;

    json_t *items = json_array();
    for (size_t i = 0; items && i < n && st == STRANDS_OK; i++) {
        json_t *item = session_acm_message_payload(
            json_array_get(messages, i), now, err);
        if (!item) st = err ? err->status : STRANDS_E_NOMEM;
        else if (json_array_append_new(items, item) != 0)
            st = strands_error_set(err, STRANDS_E_NOMEM, NULL, "OOM");
    }
    char sbase[24], scount[24], filled[64];
    snprintf(sbase, sizeof sbase, "%zu", base);
    snprintf(scount, sizeof scount, "%zu", n);
    char *ablob = session_acm_agent_blob(agent_id_of(key), agent,
                                 state->agent_created ? state->agent_created
                                                      : now,
                                 now, filled, sizeof filled);
    json_t *aitem = ablob ? json_pack("{s:s}", "blob", ablob) : NULL;
    free(ablob);
    json_t *amd = json_pack("{s:o, s:o, s:o, s:o, s:o}", "stateType",
                            md_value("AGENT"), "agentId",
                            md_value(agent_id_of(key)), ACM_MD_TURN,
                            md_value(turn.token), ACM_MD_BASE,
                            md_value(sbase), ACM_MD_COUNT, md_value(scount));
    if (amd && filled[0] &&
        json_object_set_new(amd, ACM_MD_FILLED, md_value(filled)) != 0) {
        json_decref(amd);
        amd = NULL;
    }
    json_t *md_turn = json_pack("{s:o}", ACM_MD_TURN, md_value(turn.token));
    char *sblob = need_session ? session_acm_session_blob(sid, now) : NULL;
    json_t *sitem = sblob ? json_pack("{s:s}", "blob", sblob) : NULL;
    free(sblob);
    json_t *smd = need_session
                      ? json_pack("{s:o}", "stateType", md_value("SESSION"))
                      : NULL;
    if (st == STRANDS_OK &&
        (!items || !aitem || !amd || !md_turn ||
         (need_session && (!sitem || !smd))))
        st = strands_error_set(err, STRANDS_E_NOMEM, NULL, "OOM");

    char ctoken[STRANDS_SESSION_CLAIM_TOKEN_MAX + 24];
    if (st == STRANDS_OK) {
        pthread_mutex_lock(&s->lock);
        int64_t ts = next_timestamps(s, state->max_ts, n + 1 + need_session);
        pthread_mutex_unlock(&s->lock);
        if (need_session) {
            /* What Strands' create_session writes, so Strands sees a
             * session (it ignores the messages of one it does not see). */
            snprintf(ctoken, sizeof ctoken, "%s-session", turn.token);
            st = create_event(s, actor, sid, ts++, sitem, smd, ctoken, err);
        }
        for (size_t i = 0; i < n && st == STRANDS_OK; i++) {
            snprintf(ctoken, sizeof ctoken, "%s-m%zu", turn.token, i);
            st = create_event(s, actor, sid, ts++, json_array_get(items, i),
                              md_turn, ctoken, err);
        }
        /* The commit: the agent object as Strands stores it, tagged. */
        if (st == STRANDS_OK) {
            snprintf(ctoken, sizeof ctoken, "%s-agent", turn.token);
            st = create_event(s, actor, sid, ts, aitem, amd, ctoken, err);
        }
    }
    json_decref(items);
    json_decref(aitem);
    json_decref(amd);
    json_decref(md_turn);
    json_decref(sitem);
    json_decref(smd);
    return st;
}

static strands_status acm_append(strands_session_store *self,
                                 const strands_session_key *key,
                                 const strands_session_claim *claim,
                                 size_t base, const json_t *messages,
                                 const json_t *agent, strands_error *err)
{
    acm_store *s = (acm_store *)self;
    const char *actor = NULL;
    strands_status st = check_key(s, key, &actor, err);
    if (st != STRANDS_OK) return st;
    st = session_check_turn(err, key->session_id, messages, agent);
    if (st != STRANDS_OK) return st;
    const char *sid = key->session_id;
    /* One append per session at a time in this process. */
    pthread_mutex_lock(&s->lock);
    acm_entry *e = get_entry(s, sid);
    while (e && e->appending) {
        pthread_cond_wait(&s->cond, &s->lock);
        e = get_entry(s, sid);
    }
    if (!e) {
        pthread_mutex_unlock(&s->lock);
        return strands_error_set(err, STRANDS_E_UNAVAILABLE, UNAVAILABLE,
                                 "too many sessions in use at once");
    }
    if (claim && !holds(e, claim)) {
        put_entry(s, e);
        pthread_mutex_unlock(&s->lock);
        return session_claim_lost(err, sid);
    }
    e->appending = 1;
    pthread_mutex_unlock(&s->lock);

    json_t *events = NULL;
    acm_state state;
    memset(&state, 0, sizeof state);
    st = list_all(s, actor, sid, agent_id_of(key), &events, err);
    if (st == STRANDS_OK) st = replay(events, agent_id_of(key), &state, err);
    json_decref(events);
    size_t have = state.log ? json_array_size(state.log) : 0;
    if (st == STRANDS_OK && have != base)
        st = session_conflict(err, sid, base, have);
    if (st == STRANDS_OK) {
        size_t size = state.log_bytes + compact_size(messages) +
                      compact_size(agent);
        st = session_check_history_size(err, sid, size,
                                         s->max_history_bytes);
    }
    if (st == STRANDS_OK)
        st = write_turn(s, key, actor, &state, base, messages, agent, err);
    state_clear(&state);

    pthread_mutex_lock(&s->lock);
    e->appending = 0;
    put_entry(s, e);
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->lock);
    return st;
}

/* ---- claims (this process only) ---------------------------------------- */

static strands_status acm_claim(strands_session_store *self,
                                const strands_session_key *key,
                                strands_session_claim *claim_out,
                                strands_error *err)
{
    acm_store *s = (acm_store *)self;
    if (!claim_out)
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "claim needs an output claim");
    memset(claim_out, 0, sizeof *claim_out);
    strands_status st = check_key(s, key, NULL, err);
    if (st != STRANDS_OK) return st;
    strands_session_claim fresh;
    session_claim_token(&fresh);
    pthread_mutex_lock(&s->lock);
    acm_entry *e = get_entry(s, key->session_id);
    int64_t mono = strands_clock_mono_ms();
    if (!e) {
        st = strands_error_set(err, STRANDS_E_UNAVAILABLE, UNAVAILABLE,
                               "too many sessions in use at once");
    } else if (e->claimed && (!e->lease_until || mono < e->lease_until)) {
        st = strands_error_set(err, STRANDS_E_BUSY, "SessionBusy",
                               "session '%.64s' is running another "
                               "invocation", key->session_id);
    } else {
        fresh.expires_ms = lease_end(s);
        memcpy(e->token, fresh.token, sizeof e->token);
        e->claimed = 1;
        e->lease_until = fresh.expires_ms;
        *claim_out = fresh;
    }
    pthread_mutex_unlock(&s->lock);
    return st;
}

static strands_status acm_renew(strands_session_store *self,
                                const strands_session_key *key,
                                strands_session_claim *claim,
                                strands_error *err)
{
    acm_store *s = (acm_store *)self;
    strands_status st = check_key(s, key, NULL, err);
    if (st != STRANDS_OK) return st;
    if (!claim)
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "renew needs the claim");
    pthread_mutex_lock(&s->lock);
    acm_entry *e = find_entry(s, key->session_id);
    if (holds(e, claim)) {
        e->lease_until = lease_end(s);
        claim->expires_ms = e->lease_until;
    } else {
        st = session_claim_lost(err, key->session_id);
    }
    pthread_mutex_unlock(&s->lock);
    return st;
}

static strands_status acm_release(strands_session_store *self,
                                  const strands_session_key *key,
                                  const strands_session_claim *claim,
                                  strands_error *err)
{
    acm_store *s = (acm_store *)self;
    strands_status st = check_key(s, key, NULL, err);
    if (st != STRANDS_OK) return st;
    if (!claim)
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "release needs the claim");
    pthread_mutex_lock(&s->lock);
    acm_entry *e = find_entry(s, key->session_id);
    if (holds(e, claim)) {
        e->claimed = 0;
        e->lease_until = 0;
        memset(e->token, 0, sizeof e->token);
        put_entry(s, e);
    } else {
        st = session_claim_lost(err, key->session_id);
    }
    pthread_mutex_unlock(&s->lock);
    return st;
}

/* ---- lifecycle --------------------------------------------------------- */

static void acm_destroy(strands_session_store *self)
{
    acm_store *s = (acm_store *)self;
    while (s->entries) {
        acm_entry *e = s->entries;
        s->entries = e->next;
        free(e->session_id);
        free(e);
    }
    http_client_free(s->http);
    if (s->own_credentials) strands_credentials_provider_free(s->credentials);
    free(s->memory_id);
    free(s->memory_enc);
    free(s->region);
    free(s->default_actor);
    pthread_mutex_destroy(&s->lock);
    pthread_cond_destroy(&s->cond);
    free(s);
}

static const strands_session_store_vtab acm_vtab = {
    .version = STRANDS_SESSION_VTAB_VERSION,
    .name = "agentcore-memory",
    .load = acm_load,
    .append = acm_append,
    .claim = acm_claim,
    .renew = acm_renew,
    .release = acm_release,
    .destroy = acm_destroy,
};

static strands_session_store *store_new(const session_acm_config *cfg,
                                        strands_error *err);

strands_session_store *session_acm_store_new(const session_acm_config *cfg,
                                     strands_error *err)
{
    strands_session_store *s = store_new(cfg, err);
    if (!s && cfg && cfg->own_credentials)
        strands_credentials_provider_free(cfg->credentials);
    return s;
}

/* session_acm_store_new without the hand-over of owned credentials on
 * failure.                                                              */
static strands_session_store *store_new(const session_acm_config *cfg,
                                        strands_error *err)
{
    if (!cfg || !session_acm_memory_id_ok(cfg->memory_id)) {
        strands_error_set(err, STRANDS_E_INVALID, NULL,
                          "SESSION_STORE: agentcore-memory needs a memory id "
                          "like 'name-a1B2c3D4e5' (got '%.120s')",
                          cfg && cfg->memory_id ? cfg->memory_id : "");
        return NULL;
    }
    if (!cfg->region || !*cfg->region || !cfg->credentials) {
        strands_error_set(err, STRANDS_E_INVALID, NULL,
                          "agentcore-memory needs a region and credentials");
        return NULL;
    }
    const char *actor = cfg->default_actor_id && *cfg->default_actor_id
                            ? cfg->default_actor_id
                            : "default";
    if (!session_acm_actor_id_ok(actor)) {
        strands_error_set(err, STRANDS_E_INVALID, NULL,
                          "MEMORY_ACTOR_ID '%.64s' is not a valid AgentCore "
                          "actor id (letters, digits, '-', '_', '/', ':')",
                          actor);
        return NULL;
    }
    if (cfg->lease_ms < 0) {
        strands_error_set(err, STRANDS_E_INVALID, NULL,
                          "claim lease must not be negative");
        return NULL;
    }
    acm_store *s = calloc(1, sizeof *s);
    if (!s) {
        strands_error_set(err, STRANDS_E_NOMEM, NULL, "OOM");
        return NULL;
    }
    s->base.vtab = &acm_vtab;
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->cond, NULL);
    char url[512];
    const char *endpoint = cfg->endpoint;
    if (!endpoint) {
        snprintf(url, sizeof url, "https://bedrock-agentcore.%s.amazonaws.com",
                 cfg->region);
        endpoint = url;
    }
    if (aws_endpoint_parse(endpoint, &s->endpoint, err) != STRANDS_OK) {
        acm_destroy(&s->base);
        return NULL;
    }
    s->memory_id = strdup(cfg->memory_id);
    s->memory_enc = sigv4_uri_encode(cfg->memory_id, strlen(cfg->memory_id));
    s->region = strdup(cfg->region);
    s->default_actor = strdup(actor);
    s->http = http_client_new(16);
    if (!s->memory_id || !s->memory_enc || !s->region || !s->default_actor ||
        !s->http) {
        acm_destroy(&s->base);
        strands_error_set(err, STRANDS_E_NOMEM, NULL, "OOM");
        return NULL;
    }
    char attempts[16];
    snprintf(attempts, sizeof attempts, "%d",
             cfg->max_attempts > 0 ? cfg->max_attempts : 3);
    if (aws_retry_policy_init(&s->retry, cfg->retry_mode, attempts, err) !=
        STRANDS_OK) {
        acm_destroy(&s->base);
        return NULL;
    }
    s->max_history_bytes = cfg->max_history_bytes
                               ? cfg->max_history_bytes
                               : STRANDS_SESSION_DEFAULT_MAX_HISTORY_BYTES;
    s->max_events = cfg->max_events ? cfg->max_events
                                    : ACM_DEFAULT_MAX_EVENTS;
    s->lease_ms = cfg->lease_ms;
    s->connect_timeout_ms = cfg->connect_timeout_ms ? cfg->connect_timeout_ms
                                                    : 10000;
    s->read_timeout_ms = cfg->read_timeout_ms ? cfg->read_timeout_ms : 30000;
    /* Last: a failure above leaves the credentials to the caller. */
    s->credentials = cfg->credentials;
    s->own_credentials = cfg->own_credentials;
    return &s->base;
}
