#!/usr/bin/env bash
# End-to-end browser login against a real OpenID provider nobody here wrote: the npm package
# `oidc-provider` (tests/oidc/provider.mjs, pinned by tests/oidc/package-lock.json), on loopback.
# kbgate finds the provider by discovery only (no endpoint overrides), the simulator is the
# upstream Confluence, and curl plays the browser (a cookie jar; curl treats 127.0.0.1 as a
# secure context, so kbgate's `Secure` cookies round-trip over plain loopback HTTP).
#
# Checks: sign in as alice (acme) through the provider's own login page → the session reads
# /wiki/rest/api/search (200, acme's articles, no globex canary); bob (globex) likewise sees
# globex's and not acme's; no cookie → 401; logout → provider's end-session endpoint, and the
# old session cookie is refused afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
say() { printf '  %s\n' "$*"; }
fail() { echo "oidc e2e FAILED: $*"; for f in "$work"/*.log; do echo "--- $f"; tail -n 30 "$f"; done; exit 1; }

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  apt-get update -qq && apt-get install -y -qq nodejs npm >/dev/null
fi
(cd tests/oidc && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
cargo build --quiet --locked

work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

base=$((20000 + RANDOM % 20000))
sim_port=$base op_port=$((base + 1)) kb_port=$((base + 2))
kb="http://127.0.0.1:$kb_port" op="http://127.0.0.1:$op_port"
client_secret="kbgate-e2e-client-secret-$RANDOM-0123456789"

wait_for() { # url log
  for _ in $(seq 1 100); do curl -s -o /dev/null "$1" && return 0; sleep 0.2; done
  fail "$1 did not come up"
}

target/debug/kbgate sim --listen "127.0.0.1:$sim_port" >"$work/sim.log" 2>&1 &
pids+=($!)
node tests/oidc/provider.mjs "$op_port" "$kb" "$client_secret" >"$work/provider.log" 2>&1 &
pids+=($!)
wait_for "http://127.0.0.1:$sim_port/idp/.well-known/openid-configuration"
wait_for "$op/.well-known/openid-configuration"

cat >"$work/kbgate.toml" <<EOF
[server]
listen = "127.0.0.1:$kb_port"
public_url = "$kb"
# No admin listener: 127.0.0.1:9090 (the default) may be taken on a CI machine.
admin_listen = "off"

[upstream]
base_url = "http://127.0.0.1:$sim_port"
auth = { kind = "basic", email = "svc@kbgate.example", token_env = "E2E_SIM_TOKEN" }

[[auth.issuers]]
issuer = "$op"
audiences = ["kbgate"]
discovery = true
algorithms = ["RS256"]

[orgs]
claim = "kb_orgs"

[policy]
spaces = ["KB"]
label_prefix = "org-"
internal_label = "kb-internal"
orgs = ["acme", "globex", "initech"]

[login]
issuer = "$op"
client_id = "kbgate"
client_secret_env = "E2E_CLIENT_SECRET"
scopes = ["openid", "email", "kb"]
session_secret_env = "E2E_SESSION_SECRET"
session_ttl = "1h"
EOF
E2E_SIM_TOKEN=sim-token E2E_CLIENT_SECRET="$client_secret" \
  E2E_SESSION_SECRET="e2e-session-secret-$RANDOM-0123456789abcdef" \
  target/debug/kbgate serve --config "$work/kbgate.toml" >"$work/kbgate.log" 2>&1 &
pids+=($!)
wait_for "$kb/_kbgate/logout"

search="/wiki/rest/api/search?cql=type%3Dpage&limit=100"
search_rd="%2Fwiki%2Frest%2Fapi%2Fsearch%3Fcql%3Dtype%253Dpage%26limit%3D100"

# Follows redirects like a browser (GET after POST), with the jar; prints the last URL.
browse() { # jar out [curl args...]
  local jar=$1 out=$2; shift 2
  curl -sS -L --max-redirs 15 -b "$jar" -c "$jar" -H 'Accept: text/html' \
    -o "$out" -w '%{url_effective} %{http_code}' "$@"
}

sign_in() { # name jar
  local name=$1 jar=$2 page="$work/page.html" last action
  last=$(browse "$jar" "$page" "$kb/_kbgate/login?rd=$search_rd")
  for _ in 1 2 3; do
    case "$last" in "$kb"*) break ;; esac
    # The provider's own page: its form's action and hidden fields (e.g. `prompt=login`).
    form=$(python3 tests/oidc/form.py "$page") || fail "no form on the provider page at $last"
    action=${form%% *} fields=${form#* }
    case "$action" in http*) ;; *) action="$op$action" ;; esac
    # The development login page accepts any login and password.
    last=$(browse "$jar" "$page" -d "$fields" -d "login=$name@example.com" -d "password=any-password" "$action")
  done
  [ "$last" = "$kb$search 200" ] || fail "$name: sign-in ended at $last: $(head -c 300 "$page")"
  grep -q '"results"' "$page" || fail "$name: the search after sign-in is not a result list"
}

echo "oidc-provider $(node -p "require('./tests/oidc/node_modules/oidc-provider/package.json').version") at $op, kbgate at $kb"
for who in alice:acme:globex bob:globex:acme; do
  IFS=: read -r name own other <<<"$who"
  jar="$work/$name.jar"
  sign_in "$name" "$jar"
  grep -q "__Host-kbgate" "$jar" || fail "$name: no session cookie in the jar"
  cookie_bytes=$(awk '$6 == "__Host-kbgate" {print length($7)}' "$jar")
  [ "${cookie_bytes:-9999}" -lt 1024 ] || fail "$name: session cookie is $cookie_bytes bytes"
  code=$(curl -sS -b "$jar" -o "$work/$name.json" -w '%{http_code}' -H 'Accept: application/json' "$kb$search")
  [ "$code" = 200 ] || fail "$name: session read gave $code"
  # Canaries of items for one organization only: CANARY-<org>-<6 hex>.
  grep -qiE "CANARY-$own-[0-9a-f]{6}" "$work/$name.json" || fail "$name: none of $own's articles"
  if grep -qiE "CANARY-$other-[0-9a-f]{6}" "$work/$name.json"; then fail "$name: sees $other's articles"; fi
  say "$name: signed in through oidc-provider, session reads the search API (200, $own only, cookie $cookie_bytes bytes)"
done

code=$(curl -sS -o /dev/null -w '%{http_code}' -H 'Accept: application/json' "$kb$search")
[ "$code" = 401 ] || fail "no cookie gave $code"
say "no cookie: 401"

jar="$work/alice.jar"
cp "$jar" "$work/alice-before-logout.jar"
to=$(curl -sS -b "$jar" -c "$jar" -X POST -o /dev/null -w '%{redirect_url}' "$kb/_kbgate/logout")
case "$to" in "$op/session/end?"*) ;; *) fail "logout went to $to" ;; esac
code=$(curl -sS -b "$work/alice-before-logout.jar" -o /dev/null -w '%{http_code}' -H 'Accept: application/json' "$kb$search")
[ "$code" = 401 ] || fail "the logged-out cookie gave $code"
say "logout: sent to the provider's end_session_endpoint; the old cookie is refused (401)"
echo "oidc e2e: all checks passed"
