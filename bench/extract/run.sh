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

now() { date +%s.%N; }
# best-of-N wall time of a command, in seconds
timeit() {
    local best="" t0 t1 t
    for _ in $(seq "$repeat"); do
        [ -n "${BEFORE:-}" ] && eval "$BEFORE"
        t0=$(now)
        "$@" >"$out/last.out" 2>"$out/last.err" || { cat "$out/last.err" >&2; return 1; }
        t1=$(now)
        t=$(echo "$t1 - $t0" | bc -l)
        if [ -z "$best" ] || [ "$(echo "$t < $best" | bc -l)" = 1 ]; then best=$t; fi
    done
    echo "$best"
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
    "$trawl" --db "$3" onboard bench "$out/sources.json" --json
}

printf '%-8s %-14s %8s %9s %9s %8s %9s\n' set contender docs seconds docs/s MB/s "t/t_trawl" | tee "$here/out/report.txt"
json="["
for set in "${sets[@]}"; do
    data=$(prepare "$set")
    files=$(find "$data" -type f | wc -l)
    bytes=$(find "$data" -type f -printf '%s\n' | awk '{s += $1} END {print s}')
    catall "$data"
    t_cat=$(timeit catall "$data")
    t_fts=$(timeit python3 "$here/fts5_bound.py" "$data" "$out/fts.db")
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
        dps=$(echo "$files / $t" | bc -l)
        mbs=$(echo "$bytes / 1048576 / $t" | bc -l)
        ratio=$(echo "$t / $t_trawl" | bc -l)
        printf '%-8s %-14s %8d %9.2f %9.1f %8.1f %8.2fx\n' "$set" "$name" "$files" "$t" "$dps" "$mbs" "$ratio" |
            tee -a "$here/out/report.txt"
        json+=$(printf '{"set":"%s","contender":"%s","docs":%d,"bytes":%d,"seconds":%.3f},' \
            "$set" "$name" "$files" "$bytes" "$t")
    done
    printf '%-8s trawl stored %s documents (%s with text, %s with an extract_error); recoll indexed %s\n' \
        "$set" "$trawl_docs" "$trawl_text" "$trawl_err" "${rec_docs:-?}" | tee -a "$here/out/report.txt"
    printf '%-8s trawl is %.1fx recollindex docs/s (target %s), %.2fx the bare-FTS5 time (target <= 2)\n' \
        "$set" "$(echo "$t_rec / $t_trawl" | bc -l)" "$([ "$set" = maildir ] && echo '>= 3' || echo '>= 10')" \
        "$(echo "$t_trawl / $t_fts" | bc -l)" | tee -a "$here/out/report.txt"
    rm -rf "$data" "$out/recoll" "$out/trawl.db"* "$out/fts.db"
done
echo "${json%,}]" >"$here/out/report.json"
