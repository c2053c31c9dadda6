#!/usr/bin/env bash
# A generic gRPC client (buf curl, which speaks server reflection) against the real crm-node:
# reflection lists the services (health included), and calls built only from reflected
# descriptors work, bad input included.
# Usage: reflection_test.sh <bin-dir> <buf>
set -euo pipefail
bin_dir=$1
buf=$2
if [[ ! -x $buf ]]; then
  echo "buf not found at $buf: run scripts/install-deps.sh (npm ci)" >&2
  exit 1
fi
work=$(mktemp -d)
node_pid=
cleanup() {
  if [[ -n $node_pid ]]; then kill "$node_pid" 2> /dev/null || true; wait "$node_pid" 2> /dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

"$bin_dir/crm-node" --listen 127.0.0.1:0 --data-dir "$work/data" > "$work/out" 2> "$work/err" &
node_pid=$!
# Wait for the address line, bounded by a deadline.
addr=
for _ in $(seq 1 200); do
  if read -r first < "$work/out" 2> /dev/null && [[ $first == "listening on "* ]]; then
    addr=${first#listening on }
    break
  fi
  sleep 0.05
done
if [[ -z $addr ]]; then
  echo "crm-node did not start:" >&2
  cat "$work/err" >&2
  exit 1
fi
curl_grpc=("$buf" curl --protocol grpc --http2-prior-knowledge --timeout 10s)

services=$("${curl_grpc[@]}" --list-services "http://$addr")
for want in crm.contact.v1.ContactService crm.interaction.v1.InteractionService \
    crm.sales.v1.SalesService crm.analytics.v1.AnalyticsService crm.admin.v1.AdminService \
    grpc.health.v1.Health; do
  grep -qx "$want" <<< "$services" || { echo "reflection does not list $want: $services" >&2; exit 1; }
done

# grpc.health.v1.Health is listed above, but gRPC C++'s built-in health service does not put
# its descriptor into the reflection pool, so a reflection-only client cannot call it; the C++
# integration tests check it over the wire, as kubelet's native gRPC probe does.

# A call built only from reflected descriptors.
created=$("${curl_grpc[@]}" -d '{"contact":{"personal":{"given_name":"Reflected"}}}' \
  "http://$addr/crm.contact.v1.ContactService/CreateContact")
grep -q '"version": "1"' <<< "$created" || { echo "create: $created" >&2; exit 1; }

if "${curl_grpc[@]}" -d '{"id":"bad"}' "http://$addr/crm.contact.v1.ContactService/GetContact" \
  > "$work/bad" 2>&1; then
  echo "GetContact with a bad id succeeded" >&2
  exit 1
fi
grep -q "invalid_argument" "$work/bad" || { cat "$work/bad" >&2; exit 1; }
echo "reflection test passed"
