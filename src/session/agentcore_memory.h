/* The AgentCore Memory session store ("agentcore-memory://<memoryId>"):
 * its configuration and constructor, and the codec that turns messages and
 * the agent object into AgentCore Memory event payloads exactly as the
 * Strands integration (bedrock-agentcore's AgentCoreMemorySessionManager)
 * writes them, so sessions move between the two. Layout and consistency
 * rules: docs/internals/session.md ("AgentCore Memory").               */
#ifndef STRANDS_SESSION_AGENTCORE_MEMORY_H
#define STRANDS_SESSION_AGENTCORE_MEMORY_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "strands/aws.h"
#include "strands/session.h"
#include "strands/status.h"

/* Strands' CONVERSATIONAL_MAX_SIZE: a message whose (text, role) lengths
 * add up to this or more goes as a blob payload.                        */
#define ACM_CONVERSATIONAL_MAX 100000
/* Events read per session (Strands' MAX_FETCH_ALL_RESULTS); ListEvents
 * pages hold at most 100, so at most 100 pages.                         */
#define ACM_DEFAULT_MAX_EVENTS 10000
#define ACM_PAGE_SIZE 100
/* Agent-state events (one per turn) whose payloads a listing keeps, the
 * newest first; older ones are dropped as they arrive.                  */
#define ACM_AGENT_PAYLOADS_KEPT 16
/* A listing reads at most this many times the history cap, plus 64 MiB. */
#define ACM_LIST_BYTES_FACTOR 8
/* Our event metadata keys (Strands reserves stateType and agentId). */
#define ACM_MD_TURN "strands-c.turn"
#define ACM_MD_BASE "strands-c.base"
#define ACM_MD_COUNT "strands-c.count"
#define ACM_MD_FILLED "strands-c.filled"  /* agent keys we added */

typedef struct session_acm_config {
    const char *memory_id;        /* required; AgentCore's id pattern */
    const char *region;           /* required */
    const char *endpoint;         /* NULL: https://bedrock-agentcore.<region>
                                     .amazonaws.com */
    strands_credentials_provider *credentials; /* required; borrowed (it
                                                  outlives the store) unless
                                                  own_credentials */
    int own_credentials;          /* 1: the store frees `credentials` (on
                                     destroy, and when
                                     session_acm_store_new fails) */
    const char *default_actor_id; /* MEMORY_ACTOR_ID; NULL: "default" */
    int max_attempts;             /* AWS_MAX_ATTEMPTS; 0: 3 */
    const char *retry_mode;       /* AWS_RETRY_MODE; NULL: standard */
    size_t max_history_bytes;     /* 0: STRANDS_SESSION_DEFAULT_... */
    size_t max_events;            /* 0: ACM_DEFAULT_MAX_EVENTS */
    int64_t lease_ms;             /* process-local claim lease; 0: never
                                     lapses */
    long connect_timeout_ms;      /* 0: 10 s */
    long read_timeout_ms;         /* 0: 30 s */
} session_acm_config;

/** Creates the store (every string copied). NULL + err (E_INVALID naming
 * what is wrong, E_NOMEM) on failure. Freed with
 * strands_session_store_free.                                          */
strands_session_store *session_acm_store_new(const session_acm_config *cfg,
                                     strands_error *err);

/** 1 when id matches AgentCore's memory id pattern
 * ([a-zA-Z][a-zA-Z0-9-_]{0,99}-[a-zA-Z0-9]{10}), else 0.                */
int session_acm_memory_id_ok(const char *id);
/** 1 when id is a usable actor id (1..255, AgentCore's actorId pattern). */
int session_acm_actor_id_ok(const char *id);
/** 1 when id is a usable AgentCore session id (1..100,
 * [a-zA-Z0-9][a-zA-Z0-9-_]*).                                          */
int session_acm_session_id_ok(const char *id);

/** Serializes v with jansson `flags` (JSON_ENCODE_ANY added); malloc'd,
 * NULL when any write failed (never a partial or corrupt text).       */
char *session_acm_dump(const json_t *v, size_t flags);

/** Serializes v as Python's json.dumps(v) does with its defaults
 * (", " and ": " separators, ASCII only, lowercase \u escapes, key order
 * kept). malloc'd; NULL on OOM or a value jansson cannot dump.         */
char *session_acm_dumps(const json_t *v);

/** The current UTC time as Python's datetime.isoformat() writes it
 * ("2026-12-07T22:10:00.123456+00:00"; no fraction when it is 0) into
 * out (>= 40 bytes).                                                   */
void session_acm_iso_now(char *out, size_t outsz);

/** The payload item for one message, as Strands' AgentCoreMemoryConverter
 * makes it: text = json.dumps of {"message", "message_id": 0,
 * "redact_message": null, "created_at", "updated_at"} (text blocks whose
 * text is blank dropped, unless that leaves no content), then
 * {"conversational": {"content": {"text": text}, "role": "USER"|...}} or,
 * when len(text) + len(role) >= ACM_CONVERSATIONAL_MAX,
 * {"blob": json.dumps([text, role])}. New reference (caller decrefs), or
 * NULL with E_INVALID (no role user/assistant) / E_NOMEM in err.      */
json_t *session_acm_message_payload(const json_t *message,
                                    const char *created_at,
                                    strands_error *err);

/** The message a payload item holds (conversational, or a blob holding
 * a [text, role] pair) into *out as a new reference: OK with *out NULL
 * when the item is not a Strands message (a session or agent blob, text
 * that is not a JSON object); E_NOMEM (nothing in *out) on OOM or when
 * JSON that should be one does not parse (jansson reports most
 * allocation failures as syntax errors).                               */
strands_status session_acm_payload_message(const json_t *item, json_t **out);

/** The agent object a Strands SessionAgent blob holds, into *out (new
 * reference): the blob (a JSON string, or an object) parsed, without
 * agent_id/created_at/updated_at nor the keys named in `filled`
 * (comma-separated, NULL = none: what session_acm_agent_blob added); OK with
 * *out NULL when it is not an object. *created_at_out (may be NULL) gets
 * a malloc'd copy of its created_at, or NULL. E_NOMEM on OOM (nothing
 * to free).                                                            */
strands_status session_acm_agent_from_blob(const json_t *blob,
                                          const char *filled, json_t **out,
                                          char **created_at_out);

/** The blob text of a SessionAgent for `agent` (Strands' field order:
 * agent_id, the agent object's keys, created_at, updated_at). Strands
 * needs "state" and "conversation_manager_state": when the agent object
 * lacks them they are added ({} and Strands' default sliding-window
 * state) and named in `filled` (comma-separated; "" when none; NULL
 * allowed). malloc'd, NULL on OOM.                                     */
char *session_acm_agent_blob(const char *agent_id, const json_t *agent,
                     const char *created_at, const char *updated_at,
                     char *filled, size_t filledsz);

/** The blob text of a Strands Session ({"session_id", "session_type":
 * "AGENT", "created_at", "updated_at"}). malloc'd, NULL on OOM.        */
char *session_acm_session_blob(const char *session_id, const char *now);

#endif
