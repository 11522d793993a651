/* The HTTP server's settings rows (read by the runtime into
 * strands_runtime_config and passed on in strands_server_config).      */
#include <stddef.h>

#include "runtime/builtins.h"

#define OFF(f) offsetof(strands_runtime_config, f)

static const strands_setting rows[] = {
    {.name = "SERVER_PROTOCOL", .type = STRANDS_SETTING_CHOICE,
     .def = "HTTP", .choices = "HTTP,MCP,A2A,AGUI",
     .offset = OFF(server_protocol),
     .help = "the protocol served (AgentCore serverProtocol): HTTP "
             "(/invocations, /ws), MCP (POST /mcp), A2A (JSON-RPC on "
             "POST /) or AGUI (/invocations, /ws); /ping in every mode"},
    {.name = "PORT", .type = STRANDS_SETTING_INT, .def = "0", .min = 0,
     .max = 65535, .offset = OFF(port),
     .help = "TCP port; 0: the protocol's port (HTTP and AGUI 8080, MCP "
             "8000, A2A 9000)"},
    {.name = "BIND_ADDRESS", .type = STRANDS_SETTING_STRING,
     .def = "0.0.0.0", .offset = OFF(bind_address),
     .help = "IPv4 address to listen on"},
    {.name = "MAX_BODY_BYTES", .type = STRANDS_SETTING_SIZE,
     .def = "104857600", .min = 1, .max = 1LL << 32,
     .offset = OFF(max_body_bytes),
     .help = "largest accepted request body (413 above)"},
    {.name = "MAX_INFLIGHT_BODY_BYTES", .type = STRANDS_SETTING_SIZE,
     .def = "268435456", .min = 1, .max = 1LL << 40,
     .offset = OFF(max_inflight_body_bytes),
     .help = "request-body bytes held at once over all connections (503 "
             "ServerBusy above)"},
    {.name = "SSE_KEEPALIVE_SECONDS", .type = STRANDS_SETTING_INT,
     .def = "15", .min = 1, .max = 3600, .offset = OFF(sse_keepalive_s),
     .help = "streaming: send a ': keep-alive' comment after this much "
             "silence"},
    {.name = "WS_MAX_MESSAGE_BYTES", .type = STRANDS_SETTING_SIZE,
     .def = "1048576", .min = 1024, .max = 1LL << 30,
     .offset = OFF(ws_max_message_bytes),
     .help = "WebSocket /ws: largest client message (closed with 1009 "
             "above)"},
    {.name = "MCP_SERVE_TOOLS", .type = STRANDS_SETTING_CHOICE,
     .def = "false", .choices = "true,false", .offset = OFF(mcp_serve_tools),
     .help = "MCP mode: also offer every tool of the agent's registry "
             "besides invoke_agent"},
    {.name = "AGENT_NAME", .type = STRANDS_SETTING_STRING,
     .def = "strands-agent", .offset = OFF(agent_name),
     .help = "the agent's name (A2A agent card, MCP server info)"},
    {.name = "AGENT_DESCRIPTION", .type = STRANDS_SETTING_STRING,
     .def = "A Strands agent on Amazon Bedrock AgentCore",
     .offset = OFF(agent_description),
     .help = "the agent's description (A2A agent card)"},
    {.name = "AGENTCORE_RUNTIME_URL", .type = STRANDS_SETTING_URL,
     .offset = OFF(runtime_url),
     .help = "A2A: the URL the agent card advertises (default: "
             "http://<host of the request>/)"},
    {.name = "A2A_MAX_TASKS", .type = STRANDS_SETTING_INT, .def = "1000",
     .min = 1, .max = 1000000, .offset = OFF(a2a_max_tasks),
     .help = "A2A: tasks kept at once (the oldest finished one goes "
             "first)"},
    {.name = "A2A_TASK_TTL_SECONDS", .type = STRANDS_SETTING_INT,
     .def = "3600", .min = 1, .max = 604800, .offset = OFF(a2a_task_ttl_s),
     .help = "A2A: a finished task is forgotten after this long"},
    {.name = "ASYNC_MAX_SECONDS", .type = STRANDS_SETTING_INT,
     .def = "28800", .min = 1, .max = 28800, .offset = OFF(async_max_s),
     .help = "async invocations ({\"async\": true}): longest run, then "
             "cancelled"},
    {.name = "ASYNC_RESULT_TTL_SECONDS", .type = STRANDS_SETTING_INT,
     .def = "3600", .min = 1, .max = 604800,
     .offset = OFF(async_result_ttl_s),
     .help = "async invocations: a finished result is kept this long"},
    {.name = "ASYNC_MAX_INVOCATIONS", .type = STRANDS_SETTING_INT,
     .def = "1000", .min = 1, .max = 100000, .offset = OFF(async_max),
     .help = "async invocations kept at once, running or finished (429 "
             "above)"},
};

const strands_settings_group server_settings = {
    .version = STRANDS_SETTINGS_GROUP_VERSION,
    .title = "HTTP server",
    .rows = rows,
    .n_rows = sizeof rows / sizeof rows[0],
    .struct_size = sizeof(strands_runtime_config),
};
