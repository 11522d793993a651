#!/usr/bin/env bash
# Creates or updates an AgentCore runtime running a strands-runtime image:
# looks the name up with list-agent-runtimes, then create-agent-runtime or
# update-agent-runtime with the image, execution role, network mode and
# environment variables, and waits until the runtime is READY. Prints the
# runtime ARN on stdout. Secret-looking --env values are masked in output.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=common.sh source-path=SCRIPTDIR
. "$HERE/common.sh"

usage() {
    cat <<'EOF'
Usage: scripts/deploy/deploy-runtime.sh --name NAME --image URI --role-arn ARN
                                        [options]

Creates the AgentCore runtime NAME, or updates it when it exists, and waits
until it is READY. Prints the runtime ARN.

  --name NAME            runtime name: a letter, then letters, digits, _
                         (at most 48; no '-')
  --image URI            ECR image, ACCOUNT.dkr.ecr.REGION.amazonaws.com/REPO:TAG
                         (what build-push.sh printed)
  --role-arn ARN         execution role AgentCore assumes (docs/deploy.md)
  --region REGION        AWS region (default: $AWS_REGION, $AWS_DEFAULT_REGION)
  --env KEY=VALUE        environment variable of the runtime; repeatable.
                         An update replaces all variables: pass every one.
  --env-file FILE        KEY=VALUE lines (# comments, blank lines ignored)
  --protocol PROTOCOL    HTTP (default), MCP, A2A or AGUI: the runtime's
                         serverProtocol; also sets SERVER_PROTOCOL for the
                         container (its port follows: 8080, 8000, 9000)
  --network-mode MODE    PUBLIC (default) or VPC
  --subnet ID            subnet-... for VPC mode; repeatable or comma list
  --security-group ID    sg-... for VPC mode; repeatable or comma list
  --description TEXT     description of the runtime
  --idle-timeout SECS    idleRuntimeSessionTimeout, 60..28800
  --max-lifetime SECS    maxLifetime, 60..28800
  --runtime-id ID        update this runtime id without looking NAME up
  --no-wait              do not wait for READY
  --wait-timeout SECS    give up waiting after this long (default 900)
  --poll-interval SECS   seconds between status checks (default 10)
  --dry-run              print every aws command instead of running it
  -h, --help             this help

Secrets do not belong in --env: values are stored in the runtime's
configuration and readable by anyone allowed GetAgentRuntime. Use the
Secrets Manager setup (BEDROCK_CREDENTIALS_SECRET) instead; values of
secret-looking names (AWS_SECRET_ACCESS_KEY, *_TOKEN, *PASSWORD*) are
masked as **** in everything this script prints.

Example:
  scripts/deploy/deploy-runtime.sh --region us-east-1 --name strands_c \
    --image 123456789012.dkr.ecr.us-east-1.amazonaws.com/strands-runtime:v1 \
    --role-arn arn:aws:iam::123456789012:role/strands-agentcore-runtime \
    --env BEDROCK_CREDENTIALS_SECRET=strands/bedrock-keys --env LOG_LEVEL=info
EOF
}

NAME='' IMAGE='' ROLE_ARN='' REGION_ARG='' MODE=PUBLIC DESCRIPTION='' PROTOCOL=''
IDLE='' MAXLIFE='' RUNTIME_ID='' WAIT=1 WAIT_TIMEOUT=900 POLL=10
ENV_KEYS=() ENV_VALS=() SUBNETS=() SGS=()

# add_env OPT KEY=VALUE: one environment variable, validated.
add_env() {
    local opt=$1 kv=$2 k v i
    case $kv in
        *=*) ;;
        *) usage_error "$opt: '$kv' is not KEY=VALUE" ;;
    esac
    k=${kv%%=*} v=${kv#*=}
    matches '[A-Za-z_][A-Za-z0-9_]{0,99}' "$k" \
        || usage_error "$opt: '$k' is not a variable name (letters, digits, _; at most 100)"
    [ "${#v}" -le 5000 ] || usage_error "$opt: the value of $k is over 5000 characters"
    check_text "$opt $k" "$v"
    for i in ${ENV_KEYS[@]+"${!ENV_KEYS[@]}"}; do
        [ "${ENV_KEYS[$i]}" != "$k" ] || usage_error "$opt: $k is given twice"
    done
    if is_secret_name "$k"; then
        add_secret "$v"
        info "warning: $k looks like a secret; it will be readable in the runtime's configuration (prefer BEDROCK_CREDENTIALS_SECRET)"
    fi
    ENV_KEYS+=("$k") ENV_VALS+=("$v")
}

add_env_file() {
    local f=$1 line n=0
    [ -r "$f" ] || usage_error "--env-file: cannot read '$f'"
    while IFS= read -r line || [ -n "$line" ]; do
        n=$((n + 1))
        line=${line%$'\r'}
        case $line in
            '' | '#'*) continue ;;
        esac
        add_env "--env-file $f:$n" "$line"
    done < "$f"
}

# split_ids OPT VALUE: sets IDS to the comma-separated ids of VALUE.
split_ids() {
    IDS=()
    local id parts
    IFS=, read -r -a parts <<< "$2"
    for id in ${parts[@]+"${parts[@]}"}; do
        [ -z "$id" ] || IDS+=("$id")
    done
    [ "${#IDS[@]}" -gt 0 ] || usage_error "$1: empty value"
}

while [ "$#" -gt 0 ]; do
    case $1 in
        -h | --help) usage; exit 0 ;;
        --dry-run) DRY_RUN=1; shift ;;
        --no-wait) WAIT=0; shift ;;
        --name | --name=*) take_value "$@"; NAME=$VALUE; shift "$SHIFT" ;;
        --image | --image=*) take_value "$@"; IMAGE=$VALUE; shift "$SHIFT" ;;
        --role-arn | --role-arn=*) take_value "$@"; ROLE_ARN=$VALUE; shift "$SHIFT" ;;
        --region | --region=*) take_value "$@"; REGION_ARG=$VALUE; shift "$SHIFT" ;;
        --env | --env=*) take_value "$@"; add_env --env "$VALUE"; shift "$SHIFT" ;;
        --env-file | --env-file=*) take_value "$@"; add_env_file "$VALUE"; shift "$SHIFT" ;;
        --network-mode | --network-mode=*) take_value "$@"; MODE=$VALUE; shift "$SHIFT" ;;
        --protocol | --protocol=*) take_value "$@"; PROTOCOL=$VALUE; shift "$SHIFT" ;;
        --subnet | --subnet=*)
            take_value "$@"; split_ids --subnet "$VALUE"; SUBNETS+=("${IDS[@]}")
            shift "$SHIFT" ;;
        --security-group | --security-group=*)
            take_value "$@"; split_ids --security-group "$VALUE"; SGS+=("${IDS[@]}")
            shift "$SHIFT" ;;
        --description | --description=*) take_value "$@"; DESCRIPTION=$VALUE; shift "$SHIFT" ;;
        --idle-timeout | --idle-timeout=*) take_value "$@"; IDLE=$VALUE; shift "$SHIFT" ;;
        --max-lifetime | --max-lifetime=*) take_value "$@"; MAXLIFE=$VALUE; shift "$SHIFT" ;;
        --runtime-id | --runtime-id=*) take_value "$@"; RUNTIME_ID=$VALUE; shift "$SHIFT" ;;
        --wait-timeout | --wait-timeout=*) take_value "$@"; WAIT_TIMEOUT=$VALUE; shift "$SHIFT" ;;
        --poll-interval | --poll-interval=*) take_value "$@"; POLL=$VALUE; shift "$SHIFT" ;;
        *) usage_error "unknown argument '$1'" ;;
    esac
done

# ---- validation ------------------------------------------------------------
[ -n "$NAME" ] || usage_error "--name is required"
[ -n "$IMAGE" ] || usage_error "--image is required"
[ -n "$ROLE_ARN" ] || usage_error "--role-arn is required"
check_runtime_name --name "$NAME"
check_image_uri --image "$IMAGE"
check_role_arn --role-arn "$ROLE_ARN"
resolve_region --region "$REGION_ARG"
[ -z "$RUNTIME_ID" ] || check_runtime_id --runtime-id "$RUNTIME_ID"
[ "${#ENV_KEYS[@]}" -le 50 ] || usage_error "--env: at most 50 variables"
[ -z "$IDLE" ] || check_range --idle-timeout "$IDLE" 60 28800
[ -z "$MAXLIFE" ] || check_range --max-lifetime "$MAXLIFE" 60 28800
check_range --wait-timeout "$WAIT_TIMEOUT" 1 86400
check_range --poll-interval "$POLL" 1 3600
[ -z "$DESCRIPTION" ] || check_text --description "$DESCRIPTION"
[ "${#DESCRIPTION}" -le 4096 ] || usage_error "--description: over 4096 characters"
case $PROTOCOL in
    '' | HTTP | MCP | A2A | AGUI) ;;
    *) usage_error "--protocol: '$PROTOCOL' is not HTTP, MCP, A2A or AGUI" ;;
esac
case ${PROTOCOL:-HTTP} in
    MCP) port=8000 ;;
    A2A) port=9000 ;;
    *) port=8080 ;;
esac
for i in "${!ENV_KEYS[@]}"; do
    case ${ENV_KEYS[$i]} in
        SERVER_PROTOCOL)
            usage_error "--env SERVER_PROTOCOL: use --protocol (it also sets the runtime's serverProtocol)" ;;
        PORT)
            [ "${ENV_VALS[$i]}" = "$port" ] \
                || usage_error "--env PORT: AgentCore calls port $port for ${PROTOCOL:-HTTP}; leave PORT unset" ;;
    esac
done
if [ -n "$PROTOCOL" ]; then
    ENV_KEYS+=(SERVER_PROTOCOL) ENV_VALS+=("$PROTOCOL")
fi
case $MODE in
    PUBLIC)
        if [ "${#SUBNETS[@]}" -gt 0 ] || [ "${#SGS[@]}" -gt 0 ]; then
            usage_error "--subnet and --security-group need --network-mode VPC"
        fi ;;
    VPC)
        if [ "${#SUBNETS[@]}" -lt 1 ] || [ "${#SUBNETS[@]}" -gt 16 ]; then
            usage_error "--network-mode VPC needs 1 to 16 --subnet"
        fi
        if [ "${#SGS[@]}" -lt 1 ] || [ "${#SGS[@]}" -gt 16 ]; then
            usage_error "--network-mode VPC needs 1 to 16 --security-group"
        fi
        for s in "${SUBNETS[@]}"; do
            matches 'subnet-[0-9a-zA-Z]{8,17}' "$s" \
                || usage_error "--subnet: '$s' is not a subnet id (subnet-...)"
        done
        for s in "${SGS[@]}"; do
            matches 'sg-[0-9a-zA-Z]{8,17}' "$s" \
                || usage_error "--security-group: '$s' is not a security group id (sg-...)"
        done ;;
    *) usage_error "--network-mode: '$MODE' is not PUBLIC or VPC" ;;
esac
image_region=$(printf '%s' "$IMAGE" | cut -d. -f4)
[ "$image_region" = "$REGION" ] \
    || info "warning: the image is in $image_region, the runtime in $REGION"

# ---- request parameters as JSON --------------------------------------------
json_list() {
    local out='' x
    for x in "$@"; do out+="${out:+,}$(json_str "$x")"; done
    printf '[%s]' "$out"
}
ARTIFACT="{\"containerConfiguration\":{\"containerUri\":$(json_str "$IMAGE")}}"
if [ "$MODE" = VPC ]; then
    NETWORK="{\"networkMode\":\"VPC\",\"networkModeConfig\":{\"securityGroups\":$(json_list "${SGS[@]}"),\"subnets\":$(json_list "${SUBNETS[@]}")}}"
else
    NETWORK='{"networkMode":"PUBLIC"}'
fi
common=(--agent-runtime-artifact "$ARTIFACT" --role-arn "$ROLE_ARN"
        --network-configuration "$NETWORK")
[ -z "$PROTOCOL" ] || common+=(--protocol-configuration "{\"serverProtocol\":\"$PROTOCOL\"}")
if [ "${#ENV_KEYS[@]}" -gt 0 ]; then
    env_json=''
    for i in "${!ENV_KEYS[@]}"; do
        env_json+="${env_json:+,}$(json_str "${ENV_KEYS[$i]}"):$(json_str "${ENV_VALS[$i]}")"
    done
    common+=(--environment-variables "{$env_json}")
fi
if [ -n "$IDLE$MAXLIFE" ]; then
    life=''
    [ -z "$IDLE" ] || life+="\"idleRuntimeSessionTimeout\":$IDLE"
    [ -z "$MAXLIFE" ] || life+="${life:+,}\"maxLifetime\":$MAXLIFE"
    common+=(--lifecycle-configuration "{$life}")
fi
[ -z "$DESCRIPTION" ] || common+=(--description "$DESCRIPTION")
# The answer of create/update as one text line: id, ARN, version, status.
answer=(--query '[agentRuntimeId,agentRuntimeArn,agentRuntimeVersion,status]'
        --output text)
CTL=(aws bedrock-agentcore-control)

require_cmds aws

# ---- dry run: every command, both branches of create-or-update -------------
if [ "$DRY_RUN" = 1 ]; then
    update_id=${RUNTIME_ID:-'<agent-runtime-id>'}
    if [ -z "$RUNTIME_ID" ]; then
        show "$(quote_cmd "${CTL[@]}" list-agent-runtimes --region "$REGION" \
            --query "agentRuntimes[?agentRuntimeName=='$NAME'].agentRuntimeId" \
            --output text)"
        show "# if that prints an id, update that runtime:"
    fi
    show "$(quote_cmd "${CTL[@]}" update-agent-runtime --region "$REGION" \
        --agent-runtime-id "$update_id" "${common[@]}" "${answer[@]}")"
    if [ -z "$RUNTIME_ID" ]; then
        show "# otherwise create it:"
        show "$(quote_cmd "${CTL[@]}" create-agent-runtime --region "$REGION" \
            --agent-runtime-name "$NAME" "${common[@]}" "${answer[@]}")"
    fi
    if [ "$WAIT" = 1 ]; then
        show "# then, every ${POLL}s until it prints READY (at most ${WAIT_TIMEOUT}s):"
        show "$(quote_cmd "${CTL[@]}" get-agent-runtime --region "$REGION" \
            --agent-runtime-id "$update_id" --query status --output text)"
    fi
    exit 0
fi

# ---- create or update ------------------------------------------------------
if [ -z "$RUNTIME_ID" ]; then
    ids=$(lookup '' "${CTL[@]}" list-agent-runtimes --region "$REGION" \
        --query "agentRuntimes[?agentRuntimeName=='$NAME'].agentRuntimeId" \
        --output text)
    read -r -a found <<< "$(printf '%s' "$ids" | tr '\n' ' ')"
    [ "${#found[@]}" -le 1 ] || die "several runtimes are named $NAME: ${found[*]}"
    RUNTIME_ID=${found[0]:-}
    [ "$RUNTIME_ID" != None ] || RUNTIME_ID=''
fi
if [ -n "$RUNTIME_ID" ]; then
    info "updating runtime $NAME ($RUNTIME_ID)"
    out=$(run "${CTL[@]}" update-agent-runtime --region "$REGION" \
        --agent-runtime-id "$RUNTIME_ID" "${common[@]}" "${answer[@]}")
else
    info "creating runtime $NAME"
    out=$(run "${CTL[@]}" create-agent-runtime --region "$REGION" \
        --agent-runtime-name "$NAME" "${common[@]}" "${answer[@]}")
fi
read -r RUNTIME_ID ARN VERSION STATUS <<< "$out" || true
matches "$RUNTIME_ARN_RE" "${ARN:-}" \
    || die "unexpected answer from AgentCore: '$out'"
info "runtime $RUNTIME_ID version $VERSION: $STATUS"

# ---- wait until READY ------------------------------------------------------
if [ "$WAIT" = 1 ]; then
    deadline=$((SECONDS + WAIT_TIMEOUT))
    while :; do
        case $STATUS in
            READY) break ;;
            CREATE_FAILED | UPDATE_FAILED)
                reason=$(run "${CTL[@]}" get-agent-runtime --region "$REGION" \
                    --agent-runtime-id "$RUNTIME_ID" --query failureReason \
                    --output text) || reason='(unknown)'
                die "runtime $RUNTIME_ID is $STATUS: $reason" ;;
        esac
        [ "$SECONDS" -lt "$deadline" ] \
            || die "runtime $RUNTIME_ID still $STATUS after ${WAIT_TIMEOUT}s"
        sleep "$POLL"
        STATUS=$(run "${CTL[@]}" get-agent-runtime --region "$REGION" \
            --agent-runtime-id "$RUNTIME_ID" --query status --output text)
        info "status: $STATUS"
    done
fi
info "logs: scripts/deploy/logs.sh --arn $ARN"
info "invoke: scripts/deploy/invoke.sh --arn $ARN --prompt 'Hello'"
printf '%s\n' "$ARN"
