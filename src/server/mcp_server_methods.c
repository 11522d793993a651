/* MCP server mode, the results (pure; see mcp_server.h): initialize and
 * server/discover, the tools/list pages (invoke_agent first, then the
 * registry's tools under their own names), invoke_agent's arguments and
 * result, and a registry tool's Converse content as MCP content.       */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/internal.h"
#include "server/mcp_server.h"
#include "strands/util.h"

/* Shortest tools/list freshness hint: the registry may re-list (an MCP
 * source reconnects), so clients should not keep a list for long.       */
#define TOOLS_TTL_MS 60000

static json_t *server_info_json(const mcp_server_info *info)
{
    return json_pack("{s:s, s:s}", "name",
                     info->name && *info->name ? info->name : "strands-agent",
                     "version", STRANDS_VERSION);
}

static json_t *capabilities(void)
{
    return json_pack("{s:{s:b}}", "tools", "listChanged", 0);
}

json_t *mcp_initialize_result(const char *requested,
                              const mcp_server_info *info)
{
    json_t *r = json_pack("{s:s, s:o, s:o}", "protocolVersion",
                          mcp_rpc_negotiate(requested), "capabilities",
                          capabilities(), "serverInfo",
                          server_info_json(info));
    if (r && info->description && *info->description &&
        json_object_set_new(r, "instructions",
                            json_string(info->description))) {
        json_decref(r);
        return NULL;
    }
    return r;
}

json_t *mcp_discover_result(const mcp_server_info *info)
{
    json_t *r = json_pack(
        "{s:s, s:o, s:o, s:{s:o}, s:i, s:s}", "resultType", "complete",
        "supportedVersions", mcp_rpc_supported_versions(), "capabilities",
        capabilities(), "_meta", "io.modelcontextprotocol/serverInfo",
        server_info_json(info), "ttlMs", TOOLS_TTL_MS, "cacheScope",
        "public");
    if (r && info->description && *info->description &&
        json_object_set_new(r, "instructions",
                            json_string(info->description))) {
        json_decref(r);
        return NULL;
    }
    return r;
}

json_t *mcp_finish_result(json_t *result, const mcp_era *era,
                          const mcp_server_info *info)
{
    if (!result || !era->modern) return result;
    json_t *meta = json_object_get(result, "_meta");
    if (!meta) {
        meta = json_object();
        if (!meta || json_object_set_new(result, "_meta", meta)) goto oom;
    }
    if (json_object_set_new(result, "resultType", json_string("complete")) ||
        json_object_set_new(meta, "io.modelcontextprotocol/serverInfo",
                            server_info_json(info)))
        goto oom;
    return result;
oom:
    json_decref(result);
    return NULL;
}

/* ---- tools/list -------------------------------------------------------- */

static json_t *invoke_tool(void)
{
    return json_pack(
        "{s:s, s:s, s:s,"
        " s:{s:s, s:{s:{s:s, s:s}, s:{s:s, s:s}}, s:[s]},"
        " s:{s:s, s:{s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s},"
        "  s:{s:s, s:{s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}}},"
        "  s:{s:s}},"
        "  s:[s, s, s, s, s, s]}}",
        "name", MCP_SERVER_INVOKE_TOOL, "title", "Invoke the agent",
        "description",
        "Sends a prompt to the agent and returns its answer. Calls with the "
        "same session_id continue one conversation.",
        "inputSchema", "type", "object", "properties", "prompt", "type",
        "string", "description", "what to ask the agent", "session_id",
        "type", "string", "description",
        "the conversation to continue (1..256 characters); default: the "
        "AgentCore or MCP session, else a new one",
        "required", "prompt", "outputSchema", "type", "object", "properties",
        "invocation_id", "type", "string", "session_id", "type", "string",
        "response", "type", "string", "stop_reason", "type", "string",
        "usage", "type", "object", "properties", "input_tokens", "type",
        "integer", "output_tokens", "type", "integer", "total_tokens", "type",
        "integer", "cache_read_input_tokens", "type", "integer",
        "cache_write_input_tokens", "type", "integer", "iterations", "type",
        "integer", "required",
        "invocation_id", "session_id", "response", "stop_reason", "usage",
        "iterations");
}

/* One Converse toolSpec as an MCP Tool (NULL when it has no usable name
 * or on OOM; *skip set for the first case).                            */
static json_t *mcp_tool(const json_t *spec, int *skip)
{
    const json_t *ts = json_object_get(spec, "toolSpec");
    const char *name = json_string_value(json_object_get(ts, "name"));
    *skip = !name || !strcmp(name, MCP_SERVER_INVOKE_TOOL);
    if (*skip) return NULL;
    const json_t *schema =
        json_object_get(json_object_get(ts, "inputSchema"), "json");
    json_t *sc = json_is_object(schema) ? json_incref((json_t *)schema)
                                        : json_pack("{s:s}", "type", "object");
    json_t *t = json_pack("{s:s, s:o}", "name", name, "inputSchema", sc);
    const json_t *d = json_object_get(ts, "description");
    if (t && json_is_string(d) && json_object_set(t, "description", (json_t *)d)) {
        json_decref(t);
        return NULL;
    }
    return t;
}

json_t *mcp_tools_list_result(const strands_tool_snapshot *snap,
                              const char *cursor, mcp_rpc_error *err)
{
    memset(err, 0, sizeof *err);
    size_t start = 0;
    if (cursor) {
        char *end = NULL;
        errno = 0;
        unsigned long long v = strtoull(cursor, &end, 10);
        if (!*cursor || *end || errno || cursor[0] == '-' || cursor[0] == '+' ||
            v > (unsigned long long)strands_tool_snapshot_count(snap) + 1) {
            mcp_rpc_error_set(err, MCP_RPC_INVALID_PARAMS, 200,
                              "Invalid params: unknown cursor");
            return NULL;
        }
        start = (size_t)v;
    }
    json_t *tools = json_array();
    json_t *r = tools ? json_pack("{s:o, s:i, s:s}", "tools", tools, "ttlMs",
                                  TOOLS_TTL_MS, "cacheScope", "public")
                      : NULL;
    if (!r) goto oom;
    /* Position 0 is invoke_agent; position i > 0 the registry's i-1st. */
    const json_t *specs = snap ? strands_tool_snapshot_specs(snap) : NULL;
    size_t total = 1 + json_array_size(specs), i = start, n = 0;
    for (; i < total && n < MCP_SERVER_TOOLS_PAGE; i++) {
        int skip = 0;
        json_t *t = i == 0 ? invoke_tool()
                           : mcp_tool(json_array_get(specs, i - 1), &skip);
        if (skip) continue;
        if (!t || json_array_append_new(tools, t)) goto oom;
        n++;
    }
    if (i < total) {
        char next[32];
        snprintf(next, sizeof next, "%zu", i);
        if (json_object_set_new(r, "nextCursor", json_string(next))) goto oom;
    }
    return r;
oom:
    json_decref(r);
    mcp_rpc_error_set(err, MCP_RPC_INTERNAL_ERROR, 500, "out of memory");
    return NULL;
}

/* ---- invoke_agent ------------------------------------------------------ */

static int blank(const char *s)
{
    for (; *s; s++)
        if (!strchr(" \t\r\n\f\v", *s)) return 0;
    return 1;
}

int mcp_invoke_args(const json_t *args, const char *agentcore_session,
                    const char *mcp_session, json_t **prompt,
                    char *session, size_t session_sz, char *why,
                    size_t whysz)
{
    *prompt = NULL;
    if (whysz) why[0] = '\0';
    const json_t *p = json_object_get(args, "prompt");
    if (!json_is_string(p) ||
        strlen(json_string_value(p)) != json_string_length(p) ||
        blank(json_string_value(p))) {
        snprintf(why, whysz, "invalid arguments for invoke_agent: \"prompt\" "
                             "must be a non-empty, non-blank string");
        return 0;
    }
    const json_t *sid = json_object_get(args, "session_id");
    const char *sv = NULL, *from = "session_id";
    if (sid && !json_is_null(sid)) {
        if (!json_is_string(sid) ||
            strlen(json_string_value(sid)) != json_string_length(sid)) {
            snprintf(why, whysz, "invalid arguments for invoke_agent: "
                                 "\"session_id\" must be a string");
            return 0;
        }
        sv = json_string_value(sid);
    } else if (agentcore_session && *agentcore_session) {
        sv = agentcore_session;
        from = SERVER_SESSION_HEADER;
    } else if (mcp_session && *mcp_session) {
        sv = mcp_session;
        from = "Mcp-Session-Id";
    }
    if (!sv) {
        char id[37];
        strands_uuid4(id);
        snprintf(session, session_sz, "%s", id);
    } else {
        char r[160];
        if (!request_session_id(sv, session, session_sz, r, sizeof r)) {
            snprintf(why, whysz, "invalid arguments for invoke_agent: %s: %s",
                     from, r);
            return 0;
        }
    }
    *prompt = json_pack("[{s:O}]", "text", p);
    if (!*prompt) {
        snprintf(why, whysz, "out of memory");
        return 0;
    }
    return 1;
}

json_t *mcp_tool_error_result(const char *message)
{
    json_t *t = json_string(message);
    if (!t) t = json_string("(an error whose text is not valid UTF-8)");
    return json_pack("{s:[{s:s, s:o}], s:b}", "content", "type", "text",
                     "text", t, "isError", 1);
}

json_t *mcp_invoke_result(const char *invocation_id, const char *session_id,
                          strands_status status, const strands_error *error,
                          const strands_agent_result *r)
{
    if (status != STRANDS_OK) {
        char msg[sizeof error->message + 64];
        snprintf(msg, sizeof msg, "%s: %s", server_error_type(error),
                 error->message);
        return mcp_tool_error_result(msg);
    }
    json_t *doc = server_result_json(invocation_id, session_id, r);
    if (!doc) return NULL;
    return json_pack("{s:[{s:s, s:s}], s:o, s:b}", "content", "type", "text",
                     "text", r->text ? r->text : "", "structuredContent", doc,
                     "isError", 0);
}

/* ---- registry tool results --------------------------------------------- */

static const char *image_mime(const char *format)
{
    static const char *const map[][2] = {{"png", "image/png"},
                                         {"jpeg", "image/jpeg"},
                                         {"gif", "image/gif"},
                                         {"webp", "image/webp"}};
    for (size_t i = 0; format && i < sizeof map / sizeof map[0]; i++)
        if (!strcmp(format, map[i][0])) return map[i][1];
    return NULL;
}

static const char *document_mime(const char *format)
{
    static const char *const map[][2] = {
        {"pdf", "application/pdf"}, {"csv", "text/csv"},
        {"doc", "application/msword"},
        {"docx", "application/vnd.openxmlformats-officedocument."
                 "wordprocessingml.document"},
        {"xls", "application/vnd.ms-excel"},
        {"xlsx", "application/vnd.openxmlformats-officedocument."
                 "spreadsheetml.sheet"},
        {"html", "text/html"}, {"txt", "text/plain"}, {"md", "text/markdown"}};
    for (size_t i = 0; format && i < sizeof map / sizeof map[0]; i++)
        if (!strcmp(format, map[i][0])) return map[i][1];
    return "application/octet-stream";
}

/* One Converse block as MCP content (new reference; NULL on OOM). A json
 * block's value goes to *json_seen (borrowed) too.                      */
static json_t *content_item(const json_t *b, const json_t **json_seen)
{
    const json_t *v;
    if ((v = json_object_get(b, "text")) && json_is_string(v))
        return json_pack("{s:s, s:O}", "type", "text", "text", v);
    if ((v = json_object_get(b, "json"))) {
        *json_seen = v;
        size_t len = 0;
        char *s = server_json_text(v, &len);
        json_t *t = s ? json_stringn(s, len) : NULL;
        free(s);
        return t ? json_pack("{s:s, s:o}", "type", "text", "text", t) : NULL;
    }
    if ((v = json_object_get(b, "image"))) {
        const char *mime =
            image_mime(json_string_value(json_object_get(v, "format")));
        const json_t *bytes =
            json_object_get(json_object_get(v, "source"), "bytes");
        if (mime && json_is_string(bytes))
            return json_pack("{s:s, s:O, s:s}", "type", "image", "data",
                             bytes, "mimeType", mime);
    }
    if ((v = json_object_get(b, "document"))) {
        const char *format = json_string_value(json_object_get(v, "format"));
        const char *name = json_string_value(json_object_get(v, "name"));
        const json_t *bytes =
            json_object_get(json_object_get(v, "source"), "bytes");
        if (json_is_string(bytes)) {
            char uri[160];
            snprintf(uri, sizeof uri, "document:%.100s",
                     name ? name : "document");
            json_t *u = json_string(uri);
            if (!u) u = json_string("document:document");
            return json_pack("{s:s, s:{s:o, s:s, s:O}}", "type", "resource",
                             "resource", "uri", u, "mimeType",
                             document_mime(format), "blob", bytes);
        }
    }
    const char *kind = json_object_iter_key(json_object_iter((json_t *)b));
    char note[128];
    snprintf(note, sizeof note, "[%.40s content not shown]",
             kind && json_is_object(b) ? kind : "unknown");
    json_t *t = json_string(note);
    if (!t) t = json_string("[content not shown]");
    return json_pack("{s:s, s:o}", "type", "text", "text", t);
}

json_t *mcp_tool_result(const json_t *content)
{
    json_t *items = json_array();
    if (!items) return NULL;
    const json_t *json_seen = NULL;
    size_t i, n_json = 0;
    const json_t *b;
    json_array_foreach(content, i, b) {
        const json_t *seen = NULL;
        json_t *item = content_item(b, &seen);
        if (seen) {
            n_json++;
            json_seen = seen;
        }
        if (!item || json_array_append_new(items, item)) {
            json_decref(items);
            return NULL;
        }
    }
    json_t *r = json_pack("{s:o, s:b}", "content", items, "isError", 0);
    if (r && n_json == 1 && json_is_object(json_seen) &&
        json_object_set(r, "structuredContent", (json_t *)json_seen)) {
        json_decref(r);
        return NULL;
    }
    return r;
}
