/* The JSON path a schema walk is at ("input.items[2].name"), kept in a
 * fixed buffer, and the message it prefixes: shared by the validator
 * (schema.c) and the schema check (schema_check.c). No allocation.     */
#ifndef STRANDS_TOOLS_SCHEMA_PATH_H
#define STRANDS_TOOLS_SCHEMA_PATH_H

#include <stdarg.h>
#include <stddef.h>

/* Longest path kept; a longer one is cut (it is only for display). */
#define SCHEMA_PATH_MAX 256

typedef struct schema_path {
    char buf[SCHEMA_PATH_MAX]; /* NUL-terminated */
    size_t len;
} schema_path;

/** Sets the path to root (cut to fit). */
void schema_path_init(schema_path *p, const char *root);
/** Appends a formatted segment (cut when it does not fit); returns the
 * length to give schema_path_pop to restore the path.                  */
size_t schema_path_push(schema_path *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/** Restores the path to the length push returned. */
void schema_path_pop(schema_path *p, size_t old);
/** Writes "<path> <formatted message>" into why (whysz > 0; always
 * NUL-terminated; cut to fit). Nothing happens when why is NULL.       */
void schema_path_vwhy(const schema_path *p, char *why, size_t whysz,
                      const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));

#endif
