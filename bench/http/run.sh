#!/usr/bin/env bash
# bench/http: records per second through the http driver (trawl onboard of a
# paged JSON API, 100 records a page, every record stored as a document)
# against the same pages fetched by curl in a shell loop, on the same local
# server in the same run. Usage: bench/http/run.sh [BUILD_DIR] [RECORDS]
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:-$ROOT/build}
N=${2:-20000}
TRAWL=$BUILD/src/trawl
W=$(mktemp -d)
trap 'kill $SERVER 2>/dev/null; rm -rf "$W"' EXIT
python3 "$ROOT/tests/http/fakeapi.py" "$W/port" "$W" 2>/dev/null &
SERVER=$!
for _ in $(seq 100); do [ -s "$W/port" ] && break; sleep 0.1; done
B=http://127.0.0.1:$(cat "$W/port")
PAGES=$(( (N + 99) / 100 ))
now() { date +%s.%N; }

# Rounds alternate the baseline and the driver so both see the same machine load;
# the median ratio is reported, with CPU seconds (user + system, load-independent).
ROUNDS=${ROUNDS:-3}
cat >"$W/sources.json" <<JSON
{"client": "bench", "sources": [{"name": "api", "type": "paged", "url": "$B", "n": $N}]}
JSON
cat >"$W/curl-loop.sh" <<SH
for p in \$(seq 1 $PAGES); do curl -sf "$B/budget/items?n=$N&per_page=100&page=\$p" >"$W/page.json"; done
SH
ratios=""
for round in $(seq 1 "$ROUNDS"); do
    # baseline: curl, one process per page, as a shell script would do it
    t0=$(now)
    /usr/bin/time -f "%U %S" -o "$W/curl.cpu" bash "$W/curl-loop.sh"
    t1=$(now)
    curl_s=$(echo "$t1 - $t0" | bc -l)
    curl_cpu=$(awk '{print $1 + $2}' "$W/curl.cpu")
    # the driver: a full onboarding (list pages, which carry the records' contents;
    # extract; store); --structurers 0: the structure phase that follows is not the driver's work
    # (bench/structure measures it)
    rm -f "$W"/bench.db*
    curl -s -XPOST "$B/__control" -d '{"clear": 1}' >/dev/null
    t0=$(now)
    TRAWL_CONNECTORS=$ROOT/tests/http/connectors TRAWL_DB=$W/bench.db TMPDIR=$W \
        /usr/bin/time -f "%U %S" -o "$W/trawl.cpu" \
        "$TRAWL" onboard bench "$W/sources.json" --structurers 0 --json >"$W/run.json" 2>"$W/err"
    t1=$(now)
    trawl_s=$(echo "$t1 - $t0" | bc -l)
    trawl_cpu=$(awk '{print $1 + $2}' "$W/trawl.cpu")
    docs=$(sqlite3 "$W/bench.db" "SELECT count(*) FROM documents")
    reqs=$(curl -s "$B/__stats" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["log"]))')
    r=$(echo "$curl_s / $trawl_s" | bc -l)
    ratios="$ratios $r"
    printf 'round %d: curl loop %6.2f s (%5.2f s CPU) %7.0f rec/s | trawl %6.2f s (%5.2f s CPU) %7.0f rec/s | %.2f x\n' \
        "$round" "$curl_s" "$curl_cpu" "$(echo "$N / $curl_s" | bc -l)" "$trawl_s" "$trawl_cpu" \
        "$(echo "$N / $trawl_s" | bc -l)" "$r"
done

# the budget held exactly: 5 requests per 0.2 s over 40 pages
cat >"$W/budget.json" <<JSON
{"client": "bench", "sources": [{"name": "b", "type": "paged", "url": "$B", "n": 4000, "rate": {"requests": 5, "window_s": 0.2}}]}
JSON
curl -s -XPOST "$B/__control" -d '{"clear": 1}' >/dev/null
TRAWL_CONNECTORS=$ROOT/tests/http/connectors TRAWL_DB=$W/budget.db TMPDIR=$W \
    "$TRAWL" onboard bench "$W/budget.json" >/dev/null 2>&1
tight=$(curl -s "$B/__stats" | python3 -c '
import json, sys
t = sorted(json.load(sys.stdin)["times"]["/budget"])
print("%.3f" % min(t[i + 5] - t[i] for i in range(len(t) - 5)))')

printf 'records %d in %d pages (documents stored: %d, driver requests: %d)\n' "$N" "$PAGES" "$docs" "$reqs"
printf 'median ratio trawl/curl over %d rounds: %.2f x (per record, wall time)\n' "$ROUNDS" \
    "$(echo $ratios | tr ' ' '\n' | sort -g | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}')"
printf 'budget 5 per 0.2 s: tightest 6 consecutive requests spanned %s s (>= 0.2 means held)\n' "$tight"
