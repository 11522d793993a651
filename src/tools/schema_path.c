/* The JSON path of a schema walk (see schema_path.h). */
#include <stdio.h>
#include <string.h>

#include "tools/schema_path.h"

void schema_path_init(schema_path *p, const char *root)
{
    snprintf(p->buf, sizeof p->buf, "%s", root);
    p->len = strlen(p->buf);
}

size_t schema_path_push(schema_path *p, const char *fmt, ...)
{
    size_t old = p->len;
    if (old + 1 < sizeof p->buf) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(p->buf + old, sizeof p->buf - old, fmt, ap);
        va_end(ap);
        if (n > 0)
            p->len = old + (size_t)n < sizeof p->buf - 1
                         ? old + (size_t)n
                         : sizeof p->buf - 1;
    }
    return old;
}

void schema_path_pop(schema_path *p, size_t old)
{
    p->len = old;
    p->buf[old] = '\0';
}

void schema_path_vwhy(const schema_path *p, char *why, size_t whysz,
                      const char *fmt, va_list ap)
{
    if (!why || !whysz) return;
    int n = snprintf(why, whysz, "%s ", p->buf);
    if (n < 0) n = 0;
    if ((size_t)n < whysz) vsnprintf(why + n, whysz - (size_t)n, fmt, ap);
}
