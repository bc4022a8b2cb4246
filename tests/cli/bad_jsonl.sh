#!/usr/bin/env bash
# Malformed JSONL: the message names the file, the line and the problem, and
# nothing of the file is imported (one transaction).
. "$(dirname "$0")/lib.sh" "$@"

DB=$SCRATCH/kb.db
export TRAWL_DB=$DB
FIX=$DATA/acme.jsonl
import_fixture "$DB" acme "$FIX"

# Six good lines that would change the KB: a new source, node, document and
# linked entry, an update of an existing entry and a global forum post.
cat >prefix.jsonl <<'JSONL'
{"kind":"source","name":"contracts","type":"folder","config":{"root":"/srv/contracts"}}
{"kind":"node","path":"legal","title":"Legal","summary":"Contracts and compliance."}
{"kind":"document","source":"contracts","external_id":"nda.pdf","title":"Standard NDA","text":"Confidentiality lasts five years."}
{"kind":"entry","path":"legal/contracts/nda","title":"NDA term","body":"Mutual NDAs last five years after signature.","documents":[{"source":"contracts","external_id":"nda.pdf"}]}
{"kind":"entry","key":"canary","path":"engineering/deployment/releases","title":"Canary before promotion","body":"CHANGED: the canary now runs for two hours."}
{"kind":"forum","agent":"explorer-contracts","source_type":"folder","phase":"explore","title":"Signed NDAs are scanned attachments","body":"Every signed NDA is a scanned attachment.","global":true}
JSONL

snapshot()
{
    {
        "$TRAWL" export acme
        "$TRAWL" runs --json | jq -c '[.runs[] | [.id, .client, .status]]'
        "$TRAWL" forum search 'attachments OR nda' --limit 1000 --json | jq -c '[.hits[].id]'
        "$TRAWL" tree acme
    } 2>&1
}
BASE=$(snapshot)
isnt "$(echo "$BASE" | wc -l)" 0 "baseline snapshot taken"

# The prefix alone is valid and changes the KB, so a rollback is observable.
cp prefix.jsonl good.jsonl
run --db "$SCRATCH/check.db" import acme "$FIX"
run --db "$SCRATCH/check.db" import acme good.jsonl
is "$RC" 0 "the six-line prefix imports on its own"
is "$("$TRAWL" --db "$SCRATCH/check.db" search acme canary --json | jq -r '.hits[0].snippet')" \
    "CHANGED: the **canary** now runs for two hours." "the prefix updates an existing entry"

N=0
# bad DESC REGEX LINE: prefix + LINE as line 7; import must fail naming file:7 and REGEX.
bad()
{
    local desc=$1 re=$2 line=$3 f
    N=$((N + 1))
    f=bad$N.jsonl
    { cat prefix.jsonl; printf '%s\n' "$line"; } >"$f"
    expect_fail 1 "^trawl: $f:7: $re.*; nothing was imported$" "$desc: exit 1, '$f:7:' and the reason" import acme "$f"
    is "$(snapshot)" "$BASE" "$desc: nothing was imported (export, runs, forum and tree unchanged)"
}

bad "invalid JSON" "column [0-9]+: invalid JSON" '{"kind":"node","path":"legal"'
bad "trailing garbage" "column [0-9]+: invalid JSON" '{"kind":"node","path":"legal"} x'
bad "duplicate field" "column [0-9]+: invalid JSON: duplicate object key" '{"kind":"node","path":"legal","path":"ops"}'
bad "invalid UTF-8" "column [0-9]+: invalid JSON" $'{"kind":"node","path":"legal","title":"\xff\xfe"}'
bad "an array line" "a line must hold a JSON object" '["node","legal"]'
bad "no kind" "field 'kind' is missing or not a string" '{"path":"legal"}'
bad "numeric kind" "field 'kind' is missing or not a string" '{"kind":3,"path":"legal"}'
bad "unknown kind" "unknown kind 'widget' \(known: source, node, document, entry, forum, trawl-export\)" \
    '{"kind":"widget","name":"w"}'
bad "wrong header version" "unsupported trawl-export version" '{"kind":"trawl-export","version":2,"client":"acme"}'
bad "node title a number" "node: field 'title' must be a string" '{"kind":"node","path":"legal","title":42}'
bad "source without name" "source: field 'name' is required" '{"kind":"source","type":"folder"}'
bad "source config a string" "source: field 'config' must be an object" '{"kind":"source","name":"s","type":"folder","config":"x"}'
bad "unknown node field" "node: unknown field 'colour'" '{"kind":"node","path":"legal","colour":"red"}'
bad "unknown entry field" "entry: unknown field 'tags'" '{"kind":"entry","path":"legal","title":"t","body":"b","tags":["x"]}'
bad "entry without body" "entry: field 'body' is required" '{"kind":"entry","path":"legal","title":"t"}'
bad "entry body null" "entry: field 'body' is required" '{"kind":"entry","path":"legal","title":"t","body":null}'
bad "entry documents a string" "entry: field 'documents' must be an array" \
    '{"kind":"entry","path":"legal","title":"t","body":"b","documents":"nda.pdf"}'
bad "entry document ref malformed" "entry: each of 'documents' must be" \
    '{"kind":"entry","path":"legal","title":"t","body":"b","documents":[{"source":"contracts"}]}'
bad "entry metadata an array" "entry: field 'metadata' must be an object" \
    '{"kind":"entry","path":"legal","title":"t","body":"b","metadata":[1]}'
bad "entry linking a missing document" "entry: document reference 'missing.pdf' in source 'contracts' does not exist" \
    '{"kind":"entry","path":"legal","title":"t","body":"b","documents":[{"source":"contracts","external_id":"missing.pdf"}]}'
bad "entry linking an unknown source" "entry: document reference names unknown source 'nosuch'" \
    '{"kind":"entry","path":"legal","title":"t","body":"b","documents":[{"source":"nosuch","external_id":"x"}]}'
bad "document of an unknown source" "document: unknown source 'nosuch': a source line must come first" \
    '{"kind":"document","source":"nosuch","external_id":"x"}'
bad "document deleted a string" "document: field 'deleted' must be true or false" \
    '{"kind":"document","source":"contracts","external_id":"x","deleted":"yes"}'
bad "NUL in a string" "(column [0-9]+: invalid JSON: .u0000|node: field 'title' contains a NUL character)" '{"kind":"node","path":"legal","title":"a\u0000b"}'
bad "node path with capitals" "node: tree path 'Legal/Contracts': 'Legal' is not a slug" '{"kind":"node","path":"Legal/Contracts"}'
bad "entry path with an empty part" "entry: tree path 'legal//x': '' is not a slug" \
    '{"kind":"entry","path":"legal//x","title":"t","body":"b"}'
bad "entry path four levels deep" "entry: tree path 'a/b/c/d' is deeper than domain/skill/entry_group" \
    '{"kind":"entry","path":"a/b/c/d","title":"t","body":"b"}'
bad "node path with a space" "node: tree path 'legal/new contracts'" '{"kind":"node","path":"legal/new contracts"}'
bad "empty node path" "node: empty tree path" '{"kind":"node","path":""}'
bad "forum with an unknown phase" "forum: forum phase 'deploy' is unknown" \
    '{"kind":"forum","agent":"a","source_type":"folder","phase":"deploy","title":"t","body":"b"}'
bad "forum global a string" "forum: field 'global' must be true or false" \
    '{"kind":"forum","agent":"a","source_type":"folder","phase":"explore","title":"t","body":"b","global":"yes"}'

# Line numbers count blank lines and CRLF endings are accepted.
{ head -3 prefix.jsonl | sed 's/$/\r/'; echo; echo "   "; echo '{"kind":"node","path":"BAD"}'; } >blank.jsonl
expect_fail 1 "^trawl: blank.jsonl:6: node: tree path 'BAD'" "blank lines are counted in line numbers" import acme blank.jsonl
is "$(snapshot)" "$BASE" "the CRLF/blank-line file left nothing behind"
# The bad line is the last one, without a newline.
{ cat prefix.jsonl; printf '{"kind":"node"}'; } >nonl.jsonl
expect_fail 1 "^trawl: nonl.jsonl:7: node: field 'path' is required" "a last line without newline is checked" import acme nonl.jsonl
# From standard input the file is called <stdin>.
run_in bad1.jsonl import acme -
is "$RC" 1 "a bad stdin import exits 1"
like "$(err)" "^trawl: <stdin>:7: column [0-9]+: invalid JSON" "stdin errors name <stdin> and the line"
is "$(snapshot)" "$BASE" "the bad stdin import left nothing behind"
# Into a client that does not exist yet: the client is not created either.
expect_fail 1 "bad1.jsonl:7:" "a bad import for a new client fails" import newco bad1.jsonl
expect_fail 1 "unknown client 'newco'" "the failed import did not create the client" tree newco
is "$(snapshot)" "$BASE" "the KB is unchanged after all bad imports"
is "$("$TRAWL" runs --json | jq '.runs|length')" 1 "only the fixture's run is listed"
# Not JSONL at all.
head -c 4096 /dev/urandom >random.bin
run import acme random.bin
is "$RC" 1 "random bytes as JSONL: exit 1"
like "$(err)" "^trawl: random.bin:[0-9]+: .*; nothing was imported$" "random bytes: the message names the file and a line"
is "$(wc -l <"$ERR")" 1 "random bytes: a one-line message"
is "$(snapshot)" "$BASE" "random bytes imported nothing"

done_testing
