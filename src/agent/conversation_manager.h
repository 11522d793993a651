/* Conversation managers: what keeps a session's working history (the
 * messages the model sees) inside a window and inside the model's context,
 * as Strands' conversation managers do, without ever making it invalid
 * (first message a user question, every toolUse answered in the next
 * message). The stored log is append-only: a manager only raises
 * removed_message_count (the log index the working history now starts
 * at), kept in the session's agent object as Strands keeps it:
 *   {"__name__": "SlidingWindowConversationManager",
 *    "removed_message_count": N, "model_call_count": N}
 *   {"__name__": "SummarizingConversationManager",
 *    "removed_message_count": N, "summary_message": {...} | null}
 *   {"__name__": "NullConversationManager", "removed_message_count": N}
 * One manager per kind behind a small internal vtable: cm_sliding.c,
 * cm_summarizing.c, cm_none.c.                                           */
#ifndef STRANDS_AGENT_CONVERSATION_MANAGER_H
#define STRANDS_AGENT_CONVERSATION_MANAGER_H

#include <stddef.h>
#include <jansson.h>

#include "strands/agent.h"
#include "strands/status.h"

/* Overflow recovery: reductions (truncation or manager) before the model
 * error ContextWindowOverflow goes to the client.                       */
#define CM_MAX_REDUCTIONS 3
/* A tool-result text longer than this is cut to its first and last
 * CM_TRUNCATE_KEEP characters around a marker (Strands' numbers).       */
#define CM_TRUNCATE_OVER 400
#define CM_TRUNCATE_KEEP 200
/* Longest history a manager works on (messages): a cap, not a limit any
 * real conversation reaches (the stored history is capped in bytes).    */
#define CM_MAX_MESSAGES ((size_t)1 << 24)

/* A working history and where each message comes from in the log. */
typedef struct cm_history {
    json_t *messages; /* role + content messages (owned reference) */
    size_t *origin;   /* origin[i]: log index of the first log message
                         messages[i] was made from (a lower bound; a
                         summary gets the index of the message after what
                         it summarises). One per message.              */
    size_t cap;       /* allocated slots of origin */
    size_t log_end;   /* the log's length once this turn is stored */
} cm_history;

/** Sets h up for `messages` (a reference is taken) with every origin
 * `origin`. E_NOMEM: h is left empty (cm_history_clear is still safe). */
strands_status cm_history_init(cm_history *h, json_t *messages,
                               size_t origin);
/** Releases what h holds and zeroes it (safe on a zeroed h). */
void cm_history_clear(cm_history *h);
/** Appends msg (borrowed; a reference is taken) coming from log index
 * `origin`. E_NOMEM leaves h unchanged.                                 */
strands_status cm_history_push(cm_history *h, json_t *msg, size_t origin);
/** Makes sure origin has a slot per message (after messages grew by a
 * caller that also sets origin). E_NOMEM leaves h unchanged.           */
strands_status cm_history_reserve(cm_history *h, size_t n);
/** Drops the first k messages (k <= their number). */
void cm_history_drop_front(cm_history *h, size_t k);
/** Replaces the first k messages by `first` (borrowed; a reference is
 * taken) whose origin is that of messages[k] (log_end when k is all of
 * them). E_NOMEM leaves h unchanged.                                    */
strands_status cm_history_replace_front(cm_history *h, size_t k,
                                        json_t *first);
/** The log index the working history starts at: origin[0], or log_end
 * when it is empty.                                                     */
size_t cm_history_start(const cm_history *h);

/* Makes a summary: a model call over `messages` (borrowed, a valid
 * history ending with a user message) with no tools and the system
 * prompt CM_SUMMARY_PROMPT; *reply_out gets the assistant message (the
 * caller owns it).                                                     */
typedef struct cm_summarizer {
    strands_status (*summarize)(void *user, const json_t *messages,
                                json_t **reply_out, strands_error *err);
    void *user;
} cm_summarizer;

/* What the manager is told to do, from the agent config. */
typedef struct cm_config {
    strands_conversation_manager_kind kind;
    int window_size;        /* messages (>= 0; 0 keeps none) */
    double summary_ratio;   /* clamped to 0.1..0.8 */
    int preserve_recent;    /* summarizing: messages never summarised */
} cm_config;

typedef struct cm_state cm_state;

#define CM_VTAB_VERSION 1

/* One manager. Every function that changes the history either fully
 * happens or leaves it (and the state) as it was.                      */
typedef struct cm_vtab {
    int version;              /* CM_VTAB_VERSION */
    const char *state_name;   /* Strands' class name, the state __name__ */
    /* Non-zero: apply_management also runs after each invocation (before
     * the turn is stored); else only before model calls (a summary call
     * would delay the answer).                                         */
    int after_invocation;
    /* Keeps the history in bounds: after each invocation and before each
     * model call. Best effort: OK when nothing could be done (E_NOMEM and
     * E_CANCELLED are errors).                                          */
    strands_status (*apply_management)(cm_state *s, cm_history *h,
                                       const cm_summarizer *sum,
                                       strands_error *err);
    /* The model said the context overflowed: make the history smaller.
     * An error (with a message saying why) when it cannot.              */
    strands_status (*reduce_context)(cm_state *s, cm_history *h,
                                     const cm_summarizer *sum,
                                     strands_error *err);
    /* Adds the manager's own fields to its state object (`out`, which
     * already has __name__ and removed_message_count).                   */
    strands_status (*save)(const cm_state *s, json_t *out);
    /* Reads the manager's own fields of a state with its __name__
     * (fields it cannot use are ignored). E_NOMEM only.                 */
    strands_status (*restore)(cm_state *s, const json_t *state);
} cm_vtab;

/* A manager's per-session state (one per invocation; not shared). */
struct cm_state {
    const cm_vtab *vtab;
    cm_config cfg;
    size_t removed;      /* removed_message_count */
    long long model_calls; /* sliding window: model_call_count */
    json_t *summary;     /* summarizing: the summary message, or NULL */
};

extern const cm_vtab cm_sliding_vtab;
extern const cm_vtab cm_summarizing_vtab;
extern const cm_vtab cm_none_vtab;

/** Sets s up for cfg from a stored conversation_manager_state (borrowed;
 * NULL or not an object: a fresh state). A state of the same manager
 * restores everything; another manager's state (or a malformed one)
 * keeps only its removed_message_count when that is a non-negative
 * integer. removed is capped at log_count. E_NOMEM: s cleared.          */
strands_status cm_state_init(cm_state *s, const cm_config *cfg,
                             const json_t *stored, size_t log_count);
/** Releases what s holds (safe on a zeroed s). */
void cm_state_clear(cm_state *s);
/** The state to store, a new object; NULL on OOM. */
json_t *cm_state_save(const cm_state *s);
/** Messages to put before the log's messages when the history is built
 * (the summary message), as a new array; NULL on OOM.                   */
json_t *cm_state_prepend(const cm_state *s);

/** Overflow step one, for every manager: cuts the largest tool results
 * anywhere in the history (biggest first, until at least half of what
 * the tool results held is gone): texts over CM_TRUNCATE_OVER characters
 * keep their first and last CM_TRUNCATE_KEEP around "... [truncated: N
 * chars removed] ...", images become "[image: <format>, <n> bytes]",
 * large JSON values are cut as text. Changed messages are new objects
 * (the log's messages are never modified). *changed: non-zero when
 * anything was cut. E_NOMEM leaves h unchanged.                         */
strands_status cm_truncate_tool_results(cm_history *h, int *changed);

/** Strands' trim rule on h: where a history of at most `window` messages
 * can start (a user message without toolResult whose toolUse, if any, is
 * answered next), searching from len - window (2 when it already fits).
 * Returns that index; or, when there is none, *fallback_out gets the
 * first assistant toolUse message answered by the next one (else -1) and
 * len is returned.                                                      */
size_t cm_trim_point(const json_t *messages, size_t window,
                     long *fallback_out);

/** The summarizing split: how many of the oldest messages a summary
 * replaces (ratio of them, at most len - preserve, moved forward to the
 * next assistant message so pairs and alternation stay intact). 0 with
 * a message in err when there is nothing that can be summarised.        */
size_t cm_summary_split(const json_t *messages, double ratio, int preserve,
                        strands_error *err);

/** Checks what Bedrock checks and a manager must never break: a
 * non-empty history starts with a user message without toolResult,
 * roles alternate, and every toolUse is answered by exactly one
 * toolResult in the next message and nothing else is answered there.
 * E_INVALID naming the first violation.                                */
strands_status cm_history_validate(const json_t *messages,
                                   strands_error *err);

/* The system prompt of a summary call (our own wording of the intent of
 * Strands' DEFAULT_SUMMARIZATION_PROMPT), and the request appended. */
extern const char CM_SUMMARY_PROMPT[];
extern const char CM_SUMMARY_REQUEST[];
/* The user message that opens a history cut at a toolUse (Strands' trim
 * fallback), which would otherwise start with an assistant message.   */
extern const char CM_TRIMMED_NOTICE[];

#endif
