#!/usr/bin/env bash
# Starts `kbgate demo` as a user would, uses a printed curl command, and stops it with SIGINT.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --quiet --locked
. scripts/lib-demo.sh
start_demo
cat "$demo_log"
token=$(token_of ALICE)
[ -n "$token" ] || { echo "demo printed no token"; exit 1; }
body=$(curl -sf -H "Authorization: Bearer $token" "http://127.0.0.1:$demo_port/wiki/rest/api/search?cql=text~vpn")
echo "$body" | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["size"]>0, d; print("alice finds", d["size"], "vpn article(s)")'
if echo "$body" | grep -qi "canary-globex\|canary-initech\|canary-internal\|canary-eng"; then echo "LEAK in demo"; exit 1; fi
status=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$demo_port/wiki/rest/api/search?cql=type=page")
[ "$status" = 401 ] || { echo "no token gave $status"; exit 1; }
site=$(curl -sf -H "Authorization: Bearer $token" "http://127.0.0.1:$demo_port/search?q=vpn")
echo "$site" | grep -q 'id="results"' || { echo "the KB site shows no results"; exit 1; }
if echo "$site" | grep -qi "canary-globex\|canary-initech\|canary-internal\|canary-eng"; then echo "LEAK in the KB site"; exit 1; fi
echo "the KB site answers: $(echo "$site" | grep -o 'Results [^<]*')"
status=$(curl -s -o /dev/null -w '%{http_code}' -H 'Accept: text/html' "http://127.0.0.1:$demo_port/")
[ "$status" = 302 ] || { echo "a signed-out browser got $status, want 302 to sign in"; exit 1; }
admin="http://127.0.0.1:$demo_admin_port"
grep -q "Metrics and readiness: $admin/metrics" "$demo_log" || { echo "the demo printed no admin endpoints"; exit 1; }
curl -sf "$admin/readyz" | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["ready"] is True, d'
searches=$(curl -sf "$admin/metrics" | sed -n 's/^kbgate_requests_total{route="search",status="200"} //p')
[ "${searches:-0}" -ge 1 ] || { echo "/metrics counted no search: ${searches:-none}"; exit 1; }
echo "admin endpoints: ready, /metrics counted $searches answered searches"
stop_demo
echo "demo smoke test passed"
