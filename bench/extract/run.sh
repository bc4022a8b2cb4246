#!/usr/bin/env bash
# bench/extract/run.sh [maildir|doc]...: onboarding throughput (documents/s and
# MB/s) on (a) the SpamAssassin corpus as a maildir and (b) a copy of
# /usr/share/doc, against recollindex (Debian's recoll, default
# configuration, a private RECOLL_CONFDIR) on the same data in the same run,
# and against two lower bounds on the same data: reading every byte (cat) and
# inserting the raw texts (gzip undone) into a bare FTS5 table in one
# transaction (bench/extract/fts5_bound.py).
#
# "documents" are the input files (messages of the maildir, files of the doc
# tree), the same count for every contender; trawl's own document count
# (attachments, parts) is reported beside it. Every contender runs on a warm
# page cache (a cat pass goes first). Results: bench/extract/out/report.txt
# and report.json. TRAWL_BENCH_REPEAT=N keeps the best of N runs (default 1).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${BUILD:-$root/build-bench}
sets=("$@")
[ ${#sets[@]} -eq 0 ] && sets=(maildir doc)
repeat=${TRAWL_BENCH_REPEAT:-1}

command -v recollindex >/dev/null || { echo "bench/extract: recollindex is missing (scripts/install-deps)" >&2; exit 1; }
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j"$(nproc)" --target trawl >/dev/null
trawl=$build/src/trawl

out=$(mktemp -d "${TMPDIR:-/tmp}/trawl-bench-extract.XXXXXX")
trap 'rm -rf "$out"' EXIT
mkdir -p "$here/out"

# best-of-N wall time of a command (a function of this script or a program):
# prints "WALL CPU" in seconds, CPU being user + system of it and its children
# (the machine may be shared: CPU time is the steadier figure)
timeit() {
    local best="" cpu="" w c
    for _ in $(seq "$repeat"); do
        /usr/bin/time -f '%e %U %S' -o "$out/time" bash -c '"$@"' _ "$@" >"$out/last.out" 2>"$out/last.err" ||
            { cat "$out/last.err" >&2; return 1; }
        read -r w u s <"$out/time"
        c=$(echo "$u + $s" | bc -l)
        if [ -z "$best" ] || [ "$(echo "$w < $best" | bc -l)" = 1 ]; then best=$w; fi
        if [ -z "$cpu" ] || [ "$(echo "$c < $cpu" | bc -l)" = 1 ]; then cpu=$c; fi
    done
    echo "$best $cpu"
}

prepare() {
    case $1 in
    maildir)
        local data
        data=$("$root/scripts/fetch-corpus" spam-assassin)
        python3 "$here/maildir.py" "$data" "$out/maildir" >/dev/null
        echo "$out/maildir"
        ;;
    doc)
        mkdir -p "$out/doc"
        cp -a /usr/share/doc/. "$out/doc/"
        echo "$out/doc"
        ;;
    esac
}

catall() { find "$1" -type f -print0 | xargs -0 cat >/dev/null; }

recoll_run() { # DATA CONFDIR
    rm -rf "$2"
    mkdir -p "$2"
    printf 'topdirs = %s\n' "$1" >"$2/recoll.conf"
    RECOLL_CONFDIR=$2 recollindex -c "$2" -z
}

trawl_run() { # TYPE DATA DB
    rm -f "$3" "$3"-*
    printf '{"sources": [{"name": "data", "type": "%s", "path": "%s"}]}\n' "$1" "$2" >"$out/sources.json"
    # --structurers 0: Recoll and the bounds do not build a taxonomy (bench/structure does)
    "$trawl" --db "$3" onboard bench "$out/sources.json" --structurers 0 --json
}
fts5_bound() { python3 "$here/fts5_bound.py" "$@"; }
export -f catall recoll_run trawl_run fts5_bound
export trawl out here

printf '%-8s %-12s %6s %8s %8s %8s %7s %9s %9s\n' set contender docs wall_s docs/s MB/s cpu_s "wall/trawl" "cpu/trawl" |
    tee "$here/out/report.txt"
json="["
for set in "${sets[@]}"; do
    data=$(prepare "$set")
    files=$(find "$data" -type f | wc -l)
    bytes=$(find "$data" -type f -printf '%s\n' | awk '{s += $1} END {print s}')
    catall "$data"
    t_cat=$(timeit catall "$data")
    t_fts=$(timeit fts5_bound "$data" "$out/fts.db")
    t_rec=$(timeit recoll_run "$data" "$out/recoll")
    rec_docs=$(sed -n 's/^dbtotdocs = //p' "$out/recoll/idxstatus.txt")
    type=folder
    [ "$set" = maildir ] && type=maildir
    t_trawl=$(timeit trawl_run "$type" "$data" "$out/trawl.db")
    cp "$out/last.out" "$here/out/trawl-$set.json"
    trawl_docs=$(sqlite3 "$out/trawl.db" "select count(*) from documents where deleted = 0")
    trawl_err=$(sqlite3 "$out/trawl.db" "select count(*) from documents where json_extract(metadata, '\$.extract_error') is not null")
    trawl_text=$(sqlite3 "$out/trawl.db" "select count(*) from documents where length(text) > 0")
    for row in "cat:$t_cat" "fts5-bound:$t_fts" "recollindex:$t_rec" "trawl:$t_trawl"; do
        name=${row%%:*} t=${row#*:}
        w=${t% *} c=${t#* }
        printf '%-8s %-12s %6d %8.2f %8.1f %8.1f %7.2f %9.2fx %8.2fx\n' "$set" "$name" "$files" "$w" \
            "$(echo "$files / $w" | bc -l)" "$(echo "$bytes / 1048576 / $w" | bc -l)" "$c" \
            "$(echo "$w / ${t_trawl% *}" | bc -l)" "$(echo "$c / ${t_trawl#* }" | bc -l)" |
            tee -a "$here/out/report.txt"
        json+=$(printf '{"set":"%s","contender":"%s","docs":%d,"bytes":%d,"wall_s":%.3f,"cpu_s":%.3f},' \
            "$set" "$name" "$files" "$bytes" "$w" "$c")
    done
    printf '%-8s trawl stored %s documents (%s with text, %s with an extract_error); recoll indexed %s\n' \
        "$set" "$trawl_docs" "$trawl_text" "$trawl_err" "${rec_docs:-?}" | tee -a "$here/out/report.txt"
    printf '%-8s trawl: %.1fx recollindex docs/s (target %s; CPU %.1fx), %.2fx the bare-FTS5 time (target <= 2; CPU %.2fx)\n' \
        "$set" "$(echo "${t_rec% *} / ${t_trawl% *}" | bc -l)" "$([ "$set" = maildir ] && echo '>= 3' || echo '>= 10')" \
        "$(echo "${t_rec#* } / ${t_trawl#* }" | bc -l)" \
        "$(echo "${t_trawl% *} / ${t_fts% *}" | bc -l)" "$(echo "${t_trawl#* } / ${t_fts#* }" | bc -l)" |
        tee -a "$here/out/report.txt"
    rm -rf "$data" "$out/recoll" "$out/trawl.db"* "$out/fts.db"
done
echo "${json%,}]" >"$here/out/report.json"
