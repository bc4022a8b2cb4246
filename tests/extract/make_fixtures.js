// Writes real OOXML files with the npm producers docx, exceljs and pptxgenjs
// into the directory given as argv[2]. Run by office.sh with NODE_PATH set to
// the cached node_modules.
const fs = require('fs');
const path = require('path');
const out = process.argv[2];

async function docx() {
  const d = require('docx');
  const cell = (t) => new d.TableCell({children: [new d.Paragraph(t)]});
  const doc = new d.Document({
    title: 'Quarterly Payroll Report', creator: 'Ada Lovelace',
    sections: [{
      headers: {default: new d.Header({children: [new d.Paragraph('Acme Confidential Header')]})},
      footers: {default: new d.Footer({children: [new d.Paragraph('Page footer text')]})},
      children: [
        new d.Paragraph({children: [new d.TextRun('First paragraph about '), new d.TextRun({text: 'payroll', bold: true}), new d.TextRun('.')]}),
        new d.Paragraph('Second paragraph: bank holidays in Zürich.'),
        new d.Table({rows: [new d.TableRow({children: [cell('Name'), cell('Salary')]}),
                            new d.TableRow({children: [cell('Grace'), cell('4200')]})]}),
        new d.Paragraph('Closing paragraph.'),
      ],
    }],
  });
  fs.writeFileSync(path.join(out, 'report.docx'), await d.Packer.toBuffer(doc));
}

async function xlsx() {
  const E = require('exceljs');
  const wb = new E.Workbook();
  wb.creator = 'Grace Hopper';
  wb.title = 'Budget 2024';
  wb.created = new Date('2024-01-02T03:04:05Z');
  wb.modified = new Date('2024-02-03T04:05:06Z');
  const a = wb.addWorksheet('Revenue');
  a.addRow(['Month', 'Amount', 'Note']);
  a.addRow(['January', 1200, 'strong start']);
  a.addRow(['February', 950, 'strong start']);
  a.getCell('E5').value = 'far cell';
  const b = wb.addWorksheet('Costs');
  b.addRow(['Item', 'Cost']);
  b.addRow(['Rent', 800]);
  b.addRow(['Coffee', true]);
  await wb.xlsx.writeFile(path.join(out, 'budget.xlsx'));
}

async function pptx() {
  const P = require('pptxgenjs');
  const p = new P();
  p.title = 'Roadmap Deck';
  p.author = 'Linus Torvalds';
  const s1 = p.addSlide();
  s1.addText('Roadmap overview', {x: 1, y: 1});
  s1.addNotes('Speaker notes for slide one');
  const s2 = p.addSlide();
  s2.addText('Second slide body', {x: 1, y: 1});
  s2.addTable([[{text: 'Q1'}, {text: 'Launch'}], [{text: 'Q2'}, {text: 'Scale'}]], {x: 1, y: 3});
  const s3 = p.addSlide();
  s3.addText('Third slide: thanks', {x: 1, y: 1});
  await p.writeFile({fileName: path.join(out, 'deck.pptx')});
}

(async () => { await docx(); await xlsx(); await pptx(); })().catch((e) => { console.error(e); process.exit(1); });
