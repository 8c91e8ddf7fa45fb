#!/usr/bin/env bash
# Where kbgate's CPU goes on one configuration of the comparison (issue 7): builds kbgate with
# frame pointers (target/perf-fp; the first build takes several minutes), starts the comparison's
# servers and fixtures (`compare.sh --serve`, correctness probe included), drives the
# configuration with wrk from CPU 0, records kbgate on CPU 1 with `perf record -g`, and prints the
# share of kbgate's CPU each part of a request takes, with CPU µs per request.
#
#   tests/perf/profile.sh [--config kbgate-filter-25|kbgate-filter-200|kbgate-auth] [--duration S]
#
# `--config nginx-25` or `nginx-attachment` records the nginx proxy instead (only its kernel, user
# space and allocator shares apply), for the same split of the plain proxy's cost;
# `hyper-attachment` records the bare hyper floor (examples/hyper_pass.rs, also built with frame
# pointers), so its profile can be set beside kbgate-auth's line by line.
#
# Output: a markdown table on stdout and in target/perf/profile-CONFIG.md, then the system calls
# per request (counted on tracepoints over a second 6 s run); the raw recording in
# target/perf/profile-CONFIG.data (`perf report -i` it for the whole call graph). Installs
# Debian's linux-perf when `perf` is missing. Every process started here is stopped on exit.
set -euo pipefail

CONFIG=kbgate-filter-25
DURATION=10
while (($#)); do
    case "$1" in
    --config) CONFIG=${2:?--config needs a name}; shift 2 ;;
    --duration) DURATION=${2:?--duration needs seconds}; DURATION=${DURATION%s}; shift 2 ;;
    -h | --help) sed -n '2,18p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "profile.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done
if ! [[ $DURATION =~ ^[0-9]+$ ]] || ((DURATION < 1 || DURATION > 120)); then
    echo "profile.sh: --duration must be 1..120 seconds" >&2
    exit 2
fi

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
OUT=${PERF_OUT:-$REPO/target/perf}
log() { printf '[profile %s] %s\n' "$(date +%T)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

if ! command -v perf >/dev/null; then
    if ! command -v apt-get >/dev/null || ((EUID != 0)); then
        die "perf is missing: install linux-perf"
    fi
    log "installing linux-perf (apt-get)"
    DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends linux-perf >/dev/null
fi

log "building kbgate with frame pointers in target/perf-fp (reused when up to date)"
(cd "$REPO" && RUSTFLAGS="-C force-frame-pointers=yes" CARGO_TARGET_DIR="$REPO/target/perf-fp" \
    cargo build --release --locked --quiet --bin kbgate --example hyper_pass) || die "build failed"

KBGATE_BIN="$REPO/target/perf-fp/release/kbgate" \
    HYPER_PASS_BIN="$REPO/target/perf-fp/release/examples/hyper_pass" "$HERE/compare.sh" --serve
# shellcheck source=/dev/null
source "$OUT/serve.env"
cleanup() {
    kill -TERM "$KB_PID" "$PROXY_PID" "$UP_PID" ${HYPER_PID:+"$HYPER_PID"} 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port=$KB_PORT sut=$KB_PID
case "$CONFIG" in
kbgate-filter-25) path=$SEARCH25 ;;
kbgate-filter-200) path=$SEARCH200 ;;
kbgate-auth) path=$ATTACHMENT ;;
nginx-25) path=$SEARCH25 port=$PROXY_PORT sut=$PROXY_PID ;;
nginx-attachment) path=$ATTACHMENT port=$PROXY_PORT sut=$PROXY_PID ;;
hyper-attachment)
    [[ -n $HYPER_PID ]] || die "the hyper floor did not start (examples/hyper_pass)"
    path=$ATTACHMENT port=$HYPER_PORT sut=$HYPER_PID
    ;;
*) die "unknown --config $CONFIG (kbgate-filter-25, kbgate-filter-200, kbgate-auth, nginx-25, nginx-attachment, hyper-attachment)" ;;
esac
url="http://127.0.0.1:$port$path"
auth="Authorization: Bearer $(cat "$TOKEN_FILE")"
on_client() { if ((PIN)); then taskset -c "$CLIENT_CPU" "$@"; else "$@"; fi; }
ticks() { sed 's/^.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'; }

log "warm-up: 2 s"
on_client wrk -t1 -c32 -d2s -H "$auth" "$url" >/dev/null
data="$OUT/profile-$CONFIG.data"
t0=$(ticks "$sut")
on_client wrk -t1 -c32 -d"$((DURATION + 2))s" -H "$auth" "$url" >"$OUT/profile-$CONFIG.wrk" &
wrk_pid=$!
sleep 1
log "recording $CONFIG (pid $sut) for $DURATION s: $url"
perf record -F 999 -g -p "$sut" -o "$data" -- sleep "$DURATION" 2>"$OUT/profile-$CONFIG.perf.log" ||
    die "perf record failed: see $OUT/profile-$CONFIG.perf.log"
wait "$wrk_pid"
t1=$(ticks "$sut")
requests=$(awk '/requests in/ { print $1 }' "$OUT/profile-$CONFIG.wrk")
grep -q "Non-2xx" "$OUT/profile-$CONFIG.wrk" && die "non-2xx answers during the run: see $OUT/profile-$CONFIG.wrk"
us_per_req=$(awk -v t=$((t1 - t0)) -v hz="$(getconf CLK_TCK)" -v n="$requests" \
    'BEGIN { printf "%.1f", t / hz * 1e6 / n }')

perf report -i "$data" --children --sort sym -g none --stdio 2>/dev/null >"$OUT/profile-$CONFIG.children.txt"
perf report -i "$data" --no-children --sort dso,sym -g none --stdio 2>/dev/null >"$OUT/profile-$CONFIG.self.txt"
python3 "$HERE/profile_report.py" "$CONFIG" "$us_per_req" "$requests" \
    "$OUT/profile-$CONFIG.children.txt" "$OUT/profile-$CONFIG.self.txt" | tee "$OUT/profile-$CONFIG.md"

# System calls per request, counted on tracepoints (exact, not sampled) over a separate 6 s run:
# whether the kernel's share comes from more calls or from dearer ones.
calls=(writev write sendto sendmsg recvfrom read readv recvmsg epoll_wait epoll_pwait
    epoll_pwait2 epoll_ctl futex sched_yield)
known=$(perf list 'syscalls:sys_enter_*' 2>/dev/null)
events=()
for c in "${calls[@]}"; do
    grep -q "syscalls:sys_enter_$c " <<<"$known" && events+=("syscalls:sys_enter_$c")
done
if ((${#events[@]})); then
    counts="$OUT/profile-$CONFIG.syscalls.csv"
    perf stat -x, -e "$(IFS=,; echo "${events[*]}")" -p "$sut" -o "$counts" -- sleep 7 &
    stat_pid=$!
    sleep 0.5
    on_client wrk -t1 -c32 -d6s -H "$auth" "$url" >"$OUT/profile-$CONFIG.syscalls.wrk"
    wait "$stat_pid" || die "perf stat failed: see $counts"
    sys_requests=$(awk '/requests in/ { print $1 }' "$OUT/profile-$CONFIG.syscalls.wrk")
    {
        echo
        echo "System calls per request ($sys_requests requests, \`perf stat\` on syscall tracepoints):"
        echo
        echo "| system call | per request |"
        echo "|---|---|"
        awk -F, -v n="$sys_requests" '$3 ~ /sys_enter_/ && $1 + 0 > 0 {
            sub(/.*sys_enter_/, "", $3); printf "| %s | %.2f |\n", $3, $1 / n }' "$counts"
    } | tee -a "$OUT/profile-$CONFIG.md"
else
    log "no syscall tracepoints readable here (perf list syscalls:*): system calls not counted"
fi
log "done: $OUT/profile-$CONFIG.md (raw: perf report -i $data)"
