#!/usr/bin/env bash
# Builds deploy/Dockerfile and smoke-tests the image: the node runs as the non-root user on a
# read-only root filesystem with its data on a volume, answers crmctl (from inside the image),
# drains on SIGTERM with exit code 0, and restores a checkpoint it took.
# Needs docker or podman and a few minutes (the build compiles the binaries); not part of CI.
#   scripts/check-image.sh
#   CONTAINER=podman CONTAINER_FLAGS="--runtime runc" scripts/check-image.sh   # e.g. on a VM
# CONTAINER_FLAGS go before the subcommand; RUN_FLAGS (e.g. "--ulimit nofile=20000:20000") are
# added to every build and run. IMAGE=NAME tests an image built before instead of building one.
set -euo pipefail
cd "$(dirname "$0")/.."
engine=${CONTAINER:-$(command -v docker > /dev/null 2>&1 && echo docker || echo podman)}
read -r -a global <<< "${CONTAINER_FLAGS:-}"
read -r -a extra <<< "${RUN_FLAGS:-}"
c() { "$engine" "${global[@]}" "$@"; }
image=${IMAGE:-localhost/crm:check}
name=crm-image-check-$$
volume=crm-image-check-$$
cleanup() {
  c rm -f "$name" > /dev/null 2>&1 || true
  c volume rm -f "$volume" > /dev/null 2>&1 || true
}
trap cleanup EXIT
if [[ -z ${IMAGE:-} ]]; then
  c build "${extra[@]}" --network host -f deploy/Dockerfile -t "$image" .
fi
c volume create "$volume" > /dev/null
start() {  # start [crm-node args...]: runs the node detached and waits until it listens
  c run -d --name "$name" "${extra[@]}" --read-only -v "$volume:/var/lib/crm" \
    -e CRM_LISTEN=127.0.0.1:7070 -e CRM_METRICS_LISTEN=127.0.0.1:9464 "$image" crm-node "$@" \
    > /dev/null
  for _ in $(seq 100); do
    if c logs "$name" 2>&1 | grep -q '^listening on'; then return 0; fi
    sleep 0.2  # polling a container's log for its first line, bounded
  done
  c logs "$name"
  echo "check-image: the node did not start" >&2
  return 1
}
ctl() { c exec "$name" crmctl --addr 127.0.0.1:7070 "$@"; }
stop() {  # stop: SIGTERM, then the exit code must be 0
  c stop -t 20 "$name" > /dev/null
  code=$(c inspect "$name" --format '{{.State.ExitCode}}')
  c rm "$name" > /dev/null
  [[ $code == 0 ]] || { echo "check-image: exit code $code after SIGTERM" >&2; return 1; }
}
start
[[ $(c exec "$name" id -u) == 65532 ]] || { echo "check-image: not running as 65532" >&2; exit 1; }
id=$(ctl --json contact create --given-name Image --family-name Check |
  sed -n 's/.*"id":"\([0-9A-Z]*\)".*/\1/p' | head -1)
[[ -n $id ]] || { echo "check-image: CreateContact failed" >&2; exit 1; }
ctl admin projections
ctl admin checkpoint image-check
stop
start --restore-from /var/lib/crm/backups/image-check
ctl contact get "$id" > /dev/null
stop
echo "check-image: $image runs read-only as non-root, serves, drains and restores"
