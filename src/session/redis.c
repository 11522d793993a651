/* The Redis session store: the v3 vtable over the key layout of
 * session/redis.h, with four Lua scripts, each atomic on the server:
 *  - load:    LLEN + GET agent + LRANGE from the conversation manager's
 *             removed_message_count (one consistent snapshot);
 *  - append:  checks the claim (SessionClaimLost) and the log length
 *             (SessionConflict), the history cap, then RPUSHes the turn,
 *             SETs the agent object, records the byte count and the
 *             turn's random id in the meta HASH, and sets the idle TTL
 *             on every key. A turn id already recorded means this very
 *             append ran (its reply was lost): it is reported done, so
 *             an append may be resent after a dropped connection;
 *  - claim:   SET lock <token> NX PX <lease> (a resent claim finds its own
 *             token and keeps it);
 *  - renew:   the claim script with the claim's token: compare-and-PEXPIRE,
 *             or SET NX again when the lease lapsed and nobody took over;
 *  - release: compare-and-DEL.
 * The append's fence refuses a claim only when ANOTHER token holds the
 * lock: a lapsed lease nobody took over still lets its holder store the
 * turn (the log-length check still catches a writer in between).
 * A claim that finds the lock held polls with short sleeps up to the
 * configured lock wait (SESSION_LOCK_WAIT_MS), then SessionBusy.         */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "session/redis.h"
#include "session/redis_conn.h"
#include "session/store.h"
#include "strands/clock.h"

#define DEFAULT_PREFIX "strands:session"
#define UNAVAILABLE "SessionStoreUnavailable"

/* ---- scripts ------------------------------------------------------------ */

/* KEYS: log, agent. Returns {agent or "", count, first, {messages}}. */
static redis_script load_script = {.text =
    "local n = redis.call('LLEN', KEYS[1])\n"
    "local a = redis.call('GET', KEYS[2])\n"
    "local first = 0\n"
    "if a then\n"
    "  local ok, obj = pcall(cjson.decode, a)\n"
    "  if ok and type(obj) == 'table' and\n"
    "     type(obj['conversation_manager_state']) == 'table' then\n"
    "    local r = obj['conversation_manager_state']"
    "['removed_message_count']\n"
    "    if type(r) == 'number' and r >= 0 and r <= n and\n"
    "       r == math.floor(r) then first = r end\n"
    "  end\n"
    "end\n"
    "return {a or '', n, first, redis.call('LRANGE', KEYS[1], first, -1)}\n"};

/* KEYS: lock, log, agent, meta. ARGV: base, claim token ('' = unfenced),
 * ttl ms (0 = none), cap, bytes of the new messages, turn id, agent
 * JSON, messages... Returns {"ok"|"done", count} or {"lost"} or
 * {"conflict", count} or {"toolarge", bytes}.                           */
static redis_script append_script = {.text =
    "local n = redis.call('LLEN', KEYS[2])\n"
    "if redis.call('HGET', KEYS[4], 'turn') == ARGV[6] then\n"
    "  return {'done', n}\n"
    "end\n"
    "if ARGV[2] ~= '' then\n"
    "  local v = redis.call('GET', KEYS[1])\n"
    "  if v and v ~= ARGV[2] then return {'lost'} end\n"
    "end\n"
    "if n ~= tonumber(ARGV[1]) then return {'conflict', n} end\n"
    "local used = tonumber(redis.call('HGET', KEYS[4], 'bytes') or '')\n"
    "if not used then\n"
    "  used = 0\n"
    "  for i = 0, n - 1, 1000 do\n"
    "    for _, m in ipairs(redis.call('LRANGE', KEYS[2], i, i + 999)) do\n"
    "      used = used + #m\n"
    "    end\n"
    "  end\n"
    "end\n"
    "local k = #ARGV - 7\n"
    "local logb = used + tonumber(ARGV[5])\n"
    "local total = logb + #ARGV[7] + 2\n"
    "if n + k > 0 then total = total + n + k - 1 end\n"
    "if total > tonumber(ARGV[4]) then return {'toolarge', total} end\n"
    "for i = 8, #ARGV, 1000 do\n"
    "  redis.call('RPUSH', KEYS[2], unpack(ARGV, i, math.min(i + 999, "
    "#ARGV)))\n"
    "end\n"
    "redis.call('SET', KEYS[3], ARGV[7])\n"
    "redis.call('HSET', KEYS[4], 'bytes', logb, 'turn', ARGV[6])\n"
    "for i = 2, 4 do\n"
    "  if ARGV[3] ~= '0' then redis.call('PEXPIRE', KEYS[i], ARGV[3])\n"
    "  else redis.call('PERSIST', KEYS[i]) end\n"
    "end\n"
    "return {'ok', n + k}\n"};

/* KEYS: lock. ARGV: token, lease ms. 1 = claimed, 0 = held by another.
 * Also the renew script: a lease that lapsed while nobody else claimed
 * the session is still ours (as in the memory store), so a turn longer
 * than the lease (a slow tool) is not failed for nothing.              */
static redis_script claim_script = {.text =
    "local v = redis.call('GET', KEYS[1])\n"
    "if v == ARGV[1] then\n"
    "  redis.call('PEXPIRE', KEYS[1], ARGV[2])\n"
    "  return 1\n"
    "end\n"
    "if v then return 0 end\n"
    "redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2])\n"
    "return 1\n"};

/* KEYS: lock. ARGV: token. 1 = released, 0 = not ours. */
static redis_script release_script = {.text =
    "if redis.call('GET', KEYS[1]) == ARGV[1] then\n"
    "  redis.call('DEL', KEYS[1])\n"
    "  return 1\n"
    "end\n"
    "return 0\n"};

static pthread_once_t scripts_once = PTHREAD_ONCE_INIT;

static void scripts_init(void)
{
    redis_script_init(&load_script);
    redis_script_init(&append_script);
    redis_script_init(&claim_script);
    redis_script_init(&release_script);
}

/* ---- the store ------------------------------------------------------------ */

typedef struct redis_store {
    strands_session_store base;
    redis_pool *pool;
    char *prefix;
    int64_t ttl_ms;
    int64_t lease_ms;
    int64_t lock_wait_ms;
    size_t max_history_bytes;
} redis_store;

static const strands_session_store_vtab redis_vtab;

static redis_store *to_rs(strands_session_store *s)
{
    return (redis_store *)s;
}

/* The keys of one session. */
typedef struct session_keys {
    char *lock, *log, *agent, *meta;
} session_keys;

static void keys_free(session_keys *k)
{
    free(k->lock);
    free(k->log);
    free(k->agent);
    free(k->meta);
    memset(k, 0, sizeof *k);
}

/* "<prefix>:{<escaped session>}" + suffix, malloc'd. '%' and '}' of the
 * session id are %-escaped: the first '}' closes the hash tag, and the
 * mapping stays one-to-one.                                             */
static char *key_of(const redis_store *rs, const char *sid,
                    const char *agent, const char *kind)
{
    size_t n = strlen(rs->prefix) + 3 * strlen(sid) + strlen(kind) + 8 +
               (agent ? strlen(agent) + 1 : 0);
    char *k = malloc(n);
    if (!k) return NULL;
    char *w = k + sprintf(k, "%s:{", rs->prefix);
    for (const char *c = sid; *c; c++) {
        if (*c == '%' || *c == '}')
            w += sprintf(w, "%%%02X", (unsigned char)*c);
        else
            *w++ = *c;
    }
    *w++ = '}';
    if (agent) w += sprintf(w, ":%s", agent);
    sprintf(w, ":%s", kind);
    return k;
}

static strands_status keys_make(const redis_store *rs,
                                const strands_session_key *key,
                                session_keys *k, strands_error *err)
{
    const char *aid = key->agent_id ? key->agent_id : "default";
    k->lock = key_of(rs, key->session_id, NULL, "lock");
    k->log = key_of(rs, key->session_id, aid, "log");
    k->agent = key_of(rs, key->session_id, aid, "agent");
    k->meta = key_of(rs, key->session_id, aid, "meta");
    if (k->lock && k->log && k->agent && k->meta) return STRANDS_OK;
    keys_free(k);
    return strands_error_set(err, STRANDS_E_NOMEM, NULL,
                             "out of memory building Redis keys");
}

static strands_status bad_reply(strands_error *err, const char *what)
{
    return strands_error_set(err, STRANDS_E_UNAVAILABLE, UNAVAILABLE,
                             "session store: Redis gave an unexpected "
                             "answer to %s", what);
}

/* A stored value that is not what this store writes. */
static strands_status corrupt(strands_error *err, const char *id,
                              const char *what)
{
    return strands_error_set(err, STRANDS_E_INTERNAL, "SessionCorrupt",
                             "session %s: the stored %s in Redis is not "
                             "valid JSON of the expected shape", id, what);
}

static int reply_is_int(const redisReply *r)
{
    return r && r->type == REDIS_REPLY_INTEGER;
}

/* ---- load ---------------------------------------------------------------- */

/* Parses one stored JSON object: 0 and *out on success, 1 when the text
 * is not a JSON object (corrupt), 2 when memory ran out. jansson reports
 * some allocation failures as syntax errors, so text that fails to parse
 * is parsed once more before it is called corrupt.                      */
static int parse_object(const char *text, size_t len, json_t **out)
{
    json_error_t je;
    for (int attempt = 0; attempt < 2; attempt++) {
        memset(&je, 0, sizeof je);
        json_t *v = json_loadb(text, len, 0, &je);
        if (json_is_object(v)) {
            *out = v;
            return 0;
        }
        if (v) {
            json_decref(v);
            return 1;
        }
        if (json_error_code(&je) == json_error_out_of_memory) return 2;
    }
    return je.text[0] ? 1 : 2; /* no message: it failed before parsing */
}

static strands_status parse_load(const redisReply *r, const char *id,
                                 strands_session_record *out,
                                 strands_error *err)
{
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 4 ||
        r->element[0]->type != REDIS_REPLY_STRING ||
        !reply_is_int(r->element[1]) || !reply_is_int(r->element[2]) ||
        r->element[3]->type != REDIS_REPLY_ARRAY)
        return bad_reply(err, "load");
    const redisReply *ar = r->element[0], *msgs = r->element[3];
    long long count = r->element[1]->integer, first = r->element[2]->integer;
    if (count < 0 || first < 0 || first > count ||
        (long long)msgs->elements != count - first)
        return bad_reply(err, "load");
    for (size_t i = 0; i < msgs->elements; i++)
        if (msgs->element[i]->type != REDIS_REPLY_STRING)
            return bad_reply(err, "load");
    json_t *agent = NULL, *arr = NULL;
    int bad = 2;
    if (ar->len) bad = parse_object(ar->str, ar->len, &agent);
    else if ((agent = json_object())) bad = 0;
    const char *what = "agent object";
    if (!bad && !(arr = json_array())) bad = 2;
    for (size_t i = 0; !bad && i < msgs->elements; i++) {
        const redisReply *m = msgs->element[i];
        json_t *v = NULL;
        what = "message";
        bad = parse_object(m->str, m->len, &v);
        if (!bad && json_array_append_new(arr, v)) bad = 2;
    }
    if (bad) {
        json_decref(arr);
        json_decref(agent);
        if (bad == 1) return corrupt(err, id, what);
        return strands_error_set(err, STRANDS_E_NOMEM, NULL,
                                 "out of memory loading session %s", id);
    }
    out->messages = arr;
    out->agent = agent;
    out->first = (size_t)first;
    out->count = (size_t)count;
    return STRANDS_OK;
}

static strands_status redis_load(strands_session_store *self,
                                 const strands_session_key *key,
                                 strands_session_record *out,
                                 strands_error *err)
{
    redis_store *rs = to_rs(self);
    if (!out)
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "load needs an output record");
    memset(out, 0, sizeof *out);
    strands_status st = session_key_check(key, NULL, err);
    if (st != STRANDS_OK) return st;
    session_keys k;
    st = keys_make(rs, key, &k, err);
    if (st != STRANDS_OK) return st;
    const char *args[2] = {k.log, k.agent};
    size_t lens[2] = {strlen(k.log), strlen(k.agent)};
    redisReply *r = NULL;
    st = redis_pool_eval(rs->pool, &load_script, REDIS_CMD_IDEMPOTENT, 2, 2,
                         args, lens, &r, err);
    keys_free(&k);
    if (st != STRANDS_OK) return st;
    st = parse_load(r, key->session_id, out, err);
    freeReplyObject(r);
    return st;
}

/* ---- append -------------------------------------------------------------- */

/* Compact JSON of v, exactly as measured (a dump cut short by OOM is a
 * failure, not shorter text).                                           */
static char *dump_exact(const json_t *v, size_t *len)
{
    size_t want = json_dumpb(v, NULL, 0, JSON_COMPACT);
    char *t = want ? malloc(want + 1) : NULL;
    if (!t) return NULL;
    if (json_dumpb(v, t, want, JSON_COMPACT) != want) {
        free(t);
        return NULL;
    }
    t[want] = '\0';
    *len = want;
    return t;
}

/* What append sends: keys, numbers, turn id, agent, messages (owned). */
typedef struct append_args {
    size_t n;            /* arguments in use */
    const char **argv;
    size_t *lens;
    char **owned;        /* texts to free (NULL entries for borrowed) */
    char num[5][32];     /* base, token slot unused, ttl, cap, bytes */
    char turn[STRANDS_SESSION_CLAIM_TOKEN_MAX];
} append_args;

static void append_args_free(append_args *a)
{
    for (size_t i = 0; a->owned && i < a->n; i++) free(a->owned[i]);
    free(a->owned);
    free(a->argv);
    free(a->lens);
}

static strands_status append_build(redis_store *rs, const session_keys *k,
                                   const strands_session_claim *claim,
                                   size_t base, const json_t *messages,
                                   const json_t *agent, append_args *a,
                                   size_t *add_bytes, strands_error *err)
{
    size_t nmsg = json_array_size(messages);
    size_t total = 4 + 7 + nmsg;
    memset(a, 0, sizeof *a);
    a->argv = calloc(total, sizeof *a->argv);
    a->lens = calloc(total, sizeof *a->lens);
    a->owned = calloc(total, sizeof *a->owned);
    if (!a->argv || !a->lens || !a->owned) goto oom;
    a->n = total;
    const char *fixed[4] = {k->lock, k->log, k->agent, k->meta};
    for (int i = 0; i < 4; i++) a->argv[i] = fixed[i];
    snprintf(a->num[0], sizeof a->num[0], "%zu", base);
    snprintf(a->num[2], sizeof a->num[2], "%lld", (long long)rs->ttl_ms);
    snprintf(a->num[3], sizeof a->num[3], "%zu", rs->max_history_bytes);
    strands_session_claim turn;
    session_claim_token(&turn); /* a fresh random id for this append */
    memcpy(a->turn, turn.token, sizeof a->turn);
    a->argv[4] = a->num[0];
    a->argv[5] = claim ? claim->token : "";
    a->argv[6] = a->num[2];
    a->argv[7] = a->num[3];
    a->argv[8] = a->num[4];
    a->argv[9] = a->turn;
    size_t len;
    if (!(a->owned[10] = dump_exact(agent, &len))) goto oom;
    a->argv[10] = a->owned[10];
    a->lens[10] = len;
    size_t bytes = 0;
    for (size_t i = 0; i < nmsg; i++) {
        char *t = dump_exact(json_array_get(messages, i), &len);
        if (!t) goto oom;
        a->owned[11 + i] = t;
        a->argv[11 + i] = t;
        a->lens[11 + i] = len;
        bytes += len;
    }
    snprintf(a->num[4], sizeof a->num[4], "%zu", bytes);
    for (size_t i = 0; i < 10; i++) a->lens[i] = strlen(a->argv[i]);
    *add_bytes = bytes;
    return STRANDS_OK;
oom:
    append_args_free(a);
    memset(a, 0, sizeof *a);
    return strands_error_set(err, STRANDS_E_NOMEM, NULL,
                             "out of memory preparing a session append");
}

static strands_status parse_append(const redisReply *r, const char *id,
                                   size_t base, strands_error *err)
{
    if (r->type != REDIS_REPLY_ARRAY || r->elements < 1 ||
        r->element[0]->type != REDIS_REPLY_STRING)
        return bad_reply(err, "append");
    const char *what = r->element[0]->str;
    long long v = r->elements > 1 && reply_is_int(r->element[1])
                      ? r->element[1]->integer : -1;
    if (!strcmp(what, "ok") || !strcmp(what, "done")) return STRANDS_OK;
    if (!strcmp(what, "lost")) return session_claim_lost(err, id);
    if (!strcmp(what, "conflict") && v >= 0)
        return session_conflict(err, id, base, (size_t)v);
    if (!strcmp(what, "toolarge") && v >= 0)
        return strands_error_set(err, STRANDS_E_TOO_LARGE,
                                 "SessionHistoryTooLarge",
                                 "session %s: the conversation would take "
                                 "%lld bytes, over the limit "
                                 "(SESSION_MAX_HISTORY_BYTES); start a new "
                                 "session", id, v);
    return bad_reply(err, "append");
}

static strands_status redis_append(strands_session_store *self,
                                   const strands_session_key *key,
                                   const strands_session_claim *claim,
                                   size_t base, const json_t *messages,
                                   const json_t *agent, strands_error *err)
{
    redis_store *rs = to_rs(self);
    strands_status st = session_key_check(key, NULL, err);
    if (st != STRANDS_OK) return st;
    const char *id = key->session_id;
    st = session_check_turn(err, id, messages, agent);
    if (st != STRANDS_OK) return st;
    if (json_array_size(messages) > SESSION_REDIS_MAX_TURN_MESSAGES)
        return strands_error_set(err, STRANDS_E_TOO_LARGE,
                                 "SessionHistoryTooLarge",
                                 "session %s: a turn of %zu messages is more "
                                 "than the %d one append may carry", id,
                                 json_array_size(messages),
                                 SESSION_REDIS_MAX_TURN_MESSAGES);
    /* Refused before anything is copied when the turn alone is too big. */
    size_t turn_size = json_dumpb(messages, NULL, 0, JSON_COMPACT) +
                       json_dumpb(agent, NULL, 0, JSON_COMPACT);
    st = session_check_history_size(err, id, turn_size,
                                    rs->max_history_bytes);
    if (st != STRANDS_OK) return st;
    session_keys k;
    st = keys_make(rs, key, &k, err);
    if (st != STRANDS_OK) return st;
    append_args a;
    size_t add_bytes = 0;
    st = append_build(rs, &k, claim, base, messages, agent, &a, &add_bytes,
                      err);
    redisReply *r = NULL;
    if (st == STRANDS_OK)
        st = redis_pool_eval(rs->pool, &append_script, REDIS_CMD_IDEMPOTENT,
                             4, (int)a.n, a.argv, a.lens, &r, err);
    if (st == STRANDS_OK) {
        st = parse_append(r, id, base, err);
        freeReplyObject(r);
    }
    append_args_free(&a);
    keys_free(&k);
    return st;
}

/* ---- claims ---------------------------------------------------------------- */

/* Runs a lock script (claim, renew, release) for key; *result gets its
 * integer answer.                                                        */
static strands_status lock_script(redis_store *rs,
                                  const strands_session_key *key,
                                  const redis_script *s, const char *token,
                                  int with_lease, long long *result,
                                  strands_error *err)
{
    strands_status st = session_key_check(key, NULL, err);
    if (st != STRANDS_OK) return st;
    session_keys k;
    st = keys_make(rs, key, &k, err);
    if (st != STRANDS_OK) return st;
    char lease[32];
    snprintf(lease, sizeof lease, "%lld", (long long)rs->lease_ms);
    const char *args[3] = {k.lock, token, lease};
    size_t lens[3] = {strlen(k.lock), strlen(token), strlen(lease)};
    redisReply *r = NULL;
    st = redis_pool_eval(rs->pool, s, REDIS_CMD_IDEMPOTENT, 1,
                         with_lease ? 3 : 2, args, lens, &r, err);
    keys_free(&k);
    if (st != STRANDS_OK) return st;
    if (!reply_is_int(r)) st = bad_reply(err, "a claim command");
    else *result = r->integer;
    freeReplyObject(r);
    return st;
}

static void sleep_ms(int64_t ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0) {}
}

static strands_status redis_claim(strands_session_store *self,
                                  const strands_session_key *key,
                                  strands_session_claim *claim_out,
                                  strands_error *err)
{
    redis_store *rs = to_rs(self);
    if (!claim_out)
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "claim needs an output claim");
    memset(claim_out, 0, sizeof *claim_out);
    strands_session_claim fresh;
    session_claim_token(&fresh);
    int64_t give_up = strands_clock_mono_ms() + rs->lock_wait_ms;
    int64_t pause = 10;
    for (;;) {
        int64_t sent = strands_clock_mono_ms();
        long long got = 0;
        strands_status st = lock_script(rs, key, &claim_script, fresh.token,
                                        1, &got, err);
        if (st != STRANDS_OK) return st;
        if (got == 1) {
            /* Measured from before the request: the lease can only lapse
             * later on the server than we believe. */
            fresh.expires_ms = sent + rs->lease_ms;
            *claim_out = fresh;
            return STRANDS_OK;
        }
        int64_t left = give_up - strands_clock_mono_ms();
        if (left <= 0)
            return strands_error_set(err, STRANDS_E_BUSY, "SessionBusy",
                                     "session %s is busy with another "
                                     "invocation", key->session_id);
        /* Polls: 10, 20, 40, 80, 100, 100 ... ms, never past the wait. */
        sleep_ms(pause < left ? pause : left);
        if (pause < 100) pause = pause * 2 > 100 ? 100 : pause * 2;
    }
}

static strands_status redis_renew(strands_session_store *self,
                                  const strands_session_key *key,
                                  strands_session_claim *claim,
                                  strands_error *err)
{
    redis_store *rs = to_rs(self);
    if (!claim)
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "renew needs the claim");
    int64_t sent = strands_clock_mono_ms();
    long long got = 0;
    strands_status st = lock_script(rs, key, &claim_script, claim->token, 1,
                                    &got, err);
    if (st != STRANDS_OK) return st;
    if (got != 1) return session_claim_lost(err, key->session_id);
    claim->expires_ms = sent + rs->lease_ms;
    return STRANDS_OK;
}

static strands_status redis_release(strands_session_store *self,
                                    const strands_session_key *key,
                                    const strands_session_claim *claim,
                                    strands_error *err)
{
    redis_store *rs = to_rs(self);
    if (!claim)
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "release needs the claim");
    long long got = 0;
    strands_status st = lock_script(rs, key, &release_script, claim->token,
                                    0, &got, err);
    if (st != STRANDS_OK) return st;
    return got == 1 ? STRANDS_OK : session_claim_lost(err, key->session_id);
}

static void redis_destroy(strands_session_store *self)
{
    redis_store *rs = to_rs(self);
    redis_pool_free(rs->pool);
    free(rs->prefix);
    free(rs);
}

static const strands_session_store_vtab redis_vtab = {
    .version = STRANDS_SESSION_VTAB_VERSION,
    .name = "redis",
    .load = redis_load,
    .append = redis_append,
    .claim = redis_claim,
    .renew = redis_renew,
    .release = redis_release,
    .destroy = redis_destroy,
};

strands_session_store *session_redis_store_new(const session_redis_config *cfg,
                                               strands_error *err)
{
    if (!cfg || !cfg->host || cfg->port < 1 || cfg->port > 65535 ||
        cfg->lease_ms <= 0 || cfg->ttl_s < 0 || cfg->lock_wait_ms < 0 ||
        cfg->pool_size > SESSION_REDIS_MAX_POOL) {
        strands_error_set(err, STRANDS_E_INVALID, NULL,
                          "session store: a bad Redis configuration");
        return NULL;
    }
    const char *prefix = cfg->key_prefix ? cfg->key_prefix : DEFAULT_PREFIX;
    strands_error pe;
    if (session_redis_prefix_check(prefix, &pe) != STRANDS_OK) {
        strands_error_set(err, STRANDS_E_INVALID, NULL,
                          "REDIS_KEY_PREFIX: %s", pe.message);
        return NULL;
    }
    pthread_once(&scripts_once, scripts_init);
    redis_store *rs = calloc(1, sizeof *rs);
    strands_error pe2;
    pe2.status = STRANDS_E_NOMEM;
    if (rs) {
        rs->prefix = strdup(prefix);
        if (rs->prefix) rs->pool = redis_pool_new(cfg, &pe2);
    }
    if (!rs || !rs->prefix || !rs->pool) {
        if (rs) {
            redis_pool_free(rs->pool);
            free(rs->prefix);
            free(rs);
        }
        if (pe2.status == STRANDS_E_NOMEM)
            strands_error_set(err, STRANDS_E_NOMEM, NULL, "out of memory");
        else
            *err = pe2;
        return NULL;
    }
    rs->base.vtab = &redis_vtab;
    rs->ttl_ms = cfg->ttl_s * 1000;
    rs->lease_ms = cfg->lease_ms;
    rs->lock_wait_ms = cfg->lock_wait_ms;
    rs->max_history_bytes = cfg->max_history_bytes
                                ? cfg->max_history_bytes
                                : STRANDS_SESSION_DEFAULT_MAX_HISTORY_BYTES;
    return &rs->base;
}
