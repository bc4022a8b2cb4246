#!/bin/sh
# Structure-phase benchmark.
#  1. structure_bench: clustering quality (purity, NMI) of trawl's text
#     pipeline against raw tokens and random groups on a generated labelled
#     corpus, and per-document work with K=1 vs K=2 processes.
#  2. trawl onboard --structurers 1 vs 2 on a generated corpus of N files:
#     the structure phase's own time (from the log), and the ratio.
#
#   bench/structure/run.sh [--docs N] [--topics 2..6] [--noise PCT] [--words W] [--files N]
#
# BUILD_DIR overrides the build directory (build-bench).
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD_DIR:-$root/build-bench}
files=6000
args=""
while [ $# -gt 0 ]; do
    case $1 in
    --files) files=$2; shift 2 ;;
    *) args="$args $1"; shift ;;
    esac
done
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" --target structure_bench trawl -j "$(nproc)" >/dev/null
# shellcheck disable=SC2086
"$build/bench/structure/structure_bench" $args

work=$(mktemp -d "${TMPDIR:-/tmp}/trawl-sbench.XXXXXX")
trap 'rm -rf "$work"' EXIT
python3 - "$work/corpus" "$files" <<'PY'
import os, random, sys
d, n = sys.argv[1], int(sys.argv[2])
random.seed(3)
topics = [w.split() for w in (
    "payroll salary payslip overtime pension deduction employee wage bonus tax",
    "server cluster kubernetes deployment container latency outage database backup firewall",
    "invoice supplier payment purchase order ledger account refund credit receipt",
    "customer complaint ticket support warranty delivery return product feedback escalation")]
shared = "meeting please team update week attached review report thanks monday".split()
for i in range(n):
    t = topics[i % 4]
    sub = f"{d}/box{i % 7}"
    os.makedirs(sub, exist_ok=True)
    words = [random.choice(t if random.random() < 0.5 else shared) for _ in range(300)]
    text = ". ".join(" ".join(words[k:k + 15]).capitalize() for k in range(0, 300, 15)) + "."
    open(f"{sub}/n{i}.txt", "w").write(text)
PY
printf '{"client":"bench","sources":[{"name":"c","type":"folder","path":"%s"}]}\n' "$work/corpus" >"$work/s.json"
for k in 1 2; do
    "$build/src/trawl" --db "$work/k$k.db" onboard bench "$work/s.json" --structurers $k 2>"$work/log$k" >/dev/null
    t=$(sed -n 's/.*structured [0-9]* documents in \([0-9.]*\) s.*/\1/p' "$work/log$k")
    echo "trawl onboard --structurers $k: structure phase $t s for $files documents"
    eval "t$k=$t"
done
"$build/src/trawl" --db "$work/k1.db" export bench | grep -v '"kind":"run"' | grep -v forum >"$work/e1"
"$build/src/trawl" --db "$work/k2.db" export bench | grep -v '"kind":"run"' | grep -v forum >"$work/e2"
if cmp -s "$work/e1" "$work/e2"; then same=yes; else same=no; fi
awk -v a="$t1" -v b="$t2" -v s="$same" 'BEGIN {printf "structure phase speed-up K=2 vs K=1: %.2f (same tree: %s)\n", a / b, s}'
