# shellcheck shell=bash
# Shared helpers of the deploy scripts (sourced, never run): option values,
# usage errors (exit 2), --dry-run (print each command, shell-quoted and with
# secret values masked, instead of running it), JSON string building, and
# validation of AWS regions, accounts, ARNs and AgentCore names.

PROG=${0##*/}
DRY_RUN=0
# Dry-run output goes to the script's stdout even from inside $(...).
exec 9>&1

# ---- messages and errors ---------------------------------------------------
info() { printf '%s: %s\n' "$PROG" "$*" >&2; }
die() { printf '%s: error: %s\n' "$PROG" "$*" >&2; exit 1; }
usage_error() {
    printf '%s: %s\n' "$PROG" "$*" >&2
    printf "Try '%s --help'.\n" "$PROG" >&2
    exit 2
}

# ---- option values ---------------------------------------------------------
# take_value "$@": the value of the option in $1, given as "--opt VALUE" or
# "--opt=VALUE". Sets VALUE and SHIFT (how many words to shift).
# shellcheck disable=SC2034  # VALUE and SHIFT are read by the callers
take_value() {
    case $1 in
        --*=*) VALUE=${1#*=}; SHIFT=1 ;;
        *)
            [ "$#" -ge 2 ] || usage_error "option $1 needs a value"
            VALUE=$2; SHIFT=2 ;;
    esac
}

# ---- quoting, masking, running ---------------------------------------------
# quote_word WORD: WORD as one shell word: bare when safe, "..." when it
# has a ' but nothing special inside double quotes, else '...'.
quote_word() {
    case $1 in
        '') printf "''" ;;
        *[!A-Za-z0-9_@%+=:,./-]*)
            case $1 in
                *\'*)
                    case $1 in
                        *[\"\$\`\\!]*) ;;
                        *) printf '"%s"' "$1"; return ;;
                    esac ;;
            esac
            printf "'%s'" "${1//\'/\'\\\'\'}" ;;
        *) printf '%s' "$1" ;;
    esac
}

# is_secret_name NAME: true when an environment variable of this name holds
# a secret (AWS_SECRET_ACCESS_KEY, *_SESSION_TOKEN, *PASSWORD*, API keys...).
# BEDROCK_CREDENTIALS_SECRET only names a secret, so it stays visible.
is_secret_name() {
    local n
    n=$(printf '%s' "$1" | tr '[:lower:]' '[:upper:]')
    [ "$n" = BEDROCK_CREDENTIALS_SECRET ] && return 1
    case "_${n}_" in
        *_SECRET_* | *_TOKEN_* | *PASSWORD* | *PASSWD* | *_API_KEY_* | \
        *PRIVATE_KEY* | *BEARER*) return 0 ;;
    esac
    return 1
}

# SECRET_VALUES: exact strings that quote_cmd replaces by ****. add_secret
# adds a value as it is and as it appears inside a JSON string.
SECRET_VALUES=()
add_secret() {
    local j
    [ -n "$1" ] || return 0
    j=$(json_str "$1")
    j=${j#\"}
    SECRET_VALUES+=("$1" "${j%\"}")
}

mask() {
    local s=$1 v
    for v in ${SECRET_VALUES[@]+"${SECRET_VALUES[@]}"}; do
        s=${s//"$v"/****}
    done
    printf '%s' "$s"
}

# quote_cmd CMD ARGS...: the command as one shell line, secrets masked.
quote_cmd() {
    local out='' w
    for w in "$@"; do
        out+="${out:+ }$(quote_word "$(mask "$w")")"
    done
    printf '%s' "$out"
}

# show LINE: prints a command line of --dry-run (or a "# ..." comment).
show() { printf '%s\n' "$1" >&9; }

# run CMD ARGS...: prints the command under --dry-run, else logs it to
# stderr ("+ ...", masked) and runs it.
run() {
    if [ "$DRY_RUN" = 1 ]; then
        show "$(quote_cmd "$@")"
        return 0
    fi
    printf '+ %s\n' "$(quote_cmd "$@")" >&2
    "$@"
}

# lookup PLACEHOLDER CMD ARGS...: the stdout of a read-only command whose
# answer later commands need (use in $(...)). Under --dry-run it is printed
# like any command and PLACEHOLDER stands for its answer.
lookup() {
    local placeholder=$1
    shift
    if [ "$DRY_RUN" = 1 ]; then
        show "$(quote_cmd "$@")"
        printf '%s' "$placeholder"
        return 0
    fi
    printf '+ %s\n' "$(quote_cmd "$@")" >&2
    "$@"
}

# require_cmds CMD...: exit 1 unless each command is on PATH (not needed
# under --dry-run, which runs nothing).
require_cmds() {
    local c
    [ "$DRY_RUN" = 1 ] && return 0
    for c in "$@"; do
        command -v "$c" >/dev/null 2>&1 \
            || die "'$c' is not installed or not on PATH"
    done
}

# ---- JSON ------------------------------------------------------------------
# check_text OPT TEXT: exit 2 when TEXT has a control character other than
# tab, newline or carriage return (json_str cannot carry those).
check_text() {
    local t=${2//[$'\t\n\r']/}
    case $t in
        *[[:cntrl:]]*) usage_error "$1: the value contains a control character" ;;
    esac
}

# json_str TEXT: TEXT as a JSON string literal (check_text it first).
json_str() {
    local s=$1
    s=${s//\\/\\\\}
    s=${s//\"/\\\"}
    s=${s//$'\n'/\\n}
    s=${s//$'\r'/\\r}
    s=${s//$'\t'/\\t}
    printf '"%s"' "$s"
}

# ---- validation (each exits 2 with a message naming the option) ------------
# matches ERE TEXT: TEXT (one line) matches the whole extended regex ERE.
matches() {
    case $2 in *$'\n'*) return 1 ;; esac
    printf '%s\n' "$2" | grep -Eq "^($1)\$"
}

check_region() {
    matches '[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-[0-9]+' "$2" \
        || usage_error "$1: '$2' is not an AWS region (e.g. us-east-1)"
}
check_account() {
    matches '[0-9]{12}' "$2" \
        || usage_error "$1: '$2' is not a 12-digit AWS account id"
}
check_role_arn() {
    matches 'arn:aws(-[a-z]+)*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]{1,512}' "$2" \
        || usage_error "$1: '$2' is not an IAM role ARN (arn:aws:iam::123456789012:role/NAME)"
}
# AgentCore runtime names: a letter, then letters, digits, _ (max 48).
check_runtime_name() {
    matches '[a-zA-Z][a-zA-Z0-9_]{0,47}' "$2" \
        || usage_error "$1: '$2' is not a runtime name (a letter, then letters, digits or _; at most 48; no '-')"
}
check_runtime_id() {
    matches '[a-zA-Z][a-zA-Z0-9_]{0,99}-[a-zA-Z0-9]{10}' "$2" \
        || usage_error "$1: '$2' is not an agent runtime id (NAME-xxxxxxxxxx)"
}
RUNTIME_ARN_RE='arn:aws(-[a-z]+)*:bedrock-agentcore:[a-z0-9-]+:[0-9]{12}:runtime/[a-zA-Z][a-zA-Z0-9_]{0,47}-[a-zA-Z0-9]{10}'
check_runtime_arn() {
    matches "$RUNTIME_ARN_RE" "$2" \
        || usage_error "$1: '$2' is not an agent runtime ARN (arn:aws:bedrock-agentcore:REGION:ACCOUNT:runtime/NAME-xxxxxxxxxx)"
}
# arn_region ARN / arn_runtime_id ARN: fields of a runtime ARN.
arn_region() { printf '%s' "$1" | cut -d: -f4; }
arn_runtime_id() { printf '%s' "${1##*:runtime/}"; }

check_ecr_repo() {
    if [ "${#2}" -lt 2 ] || [ "${#2}" -gt 256 ] \
        || ! matches '[a-z0-9]+([._-][a-z0-9]+)*(/[a-z0-9]+([._-][a-z0-9]+)*)*' "$2"; then
        usage_error "$1: '$2' is not an ECR repository name (lower case, digits, . _ - /)"
    fi
}
check_image_tag() {
    matches '[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}' "$2" \
        || usage_error "$1: '$2' is not an image tag"
}
# An ECR image URI as CreateAgentRuntime accepts it (AgentCore pulls from ECR).
check_image_uri() {
    matches '[0-9]{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(\.cn)?/[a-z0-9]+([._-][a-z0-9]+)*(/[a-z0-9]+([._-][a-z0-9]+)*)*(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(@sha256:[0-9a-f]{64})?' "$2" \
        || usage_error "$1: '$2' is not an ECR image URI (ACCOUNT.dkr.ecr.REGION.amazonaws.com/REPO:TAG)"
}
check_uint() {
    matches '[0-9]+' "$2" || usage_error "$1: '$2' is not a non-negative integer"
}
check_range() {   # check_range OPT VALUE MIN MAX
    check_uint "$1" "$2"
    if [ "$2" -lt "$3" ] || [ "$2" -gt "$4" ]; then
        usage_error "$1: $2 is not in $3..$4"
    fi
}

# resolve_region OPT VALUE: sets REGION to VALUE, else $AWS_REGION, else
# $AWS_DEFAULT_REGION, validated; a usage error when none is set.
resolve_region() {
    REGION=${2:-${AWS_REGION:-${AWS_DEFAULT_REGION:-}}}
    [ -n "$REGION" ] || usage_error "no region: pass $1 or set AWS_REGION"
    check_region "$1" "$REGION"
}

# new_uuid: a random UUID (lower case).
new_uuid() {
    if [ -r /proc/sys/kernel/random/uuid ]; then
        cat /proc/sys/kernel/random/uuid
    elif command -v uuidgen >/dev/null 2>&1; then
        uuidgen | tr '[:upper:]' '[:lower:]'
    else
        od -An -N16 -tx1 /dev/urandom | tr -d ' \n' \
            | sed -E 's/^(.{8})(.{4})(.{4})(.{4})(.{12})$/\1-\2-\3-\4-\5/'
    fi
}
