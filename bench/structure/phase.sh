#!/usr/bin/env bash
# Structure-phase throughput on many small records: a full onboarding of the
# paged JSON API of tests/http/fakeapi.py (N records, default 20000, like
# bench/http) with --structurers 0 (explore only, the baseline in the same
# run) and with --structurers K for each K in KS (default "1 2"). Reports per
# round the whole onboarding (wall and CPU seconds, user+system), the structure
# phase (wall, docs/s) and its steps from the log, then the best of ROUNDS
# (default 3) and the load average.
#
#   bench/structure/phase.sh [BUILD_DIR] [RECORDS]      BUILD_DIR: build-bench
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:-$ROOT/build-bench}
N=${2:-20000}
ROUNDS=${ROUNDS:-3}
KS=${KS:-"1 2"}
if [ "$BUILD" = "$ROOT/build-bench" ]; then
    cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null
    cmake --build "$BUILD" --target trawl -j "$(nproc)" >/dev/null
fi
TRAWL=$BUILD/src/trawl
W=$(mktemp -d)
trap 'kill $SERVER 2>/dev/null; rm -rf "$W"' EXIT
python3 "$ROOT/tests/http/fakeapi.py" "$W/port" "$W" 2>/dev/null &
SERVER=$!
for _ in $(seq 100); do [ -s "$W/port" ] && break; sleep 0.1; done
B=http://127.0.0.1:$(cat "$W/port")
cat >"$W/sources.json" <<JSON
{"client": "bench", "sources": [{"name": "api", "type": "paged", "url": "$B", "n": $N}]}
JSON
now() { date +%s.%N; }
min() { awk -v x="$1" -v y="$2" 'BEGIN {print (y + 0 < x + 0) ? y : x}'; }
declare -A best_all best_phase best_cpu
for round in $(seq 1 "$ROUNDS"); do
    for k in 0 $KS; do
        rm -f "$W"/bench.db*
        curl -s -XPOST "$B/__control" -d '{"clear": 1}' >/dev/null
        t0=$(now)
        TRAWL_CONNECTORS=$ROOT/tests/http/connectors TRAWL_DB=$W/bench.db TMPDIR=$W \
            /usr/bin/time -f "%U %S" -o "$W/cpu" \
            "$TRAWL" onboard bench "$W/sources.json" --structurers "$k" >/dev/null 2>"$W/log$k"
        t1=$(now)
        all=$(echo "$t1 - $t0" | bc -l)
        cpu=$(awk '{print $1 + $2}' "$W/cpu")
        docs=$(sqlite3 "$W/bench.db" "SELECT count(*) FROM documents")
        entries=$(sqlite3 "$W/bench.db" "SELECT count(*) FROM knowledge_entries")
        ph=$(sed -n 's/.*structured [0-9]* documents in \([0-9.]*\) s.*/\1/p' "$W/log$k")
        ph=${ph:-0}
        printf 'round %d --structurers %d: onboarding %6.2f s (%6.2f s CPU), %d docs, %d entries' \
            "$round" "$k" "$all" "$cpu" "$docs" "$entries"
        if [ "$k" != 0 ]; then
            printf ' | structure phase %6.2f s = %6.0f docs/s\n' "$ph" "$(echo "$docs / $ph" | bc -l)"
            sed -n 's/^trawl: \([a-z ,-]*\): \([0-9.]* s (.*CPU)\)$/      \1 \2/p; s/^trawl: \([0-9]* structurers analysed.*\)/      \1/p' "$W/log$k"
        else
            printf '\n'
        fi
        best_all[$k]=$(min "${best_all[$k]:-999999}" "$all")
        best_cpu[$k]=$(min "${best_cpu[$k]:-999999}" "$cpu")
        best_phase[$k]=$(min "${best_phase[$k]:-999999}" "$ph")
    done
done
for k in 0 $KS; do
    if [ "$k" = 0 ]; then
        printf 'best of %d, --structurers 0: onboarding %.2f s (%.2f s CPU)\n' "$ROUNDS" "${best_all[0]}" "${best_cpu[0]}"
    else
        printf 'best of %d, --structurers %d: onboarding %.2f s (%.2f s CPU), structure phase %.2f s = %.0f docs/s, onboarding over --structurers 0: +%.2f s\n' \
            "$ROUNDS" "$k" "${best_all[$k]}" "${best_cpu[$k]}" "${best_phase[$k]}" \
            "$(echo "$N / ${best_phase[$k]}" | bc -l)" "$(echo "${best_all[$k]} - ${best_all[0]}" | bc -l)"
    fi
done
echo "load average (1, 5, 15 min): $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs"
