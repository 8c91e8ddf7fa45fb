#!/usr/bin/env bash
# Drives a running `kbgate demo` with real published Confluence client libraries.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! python3 -m pip --version >/dev/null 2>&1; then
  apt-get update -qq && apt-get install -y -qq python3-pip >/dev/null
fi
python3 -m pip install --quiet --disable-pip-version-check atlassian-python-api==5.0.5 2>&1 | grep -v "WARNING: Running pip as the 'root' user" || true
python3 -m pip install --quiet --disable-pip-version-check "pyjwt[crypto]==2.10.1" 2>&1 | grep -v "WARNING: Running pip as the 'root' user" || true
cargo build --quiet --locked
. scripts/lib-demo.sh
start_demo
python3 tests/clients/atlassian_python_api.py "http://127.0.0.1:$demo_port/wiki" "$(token_of ALICE)" "$(token_of BOB)"
# Token attacks (threats.md §1.1) minted with PyJWT against the demo's identity provider.
sim_url=$(grep -o "identity provider at http://[0-9.:]*" "$demo_log" | head -n 1 | sed 's/identity provider at //')
python3 tests/clients/token_attacks.py "http://127.0.0.1:$demo_port" "$sim_url/idp" kbgate-demo testdata/keys
stop_demo
