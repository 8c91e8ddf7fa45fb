#!/usr/bin/env bash
# Instructions per request of the whole request path (hyper server and client, tokio, kbgate's own
# steps, the filter; the kernel is not counted), measured by valgrind on a running kbgate and on
# the bare hyper floor (examples/hyper_pass.rs) in front of the comparison's upstream nginx.
# Deterministic where wall-clock time on a shared VM is not: a change to kbgate's fixed cost per
# request shows here even when it is below the noise of tests/perf/compare.sh.
#
#   scripts/request-ir.sh [--requests N]     # default 2000 measured requests per path
#
# How: `tests/perf/compare.sh --serve` builds the fixtures and starts the servers; kbgate and the
# floor are then restarted under `valgrind --tool=callgrind` on the same configuration, each
# path gets 200 warm-up requests (token and metadata caches filled, pool connections open), the
# counters are zeroed (`callgrind_control --zero`), `kbgate loadtest` sends N requests on one
# connection, and the counters are dumped: Ir/request = total / N. Every process started here is
# stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$(pwd)

REQUESTS=2000
while (($#)); do
    case "$1" in
    --requests) REQUESTS=${2:?--requests needs a number}; shift 2 ;;
    -h | --help) sed -n '2,15p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "request-ir.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done
if ! [[ $REQUESTS =~ ^[0-9]+$ ]] || ((REQUESTS < 100 || REQUESTS > 100000)); then
    echo "request-ir.sh: --requests must be 100..100000" >&2
    exit 2
fi

OUT=${PERF_OUT:-$REPO/target/perf}
log() { printf '[request-ir %s] %s\n' "$(date +%T)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
command -v valgrind >/dev/null || {
    log "installing valgrind (apt-get)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq valgrind >/dev/null
}

tests/perf/compare.sh --serve
# shellcheck source=/dev/null
source "$OUT/serve.env"
KBGATE=$REPO/target/release/kbgate
HYPER_PASS=$REPO/target/release/examples/hyper_pass
PIDS=("$UP_PID" "$PROXY_PID")
cleanup() { kill -TERM "${PIDS[@]}" "$KB_PID" ${HYPER_PID:+"$HYPER_PID"} 2>/dev/null || true; }
trap cleanup EXIT
trap 'exit 130' INT TERM
# The servers --serve started natively make way for the same ones under valgrind.
kill -TERM "$KB_PID" ${HYPER_PID:+"$HYPER_PID"} 2>/dev/null || true
for pid in "$KB_PID" ${HYPER_PID:+"$HYPER_PID"}; do
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
done

token=$(cat "$TOKEN_FILE")
auth="Authorization: Bearer $token"
# Pinned to one CPU like the comparison's servers (kbgate then runs tokio's single-threaded
# runtime, as there).
VG=(taskset -c "$SERVER_CPU" valgrind --tool=callgrind --callgrind-out-file="$OUT/request-ir.%p.out")
rm -f "$OUT"/request-ir.*.out*

# start_under_valgrind LOG PORT CMD...: starts CMD under callgrind, waits for PORT to answer.
start_under_valgrind() {
    local logf=$1 port=$2
    shift 2
    "${VG[@]}" "$@" >"$logf" 2>&1 &
    STARTED=$!
    PIDS+=("$STARTED")
    for _ in $(seq 1 600); do
        if curl -fsS -o /dev/null -H "$auth" "http://127.0.0.1:$port$ATTACHMENT" 2>/dev/null; then
            return 0
        fi
        kill -0 "$STARTED" 2>/dev/null || die "it exited: see $logf"
        sleep 0.2
    done
    die "no answer on :$port after 120 s: see $logf"
}

drive() { # port path count
    "$KBGATE" loadtest --target "http://127.0.0.1:$1" --path "$2" --header "$auth" \
        --connections 1 --requests "$3" --warmup 0s --duration 600s --oracle-sample 0 \
        --timeout 60s --quiet --json >/dev/null || die "loadtest against :$1$2 failed"
}

# measure NAME PID PORT PATH: Ir per request of PATH on the server PID listening on PORT.
measure() {
    local name=$1 pid=$2 port=$3 path=$4
    drive "$port" "$path" 200
    callgrind_control --zero "$pid" >/dev/null 2>&1
    drive "$port" "$path" "$REQUESTS"
    callgrind_control --dump="$name" "$pid" >/dev/null 2>&1
    local dump total sha
    for _ in $(seq 1 100); do
        dump=$(grep -lF "desc: Trigger: dump $name" "$OUT"/request-ir."$pid".out.* 2>/dev/null | head -n1 || true)
        [[ -n $dump ]] && break
        sleep 0.1
    done
    [[ -n $dump ]] || die "callgrind wrote no dump for $name"
    total=$(awk '/^(summary|totals):/ { print $2; exit }' "$dump")
    # valgrind's CPU hides the SHA extensions, so sha2 (the token cache's key) runs its portable
    # code here; natively it uses SHA-NI at a small fraction of this. Shown apart.
    sha=$(callgrind_annotate --inclusive=no --threshold=100 --auto=no "$dump" 2>/dev/null |
        awk '/sha2::sha256::soft::compress/ { gsub(",", "", $1); s += $1 } END { print s + 0 }')
    printf '%-36s %9d Ir/request  (%d of them portable SHA-256)\n' "$name" \
        $((total / REQUESTS)) $((sha / REQUESTS))
}

log "kbgate under callgrind"
GLIBC_TUNABLES=glibc.malloc.trim_threshold=8388608:glibc.malloc.mmap_threshold=4194304 \
    KBGATE_CONFLUENCE_TOKEN=perf-dummy-token \
    start_under_valgrind "$OUT/request-ir.kbgate.log" "$KB_PORT" \
    "$KBGATE" serve --config "$OUT/run/kbgate.toml"
kb=$STARTED
log "hyper floor under callgrind"
start_under_valgrind "$OUT/request-ir.hyper.log" "$HYPER_PORT" \
    "$HYPER_PASS" "$HYPER_PORT" "http://127.0.0.1:$UP_PORT" "Bearer $token"
floor=$STARTED

log "$REQUESTS requests per path, one connection"
{
    echo "Instructions per request ($REQUESTS requests after 200 warm-up, one keep-alive connection):"
    measure "hyper floor, attachment" "$floor" "$HYPER_PORT" "$ATTACHMENT"
    measure "kbgate auth only, attachment" "$kb" "$KB_PORT" "$ATTACHMENT"
    measure "kbgate auth + filter, 25 results" "$kb" "$KB_PORT" "$SEARCH25"
} | tee "$OUT/request-ir.txt"
