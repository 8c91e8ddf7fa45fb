#!/usr/bin/env bash
# Runs every kbgate test suite on a fresh machine. Installs what it needs itself.
#   scripts/test-all.sh            # everything CI runs
#   KBGATE_BENCH=1 scripts/test-all.sh  # also the filter benchmark and a quick nginx comparison (release build)
#   KBGATE_LONG=1 scripts/test-all.sh   # also the long soak/fuzz runs (not in CI)
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never
step() { printf '\n==> %s\n' "$*"; }

step "toolchain"
command -v cargo >/dev/null || { echo "cargo is required (https://rustup.rs)"; exit 1; }
cargo --version
rustup component list --installed 2>/dev/null | grep -q '^rustfmt' || rustup component add rustfmt clippy 2>/dev/null || true
for tool in curl python3; do
  if ! command -v "$tool" >/dev/null; then
    step "installing $tool"
    apt-get update -qq && apt-get install -y -qq "$tool" >/dev/null
  fi
done

step "format"
cargo fmt --all -- --check

step "lint"
cargo clippy --all-targets --locked -- -D warnings

step "unit and integration tests"
mkdir -p target/tmp && rm -f target/tmp/leak-oracle.log target/tmp/leak-oracle-routes.log target/tmp/adversarial.log target/tmp/fault-matrix.log target/tmp/abuse.log target/tmp/dependencies.log
cargo test --locked --all-targets 2>&1 | tee target/test-output.txt
grep -E '^test result:' target/test-output.txt | awk '{p+=$4; f+=$6; i+=$8} END {printf "unit+integration: %d passed, %d failed, %d ignored\n", p, f, i}'
sort -n target/tmp/leak-oracle.log | tail -n 1 | awk '{printf "leak oracle: %d responses, %d bytes scanned, 0 foreign canaries\n", $1, $2}'
echo "leak oracle by route (responses, bytes; every one scanned, 0 foreign canaries):"
awk '{printf "  %-22s %6d %10d\n", $1, $2, $3}' target/tmp/leak-oracle-routes.log
echo "security and reliability suites:"
for log in adversarial fault-matrix abuse dependencies; do
  [ -f "target/tmp/$log.log" ] || { echo "  missing target/tmp/$log.log"; exit 1; }
done
grep -E '^adversarial( [a-z]+)?:' target/tmp/adversarial.log | sed 's/^/  /'
grep -E '^(upstream faults|RSS)' target/tmp/fault-matrix.log | sed 's/^/  /'
sed 's/^/  /' target/tmp/abuse.log
grep -E '^dependencies' target/tmp/dependencies.log | sed 's/^/  /'

step "filter instruction budget (valgrind; release build of examples/filter_ir)"
scripts/bench-ir.sh --check

step "configuration examples"
KBGATE_CONFLUENCE_TOKEN=example cargo run --quiet --locked -- check-config config/kbgate.example.toml
if KBGATE_CONFLUENCE_TOKEN=example cargo run --quiet --locked -- check-config tests/data/invalid.toml 2>target/invalid.txt; then
  echo "check-config accepted an invalid file"; exit 1
else
  code=$?; [ "$code" -eq 2 ] || { echo "check-config exit $code, want 2"; exit 1; }
  cat target/invalid.txt
fi

step "demo smoke test (the README's first command)"
scripts/demo-smoke.sh

step "load test smoke (kbgate loadtest on the embedded demo, debug build)"
cargo run --quiet --locked -- loadtest --embedded --duration 3s --quiet --json >target/loadtest.json
python3 - target/loadtest.json <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
o = r["oracle"]
assert r["outcome"] == "ok" and r["requests"] > 0 and o["responses"] > 0 and o["hits"] == 0, r
print(f"loadtest: {r['requests']} requests, {r['throughput_rps']:.0f} rps (debug build), "
      f"p99 {r['latency_us']['p99'] / 1000:.1f} ms, oracle {o['responses']} answers, 0 foreign canaries")
PY

step "real client libraries against the demo"
scripts/client-tests.sh

step "browser login against a real OpenID provider (oidc-provider on loopback)"
scripts/oidc-tests.sh

step "the KB site in real headless Chromium (Debian chromium + chromium-driver)"
scripts/browser-tests.sh

if [ "${KBGATE_BENCH:-0}" = "1" ]; then
  step "filter benchmark (quick), instruction budget, comparison with nginx (quick)"
  cargo bench --locked --bench filter -- --sample-count 20 2>&1 | tail -n 20
  tests/perf/compare.sh --quick
fi

if [ "${KBGATE_LONG:-0}" = "1" ]; then
  step "long runs"
  PROPTEST_CASES=20000 cargo test --locked --release -- --include-ignored
  scripts/abuse.sh 5 --release
  if cargo +nightly --version >/dev/null 2>&1; then scripts/fuzz.sh 600; fi
fi
echo
echo "all suites passed"
