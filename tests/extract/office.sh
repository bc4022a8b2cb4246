#!/bin/sh
# Office and CSV extraction on files made by real producers: docx, exceljs and
# pptxgenjs from npm (cached under .cache/npm-office), pandoc from Debian
# (docx, odt, pptx from the same Markdown), plus hostile files built here.
# Usage: office.sh EXTRACT_DUMP SOURCE_DIR
set -eu
dump=$1
src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
n=0

check() { # check NAME PYTHON-EXPR-ON-docs (list of dicts; file doc is part==None)
    n=$((n + 1))
    if python3 -c '
import json, sys
docs = [json.loads(l) for l in open(sys.argv[1])]
main = [d for d in docs if d["part"] is None]
main = main[0] if main else {}
ok = eval(sys.argv[2])
sys.exit(0 if ok else 1)' "$tmp/$1.out" "$2"; then
        echo "ok $n - $1: $2"
    else
        echo "not ok $n - $1: $2"
        cat "$tmp/$1.out" | cut -c1-2000 | sed 's/^/#   /'
        fail=1
    fi
}
run() { "$dump" "$tmp/$1" >"$tmp/$1.out" 2>"$tmp/$1.err" || true; }

# --- real producers ----------------------------------------------------------
cache=$src/.cache/npm-office
if [ ! -d "$cache/node_modules/exceljs" ]; then
    mkdir -p "$cache"
    (cd "$cache" && { [ -f package.json ] || npm init -y >/dev/null; } &&
        npm install --no-audit --no-fund docx@8 exceljs@4 pptxgenjs@3 >/dev/null 2>&1) || true
fi
if [ -d "$cache/node_modules/exceljs" ]; then
    NODE_PATH=$cache/node_modules node "$src/tests/extract/make_fixtures.js" "$tmp"
    run report.docx
    check report.docx 'main["title"] == "Quarterly Payroll Report" and main["author"] == "Ada Lovelace"'
    check report.docx 'main["text"].startswith("First paragraph about payroll.\nSecond paragraph: bank holidays in Zürich.\nName\tSalary\nGrace\t4200\nClosing paragraph.")'
    check report.docx '"[header]\nAcme Confidential Header" in main["text"] and "[footer]\nPage footer text" in main["text"]'
    run budget.xlsx
    check budget.xlsx 'main["title"] == "Budget 2024" and main["author"] == "Grace Hopper" and main["created"] == "2024-01-02T03:04:05Z" and main["modified"] == "2024-02-03T04:05:06Z"'
    check budget.xlsx 'main["metadata"]["sheets"] == ["Revenue", "Costs"] and len(docs) == 3'
    check budget.xlsx '[d["part"] for d in docs if d["part"]] == ["sheet/1", "sheet/2"] and docs[0]["title"] == "Revenue"'
    check budget.xlsx 'docs[0]["text"] == "Month\tAmount\tNote\nJanuary\t1200\tstrong start\nFebruary\t950\tstrong start\n\t\t\t\tfar cell"'
    check budget.xlsx 'docs[1]["text"] == "Item\tCost\nRent\t800\nCoffee\tTRUE"'
    run deck.pptx
    check deck.pptx 'main["title"] == "Roadmap Deck" and main["author"] == "Linus Torvalds"'
    check deck.pptx 'main["text"].startswith("[slide 1]\nRoadmap overview\n[notes]\nSpeaker notes for slide one\n[slide 2]\nSecond slide body\nQ1\tLaunch\nQ2\tScale")'
    check deck.pptx 'main["text"].index("[slide 2]") < main["text"].index("[slide 3]\nThird slide: thanks")'
else
    echo "# skipping npm producers: npm registry unreachable"
fi
if command -v pandoc >/dev/null; then
    cat >"$tmp/minutes.md" <<'MD'
% Pandoc Minutes
% Margaret Hamilton
% 2024-03-04

# Meeting minutes

The payroll committee met on Tuesday.

| Item | Owner |
|------|-------|
| Budget | Ada |
| Hiring | Grace |
MD
    for f in odt docx pptx; do
        pandoc "$tmp/minutes.md" -o "$tmp/minutes.$f"
        run minutes.$f
        check minutes.$f 'main["title"] == "Pandoc Minutes" and main["author"] == "Margaret Hamilton"'
        check minutes.$f '"The payroll committee met on Tuesday.\nItem\tOwner\nBudget\tAda\nHiring\tGrace" in main["text"]'
    done
    check minutes.odt 'main["mime"] == "application/vnd.oasis.opendocument.text" and main["text"].startswith("Pandoc Minutes\nMargaret Hamilton\n2024-03-04\nMeeting minutes\n")'
else
    echo "# skipping pandoc fixtures: pandoc not installed (scripts/install-deps)"
fi

# --- hostile files -------------------------------------------------------------
python3 - "$tmp" <<'PY'
import sys, zipfile, os
d = sys.argv[1]
ct = '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>'
W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
def mk(name, parts):
    with zipfile.ZipFile(os.path.join(d, name), 'w', zipfile.ZIP_DEFLATED) as z:
        for k, v in parts.items():
            z.writestr(k, v)
ok_doc = '<?xml version="1.0"?><w:document %s><w:body><w:p><w:r><w:t>hello world</w:t></w:r></w:p></w:body></w:document>' % W
mk('plain.docx', {'[Content_Types].xml': ct, 'word/document.xml': ok_doc})
lol = '<?xml version="1.0"?><!DOCTYPE w:document [<!ENTITY a "lollollollollollollollollollol">' + ''.join(
    '<!ENTITY %s "%s">' % (chr(98 + i), ('&%s;' % chr(97 + i)) * 10) for i in range(9)) + ']>'
mk('laughs.docx', {'[Content_Types].xml': ct, 'word/document.xml': lol + '<w:document %s><w:body><w:p><w:r><w:t>&j;</w:t></w:r></w:p></w:body></w:document>' % W})
mk('bomb.docx', {'[Content_Types].xml': ct, 'word/document.xml': '<?xml version="1.0"?>' + ' ' * (80 << 20)})
mk('nodoc.docx', {'[Content_Types].xml': ct, 'word/styles.xml': '<x/>'})
S = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
R = 'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
mk('hugeidx.xlsx', {
    '[Content_Types].xml': ct,
    'xl/workbook.xml': '<workbook %s %s><sheets><sheet name="S1" sheetId="1" r:id="rId1"/></sheets></workbook>' % (S, R),
    'xl/_rels/workbook.xml.rels': '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Target="worksheets/sheet1.xml" Type="x"/></Relationships>',
    'xl/sharedStrings.xml': '<sst %s><si><t>only</t></si></sst>' % S,
    'xl/worksheets/sheet1.xml': '<worksheet %s><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>99999999999999</v></c><c r="C1" t="s"><v>-1</v></c><c r="XFD1"><v>7</v></c></row></sheetData></worksheet>' % S})
data = open(os.path.join(d, 'plain.docx'), 'rb').read()
open(os.path.join(d, 'trunc.docx'), 'wb').write(data[:len(data) // 2])
open(os.path.join(d, 'garbage.docx'), 'wb').write(b'PK\x03\x04' + os.urandom(2000))
PY
run plain.docx
check plain.docx 'main["text"] == "hello world" and main["title"] == "plain.docx"'
run laughs.docx
check laughs.docx '"lol" not in main["text"] and "DOCTYPE" in main["metadata"].get("extract_warning", "")'
run bomb.docx
check bomb.docx 'len(docs) == 1 and ("zip bomb" in main["metadata"].get("extract_error", "") or "expands past" in main["metadata"].get("extract_error", ""))'
run nodoc.docx
check nodoc.docx 'len(docs) == 1 and "no document part" in main["metadata"].get("extract_error", "")'
run hugeidx.xlsx
check hugeidx.xlsx 'docs[0]["text"].startswith("only\t\t\t") and docs[0]["text"].endswith("7") and main["metadata"]["bad_shared_string_refs"] == 2'
run trunc.docx
check trunc.docx 'len(docs) == 1 and "damaged" in (main["metadata"].get("extract_error", "") + main["metadata"].get("extract_warning", ""))'
run garbage.docx
check garbage.docx 'len(docs) == 1 and main["metadata"].get("extract_error")'

cp "$src/tests/fuzz/corpus/office/content.ods" "$tmp/content.ods"
run content.ods
check content.ods 'main["metadata"]["sheets"] == ["Sheet1"] and docs[0]["part"] == "sheet/1" and docs[0]["text"] == "a\t\t\t\tb"'

# --- CSV / TSV -------------------------------------------------------------------
printf 'name,city,note\r\nAda,London,"said ""hi""\nand left"\r\n\r\nGrace,,"a,b"\r\n' >"$tmp/people.csv"
run people.csv
check people.csv 'main["metadata"]["columns"] == ["name", "city", "note"] and main["metadata"]["rows"] == 2 and main["metadata"]["delimiter"] == ","'
check people.csv 'main["text"] == "name: Ada\ncity: London\nnote: said \"hi\"\nand left\n\nname: Grace\nnote: a,b" and main["mime"] == "text/csv"'
printf '\357\273\277Monat;Betrag\nJänner;12,5\nFeber;7\n' >"$tmp/bom.csv"
run bom.csv
check bom.csv 'main["metadata"]["delimiter"] == ";" and main["text"] == "Monat: Jänner\nBetrag: 12,5\n\nMonat: Feber\nBetrag: 7"'
printf 'Stadt;Einwohner\nM\374nchen;1500000\n' >"$tmp/latin1.csv"
run latin1.csv
check latin1.csv 'main["metadata"]["charset"] == "WINDOWS-1252" and "Stadt: München" in main["text"]'
printf 'a\tb\n1\t2\n' >"$tmp/t.tsv"
run t.tsv
check t.tsv 'main["metadata"]["delimiter"] == "tab" and main["text"] == "a: 1\nb: 2" and main["mime"] == "text/tab-separated-values"'
printf 'x,y\n"never closed,1\n' >"$tmp/open.csv"
run open.csv
check open.csv 'main["metadata"].get("extract_warning") == "unterminated quoted field"'

echo "1..$n"
exit $fail
