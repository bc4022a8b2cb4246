#!/usr/bin/env bash
# Messages inside an mbox are keyed by Message-ID (else by a hash of their
# content), not by position: after one message (with an attachment) is
# removed and another inserted in the middle, a re-run marks exactly that
# message and its attachment deleted, adds the new one, and leaves the other
# N-1 messages unchanged (not rewritten). Also: a Latin-1 message is
# converted inside the sandbox.
. "$(dirname "$0")/../cli/lib.sh" "$@"
N=20
python3 - "$N" <<'PY'
import sys
n = int(sys.argv[1])
def msg(i, mid=True, attach=False, latin1=False):
    h = "From sender%d@example.invalid Thu Jan  1 00:00:00 2004\n" % i
    h += "From: Sender %d <sender%d@example.invalid>\nSubject: message number %d\n" % (i, i, i)
    if mid:
        h += "Message-ID: <msg%d.%d@example.invalid>\n" % (i, 7 * i)
    if attach:
        return (h + 'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="b%d"\n\n'
                "--b%d\nContent-Type: text/plain\n\nsee the notes %d\n"
                '--b%d\nContent-Type: text/plain\nContent-Disposition: attachment; filename="notes%d.txt"\n\n'
                "attached notes of message %d\n--b%d--\n\n" % (i, i, i, i, i, i, i)).encode()
    if latin1:
        return (h + "Content-Type: text/plain; charset=iso-8859-1\n\n").encode() + \
            "caf\xe9 cr\xe8me br\xfbl\xe9e for message %d\n\n".encode("latin-1") % i
    return (h + "\nplain body of message %d\n\n" % i).encode()
def box(items):
    return b"".join(items)
first = [msg(i, mid=(i != 3), attach=(i == 10), latin1=(i == 5)) for i in range(n)]
open("box.mbox", "wb").write(box(first))
second = first[:10] + first[11:]          # message 10 (and its attachment) removed
second.insert(6, msg(99))                  # a new message in the middle
open("box2.mbox", "wb").write(box(second))
PY
mkdir -p mail && cp box.mbox mail/box.mbox
cat >sources.json <<JSON
{"sources": [{"name": "box", "type": "mbox", "path": "$SCRATCH/mail/box.mbox"}]}
JSON
q() { sqlite3 "$TRAWL_DB" "$1"; }
run onboard acme sources.json --json
is "$RC" 0 "the mbox is onboarded"
is "$(q "select count(*) from documents where mime = 'message/rfc822' and json_extract(metadata, '\$.attachment') is null")" "$N" "$N messages"
is "$(q "select count(*) from documents where external_id = 'box.mbox#msg10.70@example.invalid/1'")" 1 "the attachment is a part of its message's key"
is "$(q "select count(*) from documents where external_id like 'box.mbox#hash-%'")" 1 "the message without a Message-ID is keyed by its content"
run search acme "crème brûlée"
like "$(out)" "message number 5" "a Latin-1 message is converted to UTF-8 in the sandbox"
before=$(q "select group_concat(id || ':' || run_id) from documents where external_id <> 'box.mbox' and external_id <> 'box.mbox#msg10.70@example.invalid' and external_id not like 'box.mbox#msg10.70@example.invalid/%' order by id")

cp box2.mbox mail/box.mbox
run onboard acme sources.json --json
is "$RC" 0 "the changed mbox is onboarded again"
jq_ok '.sources.box.documents_deleted == 2' "one message deleted, with its attachment (2 documents)"
jq_ok '.sources.box.documents_new == 1' "one new message"
jq_ok ".sources.box.documents_unchanged == $((N - 1))" "the other $((N - 1)) messages unchanged"
jq_ok '.sources.box.documents_updated == 1' "only the mbox's own document is updated"
is "$(q "select group_concat(external_id, ' ') from (select external_id from documents where deleted = 1 order by 1)")" \
    "box.mbox#msg10.70@example.invalid box.mbox#msg10.70@example.invalid/1" "the removed message and its attachment are marked deleted"
is "$(q "select count(*) from documents where external_id = 'box.mbox#msg99.693@example.invalid' and deleted = 0")" 1 "the inserted message is stored"
after=$(q "select group_concat(id || ':' || run_id) from documents where external_id <> 'box.mbox' and external_id <> 'box.mbox#msg10.70@example.invalid' and external_id not like 'box.mbox#msg10.70@example.invalid/%' and external_id <> 'box.mbox#msg99.693@example.invalid' order by id")
is "$after" "$before" "unchanged messages were not rewritten (same rows, same run)"
done_testing
