/* Private interface of the file session store, shared by its files:
 *   file.c          the vtable (load, append) and the store object;
 *   file_io.c       safe, atomic file-system primitives relative to
 *                   directory fds (O_NOFOLLOW, temp + fsync + rename);
 *   file_layout.c   the Strands Python JSON layout (records, agent.json,
 *                   session.json, bytes, timestamps);
 *   file_claim.c    claims as flock()ed lock files, across processes;
 *   file_snapshot.c reading Strands' snapshot layout.
 * Nothing here is public; tests and the fuzz target use it directly.   */
#ifndef STRANDS_SESSION_FILE_PRIV_H
#define STRANDS_SESSION_FILE_PRIV_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "strands/session.h"
#include "strands/session_file.h"
#include "strands/status.h"

/* Longest session or agent id the file store accepts, in bytes: the file
 * name "session_<id>.lock" must fit NAME_MAX (255).                      */
#define FILE_ID_MAX 240
/* Claims one store holds at once (beyond: E_UNAVAILABLE). */
#define FILE_MAX_CLAIMS 4096
/* Messages one session's log may hold (a bound on every loop over it). */
#define FILE_MAX_MESSAGES 1000000
/* agent.json / session.json larger than this are refused (E_TOO_LARGE). */
#define FILE_MAX_META_BYTES ((size_t)16 * 1024 * 1024)
/* The key this store adds to agent.json (Strands Python ignores unknown
 * keys): {"message_count": <the committed log length>, "defaults": [the
 * top-level keys it filled with Strands' defaults, which load leaves out
 * again so the agent object round-trips exactly]}.                      */
#define FILE_PRIVATE_KEY "_strands_c"

/* ---- file_io.c ---------------------------------------------------------- */

/** Checks an id used in a file name (session or agent): the
 * strands_session_id_check rules, at most FILE_ID_MAX bytes, no '/', not
 * "." nor "..". `what` names it in the message ("session id").          */
strands_status fstore_id_check(const char *id, const char *what,
                               strands_error *err);

/** Opens directory `name` under dirfd without following a symlink
 * (O_DIRECTORY|O_NOFOLLOW), creating it 0700 first when create is set.
 * Returns the fd (>= 0) or -errno.                                       */
int fstore_dir_open(int dirfd, const char *name, int create);

/** Reads regular file `name` under dirfd (never through a symlink) into
 * a NUL-terminated heap buffer *out (free()) of *len bytes. Returns 0,
 * -ENOENT when absent, -EFBIG when larger than cap, else -errno.       */
int fstore_read_at(int dirfd, const char *name, size_t cap, char **out,
                   size_t *len);

/* A test hook called at named points of a write; returning non-zero makes
 * the write fail there with EIO (a test may also _exit() in it to
 * simulate a crash). Points: "tmp_written" (the temp file is written and
 * synced, not yet renamed), "renamed" (after the rename).               */
typedef int fstore_fault_fn(void *user, const char *point, const char *name);

/** Writes len bytes to `name` under dirfd atomically: a new temp file
 * (0600, O_EXCL) in the same directory, fsync, rename over `name`. The
 * caller fsyncs the directory (fstore_dir_sync) once its renames are done.
 * Returns 0 or -errno (the temp file is removed on failure).           */
int fstore_write_at(int dirfd, const char *name, const char *data, size_t len,
                    fstore_fault_fn *fault, void *fault_user);

/** 1 when errno e from flock() means the filesystem has no flock support
 * (ENOLCK, EOPNOTSUPP, ENOSYS, EINVAL): the store then excludes claims
 * and appends within this process only.                                 */
int fstore_no_flock(int e);

/** fsync() of a directory fd; 0 or -errno. */
int fstore_dir_sync(int dirfd);

/** Maps a -errno from the calls above to the store's error: E_NOMEM,
 * E_TOO_LARGE, else E_UNAVAILABLE "SessionStoreUnavailable"; the message
 * says `doing` and names `path` (a path relative to the store root).   */
strands_status fstore_io_error(strands_error *err, int neg_errno,
                               const char *doing, const char *path);

/* ---- file_layout.c ------------------------------------------------------ */

/** Current time as Python's datetime.now(timezone.utc).isoformat():
 * "2026-05-15T10:00:00.123456+00:00" (out >= 40 bytes). The seconds come
 * from strands_clock_wall() (microseconds 0 when it is overridden).    */
void fstore_iso_now(char *out, size_t outsz);

/** A copy of a Converse message as Strands Python stores it: every
 * base64 string that Python holds as bytes (image/document/video
 * source.bytes, reasoningContent.redactedContent, also inside tool
 * results) becomes {"__bytes_encoded__": true, "data": "<base64>"}; a
 * string there that is not valid base64 stays a string. toolUse inputs
 * and JSON tool results are never touched. New reference, NULL on OOM. */
json_t *fstore_bytes_encode(const json_t *msg);

/** Undoes fstore_bytes_encode on a value read from disk, anywhere in it:
 * each {"__bytes_encoded__": true, "data": "<s>"} becomes the string s.
 * New reference; NULL with E_PARSE (data not a base64 string) or
 * E_NOMEM in err.                                                       */
json_t *fstore_bytes_decode(const json_t *v, strands_error *err);

/** Serializes v as Python's json.dump(indent=2, ensure_ascii=False)
 * does (jansson JSON_INDENT(2), UTF-8 kept). Heap text (free()) and its
 * length, or NULL on OOM.                                               */
char *fstore_json_text(const json_t *v, size_t *len);

/** The text of message_<id>.json for msg (borrowed): {"message",
 * "message_id", "redact_message": null, "created_at", "updated_at"}.
 * Heap text + length, or NULL on OOM.                                   */
char *fstore_message_record(const json_t *msg, size_t id, const char *now,
                            size_t *len);

/* The message records of one append, rendered before any lock is taken
 * (shared by the file and S3 stores). */
typedef struct fstore_turn {
    char **texts;   /* message_<base + i>.json contents */
    size_t *lens;
    size_t n;
} fstore_turn;

/** Renders messages[i] as the record of message base + i, stamped `now`,
 * into *t (caller storage; release with fstore_turn_free, also after an
 * error). E_NOMEM naming nothing else.                                  */
strands_status fstore_turn_prepare(fstore_turn *t, const json_t *messages,
                                   size_t base, const char *now,
                                   strands_error *err);
/** Frees what *t holds and zeroes it. */
void fstore_turn_free(fstore_turn *t);

/** Parses the text of a message_<id>.json (the fuzzed parser): an object
 * with a "message" object (role string, content array), an integer
 * "message_id" equal to expect_id and "redact_message" null/absent or a
 * message. *msg_out gets a new reference to the message load returns
 * (redact_message when set), bytes decoded. E_PARSE with a message naming
 * `name` on anything else; E_NOMEM.                                     */
strands_status fstore_message_parse(const char *text, size_t len,
                                    size_t expect_id, const char *name,
                                    json_t **msg_out, strands_error *err);

/** Parses agent.json text: *agent_out = the v3 agent object (every key
 * but agent_id, created_at, updated_at, FILE_PRIVATE_KEY and the keys it
 * lists as defaulted), *created_out = created_at (a new reference, NULL
 * when absent), *committed = its message_count, or -1 when agent.json
 * does not record it (written by Strands Python). E_PARSE naming `name`
 * (not an object), E_NOMEM.                                             */
strands_status fstore_agent_parse(const char *text, size_t len,
                                  const char *name, json_t **agent_out,
                                  json_t **created_out, long long *committed,
                                  strands_error *err);

/** The agent.json document for `agent` (borrowed v3 agent object):
 * agent_id, state, conversation_manager_state, _internal_state (Strands'
 * defaults when absent, so Strands Python can restore it), the agent's
 * other keys, created_at (`created`, else now), updated_at = now, and
 * FILE_PRIVATE_KEY (committed, the defaulted keys). New reference, NULL
 * on OOM.                                                               */
json_t *fstore_agent_doc(const json_t *agent, const char *agent_id,
                         const char *created, const char *now,
                         size_t committed);

/** The session.json document: session_id, session_type "AGENT",
 * created_at (`created`, else now), updated_at = now. NULL on OOM.     */
json_t *fstore_session_doc(const char *session_id, const char *created,
                           const char *now);

/** removed_message_count of agent.conversation_manager_state when it is
 * an integer in 0..limit, else 0.                                       */
size_t fstore_removed_count(const json_t *agent, size_t limit);

/** Parses "message_<N>.json" (N canonical decimal, < FILE_MAX_MESSAGES):
 * 1 and *n on a match, 0 for any other name, -1 for a name that starts
 * "message_" and ends ".json" without a valid N in between.            */
int fstore_message_name(const char *name, size_t *n);

/* ---- file_snapshot.c ---------------------------------------------------- */

/** Looks for Strands' snapshot of (session_id, agent_id) under root:
 * session/<sid>/scopes/agent/<aid>/snapshots/snapshot_latest.json, then
 * <sid>/scopes/agent/<aid>/snapshots/snapshot_latest.json. Found: OK and
 * *messages_out (array, bytes decoded) and *agent_out (v3 agent object;
 * removed_message_count reset to 0, since a snapshot holds the live
 * messages only). Absent: OK with both NULL. E_PARSE naming the file,
 * E_TOO_LARGE over cap, E_UNAVAILABLE on I/O errors, E_NOMEM.          */
strands_status fstore_snapshot_read(int rootfd, const char *session_id,
                                    const char *agent_id, size_t cap,
                                    json_t **messages_out, json_t **agent_out,
                                    strands_error *err);

/** Converts a parsed snapshot document (borrowed) to messages + agent as
 * fstore_snapshot_read does; `name` is used in errors.                    */
strands_status fstore_snapshot_convert(const json_t *doc, const char *name,
                                       json_t **messages_out,
                                       json_t **agent_out, strands_error *err);

/* ---- file_claim.c ------------------------------------------------------- */

typedef struct fstore_claim_entry fstore_claim_entry;

/* Claims held by one store: one flock()ed lock file per claimed session
 * under <root>/.locks/, kept open until the claim is released.          */
typedef struct fstore_claims {
    pthread_mutex_t lock;   /* guards the list */
    fstore_claim_entry *head;
    size_t count;
    int locks_fd;           /* <root>/.locks, O_DIRECTORY */
} fstore_claims;

/** Opens (creating 0700) <root>/.locks into c. 0 or -errno. */
int fstore_claims_init(fstore_claims *c, int rootfd);
/** Releases every held claim (unlock, delete its file) and closes. */
void fstore_claims_destroy(fstore_claims *c);

/** Claims session `id`: E_BUSY "SessionBusy" when a claim (of this or any
 * other process) holds it; E_UNAVAILABLE when FILE_MAX_CLAIMS are held
 * or the lock file cannot be made. expires_ms = 0 (held until released;
 * the kernel drops it when the process dies).                           */
strands_status fstore_claims_take(fstore_claims *c, const char *id,
                                  strands_session_claim *out,
                                  strands_error *err);
/** OK while `claim` holds session id (its lock file is still the one at
 * the path), else E_BUSY "SessionClaimLost".                            */
strands_status fstore_claims_check(fstore_claims *c, const char *id,
                                   const strands_session_claim *claim,
                                   strands_error *err);
/** Ends the claim (deletes the lock file, unlocks): OK, or E_BUSY
 * "SessionClaimLost" when it is not held.                               */
strands_status fstore_claims_release(fstore_claims *c, const char *id,
                                     const strands_session_claim *claim,
                                     strands_error *err);

/* ---- file.c ------------------------------------------------------------- */

/** Installs a fault hook on a file store (tests only; NULL removes). */
void fstore_set_fault(strands_session_store *s, fstore_fault_fn *fn,
                          void *user);

#endif
