/* Private helpers shared by the session-store backends (memory, file,
 * Redis, ...): session-id and key validation, turn checks, a keyed string
 * hash, claim tokens and the errors every backend reports the same way. Nothing here allocates, so
 * there is no ownership to hand over.                                      */
#ifndef STRANDS_SESSION_STORE_PRIV_H
#define STRANDS_SESSION_STORE_PRIV_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "strands/session.h"
#include "strands/status.h"

/** SipHash-2-4 of len bytes under a 16-byte key. Stores seed their tables
 * with a random key so clients cannot pick ids that collide on purpose. */
uint64_t session_hash(const uint8_t key[16], const void *data,
                              size_t len);

/** Checks a key: non-NULL, its session id by strands_session_id_check
 * (*len_out, NULL allowed, gets its length), its actor and agent ids
 * (when not NULL) by the same rule. OK or E_INVALID.                   */
strands_status session_key_check(const strands_session_key *key,
                                 size_t *len_out, strands_error *err);

/** Checks an append's arguments: messages an array of objects, agent an
 * object. OK or E_INVALID naming session id.                            */
strands_status session_check_turn(strands_error *err, const char *id,
                                  const json_t *messages, const json_t *agent);

/** E_BUSY, code "SessionConflict": the log of id holds `have` messages,
 * not the `base` the append expected.                                   */
strands_status session_conflict(strands_error *err, const char *id,
                                size_t base, size_t have);

/** Fills claim->token with a fresh random token (32 hex digits). */
void session_claim_token(strands_session_claim *claim);

/** E_BUSY, code "SessionClaimLost": the claim on id is no longer held.  */
strands_status session_claim_lost(strands_error *err, const char *id);

/** E_TOO_LARGE, code "SessionHistoryTooLarge", naming the setting, when
 * size (serialized bytes) is over cap; else OK.                         */
strands_status session_check_history_size(strands_error *err, const char *id,
                                          size_t size, size_t cap);

/** Fills a 16-byte hash key from the kernel's random source, falling back
 * to clock and address entropy when that is unavailable.               */
void session_hash_key(uint8_t key[16]);

#endif
