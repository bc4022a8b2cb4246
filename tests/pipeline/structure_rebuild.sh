#!/usr/bin/env bash
# The structure phase on re-runs and on mail: a later run places new
# documents into the existing tree and moves nothing; --rebuild restructures
# every stored document (the same tree as a fresh onboarding of them all);
# mail threads come from Message-ID / In-Reply-To / References; newsletters
# and notifications go to noise/; `trawl tree --explain` says why.
. "$(dirname "$0")/../cli/lib.sh" "$@"

# notes DIR TOPIC N SEED: labelled notes of one topic.
notes()
{
    python3 - "$@" <<'PY'
import os, random, sys
d, t, n, seed = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
random.seed(seed)
topics = {
    "payroll": "payroll salary payslip overtime pension deduction employee wage bonus tax".split(),
    "infra": "server cluster kubernetes deployment container latency outage database backup firewall".split(),
    "finance": "invoice supplier payment purchase order ledger account refund credit receipt".split(),
}
shared = "meeting please team update week attached review report thanks monday".split()
os.makedirs(f"{d}/{t}-inbox", exist_ok=True)
for i in range(n):
    words = [random.choice(topics[t] if random.random() < 0.6 else shared) for _ in range(60)]
    text = ". ".join(" ".join(words[k:k + 12]).capitalize() for k in range(0, 60, 12)) + "."
    open(f"{d}/{t}-inbox/{t}{i}.txt", "w").write(text)
PY
}
exported() { "$JQ" -c 'select(.kind=="entry" or .kind=="node")' "$1"; }

# ---- a later run without --rebuild moves nothing; --rebuild restructures all
notes docs payroll 40 1
notes docs infra 40 2
cat >docs.json <<JSON
{"client": "acme", "sources": [{"name": "docs", "type": "folder", "path": "$SCRATCH/docs"}]}
JSON
run --db r.db onboard acme docs.json --structurers 2
is "$RC" 0 "first onboarding exits 0"
like "$(err)" "structuring all 80 stored documents" "a first structuring reads every stored document"
run --db r.db export acme
"$JQ" -c 'select(.kind=="entry") | [.key, .path]' "$OUT" | sort >first
is "$(cut -d'"' -f4 first | cut -d/ -f1 | sort -u | wc -l)" 2 "two topics, two domains"

notes docs finance 40 3
run --db r.db onboard acme docs.json --structurers 2
is "$RC" 0 "a second run with 40 new documents exits 0"
like "$(err)" "of 40 documents placed into the existing tree" "only the new documents are placed"
run --db r.db export acme
"$JQ" -c 'select(.kind=="entry") | [.key, .path]' "$OUT" | sort >second
is "$(comm -23 first second | wc -l)" 0 "no earlier entry moved"
is "$(grep -c finance second)" 40 "the new documents are in the tree"
is "$(cut -d'"' -f4 second | cut -d/ -f1 | sort -u | wc -l)" 3 \
    "no new domain: new documents go into existing skills or unsorted/new"

run --db r.db onboard acme docs.json --structurers 2 --rebuild
is "$RC" 0 "--rebuild exits 0"
like "$(err)" "rebuilding the tree from all 120 stored documents" "--rebuild reads every stored document, fetched or not"
run --db r.db export acme
cp "$OUT" rebuilt.jsonl
pairs=$("$JQ" -r 'select(.kind=="entry") | (.path|split("/")[0]) + " " + (.key|split(":")[2]|split("/")[0])' rebuilt.jsonl | sort -u)
is "$(printf '%s\n' "$pairs" | wc -l)" 3 "after the rebuild, one domain per topic folder"
unlike "$("$JQ" -r 'select(.kind=="entry") | .path' rebuilt.jsonl)" "^unsorted/" "nothing waits in unsorted/ any more"
run --db r.db tree acme --json
is "$("$JQ" '[.. | objects | select(has("entries_total")) | select(.entries_total == 0)] | length' "$OUT")" 0 \
    "the nodes the rebuild emptied are gone"
run --db fresh.db onboard acme docs.json --structurers 1
run --db fresh.db export acme
ok "$(cmp -s <(exported rebuilt.jsonl) <(exported "$OUT"); echo $?)" \
    "the rebuilt tree equals a fresh onboarding of the same documents, byte for byte"

expect_fail 2 "--rebuild needs the structure phase" "--rebuild with --structurers 0 is a usage error" \
    --db r.db onboard acme docs.json --structurers 0 --rebuild

# ---- mail: threads, noise, explain
mkdir -p mail
msg()
{ # msg FILE FROM SUBJECT MESSAGE-ID [EXTRA-HEADERS] [BODY]
    printf 'From: %s\r\nTo: team@acme.example\r\nSubject: %s\r\nMessage-ID: %s\r\nDate: Mon, 2 Mar 2026 10:00:00 +0000\r\n%b\r\n%s\r\n' \
        "$2" "$3" "$4" "${5:-}" "${6:-The payroll run needs review before the salary payment.}" >"mail/$1.eml"
}
# a thread whose subject changes, held together by its references
msg t1 "Ann <ann@acme.example>" "Payroll run for March" "<t1@acme.example>"
msg t2 "Bob <bob@acme.example>" "Re: Payroll run for March" "<t2@acme.example>" 'In-Reply-To: <t1@acme.example>\r\nReferences: <t1@acme.example>\r\n'
msg t3 "Cy <cy@acme.example>" "Pension question (was: payroll run)" "<t3@acme.example>" 'In-Reply-To: <t2@acme.example>\r\nReferences: <t1@acme.example> <t2@acme.example>\r\n'
# two unrelated messages with the same subject
msg h1 "Ann <ann@acme.example>" "Hello" "<h1@acme.example>"
msg h2 "Dee <dee@other.example>" "Hello" "<h2@other.example>"
# a discussion list: bulk headers, but a conversation: not noise
msg l1 "Eve <eve@lists.example>" "Overtime rules" "<l1@lists.example>" 'List-Unsubscribe: <mailto:leave@lists.example>\r\nPrecedence: list\r\n' "Overtime rules for weekend shifts change next month."
msg l2 "Fay <fay@lists.example>" "Re: Overtime rules" "<l2@lists.example>" 'In-Reply-To: <l1@lists.example>\r\nList-Unsubscribe: <mailto:leave@lists.example>\r\nPrecedence: list\r\n' "Weekend shifts: what changes for overtime?"
# a newsletter, notifications, and a high-volume sender nobody answers
for i in 1 2 3 4; do
    msg news$i "Shop <news@shop.example>" "Weekly offers $i" "<n$i@shop.example>" 'List-Unsubscribe: <https://shop.example/u>\r\nPrecedence: bulk\r\n' "Big discounts on garden furniture this week, number $i."
done
for i in 1 2; do
    msg noti$i "Service <noreply@service.example>" "Your login code $i" "<s$i@service.example>" "" "Your one-time login code is ready."
done
for i in $(seq 1 10); do
    msg rep$i "Reports <reports@acme.example>" "Daily report $i" "<r$i@acme.example>" "" "Daily figures: sales, visits and orders for day $i."
done
notes mail infra 12 4
cat >mail.json <<JSON
{"client": "acme", "sources": [{"name": "box", "type": "folder", "path": "$SCRATCH/mail"}],
 "taxonomy": {"domains": [{"slug": "people", "title": "People",
   "skills": [{"slug": "pay", "title": "Pay", "keywords": ["payroll", "salary"]}]}]}}
JSON
run --db m.db onboard acme mail.json --structurers 2
is "$RC" 0 "mail onboarding exits 0"
run --db m.db export acme
cp "$OUT" m.jsonl
group() { "$JQ" -r --arg k "$1" 'select(.kind=="entry" and (.key|endswith($k))) | .path | split("/")[2]' m.jsonl; }
path() { "$JQ" -r --arg k "$1" 'select(.kind=="entry" and (.key|endswith($k))) | .path' m.jsonl; }
is "$(group t2.eml)" "$(group t1.eml)" "a reply shares its thread's group"
is "$(group t3.eml)" "$(group t1.eml)" "a reply with a new subject stays in the thread (References)"
isnt "$(group h2.eml)" "$(group h1.eml)" "two unrelated messages with the same subject are two groups"
is "$(group l2.eml)" "$(group l1.eml)" "the list conversation is one thread"
unlike "$(path l1.eml) $(path l2.eml)" "^noise/| noise/" "a list conversation with bulk headers is not noise"
is "$("$JQ" -r 'select(.kind=="entry" and (.key|test("news[0-9]"))) | .path | split("/")[0:2] | join("/")' m.jsonl | sort -u)" \
    "noise/news-shop-example" "the newsletter goes to noise/, under its sender"
is "$("$JQ" -r 'select(.kind=="entry" and (.key|test("noti[0-9]"))) | .path | split("/")[0:2] | join("/")' m.jsonl | sort -u)" \
    "noise/noreply-service-example" "no-reply notifications go to noise/"
is "$("$JQ" -r 'select(.kind=="entry" and (.key|test("rep[0-9]+.eml"))) | .path | split("/")[0]' m.jsonl | sort | uniq -c | awk '{print $1, $2}')" \
    "10 noise" "ten messages from a sender nobody answers go to noise/"
is "$("$JQ" -r 'select(.kind=="node" and .path=="noise/noreply-service-example") | .title' m.jsonl)" \
    "Notifications from noreply@service.example" "the noise skill says what and from whom"
run --db m.db forum search "noise sender" --client acme --json
like "$(out)" "noise sender: reports@acme.example" "the high-volume sender is posted to the forum for this client"
run --db m.db forum search "noise sender" --global --json
is "$("$JQ" '.hits | length' "$OUT")" 0 "noise senders are addresses: never global patterns"

# explain
run --db m.db tree acme --explain noise
is "$RC" 0 "--explain exits 0"
like "$(out)" "placed by noise: a List-Unsubscribe header" "explain names the newsletter rule"
like "$(out)" "placed by noise: a no-reply sender" "and the no-reply rule"
like "$(out)" "10 placed by noise: a high-volume sender nobody replies to" "and the volume rule, with counts"
run --db m.db tree acme --explain people/pay
like "$(out)" "placed by the client's taxonomy" "a taxonomy skill is explained by the taxonomy"
like "$(out)" "keyword hits \\(payroll, salary\\)" "with the keywords that hit"
skill=$("$JQ" -r 'select(.kind=="entry" and (.key|test("infra0.txt"))) | .path | split("/")[0:2] | join("/")' m.jsonl)
run --db m.db tree acme --explain "$skill" --json
is "$RC" 0 "--explain --json exits 0"
jq_ok '.path != null and .entries > 0 and (.reasons[0].reason | startswith("topic terms: ")) and (.reasons[0].examples | length) > 0' \
    "a discovered skill is explained by its topic terms, with examples"
jq_ok '.node.level == 2 and (.node.summary | startswith("Keywords: "))' "the node and its keywords come along"
expect_fail 1 "no tree node 'nope/x'" "an unknown path is an error" --db m.db tree acme --explain nope/x
expect_fail 2 "not both" "PATH and --explain PATH together are a usage error" --db m.db tree acme noise --explain noise

# the forum finding routes that sender's mail later, even one message alone
msg rep11 "Reports <reports@acme.example>" "Daily report 11" "<r11@acme.example>" "" "Daily figures for day eleven."
run --db m.db onboard acme mail.json --structurers 2
run --db m.db export acme
is "$("$JQ" -r 'select(.kind=="entry" and (.key|endswith("rep11.eml"))) | .metadata.placed_by' "$OUT")" \
    "noise: forum finding 'noise sender' for its sender" "a lone message from a known noise sender is routed by the forum finding"

done_testing
