#!/usr/bin/env bash
# Starts `kbgate demo` as a user would, uses a printed curl command, and stops it with SIGINT.
set -euo pipefail
cd "$(dirname "$0")/.."
port=$((20000 + RANDOM % 20000))
log=$(mktemp)
cargo build --quiet --locked
target/debug/kbgate demo --listen "127.0.0.1:$port" >"$log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 1 100); do grep -q "Press Ctrl-C" "$log" && break; sleep 0.2; done
cat "$log"
token=$(grep -o "export TOKEN_ALICE='[^']*'" "$log" | sed "s/export TOKEN_ALICE='//; s/'$//")
[ -n "$token" ] || { echo "demo printed no token"; exit 1; }
body=$(curl -sf -H "Authorization: Bearer $token" "http://127.0.0.1:$port/wiki/rest/api/search?cql=text~vpn")
echo "$body" | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["size"]>0, d; print("alice finds", d["size"], "vpn article(s)")'
if echo "$body" | grep -qi "canary-globex\|canary-initech\|canary-internal\|canary-eng"; then echo "LEAK in demo"; exit 1; fi
status=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/wiki/rest/api/search?cql=type=page")
[ "$status" = 401 ] || { echo "no token gave $status"; exit 1; }
kill -INT $pid
wait $pid || true
echo "demo smoke test passed"
