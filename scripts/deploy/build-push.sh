#!/usr/bin/env bash
# Builds the strands-runtime image (Dockerfile at the repository root) for
# linux/arm64, the architecture AgentCore runs, and pushes it to Amazon ECR:
# creates the repository when it is missing, logs docker in with a
# short-lived ECR token (through a pipe, never on a command line), then
# `docker buildx build --push`. Prints the pushed image URI on stdout.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=common.sh source-path=SCRIPTDIR
. "$HERE/common.sh"
ROOT=$(cd "$HERE/../.." && pwd)

usage() {
    cat <<'EOF'
Usage: scripts/deploy/build-push.sh [options]

Builds the strands-runtime container image and pushes it to Amazon ECR.

  --region REGION       AWS region (default: $AWS_REGION, $AWS_DEFAULT_REGION)
  --account ID          12-digit account id (default: asked of
                        `aws sts get-caller-identity`)
  --repository NAME     ECR repository, created when missing
                        (default: strands-runtime)
  --tag TAG             image tag (default: the git commit, e.g. 3f2c1d9a0b4e,
                        with -dirty when the work tree has changes)
  --platform LIST       linux/arm64 (default), linux/amd64, or both
                        comma-separated (needs a docker-container builder)
  --file PATH           Dockerfile (default: Dockerfile at the repo root)
  --context DIR         build context (default: the repository root)
  --no-create-repo      fail instead of creating a missing repository
  --dry-run             print every aws/docker command instead of running it
  -h, --help            this help

Needs: aws (CLI v1 or v2), docker with the buildx plugin.
Example:
  scripts/deploy/build-push.sh --region us-east-1 --tag v0.1.0
EOF
}

REGION_ARG='' ACCOUNT='' REPO=strands-runtime TAG='' PLATFORMS=linux/arm64
DOCKERFILE=$ROOT/Dockerfile CONTEXT=$ROOT CREATE_REPO=1
while [ "$#" -gt 0 ]; do
    case $1 in
        -h | --help) usage; exit 0 ;;
        --dry-run) DRY_RUN=1; shift ;;
        --no-create-repo) CREATE_REPO=0; shift ;;
        --region | --region=*) take_value "$@"; REGION_ARG=$VALUE; shift "$SHIFT" ;;
        --account | --account=*) take_value "$@"; ACCOUNT=$VALUE; shift "$SHIFT" ;;
        --repository | --repository=*) take_value "$@"; REPO=$VALUE; shift "$SHIFT" ;;
        --tag | --tag=*) take_value "$@"; TAG=$VALUE; shift "$SHIFT" ;;
        --platform | --platform=*) take_value "$@"; PLATFORMS=$VALUE; shift "$SHIFT" ;;
        --file | --file=*) take_value "$@"; DOCKERFILE=$VALUE; shift "$SHIFT" ;;
        --context | --context=*) take_value "$@"; CONTEXT=$VALUE; shift "$SHIFT" ;;
        *) usage_error "unknown argument '$1'" ;;
    esac
done

resolve_region --region "$REGION_ARG"
[ -z "$ACCOUNT" ] || check_account --account "$ACCOUNT"
check_ecr_repo --repository "$REPO"
IFS=, read -r -a plats <<< "$PLATFORMS"
[ "${#plats[@]}" -gt 0 ] || usage_error "--platform: empty list"
for p in "${plats[@]}"; do
    case $p in
        linux/arm64 | linux/amd64) ;;
        *) usage_error "--platform: '$p' is not linux/arm64 or linux/amd64" ;;
    esac
done
[ -f "$DOCKERFILE" ] || usage_error "--file: '$DOCKERFILE' does not exist"
[ -d "$CONTEXT" ] || usage_error "--context: '$CONTEXT' is not a directory"
if [ -z "$TAG" ]; then
    if TAG=$(git -C "$ROOT" rev-parse --short=12 HEAD 2>/dev/null); then
        [ -z "$(git -C "$ROOT" status --porcelain 2>/dev/null)" ] || TAG+=-dirty
    else
        TAG=latest
    fi
fi
check_image_tag --tag "$TAG"

require_cmds aws docker
if [ -z "$ACCOUNT" ]; then
    ACCOUNT=$(lookup '<account-id>' aws sts get-caller-identity --region "$REGION" \
        --query Account --output text)
    [ "$DRY_RUN" = 1 ] || matches '[0-9]{12}' "$ACCOUNT" \
        || die "sts get-caller-identity answered '$ACCOUNT', not an account id"
fi
case $REGION in
    cn-*) REGISTRY=$ACCOUNT.dkr.ecr.$REGION.amazonaws.com.cn ;;
    *) REGISTRY=$ACCOUNT.dkr.ecr.$REGION.amazonaws.com ;;
esac
IMAGE=$REGISTRY/$REPO:$TAG

# ---- 1. the ECR repository -------------------------------------------------
describe=(aws ecr describe-repositories --region "$REGION"
          --repository-names "$REPO" --query 'repositories[0].repositoryUri'
          --output text)
create=(aws ecr create-repository --region "$REGION" --repository-name "$REPO"
        --image-scanning-configuration scanOnPush=true
        --query repository.repositoryUri --output text)
if [ "$DRY_RUN" = 1 ]; then
    show "$(quote_cmd "${describe[@]}")"
    if [ "$CREATE_REPO" = 1 ]; then
        show "# only if that answers RepositoryNotFoundException:"
        show "$(quote_cmd "${create[@]}")"
    fi
else
    errf=$(mktemp)
    trap 'rm -f "$errf"' EXIT
    printf '+ %s\n' "$(quote_cmd "${describe[@]}")" >&2
    if "${describe[@]}" > /dev/null 2> "$errf"; then
        info "repository $REPO exists"
    elif grep -q RepositoryNotFoundException "$errf"; then
        [ "$CREATE_REPO" = 1 ] \
            || die "repository $REPO does not exist in $REGION (--no-create-repo)"
        info "creating repository $REPO"
        run "${create[@]}" > /dev/null
    else
        cat "$errf" >&2
        die "could not look up repository $REPO"
    fi
fi

# ---- 2. docker login with an ECR token (12 h), passed on stdin -------------
token_cmd=(aws ecr get-login-password --region "$REGION")
login_cmd=(docker login --username AWS --password-stdin "$REGISTRY")
if [ "$DRY_RUN" = 1 ]; then
    show "$(quote_cmd "${token_cmd[@]}") | $(quote_cmd "${login_cmd[@]}")"
else
    printf '+ %s | %s\n' "$(quote_cmd "${token_cmd[@]}")" \
        "$(quote_cmd "${login_cmd[@]}")" >&2
    "${token_cmd[@]}" | "${login_cmd[@]}" >&2
fi

# ---- 3. build and push -----------------------------------------------------
# --provenance=false: a plain image manifest, no attestation index.
run docker buildx build --platform "$PLATFORMS" --provenance=false \
    --file "$DOCKERFILE" --tag "$IMAGE" --push "$CONTEXT" >&2

if [ "$DRY_RUN" = 1 ]; then
    show "# image: $IMAGE"
else
    info "pushed $IMAGE"
    printf '%s\n' "$IMAGE"
fi
