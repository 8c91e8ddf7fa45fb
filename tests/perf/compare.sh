#!/usr/bin/env bash
# Side-by-side comparison of kbgate with nginx proxy_pass on canned Confluence answers
# (issue 7; method: research/performance.md §3.4; documented in tests/perf/README.md).
#
#   tests/perf/compare.sh [--rounds N] [--duration S] [--quick] [--keep] [--no-build] [--serve]
#
# Upstream nginx serves the fixtures (tests/perf/fixtures/gen.py) on CPU 1; the system under test
# (nginx proxy_pass with upstream keep-alive, kbgate, or the floor: examples/hyper_pass.rs, a bare
# hyper proxy that only compares the token) also runs on CPU 1 with one worker; wrk and
# `kbgate loadtest` run alone on CPU 0. Configurations are interleaved over the rounds.
# Output: a markdown table on stdout and in target/perf/compare.md, raw numbers in
# target/perf/compare.json. Exit 1 when the correctness probe finds a leak, when a run sees a
# non-2xx answer or a socket error, or when the fixed-rate pass reports a leak or errors.
# Everything binds to 127.0.0.1; every process started here is stopped on exit (trap).
set -euo pipefail

usage() {
    sed -n '2,14p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
    cat <<'EOF'
Options:
  --rounds N     interleaved rounds (default 3)
  --duration S   seconds per measured run (default 10; a 2 s warm-up precedes each)
  --quick        1 round of 3 s: a smoke run
  --keep         leave upstream nginx, proxy nginx and kbgate running at the end
  --no-build     do not run `cargo build --release` (use target/release/kbgate as it is)
  --serve        only the fixtures, the correctness probe and the servers: leave upstream
                 nginx, nginx proxy, kbgate and the hyper floor (when built) running, their
                 ports and pids in
                 $PERF_OUT/serve.env (tests/perf/profile.sh uses it)
Environment:
  KBGATE_BIN     kbgate binary to measure (default target/release/kbgate; implies --no-build)
  HYPER_PASS_BIN the floor's binary (default target/release/examples/hyper_pass)
  PERF_OUT       output directory (default target/perf)
EOF
}

ROUNDS=3
DURATION=10
WARMUP=2
KEEP=0
SERVE=0
BUILD=1
while (($#)); do
    case "$1" in
    --rounds) ROUNDS=${2:?--rounds needs a number}; shift 2 ;;
    --duration) DURATION=${2:?--duration needs seconds}; DURATION=${DURATION%s}; shift 2 ;;
    --quick) ROUNDS=1; DURATION=3; shift ;;
    --keep) KEEP=1; shift ;;
    --serve) SERVE=1; KEEP=1; shift ;;
    --no-build) BUILD=0; shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "compare.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done
if ! [[ $ROUNDS =~ ^[0-9]+$ ]] || ((ROUNDS < 1 || ROUNDS > 20)); then
    echo "compare.sh: --rounds must be 1..20" >&2
    exit 2
fi
if ! [[ $DURATION =~ ^[0-9]+$ ]] || ((DURATION < 1 || DURATION > 600)); then
    echo "compare.sh: --duration must be 1..600 seconds" >&2
    exit 2
fi

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
OUT=${PERF_OUT:-$REPO/target/perf}
FX=$OUT/fixtures
RUN=$OUT/run
RAW=$OUT/raw
if [[ -n ${KBGATE_BIN:-} ]]; then
    KBGATE=$KBGATE_BIN
    BUILD=0
else
    KBGATE=$REPO/target/release/kbgate
fi
# kbgate's allocator settings, the same as deploy/Dockerfile's.
ALLOCATOR_TUNABLES=glibc.malloc.trim_threshold=8388608:glibc.malloc.mmap_threshold=4194304
# The floor row's bare hyper proxy (examples/hyper_pass.rs), built beside kbgate.
HYPER_PASS=${HYPER_PASS_BIN:-$REPO/target/release/examples/hyper_pass}
# No KBGATE_* override from the caller's environment may reach the servers.
while read -r var; do unset "$var"; done < <(compgen -e | grep '^KBGATE_' || true)

SEARCH25='/wiki/rest/api/search?cql=text~widget&limit=25&expand=content.version'
# kbgate allows limit <= 100; upstream nginx answers limit=100 with the 200-result file.
SEARCH200='/wiki/rest/api/search?cql=text~widget&limit=100&expand=content.version'
ATTACHMENT='/wiki/download/attachments/1000000/manual.pdf'

# Configurations, in the order of a round: id|label|server|path|baseline|fixed-rate group.
CONFIGS=(
    "direct-25|direct to upstream nginx, 25-result search|direct|$SEARCH25|nginx-25|-"
    "nginx-25|nginx proxy_pass, 25-result search|nginx|$SEARCH25|nginx-25|25"
    "hyper-auth|hyper pass-through floor (no kbgate), attachment|hyper|$ATTACHMENT|nginx-25|-"
    "kbgate-auth|kbgate auth only, attachment of the same size|kbgate|$ATTACHMENT|nginx-25|25"
    "kbgate-filter-25|kbgate auth + filter, 25-result search|kbgate|$SEARCH25|nginx-25|25"
    "nginx-200|nginx proxy_pass, 200-result search|nginx|$SEARCH200|nginx-200|200"
    "kbgate-filter-200|kbgate auth + filter, 200-result search|kbgate|$SEARCH200|nginx-200|200"
)

log() { printf '[compare %s] %s\n' "$(date +%T)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# ---------------------------------------------------------------- processes and cleanup
PIDS=()
FAILURES=()

cleanup() {
    local rc=$?
    if ((KEEP)) && ((${#PIDS[@]})); then
        log "--keep: left running (stop with: kill ${PIDS[*]})"
        return "$rc"
    fi
    local pid
    for pid in "${PIDS[@]}"; do stop_pid "$pid"; done
    return "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

forget_pid() {
    local keep=() p
    for p in "${PIDS[@]}"; do [[ $p == "$1" ]] || keep+=("$p"); done
    PIDS=("${keep[@]}")
}

# Stops one process this script started: TERM, up to 5 s, then KILL.
stop_pid() {
    local pid=$1 i
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null || true
        for ((i = 0; i < 50; i++)); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
    forget_pid "$pid"
}

# start_bg LOG CPU CMD...: starts CMD pinned to CPU (when pinning), sets STARTED.
STARTED=
start_bg() {
    local logfile=$1 cpu=$2
    shift 2
    if ((PIN)); then
        taskset -c "$cpu" "$@" >"$logfile" 2>&1 &
    else
        "$@" >"$logfile" 2>&1 &
    fi
    STARTED=$!
    PIDS+=("$STARTED")
}

on_client() {
    if ((PIN)); then taskset -c "$CLIENT_CPU" "$@"; else "$@"; fi
}

# wait_ready PID LOG URL [HEADER]: up to 10 s for a 200 answer.
wait_ready() {
    local pid=$1 logfile=$2 url=$3 header=${4:-X-Perf: 1} i code
    for ((i = 0; i < 100; i++)); do
        kill -0 "$pid" 2>/dev/null || { tail -n 20 "$logfile" >&2; die "server for $url exited"; }
        code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 -H "$header" "$url" || true)
        [[ $code == 200 ]] && return 0
        sleep 0.1
    done
    tail -n 20 "$logfile" >&2
    die "$url did not answer 200 within 10 s (last status $code)"
}

# ---------------------------------------------------------------- tools, build, machine
install_tools() {
    local missing=()
    command -v nginx >/dev/null || missing+=(nginx)
    command -v wrk >/dev/null || missing+=(wrk)
    command -v taskset >/dev/null || missing+=(util-linux)
    command -v curl >/dev/null || missing+=(curl)
    command -v openssl >/dev/null || missing+=(openssl)
    command -v python3 >/dev/null || missing+=(python3)
    if ((${#missing[@]})); then
        command -v apt-get >/dev/null || die "missing ${missing[*]} and no apt-get to install them"
        ((EUID == 0)) || die "missing ${missing[*]}: run as root, or install them first"
        log "installing ${missing[*]} (apt-get)"
        DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
    fi
}

build_kbgate() {
    if ((BUILD)); then
        log "cargo build --release --bin kbgate (reused when up to date)"
        (cd "$REPO" && cargo build --release --bin kbgate --example hyper_pass -q) ||
            die "release build failed"
    fi
    [[ -x $KBGATE ]] || die "no kbgate binary at $KBGATE"
    if [[ ! -x $HYPER_PASS ]]; then
        log "no $HYPER_PASS (cargo build --release --example hyper_pass): the floor row is left out"
        local keep=() line
        for line in "${CONFIGS[@]}"; do [[ $line == hyper-* ]] || keep+=("$line"); done
        CONFIGS=("${keep[@]}")
    fi
}

free_ports() {
    python3 - <<'EOF'
import socket
socks = [socket.socket() for _ in range(5)]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))
for s in socks:
    s.close()
EOF
}

# /proc/PID/stat: utime + stime in clock ticks (fields 14 and 15; comm may hold spaces).
ticks() {
    [[ -n $1 ]] || { echo 0; return; }
    sed 's/^.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'
}
# Busy ticks of the whole machine (everything but idle and iowait).
machine_busy() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat; }
peak_rss_kb() { [[ -n $1 ]] && awk '/^VmHWM/ { print $2 }' "/proc/$1/status" || echo 0; }

# ---------------------------------------------------------------- servers
fill() {
    sed -e "s#@PREFIX@#$2#g" -e "s#@ACCESS_LOG@#$3#g" -e "s#@UP_PORT@#$UP_PORT#g" \
        -e "s#@PROXY_PORT@#$PROXY_PORT#g" -e "s#@KB_PORT@#$KB_PORT#g" \
        -e "s#@KB_ADMIN_PORT@#$KB_ADMIN_PORT#g" -e "s#@FIXTURES@#$FX#g" "$1"
}

UP_PID=
start_upstream() {
    local access_log=$1
    mkdir -p "$RUN/upstream"
    fill "$HERE/templates/upstream.nginx.conf" "$RUN/upstream" "$access_log" >"$RUN/upstream.conf"
    start_bg "$RUN/upstream.log" "$SERVER_CPU" nginx -c "$RUN/upstream.conf" -p "$RUN/upstream" -e "$RUN/upstream/error.log"
    UP_PID=$STARTED
    wait_ready "$UP_PID" "$RUN/upstream.log" "http://127.0.0.1:$UP_PORT/idp/jwks.json"
}

start_proxy() {
    mkdir -p "$RUN/proxy"
    fill "$HERE/templates/proxy.nginx.conf" "$RUN/proxy" off >"$RUN/proxy.conf"
    start_bg "$RUN/proxy.log" "$SERVER_CPU" nginx -c "$RUN/proxy.conf" -p "$RUN/proxy" -e "$RUN/proxy/error.log"
    wait_ready "$STARTED" "$RUN/proxy.log" "http://127.0.0.1:$PROXY_PORT$SEARCH25"
}

# The floor: examples/hyper_pass.rs, a bare hyper proxy that only compares the bearer token.
start_hyper() {
    start_bg "$RUN/hyper.log" "$SERVER_CPU" "$HYPER_PASS" "$HYPER_PORT" "http://127.0.0.1:$UP_PORT" \
        "Bearer $(cat "$FX/token")"
    wait_ready "$STARTED" "$RUN/hyper.log" "http://127.0.0.1:$HYPER_PORT$ATTACHMENT" "$AUTH"
}

start_kbgate() {
    # tokio sizes its worker pool from the affinity mask: pinned to one CPU, one worker.
    # GLIBC_TUNABLES: as the container image and the systemd unit set it (README, Operations).
    start_bg "$RUN/kbgate.log" "$SERVER_CPU" env KBGATE_CONFLUENCE_TOKEN=perf-dummy-token \
        GLIBC_TUNABLES="$ALLOCATOR_TUNABLES" "$KBGATE" serve --config "$RUN/kbgate.toml"
    wait_ready "$STARTED" "$RUN/kbgate.log" "http://127.0.0.1:$KB_PORT$SEARCH25" "$AUTH"
}

# ---------------------------------------------------------------- measurements
# measure DIR ID URL SUT_PID CONNECTIONS: warm-up, then one wrk run with CPU and RSS figures.
measure() {
    local dir=$1 id=$2 url=$3 sut=$4 conns=$5
    local s0 u0 m0 s1 u1 m1 rc=0
    on_client timeout $((WARMUP + 30)) wrk -t1 -c"$conns" -d"${WARMUP}s" --timeout 10s \
        -H "$AUTH" "$url" >/dev/null 2>&1 || true
    s0=$(ticks "$sut") u0=$(ticks "$UP_PID") m0=$(machine_busy)
    {
        local TIMEFORMAT='CLIENT_CPU %3U %3S'
        time on_client timeout $((DURATION + 30)) wrk -t1 -c"$conns" -d"${DURATION}s" --latency \
            --timeout 10s -H "$AUTH" "$url" >"$dir/$id.wrk" 2>"$dir/$id.wrk.err" || rc=$?
    } 2>"$dir/$id.time"
    s1=$(ticks "$sut") u1=$(ticks "$UP_PID") m1=$(machine_busy)
    {
        echo "rc=$rc"
        echo "connections=$conns"
        echo "duration=$DURATION"
        echo "clk_tck=$CLK_TCK"
        echo "sut_ticks=$((s1 - s0))"
        echo "upstream_ticks=$((u1 - u0))"
        echo "machine_busy_ticks=$((m1 - m0))"
        echo "rss_kb=$(peak_rss_kb "$sut")"
        echo "has_sut=$([[ -n $sut ]] && echo 1 || echo 0)"
        awk '/^CLIENT_CPU/ { print "client_user=" $2; print "client_sys=" $3 }' "$dir/$id.time"
    } >"$dir/$id.stat"
    local rps non2xx sockerr
    rps=$(awk '/^Requests\/sec:/ { print $2 }' "$dir/$id.wrk")
    non2xx=$(awk -F': *' '/Non-2xx or 3xx responses/ { print $2 }' "$dir/$id.wrk")
    sockerr=$(awk '/Socket errors/ { gsub(",", ""); print $4 + $6 + $8 + $10 }' "$dir/$id.wrk")
    log "  $id: ${rps:-?} rps, non-2xx ${non2xx:-0}, socket errors ${sockerr:-0}"
    if ((rc != 0)) || [[ -z $rps ]]; then FAILURES+=("$dir/$id: wrk failed (exit $rc)"); fi
    ((${non2xx:-0} == 0)) || FAILURES+=("$dir/$id: $non2xx non-2xx answers")
    ((${sockerr:-0} == 0)) || FAILURES+=("$dir/$id: $sockerr socket errors")
    LAST_RPS=${rps:-0}
}

LOADTEST=0
declare -A RATE=()
# fixed_rate DIR ID BASE PATH RATE ORACLE: `kbgate loadtest` at RATE requests/s on CPU 0.
fixed_rate() {
    local dir=$1 id=$2 base=$3 path=$4 rate=$5 oracle=$6 rc=0
    ((LOADTEST)) || return 0
    ((rate > 0)) || { FAILURES+=("$dir/$id: no rate for the fixed-rate pass"); return 0; }
    local args=(loadtest --target "$base" --path "$path" --header "$AUTH" --rate "$rate"
        --duration "${DURATION}s" --connections 64 --json)
    if ((oracle)); then
        args+=(--oracle-sample 1)
        local c
        while read -r c; do args+=(--canary "$c"); done <"$FX/canaries.txt"
    else
        args+=(--oracle-sample 0)
    fi
    echo "$rate" >"$dir/$id.fixed.rate"
    on_client timeout $((DURATION + 60)) "$KBGATE" "${args[@]}" >"$dir/$id.fixed.json" \
        2>"$dir/$id.fixed.err" || rc=$?
    echo "$rc" >"$dir/$id.fixed.rc"
    case $rc in
    0) log "  $id: fixed rate $rate/s done" ;;
    3) FAILURES+=("$dir/$id: LEAK reported by kbgate loadtest at $rate/s") ;;
    4)
        # Only timeouts: the server cannot sustain the rate (a figure, shown as "overloaded");
        # a 5xx, a connect or an I/O error is a failure.
        local hard
        hard=$(python3 -c 'import json, sys; e = json.load(open(sys.argv[1]))["errors"]; print(e["status"] + e["connect"] + e["io"])' \
            "$dir/$id.fixed.json" 2>/dev/null || echo unknown)
        if [[ $hard == 0 ]]; then
            log "  $id: fixed rate $rate/s: overloaded (timeouts only)"
        else
            FAILURES+=("$dir/$id: kbgate loadtest saw $hard errors that are not timeouts at $rate/s (see $id.fixed.json)")
        fi
        ;;
    *) FAILURES+=("$dir/$id: kbgate loadtest exited $rc at $rate/s (see $id.fixed.err)") ;;
    esac
}

run_config() {
    local dir=$1 line=$2 id server path group sut="" base
    IFS='|' read -r id _ server path _ group <<<"$line"
    case $server in
    direct) base="http://127.0.0.1:$UP_PORT" ;;
    nginx) start_proxy; sut=$STARTED; base="http://127.0.0.1:$PROXY_PORT" ;;
    kbgate) start_kbgate; sut=$STARTED; base="http://127.0.0.1:$KB_PORT" ;;
    hyper) start_hyper; sut=$STARTED; base="http://127.0.0.1:$HYPER_PORT" ;;
    esac
    measure "$dir" "$id" "$base$path" "$sut" 32
    if [[ $group != - ]]; then
        # Rate: half of the nginx proxy_pass maximum of this round, for this fixture.
        if [[ $server == nginx ]]; then
            RATE[$group]=$(awk -v r="$LAST_RPS" 'BEGIN { print int(r / 2) }')
        fi
        local oracle=0
        [[ $id == kbgate-filter* ]] && oracle=1
        fixed_rate "$dir" "$id" "$base" "$path" "${RATE[$group]:-0}" "$oracle"
    fi
    [[ -n $sut ]] && stop_pid "$sut"
    return 0
}

# ---------------------------------------------------------------- main
install_tools
build_kbgate
NPROC=$(nproc)
if ((NPROC >= 2)); then
    PIN=1 CLIENT_CPU=0 SERVER_CPU=1
else
    PIN=0 CLIENT_CPU=0 SERVER_CPU=0
    log "WARNING: $NPROC CPU: no pinning, figures are not comparable with the reference"
fi
CLK_TCK=$(getconf CLK_TCK)
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" || true

rm -rf "$FX" "$RUN" "$RAW"
mkdir -p "$FX" "$RUN" "$RAW"
read -r UP_PORT PROXY_PORT KB_PORT KB_ADMIN_PORT HYPER_PORT < <(free_ports)
log "ports: upstream $UP_PORT, nginx proxy $PROXY_PORT, kbgate $KB_PORT (admin $KB_ADMIN_PORT)"

python3 "$HERE/fixtures/gen.py" "$FX"
python3 "$HERE/fixtures/token.py" "$FX" "http://127.0.0.1:$UP_PORT/idp" kbgate-perf acme
AUTH="Authorization: Bearer $(cat "$FX/token")"
fill "$HERE/templates/kbgate.toml" "$RUN" off >"$RUN/kbgate.toml"
KBGATE_CONFLUENCE_TOKEN=perf-dummy-token "$KBGATE" check-config "$RUN/kbgate.toml" >/dev/null || die "check-config refused $RUN/kbgate.toml"

if "$KBGATE" loadtest --help >/dev/null 2>&1; then
    LOADTEST=1
else
    log "SKIPPING the fixed-rate pass: '$KBGATE loadtest --help' fails (no loadtest subcommand in this build)"
fi

{
    echo "nproc=$NPROC"
    echo "cpu_model=$(lscpu | awk -F': *' '/^Model name/ { print $2; exit }')"
    echo "kernel=$(uname -sr)"
    echo "nginx=$(nginx -v 2>&1 | sed 's/^nginx version: nginx\///')"
    echo "wrk=$(wrk -v 2>&1 | head -n 1 | awk '{ print $2 }')"
    echo "rustc=$(rustc -V 2>/dev/null || echo unknown)"
    echo "kbgate=$("$KBGATE" --version 2>/dev/null || echo unknown)"
    echo "commit=$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$REPO" diff --quiet HEAD 2>/dev/null || echo +dirty)"
    echo "pinned=$PIN"
    echo "rounds=$ROUNDS"
    echo "duration=$DURATION"
    echo "warmup=$WARMUP"
    echo "loadtest=$LOADTEST"
    echo "search25_bytes=$(stat -c %s "$FX/search-25.json")"
    echo "search200_bytes=$(stat -c %s "$FX/search-200.json")"
    echo "attachment_bytes=$(stat -c %s "$FX/wiki/download/attachments/1000000/manual.pdf")"
    echo "date=$(date -u +%Y-%m-%dT%H:%MZ)"
} >"$RAW/env"
printf '%s\n' "${CONFIGS[@]}" >"$RAW/configs"

# Correctness probe, with upstream's access log on: every path kbgate asks must be served.
log "correctness probe"
start_upstream "$RUN/upstream-access.log"
start_kbgate
python3 "$HERE/probe.py" "http://127.0.0.1:$KB_PORT" "http://127.0.0.1:$UP_PORT" "$FX" "$RAW/probe.json" >&2 ||
    die "correctness probe failed (a leak or a wrong answer): see above"
if ((LOADTEST)); then
    # The fixed-rate pass's leak oracle must see these canaries: straight from upstream it must
    # report a leak (exit 3).
    oracle_rc=0
    canary_args=()
    while read -r c; do canary_args+=(--canary "$c"); done <"$FX/canaries.txt"
    on_client timeout 60 "$KBGATE" loadtest --target "http://127.0.0.1:$UP_PORT" --path "$SEARCH25" \
        --requests 5 --warmup 0s --duration 5s --connections 1 --oracle-sample 1 --json --quiet \
        "${canary_args[@]}" >"$RAW/oracle-check.json" 2>&1 || oracle_rc=$?
    ((oracle_rc == 3)) || die "kbgate loadtest's leak oracle did not flag upstream's unfiltered answer (exit $oracle_rc, expected 3)"
    log "  leak oracle of kbgate loadtest: flags the unfiltered answer (exit 3), as it must"
fi
stop_pid "$STARTED"
stop_pid "$UP_PID"
awk '{ split($7, p, "?"); print $9, p[1] }' "$RUN/upstream-access.log" | sort | uniq -c |
    sed 's/^/  upstream saw: /' >&2
if awk '$9 != 200 { bad = 1 } END { exit !bad }' "$RUN/upstream-access.log"; then
    die "upstream answered non-200 to kbgate: the fixtures miss a path (see $RUN/upstream-access.log)"
fi

start_upstream off
if ((SERVE)); then
    start_proxy
    PROXY_PID=$STARTED
    start_kbgate
    KB_PID=$STARTED
    HYPER_PID=
    if [[ -x $HYPER_PASS ]]; then
        start_hyper
        HYPER_PID=$STARTED
    fi
    {
        echo "UP_PORT=$UP_PORT PROXY_PORT=$PROXY_PORT KB_PORT=$KB_PORT HYPER_PORT=$HYPER_PORT"
        echo "UP_PID=$UP_PID PROXY_PID=$PROXY_PID KB_PID=$KB_PID HYPER_PID=$HYPER_PID"
        echo "SEARCH25='$SEARCH25'"
        echo "SEARCH200='$SEARCH200'"
        echo "ATTACHMENT='$ATTACHMENT'"
        echo "TOKEN_FILE='$FX/token'"
        echo "CLIENT_CPU=$CLIENT_CPU SERVER_CPU=$SERVER_CPU PIN=$PIN"
    } >"$OUT/serve.env"
    log "--serve: upstream :$UP_PORT, nginx proxy :$PROXY_PORT, kbgate :$KB_PORT, hyper floor :${HYPER_PID:+$HYPER_PORT}; see $OUT/serve.env"
    exit 0
fi
for ((round = 1; round <= ROUNDS; round++)); do
    log "round $round of $ROUNDS"
    mkdir -p "$RAW/round-$round"
    RATE=()
    for line in "${CONFIGS[@]}"; do
        run_config "$RAW/round-$round" "$line"
    done
done

log "memory: 1000 connections"
mkdir -p "$RAW/memory"
start_kbgate
measure "$RAW/memory" kbgate-filter-25 "http://127.0.0.1:$KB_PORT$SEARCH25" "$STARTED" 1000
stop_pid "$STARTED"
start_proxy
measure "$RAW/memory" nginx-25 "http://127.0.0.1:$PROXY_PORT$SEARCH25" "$STARTED" 1000
stop_pid "$STARTED"

python3 "$HERE/report.py" "$RAW" "$OUT/compare.md" "$OUT/compare.json"
cat "$OUT/compare.md"

if ((KEEP)); then
    start_proxy
    start_kbgate
    log "--keep: upstream http://127.0.0.1:$UP_PORT, nginx proxy http://127.0.0.1:$PROXY_PORT, kbgate http://127.0.0.1:$KB_PORT"
    log "--keep: token in $FX/token; configs and logs in $RUN"
fi
if ((${#FAILURES[@]})); then
    printf 'FAILED: %s\n' "${FAILURES[@]}" >&2
    exit 1
fi
log "done: $OUT/compare.md, $OUT/compare.json"
