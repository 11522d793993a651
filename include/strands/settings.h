/* Settings rows: how a module declares the environment variables it reads.
 * A module (or a registered model provider, session store or tool source)
 * lists its rows in one strands_settings_group; the runtime collects every
 * group into the one settings table that is loaded and validated once at
 * start-up and printed by --help, grouped by module.                     */
#ifndef STRANDS_SETTINGS_H
#define STRANDS_SETTINGS_H

#include <stddef.h>

#include "strands/status.h"

#define STRANDS_SETTINGS_GROUP_VERSION 1

/* Looks a variable up; NULL when unset. */
typedef const char *strands_getenv_fn(void *user, const char *name);

/* What a row's value is, and the C type of the field it is stored in. */
typedef enum strands_setting_type {
    STRANDS_SETTING_INT,       /* int; decimal in min..max */
    STRANDS_SETTING_SIZE,      /* size_t; decimal in min..max (min >= 0) */
    STRANDS_SETTING_INT64,     /* int64_t; decimal in min..max */
    STRANDS_SETTING_STRING,    /* char *; must not be empty unless the row
                                  has STRANDS_SETTING_ALLOW_EMPTY */
    STRANDS_SETTING_OPTIONAL,  /* char *; unset or empty: NULL */
    STRANDS_SETTING_URL,       /* char *; NULL when unset; otherwise passes
                                  strands_endpoint_validate (https, or http
                                  to a loopback host) */
    STRANDS_SETTING_CHOICE,    /* char *; one of the row's `choices` */
    STRANDS_SETTING_LOG_LEVEL  /* int (strands_log_level); debug, info,
                                  warn, error (strands_log_level_parse) */
} strands_setting_type;

/* Row flags. */
#define STRANDS_SETTING_ALLOW_EMPTY 1u /* STRING: "" is a valid value */
#define STRANDS_SETTING_SECRET 2u      /* a string that is a secret: wiped
                                          before it is freed, shown as
                                          "***" by strands_settings_text */

/* One environment variable. Rows are static data: every pointer must stay
 * valid for the life of the process.                                     */
typedef struct strands_setting {
    const char *name;           /* variable, [A-Z][A-Z0-9_]{0,63} */
    const char *alt;            /* read when `name` is unset, or NULL; an
                                   error then names `alt` */
    strands_setting_type type;
    const char *def;            /* default, as text; NULL = unset (only
                                   for OPTIONAL and URL rows) */
    long long min, max;         /* INT, SIZE, INT64: accepted range */
    const char *choices;        /* CHOICE: comma list, e.g. "a,b,c" */
    unsigned flags;             /* STRANDS_SETTING_* flags */
    size_t offset;              /* offsetof the field in the group's
                                   struct (its type: see above) */
    const char *help;           /* one line for --help */
    /* Optional extra check of a non-NULL value, after the type's own
     * check: return an error with a message WITHOUT the variable name
     * (the loader prefixes "NAME: "). Called once at start-up.          */
    strands_status (*check)(const char *value, strands_error *err);
} strands_setting;

/* A module's rows and the struct they fill. */
typedef struct strands_settings_group {
    int version;                /* STRANDS_SETTINGS_GROUP_VERSION */
    const char *title;          /* --help heading, e.g. "HTTP server" */
    const strands_setting *rows;
    size_t n_rows;
    size_t struct_size;         /* sizeof the struct the rows fill */
} strands_settings_group;

/** Checks a group's definition: version, row names, types, field offsets
 * inside struct_size, and that every default is a valid value. E_INVALID
 * with a message naming the group and row. Registration calls it, so a
 * bad row is found when its provider is registered, not at load time.  */
STRANDS_EXTERN strands_status strands_settings_group_check(
    const strands_settings_group *g, strands_error *err);

/** Fills the rows' fields of `values` (a struct of g->struct_size bytes;
 * other bytes are left alone) from the environment: each row reads
 * `name`, then `alt`, then takes its default. getenv_fn NULL reads the
 * process environment. On a bad value returns E_INVALID with a message
 * that starts with the variable's name ("PORT: 'abc' is not an integer
 * in 1..65535"), and the fields are left as after
 * strands_settings_group_cleanup. Strings are allocated: free them with
 * strands_settings_group_cleanup.                                        */
STRANDS_EXTERN strands_status strands_settings_group_load(
    const strands_settings_group *g, void *values,
    strands_getenv_fn *getenv_fn, void *user, strands_error *err);

/** Frees the string fields the rows of g own in `values` and zeroes every
 * row's field. Safe on zeroed storage and after a failed load.           */
STRANDS_EXTERN void strands_settings_group_cleanup(
    const strands_settings_group *g, void *values);

/** Writes the group's rows (name, meaning, default) for --help to stream
 * (a FILE *), without a heading.                                         */
STRANDS_EXTERN void strands_settings_group_print(
    const strands_settings_group *g, void *stream);

#endif
