#!/usr/bin/env bash
# Regenerates the fuzz seed corpora (corpus/<target>/) from the text protos in seeds/:
#   requests-KK-*.txtpb  one request; the corpus file is byte KK (the request kind in
#                        fuzz_requests.cc) followed by its encoding
#   apply-*.txtpb        EventEnvelopes separated by "---" lines; the corpus file is each
#                        encoding after its big-endian 16-bit length (fuzz_apply.cc)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
proto=$(cd "$here/../../proto" && pwd)
cd "$proto"
files=$(find crm -name '*.proto' | sort)
encode() {  # type, text on stdin -> binary on stdout
  grep -v '^#' | protoc -I "$proto" --encode="$1" $files
}
type_of() {  # the message type named in a requests seed's first line
  head -1 "$1" | sed 's/^# kind [0-9]* //'
}
rm -rf "$here/corpus"
mkdir -p "$here/corpus/fuzz_requests" "$here/corpus/fuzz_apply"
for f in "$here"/seeds/requests-*.txtpb; do
  kind=$(basename "$f" | cut -d- -f2)
  out="$here/corpus/fuzz_requests/$(basename "$f" .txtpb)"
  { printf "\\x$(printf %02x "$((10#$kind))")"; encode "$(type_of "$f")" < "$f"; } > "$out"
done
for f in "$here"/seeds/apply-*.txtpb; do
  out="$here/corpus/fuzz_apply/$(basename "$f" .txtpb)"
  : > "$out"
  tmp=$(mktemp -d)
  awk -v dir="$tmp" 'BEGIN{n=0} /^---$/{n++; next} {print > (dir "/" n)}' "$f"
  for part in $(ls "$tmp" | sort -n); do
    encode crm.common.v1.EventEnvelope < "$tmp/$part" > "$tmp/bin"
    size=$(stat -c %s "$tmp/bin")
    printf "\\x$(printf %02x $((size >> 8)))\\x$(printf %02x $((size & 255)))" >> "$out"
    cat "$tmp/bin" >> "$out"
  done
  rm -rf "$tmp"
done
echo "seed corpora written under $here/corpus"
