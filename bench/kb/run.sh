#!/bin/sh
# Builds kb_bench (Release) and runs it: loads N entries of real text into a
# trawl knowledge base and into a plain FTS5 table through the sqlite3 shell,
# then times subtree-scoped and forum searches. Prints a report and writes it
# as JSON to bench/kb/out/kb-bench-N.json.
#
#   bench/kb/run.sh [--entries N] [--forum N] [--queries N] [--order random|tree] [--keep]
#
# --entries 20000 is a smoke run of well under a minute; the default 1,000,000
# takes about ten minutes on two cores and needs ~4 GB of disk in bench/kb/out
# (or in --work DIR). BUILD_DIR overrides the build directory (build-bench).
set -eu

root=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD_DIR:-$root/build-bench}

case " $* " in
*" --help "* | *" -h "*)
    ;;
*)
    if ! command -v sqlite3 >/dev/null 2>&1; then
        echo "run.sh: the sqlite3 shell is needed for the baseline: apt-get install sqlite3" >&2
        exit 1
    fi
    ;;
esac

cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" --target kb_bench -j "$(nproc)" >/dev/null
cd "$root"
exec "$build/bench/kb/kb_bench" --out "$root/bench/kb/out" "$@"
