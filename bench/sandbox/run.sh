#!/bin/sh
# bench/sandbox: spawn-to-ready latency, syscall loop and private memory per
# idle child for plain fork, the trawl sandbox (all layers) and bwrap.
# Usage: bench/sandbox/run.sh [repetitions [children alive]]   (defaults 100 100)
set -e
root=$(cd "$(dirname "$0")/../.." && pwd)
[ -f "$root/build/sandbox/libtrawl_sandbox.a" ] || "$root/scripts/build" build >/dev/null
cmake --build "$root/build" --target trawl_sandbox >/dev/null
out="$root/build/bench-sandbox"
cc -O2 -std=gnu11 -Wall -Wextra -I"$root/sandbox" -o "$out" "$root/bench/sandbox/sandbox_bench.c" \
   "$root/build/sandbox/libtrawl_sandbox.a" $(pkg-config --libs libseccomp)
exec "$out" "${1:-100}" "${2:-100}"
