#!/usr/bin/env bash
# Command 2 of the README: install, build and run every test (unit, contract, integration and
# fault tests with the real binaries on loopback, proto lint, reflection) through ctest, then
# the fuzz targets for a short while.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
./scripts/build.sh
(cd build && ctest --output-on-failure -j "${CRM_TEST_JOBS:-2}" "$@")
# The libFuzzer targets, briefly (scripts/fuzz.sh says how to run them longer).
./scripts/fuzz.sh
