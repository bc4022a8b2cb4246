#!/usr/bin/env bash
# bench/pipeline/run.sh [CALLS]: brokered tool calls/s with 1, 10 and 100
# explorers and the per-source overhead, against in-process calls.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${BUILD:-$root/build-bench}
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j"$(nproc)" --target pipeline_bench >/dev/null
out=$(mktemp -d "${TMPDIR:-/tmp}/trawl-bench-pipeline.XXXXXX")
trap 'rm -rf "$out"' EXIT
mkdir -p "$here/out"
"$build/bench/pipeline/pipeline_bench" "$out" "${1:-20000}" | tee "$here/out/report.txt"
tail -n 1 "$here/out/report.txt" >"$here/out/report.json"
