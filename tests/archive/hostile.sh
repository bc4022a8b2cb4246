#!/usr/bin/env bash
# Hostile archives, built with real tools (bsdtar, zip, 7z, python's tarfile
# and zipfile for what the tools refuse to write): traversal, absolute and
# backslash names, links and devices, bombs by ratio, by count, nested and
# overlapping, encrypted, truncated and corrupt. Each gives precise errors and
# the good members still come through.
. "$(dirname "$0")/lib.sh" "$@"

mkdir -p in && cd in || exit 1
printf 'good member survives\n' >good.txt
printf 'victim text\n' >victim.txt
ln -s /etc/passwd link
ln good.txt hard
cd ..

# ---- names and entry types ------------------------------------------------------
bsdtar -cf trav.tar -C in -s ',^victim,../../../etc/victim,' good.txt victim.txt link hard
run trav.tar
is "$RC" 0 "traversal tar: extracted"
jqs 'map(.part) | sort == [null, "etc/victim.txt", "good.txt"]' "traversal tar: '../' removed from the part id, links give no document"
jqs '.[] | select(.part == "etc/victim.txt") | .metadata.path_sanitised == "'"'"'..'"'"' removed" and .metadata.archive_path_raw == "../../../etc/victim.txt"' "traversal tar: the raw name and what was changed are recorded"
jqs '.[] | select(.part == "good.txt") | .text == "good member survives\n"' "traversal tar: the good member's text"
jqs '.[] | select(.part == null) | .metadata.skipped == [{"path":"link","reason":"symbolic link to '"'"'/etc/passwd'"'"' is not followed"},{"path":"hard","reason":"hard link to '"'"'good.txt'"'"' is not followed"}]' "traversal tar: symlink and hardlink recorded as skipped with reasons"
unlike "$(out)" "root:x:0:0" "the symlink target is never read"

bsdtar -cf abs.tar -P "$SCRATCH/in/good.txt"
run abs.tar
jqs '.[0].part == "'"${SCRATCH#/}"'/in/good.txt" and (.[0].metadata.path_sanitised | test("absolute"))' "absolute path made relative"

python3 -W ignore - <<'PY'
import tarfile, io, zipfile
t = tarfile.open("dev.tar", "w")
for name, kind in (("dev/null", tarfile.CHRTYPE), ("dev/sda", tarfile.BLKTYPE), ("fifo", tarfile.FIFOTYPE)):
    i = tarfile.TarInfo(name); i.type = kind; i.devmajor = 1; i.devminor = 3
    t.addfile(i)
data = b"after the devices\n"
i = tarfile.TarInfo("ok.txt"); i.size = len(data); t.addfile(i, io.BytesIO(data))
t.close()
z = zipfile.ZipFile("names.zip", "w")
z.writestr("..\\..\\windows\\evil.txt", "backslash traversal\n")
z.writestr("C:/Windows/abs.txt", "drive letter\n")
z.writestr("nul\x00hidden.txt", "nul in the name\n")  # libarchive stops at the NUL
z.writestr("ctl\x01\x1b[31m.txt", "control characters\n")
z.writestr("long/" + "x" * 400 + ".txt", "overlong component\n")
z.writestr("/".join(["d"] * 100) + "/deep.txt", "very deep\n")
z.writestr("./././", "")
z.writestr("dup.txt", "first\n")
z.writestr("dup.txt", "second\n")
z.close()
PY
run dev.tar
jqs 'map(.part) == ["ok.txt", null]' "device tar: only the regular file becomes a document"
jqs '.[1].metadata.skipped | map(.reason) == ["character device entry is not content", "block device entry is not content", "named pipe entry is not content"]' "device tar: each device entry skipped with its reason"

run names.zip
is "$RC" 0 "hostile names zip: extracted"
jqs 'any(.[]; .part == "windows/evil.txt" and (.metadata.path_sanitised | test("removed")))' "backslash traversal becomes windows/evil.txt"
jqs 'any(.[]; .part == "Windows/abs.txt" and (.metadata.path_sanitised | test("absolute")))' "drive letter removed"
jqs 'all(.[]; .part == null or (.part | test("[\u0000-\u001f\u007f\\\\]") | not))' "no part id holds a control character or backslash"
jqs 'all(.[]; .part == null or ((.part | startswith("/")) or (.part | split("/") | any(. == ".." or . == "." or . == "")) | not))' "no part id is absolute or has empty, . or .. components"
jqs 'all(.[]; .part == null or (.part | utf8bytelength) <= 1024)' "part ids are at most 1024 bytes"
jqs 'any(.[]; (.part // "") | startswith("long/xxxx")) and any(.[]; .metadata.path_sanitised == "overlong name cut")' "overlong component cut and flagged"
jqs '[.[] | select(.part == "dup.txt" or .part == "dup.txt~2") | .text] | sort == ["first\n", "second\n"]' "duplicate names get distinct part ids"
jqs 'map(.part) | length == (unique | length)' "part ids are unique"

# ---- bombs --------------------------------------------------------------------
head -c 100000000 /dev/zero >zeros
zip -q -9 ratio.zip zeros in/good.txt
rm zeros
run ratio.zip
is "$RC" 0 "ratio bomb: not a failure of the whole run"
jqs '.[] | select(.part == null) | .metadata.extract_error | test("expands more than 200 times its [0-9]+ packed bytes .*max_ratio.*stopped at '"'"'zeros'"'"'")' "ratio bomb: a precise error on the archive's document"
jqs '.[] | select(.part == "zeros") | .metadata.extract_error | test("max_ratio")' "ratio bomb: the bomb member says why it has no text"
run ratio.zip --max-ratio 5000
jqs '(.[] | select(.part == null) | .metadata | has("extract_error") | not) and (.[] | select(.part == "zeros") | .text == "")' "ratio bomb: a higher max_ratio lets it through (binary: no text)"
run ratio.zip --max-ratio 5000 --max-expanded 50000000
jqs '.[] | select(.part == null) | .metadata.extract_error | test("more than 50000000 bytes .*max_expanded")' "max_expanded stops it too"

mkdir -p many
for i in $(seq 1 1500); do printf '%s\n' "$i" >many/f$i.txt; done
bsdtar -cf many.tar many
run many.tar --max-parts 1000
jqs '(map(select(.part != null)) | length) == 1000' "count bomb: the first 1000 members come through"
jqs '.[] | select(.part == null) | .metadata.extract_error | test("more than 1000 entries .*max_parts")' "count bomb: a precise error"

# 42.zip in small: three levels, each moderate, 2 GB in all
head -c 20000000 /dev/zero >z0
zip -q -9 z1.zip z0
rm z0
for i in $(seq 1 10); do cp z1.zip a$i.zip; done
zip -q -0 z2.zip a*.zip && rm a*.zip
for i in $(seq 1 10); do cp z2.zip b$i.zip; done
zip -q -0 z3.zip b*.zip in/good.txt && rm b*.zip
run z3.zip
is "$RC" 0 "nested bomb: not a failure of the whole run"
jqs '.[] | select(.part == null) | .metadata.extract_error | test("max_ratio")' "nested bomb: caught by the budget shared across levels"
jqs 'any(.[]; .part == "b1.zip/a1.zip/z0")' "nested bomb: part ids join the levels"
run z3.zip --max-depth 2
jqs '.[] | select(.part == "b1.zip/a1.zip") | .metadata.extract_error | test("max_depth")' "max_depth: the third level is not expanded, and says so"
jqs '.[] | select(.part == "in/good.txt") | .text == "good member survives\n"' "nested bomb: the good member comes through"

# overlapping entries (Fifield): many central-directory records, one kernel
python3 -W ignore - <<'PY'
import zipfile, struct
zipfile.ZipFile("one.zip", "w", zipfile.ZIP_DEFLATED).writestr("k", b"\0" * 30_000_000)
b = open("one.zip", "rb").read()
eocd = b.rfind(b"PK\x05\x06")
cd_off = struct.unpack("<I", b[eocd + 16:eocd + 20])[0]
cd = b[cd_off:eocd]
n = 200
recs = b""
for i in range(n):
    name = ("k%03d" % i).encode()
    r = bytearray(cd)
    fnlen = struct.unpack("<H", r[28:30])[0]
    r = r[:46] + name + r[46 + fnlen:]
    r[28:30] = struct.pack("<H", len(name))
    recs += bytes(r)
end = bytearray(b[eocd:eocd + 22])
end[8:10] = struct.pack("<H", n); end[10:12] = struct.pack("<H", n)
end[12:16] = struct.pack("<I", len(recs)); end[16:20] = struct.pack("<I", cd_off)
open("overlap.zip", "wb").write(b[:cd_off] + recs + bytes(end))
PY
run overlap.zip
is "$RC" 0 "overlapping-entry zip: not a failure of the whole run"
# libarchive reads each local header once; were it to change, the budget stops it
jqs '(.[] | select(.part == null) | .metadata.extract_error // "" | test("max_ratio|max_expanded|damaged")) or ([.[] | select(.part != null)] | length) == 1' "overlapping-entry zip: the kernel is not expanded 200 times"

# ---- encrypted, truncated, corrupt ------------------------------------------------
(cd in && zip -q -P hunter2 ../enc.zip victim.txt && zip -q ../enc.zip good.txt)
run enc.zip
jqs '.[] | select(.part == "victim.txt") | .metadata.encrypted == true and (.metadata.extract_error | test("encrypted"))' "encrypted zip entry reported"
jqs '.[] | select(.part == "good.txt") | .text == "good member survives\n"' "encrypted zip: the plain member comes through"
jqs '.[] | select(.part == null) | .metadata.encrypted_entries == 1' "encrypted zip: counted on the archive"
(cd in && 7z a -bd -phunter2 ../enc.7z victim.txt >/dev/null)
run enc.7z
jqs 'any(.[]; .part == "victim.txt" and (.metadata.extract_error | test("encrypted|[Pp]assphrase")))' "encrypted 7z entry reported"

mkdir -p big
for i in $(seq 1 40); do head -c 20000 /dev/urandom | base64 >big/r$i.txt; done
bsdtar -czf full.tgz big
head -c $(($(stat -c %s full.tgz) / 2)) full.tgz >trunc.tgz
run trunc.tgz
is "$RC" 0 "truncated tar.gz: the members before the cut"
jqs '(map(select(.part != null and .metadata.extract_error == null)) | length) >= 5' "truncated tar.gz: early members come through"
jqs '.[] | select(.part == null) | .metadata.extract_error | test("damaged")' "truncated tar.gz: the archive says it is damaged"

bsdtar -cf - big 2>/dev/null | head -c 300000 >trunc.tar
run trunc.tar
jqs '.[] | select(.part == null) | .metadata.extract_error | test("damaged")' "truncated tar: the archive says it is damaged"

(cd big && zip -q -9 ../full.zip r1.txt r2.txt r3.txt)
python3 -c "
b = bytearray(open('full.zip','rb').read()); i = b.find(b'PK\x03\x04', 10) - 3000
for k in range(i, i + 200): b[k] ^= 0x5a
open('corrupt.zip','wb').write(b)"
run corrupt.zip
is "$RC" 0 "corrupt zip: extracted what it could"
jqs 'any(.[]; .part == "r1.txt" and .metadata.extract_error == null) or any(.[]; .part == "r3.txt" and .metadata.extract_error == null)' "corrupt zip: intact members come through"
jqs 'any(.[]; .metadata.extract_error // "" | test("damaged"))' "corrupt zip: the damaged member says so"

head -c 4000 /dev/urandom >noise.zip
run noise.zip
is "$RC" 0 "random bytes named .zip: not an archive, described"
jqs 'length == 1 and .[0].mime == "application/octet-stream"' "random bytes: one binary document"

# a member over the sandbox's file size limit (RLIMIT_FSIZE) is refused, not fatal
head -c 3000000 /dev/urandom >big.bin
zip -q -0 fsize.zip big.bin in/good.txt
rm big.bin
(ulimit -f 1000 && run fsize.zip)
jqs '.[] | select(.part == "big.bin") | .metadata.extract_error == "member is larger than the 1024000-byte file size limit of the workspace: not extracted"' "a member over RLIMIT_FSIZE is reported, not a SIGXFSZ"
jqs '.[] | select(.part == "in/good.txt") | .text == "good member survives\n"' "the members after it come through"

# a hostile Takeout mailbox: junk before the first message, a 2 MB line, a
# 70 MB message, a From_ line inside a body without a blank line before it
mkdir -p tk/Takeout/Mail tk/Takeout/Drive
python3 - <<'PY'
with open("tk/Takeout/Mail/Inbox.mbox", "w") as f:
    f.write("junk before any message\n\n")
    f.write("From a@x Mon Jan 15 09:00:00 2024\nX-Gmail-Labels: Inbox\nSubject: first\n\nbody one\nFrom here on, not a new message\n\n")
    f.write("From b@x Mon Jan 15 09:01:00 2024\nSubject: long line\n\n" + "y" * 2_000_000 + "\n\n")
    f.write("From c@x Mon Jan 15 09:02:00 2024\nSubject: huge\n\n" + ("0" * 1023 + "\n") * 70_000 + "\n")
    f.write("From d@x Mon Jan 15 09:03:00 2024\nX-Gmail-Labels: \"unterminated, label\nSubject: last\n\nbody four\n")
PY
printf 'drive file\n' >tk/Takeout/Drive/a.txt
bsdtar -czf tk.tgz -C tk .
run tk.tgz --max-ratio 100000
mb="Takeout/Mail/Inbox.mbox"
jqs '[.[] | select(.parent_part == "'"$mb"'")] | length == 4' "hostile mbox: four messages, junk before the first ignored"
jqs '.[] | select(.part == "'"$mb"'/1") | .text | test("body one\nFrom here on, not a new message$")' "hostile mbox: a From line without a blank line before it stays in the body"
jqs '.[] | select(.part == "'"$mb"'/2") | .text | length > 1000000' "hostile mbox: a 2 MB line is kept"
jqs '.[] | select(.part == "'"$mb"'/3") | .title == "huge" and .metadata.extract_error == "message larger than 67108864 bytes: not extracted"' "hostile mbox: a message over 64 MiB is reported"
jqs '.[] | select(.part == "'"$mb"'/4") | .metadata.labels == ["unterminated, label"] and (.text | test("body four"))' "hostile mbox: an unterminated quote in the labels, the message after the huge one"
jqs '.[] | select(.part == "Takeout/Drive/a.txt") | .text == "drive file\n"' "hostile mbox: the archive goes on after it"

ls -a . in | grep -c '^\.trawl-member' >leftover || true
is "$(cat leftover)" 0 "no temporary member file is left behind"
done_testing
