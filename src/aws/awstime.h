/* Time formats AWS uses in credentials: ISO-8601 / RFC 3339 timestamps
 * ("2026-11-24T16:00:00Z", with optional fraction and offset). */
#ifndef STRANDS_AWS_AWSTIME_H
#define STRANDS_AWS_AWSTIME_H

#include <stdint.h>

/** Parses an ISO-8601 UTC timestamp ("YYYY-MM-DDTHH:MM:SS[.fff](Z|±HH:MM)")
 * into Unix seconds. Returns 0 on success, -1 when malformed.            */
int aws_parse_iso8601(const char *s, int64_t *out);

#endif
