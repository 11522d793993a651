/* The file session store (SESSION_STORE=file:<dir>): the vtable over the
 * FileSessionManager layout of Strands Python,
 *   <dir>/session_<sid>/session.json
 *   <dir>/session_<sid>/agents/agent_<aid>/agent.json
 *   <dir>/session_<sid>/agents/agent_<aid>/messages/message_<N>.json
 * Crash safety: agent.json records the committed length of the log under
 * FILE_PRIVATE_KEY (Python ignores unknown keys). An append writes the
 * message files first, then agent.json (the commit point), so a crash
 * leaves the session as it was before or after the turn: message files
 * at or beyond the committed length are ignored by load and removed by
 * the next append. An agent.json without the key (written by Python) is
 * first rewritten with the key before any message file is added. Appends
 * of one session exclude each other with flock() on
 * session_<sid>/.append.lock; claims are file_claim.c's.                */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "session/file.h"
#include "session/store.h"

typedef struct fstore {
    strands_session_store base;
    int rootfd;
    size_t max_history_bytes;
    fstore_claims claims;
    fstore_fault_fn *fault;      /* tests only */
    void *fault_user;
} fstore;

static const strands_session_store_vtab fstore_vtab;

/* Names and relative paths built from checked ids fit these. */
#define NAME_MAX_LEN (FILE_ID_MAX + 32)
#define REL_MAX_LEN (2 * FILE_ID_MAX + 96)

void fstore_set_fault(strands_session_store *s, fstore_fault_fn *fn,
                          void *user)
{
    fstore *fs = (fstore *)s;
    fs->fault = fn;
    fs->fault_user = user;
}

static strands_status oom(strands_error *err)
{
    return strands_error_set(err, STRANDS_E_NOMEM, NULL, "out of memory");
}

/* The ids of a key, checked; *aid gets "default" when unset. */
static strands_status check_key(const strands_session_key *key,
                                const char **aid, strands_error *err)
{
    if (!key)
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "session key is missing");
    strands_status st = fstore_id_check(key->session_id, "session id", err);
    if (st != STRANDS_OK) return st;
    *aid = key->agent_id ? key->agent_id : "default";
    return fstore_id_check(*aid, "agent id", err);
}

/* The directories of one agent's log. */
typedef struct agent_dirs {
    int sdir, adir, mdir;  /* -1 when not open */
    char rel[REL_MAX_LEN]; /* "session_<sid>/agents/agent_<aid>" */
} agent_dirs;

static void dirs_close(agent_dirs *d)
{
    if (d->mdir >= 0) close(d->mdir);
    if (d->adir >= 0) close(d->adir);
    if (d->sdir >= 0) close(d->sdir);
    d->sdir = d->adir = d->mdir = -1;
}

/* Opens (create: making them) the session, agent and messages
 * directories. 0, or -errno with *failed naming the level that failed;
 * without create, a missing level leaves it and the deeper ones at -1
 * and returns 0.                                                       */
static int dirs_open(fstore *fs, const char *sid, const char *aid,
                     int create, agent_dirs *d, const char **failed)
{
    char name[NAME_MAX_LEN];
    d->sdir = d->adir = d->mdir = -1;
    snprintf(d->rel, sizeof d->rel, "session_%s/agents/agent_%s", sid, aid);
    snprintf(name, sizeof name, "session_%s", sid);
    *failed = "session directory";
    int fd = fstore_dir_open(fs->rootfd, name, create);
    if (fd < 0) return fd == -ENOENT && !create ? 0 : fd;
    d->sdir = fd;
    if (create) { /* as Python's create_session lays a session out */
        int m = fstore_dir_open(d->sdir, "multi_agents", 1);
        if (m < 0) return m;
        close(m);
    }
    *failed = "agents directory";
    int agents = fstore_dir_open(d->sdir, "agents", create);
    if (agents < 0) return agents == -ENOENT && !create ? 0 : agents;
    snprintf(name, sizeof name, "agent_%s", aid);
    *failed = "agent directory";
    fd = fstore_dir_open(agents, name, create);
    close(agents);
    if (fd < 0) return fd == -ENOENT && !create ? 0 : fd;
    d->adir = fd;
    *failed = "messages directory";
    fd = fstore_dir_open(d->adir, "messages", create);
    if (fd < 0) return fd == -ENOENT && !create ? 0 : fd;
    d->mdir = fd;
    return 0;
}

static void message_name(char *out, size_t outsz, size_t n)
{
    snprintf(out, outsz, "message_%zu.json", n);
}

static int cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return x < y ? -1 : x > y;
}

/* The log length when agent.json does not record it: the message files
 * must be message_0 .. message_<n-1>; a gap or a bad name is E_PARSE.  */
static strands_status count_files(int mdir, const char *rel, size_t *count,
                                  strands_error *err)
{
    *count = 0;
    if (mdir < 0) return STRANDS_OK;
    int fd = fcntl(mdir, F_DUPFD_CLOEXEC, 0);
    DIR *dir = fd >= 0 ? fdopendir(fd) : NULL;
    if (!dir) {
        int e = errno;
        if (fd >= 0) close(fd);
        return fstore_io_error(err, -e, "cannot list", rel);
    }
    rewinddir(dir);
    size_t *ids = NULL, n = 0, cap = 0;
    strands_status st = STRANDS_OK;
    struct dirent *de;
    while ((de = readdir(dir)) != NULL) {
        size_t id;
        int r = fstore_message_name(de->d_name, &id);
        if (r == 0) continue;
        if (r < 0) {
            st = strands_error_set(err, STRANDS_E_PARSE, NULL,
                                   "session store: %s/messages/%.255s is "
                                   "not a message_<N>.json name", rel,
                                   de->d_name);
            break;
        }
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 64;
            size_t *grown = ncap <= FILE_MAX_MESSAGES
                                ? realloc(ids, ncap * sizeof *ids) : NULL;
            if (!grown) {
                st = ncap > FILE_MAX_MESSAGES
                         ? strands_error_set(err, STRANDS_E_TOO_LARGE,
                                             "SessionHistoryTooLarge",
                                             "session store: %s holds "
                                             "too many messages", rel)
                         : oom(err);
                break;
            }
            ids = grown;
            cap = ncap;
        }
        ids[n++] = id;
    }
    closedir(dir);
    if (st == STRANDS_OK && n) {
        qsort(ids, n, sizeof *ids, cmp_size);
        for (size_t i = 0; i < n; i++) {
            if (ids[i] != i) {
                st = strands_error_set(err, STRANDS_E_PARSE, NULL,
                                       "session store: %s/messages/"
                                       "message_%zu.json is missing (the "
                                       "message log has a gap)", rel, i);
                break;
            }
        }
        if (st == STRANDS_OK) *count = n;
    }
    free(ids);
    return st;
}

/* Reads agent.json: OK with *agent (NULL when absent), *created and
 * *committed (-1 when agent.json does not record it).                 */
static strands_status read_agent(agent_dirs *d, json_t **agent,
                                 json_t **created, long long *committed,
                                 strands_error *err)
{
    *agent = *created = NULL;
    *committed = -1;
    if (d->adir < 0) return STRANDS_OK;
    char rel[REL_MAX_LEN + 16];
    snprintf(rel, sizeof rel, "%s/agent.json", d->rel);
    char *text;
    size_t len;
    int rc = fstore_read_at(d->adir, "agent.json", FILE_MAX_META_BYTES, &text,
                            &len);
    if (rc == -ENOENT) return STRANDS_OK;
    if (rc != 0) return fstore_io_error(err, rc, "cannot read", rel);
    strands_status st = fstore_agent_parse(text, len, rel, agent, created,
                                           committed, err);
    free(text);
    return st;
}

/* Reads message files [first, count) into a new array. */
static strands_status read_messages(fstore *fs, agent_dirs *d,
                                    size_t first, size_t count,
                                    json_t **out, strands_error *err)
{
    *out = json_array();
    if (!*out) return oom(err);
    size_t total = 0;
    for (size_t i = first; i < count; i++) {
        char name[64], rel[REL_MAX_LEN + 80];
        message_name(name, sizeof name, i);
        snprintf(rel, sizeof rel, "%s/messages/%s", d->rel, name);
        char *text;
        size_t len;
        int rc = d->mdir < 0 ? -ENOENT
                             : fstore_read_at(d->mdir, name,
                                              fs->max_history_bytes, &text,
                                              &len);
        strands_status st;
        if (rc == -ENOENT)
            st = strands_error_set(err, STRANDS_E_PARSE, NULL,
                                   "session store: %s is missing (agent."
                                   "json records %zu messages)", rel, count);
        else if (rc != 0)
            st = fstore_io_error(err, rc, "cannot read", rel);
        else {
            total += len;
            json_t *msg = NULL;
            st = total > fs->max_history_bytes
                     ? session_check_history_size(err, d->rel, total,
                                                  fs->max_history_bytes)
                     : fstore_message_parse(text, len, i, rel, &msg, err);
            free(text);
            if (st == STRANDS_OK && json_array_append_new(*out, msg) != 0)
                st = oom(err);
        }
        if (st != STRANDS_OK) {
            json_decref(*out);
            *out = NULL;
            return st;
        }
    }
    return STRANDS_OK;
}

static strands_status file_load(strands_session_store *self,
                                const strands_session_key *key,
                                strands_session_record *out,
                                strands_error *err)
{
    fstore *fs = (fstore *)self;
    if (!out)
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "load: no record to fill");
    memset(out, 0, sizeof *out);
    const char *aid = NULL;
    strands_status st = check_key(key, &aid, err);
    if (st != STRANDS_OK) return st;
    const char *sid = key->session_id;

    agent_dirs d;
    const char *failed;
    int rc = dirs_open(fs, sid, aid, 0, &d, &failed);
    if (rc != 0) {
        dirs_close(&d);
        return fstore_io_error(err, rc, "cannot open the", failed);
    }
    json_t *agent = NULL, *created = NULL, *msgs = NULL;
    long long committed = -1;
    st = read_agent(&d, &agent, &created, &committed, err);
    json_decref(created);
    if (st == STRANDS_OK && !agent) {
        /* No message log for this agent: Strands' snapshot layout? */
        json_t *smsgs = NULL, *sagent = NULL;
        st = fstore_snapshot_read(fs->rootfd, sid, aid,
                                  fs->max_history_bytes, &smsgs, &sagent,
                                  err);
        if (st == STRANDS_OK && smsgs) {
            dirs_close(&d);
            out->count = json_array_size(smsgs);
            out->messages = smsgs;
            out->agent = sagent;
            return STRANDS_OK;
        }
    }
    if (st == STRANDS_OK && committed < 0) {
        size_t n;
        st = count_files(d.mdir, d.rel, &n, err);
        committed = (long long)n;
    }
    size_t first = 0;
    if (st == STRANDS_OK) {
        first = agent ? fstore_removed_count(agent, (size_t)committed) : 0;
        st = read_messages(fs, &d, first, (size_t)committed, &msgs, err);
    }
    dirs_close(&d);
    if (st != STRANDS_OK) {
        json_decref(agent);
        return st;
    }
    if (!agent && !(agent = json_object())) {
        json_decref(msgs);
        return oom(err);
    }
    out->messages = msgs;
    out->agent = agent;
    out->first = first;
    out->count = (size_t)committed;
    return STRANDS_OK;
}

/* ---- append ------------------------------------------------------------- */

static strands_status write_doc(fstore *fs, int dirfd, const char *name,
                                const char *rel, json_t *doc,
                                strands_error *err)
{
    if (!doc) return oom(err);
    size_t len;
    char *text = fstore_json_text(doc, &len);
    json_decref(doc);
    if (!text) return oom(err);
    int rc = fstore_write_at(dirfd, name, text, len, fs->fault,
                             fs->fault_user);
    free(text);
    if (rc == 0) rc = fstore_dir_sync(dirfd);
    return rc ? fstore_io_error(err, rc, "cannot write", rel) : STRANDS_OK;
}

/* Removes message files [from, to) (a failed turn's); best effort. */
static void remove_messages(int mdir, size_t from, size_t to)
{
    char name[64];
    for (size_t i = from; i < to; i++) {
        message_name(name, sizeof name, i);
        unlinkat(mdir, name, 0);
    }
    if (to > from) fstore_dir_sync(mdir);
}

/* Removes what a crashed append left at and beyond `committed`. */
static strands_status remove_stale(int mdir, size_t committed,
                                   const char *rel, strands_error *err)
{
    char name[64];
    size_t i = committed;
    for (; i < FILE_MAX_MESSAGES; i++) {
        message_name(name, sizeof name, i);
        if (unlinkat(mdir, name, 0) != 0) break;
    }
    if (i == committed) return STRANDS_OK;
    int rc = fstore_dir_sync(mdir);
    return rc ? fstore_io_error(err, rc, "cannot sync", rel) : STRANDS_OK;
}

/* Bytes on disk of message files [from, to). */
static strands_status sizes_on_disk(int mdir, size_t from, size_t to,
                                    size_t *total, const char *rel,
                                    strands_error *err)
{
    char name[64];
    for (size_t i = from; i < to; i++) {
        message_name(name, sizeof name, i);
        struct stat st;
        if (fstatat(mdir, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
            return fstore_io_error(err, -errno, "cannot stat", rel);
        *total += (size_t)st.st_size;
    }
    return STRANDS_OK;
}

/* Makes agent.json record the committed length before the turn adds
 * files: from a snapshot (written out as the log), from a Python-written
 * agent.json, or a new agent. *committed_io is in (-1: unknown) and out;
 * *agent_io the current agent object (may be replaced).                */
static strands_status ensure_committed(fstore *fs, agent_dirs *d,
                                       const char *sid, const char *aid,
                                       const char *created, const char *now,
                                       json_t **agent_io,
                                       long long *committed_io,
                                       strands_error *err)
{
    char rel[REL_MAX_LEN + 16];
    snprintf(rel, sizeof rel, "%s/agent.json", d->rel);
    if (*committed_io >= 0) return STRANDS_OK;
    strands_status st;
    size_t n = 0;
    if (!*agent_io) {
        json_t *smsgs = NULL, *sagent = NULL;
        st = fstore_snapshot_read(fs->rootfd, sid, aid, fs->max_history_bytes,
                                  &smsgs, &sagent, err);
        if (st != STRANDS_OK) return st;
        if (smsgs) {
            /* Continue a snapshot session in the message-log layout:
             * its messages become message_0..n-1; load keeps reading the
             * snapshot until agent.json below commits them.            */
            n = json_array_size(smsgs);
            char name[64];
            for (size_t i = 0; i < n && st == STRANDS_OK; i++) {
                size_t len;
                char *text = fstore_message_record(json_array_get(smsgs, i),
                                                   i, now, &len);
                if (!text) {
                    st = oom(err);
                    break;
                }
                message_name(name, sizeof name, i);
                int rc = fstore_write_at(d->mdir, name, text, len, fs->fault,
                                         fs->fault_user);
                free(text);
                if (rc) st = fstore_io_error(err, rc, "cannot write", rel);
            }
            json_decref(smsgs);
            int rc = st == STRANDS_OK ? fstore_dir_sync(d->mdir) : 0;
            if (rc) st = fstore_io_error(err, rc, "cannot sync", rel);
            if (st != STRANDS_OK) {
                json_decref(sagent);
                remove_messages(d->mdir, 0, n);
                return st;
            }
            *agent_io = sagent;
        }
    }
    if (n == 0) {
        st = count_files(d->mdir, d->rel, &n, err);
        if (st != STRANDS_OK) return st;
    }
    if (!*agent_io && !(*agent_io = json_object())) return oom(err);
    st = write_doc(fs, d->adir, "agent.json", rel,
                   fstore_agent_doc(*agent_io, aid, created, now, n), err);
    if (st == STRANDS_OK) *committed_io = (long long)n;
    return st;
}

static strands_status conflict(strands_error *err, const char *sid,
                               long long have, size_t base)
{
    return strands_error_set(err, STRANDS_E_BUSY, "SessionConflict",
                             "session %s has %lld messages, not the %zu "
                             "this turn was based on (another writer "
                             "appended)", sid, have, base);
}

/* The append itself, with the session's append lock held. */
static strands_status append_locked(fstore *fs, agent_dirs *d,
                                    const strands_session_key *key,
                                    const char *aid,
                                    const strands_session_claim *claim,
                                    size_t base, const fstore_turn *t,
                                    const json_t *agent, const char *now,
                                    strands_error *err)
{
    const char *sid = key->session_id;
    if (claim) { /* fenced: checked again now that no one else appends */
        strands_status st = fstore_claims_check(&fs->claims, sid, claim, err);
        if (st != STRANDS_OK) return st;
    }
    char srel[REL_MAX_LEN], arel[REL_MAX_LEN + 16];
    snprintf(srel, sizeof srel, "session_%s/session.json", sid);
    snprintf(arel, sizeof arel, "%s/agent.json", d->rel);

    /* session.json: keep created_at; write it now when it is missing. */
    char *text;
    size_t len;
    json_t *screated = NULL;
    int rc = fstore_read_at(d->sdir, "session.json", FILE_MAX_META_BYTES,
                            &text, &len);
    if (rc == 0) {
        json_error_t jerr;
        json_t *doc = json_loadb(text, len, 0, &jerr);
        free(text);
        if (!doc && json_error_code(&jerr) == json_error_out_of_memory)
            return oom(err);
        if (!json_is_object(doc)) {
            json_decref(doc);
            return strands_error_set(err, STRANDS_E_PARSE, NULL,
                                     "session store: %s is not a JSON "
                                     "object", srel);
        }
        screated = json_deep_copy(json_object_get(doc, "created_at"));
        json_decref(doc);
    } else if (rc == -ENOENT) {
        strands_status st = write_doc(fs, d->sdir, "session.json", srel,
                                      fstore_session_doc(sid, NULL, now), err);
        if (st != STRANDS_OK) return st;
    } else {
        return fstore_io_error(err, rc, "cannot read", srel);
    }

    json_t *cur = NULL, *created = NULL;
    long long committed = -1;
    strands_status st = read_agent(d, &cur, &created, &committed, err);
    const char *created_s = json_string_value(created);
    if (st == STRANDS_OK)
        st = ensure_committed(fs, d, sid, aid, created_s, now, &cur,
                              &committed, err);
    json_decref(cur);
    if (st == STRANDS_OK && (size_t)committed != base)
        st = conflict(err, sid, committed, base);
    if (st == STRANDS_OK) st = remove_stale(d->mdir, base, d->rel, err);

    /* agent.json as it will be once the turn is committed. */
    char *atext = NULL;
    size_t alen = 0;
    if (st == STRANDS_OK) {
        json_t *doc = fstore_agent_doc(agent, aid, created_s, now,
                                       base + t->n);
        atext = doc ? fstore_json_text(doc, &alen) : NULL;
        json_decref(doc);
        if (!atext) st = oom(err);
    }

    /* The cap: what load will return after this turn, agent included. */
    size_t k = t->n, total = alen;
    size_t first = fstore_removed_count(agent, base + k);
    if (st == STRANDS_OK && first < base)
        st = sizes_on_disk(d->mdir, first, base, &total, d->rel, err);
    for (size_t i = 0; st == STRANDS_OK && i < k; i++)
        if (base + i >= first) total += t->lens[i];
    if (st == STRANDS_OK)
        st = session_check_history_size(err, sid, total,
                                        fs->max_history_bytes);

    /* The messages, then agent.json: the commit point. */
    size_t written = 0;
    char name[64], mrel[REL_MAX_LEN + 80];
    for (; st == STRANDS_OK && written < k; written++) {
        message_name(name, sizeof name, base + written);
        rc = fstore_write_at(d->mdir, name, t->texts[written],
                             t->lens[written], fs->fault, fs->fault_user);
        if (rc) {
            snprintf(mrel, sizeof mrel, "%s/messages/%s", d->rel, name);
            st = fstore_io_error(err, rc, "cannot write", mrel);
            break;
        }
    }
    if (st == STRANDS_OK && k && (rc = fstore_dir_sync(d->mdir)) != 0)
        st = fstore_io_error(err, rc, "cannot sync", d->rel);
    if (st == STRANDS_OK) {
        rc = fstore_write_at(d->adir, "agent.json", atext, alen, fs->fault,
                             fs->fault_user);
        if (rc) st = fstore_io_error(err, rc, "cannot write", arel);
    }
    free(atext);
    json_decref(created);
    if (st != STRANDS_OK) {
        if (st != STRANDS_E_BUSY) remove_messages(d->mdir, base,
                                                  base + written);
        json_decref(screated);
        return st;
    }
    /* Committed. A failing directory fsync now only risks durability
     * across a power loss, not what readers see: the turn stands.
     * session.json's updated_at is best effort for the same reason.   */
    (void)fstore_dir_sync(d->adir);
    json_t *sdoc = fstore_session_doc(sid, json_string_value(screated), now);
    json_decref(screated);
    strands_error ignored;
    (void)write_doc(fs, d->sdir, "session.json", srel, sdoc, &ignored);
    return STRANDS_OK;
}

/* The cap checked before anything touches the disk, on what this turn
 * alone adds (a new session's turn over the cap leaves no trace).     */
static strands_status precheck_size(fstore *fs,
                                    const strands_session_key *key,
                                    const fstore_turn *t, size_t base,
                                    const json_t *agent, strands_error *err)
{
    size_t first = fstore_removed_count(agent, base + t->n);
    size_t total = json_dumpb(agent, NULL, 0, JSON_COMPACT);
    for (size_t i = 0; i < t->n; i++)
        if (base + i >= first) total += t->lens[i];
    return session_check_history_size(err, key->session_id, total,
                                      fs->max_history_bytes);
}

static strands_status check_messages(const json_t *messages,
                                     const json_t *agent, size_t base,
                                     strands_error *err)
{
    if (!json_is_array(messages))
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "append: messages is not an array");
    if (!json_is_object(agent))
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "append: agent is not an object");
    if (base > FILE_MAX_MESSAGES ||
        json_array_size(messages) > FILE_MAX_MESSAGES - base)
        return strands_error_set(err, STRANDS_E_TOO_LARGE,
                                 "SessionHistoryTooLarge",
                                 "append: the log would hold more than %d "
                                 "messages", FILE_MAX_MESSAGES);
    size_t i;
    json_t *m;
    json_array_foreach(messages, i, m) {
        if (!json_is_object(m) ||
            !json_is_string(json_object_get(m, "role")) ||
            !json_is_array(json_object_get(m, "content")))
            return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                     "append: message %zu has no role and "
                                     "content", i);
    }
    return STRANDS_OK;
}

static strands_status file_append(strands_session_store *self,
                                  const strands_session_key *key,
                                  const strands_session_claim *claim,
                                  size_t base, const json_t *messages,
                                  const json_t *agent, strands_error *err)
{
    fstore *fs = (fstore *)self;
    const char *aid = NULL;
    strands_status st = check_key(key, &aid, err);
    if (st == STRANDS_OK) st = check_messages(messages, agent, base, err);
    if (st != STRANDS_OK) return st;
    if (claim) {
        st = fstore_claims_check(&fs->claims, key->session_id, claim, err);
        if (st != STRANDS_OK) return st;
    }
    char now[48];
    fstore_iso_now(now, sizeof now);
    fstore_turn t;
    st = fstore_turn_prepare(&t, messages, base, now, err);
    if (st == STRANDS_OK) st = precheck_size(fs, key, &t, base, agent, err);
    if (st != STRANDS_OK) {
        fstore_turn_free(&t);
        return st;
    }

    agent_dirs d;
    const char *failed;
    int rc = dirs_open(fs, key->session_id, aid, 1, &d, &failed);
    int lockfd = -1;
    if (rc == 0) {
        lockfd = openat(d.sdir, ".append.lock",
                        O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (lockfd < 0) rc = errno == ELOOP ? -EPERM : -errno;
        else if (flock(lockfd, LOCK_EX) != 0 && !fstore_no_flock(errno))
            rc = -errno;
        failed = "append lock";
    }
    if (rc != 0)
        st = fstore_io_error(err, rc, "cannot open the", failed);
    else
        st = append_locked(fs, &d, key, aid, claim, base, &t, agent, now,
                           err);
    if (lockfd >= 0) close(lockfd); /* unlocks */
    dirs_close(&d);
    fstore_turn_free(&t);
    return st;
}

/* ---- claims and the store ----------------------------------------------- */

static strands_status file_claim(strands_session_store *self,
                                 const strands_session_key *key,
                                 strands_session_claim *claim_out,
                                 strands_error *err)
{
    fstore *fs = (fstore *)self;
    const char *aid = NULL;
    if (!claim_out)
        return strands_error_set(err, STRANDS_E_INVALID, NULL,
                                 "claim: nothing to fill");
    strands_status st = check_key(key, &aid, err);
    if (st != STRANDS_OK) return st;
    return fstore_claims_take(&fs->claims, key->session_id, claim_out, err);
}

static strands_status file_renew(strands_session_store *self,
                                 const strands_session_key *key,
                                 strands_session_claim *claim,
                                 strands_error *err)
{
    fstore *fs = (fstore *)self;
    const char *aid = NULL;
    strands_status st = check_key(key, &aid, err);
    if (st != STRANDS_OK) return st;
    if (!claim) return session_claim_lost(err, key->session_id);
    st = fstore_claims_check(&fs->claims, key->session_id, claim, err);
    if (st == STRANDS_OK) claim->expires_ms = 0;
    return st;
}

static strands_status file_release(strands_session_store *self,
                                   const strands_session_key *key,
                                   const strands_session_claim *claim,
                                   strands_error *err)
{
    fstore *fs = (fstore *)self;
    const char *aid = NULL;
    strands_status st = check_key(key, &aid, err);
    if (st != STRANDS_OK) return st;
    if (!claim) return session_claim_lost(err, key->session_id);
    return fstore_claims_release(&fs->claims, key->session_id, claim, err);
}

static void file_destroy(strands_session_store *self)
{
    fstore *fs = (fstore *)self;
    fstore_claims_destroy(&fs->claims);
    if (fs->rootfd >= 0) close(fs->rootfd);
    free(fs);
}

static const strands_session_store_vtab fstore_vtab = {
    .version = STRANDS_SESSION_VTAB_VERSION,
    .name = "file",
    .load = file_load,
    .append = file_append,
    .claim = file_claim,
    .renew = file_renew,
    .release = file_release,
    .destroy = file_destroy,
};

/* mkdir -p with mode 0700 for what is missing. 0 or -errno. */
static int make_dirs(const char *dir)
{
    size_t n = strlen(dir);
    char *p = strdup(dir);
    if (!p) return -ENOMEM;
    int rc = 0;
    for (size_t i = 1; i <= n && rc == 0; i++) {
        if (p[i] != '/' && p[i] != '\0') continue;
        if (p[i - 1] == '/') continue;
        char c = p[i];
        p[i] = '\0';
        if (mkdir(p, 0700) != 0 && errno != EEXIST) rc = -errno;
        p[i] = c;
    }
    free(p);
    return rc;
}

strands_session_store *strands_file_store_new(
    const strands_file_store_config *cfg, strands_error *err)
{
    if (!cfg || !cfg->dir || !cfg->dir[0]) {
        strands_error_set(err, STRANDS_E_INVALID, NULL,
                          "file store: no directory given");
        return NULL;
    }
    const char *dir = cfg->dir;
    int rc = make_dirs(dir);
    int root = rc == 0 ? open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
    if (rc == 0 && root < 0) rc = -errno;
    if (rc == 0) {
        /* Writable? Prove it with a real (atomic) write. */
        rc = fstore_write_at(root, ".strands-c-probe", "", 0, NULL, NULL);
        if (rc == 0) unlinkat(root, ".strands-c-probe", 0);
    }
    fstore *fs = NULL;
    if (rc == 0 && !(fs = calloc(1, sizeof *fs))) rc = -ENOMEM;
    if (rc == 0) {
        fs->base.vtab = &fstore_vtab;
        fs->rootfd = root;
        fs->max_history_bytes =
            cfg->max_history_bytes ? cfg->max_history_bytes
                                   : STRANDS_SESSION_DEFAULT_MAX_HISTORY_BYTES;
        rc = fstore_claims_init(&fs->claims, root);
    }
    if (rc == 0) return &fs->base;
    if (root >= 0) close(root);
    free(fs);
    if (rc == -ENOMEM)
        strands_error_set(err, STRANDS_E_NOMEM, NULL, "out of memory");
    else
        strands_error_set(err, STRANDS_E_INVALID, NULL,
                          "file store directory '%.200s' is not a writable "
                          "directory: %s", dir, strerror(-rc));
    return NULL;
}
