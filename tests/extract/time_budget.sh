#!/usr/bin/env bash
# The per-file time budget ('extract': {'max_seconds'}): files that are slow
# to extract (an mbox of 100,000 messages, a gzip'd tar of 40,000 members) are
# stopped and recorded with the reason "time budget exceeded"; the parts
# reached are kept, the other files of the source are extracted, the run
# succeeds, and a later run does not take the parts it did not reach for
# deleted ones.
. "$(dirname "$0")/../cli/lib.sh" "$@"

mkdir -p src
python3 - <<'PY'
import io, tarfile
with open("src/slow.mbox", "w") as f:
    for i in range(100000):
        f.write("From a@example.invalid Thu Jan  1 00:00:00 2004\n"
                "From: a@example.invalid\nSubject: message %d\nMessage-ID: <m%d@example.invalid>\n\n"
                "body of message %d\n\n" % (i, i, i))
# gzip'd: the budget grows with the file's size (1 s per 16 MiB), and the
# plain tar's 40 MB bought it 2.6 s, in which it was read to the end.
t = tarfile.open("src/many.tar.gz", "w:gz")
for i in range(40000):
    data = b"member %d\n" % i
    ti = tarfile.TarInfo("d/%05d.txt" % i)
    ti.size = len(data)
    t.addfile(ti, io.BytesIO(data))
t.close()
PY
printf 'a small file read in no time\n' >src/fast.txt
cat >sources.json <<JSON
{"sources": [{"name": "files", "type": "folder", "path": "$SCRATCH/src",
              "extract": {"max_seconds": 0.2}}]}
JSON
run onboard acme sources.json --structurers 0 --json
is "$RC" 0 "a source with files over their time budget is onboarded"
jq_ok '.sources.files.status == "ok"' "the source completes"
q() { sqlite3 "$TRAWL_DB" "$1"; }
like "$(q "select json_extract(metadata, '\$.extract_error') from documents where external_id = 'slow.mbox'")" \
    "^time budget exceeded" "the slow mbox is recorded with the reason 'time budget exceeded'"
is "$(q "select json_extract(metadata, '\$.incomplete') from documents where external_id = 'slow.mbox'")" 1 \
    "and marked incomplete"
msgs=$(q "select count(*) from documents where external_id like 'slow.mbox#%' and deleted = 0")
ok $([ "$msgs" -ge 1 ] && [ "$msgs" -lt 100000 ]; echo $?) "the messages read before the budget ran out are kept ($msgs of 100000)"
like "$(q "select json_extract(metadata, '\$.extract_error') from documents where external_id = 'many.tar.gz'")" \
    "^time budget exceeded" "the tar of 40000 members is recorded with the reason 'time budget exceeded'"
is "$(q "select text from documents where external_id = 'fast.txt'")" "a small file read in no time" \
    "the other files of the source are extracted"

touch -d '2001-01-01' src/slow.mbox src/many.tar.gz # a new version: extracted again, stopped again
run onboard acme sources.json --structurers 0 --json
is "$RC" 0 "second run"
jq_ok '.sources.files.documents_deleted == 0' "parts the budget did not reach are not marked deleted"

# Stuck where the extractors' checks cannot see (TRAWL_FAULT=...:stall hangs
# the explorer inside the extraction of its first file): the master's
# per-file watchdog stops it after twice the budget and 5 s, records the
# file with the reason, and the restarted explorer does the rest.
mkdir -p stall && printf 'first\n' >stall/a.txt && printf 'second\n' >stall/b.txt
cat >stall.json <<JSON
{"sources": [{"name": "st", "type": "folder", "path": "$SCRATCH/stall", "extract": {"max_seconds": 0.5}}]}
JSON
TRAWL_FAULT=st:stall:once run onboard acme stall.json --structurers 0 --json
is "$RC" 0 "a source with a stuck file completes"
like "$(q "select json_extract(d.metadata, '\$.extract_error') from documents d join sources s on s.id = d.source_id where s.name = 'st' and external_id = 'a.txt'")" \
    "^time budget exceeded: still extracting after 6 s" "the stuck file is recorded with the reason"
is "$(q "select text from documents d join sources s on s.id = d.source_id where s.name = 'st' and external_id = 'b.txt'")" "second" \
    "the other file is extracted by the restarted explorer"
run onboard acme stall.json --structurers 0 --json
jq_ok '.sources.st.documents_new == 0 and .sources.st.status == "ok"' "the next run does not try the stuck file again"
done_testing
