#!/usr/bin/env bash
# trawl onboard end to end with archive sources: a Slack export zip, a Notion
# export zip and a folder of Takeout parts (with a zip bomb and a truncated
# archive beside them), then trawl search / show on what they became, and an
# incremental second run.
. "$(dirname "$0")/../cli/lib.sh" "$@"
GEN=$CLI_DIR/../archive/gen_exports.py

python3 "$GEN" slack slack
python3 "$GEN" notion notion
python3 "$GEN" takeout takeout
(cd slack && zip -q -r ../acme-slack.zip .)
(cd notion && zip -q -r ../acme-notion.zip .)
mkdir -p parts
(cd takeout && bsdtar -czf ../parts/takeout-001.tgz Takeout/Drive && bsdtar -cf ../parts/takeout-002.zip --format zip Takeout/Mail Takeout/archive_browser.html)
head -c 100000000 /dev/zero >zeros && zip -q -9 parts/bomb.zip zeros && rm zeros
head -c 200 parts/takeout-001.tgz >parts/broken.tgz
cat >sources.json <<JSON
{"client": "acme",
 "sources": [
   {"name": "slack", "type": "slack_export", "path": "$SCRATCH/acme-slack.zip"},
   {"name": "notion", "type": "notion_export", "path": "$SCRATCH/acme-notion.zip"},
   {"name": "takeout", "type": "takeout", "path": "$SCRATCH/parts",
    "extract": {"max_ratio": 100}}
 ]}
JSON
ndays=$(find slack -name '20??-??-??.json' | wc -l)

run onboard acme sources.json --json
is "$RC" 0 "onboard exits 0: a bomb and a broken archive do not fail the source"
jq_ok '.status == "ok" and .sources_ok == 3' "all three archive sources ok"
jq_ok '.sources.slack.items == 1 and .sources.takeout.items == 4' "one archive listed for a file source, every archive of a folder source"
db() { sqlite3 "$TRAWL_DB" "$@"; }
is "$(db "select count(*) from documents d join sources s on s.id = d.source_id where s.name = 'slack' and json_extract(d.metadata, '\$.date') is not null")" "$ndays" "slack: one document per channel-day"
is "$(db "select count(*) from documents d join sources s on s.id = d.source_id where s.name = 'slack' and json_extract(d.metadata, '\$.thread_ts') is not null")" 1 "slack: the thread document"
is "$(db "select external_id from documents where json_extract(metadata, '\$.thread_ts') is not null" | sed 's/[0-9.]*$//')" "acme-slack.zip#engineering/threads/" "slack: external id is the archive and the part"
is "$(db "select count(*) from documents where json_extract(metadata, '\$.database') = 'Tasks' and json_extract(metadata, '\$.row') is not null")" 5 "notion: five database rows"
is "$(db "select json_extract(metadata, '\$.page_path') from documents where title = 'Roadmap 2024'")" '["Workspace Home","Projects","Roadmap"]' "notion: page path stored"
is "$(db "select json_extract(metadata, '\$.drive_path') from documents where external_id = 'takeout-001.tgz#Takeout/Drive/Finance/Q1/budget notes.txt'")" "Finance/Q1" "takeout: Drive folder path stored"
like "$(db "select json_extract(metadata, '\$.extract_error') from documents where external_id = 'bomb.zip'")" "more than 100 times.*max_ratio" "the bomb's own document says why (the source's max_ratio)"
like "$(db "select json_extract(metadata, '\$.extract_error') from documents where external_id = 'broken.tgz'")" "." "the truncated archive's document has an error"

is "$(db "select json_extract(metadata, '\$.labels') from documents where title = 'Invoice 1042 overdue'")" '["Work, 2024","Opened"]' "takeout: a mail message with its Gmail labels"
run search acme "zebraquartz"
is "$RC" 0 "search exits 0"
like "$(out)" "engineering thread" "search finds the Slack thread by a reply's word"
like "$(out)" "Roadmap 2024" "search finds the Notion page"
run search acme "quoted tricky invoice" --json
jq_ok '.hits | any(.title == "Review \"quoted, tricky\" invoice")' "search finds a Notion database row"
id=$(jqv '.hits[] | select(.title == "Review \"quoted, tricky\" invoice") | .id' | head -1)
run show acme "$id" --json
is "$RC" 0 "show exits 0"
jq_ok '.documents[0].source == "notion" and (.documents[0].external_id | test("^acme-notion.zip#.*Tasks [0-9a-f]{32}_all.csv/row-5$")) and (.body | test("Assignee: "))' "show: the row's document and text"
run search acme "Invoice 1042 overdue" --json
jq_ok '.hits | any(.title == "Invoice 1042 overdue")' "search finds a Takeout mail message"
run search acme "payroll 120k" --json
jq_ok '.hits | length >= 1' "search finds a Takeout Drive file"

# second run: nothing changed, nothing fetched
run onboard acme sources.json --json
jq_ok '.totals.bytes == 0 and .sources.slack.documents_new == 0 and .sources.notion.documents_updated == 0' "second run fetches nothing"
# a changed export: re-extracted, its vanished parts marked deleted
rm slack/random/2024-01-19.json
printf '[{"type":"message","user":"U03CAR","text":"brand new xylophone news","ts":"1705996800.000100"}]' >slack/random/2024-01-23.json
rm acme-slack.zip && (cd slack && zip -q -r ../acme-slack.zip .)
run onboard acme sources.json --json
jq_ok '.sources.slack.documents_new >= 1 and .sources.slack.documents_deleted >= 1' "changed export: new channel-day added, removed one deleted"
is "$(db "select deleted from documents where external_id = 'acme-slack.zip#random/2024-01-19.json'")" 1 "the removed day is marked deleted"
run search acme "xylophone"
like "$(out)" "#random 2024-01-23" "the new day is searchable"

# sources file errors for archive sources
printf '{"client":"acme","sources":[{"name":"s","type":"archive","path":"%s/acme-slack.zip",\n "extract":{"max_ratoi":3}}]}' "$SCRATCH" >typo.json
expect_fail 1 "sources file 'typo.json' line 2 column [0-9]+: unknown extract limit 'max_ratoi' \(known: max_depth, max_parts, max_expanded, max_ratio\)" "a misspelt extract limit is refused with line and column" onboard acme typo.json
printf '{"client":"acme","sources":[{"name":"s","type":"archive","path":"%s/acme-slack.zip","extract":{"max_depth":-1}}]}' "$SCRATCH" >neg.json
expect_fail 1 "extract limit 'max_depth' must be a positive whole number" "a negative limit is refused" onboard acme neg.json
printf '{"client":"acme","sources":[{"name":"gone","type":"archive","path":"%s/nope.zip"}]}' "$SCRATCH" >gone.json
run onboard acme gone.json --json
is "$RC" 1 "a missing archive fails its source"
jq_ok '.sources.gone.error | test("nope.zip")' "the error names the missing archive"
done_testing
