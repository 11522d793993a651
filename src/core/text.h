/* Showing outside text in messages and logs: a bounded, printable copy
 * (no control bytes, no non-ASCII, optionally no quotes), so a hostile
 * name cannot forge log lines or blow up a message.                   */
#ifndef STRANDS_CORE_TEXT_H
#define STRANDS_CORE_TEXT_H

#include <stddef.h>

/** Writes s for display into out (cap >= 5 bytes, always NUL-terminated):
 * printable ASCII kept, every other byte and every byte found in `also`
 * (may be NULL) as '?', at most `max` bytes of s, then "..." when s was
 * longer (or did not fit). Returns the length written.                */
size_t core_text_shown(char *out, size_t cap, const char *s, size_t max,
                       const char *also);

#endif
