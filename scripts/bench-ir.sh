#!/usr/bin/env bash
# Instructions per filtered response, counted by valgrind (deterministic, unlike time on a shared
# VM): research/performance.md G5/G6. Builds examples/filter_ir in release, runs each fixture for
# N and N+20 iterations under callgrind, and reports (Ir(N+20) - Ir(N)) / 20, per byte too, and
# the 200/25 ratio against the byte ratio (linearity).
#
#   scripts/bench-ir.sh            # report
#   scripts/bench-ir.sh --check    # also fail when a fixture exceeds its budget in BUDGETS below
set -euo pipefail
cd "$(dirname "$0")/.."

# Budgets in Ir per response: the figures measured on 2026-12-08 after breadcrumbs went through
# the scan memo and referenced ids dropped repeats early (355,119 / 2,636,039 / 627,574 /
# 1,887,410) plus 5% (libc picks its memcpy/memchr by CPU, so another machine's count differs a
# little). `search25-distinct` repeats no sub-object between results, the memo's worst case.
# Lower them when the filter gets faster.
declare -A BUDGETS=([search25]=373000 [search200]=2768000 [search25-distinct]=659000 [content200k]=1982000)

check=false
[[ "${1:-}" == "--check" ]] && check=true

command -v valgrind >/dev/null || {
    echo "bench-ir: installing valgrind (Debian)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq valgrind >/dev/null
}
cargo build --release --quiet --locked --example filter_ir
bin=target/release/examples/filter_ir

ir() { # fixture iterations -> total Ir
    valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bin" "$1" "$2" 2>&1 |
        awk '/refs:/ {gsub(",", "", $4); print $4}'
}

declare -A per_response bytes
failed=0
for fixture in search25 search200 search25-distinct content200k; do
    low=$(ir "$fixture" 2)
    high=$(ir "$fixture" 22)
    per_response[$fixture]=$(((high - low) / 20))
    bytes[$fixture]=$("$bin" "$fixture" 1 | awk '/^bytes/ {print $2}')
    per_byte=$(awk -v i="${per_response[$fixture]}" -v b="${bytes[$fixture]}" 'BEGIN {printf "%.1f", i / b}')
    budget=${BUDGETS[$fixture]}
    verdict="within budget $budget"
    if ((per_response[$fixture] > budget)); then
        verdict="OVER budget $budget"
        failed=1
    fi
    printf '%-18s %9d bytes  %10d Ir/response  %5s Ir/byte  (%s)\n' \
        "$fixture" "${bytes[$fixture]}" "${per_response[$fixture]}" "$per_byte" "$verdict"
done
awk -v i25="${per_response[search25]}" -v i200="${per_response[search200]}" \
    -v b25="${bytes[search25]}" -v b200="${bytes[search200]}" \
    'BEGIN {printf "linearity    Ir ratio 200/25 = %.2f against byte ratio %.2f (%+.1f%%)\n", i200 / i25, b200 / b25, (i200 / i25) / (b200 / b25) * 100 - 100}'
if $check && ((failed)); then
    echo "bench-ir: a fixture is over its instruction budget" >&2
    exit 1
fi
