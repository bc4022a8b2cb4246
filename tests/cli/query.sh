#!/usr/bin/env bash
# Query commands on an imported fixture: tree, search, show, runs.
. "$(dirname "$0")/lib.sh" "$@"

DB=$SCRATCH/kb.db
export TRAWL_DB=$DB
FIX=$DATA/acme.jsonl
import_fixture "$DB" acme "$FIX"
import_fixture "$DB" globex "$DATA/globex.jsonl"

# Oracles computed from the fixture, independently of trawl.
NODE_PATHS=$(jq -r 'select(.kind=="entry" or .kind=="node") | .path
    | split("/") as $s | range(1; ($s|length)+1) as $i | $s[:$i] | join("/")' "$FIX" | sort -u)
expected_total() # PATH: entries in the subtree at PATH according to the fixture
{
    jq -r --arg p "$1" 'select(.kind=="entry") | select(.path == $p or (.path|startswith($p + "/")))
        | .title' "$FIX" | wc -l
}
ENTRIES=$(jq -r 'select(.kind=="entry") | .title' "$FIX" | wc -l)
is "$ENTRIES" 30 "fixture has 30 entries"

# ---- tree --------------------------------------------------------------------
run tree acme --json
is "$RC" 0 "tree --json exits 0"
jq_ok '.client == "acme" and .path == null' "tree --json names the client, path null"
is "$(jqv '[.nodes[].path] | join(" ")')" "engineering finance operations" \
    "tree --json top level holds the three domains"
is "$(jqv '[.. | objects | select(has("children")) | .path] | sort | join("\n")')" "$NODE_PATHS" \
    "tree --json holds exactly the fixture's nodes (explicit and implied)"
jq_ok '[.. | objects | select(has("children")) | .entries_total == .entries +
        ([.children[].entries_total] | add // 0)] | all' \
    "every node's entries_total = its own entries + its children's totals"
is "$(jqv '[.nodes[].entries_total] | add')" 30 "top-level totals add up to 30 entries"
jq_ok 'def chk: . as $n | all(.children[]; .level == $n.level + 1 and
        (.path | startswith($n.path + "/")) and (.path | ltrimstr($n.path + "/") | test("^[^/]+$")) and chk);
       all(.nodes[]; .level == 1 and chk)' "children are one level deeper and extend the parent path"
bad=""
for p in $NODE_PATHS; do
    got=$("$JQ" -r --arg p "$p" '.. | objects | select(.path? == $p) | .entries_total' "$OUT")
    want=$(expected_total "$p")
    [ "$got" = "$want" ] || bad="$bad $p:$got!=$want"
done
is "$bad" "" "entries_total of every node matches the fixture count"
jq_ok '[.. | objects | select(.path? == "finance/invoicing")][0] | .entries == 1 and .entries_total == 7
       and .title == "Invoicing" and .summary == "Issuing invoices, approvals and disputes."
       and .slug == "invoicing" and .level == 2 and (.id | type) == "number"' \
    "finance/invoicing: title, summary, slug, level, own and total counts"
jq_ok '[.. | objects | select(.path? == "engineering/incidents/postmortems")][0]
       | .title == "Postmortems" and .summary == null and .entries == 3' \
    "a node implied by its entries gets a title from its slug"
unlike "$(out)" '"path": "sales' "acme's tree has none of globex's nodes"

run tree acme
is "$RC" 0 "tree (text) exits 0"
is "$(wc -l <"$OUT")" "$(echo "$NODE_PATHS" | wc -l)" "tree (text) prints one line per node"
grep -Fxq "Finance  finance  13" "$OUT"
ok $? "text: domain line 'Finance  finance  13' without indent"
grep -Fxq "  Invoicing  finance/invoicing  7 (1 here)" "$OUT"
ok $? "text: level-2 line indented, with '(1 here)' for its own entries"
grep -Fxq "    Invoice disputes  finance/invoicing/disputes  3" "$OUT"
ok $? "text: level-3 line indented by four"
grep -Fxq "  Invoicing archive  finance/invoicing-archive  1" "$OUT"
ok $? "text: leaf on level 2 with its count and no '(here)'"
unlike "$(out)" $'\033' "text output has no colour codes when stdout is not a terminal"

run tree acme --depth 1 --json
jq_ok '(.nodes | length) == 3 and all(.nodes[]; .level == 1 and .children == [])' \
    "tree --depth 1 --json: only the domains, no children"
jq_ok '[.nodes[] | select(.path == "finance")][0].entries_total == 13' \
    "tree --depth 1 still counts the whole subtree"
run tree acme --depth 1
is "$(out)" "Engineering  engineering  9
Finance  finance  13
Operations  operations  8" "tree --depth 1 (text) prints the three domains with totals"
run tree acme --depth 2 --json
jq_ok '[.. | objects | select(has("level")) | .level] | max == 2' "tree --depth 2 stops at level 2"

run tree acme finance/invoicing --json
is "$RC" 0 "tree CLIENT PATH --json exits 0"
jq_ok '.path == "finance/invoicing" and (.nodes | length) == 1 and .nodes[0].path == "finance/invoicing"' \
    "subtree json has the node at PATH as its single root"
is "$(jqv '[.. | objects | select(has("children")) | .path] | sort | join(" ")')" \
    "finance/invoicing finance/invoicing/approvals finance/invoicing/disputes" \
    "subtree holds only PATH and its descendants (not the invoicing-archive sibling)"
run tree acme finance/invoicing
is "$(out)" "Invoicing  finance/invoicing  7 (1 here)
  Invoice approvals  finance/invoicing/approvals  3
  Invoice disputes  finance/invoicing/disputes  3" "subtree text starts unindented at PATH"
run tree acme operations/vendors/hosting --json
jq_ok '(.nodes | length) == 1 and .nodes[0].children == [] and .nodes[0].entries == 3' \
    "subtree of a leaf is that leaf"
run tree globex --json
is "$(jqv '[.. | objects | select(has("children")) | .path] | sort | join(" ")')" \
    "sales sales/billing sales/billing/refunds" "globex's tree is its own"

expect_fail 1 "no tree node 'finance/nope'" "tree on a missing path: exit 1 naming it" tree acme finance/nope
expect_fail 1 "no tree node 'sales'" "tree on another client's path: exit 1" tree acme sales
expect_fail 1 "'Finance' is not a slug" "tree on a malformed path: exit 1 naming the bad part" tree acme Finance
expect_fail 1 "deeper than domain/skill/entry_group" "tree on a 4-level path: exit 1" tree acme a/b/c/d
expect_fail 1 "unknown client 'nobody'" "tree for an unknown client: exit 1" tree nobody
expect_fail 1 "client name '../x' is invalid" "tree for an invalid client name: exit 1" tree ../x

# Long arguments: still exit 1, and the message should keep its reason.
LONG=$(printf 'a%.0s' $(seq 1 600))
for args in "tree acme $LONG" "tree $LONG" "search acme invoice --under $LONG"; do
    # shellcheck disable=SC2086
    run $args
    is "$RC" 1 "${args:0:22}... with a 600-byte argument: exit 1"
    like "$(err)" "(is not a slug .*\)|is invalid: use .*'\.')\$" "${args:0:22}... with a 600-byte argument: the message keeps its reason"
done

# ---- search ------------------------------------------------------------------
acme_ids()  # ids of every acme entry, from a broad search
{
    "$TRAWL" search acme 'the OR a OR of OR is OR are OR on' --limit 1000 --json | jq -r '.hits[].id' | sort
}
run search acme invoice --json
is "$RC" 0 "search --json exits 0"
cp "$OUT" invoice.json
jq_ok '.client == "acme" and .query == "invoice" and .under == null' "search json echoes client, query, under"
jq_ok '(.hits | length) >= 6' "search 'invoice' finds the invoice entries"
jq_ok 'all(.hits[]; (.id|type) == "number" and (.path|type) == "string" and (.title|type) == "string"
       and (.snippet|test("\\*\\*[Ii]nvoice[a-z]*\\*\\*")) and (.score|type) == "number")' \
    "every hit has id, path, title, score and a snippet with **marked** matches"
jq_ok '[.hits[].score] as $s | $s == ($s | sort)' "hits are ranked by bm25 score, best first"
jq_ok 'any(.hits[]; .path == "operations/vendors/hosting") and any(.hits[]; .path == "finance/invoicing-archive")' \
    "search 'invoice' spans several subtrees (so --under has something to drop)"
unlike "$(out)" 'Globex' "search never returns another client's entries"
run search globex invoice --json
jq_ok '(.hits|length) == 2 and all(.hits[]; .title|test("Globex|Refunds"))' "globex's search sees only its 2 entries"

run search acme canary --json
is "$(jqv '.hits[0].title')" "Canary before promotion" "the entry about canaries ranks first for 'canary'"
CANARY_ID=$(jqv '.hits[0].id')
run search acme canary
is "$RC" 0 "search (text) exits 0"
is "$(head -1 "$OUT")" "Canary before promotion  engineering/deployment/releases  #$CANARY_ID" \
    "text hit line: title, path, #id"
like "$(sed -n 2p "$OUT")" '^    .*canary' "text hit: indented snippet on the next line"
unlike "$(out)" $'\\*\\*|\033' "text snippets carry no markers when stdout is not a terminal"

run search acme 'hosting availability credits' --json
is "$(jqv '.hits[0].title')" "Hosting availability credits" "a title's own words rank it first"

for under in finance finance/invoicing operations/vendors/hosting; do
    run search acme invoice --under "$under" --limit 100 --json
    jq_ok ".under == \"$under\"" "search --under $under: json echoes under"
    jq_ok "all(.hits[]; .path == \"$under\" or (.path | startswith(\"$under/\")))" \
        "search --under $under: every hit's path is in the subtree"
    want=$(jq -r --arg u "$under" '.hits[] | select(.path == $u or (.path | startswith($u + "/"))) | .id' \
        invoice.json | sort)
    is "$(jqv '.hits[].id' | sort)" "$want" "search --under $under: exactly the whole-KB hits in the subtree"
done
run search acme invoice --under finance/invoicing --json
unlike "$(out)" 'invoicing-archive' "--under finance/invoicing excludes the sibling finance/invoicing-archive"
is "$(jqv '.hits|length')" 5 "--under finance/invoicing: the 5 invoice entries there"
run search acme canary --under finance
is "$(out)" "no entries match 'canary' under finance" "no hit in the subtree: 'no entries match ... under PATH', exit $RC"
is "$RC" 0 "no hit is not an error"
expect_fail 1 "no tree node 'finance/nope'" "search --under a missing path: exit 1" search acme invoice --under finance/nope
expect_fail 1 "no tree node 'sales'" "search --under another client's path: exit 1" search acme invoice --under sales
expect_fail 1 "'BAD PATH' is not a slug" "search --under a malformed path: exit 1" search acme invoice --under 'BAD PATH'
expect_fail 1 "unknown client 'nobody'" "search for an unknown client: exit 1" search nobody invoice

run search acme invoice --limit 2 --json
is "$(jqv '.hits|length')" 2 "search --limit 2 returns 2 hits"
is "$(jqv '[.hits[].id]|join(",")')" "$(jq -r '[.hits[:2][].id]|join(",")' invoice.json)" \
    "--limit 2 returns the 2 best hits of the unlimited search"
run search acme the --json
is "$(jqv '.hits|length')" 20 "search defaults to 20 hits"
run search acme the --limit 1000 --json
jq_ok '(.hits|length) > 20' "--limit 1000 returns more than the default"

run search acme zyzzyva
is "$RC:$(out)" "0:no entries match 'zyzzyva'" "no match: exit 0 and 'no entries match'"
run search acme zyzzyva --json
jq_ok '.hits == []' "no match --json: empty hits"

# Query language: phrases, OR, prefix, exclusion, case and diacritics.
ids() { "$TRAWL" search acme "$@" --limit 100 --json | jq -r '.hits[].id' | sort; }
titles() { "$TRAWL" search acme "$@" --limit 100 --json | jq -r '.hits[].title' | sort; }
is "$(titles 'billed hours')" "Disputed invoice escalation
Hosting invoice checks" "words: both entries with 'billed' and 'hours'"
is "$(titles '"billed hours"')" "Hosting invoice checks" "\"quoted words\" match as a phrase only"
is "$(titles 'canary OR cleaning')" "Canary before promotion
Cleaning contract" "OR matches either word"
is "$(titles 'canary cleaning')" "" "words without OR must all match"
is "$(titles 'rollb*')" "Feature flags instead of rollbacks
Rolling back a bad release" "a trailing * matches a prefix"
inv=$(ids invoice) invhost=$(ids 'invoice hosting') invnohost=$(ids 'invoice -hosting')
is "$invnohost" "$(comm -23 <(echo "$inv") <(echo "$invhost"))" "-word excludes: invoice -hosting = invoice minus (invoice hosting)"
isnt "$invhost" "" "the exclusion test excludes something"
is "$(ids INVOICE)" "$inv" "search is case-insensitive"
is "$(ids 'invóice')" "$inv" "search ignores diacritics"
is "$(titles Globex)" "" "another client's words find nothing"

# ---- show --------------------------------------------------------------------
HOST_ID=$("$TRAWL" search acme 'hosting availability credits' --json | jq -r '.hits[0].id')
run show acme "$HOST_ID" --json
is "$RC" 0 "show --json exits 0"
jq_ok ".id == $HOST_ID and .client == \"acme\" and .key == \"hosting-credits\"
       and .path == \"operations/vendors/hosting\" and .title == \"Hosting availability credits\"
       and .summary == null and .metadata == null" "show --json: id, client, key, path, title"
is "$(jqv .body)" "$(jq -r 'select(.key=="hosting-credits").body' "$FIX")" "show --json: body as imported"
jq_ok '(.documents|length) == 2' "show --json lists the entry's 2 documents"
is "$(jqv '[.documents[] | "\(.source)|\(.source_type)|\(.external_id)|\(.mime)|\(.deleted)"] | sort | join(" ")')" \
    "drive|folder|contracts/hosting-sla.pdf|application/pdf|false mail|gmail|msg-1001|message/rfc822|false" \
    "show --json: each document's source, type, external id, mime"
jq_ok '(.documents[] | select(.external_id == "msg-1001") | .metadata.labels) == ["Inbox", "Finance"]
       and (.documents[] | select(.external_id == "contracts/hosting-sla.pdf") | .metadata) == null' \
    "show --json: each document's metadata (object or null)"
jq_ok 'all(.documents[]; (.id|type) == "number" and (.title|type) == "string" and (.author|type) == "string"
       and (.created|test("^20")) and (.modified|test("^20")))' "show --json: documents have title, author, dates"
run show acme "$HOST_ID"
is "$(head -2 "$OUT")" "Hosting availability credits
entry #$HOST_ID in operations/vendors/hosting (key hosting-credits)" "show (text): title and location"
grep -Fxq "Documents:" "$OUT"; ok $? "show (text) has a Documents section"
grep -Fxq "  [drive] contracts/hosting-sla.pdf  Hosting service level agreement  2021-09-15T00:00:00Z" "$OUT"
ok $? "show (text): document line with source, id, title, date"
run show acme "#$HOST_ID" --json
jq_ok ".id == $HOST_ID" "show accepts '#ID' as printed by search"

APPROVAL_ID=$("$TRAWL" search acme 'two-step approval' --json | jq -r '.hits[0].id')
run show acme "$APPROVAL_ID" --json
jq_ok '.metadata.threshold_eur == 10000 and .title == "Two-step approval above 10,000 EUR"' "show --json: metadata object"
run show acme "$CANARY_ID"
DISPUTE_ID=$("$TRAWL" search acme 'disputed escalation' --json | jq -r '.hits[0].id')
run show acme "$DISPUTE_ID"
grep -Fxq "Summary: Answer within two days, copy the finance lead." "$OUT"; ok $? "show (text) prints the summary"
FREEZE_ID=$("$TRAWL" search acme 'freeze december' --json | jq -r '.hits[0].id')
run show acme "$FREEZE_ID" --json
jq_ok '.documents == [] and .key != null and (.key|length) > 0' "entry without documents: [] and a derived key"
run show acme "$FREEZE_ID"
unlike "$(out)" 'Documents:' "show (text) of an entry without documents has no Documents section"

expect_fail 1 "no entry 999999" "show a missing id: exit 1 naming it" show acme 999999
expect_fail 1 "no entry $HOST_ID" "show another client's entry: exit 1" show globex "$HOST_ID"
expect_fail 1 "unknown client 'nobody'" "show for an unknown client: exit 1" show nobody "$HOST_ID"

# ---- runs --------------------------------------------------------------------
run runs --json
is "$RC" 0 "runs --json exits 0"
jq_ok '(.runs|length) == 2 and .runs[0].client == "globex" and .runs[1].client == "acme"' \
    "runs --json: both imports, newest first"
jq_ok '.runs[0].id > .runs[1].id' "runs are ordered by id, newest first"
jq_ok 'all(.runs[]; .kind == "import" and .status == "ok" and (.started|test("^[0-9]{4}-"))
       and (.finished|type) == "string")' "runs --json: kind, status ok, start and finish times"
jq_ok ".runs[1].stats.entries == 30 and .runs[1].stats.nodes == 19 and .runs[1].stats.sources == 3
       and .runs[1].stats.documents == 8 and .runs[1].stats.forum == 7
       and .runs[1].stats.lines == $(wc -l <"$FIX")" "runs --json: the acme import's statistics"
run runs acme --json
jq_ok '(.runs|length) == 1 and .runs[0].client == "acme"' "runs CLIENT --json lists only that client"
run runs
is "$RC" 0 "runs (text) exits 0"
like "$(head -1 "$OUT")" '^RUN +CLIENT +KIND +STATUS +STARTED' "runs (text) has a header"
is "$(wc -l <"$OUT")" 3 "runs (text): header and one line per run"
like "$(sed -n 3p "$OUT")" '^1 +acme +import +ok ' "runs (text): run line with id, client, kind, status"
expect_fail 1 "unknown client 'nobody'" "runs for an unknown client: exit 1" runs nobody

# The default database is $TRAWL_DB; --db overrides it.
TRAWL_DB=$SCRATCH/nowhere.db run --db "$DB" runs acme --json
jq_ok '(.runs|length) == 1' "--db overrides TRAWL_DB"
TRAWL_DB=$DB run runs acme --json
jq_ok '(.runs|length) == 1' "TRAWL_DB selects the database"
[ ! -e "$SCRATCH/nowhere.db" ]; ok $? "an overridden TRAWL_DB is not created"

done_testing
