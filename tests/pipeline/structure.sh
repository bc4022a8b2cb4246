#!/usr/bin/env bash
# The structure phase: trawl onboard --structurers K places documents into
# domains and skills found from their text, deterministically.
. "$(dirname "$0")/../cli/lib.sh" "$@"

# A labelled corpus: three topics, each in its own folder, sharing office words.
python3 - <<'PY'
import os, random
random.seed(7)
topics = {
    "payroll": "payroll salary payslip overtime pension deduction employee wage bonus tax".split(),
    "infra": "server cluster kubernetes deployment container latency outage database backup firewall".split(),
    "finance": "invoice supplier payment purchase order ledger account refund credit receipt".split(),
}
shared = "meeting please team update week attached review report thanks monday".split()
for t, ws in topics.items():
    os.makedirs(f"corpus/{t}-inbox", exist_ok=True)
    for i in range(40):
        words = [random.choice(ws if random.random() < 0.6 else shared) for _ in range(60)]
        text = ". ".join(" ".join(words[k:k + 12]).capitalize() for k in range(0, 60, 12)) + "."
        open(f"corpus/{t}-inbox/note{i}.txt", "w").write(text)
PY
cat >sources.json <<JSON
{"client": "acme", "sources": [{"name": "docs", "type": "folder", "path": "$SCRATCH/corpus"}]}
JSON

run --db a.db onboard acme sources.json --structurers 2
is "$RC" 0 "onboard with 2 structurers exits 0"
like "$(err)" "structuring 120 documents with 2 structurers" "the structure phase ran"
run --db a.db export acme
is "$RC" 0 "export exits 0"
cp "$OUT" a.jsonl

# Every domain holds the documents of exactly one topic folder.
pairs=$("$JQ" -r 'select(.kind=="entry") | (.path|split("/")[0]) + " " + (.key|split(":")[2]|split("/")[0])' a.jsonl | sort -u)
is "$(printf '%s\n' "$pairs" | wc -l)" 3 "three (domain, folder) pairs: one domain per topic"
is "$(printf '%s\n' "$pairs" | cut -d' ' -f1 | sort -u | wc -l)" 3 "three domains"
like "$(printf '%s\n' "$pairs" | grep payroll-inbox)" "(payroll|salary|payslip|overtime|pension|deduction|employee|wage|bonus|tax)" \
    "the payroll domain is labelled by payroll words"
is "$("$JQ" -r 'select(.kind=="entry") | .path' a.jsonl | awk -F/ 'NF!=3' | wc -l)" 0 \
    "every entry sits at domain/skill/group"
is "$("$JQ" -r 'select(.kind=="entry" and (.summary // "") == "") | .key' a.jsonl | wc -l)" 0 \
    "every entry has an extractive summary"
unlike "$("$JQ" -r 'select(.kind=="entry") | .path' a.jsonl)" "^docs/" "no entry keeps its explore-time folder place"

# Determinism: another database, another structurer count, the same tree.
run --db b.db onboard acme sources.json --structurers 1
is "$RC" 0 "onboard with 1 structurer exits 0"
run --db b.db export acme
"$JQ" -c 'select(.kind=="entry" or .kind=="node")' a.jsonl >a.tree
"$JQ" -c 'select(.kind=="entry" or .kind=="node")' "$OUT" >b.tree
ok "$(cmp -s a.tree b.tree; echo $?)" "same input, same nodes and entries byte for byte (K=2 vs K=1)"

# A re-run with new documents places them into the existing tree, unchanged.
"$JQ" -c 'select(.kind=="entry") | [.key, .path]' a.jsonl >before
payroll_skill=$("$JQ" -r 'select(.kind=="entry" and (.key|test("payroll-inbox/note0.txt"))) | .path | split("/")[0:2] | join("/")' a.jsonl)
printf 'The payroll run: salary and pension deduction for each employee, overtime and bonus.\n' >corpus/payroll-inbox/new1.txt
printf 'Lunch menu: soup and bread.\n' >corpus/infra-inbox/new2.txt
run --db a.db onboard acme sources.json --structurers 2
is "$RC" 0 "re-run with two new documents exits 0"
like "$(err)" "1 of 2 documents placed by [0-9]+ forum patterns" "the new payroll note is placed by the patterns the first run posted"
like "$(err)" "0 of 1 documents placed into the existing tree" "the other note matches no skill of the tree"
run --db a.db export acme
"$JQ" -c 'select(.kind=="entry") | [.key, .path]' "$OUT" >after
is "$(comm -23 <(sort before) <(sort after) | wc -l)" 0 "no earlier entry moved"
like "$(grep new1.txt after)" "\"$payroll_skill/" "the new payroll note joins the payroll skill"
like "$(grep new2.txt after)" "unsorted/new" "a note matching no skill waits in unsorted/new"
rm corpus/payroll-inbox/new1.txt corpus/infra-inbox/new2.txt

# The client's taxonomy outranks discovery: payroll notes go to its skill.
cat >taxo.json <<JSON
{"client": "acme", "sources": [{"name": "docs", "type": "folder", "path": "$SCRATCH/corpus"}],
 "taxonomy": {"domains": [{"slug": "people", "title": "People", "description": "HR matters",
   "skills": [{"slug": "pay", "title": "Pay and pensions", "keywords": ["Payroll", "salaries", "pension"]}]}]}}
JSON
run --db t.db onboard acme taxo.json --structurers 2
is "$RC" 0 "onboard with a taxonomy exits 0"
like "$(err)" "40 of 120 documents placed by the client's taxonomy" "the taxonomy placed the payroll notes"
run --db t.db export acme
is "$("$JQ" -r 'select(.kind=="entry" and (.key|test("payroll-inbox"))) | .path | split("/")[0:2] | join("/")' "$OUT" | sort -u)" \
    "people/pay" "every payroll note sits in people/pay"
is "$("$JQ" -r 'select(.kind=="entry" and (.path|startswith("people/"))) | .key' "$OUT" | grep -vc payroll-inbox)" 0 \
    "and nothing else does"
is "$("$JQ" -r 'select(.kind=="entry" and (.path|startswith("people/")|not) and (.path|startswith("docs/")|not)) | .path | split("/")[0]' "$OUT" | sort -u | wc -l)" 2 \
    "the other two topics are discovered as two domains"
like "$("$JQ" -r 'select(.kind=="node" and .path=="people/pay") | .summary' "$OUT")" "HR matters" \
    "the skill node carries the client's description"

# Mail threads are entry groups: three messages of one thread share one.
mkdir -p mail
for i in 1 2 3; do
    re=; [ $i -gt 1 ] && re='Re: '
    printf 'From: Ann <ann@x.example>\r\nTo: bob@x.example\r\nSubject: %sPayroll run for March\r\nMessage-ID: <m%d@x.example>\r\nDate: Mon, 2 Mar 2026 10:0%d:00 +0000\r\n\r\nThe payroll run is late again.\r\n' "$re" $i $i >mail/m$i.eml
done
printf 'From: Ann <ann@x.example>\r\nSubject: Lunch\r\nMessage-ID: <l@x.example>\r\n\r\nSoup today.\r\n' >mail/lunch.eml
cat >mail.json <<JSON
{"client": "acme", "sources": [{"name": "box", "type": "folder", "path": "$SCRATCH/mail"}]}
JSON
run --db m.db onboard acme mail.json --structurers 2
is "$RC" 0 "onboard mail with structurers exits 0"
run --db m.db export acme
is "$("$JQ" -r 'select(.kind=="entry" and (.key|test("/m[0-9]|:m[0-9]"))) | .path | split("/")[2]' "$OUT" | sort -u)" \
    "thread-payroll-run-for-march" "the three messages of a thread share one entry group"
isnt "$("$JQ" -r 'select(.kind=="entry" and (.key|test("lunch"))) | .path | split("/")[2]' "$OUT")" \
    "thread-payroll-run-for-march" "another thread gets another group"

# Without --structurers the folder placement stays.
run --db c.db onboard acme sources.json
run --db c.db tree acme
like "$(out)" "docs/payroll-inbox" "without --structurers documents follow their folders"

done_testing
