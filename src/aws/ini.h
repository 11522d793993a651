/* The AWS shared config and credentials files (~/.aws/config,
 * ~/.aws/credentials): a bounded INI parser with the section rules of
 * botocore's configloader. Owns parsing and lookup only; which file and
 * which profile to read is the caller's business (cred_profile.c).       */
#ifndef STRANDS_AWS_INI_H
#define STRANDS_AWS_INI_H

#include <stddef.h>

#include "strands/status.h"

#define AWS_INI_MAX_FILE (1024 * 1024)  /* bytes */
#define AWS_INI_MAX_LINE 16384          /* bytes, without the newline */
#define AWS_INI_MAX_SECTIONS 10000
#define AWS_INI_MAX_ENTRIES 1000        /* per section, sub-keys included */

typedef struct aws_ini aws_ini;

/* Which file a text is: decides how section headers name profiles.
 *  credentials: [name] is profile "name" (exactly; "[profile x]" is a
 *               profile called "profile x").
 *  config:      [default] and [profile name] (name may be quoted) are
 *               profiles; [type name] (sso-session, services, ...) is a
 *               section of that type; any other [name] is ignored.       */
typedef enum aws_ini_kind {
    AWS_INI_CREDENTIALS = 0,
    AWS_INI_CONFIG = 1
} aws_ini_kind;

/** Parses text (len bytes, need not be NUL-terminated). Syntax: `[section]`
 * headers (text up to the last ']', trimmed); `key = value` or
 * `key: value` (split at the first '=' or ':'; key trimmed and lowercased
 * as botocore does, value trimmed); whole-line comments starting with '#'
 * or ';' (after optional indentation); inline comments only when '#'/';'
 * follows whitespace; a line indented deeper than the previous setting
 * continues it: after an empty value it is a sub-section line
 * `subkey = value`, otherwise it is appended to the value after '\n'.
 * Blank and comment lines never end a setting. Repeated sections merge,
 * a repeated key replaces the earlier value (botocore would reject both).
 * Errors: E_PARSE "<label>:<line>: ..." for a setting outside any section,
 * a line without '='/':', an unterminated header, a NUL byte; E_TOO_LARGE
 * beyond the caps above; E_NOMEM. Messages never quote file content (it
 * may hold secrets). Returns the parsed file (free with aws_ini_free) or
 * NULL with err set.                                                     */
aws_ini *aws_ini_parse(const char *text, size_t len, aws_ini_kind kind,
                       const char *label, strands_error *err);

/** Reads and parses the file at path. A missing file (or a path that is
 * not a regular file, e.g. /dev/null, or NULL) gives an empty result, not
 * an error, as in botocore. E_IO (naming the path) when it exists but
 * cannot be read; parse errors as aws_ini_parse with the path as label. */
aws_ini *aws_ini_load(const char *path, aws_ini_kind kind,
                      strands_error *err);

/** Value of key in a profile, or NULL. Borrowed: valid until
 * aws_ini_free. A key holding a sub-section has the value "".           */
const char *aws_ini_get(const aws_ini *ini, const char *profile,
                        const char *key);
/** Value of subkey in the sub-section key of a profile, or NULL. */
const char *aws_ini_get_sub(const aws_ini *ini, const char *profile,
                            const char *key, const char *subkey);
/** Value of key (subkey NULL) or key.subkey in a config-file section of
 * another type, e.g. ("services", "my-svc", "sts", "endpoint_url").      */
const char *aws_ini_section_get(const aws_ini *ini, const char *type,
                                const char *name, const char *key,
                                const char *subkey);
/** 1 when the file defines the profile (even with no settings), else 0. */
int aws_ini_has_profile(const aws_ini *ini, const char *profile);
/** Wipes (values may be secrets) and frees; NULL is a no-op. */
void aws_ini_free(aws_ini *ini);

#endif
