#!/bin/sh
# Structure-phase benchmark: clustering quality (purity, NMI) of trawl's
# text pipeline against raw tokens and random groups on a generated labelled
# corpus, and per-document structurer throughput with K=1 vs K=2 processes.
#
#   bench/structure/run.sh [--docs N] [--topics 2..6] [--noise PCT] [--words W]
#
# BUILD_DIR overrides the build directory (build-bench).
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD_DIR:-$root/build-bench}
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" --target structure_bench -j "$(nproc)" >/dev/null
exec "$build/bench/structure/structure_bench" "$@"
