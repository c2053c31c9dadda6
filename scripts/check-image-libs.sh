#!/usr/bin/env bash
# Checks that deploy/Dockerfile's runtime stage installs what the shipped binaries need: every
# shared library a binary links directly must come from a package the stage installs, from a
# package those depend on, or from debian:12-slim itself. (No container runtime is needed: the
# packages and their dependencies are Debian 12's, the same on this machine as in the image.)
# Usage: check-image-libs.sh [BIN_DIR]   (default build/bin)
set -euo pipefail
cd "$(dirname "$0")/.."
bin_dir=${1:-build/bin}
# The runtime stage's package list: the words of its apt-get install command.
mapfile -t listed < <(sed -n '/^FROM debian:12-slim/,/^COPY/p' deploy/Dockerfile |
  sed -n '/apt-get install/,/rm -rf/p' | tr -s ' ' '\n' | tr -d "\\\\" |
  grep -E '^(lib[a-z0-9.+-]+|ca-certificates)$' | sort -u)
if [[ ${#listed[@]} -eq 0 ]]; then
  echo "check-image-libs: no package list found in deploy/Dockerfile" >&2
  exit 1
fi
# What debian:12-slim holds that binaries link: the C and C++ runtimes and zlib.
base=(libc6 libgcc-s1 libstdc++6 zlib1g)
closure=$(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks \
  --no-replaces --no-enhances "${listed[@]}" "${base[@]}" | grep -v '^ ' | sed 's/:.*//' | sort -u)
# Each library the binaries link, once, with the paths its package may list it under (Debian 12
# merged /lib into /usr/lib; dpkg knows the path the package shipped).
binaries=(crm-node crm-contact crm-interaction crm-sales crm-analytics crmctl)
mapfile -t libs < <(for b in "${binaries[@]}"; do objdump -p "$bin_dir/$b"; done |
  awk '/NEEDED/{print $2}' | sort -u)
declare -A package_of
candidates=()
for lib in "${libs[@]}"; do
  path=$(ldconfig -p | awk -v l="$lib" '$1 == l && !found {print $NF; found = 1}')
  [[ -z $path ]] && continue
  candidates+=("$path" "$(readlink -f "$path")" "/usr$path" "${path#/usr}")
done
# One dpkg call for every path: "package:arch: path" for those it knows.
while IFS= read -r line; do
  package=${line%%:*}
  file=${line##*: }
  package_of[$(basename "$file")]=$package
done < <(dpkg -S "${candidates[@]}" 2> /dev/null || true)
missing=0
for lib in "${libs[@]}"; do
  package=""
  path=$(ldconfig -p | awk -v l="$lib" '$1 == l && !found {print $NF; found = 1}')
  for name in "$lib" "$(basename "$(readlink -f "${path:-/nonexistent}")")"; do
    package=${package_of[$name]:-}
    [[ -n $package ]] && break
  done
  if [[ -z $package ]]; then
    echo "check-image-libs: the binaries link $lib, which no Debian package provides here" >&2
    missing=1
  elif ! grep -qx "$package" <<< "$closure"; then
    echo "check-image-libs: the binaries link $lib from $package, which deploy/Dockerfile does not install" >&2
    missing=1
  fi
done
[[ $missing -eq 0 ]] && echo "check-image-libs: the runtime image provides every library the binaries link"
exit "$missing"
