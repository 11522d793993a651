/* Conversation rules that keep the history valid for Bedrock: roles
 * alternate, every toolUse is answered by exactly one toolResult in the
 * next message. Pure JSON functions; no I/O.                              */
#ifndef STRANDS_AGENT_CONVERSATION_H
#define STRANDS_AGENT_CONVERSATION_H

#include <jansson.h>
#include "strands/status.h"

/** Appends the user's prompt blocks (borrowed) to `messages`. If the last
 * message is an assistant turn with unanswered toolUse blocks, first adds
 * a user message answering each with an error "Tool was interrupted."
 * (except those a toolResult block of the prompt answers);
 * if the last message is a user turn (e.g. tool results left by an
 * iteration limit), the prompt blocks join it so roles keep alternating.
 * E_NOMEM leaves `messages` unchanged.                                   */
strands_status conversation_add_prompt(json_t *messages, const json_t *prompt);

/** Builds the working history (what the model sees) from the stored log
 * messages log[from..] (borrowed, only read), valid whatever the log
 * holds (conversation_validate passes): each message reduced to role and
 * content (fields such as "metadata" stay in the log only); malformed or
 * empty messages skipped; leading assistant messages and user messages
 * holding only toolResults dropped (a history starts with a question);
 * blocks out of place dropped (toolUse in a user message, toolResult in
 * an assistant message, a toolResult answering no toolUse of the
 * previous message or answering one twice), a message left empty with
 * them; consecutive messages of one role joined; a toolUse answered by
 * no toolResult in the next message gets an error result "Tool was
 * interrupted." (added to the next user message, or in a new user
 * message before the next assistant one). When the LAST message has
 * unanswered toolUse blocks, that new user message is also returned in
 * *repair_out (a new reference, else NULL): the log must gain it.
 * A message taken over unchanged shares its log message's "content"
 * array (the agent maps working messages to log indices by it).
 * *working_out: a new array. E_NOMEM: nothing returned.                 */
strands_status conversation_restore(const json_t *log, size_t from,
                                    json_t **working_out, json_t **repair_out);

/** Makes an assistant message safe to store: a max_tokens turn has every
 * toolUse replaced by a short notice (`truncated` non-zero); an empty
 * content array gets a placeholder text block. E_NOMEM leaves the message
 * unchanged.                                                             */
strands_status conversation_sanitize_assistant(json_t *message,
                                               int truncated);

/** The toolUse blocks' inner objects ({"toolUseId","name","input"}) of a
 * message, as a new array (borrowed elements are increfed); NULL on OOM. */
json_t *conversation_tool_uses(const json_t *message);

/** Concatenated text blocks of a message, joined by "\n"; malloc'd. */
char *conversation_text(const json_t *message);

/** Checks the invariants on a whole history; E_INVALID with a message
 * naming the first violation.                                            */
strands_status conversation_validate(const json_t *messages,
                                     strands_error *err);

#endif
