#!/usr/bin/env bash
# Deploy stack $STACK through its runner in the VPC (.github/workflows/deploy.yml; a
# person with the same permissions can run it too): upload this checkout under the
# stack's deploy prefix, start the runner's CodeBuild build on it, print the build's log
# as it comes, and exit non-zero unless the build succeeded.
#
# Needs AWS credentials (the stack's CI role), STACK and NAME_PREFIX; optional
# PULUMI_BACKEND_URL. Uses git, the AWS CLI and jq.
set -euo pipefail
: "${STACK:?STACK is the stack to deploy}" "${NAME_PREFIX:?NAME_PREFIX is the name prefix}"

account=$(aws sts get-caller-identity --query Account --output text)
project="${NAME_PREFIX}-${STACK}-deployer"
bucket="${NAME_PREFIX}-${STACK}-artifacts-${account}"
commit=$(git rev-parse HEAD)
key="deploy/${STACK}/${GITHUB_RUN_ID:-manual}-${GITHUB_RUN_ATTEMPT:-1}-${commit}.zip"

workdir=$(mktemp -d)
trap 'rm -rf "$workdir"' EXIT
git archive --format=zip --output "${workdir}/source.zip" "$commit"
aws s3 cp --only-show-errors "${workdir}/source.zip" "s3://${bucket}/${key}"

overrides=("name=STACK,value=${STACK},type=PLAINTEXT")
if [ -n "${PULUMI_BACKEND_URL:-}" ]; then
  overrides+=("name=PULUMI_BACKEND_URL,value=${PULUMI_BACKEND_URL},type=PLAINTEXT")
fi
build_id=$(aws codebuild start-build --project-name "$project" \
  --source-type-override S3 --source-location-override "${bucket}/${key}" \
  --environment-variables-override "${overrides[@]}" \
  --query build.id --output text)
echo "started ${build_id} (${commit})"

group="/aws/codebuild/${project}"
stream="${build_id#*:}"
token=""
print_new_log_lines() {
  local page next
  while :; do
    local args=(--log-group-name "$group" --log-stream-name "$stream")
    if [ -n "$token" ]; then args+=(--next-token "$token"); else args+=(--start-from-head); fi
    # the stream exists only once the build has started
    page=$(aws logs get-log-events "${args[@]}" --output json 2>/dev/null) || return 0
    printf '%s' "$page" | jq -r '.events[].message' | sed -e 's/[[:space:]]*$//'
    next=$(printf '%s' "$page" | jq -r '.nextForwardToken')
    if [ "$next" = "$token" ]; then return 0; fi
    token="$next"
  done
}

status=IN_PROGRESS
while [ "$status" = IN_PROGRESS ]; do
  sleep 15
  status=$(aws codebuild batch-get-builds --ids "$build_id" \
    --query 'builds[0].buildStatus' --output text)
  print_new_log_lines
done
print_new_log_lines

if [ "$status" != SUCCEEDED ]; then
  echo "::error::deploy of ${STACK} ended ${status} (CodeBuild build ${build_id})"
  exit 1
fi
echo "deployed ${STACK} at ${commit}"
