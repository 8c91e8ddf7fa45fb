#!/usr/bin/env bash
# The KB site in a real headless Chromium (tests/browser.rs): customers of different
# organizations sign in at the demo identity provider, search, read, follow links, download an
# attachment and sign out, while the leak oracle scans every byte the browser got from kbgate.
#
# Installs Debian's chromium + chromium-driver when chromedriver is missing, builds the tests,
# then runs the stories one at a time (bounded: three minutes after the build). Screenshots of
# the chooser, home, results and article pages land in target/browser-artifacts/.
#   scripts/browser-tests.sh
#   KBGATE_CHROMIUM=/path/to/chrome KBGATE_CHROMEDRIVER=/path/to/chromedriver scripts/browser-tests.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never

if ! command -v "${KBGATE_CHROMEDRIVER:-chromedriver}" >/dev/null; then
  echo "==> installing chromium and chromium-driver"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
fi
browser=${KBGATE_CHROMIUM:-/usr/bin/chromium}
[ -x "$browser" ] || { echo "browser tests: no Chromium at $browser"; exit 1; }
echo "==> $("$browser" --version 2>/dev/null | head -n 1), $("${KBGATE_CHROMEDRIVER:-chromedriver}" --version | head -n 1)"

echo "==> building the browser tests"
cargo test --locked --test browser --no-run --quiet

target_dir=${CARGO_TARGET_DIR:-target}
artifacts=$target_dir/browser-artifacts
rm -rf "$artifacts"
mkdir -p "$artifacts" "$target_dir/tmp"
out=$target_dir/tmp/browser-tests.txt
# The stories append each chromedriver's process group here; a run killed by the timeout
# leaves its browsers behind, and those groups (ours only) are ended below.
groups=$target_dir/tmp/browser-driver-groups.txt
rm -f "$groups"
echo "==> running the browser stories"
start=$(date +%s)
status=0
timeout 180 cargo test --locked --test browser -- --ignored --test-threads=1 --nocapture \
  2>&1 | tee "$out" || status=$?
elapsed=$(($(date +%s) - start))
if [ "$status" -ne 0 ] && [ -f "$groups" ]; then
  while read -r group; do kill -KILL -- "-$group" 2>/dev/null || true; done <"$groups"
fi
rm -f "$groups"

echo "==> screenshots"
shots=$(find "$artifacts" -name '*.png' | sort)
if [ -n "$shots" ]; then printf '  %s\n' $shots; else echo "  (none)"; fi

passed=$(grep -E '^test result:' "$out" | awk '{p+=$4} END {print p+0}')
failed=$(grep -E '^test result:' "$out" | awk '{f+=$6} END {print f+0}')
stories=$(grep -c 'browser: [^ ]* ok, ' "$out" || true)
if [ "$status" -ne 0 ] || [ "$failed" -ne 0 ] || [ "$stories" -eq 0 ]; then
  [ "$status" -eq 124 ] && echo "browser tests: timed out after 180 s"
  echo "browser tests FAILED: $passed passed, $failed failed (exit $status, ${elapsed}s)"
  exit 1
fi
grep -o 'browser: [^ ]* ok, .*' "$out" | sed 's/^/  /'
echo "browser tests: $passed passed ($stories stories in Chromium), 0 failed, ${elapsed}s, $(echo "$shots" | wc -l) screenshots in $artifacts/"
