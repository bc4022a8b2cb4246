#!/usr/bin/env bash
# A maildir that Dovecot has worked on (its real imap binary, in pre-auth
# mode over a pipe: select, flag, keyword, subscribe, create a folder) holds
# Dovecot's index and control files next to the mail, and Courier's are
# added by hand. Only the messages become documents; a later run after
# Dovecot renamed a message (a flag change) notices the rename, and a
# source's own "exclude" patterns leave more out.
. "$(dirname "$0")/../cli/lib.sh" "$@"
IMAP=${DOVECOT_IMAP:-/usr/lib/dovecot/imap}
[ -x "$IMAP" ] || { echo "Bail out! $IMAP is missing (scripts/install-deps installs dovecot-imapd)"; exit 1; }

md=$SCRATCH/dv/Maildir
mkdir -p "$md"/{cur,new,tmp} "$md"/.Sent/{cur,new,tmp}
msg() { printf 'From: Ann <ann@example.invalid>\nTo: bob@example.invalid\nSubject: %s\nMessage-ID: <%s@example.invalid>\nDate: Tue, 3 Sep 2002 10:00:00 +0000\n\n%s\n' "$1" "$2" "$3"; }
msg "quarterly figures" q1 "the quarterly figures are attached in spirit" >"$md/new/1000.M1P1.host"
msg "lunch" l2 "lunch on friday" >"$md/new/1001.M2P1.host"
msg "sent reply" s3 "a reply from the sent folder" >"$md/.Sent/cur/1002.M3P1.host:2,S"
cat >"$SCRATCH/dv/dovecot.conf" <<CONF
mail_location = maildir:$md
base_dir = $SCRATCH/dv/run
state_dir = $SCRATCH/dv/state
ssl = no
namespace inbox {
  inbox = yes
  separator = .
}
CONF
# Dovecot refuses to serve mail as root: run it as nobody then
asuser=()
if [ "$(id -u)" = 0 ]; then
    chown -R 65534:65534 "$SCRATCH/dv"
    chmod 755 "$SCRATCH"
    asuser=(setpriv --reuid=65534 --regid=65534 --clear-groups)
fi
imap() {
    printf '%s\n' "$@" 'z LOGOUT' | "${asuser[@]}" env -i USER=tester HOME="$SCRATCH/dv" PATH=/usr/bin:/bin \
        "$IMAP" -c "$SCRATCH/dv/dovecot.conf" -o log_path=/dev/stderr >imap.out 2>imap.err
}
imap 'a SELECT INBOX' 'b STORE 1 +FLAGS (\Flagged projectx)' 'c SUBSCRIBE Sent' 'd CREATE Archive' 'e SELECT Sent'
like "$(cat imap.out)" "b OK" "dovecot stored a flag and a keyword"
for f in dovecot-uidlist dovecot-uidvalidity dovecot.index.log dovecot-keywords subscriptions .Archive/maildirfolder; do
    ok $([ -e "$md/$f" ]; echo $?) "dovecot wrote $f"
done
touch "$md/courierimapuiddb" "$md/courierimapkeywords" "$md/.customflags" "$md/maildirsize"
printf 'half-delivered\n' >"$md/tmp/1003.M4P1.host" # a delivery in progress
cat >sources.json <<JSON
{"sources": [{"name": "md", "type": "maildir", "path": "$md"}]}
JSON
run onboard acme sources.json --json
is "$RC" 0 "the maildir is onboarded"
q() { sqlite3 "$TRAWL_DB" "$1"; }
is "$(q "select group_concat(external_id, ' ') from (select external_id from documents where deleted = 0 order by 1)")" \
    ".Sent/cur/1002.M3P1.host:2,S cur/1000.M1P1.host:2,Fa cur/1001.M2P1.host:2," \
    "only the three messages are documents: no index, control or tmp/ file"
is "$(q "select count(*) from documents where mime <> 'message/rfc822'")" 0 "every document is a message"
is "$(q "select json_extract(metadata, '\$.maildir_flags') from documents where external_id like 'cur/1000%'")" '["flagged"]' \
    "the flag dovecot set is read from the file name"
run search acme "quarterly figures"
like "$(out)" "quarterly" "the messages are searchable"

imap 'a SELECT INBOX' 'b STORE 2 +FLAGS (\Seen)'
run onboard acme sources.json --json
jq_ok '.sources.md.documents_new == 1 and .sources.md.documents_deleted == 1' \
    "dovecot renamed a message for a new flag: one new document, one deleted"
is "$(q "select json_extract(metadata, '\$.maildir_flags') from documents where deleted = 0 and external_id like 'cur/1001%'")" '["seen"]' \
    "the renamed message carries its new flag"
is "$(q "select count(*) from documents where deleted = 0 and (external_id like '%dovecot%' or external_id like '%courier%' or external_id like '%subscriptions%')")" 0 \
    "the second listing has no control file either"

cat >sources.json <<JSON
{"sources": [{"name": "md", "type": "maildir", "path": "$md", "exclude": [".Sent/"]}]}
JSON
run onboard acme sources.json --json
is "$(q "select count(*) from documents where deleted = 0 and external_id like '.Sent/%'")" 0 \
    "a source's own exclude pattern leaves a folder out"
cat >sources.json <<JSON
{"sources": [{"name": "md", "type": "maildir", "path": "$md", "exclude": "tmp"}]}
JSON
run onboard acme sources.json --json
like "$(err)" "exclude" "an exclude that is not an array is refused with a message"
done_testing
