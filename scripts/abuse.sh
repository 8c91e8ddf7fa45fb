#!/usr/bin/env bash
# The abuse suite (tests/kbgate/abuse.rs) repeated: slow-header, slow-body, slow-read and idle
# clients against a real kbgate while a customer measures its latency, then a graceful shutdown
# with 200 in-flight requests. One round is what CI runs; this repeats it to see the spread.
#
# Bounded: at most 20 rounds, each under a two-minute timeout. Every round's figures are kept
# in target/tmp/abuse-rounds.log; the summary prints the worst legitimate p99 per attack.
#   scripts/abuse.sh              # 3 rounds, debug build (as CI)
#   scripts/abuse.sh 10 --release # 10 rounds, optimized build
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never

rounds=${1:-3}
profile=()
[ "${2:-}" = "--release" ] && profile=(--release)
case $rounds in
  '' | *[!0-9]*) echo "usage: scripts/abuse.sh [rounds 1-20] [--release]"; exit 2 ;;
esac
[ "$rounds" -ge 1 ] && [ "$rounds" -le 20 ] || { echo "rounds must be 1-20"; exit 2; }

echo "==> building the kbgate tests ${profile[*]:-(debug)}"
cargo test --locked "${profile[@]}" --test kbgate --no-run --quiet

target_dir=${CARGO_TARGET_DIR:-target}
mkdir -p "$target_dir/tmp"
log=$target_dir/tmp/abuse.log
all=$target_dir/tmp/abuse-rounds.log
: >"$all"
for round in $(seq 1 "$rounds"); do
  echo "==> round $round/$rounds"
  rm -f "$log"
  timeout 120 cargo test --locked "${profile[@]}" --quiet --test kbgate abuse -- --test-threads=1
  sed "s/^/round $round: /" "$log" | tee -a "$all"
done

echo "==> worst legitimate p99 per attack over $rounds rounds"
# Lines look like: "round N: slow headers: ... legit p50 X ms p99 Y ms over ..."
awk -F': ' '/legit p50/ {
  attack = $2
  if (match($0, /legit p50 [0-9.]+ ms p99 [0-9.]+/)) {
    split(substr($0, RSTART, RLENGTH), f, " ")
    if (f[5] + 0 > worst[attack] + 0) worst[attack] = f[5]
  }
} END { for (a in worst) printf "  %-16s p99 %s ms\n", a, worst[a] }' "$all"
grep -h "graceful shutdown" "$all" | sed 's/^/  /'
