#!/usr/bin/env bash
# Checks deploy/: renders every kustomize overlay with `kubectl kustomize`, validates the
# rendered objects against the Kubernetes, Strimzi and Prometheus-operator schemas
# (scripts/validate_manifests.mjs, schemas from npm), checks them for what matters to run the CRM
# safely (scripts/check_manifests.py), and lints every YAML file (yamllint) and shell script
# (shellcheck). Exits 77 (ctest: skipped) when kubectl,
# which Debian does not package, is not installed.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v kubectl > /dev/null 2>&1; then
  echo "check-deploy: kubectl is not installed; skipping the manifest checks"
  exit 77
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for overlay in deploy/k8s/overlays/*/; do
  name=$(basename "$overlay")
  kubectl kustomize "$overlay" > "$out/$name.yaml"
  python3 -c 'import json, sys, yaml; json.dump(list(yaml.safe_load_all(sys.stdin)), sys.stdout)' \
    < "$out/$name.yaml" | node scripts/validate_manifests.mjs "$name"
  python3 scripts/check_manifests.py "$name" "$out/$name.yaml"
done
yamllint -c .yamllint deploy/
shellcheck scripts/*.sh tests/fuzz/make_seeds.sh tests/integration/*.sh .ci/run
echo "check-deploy: every overlay renders and passes; YAML and shell scripts lint clean"
