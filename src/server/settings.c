/* The HTTP server's settings rows (read by the runtime into
 * strands_runtime_config and passed on in strands_server_config).      */
#include <stddef.h>

#include "runtime/builtins.h"

#define OFF(f) offsetof(strands_runtime_config, f)

static const strands_setting rows[] = {
    {.name = "PORT", .type = STRANDS_SETTING_INT, .def = "8080", .min = 1,
     .max = 65535, .offset = OFF(port), .help = "TCP port of the HTTP server"},
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
};

const strands_settings_group server_settings = {
    .version = STRANDS_SETTINGS_GROUP_VERSION,
    .title = "HTTP server",
    .rows = rows,
    .n_rows = sizeof rows / sizeof rows[0],
    .struct_size = sizeof(strands_runtime_config),
};
