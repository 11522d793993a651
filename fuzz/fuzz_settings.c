/* libFuzzer target for the settings table (src/runtime/settings_*.c and
 * every module's rows): the input is "NAME=value" lines served as the
 * environment. Checks: a load either succeeds, and then every variable
 * named in the input that is a row reads back as set, or fails with
 * E_INVALID and a message that starts with "<VARIABLE>: ". Never crash,
 * leak or read out of bounds.                                           */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "strands/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_VARS 16

typedef struct env {
    char *names[MAX_VARS];
    char *values[MAX_VARS];
    size_t n;
} env;

static const char *lookup(void *user, const char *name)
{
    env *e = user;
    for (size_t i = 0; i < e->n; i++)
        if (!strcmp(e->names[i], name)) return e->values[i];
    return NULL;
}

/* True when msg is "<[A-Z][A-Z0-9_]*>: ...". */
static int names_a_variable(const char *msg)
{
    size_t n = 0;
    while ((msg[n] >= 'A' && msg[n] <= 'Z') || msg[n] == '_' ||
           (n && msg[n] >= '0' && msg[n] <= '9'))
        n++;
    return n && msg[n] == ':' && msg[n + 1] == ' ';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text) return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    env e = {.n = 0};
    for (char *line = text, *next; line && e.n < MAX_VARS; line = next) {
        next = strchr(line, '\n');
        if (next) *next++ = '\0';
        char *eq = strchr(line, '=');
        if (!eq) continue;
        *eq = '\0';
        e.names[e.n] = line;
        e.values[e.n] = eq + 1;
        e.n++;
    }
    strands_error err;
    strands_settings *s = strands_settings_load(lookup, &e, &err);
    if (s) {
        char buf[256];
        for (size_t i = 0; i < e.n; i++) {
            if (lookup(&e, e.names[i]) != e.values[i]) continue; /* dup */
            int r = strands_settings_text(s, e.names[i], buf, sizeof buf);
            /* OPTIONAL rows read "" back as unset; others hold a value. */
            if (r == 0 && *e.values[i]) abort();
        }
        strands_settings_free(s);
    } else if (err.status != STRANDS_E_INVALID ||
               !names_a_variable(err.message)) {
        abort();
    }
    free(text);
    return 0;
}
