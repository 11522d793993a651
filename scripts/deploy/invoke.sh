#!/usr/bin/env bash
# Invokes a deployed AgentCore runtime once: sends {"prompt": ...} (or a
# payload of your own) with `aws bedrock-agentcore invoke-agent-runtime`
# under a runtime session id (generated when not given, 33+ characters) and
# writes the response body to stdout or a file; the CLI's own summary
# (status code, content type, session id) goes to stderr.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=common.sh source-path=SCRIPTDIR
. "$HERE/common.sh"

usage() {
    cat <<'EOF'
Usage: scripts/deploy/invoke.sh --arn ARN (--prompt TEXT | --payload JSON)
                                [options]

Sends one invocation to an AgentCore runtime and prints the response body.

  --arn ARN             runtime ARN (what deploy-runtime.sh printed)
  --prompt TEXT         the prompt; sent as {"prompt": TEXT}
  --payload JSON        send this JSON body as it is instead
  --stream              ask for Server-Sent Events: adds "stream": true to
                        the prompt body and Accept: text/event-stream
  --session-id ID       runtime session id, 33..256 printable characters;
                        reuse one to continue a conversation (default: new)
  --qualifier NAME      endpoint to invoke (default: the DEFAULT endpoint)
  --output FILE         write the response body to FILE (default: stdout)
  --region REGION       default: the region in the ARN
  --dry-run             print every command instead of running it
  -h, --help            this help

Example:
  scripts/deploy/invoke.sh --arn arn:aws:bedrock-agentcore:us-east-1:123456789012:runtime/strands_c-AbCdE12345 \
    --prompt 'What is 2+3*4?'
EOF
}

ARN='' PROMPT='' HAVE_PROMPT=0 PAYLOAD='' HAVE_PAYLOAD=0 STREAM=0
SESSION_ID='' QUALIFIER='' OUTPUT='' REGION_ARG=''
while [ "$#" -gt 0 ]; do
    case $1 in
        -h | --help) usage; exit 0 ;;
        --dry-run) DRY_RUN=1; shift ;;
        --stream) STREAM=1; shift ;;
        --arn | --arn=*) take_value "$@"; ARN=$VALUE; shift "$SHIFT" ;;
        --prompt | --prompt=*)
            take_value "$@"; PROMPT=$VALUE; HAVE_PROMPT=1; shift "$SHIFT" ;;
        --payload | --payload=*)
            take_value "$@"; PAYLOAD=$VALUE; HAVE_PAYLOAD=1; shift "$SHIFT" ;;
        --session-id | --session-id=*) take_value "$@"; SESSION_ID=$VALUE; shift "$SHIFT" ;;
        --qualifier | --qualifier=*) take_value "$@"; QUALIFIER=$VALUE; shift "$SHIFT" ;;
        --output | --output=*) take_value "$@"; OUTPUT=$VALUE; shift "$SHIFT" ;;
        --region | --region=*) take_value "$@"; REGION_ARG=$VALUE; shift "$SHIFT" ;;
        *) usage_error "unknown argument '$1'" ;;
    esac
done

[ -n "$ARN" ] || usage_error "--arn is required"
check_runtime_arn --arn "$ARN"
[ "$HAVE_PROMPT$HAVE_PAYLOAD" != 11 ] || usage_error "give --prompt or --payload, not both"
[ "$HAVE_PROMPT$HAVE_PAYLOAD" != 00 ] || usage_error "--prompt or --payload is required"
if [ "$HAVE_PROMPT" = 1 ]; then
    [ -n "$PROMPT" ] || usage_error "--prompt: empty prompt"
    check_text --prompt "$PROMPT"
    BODY="{\"prompt\": $(json_str "$PROMPT")"
    [ "$STREAM" = 0 ] || BODY+=', "stream": true'
    BODY+='}'
else
    case $PAYLOAD in
        '{'*'}' | '['*']') ;;
        *) usage_error "--payload: not a JSON object or array" ;;
    esac
    BODY=$PAYLOAD
fi
if [ -n "$SESSION_ID" ]; then
    matches '[!-~]{33,256}' "$SESSION_ID" \
        || usage_error "--session-id: must be 33..256 printable characters without spaces (AgentCore's limit)"
else
    SESSION_ID=strands-$(new_uuid)
fi
[ -z "$QUALIFIER" ] || matches '[a-zA-Z][a-zA-Z0-9_]{0,47}' "$QUALIFIER" \
    || usage_error "--qualifier: '$QUALIFIER' is not an endpoint name"
resolve_region --region "${REGION_ARG:-$(arn_region "$ARN")}"
ACCEPT=application/json
[ "$STREAM" = 0 ] || ACCEPT=text/event-stream

require_cmds aws

# The body travels in a file (fileb:// is raw bytes for AWS CLI v1 and v2).
if [ "$DRY_RUN" = 1 ]; then
    PAYLOAD_FILE=payload.json
    show "printf '%s' $(quote_word "$BODY") > payload.json"
else
    PAYLOAD_FILE=$(mktemp "${TMPDIR:-/tmp}/strands-invoke.XXXXXX")
    trap 'rm -f "$PAYLOAD_FILE"' EXIT
    printf '%s' "$BODY" > "$PAYLOAD_FILE"
fi
cmd=(aws bedrock-agentcore invoke-agent-runtime --region "$REGION"
     --agent-runtime-arn "$ARN" --runtime-session-id "$SESSION_ID"
     --content-type application/json --accept "$ACCEPT")
[ -z "$QUALIFIER" ] || cmd+=(--qualifier "$QUALIFIER")
cmd+=(--payload "fileb://$PAYLOAD_FILE")

# The CLI streams the body into its outfile and prints a JSON summary on
# its stdout; the summary goes to stderr so stdout carries only the body.
if [ -n "$OUTPUT" ]; then
    line="$(quote_cmd "${cmd[@]}" "$OUTPUT") >&2"
else
    line="$(quote_cmd "${cmd[@]}" /dev/fd/3) 3>&1 >&2"
fi
if [ "$DRY_RUN" = 1 ]; then
    show "$line"
    exit 0
fi
printf '+ %s\n' "$line" >&2
info "session id: $SESSION_ID"
if [ -n "$OUTPUT" ]; then
    "${cmd[@]}" "$OUTPUT" >&2
else
    "${cmd[@]}" /dev/fd/3 3>&1 >&2
fi
info "continue this conversation with --session-id $SESSION_ID"
