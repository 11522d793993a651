/* What each built-in module contributes to the runtime: the settings
 * groups of the core modules (they fill strands_runtime_config) and the
 * registry entries of the shipped model provider, session store and tool
 * source. Each is defined in its own module's folder (the file named
 * beside it), which includes this header so the compiler checks the
 * definition; runtime/builtins.c registers the entries, one line each.  */
#ifndef STRANDS_RUNTIME_BUILTINS_H
#define STRANDS_RUNTIME_BUILTINS_H

#include "strands/registry.h"
#include "strands/settings.h"

/* Core groups, loaded into strands_runtime_config. */
extern const strands_settings_group runtime_settings; /* runtime/settings.c */
extern const strands_settings_group server_settings;  /* server/settings.c */
extern const strands_settings_group agent_settings;   /* agent/settings.c */
extern const strands_settings_group aws_settings;     /* aws/settings.c */

/* Registry entries (each with its own settings group). */
extern const strands_model_provider models_bedrock_provider;
                                             /* models/bedrock_provider.c */
extern const strands_model_provider models_openai_provider;
                                             /* models/openai_provider.c */
extern const strands_model_provider models_anthropic_provider;
                                           /* models/anthropic_provider.c */
extern const strands_session_store_provider session_memory_provider;
                                             /* session/memory_provider.c */
extern const strands_session_store_provider session_file_provider;
                                             /* session/file_provider.c */
extern const strands_session_store_provider session_redis_provider;
extern const strands_session_store_provider session_rediss_provider;
                                             /* session/redis_provider.c */
extern const strands_session_store_provider session_s3_provider;
                                             /* session/s3_provider.c */
extern const strands_session_store_provider session_agentcore_memory_provider;
                                   /* session/agentcore_memory_provider.c */
extern const strands_tool_source_provider tools_builtin_source;
                                             /* tools/builtin/source.c */
extern const strands_tool_source_provider mcp_tool_source;
                                             /* mcp/source.c */

#endif
