#!/usr/bin/env bash
# Two kbgate builds, alternated on the same upstream: tells apart a change whose effect is below
# the VM's drift between two runs of tests/perf/compare.sh (which measures one build at a time).
#
#   tests/perf/ab.sh [--rounds N] [--duration S] [--path search25|search200|attachment] A_BIN B_BIN
#
# How: `compare.sh --serve --no-build` builds the fixtures, proves the correctness probe and
# starts upstream nginx; its kbgate and hyper floor are stopped. Then, per round, A and B in turn
# are started pinned to the server CPU on the same configuration and port, warmed up (2 s of wrk),
# and measured with `wrk -t1 -c32` pinned to the client CPU: rps and the process's CPU per
# request (/proc/PID/stat, user + system). It prints each run and the medians. Every process
# started here is stopped on exit.
#
# Build the A binary from another commit without disturbing target/release, for example:
#   git worktree add /tmp/a <commit> && (cd /tmp/a && CARGO_TARGET_DIR=target/ab cargo build --release --bin kbgate)
set -euo pipefail
cd "$(dirname "$0")/../.."
REPO=$PWD
OUT=$REPO/target/perf

ROUNDS=3
DURATION=6
PATH_NAME=search25
usage() { sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; }
while [[ $# -gt 0 ]]; do
    case $1 in
    --rounds) ROUNDS=$2; shift 2 ;;
    --duration) DURATION=$2; shift 2 ;;
    --path) PATH_NAME=$2; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    -*) echo "ab.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    *) break ;;
    esac
done
[[ $# -eq 2 ]] || { usage >&2; exit 2; }
A_BIN=$(realpath "$1")
B_BIN=$(realpath "$2")
for bin in "$A_BIN" "$B_BIN"; do
    [[ -x $bin ]] || { echo "ab.sh: $bin is not an executable" >&2; exit 2; }
done
[[ $ROUNDS =~ ^[1-9][0-9]?$ && $DURATION =~ ^[1-9][0-9]?$ ]] ||
    { echo "ab.sh: --rounds and --duration take 1-99" >&2; exit 2; }

log() { printf '[ab %s] %s\n' "$(date +%T)" "$*" >&2; }

SERVE_PIDS=()
SUT=
cleanup() {
    [[ -n $SUT ]] && kill "$SUT" 2>/dev/null
    ((${#SERVE_PIDS[@]})) && kill "${SERVE_PIDS[@]}" 2>/dev/null
    wait 2>/dev/null || true
}
trap cleanup EXIT

log "starting the comparison's upstream (compare.sh --serve --no-build)"
KBGATE_BIN=$B_BIN tests/perf/compare.sh --serve --no-build >"$OUT/ab.serve.log" 2>&1 ||
    { tail -n 20 "$OUT/ab.serve.log" >&2; exit 1; }
# shellcheck source=/dev/null
source "$OUT/serve.env"
SERVE_PIDS=("$UP_PID" "$PROXY_PID" "$KB_PID" "$HYPER_PID")
kill "$KB_PID" "$HYPER_PID" 2>/dev/null || true
sleep 0.5

case $PATH_NAME in
search25) TARGET=$SEARCH25 ;;
search200) TARGET=$SEARCH200 ;;
attachment) TARGET=$ATTACHMENT ;;
*) echo "ab.sh: --path is search25, search200 or attachment" >&2; exit 2 ;;
esac
AUTH="Authorization: Bearer $(cat "$TOKEN_FILE")"
URL="http://127.0.0.1:$KB_PORT$TARGET"
TUNABLES=glibc.malloc.trim_threshold=8388608:glibc.malloc.mmap_threshold=4194304

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# run NAME BIN: one start, warm-up and measurement; sets RUN_RPS and RUN_CPU (µs per request).
run() {
    taskset -c "$SERVER_CPU" env KBGATE_CONFLUENCE_TOKEN=perf-dummy-token GLIBC_TUNABLES="$TUNABLES" \
        "$2" serve --config "$OUT/run/kbgate.toml" >"$OUT/ab.$1.log" 2>&1 &
    SUT=$!
    local ready=0
    for _ in $(seq 100); do
        if curl -sf -o /dev/null -H "$AUTH" "$URL"; then ready=1; break; fi
        sleep 0.1
    done
    ((ready)) || { log "$1 did not answer $TARGET: see $OUT/ab.$1.log"; exit 1; }
    taskset -c "$CLIENT_CPU" wrk -t1 -c32 -d2s -H "$AUTH" "$URL" >/dev/null
    local before after out rps requests hz
    hz=$(getconf CLK_TCK)
    before=$(cpu_ticks "$SUT")
    out=$(taskset -c "$CLIENT_CPU" wrk -t1 -c32 -d"${DURATION}s" -H "$AUTH" "$URL")
    after=$(cpu_ticks "$SUT")
    kill "$SUT"
    wait "$SUT" 2>/dev/null || true
    SUT=
    grep -q "Non-2xx" <<<"$out" && { log "$1 answered errors: $out"; exit 1; }
    rps=$(awk '/Requests\/sec/ { print $2 }' <<<"$out")
    requests=$(awk '/requests in/ { print $1 }' <<<"$out")
    RUN_RPS=$(awk -v r="$rps" 'BEGIN { printf "%.0f", r }')
    RUN_CPU=$(awk -v b="$before" -v a="$after" -v n="$requests" -v hz="$hz" \
        'BEGIN { printf "%.1f", (a - b) * 1e6 / hz / n }')
}

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

declare -A RPS CPU
log "$ROUNDS round(s) × $DURATION s of $PATH_NAME, A then B each round"
for round in $(seq "$ROUNDS"); do
    for side in A B; do
        bin=$A_BIN
        [[ $side == B ]] && bin=$B_BIN
        run "$side" "$bin"
        printf 'round %d  %s  %6s rps  %7s CPU µs/request\n' "$round" "$side" "$RUN_RPS" "$RUN_CPU"
        RPS[$side]+="$RUN_RPS "
        CPU[$side]+="$RUN_CPU "
    done
done
for side in A B; do
    printf 'median %s  %6s rps  %7s CPU µs/request  (%s)\n' "$side" \
        "$(tr ' ' '\n' <<<"${RPS[$side]}" | grep . | median)" \
        "$(tr ' ' '\n' <<<"${CPU[$side]}" | grep . | median)" \
        "$([[ $side == A ]] && echo "$A_BIN" || echo "$B_BIN")"
done
