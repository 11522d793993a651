#!/usr/bin/env bash
# Shows the CloudWatch logs of an AgentCore runtime: AgentCore ships the
# container's stdout/stderr (strands-runtime's JSON log lines) to the group
# /aws/bedrock-agentcore/runtimes/<runtime-id>-<endpoint>; this runs
# `aws logs tail` on it, following new lines by default.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=common.sh source-path=SCRIPTDIR
. "$HERE/common.sh"

usage() {
    cat <<'EOF'
Usage: scripts/deploy/logs.sh (--arn ARN | --runtime-id ID) [options]

Tails the CloudWatch logs of an AgentCore runtime (needs AWS CLI v2,
whose `aws logs tail` this runs).

  --arn ARN             runtime ARN (what deploy-runtime.sh printed)
  --runtime-id ID       or the runtime id (NAME-xxxxxxxxxx)
  --endpoint NAME       runtime endpoint (default: DEFAULT)
  --since TIME          start this long ago: 30s, 10m, 2h, 1d, 1w, or an
                        ISO 8601 time (default: 10m)
  --no-follow           print what is there and exit (default: follow)
  --filter PATTERN      CloudWatch filter pattern, e.g. '"ERROR"'
  --format FORMAT       short (default), detailed or json
  --region REGION       default: the region in the ARN, then $AWS_REGION
  --dry-run             print the aws command instead of running it
  -h, --help            this help
EOF
}

ARN='' RUNTIME_ID='' ENDPOINT=DEFAULT SINCE=10m FOLLOW=1 FILTER='' FORMAT=short
REGION_ARG=''
while [ "$#" -gt 0 ]; do
    case $1 in
        -h | --help) usage; exit 0 ;;
        --dry-run) DRY_RUN=1; shift ;;
        --no-follow) FOLLOW=0; shift ;;
        --arn | --arn=*) take_value "$@"; ARN=$VALUE; shift "$SHIFT" ;;
        --runtime-id | --runtime-id=*) take_value "$@"; RUNTIME_ID=$VALUE; shift "$SHIFT" ;;
        --endpoint | --endpoint=*) take_value "$@"; ENDPOINT=$VALUE; shift "$SHIFT" ;;
        --since | --since=*) take_value "$@"; SINCE=$VALUE; shift "$SHIFT" ;;
        --filter | --filter=*) take_value "$@"; FILTER=$VALUE; shift "$SHIFT" ;;
        --format | --format=*) take_value "$@"; FORMAT=$VALUE; shift "$SHIFT" ;;
        --region | --region=*) take_value "$@"; REGION_ARG=$VALUE; shift "$SHIFT" ;;
        *) usage_error "unknown argument '$1'" ;;
    esac
done

if [ -n "$ARN" ]; then
    [ -z "$RUNTIME_ID" ] || usage_error "give --arn or --runtime-id, not both"
    check_runtime_arn --arn "$ARN"
    RUNTIME_ID=$(arn_runtime_id "$ARN")
    REGION_ARG=${REGION_ARG:-$(arn_region "$ARN")}
fi
[ -n "$RUNTIME_ID" ] || usage_error "--arn or --runtime-id is required"
check_runtime_id --runtime-id "$RUNTIME_ID"
matches '[a-zA-Z][a-zA-Z0-9_]{0,47}' "$ENDPOINT" \
    || usage_error "--endpoint: '$ENDPOINT' is not an endpoint name"
matches '[0-9]+[smhdw]|[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9:.]+(Z|[+-][0-9:]+)?)?' "$SINCE" \
    || usage_error "--since: '$SINCE' is not like 10m, 2h, 1d or 2025-01-31T12:00:00Z"
case $FORMAT in
    short | detailed | json) ;;
    *) usage_error "--format: '$FORMAT' is not short, detailed or json" ;;
esac
[ -z "$FILTER" ] || check_text --filter "$FILTER"
resolve_region --region "$REGION_ARG"

require_cmds aws
cmd=(aws logs tail "/aws/bedrock-agentcore/runtimes/$RUNTIME_ID-$ENDPOINT"
     --region "$REGION" --since "$SINCE" --format "$FORMAT")
[ "$FOLLOW" = 0 ] || cmd+=(--follow)
[ -z "$FILTER" ] || cmd+=(--filter-pattern "$FILTER")
if [ "$DRY_RUN" = 1 ]; then
    run "${cmd[@]}"
    exit 0
fi
printf '+ %s\n' "$(quote_cmd "${cmd[@]}")" >&2
exec "${cmd[@]}"
