/* builtin_options: the settings the built-in tools read, their defaults
 * and the copy the builtin source keeps (see builtin.h).                */
#include <stdlib.h>
#include <string.h>

#include "tools/builtin/builtin.h"

void builtin_options_default(builtin_options *o)
{
    memset(o, 0, sizeof *o);
    o->http_max_bytes = BUILTIN_HTTP_MAX_BYTES_DEFAULT;
    o->http_timeout_seconds = BUILTIN_HTTP_TIMEOUT_DEFAULT;
    o->workspace_dir = (char *)BUILTIN_WORKSPACE_DIR_DEFAULT; /* not freed:
                                    only copies own their strings */
    o->file_max_bytes = BUILTIN_FILE_MAX_BYTES_DEFAULT;
    o->shell_timeout_ms = BUILTIN_SHELL_TIMEOUT_MS_DEFAULT;
    o->shell_output_max_bytes = BUILTIN_SHELL_OUTPUT_MAX_DEFAULT;
}

void builtin_options_cleanup(builtin_options *o)
{
    if (!o) return;
    free(o->http_allow);
    free(o->workspace_dir);
    memset(o, 0, sizeof *o);
}

/* *dst = a copy of src (NULL stays NULL); -1 on OOM. */
static int dup_str(char **dst, const char *src)
{
    *dst = NULL;
    if (!src) return 0;
    *dst = strdup(src);
    return *dst ? 0 : -1;
}

strands_status builtin_options_copy(builtin_options *dst,
                                    const builtin_options *src,
                                    strands_error *err)
{
    builtin_options def;
    builtin_options_default(&def);
    if (!src) src = &def;
    *dst = *src;
    dst->http_allow = NULL;
    dst->workspace_dir = NULL;
    if (dup_str(&dst->http_allow, src->http_allow) ||
        dup_str(&dst->workspace_dir, src->workspace_dir
                                         ? src->workspace_dir
                                         : BUILTIN_WORKSPACE_DIR_DEFAULT))
        return strands_error_set(err, STRANDS_E_NOMEM, NULL,
                                 "out of memory copying the built-in "
                                 "tool settings");
    return STRANDS_OK;
}
