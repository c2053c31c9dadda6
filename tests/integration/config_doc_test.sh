#!/usr/bin/env bash
# docs/configuration.md documents every flag and environment variable the binaries take: runs
# each binary's --help and fails naming whatever the document lacks.
# Usage: config_doc_test.sh BIN_DIR DOC
set -euo pipefail
bin_dir=$1
doc=$2
missing=0
for binary in crm-node crm-contact crm-interaction crm-sales crm-analytics crmctl crm-devbroker; do
  help=$("$bin_dir/$binary" --help)
  settings=$( (grep -oE -- '--[a-z][a-z0-9-]+' <<<"$help" || true; grep -oE 'Env:[A-Z][A-Z0-9_]+' <<<"$help" | sed 's/^Env://' || true) | sort -u)
  for setting in $settings; do
    [[ $setting == --help ]] && continue
    if ! grep -qF -- "\`$setting\`" "$doc"; then
      echo "$doc does not document $binary's $setting" >&2
      missing=1
    fi
  done
done
exit "$missing"
