/* Tool input validation: a JSON Schema (draft 2020-12 subset) validator.
 * Internal to the library; the agent checks every toolUse input with it
 * before the tool runs.                                                  */
#ifndef STRANDS_TOOLS_SCHEMA_H
#define STRANDS_TOOLS_SCHEMA_H

#include <stddef.h>

#include <jansson.h>

#include "strands/status.h"

/** Maximum nesting of subschemas (properties, items, $ref, anyOf, ...)
 * followed for one instance; deeper fails with a message, so a
 * self-referencing schema cannot loop.                                  */
#define SCHEMA_MAX_DEPTH 64
/** Subschemas visited for one instance at most (anyOf/oneOf over
 * recursive $refs could otherwise take exponential time); past it the
 * instance is refused as too costly to check.                           */
#define SCHEMA_MAX_STEPS 200000

/** Validates `instance` against `schema` (both borrowed; a JSON object or
 * boolean schema; NULL schema accepts everything). Keywords: type (string
 * or array; "integer" is a number without fraction), properties,
 * required, additionalProperties (bool or schema), enum, const, items
 * (schema), minItems/maxItems, minimum/maximum,
 * exclusiveMinimum/exclusiveMaximum (numbers), minLength/maxLength
 * (Unicode code points), pattern (POSIX extended regex, unanchored search;
 * a pattern that does not compile is ignored), anyOf/oneOf/allOf, $ref to
 * "#", "#/$defs/<name>" or "#/definitions/<name>" (an unresolvable $ref is
 * ignored). Other keywords are ignored. Returns STRANDS_OK, or
 * STRANDS_E_INVALID with `why` (may be NULL; always NUL-terminated when
 * whysz > 0, truncated to fit) set to the first violation, naming the path
 * from "input" and the rule, e.g. "input.items[2].name is required".
 * No allocation beyond jansson's iteration and regcomp.                 */
strands_status schema_validate(const json_t *schema, const json_t *instance,
                               char *why, size_t whysz);

/** The subschema a local $ref names inside root (borrowed from root):
 * "#" is root itself, "#/$defs/<name>" and "#/definitions/<name>" the
 * member of that object (JSON Pointer escapes ~0 and ~1 in the name; a
 * name of one segment, under 256 bytes). NULL when ref is not one of
 * these forms or names nothing. Shared by the validator and the check of
 * a schema given at start (schema_check.c).                             */
const json_t *schema_ref_resolve(const json_t *root, const char *ref);

#endif
