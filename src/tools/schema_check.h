/* Checking a JSON Schema itself (not an instance): that every keyword the
 * validator of tools/schema.h reads has the shape it expects, so a schema
 * given by a caller (e.g. a structured-output schema) is refused up front
 * with a reason instead of being half ignored later.                    */
#ifndef STRANDS_TOOLS_SCHEMA_CHECK_H
#define STRANDS_TOOLS_SCHEMA_CHECK_H

#include <stddef.h>

#include <jansson.h>

#include "strands/status.h"

/** Largest cost of a "pattern" (its atoms, each bounded repeat "{m,n}"
 * multiplying what it repeats: glibc expands them when compiling).     */
#define SCHEMA_CHECK_PATTERN_WEIGHT 10000

/** Checks `schema` (borrowed): every subschema is an object or a boolean;
 * "type" is one of object, array, string, number, integer, boolean, null
 * or a non-empty array of them; "properties", "$defs" and "definitions"
 * are objects of subschemas; "required" an array of strings;
 * "additionalProperties" and "items" subschemas; "enum" a non-empty
 * array; "minItems", "maxItems", "minLength", "maxLength" non-negative
 * integers; "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"
 * numbers; "pattern" a POSIX extended regex that compiles, costs at most
 * SCHEMA_CHECK_PATTERN_WEIGHT and has no back-reference (a caller's
 * schema must not buy exponential time or memory); "anyOf",
 * "oneOf", "allOf" non-empty arrays of subschemas; "$ref" a string that
 * resolves ("#", "#/$defs/<name>", "#/definitions/<name>"); nesting at
 * most SCHEMA_MAX_DEPTH. Returns STRANDS_OK, or STRANDS_E_INVALID with
 * `why` (NUL-terminated when whysz > 0, truncated to fit) naming the
 * first problem and its path from `name`, e.g.
 * "output_schema.properties.age.type must be ...". E_NOMEM when regcomp
 * runs out of memory. No allocation beyond regcomp.                      */
strands_status schema_check(const json_t *schema, const char *name,
                            char *why, size_t whysz);

#endif
