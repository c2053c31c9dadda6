#!/usr/bin/env bash
# Regenerates the fuzz seed corpora (corpus/<target>/) from the text protos in seeds/:
#   requests-KK-*.txtpb  one request; the corpus file is byte KK (the request kind in
#                        fuzz_requests.cc) followed by its encoding
#   apply-*.txtpb        EventEnvelopes separated by "---" lines; the corpus file is each
#                        encoding after its big-endian 16-bit length (fuzz_apply.cc)
# and the embedded log's on-disk entries for fuzz_log.cc, written below.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
proto=$(cd "$here/../../proto" && pwd)
cd "$proto"
mapfile -t files < <(find crm -name '*.proto' | sort)
encode() {  # type, text on stdin -> binary on stdout
  grep -v '^#' | protoc -I "$proto" --encode="$1" "${files[@]}"
}
byte() {  # the byte with value $1
  printf '%b' "\\x$(printf %02x "$1")"
}
type_of() {  # the message type named in a requests seed's first line
  head -1 "$1" | sed 's/^# kind [0-9]* //'
}
rm -rf "$here/corpus"
mkdir -p "$here/corpus/fuzz_requests" "$here/corpus/fuzz_apply"
for f in "$here"/seeds/requests-*.txtpb; do
  kind=$(basename "$f" | cut -d- -f2)
  out="$here/corpus/fuzz_requests/$(basename "$f" .txtpb)"
  # shellcheck disable=SC2094  # reads $f, writes $out
  { byte "$((10#$kind))"; encode "$(type_of "$f")" < "$f"; } > "$out"
done
for f in "$here"/seeds/apply-*.txtpb; do
  out="$here/corpus/fuzz_apply/$(basename "$f" .txtpb)"
  : > "$out"
  tmp=$(mktemp -d)
  awk -v dir="$tmp" 'BEGIN{n=0} /^---$/{n++; next} {print > (dir "/" n)}' "$f"
  for part in $(find "$tmp" -type f -printf '%f\n' | sort -n); do
    encode crm.common.v1.EventEnvelope < "$tmp/$part" > "$tmp/bin"
    size=$(stat -c %s "$tmp/bin")
    { byte $((size >> 8)); byte $((size & 255)); } >> "$out"
    cat "$tmp/bin" >> "$out"
  done
  rm -rf "$tmp"
done
# fuzz_log: a framed record, an end-offset key, an end offset, a partition count.
mkdir -p "$here/corpus/fuzz_log"
printf '\x00\x00\x00\x03keyvalue' > "$here/corpus/fuzz_log/record"
printf 'ecrm.contact.v1\x00\x00\x00\x00\x07' > "$here/corpus/fuzz_log/end-key"
printf '\x00\x00\x00\x00\x00\x00\x01\x00' > "$here/corpus/fuzz_log/offset"
printf '\x00\x00\x00\x10' > "$here/corpus/fuzz_log/partitions"
echo "seed corpora written under $here/corpus"
