#!/usr/bin/env bash
# The forum as memory: client A's structure phase posts global skill
# patterns stripped of identifying data; client B, onboarded after A, is
# placed better than B on an empty forum.
. "$(dirname "$0")/../cli/lib.sh" "$@"

# gen DIR SEED PER_TOPIC WORDS SHARED_PCT LAYOUT: labelled notes; LAYOUT "folders"
# puts each topic in its folder, "flat" puts all in one folder named by topic.
gen()
{
    python3 - "$@" <<'PY'
import os, random, sys
d, seed, per, nwords, shared_pct, layout = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
random.seed(seed)
topics = {
    "payroll": "payroll salary payslip overtime pension deduction employee wage bonus tax".split(),
    "infra": "server cluster kubernetes deployment container latency outage database backup firewall".split(),
    "finance": "invoice supplier payment purchase order ledger account refund credit receipt".split(),
}
shared = "meeting please team update week attached review report thanks monday call lunch plan status".split()
people = ["alice@zorgcorp.example", "bob.smith@zorgcorp.example", "carol@vendor-xq.example"]
for t, ws in topics.items():
    sub = f"{d}/{t}-inbox" if layout == "folders" else f"{d}/inbox"
    os.makedirs(sub, exist_ok=True)
    for i in range(per):
        words = [random.choice(ws if random.random() * 100 >= shared_pct else shared) for _ in range(nwords)]
        text = "From " + random.choice(people) + "\n" + " ".join(words) + ".\n"
        open(f"{sub}/{t}-{i}.txt", "w").write(text)
PY
}
# pairf1 FILE: pairwise F1 of the domains of an export against the topic in
# each file name (same-topic pairs sharing a domain; fragmentation and mixing both cost).
pairf1()
{
    "$JQ" -r 'select(.kind=="entry") | (.path|split("/")[0]) + " " + (.key|split("/")[-1]|split("-")[0])' "$1" |
        python3 -c '
import sys, itertools
rows = [l.split() for l in sys.stdin if l.strip()]
tp = fp = fn = 0
for (d1, t1), (d2, t2) in itertools.combinations(rows, 2):
    if d1 == d2 and t1 == t2: tp += 1
    elif d1 == d2: fp += 1
    elif t1 == t2: fn += 1
print("%.3f" % (2 * tp / (2 * tp + fp + fn) if tp else 0))'
}

gen a 11 40 60 40 folders
gen b 12 6 14 60 flat
cat >a.json <<JSON
{"client": "zorgcorp", "sources": [{"name": "zorgmail", "type": "folder", "path": "$SCRATCH/a"}]}
JSON
cat >b.json <<JSON
{"client": "bee", "sources": [{"name": "beemail", "type": "folder", "path": "$SCRATCH/b"}]}
JSON

run --db shared.db onboard zorgcorp a.json --structurers 2
is "$RC" 0 "client A onboards"
run --db shared.db forum search "skill pattern" --global --json
is "$RC" 0 "global patterns are searchable"
cp "$OUT" patterns.json
ok "$(grep -c 'skill pattern' patterns.json | awk '{print ($1 >= 3) ? 0 : 1}')" "A left at least three global skill patterns"
unlike "$(cat patterns.json)" "alice|smith|bob|carol|zorgcorp|zorgmail|vendor|example|@" \
    "no addresses, names, client or source names in global patterns"
unlike "$(cat patterns.json)" "meeting please team|From " "no document text in global patterns"

run --db shared.db onboard bee b.json --structurers 2
is "$RC" 0 "client B onboards after A"
like "$(err)" "documents placed by [0-9]+ forum patterns" "B's structurers used A's patterns"
run --db shared.db export bee
cp "$OUT" b-after-a.jsonl
run --db empty.db onboard bee b.json --structurers 2
is "$RC" 0 "client B onboards on an empty forum"
run --db empty.db export bee
cp "$OUT" b-alone.jsonl
pa=$(pairf1 b-after-a.jsonl)
pe=$(pairf1 b-alone.jsonl)
echo "# figure: client B domain pair-F1: after A $pa, on an empty forum $pe"
ok "$(awk -v a="$pa" -v e="$pe" 'BEGIN {exit !(a > e)}'; echo $?)" "B after A is placed better than B alone ($pa > $pe)"

done_testing
