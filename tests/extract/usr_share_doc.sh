#!/usr/bin/env bash
# A copy of part of this machine's /usr/share/doc (real Debian files: many
# compressed with gzip under names without any further extension, such as
# changelog.Debian.gz, and many with no extension at all, such as
# copyright): every .gz and every extensionless file that Python's own gzip
# reader and a byte check find to be text is extracted with its text.
. "$(dirname "$0")/../cli/lib.sh" "$@"
mkdir -p doc
for d in $(ls /usr/share/doc | head -120); do
    [ -d "/usr/share/doc/$d" ] && [ ! -L "/usr/share/doc/$d" ] && cp -r "/usr/share/doc/$d" doc/
done
python3 - doc >expected.txt <<'PY'
import gzip, os, sys
root = sys.argv[1]
for d, _, files in os.walk(root):
    for f in files:
        p = os.path.join(d, f)
        if os.path.islink(p) or not os.path.isfile(p):
            continue
        rel = os.path.relpath(p, root)
        if f.endswith(".gz"):
            try:
                head = gzip.open(p).read(8192)
            except (OSError, EOFError):
                continue
            if f[:-3].endswith((".html", ".htm", ".tar", ".pdf", ".ps", ".dvi")):
                continue
        elif "." not in f:
            head = open(p, "rb").read(8192)
        else:
            continue
        ctrl = sum(1 for b in head if b < 32 and b not in (9, 10, 12, 13, 27))
        if head and b"\0" not in head and ctrl * 100 <= len(head):
            print(rel)
PY
n=$(wc -l <expected.txt)
ok $([ "$n" -ge 20 ]; echo $?) "the copy holds compressed and extensionless text files ($n)"
cat >sources.json <<JSON
{"sources": [{"name": "doc", "type": "folder", "path": "$SCRATCH/doc"}]}
JSON
run onboard debian sources.json --json
is "$RC" 0 "the tree is onboarded"
sqlite3 "$TRAWL_DB" "select external_id from documents where deleted = 0 and length(text) > 0 and mime like 'text/%'" | sort >got.txt
sort expected.txt >want.txt
is "$(comm -23 want.txt got.txt | head -5)" "" "every .gz and extensionless text file has its text"
sqlite3 "$TRAWL_DB" "select external_id from documents where json_extract(metadata, '\$.compressed') = 1 and length(text) > 0" |
    sort >compressed.txt
is "$(grep '\.gz$' want.txt | comm -23 - compressed.txt | head -5)" "" "and the .gz ones say they were compressed"
done_testing
