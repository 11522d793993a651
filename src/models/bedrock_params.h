/* The Bedrock provider's per-model request options: MODEL_PARAMS split
 * into inferenceConfig members and top-level members, and the guardrail
 * configuration, checked once and rendered as JSON text fragments that
 * every call splices into its body (converse_options).                 */
#ifndef STRANDS_MODELS_BEDROCK_PARAMS_H
#define STRANDS_MODELS_BEDROCK_PARAMS_H

#include "models/converse.h"
#include "strands/aws.h"
#include "strands/status.h"

typedef struct bedrock_params {
    converse_options converse;   /* for Converse */
    converse_options stream;     /* for ConverseStream (streamProcessingMode) */
    char *inference_json;        /* owned; the options point into these */
    char *extra_json;
    char *extra_forced_json;     /* extra_json without the thinking of
                                    additionalModelRequestFields */
    char *guardrail_json;
    char *guardrail_stream_json;
    char *redact_input;          /* owned copy, or NULL */
} bedrock_params;

/** Checks cfg's params_json, prompt_cache and guardrail fields and fills
 * *out (free with bedrock_params_cleanup). E_INVALID with a message that
 * names the setting ("MODEL_PARAMS.temperature: ...", "GUARDRAIL_VERSION:
 * ..."); E_NOMEM. *out holds nothing to free on failure.               */
strands_status bedrock_params_init(const strands_bedrock_config *cfg,
                                   bedrock_params *out, strands_error *err);
/** Frees what bedrock_params_init made (safe on a zeroed struct). */
void bedrock_params_cleanup(bedrock_params *p);

#endif
