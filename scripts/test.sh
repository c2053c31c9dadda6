#!/usr/bin/env bash
# Command 2 of the README: install, build and run every test (unit, contract, integration with
# the real binaries on loopback, proto lint, reflection) through ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
./scripts/build.sh
cd build
ctest --output-on-failure -j "${CRM_TEST_JOBS:-2}" "$@"
