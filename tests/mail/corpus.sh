#!/usr/bin/env bash
# Mail on real data: the SpamAssassin public corpus written out as an mbox,
# a maildir and a folder of .eml files, onboarded as sources of types mbox,
# maildir and eml. Message and attachment counts must equal what Python's
# email package counts in the same files (tests/mail/corpus.py); a second run
# fetches nothing; a deleted maildir message is marked deleted.
. "$(dirname "$0")/../cli/lib.sh" "$@"
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)

data=$("$ROOT/scripts/fetch-corpus" spam-assassin) || { echo "Bail out! cannot fetch the corpus"; exit 1; }
python3 "$HERE/corpus.py" "$data" "$SCRATCH/mail" "${TRAWL_MAIL_STEP:-1}" >counts.json
cnt() { "$JQ" -r "$1" counts.json; }
cat >sources.json <<JSON
{"sources": [
   {"name": "box", "type": "mbox", "path": "$SCRATCH/mail/mbox/corpus.mbox"},
   {"name": "md", "type": "maildir", "path": "$SCRATCH/mail/maildir"},
   {"name": "files", "type": "eml", "path": "$SCRATCH/mail/eml"}]}
JSON
run onboard acme sources.json --json
is "$RC" 0 "the corpus is onboarded"
msgs() { sqlite3 "$TRAWL_DB" "select count(*) from documents d join sources s on s.id = d.source_id where s.name = '$1' and d.mime = 'message/rfc822' and d.deleted = 0 and json_extract(d.metadata, '\$.attachment') is null"; }
atts() { sqlite3 "$TRAWL_DB" "select count(*) from documents d join sources s on s.id = d.source_id where s.name = '$1' and json_extract(d.metadata, '\$.attachment') = 1 and d.deleted = 0"; }
for k in box:mbox md:maildir files:eml; do
    src=${k%%:*} kind=${k#*:}
    is "$(msgs $src)" "$(cnt ".$kind[0]")" "$kind: one document per message (as Python counts)"
    is "$(atts $src)" "$(cnt ".$kind[1]")" "$kind: one document per attachment (as Python counts)"
done
is "$(sqlite3 "$TRAWL_DB" "select count(*) from documents where mime = 'message/rfc822' and (title is null or title = '')")" 0 "every message has a title"
ok $([ "$(sqlite3 "$TRAWL_DB" "select count(*) from documents where json_extract(metadata, '\$.date') like '2002-%'")" -gt 100 ]; echo $?) "dates are read (ISO 8601)"
ok $([ "$(sqlite3 "$TRAWL_DB" "select count(*) from documents where json_extract(metadata, '\$.message_id') like '<%>'")" -gt 1000 ]; echo $?) "Message-IDs are recorded"
ok $([ "$(sqlite3 "$TRAWL_DB" "select count(*) from documents where json_array_length(json_extract(metadata, '\$.references')) > 0")" -gt 10 ]; echo $?) "References are recorded for threading"
is "$(sqlite3 "$TRAWL_DB" "select count(*) from documents where title like '%=?%?=%' or json_extract(metadata, '\$.from') like '%=?%?=%'")" 0 "no encoded word is left undecoded"
is "$(sqlite3 "$TRAWL_DB" "select count(*) from documents d join sources s on s.id = d.source_id where s.name = 'md' and json_extract(d.metadata, '\$.maildir_flags[0]') = 'seen'")" \
   "$(ls "$SCRATCH/mail/maildir/cur" | wc -l)" "maildir flags are read from file names"
run search acme "exmh"
like "$(out)" "exmh" "message text is searchable"

run onboard acme sources.json --json
jq_ok '.totals.bytes == 0 and ([.sources[].documents_new] | add) == 0' "a second run fetches nothing"
victim=$(ls "$SCRATCH/mail/maildir/cur" | head -1)
rm "$SCRATCH/mail/maildir/cur/$victim"
run onboard acme sources.json --json
jq_ok '.sources.md.documents_deleted >= 1' "a deleted maildir message is noticed"
is "$(sqlite3 "$TRAWL_DB" "select deleted from documents where external_id = 'cur/$victim'")" 1 "and its document is marked deleted"
done_testing
