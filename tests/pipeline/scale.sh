#!/usr/bin/env bash
# 200 folder sources in one run with --jobs 64: all complete, every document once.
. "$(dirname "$0")/../cli/lib.sh" "$@"

printf '{"client":"scale","sources":[' >sources.json
for i in $(seq 1 200); do
    mkdir -p s$i/sub
    for k in 1 2 3; do printf 'source %d file %d text\n' "$i" "$k" >s$i/f$k.txt; done
    printf 'nested %d\n' "$i" >s$i/sub/n.txt
    [ "$i" -gt 1 ] && printf ',' >>sources.json
    printf '{"name":"s%d","type":"folder","path":"%s/s%d"}' "$i" "$SCRATCH" "$i" >>sources.json
done
printf ']}\n' >>sources.json

run onboard scale sources.json --jobs 64 --json
is "$RC" 0 "200 sources onboard"
jq_ok '.sources_ok == 200 and .sources_failed == 0' "all 200 sources ok"
is "$(sqlite3 "$TRAWL_DB" 'select count(*) from documents')" 800 "800 documents"
is "$(sqlite3 "$TRAWL_DB" 'select count(distinct source_id || external_id) from documents')" 800 "each exactly once"
is "$(sqlite3 "$TRAWL_DB" 'select count(*) from knowledge_entries')" 800 "each placed once"
done_testing
