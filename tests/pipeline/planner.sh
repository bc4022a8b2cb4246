#!/usr/bin/env bash
# The explorer's heuristic planner: budgets (items, depth), the inventory it
# posts, and forum patterns as memory across clients: file types that gave no
# text for client A are not fetched for client B.
. "$(dirname "$0")/../cli/lib.sh" "$@"

mkdir -p a/top/mid/low b/docs/x b/docs/y
for i in 1 2 3 4; do head -c 2048 /dev/urandom >a/top/img$i.bin; done
for i in $(seq 1 12); do printf 'alpha note %d about invoices\n' "$i" >a/top/note$i.txt; done
printf 'deep text\n' >a/top/mid/low/deep.txt
for i in 1 2 3; do head -c 1024 /dev/urandom >b/docs/x/pic$i.bin; done
for i in $(seq 1 5); do printf 'beta memo %d on payroll\n' "$i" >b/docs/y/memo$i.txt; done
touch -d '2019-05-01' a/top/note1.txt

cat >a.json <<JSON
{"sources": [{"name": "a", "type": "folder", "path": "$SCRATCH/a"}]}
JSON
cat >b.json <<JSON
{"sources": [{"name": "b", "type": "folder", "path": "$SCRATCH/b"}]}
JSON

# Client A on an empty forum: everything fetched, the inventory posted, and
# the .bin files (no text) become a global pattern without client data.
run onboard clienta a.json --json
is "$RC" 0 "client A onboarded"
jq_ok '.sources.a.documents_new == 17' "every file of A is a document"
run forum search "file types" --client clienta --json
jq_ok '[.hits[] | select(.title == "file types of this source")] | length == 1' "inventory posted"
jq_ok '[.hits[] | select(.title == "file types of this source") | .body][0] | test("17 files") and test("txt 13") and test("bin 4")' "inventory counts file types"
jq_ok '[.hits[] | select(.title == "file types of this source") | .body][0] | test("top \\(17\\)") and test("from 2019-05-01")' "inventory has structure and date range"
run forum search "skip types" --json
jq_ok '[.hits[] | select(.client == null and .title == "file types without text")] | length == 1' "a global pattern was posted"
jq_ok '[.hits[] | select(.client == null) | .body][0] | test("skip-types: bin")' "the pattern names the file type"
jq_ok '[.hits[] | select(.client == null) | .body][0] | test("clienta|alpha|img|top") | not' "the global pattern holds no client data"

# Client B after A: the pattern is used, its .bin files are not fetched.
run onboard clientb b.json --json
is "$RC" 0 "client B onboarded"
jq_ok '.sources.b.documents_new == 5' "only B's text files were fetched"
is "$(sqlite3 "$TRAWL_DB" "select count(*) from documents where external_id like '%.bin'")" 4 "B's .bin files were not fetched (only A's are stored)"
run forum search "patterns used" --client clientb --json
jq_ok '[.hits[] | select(.title == "patterns used") | .body][0] | test("bin \\(3 files\\)")' "B records the pattern it used"
run forum search "file types" --client clientb --json
jq_ok '[.hits[] | select(.client == "clienta")] | length == 0' "B never sees A's client findings"

# B on an empty forum fetches everything: the pattern made the difference.
run --db empty.db onboard clientb b.json --json
jq_ok '.sources.b.documents_new == 8' "without the forum B fetches its .bin files too"

# Budgets: an item budget stops early and the next run picks up the rest.
cat >budget.json <<JSON
{"sources": [{"name": "a", "type": "folder", "path": "$SCRATCH/a", "budget": {"max_items": 5}}]}
JSON
run --db budget.db onboard clienta budget.json --json
is "$RC" 0 "a budget is not a failure"
jq_ok '.sources.a.documents_new == 5' "item budget: five documents"
run --db budget.db forum search "stopped" --client clienta --json
jq_ok '[.hits[].body] | any(test("item budget \\(5\\) reached"))' "the stop is recorded in the inventory"
for k in 1 2 3; do run --db budget.db onboard clienta budget.json --json; done
is "$(sqlite3 budget.db "select count(*) from documents where deleted = 0")" 17 "later runs fetch the rest, nothing twice"

cat >depth.json <<JSON
{"sources": [{"name": "a", "type": "folder", "path": "$SCRATCH/a", "budget": {"max_depth": 1}}]}
JSON
run --db depth.db onboard clienta depth.json --json
jq_ok '.sources.a.documents_new == 16' "depth budget leaves out the deep file"
is "$(sqlite3 depth.db "select count(*) from documents where external_id like '%deep.txt'")" 0 "nothing below the depth budget"

cat >badbudget.json <<JSON
{"sources": [{"name": "a", "type": "folder", "path": "$SCRATCH/a", "budget": {"max_items": "lots"}}]}
JSON
run --db bad.db onboard clienta badbudget.json
is "$RC" 1 "a malformed budget is refused"
like "$(err)" "max_items" "the message names the field"
done_testing
