/* The table of built-in tools and strands_tool_registry_add_builtin, which
 * registers one of them by name (the definitions live one per file in this
 * directory; their user data is NULL, so there is nothing to free).      */
#include <stdlib.h>
#include <string.h>

#include "tools/builtin/builtin.h"

static const strands_tool_def *const builtins[] = {
    &strands_builtin_calculator,
    &strands_builtin_current_time,
};

#define BUILTIN_COUNT (sizeof builtins / sizeof builtins[0])

const char *strands_builtin_tool_names(void)
{
    return "calculator,current_time";
}

strands_status strands_tool_registry_add_builtin(strands_tool_registry *reg,
                                                 const char *name,
                                                 strands_error *err)
{
    for (size_t i = 0; name && i < BUILTIN_COUNT; i++) {
        if (strcmp(builtins[i]->name, name) == 0)
            return strands_tool_registry_add(reg, builtins[i], err);
    }
    return strands_error_set(err, STRANDS_E_NOT_FOUND, NULL,
                             "unknown built-in tool '%.64s' (available: %s)",
                             name ? name : "(null)",
                             strands_builtin_tool_names());
}

strands_status strands_tool_registry_add_builtins(strands_tool_registry *reg,
                                                  const char *list,
                                                  strands_error *err)
{
    char *copy = strdup(list ? list : "");
    if (!copy) return strands_error_set(err, STRANDS_E_NOMEM, NULL, "OOM");
    strands_status st = STRANDS_OK;
    char *save = NULL;
    for (char *t = strtok_r(copy, ",", &save); t && st == STRANDS_OK;
         t = strtok_r(NULL, ",", &save)) {
        while (*t == ' ') t++;
        size_t n = strlen(t);
        while (n && t[n - 1] == ' ') t[--n] = '\0';
        if (!n) continue;
        if (strands_tool_registry_add_builtin(reg, t, NULL) != STRANDS_OK)
            st = strands_error_set(err, STRANDS_E_INVALID, NULL,
                                   "unknown or duplicate tool '%.64s' "
                                   "(built-ins: %s)",
                                   t, strands_builtin_tool_names());
    }
    free(copy);
    return st;
}
