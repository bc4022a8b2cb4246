#!/usr/bin/env bash
# export -> import -> export is byte-identical; Markdown export; idempotent import.
. "$(dirname "$0")/lib.sh" "$@"

FIX=$DATA/acme.jsonl
DB1=$SCRATCH/one.db DB2=$SCRATCH/two.db DB3=$SCRATCH/three.db
import_fixture "$DB1" acme "$FIX"
import_fixture "$DB1" globex "$DATA/globex.jsonl"

run --db "$DB1" export acme
is "$RC" 0 "export acme exits 0"
cp "$OUT" e1.jsonl
jq -e . e1.jsonl >/dev/null; ok $? "every exported line is JSON"
is "$(head -1 e1.jsonl | jq -c .)" '{"kind":"trawl-export","version":1,"client":"acme"}' "export starts with the trawl-export header"
is "$(jq -r .kind e1.jsonl | sort | uniq -c | awk '{print $2"="$1}' | tr '\n' ' ')" \
    "document=8 entry=30 forum=4 node=20 source=3 trawl-export=1 " \
    "export holds every source, node (with implied ones), document, entry and acme's own forum posts"
unlike "$(cat e1.jsonl)" 'Globex|sales/' "export holds nothing of another client"
is "$(jq -r 'select(.kind=="entry") | .title' e1.jsonl | sort)" "$(jq -r 'select(.kind=="entry") | .title' "$FIX" | sort)" \
    "export has every entry title"
is "$(jq -c 'select(.kind=="entry" and .key=="hosting-credits") | [.documents[].external_id]' e1.jsonl)" \
    '["contracts/hosting-sla.pdf","msg-1001"]' "export keeps an entry's document links"
is "$(jq -c 'select(.kind=="entry" and .key=="approval-two-step") | .metadata' e1.jsonl)" '{"threshold_eur":10000}' \
    "export keeps entry metadata"
is "$(jq -c 'select(.kind=="source" and .name=="mail") | .config' e1.jsonl)" \
    "$(jq -c 'select(.kind=="source" and .name=="mail") | .config' "$FIX")" "export keeps source config"
is "$(jq -r 'select(.kind=="document" and .external_id=="msg-1003") | .text' e1.jsonl)" \
    "$(jq -r 'select(.kind=="document" and .external_id=="msg-1003") | .text' "$FIX")" "export keeps document text"

run --db "$DB1" export acme --output e1-file.jsonl
is "$RC:$(out)" "0:" "export --output writes nothing to stdout"
cmp -s e1.jsonl e1-file.jsonl; ok $? "export --output FILE equals the stdout export"

run --db "$DB2" import acme e1.jsonl
is "$RC" 0 "import of the export into a fresh database exits 0"
is "$(out)" "imported $(wc -l <e1.jsonl) lines for 'acme': 3 sources, 20 nodes, 8 documents, 30 entries, 4 forum posts" \
    "import reports what it read"
run --db "$DB2" export acme
cp "$OUT" e2.jsonl
cmp -s e1.jsonl e2.jsonl
ok $? "export -> import -> export is byte-identical"
[ $? -eq 0 ] || diff e1.jsonl e2.jsonl | head -20 | sed 's/^/#   /'
is "$("$TRAWL" --db "$DB2" tree acme)" "$("$TRAWL" --db "$DB1" tree acme)" "the re-imported tree prints the same"
is "$("$TRAWL" --db "$DB2" search acme invoice --json | jq -c '[.hits[] | [.path, .title, .snippet]]')" \
   "$("$TRAWL" --db "$DB1" search acme invoice --json | jq -c '[.hits[] | [.path, .title, .snippet]]')" \
   "the re-imported KB searches the same"

# From stdin, under another client name.
run_in e1.jsonl --db "$DB3" import --json copy -
jq_ok ".client == \"copy\" and .entries == 30 and .nodes == 20 and .lines == $(wc -l <e1.jsonl)" "import --json from stdin"
run --db "$DB3" export copy
sed 's/"client":"acme"/"client":"copy"/' e1.jsonl >e1-copy.jsonl
cmp -s "$OUT" e1-copy.jsonl; ok $? "importing under another client name gives the same KB"

# Importing the same data again changes nothing (upserts by key).
import_fixture "$DB1" acme "$FIX"
run --db "$DB1" tree acme --json
is "$(jqv '[.nodes[].entries_total]|add')" 30 "a second import of the fixture does not duplicate entries"
run --db "$DB1" export acme
jq -c 'select(.kind != "forum")' e1.jsonl >a.jsonl
jq -c 'select(.kind != "forum")' "$OUT" >b.jsonl
cmp -s a.jsonl b.jsonl; ok $? "a second import leaves sources, nodes, documents and entries as they were"

# Markdown.
run --db "$DB1" export acme --format markdown
is "$RC" 0 "export --format markdown exits 0"
cp "$OUT" acme.md
is "$(head -1 acme.md)" "# acme" "markdown starts with the client as title"
missing=""
while IFS= read -r t; do grep -Fq -- "$t" acme.md || missing="$missing [$t]"; done \
    < <(jq -r 'select(.kind=="node") | .title' "$FIX")
is "$missing" "" "markdown contains every node title"
missing=""
while IFS= read -r t; do grep -Fq -- "**$t**" acme.md || missing="$missing [$t]"; done \
    < <(jq -r 'select(.kind=="entry") | .title' "$FIX")
is "$missing" "" "markdown contains every entry title in bold"
grep -Fxq "## Finance" acme.md; ok $? "markdown: a domain is a level-2 heading"
grep -Fxq "#### Invoice disputes" acme.md; ok $? "markdown: an entry group is a level-4 heading"
grep -Fxq '`finance/invoicing/disputes`' acme.md; ok $? "markdown: each node shows its path"
like "$(cat acme.md)" '^- \*\*Disputed invoice escalation\*\* \(#[0-9]+\): Answer within two days' \
    "markdown: an entry line with id and summary"
l_fin=$(grep -n '^## Finance$' acme.md | cut -d: -f1)
l_disp=$(grep -n '^#### Invoice disputes$' acme.md | cut -d: -f1)
l_ops=$(grep -n '^## Operations$' acme.md | cut -d: -f1)
[ -n "$l_fin" ] && [ -n "$l_disp" ] && [ -n "$l_ops" ] && [ "$l_fin" -lt "$l_disp" ] && [ "$l_disp" -lt "$l_ops" ]
ok $? "markdown: a group sits between its domain and the next domain"
unlike "$(cat acme.md)" 'Globex' "markdown holds nothing of another client"

expect_fail 1 "unknown client 'nobody'" "export of an unknown client: exit 1" --db "$DB1" export nobody
expect_fail 1 "unknown client 'nobody'" "markdown export of an unknown client: exit 1" --db "$DB1" export nobody --format markdown
expect_fail 1 "cannot write '$SCRATCH/no/such/dir/x.jsonl'" "export --output into a missing directory: exit 1" \
    --db "$DB1" export acme --output "$SCRATCH/no/such/dir/x.jsonl"

done_testing
