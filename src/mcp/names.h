/* The names the model sees for one server's tools. Bedrock wants tool
 * names matching [a-zA-Z0-9_-]{1,64}; MCP names are looser (dots,
 * slashes, any length). A model name is prefix + the server's name; when
 * that is not valid as it stands (a character outside the set, or over 64
 * bytes), bytes outside the set become '_', the result is cut, and "_" +
 * 8 hex digits of a hash of the server's ORIGINAL name are appended. The
 * mapping depends only on (prefix, name), so it is stable across re-lists
 * and restarts; a collision left after that is reported, never silently
 * merged. The map keeps the way back (model name -> server name).      */
#ifndef STRANDS_MCP_NAMES_H
#define STRANDS_MCP_NAMES_H

#include <stddef.h>

#include "strands/status.h"

#define MCP_TOOL_NAME_MAX 64

/** Writes the model name for (prefix, remote) into out (≥ 65 bytes).
 * E_INVALID when remote is empty or prefix alone leaves no room (the
 * prefix is cut to 40 bytes at most, so this only happens for "").   */
strands_status mcp_names_model_name(const char *prefix, const char *remote,
                                    char out[MCP_TOOL_NAME_MAX + 1],
                                    strands_error *err);

typedef struct mcp_name_map mcp_name_map;

/** Maps n remote names (borrowed) with prefix. Names whose model name
 * collides with an earlier one are left out and listed in *skipped_out
 * (a new NULL-terminated array of new strings "remote: reason", NULL when
 * none; free with mcp_names_free_list). NULL + err on E_NOMEM.        */
mcp_name_map *mcp_name_map_new(const char *prefix, const char *const *remote,
                               size_t n, char ***skipped_out,
                               strands_error *err);
/** The server's name for a model name; NULL when unknown. Borrowed. */
const char *mcp_name_map_remote(const mcp_name_map *m, const char *model);
/** The model name for a server's name; NULL when unknown/skipped. */
const char *mcp_name_map_model(const mcp_name_map *m, const char *remote);
/** Frees the map (NULL ok). */
void mcp_name_map_free(mcp_name_map *m);
/** Frees a NULL-terminated string array (NULL ok). */
void mcp_names_free_list(char **list);

#endif
