/* The --help text: what the binary is, every row of the settings table
 * (by module, registered providers, stores and tool sources included),
 * and the variables read outside the table (credentials, tracing).     */
#include <stdio.h>

#include "runtime/internal.h"

void runtime_print_usage(FILE *f)
{
    fprintf(f,
            "Usage: strands-runtime [--help] [--version] [--healthcheck]\n"
            "\n"
            "A Strands-style agent runtime for AWS Bedrock AgentCore. Serves\n"
            "GET /ping and POST /invocations; calls the model of\n"
            "MODEL_PROVIDER (Bedrock Converse, signed with SigV4, by\n"
            "default). --healthcheck GETs /ping on PORT and exits 0 when it\n"
            "answers Healthy (for container HEALTHCHECKs). Configured by\n"
            "environment variables:\n\n");
    strands_settings_print_help(f);
    fprintf(f,
            "\nCredentials for Bedrock, first found wins (as AWS SDKs):\n"
            "  1. AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN\n"
            "  2. AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN "
            "[+ AWS_ROLE_SESSION_NAME]\n"
            "  3. shared files: AWS_PROFILE, AWS_SHARED_CREDENTIALS_FILE,\n"
            "     AWS_CONFIG_FILE (static keys, credential_process, role_arn)\n"
            "  4. AWS_CONTAINER_CREDENTIALS_RELATIVE_URI / _FULL_URI with\n"
            "     AWS_CONTAINER_AUTHORIZATION_TOKEN(_FILE)\n"
            "  5. instance metadata (IMDSv2; AWS_EC2_METADATA_DISABLED=true "
            "skips it,\n     AWS_EC2_METADATA_SERVICE_ENDPOINT overrides it)\n"
            "With BEDROCK_CREDENTIALS_SECRET these only read the secret, and "
            "Bedrock\ncalls are signed with the keys stored in it. "
            "AWS_BEARER_TOKEN_BEDROCK\n(a Bedrock API key) replaces SigV4 "
            "on Bedrock calls. Without credentials the\nserver starts, /ping "
            "is healthy and /invocations answers 503.\n"
            "\nTracing (OpenTelemetry, OTLP/HTTP; off without an endpoint):\n"
            "  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, OTEL_EXPORTER_OTLP_ENDPOINT,\n"
            "  OTEL_EXPORTER_OTLP_[TRACES_]PROTOCOL (http/protobuf, "
            "http/json),\n"
            "  OTEL_EXPORTER_OTLP_[TRACES_]HEADERS, "
            "OTEL_EXPORTER_OTLP_[TRACES_]TIMEOUT,\n"
            "  OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES, OTEL_SDK_DISABLED,\n"
            "  OTEL_TRACES_EXPORTER, OTEL_TRACES_SAMPLER, "
            "OTEL_TRACES_SAMPLER_ARG,\n"
            "  OTEL_BSP_SCHEDULE_DELAY, OTEL_BSP_MAX_QUEUE_SIZE,\n"
            "  OTEL_BSP_MAX_EXPORT_BATCH_SIZE\n");
}
