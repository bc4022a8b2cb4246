#!/usr/bin/env bash
# Real archives made by real tools: zip, bsdtar (tar, gzip, bzip2, xz, zstd),
# GNU tar, 7z, cpio, genisoimage, and nested archives. Every member's text
# comes through with its part id, the archive's own document lists them.
. "$(dirname "$0")/lib.sh" "$@"

mkdir -p tree/docs/deep tree/"with space"
printf 'payroll is due on the 25th\n' >tree/docs/payroll.txt
printf 'quarterly invoice summary\n' >tree/docs/deep/invoice.md
printf 'caf\xc3\xa9 cr\xc3\xa8me\n' >tree/"with space"/utf8.txt
cp /usr/share/common-licenses/GPL-3 tree/docs/GPL-3
gzip -9 -c /usr/share/common-licenses/Apache-2.0 >tree/docs/apache.gz
head -c 3000 /dev/urandom >tree/blob.bin
expected='["blob.bin","docs/GPL-3","docs/apache.gz","docs/deep/invoice.md","docs/payroll.txt","with space/utf8.txt"]'

check()
{
    local f=$1 mime=$2
    run "$f"
    is "$RC" 0 "$f: extracted"
    jqs '[.[] | select(.part != null) | .part] | sort == '"$expected" "$f: one document per file, part ids are the member paths"
    jqs '.[] | select(.part == "docs/payroll.txt") | .text == "payroll is due on the 25th\n" and .title == "payroll.txt" and .mime == "text/plain"' "$f: text and title of a member"
    jqs '.[] | select(.part == "docs/GPL-3") | .text | test("GNU GENERAL PUBLIC LICENSE")' "$f: a large member"
    jqs '.[] | select(.part == "docs/apache.gz") | (.text | test("Apache License")) and .metadata.compressed' "$f: a gzip member is decompressed"
    jqs '.[] | select(.part == "with space/utf8.txt") | .text == "café crème\n"' "$f: UTF-8 text and a name with a space"
    jqs '.[] | select(.part == "blob.bin") | .mime == "application/octet-stream" and .text == ""' "$f: binary is described, not indexed"
    jqs '.[] | select(.part == null) | .mime == "'"$mime"'" and .metadata.entries == 6 and (.metadata | has("extract_error") | not) and (.text | test("docs/payroll.txt"))' "$f: the archive's document lists its members"
}

(cd tree && zip -q -r ../t.zip .)
check t.zip application/zip
bsdtar -cf t.tar -C tree .
check t.tar application/x-tar
for z in gzip bzip2 xz zstd; do
    bsdtar -cf t.tar.$z --$z -C tree . 2>/dev/null || bsdtar -cf t.tar.$z --options "$z:compression-level=3" -C tree .
done
bsdtar -cf t.tar.zst --zstd -C tree .
for z in gzip bzip2 xz zst; do
    check t.tar.$z application/x-tar
    jqs '.[] | select(.part == null) | .metadata.compression == "'"$([ $z = zst ] && echo zstd || echo $z)"'"' "t.tar.$z: the compression is recorded"
done
tar -czf gnu.tgz -C tree .
check gnu.tgz application/x-tar
(cd tree && 7z a -bd -mx=9 ../t.7z . >/dev/null)
check t.7z application/x-7z-compressed
(cd tree && find . -type f | cpio -o -H newc --quiet >../t.cpio)
check t.cpio application/x-cpio
genisoimage -quiet -R -J -o t.iso tree
check t.iso application/x-iso9660-image

# an archive found inside another, three levels deep
(cd tree && zip -q ../inner.zip docs/payroll.txt)
mkdir -p mid && cp inner.zip mid/ && printf 'middle text\n' >mid/mid.txt
bsdtar -czf mid.tgz -C mid .
mkdir -p outer && cp mid.tgz outer/ && cp t.7z outer/
(cd outer && 7z a -bd ../outer.7z . >/dev/null)
run outer.7z
is "$RC" 0 "nested: extracted"
jqs '.[] | select(.part == "mid.tgz/inner.zip/docs/payroll.txt") | .text == "payroll is due on the 25th\n" and .parent_part == "mid.tgz/inner.zip"' "nested: a member three levels down, with its parent"
jqs '.[] | select(.part == "mid.tgz/inner.zip") | .mime == "application/zip" and .parent_part == "mid.tgz"' "nested: the inner archive's own document"
jqs '.[] | select(.part == "mid.tgz/mid.txt") | .text == "middle text\n"' "nested: the middle level"
jqs '[.[] | select(.part // "" | startswith("t.7z/"))] | length == 6' "nested: a sibling archive, all its members"
run outer.7z --max-depth 1
jqs '.[] | select(.part == "mid.tgz") | .metadata.extract_error | test("not expanded.*max_depth")' "max_depth 1: the nested archive is not expanded, and says so"
jqs 'any(.[]; .part // "" | startswith("mid.tgz/")) | not' "max_depth 1: nothing below it"

# office documents are zips, but not archives to expand
cp t.zip report.docx
run report.docx
jqs 'all(.[]; .part == null)' "a .docx is not expanded as an archive"

# a compressed single file is not an archive
gzip -c tree/docs/payroll.txt >single.gz
run single.gz
jqs 'length == 1 and .[0].part == null and .[0].text == "payroll is due on the 25th\n"' "a gzip of one file is text, not an archive"
done_testing
