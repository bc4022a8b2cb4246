#!/usr/bin/env bash
# With structurers, documents get their entry from the structure phase only
# (no explore-time folder entry to rewrite). Documents the phase does not get
# to still get a place: at once by their folders when the run is interrupted,
# and in the next run's structure phase when the run died before placing them.
. "$(dirname "$0")/../cli/lib.sh" "$@"

python3 - <<'PY'
import os, random
random.seed(11)
topics = {
    "payroll": "payroll salary payslip overtime pension deduction employee wage bonus tax".split(),
    "infra": "server cluster kubernetes deployment container latency outage database backup firewall".split(),
    "finance": "invoice supplier payment purchase order ledger account refund credit receipt".split(),
}
shared = "meeting please team update week attached review report thanks monday".split()
for t, ws in topics.items():
    os.makedirs(f"b/{t}-inbox", exist_ok=True)
    for i in range(30):
        words = [random.choice(ws if random.random() < 0.6 else shared) for _ in range(60)]
        text = ". ".join(" ".join(words[k:k + 12]).capitalize() for k in range(0, 60, 12)) + "."
        open(f"b/{t}-inbox/note{i}.txt", "w").write(text)
os.makedirs("a", exist_ok=True)
for i in range(300):
    open(f"a/doc{i}.txt", "w").write(f"alpha document {i} about payroll\n")
PY
cat >sources.json <<JSON
{"client": "acme", "sources": [
   {"name": "a", "type": "folder", "path": "$SCRATCH/a"},
   {"name": "b", "type": "folder", "path": "$SCRATCH/b"}]}
JSON
count() { sqlite3 "$1" "select count(*) from documents d join sources s on s.id = d.source_id where s.name = '$2' and d.deleted = 0"; }
unplaced() { sqlite3 "$1" "select count(*) from documents d where d.deleted = 0 and not exists (select 1 from entry_documents ed where ed.document_id = d.id)"; }
entries() { sqlite3 "$1" "select count(*) from knowledge_entries"; }

# A run interrupted while exploring: the stored documents get folder places.
TRAWL_FAULT=a:hang "$TRAWL" --db int.db onboard acme sources.json --structurers 2 >"$OUT" 2>"$ERR" &
pid=$!
for _ in $(seq 1 150); do [ "$(count int.db b 2>/dev/null)" = 90 ] && break; sleep 0.1; done
kill -INT $pid
wait $pid
is "$?" 1 "the interrupted run exits 1"
is "$(count int.db b)" 90 "source b was stored before the interrupt"
stored=$(sqlite3 int.db "select count(*) from documents where deleted = 0")
is "$(unplaced int.db)" 0 "every stored document has an entry after the interrupt"
is "$(entries int.db)" "$stored" "one entry per stored document ($stored)"
like "$(err)" "$stored documents placed by their folders until a structure phase places them" \
    "the log says the folders placed them"
is "$(sqlite3 int.db "select count(*) from knowledge_entries e join knowledge_tree n on n.id = e.tree_node_id where n.path like 'b/%-inbox/top'")" 90 \
    "source b's notes sit at their folder places"

# --resume: the structure phase places everything; no folder place remains.
run --db int.db onboard acme sources.json --resume --structurers 2
is "$RC" 0 "--resume completes"
like "$(err)" "structured [0-9]+ documents" "the structure phase ran"
is "$(unplaced int.db)" 0 "every document has an entry after --resume"
is "$(entries int.db)" "$(sqlite3 int.db "select count(*) from documents where deleted = 0")" "one entry per document"
is "$(sqlite3 int.db "select count(*) from knowledge_tree where path like 'a/%' or path like 'b/%'")" 0 \
    "the folder places are gone from the tree"

# A clean run writes each entry once: no explore-time folder entry to move.
cat >b.json <<JSON
{"client": "acme", "sources": [{"name": "b", "type": "folder", "path": "$SCRATCH/b"}]}
JSON
run --db s.db onboard acme b.json --structurers 2
is "$RC" 0 "a clean run exits 0"
is "$(sqlite3 s.db "select max(id) from entry_text")" 90 "90 entry bodies written, none rewritten"
"$TRAWL" --db s.db export acme | "$JQ" -c 'select(.kind=="entry") | [.key, .path]' | sort >before

# A run that died after storing documents but before placing them (as if
# killed in the structure phase): the next run's phase places them into
# the existing tree, and leaves the others where they are.
sqlite3 s.db "PRAGMA foreign_keys = ON; DELETE FROM knowledge_entries WHERE key GLOB 'doc:b:payroll-inbox/note1*'"
is "$(unplaced s.db)" 11 "11 payroll notes lost their entries"
run --db s.db onboard acme b.json --structurers 2
is "$RC" 0 "the next run exits 0"
like "$(err)" "11 stored documents without a place join the phase" "it picks up the unplaced documents"
like "$(err)" "11 of 11 documents placed into the existing tree" "into the existing tree"
is "$(unplaced s.db)" 0 "every document has an entry again"
"$TRAWL" --db s.db export acme | "$JQ" -c 'select(.kind=="entry") | [.key, .path]' | sort >after
ok "$(cmp -s <(grep -v payroll-inbox/note1 before) <(grep -v payroll-inbox/note1 after); echo $?)" \
    "no other entry moved"
is "$(grep payroll-inbox/note1 after | cut -d'"' -f4 | cut -d/ -f1 | sort -u)" \
    "$(grep payroll-inbox/note1 before | cut -d'"' -f4 | cut -d/ -f1 | sort -u)" \
    "the payroll notes go back to the payroll domain"

# Nothing new and nothing unplaced: no structure phase at all.
run --db s.db onboard acme b.json --structurers 2
is "$RC" 0 "a run with nothing new exits 0"
unlike "$(err)" "structur" "no structure phase runs"

done_testing
