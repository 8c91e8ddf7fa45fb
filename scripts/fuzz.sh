#!/usr/bin/env bash
# Fuzzes each kbgate target for N seconds with cargo-fuzz (libFuzzer, nightly) and prints, per
# target: executions, seconds, corpus size, and crashes/timeouts/OOMs. Not part of CI (the
# seed corpora are replayed on stable by `cargo test --test fuzz_replay`).
#
#   scripts/fuzz.sh            # 60 s per target
#   scripts/fuzz.sh 3600       # the long run (threats.md §3.2 suite C)
#   scripts/fuzz.sh 60 token   # one target
#
# Seeds: fuzz/corpus/<target>/ (read only here). New inputs libFuzzer finds go to
# fuzz/target/corpus-work/<target>/ (ignored by git); crashers to fuzz/artifacts/<target>/ —
# keep them: tests/fuzz_replay.rs replays every artifact, so a crasher is a failing test until
# fixed. Bounded: each target runs at most N s (plus a fixed margin for a stuck process);
# inputs are capped at 64 KiB, each at 10 s, memory at 2 GiB.
# Environment: FUZZ_SANITIZER (default address; `none` is faster); FUZZ_NO_BUILD=1 reuses the
# binaries of the last build.
set -uo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-60}"
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(token canonicalize json_filter storage_rewrite)
sanitizer="${FUZZ_SANITIZER:-address}"

if ! cargo +nightly --version >/dev/null 2>&1; then
  echo "fuzz.sh: a nightly toolchain is needed (rustup toolchain install nightly)" >&2
  exit 2
fi
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
  echo "fuzz.sh: cargo-fuzz is needed (cargo install cargo-fuzz)" >&2
  exit 2
fi

if [ "${FUZZ_NO_BUILD:-0}" != "1" ]; then
  echo "==> building the fuzz targets (nightly, sanitizer: $sanitizer, debug assertions on)"
  (cd fuzz && cargo +nightly fuzz build --sanitizer "$sanitizer" --debug-assertions) || exit 1
fi
triple=$(rustc +nightly -vV | sed -n 's/^host: //p')

summary=()
total_execs=0
total_crashes=0
for t in "${targets[@]}"; do
  work="fuzz/target/corpus-work/$t"
  artifacts="fuzz/artifacts/$t"
  mkdir -p "$work" "$artifacts" fuzz/target
  find "$artifacts" -type f | sort >"fuzz/target/artifacts-before-$t.txt"
  before=$(wc -l <"fuzz/target/artifacts-before-$t.txt")
  log="fuzz/target/fuzz-$t.log"
  echo "==> $t: $seconds s"
  start=$(date +%s)
  # The binary built above, run directly: `cargo fuzz run` would rebuild whenever the
  # sources changed since, and the build time would eat the budget.
  (cd fuzz && timeout --kill-after=30 $((seconds + 60)) \
    "target/$triple/release/$t" "target/corpus-work/$t" "corpus/$t" \
      -max_total_time="$seconds" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
      -print_final_stats=1 -artifact_prefix="artifacts/$t/") \
    >"$log" 2>&1
  status=$?
  elapsed=$(( $(date +%s) - start ))
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | awk '{s+=$2} END {print s+0}')
  # libFuzzer's own count: the inputs it kept (seeds that add coverage plus new finds).
  corpus=$(grep -o 'corp: [0-9]*' "$log" | tail -n 1 | awk '{print $2+0}')
  crashes=$(( $(find "$artifacts" -type f | wc -l) - before ))
  total_execs=$((total_execs + execs))
  total_crashes=$((total_crashes + crashes))
  line=$(printf '%-16s %12s execs  %5s s  corpus %6s  new crashes/timeouts/OOMs %s  (exit %s)' \
    "$t" "$execs" "$elapsed" "$corpus" "$crashes" "$status")
  summary+=("$line")
  echo "$line"
  if [ "$crashes" -gt 0 ]; then
    echo "    crashers in $artifacts (log: $log):"
    find "$artifacts" -type f | sort | comm -13 "fuzz/target/artifacts-before-$t.txt" - | sed 's/^/      /'
  fi
done

echo
echo "fuzz summary ($seconds s per target, sanitizer $sanitizer):"
printf '  %s\n' "${summary[@]}"
echo "  total: $total_execs execs, $total_crashes new crashes/timeouts/OOMs"
[ "$total_crashes" -eq 0 ]
