#!/usr/bin/env bash
# trawl onboard end to end with folder sources: every file becomes one
# document, incremental runs, deletions, hostile trees, and sources files.
. "$(dirname "$0")/../cli/lib.sh" "$@"

# A real tree: package documentation (many .gz), plus awkward names.
mk_tree()
{
    local d=$1
    mkdir -p "$d"
    for p in bash coreutils grep sed; do
        [ -d /usr/share/doc/$p ] && cp -r /usr/share/doc/$p "$d/"
    done
    mkdir -p "$d/deep/er/and/deeper" "$d/with space" "$d/ünïcode"
    printf 'payroll is due on the 25th\n' >"$d/deep/er/and/deeper/payroll notes.txt"
    printf 'quarterly invoice summary\n' >"$d/with space/invoice.txt"
    printf 'caf\xc3\xa9 \xff\xfe broken utf-8 survives\n' >"$d/ünïcode/bad-utf8.txt"
    : >"$d/empty.txt"
    head -c 4096 /dev/urandom >"$d/blob.bin"
}
files_in() { find "$1" -type f | wc -l; }

mk_tree src1
ln -s /etc/passwd src1/passwd-link
ln -s ../.. src1/loop-link
mkfifo src1/fifo
mk_tree src2
cat >sources.json <<JSON
{"client": "acme",
 "sources": [
   {"name": "docs", "type": "folder", "path": "$SCRATCH/src1"},
   {"name": "more", "type": "folder", "path": "$SCRATCH/src2"}
 ]}
JSON
n1=$(files_in src1)
n2=$(files_in src2)

run onboard acme sources.json --json --structurers 0
is "$RC" 0 "onboard exits 0"
jq_ok '.status == "ok" and .sources_ok == 2' "run record says ok"
is "$(jqv '.sources.docs.documents_new')" "$n1" "every regular file of docs is a document ($n1)"
is "$(jqv '.sources.more.documents_new')" "$n2" "every regular file of more is a document ($n2)"
is "$(sqlite3 "$TRAWL_DB" 'select count(*) from documents')" $((n1 + n2)) "documents table count"
is "$(sqlite3 "$TRAWL_DB" 'select count(*) - count(distinct source_id || external_id) from documents')" 0 "no duplicates"
is "$(sqlite3 "$TRAWL_DB" "select count(*) from documents where external_id like '%passwd%' or text like '%root:x:0:0%'")" 0 "symlinks are not followed"
like "$(sqlite3 "$TRAWL_DB" "select text from documents where external_id = 'deep/er/and/deeper/payroll notes.txt'")" "payroll is due" "text of a deep file"
like "$(sqlite3 "$TRAWL_DB" "select text from documents where external_id like '%bash/changelog.Debian.gz'")" "bash" "gzip text is decompressed"
is "$(sqlite3 "$TRAWL_DB" "select mime from documents where external_id = 'blob.bin' and source_id = 1")" "application/octet-stream" "binary is described, not indexed as text"
like "$(sqlite3 "$TRAWL_DB" "select text from documents where external_id like '%bad-utf8.txt'")" "survives" "invalid UTF-8 is repaired, text kept"
run search acme "payroll"
like "$(out)" "payroll notes.txt" "search finds the onboarded document"
run tree acme --json
jq_ok '[.nodes[].path] | sort == ["docs","more"]' "tree has one domain per source"
run forum search "file types" --client acme --json
jq_ok '[.hits[].source_type] | unique == ["folder"]' "explorers posted findings to the forum"

# Incremental: nothing changed, nothing fetched.
run onboard acme sources.json --json --structurers 0
jq_ok '.sources.docs.documents_new == 0 and .sources.docs.documents_updated == 0 and .totals.bytes == 0' "second run fetches nothing"
printf 'zebraquartz\n' >>src1/deep/er/and/deeper/"payroll notes.txt"
touch -d '2001-01-01' src1/deep/er/and/deeper/"payroll notes.txt"
rm src1/empty.txt
printf 'brand new\n' >src1/new.txt
run onboard acme sources.json --json --structurers 0
jq_ok '.sources.docs.documents_new == 1' "one new file, one new document"
jq_ok '.sources.docs.documents_updated == 1' "one changed file, one updated document"
jq_ok '.sources.docs.documents_deleted == 1' "one removed file, one deleted document"
jq_ok '.sources.more.documents_new == 0 and .sources.more.bytes == 0' "the other source fetched nothing"
is "$(sqlite3 "$TRAWL_DB" "select deleted from documents where external_id = 'empty.txt' and source_id = 1")" 1 "removed file is marked deleted"
run search acme "zebraquartz"
like "$(out)" "payroll notes" "updated text is searchable"
run runs acme --json
jq_ok '(.runs | length) == 3 and all(.runs[]; .status == "ok")' "three runs recorded"

# Sources file errors: file, line, column, and the alternatives.
printf '{"client":"acme",\n "sources":[\n  {"name":"a","type":"gmial","path":"/x"}]}\n' >bad-type.json
expect_fail 1 "sources file 'bad-type.json' line 3 column 22: unknown source type 'gmial' \(known: .*folder" "unknown type names line, column and known types" onboard acme bad-type.json
printf '{"sources":[{"name":"a","type":"folder","path":"/x","password":"hunter2"}]}' >inline.json
expect_fail 1 "password' holds a secret inline" "inline secret refused" onboard acme inline.json
unlike "$(err)" "hunter2" "the secret is not echoed"
printf '{"sources":[{"name":"a","type":"folder"}]}' >nopath.json
expect_fail 1 "needs \"path\"" "missing path" onboard acme nopath.json
printf '{"sources":[{"name":"a","type":"folder","path":"/x"},{"name":"a","type":"folder","path":"/y"}]}' >dup.json
expect_fail 1 "used twice" "duplicate source names" onboard acme dup.json
printf '{"sources":[{"name":"a",' >trunc.json
expect_fail 1 "sources file 'trunc.json' line 1 column" "truncated JSON" onboard acme trunc.json
printf '{"client":"other","sources":[{"name":"a","type":"folder","path":"/x"}]}' >other.json
expect_fail 1 "is for client 'other'" "client mismatch" onboard acme other.json
expect_fail 2 "missing CLIENT" "usage error" onboard
printf '{"sources":[{"name":"gone","type":"folder","path":"%s/nope"}]}' "$SCRATCH" >missing-dir.json
run onboard acme missing-dir.json --json
is "$RC" 1 "a source whose folder is missing fails the run"
jq_ok '.sources.gone.status == "failed" and (.sources.gone.error | test("cannot open folder"))' "and says why"

done_testing
