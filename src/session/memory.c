/* The in-memory session store: a chained hash table keyed by session id
 * (the key's actor and agent ids are ignored: one agent per runtime) plus
 * an LRU list of idle (unclaimed) entries, bounded by max_sessions and an
 * optional idle TTL, all behind one mutex. Per session it owns the message
 * log and the agent object as compact JSON text (together at most
 * max_history_bytes); load hands the caller fresh copies (first is always
 * 0). A turn is appended all-or-nothing after a check of the log length
 * (SessionConflict) and of the claim (SessionClaimLost). Claims are
 * leases: a token and an optional expiry after which another claim may
 * take the session.                                                     */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "strands/clock.h"
#include "strands/session.h"
#include "session/store.h"

#define INITIAL_BUCKETS 16

typedef struct mem_entry {
    struct mem_entry *chain;   /* next in the same bucket, or in a dead list */
    struct mem_entry *newer;   /* LRU links: idle entries only */
    struct mem_entry *older;
    char *log;                 /* the message log as compact JSON array
                                  text (a fraction of the size of a
                                  jansson tree); NULL until appended */
    size_t log_len;
    size_t count;              /* messages in the log */
    char *agent;               /* the agent object as compact JSON text;
                                  set together with log */
    uint64_t hash;
    int64_t last_used;         /* strands_clock_wall() at the last touch */
    int busy;                  /* claimed: never evicted nor expired */
    int64_t lease_until;       /* mono ms the claim lapses; 0 = never */
    char token[STRANDS_SESSION_CLAIM_TOKEN_MAX]; /* the live claim's */
    size_t id_len;
    char id[];                 /* NUL-terminated */
} mem_entry;

typedef struct memory_store {
    strands_session_store base;
    pthread_mutex_t lock;      /* guards everything below */
    mem_entry **buckets;
    size_t nbuckets;           /* a power of two */
    size_t count;              /* entries held, claimed or idle */
    size_t max_sessions;
    int64_t idle_ttl_s;        /* 0: no TTL */
    size_t max_history_bytes;  /* per-session cap on the stored JSON */
    int64_t lease_ms;          /* claim lease; 0: claims never lapse */
    mem_entry *newest;         /* idle LRU list: newest ... oldest */
    mem_entry *oldest;
    uint8_t hash_key[16];
} memory_store;

/* Entries removed under the lock are chained here and freed after unlock,
 * so releasing a long history never holds up other sessions.             */
typedef struct dead_list {
    mem_entry *head;
} dead_list;

static const strands_session_store_vtab memory_vtab;

static memory_store *to_ms(strands_session_store *s)
{
    return (memory_store *)s;
}

static void entry_free(mem_entry *e)
{
    free(e->log);
    free(e->agent);
    free(e);
}

static void dead_free(dead_list *dead)
{
    while (dead->head) {
        mem_entry *e = dead->head;
        dead->head = e->chain;
        entry_free(e);
    }
}

/* ---- LRU list (idle entries; newest at the head) ----------------------- */

static void lru_unlink(memory_store *ms, mem_entry *e)
{
    if (e->newer) e->newer->older = e->older;
    else ms->newest = e->older;
    if (e->older) e->older->newer = e->newer;
    else ms->oldest = e->newer;
    e->newer = e->older = NULL;
}

static void lru_push_newest(memory_store *ms, mem_entry *e)
{
    e->newer = NULL;
    e->older = ms->newest;
    if (ms->newest) ms->newest->newer = e;
    else ms->oldest = e;
    ms->newest = e;
}

/* Marks e used now; an idle entry moves to the head of the LRU list. */
static void touch(memory_store *ms, mem_entry *e, int64_t now)
{
    e->last_used = now;
    if (e->busy) return;
    lru_unlink(ms, e);
    lru_push_newest(ms, e);
}

/* ---- Hash table -------------------------------------------------------- */

static mem_entry **bucket_of(memory_store *ms, uint64_t hash)
{
    return &ms->buckets[hash & (ms->nbuckets - 1)];
}

static mem_entry *find(memory_store *ms, const char *id, size_t len,
                       uint64_t hash)
{
    for (mem_entry *e = *bucket_of(ms, hash); e; e = e->chain) {
        if (e->hash == hash && e->id_len == len && memcmp(e->id, id, len) == 0)
            return e;
    }
    return NULL;
}

/* Doubles the bucket array once the load factor passes 1. Failure to grow
 * is harmless: chains just get longer.                                   */
static void maybe_grow(memory_store *ms)
{
    if (ms->count <= ms->nbuckets) return;
    if (ms->nbuckets > SIZE_MAX / 2 / sizeof(mem_entry *)) return;
    size_t n = ms->nbuckets * 2;
    mem_entry **nb = calloc(n, sizeof(*nb));
    if (!nb) return;
    for (size_t i = 0; i < ms->nbuckets; i++) {
        mem_entry *e = ms->buckets[i];
        while (e) {
            mem_entry *next = e->chain;
            mem_entry **b = &nb[e->hash & (n - 1)];
            e->chain = *b;
            *b = e;
            e = next;
        }
    }
    free(ms->buckets);
    ms->buckets = nb;
    ms->nbuckets = n;
}

/* Removes e from the table (and the LRU list) onto the dead list. */
static void drop(memory_store *ms, mem_entry *e, dead_list *dead)
{
    mem_entry **link = bucket_of(ms, e->hash);
    while (*link != e) link = &(*link)->chain;
    *link = e->chain;
    if (!e->busy) lru_unlink(ms, e);
    ms->count--;
    e->chain = dead->head;
    dead->head = e;
}

static int expired(const memory_store *ms, const mem_entry *e, int64_t now)
{
    return ms->idle_ttl_s > 0 && !e->busy &&
           now - e->last_used > ms->idle_ttl_s;
}

/* Drops expired idle entries from the LRU tail; stops at the first live
 * one, so the work is proportional to what it frees.                    */
static void sweep(memory_store *ms, int64_t now, dead_list *dead)
{
    while (ms->oldest && expired(ms, ms->oldest, now))
        drop(ms, ms->oldest, dead);
}

/* Finds a live entry, dropping it instead when its idle TTL has passed. */
static mem_entry *lookup(memory_store *ms, const char *id, size_t len,
                         uint64_t hash, int64_t now, dead_list *dead)
{
    mem_entry *e = find(ms, id, len, hash);
    if (e && expired(ms, e, now)) {
        drop(ms, e, dead);
        return NULL;
    }
    return e;
}

/* Adds an idle entry for a new id, evicting the least recently used idle
 * entry when the store is full. E_UNAVAILABLE when every entry is claimed. */
static strands_status insert(memory_store *ms, const char *id, size_t len,
                             uint64_t hash, int64_t now, dead_list *dead,
                             mem_entry **out, strands_error *err)
{
    sweep(ms, now, dead);
    if (ms->count >= ms->max_sessions) {
        if (!ms->oldest)
            return strands_error_set(err, STRANDS_E_UNAVAILABLE, NULL,
                                     "session store is full: all %zu "
                                     "sessions are claimed by running "
                                     "invocations", ms->max_sessions);
        drop(ms, ms->oldest, dead);
    }
    mem_entry *e = calloc(1, sizeof(*e) + len + 1);
    if (!e)
        return strands_error_set(err, STRANDS_E_NOMEM, NULL,
                                 "out of memory adding session %s", id);
    memcpy(e->id, id, len + 1);
    e->id_len = len;
    e->hash = hash;
    e->last_used = now;
    mem_entry **b = bucket_of(ms, hash);
    e->chain = *b;
    *b = e;
    lru_push_newest(ms, e);
    ms->count++;
    maybe_grow(ms);
    *out = e;
    return STRANDS_OK;
}

/* ---- vtable methods ----------------------------------------------------- */

/* Compact JSON text of v, measured first (jansson can skip members when an
 * allocation fails inside a dump and still return text). NULL on OOM. */
static char *dump_exact(const json_t *v, size_t *len)
{
    size_t n = json_dumpb(v, NULL, 0, JSON_COMPACT);
    char *text = n ? malloc(n + 1) : NULL;
    if (text && json_dumpb(v, text, n, JSON_COMPACT) != n) {
        free(text);
        text = NULL;
    }
    if (text) text[n] = '\0';
    *len = text ? n : 0;
    return text;
}

static strands_status memory_load(strands_session_store *self,
                                  const strands_session_key *key,
                                  strands_session_record *out,
                                  strands_error *err)
{
    memory_store *ms = to_ms(self);
    size_t len;
    if (!out)
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "load needs an output record");
    memset(out, 0, sizeof *out);
    strands_status st = session_key_check(key, &len, err);
    if (st != STRANDS_OK) return st;
    const char *id = key->session_id;

    uint64_t hash = session_hash(ms->hash_key, id, len);
    int64_t now = strands_clock_wall();
    dead_list dead = {NULL};
    char *log = NULL, *agent = NULL;
    size_t count = 0;
    int nomem = 0;

    pthread_mutex_lock(&ms->lock);
    mem_entry *e = lookup(ms, id, len, hash, now, &dead);
    if (e) {
        touch(ms, e, now);
        if (e->log) {
            count = e->count;
            log = strdup(e->log);
            agent = strdup(e->agent);
            nomem = !log || !agent;
        }
    }
    pthread_mutex_unlock(&ms->lock);
    dead_free(&dead);

    /* Parsing the stored text yields a private copy for the caller. */
    if (!nomem) {
        out->messages = log ? json_loads(log, 0, NULL) : json_array();
        out->agent = agent ? json_loads(agent, 0, NULL) : json_object();
    }
    free(log);
    free(agent);
    if (nomem || !out->messages || !out->agent) {
        strands_session_record_clear(out);
        return strands_error_set(err, STRANDS_E_NOMEM, NULL,
                                 "out of memory copying session %s", id);
    }
    out->first = 0;
    out->count = count;
    return STRANDS_OK;
}

/* True when e is claimed by `claim` (the same token). */
static int holds(const mem_entry *e, const strands_session_claim *claim)
{
    return e && e->busy && claim &&
           strncmp(e->token, claim->token, sizeof e->token) == 0;
}

/* The log text after appending `add` (compact "[...]" text of n_add
 * messages, add_len bytes) to `log` (NULL: empty): a new string, or NULL
 * on OOM. *len_out gets its length.                                     */
static char *log_join(const char *log, size_t log_len, const char *add,
                      size_t add_len, size_t n_add, size_t *len_out)
{
    if (!log || log_len <= 2) {          /* empty log: the turn is the log */
        *len_out = add_len;
        return strdup(add);
    }
    if (n_add == 0) {
        *len_out = log_len;
        return strdup(log);
    }
    /* "[a,b]" + "[c]" -> "[a,b,c]" */
    size_t n = log_len - 1 + 1 + (add_len - 1);
    char *t = malloc(n + 1);
    if (!t) return NULL;
    memcpy(t, log, log_len - 1);
    t[log_len - 1] = ',';
    memcpy(t + log_len, add + 1, add_len - 1);
    t[n] = '\0';
    *len_out = n;
    return t;
}

static strands_status memory_append(strands_session_store *self,
                                    const strands_session_key *key,
                                    const strands_session_claim *claim,
                                    size_t base, const json_t *messages,
                                    const json_t *agent, strands_error *err)
{
    memory_store *ms = to_ms(self);
    size_t len;
    strands_status st = session_key_check(key, &len, err);
    if (st != STRANDS_OK) return st;
    const char *id = key->session_id;
    st = session_check_turn(err, id, messages, agent);
    if (st != STRANDS_OK) return st;
    /* The sizes are measured without building the text, so an oversized
     * turn is refused before it is copied. */
    size_t add_size = json_dumpb(messages, NULL, 0, JSON_COMPACT);
    size_t agent_size = json_dumpb(agent, NULL, 0, JSON_COMPACT);
    st = session_check_history_size(err, id, add_size + agent_size,
                                    ms->max_history_bytes);
    if (st != STRANDS_OK) return st;
    /* The caller's values are only read: serialize them before taking the
     * lock. */
    size_t add_len, agent_len;
    char *add = dump_exact(messages, &add_len);
    char *agent_text = dump_exact(agent, &agent_len);
    if (!add || !agent_text) {
        free(add);
        free(agent_text);
        return strands_error_set(err, STRANDS_E_NOMEM, NULL,
                                 "out of memory copying session %s", id);
    }

    uint64_t hash = session_hash(ms->hash_key, id, len);
    int64_t now = strands_clock_wall();
    dead_list dead = {NULL};
    char *joined = NULL;
    size_t n_add = json_array_size(messages);

    pthread_mutex_lock(&ms->lock);
    mem_entry *e = lookup(ms, id, len, hash, now, &dead);
    size_t have = e && e->log ? e->count : 0;
    size_t joined_len = 0;
    if (claim && !holds(e, claim)) {
        st = session_claim_lost(err, id);
    } else if (have != base) {
        st = session_conflict(err, id, base, have);
    } else {
        /* Joining copies the log under the lock: a memcpy bounded by the
         * history cap, the price of keeping one compact text per session. */
        joined = log_join(e ? e->log : NULL, e ? e->log_len : 0, add,
                          add_len, n_add, &joined_len);
        if (!joined)
            st = strands_error_set(err, STRANDS_E_NOMEM, NULL,
                                   "out of memory appending to session %s",
                                   id);
        else
            st = session_check_history_size(err, id,
                                            joined_len + agent_len,
                                            ms->max_history_bytes);
    }
    if (st == STRANDS_OK && !e)
        st = insert(ms, id, len, hash, now, &dead, &e, err);
    if (st == STRANDS_OK) {
        /* Swap in the new texts; the old ones are released below, outside
         * the lock. */
        char *old_log = e->log, *old_agent = e->agent;
        e->log = joined;
        e->log_len = joined_len;
        e->agent = agent_text;
        e->count = have + n_add;
        joined = old_log;
        agent_text = old_agent;
        touch(ms, e, now);
    }
    pthread_mutex_unlock(&ms->lock);

    free(joined);
    free(agent_text);
    free(add);
    dead_free(&dead);
    return st;
}

/* The lease end for a claim made or renewed at mono time `mono`. */
static int64_t lease_end(const memory_store *ms, int64_t mono)
{
    return ms->lease_ms ? mono + ms->lease_ms : 0;
}

static strands_status memory_claim(strands_session_store *self,
                                   const strands_session_key *key,
                                   strands_session_claim *claim_out,
                                   strands_error *err)
{
    memory_store *ms = to_ms(self);
    size_t len;
    if (!claim_out)
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "claim needs an output claim");
    memset(claim_out, 0, sizeof *claim_out);
    strands_status st = session_key_check(key, &len, err);
    if (st != STRANDS_OK) return st;
    const char *session_id = key->session_id;

    uint64_t hash = session_hash(ms->hash_key, session_id, len);
    int64_t now = strands_clock_wall();
    int64_t mono = strands_clock_mono_ms();
    dead_list dead = {NULL};
    strands_session_claim fresh;
    session_claim_token(&fresh);
    fresh.expires_ms = lease_end(ms, mono);

    pthread_mutex_lock(&ms->lock);
    sweep(ms, now, &dead);
    mem_entry *e = lookup(ms, session_id, len, hash, now, &dead);
    if (e && e->busy && (!e->lease_until || mono < e->lease_until))
        st = strands_error_set(err, STRANDS_E_BUSY, "SessionBusy",
                               "session %s is busy with another invocation",
                               session_id);
    else if (!e)
        st = insert(ms, session_id, len, hash, now, &dead, &e, err);
    if (st == STRANDS_OK) {
        /* A lapsed claim is taken over: its holder's token stops working. */
        if (!e->busy) lru_unlink(ms, e); /* claimed entries leave the LRU */
        e->busy = 1;
        e->last_used = now;
        e->lease_until = fresh.expires_ms;
        memcpy(e->token, fresh.token, sizeof e->token);
        *claim_out = fresh;
    }
    pthread_mutex_unlock(&ms->lock);

    dead_free(&dead);
    return st;
}

static strands_status memory_renew(strands_session_store *self,
                                   const strands_session_key *key,
                                   strands_session_claim *claim,
                                   strands_error *err)
{
    memory_store *ms = to_ms(self);
    size_t len;
    strands_status st = session_key_check(key, &len, err);
    if (st != STRANDS_OK) return st;
    const char *session_id = key->session_id;
    if (!claim)
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "renew needs the claim");
    uint64_t hash = session_hash(ms->hash_key, session_id, len);
    int64_t mono = strands_clock_mono_ms();

    pthread_mutex_lock(&ms->lock);
    mem_entry *e = find(ms, session_id, len, hash);
    if (holds(e, claim)) {
        /* Still ours even past the lease when nobody took over. */
        e->lease_until = lease_end(ms, mono);
        claim->expires_ms = e->lease_until;
    } else {
        st = session_claim_lost(err, session_id);
    }
    pthread_mutex_unlock(&ms->lock);
    return st;
}

static strands_status memory_release(strands_session_store *self,
                                     const strands_session_key *key,
                                     const strands_session_claim *claim,
                                     strands_error *err)
{
    memory_store *ms = to_ms(self);
    size_t len;
    strands_status st = session_key_check(key, &len, err);
    if (st != STRANDS_OK) return st;
    const char *session_id = key->session_id;

    uint64_t hash = session_hash(ms->hash_key, session_id, len);
    int64_t now = strands_clock_wall();

    pthread_mutex_lock(&ms->lock);
    mem_entry *e = find(ms, session_id, len, hash);
    if (holds(e, claim)) {
        e->busy = 0;
        e->lease_until = 0;
        memset(e->token, 0, sizeof e->token);
        e->last_used = now;
        lru_push_newest(ms, e);
    } else {
        st = session_claim_lost(err, session_id);
    }
    pthread_mutex_unlock(&ms->lock);
    return st;
}

static void memory_destroy(strands_session_store *self)
{
    memory_store *ms = to_ms(self);
    for (size_t i = 0; i < ms->nbuckets; i++) {
        mem_entry *e = ms->buckets[i];
        while (e) {
            mem_entry *next = e->chain;
            entry_free(e);
            e = next;
        }
    }
    free(ms->buckets);
    pthread_mutex_destroy(&ms->lock);
    free(ms);
}

static const strands_session_store_vtab memory_vtab = {
    .version = STRANDS_SESSION_VTAB_VERSION,
    .name = "memory",
    .load = memory_load,
    .append = memory_append,
    .claim = memory_claim,
    .renew = memory_renew,
    .release = memory_release,
    .destroy = memory_destroy,
};

/* ---- public constructor and introspection ----------------------------- */

strands_session_store *strands_memory_store_new_with(
    const strands_memory_store_config *cfg)
{
    if (!cfg || cfg->max_sessions == 0 || cfg->idle_ttl_s < 0 ||
        cfg->lease_ms < 0)
        return NULL;
    memory_store *ms = calloc(1, sizeof(*ms));
    if (!ms) return NULL;
    ms->nbuckets = INITIAL_BUCKETS;
    ms->buckets = calloc(ms->nbuckets, sizeof(*ms->buckets));
    if (!ms->buckets || pthread_mutex_init(&ms->lock, NULL) != 0) {
        free(ms->buckets);
        free(ms);
        return NULL;
    }
    ms->base.vtab = &memory_vtab;
    ms->max_sessions = cfg->max_sessions;
    ms->idle_ttl_s = cfg->idle_ttl_s;
    ms->max_history_bytes = cfg->max_history_bytes
                                ? cfg->max_history_bytes
                                : STRANDS_SESSION_DEFAULT_MAX_HISTORY_BYTES;
    ms->lease_ms = cfg->lease_ms;
    session_hash_key(ms->hash_key);
    return &ms->base;
}

strands_session_store *strands_memory_store_new(size_t max_sessions,
                                                int64_t idle_ttl_s)
{
    strands_memory_store_config cfg = {max_sessions, idle_ttl_s, 0, 0};
    return strands_memory_store_new_with(&cfg);
}

size_t strands_memory_store_count(strands_session_store *s)
{
    if (!s || s->vtab != &memory_vtab) return 0;
    memory_store *ms = to_ms(s);
    pthread_mutex_lock(&ms->lock);
    size_t n = ms->count;
    pthread_mutex_unlock(&ms->lock);
    return n;
}
