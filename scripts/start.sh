#!/usr/bin/env bash
# Command 1 of the README: install, build and start the CRM on its embedded default — one
# process (crm-node) with every service, its durable data under ./.crm-data. It prints the
# address it listens on; stop it with Ctrl-C. Flags are passed on to crm-node (see --help).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh >&2
./scripts/build.sh >&2
exec ./build/bin/crm-node --data-dir "${CRM_DATA_DIR:-.crm-data}" "$@"
