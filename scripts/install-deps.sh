#!/usr/bin/env bash
# Installs everything the CRM needs to build and test on Debian 12, from Debian's packages and
# npm. Idempotent: runs apt-get update once and installs only what is missing.
#   install-deps.sh               build, test, lint and fuzz
#   install-deps.sh --build-only  what compiling the binaries needs (the container image build)
set -euo pipefail

cd "$(dirname "$0")/.."
build_only=false
if [[ ${1:-} == --build-only ]]; then build_only=true; fi

packages=(
  build-essential cmake ninja-build pkg-config git
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  librdkafka-dev librocksdb-dev libabsl-dev libssl-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libcli11-dev libspdlog-dev libfmt-dev nlohmann-json3-dev prometheus-cpp-dev
  libcurl4-openssl-dev libjwt-dev libcpp-httplib-dev libjemalloc-dev
)
if ! $build_only; then
  packages+=(yamllint shellcheck python3-yaml clang-14 libclang-rt-14-dev ccache)
  # Node.js and npm for buf (proto lint and `buf curl`) and the Kubernetes schemas; keep an
  # existing installation.
  if ! command -v npm > /dev/null 2>&1; then
    packages+=(nodejs npm)
  fi
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2> /dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} > 0)); then
  echo "install-deps: installing ${missing[*]}"
  sudo_cmd=()
  if [[ $(id -u) -ne 0 ]]; then sudo_cmd=(sudo); fi
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends \
    "${missing[@]}"
fi

if $build_only; then exit 0; fi
if [[ ! -x node_modules/.bin/buf || ! -d node_modules/kubernetes-models ||
  ! -d node_modules/@kubernetes-models/strimzi-kafka-operator ||
  ! -d node_modules/@kubernetes-models/prometheus-operator ]]; then
  echo "install-deps: installing buf and the Kubernetes schemas from npm"
  # The exact version is pinned in package.json; npm install (not ci) tolerates a lock file that
  # lists only the platform packages the last machine saw.
  npm install --no-audit --no-fund --loglevel=error
fi
